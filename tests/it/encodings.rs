//! Encodings: files that are not UTF-8 (BOMs, UTF-16/32, legacy encodings found by
//! detection, `--encoding`) decode the same way in `disco tree`, the `tree` stage and the
//! `text`/`lines` readers; bytes that are no text stay `invalid_encoding`.
//! The fixtures in `fixtures/encodings/` are written by its `make.py`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::bad_input::{bad_tree, noise};
use crate::support::{disco, json_lines, record, repo_root, run, tree, tree_records};

fn fixtures() -> PathBuf {
    repo_root().join("fixtures/encodings")
}

/// Every leaf text of a nested tree, in order.
fn leaves(node: &Value, out: &mut Vec<String>) {
    if let Some(t) = node["text"].as_str() {
        out.push(t.to_string());
    }
    for c in node["children"].as_array().into_iter().flatten() {
        leaves(c, out);
    }
}

fn leaf_texts(rec: &Value) -> String {
    let mut out = Vec::new();
    leaves(&rec["tree"], &mut out);
    out.join(" ")
}

/// Status, encoding and confidence of a record.
fn decoding(rec: &Value) -> (String, Option<String>, Option<f64>) {
    (
        rec["status"].as_str().unwrap().to_string(),
        rec["file"]["encoding"].as_str().map(str::to_string),
        rec["file"]["encoding_confidence"].as_f64(),
    )
}

#[test]
fn a_latin1_python_file_is_ok_as_windows_1252() {
    // Regression: `"caf\xe9"` (a Latin-1 byte) was `invalid_encoding`.
    let recs = tree_records(&fixtures(), &[]);
    let r = record(&recs, "latin1.py");
    assert_eq!(r["status"], "ok", "{}", r["reason"]);
    assert_eq!(r["file"]["encoding"], "windows-1252");
    let confidence = r["file"]["encoding_confidence"].as_f64().unwrap();
    assert!(confidence > 0.0 && confidence <= 1.0, "{confidence}");
    assert!(leaf_texts(r).contains("café"), "{}", leaf_texts(r));
    assert_eq!(r["definitions"][0]["name"], "greet");
}

#[test]
fn windows_1252_smart_quotes_decode() {
    let recs = tree_records(&fixtures(), &[]);
    let r = record(&recs, "smart_quotes.py");
    assert_eq!(
        (r["status"].as_str(), r["file"]["encoding"].as_str()),
        (Some("ok"), Some("windows-1252"))
    );
    assert!(
        leaf_texts(r).contains("\u{201C}Hello\u{201D} \u{2013} it\u{2019}s here"),
        "{}",
        leaf_texts(r)
    );
}

#[test]
fn shift_jis_and_gbk_files_are_detected_with_confidence() {
    let recs = tree_records(&fixtures(), &[]);
    for (path, encoding, text) in [
        ("shift_jis.py", "shift_jis", "こんにちは、世界。"),
        ("gbk.py", "gbk", "你好，世界。"),
    ] {
        let r = record(&recs, path);
        assert_eq!(
            (r["status"].as_str(), r["file"]["encoding"].as_str()),
            (Some("ok"), Some(encoding)),
            "{path}: {}",
            r["reason"]
        );
        let confidence = r["file"]["encoding_confidence"].as_f64().unwrap();
        // Some regional expectations always pull (Moscow's toward windows-1251): CJK text
        // reads the same under most, not all.
        assert!(confidence >= 0.6, "{path}: {confidence}");
        assert!(leaf_texts(r).contains(text), "{path}: {}", leaf_texts(r));
    }
}

#[test]
fn utf16_and_utf32_files_with_a_bom_decode() {
    let recs = tree_records(&fixtures(), &[]);
    for (path, encoding) in [
        ("utf16le_bom.py", "utf-16le"),
        ("utf16be_bom.py", "utf-16be"),
        ("utf32le_bom.py", "utf-32le"),
        ("utf32be_bom.py", "utf-32be"),
    ] {
        let r = record(&recs, path);
        assert_eq!(
            decoding(r),
            ("ok".into(), Some(encoding.into()), Some(1.0)),
            "{path}: {}",
            r["reason"]
        );
        assert_eq!(r["definitions"][0]["name"], "wide", "{path}");
        assert!(
            leaf_texts(r).contains("日本 é"),
            "{path}: {}",
            leaf_texts(r)
        );
    }
}

#[test]
fn encoding_forces_one_and_an_unknown_name_is_a_usage_error() {
    let recs = tree_records(
        &fixtures().join("latin1.py"),
        &["--encoding", "windows-1251"],
    );
    assert_eq!(
        decoding(&recs[0]),
        ("ok".into(), Some("windows-1251".into()), Some(1.0))
    );
    assert!(leaf_texts(&recs[0]).contains("cafй"));
    // A BOM still wins over the forced encoding.
    let recs = tree_records(
        &fixtures().join("utf16be_bom.py"),
        &["--encoding", "windows-1251"],
    );
    assert_eq!(recs[0]["file"]["encoding"], "utf-16be");
    let (out, _, stderr) = run(disco()
        .arg("tree")
        .arg(fixtures())
        .args(["--encoding", "klingon"]));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown encoding \"klingon\"") && stderr.contains("windows-1252"),
        "{stderr}"
    );
}

