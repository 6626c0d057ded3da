#!/usr/bin/env bash
# SQL benchmark (issue 13): a group-by aggregation over a 1-million-row Parquet table (8 files
# written by pyarrow), `disco sql` against DuckDB and polars, in the same run on the same
# table. Each prints the result as NDJSON on stdout; the three outputs must agree. Prints the
# median wall time and peak RSS of each, the ratios, and the goal:
#
#   Disco within 1.5x of DuckDB's wall time.
#
#   SELECT city, count(*) AS n, round(avg(fare), 4) AS avg_fare FROM trips
#   GROUP BY city ORDER BY city
#
# Every command is a separate process, timed as a whole (start-up and imports included), its
# peak RSS by GNU time. Runs are interleaved (disco, duckdb, polars, disco...) so load drift
# hits all alike.
#
#   bench/sql.sh                                   # builds the release binary with --features sql
#   DISCO_BIN=target/debug/disco RUNS=1 ROWS=100000 bench/sql.sh     # smoke test
#
# Environment:
#   RUNS=3          timed runs of each command (medians reported)
#   ROWS=1000000    rows of the table
#   FILES=8         Parquet files of the table
#   DISCO_BIN       the disco binary (default target/release/disco, built with
#                   `cargo build --release --features sql` when absent or older than the sources)
#   DISCO_PY        the peers' Python (default ~/.cache/disco/tools/pyvenv/bin/python, made by
#                   scripts/setup.sh); DuckDB (PyPI duckdb==$DUCKDB) is installed into it when
#                   it cannot be imported
#   KEEP=1          keep the scratch folder
set -euo pipefail
export LC_ALL=C LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
FILES=${FILES:-8}
DUCKDB=${DUCKDB:-2.0.1}
PY=${DISCO_PY:-$HOME/.cache/disco/tools/pyvenv/bin/python}
peer=$here/sql_peer.py

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ -x $PY ]] || die "no Python venv at $PY: run scripts/setup.sh first (or set DISCO_PY)"
"$PY" -c "import pyarrow, polars, numpy" 2>/dev/null ||
    die "the venv $PY lacks pyarrow, polars or numpy: run scripts/setup.sh (or set DISCO_PY)"
if ! "$PY" -c "import duckdb" 2>/dev/null; then
    say "installing duckdb==$DUCKDB into $PY's venv (PyPI)"
    "$PY" -m pip install -q --disable-pip-version-check "duckdb==$DUCKDB"
fi
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed for the peak RSS"

