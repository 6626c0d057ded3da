//! `--lsp full` at repository scale (issue 10): what it asks once instead of at every
//! occurrence, what it no longer asks at all, and several instances of a server sharing the
//! files. Real basedpyright; the fake server only to count processes.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::lsp_servers::available;
use crate::support::{disco, fake_lsp, json_lines, record, run, write};

fn basedpyright() -> bool {
    available("basedpyright")
}

/// A small project: builtins used in two files, a class hierarchy and a lone class.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "repo/pyproject.toml", b"[project]\nname = \"scale\"\n");
    write(
        p,
        "repo/shapes.py",
        b"class Base:\n    def run(self) -> int:\n        return len([1])\n\n\nclass Child(Base):\n    def run(self) -> int:\n        return len([1, 2]) + len(str(3))\n\n\nclass Lone:\n    def go(self) -> None:\n        print(len(\"x\"))\n",
    );
    write(
        p,
        "repo/main.py",
        b"from shapes import Child, Lone\n\n\ndef main() -> None:\n    print(len(str(Child().run())))\n    Lone().go()\n",
    );
    dir
}

/// `disco tree repo --lsp full` in `dir`, with `extra` arguments.
fn full(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let (out, stdout, stderr) = run(disco()
        .args([
            "tree", "repo", "--lsp", "full", "--quiet", "--lang", "python",
        ])
        .args(extra)
        .current_dir(dir));
    assert!(out.status.success(), "{stderr}");
    json_lines(&stdout)
}

/// The texts of a record's nodes by id.
fn texts(rec: &Value) -> std::collections::BTreeMap<u64, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![&rec["tree"]];
    while let Some(n) = stack.pop() {
        if let (Some(id), Some(t)) = (n["n"].as_u64(), n["text"].as_str()) {
            out.insert(id, t.to_string());
        }
        stack.extend(n["children"].as_array().into_iter().flatten());
    }
    out
}

fn edges<'a>(rec: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    rec["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |e| e["kind"] == kind)
}

#[test]
fn a_standard_library_name_asked_once_still_gives_every_occurrence_its_edges() {
    if !basedpyright() {
        return;
    }
    let dir = project();
    let recs = full(dir.path(), &[]);
    let mut targets = BTreeSet::new();
    let mut calls = 0;
    for rec in &recs {
        let text = texts(rec);
        let lens: Vec<u64> = text
            .iter()
            .filter(|(_, t)| t.as_str() == "len")
            .map(|(n, _)| *n)
            .collect();
        assert!(!lens.is_empty(), "{}", rec["file"]["path"]);
        for n in lens {
            let defines: Vec<&Value> = edges(rec, "defines")
                .filter(|e| e["from"]["node"] == n)
                .collect();
            assert!(!defines.is_empty(), "`len` at node {n} has no defines edge");
            for e in defines {
                targets.insert(e["to"]["path"].as_str().unwrap().to_string());
            }
            calls += edges(rec, "calls")
                .filter(|e| e["name"] == "len")
                .count()
                .min(1);
        }
    }
    // Every occurrence, asked or copied, lands on the same declaration(s) in the stubs.
    assert!(
        targets.iter().all(|t| t.ends_with("builtins.pyi")),
        "{targets:?}"
    );
    assert!(calls > 0);
}

#[test]
fn implementations_are_asked_of_methods_only_where_a_class_is_derived() {
    if !basedpyright() {
        return;
    }
    let dir = project();
    let recs = full(dir.path(), &[]);
    let shapes = record(&recs, "shapes.py");
    let text = texts(shapes);
    let name = |v: &Value| text[&v["node"].as_u64().unwrap()].clone();
    let implements: BTreeSet<(String, String)> = edges(shapes, "implements")
        .map(|e| (name(&e["from"]), name(&e["to"])))
        .collect();
    // Child derives from Base and its `run` overrides Base's; nothing derives from Lone.
    assert!(
        implements.contains(&("Child".into(), "Base".into())),
        "{implements:?}"
    );
    assert!(
        implements.contains(&("run".into(), "run".into())),
        "{implements:?}"
    );
    assert!(
        !implements.iter().any(|(f, t)| f == "Lone" || t == "go"),
        "{implements:?}"
    );
    // No symbol implements itself.
    for e in edges(shapes, "implements").chain(edges(shapes, "type_of")) {
        assert_ne!(e["from"], e["to"], "{e}");
    }
}

/// What a run found, without what depends on which process answered (versions are equal).
fn facts(recs: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in recs {
        let path = &r["file"]["path"];
        for field in ["edges", "symbols", "diagnostics"] {
            out.insert(format!("{path} {field} {}", r[field]));
        }
        out.insert(format!("{path} tree {}", r["tree"]));
        let status = &r["producers"]["servers"][0]["status"];
        out.insert(format!("{path} status {status}"));
    }
    out
}

#[test]
fn two_instances_of_a_server_share_the_files_and_find_the_same_facts() {
    if !basedpyright() {
        return;
    }
    let dir = project();
    let one = full(dir.path(), &["--jobs", "2"]);
    std::fs::write(
        dir.path().join("disco.toml"),
        // A built-in server's entry need only say what it changes.
        "[servers.basedpyright]\ninstances = 2\n",
    )
    .unwrap();
    let two = full(dir.path(), &["--jobs", "2"]);
    assert_eq!(one.len(), 2);
    assert_eq!(facts(&one), facts(&two));
}

#[test]
fn two_files_in_hand_at_once_start_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for name in ["a", "b", "c", "d"] {
        write(p, &format!("repo/{name}.py"), b"def f():\n    return 1\n");
    }
    std::fs::create_dir_all(p.join("state")).unwrap();
    let catalog = |instances: usize| {
        format!(
            "[servers.fake]\ncommand = [{:?}]\nlanguages = [\"python\"]\ninstances = {instances}\nenv = {{ FAKE_LSP_MODE = \"slow\", FAKE_LSP_STATE_DIR = {:?} }}\n",
            fake_lsp().to_str().unwrap(),
            p.join("state").to_str().unwrap()
        )
    };
    let starts = |instances: usize| {
        std::fs::write(p.join("disco.toml"), catalog(instances)).unwrap();
        let _ = std::fs::remove_file(p.join("state/starts"));
        let (out, stdout, stderr) = run(disco()
            .args(["tree", "repo", "--lsp", "symbols", "--quiet", "--jobs", "2"])
            .current_dir(p));
        assert!(out.status.success(), "{stderr}");
        let recs = json_lines(&stdout);
        assert_eq!(recs.len(), 4);
        for r in &recs {
            assert_eq!(r["producers"]["servers"][0]["status"], "ok", "{r}");
        }
        std::fs::read_to_string(p.join("state/starts"))
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(starts(1), 1);
    assert_eq!(starts(2), 2);
}
