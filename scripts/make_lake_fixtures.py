#!/usr/bin/env python3
"""Writes Delta Lake tables with delta-rs (Python `deltalake`) for Disco's lakehouse tests
(tests/it/lakehouse.rs), and prints a JSON manifest of what each table holds.

  python scripts/make_lake_fixtures.py OUTDIR     # writes OUTDIR/<table>/, prints the manifest

Tables (each row: id int64, name string, fare float64, day date, ts timestamp UTC; the
partitioned table has city/year instead of day/ts):

  checkpointed         13 appends (v0..v12), create_checkpoint() at v12, 2 more appends
                       (v13, v14); the JSON commits the checkpoint covers are then deleted, as
                       log clean-up does, so a reader must start from the checkpoint.
  overwritten          v0 append, v1 append, v2 mode="overwrite": the files of v0 and v1 are
                       `remove`d and must not be read again.
  partitioned          partition_by=["city", "year"], a null city among them.
  versions             v0 2 rows, v1 append 2 rows, v2 delete("id = 1"); the commits' times are
                       set (file mtime and commitInfo.timestamp) to 2026-09-01, 2026-10-01 and
                       2026-11-01 at midnight UTC, for time travel by timestamp.
  column_mapping       delta.columnMapping.mode = "name": the Parquet columns have physical
                       names (col-<uuid>); only the log maps them to id, name...
  deletion_vectors     10 rows in one file, then a commit that re-adds the file with a deletion
                       vector (rows at positions 2 and 5, ids 2 and 5) in a `u` (relative
                       path) DV file. delta-rs 1.6 enables the feature but its delete rewrites
                       files instead of writing DVs, so this commit is written here, byte by
                       byte, to PROTOCOL.md "Deletion Vector Format"; the script checks that
                       delta-rs's DataFusion reader and polars both drop those rows.
  unsupported_feature  a copy of `versions` whose protocol action (v0) is rewritten to reader
                       version 3 / writer version 7 with a made-up reader and writer feature
                       `discoMadeUpFeature`.
  corrupt_log          a copy of `versions` whose last commit (v2) is cut in the middle of a line.

The manifest:

  {"deltalake": "1.6.6", "tables": {NAME: {"path": ..., "version": N, "rows": [...],
     "versions": {"0": [...], ...}, "history": [{"version": V, "timestamp": "...Z"}, ...],
     "partition_columns": [...], "num_files": N, ...}}}

Rows are JSON objects with every column (null where null), dates as YYYY-MM-DD and
timestamps as YYYY-MM-DDTHH:MM:SS[.ffffff] (UTC, no suffix). Every expected row set is
checked against delta-rs reading the table back before the manifest is printed.

Packages: deltalake, pyarrow, polars (scripts/requirements-pipeline.txt).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import struct
import sys
import uuid
import zlib
from pathlib import Path

import pyarrow as pa
import polars as pl
import deltalake
from deltalake import DeltaTable, QueryBuilder, write_deltalake

UTC = dt.timezone.utc
SCHEMA = pa.schema([
    ("id", pa.int64()),
    ("name", pa.string()),
    ("fare", pa.float64()),
    ("day", pa.date32()),
    ("ts", pa.timestamp("us", tz="UTC")),
])


def rows(ids, tag: str) -> list[dict]:
    """Deterministic rows; fares are exact in binary (quarters) so JSON compares exactly."""
    out = []
    for i in ids:
        out.append({
            "id": i,
            "name": f"{tag}-{i}" if i % 7 != 3 else None,
            "fare": i * 1.25 + 0.5,
            "day": dt.date(2026, 1, 1) + dt.timedelta(days=i % 40),
            "ts": dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=37 * i, microseconds=250 * (i % 3)),
        })
    return out


def table(rs: list[dict], schema: pa.Schema = SCHEMA) -> pa.Table:
    return pa.Table.from_pylist(rs, schema=schema)


def canon(v):
    """A value as the manifest (and the tests) spell it."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def canon_rows(rs) -> list[dict]:
    out = [{k: canon(v) for k, v in r.items()} for r in rs]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def read_back(path: Path, version: int | None = None) -> list[dict]:
    """The rows delta-rs's DataFusion reader sees (it handles column mapping and deletion
    vectors, where to_pyarrow_table refuses or reads nulls)."""
    t = DeltaTable(str(path), version=version)
    got = QueryBuilder().register("t", t).execute("SELECT * FROM t").read_all()
    return canon_rows(pa.table(got).to_pylist())


