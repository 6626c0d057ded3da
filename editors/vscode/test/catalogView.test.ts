import './setup';
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageserver-protocol';
import { CatalogProvider, groupByKind, KindGroup, openResource, originUri, ResourceEntry } from '../src/catalogView';
import { FakeClient } from './fakeClient';
import { catalog } from './fixtures';
import { stub, ThemeIcon, TreeItemCollapsibleState, Uri } from './vscode-stub';

beforeEach(() => stub.reset());

describe('catalog view', () => {
  it('refresh sends disco.catalog with no arguments', async () => {
    const client = new FakeClient().on('disco.catalog', () => catalog());
    const view = new CatalogProvider(client);
    await view.refresh();
    assert.deepEqual(client.requests.map((r) => [r.method, r.command, r.arguments]), [
      ['workspace/executeCommand', 'disco.catalog', []],
    ]);
  });

  it('groups resources by kind, in catalog order, names sorted', async () => {
    const client = new FakeClient().on('disco.catalog', () => catalog());
    const view = new CatalogProvider(client);
    let redraws = 0;
    view.onDidChangeTreeData(() => redraws++);
    await view.refresh();
    assert.equal(redraws, 1);

    const groups = view.getChildren() as KindGroup[];
    assert.deepEqual(groups.map((g) => g.kind), ['volume', 'table', 'model', 'pipeline']);
    const titles = groups.map((g) => view.getTreeItem(g));
    assert.deepEqual(titles.map((t) => [t.label, t.description]), [
      ['Volumes', '1'],
      ['Tables', '1'],
      ['Models', '1'],
      ['Pipelines', '2'],
    ]);
    assert.equal(titles[0].collapsibleState, TreeItemCollapsibleState.Expanded);
    const pipelines = view.getChildren(groups[3]) as ResourceEntry[];
    assert.deepEqual(pipelines.map((p) => p.resource.name), ['clean', 'tokenize']);
    assert.deepEqual(view.getChildren(pipelines[0]), []);
    assert.equal(view.message, undefined);
  });

  it('makes resource items that open disco.toml at their line', async () => {
    const client = new FakeClient().on('disco.catalog', () => catalog());
    const view = new CatalogProvider(client);
    await view.refresh();
    const pipelines = view.getChildren((view.getChildren() as KindGroup[])[3]);
    const item = view.getTreeItem(pipelines[0]);
    assert.equal(item.label, 'clean');
    assert.equal(item.description, 'src → dedupe → out');
    assert.equal(item.contextValue, 'disco.resource.pipeline');
    assert.deepEqual(item.command, {
      command: 'disco.openResource',
      title: 'Open in catalog',
      arguments: ['/ws/disco.toml', 22],
    });
    assert.ok(item.iconPath instanceof ThemeIcon);
    assert.match(String(item.tooltip), /\/ws\/disco.toml:22/);
  });

  it('opens the catalog by its path when the server gives one', async () => {
    const client = new FakeClient().on('disco.catalog', () => ({ ...catalog(), origin: 'disco.toml', path: '/ws/disco.toml' }));
    const view = new CatalogProvider(client);
    await view.refresh();
    const volumes = view.getChildren((view.getChildren() as KindGroup[])[0]);
    assert.deepEqual(view.getTreeItem(volumes[0]).command?.arguments, ['/ws/disco.toml', 2]);
  });

  it('keeps kinds it does not know, after the known ones', () => {
    const groups = groupByKind([
      { kind: 'pipeline', name: 'p', line: 1, detail: '' },
      { kind: 'sink' as 'table', name: 's', line: 2, detail: '' },
      { kind: 'volume', name: 'v', line: 3, detail: '' },
    ]);
    assert.deepEqual(groups.map((g) => g.kind), ['volume', 'pipeline', 'sink']);
  });

  it('says why it is empty: an error or an empty catalog', async () => {
    const client = new FakeClient().on('disco.catalog', () => {
      throw new ResponseError(-32603, 'disco.toml:4:1: unknown resource kind');
    });
    const view = new CatalogProvider(client);
    const messages: (string | undefined)[] = [];
    view.onDidChangeMessage((m) => messages.push(m));
    await view.refresh();
    assert.deepEqual(view.getChildren(), []);
    assert.equal(view.message, 'Catalog unavailable: disco.toml:4:1: unknown resource kind');

    client.on('disco.catalog', () => ({ origin: 'the embedded default catalog', resources: [] }));
    await view.refresh();
    assert.equal(view.message, 'No resources in the embedded default catalog.');

    client.on('disco.catalog', () => catalog());
    await view.refresh();
    assert.deepEqual(messages, [
      'Catalog unavailable: disco.toml:4:1: unknown resource kind',
      'No resources in the embedded default catalog.',
      undefined,
    ]);
  });
});

describe('opening a catalog entry', () => {
  it('opens the origin file with the (1-based) line selected', async () => {
    await openResource('/ws/disco.toml', 22);
    assert.equal(stub.state.shown.length, 1);
    const shown = stub.state.shown[0];
    assert.equal(shown.uri.toString(), 'file:///ws/disco.toml');
    assert.equal(shown.options.selection.start.line, 21);
    assert.equal(shown.options.selection.start.character, 0);
  });

  it('resolves a relative origin against the workspace folder', async () => {
    stub.state.workspaceFolders = [{ uri: Uri.file('/home/u/proj'), name: 'proj', index: 0 }];
    await openResource('disco.toml', 1);
    assert.equal(stub.state.shown[0].uri.fsPath, '/home/u/proj/disco.toml');
    assert.equal(stub.state.shown[0].options.selection.start.line, 0);
  });

  it('says so for an origin that is not a file', async () => {
    await openResource('the embedded default catalog', 3);
    assert.equal(stub.state.shown.length, 0);
    assert.deepEqual(stub.state.messages.map((m) => m.text), [
      'Disco: this resource comes from the embedded default catalog, which is not a file.',
    ]);
  });

  it('understands file: URIs and paths', () => {
    assert.equal(originUri('file:///a/disco.toml', undefined)?.fsPath, '/a/disco.toml');
    assert.equal(originUri('/a/disco.toml', undefined)?.fsPath, '/a/disco.toml');
    assert.equal(originUri('sub/disco.toml', vscode.Uri.file('/w'))?.fsPath, '/w/sub/disco.toml');
    assert.equal(originUri('sub/disco.toml', undefined), undefined);
  });
});
