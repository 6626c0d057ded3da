//! Delta Lake tables written by delta-rs, read by Disco: a checkpoint with the commits before
//! it cleaned up, removed files after an overwrite, partition values (a null one too) that
//! live only in the log, deletion vectors, column mapping, time travel by version and by
//! timestamp, `disco catalog show` from the log alone, and tables Disco must refuse (an
//! unknown reader feature, a cut or missing commit) with the table and the reason named.
//!
//! The tables come from `scripts/make_lake_fixtures.py` (real `deltalake`, run once per test
//! process), whose manifest holds the rows each table and version must read as; rows are
//! compared exactly, as sorted sets. Tables Disco writes are in `lakehouse_write.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::pipeline::python;
use crate::support::{disco, json_lines, repo_root, run};

/// The fixture tables and their manifest, made once per test process.
pub(super) struct Lake {
    pub dir: PathBuf,
    pub manifest: Value,
}

/// The fixtures, or `None` (the test skips) when the Python readers are not installed.
pub(super) fn lake() -> Option<&'static Lake> {
    python()?;
    static LAKE: OnceLock<Lake> = OnceLock::new();
    Some(LAKE.get_or_init(|| {
        let dir = fixtures_dir();
        let out = Command::new(python().unwrap())
            .arg(repo_root().join("scripts/make_lake_fixtures.py"))
            .arg(&dir)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "make_lake_fixtures.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest = serde_json::from_slice(&out.stdout).expect("the manifest is JSON");
        Lake { dir, manifest }
    }))
}

