// Small answers in the shapes `disco lsp` gives.

import { Catalog, NodeInfo } from '../src/protocol';

/** The source the tree below describes (Python). */
export const SOURCE = 'def f(x):\n    return x\n';

/**
 * A `disco.tree/1` record for SOURCE. Node 3 lists `kind` before `n` on
 * purpose: the pretty-printer must still put `n` first.
 */
export function treeRecord(): Record<string, unknown> {
  return {
    schema: 'disco.tree/1',
    file: { id: 'f:0123456789abcdef', volume: 'local', path: 'a.py', language: 'python', bytes: 23 },
    status: 'ok',
    reason: null,
    definitions: [{ kind: 'function', name: 'f', node: 1, name_node: 3, span: [0, 22, 0, 0, 1, 12] }],
    folding: [[0, 1, null]],
    tree: {
      n: 0,
      kind: 'module',
      named: true,
      span: [0, 23, 0, 0, 2, 0],
      last: 9,
      children: [
        {
          n: 1,
          kind: 'function_definition',
          named: true,
          span: [0, 22, 0, 0, 1, 12],
          last: 9,
          children: [
            { n: 2, kind: 'def', named: false, span: [0, 3, 0, 0, 0, 3] },
            { kind: 'identifier', n: 3, field: 'name', named: true, span: [4, 5, 0, 4, 0, 5], text: 'f' },
            {
              n: 4,
              kind: 'parameters',
              field: 'parameters',
              named: true,
              span: [5, 8, 0, 5, 0, 8],
              last: 7,
              children: [
                { n: 5, kind: '(', named: false, span: [5, 6, 0, 5, 0, 6] },
                { n: 6, kind: 'identifier', named: true, span: [6, 7, 0, 6, 0, 7], text: 'x' },
                { n: 7, kind: ')', named: false, span: [7, 8, 0, 7, 0, 8] },
              ],
            },
            {
              n: 8,
              kind: 'block',
              field: 'body',
              named: true,
              span: [14, 22, 1, 4, 1, 12],
              last: 9,
              children: [{ n: 9, kind: 'return_statement', named: true, span: [14, 22, 1, 4, 1, 12] }],
            },
          ],
        },
      ],
    },
  };
}

export function nodeInfo(n: number, kind: string): NodeInfo {
  return {
    node: { n, kind, named: true, span: [6, 7, 0, 6, 0, 7], text: 'x' },
    ancestors: ['module', 'function_definition', 'parameters'],
    hover: '(parameter) x',
    definition: [{ uri: 'file:///ws/a.py', range: { start: { line: 0, character: 6 }, end: { line: 0, character: 7 } } }],
    diagnostics: [],
  };
}

export function catalog(): Catalog {
  return {
    origin: '/ws/disco.toml',
    resources: [
      { kind: 'volume', name: 'src', line: 2, detail: 'file://./src' },
      { kind: 'pipeline', name: 'tokenize', line: 30, detail: 'src → tok → out' },
      { kind: 'table', name: 'out', line: 10, detail: 'parquet' },
      { kind: 'pipeline', name: 'clean', line: 22, detail: 'src → dedupe → out' },
      { kind: 'model', name: 'small', line: 16, detail: 'onnx' },
    ],
  };
}
