import './setup';
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol';
import { ClientHolder, StartableClient } from '../src/clientHolder';
import { execute } from '../src/protocol';
import {
  affectsServer,
  clientOptions,
  readSettings,
  resolveCommand,
  serverOptions,
  withoutReserved,
} from '../src/settings';
import { FakeClient } from './fakeClient';

describe('settings', () => {
  it('reads disco.path and disco.lspLevel with their defaults', () => {
    assert.deepEqual(readSettings(() => undefined), { path: 'disco', lspLevel: 'symbols' });
    const values: Record<string, unknown> = { path: ' /opt/disco/bin/disco ', lspLevel: 'full' };
    assert.deepEqual(readSettings((k) => values[k]), { path: '/opt/disco/bin/disco', lspLevel: 'full' });
    assert.equal(readSettings((k) => (k === 'lspLevel' ? 'everything' : undefined)).lspLevel, 'symbols');
    assert.equal(readSettings((k) => (k === 'path' ? '' : undefined)).path, 'disco');
  });

  it('resolves the binary path', () => {
    assert.equal(resolveCommand('disco', '/ws', '/home/u'), 'disco');
    assert.equal(resolveCommand('/usr/bin/disco', '/ws', '/home/u'), '/usr/bin/disco');
    assert.equal(resolveCommand('target/release/disco', '/ws', '/home/u'), '/ws/target/release/disco');
    assert.equal(resolveCommand('${workspaceFolder}/bin/disco', '/ws', '/home/u'), '/ws/bin/disco');
    assert.equal(resolveCommand('~/.cargo/bin/disco', undefined, '/home/u'), '/home/u/.cargo/bin/disco');
    assert.equal(resolveCommand('target/release/disco', undefined, '/home/u'), 'target/release/disco');
  });

  it('starts `<disco.path> lsp` over stdio', () => {
    const options = serverOptions({ path: 'bin/disco', lspLevel: 'none' }, '/ws') as {
      run: { command: string; args: string[]; transport?: number };
      debug: unknown;
    };
    // Without a transport the client adds no `--stdio` argument and uses the pipes.
    assert.deepEqual(options.run, { command: '/ws/bin/disco', args: ['lsp'] });
    assert.deepEqual(options.debug, options.run);
  });

  it('selects every file document plus disco.toml and sends the enrichment level', () => {
    for (const lspLevel of ['none', 'symbols', 'full'] as const) {
      const options = clientOptions({ path: 'disco', lspLevel });
      const { initializationFailedHandler, ...rest } = options;
      assert.deepEqual(rest, {
        documentSelector: [{ scheme: 'file' }, { pattern: '**/disco.toml' }],
        initializationOptions: { lspLevel },
      });
      assert.equal(initializationFailedHandler?.(new Error('no')), false, 'a failed initialize is not retried');
    }
  });

  it('restarts only for its own settings', () => {
    assert.equal(affectsServer((s) => s === 'disco.path'), true);
    assert.equal(affectsServer((s) => s === 'disco.lspLevel'), true);
    assert.equal(affectsServer((s) => s === 'editor.fontSize'), false);
  });

  it('keeps the server from registering command ids the extension owns', () => {
    const reserved = new Set(['disco.runPipeline', 'disco.showTree']);
    assert.deepEqual(
      withoutReserved(['disco.tree', 'disco.node', 'disco.catalog', 'disco.runPipeline', 'disco.servers'], reserved),
      ['disco.tree', 'disco.node', 'disco.catalog', 'disco.servers'],
    );
    assert.deepEqual(withoutReserved(undefined, reserved), []);
  });
});

class FakeStartable extends FakeClient implements StartableClient {
  started = 0;
  disposed = 0;
  constructor(
    private readonly failWith?: string,
    private readonly hang = false,
  ) {
    super();
  }
  async start(): Promise<void> {
    this.started++;
    if (this.failWith) throw new Error(this.failWith);
    if (this.hang) await new Promise(() => undefined);
  }
  async dispose(): Promise<void> {
    this.disposed++;
  }
}

describe('client holder', () => {
  it('sends to the current client, and requests made while it starts wait for it', async () => {
    const holder = new ClientHolder();
    const first = new FakeStartable().on('disco.servers', () => ['first']);
    const starting = holder.replace(() => first, 'disco lsp');
    const answer = execute(holder, 'disco.servers', []);
    await starting;
    assert.deepEqual(await answer, ['first']);
    assert.equal(first.requests[0].method, ExecuteCommandRequest.method);

    const second = new FakeStartable().on('disco.servers', () => ['second']);
    await holder.replace(() => second, 'disco lsp');
    assert.equal(first.disposed, 1, 'the old client is stopped on restart');
    assert.deepEqual(await execute(holder, 'disco.servers', []), ['second']);
  });

  it('turns a failed start into an error for the requests', async () => {
    const holder = new ClientHolder();
    await holder.replace(() => new FakeStartable('spawn disco ENOENT'), 'disco lsp');
    await assert.rejects(execute(holder, 'disco.catalog', []), /failed to start: spawn disco ENOENT.*disco\.path/);
    await holder.stop();
    await assert.rejects(execute(holder, 'disco.catalog', []), /has stopped/);
  });

  it('gives up on a start that never finishes, and says so', async () => {
    const holder = new ClientHolder(50);
    const hung = new FakeStartable(undefined, true);
    await holder.replace(() => hung, 'disco lsp');
    await assert.rejects(execute(holder, 'disco.catalog', []), /failed to start: it did not start within 0 s.*disco\.path/);
    assert.equal(hung.disposed, 1, 'the hung client is stopped');
  });

  it('forwards progress subscriptions to the current client', async () => {
    const holder = new ClientHolder();
    const client = new FakeStartable();
    await holder.replace(() => client, 'disco lsp');
    const sub = holder.onProgress({} as never, 'tok', () => undefined);
    assert.ok(client.progress.has('tok'));
    sub.dispose();
    assert.ok(!client.progress.has('tok'));
  });
});
