//! Delta tables Disco writes, read back by the real readers (delta-rs's DataFusion reader,
//! its pyarrow dataset, polars) and by Disco: append, overwrite, partitions with a null
//! value, checkpoints at the table's interval, the schema check and `--schema-mode merge`,
//! and three sharded processes appending to one table delta-rs created.
//!
//! The kill-and-rerun and the sharded tests of `pipeline.rs` and `part_failures.rs` run on
//! Delta too; these add what they do not: tables made by another writer, and the log.

use std::path::Path;

use serde_json::{json, Value};

use crate::lakehouse::{
    assert_rows, commits, disco_in, lake, numbers_on_line, read_rows, row_set, workspace,
};
use crate::pipeline::py;
use crate::support::run;

/// What delta-rs, pyarrow (through delta-rs's dataset) and polars read from a table, at a
/// version or the latest.
fn python_reads(table: &Path, version: Option<u64>) -> Value {
    py(
        "import sys, json, pyarrow as pa, polars as pl\n\
         from deltalake import DeltaTable, QueryBuilder\n\
         p, v = sys.argv[1], (int(sys.argv[2]) if sys.argv[2] else None)\n\
         t = DeltaTable(p, version=v)\n\
         q = pa.table(QueryBuilder().register('t', t).execute('SELECT * FROM t').read_all()).to_pylist()\n\
         d = t.to_pyarrow_dataset().to_table().to_pylist()\n\
         o = pl.read_delta(p, version=v).to_dicts()\n\
         print(json.dumps({'deltalake': q, 'pyarrow': d, 'polars': o, 'version': t.version(),\n\
           'partition_columns': t.metadata().partition_columns,\n\
           'columns': [f.name for f in t.schema().fields]}, default=str))",
        &[
            table.to_str().unwrap(),
            &version.map(|v| v.to_string()).unwrap_or_default(),
        ],
    )
}

fn assert_python_reads(table: &Path, version: Option<u64>, want: &Value, what: &str) -> Value {
    let got = python_reads(table, version);
    for reader in ["deltalake", "pyarrow", "polars"] {
        assert_rows(
            got[reader].as_array().unwrap(),
            want,
            &format!("{what}: {reader}"),
        );
    }
    got
}

/// Rows with ids `ids`: a nullable name and city, a float fare, an int year.
fn rows(ids: std::ops::Range<i64>) -> Value {
    let cities = [json!("Lyon"), json!("Porto"), Value::Null];
    Value::Array(
        ids.map(|i| {
            json!({
                "id": i,
                "name": if i % 5 == 4 { Value::Null } else { json!(format!("n{i}")) },
                "fare": i as f64 * 0.25 + 1.5,
                "city": cities[(i % 3) as usize],
                "year": 2024 + i % 2,
            })
        })
        .collect(),
    )
}

fn write_ndjson(dir: &Path, name: &str, rows: &Value) {
    let text: String = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    std::fs::write(dir.join(name), text).unwrap();
}

/// `disco run --input file://INPUT --output OUTPUT --format delta ARGS`, asserting exit 0.
fn disco_write(dir: &Path, input: &str, output: &str, args: &[&str]) {
    let (out, _, stderr) = run(disco_in(dir)
        .args([
            "run",
            "--input",
            &format!("file://{input}"),
            "--output",
            output,
        ])
        .args(["--format", "delta", "--quiet"])
        .args(args));
    assert!(
        out.status.success(),
        "disco run {input} -> {output} {args:?}: {stderr}"
    );
}

fn concat(a: &Value, b: &Value) -> Value {
    let mut v = a.as_array().unwrap().clone();
    v.extend(b.as_array().unwrap().iter().cloned());
    Value::Array(v)
}

