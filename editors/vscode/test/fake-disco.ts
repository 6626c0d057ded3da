// A stand-in for `disco lsp` used by activation.test.ts: a stdio JSON-RPC
// server that answers the contract's commands with canned results and logs
// every message it receives (one JSON line each) to $DISCO_FAKE_LOG.

import * as fs from 'node:fs';
import { catalog, nodeInfo, treeRecord } from './fixtures';

const logPath = process.env.DISCO_FAKE_LOG;

function log(entry: unknown): void {
  if (logPath) fs.appendFileSync(logPath, JSON.stringify(entry) + '\n');
}

function send(message: Record<string, unknown>): void {
  const body = JSON.stringify({ jsonrpc: '2.0', ...message });
  process.stdout.write(`Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`);
}

let initOptions: unknown;

function executeCommand(params: { command: string; arguments?: unknown[]; workDoneToken?: string | number }): unknown {
  const args = params.arguments ?? [];
  switch (params.command) {
    case 'disco.tree':
      return treeRecord();
    case 'disco.node':
      return nodeInfo(6, 'identifier');
    case 'disco.catalog':
      return catalog();
    case 'disco.servers':
      return [{ name: 'fake-lsp', root: process.cwd(), status: 'running', version: JSON.stringify(initOptions), positionEncoding: 'utf-16' }];
    case 'disco.runPipeline': {
      const name = (args[0] as { name?: string } | undefined)?.name;
      if (name === 'broken') throw Object.assign(new Error('stage dedupe failed'), { code: -32603 });
      const token = params.workDoneToken;
      if (token !== undefined) {
        send({ method: '$/progress', params: { token, value: { kind: 'begin', title: `pipeline ${name}`, percentage: 0 } } });
        send({ method: '$/progress', params: { token, value: { kind: 'report', message: 'halfway', percentage: 50 } } });
        send({ method: '$/progress', params: { token, value: { kind: 'end' } } });
      }
      return { rowsIn: 10, rowsOut: 9, rowsRejected: 1, seconds: 0.25, pipeline: name };
    }
    default:
      throw Object.assign(new Error(`unknown command ${params.command}`), { code: -32601 });
  }
}

function handle(message: { id?: number | string; method?: string; params?: unknown }): void {
  log({ method: message.method, params: message.params, argv: process.argv.slice(2) });
  if (message.method === undefined) return; // a response to one of our requests
  const reply = (result: unknown) => message.id !== undefined && send({ id: message.id, result });
  switch (message.method) {
    case 'initialize':
      initOptions = (message.params as { initializationOptions?: unknown }).initializationOptions;
      reply({
        capabilities: {
          textDocumentSync: 1,
          executeCommandProvider: {
            commands: ['disco.tree', 'disco.node', 'disco.catalog', 'disco.runPipeline', 'disco.servers'],
          },
        },
        serverInfo: { name: 'fake-disco', version: '0' },
      });
      return;
    case 'shutdown':
      reply(null);
      return;
    case 'exit':
      process.exit(0);
      return;
    case 'workspace/executeCommand':
      try {
        reply(executeCommand(message.params as Parameters<typeof executeCommand>[0]));
      } catch (error) {
        const e = error as { code?: number; message: string };
        send({ id: message.id, error: { code: e.code ?? -32603, message: e.message } });
      }
      return;
    default:
      if (message.id !== undefined) send({ id: message.id, error: { code: -32601, message: `unhandled ${message.method}` } });
  }
}

let buffer = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const match = /Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'));
    if (!match) throw new Error('no Content-Length');
    const length = Number(match[1]);
    const start = headerEnd + 4;
    if (buffer.length < start + length) return;
    const body = buffer.subarray(start, start + length).toString('utf8');
    buffer = buffer.subarray(start + length);
    handle(JSON.parse(body));
  }
});
process.stdin.on('end', () => process.exit(0));
