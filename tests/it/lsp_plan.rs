//! The two plans of `--lsp full` on the fixture projects, with the real servers: the
//! definition plan (one `definition` per identifier, inverted) against the request plan
//! (`references` per symbol, call hierarchy; `--lsp-plan requests`). No edge of the request
//! plan may be lost unless the definition plan resolves the same occurrence elsewhere, and
//! every new edge is a reference or a call.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::lsp_servers::available;
use crate::support::{disco, json_lines, repo_root, run};

/// (kind, from path, from node, to path, to node).
type Edge = (String, String, Option<u64>, String, Option<u64>);

/// Node kinds by (path, node id).
type Kinds = BTreeMap<(String, u64), String>;

fn edges(lang: &str, plan: &str) -> (BTreeMap<Edge, String>, Kinds) {
    let dir = repo_root().join("fixtures/lsp").join(lang);
    let (out, stdout, stderr) = run(disco().arg("tree").arg(&dir).args([
        "--lsp",
        "full",
        "--quiet",
        "--lang",
        lang,
        "--lsp-plan",
        plan,
    ]));
    assert!(out.status.success(), "{stderr}");
    let (mut map, mut kinds) = (BTreeMap::new(), Kinds::new());
    for r in json_lines(&stdout) {
        let path = r["file"]["path"].as_str().unwrap().to_string();
        let mut stack = vec![&r["tree"]];
        while let Some(n) = stack.pop() {
            if let (Some(id), Some(kind)) = (n["n"].as_u64(), n["kind"].as_str()) {
                kinds.insert((path.clone(), id), kind.to_string());
            }
            stack.extend(n["children"].as_array().into_iter().flatten());
        }
        for e in r["edges"].as_array().unwrap() {
            let end = |v: &Value| (v["path"].as_str().unwrap().to_string(), v["node"].as_u64());
            let ((fp, fnode), (tp, tnode)) = (end(&e["from"]), end(&e["to"]));
            let kind = e["kind"].as_str().unwrap().to_string();
            map.insert(
                (kind, fp, fnode, tp, tnode),
                e["name"].as_str().unwrap_or("").to_string(),
            );
        }
    }
    (map, kinds)
}

/// Why the definition plan may miss an edge of the request plan: the same occurrence
/// resolves to another declaration of the same thing — the class for its constructor
/// (`Counter()` against `__init__`), the definition for a C header's declaration, a shell
/// variable's first assignment for a later one, a module's file for its `mod` line, the
/// type for an `impl` block — so an edge of the same kind leaves it, or the occurrence is
/// itself the declaration the other edges point to. C headers' declarations, which
/// `definition` steps over, are neither: clangd's call hierarchy names callers by them.
/// Nor are names the grammar does not mark as names, at either end: the definition plan
/// asks at identifiers and tags references, and a server's definition never lands on a
/// bash `word` such as `read -a words` (its document symbol), but on `local -a words`.
fn explained(lost: &Edge, new: &BTreeMap<Edge, String>, kinds: &Kinds) -> bool {
    let (kind, fp, fnode, tp, tnode) = lost;
    let from_elsewhere = new
        .keys()
        .any(|(k, p, n, _, _)| k == kind && p == fp && n == fnode);
    let is_target = new
        .keys()
        .any(|(k, _, _, p, n)| k == kind && p == fp && n == fnode);
    let not_a_name = |p: &String, n: &Option<u64>| {
        n.and_then(|n| kinds.get(&(p.clone(), n)))
            .is_some_and(|k| !k.ends_with("identifier") && k != "variable_name")
    };
    let not_a_name = not_a_name(fp, fnode) || not_a_name(tp, tnode);
    from_elsewhere || is_target || not_a_name || fp.ends_with(".h") || tp.ends_with(".h")
}

fn check(lang: &str, server: &str) {
    if !available(server) {
        return;
    }
    let (old, kinds) = edges(lang, "requests");
    let (new, _) = edges(lang, "definitions");
    let lost: BTreeSet<&Edge> = old.keys().filter(|e| !new.contains_key(*e)).collect();
    let added: BTreeSet<&Edge> = new.keys().filter(|e| !old.contains_key(*e)).collect();
    for e in &lost {
        eprintln!("{lang}: not in the definition plan: {e:?} {}", old[*e]);
    }
    for e in &added {
        eprintln!("{lang}: new in the definition plan: {e:?} {}", new[*e]);
    }
    let unexplained: Vec<_> = lost
        .iter()
        .filter(|e| !explained(e, &new, &kinds))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{lang}: edges lost: {unexplained:?}"
    );
    // New edges are references to declarations that are no document symbol (parameters,
    // `self`, imports, locals) or calls found at call sites; the other kinds come from the
    // same requests in both plans.
    assert!(
        added.iter().all(|e| e.0 == "references" || e.0 == "calls"),
        "{lang}: {added:?}"
    );
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_python() {
    check("python", "basedpyright");
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_typescript() {
    check("typescript", "typescript-language-server");
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_c() {
    check("c", "clangd");
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_go() {
    check("go", "gopls");
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_bash() {
    check("bash", "bash-language-server");
}

#[test]
fn the_definition_plan_keeps_the_request_plans_edges_rust() {
    check("rust", "rust-analyzer");
}