#[test]
fn appended_and_overwritten_tables_read_back_in_deltalake_polars_pyarrow_and_disco() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.trips]\nurl = \"ws://out/trips\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    let table = dir.join("out/trips");
    let (a, b, c) = (rows(0..10), rows(10..15), rows(100..104));
    write_ndjson(dir, "a.ndjson", &a);
    write_ndjson(dir, "b.ndjson", &b);
    write_ndjson(dir, "c.ndjson", &c);
    disco_write(dir, "a.ndjson", "file://out/trips", &[]);
    disco_write(dir, "b.ndjson", "trips", &[]);
    let ab = concat(&a, &b);
    let got = assert_python_reads(&table, None, &ab, "appended");
    // v1 when the first commit creates the table with its rows (as delta-rs does); not
    // assumed, so a table created by a commit of its own is not failed here.
    let appended = got["version"].as_u64().unwrap();
    assert_rows(
        &read_rows(dir, "trips", &[]),
        &ab,
        "disco reads its appends",
    );
    // An overwrite: the earlier files are removed from the table, not from its history.
    disco_write(dir, "c.ndjson", "trips", &["--overwrite"]);
    assert_python_reads(&table, None, &c, "overwritten");
    assert_python_reads(&table, Some(appended), &ab, "before the overwrite");
    assert_rows(
        &read_rows(dir, "trips", &[]),
        &c,
        "disco after the overwrite",
    );
    let at = format!("trips@v{appended}");
    assert_rows(&read_rows(dir, &at, &[]), &ab, &at);
    let (out, stdout, stderr) = run(disco_in(dir).args(["catalog", "show", "trips"]));
    assert!(out.status.success(), "{stderr}");
    assert!(numbers_on_line(&stdout, "rows").contains(&4), "{stdout}");
    assert!(
        numbers_on_line(&stdout, "version").contains(&(appended + 1)),
        "{stdout}"
    );
}

#[test]
fn partitioned_tables_keep_their_partition_values_null_included() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.parts]\nurl = \"ws://out/parts\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    let all = rows(0..30);
    write_ndjson(dir, "a.ndjson", &all);
    disco_write(
        dir,
        "a.ndjson",
        "parts",
        &["--partition-by", "city", "--partition-by", "year"],
    );
    let got = assert_python_reads(&dir.join("out/parts"), None, &all, "partitioned");
    assert_eq!(got["partition_columns"], json!(["city", "year"]));
    let back = read_rows(dir, "parts", &[]);
    assert_rows(&back, &all, "disco reads its partitions");
    assert!(back.iter().any(|r| r["city"].is_null()), "{back:?}");
}

/// A table made by delta-rs with `configuration` and one row (id -1), at version 0; its
/// columns in the order Disco infers them from `rows()` as NDJSON (keys sorted).
fn delta_rs_table(path: &Path, configuration: &str) {
    py(
        "import sys, json, pyarrow as pa\nfrom deltalake import write_deltalake\n\
         t = pa.table({'city': pa.array([None], pa.string()), 'fare': [0.5],\n\
           'id': pa.array([-1], pa.int64()), 'name': ['seed'], 'year': pa.array([2024], pa.int64())})\n\
         write_deltalake(sys.argv[1], t, configuration=json.loads(sys.argv[2]))\nprint('{}')",
        &[path.to_str().unwrap(), configuration],
    );
}

fn seed() -> Value {
    json!([{"id": -1, "name": "seed", "fare": 0.5, "city": null, "year": 2024}])
}

/// The checkpoint versions in a table's log.
fn checkpoints(table: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            let (version, rest) = n.split_once('.')?;
            // Classic, multi-part (`.checkpoint.k.n.parquet`) or V2 (`.checkpoint.UUID.json`).
            rest.starts_with("checkpoint")
                .then(|| version.parse().ok())?
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn checkpoints_are_written_at_the_tables_interval_and_hold_the_whole_table() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.t]\nurl = \"ws://t\"\nformat = \"delta\"\n[tables.pruned]\nurl = \"ws://pruned\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    let table = dir.join("t");
    delta_rs_table(&table, r#"{"delta.checkpointInterval": "5"}"#);
    let mut want = seed();
    for k in 0..6 {
        let r = rows(k * 10..k * 10 + 10);
        write_ndjson(dir, &format!("in{k}.ndjson"), &r);
        disco_write(dir, &format!("in{k}.ndjson"), "t", &[]);
        want = concat(&want, &r);
    }
    // Versions 1..=6 are Disco's; the interval is 5.
    assert_eq!(checkpoints(&table), [5], "{:?}", commits(&table));
    assert_python_reads(&table, None, &want, "with a checkpoint");
    assert_rows(&read_rows(dir, "t", &[]), &want, "disco");
    // The checkpoint alone (the commits it covers deleted) still holds every file.
    let pruned = dir.join("pruned");
    std::fs::rename(&table, &pruned).unwrap();
    for v in 0..=5 {
        std::fs::remove_file(pruned.join(format!("_delta_log/{v:020}.json"))).unwrap();
    }
    assert_python_reads(&pruned, None, &want, "from the checkpoint");
    assert_rows(
        &read_rows(dir, "pruned", &[]),
        &want,
        "disco from its checkpoint",
    );
}

