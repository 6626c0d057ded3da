// Settings and the options `disco lsp` is started with. Pure functions: the
// language client itself is built in extension.ts.

import * as os from 'os';
import * as path from 'path';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

export const LSP_LEVELS = ['none', 'symbols', 'full'] as const;
export type LspLevel = (typeof LSP_LEVELS)[number];

export interface DiscoSettings {
  /** `disco.path`: the binary, as the user wrote it. */
  path: string;
  /** `disco.lspLevel`. */
  lspLevel: LspLevel;
}

export const DEFAULT_SETTINGS: DiscoSettings = { path: 'disco', lspLevel: 'symbols' };

/** Reads the `disco.*` settings through a getter such as `workspace.getConfiguration('disco').get`. */
export function readSettings(get: (key: string) => unknown): DiscoSettings {
  const rawPath = get('path');
  const rawLevel = get('lspLevel');
  return {
    path: typeof rawPath === 'string' && rawPath.trim() !== '' ? rawPath.trim() : DEFAULT_SETTINGS.path,
    lspLevel: (LSP_LEVELS as readonly unknown[]).includes(rawLevel) ? (rawLevel as LspLevel) : DEFAULT_SETTINGS.lspLevel,
  };
}

/**
 * The command to run: `${workspaceFolder}` and a leading `~` expanded; a
 * relative path with a directory part resolved against the workspace folder;
 * a bare name left for PATH lookup.
 */
export function resolveCommand(setting: string, workspaceFolder: string | undefined, home: string = os.homedir()): string {
  let p = setting;
  if (workspaceFolder) p = p.split('${workspaceFolder}').join(workspaceFolder);
  if (p === '~' || p.startsWith('~/')) p = path.join(home, p.slice(1));
  if (!path.isAbsolute(p) && p.includes('/') && workspaceFolder) p = path.join(workspaceFolder, p);
  return p;
}

/** How to start the server: `<disco.path> lsp` over stdio. */
export function serverOptions(settings: DiscoSettings, workspaceFolder: string | undefined): ServerOptions {
  const command = resolveCommand(settings.path, workspaceFolder);
  // No `transport`: the client then spawns exactly `<command> lsp` and talks
  // over its stdin/stdout (TransportKind.stdio would append `--stdio`).
  const run = { command, args: ['lsp'] };
  return { run, debug: run };
}

/** The client options of the contract: every `file` document plus disco.toml, and the enrichment level. */
export function clientOptions(settings: DiscoSettings): LanguageClientOptions {
  return {
    documentSelector: [{ scheme: 'file' }, { pattern: '**/disco.toml' }],
    initializationOptions: { lspLevel: settings.lspLevel },
    // A failed initialize is reported, not retried.
    initializationFailedHandler: () => false,
  };
}

/** Whether a configuration change needs the server restarted. */
export function affectsServer(affects: (section: string) => boolean): boolean {
  return affects('disco.path') || affects('disco.lspLevel');
}

/**
 * The server's `executeCommandProvider.commands` less those this extension
 * registers itself: `vscode-languageclient` registers a VS Code command for
 * each server command, and `disco.runPipeline` is both, which VS Code would
 * refuse as a duplicate.
 */
export function withoutReserved(commands: string[] | undefined, reserved: ReadonlySet<string>): string[] {
  return (commands ?? []).filter((c) => !reserved.has(c));
}
