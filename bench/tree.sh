#!/usr/bin/env bash
# Benchmark of `disco tree --lsp none` against a named peer measured in the same run: the
# Python bindings of tree-sitter doing the same job (bench/tree_peer.py), plus disco's own
# `--parse-only` limit (list, read and parse the same files, serialise nothing).
#
# Corpus: this machine's Python standard library (*.py files only), copied into a scratch
# folder first so that both sides see exactly the same files: no symlinks, no ignore files
# around it (pyenv's own .gitignore lists `/versions`, which would hide a pyenv stdlib from
# disco's ignore-aware listing), no site-packages (third-party code that differs per machine).
#
#   bench/tree.sh                  # builds target/release/disco, 5 reps of everything
#   REPS=3 DISCO_BIN=path/to/disco bench/tree.sh
#
# Environment:
#   REPS=5                 timed repetitions of each command (after one untimed warm-up run)
#   JOBS=2                 --jobs for disco and for the peer's parallel run
#   DISCO_BIN              use this binary instead of building target/release/disco
#   DISCO_EXTRA_ARGS       extra arguments for both disco commands (word-split)
#   DISCO_BENCH_VENV       the peer's venv (default ~/.cache/disco/bench-venv)
#   CORPUS_SRC             corpus source folder (default: the stdlib of `python3`)
#   CORPUS_KEEP_SITE=1     keep site-packages/dist-packages found directly under CORPUS_SRC
#   PEER_PARSE_ONLY=0      skip the extra row "python peer --parse-only"
#   TABLES=0               skip the rows of the tables (--format parquet, delta, a delta rerun)
#   ALLOW_MISMATCH=1       report figures even if disco and the peer wrote different line counts
#   KEEP=1                 keep the scratch folder (corpus copy and outputs)
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
REPS=${REPS:-5}
JOBS=${JOBS:-2}
VENV=${DISCO_BENCH_VENV:-$HOME/.cache/disco/bench-venv}
PEER_REQS=("tree-sitter==0.26.*" "tree-sitter-python==0.25.*")
read -r -a disco_extra <<<"${DISCO_EXTRA_ARGS:-}"

say() { printf '%s\n' "$*" >&2; }
[[ -x /usr/bin/time ]] || { say "GNU time (/usr/bin/time, Debian package time) is needed for peak RSS"; exit 1; }

# --- the peer's venv (idempotent: rebuilt only when missing or its pins changed) ----------
stamp="$VENV/.disco-bench-reqs"
if [[ ! -x $VENV/bin/python || "$(cat "$stamp" 2>/dev/null)" != "${PEER_REQS[*]}" ]] ||
    ! "$VENV/bin/python" -c 'import tree_sitter, tree_sitter_python' 2>/dev/null; then
    say "setting up the peer's venv in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PEER_REQS[@]}"
    printf '%s\n' "${PEER_REQS[*]}" >"$stamp"
