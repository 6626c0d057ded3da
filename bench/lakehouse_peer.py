#!/usr/bin/env python3
"""The Python side of Disco's lakehouse benchmark (issue 8, bench/lakehouse.sh).

  lakehouse_peer.py make-table --out DIR [--rows 1000000] [--files 8]
  lakehouse_peer.py copy  --input TABLE --out NEW_TABLE [--batch-size 65536]
  lakehouse_peer.py count --table TABLE

make-table writes a Delta table with delta-rs (`deltalake`): id int64, name string, fare
float64, ts timestamp (UTC), city string; `--files` appends of equal size, so `--files` data
files and as many commits. Deterministic (no randomness: the values are functions of id).

copy is the peer of `disco run --input TABLE --output NEW --format delta`: it streams the
table's record batches through its pyarrow dataset (delta-rs resolves the snapshot) into
`write_deltalake`, which takes a RecordBatchReader, so neither side holds the table in memory.
It prints one JSON object:
  {"bench": ..., "rows": N, "seconds": S, "rows_per_s": R, "peak_rss_mb": M}
seconds is the job after imports (the shell script times the whole process as well).

count prints {"rows": N, "version": V, "files": F} of a table, from its data.

Packages: deltalake, pyarrow, numpy (scripts/requirements-pipeline.txt).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import deltalake
from deltalake import DeltaTable, write_deltalake

CITIES = ["Lyon", "Porto", "Zürich", "Kraków", "Ghent", "Tartu", "Bergen", "Split"]


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def done(out: dict) -> int:
    print(json.dumps(out))
    sys.stdout.flush()
    # deltalake's threads can abort the interpreter at exit, after the report is printed.
    os._exit(0)


def rows_slice(start: int, n: int) -> pa.Table:
    ids = np.arange(start, start + n, dtype=np.int64)
    names = pc.binary_join_element_wise(
        pa.array(np.char.mod("rider-%05d", ids % 50_000)), pa.array(np.char.mod("%d", ids % 97)), "/")
    fare = (ids % 4000) * 0.25 + 2.5
    # One row a second from 2026-01-01T00:00:00Z.
    ts = pa.array(1_767_225_600_000_000 + ids * 1_000_000, pa.timestamp("us", tz="UTC"))
    city = pa.DictionaryArray.from_arrays(pa.array(ids % len(CITIES), pa.int32()), CITIES).cast(pa.string())
    return pa.table({"id": ids, "name": names, "fare": fare, "ts": ts, "city": city})


def cmd_make_table(args) -> int:
    if args.files < 1 or args.rows < args.files:
        sys.exit("--rows must be at least --files, and --files at least 1")
    per = -(-args.rows // args.files)
    written = 0
    for k in range(args.files):
        n = min(per, args.rows - written)
        write_deltalake(args.out, rows_slice(written, n), mode="append")
        written += n
    t = DeltaTable(args.out)
    return done({"rows": written, "version": t.version(), "files": len(t.file_uris()),
                 "deltalake": deltalake.__version__})


def cmd_copy(args) -> int:
    t0 = time.perf_counter()
    source = DeltaTable(args.input)
    dataset = source.to_pyarrow_dataset()
    reader = dataset.scanner(batch_size=args.batch_size).to_reader()
    counted = 0

    def batches():
        nonlocal counted
        for b in reader:
            counted += b.num_rows
            yield b

    stream = pa.RecordBatchReader.from_batches(reader.schema, batches())
    write_deltalake(args.out, stream, mode="append")
    secs = time.perf_counter() - t0
    return done({"bench": f"deltalake {deltalake.__version__} + pyarrow {pa.__version__}",
                 "rows": counted, "seconds": round(secs, 4),
                 "rows_per_s": round(counted / secs, 1) if secs > 0 else None,
                 "peak_rss_mb": peak_rss_mb(), "batch_size": args.batch_size})


def cmd_count(args) -> int:
    t = DeltaTable(args.table)
    rows = t.to_pyarrow_dataset().count_rows()
    return done({"rows": rows, "version": t.version(), "files": len(t.file_uris())})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-table", help="a Delta table written by delta-rs")
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=8)
    p.set_defaults(fn=cmd_make_table)
    p = sub.add_parser("copy", help="stream a Delta table into a new one (deltalake + pyarrow)")
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batch-size", type=int, default=65536)
    p.set_defaults(fn=cmd_copy)
    p = sub.add_parser("count", help="rows, version and files of a Delta table")
    p.add_argument("--table", required=True)
    p.set_defaults(fn=cmd_count)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
