// Read-only JSON documents (scheme `disco-tree`) that show a file's semantic
// tree or the node at the cursor, and the pretty-printer that lays them out
// so that every tree node starts with its `"n": <id>` line.

import * as vscode from 'vscode';
import { Span, TreeNode } from './protocol';

export const TREE_SCHEME = 'disco-tree';

/** Keys of a tree node, in the order they are printed; other keys follow, `children` comes last. */
const NODE_KEY_ORDER = ['n', 'kind', 'field', 'named', 'extra', 'error', 'missing', 'span', 'last', 'text', 'sym', 'occ'];

/** Arrays of scalars up to this many characters print on one line (spans, ranges, folds). */
const INLINE_ARRAY_WIDTH = 120;

export interface PrettyJson {
  text: string;
  /** Tree node id (`n`) → 0-based line of its `"n": <id>` key. First occurrence wins. */
  nodeLines: Map<number, number>;
}

export function isTreeNode(value: unknown): value is TreeNode {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.n === 'number' && Number.isInteger(v.n) && typeof v.kind === 'string' && Array.isArray(v.span);
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function scalar(value: unknown): string {
  // JSON.stringify gives undefined for undefined (in arrays JSON prints null).
  return JSON.stringify(value) ?? 'null';
}

function orderedKeys(obj: Record<string, unknown>, node: boolean): string[] {
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  if (!node) return keys;
  const first = NODE_KEY_ORDER.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !NODE_KEY_ORDER.includes(k) && k !== 'children');
  return [...first, ...rest, ...(keys.includes('children') ? ['children'] : [])];
}

/**
 * Pretty-prints JSON with two-space indentation, short scalar arrays on one
 * line, and tree nodes with `n` as their first key; records the line of each
 * node's `"n"` key. The text parses back to the same value.
 */
export function prettyJson(value: unknown): PrettyJson {
  const lines: string[] = [];
  const nodeLines = new Map<number, number>();

  const emit = (v: unknown, depth: number, head: string, tail: string): void => {
    const pad = '  '.repeat(depth);
    if (isScalar(v) || v === undefined || typeof v !== 'object') {
      lines.push(pad + head + scalar(v) + tail);
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        lines.push(`${pad}${head}[]${tail}`);
        return;
      }
      if (v.every(isScalar)) {
        const inline = `[${v.map(scalar).join(', ')}]`;
        if (inline.length <= INLINE_ARRAY_WIDTH) {
          lines.push(pad + head + inline + tail);
          return;
        }
      }
      lines.push(`${pad}${head}[`);
      v.forEach((item, i) => emit(item, depth + 1, '', i < v.length - 1 ? ',' : ''));
      lines.push(`${pad}]${tail}`);
      return;
    }
    const obj = v as Record<string, unknown>;
    const node = isTreeNode(obj);
    const keys = orderedKeys(obj, node);
    if (keys.length === 0) {
      lines.push(`${pad}${head}{}${tail}`);
      return;
    }
    lines.push(`${pad}${head}{`);
    if (node && !nodeLines.has(obj.n as number)) {
      nodeLines.set(obj.n as number, lines.length);
    }
    keys.forEach((k, i) => emit(obj[k], depth + 1, `${JSON.stringify(k)}: `, i < keys.length - 1 ? ',' : ''));
    lines.push(`${pad}}${tail}`);
  };

  emit(value, 0, '', '');
  return { text: lines.join('\n') + '\n', nodeLines };
}

/** The root node of a `disco.tree/1` record (its `tree` field), or the value itself when it is a node. */
export function treeRoot(record: unknown): TreeNode | undefined {
  if (isTreeNode(record)) return record;
  if (typeof record === 'object' && record !== null && 'tree' in record) {
    const tree = (record as { tree: unknown }).tree;
    if (isTreeNode(tree)) return tree;
  }
  return undefined;
}

function before(aRow: number, aCol: number, bRow: number, bCol: number): boolean {
  return aRow < bRow || (aRow === bRow && aCol < bCol);
}

function contains(span: Span, row: number, col: number): boolean {
  const [, , sr, sc, er, ec] = span;
  const startsBefore = !before(row, col, sr, sc);
  const endsAfter = before(row, col, er, ec) || (sr === er && sc === ec && row === sr && col === sc);
  return startsBefore && endsAfter;
}

/**
 * The deepest node whose span holds the position (0-based row, column in
 * UTF-8 bytes, as spans count). Used when `disco.node` gives no answer.
 */
export function nodeAtPosition(root: TreeNode, row: number, byteCol: number): TreeNode | undefined {
  if (!Array.isArray(root.span) || !contains(root.span, row, byteCol)) return undefined;
  let current: TreeNode = root;
  for (;;) {
    const next: TreeNode | undefined = (current.children ?? []).find(
      (c) => isTreeNode(c) && contains(c.span, row, byteCol),
    );
    if (!next) return current;
    current = next;
  }
}

/** UTF-8 byte length of the first `character` UTF-16 code units of a line. */
export function byteColumn(lineText: string, character: number): number {
  return new TextEncoder().encode(lineText.slice(0, character)).length;
}

/** The text of a 0-based line of a string (without its line break). */
export function lineText(text: string, line: number): string {
  return text.split('\n')[line] ?? '';
}

export type ViewKind = 'tree' | 'node';

/** The `disco-tree:` URI of a source file's tree or node view; the source URI rides in the query. */
export function viewUri(source: vscode.Uri, view: ViewKind): vscode.Uri {
  const segments = source.path.split('/');
  const base = segments[segments.length - 1] || 'untitled';
  return vscode.Uri.from({ scheme: TREE_SCHEME, path: `/${base}.${view}.json`, query: source.toString() });
}

/** Serves the contents of `disco-tree:` documents from memory. */
export class TreeDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly docs = new Map<string, { text: string; source: vscode.Uri }>();
  readonly onDidChange = this.changed.event;

  /** Sets (or replaces) a document's text; an open editor of it refreshes. */
  set(uri: vscode.Uri, text: string, source: vscode.Uri): void {
    this.docs.set(uri.toString(), { text, source });
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString())?.text ?? '"This Disco view is no longer available: run the command again."\n';
  }

  /** The source file a view was made from. */
  sourceOf(uri: vscode.Uri): vscode.Uri | undefined {
    const known = this.docs.get(uri.toString());
    if (known) return known.source;
    return uri.scheme === TREE_SCHEME && uri.query ? vscode.Uri.parse(uri.query) : undefined;
  }

  forget(uri: vscode.Uri): void {
    this.docs.delete(uri.toString());
  }

  dispose(): void {
    this.changed.dispose();
    this.docs.clear();
  }
}