fi
py=$VENV/bin/python
peer_versions=$("$py" -c '
from importlib.metadata import version
print(", ".join(f"{p} {version(p)}" for p in ("tree-sitter", "tree-sitter-python")), end="")')

# --- the binary ---------------------------------------------------------------------------
if [[ -n ${DISCO_BIN:-} ]]; then
    disco=$DISCO_BIN
else
    say "building disco (cargo build --release)"
    (cd "$repo" && cargo build --release --quiet)
    disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
    [[ $disco == /* ]] || disco=$repo/$disco
fi
[[ -x $disco ]] || { say "no disco binary at $disco"; exit 1; }
disco_version=$("$disco" --version 2>/dev/null | head -n 1 || true)

# --- the corpus ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-tree.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    say "scratch folder kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi
corpus=$work/corpus
src=${CORPUS_SRC:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')}
pyver=$(python3 -c 'import platform; print(platform.python_version())')
if [[ -n ${CORPUS_SRC:-} ]]; then corpus_name=$src; else corpus_name="Python $pyver stdlib ($src)"; fi

# Copies every regular *.py file (symlinks not followed) and prints: files bytes hidden.
staged=$("$py" - "$src" "$corpus" "${CORPUS_KEEP_SITE:-0}" <<'EOF'
import os, shutil, sys
src, dst, keep_site = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
n = size = hidden = 0
stack = [""]
while stack:
    rel_dir = stack.pop()
    with os.scandir(os.path.join(src, rel_dir)) as it:
        for e in it:
            rel = os.path.join(rel_dir, e.name)
            if e.is_dir(follow_symlinks=False):
                if not keep_site and rel_dir == "" and e.name in ("site-packages", "dist-packages"):
                    continue
                stack.append(rel)
            elif e.name.endswith(".py") and e.is_file(follow_symlinks=False):
                os.makedirs(os.path.join(dst, rel_dir), exist_ok=True)
                shutil.copyfile(e.path, os.path.join(dst, rel))
                n += 1
                size += e.stat(follow_symlinks=False).st_size
                hidden += any(p.startswith(".") for p in rel.split(os.sep))
print(n, size, hidden)
EOF
)
read -r nfiles nbytes nhidden <<<"$staged"
[[ $nfiles -gt 0 ]] || { say "no .py files under $src"; exit 1; }
if [[ $nhidden -gt 0 ]]; then
    say "warning: $nhidden files have a hidden path component; disco lists hidden files only when asked"
    say "         (pass its flag for that through DISCO_EXTRA_ARGS); the line counts are checked below"
fi
d=$work
while [[ $d != / ]]; do
    d=$(dirname "$d")
    for f in .gitignore .ignore; do
        if [[ -e $d/$f ]]; then
            say "warning: $d/$f may hide files from disco's listing; the line counts are checked below"
        fi
    done
done

# --- the commands -------------------------------------------------------------------------
out_disco=$work/disco.jsonl
out_peer=$work/peer.jsonl
common=(tree "$corpus" --lsp none --lang python --include '**/*.py' --jobs "$JOBS" "${disco_extra[@]}")
names=(disco_tree disco_parse peer_j$JOBS peer_j1)
labels=("disco tree --jobs $JOBS" "disco tree --parse-only --jobs $JOBS" "python peer --jobs $JOBS" "python peer --jobs 1")
cmds=(
    "$(printf '%q ' "$disco" "${common[@]}" -o "$out_disco")"
    "$(printf '%q ' "$disco" "${common[@]}" --parse-only)"
    "$(printf '%q ' "$py" "$here/tree_peer.py" "$corpus" --jobs "$JOBS" -o "$out_peer")"
    "$(printf '%q ' "$py" "$here/tree_peer.py" "$corpus" --jobs 1 -o "$out_peer")"
)
if [[ ${PEER_PARSE_ONLY:-1} != 0 ]]; then
    names+=(peer_parse)
    labels+=("python peer --parse-only --jobs $JOBS")
    cmds+=("$(printf '%q ' "$py" "$here/tree_peer.py" "$corpus" --jobs "$JOBS" --parse-only)")
fi
# The relational form (every table) as Parquet folders and as Delta tables, each written
# from scratch (the folder is removed first); and a Delta rerun over the unchanged corpus.
if [[ ${TABLES:-1} != 0 ]]; then
    names+=(disco_parquet disco_delta disco_delta_rerun)
    labels+=("disco tree --format parquet --jobs $JOBS" "disco tree --format delta --jobs $JOBS"
        "disco tree --format delta, rerun (unchanged)")
    cmds+=(
        "rm -rf $(printf '%q' "$work/pq") && $(printf '%q ' "$disco" "${common[@]}" --format parquet -o "$work/pq")"
        "rm -rf $(printf '%q' "$work/delta") && $(printf '%q ' "$disco" "${common[@]}" --format delta -o "$work/delta")"
        "$(printf '%q ' "$disco" "${common[@]}" --format delta -o "$work/delta")"
    )
fi

# Runs command $1 (an index), stdout discarded, stderr to a log; prints the wall seconds, the
# peak RSS in kB of the command's largest process (GNU time's %M, per process run) and the
# CPU seconds (user + system) of the command and the processes it waited for.
run() {
    local i=$1 log=$work/${names[$1]}.log rss=$work/${names[$1]}.rss t0 t1
    t0=$EPOCHREALTIME
    # GNU time's %M through `bash -c` is the largest of bash and the processes it waited for.
    if ! /usr/bin/time -o "$rss" -f '%M %U %S' bash -c "${cmds[$i]}" >/dev/null 2>"$log"; then
        say "FAILED: ${cmds[$i]}"
        cat "$log" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" -v r="$(tail -n 1 "$rss" 2>/dev/null || echo 0 0 0)" \
        'BEGIN { split(r, f, " "); printf "%.6f\t%s\t%.2f\n", b - a, f[1], f[2] + f[3] }'
}

# --- warm-up and checks: both sides must have written one line per file, same paths --------
say "corpus: $nfiles files, $nbytes bytes; warm-up run of each command"
out_bytes=()
for i in "${!cmds[@]}"; do
    run "$i" >/dev/null
    case ${names[$i]} in
        disco_tree) out_bytes[i]=$(stat -c %s "$out_disco") ;;
        peer_j*) out_bytes[i]=$(stat -c %s "$out_peer") ;;
        *) out_bytes[i]=0 ;;
    esac
