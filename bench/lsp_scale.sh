#!/usr/bin/env bash
# Language servers at repository scale (issue 10): the requests 2.32.3 sdist (34 .py files,
# 10,737 lines) through
#
#   disco tree --lsp full      (basedpyright; this checkout's release build)
#   disco tree --lsp symbols
#   scip-python index          (npm @sourcegraph/scip-python, the SCIP indexer built on pyright)
#
# in one run, each under bench/lsp_peer.py's monitor: wall time, peak RSS (the client plus
# its servers) and the number of references to the project's own symbols each found
# (bench/lsp_scale.py decodes the SCIP index to count them). Prints ratios and the goals:
# full wall <= scip-python's, refs >= scip-python's, peak RSS < 500 MB, and --lsp symbols
# at least 2x faster than a baseline binary.
#
#   bench/lsp_scale.sh                       # builds the release binary if needed
#   BASELINE_BIN=path/to/old/disco bench/lsp_scale.sh
#
# Environment:
#   REPS=1            timed repetitions (medians are reported)
#   DISCO_BIN         use this binary (no build); default $CARGO_TARGET_DIR/release/disco
#   BASELINE_BIN      also time this binary (the baseline rows)
#   CACHE             downloads and npm packages (default ~/.cache/disco/bench-lsp-scale)
#   DISCO_PY          a Python with psutil (default Disco's tools venv, from `make setup`)
#   DISCO_TOOLS       Disco's tools directory (basedpyright comes from there)
#   KEEP=1            keep the scratch folder
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
REPS=${REPS:-1}
CACHE=${CACHE:-$HOME/.cache/disco/bench-lsp-scale}
export DISCO_TOOLS=${DISCO_TOOLS:-$HOME/.cache/disco/tools}
py=${DISCO_PY:-$DISCO_TOOLS/pyvenv/bin/python}
say() { printf '%s\n' "$*" >&2; }

"$py" -c 'import psutil' 2>/dev/null || { say "$py has no psutil (make setup)"; exit 1; }

# --- the peers and the corpus, cached ------------------------------------------------------
mkdir -p "$CACHE/npm" "$CACHE/dl"
scip_python=$CACHE/npm/node_modules/.bin/scip-python
if [[ ! -x $scip_python ]]; then
    say "installing @sourcegraph/scip-python into $CACHE/npm"
    (cd "$CACHE/npm" && npm i --no-audit --no-fund --loglevel=error @sourcegraph/scip-python@0.6.6)
fi
archive=$CACHE/dl/requests-2.32.3.tar.gz
if [[ ! -f $archive ]]; then
    "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        requests==2.32.3 -d "$CACHE/dl"
fi

if [[ -n ${DISCO_BIN:-} ]]; then
    disco=$DISCO_BIN
else
    disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
    [[ $disco == /* ]] || disco=$repo/$disco
    if [[ ! -x $disco ]] || [[ -n $(find "$repo/src" -newer "$disco" -print -quit) ]]; then
        say "building disco (cargo build --release)"
        (cd "$repo" && cargo build --release --quiet)
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/disco-lsp-scale.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then say "scratch folder kept: $work"; else trap 'rm -rf "$work"' EXIT; fi
cp "$disco" "$work/disco"
[[ -n ${BASELINE_BIN:-} ]] && cp "$BASELINE_BIN" "$work/baseline"
tar -xzf "$archive" -C "$work"
corpus=$work/requests-2.32.3
read -r nfiles nlines < <(find "$corpus" -name '*.py' -print0 | xargs -0 cat | wc -l | { read -r l; echo "$(find "$corpus" -name '*.py' | wc -l) $l"; })

# Each row: a command, and how to count what it found.
rows=(disco_full disco_symbols scip_python)
[[ -n ${BASELINE_BIN:-} ]] && rows+=(baseline_full baseline_symbols)
cmd_of() {
    local out=$work/$1.out
    case $1 in
        disco_full) echo "$work/disco tree $corpus --lang python --lsp full --quiet -o $out" ;;
        disco_symbols) echo "$work/disco tree $corpus --lang python --lsp symbols --quiet -o $out" ;;
        baseline_full) echo "$work/baseline tree $corpus --lang python --lsp full --quiet -o $out" ;;
        baseline_symbols) echo "$work/baseline tree $corpus --lang python --lsp symbols --quiet -o $out" ;;
        # Run in a copy: scip-python writes nothing into the project, but a copy keeps the
        # disco runs' view of it untouched either way.
        scip_python) echo "$scip_python index --cwd $work/scip-proj --project-name requests --project-version 2.32.3 --output $out --quiet" ;;
    esac
}
count_of() {
    case $1 in
        scip_python) "$py" "$here/lsp_scale.py" scip "$work/$1.out" ;;
        *) "$py" "$here/lsp_scale.py" disco "$work/$1.out" ;;
    esac
}

cp -r "$corpus" "$work/scip-proj"
say "corpus: requests 2.32.3 sdist, $nfiles .py files, $nlines lines; load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= REPS; r++)); do
    for row in "${rows[@]}"; do
        rm -f "$work/$row.out"
        # shellcheck disable=SC2046
        if ! "$py" "$here/lsp_peer.py" monitor --json "$work/mon.json" --stderr "$work/$row.log" -- $(cmd_of "$row"); then
            say "FAILED: $row: $(tail -n 5 "$work/$row.log")"
            exit 1
        fi
        printf '{"row": "%s", "monitor": %s, "result": %s}\n' "$row" "$(cat "$work/mon.json")" "$(count_of "$row")" >>"$work/runs.jsonl"
        say "  rep $r $row: $(tail -n 1 "$work/runs.jsonl" | "$py" "$here/lsp_scale.py" line -)"
    done
done
echo "lsp_scale: requests 2.32.3 sdist ($nfiles .py files, $nlines lines); $REPS rep(s), medians;" \
    "$(nproc) cores; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "disco: $("$work/disco" --version) ($disco); scip-python $(cd "$CACHE/npm" && node -p 'require("@sourcegraph/scip-python/package.json").version')"
"$py" "$here/lsp_scale.py" report "$work/runs.jsonl"
echo "srv cpu / cli cpu = CPU seconds of the client's descendants (the servers) / of the client itself (scip-python: all in cli)."
echo "peak MB = peak RSS of the client plus the peak of its descendants' sum (the servers)."
echo "refs = distinct (file, position) references to symbols defined in the project (locals included)."
