//! Pipelines and tables: every reader and codec, each stage (the tokenizer and model stages
//! with the real MiniLM in `models.rs`), plan errors, rejects accounting, crash and resume, sharding, and the output
//! read back by real readers (pyarrow, polars, deltalake). The model and the Python readers
//! come from `scripts/setup.sh` (DISCO_MINILM_DIR, DISCO_PYTHON); `make test` requires them
//! (DISCO_REQUIRE_PIPELINE=1), a bare `cargo test` without them says so and skips those tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{disco, json_lines, repo_root, run};

pub(super) fn fixtures() -> PathBuf {
    repo_root().join("fixtures")
}

fn required(what: &str) -> bool {
    if std::env::var("DISCO_REQUIRE_PIPELINE").is_ok_and(|v| v == "1") {
        panic!("{what} is missing (run scripts/setup.sh and export what `scripts/setup.sh --env` prints)");
    }
    eprintln!("skipping: {what} is missing (scripts/setup.sh installs it)");
    false
}

pub(super) fn minilm() -> Option<PathBuf> {
    match std::env::var_os("DISCO_MINILM_DIR").map(PathBuf::from) {
        Some(p) if p.join("model.safetensors").is_file() => Some(p),
        _ => required("the MiniLM model (DISCO_MINILM_DIR)").then(PathBuf::new),
    }
}

pub(super) fn python() -> Option<PathBuf> {
    match std::env::var_os("DISCO_PYTHON").map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        _ => required("the Python readers (DISCO_PYTHON)").then(PathBuf::new),
    }
}

/// A temporary directory with a catalog naming the fixtures, the model and a validator.
pub(super) fn workspace(model: Option<&Path>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut toml = format!(
        "[volumes.fx]\nurl = \"{}\"\n[validators.trip]\nschema = \"fx://schemas/trip.json\"\n",
        fixtures().display()
    );
    if let Some(m) = model {
        toml += &format!(
            "[volumes.minilm]\nurl = \"{}\"\n\
             [tokenizers.mini]\nurl = \"minilm://tokenizer.json\"\n\
             [tokenizers.raw]\nurl = \"minilm://tokenizer.json\"\noptions = {{ padding = \"none\", truncate = false }}\n\
             [tokenizers.chunks]\nurl = \"minilm://tokenizer.json\"\noptions = {{ mode = \"chunk\", max_tokens = 16, overlap = 4, column = \"text\" }}\n\
             [models.embed]\nkind = \"embedding\"\nurl = \"minilm://\"\ntokenizer = \"mini\"\n\
             [models.embed8]\nkind = \"embedding\"\nurl = \"minilm://\"\nprecision = \"int8\"\n",
            m.display()
        );
    }
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
    assert!(out.status.success(), "failed: {stderr}");
    (stdout, stderr)
}

