#!/usr/bin/env node
// End-to-end test of the packaged extension in a real VS Code: code-server serves the workbench,
// headless Chromium (driven by playwright-core) uses it as a person would, and the extension
// starts the real `disco lsp`.
//
// It installs disco-vscode.vsix into a fresh code-server, opens a temporary workspace holding
// hello.py, opens that file with Quick Open, runs "Disco: Show Semantic Tree" from the command
// palette, and checks that an editor titled hello.py.tree.json opens, shows the semantic tree
// (a "function_definition" node for `greet`), is JSON and refuses typing (read-only).
//
// What it needs is installed by scripts/setup-e2e.sh. Usage (from the repository root):
//   scripts/setup-e2e.sh && node editors/vscode/e2e/run.mjs --disco target/debug/disco
// Options:
//   --disco PATH     the disco binary (default: target/debug/disco)
//   --vsix PATH      use this .vsix as it is (default: editors/vscode/disco-vscode.vsix, packaged
//                    anew with `npm run package` when missing or older than the extension's sources)
//   --chromium PATH  the browser (default: $DISCO_E2E_CHROMIUM or /usr/bin/chromium)
//   --timeout SECS   the limit for each step (default 180; the whole run gets 5 times that)
//   --keep           keep the temporary folder (workspace, logs, screenshots) after a pass
// Exits 0 after printing "1 passed, 0 failed"; otherwise 1, with the reason, a screenshot's path,
// and the tails of code-server's and the extension's logs.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(EXT_DIR, '..', '..');
const TOOLS = process.env.DISCO_TOOLS || path.join(os.homedir(), '.cache', 'disco', 'tools');
// Keep in step with scripts/setup-e2e.sh.
const CS_VERSION = '4.100.3';
const CODE_SERVER = process.env.DISCO_E2E_CODE_SERVER || path.join(TOOLS, 'e2e', `code-server-${CS_VERSION}`, 'out', 'node', 'entry.js');
const PLAYWRIGHT = process.env.DISCO_E2E_PLAYWRIGHT || path.join(TOOLS, 'e2e', 'driver', 'node_modules', 'playwright-core');

const COMMAND = 'Disco: Show Semantic Tree';
const SOURCE_NAME = 'hello.py';
const SOURCE_TEXT = 'def greet(name):\n    return f"hi {name}"\n';
const TREE_TITLE = `${SOURCE_NAME}.tree.json`;

// --- arguments -------------------------------------------------------------------------------------

function usage(message) {
  if (message) console.error(`e2e: ${message}`);
  console.error('usage: node editors/vscode/e2e/run.mjs [--disco PATH] [--vsix PATH] [--chromium PATH] [--timeout SECS] [--keep]');
  process.exit(2);
}

const opts = {
  disco: path.join(REPO, 'target', 'debug', 'disco'),
  vsix: undefined,
  chromium: process.env.DISCO_E2E_CHROMIUM || '/usr/bin/chromium',
  timeout: 180,
  keep: false,
};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--disco') opts.disco = path.resolve(value());
    else if (a === '--vsix') opts.vsix = path.resolve(value());
    else if (a === '--chromium') opts.chromium = value();
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--keep') opts.keep = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(opts.timeout > 0)) usage('--timeout takes a positive number of seconds');
}
const STEP_MS = opts.timeout * 1000;

// --- small helpers ---------------------------------------------------------------------------------

