//! Real language servers (installed by `scripts/setup-servers.sh`) on the multi-file
//! projects in `fixtures/lsp/`: concrete facts from each — a hover's type text, a definition
//! or reference in another file resolved to a node, a semantic token type, a diagnostic —
//! and positions that land on the right node after non-ASCII and emoji text.

use std::collections::HashMap;

use serde_json::Value;

use crate::support::{disco, json_lines, repo_root, run};

struct Case {
    lang: &'static str,
    server: &'static str,
    /// A file, a symbol name, and a substring of its hover.
    hover: (&'static str, &'static str, &'static str),
    /// A substring of the deliberate diagnostic, and its file.
    diagnostic: (&'static str, &'static str),
    /// An edge from the main file to the helpers file: (kind, name, helpers file).
    cross: (&'static str, &'static str, &'static str),
    token: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        lang: "python",
        server: "basedpyright",
        hover: (
            "helpers.py",
            "count_words",
            "def count_words(text: str) -> int",
        ),
        diagnostic: ("main.py", "cannot be assigned to parameter \"text\""),
        cross: ("calls", "count_words", "helpers.py"),
        token: Some("function"),
    },
    Case {
        lang: "typescript",
        server: "typescript-language-server",
        hover: (
            "helpers.ts",
            "countWords",
            "function countWords(text: string): number",
        ),
        diagnostic: ("main.ts", "not assignable to parameter of type 'string'"),
        cross: ("references", "countWords", "helpers.ts"),
        token: Some("function"),
    },
    Case {
        lang: "c",
        server: "clangd",
        hover: ("helpers.c", "count_words", "function `count_words`"),
        diagnostic: ("main.c", "ncompatible integer to pointer conversion"),
        cross: ("defines", "count_words", "helpers.c"),
        token: Some("function"),
    },
    Case {
        lang: "go",
        server: "gopls",
        hover: (
            "helpers.go",
            "CountWords",
            "func CountWords(text string) int",
        ),
        diagnostic: ("main.go", "cannot use 42"),
        cross: ("defines", "CountWords", "helpers.go"),
        token: Some("function"),
    },
    Case {
        lang: "bash",
        server: "bash-language-server",
        hover: ("helpers.sh", "count_words", ""),
        diagnostic: ("main.sh", "referenced but not assigned"),
        cross: ("defines", "count_words", "helpers.sh"),
        token: None,
    },
    Case {
        lang: "rust",
        server: "rust-analyzer",
        hover: (
            "src/helpers.rs",
            "count_words",
            "fn count_words(text: &str) -> usize",
        ),
        diagnostic: ("src/main.rs", "expected &str, found i32"),
        cross: ("defines", "count_words", "src/helpers.rs"),
        token: Some("function"),
    },
];

/// Leaf texts and annotated nodes of a nested record, by node id.
fn nodes(rec: &Value) -> HashMap<u64, &Value> {
    let mut out = HashMap::new();
    let mut stack = vec![&rec["tree"]];
    while let Some(n) = stack.pop() {
        if let Some(id) = n["n"].as_u64() {
            out.insert(id, n);
        }
        if let Some(children) = n["children"].as_array() {
            stack.extend(children);
        }
    }
    out
}

pub(crate) fn installed(server: &str) -> bool {
    let (out, stdout, _) = run(disco().args(["servers", "check"]));
    out.status.success()
        && stdout
            .lines()
            .any(|l| l.starts_with(server) && l.contains(" ok "))
}

/// Whether a test may use `server`: installed, or else skipped with a line on stderr (a
/// failure when `DISCO_REQUIRE_SERVERS` is set, as in `make test`).
pub(crate) fn available(server: &str) -> bool {
    if installed(server) {
        return true;
    }
    assert!(
        std::env::var_os("DISCO_REQUIRE_SERVERS").is_none(),
        "{server} is not installed: run scripts/setup-servers.sh"
    );
    eprintln!("SKIPPED: {server} is not installed (scripts/setup-servers.sh)");
    false
}

fn check(case: &Case) {
    if !available(case.server) {
        return;
    }
    let dir = repo_root().join("fixtures/lsp").join(case.lang);
    let (out, stdout, stderr) = run(disco()
        .arg("tree")
        .arg(&dir)
        .args(["--lsp", "full", "--quiet", "--lang", case.lang]));
    assert!(out.status.success(), "{stderr}");
    let recs = json_lines(&stdout);
    let rec = |path: &str| {
        recs.iter()
            .find(|r| r["file"]["path"] == path)
            .unwrap_or_else(|| panic!("{}: no record for {path}", case.lang))
    };
    for r in &recs {
        let s = &r["producers"]["servers"][0];
        assert_eq!(s["name"], case.server, "{}", r["file"]["path"]);
        assert!(
            ["ok", "partial"].contains(&s["status"].as_str().unwrap()),
            "{}: {s}",
            r["file"]["path"]
        );
    }
    // A hover's text on the helper's symbol.
    let (file, name, text) = case.hover;
    let h = rec(file);
    let sym = h["symbols"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{}: no symbol {name} in {}", case.lang, h["symbols"]));
    assert!(
        sym["hover"].as_str().unwrap_or("").contains(text),
        "{}: hover of {name}: {}",
        case.lang,
        sym["hover"]
    );
    assert!(sym["def"]["node"].is_u64());
    // The deliberate diagnostic, on a node.
    let (file, message) = case.diagnostic;
    let d = rec(file);
    let diag = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["message"].as_str().unwrap().contains(message));
    assert!(
        diag.is_some_and(|x| x["node"].is_u64()),
        "{}: diagnostics of {file}: {}",
        case.lang,
        d["diagnostics"]
    );
    // A relation across files, resolved to a node in the other file.
    let (kind, name, target) = case.cross;
    let cross = recs
        .iter()
        .flat_map(|r| r["edges"].as_array().unwrap())
        .find(|e| {
            e["kind"] == kind
                && e["name"] == name
                && e["to"]["path"] == target
                && e["from"]["path"] != target
        });
    let cross =
        cross.unwrap_or_else(|| panic!("{}: no {kind} edge to {name} in {target}", case.lang));
    assert!(cross["to"]["node"].is_u64(), "{}: {cross}", case.lang);
    // Semantic tokens, decoded against the server's legend, on nodes.
    if let Some(token) = case.token {
        let found = recs
            .iter()
            .any(|r| nodes(r).values().any(|n| n["tok"]["type"] == token));
        assert!(found, "{}: no `{token}` token", case.lang);
    }
    // Positions convert exactly: every node a definition lookup starts from holds the name
    // looked up, also on lines with non-ASCII and emoji before it.
    for r in &recs {
        let by_id = nodes(r);
        for e in r["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "defines" && e["from"]["path"] == r["file"]["path"])
        {
            let n = by_id[&e["from"]["node"].as_u64().unwrap()];
            assert_eq!(n["text"], e["name"], "{}: {e}", case.lang);
        }
    }
}

#[test]
fn basedpyright() {
    check(&CASES[0]);
}

#[test]
fn typescript_language_server() {
    check(&CASES[1]);
}

#[test]
fn clangd() {
    check(&CASES[2]);
}

#[test]
fn gopls() {
    check(&CASES[3]);
}

#[test]
fn bash_language_server() {
    check(&CASES[4]);
}

#[test]
fn rust_analyzer() {
    check(&CASES[5]);
}

#[test]
fn records_with_server_facts_validate_against_the_schemas() {
    if !installed("basedpyright") {
        return;
    }
    let dir = repo_root().join("fixtures/lsp/python");
    for (flat, schema) in [(false, "tree.schema.json"), (true, "flat.schema.json")] {
        let mut cmd = disco();
        cmd.arg("tree").arg(&dir).args(["--lsp", "full", "--quiet"]);
        if flat {
            cmd.arg("--flat");
        }
        let (_, stdout, stderr) = run(&mut cmd);
        let recs = json_lines(&stdout);
        assert!(!recs.is_empty(), "{stderr}");
        crate::schema::assert_valid(&crate::schema::validator(schema), &recs);
        if flat {
            for ty in ["symbol", "edge", "diagnostic"] {
                assert!(recs.iter().any(|r| r["type"] == ty), "no {ty} record");
            }
        }
    }
}

/// Every built-in server has an installer from a package registry; a program that is found
/// but does not run (rustup's proxy without its component) is `broken`, and `--missing`
/// installs it too.
#[test]
fn every_builtin_server_installs_from_a_registry_and_one_that_does_not_run_is_broken() {
    let (out, stdout, stderr) = run(disco().args(["servers", "list"]));
    assert!(out.status.success(), "{stderr}");
    for line in stdout.lines() {
        assert!(
            ["npm ", "pypi ", "rustup component", "crates.io ", "debian "]
                .iter()
                .any(|m| line.contains(m)),
            "no registry installer: {line}"
        );
    }
    let tools = tempfile::tempdir().unwrap();
    let bin = tools.path().join("cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Like rustup's proxy when the component is missing: found, but exits 1.
    let fake = bin.join("taplo");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'error: not installed' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (out, stdout, _) = run(disco()
        .args(["servers", "check"])
        .env("DISCO_TOOLS", tools.path()));
    assert!(out.status.success());
    let taplo = stdout.lines().find(|l| l.starts_with("taplo")).unwrap();
    assert!(
        taplo.contains("broken") && taplo.contains("not installed"),
        "{taplo}"
    );
}