pub(super) fn py(script: &str, args: &[&str]) -> Value {
    let python = python().expect("python");
    // deltalake's threads can abort the interpreter at exit, after the answer is printed.
    let script = format!("{script}\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n");
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(rows: &[Value]) -> Vec<i64> {
    let mut v: Vec<i64> = rows
        .iter()
        .map(|r| r["trip_id"].as_i64().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn every_reader_and_codec_reads_the_same_trips() {
    let dir = workspace(None);
    for f in [
        "trips.csv",
        "trips.csv.gz",
        "trips.csv.bz2",
        "trips.ndjson",
        "trips.ndjson.xz",
        "trips.ndjson.zst",
        "trips.parquet",
    ] {
        let (stdout, stderr) = ok(disco_in(dir.path()).args(["read", &format!("fx://tables/{f}")]));
        let rows = json_lines(&stdout);
        if f.contains("ndjson") {
            assert!(
                stderr.contains(":13: column `payment_type`: 1 is a JSON number, not Utf8"),
                "{f}: {stderr}"
            );
        }
        // Trip 13's payment type is the number 1 in a string column: in NDJSON (which keeps
        // JSON types) that row is a read reject, not the coerced string "1".
        let want: Vec<i64> = (1..=50)
            .filter(|&i| i != 13 || !f.contains("ndjson"))
            .collect();
        assert_eq!(ids(&rows), want, "{f}");
        assert_eq!(rows[0]["pickup_zone"], "Clinton East", "{f}");
    }
    // An explicit codec, whatever the name says (`gz` is gzip).
    std::fs::copy(
        fixtures().join("tables/trips.csv.gz"),
        dir.path().join("trips.data"),
    )
    .unwrap();
    let (stdout, _) = ok(disco_in(dir.path()).args([
        "read",
        "trips.data",
        "--codec",
        "gz",
        "--input-format",
        "csv",
        "--head",
        "3",
    ]));
    assert_eq!(json_lines(&stdout).len(), 3);
    // Globs, CSV to stdout, schema overrides.
    let (stdout, _) = ok(disco_in(dir.path()).args([
        "read",
        "fx://tables/trips.*.gz",
        "--format",
        "csv",
        "--schema",
        "trip_id=string",
    ]));
    assert_eq!(stdout.lines().count(), 51, "{stdout}");
    assert!(stdout.starts_with("trip_id,vendor_id,pickup_at"));
    // Lines, whole text, blobs and HTML.
    let (stdout, _) = ok(disco_in(dir.path()).args(["read", "fx://tables/notes.txt"]));
    let lines = json_lines(&stdout);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["text"], "Pipeline notes, 3 January 2024");
    let (stdout, _) =
        ok(disco_in(dir.path()).args(["read", "fx://tables/notes.txt", "--input-format", "text"]));
    assert_eq!(json_lines(&stdout).len(), 1);
    let (stdout, _) = ok(disco_in(dir.path()).args(["read", "fx://tables/page.html"]));
    let page = &json_lines(&stdout)[0];
    assert_eq!(page["title"], "Yellow Taxi Trips & Fares — January 2024");
    let text = page["text"].as_str().unwrap();
    assert!(text.contains("never negative – a negative fare"), "{text}");
    assert!(!text.contains('<') && !text.contains("&copy;"), "{text}");
    let (stdout, _) = ok(disco_in(dir.path()).args([
        "read",
        "fx://tables/notes.txt",
        "--input-format",
        "blob",
        "--format",
        "ndjson",
    ]));
    let blob = &json_lines(&stdout)[0];
    assert_eq!(
        blob["size"].as_i64().unwrap() as u64,
        std::fs::metadata(fixtures().join("tables/notes.txt"))
            .unwrap()
            .len()
    );
}

#[test]
fn malformed_rows_are_rejected_with_their_line_and_the_rest_read() {
    let dir = workspace(None);
    let text = "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\nnot json\n[1]\n{\"a\": \"three\", \"b\": \"z\"}\n{\"a\": 4, \"b\": \"w\"}\n";
    std::fs::write(dir.path().join("rows.ndjson"), text).unwrap();
    let mut csv = "a,b\n".to_string();
    for i in 1..=20 {
        csv += &format!("{i},x\n");
    }
    csv += "three,z\n4,w,extra\n";
    std::fs::write(dir.path().join("rows.csv"), csv).unwrap();
    for (input, good, bad) in [("rows.ndjson", 3, 3), ("rows.csv", 20, 2)] {
        let (_, stderr) = ok(disco_in(dir.path()).args([
            "run",
            "--input",
            &format!("file://{input}"),
            "--output",
            "file://out/o.ndjson",
            "--rejects",
            "file://out/r.ndjson",
            "--quiet",
        ]));
        assert!(
            stderr.contains(&format!(
                "rows in {} = {good} passed + {bad} rejected",
                good + bad
            )),
            "{stderr}"
        );
        let out = json_lines(&std::fs::read_to_string(dir.path().join("out/o.ndjson")).unwrap());
        assert_eq!(out.len(), good);
        assert!(out.iter().all(|r| r["a"].is_i64()), "{out:?}");
        let rej = json_lines(&std::fs::read_to_string(dir.path().join("out/r.ndjson")).unwrap());
        assert_eq!(rej.len(), bad);
        assert!(
            rej.iter().all(|r| r["stage"] == "read"
                && r["line"].as_i64().unwrap() > 1
                && !r["reason"].as_str().unwrap().is_empty()),
            "{rej:?}"
        );
    }
}

#[test]
fn the_validator_rejects_with_pointers_and_the_accounting_holds() {
    let dir = workspace(None);
    // Trip 13's `"payment_type": 1` is a number in a string column: NDJSON keeps JSON types,
    // so it is a read reject there (it used to be coerced to "1" and fail the validator's
    // enum); in CSV and Parquet it is the text "1", which the validator rejects.
    for (input, by) in [
        ("fx://tables/trips.csv", "trip 5"),
        ("fx://tables/trips.ndjson.zst", "read 1, trip 4"),
        ("fx://tables/trips.parquet", "trip 5"),
    ] {
        let (_, stderr) = ok(disco_in(dir.path()).args([
            "run",
            "--input",
            input,
            "--stage",
            "trip",
            "--output",
            "file://out/valid.parquet",
            "--quiet",
        ]));
        assert!(
            stderr.contains(&format!(
                "rows in 50 = 45 passed + 5 rejected ({by}); rows out 45"
            )),
            "{input}: {stderr}"
        );
        let (stdout, _) =
            ok(disco_in(dir.path()).args(["read", "file://out/valid.rejects.parquet"]));
        let rej = json_lines(&stdout);
        let mut bad: Vec<i64> = rej
            .iter()
            .map(|r| {
                serde_json::from_str::<Value>(r["record"].as_str().unwrap()).unwrap()["trip_id"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        bad.sort();
        assert_eq!(bad, [7, 13, 21, 34, 42], "{input}");
        // Trip 21 (row 20 of the part; row 19 of the NDJSON rows decoded, after trip 13).
        let fare = rej
            .iter()
            .find(|r| r["record"].as_str().unwrap().contains("\"trip_id\":21,"))
            .unwrap();
        assert_eq!(fare["row"], if input.contains("ndjson") { 19 } else { 20 });
        assert_eq!(fare["pointer"], "/fare_amount");
        assert!(fare["reason"]
            .as_str()
            .unwrap()
            .contains("less than the minimum of 0"));
    }
}

#[test]
fn plans_are_checked_before_anything_is_read() {
    let dir = workspace(None);
    let cases: [(&[&str], &str); 4] = [
        (&["--stage", "nope"], "stage `nope`: no registered stage"),
        (&["--stage", "tree"], "stage `tree`: no column `path`"),
        (&["--stage", "explode"], "stage `explode`: needs `column`"),
        (&["--format", "csv", "--stage", "trip"], ""),
    ];
    for (args, want) in cases {
        let mut cmd = disco_in(dir.path());
        cmd.args([
            "run",
            "--input",
            "fx://tables/trips.csv",
            "--output",
            "file://out/x.csv",
            "--quiet",
        ])
        .args(args);
        let (out, _, stderr) = run(&mut cmd);
        if want.is_empty() {
            assert!(out.status.success(), "{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(stderr.contains(want), "want {want:?} in {stderr}");
            assert!(!dir.path().join("out/x.csv").exists());
        }
    }
    // A pipeline file with a filter on a column that is not there, and a wrong type.
    for (stage, want) in [
        (
            "{ use = \"filter\", where = \"fare > 0\" }",
            "stage `filter`: no column `fare`",
        ),
        (
            "{ use = \"filter\", where = \"pickup_zone + 1 > 0\" }",
            "`pickup_zone` is Utf8 and `1` is Int64",
        ),
        (
            "{ use = \"select\", columns = [\"trip_id\", \"nope\"] }",
            "stage `select`: no column `nope`",
        ),
    ] {
        std::fs::write(
            dir.path().join("p.toml"),
            format!("input = \"fx://tables/trips.csv\"\nstages = [{stage}]\noutput = \"file://out/p.parquet\"\n"),
        )
        .unwrap();
        let (out, _, stderr) = run(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr.contains(want), "want {want:?} in {stderr}");
    }
}

#[test]
fn column_stages_filter_select_rename_and_explode() {
    let dir = workspace(None);
    std::fs::write(
        dir.path().join("p.toml"),
        "input = \"fx://tables/trips.parquet\"\nstages = [\
         { use = \"filter\", where = \"fare_amount BETWEEN 10 AND 20 AND payment_type IN ('card', 'cash') AND pickup_zone NOT LIKE 'JFK%'\" },\
         { use = \"select\", columns = [\"trip_id\", \"fare_amount\"] },\
         { use = \"rename\", columns = { fare_amount = \"fare\" } }]\noutput = \"file://out/f.ndjson\"\n",
    )
    .unwrap();
    let (_, stderr) = ok(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    let rows = json_lines(&std::fs::read_to_string(dir.path().join("out/f.ndjson")).unwrap());
    assert!(!rows.is_empty() && rows.len() < 50, "{stderr}");
    for r in &rows {
        let f = r["fare"].as_f64().unwrap();
        assert!((10.0..=20.0).contains(&f));
        assert_eq!(r.as_object().unwrap().len(), 2);
    }
    assert!(
        stderr.contains(&format!(
            "{} passed + {} rejected (filter {})",
            rows.len(),
            50 - rows.len(),
            50 - rows.len()
        )),
        "{stderr}"
    );
}

#[test]
fn delta_tables_are_read_by_pyarrow_polars_and_deltalake() {
    let Some(_) = python() else { return };
    let dir = workspace(None);
    let out = dir.path().join("out/trips");
    ok(disco_in(dir.path()).args([
        "run",
        "--input",
        "fx://tables/trips.csv",
        "--stage",
        "trip",
        "--output",
        "file://out/trips",
        "--format",
        "delta",
        "--partition-by",
        "vendor_id",
        "--job",
        "j",
        "--quiet",
    ]));
    ok(disco_in(dir.path()).args([
        "run",
        "--input",
        "fx://tables/trips.csv",
        "--output",
        "file://out/plain.parquet",
        "--quiet",
    ]));
    let got = py(
        "import sys, json, deltalake, polars as pl, pyarrow.parquet as pq\n\
         t = deltalake.DeltaTable(sys.argv[1])\n\
         a = t.to_pyarrow_table()\n\
         p = pl.read_delta(sys.argv[1])\n\
         q = pq.read_table(sys.argv[2])\n\
         print(json.dumps({'rows': a.num_rows, 'polars': p.height, 'ids': sorted(a.column('trip_id').to_pylist()),\n\
           'parts': t.metadata().partition_columns, 'txn': t.transaction_version('j#0/1'), 'plain': q.num_rows,\n\
           'vendors': sorted(set(p['vendor_id'].to_list()))}))",
        &[out.to_str().unwrap(), dir.path().join("out/plain.parquet").to_str().unwrap()],
    );
    assert_eq!(got["rows"], 45);
    assert_eq!(got["polars"], 45);
    assert_eq!(got["plain"], 50);
    assert_eq!(got["parts"], serde_json::json!(["vendor_id"]));
    assert_eq!(got["txn"], 0);
    assert_eq!(got["vendors"], serde_json::json!([1, 2]));
    let ids: Vec<i64> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(!ids.contains(&7) && !ids.contains(&42) && ids.len() == 45);
}

/// Many small NDJSON parts, ids 0..parts*rows.
fn parts(dir: &Path, parts: usize, rows: usize) {
    std::fs::create_dir_all(dir.join("in")).unwrap();
    for p in 0..parts {
        let mut s = String::new();
        for r in 0..rows {
            s += &format!(
                "{{\"id\": {}, \"text\": \"row {r} of part {p}\"}}\n",
                p * rows + r
            );
        }
        std::fs::write(dir.join(format!("in/p{p:03}.ndjson")), s).unwrap();
    }
}

fn delta_ids(table: &Path) -> Vec<i64> {
    let got = py(
        "import sys, json, deltalake\nprint(json.dumps(sorted(deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table().column('id').to_pylist())))",
        &[table.to_str().unwrap()],
    );
    got.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

#[test]
fn a_crashed_run_resumes_with_every_row_exactly_once() {
    let Some(_) = python() else { return };
    let dir = workspace(None);
    parts(dir.path(), 8, 25);
    for format in ["delta", "parquet"] {
        let out = format!("file://out/{format}");
        let args = [
            "run",
            "--input",
            "file://in/*.ndjson",
            "--output",
            &out,
            "--format",
            format,
            "--quiet",
        ];
        // Killed (abort: no cleanup) after part 3's rows are written, before they are committed.
        let (o, _, stderr) = run(disco_in(dir.path())
            .args(args)
            .env("DISCO_CRASH_AT_PART", "3"));
        assert!(!o.status.success(), "{stderr}");
        let (_, stderr) = ok(disco_in(dir.path()).args(args));
        assert!(
            stderr.contains("8 parts (5 written, 3 already done)"),
            "{stderr}"
        );
        let (_, stderr) = ok(disco_in(dir.path()).args(args));
        assert!(
            stderr.contains("8 parts (0 written, 8 already done)"),
            "{stderr}"
        );
        let ids: Vec<i64> = if format == "delta" {
            delta_ids(&dir.path().join("out/delta"))
        } else {
            let got = py(
                "import sys, json, pyarrow.dataset as ds\nprint(json.dumps(sorted(ds.dataset(sys.argv[1], format='parquet').to_table().column('id').to_pylist())))",
                &[dir.path().join("out/parquet").to_str().unwrap()],
            );
            got.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        };
        assert_eq!(ids, (0..200).collect::<Vec<_>>(), "{format}");
    }
    // A real SIGKILL at an arbitrary moment, then a rerun: still every row once.
    parts(dir.path(), 40, 25);
    let args = [
        "run",
        "--input",
        "file://in/*.ndjson",
        "--output",
        "file://out/killed",
        "--format",
        "delta",
        "--quiet",
    ];
    let mut child = disco_in(dir.path())
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = child.kill();
    let _ = child.wait();
    ok(disco_in(dir.path()).args(args));
    assert_eq!(
        delta_ids(&dir.path().join("out/killed")),
        (0..1000).collect::<Vec<_>>()
    );
}

#[test]
fn shards_on_several_processes_fill_one_table() {
    let Some(_) = python() else { return };
    let dir = workspace(None);
    parts(dir.path(), 9, 20);
    let children: Vec<_> = (0..3)
        .map(|i| {
            let mut cmd = disco_in(dir.path());
            cmd.args([
                "run",
                "--input",
                "file://in/*.ndjson",
                "--output",
                "file://out/t",
                "--format",
                "delta",
                "--quiet",
            ]);
            if i == 2 {
                cmd.env("SLURM_ARRAY_TASK_ID", "2")
                    .env("SLURM_ARRAY_TASK_COUNT", "3");
            } else {
                cmd.args(["--shard", &format!("{i}/3")]);
            }
            cmd.stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("3 parts (3 written"), "{stderr}");
    }
    assert_eq!(
        delta_ids(&dir.path().join("out/t")),
        (0..180).collect::<Vec<_>>()
    );
}

#[test]
fn the_rust_api_runs_registered_stages_by_name() {
    use arrow::array::{AsArray, RecordBatch};
    use arrow::datatypes::SchemaRef;
    use disco::pipeline::{PlanError, Reject, Stage, StageOutput};

    struct OddTrips;
    impl Stage for OddTrips {
        fn name(&self) -> &str {
            "odd_trips"
        }
        fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
            input
                .index_of("trip_id")
                .map_err(|_| PlanError::new("odd_trips", "no trip_id"))?;
            Ok(input.clone())
        }
        fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
            let ids = batch
                .column_by_name("trip_id")
                .unwrap()
                .as_primitive::<arrow::datatypes::Int64Type>();
            let keep: arrow::array::BooleanArray =
                ids.iter().map(|v| Some(v.unwrap_or(0) % 2 == 1)).collect();
            let rejects = (0..ids.len())
                .filter(|&i| !keep.value(i))
                .map(|i| Reject {
                    row: i as u32,
                    reason: "even".into(),
                    pointer: None,
                })
                .collect();
            Ok(StageOutput {
                batch: arrow::compute::filter_record_batch(&batch, &keep)?,
                origin: None,
                rejects,
            })
        }
    }
    let dir = workspace(None);
    let mut d = disco::Disco::from_file(&dir.path().join("disco.toml")).unwrap();
    d.register(OddTrips);
    let batches = d
        .read("fx://tables/trips.parquet")
        .unwrap()
        .pipeline(["trip", "odd_trips"])
        .unwrap()
        .collect()
        .unwrap();
    let n: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(n, 22, "45 valid trips, the odd ones");
    let out = dir.path().join("out");
    let summary = d
        .read("fx://tables/trips.parquet")
        .unwrap()
        .pipeline(["trip", "odd_trips"])
        .unwrap()
        .write(&format!("file://{}/odd.parquet", out.display()))
        .unwrap();
    assert_eq!(
        (summary.rows_in, summary.rows_out, summary.rows_rejected),
        (50, 22, 28)
    );
    assert!(out.join("odd.rejects.parquet").is_file());
    let err = d
        .read("fx://tables/trips.parquet")
        .unwrap()
        .pipeline(["trip", "nope"])
        .err()
        .unwrap();
    assert!(err.to_string().contains("stage `nope`"), "{err}");
}

#[test]
fn the_tree_stage_parses_blobs_and_accounts_for_every_file() {
    let dir = workspace(None);
    let files = dir.path().join("repo");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("a.py"), "def greet(name):\n    return name\n").unwrap();
    std::fs::write(files.join("b.rs"), "fn main() {}\n").unwrap();
    std::fs::write(files.join("c.bin"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(files.join("d.py"), b"x = '\xff'\n").unwrap();
    let (stdout, stderr) = ok(disco_in(dir.path()).args([
        "run",
        "--input",
        "file://repo",
        "--input-format",
        "blob",
        "--stage",
        "tree",
        "--output",
        "-",
        "--quiet",
    ]));
    assert!(
        stderr.contains("rows in 4 = 4 passed + 0 rejected"),
        "{stderr}"
    );
    let rows = json_lines(&stdout);
    let status: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["path"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("a.py", "ok"),
            ("b.rs", "ok"),
            ("c.bin", "binary"),
            // A Latin-1 byte: detected as windows-1252, as `disco tree` does.
            ("d.py", "ok")
        ]
    );
    // The stage's rows are the `files` table of the relational form.
    assert_eq!(rows[0]["language"], "python");
    assert_eq!(rows[3]["encoding"], "windows-1252");
    // `table = "nodes"`: the nodes of every file, as `disco tree --format parquet` has them.
    std::fs::write(
        dir.path().join("n.toml"),
        "input = \"file://repo\"\nstages = [{ use = \"tree\", table = \"nodes\" }]\noutput = \"file://out/n.ndjson\"\n",
    )
    .unwrap();
    ok(disco_in(dir.path()).args(["run", "n.toml", "--input-format", "blob", "--quiet"]));
    let nodes = json_lines(&std::fs::read_to_string(dir.path().join("out/n.ndjson")).unwrap());
    assert!(nodes
        .iter()
        .any(|n| n["kind"] == "function_definition" && n["depth"] == 1));
    // Paths into a volume work too.
    std::fs::write(
        dir.path().join("paths.ndjson"),
        "{\"path\": \"a.py\"}\n{\"path\": \"missing.py\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            "input = \"file://paths.ndjson\"\nstages = [{{ use = \"tree\", volume = \"file://{}\" }}]\noutput = \"file://out/t.ndjson\"\n",
            files.display()
        ),
    )
    .unwrap();
    ok(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    let rows = json_lines(&std::fs::read_to_string(dir.path().join("out/t.ndjson")).unwrap());
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(rows[1]["status"], "unreadable", "{:?}", rows[1]);
}

#[test]
fn explode_makes_one_row_per_element() {
    let Some(model) = minilm() else { return };
    let dir = workspace(Some(&model));
    std::fs::write(
        dir.path().join("t.ndjson"),
        "{\"id\": 1, \"text\": \"hello world\"}\n{\"id\": 2, \"text\": \"\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "input = \"file://t.ndjson\"\nstages = [\"raw\", { use = \"explode\", column = \"ids\" }]\noutput = \"file://out/e.ndjson\"\n",
    )
    .unwrap();
    let (_, stderr) = ok(disco_in(dir.path()).args(["run", "p.toml", "--quiet"]));
    assert!(
        stderr.contains("rows in 2 = 2 passed + 0 rejected; rows out 6"),
        "{stderr}"
    );
    let rows = json_lines(&std::fs::read_to_string(dir.path().join("out/e.ndjson")).unwrap());
    let ids: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["ids"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        ids,
        [(1, 101), (1, 7592), (1, 2088), (1, 102), (2, 101), (2, 102)]
    );
}
