import './setup';
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as vscode from 'vscode';
import {
  byteColumn,
  nodeAtPosition,
  prettyJson,
  TREE_SCHEME,
  TreeDocumentProvider,
  treeRoot,
  viewUri,
} from '../src/treeDocument';
import { treeRecord } from './fixtures';
import { stub } from './vscode-stub';

beforeEach(() => stub.reset());

describe('prettyJson', () => {
  it('parses back to the same value', () => {
    const record = treeRecord();
    assert.deepEqual(JSON.parse(prettyJson(record).text), record);
  });

  it('starts every tree node with its "n" line and records that line', () => {
    const { text, nodeLines } = prettyJson(treeRecord());
    const lines = text.split('\n');
    assert.deepEqual([...nodeLines.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const [n, line] of nodeLines) {
      assert.match(lines[line], new RegExp(`^\\s*"n": ${n},$`), `line ${line} of node ${n}`);
      assert.match(lines[line - 1], /\{$/, `node ${n} opens on the line before`);
    }
  });

  it('puts "n" first even when the server sent "kind" first', () => {
    const { text, nodeLines } = prettyJson(treeRecord());
    const lines = text.split('\n');
    const at = nodeLines.get(3);
    assert.ok(at !== undefined);
    assert.equal(lines[at].trim(), '"n": 3,');
    assert.equal(lines[at + 1].trim(), '"kind": "identifier",');
  });

  it('prints children last and spans on one line', () => {
    const { text, nodeLines } = prettyJson(treeRecord());
    const lines = text.split('\n');
    const at = nodeLines.get(4)!;
    const keys = lines
      .slice(at, at + 8)
      .map((l) => /^ {12}"([a-z_]+)":/.exec(l)?.[1])
      .filter(Boolean);
    assert.deepEqual(keys, ['n', 'kind', 'field', 'named', 'span', 'last', 'children']);
    assert.ok(lines.includes('            "span": [5, 8, 0, 5, 0, 8],'));
  });

  it('does not take definitions (which point at nodes with "node") for nodes', () => {
    const { nodeLines, text } = prettyJson(treeRecord());
    const defLine = text.split('\n').findIndex((l) => l.includes('"name_node"'));
    for (const line of nodeLines.values()) assert.ok(line > defLine);
  });

  it('prints empty containers and scalars like JSON.stringify', () => {
    assert.equal(prettyJson({ a: [], b: {}, c: null, d: 'x"y', e: 1.5, f: true }).text,
      '{\n  "a": [],\n  "b": {},\n  "c": null,\n  "d": "x\\"y",\n  "e": 1.5,\n  "f": true\n}\n');
    assert.equal(prettyJson(7).text, '7\n');
  });

  it('breaks long scalar arrays over lines', () => {
    const long = Array.from({ length: 40 }, (_, i) => `item-${i}`);
    const { text } = prettyJson({ long });
    assert.equal(text.trimEnd().split('\n').length, 40 + 4);
    assert.deepEqual(JSON.parse(text), { long });
  });
});

describe('node lookup by position', () => {
  it('finds the deepest node holding a position', () => {
    const root = treeRoot(treeRecord())!;
    assert.equal(nodeAtPosition(root, 0, 6)?.n, 6); // x in the parameters
    assert.equal(nodeAtPosition(root, 0, 4)?.n, 3); // f
    assert.equal(nodeAtPosition(root, 1, 8)?.n, 9); // inside `return x`
    assert.equal(nodeAtPosition(root, 0, 8)?.n, 1); // the colon: no child of the definition holds it
    assert.equal(nodeAtPosition(root, 5, 0), undefined);
  });

  it('finds the root of a record or takes a bare node', () => {
    const record = treeRecord();
    assert.equal(treeRoot(record)?.kind, 'module');
    assert.equal(treeRoot((record as { tree: unknown }).tree)?.n, 0);
    assert.equal(treeRoot({ tree: null }), undefined);
  });

  it('counts columns in UTF-8 bytes as spans do', () => {
    assert.equal(byteColumn('abc', 2), 2);
    assert.equal(byteColumn('é = 1', 1), 2);
    assert.equal(byteColumn('😀x', 2), 4); // one astral character: two UTF-16 units, four bytes
  });
});

describe('disco-tree documents', () => {
  it('names views after the source file and keeps the source in the query', () => {
    const source = vscode.Uri.file('/ws/src/a.py');
    const uri = viewUri(source, 'tree');
    assert.equal(uri.scheme, TREE_SCHEME);
    assert.equal(uri.path, '/a.py.tree.json');
    assert.equal(uri.query, 'file:///ws/src/a.py');
    assert.equal(viewUri(source, 'node').path, '/a.py.node.json');
  });

  it('serves what was set, fires a change, and maps back to the source', () => {
    const views = new TreeDocumentProvider();
    const fired: string[] = [];
    views.onDidChange((u) => fired.push(u.toString()));
    const source = vscode.Uri.file('/ws/a.py');
    const uri = viewUri(source, 'tree');
    views.set(uri, '{}\n', source);
    assert.equal(views.provideTextDocumentContent(uri), '{}\n');
    assert.deepEqual(fired, [uri.toString()]);
    assert.equal(views.sourceOf(uri)?.toString(), 'file:///ws/a.py');
    views.forget(uri);
    assert.match(views.provideTextDocumentContent(uri), /no longer available/);
    assert.equal(views.sourceOf(uri)?.toString(), 'file:///ws/a.py'); // from the query
  });
});