#[test]
fn bytes_that_are_no_text_stay_invalid_encoding() {
    // Random bytes without a NUL: some encoding "decodes" them, into control characters.
    let dir = tree(&[
        ("noise.py", &noise(4000)),
        ("bad_utf16.py", b"\xFF\xFEa\0\x00\xD8"),
    ]);
    let recs = tree_records(dir.path(), &[]);
    let r = record(&recs, "noise.py");
    assert_eq!(r["status"], "invalid_encoding");
    assert!(
        r["reason"].as_str().unwrap().contains("control characters"),
        "{}",
        r["reason"]
    );
    assert_eq!(r["file"]["encoding"], Value::Null);
    let r = record(&recs, "bad_utf16.py");
    assert_eq!(
        (r["status"].as_str(), r["reason"].as_str()),
        (Some("invalid_encoding"), Some("invalid UTF-16LE at byte 4"))
    );
}

/// `disco run` over the files of `dir` as blobs, through the `tree` stage with `options`
/// (TOML inline-table keys): path → status, reason and decoding from its `files` row.
fn stage_records(dir: &std::path::Path, options: &str) -> BTreeMap<String, Value> {
    let work = tree(&[]);
    std::fs::write(
        work.path().join("p.toml"),
        format!(
            "input = \"file://{}\"\nstages = [{{ use = \"tree\"{options} }}]\n\
             output = \"file://out/t.ndjson\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let (out, _, stderr) = run(disco().current_dir(work.path()).args([
        "run",
        "p.toml",
        "--input-format",
        "blob",
        "--quiet",
    ]));
    assert!(out.status.success(), "{stderr}");
    let rows = std::fs::read_to_string(work.path().join("out/t.ndjson")).unwrap();
    // The stage's rows are the `files` table: the record's fields, flat.
    json_lines(&rows)
        .into_iter()
        .map(|row| {
            let rec = serde_json::json!({
                "status": row["status"],
                "reason": row["reason"],
                "file": {"encoding": row["encoding"], "encoding_confidence": row["encoding_confidence"]},
            });
            (row["path"].as_str().unwrap().to_string(), rec)
        })
        .collect()
}

#[test]
fn a_utf16_file_is_the_same_in_disco_tree_and_the_tree_stage() {
    // Regression: a UTF-16 file with a BOM was `ok` in `disco tree` but `binary` in the stage.
    // Every bad-input file and every encoding fixture gets the same status, encoding and
    // confidence both ways.
    let bad = bad_tree();
    for dir in [bad.path().to_path_buf(), fixtures()] {
        // Flat: rows have no depth limit, so a deep tree is `ok` both ways.
        let cli = tree_records(&dir, &["--max-bytes", "1M", "--flat"]);
        let stage = stage_records(&dir, ", max_bytes = 1000000");
        assert!(stage.len() >= 8, "{stage:?}");
        for (path, rec) in &stage {
            let expected = record(&cli, path);
            assert_eq!(decoding(rec), decoding(expected), "{path}");
            assert_eq!(rec["reason"], expected["reason"], "{path}");
        }
        let utf16 = if dir == fixtures() {
            "utf16le_bom.py"
        } else {
            "utf16.py"
        };
        assert_eq!(stage[utf16]["status"], "ok", "{}", stage[utf16]["reason"]);
    }
}

#[test]
fn the_tree_stage_takes_an_encoding_option() {
    let stage = stage_records(&fixtures(), ", encoding = \"windows-1251\"");
    assert_eq!(
        decoding(&stage["latin1.py"]),
        ("ok".into(), Some("windows-1251".into()), Some(1.0))
    );
    let dir = tree(&[]);
    // An unknown name is refused when the plan is checked.
    std::fs::write(
        dir.path().join("q.toml"),
        "input = \"file://q.toml\"\nstages = [{ use = \"tree\", encoding = \"klingon\" }]\n\
         output = \"file://out/q.ndjson\"\n",
    )
    .unwrap();
    let (out, _, stderr) = run(disco().current_dir(dir.path()).args([
        "run",
        "q.toml",
        "--input-format",
        "blob",
        "--quiet",
    ]));
    assert!(!out.status.success());
    assert!(stderr.contains("unknown encoding \"klingon\""), "{stderr}");
}

#[test]
fn the_text_and_lines_readers_use_the_same_decoder() {
    let dir = tree(&[]);
    for (name, from) in [("latin1.txt", "latin1.py"), ("utf16.txt", "utf16le_bom.py")] {
        std::fs::copy(fixtures().join(from), dir.path().join(name)).unwrap();
    }
    let read = |args: &[&str]| {
        let (out, stdout, stderr) = run(disco().current_dir(dir.path()).arg("read").args(args));
        assert!(out.status.success(), "{stderr}");
        json_lines(&stdout)
    };
    let rows = read(&["latin1.txt", "--input-format", "text"]);
    assert!(rows[0]["text"].as_str().unwrap().contains("\"café\""));
    let rows = read(&["latin1.txt"]);
    assert_eq!(rows[2]["text"], "    return \"café\"");
    let rows = read(&["utf16.txt"]);
    assert_eq!(rows[1]["text"], "    return \"日本 é\"");
    let rows = read(&["latin1.txt", "--encoding", "koi8-r"]);
    assert_eq!(rows[2]["text"], "    return \"cafИ\"");
}
