#!/usr/bin/env bash
# Installs what the VS Code extension's end-to-end test (editors/vscode/e2e/run.mjs) needs, from
# the package registries only, idempotently, under $DISCO_TOOLS/e2e (default
# $HOME/.cache/disco/tools/e2e):
#   - Debian: chromium (driven headless), ripgrep (stands in for the rg binary that
#             @vscode/ripgrep would download), libkrb5-dev (headers for code-server's
#             `kerberos` native module), and the compilers node-gyp needs (build-essential, python3)
#   - npm:    code-server (a VS Code build served to a browser) -> $DISCO_TOOLS/e2e/code-server-<v>
#             Its install scripts download prebuilt binaries from outside the registries, so it is
#             installed with --ignore-scripts and then finished here: Debian's rg copied in, the
#             native modules rebuilt from source with `npm rebuild`, the links postinstall.sh makes.
#   - npm:    playwright-core (the browser driver; no browser download) -> $DISCO_TOOLS/e2e/driver
#   - npm:    the extension's own dev dependencies (editors/vscode: `npm ci`), to package the .vsix
# Silent when everything is already there; progress goes to stderr.
#
#   scripts/setup-e2e.sh          install what is missing
#   scripts/setup-e2e.sh --env    ... then print `export` lines the test reads (it finds them anyway)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TOOLS="${DISCO_TOOLS:-$HOME/.cache/disco/tools}"
E2E="$TOOLS/e2e"

# Exact versions, checked with `npm view`. code-server 4.100.x is the newest line that runs on
# Node 20 (its package.json says engines.node "20"); playwright-core drives Debian's chromium.
CS_VERSION=4.100.3
PW_VERSION=1.65.1
CS_DIR="$E2E/code-server-$CS_VERSION"
DRIVER_DIR="$E2E/driver"
# Bump when the steps below change, so that an older install is redone.
RECIPE=1

mode="${1:-}"
case "$mode" in
  ""|--env) ;;
  *) echo "usage: $0 [--env]" >&2; exit 2 ;;
esac

SAY_AS=setup-e2e
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# --- Node ------------------------------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "node and npm are required (Node 20)"; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 20 ]; then
  # code-server's native modules are built for the Node that runs it, and 4.100 wants Node 20.
  say "code-server $CS_VERSION needs Node 20 (found $(node --version))"; exit 1
fi

# --- Debian packages -------------------------------------------------------------------------------
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
apt_missing=()
for pkg in chromium ripgrep libkrb5-dev build-essential python3; do
  installed "$pkg" || apt_missing+=("$pkg")
done
if [ "${#apt_missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get update
  quietly apt-get install -y "${apt_missing[@]}"
fi
[ -x /usr/bin/chromium ] || { say "/usr/bin/chromium is missing after installing chromium"; exit 1; }
[ -x /usr/bin/rg ] || { say "/usr/bin/rg is missing after installing ripgrep"; exit 1; }

# --- code-server -----------------------------------------------------------------------------------
cs_stamp="$CS_DIR/.disco-e2e"
cs_want="code-server $CS_VERSION recipe $RECIPE node $(node --version)"
if [ "$(cat "$cs_stamp" 2>/dev/null)" != "$cs_want" ]; then
  say "installing code-server $CS_VERSION into $CS_DIR (builds native modules: about a minute)"
  mkdir -p "$E2E"
  work="$E2E/.code-server-$CS_VERSION.tmp"
  rm -rf "$work"
  mkdir -p "$work"
  # `npm pack` fetches the registry's tarball as it is, without running anything.
  quietly npm pack --silent --pack-destination "$work" "code-server@$CS_VERSION"
  tar -xzf "$work/code-server-$CS_VERSION.tgz" -C "$work"
  rm -f "$work/code-server-$CS_VERSION.tgz"
  pkg="$work/package"
  npm_i=(npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  # code-server's own dependencies (pinned by its npm-shrinkwrap.json); argon2 is native.
  (cd "$pkg" && quietly "${npm_i[@]}" && quietly npm rebuild argon2)
  # VS Code's server dependencies. @vscode/ripgrep's install script would download rg: give it
  # Debian's instead (it skips the download when bin/rg exists), then build the native modules
  # (kerberos, node-pty, @vscode/spdlog, native-watchdog, ...) against this Node's headers.
  (
    cd "$pkg/lib/vscode"
    quietly "${npm_i[@]}"
    mkdir -p node_modules/@vscode/ripgrep/bin
    cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
    # node-pty's postinstall runs `npx node-gyp ...`, which asks before fetching node-gyp from
    # the registry: say yes.
    npm_config_yes=true quietly npm rebuild
    # What code-server's postinstall.sh does after installing.
    rm -rf node_modules.asar && ln -s node_modules node_modules.asar
    ln -sfn code-linux.sh bin/remote-cli/code-server
    ln -sfn browser-linux.sh bin/helpers/browser.sh
  )
  # The built-in extensions' shared dependency (typescript, trimmed by its own postinstall).
  (cd "$pkg/lib/vscode/extensions" && quietly npm install --omit=dev --no-audit --no-fund --loglevel=error)
  # It must start and load its native modules.
  quietly node "$pkg/out/node/entry.js" --version
  (cd "$pkg/lib/vscode" && quietly node --input-type=module -e '
    import { createRequire } from "module";
    const require = createRequire(process.cwd() + "/package.json");
    for (const m of ["@vscode/spdlog", "node-pty", "native-watchdog", "kerberos", "@parcel/watcher"]) require(m);
  ')
  rm -rf "$CS_DIR"
  mv "$pkg" "$CS_DIR"
  rm -rf "$work"
  echo "$cs_want" > "$cs_stamp"
fi

# --- playwright-core -------------------------------------------------------------------------------
if [ "$(cat "$DRIVER_DIR/.disco-e2e" 2>/dev/null)" != "playwright-core $PW_VERSION" ] \
   || [ ! -f "$DRIVER_DIR/node_modules/playwright-core/package.json" ]; then
  say "installing playwright-core $PW_VERSION into $DRIVER_DIR"
  mkdir -p "$DRIVER_DIR"
  # --ignore-scripts: no browser download; the test drives Debian's chromium.
  quietly npm install --prefix "$DRIVER_DIR" --save-exact --ignore-scripts --no-audit --no-fund \
    --loglevel=error "playwright-core@$PW_VERSION"
  echo "playwright-core $PW_VERSION" > "$DRIVER_DIR/.disco-e2e"
fi

# --- the extension's dev dependencies (to package disco-vscode.vsix) -------------------------------
ext="$REPO/editors/vscode"
# npm writes node_modules/.package-lock.json last: newer than the lock means installed from it.
if [ ! -x "$ext/node_modules/.bin/vsce" ] \
   || ! [ "$ext/node_modules/.package-lock.json" -nt "$ext/package-lock.json" ]; then
  say "installing the extension's dev dependencies (npm ci in editors/vscode)"
  (cd "$ext" && quietly npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$mode" = "--env" ]; then
  echo "export DISCO_E2E_CODE_SERVER=$CS_DIR/out/node/entry.js"
  echo "export DISCO_E2E_PLAYWRIGHT=$DRIVER_DIR/node_modules/playwright-core"
  echo "export DISCO_E2E_CHROMIUM=/usr/bin/chromium"
fi