/// `lake-fixtures-PID` under Cargo's scratch directory: one per test process, so two runs at
/// once do not share it; those of processes that have ended are removed.
fn fixtures_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("lake-fixtures-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = root.join(format!("lake-fixtures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl Lake {
    pub fn table(&self, name: &str) -> &Value {
        &self.manifest["tables"][name]
    }

    /// A fresh copy of a fixture table, for tests that change it.
    pub fn copy(&self, name: &str, to: &Path) -> PathBuf {
        let dest = to.join(name);
        copy_dir(&self.dir.join(name), &dest);
        dest
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A temporary directory with a catalog: the volume `lake` (the fixtures), the volume `ws`
/// (this directory), and `extra` (table sections).
pub(super) fn workspace(lake: &Lake, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[volumes.lake]\nurl = \"{}\"\n[volumes.ws]\nurl = \"{}\"\n{extra}",
        lake.dir.display(),
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

/// The rows of `disco read TARGET [args]`, asserting exit 0.
pub(super) fn read_rows(dir: &Path, target: &str, args: &[&str]) -> Vec<Value> {
    let (out, stdout, stderr) = run(disco_in(dir).arg("read").arg(target).args(args));
    assert!(out.status.success(), "disco read {target} failed: {stderr}");
    json_lines(&stdout)
}

/// A value as both sides spell it: nulls and absent keys alike (Disco's NDJSON leaves nulls
/// out), `2.0` as `2`, timestamps in UTC without a suffix or trailing zeros.
fn canon(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), canon(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9e15 => {
                Value::from(f as i64)
            }
            _ => v.clone(),
        },
        Value::String(s) => Value::String(canon_timestamp(s)),
        _ => v.clone(),
    }
}

fn canon_timestamp(s: &str) -> String {
    let b = s.as_bytes();
    let looks = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !looks {
        return s.to_string();
    }
    let mut t = s
        .trim_end_matches('Z')
        .trim_end_matches("+00:00")
        .replacen(' ', "T", 1);
    if t.contains('.') {
        t = t.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    t
}

/// Rows as a sorted list of canonical JSON texts, for an exact, order-free comparison.
pub(super) fn row_set(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| canon(r).to_string()).collect();
    v.sort();
    v
}

pub(super) fn assert_rows(got: &[Value], want: &Value, what: &str) {
    let want = want.as_array().unwrap_or_else(|| panic!("{what}: no rows"));
    assert_eq!(row_set(got), row_set(want), "{what}");
}

/// A catalog section for a fixture table.
fn table_toml(name: &str, path: &str, extra: &str) -> String {
    format!("[tables.{name}]\nurl = \"lake://{path}\"\nformat = \"delta\"\n{extra}\n")
}

/// Reads fixture `name` through a catalog table and compares with the manifest.
fn reads_as_written(name: &str) {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, &table_toml("lake_table", name, ""));
    let rows = read_rows(ws.path(), "lake_table", &[]);
    assert_rows(&rows, &lake.table(name)["rows"], name);
}

#[test]
fn a_checkpointed_table_reads_from_its_checkpoint_and_the_commits_after_it() {
    // 13 commits folded into the checkpoint at v12 (their JSON deleted), then v13 and v14.
    reads_as_written("checkpointed");
}

#[test]
fn an_overwritten_table_does_not_read_its_removed_files() {
    reads_as_written("overwritten");
}

#[test]
fn partition_values_from_the_log_come_back_as_columns_null_included() {
    let Some(lake) = lake() else { return };
    reads_as_written("partitioned");
    // The same table by URI, not by catalog name.
    let ws = workspace(lake, "");
    let rows = read_rows(
        ws.path(),
        "lake://partitioned",
        &["--input-format", "delta"],
    );
    assert_rows(&rows, &lake.table("partitioned")["rows"], "by URI");
    assert!(
        rows.iter()
            .any(|r| r["city"].is_null() && r["year"].is_i64()),
        "a null partition value reads as null: {rows:?}"
    );
}

#[test]
fn deletion_vectors_hide_the_rows_they_delete() {
    reads_as_written("deletion_vectors");
}

#[test]
fn column_mapping_reads_physical_columns_under_their_logical_names() {
    reads_as_written("column_mapping");
}

#[test]
fn time_travel_by_version_and_by_timestamp() {
    let Some(lake) = lake() else { return };
    let t = lake.table("versions");
    let v = |n: &str| &t["versions"][n];
    // The commits are dated 2026-09-01, 2026-10-01 and 2026-11-01 (midnight UTC): a
    // timestamp names the latest version committed at or before it.
    let pinned = [
        ("v0", "version = 0", "0"),
        ("v1", "version = 1", "1"),
        ("at_v1", "version = \"2026-10-01T00:00:00Z\"", "1"),
        ("mid_v1", "version = \"2026-10-15T12:00:00Z\"", "1"),
        ("at_v2", "version = \"2026-11-01T00:00:00Z\"", "2"),
        ("after_v2", "version = \"2026-11-15T00:00:00Z\"", "2"),
    ];
    let mut toml = table_toml("lake_table", "versions", "");
    toml += &table_toml("old_overwrite", "overwritten", "version = 1");
    for (name, key, _) in pinned {
        toml += &table_toml(name, "versions", key);
    }
    let ws = workspace(lake, &toml);
    let dir = ws.path();
    for (name, _, want) in pinned {
        assert_rows(&read_rows(dir, name, &[]), v(want), name);
    }
    assert_rows(&read_rows(dir, "lake_table", &[]), &t["rows"], "latest");
    // A version or a time after the table name, in the catalog and in a URI.
    assert_rows(
        &read_rows(dir, "lake_table@v1", &[]),
        v("1"),
        "lake_table@v1",
    );
    assert_rows(
        &read_rows(dir, "lake_table@v0", &[]),
        v("0"),
        "lake_table@v0",
    );
    assert_rows(
        &read_rows(dir, "lake_table@2026-10-15T00:00:00Z", &[]),
        v("1"),
        "lake_table@2026-10-15T00:00:00Z",
    );
    let uri = ["--input-format", "delta"];
    assert_rows(
        &read_rows(dir, "lake://versions@v1", &uri),
        v("1"),
        "URI @v1",
    );
    assert_rows(
        &read_rows(dir, "lake://versions@2026-09-01T00:00:00Z", &uri),
        v("0"),
        "URI @2026-09-01",
    );
    // Files an overwrite removed are there again at the version before it.
    let o = lake.table("overwritten");
    assert_rows(
        &read_rows(dir, "old_overwrite", &[]),
        &o["versions"]["1"],
        "overwritten at v1",
    );
    assert_rows(
        &read_rows(dir, "lake://overwritten@v0", &uri),
        &o["versions"]["0"],
        "overwritten at v0",
    );
    // No such version, or a time before the first commit: an error, not the latest rows.
    for target in ["lake_table@v9", "lake_table@2026-08-01T00:00:00Z"] {
        let (out, stdout, stderr) = run(disco_in(dir).args(["read", target]));
        assert_eq!(out.status.code(), Some(1), "{target}: {stderr}");
        assert!(stdout.is_empty(), "{target}: {stdout}");
        assert!(stderr.contains("lake_table"), "{target}: {stderr}");
    }
}

/// The numbers on the lines of `text` that mention `key` (case-insensitive), so the checks
/// hold whatever the layout (`rows = 24`, `rows: 24`, `24 rows`).
pub(super) fn numbers_on_line(text: &str, key: &str) -> Vec<u64> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.to_lowercase().contains(key))
        .collect();
    assert!(!lines.is_empty(), "no line with `{key}` in:\n{text}");
    lines
        .iter()
        .flat_map(|l| l.split(|c: char| !c.is_ascii_digit()))
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn catalog_show_reads_version_partitions_files_and_rows_from_the_log_alone() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, "");
    // Without its data files: the figures come from the log (and the checkpoint), not the data.
    let mut toml = String::new();
    for name in ["partitioned", "checkpointed", "overwritten"] {
        let copy = lake.copy(name, ws.path());
        for e in std::fs::read_dir(&copy).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() != "_delta_log" {
                if p.is_dir() {
                    std::fs::remove_dir_all(&p).unwrap();
                } else {
                    std::fs::remove_file(&p).unwrap();
                }
            }
        }
        toml += &format!("[tables.{name}]\nurl = \"ws://{name}\"\nformat = \"delta\"\n");
    }
    std::fs::write(
        ws.path().join("disco.toml"),
        std::fs::read_to_string(ws.path().join("disco.toml")).unwrap() + &toml,
    )
    .unwrap();
    for name in ["partitioned", "checkpointed", "overwritten"] {
        let t = lake.table(name);
        let (out, stdout, stderr) = run(disco_in(ws.path()).args(["catalog", "show", name]));
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(
            stdout.to_lowercase().contains("version"),
            "{name}: no table metadata:\n{stdout}\nstderr:\n{stderr}"
        );
        let want = |k: &str| t[k].as_u64().unwrap();
        assert!(
            numbers_on_line(&stdout, "version").contains(&want("version")),
            "{name}: version {}:\n{stdout}",
            t["version"]
        );
        assert!(
            numbers_on_line(&stdout, "files").contains(&want("num_files")),
            "{name}: {} files:\n{stdout}",
            t["num_files"]
        );
        let rows = t["rows"].as_array().unwrap().len() as u64;
        assert!(
            numbers_on_line(&stdout, "rows").contains(&rows),
            "{name}: {rows} rows:\n{stdout}"
        );
        for col in t["columns"].as_array().unwrap() {
            assert!(
                stdout.contains(col.as_str().unwrap()),
                "{name}: {col}:\n{stdout}"
            );
        }
    }
    let (_, stdout, _) = run(disco_in(ws.path()).args(["catalog", "show", "partitioned"]));
    assert!(
        stdout
            .lines()
            .any(|l| l.to_lowercase().contains("partition")
                && l.contains("city")
                && l.contains("year")),
        "partition columns city and year:\n{stdout}"
    );
}

