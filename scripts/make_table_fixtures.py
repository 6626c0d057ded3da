#!/usr/bin/env python3
"""Writes fixtures/tables/trips.* (deterministic) — the table fixtures of the readers, codecs and
validator tests. Needs pyarrow (scripts/requirements-pipeline.txt) and the zstd CLI for .zst.

  python scripts/make_table_fixtures.py            # (re)write fixtures/tables/trips.*
  python scripts/make_table_fixtures.py --check    # rewrite into a temp dir and compare
  python scripts/make_table_fixtures.py --verify   # read every fixture with pyarrow (and polars
                                                   # when installed), validate with jsonschema

50 taxi trips; 5 of them violate fixtures/schemas/trip.json (see fixtures/tables/README.md):
  trip_id  7  fare_amount missing (ndjson: key absent; csv: empty cell; parquet: null)
  trip_id 13  payment_type has the wrong type (ndjson: the number 1; csv/parquet: the string "1")
  trip_id 21  fare_amount negative (-5.5)
  trip_id 34  passenger_count 9 (> maximum 6)
  trip_id 42  vendor_id 3 (not in enum [1, 2])
"""
import argparse
import bz2
import csv
import datetime as dt
import filecmp
import gzip
import io
import json
import lzma
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "fixtures" / "tables"

COLUMNS = ["trip_id", "vendor_id", "pickup_at", "dropoff_at", "passenger_count", "trip_distance",
           "pickup_zone", "dropoff_zone", "payment_type", "fare_amount", "tip_amount", "total_amount"]
ZONES = ["JFK Airport", "LaGuardia Airport", "Midtown Center", "Upper East Side South",
         "Upper West Side South", "East Village", "Times Sq/Theatre District", "Murray Hill",
         "Lincoln Square East", "West Chelsea/Hudson Yards", "Financial District North",
         "Greenwich Village North", "Union Sq", "Clinton East", "Battery Park City",
         "Newark Airport, NJ"]  # the comma exercises CSV quoting
PAYMENTS = ["card", "card", "card", "cash", "cash", "no_charge", "dispute"]
MISSING = object()  # a field left out


