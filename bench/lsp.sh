#!/usr/bin/env bash
# Benchmark of Disco's language-server client against multilspy (PyPI), both driving the same
# jedi-language-server binary with the same requests on the same files, in the same run:
# for every .py file, textDocument/documentSymbol, then textDocument/hover at the
# selection start of every symbol it returned.
#
#   disco tree CORPUS --lsp symbols --lsp-only textDocument/documentSymbol,textDocument/hover
#   bench/lsp_peer.py CORPUS              (multilspy's SyncLanguageServer, one request at a time)
#
# Corpus: the .py files of a real PyPI sdist (requests 2.32.3 by default), downloaded with
# pip and copied (only the .py files, sorted, no ignore files around) into a scratch folder.
#
# Each command runs under `lsp_peer.py monitor`, which polls its process tree every 50 ms:
# wall time, CPU seconds of the language server(s) (every descendant of the client) and of
# the client itself (its exact rusage total minus the descendants). One untimed warm-up run
# of each command goes first; for disco and the sync peer it runs the server behind a
# counting proxy, so that the report can show the requests each side really sent.
#
#   bench/lsp.sh                       # builds target/release/disco if needed, 3 reps
#   REPS=5 DISCO_BIN=path/to/disco bench/lsp.sh
#
# Environment:
#   REPS=3               timed repetitions of each command (medians are reported)
#   DISCO_LSP_JOBS=4     disco's --jobs, and the async peer's files in flight
#   DISCO_BIN            use this binary (no build); default target/release/disco, built with
#                        `cargo build --release --quiet` when missing or older than src/
#   DISCO_BENCH_VENV     the peer's venv (default ~/.cache/disco/bench-venv; shared with
#                        bench/tree.sh, packages are only added to it)
#   LSP_PEER_REQS        pip requirements of the venv (default: multilspy jedi-language-server psutil)
#   CORPUS_SDIST         pip requirement of the corpus sdist (default requests==2.32.3; click==8.1.7
#                        is tried when that cannot be downloaded)
#   CORPUS_DIR           use the .py files under this folder instead of downloading an sdist
#   EXTRA_ROWS=1         also time `multilspy async` (hovers of a file sent together,
#                        DISCO_LSP_JOBS files in flight), `disco --jobs 1` and `disco tree
#                        --lsp none` (disco's syntax-only cost); 0 to skip them
#   KEEP=1               keep the scratch folder (corpus, outputs, logs)
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
REPS=${REPS:-3}
JOBS=${DISCO_LSP_JOBS:-4}
VENV=${DISCO_BENCH_VENV:-$HOME/.cache/disco/bench-venv}
read -r -a peer_reqs <<<"${LSP_PEER_REQS:-multilspy jedi-language-server psutil}"
ONLY=textDocument/documentSymbol,textDocument/hover

say() { printf '%s\n' "$*" >&2; }

# --- the venv (idempotent: packages are installed only when one cannot be imported) --------
if [[ ! -x $VENV/bin/python ]]; then
    say "creating the venv $VENV"
    python3 -m venv "$VENV"
fi
py=$VENV/bin/python
if ! "$py" -c 'import multilspy, jedi_language_server, psutil' 2>/dev/null ||
    [[ ! -x $VENV/bin/jedi-language-server ]]; then
    say "installing ${peer_reqs[*]} into $VENV"
    "$py" -m pip install -q --disable-pip-version-check "${peer_reqs[@]}"
