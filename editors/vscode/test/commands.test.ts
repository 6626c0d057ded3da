import './setup';
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ResponseError } from 'vscode-languageserver-protocol';
import {
  DiscoCommands,
  Log,
  pipelineItems,
  pipelineNameFromArg,
  serverItems,
  summarizePipeline,
} from '../src/commands';
import { prettyJson, TREE_SCHEME, TreeDocumentProvider } from '../src/treeDocument';
import { FakeClient } from './fakeClient';
import { catalog, nodeInfo, SOURCE, treeRecord } from './fixtures';
import { fileEditor, FakeDocument, FakeEditor, ProgressLocation, stub, Uri, ViewColumn } from './vscode-stub';

class MemoryLog implements Log {
  lines: string[] = [];
  shown = 0;
  appendLine(line: string): void {
    this.lines.push(line);
  }
  show(): void {
    this.shown++;
  }
}

interface Harness {
  client: FakeClient;
  views: TreeDocumentProvider;
  log: MemoryLog;
  commands: DiscoCommands;
}

function harness(): Harness {
  const client = new FakeClient();
  const views = new TreeDocumentProvider();
  stub.state.providers.set(TREE_SCHEME, views);
  const log = new MemoryLog();
  return { client, views, log, commands: new DiscoCommands(client, views, log) };
}

function errors(): string[] {
  return stub.state.messages.filter((m) => m.level === 'error').map((m) => m.text);
}

function infos(): string[] {
  return stub.state.messages.filter((m) => m.level === 'info').map((m) => m.text);
}

beforeEach(() => stub.reset());

describe('Disco: Show Semantic Tree', () => {
  it('sends disco.tree for the document, then disco.node at the cursor', async () => {
    const h = harness();
    h.client.on('disco.tree', () => treeRecord()).on('disco.node', () => nodeInfo(6, 'identifier'));
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);

    await h.commands.showTree();

    assert.deepEqual(
      h.client.requests.map((r) => [r.method, r.command, r.arguments]),
      [
        ['workspace/executeCommand', 'disco.tree', [{ uri: 'file:///ws/a.py' }]],
        ['workspace/executeCommand', 'disco.node', [{ uri: 'file:///ws/a.py', position: { line: 0, character: 6 } }]],
      ],
    );
    assert.deepEqual(errors(), []);
  });

  it('opens a read-only JSON document beside the file, pretty-printed', async () => {
    const h = harness();
    h.client.on('disco.tree', () => treeRecord()).on('disco.node', () => nodeInfo(6, 'identifier'));
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);

    await h.commands.showTree();

    assert.equal(stub.state.shown.length, 1);
    const shown = stub.state.shown[0];
    assert.equal(shown.uri.scheme, 'disco-tree');
    assert.equal(shown.uri.path, '/a.py.tree.json');
    assert.equal(shown.document?.languageId, 'json');
    assert.equal(shown.options.viewColumn, ViewColumn.Beside);
    assert.equal(shown.document?.text, prettyJson(treeRecord()).text);
    assert.deepEqual(JSON.parse(shown.document!.text), treeRecord());
  });

  it('selects and reveals the line where the node at the cursor begins', async () => {
    const h = harness();
    h.client.on('disco.tree', () => treeRecord()).on('disco.node', () => nodeInfo(6, 'identifier'));
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);

    await h.commands.showTree();

    const editor = stub.state.shown[0].editor!;
    const text = stub.state.shown[0].document!.text;
    const line = prettyJson(treeRecord()).nodeLines.get(6)!;
    assert.equal(text.split('\n')[line].trim(), '"n": 6,');
    assert.equal(editor.selection.start.line, line);
    assert.equal(editor.selection.end.line, line);
    assert.equal(editor.selection.end.character, text.split('\n')[line].length);
    assert.equal(editor.revealed.length, 1);
    assert.equal(editor.revealed[0].range.start.line, line);
  });

  it('falls back to the tree spans when disco.node fails', async () => {
    const h = harness();
    h.client.on('disco.tree', () => treeRecord()).on('disco.node', () => {
      throw new ResponseError(-32603, 'no document');
    });
    // Cursor on the `x` of `return x` (row 1, column 11).
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 1, 11);

    await h.commands.showTree();

    const editor = stub.state.shown[0].editor!;
    assert.equal(editor.selection.start.line, prettyJson(treeRecord()).nodeLines.get(9));
    assert.deepEqual(errors(), [], 'a failed disco.node is logged, not shown');
    assert.ok(h.log.lines.some((l) => l.includes('no document')));
  });

  it('shows the error and opens nothing when disco.tree fails', async () => {
    const h = harness();
    h.client.on('disco.tree', () => {
      throw new ResponseError(-32603, 'unsupported language');
    });
    stub.state.activeTextEditor = fileEditor('/ws/a.bin', 'x', 0, 0);

    await h.commands.showTree();

    assert.deepEqual(errors(), ['Disco: semantic tree failed: unsupported language']);
    assert.equal(stub.state.shown.length, 0);
    assert.deepEqual(h.client.commands, ['disco.tree']);
  });

  it('asks nothing without an editor or for a document not on disk', async () => {
    const h = harness();
    await h.commands.showTree();
    assert.deepEqual(infos(), ['Disco: open a file to see its semantic tree.']);

    stub.state.activeTextEditor = new FakeEditor(new FakeDocument(Uri.parse('untitled:Untitled-1'), 'python', ''));
    await h.commands.showTree();
    assert.equal(stub.state.messages.at(-1)?.level, 'warning');
    assert.deepEqual(h.client.requests, []);
  });

  it('run from the tree view, refreshes the tree of its source file', async () => {
    const h = harness();
    h.client.on('disco.tree', () => treeRecord()).on('disco.node', () => nodeInfo(6, 'identifier'));
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);
    await h.commands.showTree();
    stub.state.activeTextEditor = stub.state.shown[0].editor;

    await h.commands.showTree();

    assert.deepEqual(h.client.commands, ['disco.tree', 'disco.node', 'disco.tree']);
    assert.deepEqual(h.client.requests[2].arguments, [{ uri: 'file:///ws/a.py' }]);
    assert.equal(stub.state.shown[1].uri.toString(), stub.state.shown[0].uri.toString());
  });
});

