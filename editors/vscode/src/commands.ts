// The handlers of the extension's commands. They talk to `disco lsp` only
// through an injected `RequestClient` and to the editor only through the
// `vscode` module, so the unit tests drive them with a fake client and a
// stubbed `vscode`.

import * as vscode from 'vscode';
import {
  asCatalog,
  asNodeInfo,
  asServers,
  CatalogResource,
  errorMessage,
  execute,
  NodeInfo,
  PipelineSummary,
  RequestClient,
  ServerCommand,
  ServerStatus,
  WorkDoneProgressValue,
} from './protocol';
import {
  byteColumn,
  nodeAtPosition,
  prettyJson,
  TREE_SCHEME,
  TreeDocumentProvider,
  treeRoot,
  viewUri,
} from './treeDocument';
import { WorkDoneProgress } from 'vscode-languageserver-protocol';

/** Where command details go (the "Disco" output channel). */
export interface Log {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

export interface PipelinePickItem extends vscode.QuickPickItem {
  resource: CatalogResource;
}

export interface ServerPickItem extends vscode.QuickPickItem {
  server: ServerStatus;
}

/** Quick-pick items for the catalog's pipelines, in catalog order. */
export function pipelineItems(origin: string, resources: CatalogResource[]): PipelinePickItem[] {
  return resources
    .filter((r) => r.kind === 'pipeline')
    .map((r) => ({
      label: r.name,
      description: r.detail,
      detail: `${origin}:${r.line}`,
      resource: r,
    }));
}

function statusIcon(status: string): string {
  const s = status.toLowerCase();
  if (['running', 'ready', 'ok', 'up', 'initialized'].includes(s)) return '$(pass-filled)';
  if (['starting', 'initializing', 'restarting', 'indexing'].includes(s)) return '$(sync~spin)';
  if (['failed', 'error', 'crashed', 'dead', 'unavailable'].includes(s)) return '$(error)';
  if (['not installed', 'missing'].includes(s)) return '$(warning)';
  return '$(circle-outline)';
}

/** Quick-pick items for `disco.servers`. */
export function serverItems(servers: ServerStatus[]): ServerPickItem[] {
  return servers.map((s) => ({
    label: `${statusIcon(s.status)} ${s.name}`,
    description: [s.status, s.version].filter(Boolean).join(' · '),
    detail: [s.root, s.positionEncoding ? `position encoding ${s.positionEncoding}` : ''].filter(Boolean).join(' · '),
    server: s,
  }));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One-line summary of a pipeline run for a notification. */
export function summarizePipeline(name: string, summary: unknown): string {
  if (typeof summary !== 'object' || summary === null) {
    return `Disco: pipeline ${name} finished.`;
  }
  const s = summary as PipelineSummary;
  const parts: string[] = [];
  if (typeof s.rowsIn === 'number') parts.push(`${plural(s.rowsIn, 'row')} in`);
  if (typeof s.rowsOut === 'number') parts.push(`${s.rowsOut} out`);
  if (typeof s.rowsRejected === 'number') parts.push(`${s.rowsRejected} rejected`);
  const time = typeof s.seconds === 'number' ? ` in ${s.seconds.toFixed(2)} s` : '';
  return `Disco: pipeline ${name} finished${parts.length ? `: ${parts.join(', ')}` : ''}${time}.`;
}

/** A pipeline name from a command argument: a string, or a catalog view item holding a pipeline. */
export function pipelineNameFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) return arg;
  if (typeof arg === 'object' && arg !== null && 'resource' in arg) {
    const r = (arg as { resource: unknown }).resource as Partial<CatalogResource> | undefined;
    if (r && r.kind === 'pipeline' && typeof r.name === 'string') return r.name;
  }
  return undefined;
}

let workDoneCounter = 0;

export class DiscoCommands {
  constructor(
    private readonly client: RequestClient,
    private readonly views: TreeDocumentProvider,
    private readonly log: Log,
  ) {}