done
say "disco's summary: $(tail -n 3 "$work/disco_tree.log" | tr '\n' ' ')"
check=$("$py" - "$out_disco" "$out_peer" "$corpus" <<'EOF'
import re, sys
path_re = re.compile(rb'"path":"((?:[^"\\]|\\.)*)"')
def paths(fn):
    out = []
    with open(fn, "rb") as f:
        for line in f:
            m = path_re.search(line)
            out.append(m.group(1).decode("utf-8", "replace") if m else None)
    return out
d, p = paths(sys.argv[1]), paths(sys.argv[2])
root = sys.argv[3].rstrip("/") + "/"
d = [x[len(root):] if x and x.startswith(root) else (x[2:] if x and x.startswith("./") else x) for x in d]
msg = f"lines: disco {len(d)}, peer {len(p)}"
if len(d) != len(p):
    print("MISMATCH", msg)
elif d != p:
    i = next(i for i, (a, b) in enumerate(zip(d, p)) if a != b)
    print("PATHS", msg + f"; first different path at line {i + 1}: disco {d[i]!r}, peer {p[i]!r}")
else:
    print("OK", msg + ", same paths in the same order")
EOF
)
say "check: $check"
if [[ $check == MISMATCH* && ${ALLOW_MISMATCH:-0} != 1 ]]; then
    say "disco and the peer did not process the same file set; figures would not compare (ALLOW_MISMATCH=1 to report anyway)"
    exit 1
fi

# --- timed runs, interleaved so that drift hits every command alike ----------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
timings=$work/timings.tsv
: >"$timings"
for ((r = 1; r <= REPS; r++)); do
    say "rep $r/$REPS"
    for i in "${!cmds[@]}"; do
        secs=$(run "$i")
        printf '%s\t%s\n' "$i" "$secs" >>"$timings"
    done
done

# --- report -------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%s\n' "${labels[@]}" >"$work/labels.txt"
BENCH_LOAD="$load_start at the start of the timed runs, $load_end at the end" \
BENCH_DISCO=${disco_version:-unknown version} BENCH_CORPUS=$corpus_name BENCH_PEER=$peer_versions BENCH_CHECK=$check BENCH_CORES=$(nproc) \
BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true) \
    "$py" - "$timings" "$work/labels.txt" "$nfiles" "$nbytes" "$REPS" "$JOBS" "${out_bytes[*]}" <<'EOF'
import os, statistics, sys
timings, labels_fn, nfiles, nbytes, reps, jobs, outs = sys.argv[1:8]
nfiles, nbytes, jobs = int(nfiles), int(nbytes), int(jobs)
env = os.environ
labels = open(labels_fn).read().splitlines()
outs = [int(x) for x in outs.split()]
t = {i: [] for i in range(len(labels))}
rss = {i: [] for i in range(len(labels))}
cpu = {i: [] for i in range(len(labels))}
for line in open(timings):
    i, s, r, c = line.split()
    t[int(i)].append(float(s))
    rss[int(i)].append(int(r) / 1024)
    cpu[int(i)].append(float(c))
