#!/usr/bin/env bash
# Language servers at repository scale (issue 10). One run times each row under
# bench/lsp_peer.py's monitor (wall time, peak RSS of the client plus its servers) and counts
# the references to the project's own symbols each found (bench/lsp_scale.py: from Disco's
# records, or decoded from a SCIP index).
#
# python: the requests 2.32.3 sdist (34 .py files, 10,737 lines)
#   disco_full       disco tree --lsp full      (basedpyright; DISCO_BIN or this checkout's build)
#   disco_symbols    disco tree --lsp symbols
#   scip_python      scip-python index          (npm @sourcegraph/scip-python, built on pyright)
#   multilspy_full   bench/lsp_scale_peer.py: a multilspy (PyPI) client driving the same
#                    basedpyright-langserver with the requests --lsp full makes (refs counted
#                    from its definition answers as Disco's are)
# typescript: the src/ of the mobx 6.13.5 npm tarball (57 .ts files and a .d.ts, 8,339 lines;
# no dependencies; a tsconfig.json written here, as the tarball ships none)
#   disco_full       disco tree --lang typescript --lsp full   (typescript-language-server)
#   scip_typescript  scip-typescript index      (npm @sourcegraph/scip-typescript)
#
# Prints a table per language and the goals: full wall <= scip-python's, refs >=
# scip-python's, peak RSS < 500 MB, --lsp symbols at least 2x faster than a baseline binary;
# the same wall and refs comparisons against scip-typescript and against multilspy.
#
#   bench/lsp_scale.sh                       # builds the release binary if needed
#   DISCO_BIN=path/to/disco LANGS=typescript bench/lsp_scale.sh
#   BASELINE_BIN=path/to/old/disco bench/lsp_scale.sh
#
# Environment:
#   LANGS="python typescript"   the sections to run
#   REPS=1            timed repetitions (medians are reported)
#   DISCO_BIN         use this binary (no build); default $CARGO_TARGET_DIR/release/disco
#   BASELINE_BIN      also time this binary (the baseline rows, python)
#   CACHE             downloads and npm packages (default ~/.cache/disco/bench-lsp-scale)
#   DISCO_PY          a Python with psutil (default Disco's tools venv, from `make setup`)
#   DISCO_TOOLS       Disco's tools directory (basedpyright and typescript-language-server)
#   DISCO_BENCH_VENV  multilspy's venv, shared with bench/lsp.sh and installed the same way
#                     (default ~/.cache/disco/bench-venv; LSP_PEER_REQS as in bench/lsp.sh)
#   KEEP=1            keep the scratch folder
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
REPS=${REPS:-1}
LANGS=${LANGS:-python typescript}
CACHE=${CACHE:-$HOME/.cache/disco/bench-lsp-scale}
export DISCO_TOOLS=${DISCO_TOOLS:-$HOME/.cache/disco/tools}
py=${DISCO_PY:-$DISCO_TOOLS/pyvenv/bin/python}
VENV=${DISCO_BENCH_VENV:-$HOME/.cache/disco/bench-venv}
read -r -a peer_reqs <<<"${LSP_PEER_REQS:-multilspy jedi-language-server psutil}"
say() { printf '%s\n' "$*" >&2; }
want() { [[ " $LANGS " == *" $1 "* ]]; }

"$py" -c 'import psutil' 2>/dev/null || { say "$py has no psutil (make setup)"; exit 1; }
for lang in $LANGS; do
    [[ $lang == python || $lang == typescript ]] || { say "LANGS: unknown section $lang (python, typescript)"; exit 1; }
done

