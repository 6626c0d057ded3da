//! Iceberg tables through the `disco` binary: `disco read` (current and older snapshots) and
//! `disco catalog show` on PyIceberg's tables, and `disco run` creating, appending to and
//! overwriting a table PyIceberg and polars then read. One SQLite catalog per test, shared
//! with PyIceberg; the helpers serve `cli_jobs` too.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use super::pyiceberg;
use crate::pipeline::python;
use crate::support::{disco, json_lines, run};

/// A folder with a `disco.toml` naming a SQL catalog on `cat.db` (by its absolute path, as
/// users write it) and a warehouse beside it; `lake_catalog` is the name PyIceberg records.
pub(super) fn lake(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
[catalogs.lake_catalog]
type = "sql"
uri = "sqlite:///{}/cat.db"
warehouse = "wh"

[tables.events]
format = "iceberg"
catalog = "lake_catalog"
table = "db.events"

[tables.parted]
format = "iceberg"
catalog = "lake_catalog"
table = "db.parted"
{extra}"#,
        dir.path().display()
    );
    std::fs::write(dir.path().join("disco.toml"), toml).unwrap();
    dir
}

pub(super) fn disco_in(dir: &Path) -> Command {
    let mut cmd = disco();
    cmd.current_dir(dir)
        .env("DISCO_CATALOG", dir.join("disco.toml"));
    cmd
}