  /** "Disco: Show Semantic Tree": the tree as a JSON document beside the file, the node at the cursor selected. */
  async showTree(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Disco: open a file to see its semantic tree.');
      return;
    }
    // Run from a tree view itself: refresh that view, from its source file.
    const fromView = editor.document.uri.scheme === TREE_SCHEME;
    const source = fromView ? this.views.sourceOf(editor.document.uri) : editor.document.uri;
    if (!source || !this.checkFile(source)) return;
    const cursor = fromView ? undefined : editor.selection.active;
    const cursorLine = cursor ? editor.document.lineAt(cursor.line).text : '';

    let record: unknown;
    try {
      record = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Disco: semantic tree' },
        () => execute(this.client, ServerCommand.tree, [{ uri: source.toString() }]),
      );
    } catch (error) {
      this.fail('semantic tree', error);
      return;
    }
    if (record === null || typeof record !== 'object') {
      this.fail('semantic tree', new Error(`no tree for ${source.toString()}`));
      return;
    }
    const pretty = prettyJson(record);

    let line: number | undefined;
    if (cursor) {
      try {
        const info = asNodeInfo(
          await execute(this.client, ServerCommand.node, [
            { uri: source.toString(), position: { line: cursor.line, character: cursor.character } },
          ]),
        );
        line = pretty.nodeLines.get(info.node.n);
      } catch (error) {
        this.log.appendLine(`[showTree] disco.node failed, locating the node from the tree: ${errorMessage(error)}`);
      }
      if (line === undefined) {
        // No answer from disco.node (or a node the tree does not hold): find it by position.
        const root = treeRoot(record);
        const node = root && nodeAtPosition(root, cursor.line, byteColumn(cursorLine, cursor.character));
        if (node) line = pretty.nodeLines.get(node.n);
      }
    }

    const uri = viewUri(source, 'tree');
    this.views.set(uri, pretty.text, source);
    const shown = await this.open(uri, fromView ? editor.viewColumn : vscode.ViewColumn.Beside, false);
    if (line !== undefined) {
      revealLine(shown, line, pretty.text);
    }
  }

  /** "Disco: Show Node at Cursor": everything `disco.node` knows, as a JSON document beside the file. */
  async showNode(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Disco: open a file and put the cursor on a node.');
      return;
    }
    const source = editor.document.uri;
    if (!this.checkFile(source)) return;
    const cursor = editor.selection.active;
    let info: NodeInfo;
    try {
      info = asNodeInfo(
        await execute(this.client, ServerCommand.node, [
          { uri: source.toString(), position: { line: cursor.line, character: cursor.character } },
        ]),
      );
    } catch (error) {
      this.fail('node at cursor', error);
      return;
    }
    const chain = [...info.ancestors, info.node.kind].join(' › ');
    this.log.appendLine(`[node] ${source.fsPath}:${cursor.line + 1}:${cursor.character + 1} n=${info.node.n} ${chain}`);
    const uri = viewUri(source, 'node');
    this.views.set(uri, prettyJson(info).text, source);
    await this.open(uri, vscode.ViewColumn.Beside, true);
  }

  /** "Disco: Run Pipeline…": pick a catalog pipeline (unless given), run it with a progress notification. */
  async runPipeline(arg?: unknown): Promise<void> {
    let name = pipelineNameFromArg(arg);
    if (!name) {
      let items: PipelinePickItem[];
      let origin: string;
      try {
        const catalog = asCatalog(await execute(this.client, ServerCommand.catalog, []));
        origin = catalog.origin;
        items = pipelineItems(catalog.origin, catalog.resources);
      } catch (error) {
        this.fail('catalog', error);
        return;
      }
      if (items.length === 0) {
        void vscode.window.showInformationMessage(`Disco: no pipelines in ${origin}.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Disco: Run Pipeline',
        placeHolder: `Pipeline to run (${origin})`,
        matchOnDescription: true,
      });
      if (!picked) return;
      name = picked.resource.name;
    }

    const pipeline = name;
    const workDoneToken = `disco-run-${Date.now()}-${++workDoneCounter}`;
    this.log.appendLine(`[runPipeline] ${pipeline}: started`);
    let summary: unknown;
    try {
      summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Disco: running pipeline ${pipeline}`, cancellable: true },
        async (progress, token) => {
          let lastPercentage = 0;
          const subscription = this.client.onProgress?.(
            WorkDoneProgress.type,
            workDoneToken,
            (value: WorkDoneProgressValue) => {
              if (value.kind === 'end') return;
              const step: { message?: string; increment?: number } = {};
              if (value.message) step.message = value.message;
              if (typeof value.percentage === 'number' && value.percentage > lastPercentage) {
                step.increment = value.percentage - lastPercentage;
                lastPercentage = value.percentage;
              }
              if (step.message !== undefined || step.increment !== undefined) progress.report(step);
            },
          );
          try {
            return await execute(this.client, ServerCommand.runPipeline, [{ name: pipeline }], { token, workDoneToken });
          } finally {
            subscription?.dispose();
          }
        },
      );
    } catch (error) {
      this.log.appendLine(`[runPipeline] ${pipeline}: failed: ${errorMessage(error)}`);
      const choice = await vscode.window.showErrorMessage(
        `Disco: pipeline ${pipeline} failed: ${errorMessage(error)}`,
        'Show Output',
      );
      if (choice === 'Show Output') this.log.show(true);
      return;
    }
    this.log.appendLine(`[runPipeline] ${pipeline}: ${JSON.stringify(summary)}`);
    const choice = await vscode.window.showInformationMessage(summarizePipeline(pipeline, summary), 'Show Output');
    if (choice === 'Show Output') this.log.show(true);
  }

  /** "Disco: Server Status": the language servers `disco lsp` supervises, in a quick pick. */
  async showServers(): Promise<void> {
    let servers: ServerStatus[];
    try {
      servers = asServers(await execute(this.client, ServerCommand.servers, []));
    } catch (error) {
      this.fail('server status', error);
      return;
    }
    if (servers.length === 0) {
      void vscode.window.showInformationMessage('Disco: no language servers are running yet (open a file to start one).');
      return;
    }
    const running = servers.filter((s) => statusIcon(s.status) === '$(pass-filled)').length;
    const picked = await vscode.window.showQuickPick(serverItems(servers), {
      title: 'Disco: Server Status',
      placeHolder: `${plural(servers.length, 'language server')}, ${running} running`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (picked) {
      this.log.appendLine(`[server] ${JSON.stringify(picked.server)}`);
      this.log.show(true);
    }
  }

  private checkFile(uri: vscode.Uri): boolean {
    if (uri.scheme === 'file') return true;
    void vscode.window.showWarningMessage(
      `Disco: only files on disk have a semantic tree (this document is ${uri.scheme}:); save it first.`,
    );
    return false;
  }

  private fail(what: string, error: unknown): void {
    const message = errorMessage(error);
    this.log.appendLine(`[${what}] failed: ${message}`);
    void vscode.window.showErrorMessage(`Disco: ${what} failed: ${message}`);
  }

  private async open(
    uri: vscode.Uri,
    viewColumn: vscode.ViewColumn | undefined,
    preserveFocus: boolean,
  ): Promise<vscode.TextEditor> {
    let doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== 'json') {
      doc = await vscode.languages.setTextDocumentLanguage(doc, 'json');
    }
    return vscode.window.showTextDocument(doc, { viewColumn, preserveFocus, preview: false });
  }
}

/** Selects a 0-based line of a shown document and scrolls it to the middle. */
export function revealLine(editor: vscode.TextEditor, line: number, text: string): void {
  const width = (text.split('\n')[line] ?? '').length;
  const range = new vscode.Range(line, 0, line, width);
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
}