#[test]
fn a_batch_that_does_not_fit_the_table_is_refused_unless_merged() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.events]\nurl = \"ws://out/events\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    let table = dir.join("out/events");
    std::fs::write(
        dir.join("a.ndjson"),
        "{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"name\": \"b\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("extra.ndjson"),
        "{\"id\": 3, \"name\": \"c\", \"score\": 7}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("typed.ndjson"),
        "{\"id\": \"four\", \"name\": \"d\"}\n",
    )
    .unwrap();
    disco_write(dir, "a.ndjson", "events", &[]);
    let before = commits(&table);
    for (input, column) in [("extra.ndjson", "score"), ("typed.ndjson", "id")] {
        let (out, _, stderr) = run(disco_in(dir).args([
            "run",
            "--input",
            &format!("file://{input}"),
            "--output",
            "events",
            "--format",
            "delta",
            "--quiet",
        ]));
        assert_eq!(out.status.code(), Some(1), "{input}: {stderr}");
        assert!(
            stderr.contains("events"),
            "{input}: names the table: {stderr}"
        );
        assert!(
            stderr.contains(&format!("`{column}`")),
            "{input}: names the column `{column}`: {stderr}"
        );
        assert_eq!(commits(&table), before, "{input}: nothing committed");
    }
    // Merge adds the new column, nullable; the old rows read it as null.
    disco_write(dir, "extra.ndjson", "events", &["--schema-mode", "merge"]);
    let want = json!([
        {"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c", "score": 7}
    ]);
    let got = assert_python_reads(&table, None, &want, "merged");
    assert_eq!(got["columns"], json!(["id", "name", "score"]));
    assert_rows(
        &read_rows(dir, "events", &[]),
        &want,
        "disco after the merge",
    );
    // A column type that does not fit is still refused under merge.
    let (out, _, stderr) = run(disco_in(dir).args([
        "run",
        "--input",
        "file://typed.ndjson",
        "--output",
        "events",
        "--format",
        "delta",
        "--schema-mode",
        "merge",
        "--quiet",
    ]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`id`"), "{stderr}");
}

#[test]
fn three_shards_append_to_a_delta_rs_table_with_frequent_checkpoints() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.shared]\nurl = \"ws://shared\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    let table = dir.join("shared");
    // Every second version is a checkpoint: the shards' commits race with each other's
    // checkpoints as well as with each other.
    delta_rs_table(&table, r#"{"delta.checkpointInterval": "2"}"#);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let mut want = seed();
    for p in 0..9 {
        let r = rows(p * 20..p * 20 + 20);
        write_ndjson(&dir.join("in"), &format!("p{p}.ndjson"), &r);
        want = concat(&want, &r);
    }
    let children: Vec<_> = (0..3)
        .map(|i| {
            disco_in(dir)
                .args(["run", "--input", "file://in/*.ndjson", "--output", "shared"])
                .args(["--format", "delta", "--quiet", "--shard", &format!("{i}/3")])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("3 parts (3 written"), "{stderr}");
    }
    let got = assert_python_reads(&table, None, &want, "sharded");
    assert_eq!(
        got["version"],
        9,
        "one commit per part: {:?}",
        commits(&table)
    );
    assert!(!checkpoints(&table).is_empty(), "{:?}", commits(&table));
    let back = read_rows(dir, "shared", &[]);
    assert_eq!(back.len(), 181);
    assert_eq!(row_set(&back), row_set(want.as_array().unwrap()));
}