def check(path: Path, want: list[dict], version: int | None = None):
    got = read_back(path, version)
    want = canon_rows(want)
    if got != want:
        sys.exit(f"error: {path} (version {version}): delta-rs reads\n{got}\nexpected\n{want}")


def log_file(path: Path, version: int) -> Path:
    return path / "_delta_log" / f"{version:020d}.json"


def history(path: Path) -> list[dict]:
    h = DeltaTable(str(path)).history()
    out = []
    for c in sorted(h, key=lambda c: c["version"]):
        ts = dt.datetime.fromtimestamp(c["timestamp"] / 1000, UTC)
        out.append({"version": c["version"], "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "operation": c.get("operation")})
    return out


def describe(path: Path, want: list[dict], **extra) -> dict:
    t = DeltaTable(str(path))
    d = {
        "path": str(path),
        "version": t.version(),
        "rows": canon_rows(want),
        "partition_columns": t.metadata().partition_columns,
        "num_files": len(t.file_uris()),
        "columns": [f.name for f in t.schema().fields],
        "history": history(path),
    }
    d.update(extra)
    return d


# --- the tables -----------------------------------------------------------------------------


def checkpointed(out: Path) -> dict:
    p = out / "checkpointed"
    kept = []
    for v in range(13):
        rs = rows(range(v * 4, v * 4 + 4), f"c{v}")
        write_deltalake(str(p), table(rs), mode="append")
        kept += rs
    DeltaTable(str(p)).create_checkpoint()
    checkpoint_version = DeltaTable(str(p)).version()
    for v in range(13, 15):
        rs = rows(range(v * 4, v * 4 + 4), f"c{v}")
        write_deltalake(str(p), table(rs), mode="append")
        kept += rs
    cp = p / "_delta_log" / f"{checkpoint_version:020d}.checkpoint.parquet"
    if not cp.is_file():
        sys.exit(f"error: no checkpoint at {cp}")
    # Log clean-up: the commits the checkpoint holds are gone; reading must start from it.
    for v in range(checkpoint_version + 1):
        log_file(p, v).unlink()
    check(p, kept)
    d = describe(p, kept, checkpoint=checkpoint_version)
    d["history"] = []  # the commits before the checkpoint are gone
    return d


def overwritten(out: Path) -> dict:
    p = out / "overwritten"
    a, b, c = rows(range(0, 5), "a"), rows(range(5, 10), "b"), rows(range(100, 103), "c")
    write_deltalake(str(p), table(a), mode="append")
    write_deltalake(str(p), table(b), mode="append")
    write_deltalake(str(p), table(c), mode="overwrite")
    check(p, c)
    check(p, a + b, version=1)
    return describe(p, c, versions={"0": canon_rows(a), "1": canon_rows(a + b), "2": canon_rows(c)})


def partitioned(out: Path) -> dict:
    p = out / "partitioned"
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("fare", pa.float64()),
                        ("city", pa.string()), ("year", pa.int64())])
    cities = ["Lyon", "Porto", None, "Zürich"]
    rs = [{"id": i, "name": f"p-{i}", "fare": i * 0.75, "city": cities[i % 4], "year": 2024 + i % 3}
          for i in range(24)]
    write_deltalake(str(p), table(rs[:12], schema), mode="append", partition_by=["city", "year"])
    write_deltalake(str(p), table(rs[12:], schema), mode="append", partition_by=["city", "year"])
    check(p, rs)
    return describe(p, rs)


# The commit times of `versions`: v0, v1, v2.
VERSION_TIMES = [dt.datetime(2026, 9, 1, tzinfo=UTC), dt.datetime(2026, 10, 1, tzinfo=UTC),
                 dt.datetime(2026, 11, 1, tzinfo=UTC)]


