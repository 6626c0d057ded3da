//! The catalog loader on arbitrary and mutated TOML: `Catalog::parse` never panics or hangs,
//! an error points at a line of the text, and a catalog it accepts can be listed, described
//! and resolved without a panic.

use std::path::Path;

use disco::catalog::{Catalog, CatalogError};
use proptest::prelude::*;

use super::within;
use crate::catalog::GOOD;

/// Parses on a deadline thread and checks what must hold of any answer.
fn check(text: String) -> Result<(), TestCaseError> {
    let lines = text.matches('\n').count() + 1;
    let answer = within("Catalog::parse", move || {
        let parsed = Catalog::parse(&text, Path::new("/cat/disco.toml"));
        if let Ok(cat) = &parsed {
            // What `disco catalog` and the editor do with a loaded catalog.
            for (kind, name, _) in cat.resources() {
                let _ = cat.detail(kind, name);
                let _ = cat.kinds_of(name);
            }
            let uris = cat
                .tables
                .values()
                .map(|t| &t.url)
                .chain(cat.pipelines.values().map(|p| &p.input));
            for uri in uris {
                let _ = cat.resolve(uri);
            }
        }
        parsed.map(|cat| cat.resources().iter().map(|r| r.2).max().unwrap_or(1))
    });
    match answer {
        Ok(max_line) => prop_assert!(
            max_line <= lines,
            "a resource on line {max_line} of {lines}"
        ),
        Err(CatalogError::Parse { line, column, .. }) => {
            prop_assert!(
                line >= 1 && line <= lines && column >= 1,
                "parse error at {line}:{column} of {lines} lines"
            );
        }
        Err(CatalogError::Invalid { line, .. }) => {
            prop_assert!(
                line >= 1 && line <= lines,
                "error on line {line} of {lines}"
            );
        }
        Err(_) => {}
    }
    Ok(())
}

/// Pieces of TOML and of catalog values: brackets, quotes, escapes, references, URIs,
/// dates, special numbers, section headers and multibyte text.
fn piece() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        "\"",
        "'",
        "'''",
        "\"\"\"",
        "=",
        ",",
        ".",
        "\n",
        "\r\n",
        "#",
        "\\",
        "\\u",
        "\\U0010FFFF",
        "\\ud800",
        "${",
        "$${",
        "${A}",
        "${}",
        "}",
        "://",
        "s3://",
        "file://",
        "pond://",
        "nope://",
        "..",
        "/",
        "*",
        "[!",
        "{a,",
        "1979-05-27T07:32:00Z",
        "07:32:00",
        "nan",
        "-inf",
        "+0",
        "0x1F",
        "1_000",
        "9999999999999999999999",
        "true",
        "é",
        "東",
        "😀",
        "\u{0}",
        "\t",
        "[volumes.x]",
        "[volumes.s3]",
        "[tables.t]",
        "[pipelines.p]",
        "[servers.s]",
        "[validators.v]",
        "[models.m]",
        "[tokenizers.t]",
        "url = \"x://y\"",
        "url = \"\"",
        "stages = [",
        "use = \"filter\"",
        "input = \"t\"",
        "command = []",
        "schema = {",
        "format = \"csv\"",
        "tokenizer = \"t\"",
        "kind = \"x\"",
        "a.b.c = 1",
    ]);
    prop_oneof![
        4 => fixed.prop_map(str::to_string),
        1 => "[ -~é東]{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, usize, String),
    DuplicateLine(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), piece()).prop_map(|(at, p)| Edit::Insert(at, p)),
        2 => (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        2 => (any::<usize>(), 1usize..10, piece()).prop_map(|(at, n, p)| Edit::Replace(at, n, p)),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
    ]
}

/// The char boundary at or before `i` (at most the length).
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A char boundary anywhere in `s`, chosen by `at`.
fn boundary(s: &str, at: usize) -> usize {
    floor(s, at % (s.len() + 1))
}

fn apply(text: &mut String, e: &Edit) {
    match e {
        Edit::Insert(at, p) => {
            let at = boundary(text, *at);
            text.insert_str(at, p);
        }
        Edit::Delete(at, n) | Edit::Replace(at, n, _) => {
            let start = boundary(text, *at);
            let end = floor(text, start + n);
            let with = match e {
                Edit::Replace(_, _, p) => p.as_str(),
                _ => "",
            };
            text.replace_range(start..end, with);
        }
        Edit::DuplicateLine(at) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let line = lines[at % lines.len()].to_string();
                let at = boundary(text, *at);
                text.insert_str(at, &line);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fuzz_catalog_arbitrary_text_never_panics(text in any::<String>()) {
        check(text)?;
    }

    #[test]
    fn fuzz_catalog_toml_soup_never_panics(pieces in prop::collection::vec(piece(), 0..40)) {
        check(pieces.concat())?;
    }

    #[test]
    fn fuzz_catalog_mutated_good_catalog_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let mut text = GOOD.to_string();
        for e in &edits {
            apply(&mut text, e);
        }
        check(text)?;
    }
}

/// TOML values nested far deeper than any catalog needs (arrays in a stage list, inline
/// tables in server settings, a validator's inline schema) must be an error or a value, not
/// a stack overflow while parsing, converting to JSON or dropping.
#[test]
fn deeply_nested_catalog_values_are_not_a_stack_overflow() {
    let n = 100_000;
    let arrays = format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let tables = format!("{}{}", "{a=".repeat(n), "}".repeat(n));
    for text in [
        format!("[pipelines.p]\ninput = \"file://x\"\nstages = {arrays}\n"),
        format!("[servers.s]\ncommand = [\"x\"]\nsettings = {tables}\n"),
        format!("[validators.v]\nschema = {tables}\n"),
        format!("[validators.v]\nschema = {}\n", "{a=".repeat(n)),
        format!("x = {}", "[".repeat(n)),
        format!("{}\n", "[a]\n".repeat(n)),
        format!("[{}]\n", vec!["a"; n].join(".")),
    ] {
        let _ = within("deep catalog", move || {
            Catalog::parse(&text, Path::new("/cat/disco.toml")).map(|_| ())
        });
    }
}
