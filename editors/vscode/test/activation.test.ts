// The shipped bundle (out/extension.js, with the real vscode-languageclient
// inside) activated against the stubbed `vscode` module, talking over stdio
// to test/fake-disco (a canned `disco lsp`). Checks the wire: how the server
// is started, the initialization options, the commands' requests and the
// answers, work-done progress, restart on a settings change and shutdown.

import './setup';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prettyJson } from '../src/treeDocument';
import { SOURCE, treeRecord } from './fixtures';
import { fileEditor, stub } from './vscode-stub';

const stubPath = require.resolve('./vscode-stub');
const bundlePath = path.resolve(__dirname, '..', 'extension.js');

/**
 * A value for every part of the VS Code API the stub does not model (the
 * language client touches many at load and start): callable, constructible,
 * every property another such value; not thenable, iterable as empty.
 */
function anything(): unknown {
  const target = function () {} as unknown as object;
  return new Proxy(target, {
    get(t, p) {
      if (p === 'then' || p === 'toJSON') return undefined;
      if (p === Symbol.iterator) return function* () {};
      if (p === Symbol.toPrimitive) return () => 0;
      if (typeof p === 'symbol') return undefined;
      if (p === 'prototype') return Reflect.get(t, p);
      return anything();
    },
    apply: () => anything(),
    construct: () => anything() as object,
  });
}

function permissive<T extends object>(object: T): T {
  return new Proxy(object, {
    get(t, p, receiver) {
      if (p in t || typeof p === 'symbol' || p === 'then') return Reflect.get(t, p, receiver);
      return anything();
    },
  });
}

interface LogEntry {
  method?: string;
  params?: { command?: string; arguments?: unknown[]; initializationOptions?: unknown; workDoneToken?: unknown };
  argv: string[];
}

let tmp: string;
let logFile: string;
let extension: { activate(context: unknown): void; deactivate(): Promise<void> | undefined };

function entries(): LogEntry[] {
  if (!fs.existsSync(logFile)) return [];
  // The fake server appends while this reads: only whole lines (up to the last newline) count,
  // a line still being written is read on the next poll.
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  lines.pop();
  return lines.filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}