describe('Disco: Show Node at Cursor', () => {
  it('sends disco.node and shows the answer as JSON beside the file', async () => {
    const h = harness();
    h.client.on('disco.node', () => nodeInfo(6, 'identifier'));
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 0, 6);

    await h.commands.showNode();

    assert.deepEqual(h.client.requests.map((r) => [r.command, r.arguments]), [
      ['disco.node', [{ uri: 'file:///ws/a.py', position: { line: 0, character: 6 } }]],
    ]);
    const shown = stub.state.shown[0];
    assert.equal(shown.uri.path, '/a.py.node.json');
    assert.equal(shown.document?.languageId, 'json');
    assert.equal(shown.options.preserveFocus, true);
    assert.deepEqual(JSON.parse(shown.document!.text), nodeInfo(6, 'identifier'));
    assert.ok(h.log.lines.some((l) => l.includes('module › function_definition › parameters › identifier')));
  });

  it('shows the error when the server fails or answers nonsense', async () => {
    const h = harness();
    h.client.on('disco.node', () => {
      throw new ResponseError(-32602, 'position out of range');
    });
    stub.state.activeTextEditor = fileEditor('/ws/a.py', SOURCE, 9, 0);
    await h.commands.showNode();
    h.client.on('disco.node', () => null);
    await h.commands.showNode();
    assert.deepEqual(errors(), [
      'Disco: node at cursor failed: position out of range',
      'Disco: node at cursor failed: disco.node: expected a JSON object, got null',
    ]);
    assert.equal(stub.state.shown.length, 0);
  });
});

