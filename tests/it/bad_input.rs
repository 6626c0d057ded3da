//! Bad input: every case gets a record with a status and a reason; nothing panics, hangs or
//! vanishes. (Permission-denied files cannot be staged here: the tests run as root, which
//! reads anything; corrupt compressed files and dangling links exercise `unreadable`.)

use std::io::Write;

use crate::support::{disco, json_lines, record, run, tree, write};

/// Deterministic bytes that are no text in any encoding, and hold no NUL.
pub fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8 | 1
        })
        .collect()
}

/// A directory holding one file per bad-input case (and two good ones).
pub fn bad_tree() -> tempfile::TempDir {
    let mut late_nul = b"# padding\n".repeat(900);
    late_nul.extend_from_slice(b"x = 1\0\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "def g():\n    return '日本'\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"def zipped():\n    pass\n").unwrap();
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_py = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let big = b"x = 1\n".repeat(200_000);
    let mut broken_utf8 = "# é à ü ☕ 日本\n".repeat(3).into_bytes();
    broken_utf8.extend_from_slice(b"x = '\xFF'\n");
    let noise = noise(4000);
    let dir = tree(&[
        ("ok.py", b"def f():\n    \"\"\"Doc.\"\"\"\n    return 1\n"),
        ("syntax.py", b"def (:\n"),
        ("empty.py", b""),
        ("bom_crlf.py", b"\xEF\xBB\xBFdef h():\r\n    return 1\r\n"),
        ("utf16.py", &utf16),
        ("bin/blob.bin", &[0x7F, b'E', b'L', b'F', 0, 1, 2, 0, 0xFF]),
        ("bin/nul.py", b"x = 1\0\n"),
        ("late_nul.py", &late_nul),
        ("bad_utf8.py", b"x = '\xFF\xFE'\n"),
        ("broken_utf8.py", &broken_utf8),
        ("bad_utf16.py", b"\xFF\xFEa\0\x00\xD8"),
        ("noise.py", &noise),
        ("big.py", &big),
        ("deep.json", deep_json.as_bytes()),
        ("deep.py", deep_py.as_bytes()),
        ("notes.unknownext", b"plain text\n"),
        ("zipped.py.gz", &gz.finish().unwrap()),
        ("corrupt.py.gz", b"this is not gzip"),
    ]);
    let p = dir.path();
    std::os::unix::fs::symlink("/etc/hostname", p.join("outside.txt")).unwrap();
    std::os::unix::fs::symlink("nowhere", p.join("dangling.py")).unwrap();
    std::os::unix::fs::symlink(".", p.join("loop")).unwrap();
    std::os::unix::fs::symlink("ok.py", p.join("alias.py")).unwrap();
    let fifo = std::ffi::CString::new(p.join("fifo.py").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc_mkfifo(fifo.as_ptr(), 0o644) }, 0);
    dir
}

extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[test]
fn every_bad_input_gets_a_record_with_status_and_reason() {
    let dir = bad_tree();
    let (out, stdout, stderr) =
        run(disco()
            .arg("tree")
            .arg(dir.path())
            .args(["--quiet", "--max-bytes", "1M"]));
    assert!(out.status.success(), "{stderr}");
    let recs = json_lines(&stdout);
    let expect = [
        ("ok.py", "ok", ""),
        ("syntax.py", "syntax_errors", "ERROR"),
        ("empty.py", "ok", ""),
        ("bom_crlf.py", "ok", ""),
        ("utf16.py", "ok", ""),
        ("bin/blob.bin", "binary", "NUL byte at offset 4"),
        ("bin/nul.py", "binary", "NUL byte at offset 5"),
        // Not UTF-8, but FF FE is text in the single-byte Windows encodings (`ÿþ` in
        // windows-1252): legacy text, decoded.
        ("bad_utf8.py", "ok", ""),
        // UTF-8 but for one byte: broken UTF-8, not Latin-1 mojibake.
        (
            "broken_utf8.py",
            "invalid_encoding",
            "invalid UTF-8 at byte 71",
        ),
        (
            "bad_utf16.py",
            "invalid_encoding",
            "invalid UTF-16LE at byte 4",
        ),
        ("noise.py", "invalid_encoding", "control characters"),
        (
            "big.py",
            "too_large",
            "1200000 bytes is over the limit of 1000000",
        ),
        ("deep.json", "too_deep", "--flat"),
        ("deep.py", "too_deep", "--flat"),
        ("notes.unknownext", "unsupported", "no grammar"),
        ("zipped.py.gz", "ok", ""),
        ("corrupt.py.gz", "unreadable", "cannot decompress gzip"),
        ("outside.txt", "outside_volume", "outside the volume"),
        ("dangling.py", "unreadable", "dangling"),
        ("loop", "symlink", "not followed"),
        ("alias.py", "symlink", "symbolic link to ok.py"),
        ("fifo.py", "special", "fifo"),
    ];
    for (path, status, reason) in expect {
        let r = record(&recs, path);
        assert_eq!(r["status"], status, "{path}: {}", r["reason"]);
        assert!(
            r["reason"].as_str().unwrap_or("").contains(reason),
            "{path}: {}",
            r["reason"]
        );
    }
    // A NUL past the sniffing window is text: parsed, escaped in JSON.
    assert!(
        ["ok", "syntax_errors"].contains(&record(&recs, "late_nul.py")["status"].as_str().unwrap())
    );
    // Every file has exactly one record, and the summary counts them.
    assert_eq!(recs.len(), expect.len() + 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{} files", recs.len())),
        "{stderr}"
    );
    // Two bytes are little evidence: the detector picks a single-byte Windows encoding
    // (windows-1254 reads them as `ÿş`), without full confidence.
    let legacy = record(&recs, "bad_utf8.py");
    assert!(
        legacy["file"]["encoding"]
            .as_str()
            .is_some_and(|e| e.starts_with("windows-125")),
        "{}",
        legacy["file"]
    );
    let bom = record(&recs, "bom_crlf.py");
    assert_eq!(bom["file"]["encoding"], "utf-8-bom");
    assert_eq!(bom["definitions"][0]["name"], "h");
    let u16 = record(&recs, "utf16.py");
    assert_eq!(
        (
            u16["file"]["encoding"].as_str(),
            u16["definitions"][0]["name"].as_str()
        ),
        (Some("utf-16le"), Some("g"))
    );
    let zipped = record(&recs, "zipped.py.gz");
    assert_eq!(
        (
            zipped["file"]["language"].as_str(),
            zipped["file"]["compression"].as_str()
        ),
        (Some("python"), Some("gzip"))
    );
    // Too-deep trees still carry their statistics.
    assert!(
        record(&recs, "deep.json")["stats"]["depth"]
            .as_u64()
            .unwrap()
            >= 100_000
    );
}

#[test]
fn flat_mode_has_no_depth_limit() {
    let dir = tree(&[(
        "deep.json",
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
    )]);
    let (out, stdout, stderr) = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--quiet", "--flat", "--text", "none"]));
    assert!(out.status.success(), "{stderr}");
    let mut lines = stdout.lines();
    let file: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(file["status"], "ok");
    let nodes = lines
        .filter(|l| l.starts_with("{\"type\":\"node\""))
        .count() as u64;
    assert_eq!(nodes, file["stats"]["nodes"].as_u64().unwrap());
    assert!(nodes > 200_000);
}

#[test]
fn following_links_reports_loops_instead_of_hanging() {
    let dir = tree(&[("a/x.py", b"x = 1\n")]);
    std::os::unix::fs::symlink("..", dir.path().join("a/up")).unwrap();
    let (out, stdout, stderr) = run(disco()
        .arg("tree")
        .arg(dir.path())
        .args(["--quiet", "--follow"]));
    assert!(out.status.success(), "{stderr}");
    let recs = json_lines(&stdout);
    assert_eq!(record(&recs, "a/x.py")["status"], "ok");
    let looped = recs
        .iter()
        .find(|r| r["status"] == "unreadable")
        .expect("a loop record");
    assert!(
        looped["reason"].as_str().unwrap().contains("loop"),
        "{looped}"
    );
}

#[test]
fn a_parse_past_its_deadline_times_out() {
    let dir = tree(&[]);
    write(
        dir.path(),
        "slow.py",
        &b"def f(a, b):\n    return [x for x in a if x in b]\n".repeat(50_000),
    );
    let recs = crate::support::tree_records(
        dir.path(),
        &["--parse-timeout", "0.0001", "--max-bytes", "10M"],
    );
    assert_eq!(recs[0]["status"], "timeout");
    assert!(recs[0]["reason"].as_str().unwrap().contains("longer than"));
}

#[test]
fn an_error_leaf_the_root_does_not_flag_is_still_a_syntax_error() {
    // Regression: for `€ = 2` tree-sitter-python puts an ERROR leaf in the tree while the
    // root's `has_error` is false; the walk's counts decide the status.
    let dir = tree(&[(
        "euro.py",
        "# -*- coding: utf-8 -*-\n\u{20ac} = 2\n".as_bytes(),
    )]);
    let recs = crate::support::tree_records(dir.path(), &[]);
    assert_eq!(recs[0]["status"], "syntax_errors", "{}", recs[0]["stats"]);
    assert!(recs[0]["stats"]["error_nodes"].as_u64().unwrap() > 0);
}