pub(super) fn ok(cmd: &mut Command) -> (String, String) {
    let (out, stdout, stderr) = run(cmd);
    assert!(out.status.success(), "failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// `disco read target` as rows sorted by id.
pub(super) fn read(dir: &Path, target: &str) -> Vec<Value> {
    let (stdout, _) = ok(disco_in(dir).args(["read", target]));
    let mut rows = json_lines(&stdout);
    rows.sort_by_key(|r| r["id"].as_i64());
    rows
}

pub(super) fn ids_of(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// `disco catalog show name`'s metadata lines (`key: value`, after the catalog entry).
pub(super) fn show(dir: &Path, name: &str) -> String {
    ok(disco_in(dir).args(["catalog", "show", name])).0
}

/// The ids PyIceberg reads in `db.<table>` (its current snapshot), sorted.
pub(super) fn pyiceberg_ids(py: &Path, dir: &Path, table: &str) -> Vec<i64> {
    let got = pyiceberg(
        py,
        dir,
        &format!(
            "print(json.dumps(sorted(cat.load_table('db.{table}').scan().to_arrow().column('id').to_pylist())))\n"
        ),
    );
    serde_json::from_value(got).unwrap()
}

/// `parts` NDJSON files under `dir/sub`, `rows` rows each, ids from `first`, a region per row.
pub(super) fn ndjson(dir: &Path, sub: &str, parts: usize, rows: usize, first: usize) {
    std::fs::create_dir_all(dir.join(sub)).unwrap();
    for p in 0..parts {
        let mut s = String::new();
        for r in 0..rows {
            let id = first + p * rows + r;
            let region = ["eu", "us"][id % 2];
            s += &format!("{{\"id\": {id}, \"name\": \"n{id}\", \"region\": \"{region}\"}}\n");
        }
        std::fs::write(dir.join(format!("{sub}/p{p:03}.ndjson")), s).unwrap();
    }
}

#[test]
fn pyiceberg_tables_are_read_and_shown_by_the_cli_at_any_snapshot() {
    let Some(py) = python() else { return };
    let dir = lake("");
    let snaps = pyiceberg(
        &py,
        dir.path(),
        r#"
cat.create_namespace('db')
s = pa.schema([('id', pa.int64()), ('name', pa.string())])
t = cat.create_table('db.events', schema=s)
ids = []
t.append(pa.table({'id': [1, 2], 'name': ['a', 'b']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
t.append(pa.table({'id': [3], 'name': ['c']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
t.overwrite(pa.table({'id': [10, 11], 'name': ['x', 'y']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
ps = pa.schema([('id', pa.int64()), ('name', pa.string()), ('region', pa.string())])
p = cat.create_table('db.parted', schema=ps)
with p.update_spec() as u:
    u.add_identity('region')
p.append(pa.table({'id': [1, 2, 3], 'name': ['a', 'b', 'c'], 'region': ['eu', 'us', 'eu']}, schema=ps))
print(json.dumps(ids))
"#,
    );
    let snaps: Vec<i64> = serde_json::from_value(snaps).unwrap();
    let d = dir.path();

    // The overwrite replaced every row; older snapshots read as they were.
    assert_eq!(
        read(d, "events"),
        [
            json!({"id": 10, "name": "x"}),
            json!({"id": 11, "name": "y"})
        ]
    );
    assert_eq!(
        read(d, &format!("events@{}", snaps[1])),
        [
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "name": "b"}),
            json!({"id": 3, "name": "c"})
        ]
    );
    assert_eq!(ids_of(&read(d, &format!("events@{}", snaps[0]))), [1, 2]);
    assert_eq!(
        read(d, "parted"),
        [
            json!({"id": 1, "name": "a", "region": "eu"}),
            json!({"id": 2, "name": "b", "region": "us"}),
            json!({"id": 3, "name": "c", "region": "eu"})
        ]
    );

    let shown = show(d, "events");
    for line in [
        "# from the table's iceberg metadata:",
        &format!("version: {}", snaps[2]),
        "rows: 2",
        "files: 1",
        "partitioned by: \n",
        "  id: Int64",
        "  name: Utf8",
        "format version: 2",
    ] {
        assert!(shown.contains(line), "no `{line}` in:\n{shown}");
    }
    let shown = show(d, "parted");
    for line in ["rows: 3", "files: 2", "partitioned by: identity(region)\n"] {
        assert!(shown.contains(line), "no `{line}` in:\n{shown}");
    }

    // A snapshot pinned in the catalog entry is read and shown like `@id`.
    let pinned = format!(
        "[tables.old]\nformat = \"iceberg\"\ncatalog = \"lake_catalog\"\ntable = \"db.events\"\nversion = \"{}\"\n",
        snaps[1]
    );
    let toml = std::fs::read_to_string(d.join("disco.toml")).unwrap() + &pinned;
    std::fs::write(d.join("disco.toml"), toml).unwrap();
    assert_eq!(ids_of(&read(d, "old")), [1, 2, 3]);
    let shown = show(d, "old");
    assert!(
        shown.contains(&format!("version: {}", snaps[1])) && shown.contains("rows: 3"),
        "{shown}"
    );
}

#[test]
fn disco_run_creates_appends_and_overwrites_a_table_pyiceberg_and_polars_read() {
    let Some(py) = python() else { return };
    let dir = lake("");
    let d = dir.path();
    ndjson(d, "a", 2, 3, 0);
    ndjson(d, "b", 1, 4, 100);
    ndjson(d, "c", 1, 2, 200);
    let run_into = |input: &str, extra: &[&str]| {
        let mut cmd = disco_in(d);
        cmd.args(["run", "--input", input, "--output", "events", "--quiet"])
            .args(extra);
        ok(&mut cmd).1
    };

    // The first write creates the table, partitioned as asked; the second appends.
    let stderr = run_into("file://a/*.ndjson", &["--partition-by", "region"]);
    assert!(stderr.contains("2 parts (2 written"), "{stderr}");
    let created = show(d, "events");
    assert!(
        created.contains("rows: 6") && created.contains("partitioned by: identity(region)\n"),
        "{created}"
    );
    // Partitions asked of an existing table must be its own.
    let (o, _, stderr) = run(disco_in(d).args([
        "run",
        "--input",
        "file://b/*.ndjson",
        "--output",
        "events",
        "--partition-by",
        "name",
    ]));
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "lake_catalog:db.events: the table is partitioned by identity(region), not by identity(name)"
        ),
        "{stderr}"
    );
    run_into("file://b/*.ndjson", &["--partition-by", "region"]);
    let appended: Vec<i64> = (0..6).chain(100..104).collect();
    assert_eq!(pyiceberg_ids(&py, d, "events"), appended);
    assert_eq!(ids_of(&read(d, "events")), appended);
    let before = show(d, "events");
    assert!(before.contains("rows: 10"), "{before}");
    let before_id = before
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .to_string();

    // An overwrite replaces every row; the snapshot before it still reads as it was.
    run_into("file://c/*.ndjson", &["--overwrite"]);
    let got = pyiceberg(
        &py,
        d,
        &format!(
            r#"
import polars as pl
t = cat.load_table('db.events')
now = t.scan().to_arrow()
pol = pl.from_arrow(now).sort('id')
old = sorted(t.scan(snapshot_id={before_id}).to_arrow().column('id').to_pylist())
print(json.dumps({{'rows': pol.to_dicts(), 'old': old,
    'spec': [str(f.transform) + '(' + t.schema().find_column_name(f.source_id) + ')' for f in t.spec().fields],
    'op': t.current_snapshot().summary.operation.value,
    'schema': [(f.name, str(f.field_type)) for f in t.schema().fields]}}))
"#
        ),
    );
    assert_eq!(
        got["rows"],
        json!([
            {"id": 200, "name": "n200", "region": "eu"},
            {"id": 201, "name": "n201", "region": "us"}
        ])
    );
    assert_eq!(got["old"], json!(appended));
    assert_eq!(got["spec"], json!(["identity(region)"]));
    assert_eq!(got["op"], "overwrite");
    assert_eq!(
        got["schema"],
        json!([["id", "long"], ["name", "string"], ["region", "string"]])
    );
    assert_eq!(ids_of(&read(d, "events")), [200, 201]);
    assert_eq!(ids_of(&read(d, &format!("events@{before_id}"))), appended);
}
