#!/usr/bin/env bash
# Lakehouse benchmark (issue 8): read a Delta table written by delta-rs and write it back as a
# new Delta table, with Disco (`disco run --input SRC --output NEW --format delta`) and with
# Python (deltalake + pyarrow: the table's pyarrow dataset streamed into write_deltalake, see
# bench/lakehouse_peer.py), measured in the same run on the same table. Prints the median
# wall time and peak RSS of each, the ratio, and the goal:
#
#   Disco at least 1.5x faster (wall time of the whole process) AND a lower peak RSS.
#
# Every command is a separate process, timed as the wall time of the whole process (start-up
# and imports included) with its peak RSS (GNU time's %M, else os.wait4's ru_maxrss). The peer
# also reports its own in-process time (after imports); the ratio against it is printed in
# brackets. Runs are interleaved (Disco, peer, Disco, peer...) so load drift hits both alike.
# Both outputs are counted afterwards (every row once) and must have the source's rows.
#
#   bench/lakehouse.sh                       # builds target/release/disco if missing or stale
#   SKIP_DISCO=1 bench/lakehouse.sh          # the Python side alone
#   DISCO_BIN=target/debug/disco RUNS=1 ROWS=50000 bench/lakehouse.sh     # smoke test
#
# Environment:
#   RUNS=3          timed runs of each command (medians reported)
#   ROWS=1000000    rows of the source table
#   FILES=8         data files (delta-rs appends) of the source table
#   DISCO_BIN       the disco binary (default target/release/disco, built with
#                   `cargo build --release` when absent or older than the sources: Delta needs no feature)
#   DISCO_PY        the peer's Python (default ~/.cache/disco/tools/pyvenv/bin/python, made by
#                   scripts/setup.sh)
#   SKIP_DISCO=1    run only the Python side (no build)
#   KEEP=1          keep the scratch folder (tables, logs, results.tsv)
set -euo pipefail
export LC_ALL=C LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
FILES=${FILES:-8}
SKIP_DISCO=${SKIP_DISCO:-0}
PY=${DISCO_PY:-$HOME/.cache/disco/tools/pyvenv/bin/python}
peer=$here/lakehouse_peer.py

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer (got '$ROWS')"
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "FILES must be a positive integer (got '$FILES')"

# --- the peer's venv ------------------------------------------------------------------------
[[ -x $PY ]] || die "no Python venv at $PY: run scripts/setup.sh first (or set DISCO_PY)"
"$PY" -c "import deltalake, pyarrow, numpy" 2>/dev/null ||
    die "the venv $PY lacks deltalake, pyarrow or numpy. Run scripts/setup.sh (or set DISCO_PY)"