describe('Disco: Run Pipeline…', () => {
  it('lists the catalog pipelines (only) in a quick pick', () => {
    const items = pipelineItems('/ws/disco.toml', catalog().resources);
    assert.deepEqual(
      items.map((i) => [i.label, i.description, i.detail]),
      [
        ['tokenize', 'src → tok → out', '/ws/disco.toml:30'],
        ['clean', 'src → dedupe → out', '/ws/disco.toml:22'],
      ],
    );
  });

  it('sends disco.catalog, then disco.runPipeline with the picked name, under a progress notification', async () => {
    const h = harness();
    h.client
      .on('disco.catalog', () => catalog())
      .on('disco.runPipeline', () => ({ rowsIn: 120, rowsOut: 118, rowsRejected: 2, seconds: 1.234 }));
    stub.state.quickPickChoice = (items) => items.find((i: { label: string }) => i.label === 'clean');

    await h.commands.runPipeline();

    assert.deepEqual(h.client.requests.map((r) => [r.command, r.arguments]), [
      ['disco.catalog', []],
      ['disco.runPipeline', [{ name: 'clean' }]],
    ]);
    assert.deepEqual(stub.state.quickPicks[0].items.map((i: { label: string }) => i.label), ['tokenize', 'clean']);
    assert.equal(stub.state.progress.length, 1);
    assert.equal(stub.state.progress[0].options.location, ProgressLocation.Notification);
    assert.equal(stub.state.progress[0].options.title, 'Disco: running pipeline clean');
    assert.ok(h.client.requests[1].token, 'the request carries the progress cancellation token');
    assert.deepEqual(infos(), ['Disco: pipeline clean finished: 120 rows in, 118 out, 2 rejected in 1.23 s.']);
    assert.ok(h.log.lines.some((l) => l.includes('"rowsIn":120')));
  });

  it('forwards the server work-done progress to the notification', async () => {
    const h = harness();
    h.client.on('disco.catalog', () => catalog()).on('disco.runPipeline', (_args, params) => {
      const report = h.client.progress.get(params.workDoneToken!);
      assert.ok(report, 'subscribed to the request work-done token before sending');
      report({ kind: 'begin', title: 'clean', percentage: 0 });
      report({ kind: 'report', message: 'dedupe', percentage: 40 });
      report({ kind: 'report', percentage: 100 });
      report({ kind: 'end' });
      return { rowsIn: 1, rowsOut: 1, rowsRejected: 0, seconds: 0 };
    });
    stub.state.quickPickChoice = (items) => items[1];

    await h.commands.runPipeline();

    assert.deepEqual(stub.state.progress[0].reports, [{ message: 'dedupe', increment: 40 }, { increment: 60 }]);
    assert.equal(h.client.progress.size, 0, 'the progress subscription is disposed');
  });

  it('shows the error message when the pipeline fails', async () => {
    const h = harness();
    h.client.on('disco.runPipeline', () => {
      throw new ResponseError(-32603, 'stage dedupe: table out is read-only');
    });
    stub.state.messageChoice = (m) => (m.level === 'error' ? 'Show Output' : undefined);

    await h.commands.runPipeline('clean');

    assert.deepEqual(h.client.commands, ['disco.runPipeline'], 'a given name skips the catalog');
    assert.deepEqual(errors(), ['Disco: pipeline clean failed: stage dedupe: table out is read-only']);
    assert.deepEqual(stub.state.messages[0].items, ['Show Output']);
    assert.equal(h.log.shown, 1);
  });

  it('runs a pipeline clicked in the catalog view without asking', async () => {
    const h = harness();
    h.client.on('disco.runPipeline', () => ({ rowsIn: 0, rowsOut: 0, rowsRejected: 0, seconds: 0.5 }));
    await h.commands.runPipeline({ type: 'resource', origin: '/ws/disco.toml', resource: catalog().resources[1] });
    assert.deepEqual(h.client.requests.map((r) => r.arguments), [[{ name: 'tokenize' }]]);
    assert.equal(stub.state.quickPicks.length, 0);
  });

  it('runs nothing when the pick is cancelled or there are no pipelines', async () => {
    const h = harness();
    h.client.on('disco.catalog', () => catalog());
    await h.commands.runPipeline();
    assert.deepEqual(h.client.commands, ['disco.catalog']);

    h.client.on('disco.catalog', () => ({ origin: '/ws/disco.toml', resources: [] }));
    await h.commands.runPipeline();
    assert.deepEqual(h.client.commands, ['disco.catalog', 'disco.catalog']);
    assert.deepEqual(infos(), ['Disco: no pipelines in /ws/disco.toml.']);
  });

  it('reports a failing catalog', async () => {
    const h = harness();
    h.client.on('disco.catalog', () => {
      throw new ResponseError(-32603, 'disco.toml:3: unknown key');
    });
    await h.commands.runPipeline();
    assert.deepEqual(errors(), ['Disco: catalog failed: disco.toml:3: unknown key']);
  });

  it('summarizes what the server gives', () => {
    assert.equal(summarizePipeline('p', { rowsIn: 1, rowsOut: 1, rowsRejected: 0, seconds: 2 }),
      'Disco: pipeline p finished: 1 row in, 1 out, 0 rejected in 2.00 s.');
    assert.equal(summarizePipeline('p', {}), 'Disco: pipeline p finished.');
    assert.equal(summarizePipeline('p', null), 'Disco: pipeline p finished.');
    assert.equal(pipelineNameFromArg('x'), 'x');
    assert.equal(pipelineNameFromArg({ resource: { kind: 'table', name: 't' } }), undefined);
    assert.equal(pipelineNameFromArg(undefined), undefined);
  });
});