# --- the peers and the corpora, cached ---------------------------------------------------
mkdir -p "$CACHE/npm" "$CACHE/dl"
npm_peer() { # $1 = package@version, installed into $CACHE/npm once
    say "installing $1 into $CACHE/npm"
    (cd "$CACHE/npm" && npm i --no-audit --no-fund --loglevel=error "$1")
}
scip_python=$CACHE/npm/node_modules/.bin/scip-python
scip_typescript=$CACHE/npm/node_modules/.bin/scip-typescript
basedpyright=$DISCO_TOOLS/npm/node_modules/.bin/basedpyright-langserver
if want python; then
    [[ -x $scip_python ]] || npm_peer @sourcegraph/scip-python@0.6.6
    archive=$CACHE/dl/requests-2.32.3.tar.gz
    if [[ ! -f $archive ]]; then
        "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
            requests==2.32.3 -d "$CACHE/dl"
    fi
    # multilspy's venv, made as bench/lsp.sh makes it (packages installed only when missing).
    [[ -x $VENV/bin/python ]] || { say "creating the venv $VENV"; python3 -m venv "$VENV"; }
    peer_py=$VENV/bin/python
    if ! "$peer_py" -c 'import multilspy, psutil' 2>/dev/null; then
        say "installing ${peer_reqs[*]} into $VENV"
        "$peer_py" -m pip install -q --disable-pip-version-check "${peer_reqs[@]}"
    fi
    [[ -x $basedpyright ]] || { say "no $basedpyright (make setup)"; exit 1; }
fi
if want typescript; then
    [[ -x $scip_typescript ]] || npm_peer @sourcegraph/scip-typescript@0.4.0
    ts_archive=$CACHE/dl/mobx-6.13.5.tgz
    [[ -f $ts_archive ]] || (cd "$CACHE/dl" && npm pack --silent mobx@6.13.5 >/dev/null)
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
# Files and lines of the .$2 files under $1.
measure() { find "$1" -name "*.$2" -print0 | xargs -0 cat | wc -l | { read -r l; echo "$(find "$1" -name "*.$2" | wc -l) $l"; }; }
if want python; then
    tar -xzf "$archive" -C "$work"
    corpus=$work/requests-2.32.3
    read -r nfiles nlines < <(measure "$corpus" py)
    # Run in a copy: scip-python writes nothing into the project, but a copy keeps the
    # disco runs' view of it untouched either way.
    cp -r "$corpus" "$work/scip-proj"
fi
if want typescript; then
    # Only src/ (the tarball also has dist/ builds), with a tsconfig.json: the tarball has
    # none, and without @types/node tsc reports 3 errors (`global`, one TimerHandler); every
    # other name resolves.
    mkdir -p "$work/ts-pkg" "$work/mobx"
    tar -xzf "$ts_archive" -C "$work/ts-pkg"
    cp -r "$work/ts-pkg/package/src" "$work/mobx/src"
    printf '%s\n' '{' \
        '  "compilerOptions": {"target": "ESNext", "lib": ["ESNext", "DOM"], "module": "ESNext",' \
        '                      "moduleResolution": "node", "strict": false, "noEmit": true, "types": []},' \
        '  "include": ["src"]' '}' >"$work/mobx/tsconfig.json"
    ts_corpus=$work/mobx
    read -r ts_nfiles ts_nlines < <(measure "$ts_corpus/src" ts)
    cp -r "$ts_corpus" "$work/ts-scip-proj"
fi

# disco_full_capped: the same run with basedpyright's JavaScript heap capped at HEAP_MB, set in
# a catalog (a built-in server's entry need only say what it changes). Near the cap basedpyright
# empties its type cache instead of growing; a cap below a project's working set makes it
# crash (and be restarted), so Disco does not cap it by default.
HEAP_MB=${HEAP_MB:-320}
printf '[servers.basedpyright]\nenv = { NODE_OPTIONS = "--max-old-space-size=%s" }\n' "$HEAP_MB" >"$work/capped.toml"

