import './setup';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ExtensionCommand } from '../src/protocol';

// out/test/package.test.js → the extension folder.
const root = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('package.json', () => {
  it('targets VS Code ^1.85 and starts from the bundle', () => {
    assert.equal(manifest.engines.vscode, '^1.85.0');
    assert.equal(manifest.main, './out/extension.js');
    assert.deepEqual(manifest.activationEvents, ['workspaceContains:**/disco.toml']);
    assert.equal(manifest.devDependencies['@types/vscode'], '1.85.0');
  });

  it('contributes every command the extension registers, with titles', () => {
    const contributed = new Map<string, string>(
      manifest.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]),
    );
    assert.deepEqual([...contributed.keys()].sort(), Object.values(ExtensionCommand).sort());
    assert.equal(contributed.get('disco.showTree'), 'Show Semantic Tree');
    assert.equal(contributed.get('disco.showNode'), 'Show Node at Cursor');
    assert.equal(contributed.get('disco.runPipeline'), 'Run Pipeline…');
    assert.equal(contributed.get('disco.showServers'), 'Server Status');
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Disco');
  });

  it('puts the catalog view in the Explorer', () => {
    assert.deepEqual(manifest.contributes.views.explorer, [{ id: 'discoCatalog', name: 'Disco Catalog' }]);
    const titleMenu = manifest.contributes.menus['view/title'];
    assert.ok(titleMenu.some((m: { command: string; when: string }) => m.command === 'disco.refreshCatalog' && m.when === 'view == discoCatalog'));
  });

  it('declares the settings', () => {
    const props = manifest.contributes.configuration.properties;
    assert.equal(props['disco.path'].type, 'string');
    assert.equal(props['disco.path'].default, 'disco');
    assert.deepEqual(props['disco.lspLevel'].enum, ['none', 'symbols', 'full']);
    assert.equal(props['disco.lspLevel'].default, 'symbols');
  });
});