def trips():
    rnd = random.Random(20240103)
    t0 = dt.datetime(2024, 1, 3, 6, 0, 0)
    rows = []
    for i in range(1, 51):
        pickup = t0 + dt.timedelta(minutes=17 * i + rnd.randint(0, 9))
        minutes = rnd.randint(4, 55)
        dist = round(minutes * rnd.uniform(0.12, 0.45), 2)
        fare = round(3.0 + dist * 2.5 + minutes * 0.5, 2)
        pay = rnd.choice(PAYMENTS)
        tip = round(fare * rnd.choice([0.0, 0.15, 0.2, 0.25]), 2) if pay == "card" else 0.0
        row = {
            "trip_id": i,
            "vendor_id": 1 + (i % 2),
            "pickup_at": pickup,
            "dropoff_at": pickup + dt.timedelta(minutes=minutes),
            "passenger_count": rnd.choice([1, 1, 1, 2, 2, 3, 4, 5]),
            "trip_distance": dist,
            "pickup_zone": rnd.choice(ZONES),
            "dropoff_zone": rnd.choice(ZONES),
            "payment_type": pay,
            "fare_amount": fare,
            "tip_amount": tip,
            "total_amount": round(fare + tip + 2.5, 2),
        }
        rows.append(row)
    rows[7 - 1]["fare_amount"] = MISSING
    rows[13 - 1]["payment_type"] = 1          # wrong type
    rows[21 - 1]["fare_amount"] = -5.5        # negative fare
    rows[21 - 1]["total_amount"] = -3.0
    rows[34 - 1]["passenger_count"] = 9       # out of range
    rows[42 - 1]["vendor_id"] = 3             # not in enum
    return rows


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def write_all(out: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    rows = trips()

    # ndjson: the canonical form (missing key, number in a string column)
    nd = io.StringIO()
    for r in rows:
        obj = {k: (iso(v) if isinstance(v, dt.datetime) else v) for k, v in r.items() if v is not MISSING}
        nd.write(json.dumps(obj, separators=(",", ":")) + "\n")
    ndjson = nd.getvalue().encode()
    (out / "trips.ndjson").write_bytes(ndjson)

    # csv: header, empty cell for the missing value, RFC 4180 quoting, \n line ends
    cs = io.StringIO()
    w = csv.writer(cs, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if r[c] is MISSING else iso(r[c]) if isinstance(r[c], dt.datetime) else r[c]
                    for c in COLUMNS])
    csv_bytes = cs.getvalue().encode()
    (out / "trips.csv").write_bytes(csv_bytes)

    # parquet: typed columns (timestamps as timestamp[us]), null for the missing value, "1" as text
    schema = pa.schema([
        ("trip_id", pa.int64()), ("vendor_id", pa.int64()),
        ("pickup_at", pa.timestamp("us")), ("dropoff_at", pa.timestamp("us")),
        ("passenger_count", pa.int64()), ("trip_distance", pa.float64()),
        ("pickup_zone", pa.string()), ("dropoff_zone", pa.string()), ("payment_type", pa.string()),
        ("fare_amount", pa.float64()), ("tip_amount", pa.float64()), ("total_amount", pa.float64()),
    ])
    cols = {c: [None if r[c] is MISSING else (str(r[c]) if c == "payment_type" else r[c]) for r in rows]
            for c in COLUMNS}
    table = pa.Table.from_pydict(cols, schema=schema)
    pq.write_table(table, out / "trips.parquet", compression="zstd", row_group_size=20)

    # codecs (deterministic: gzip without name and mtime)
    with open(out / "trips.csv.gz", "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
            g.write(csv_bytes)
    (out / "trips.csv.bz2").write_bytes(bz2.compress(csv_bytes))
    (out / "trips.ndjson.xz").write_bytes(lzma.compress(ndjson, format=lzma.FORMAT_XZ))
    zst = subprocess.run(["zstd", "-q", "-19", "-c", "--no-check"], input=ndjson, capture_output=True, check=True)
    (out / "trips.ndjson.zst").write_bytes(zst.stdout)


def to_json_value(v):
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return v


def verify() -> int:
    """Reads every trips.* with pyarrow, validates each row (nulls kept as JSON null) against
    fixtures/schemas/trip.json with Python jsonschema, and prints what each reader sees."""
    import jsonschema
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    schema = json.loads((ROOT / "fixtures" / "schemas" / "trip.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    ok = True

    def check(name, rows):
        nonlocal ok
        failed = {}
        for r in rows:
            errs = sorted(validator.iter_errors(r), key=lambda e: list(e.absolute_path))
            if errs:
                e = errs[0]
                failed[r.get("trip_id")] = ("/" + "/".join(map(str, e.absolute_path)), e.validator)
        passed = len(rows) - len(failed)
        print(f"{name:20} rows={len(rows)} pass={passed} fail={len(failed)} {failed}")
        ok &= len(rows) == 50 and passed == 45 and sorted(failed) == [7, 13, 21, 34, 42]

    def arrow_rows(t: pa.Table):
        return [{k: to_json_value(v) for k, v in r.items()} for r in t.to_pylist()]

    def ndjson_rows(data: bytes):
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def csv_types(t: pa.Table):
        return ", ".join(f"{f.name}:{f.type}" for f in t.schema)

    t = pcsv.read_csv(OUT / "trips.csv")
    print("pyarrow csv types:", csv_types(t))
    check("trips.csv (pyarrow)", arrow_rows(t))
    for codec, opener in (("gz", gzip.open), ("bz2", bz2.open)):
        with opener(OUT / f"trips.csv.{codec}", "rb") as f:
            check(f"trips.csv.{codec}", arrow_rows(pcsv.read_csv(io.BytesIO(f.read()))))
    nd = (OUT / "trips.ndjson").read_bytes()
    check("trips.ndjson", ndjson_rows(nd))
    with lzma.open(OUT / "trips.ndjson.xz", "rb") as f:
        check("trips.ndjson.xz", ndjson_rows(f.read()))
    with pa.input_stream(str(OUT / "trips.ndjson.zst"), compression="zstd") as f:
        check("trips.ndjson.zst", ndjson_rows(f.read()))
    try:
        pjson.read_json(OUT / "trips.ndjson")
        print("pyarrow read_json: ok")
    except pa.ArrowInvalid as e:
        print(f"pyarrow read_json: fails on the wrong-type row ({e})")
    t = pq.read_table(OUT / "trips.parquet")
    print("parquet types:", csv_types(t))
    check("trips.parquet", arrow_rows(t))
    try:
        import polars as pl

        print("polars csv:", pl.read_csv(OUT / "trips.csv").shape,
              "parquet:", pl.read_parquet(OUT / "trips.parquet").shape)
        try:
            print("polars ndjson:", pl.read_ndjson(OUT / "trips.ndjson").shape)
        except Exception as e:  # noqa: BLE001
            print(f"polars ndjson: fails on the wrong-type row ({type(e).__name__})")
    except ImportError:
        pass
    print("ok" if ok else "MISMATCH")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args()
    if args.verify:
        return verify()
    if not args.check:
        write_all(OUT)
        return 0
    with tempfile.TemporaryDirectory() as d:
        write_all(Path(d))
        names = sorted(p.name for p in Path(d).iterdir())
        _, mismatch, errors = filecmp.cmpfiles(d, OUT, names, shallow=False)
        # parquet embeds the writer's version: compare it by content
        if "trips.parquet" in mismatch:
            import pyarrow.parquet as pq
            if pq.read_table(Path(d) / "trips.parquet").equals(pq.read_table(OUT / "trips.parquet")):
                mismatch.remove("trips.parquet")
        if mismatch or errors:
            print(f"differ: {mismatch + errors}", file=sys.stderr)
            return 1
    print("fixtures/tables: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