/// Runs `disco read` on a table that must be refused; returns stderr.
fn refused(dir: &Path, target: &str) -> String {
    let (out, stdout, stderr) = run(disco_in(dir).args(["read", target]));
    assert_eq!(out.status.code(), Some(1), "{target}: {stderr}");
    assert!(
        stdout.is_empty(),
        "{target}: no rows of a refused table: {stdout}"
    );
    stderr
}

/// The JSON commits in a table's log.
pub(super) fn commits(table: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn an_unknown_reader_feature_is_refused_naming_the_table_and_the_feature() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, "");
    let copy = lake.copy("unsupported_feature", ws.path());
    std::fs::write(
        ws.path().join("disco.toml"),
        std::fs::read_to_string(ws.path().join("disco.toml")).unwrap()
            + "[tables.strange_table]\nurl = \"ws://unsupported_feature\"\nformat = \"delta\"\n",
    )
    .unwrap();
    let err = refused(ws.path(), "strange_table");
    assert!(err.contains("strange_table"), "{err}");
    assert!(err.contains("discoMadeUpFeature"), "{err}");
    // Writing to it is refused too, and nothing is committed.
    std::fs::write(
        ws.path().join("rows.ndjson"),
        "{\"id\": 9, \"name\": \"x\", \"fare\": 1.5}\n",
    )
    .unwrap();
    let before = commits(&copy);
    let (out, _, stderr) = run(disco_in(ws.path()).args([
        "run",
        "--input",
        "file://rows.ndjson",
        "--output",
        "strange_table",
        "--format",
        "delta",
        "--quiet",
    ]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("discoMadeUpFeature"), "{stderr}");
    assert_eq!(commits(&copy), before);
}

#[test]
fn a_cut_or_missing_commit_is_an_error_naming_the_table() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, "");
    // v2 cut in the middle of a line.
    let mut toml = table_toml("cut_table", "corrupt_log", "");
    // v1 gone between v0 and v2: a gap in the log.
    let gap = lake.copy("versions", ws.path());
    std::fs::remove_file(gap.join("_delta_log/00000000000000000001.json")).unwrap();
    toml += "[tables.gap_table]\nurl = \"ws://versions\"\nformat = \"delta\"\n";
    std::fs::write(
        ws.path().join("disco.toml"),
        std::fs::read_to_string(ws.path().join("disco.toml")).unwrap() + &toml,
    )
    .unwrap();
    let err = refused(ws.path(), "cut_table");
    assert!(err.contains("cut_table"), "{err}");
    assert!(
        ["00000000000000000002", "version 2", "_delta_log"]
            .iter()
            .any(|w| err.contains(w)),
        "the error points at the log: {err}"
    );
    let err = refused(ws.path(), "gap_table");
    assert!(err.contains("gap_table"), "{err}");
    // `catalog show` prints the entry, says the log cannot be read, and fails.
    let (out, shown, stderr) = run(disco_in(ws.path()).args(["catalog", "show", "cut_table"]));
    assert_eq!(out.status.code(), Some(1), "{shown}\n{stderr}");
    assert!(shown.contains("# metadata: cannot be read:"), "{shown}");
    assert!(
        stderr.contains("table `cut_table`: cannot be read"),
        "{stderr}"
    );
}

#[test]
fn catalog_show_of_a_table_not_created_yet_says_so_and_succeeds() {
    let Some(lake) = lake() else { return };
    let ws = workspace(lake, &table_toml("later", "not_yet", ""));
    let (out, shown, stderr) = run(disco_in(ws.path()).args(["catalog", "show", "later"]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        shown.contains("# metadata: none: the table does not exist yet"),
        "{shown}"
    );
}