# --- the binary -----------------------------------------------------------------------------
if [[ -n ${DISCO_BIN:-} ]]; then
    disco=$DISCO_BIN
    [[ $disco == /* ]] || disco=$PWD/$disco
else
    disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
    [[ $disco == /* ]] || disco=$repo/$disco
    stale=""
    if [[ -x $disco ]]; then
        stale=$(cd "$repo" && find src Cargo.toml Cargo.lock -newer "$disco" -type f -print -quit)
    fi
    if [[ ! -x $disco || -n $stale ]]; then
        say "building disco (cargo build --release --features sql)${stale:+: $stale is newer}"
        (cd "$repo" && cargo build --release --features sql)
    fi
fi
[[ -x $disco ]] || die "no disco binary at $disco"
"$disco" sql --help >/dev/null 2>&1 || die "$disco has no \`sql\` command: build it with --features sql"

work=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-sql.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then say "scratch folder kept: $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/log"

say "making the table: $ROWS rows in $FILES Parquet files (pyarrow)"
made=$("$PY" "$peer" make-table --out "$work/trips" --rows "$ROWS" --files "$FILES")
cat >"$work/disco.toml" <<EOF
[volumes.bench]
url = "$work"

[tables.trips]
url = "bench://trips/*.parquet"
format = "parquet"
EOF
query='SELECT city, count(*) AS n, round(avg(fare), 4) AS avg_fare FROM trips GROUP BY city ORDER BY city'

results=$work/results.tsv
: >"$results"
# timed TOOL RUN -- CMD...: wall seconds and peak RSS (KiB) of CMD into results.tsv.
timed() {
    local tool=$1 run=$2; shift 3
    local out=$work/log/$tool.$run.ndjson err=$work/log/$tool.$run.err rc=0
    /usr/bin/time -f '%e %M' -o "$work/log/$tool.$run.time" "$@" >"$out" 2>"$err" || rc=$?
    if [[ $rc != 0 ]]; then
        say "FAILED (exit $rc): $*"; tail -n 30 "$err" >&2; exit 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$run" "$(cat "$work/log/$tool.$run.time")" "$out" "$err" >>"$results"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= RUNS; r++)); do
    say "run $r/$RUNS"
    timed disco "$r" -- env DISCO_CATALOG="$work/disco.toml" "$disco" sql "$query"
    timed duckdb "$r" -- "$PY" "$peer" duckdb --table "$work/trips"
    timed polars "$r" -- "$PY" "$peer" polars --table "$work/trips"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY" "$peer" check $(cut -f4 "$results") >/dev/null || die "the outputs differ"

BENCH_LOAD="$load_start at the start, $load_end at the end" BENCH_MADE=$made \
BENCH_CORES=$(nproc) BENCH_RUNS=$RUNS BENCH_DISCO="$("$disco" --version) ($disco)" \
BENCH_DUCKDB=$("$PY" -c 'import duckdb; print(duckdb.__version__)') \
BENCH_POLARS=$("$PY" -c 'import polars; print(polars.__version__)') \
    "$PY" - "$results" "$query" <<'EOF'
import json, os, statistics, sys
env = os.environ
runs = {}
inner = {}
for line in open(sys.argv[1]):
    tool, _, t, _, err = line.rstrip("\n").split("\t")
    wall, rss = t.split()
    runs.setdefault(tool, []).append((float(wall), int(rss) / 1024.0))
    if tool != "disco":
        # The peer's own time after its import (stderr's last line: {"seconds": S}).
        last = [l for l in open(err) if l.startswith("{")][-1]
        inner.setdefault(tool, []).append(json.loads(last)["seconds"])
med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
med_in = {k: statistics.median(v) for k, v in inner.items()}
made = json.loads(env["BENCH_MADE"])
print("Disco SQL benchmark (bench/sql.sh)")
print(f"  disco: {env['BENCH_DISCO']}; duckdb {env['BENCH_DUCKDB']}; polars {env['BENCH_POLARS']}")
print(f"  table: {made['rows']} rows in {made['files']} Parquet files (pyarrow {made['pyarrow']})")
print(f"  query: {sys.argv[2]}")
print(f"  {env['BENCH_RUNS']} run(s) each, medians; {env['BENCH_CORES']} cores; load {env['BENCH_LOAD']}")
print(f"  wall = whole process (start-up and imports included); in-proc = the peer's own time after")
print(f"  `import` (query, fetch, print); Disco's wall includes its start-up; peak RSS by GNU time")
print()
print(f"  {'tool':<8} {'median s':>9} {'in-proc s':>10} {'peak RSS MB':>12} {'wall / disco':>13}")
d = med["disco"][0]
for tool in ("disco", "duckdb", "polars"):
    w, r = med[tool]
    i = f"{med_in[tool]:10.3f}" if tool in med_in else f"{'':>10}"
    print(f"  {tool:<8} {w:9.3f} {i} {r:12.1f} {w / d if d else float('nan'):13.2f}")
ratio = d / med["duckdb"][0]
ratio_in = d / med_in["duckdb"]
print()
print(f"  disco / duckdb: {ratio:.2f}x wall, {ratio_in:.2f}x duckdb's in-proc time;"
      f" disco / polars: {d / med['polars'][0]:.2f}x wall, {d / med_in['polars']:.2f}x in-proc")
print(f"  disco / duckdb peak RSS: {med['disco'][1] / med['duckdb'][1]:.2f}x")
verdict = "met" if ratio_in <= 1.5 else "met on wall time only" if ratio <= 1.5 else "NOT met"
print(f"== goal: within 1.5x of DuckDB: {verdict} ({ratio:.2f}x wall, {ratio_in:.2f}x in-proc)")
print("checks: the three outputs hold the same rows")
EOF
