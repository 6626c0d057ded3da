//! `disco tree` end to end: order and determinism, filters, text modes, output files,
//! Parquet, the summary, usage errors and a closed pipe.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::support::{disco, json_lines, repo_root, run, tree};

fn many_files(n: usize) -> tempfile::TempDir {
    let dir = tree(&[]);
    for i in 0..n {
        let body = format!("def f{i}(x):\n    return x + {i}\n\nclass C{i}:\n    pass\n");
        crate::support::write(
            dir.path(),
            &format!("pkg{}/m{i:04}.py", i % 7),
            body.as_bytes(),
        );
    }
    dir
}

#[test]
fn output_is_sorted_by_path_and_the_same_for_any_number_of_jobs() {
    let dir = many_files(120);
    let one = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--quiet", "--jobs", "1"]))
    .1;
    let two = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--quiet", "--jobs", "2"]))
    .1;
    let eight = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--quiet", "--jobs", "8"]))
    .1;
    assert_eq!(one, two);
    assert_eq!(one, eight);
    let paths: Vec<String> = json_lines(&one)
        .iter()
        .map(|r| r["file"]["path"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 120);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = many_files(600);
    let mut child = disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--jobs", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe closes after one line.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(first.starts_with("{\"schema\":\"disco.tree/1\""));
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn lang_include_and_exclude_filter_files() {
    let dir = tree(&[
        ("a.py", b"x = 1\n"),
        ("b.rs", b"fn main() {}\n"),
        ("c.go", b"package c\n"),
        ("t/test_a.py", b"y = 2\n"),
    ]);
    let (out, stdout, stderr) =
        run(disco()
            .arg("tree")
            .arg(dir.path())
            .args(["--quiet", "--lang", "python,rs"]));
    assert!(out.status.success());
    let langs: Vec<String> = json_lines(&stdout)
        .iter()
        .map(|r| r["file"]["language"].as_str().unwrap().into())
        .collect();
    assert_eq!(langs, ["python", "rust", "python"]);
    assert!(stderr.contains("left out by --lang: 1 files"), "{stderr}");
    let recs =
        crate::support::tree_records(dir.path(), &["--include", "*.py", "--exclude", "t/**"]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["file"]["path"], "a.py");
}

#[test]
fn text_modes_and_node_ranges() {
    let dir = tree(&[("a.py", b"def f():\n    return 1\n")]);
    let leaves = crate::support::tree_records(dir.path(), &[]);
    let root = &leaves[0]["tree"];
    assert!(root.get("text").is_none());
    assert_eq!(
        root["last"].as_u64().unwrap() + 1,
        leaves[0]["stats"]["nodes"].as_u64().unwrap()
    );
    let def = &root["children"][0];
    assert_eq!(def["kind"], "function_definition");
    assert_eq!(def["children"][1]["field"], "name");
    assert_eq!(def["children"][1]["text"], "f");
    let none = crate::support::tree_records(dir.path(), &["--text", "none"]);
    assert!(!none[0].to_string().contains("\"text\""));
    let all = crate::support::tree_records(dir.path(), &["--text", "all"]);
    assert_eq!(all[0]["tree"]["text"], "def f():\n    return 1\n");
}

#[test]
fn output_files_are_written_whole() {
    let dir = many_files(10);
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("tree.jsonl");
    let (out, _, stderr) = run(disco()
        .arg("tree")
        .arg(dir.path())
        .arg("-o")
        .arg(&target)
        .arg("--quiet"));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap().lines().count(),
        10
    );
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        1,
        "no temporary file is left behind: {names:?}"
    );
    assert!(
        stderr.contains("disco tree: 10 files") && stderr.contains("B/s"),
        "{stderr}"
    );
    // A small, quick run reads as what it is, never as `0.0 MB/s`.
    assert!(!stderr.contains(" 0.0 MB/s"), "{stderr}");
}

#[test]
fn parquet_holds_every_node_and_every_file() {
    let dir = tree(&[
        ("a.py", b"def f():\n    return 1\n"),
        ("b.go", b"package b\n\nfunc G() int { return 2 }\n"),
        ("c.bin", b"\0\0\0"),
    ]);
    let nested = crate::support::tree_records(dir.path(), &[]);
    let nodes: u64 = nested
        .iter()
        .filter_map(|r| r["stats"]["nodes"].as_u64())
        .sum();
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("t");
    let (out, _, stderr) = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--format", "parquet", "--quiet", "-o"])
        .arg(&target));
    assert!(out.status.success(), "{stderr}");
    let part = |t: &str| {
        SerializedFileReader::new(
            std::fs::File::open(target.join(t).join("part-000000.parquet")).unwrap(),
        )
        .unwrap()
    };
    let reader = part("nodes");
    assert_eq!(reader.metadata().file_metadata().num_rows() as u64, nodes);
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    for c in [
        "file",
        "id",
        "parent",
        "kind",
        "field",
        "start_byte",
        "end_row",
        "text",
        "token_type",
    ] {
        assert!(columns.contains(&c.to_string()), "{columns:?}");
    }
    assert_eq!(
        part("files").metadata().file_metadata().num_rows(),
        3,
        "the binary file has a row too"
    );
    let (out, _, stderr) = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--format", "parquet"]));
    assert!(
        !out.status.success() && stderr.contains("give it with -o"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_non_zero() {
    let (out, _, stderr) = run(disco()
        .args(["tree", ".", "--lang", "cobol"])
        .current_dir(repo_root()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("unknown language `cobol`"), "{stderr}");
    let (out, _, _) = run(disco().args(["tree", ".", "--text", "some"]));
    assert_eq!(out.status.code(), Some(2));
    let (out, _, stderr) = run(disco().args(["tree", "/no/such/dir"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("/no/such/dir"), "{stderr}");
    let (out, _, stderr) = run(disco().args(["tree", "ghost://x"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("no volume named `ghost`"), "{stderr}");
}

#[test]
fn the_project_itself_parses_cleanly() {
    let recs = crate::support::tree_records(&repo_root(), &["--include", "src/**"]);
    assert!(recs.len() > 20);
    for r in &recs {
        assert_eq!(r["status"], "ok", "{}: {}", r["file"]["path"], r["reason"]);
    }
}
