// The contract with `disco lsp`: the `workspace/executeCommand` commands it
// serves, the shapes of their results, and the small client interface the
// extension's commands need. Nothing here touches the `vscode` module, so it
// loads the same under the editor and under the unit tests.

import {
  CancellationToken,
  Disposable,
  ExecuteCommandParams,
  ExecuteCommandRequest,
  ProgressToken,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageserver-protocol';

/** Server-side commands, sent as `workspace/executeCommand`. */
export const ServerCommand = {
  tree: 'disco.tree',
  node: 'disco.node',
  catalog: 'disco.catalog',
  runPipeline: 'disco.runPipeline',
  servers: 'disco.servers',
} as const;

/** Commands this extension contributes to VS Code. */
export const ExtensionCommand = {
  showTree: 'disco.showTree',
  showNode: 'disco.showNode',
  runPipeline: 'disco.runPipeline',
  showServers: 'disco.showServers',
  refreshCatalog: 'disco.refreshCatalog',
  restartServer: 'disco.restartServer',
  openResource: 'disco.openResource',
} as const;

export type WorkDoneProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/**
 * What the commands need from a language client. `vscode-languageclient`'s
 * `LanguageClient` has this shape; the unit tests pass a recording fake.
 */
export interface RequestClient {
  sendRequest(
    type: typeof ExecuteCommandRequest.type,
    params: ExecuteCommandParams,
    token?: CancellationToken,
  ): Promise<unknown>;
  /** Work-done progress for a token the request carried (optional: fakes may leave it out). */
  onProgress?(
    type: typeof WorkDoneProgress.type,
    token: ProgressToken,
    handler: (value: WorkDoneProgressValue) => void,
  ): Disposable;
}

/** Sends one `workspace/executeCommand` request. */
export function execute(
  client: RequestClient,
  command: string,
  args: unknown[],
  extra: { token?: CancellationToken; workDoneToken?: ProgressToken } = {},
): Promise<unknown> {
  const params: ExecuteCommandParams = { command, arguments: args };
  if (extra.workDoneToken !== undefined) {
    params.workDoneToken = extra.workDoneToken;
  }
  return client.sendRequest(ExecuteCommandRequest.type, params, extra.token);
}

// ---------------------------------------------------------------------------
// Result shapes

/** `[start_byte, end_byte, start_row, start_col, end_row, end_col]`; rows 0-based, columns in UTF-8 bytes. */
export type Span = [number, number, number, number, number, number];

/** One node of a `disco.tree/1` record's nested tree. */
export interface TreeNode {
  n: number;
  kind: string;
  field?: string;
  named?: boolean;
  span: Span;
  text?: string;
  children?: TreeNode[];
  [key: string]: unknown;
}

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspLocation {
  uri: string;
  range: { start: LspPosition; end: LspPosition };
}

/** `disco.node`'s answer. */
export interface NodeInfo {
  node: {
    n: number;
    kind: string;
    field?: string;
    named: boolean;
    span: Span;
    text?: string;
  };
  ancestors: string[];
  symbol?: Record<string, unknown>;
  hover?: string;
  definition?: LspLocation[];
  references?: LspLocation[];
  diagnostics: unknown[];
}

export const RESOURCE_KINDS = ['volume', 'table', 'tokenizer', 'model', 'validator', 'server', 'pipeline'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface CatalogResource {
  kind: ResourceKind;
  name: string;
  /** 1-based line of the resource's table in the catalog file. */
  line: number;
  detail: string;
}

/** `disco.catalog`'s answer. */
export interface Catalog {
  /** The catalog file's path, or a phrase such as "the embedded default catalog". */
  origin: string;
  /** The catalog file's path when there is one (preferred over `origin` for opening it). */
  path?: string | null;
  resources: CatalogResource[];
}

/** `disco.runPipeline`'s answer. */
export interface PipelineSummary {
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  seconds?: number;
  [key: string]: unknown;
}

/** One entry of `disco.servers`'s answer. */
export interface ServerStatus {
  name: string;
  root: string;
  status: string;
  version?: string | null;
  positionEncoding?: string | null;
}

// ---------------------------------------------------------------------------
// Checking answers: the server is another program, so its answers are checked
// before use and a malformed one becomes a readable error.

export class ProtocolError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) {
    throw new ProtocolError(`${what}: expected a JSON object, got ${describe(value)}`);
  }
  return value;
}

export function asNodeInfo(value: unknown): NodeInfo {
  const obj = asObject(value, ServerCommand.node);
  const node = asObject(obj.node, `${ServerCommand.node}.node`);
  if (typeof node.n !== 'number' || typeof node.kind !== 'string') {
    throw new ProtocolError(`${ServerCommand.node}: the node has no numeric "n" and string "kind"`);
  }
  return obj as unknown as NodeInfo;
}

export function asCatalog(value: unknown): Catalog {
  const obj = asObject(value, ServerCommand.catalog);
  if (typeof obj.origin !== 'string' || !Array.isArray(obj.resources)) {
    throw new ProtocolError(`${ServerCommand.catalog}: expected { origin, resources: [...] }`);
  }
  const resources: CatalogResource[] = [];
  for (const r of obj.resources) {
    if (isObject(r) && typeof r.kind === 'string' && typeof r.name === 'string') {
      resources.push({
        kind: r.kind as ResourceKind,
        name: r.name,
        line: typeof r.line === 'number' ? r.line : 1,
        detail: typeof r.detail === 'string' ? r.detail : '',
      });
    }
  }
  return { origin: obj.origin, path: typeof obj.path === 'string' ? obj.path : null, resources };
}

export function asServers(value: unknown): ServerStatus[] {
  if (!Array.isArray(value)) {
    throw new ProtocolError(`${ServerCommand.servers}: expected an array, got ${describe(value)}`);
  }
  return value.filter(isObject).map((s) => ({
    name: String(s.name ?? '?'),
    root: String(s.root ?? ''),
    status: String(s.status ?? 'unknown'),
    version: typeof s.version === 'string' ? s.version : null,
    positionEncoding: typeof s.positionEncoding === 'string' ? s.positionEncoding : null,
  }));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** The message of whatever a failed request threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  return String(error);
}