describe('Disco: Server Status', () => {
  const servers = [
    { name: 'basedpyright', root: '/ws', status: 'running', version: '1.20.0', positionEncoding: 'utf-16' },
    { name: 'clangd', root: '/ws/native', status: 'failed', version: null, positionEncoding: null },
  ];

  it('sends disco.servers and lists the servers with their status', async () => {
    const h = harness();
    h.client.on('disco.servers', () => servers);
    stub.state.quickPickChoice = (items) => items[1];

    await h.commands.showServers();

    assert.deepEqual(h.client.requests.map((r) => [r.command, r.arguments]), [['disco.servers', []]]);
    const pick = stub.state.quickPicks[0];
    assert.deepEqual(
      pick.items.map((i: { label: string; description: string; detail: string }) => [i.label, i.description, i.detail]),
      [
        ['$(pass-filled) basedpyright', 'running · 1.20.0', '/ws · position encoding utf-16'],
        ['$(error) clangd', 'failed', '/ws/native'],
      ],
    );
    assert.equal(pick.options.placeHolder, '2 language servers, 1 running');
    assert.ok(h.log.lines.some((l) => l.includes('"name":"clangd"')));
  });

  it('says so when no server runs, and shows errors', async () => {
    const h = harness();
    h.client.on('disco.servers', () => []);
    await h.commands.showServers();
    assert.equal(stub.state.quickPicks.length, 0);
    assert.match(infos()[0], /no language servers are running/);

    h.client.on('disco.servers', () => {
      throw new ResponseError(-32603, 'supervisor gone');
    });
    await h.commands.showServers();
    assert.deepEqual(errors(), ['Disco: server status failed: supervisor gone']);
  });

  it('makes an item per server even from sparse answers', () => {
    const items = serverItems([
      { name: 'gopls', root: '/ws', status: 'starting' },
      { name: 'clangd', root: '', status: 'not installed', version: null },
      { name: 'pyright', root: '', status: 'idle' },
    ]);
    assert.deepEqual(items.map((i) => [i.label, i.description, i.detail]), [
      ['$(sync~spin) gopls', 'starting', '/ws'],
      ['$(warning) clangd', 'not installed', ''],
      ['$(circle-outline) pyright', 'idle', ''],
    ]);
  });
});