#[test]
fn a_delta_rs_table_copied_by_disco_keeps_its_dates_timestamps_and_nulls() {
    let Some(lake) = lake() else { return };
    let ws = workspace(
        lake,
        "[tables.source]\nurl = \"lake://checkpointed\"\nformat = \"delta\"\n\
         [tables.copy]\nurl = \"ws://out/copy\"\nformat = \"delta\"\n",
    );
    let dir = ws.path();
    // The benchmark's job (bench/lakehouse.sh), on a table with a checkpoint.
    let (out, _, stderr) = run(disco_in(dir).args([
        "run", "--input", "source", "--output", "copy", "--format", "delta", "--quiet",
    ]));
    assert!(out.status.success(), "{stderr}");
    let want = &lake.table("checkpointed")["rows"];
    assert_python_reads(&dir.join("out/copy"), None, want, "copied");
    assert_rows(&read_rows(dir, "copy", &[]), want, "disco reads its copy");
}

/// The encodings of each column in a table's data files, as pyarrow reads their footers.
fn encodings(table: &Path) -> Value {
    py(
        "import sys, json, glob, pyarrow.parquet as pq\n\
         out = {}\n\
         for f in glob.glob(sys.argv[1] + '/*.parquet'):\n\
         \x20   m = pq.ParquetFile(f).metadata\n\
         \x20   for g in range(m.num_row_groups):\n\
         \x20       for c in range(m.num_columns):\n\
         \x20           col = m.row_group(g).column(c)\n\
         \x20           out.setdefault(col.path_in_schema, set()).update(col.encodings)\n\
         print(json.dumps({k: sorted(v) for k, v in out.items()}))",
        &[table.to_str().unwrap()],
    )
}

#[test]
fn nearly_unique_columns_are_written_without_a_dictionary_and_read_back_the_same() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, "");
    let dir = ws.path();
    let table = dir.join("out/wide");
    let all = rows(0..5000);
    write_ndjson(dir, "a.ndjson", &all);
    disco_write(dir, "a.ndjson", "file://out/wide", &[]);
    let enc = encodings(&table);
    let dictionary = |c: &str| {
        enc[c]
            .as_array()
            .unwrap_or_else(|| panic!("no column {c}: {enc}"))
            .contains(&json!("RLE_DICTIONARY"))
    };
    // Ids, names and fares are (nearly) all distinct: a dictionary would only cost.
    for c in ["id", "name", "fare"] {
        assert!(!dictionary(c), "{c} has a dictionary: {enc}");
    }
    // Cities and years repeat: they keep theirs.
    for c in ["city", "year"] {
        assert!(dictionary(c), "{c} lost its dictionary: {enc}");
    }
    assert_python_reads(&table, None, &all, "written without dictionaries");
}

#[test]
fn data_files_roll_at_the_tables_target_file_size_and_commit_together() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, "[tables.t]\nurl = \"ws://t\"\nformat = \"delta\"\n");
    let dir = ws.path();
    let table = dir.join("t");
    // 64 KiB files: each lane of the one part puts several.
    delta_rs_table(&table, r#"{"delta.targetFileSize": "65536"}"#);
    let r = rows(0..30_000);
    write_ndjson(dir, "in.ndjson", &r);
    disco_write(dir, "in.ndjson", "t", &[]);
    let log = std::fs::read_to_string(table.join("_delta_log/00000000000000000001.json")).unwrap();
    let adds: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|a| a.get("add").cloned())
        .collect();
    assert!(adds.len() > 2, "one commit adds the rolled files: {log}");
    let counted: u64 = adds
        .iter()
        .map(|a| {
            let stats: Value = serde_json::from_str(a["stats"].as_str().unwrap()).unwrap();
            stats["numRecords"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(counted, 30_000, "each file's statistics count its own rows");
    assert_eq!(commits(&table).len(), 2, "{:?}", commits(&table));
    assert_python_reads(&table, None, &concat(&seed(), &r), "rolled files");
}