def set_commit_time(path: Path, version: int, when: dt.datetime):
    """Sets a commit's time where readers look for it: commitInfo.timestamp (delta-rs's
    history) and the file's modification time (the kernel's timestamp-to-version, for
    tables without in-commit timestamps)."""
    f = log_file(path, version)
    ms = int(when.timestamp() * 1000)
    lines = []
    for line in f.read_text().splitlines():
        a = json.loads(line)
        if "commitInfo" in a:
            a["commitInfo"]["timestamp"] = ms
        lines.append(json.dumps(a, separators=(",", ":")))
    f.write_text("\n".join(lines) + "\n")
    os.utime(f, (when.timestamp(), when.timestamp()))


def versions(out: Path) -> dict:
    p = out / "versions"
    v0 = rows([1, 2], "v0")
    v1 = v0 + rows([3, 4], "v1")
    write_deltalake(str(p), table(v0), mode="append")
    write_deltalake(str(p), table(rows([3, 4], "v1")), mode="append")
    DeltaTable(str(p)).delete("id = 1")
    v2 = [r for r in v1 if r["id"] != 1]
    for v, when in enumerate(VERSION_TIMES):
        set_commit_time(p, v, when)
    check(p, v0, version=0)
    check(p, v1, version=1)
    check(p, v2)
    # delta-rs agrees on which version each time names.
    for when, v in [(VERSION_TIMES[1], 1), (VERSION_TIMES[1] + dt.timedelta(days=14), 1)]:
        t = DeltaTable(str(p))
        t.load_as_version(when)
        if t.version() != v:
            sys.exit(f"error: delta-rs loads version {t.version()} at {when}, expected {v}")
    return describe(p, v2, versions={"0": canon_rows(v0), "1": canon_rows(v1), "2": canon_rows(v2)},
                    times=[w.strftime("%Y-%m-%dT%H:%M:%SZ") for w in VERSION_TIMES])


def column_mapping(out: Path) -> dict:
    p = out / "column_mapping"
    a, b = rows(range(0, 4), "m"), rows(range(4, 8), "n")
    write_deltalake(str(p), table(a), mode="append", configuration={"delta.columnMapping.mode": "name"})
    write_deltalake(str(p), table(b), mode="append")
    meta = DeltaTable(str(p)).metadata().configuration
    if meta.get("delta.columnMapping.mode") != "name":
        sys.exit(f"error: column mapping not set: {meta}")
    check(p, a + b)
    return describe(p, a + b)


Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def z85(data: bytes) -> str:
    """ZeroMQ's Base85 (RFC 32), the encoding of DV UUIDs in the log."""
    assert len(data) % 4 == 0
    out = []
    for i in range(0, len(data), 4):
        n = int.from_bytes(data[i:i + 4], "big")
        digits = []
        for _ in range(5):
            n, r = divmod(n, 85)
            digits.append(Z85[r])
        out.extend(reversed(digits))
    return "".join(out)


def roaring_bitmap_array(positions: list[int]) -> bytes:
    """A RoaringBitmapArray (magic 1681511377, then one 32-bit bitmap with high key 0, in the
    portable Roaring format with one array container): PROTOCOL.md, Deletion Vector Format."""
    pos = sorted(positions)
    assert pos and pos[-1] < 4096
    container = b"".join(struct.pack("<H", x) for x in pos)
    bitmap = (struct.pack("<II", 12346, 1)            # cookie: no run containers; 1 container
              + struct.pack("<HH", 0, len(pos) - 1)   # key 0, cardinality - 1
              + struct.pack("<I", 16)                 # offset of the container's data
              + container)
    return struct.pack("<I", 1681511377) + struct.pack("<Q", 1) + struct.pack("<I", 0) + bitmap


