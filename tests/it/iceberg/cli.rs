//! Iceberg tables through the `disco` binary: `disco read` (current and older snapshots) and
//! `disco catalog show` on PyIceberg's tables; `disco run` creating, appending to and
//! overwriting a table PyIceberg and polars then read; a run killed mid-way and rerun; a
//! failed part committed by the rerun; three sharded processes filling one table; and the
//! errors for an unknown table, a catalog that does not answer and rows that do not fit.
//! One SQLite catalog per test, shared with PyIceberg.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::pyiceberg;
use crate::pipeline::python;
use crate::support::{disco, json_lines, run};

/// A folder with a `disco.toml` naming a SQL catalog on `cat.db` (by its absolute path, as
/// users write it) and a warehouse beside it; `lake_catalog` is the name PyIceberg records.
fn lake(extra: &str) -> tempfile::TempDir {
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

fn disco_in(dir: &Path) -> Command {
    let mut cmd = disco();
    cmd.current_dir(dir)
        .env("DISCO_CATALOG", dir.join("disco.toml"));
    cmd
}

fn ok(cmd: &mut Command) -> (String, String) {
    let (out, stdout, stderr) = run(cmd);
    assert!(out.status.success(), "failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// `disco read target` as rows sorted by id.
fn read(dir: &Path, target: &str) -> Vec<Value> {
    let (stdout, _) = ok(disco_in(dir).args(["read", target]));
    let mut rows = json_lines(&stdout);
    rows.sort_by_key(|r| r["id"].as_i64());
    rows
}

fn ids_of(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// `disco catalog show name`'s metadata lines (`key: value`, after the catalog entry).
fn show(dir: &Path, name: &str) -> String {
    ok(disco_in(dir).args(["catalog", "show", name])).0
}

/// The ids PyIceberg reads in `db.<table>` (its current snapshot), sorted.
fn pyiceberg_ids(py: &Path, dir: &Path, table: &str) -> Vec<i64> {
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
fn ndjson(dir: &Path, sub: &str, parts: usize, rows: usize, first: usize) {
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

/// The committed ids of `events` as PyIceberg reads them, checked to be whole parts of
/// `rows` rows each: the part indices found.
fn whole_parts(py: &Path, dir: &Path, rows: i64) -> BTreeSet<i64> {
    let ids = pyiceberg_ids(py, dir, "events");
    let parts: BTreeSet<i64> = ids.iter().map(|i| i / rows).collect();
    let want: Vec<i64> = parts
        .iter()
        .flat_map(|p| p * rows..(p + 1) * rows)
        .collect();
    assert_eq!(ids, want, "only whole parts, each once");
    parts
}

#[test]
fn a_killed_run_into_iceberg_commits_nothing_partial_and_a_rerun_has_every_row_once() {
    let Some(py) = python() else { return };
    let dir = lake("");
    let d = dir.path();
    ndjson(d, "in", 8, 25, 0);
    let args = [
        "run",
        "--input",
        "file://in/*.ndjson",
        "--output",
        "events",
        "--quiet",
    ];
    // Aborted (no cleanup) after part 3's data files are written, before they are committed.
    let (o, _, stderr) = run(disco_in(d).args(args).env("DISCO_CRASH_AT_PART", "3"));
    assert!(!o.status.success(), "{stderr}");
    let done = whole_parts(&py, d, 25);
    assert!(!done.contains(&3), "part 3 was never committed: {done:?}");
    let shown = show(d, "events");
    assert!(
        shown.contains(&format!("rows: {}", done.len() * 25)),
        "{shown}"
    );

    let (_, stderr) = ok(disco_in(d).args(args));
    let summary = format!(
        "8 parts ({} written, {} already done)",
        8 - done.len(),
        done.len()
    );
    assert!(stderr.contains(&summary), "no `{summary}` in: {stderr}");
    let (_, stderr) = ok(disco_in(d).args(args));
    assert!(
        stderr.contains("8 parts (0 written, 8 already done)"),
        "{stderr}"
    );
    assert_eq!(
        pyiceberg_ids(&py, d, "events"),
        (0..200).collect::<Vec<_>>()
    );
    assert_eq!(ids_of(&read(d, "events")), (0..200).collect::<Vec<_>>());

    // A real SIGKILL mid-run, once it has written two new table metadata files (a commit
    // made, the next one on its way), wherever it is then; a rerun still has every row once.
    ndjson(d, "many", 40, 25, 1000);
    let args = [
        "run",
        "--input",
        "file://many/*.ndjson",
        "--output",
        "events",
        "--quiet",
    ];
    let metadata = || files_ending(&d.join("wh"), ".metadata.json");
    let before = metadata();
    let mut child = disco_in(d)
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while metadata() < before + 2 && child.try_wait().unwrap().is_none() {
        std::thread::yield_now();
    }
    let _ = child.kill();
    let _ = child.wait();
    let killed = whole_parts(&py, d, 25);
    assert!(killed.is_superset(&(0..8).collect()), "{killed:?}");
    ok(disco_in(d).args(args));
    let want: Vec<i64> = (0..200).chain(1000..2000).collect();
    assert_eq!(pyiceberg_ids(&py, d, "events"), want);

    // An overwrite killed after its first parts: they replaced every row, and its rerun
    // appends the rest (it does not erase what its first run committed).
    let args = [
        "run",
        "--input",
        "file://in/*.ndjson",
        "--output",
        "events",
        "--overwrite",
        "--job",
        "replace",
        "--quiet",
    ];
    let (o, _, stderr) = run(disco_in(d).args(args).env("DISCO_CRASH_AT_PART", "3"));
    assert!(!o.status.success(), "{stderr}");
    assert_eq!(whole_parts(&py, d, 25), BTreeSet::from([0, 1, 2]));
    ok(disco_in(d).args(args));
    assert_eq!(
        pyiceberg_ids(&py, d, "events"),
        (0..200).collect::<Vec<_>>()
    );
}

/// How many files under `dir` have a name ending in `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                files_ending(&p, suffix)
            } else {
                usize::from(e.file_name().to_string_lossy().ends_with(suffix))
            }
        })
        .sum()
}

#[test]
fn a_failed_part_is_committed_by_the_rerun_and_the_parts_after_it_are_not_redone() {
    let Some(py) = python() else { return };
    let dir = lake("");
    let d = dir.path();
    ndjson(d, "in", 4, 3, 0);
    let args = [
        "run",
        "--input",
        "file://in/*.ndjson",
        "--output",
        "events",
        "--quiet",
    ];
    // Part 1 fails; parts 2 and 3 commit after it (under their own app, so that part 1 can
    // still be committed later).
    let (o, _, stderr) = run(disco_in(d)
        .args(args)
        .env("DISCO_FAULT_READING_PART", "1:error"));
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("4 parts (3 written, 0 already done, 1 failed)"),
        "{stderr}"
    );
    assert_eq!(whole_parts(&py, d, 3), BTreeSet::from([0, 2, 3]));
    let (_, stderr) = ok(disco_in(d).args(args));
    assert!(
        stderr.contains("4 parts (1 written, 3 already done)"),
        "{stderr}"
    );
    let (_, stderr) = ok(disco_in(d).args(args));
    assert!(
        stderr.contains("4 parts (0 written, 4 already done)"),
        "{stderr}"
    );
    assert_eq!(pyiceberg_ids(&py, d, "events"), (0..12).collect::<Vec<_>>());
}

#[test]
fn three_sharded_processes_fill_one_iceberg_table_that_the_first_creates() {
    let Some(py) = python() else { return };
    let dir = lake("");
    let d = dir.path();
    ndjson(d, "in", 9, 20, 0);
    let children: Vec<_> = (0..3)
        .map(|i| {
            disco_in(d)
                .args([
                    "run",
                    "--input",
                    "file://in/*.ndjson",
                    "--output",
                    "events",
                    "--quiet",
                    "--shard",
                    &format!("{i}/3"),
                ])
                .stderr(Stdio::piped())
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
    assert_eq!(
        pyiceberg_ids(&py, d, "events"),
        (0..180).collect::<Vec<_>>()
    );
    let shown = show(d, "events");
    assert!(shown.contains("rows: 180"), "{shown}");
    // One snapshot per part: none lost to a concurrent commit.
    let got = pyiceberg(
        &py,
        d,
        "print(json.dumps(len([s for s in cat.load_table('db.events').snapshots() if s.summary.operation.value == 'append'])))\n",
    );
    assert_eq!(got, json!(9));
}

#[test]
fn an_unknown_table_a_silent_catalog_or_rows_that_do_not_fit_fail_with_exit_1() {
    // Nothing listens on a port just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = lake(&format!(
        r#"
[tables.ghost]
format = "iceberg"
catalog = "lake_catalog"
table = "db.ghost"

[catalogs.remote]
type = "rest"
uri = "http://127.0.0.1:{port}"

[tables.far]
format = "iceberg"
catalog = "remote"
table = "db.far"
"#
    ));
    let d = dir.path();
    ndjson(d, "in", 1, 2, 0);
    let fails = |args: &[&str]| {
        let (o, stdout, stderr) = run(disco_in(d).args(args));
        assert_eq!(o.status.code(), Some(1), "{args:?}:\n{stdout}\n{stderr}");
        assert!(stdout.is_empty(), "{args:?} wrote rows: {stdout}");
        stderr
    };

    let err = fails(&["read", "ghost"]);
    assert!(
        err.contains("ghost") && err.contains("no table `db.ghost` in catalog `lake_catalog`"),
        "{err}"
    );
    let shown = show(d, "ghost");
    assert!(
        shown.contains("# metadata: cannot be read:") && shown.contains("db.ghost"),
        "{shown}"
    );

    // A snapshot the table never had.
    ok(disco_in(d).args([
        "run",
        "--input",
        "file://in/*.ndjson",
        "--output",
        "events",
        "--quiet",
    ]));
    let err = fails(&["read", "events@42"]);
    assert!(
        err.contains("lake_catalog:db.events") && err.contains("no snapshot 42"),
        "{err}"
    );

    // Rows whose types do not fit the table are refused before any part is written.
    std::fs::write(d.join("bad.ndjson"), "{\"id\": \"seven\"}\n").unwrap();
    let before = show(d, "events");
    let err = fails(&[
        "run",
        "--input",
        "file://bad.ndjson",
        "--output",
        "events",
        "--quiet",
    ]);
    assert!(
        err.contains(
            "Iceberg table `lake_catalog:db.events`: column `id` is Utf8, the table's is Int64"
        ),
        "{err}"
    );
    assert!(!err.contains("parts ("), "nothing was run: {err}");
    assert_eq!(show(d, "events"), before, "no snapshot added");

    for args in [
        &["read", "far"][..],
        &[
            "run",
            "--input",
            "file://in/*.ndjson",
            "--output",
            "far",
            "--quiet",
        ],
    ] {
        // The table, the catalog's address and the cause, each said once.
        let err = fails(args);
        assert!(
            err.contains("Iceberg table `remote:db.far`"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.matches(&format!("127.0.0.1:{port}")).count(),
            1,
            "{args:?}: {err}"
        );
    }
    let shown = show(d, "far");
    assert!(shown.contains("# metadata: cannot be read:"), "{shown}");
}