const started = Date.now();
function log(message) {
  console.log(`[e2e +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

class TestFailure extends Error {}
function fail(message) {
  throw new TestFailure(message);
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function findFiles(dir, test, found = []) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, test, found);
    else if (test(e.name)) found.push(p);
  }
  return found;
}

function newestMtime(paths) {
  let newest = 0;
  for (const p of paths) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      newest = Math.max(newest, newestMtime(fs.readdirSync(p).map((n) => path.join(p, n))));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  }
  return newest;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, ms = STEP_MS, every = 500) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) fail(`timed out after ${ms / 1000}s waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// Monaco renders spaces as U+00A0 in .view-lines.
const plain = (text) => text.replace(/\u00a0/g, ' ');

// --- preconditions ---------------------------------------------------------------------------------

function checkTools() {
  const missing = [];
  if (!fs.existsSync(CODE_SERVER)) missing.push(`code-server (${CODE_SERVER})`);
  if (!fs.existsSync(path.join(PLAYWRIGHT, 'package.json'))) missing.push(`playwright-core (${PLAYWRIGHT})`);
  if (!fs.existsSync(opts.chromium)) missing.push(`chromium (${opts.chromium})`);
  if (missing.length) fail(`missing ${missing.join(', ')}: run scripts/setup-e2e.sh first`);
  const st = fs.statSync(opts.disco, { throwIfNoEntry: false });
  if (!st || !st.isFile()) fail(`no disco binary at ${opts.disco} (build it, or pass --disco PATH)`);
  fs.accessSync(opts.disco, fs.constants.X_OK);
}

/** The .vsix to install: the given one, or editors/vscode/disco-vscode.vsix packaged anew when stale. */
function extensionPackage() {
  if (opts.vsix) {
    if (!fs.existsSync(opts.vsix)) fail(`no such .vsix: ${opts.vsix}`);
    return opts.vsix;
  }
  const vsix = path.join(EXT_DIR, 'disco-vscode.vsix');
  const sources = ['src', 'package.json', 'package-lock.json', 'README.md', 'LICENSE', 'tsconfig.json', '.vscodeignore']
    .map((p) => path.join(EXT_DIR, p));
  const built = fs.statSync(vsix, { throwIfNoEntry: false });
  if (built && built.mtimeMs >= newestMtime(sources)) {
    log(`using ${path.relative(REPO, vsix)} (newer than the extension's sources)`);
    return vsix;
  }
  if (!fs.existsSync(path.join(EXT_DIR, 'node_modules', '.bin', 'vsce'))) {
    fail('the extension has no node_modules (run scripts/setup-e2e.sh, or npm ci in editors/vscode)');
  }
  log(`packaging the extension (npm run package in ${path.relative(REPO, EXT_DIR)})`);
  const r = spawnSync('npm', ['run', 'package'], { cwd: EXT_DIR, encoding: 'utf8' });
  if (r.status !== 0) fail(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
  return vsix;
}

// --- the run ---------------------------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-e2e-'));
const dirs = {
  workspace: path.join(tmp, 'workspace'),
  userData: path.join(tmp, 'user-data'),
  extensions: path.join(tmp, 'extensions'),
  xdg: path.join(tmp, 'xdg'),
};
const serverLog = path.join(tmp, 'code-server.log');
let server;
let browser;
let page;

// code-server and what it starts (extension host, disco lsp) run in their own process group.
const groupAlive = () => {
  try {
    process.kill(-server.pid, 0);
    return true;
  } catch {
    return false;
  }
};
let stopped = false;
async function stopServer() {
  if (!server || stopped) return;
  stopped = true;
  const exited = server.exitCode !== null || server.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => server.once('exit', resolve));
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
  const deadline = Date.now() + 10_000;
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (groupAlive()) {
    const left = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(server.pid)], { encoding: 'utf8' }).stdout;
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {}
    log(`code-server killed (still running 10 s after SIGTERM):\n${left}`);
  } else {
    log('code-server stopped');
  }
}
// On an early exit there is no waiting: kill what is left.
process.on('exit', () => {
  if (server && !stopped && groupAlive()) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {}
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(130));
}

function codeServerEnv() {
  // Keep code-server off the user's ~/.config/code-server and ~/.local/share/code-server.
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dirs.xdg, 'config'),
    XDG_DATA_HOME: path.join(dirs.xdg, 'data'),
    XDG_CACHE_HOME: path.join(dirs.xdg, 'cache'),
  };
}

function prepare() {
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(dirs.workspace, SOURCE_NAME), SOURCE_TEXT);
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  const settings = {
    'disco.path': opts.disco,
    'disco.lspLevel': 'none',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'security.workspace.trust.enabled': false,
  };
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  fs.writeFileSync(path.join(tmp, 'config.yaml'), 'auth: none\ncert: false\n');
}

function installExtension(vsix) {
  log(`installing ${path.basename(vsix)} into code-server ${CS_VERSION}`);
  const r = spawnSync(
    process.execPath,
    [CODE_SERVER, '--config', path.join(tmp, 'config.yaml'), '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions, '--install-extension', vsix],
    { encoding: 'utf8', env: codeServerEnv(), timeout: STEP_MS },
  );
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !/successfully installed/.test(out)) fail(`installing the extension failed (exit ${r.status}):\n${out}`);
  const installed = fs.readdirSync(dirs.extensions).filter((n) => n.startsWith('disco.disco-vscode-'));
  if (installed.length !== 1) fail(`expected one disco.disco-vscode-* in ${dirs.extensions}, found: ${installed.join(', ') || 'none'}`);
  log(`installed ${installed[0]}`);
}