# Each row of a section: a command, and how to count what it found.
rows_of() {
    case $1 in
        python)
            echo disco_full disco_full_capped disco_symbols scip_python multilspy_full
            if [[ -n ${BASELINE_BIN:-} ]]; then echo baseline_full baseline_symbols; fi
            ;;
        typescript) echo disco_full scip_typescript ;;
    esac
}
cmd_of() { # $1 = section, $2 = row
    local out=$work/$1.$2.out
    case $1/$2 in
        python/disco_full) echo "$work/disco tree $corpus --lang python --lsp full --quiet -o $out" ;;
        python/disco_full_capped) echo "$work/disco --catalog $work/capped.toml tree $corpus --lang python --lsp full --quiet -o $out" ;;
        python/disco_symbols) echo "$work/disco tree $corpus --lang python --lsp symbols --quiet -o $out" ;;
        python/baseline_full) echo "$work/baseline tree $corpus --lang python --lsp full --quiet -o $out" ;;
        python/baseline_symbols) echo "$work/baseline tree $corpus --lang python --lsp symbols --quiet -o $out" ;;
        python/scip_python) echo "$scip_python index --cwd $work/scip-proj --project-name requests --project-version 2.32.3 --output $out --quiet" ;;
        python/multilspy_full) echo "$peer_py $here/lsp_scale_peer.py $corpus --refs-out $work/$1.$2.refs -- $basedpyright --stdio" ;;
        typescript/disco_full) echo "$work/disco tree $ts_corpus --lang typescript --lsp full --quiet -o $out" ;;
        typescript/scip_typescript) echo "$scip_typescript index --cwd $work/ts-scip-proj --output $out --no-progress-bar" ;;
    esac
}
count_of() { # $1 = section, $2 = row
    case $2 in
        scip_*) "$py" "$here/lsp_scale.py" scip "$work/$1.$2.out" ;;
        multilspy_*) cat "$work/$1.$2.stdout" ;;
        *) "$py" "$here/lsp_scale.py" disco "$work/$1.$2.out" ;;
    esac
}

t_start=$(date +%s)
if want python; then say "python corpus: requests 2.32.3 sdist, $nfiles .py files, $nlines lines"; fi
if want typescript; then say "typescript corpus: mobx 6.13.5 src/, $ts_nfiles .ts files, $ts_nlines lines"; fi
say "load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= REPS; r++)); do
    for lang in $LANGS; do
        for row in $(rows_of "$lang"); do
            rm -f "$work/$lang.$row.out"
            # shellcheck disable=SC2046
            if ! "$py" "$here/lsp_peer.py" monitor --json "$work/mon.json" --stdout "$work/$lang.$row.stdout" \
                --stderr "$work/$lang.$row.log" -- $(cmd_of "$lang" "$row"); then
                say "FAILED: $lang $row: $(tail -n 5 "$work/$lang.$row.log")"
                exit 1
            fi
            printf '{"row": "%s", "monitor": %s, "result": %s}\n' "$row" "$(cat "$work/mon.json")" \
                "$(count_of "$lang" "$row")" >>"$work/runs.$lang.jsonl"
            say "  rep $r $lang $row: $(tail -n 1 "$work/runs.$lang.jsonl" | "$py" "$here/lsp_scale.py" line -)"
        done
    done
done
npm_version() { (cd "$1" && node -p "require('$2/package.json').version"); }
echo "lsp_scale: $REPS rep(s), medians; $(nproc) cores; load at the end $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$(($(date +%s) - t_start)) s of runs"
echo "disco: $("$work/disco" --version) ($disco)"
if want python; then
    echo
    echo "== python: requests 2.32.3 sdist ($nfiles .py files, $nlines lines)"
    echo "scip-python $(npm_version "$CACHE/npm" @sourcegraph/scip-python);" \
        "basedpyright $(npm_version "$DISCO_TOOLS/npm" basedpyright);" \
        "multilspy $("$peer_py" -c 'from importlib.metadata import version; print(version("multilspy"))')"
    "$py" "$here/lsp_scale.py" report "$work/runs.python.jsonl"
fi
if want typescript; then
    echo
    echo "== typescript: mobx 6.13.5 src/ ($ts_nfiles .ts files, $ts_nlines lines)"
    echo "scip-typescript $(npm_version "$CACHE/npm" @sourcegraph/scip-typescript);" \
        "typescript-language-server $(npm_version "$DISCO_TOOLS/npm" typescript-language-server);" \
        "typescript $(npm_version "$DISCO_TOOLS/npm" typescript)"
    "$py" "$here/lsp_scale.py" report "$work/runs.typescript.jsonl"
fi
echo
echo "srv cpu / cli cpu = CPU seconds of the client's descendants (the servers) / of the client itself (scip indexers: all in cli)."
echo "peak MB = peak RSS of the client plus the peak of its descendants' sum (the servers)."
echo "refs = distinct (file, position) references to symbols defined in the project (locals included)."
echo "multilspy_full asks one file at a time, in path order (a file's requests of one method together);"
echo "  disco works on several files at once (--jobs; at full, two per core by default)."