def deletion_vectors(out: Path) -> dict:
    p = out / "deletion_vectors"
    all_rows = rows(range(10), "d")
    write_deltalake(str(p), table(all_rows), mode="append",
                    configuration={"delta.enableDeletionVectors": "true"})
    if "deletionVectors" not in (DeltaTable(str(p)).protocol().reader_features or []):
        sys.exit("error: delta-rs did not enable the deletionVectors reader feature")
    actions = [json.loads(line) for line in log_file(p, 0).read_text().splitlines()]
    add = next(a["add"] for a in actions if "add" in a)
    deleted = [2, 5]
    data = roaring_bitmap_array(deleted)
    dv_uuid = uuid.UUID("3f1c2a4e-9b7d-4e21-8c55-6a0d9e4b7f10")
    # The DV file: format version 1, then (at offset 1) the size, the bitmap and its CRC-32.
    (p / f"deletion_vector_{dv_uuid}.bin").write_bytes(
        b"\x01" + struct.pack(">I", len(data)) + data + struct.pack(">I", zlib.crc32(data)))
    now = add["modificationTime"] + 1
    readd = dict(add, dataChange=True, deletionVector={
        "storageType": "u", "pathOrInlineDv": z85(dv_uuid.bytes), "offset": 1,
        "sizeInBytes": len(data), "cardinality": len(deleted)})
    remove = {"path": add["path"], "dataChange": True, "deletionTimestamp": now,
              "extendedFileMetadata": True, "partitionValues": {}, "size": add["size"]}
    commit = {"timestamp": now, "operation": "DELETE", "readVersion": 0,
              "operationParameters": {"predicate": "id IN (2, 5)"}}
    log_file(p, 1).write_text("".join(json.dumps(a) + "\n" for a in
                                      ({"commitInfo": commit}, {"remove": remove}, {"add": readd})))
    kept = [r for r in all_rows if r["id"] not in deleted]
    check(p, kept)
    polars_ids = sorted(pl.read_delta(str(p))["id"].to_list())
    if polars_ids != [r["id"] for r in kept]:
        sys.exit(f"error: polars reads ids {polars_ids} from the DV table")
    return describe(p, kept, deleted_ids=deleted)


def unsupported_feature(out: Path, source: Path) -> dict:
    p = out / "unsupported_feature"
    shutil.copytree(source, p)
    f = log_file(p, 0)
    lines = []
    for line in f.read_text().splitlines():
        a = json.loads(line)
        if "protocol" in a:
            a["protocol"] = {"minReaderVersion": 3, "minWriterVersion": 7,
                             "readerFeatures": ["discoMadeUpFeature"],
                             "writerFeatures": ["discoMadeUpFeature"]}
        lines.append(json.dumps(a, separators=(",", ":")))
    f.write_text("\n".join(lines) + "\n")
    try:
        DeltaTable(str(p)).to_pyarrow_table()
        sys.exit("error: delta-rs reads a table with an unknown reader feature")
    except Exception as e:  # delta-rs refuses it too: the fixture is what we mean
        refused = str(e)
    return {"path": str(p), "feature": "discoMadeUpFeature", "delta_rs_error": refused[:300]}


def corrupt_log(out: Path, source: Path) -> dict:
    p = out / "corrupt_log"
    shutil.copytree(source, p)
    f = log_file(p, 2)
    text = f.read_bytes()
    f.write_bytes(text[: len(text) // 2])
    return {"path": str(p), "corrupt_commit": f.name, "version": 2}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tables = {}
    tables["checkpointed"] = checkpointed(out)
    tables["overwritten"] = overwritten(out)
    tables["partitioned"] = partitioned(out)
    tables["versions"] = versions(out)
    tables["column_mapping"] = column_mapping(out)
    tables["deletion_vectors"] = deletion_vectors(out)
    tables["unsupported_feature"] = unsupported_feature(out, out / "versions")
    tables["corrupt_log"] = corrupt_log(out, out / "versions")
    print(json.dumps({"deltalake": deltalake.__version__, "tables": tables}, indent=1))
    sys.stdout.flush()
    # deltalake's threads can abort the interpreter at exit, after the manifest is printed.
    os._exit(0)


if __name__ == "__main__":
    main()
