//! A part that fails — a panic or an error while reading it, a stage that panics on its rows —
//! fails alone: it stays uncommitted, the run goes on with the other parts, the summary and
//! the exit code say so, and a rerun finishes the job with every row exactly once.
//!
//! The faults are injected (`DISCO_FAULT_READING_PART`, a registered stage that panics) into
//! the real binary and the real API, on real files.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::support::{disco, run, write};

/// Three CSV parts of three rows each: ids 0..9.
fn three_parts(root: &Path) {
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        let rows: String = (0..3)
            .map(|i| format!("{},row{}\n", k * 3 + i, k * 3 + i))
            .collect();
        write(
            root,
            &format!("parts/{name}.csv"),
            format!("id,x\n{rows}").as_bytes(),
        );
    }
}

fn disco_at(dir: &Path) -> Command {
    let mut cmd = disco();
    cmd.current_dir(dir);
    cmd
}

/// Every file under `dir`, hidden ones included.
fn all_files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel);
            }
        }
    }
    out
}

/// The ids of an NDJSON text.
fn ids(ndjson: &str) -> Vec<i64> {
    let mut v: Vec<i64> = ndjson
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_panic_while_reading_one_part_fails_that_part_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    let args = [
        "run",
        "--input",
        "file://parts/*.csv",
        "--output",
        "file://out/",
        "--quiet",
    ];
    let (out, _, stderr) = run(disco_at(dir.path())
        .args(args)
        .env("DISCO_FAULT_READING_PART", "1"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("3 parts (2 written, 0 already done, 1 failed)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rows in 6 = 6 passed + 0 rejected"),
        "{stderr}"
    );
    assert!(
        stderr.contains("part 1 (b.csv): reading b.csv panicked: injected panic"),
        "the failure names the part and its file: {stderr}"
    );
    // Part 1 left nothing behind: no part file, no hidden temporary file.
    let files = all_files(&dir.path().join("out"));
    assert_eq!(
        files,
        BTreeSet::from(["part-000000.parquet".into(), "part-000002.parquet".into()]),
        "{files:?}"
    );
    // The rerun does only the failed part; then every row is there exactly once.
    let (out, _, stderr) = run(disco_at(dir.path()).args(args));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("3 parts (1 written, 2 already done)"),
        "{stderr}"
    );
    let (out, stdout, stderr) = run(disco_at(dir.path()).args(["read", "file://out/"]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(ids(&stdout), (0..9).collect::<Vec<_>>());
}

#[test]
fn a_failed_part_of_a_delta_table_is_not_committed_and_a_rerun_adds_it() {
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    let args = [
        "run",
        "--input",
        "file://parts/*.csv",
        "--output",
        "file://out/t",
        "--format",
        "delta",
        "--quiet",
    ];
    // The middle part fails: the part after it commits anyway, under its own transaction,
    // so the failed one can still be committed by a rerun (a Delta transaction version only
    // moves forward).
    let (out, _, stderr) = run(disco_at(dir.path())
        .args(args)
        .env("DISCO_FAULT_READING_PART", "1:error"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("(2 written, 0 already done, 1 failed)")
            && stderr.contains("part 1 (b.csv): reading b.csv: injected error"),
        "{stderr}"
    );
    let (out, _, stderr) = run(disco_at(dir.path()).args(args));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("3 parts (1 written, 2 already done); rows in 3 = 3 passed"),
        "{stderr}"
    );
    let (out, _, stderr) = run(disco_at(dir.path()).args(args));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("3 parts (0 written, 3 already done)"),
        "{stderr}"
    );
    if super::pipeline::python().is_some() {
        let table = dir.path().join("out/t");
        let rows = super::pipeline::py(
            "import sys, json, deltalake\n\
             print(json.dumps(sorted(deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table().column('id').to_pylist())))",
            &[table.to_str().unwrap()],
        );
        assert_eq!(rows, serde_json::json!((0..9).collect::<Vec<i64>>()));
    }
}

#[test]
fn a_single_file_output_keeps_the_other_parts_when_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    let (out, _, stderr) = run(disco_at(dir.path())
        .args([
            "run",
            "--input",
            "file://parts/*.csv",
            "--output",
            "file://o/out.ndjson",
            "--quiet",
        ])
        .env("DISCO_FAULT_READING_PART", "0:error"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 failed"), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("o/out.ndjson")).unwrap();
    assert_eq!(ids(&text), (3..9).collect::<Vec<_>>());
}

#[test]
fn a_stage_that_panics_on_one_part_fails_only_that_part() {
    use arrow::array::{AsArray, RecordBatch};
    use arrow::datatypes::{Int64Type, SchemaRef};
    use disco::pipeline::{PlanError, Stage, StageOutput};

    /// A user's stage with a bug: it panics on id 4.
    struct Buggy;
    impl Stage for Buggy {
        fn name(&self) -> &str {
            "buggy"
        }
        fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
            Ok(input.clone())
        }
        fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
            let ids = batch
                .column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>();
            if ids.iter().any(|v| v == Some(4)) {
                panic!("index out of bounds in a user's stage");
            }
            Ok(StageOutput::all(batch))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    let catalog = format!("[volumes.w]\nurl = \"file://{}\"\n", dir.path().display());
    write(dir.path(), "disco.toml", catalog.as_bytes());
    let mut d = disco::Disco::from_file(&dir.path().join("disco.toml")).unwrap();
    d.register(Buggy);
    let sum = d
        .read("w://parts/*.csv")
        .unwrap()
        .pipeline(["buggy"])
        .unwrap()
        .write("w://out/")
        .unwrap();
    assert_eq!(
        (sum.parts_written, sum.failures.len()),
        (2, 1),
        "{}",
        sum.line()
    );
    let f = &sum.failures[0];
    assert_eq!((f.index, f.file.as_str()), (1, "parts/b.csv"));
    assert!(
        f.error
            .contains("stage `buggy` panicked on parts/b.csv: index out of bounds"),
        "{}",
        f.error
    );
    assert_eq!((sum.rows_in, sum.rows_out), (6, 6));
    assert!(!dir.path().join("out/part-000001.parquet").exists());
    assert!(sum.line().contains("1 part failed"), "{}", sum.line());

    // Into one file, a row at a time: the failed part's first row was already written, and
    // the summary says so (a single file cannot take it back).
    let read = disco::table::ReadOptions {
        batch_size: 1,
        ..Default::default()
    };
    let sum = d
        .read_with("w://parts/*.csv", read)
        .unwrap()
        .pipeline(["buggy"])
        .unwrap()
        .write("w://one/out.ndjson")
        .unwrap();
    assert_eq!(sum.failures.len(), 1, "{}", sum.line());
    assert_eq!(sum.failures[0].rows_written, 1, "{}", sum.line());
    assert!(
        sum.line()
            .contains("1 of its rows were already in the single-file output"),
        "{}",
        sum.line()
    );
    let text = std::fs::read_to_string(dir.path().join("one/out.ndjson")).unwrap();
    assert_eq!(ids(&text), vec![0, 1, 2, 3, 6, 7, 8]);
}

#[test]
fn disco_read_reports_a_corrupt_part_and_reads_the_others() {
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    for name in ["a", "c"] {
        let (out, _, stderr) = run(disco_at(dir.path()).args([
            "run",
            "--input",
            &format!("file://parts/{name}.csv"),
            "--output",
            &format!("file://pq/{name}.parquet"),
            "--rejects",
            &format!("file://rej/{name}.ndjson"),
            "--quiet",
        ]));
        assert!(out.status.success(), "{stderr}");
    }
    write(
        dir.path(),
        "pq/b.parquet",
        b"PAR1 this is not a parquet file PAR1",
    );
    let (out, stdout, stderr) = run(disco_at(dir.path()).args(["read", "file://pq/*.parquet"]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("part 1 (b.parquet) failed") && stderr.contains("1 of 3 parts failed"),
        "{stderr}"
    );
    assert_eq!(ids(&stdout), vec![0, 1, 2, 6, 7, 8]);
}

/// Review finding: a rerun that resumed an `--overwrite` whose first part had failed
/// committed that part as a new overwrite, erasing the parts the first run had committed.
#[test]
fn resuming_an_overwrite_does_not_erase_what_the_first_run_committed() {
    let dir = tempfile::tempdir().unwrap();
    three_parts(dir.path());
    write(dir.path(), "old/x.csv", b"id,x\n100,old\n101,old\n");
    let (out, _, stderr) = run(disco_at(dir.path()).args([
        "run",
        "--input",
        "file://old/x.csv",
        "--output",
        "file://out/t",
        "--format",
        "delta",
        "--quiet",
    ]));
    assert!(out.status.success(), "{stderr}");
    let args = [
        "run",
        "--input",
        "file://parts/*.csv",
        "--output",
        "file://out/t",
        "--format",
        "delta",
        "--overwrite",
        "--quiet",
    ];
    let (out, _, stderr) = run(disco_at(dir.path())
        .args(args)
        .env("DISCO_FAULT_READING_PART", "0:error"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("(2 written, 0 already done, 1 failed)"),
        "{stderr}"
    );
    let (out, _, stderr) = run(disco_at(dir.path()).args(args));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("3 parts (1 written, 2 already done)"),
        "{stderr}"
    );
    if super::pipeline::python().is_some() {
        let table = dir.path().join("out/t");
        let rows = super::pipeline::py(
            "import sys, json, deltalake\n\
             print(json.dumps(sorted(deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table().column('id').to_pylist())))",
            &[table.to_str().unwrap()],
        );
        assert_eq!(
            rows,
            serde_json::json!((0..9).collect::<Vec<i64>>()),
            "the old rows replaced, every new row once"
        );
    }
}