fi
server=$VENV/bin/jedi-language-server
[[ -x $server ]] || { say "no jedi-language-server in $VENV/bin"; exit 1; }
versions=$("$py" -c '
import platform
from importlib.metadata import version
print(", ".join(f"{p} {version(p)}" for p in ("jedi-language-server", "jedi", "pygls", "multilspy", "psutil")) + f"; Python {platform.python_version()}", end="")')
server_version=$("$server" --version 2>/dev/null | head -n 1 || true)
# multilspy starts `config.server_binary or "jedi-language-server"` (found on PATH); the peer
# passes server_binary=$server, disco's catalog names the same path: one binary for both.

work=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-lsp.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    say "scratch folder kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

# --- the binary -----------------------------------------------------------------------------
if [[ -n ${DISCO_BIN:-} ]]; then
    disco=$DISCO_BIN
else
    disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
    [[ $disco == /* ]] || disco=$repo/$disco
    if [[ ! -x $disco ]] || [[ -n $(find "$repo/src" -newer "$disco" -print -quit) ]]; then
        say "building disco (cargo build --release --quiet); this can take several minutes"
        (cd "$repo" && cargo build --release --quiet)
        built_now=1
    fi
fi
[[ -x $disco ]] || { say "no disco binary at $disco"; exit 1; }
if ! "$disco" tree --help 2>/dev/null | grep -q -- '--lsp-only'; then
    say "$disco has no \`tree --lsp-only\`: rebuild it (or point DISCO_BIN at a newer one)"
    exit 1
fi
disco_version=$("$disco" --version 2>/dev/null | head -n 1 || true)
disco_built=$(date -u -r "$disco" '+%Y-%m-%d %H:%M UTC')
disco_src=$disco
# A private copy: a rebuild of target/release while the benchmark runs cannot swap it.
cp "$disco" "$work/disco" && disco=$work/disco

# --- the corpus -------------------------------------------------------------------------------
corpus=$work/corpus
if [[ -n ${CORPUS_DIR:-} ]]; then
    src=$CORPUS_DIR
    corpus_name=$CORPUS_DIR
else
    corpus_name=
    for spec in ${CORPUS_SDIST:-requests==2.32.3 click==8.1.7}; do
        rm -rf "$work/dl" && mkdir -p "$work/dl"
        if "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: "$spec" -d "$work/dl" >"$work/pip.log" 2>&1; then
            archive=$(find "$work/dl" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' \) | head -n 1)
            if [[ -n $archive ]]; then
                mkdir -p "$work/sdist"
                "$py" -c 'import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2])' "$archive" "$work/sdist"
                corpus_name="$spec sdist ($(basename "$archive"))"
                break
            fi
        fi
        say "could not download $spec: $(tail -n 1 "$work/pip.log")"
    done
    [[ -n $corpus_name ]] || { say "no corpus sdist could be downloaded"; exit 1; }
    src=$work/sdist
fi
read -r nfiles nlines nbytes < <("$py" - "$src" "$corpus" <<'EOF'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
top = [e for e in os.listdir(src)]
if len(top) == 1 and os.path.isdir(os.path.join(src, top[0])):
    src = os.path.join(src, top[0])  # an sdist unpacks into one folder: start inside it
n = lines = size = 0
for d, dirs, files in os.walk(src):
    dirs[:] = sorted(x for x in dirs if not x.startswith("."))
    for f in sorted(files):
        p = os.path.join(d, f)
        if f.endswith(".py") and not f.startswith(".") and os.path.isfile(p) and not os.path.islink(p):
            rel = os.path.relpath(p, src)
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copyfile(p, os.path.join(dst, rel))
            data = open(p, "rb").read()
            n, size, lines = n + 1, size + len(data), lines + data.count(b"\n")
print(n, lines, size)
EOF
)
[[ $nfiles -gt 0 ]] || { say "no .py files under $src"; exit 1; }

# --- catalogs and commands ----------------------------------------------------------------------
toml_str() { "$py" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
cat >"$work/disco.toml" <<EOF
[servers.jedi]
command = [$(toml_str "$server")]
languages = ["python"]
EOF
# The counting run: the same server behind lsp_peer.py's proxy (a single executable, since
# multilspy's server_binary is one path).
cat >"$work/counted-server" <<EOF
#!/bin/sh
exec "$py" "$here/lsp_peer.py" proxy --count "\$DISCO_BENCH_COUNT" -- "$server" "\$@"
EOF
chmod +x "$work/counted-server"
cat >"$work/disco-counted.toml" <<EOF
[servers.jedi]
command = [$(toml_str "$work/counted-server")]
languages = ["python"]
EOF

disco_args=(tree "$corpus" --lang python --lsp symbols --lsp-only "$ONLY" --quiet)
rows=(disco peer_sync)
labels=("disco --jobs $JOBS" "multilspy sync (primary peer)")
if [[ ${EXTRA_ROWS:-1} != 0 ]]; then
    rows+=(peer_async)
    labels+=("multilspy async, $JOBS files in flight")
    if [[ $JOBS != 1 ]]; then
        rows+=(disco_j1)
        labels+=("disco --jobs 1")
    fi
    rows+=(disco_syntax)
    labels+=("disco --lsp none (syntax only)")
fi
# Prints the command of row $1; $2 = catalog (disco) or server (peer), $3 = per-file output.
cmd_of() {
    case $1 in
        disco) printf '%q ' "$disco" "${disco_args[@]}" --jobs "$JOBS" --catalog "$2" -o "$work/disco.jsonl" ;;
        disco_j1) printf '%q ' "$disco" "${disco_args[@]}" --jobs 1 --catalog "$2" -o "$work/disco_j1.jsonl" ;;
        disco_syntax) printf '%q ' "$disco" tree "$corpus" --lang python --lsp none --quiet --jobs "$JOBS" --catalog "$work/disco.toml" -o "$work/syntax.jsonl" ;;
        peer_sync) printf '%q ' "$py" "$here/lsp_peer.py" "$corpus" --server "$2" -o "$3" ;;
        peer_async) printf '%q ' "$py" "$here/lsp_peer.py" "$corpus" --server "$2" --mode async --concurrency "$JOBS" -o "$3" ;;
    esac
}

# Runs row $1 under the monitor; $2 = tag. Appends {row, rep, monitor, result} to runs.jsonl.
run() {
    local row=$1 tag=$2 cat=$work/disco.toml srv=$server cmd result
    if [[ $tag == count ]]; then
        cat=$work/disco-counted.toml
        srv=$work/counted-server
    fi
    case $row in
        disco*) cmd=$(cmd_of "$row" "$cat") ;;
        *) cmd=$(cmd_of "$row" "$srv" "$work/$row.per-file.jsonl") ;;
    esac
    export DISCO_BENCH_COUNT=$work/count.$row.json
    rm -f "$DISCO_BENCH_COUNT"
    if ! eval "$(printf '%q ' "$py" "$here/lsp_peer.py" monitor --json "$work/mon.json" \
        --stdout "$work/$row.out" --stderr "$work/$row.$tag.log") -- $cmd"; then
        say "FAILED ($row, $tag): $cmd"
        tail -n 30 "$work/$row.$tag.log" >&2
        exit 1
    fi
    case $row in
        disco) result=$("$py" "$here/lsp_peer.py" disco-summary "$work/disco.jsonl" --root "$corpus" -o "$work/disco.per-file.jsonl") ;;
        disco_j1) result=$("$py" "$here/lsp_peer.py" disco-summary "$work/disco_j1.jsonl" --root "$corpus") ;;
        disco_syntax) result=$("$py" "$here/lsp_peer.py" disco-summary "$work/syntax.jsonl" --root "$corpus") ;;
        *) result=$(cat "$work/$row.out") ;;
    esac
    printf '{"row": "%s", "rep": "%s", "monitor": %s, "result": %s}\n' "$row" "$tag" "$(cat "$work/mon.json")" "$result" >>"$work/runs.$tag.jsonl"
}

say "corpus: $corpus_name: $nfiles .py files, $nlines lines, $nbytes bytes"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "warm-up (untimed; disco and the sync peer through the counting proxy)"
for row in "${rows[@]}"; do
    case $row in disco | peer_sync) run "$row" count ;; *) run "$row" warmup ;; esac
done
"$py" - "$work" <<'EOF' >"$work/counts.json"
import json, os, sys
w = sys.argv[1]
out = {}
for row in ("disco", "peer_sync"):
    p = os.path.join(w, f"count.{row}.json")
    out[row] = json.load(open(p)) if os.path.exists(p) else {}
print(json.dumps(out))
EOF

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= REPS; r++)); do
    say "rep $r/$REPS"
    for row in "${rows[@]}"; do
        run "$row" timed
        say "  $row: $("$py" -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]["monitor"]
w, s, c = m["wall_s"], m["server_cpu_s"], m["client_cpu_s"]
print(f"{w:.2f} s wall, server {s:.2f} s CPU, client {c:.2f} s CPU")' "$work/runs.timed.jsonl")"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------------------------
rows_json=$("$py" -c 'import json, sys; n = len(sys.argv) // 2; print(json.dumps(list(zip(sys.argv[1:n + 1], sys.argv[n + 1:]))))' "${rows[@]}" "${labels[@]}")
printf '%s' "$rows_json" >"$work/rows.json"
cpu_model=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
"$py" "$here/lsp_peer.py" report --runs "$work/runs.timed.jsonl" --rows "$work/rows.json" --counts "$work/counts.json" \
    --compare "$work/disco.per-file.jsonl" "$work/peer_sync.per-file.jsonl" \
    --header "disco LSP client benchmark: disco vs multilspy, same server, same requests" \
    --header "  corpus: $corpus_name: $nfiles .py files, $nlines lines, $nbytes bytes" \
    --header "  requests: per file textDocument/documentSymbol, then textDocument/hover at each symbol's selection start" \
    --header "  server: $server ($server_version); $versions" \
    --header "  disco: ${disco_version:-unknown version} ($disco_src, built $disco_built; git $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?'))" \
    --header "  $REPS timed reps after one warm-up, medians; $(nproc) cores, ${cpu_model:-unknown CPU}" \
    --header "  load average: $load_before before the warm-up, $load_start at the start of the timed runs, $load_end at the end" \
    --header "$(awk -v l="${load_before%% *}" -v b="${built_now:-}" 'BEGIN { if (l + 0 > 0.7) printf "  WARNING: the machine was busy before the warm-up (1-minute load %s%s): wall times may be inflated and noisy; CPU seconds much less so", l, b ? ", partly this script'"'"'s own cargo build" : "" }')"
"$py" - "$work/runs.timed.jsonl" <<'EOF'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
last = {}
for r in runs:
    last[r["row"]] = r
print()
print("  processes under each client (from the monitor):")
for row, r in last.items():
    d = r["monitor"]["descendants"]
    print(f"    {row}: " + ("; ".join(d) if d else "(none)"))
    if r["monitor"].get("leaked"):
        print(f"      LEAKED after exit: {r['monitor']['leaked']}")
for row, r in last.items():
    res = r["result"]
    if res.get("server_status"):
        print(f"  {row}: per-file server status {res['server_status']}" + (f"; errors {res['errors']}" if res.get("errors") else ""))
    if res.get("error_samples"):
        print(f"  {row}: {res['errors']} failed requests, e.g. {res['error_samples'][0]}")
EOF
cat <<EOF

columns: wall s = median wall time of the whole process (start-up, server start and
  initialize, requests, shutdown); req = documentSymbol + hover requests the client sent
  (counted by the proxy in the warm-up run); srv cpu s = CPU seconds of every descendant of
  the client (jedi-language-server and the jedi inference subprocess it starts); srv busy =
  srv cpu s / wall s; cli cpu s = the client process's own CPU seconds (children excluded);
  cli/srv cpu = cli cpu s / srv cpu s; MB = peak resident memory (server: sum of descendants).
notes:
  - disco also parses every file with tree-sitter and writes full records (the
    \`disco --lsp none\` row is that part alone); multilspy only talks LSP.
  - disco waits for the server to be quiet for 0.5 s after initialize before the first
    request; multilspy sends requests as soon as initialize has returned. multilspy's
    shutdown sleeps 0.5 s after the server has exited.
  - disco keeps up to 16 requests in flight per server and sends a file's hovers together
    (and --jobs files at once); multilspy's sync API waits for each answer before the next
    request, and each call hops to its event-loop thread and back.
  - jedi-language-server answers one request at a time, so a client's concurrency only
    helps by keeping the server's queue full; with srv busy near 100% neither client can
    go faster (the server is the bottleneck, not the client).
  - the requests are the same on both sides (checked by the proxy above); only their order and
    overlap differ. jedi's CPU per request depends on that (with --jobs > 1 disco interleaves
    files), so compare the srv cpu s column too, and \`disco --jobs 1\` against the sync peer
    for a like-for-like order.
  - multilspy's initialize sends VS Code's capabilities and rust-analyzer's
    initializationOptions (jedi ignores them); disco sends its own; both ask for
    hierarchical document symbols, and jedi answers both with the same symbols.
  - multilspy raises AssertionError when documentSymbol returns null (jedi does for an
    empty file, e.g. an empty __init__.py); the request is still counted as issued.
commands (timed as the wall time of the whole process, under the monitor; $work/disco is
a copy of $disco_src made at the start):
EOF
for row in "${rows[@]}"; do
    case $row in
        disco*) printf '  %s\n' "$(cmd_of "$row" "$work/disco.toml")" ;;
        *) printf '  %s\n' "$(cmd_of "$row" "$server" "$work/$row.per-file.jsonl")" ;;
    esac
done
printf '  catalog %s:\n' "$work/disco.toml"
sed 's/^/    /' "$work/disco.toml"