async function startServer() {
  const port = await freePort();
  const args = [
    CODE_SERVER,
    '--config', path.join(tmp, 'config.yaml'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    dirs.workspace,
  ];
  const out = fs.openSync(serverLog, 'a');
  server = spawn(process.execPath, args, { env: codeServerEnv(), stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  log(`code-server pid ${server.pid} on 127.0.0.1:${port} (log ${serverLog})`);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('code-server to answer /healthz', async () => {
    if (server.exitCode !== null) fail(`code-server exited with ${server.exitCode}:\n${tail(serverLog, 30)}`);
    const res = await fetch(`${url}/healthz`);
    return res.ok;
  });
  log('code-server is up');
  return url;
}

async function launchBrowser() {
  const require = createRequire(path.join(PLAYWRIGHT, 'package.json'));
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    // --no-sandbox: Chromium's sandbox refuses to run as root (as here and in CI).
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: STEP_MS,
  });
  // The clipboard permissions let the test read the whole tree document (copied with Ctrl+A Ctrl+C).
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  context.setDefaultTimeout(STEP_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  log(`chromium ${browser.version()} (${opts.chromium})`);
}

/** Texts of the notifications on screen (errors the extension shows end the wait early). */
async function notifications() {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** The tab whose label is exactly `title`. */
function tab(title) {
  return page.locator('.tabs-container .tab').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
  });
}

async function openWorkbench(url) {
  await page.goto(`${url}/?folder=${dirs.workspace}`, { timeout: STEP_MS });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
  log('workbench loaded');
  // The explorer lists the workspace once the connection to the server works.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: SOURCE_NAME }).first().waitFor({ state: 'visible' });
  log(`explorer shows ${SOURCE_NAME}`);
}

async function openSource() {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await page.keyboard.type(SOURCE_NAME);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: SOURCE_NAME }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await tab(SOURCE_NAME).waitFor({ state: 'visible' });
  await page.locator('.editor-group-container.active .view-lines', { hasText: 'def greet' }).waitFor({ state: 'visible' });
  log(`opened ${SOURCE_NAME} (Quick Open)`);
}

/** F1, the command's title, Enter; retried while the palette does not list it yet (extensions still loading). */
async function runCommand(title) {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title });
  await waitFor(`the command palette to list "${title}"`, async () => {
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type(title);
    try {
      await row.first().waitFor({ state: 'visible', timeout: 10_000 });
      return true;
    } catch {
      await page.keyboard.press('Escape');
      return false;
    }
  });
  // Enter runs the focused row: make sure it is this command.
  const focused = await page.locator('.quick-input-list .monaco-list-row.focused').first().innerText();
  if (!plain(focused).includes(title)) fail(`the palette's first match is "${plain(focused)}", not "${title}"`);
  await page.keyboard.press('Enter');
  log(`ran "${title}" from the command palette`);
}

