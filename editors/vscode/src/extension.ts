// Activation: starts `disco lsp` through vscode-languageclient, registers the
// commands, the `disco-tree:` documents and the catalog view, and restarts
// the server when its settings change.

import * as path from 'path';
import * as vscode from 'vscode';
import { ExecuteCommandRegistrationOptions, ExecuteCommandRequest } from 'vscode-languageserver-protocol';
import { LanguageClient, RegistrationData } from 'vscode-languageclient/node';
import { CatalogProvider, openResource } from './catalogView';
import { ClientHolder, StartableClient } from './clientHolder';
import { DiscoCommands } from './commands';
import { ExtensionCommand } from './protocol';
import { affectsServer, clientOptions, readSettings, serverOptions, withoutReserved } from './settings';
import { TREE_SCHEME, TreeDocumentProvider } from './treeDocument';

let holder: ClientHolder | undefined;

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Builds the language client for the current settings. */
function makeClient(output: vscode.OutputChannel): StartableClient {
  const settings = readSettings((key) => vscode.workspace.getConfiguration('disco').get(key));
  const client = new LanguageClient(
    'disco',
    'Disco Language Server',
    serverOptions(settings, workspaceFolderPath()),
    { ...clientOptions(settings), outputChannel: output },
  );
  // The client would register a VS Code command for every server command;
  // leave out the ids this extension registers itself (disco.runPipeline).
  const reserved = new Set<string>(Object.values(ExtensionCommand));
  const feature = client.getFeature(ExecuteCommandRequest.method);
  const register = feature.register.bind(feature);
  feature.register = (data: RegistrationData<ExecuteCommandRegistrationOptions>) =>
    register({
      ...data,
      registerOptions: { ...data.registerOptions, commands: withoutReserved(data.registerOptions.commands, reserved) },
    });
  output.appendLine(`Starting ${settings.path} lsp (lspLevel ${settings.lspLevel})`);
  return client;
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Disco');
  const clients = new ClientHolder();
  holder = clients;
  const views = new TreeDocumentProvider();
  const catalog = new CatalogProvider(clients);
  const catalogView = vscode.window.createTreeView('discoCatalog', { treeDataProvider: catalog, showCollapseAll: true });
  const commands = new DiscoCommands(clients, views, output);

  const start = async (): Promise<void> => {
    const describe = `${readSettings((key) => vscode.workspace.getConfiguration('disco').get(key)).path} lsp`;
    await clients.replace(() => makeClient(output), describe);
    if (clients.failureMessage) output.appendLine(clients.failureMessage);
    await catalog.refresh();
  };

  context.subscriptions.push(
    output,
    views,
    catalog,
    catalogView,
    catalog.onDidChangeMessage((message) => {
      catalogView.message = message;
    }),
    vscode.workspace.registerTextDocumentContentProvider(TREE_SCHEME, views),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (doc.uri.scheme === TREE_SCHEME) views.forget(doc.uri);
    }),
    vscode.commands.registerCommand(ExtensionCommand.showTree, () => commands.showTree()),
    vscode.commands.registerCommand(ExtensionCommand.showNode, () => commands.showNode()),
    vscode.commands.registerCommand(ExtensionCommand.runPipeline, (arg?: unknown) => commands.runPipeline(arg)),
    vscode.commands.registerCommand(ExtensionCommand.showServers, () => commands.showServers()),
    vscode.commands.registerCommand(ExtensionCommand.refreshCatalog, () => catalog.refresh()),
    vscode.commands.registerCommand(ExtensionCommand.restartServer, () => start()),
    vscode.commands.registerCommand(ExtensionCommand.openResource, (origin: unknown, line: unknown) =>
      openResource(origin, line),
    ),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsServer((section) => event.affectsConfiguration(section))) {
        output.appendLine('Disco settings changed: restarting the language server.');
        void start();
      }
    }),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (path.basename(doc.uri.fsPath) === 'disco.toml') void catalog.refresh();
    }),
  );

  void start();
}

export function deactivate(): Promise<void> | undefined {
  const clients = holder;
  holder = undefined;
  return clients?.stop();
}
