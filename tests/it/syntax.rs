//! Syntax: every query compiles, every language parses its fixture and finds the expected
//! definitions and docs, detection by extension, file name and shebang.

use disco::catalog::Catalog;
use disco::syntax::{detect, languages};
use disco::tree::{build_file, Format, Payload, TreeOptions};
use disco::volume::{ListOptions, Volume};

use crate::support::repo_root;

#[test]
fn every_query_compiles_against_its_grammar() {
    assert_eq!(languages().len(), 18);
    for lang in languages() {
        if let Err(e) = lang.tags().and_then(|t| t.check()) {
            panic!("grammars/{}/tags.scm: {e}", lang.name);
        }
    }
}

#[derive(serde::Deserialize)]
struct Expect {
    file: String,
    language: String,
    definitions: Vec<String>,
    doc: Option<ExpectDoc>,
}

#[derive(serde::Deserialize)]
struct ExpectDoc {
    name: String,
    text: String,
}

/// The nested record of one file, built through the library.
fn record_of(dir: &std::path::Path, file: &str) -> serde_json::Value {
    let loc = Catalog::default().resolve(dir.to_str().unwrap()).unwrap();
    let volume = Volume::open(&loc.volume).unwrap();
    let entry = volume
        .list(file, &ListOptions::default())
        .unwrap()
        .remove(0);
    let out = build_file(
        &volume,
        &entry,
        &TreeOptions {
            format: Format::Nested,
            ..Default::default()
        },
    )
    .unwrap();
    match out.payload {
        Payload::Json(bytes) => serde_json::from_slice(&bytes).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_language_parses_its_fixture_with_definitions_and_docs() {
    let root = repo_root().join("fixtures/langs");
    let mut checked = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()) {
        let Ok(text) = std::fs::read_to_string(dir.join("expect.toml")) else {
            continue;
        };
        let expect: Expect = toml::from_str(&text).unwrap();
        let rec = record_of(&dir, &expect.file);
        let where_ = format!("{}/{}", dir.display(), expect.file);
        assert_eq!(rec["status"], "ok", "{where_}: {}", rec["reason"]);
        assert_eq!(
            rec["file"]["language"],
            expect.language.as_str(),
            "{where_}"
        );
        let found: Vec<String> = rec["definitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d["kind"].as_str().unwrap(),
                    d["name"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(found, expect.definitions, "{where_}");
        if let Some(doc) = expect.doc {
            let def = rec["definitions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == doc.name.as_str())
                .unwrap();
            assert_eq!(
                def["doc"].as_str(),
                Some(doc.text.as_str()),
                "{where_}: doc of {}",
                doc.name
            );
        }
        checked.push(expect.language);
    }
    checked.sort();
    assert_eq!(checked.len(), 18, "{checked:?}");
}

#[test]
fn units_carry_signature_body_doc_and_hashes() {
    let rec = record_of(&repo_root().join("fixtures/langs/python"), "sample.py");
    let units = rec["units"].as_array().unwrap();
    let greet = units.iter().find(|u| u["name"] == "greet").unwrap();
    assert_eq!(greet["kind"], "method");
    assert!(
        greet["signature_text"]
            .as_str()
            .unwrap()
            .starts_with("def greet("),
        "{greet}"
    );
    let (body, doc) = (&greet["body"], &greet["doc"]);
    assert!(
        doc[0].as_u64().unwrap() >= body[0].as_u64().unwrap(),
        "a docstring is inside the body"
    );
    assert_eq!(greet["sha256"].as_str().unwrap().len(), 64);
    // The enclosing class of a method is its definition node.
    let defs = rec["definitions"].as_array().unwrap();
    let class = defs.iter().find(|d| d["name"] == "Greeter").unwrap();
    let method = defs.iter().find(|d| d["name"] == "greet").unwrap();
    assert_eq!(method["enclosing"], class["node"]);
}

#[test]
fn detection_by_extension_name_shebang_and_compression() {
    let d = |path: &str, head: &[u8]| detect(path, head).map(|l| l.name.as_str());
    assert_eq!(d("a/b.rs", b""), Some("rust"));
    assert_eq!(d("x.TSX", b""), Some("tsx"));
    assert_eq!(d("Rakefile", b""), Some("ruby"));
    assert_eq!(
        d("bin/run", b"#!/usr/bin/env python3\nprint(1)\n"),
        Some("python")
    );
    assert_eq!(d("bin/run", b"#!/bin/bash\n"), Some("bash"));
    assert_eq!(d("data.py.gz", b""), Some("python"));
    assert_eq!(d("README", b"hello"), None);
    let shebang = record_of(&repo_root().join("fixtures/langs/shebang"), "run");
    assert_eq!(shebang["file"]["language"], "python");
    assert_eq!(shebang["status"], "ok");
    let rakefile = record_of(&repo_root().join("fixtures/langs/filename"), "Rakefile");
    assert_eq!(rakefile["file"]["language"], "ruby");
}