async function checkTree() {
  const treeTab = tab(TREE_TITLE);
  await waitFor(`a tab titled ${TREE_TITLE}`, async () => {
    const shown = await notifications();
    const problem = shown.find((t) => /disco/i.test(t) && /fail|error|not found|cannot|could not|no tree/i.test(t));
    if (problem) fail(`the extension reported: ${problem}`);
    return (await treeTab.count()) > 0;
  });
  log(`tab ${TREE_TITLE} opened`);
  if (!(await treeTab.first().evaluate((el) => el.classList.contains('active')))) fail(`${TREE_TITLE} is not the active tab`);

  // The active editor group now holds the tree view.
  const group = page.locator('.editor-group-container.active');
  const lines = group.locator('.monaco-editor .view-lines').first();
  const text = await waitFor('the tree document to show a function_definition node for greet', async () => {
    const t = plain(await lines.innerText());
    return t.includes('"function_definition"') && t.includes('greet') ? t : undefined;
  });
  log(`the tree shows "function_definition" and greet:\n${text.split('\n').slice(0, 40).map((l) => `    ${l}`).join('\n')}`);

  // A JSON document: the status bar's language mode.
  const mode = await waitFor('the status bar to show the JSON language mode', async () => {
    const t = (await page.locator('#status\\.editor\\.mode').innerText()).trim();
    return /json/i.test(t) ? t : undefined;
  });
  log(`language mode: ${mode}`);

  // The command opens it focused; click into it only if not (by coordinates: letting playwright
  // scroll Monaco's tall .view-lines "into view" scrolls the editor's DOM behind its back).
  const editor = group.locator('.monaco-editor').first();
  if (!(await editor.evaluate((el) => el.classList.contains('focused')))) {
    const box = await editor.boundingBox();
    if (!box) fail('the tree editor has no box on screen');
    await page.mouse.click(box.x + box.width / 2, box.y + 10);
  }

  // The whole document (only the lines on screen are in the DOM): select all, copy, read the
  // clipboard. It must be the record as JSON, with the function and its name in the tree.
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+C');
  const copied = await waitFor('the tree document on the clipboard', async () => {
    const t = await page.evaluate(() => navigator.clipboard.readText());
    return t.includes('"function_definition"') ? t : undefined;
  }, 30_000);
  let record;
  try {
    record = JSON.parse(copied);
  } catch (error) {
    fail(`the tree document is not JSON (${error.message}):\n${copied.slice(0, 2000)}`);
  }
  const nodes = [];
  const walk = (node) => {
    if (!node || typeof node !== 'object') return;
    nodes.push(node);
    for (const child of node.children ?? []) walk(child);
  };
  walk(record.tree);
  const fn = nodes.find((n) => n.kind === 'function_definition');
  const name = fn?.children?.find((c) => c.field === 'name');
  if (record.tree?.kind !== 'module' || !fn || name?.text !== 'greet') {
    fail(`the tree has no module > function_definition named greet:\n${copied.slice(0, 2000)}`);
  }
  log(`the whole document (${copied.split('\n').length} lines) is JSON: status ${JSON.stringify(record.status)}, ` +
    `${nodes.length} nodes, module > function_definition (n ${fn.n}) named ${JSON.stringify(name.text)}`);

  // Read-only: typing into it changes nothing, and VS Code says so.
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('zzz');
  await page.keyboard.press('Enter');
  let said;
  try {
    said = await waitFor('VS Code to say the tree editor is read-only', async () => {
      const texts = await page.locator('.monaco-editor-overlaymessage').allInnerTexts();
      return texts.map((t) => t.trim()).find((t) => /read-only/i.test(t));
    }, 15_000, 200);
  } catch (error) {
    said = error;
  }
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+C');
  const after = await page.evaluate(() => navigator.clipboard.readText());
  if (after !== copied) fail('typing into the tree document changed it: it is not read-only');
  if (said instanceof Error) throw said;
  log(`read-only: typing changed nothing, and VS Code says "${said}"`);
  if (await treeTab.first().evaluate((el) => el.classList.contains('dirty'))) fail(`${TREE_TITLE} is marked modified`);
}

async function main() {
  checkTools();
  const vsix = extensionPackage();
  log(`temporary folder ${tmp}`);
  prepare();
  installExtension(vsix);
  const url = await startServer();
  await launchBrowser();
  await openWorkbench(url);
  await openSource();
  await runCommand(COMMAND);
  await checkTree();
  await page.screenshot({ path: path.join(tmp, 'tree.png') });
}

const overall = setTimeout(() => {
  console.error(`e2e: FAILED: the whole run took longer than ${(5 * STEP_MS) / 1000}s`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}, 5 * STEP_MS);

let failed;
try {
  await main();
} catch (error) {
  failed = error;
}
clearTimeout(overall);

if (failed) {
  console.error(`e2e: FAILED: ${failed instanceof TestFailure ? failed.message : failed.stack || failed}`);
  if (page) {
    const shot = path.join(tmp, 'failure.png');
    try {
      await page.screenshot({ path: shot, timeout: 30_000 });
      console.error(`e2e: screenshot: ${shot}`);
    } catch (error) {
      console.error(`e2e: no screenshot: ${error.message}`);
    }
    const toasts = await notifications().catch(() => []);
    console.error(`e2e: notifications on screen: ${toasts.length ? toasts.map((t) => JSON.stringify(t)).join(', ') : 'none'}`);
  }
  console.error(`--- code-server log (last 40 lines of ${serverLog}) ---\n${tail(serverLog, 40)}`);
  for (const f of findFiles(dirs.userData, (n) => /Disco/.test(n) && n.endsWith('.log'))) {
    console.error(`--- ${f} (last 40 lines) ---\n${tail(f, 40)}`);
  }
  console.error(`e2e: kept ${tmp}`);
}
if (browser) await browser.close().catch(() => {});
await stopServer();
if (failed) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const f of findFiles(dirs.userData, (n) => /Disco/.test(n) && n.endsWith('.log'))) {
  log(`the extension's "Disco" output channel:\n${tail(f, 20).trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}`);
}
if (opts.keep) log(`kept ${tmp} (screenshot tree.png)`);
else fs.rmSync(tmp, { recursive: true, force: true });
log(`PASS: "${COMMAND}" opened ${TREE_TITLE}, a read-only JSON document with the semantic tree`);
console.log('1 passed, 0 failed');
// Nothing is left to wait for (an idle keep-alive socket would hold the process for seconds).
process.exit(0);
