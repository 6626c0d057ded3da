//! Shared helpers: running the binary, temporary trees, reading records.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `disco` command with a clean environment for the catalog, and language servers off
/// unless a test asks for them (`--lsp`).
pub fn disco() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_disco"));
    cmd.env_remove("DISCO_CATALOG").env("DISCO_LSP", "none");
    isolate_cargo(&mut cmd);
    cmd
}

/// Language servers run cargo (rust-analyzer's `cargo metadata`, its rustc probes): they must
/// not share the target directory, nor cargo's probe cache, of the build running the tests.
pub fn isolate_cargo(cmd: &mut Command) {
    cmd.env(
        "CARGO_TARGET_DIR",
        std::env::temp_dir().join("disco-it-servers-target"),
    );
}

/// The fault-injection server built from `examples/fake_lsp.rs`.
pub fn fake_lsp() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_disco"));
    bin.parent().unwrap().join("examples/fake_lsp")
}

/// Runs a command, returning its output; stdout and stderr as text.
pub fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("disco runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Writes files (path → contents) under a new temporary directory.
pub fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        write(dir.path(), path, contents);
    }
    dir
}

pub fn write(root: &Path, path: &str, contents: &[u8]) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, contents).unwrap();
}

/// Parses JSON lines.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", &l[..l.len().min(200)]))
        })
        .collect()
}

/// The nested records of `disco tree <dir> [args]`, asserting exit 0.
pub fn tree_records(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let (out, stdout, stderr) = run(disco().arg("tree").arg(dir).args(args).arg("--quiet"));
    assert!(out.status.success(), "disco tree failed: {stderr}");
    json_lines(&stdout)
}

/// The record for `path` among `records`.
pub fn record<'a>(records: &'a [serde_json::Value], path: &str) -> &'a serde_json::Value {
    records
        .iter()
        .find(|r| r["file"]["path"] == path)
        .unwrap_or_else(|| panic!("no record for {path}"))
}
