#!/usr/bin/env python3
"""The Python side of Disco's SQL benchmark (issue 13, bench/sql.sh).

  sql_peer.py make-table --out DIR [--rows 1000000] [--files 8]
  sql_peer.py duckdb --table DIR
  sql_peer.py polars --table DIR
  sql_peer.py check A.ndjson B.ndjson ...

make-table writes a Parquet table with pyarrow: `--files` files of equal size in DIR, columns
id int64, city string (40 values), payment string (4), fare float64, ts timestamp[us].
Deterministic (values are functions of id).

duckdb and polars run the benchmark's query over DIR/*.parquet and print its rows as NDJSON on
stdout, as `disco sql` does, and their own time after the import (query, fetch and print) as
`{"seconds": S}` on stderr:

  SELECT city, count(*) AS n, round(avg(fare), 4) AS avg_fare FROM trips
  GROUP BY city ORDER BY city

check compares the NDJSON outputs (the same rows, in order; floats to 1e-9 relative).

Packages: pyarrow, polars (scripts/requirements-pipeline.txt); duckdb is installed by
bench/sql.sh into the same venv when it is missing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

QUERY = (
    "SELECT city, count(*) AS n, round(avg(fare), 4) AS avg_fare FROM trips "
    "GROUP BY city ORDER BY city"
)


def make_table(out: str, rows: int, files: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(out, exist_ok=True)
    cities = np.array([f"city-{i:02d}" for i in range(40)], dtype=object)
    payments = np.array(["card", "cash", "voucher", "unknown"], dtype=object)
    per = -(-rows // files)
    for f in range(files):
        start, stop = f * per, min(rows, (f + 1) * per)
        ids = np.arange(start, stop, dtype=np.int64)
        table = pa.table(
            {
                "id": ids,
                "city": pa.array(cities[(ids * 7919) % 40], pa.string()),
                "payment": pa.array(payments[(ids * 31) % 4], pa.string()),
                "fare": (ids % 9973).astype(np.float64) / 100.0,
                "ts": pa.array(ids * 1_000_000 + 1_700_000_000_000_000, pa.timestamp("us")),
            }
        )
        pq.write_table(table, os.path.join(out, f"part-{f:03d}.parquet"), row_group_size=131072)
    print(json.dumps({"rows": rows, "files": files, "pyarrow": pa.__version__}))


def run_duckdb(table: str) -> None:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW trips AS SELECT * FROM read_parquet('{table}/*.parquet')")
    cur = con.execute(QUERY)
    names = [d[0] for d in cur.description]
    out = sys.stdout
    for row in cur.fetchall():
        out.write(json.dumps(dict(zip(names, row))) + "\n")
    out.flush()
    print(json.dumps({"seconds": time.perf_counter() - t0}), file=sys.stderr)


def run_polars(table: str) -> None:
    import polars as pl

    t0 = time.perf_counter()
    df = (
        pl.scan_parquet(f"{table}/*.parquet")
        .group_by("city")
        .agg(pl.len().alias("n"), pl.col("fare").mean().round(4).alias("avg_fare"))
        .sort("city")
        .collect()
    )
    sys.stdout.write(df.write_ndjson())
    sys.stdout.flush()
    print(json.dumps({"seconds": time.perf_counter() - t0}), file=sys.stderr)


def check(paths: list[str]) -> None:
    def load(p):
        with open(p, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    base = load(paths[0])
    if not base:
        sys.exit(f"{paths[0]}: no rows")
    for p in paths[1:]:
        other = load(p)
        if len(other) != len(base):
            sys.exit(f"{p}: {len(other)} rows, {paths[0]} has {len(base)}")
        for a, b in zip(base, other):
            if a.keys() != b.keys():
                sys.exit(f"{p}: columns {list(b)} vs {list(a)}")
            for k in a:
                x, y = a[k], b[k]
                if isinstance(x, float) or isinstance(y, float):
                    if not math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9):
                        sys.exit(f"{p}: {k} {y} vs {x}")
                elif x != y:
                    sys.exit(f"{p}: {k} {y!r} vs {x!r}")
    print(json.dumps({"rows": len(base), "groups_checked": len(paths)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-table")
    m.add_argument("--out", required=True)
    m.add_argument("--rows", type=int, default=1_000_000)
    m.add_argument("--files", type=int, default=8)
    for name in ("duckdb", "polars"):
        s = sub.add_parser(name)
        s.add_argument("--table", required=True)
    c = sub.add_parser("check")
    c.add_argument("paths", nargs="+")
    a = ap.parse_args()
    if a.cmd == "make-table":
        make_table(a.out, a.rows, a.files)
    elif a.cmd == "duckdb":
        run_duckdb(a.table)
    elif a.cmd == "polars":
        run_polars(a.table)
    else:
        check(a.paths)


if __name__ == "__main__":
    main()