# --- the binary -----------------------------------------------------------------------------
disco=""
disco_version="skipped (SKIP_DISCO=1)"
if [[ $SKIP_DISCO != 1 ]]; then
    if [[ -n ${DISCO_BIN:-} ]]; then
        disco=$DISCO_BIN
        [[ $disco == /* ]] || disco=$PWD/$disco
        [[ -x $disco ]] || die "DISCO_BIN=$DISCO_BIN is not an executable file"
    else
        disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
        [[ $disco == /* ]] || disco=$repo/$disco
        # Stale: a source, manifest or grammar newer than the binary.
        stale=""
        if [[ -x $disco ]]; then
            stale=$(cd "$repo" && find src grammars Cargo.toml Cargo.lock build.rs -newer "$disco" \
                -type f -print -quit 2>/dev/null || true)
        fi
        if [[ ! -x $disco || -n $stale ]]; then
            say "building disco (cargo build --release)${stale:+: $stale is newer}"
            (cd "$repo" && cargo build --release)
        fi
        [[ -x $disco ]] || die "no disco binary at $disco after the build"
    fi
    disco_version="$("$disco" --version 2>/dev/null | head -n 1 || echo "unknown version") ($disco)"
fi

# --- the measurer ---------------------------------------------------------------------------
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
    rss_tool="GNU time %M"
    use_gnu_time=1
else
    rss_tool="os.wait4 ru_maxrss"
    use_gnu_time=0
fi
# Fallback: runs argv[2:], writes the child's peak RSS (KiB) to argv[1], exits with its code.
waiter='import os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(p.pid, 0)
p.returncode = 0
open(sys.argv[1], "w").write(f"{ru.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))'

now() { if [[ -n ${EPOCHREALTIME:-} ]]; then printf '%s\n' "$EPOCHREALTIME"; else date +%s.%N; fi; }

work=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-lakehouse.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    say "scratch folder kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/log" "$work/out"
results=$work/results.tsv
: >"$results"

# timed TOOL RUN OUTPUT_TABLE -- CMD...: runs CMD (stdout and stderr to logs), counts the
# output table, appends "tool run wall_s rss_kib stdout_log stderr_log count_json" to results.tsv.
timed() {
    local tool=$1 run=$2 table=$3
    shift 4
    local key=$tool.$run
    local out=$work/log/$key.out err=$work/log/$key.err rssf=$work/log/$key.rss t0 t1 rc=0
    t0=$(now)
    if [[ $use_gnu_time == 1 ]]; then
        /usr/bin/time -f '%M' -o "$rssf" "$@" >"$out" 2>"$err" || rc=$?
    else
        "$PY" -c "$waiter" "$rssf" "$@" >"$out" 2>"$err" || rc=$?
    fi
    t1=$(now)
    if [[ $rc != 0 ]]; then
        say "FAILED (exit $rc): $(printf '%q ' "$@")"
        say "--- stdout"; tail -n 20 "$out" >&2 || true
        say "--- stderr"; tail -n 40 "$err" >&2 || true
        exit 1
    fi
    local count
    count=$("$PY" "$peer" count --table "$table") || die "counting $table failed"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" "$(tail -n 1 "$rssf")" \
        "$out" "$err" "$count" >>"$results"
    rm -rf "$table"
}

# --- the source table -----------------------------------------------------------------------
say "making the source table: $ROWS rows in $FILES files (delta-rs)"
src=$work/source
made=$("$PY" "$peer" make-table --out "$src" --rows "$ROWS" --files "$FILES") || die "make-table failed"
cat >"$work/disco.toml" <<EOF
[volumes.bench]
url = "$work"

[tables.source]
url = "bench://source"
format = "delta"
EOF

# --- timed runs -----------------------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
for ((r = 1; r <= RUNS; r++)); do
    say "run $r/$RUNS"
    if [[ $SKIP_DISCO != 1 ]]; then
        o=$work/out/disco.$r
        timed disco "$r" "$o" -- env DISCO_CATALOG="$work/disco.toml" "$disco" run \
            --input source --output "file://$o" --format delta --quiet
    fi
    o=$work/out/peer.$r
    timed peer "$r" "$o" -- "$PY" "$peer" copy --input "$src" --out "$o"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# --- report ---------------------------------------------------------------------------------
BENCH_DISCO=$disco_version BENCH_LOAD="$load_start at the start, $load_end at the end" \
BENCH_RSS_TOOL=$rss_tool BENCH_CORES=$(nproc 2>/dev/null || echo '?') BENCH_RUNS=$RUNS \
BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true) \
BENCH_SOURCE=$made BENCH_ROWS=$ROWS \
    "$PY" - "$results" <<'EOF'
import json, os, re, statistics, sys

env = os.environ
source = json.loads(env["BENCH_SOURCE"])
rows_re = re.compile(r"rows in (\d+) = (\d+) passed \+ (\d+) rejected")
done_re = re.compile(r"(\d+) already done")
problems = []

runs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    tool, run, wall, rss, out, err, count = line.rstrip("\n").split("\t")
    rec = {"wall": float(wall), "rss": int(rss) / 1024.0, "count": json.loads(count)["rows"]}
    if tool == "disco":
        text = open(err, encoding="utf-8", errors="replace").read()
        m = rows_re.search(text)
        if not m:
            sys.exit(f"error: no `rows in N = P passed + R rejected` summary in disco's stderr ({err}):\n{text[-2000:]}")
        d = done_re.search(text)
        if d and int(d.group(1)) > 0:
            sys.exit(f"error: disco skipped {d.group(1)} parts as already done ({err}); the timing is void")
        rec["rows"] = int(m.group(1))
        rec["label"] = "disco run --format delta"
    else:
        lines = [l for l in open(out, encoding="utf-8") if l.strip().startswith("{")]
        rep = json.loads(lines[-1])
        rec["rows"], rec["inner"], rec["label"] = rep["rows"], rep["seconds"], rep["bench"]
    runs.setdefault(tool, []).append(rec)

def summary(tool):
    rs = runs[tool]
    for r in rs:
        if r["rows"] != source["rows"] or r["count"] != source["rows"]:
            problems.append(f"{tool}: read {r['rows']} rows and wrote {r['count']}, the source has {source['rows']}")
    s = {"label": rs[0]["label"], "rows": rs[0]["rows"],
         "wall": statistics.median(r["wall"] for r in rs),
         "rss": statistics.median(r["rss"] for r in rs)}
    if "inner" in rs[0]:
        s["inner"] = statistics.median(r["inner"] for r in rs)
    return s

S = {t: summary(t) for t in runs}

print("Disco lakehouse benchmark (bench/lakehouse.sh)")
print(f"  disco: {env['BENCH_DISCO']}")
print(f"  source: Delta table by delta-rs {source['deltalake']}: {source['rows']} rows (id int64, name string,"
      f" fare float64, ts timestamp UTC, city string), {source['files']} files, version {source['version']}")
print(f"  job: read the table, write it as a new Delta table")
print(f"  {env['BENCH_RUNS']} run(s) of each command, medians; {env['BENCH_CORES']} cores, {env['BENCH_CPU'] or 'unknown CPU'}")
print(f"  load average: {env['BENCH_LOAD']}")
print(f"  wall = whole process (start-up, imports, read, write); peak RSS by {env['BENCH_RSS_TOOL']}")
print()
hdr = f"  {'tool':<40} {'rows':>8} {'median s':>9} {'in-proc s':>10} {'rows/s':>11} {'peak RSS MB':>12}"
print(hdr)
print("  " + "-" * (len(hdr) - 2))
for tool in ("disco", "peer"):
    if tool in S:
        s = S[tool]
        inner = f"{s['inner']:10.3f}" if "inner" in s else f"{'':>10}"
        rate = s["rows"] / s["wall"] if s["wall"] > 0 else float("nan")
        print(f"  {s['label']:<40} {s['rows']:>8} {s['wall']:9.3f} {inner} {rate:11.0f} {s['rss']:12.1f}")
print()
print("== goal: Disco >= 1.5x faster than deltalake + pyarrow AND a lower peak RSS")
if "disco" in S:
    d, p = S["disco"], S["peer"]
    speed = p["wall"] / d["wall"] if d["wall"] > 0 else float("nan")
    speed_in = p["inner"] / d["wall"] if d["wall"] > 0 else float("nan")
    rss = d["rss"] / p["rss"] if p["rss"] > 0 else float("nan")
    fast, lean = speed >= 1.5, d["rss"] < p["rss"]
    print(f"  speed: Disco {speed:.2f}x the peer's wall time [{speed_in:.2f}x its in-process time]:"
          f" {'met' if fast else 'NOT met'}")
    print(f"  memory: Disco peak RSS {d['rss']:.1f} MB vs {p['rss']:.1f} MB ({rss:.2f}x): {'met' if lean else 'NOT met'}")
    print(f"  goal: {'met' if fast and lean else 'NOT met'}")
else:
    print("  not measured: SKIP_DISCO=1 (the Python side alone)")
if problems:
    print()
    print("== CHECKS FAILED (the figures may not compare)")
    for p in problems:
        print("  " + p)
    sys.exit(1)
print()
print(f"checks: every output table has the source's {source['rows']} rows (counted by delta-rs after each run)")
EOF
