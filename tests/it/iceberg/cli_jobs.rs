//! Iceberg jobs through the `disco` binary that do not go as planned: a run killed mid-way
//! (an append and an overwrite) and rerun, a failed part committed by the rerun, three
//! sharded processes filling one table, and the errors for an unknown table, a catalog that
//! does not answer and rows that do not fit. Every row ends up in the table exactly once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;

use serde_json::json;

use super::cli::{disco_in, ids_of, lake, ndjson, ok, pyiceberg_ids, read, show};
use super::pyiceberg;
use crate::pipeline::python;
use crate::support::run;

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
    // Not an error for `catalog show`: an output table a run has not created yet.
    let shown = show(d, "ghost");
    assert!(
        shown.contains("# metadata: none: the table does not exist yet"),
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
    // `catalog show` prints the entry, then fails on the metadata it cannot read.
    let (o, shown, stderr) = run(disco_in(d).args(["catalog", "show", "far"]));
    assert_eq!(o.status.code(), Some(1), "{shown}\n{stderr}");
    assert!(shown.contains("# metadata: cannot be read:"), "{shown}");
    assert!(stderr.contains("table `far`: cannot be read"), "{stderr}");
}