med = {i: statistics.median(v) for i, v in t.items()}
mcpu = {i: statistics.median(v) for i, v in cpu.items()}
peak = {i: max(v) for i, v in rss.items()}
print(f"disco tree benchmark: corpus {env['BENCH_CORPUS']}")
print(f"  {nfiles} .py files, {nbytes / 1e6:.1f} MB; {reps} timed reps after one warm-up;"
      f" {env['BENCH_CORES']} cores, {env['BENCH_CPU'] or 'unknown CPU'}")
print(f"  disco: {env['BENCH_DISCO']}; peer: {env['BENCH_PEER']}")
print(f"  load average: {env['BENCH_LOAD']} (figures are only meaningful on an otherwise idle machine)")
print(f"  check: {env['BENCH_CHECK']}")
print()
w = max(len(l) for l in labels)
print(f"  {'command':<{w}}  {'median s':>9} {'min s':>8} {'max s':>8} {'CPU s':>7} {'files/s':>9} {'MB/s':>8} {'out MB':>8} {'peak RSS MB':>12}")
for i, l in enumerate(labels):
    m = med[i]
    out = f"{outs[i] / 1e6:8.1f}" if outs[i] else f"{'-':>8}"
    print(f"  {l:<{w}}  {m:9.3f} {min(t[i]):8.3f} {max(t[i]):8.3f} {mcpu[i]:7.2f} {nfiles / m:9.1f} {nbytes / 1e6 / m:8.2f} {out} {peak[i]:12.0f}")
print()
d, dp, pj, p1 = med[0], med[1], med[2], med[3]
print(f"  disco vs python peer --jobs {jobs}:  {pj / d:6.2f}x faster")
print(f"  disco vs python peer --jobs 1:  {p1 / d:6.2f}x faster")
print(f"  disco vs its parse-only limit:  {dp / d * 100:5.1f}% of parse-only throughput ({d / dp:.2f}x its time)")
if "python peer --parse-only" in " ".join(labels):
    k = next(i for i, l in enumerate(labels) if l.startswith("python peer --parse-only"))
    print(f"  python peer vs its parse-only limit:  {med[k] / pj * 100:5.1f}% of parse-only throughput")
# The tables' goals (issue 9): every output under 200 MB peak RSS, Parquet within 2x parse-only.
idx = {l: i for i, l in enumerate(labels)}
def goal(ok):
    return "met" if ok else "NOT met"
print()
for l in labels:
    if l.startswith("disco tree") and "parse-only" not in l:
        i = idx[l]
        print(f"  {l}: {med[i] / dp:5.2f}x parse-only time, peak RSS {peak[i]:.0f} MB (goal <= 200 MB: {goal(peak[i] <= 200)})")
pq = next((i for l, i in idx.items() if "--format parquet" in l), None)
if pq is not None:
    print(f"  Parquet vs parse-only: {med[pq] / dp:.2f}x (goal <= 2x: {goal(med[pq] <= 2 * dp)})")
    # The machine's speed drifts by the minute: the ratio within each rep (run back to back)
    # and the ratio of CPU time are steadier than the ratio of two medians.
    paired = statistics.median(a / b for a, b in zip(t[pq], t[1]))
    print(f"  Parquet vs parse-only, median of the ratios within a rep: {paired:.2f}x;"
          f" CPU time: {mcpu[pq]:.2f} s against {mcpu[1]:.2f} s ({mcpu[pq] / mcpu[1]:.2f}x)")
rr = next((i for l, i in idx.items() if "rerun" in l), None)
fd = next((i for l, i in idx.items() if l.startswith("disco tree --format delta --jobs")), None)
if rr is not None and fd is not None:
    print(f"  Delta rerun over the unchanged corpus: {med[rr]:.2f} s against {med[fd]:.2f} s for the first run ({med[rr] / med[fd] * 100:.0f}%)")
EOF
echo
echo "commands (timed as wall time of the whole process, stdout to /dev/null):"
for i in "${!cmds[@]}"; do printf '  %s\n' "${cmds[$i]}"; done