function sent(method: string): LogEntry[] {
  return entries().filter((e) => e.method === method);
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; server saw ${JSON.stringify(entries().map((e) => e.method))}; messages ${JSON.stringify(stub.state.messages)}; output ${JSON.stringify(stub.state.output)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function command(id: string): (...args: unknown[]) => Promise<unknown> {
  const handler = stub.state.commands.get(id);
  assert.ok(handler, `command ${id} is registered`);
  return async (...args) => handler(...args);
}

describe('activation against a fake disco lsp', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-vscode-'));
    logFile = path.join(tmp, 'server.jsonl');
    const fakeServer = path.join(__dirname, 'fake-disco.js');
    const wrapper = path.join(tmp, 'disco');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${fakeServer}" "$@"\n`, { mode: 0o755 });
    process.env.DISCO_FAKE_LOG = logFile;

    stub.reset();
    stub.state.configuration['disco.path'] = wrapper;
    stub.state.configuration['disco.lspLevel'] = 'full';
    const cached = require.cache[stubPath];
    assert.ok(cached, 'the stub is loaded');
    const api = cached.exports as Record<string, object>;
    cached.exports = permissive({
      ...api,
      window: permissive(api.window),
      workspace: permissive(api.workspace),
      languages: permissive(api.languages),
      commands: permissive(api.commands),
    });

    extension = require(bundlePath);
    extension.activate(permissive({ subscriptions: [] as unknown[], extensionPath: path.resolve(__dirname, '..', '..') }));
    await until('the client to start and load the catalog', () =>
      sent('workspace/executeCommand').some((e) => e.params?.command === 'disco.catalog'),
    );
  });

  after(async () => {
    await extension?.deactivate();
    delete process.env.DISCO_FAKE_LOG;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('starts `<disco.path> lsp` with lspLevel in the initialization options', () => {
    const init = sent('initialize');
    assert.equal(init.length, 1);
    assert.deepEqual(init[0].argv, ['lsp']);
    assert.deepEqual(init[0].params?.initializationOptions, { lspLevel: 'full' });
    assert.equal(sent('initialized').length, 1);
  });

  it('leaves the server commands to the client but keeps disco.runPipeline its own', () => {
    for (const id of ['disco.tree', 'disco.node', 'disco.catalog', 'disco.servers']) {
      assert.ok(stub.state.commands.has(id), `${id} registered by the language client`);
    }
    for (const id of ['disco.showTree', 'disco.showNode', 'disco.runPipeline', 'disco.showServers', 'disco.refreshCatalog']) {
      assert.ok(stub.state.commands.has(id), `${id} registered by the extension`);
    }
    assert.deepEqual(stub.state.messages.filter((m) => m.level === 'error'), []);
  });

  it('Show Semantic Tree goes over the wire and selects the node', async () => {
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);
    await command('disco.showTree')();
    const calls = sent('workspace/executeCommand').map((e) => [e.params?.command, e.params?.arguments]);
    assert.deepEqual(calls.slice(-2), [
      ['disco.tree', [{ uri: 'file:///ws/a.py' }]],
      ['disco.node', [{ uri: 'file:///ws/a.py', position: { line: 0, character: 6 } }]],
    ]);
    const shown = stub.state.shown.at(-1)!;
    assert.equal(shown.uri.scheme, 'disco-tree');
    assert.equal(shown.editor!.selection.start.line, prettyJson(treeRecord()).nodeLines.get(6));
  });

  it('Run Pipeline… picks from the catalog, follows progress and shows the summary', async () => {
    stub.state.quickPickChoice = (items) => items.find((i: { label: string }) => i.label === 'clean');
    await command('disco.runPipeline')();
    const run = sent('workspace/executeCommand').filter((e) => e.params?.command === 'disco.runPipeline');
    assert.equal(run.length, 1);
    assert.deepEqual(run[0].params?.arguments, [{ name: 'clean' }]);
    assert.equal(typeof run[0].params?.workDoneToken, 'string');
    assert.deepEqual(stub.state.progress.at(-1)!.reports, [{ message: 'halfway', increment: 50 }]);
    assert.equal(
      stub.state.messages.at(-1)!.text,
      'Disco: pipeline clean finished: 10 rows in, 9 out, 1 rejected in 0.25 s.',
    );
  });

  it('a failing pipeline shows the server error', async () => {
    await command('disco.runPipeline')('broken');
    assert.equal(stub.state.messages.at(-1)!.level, 'error');
    assert.equal(stub.state.messages.at(-1)!.text, 'Disco: pipeline broken failed: stage dedupe failed');
  });

  it('Server Status lists what disco.servers returns', async () => {
    await command('disco.showServers')();
    const items = stub.state.quickPicks.at(-1)!.items as { label: string; description: string }[];
    assert.equal(items.length, 1);
    assert.equal(items[0].label, '$(pass-filled) fake-lsp');
  });

  it('restarts the server with the new level when the settings change', async () => {
    stub.state.configuration['disco.lspLevel'] = 'none';
    const catalogs = () => sent('workspace/executeCommand').filter((e) => e.params?.command === 'disco.catalog').length;
    const before = catalogs();
    for (const listener of stub.state.configurationListeners) {
      listener({ affectsConfiguration: (s: string) => s === 'disco' || s === 'disco.lspLevel' });
    }
    await until('the restarted client to reload the catalog', () => catalogs() > before);
    await until('the old server to be told to exit', () => sent('exit').length === 1);
    assert.equal(sent('shutdown').length, 1, 'the old server was shut down');
    const init = sent('initialize');
    assert.equal(init.length, 2);
    assert.deepEqual(init[1].params?.initializationOptions, { lspLevel: 'none' });
  });

  it('shuts the server down on deactivate', async () => {
    await extension.deactivate();
    // The client resolves once `exit` is written; the server logs it on receipt.
    await until('the server to be told to exit', () => sent('exit').length === 2);
    assert.equal(sent('shutdown').length, 2);
  });
});
