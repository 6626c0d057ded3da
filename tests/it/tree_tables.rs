//! The relational form of `disco.tree/1`: the JSON records and the tables of the same input
//! hold the same facts; the tables read back in polars and deltalake with their joins
//! working; shards fill one Delta table with every file once; a rerun adds nothing twice;
//! the `tree` stage gives the rows `disco tree` gives.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::bad_input::bad_tree;
use crate::support::{disco, json_lines, repo_root, run};

const TABLES: [&str; 10] = [
    "files",
    "nodes",
    "definitions",
    "units",
    "symbols",
    "edges",
    "diagnostics",
    "servers",
    "errors",
    "folding",
];

/// Facts: table name → rows (objects without null values, numbers as f64), sorted.
type Facts = BTreeMap<String, Vec<String>>;

/// A row in canonical form: keys sorted, nulls dropped, every number a float.
fn canonical(row: &Map<String, Value>) -> String {
    let mut out = Map::new();
    for (k, v) in row {
        let v = match v {
            Value::Null => continue,
            Value::Number(n) => json!(n.as_f64().unwrap()),
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out).to_string()
}

fn span(row: &mut Map<String, Value>, s: &Value) {
    for (i, k) in [
        "start_byte",
        "end_byte",
        "start_row",
        "start_col",
        "end_row",
        "end_col",
    ]
    .iter()
    .enumerate()
    {
        row.insert(k.to_string(), s[i].clone());
    }
}

fn pair(row: &mut Map<String, Value>, v: &Value, start: &str, end: &str) {
    row.insert(start.into(), v[0].clone());
    row.insert(end.into(), v[1].clone());
}

fn obj(pairs: &[(&str, &Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).clone()))
        .collect()
}

/// The facts of nested JSON records, converted independently of Disco's own conversion.
fn json_facts(records: &[Value]) -> Facts {
    let mut facts: BTreeMap<String, Vec<String>> =
        TABLES.iter().map(|t| (t.to_string(), Vec::new())).collect();
    let mut add = |t: &str, row: Map<String, Value>| {
        facts.get_mut(t).unwrap().push(canonical(&row));
    };
    for r in records {
        // Every key of the record is a fact of some table (or the tree, walked below).
        for k in r.as_object().unwrap().keys() {
            assert!(
                [
                    "schema",
                    "file",
                    "status",
                    "reason",
                    "producers",
                    "stats",
                    "definitions",
                    "units",
                    "symbols",
                    "diagnostics",
                    "edges",
                    "folding",
                    "errors",
                    "tree"
                ]
                .contains(&k.as_str()),
                "a record key no table holds: {k}"
            );
        }
        let f = &r["file"];
        let id = f["id"].clone();
        let file = |mut row: Map<String, Value>| {
            row.insert("file".into(), id.clone());
            row
        };
        let st = &r["stats"];
        let syn = &r["producers"]["syntax"];
        add(
            "files",
            obj(&[
                ("file", &id),
                ("volume", &f["volume"]),
                ("path", &f["path"]),
                ("language", &f["language"]),
                ("bytes", &f["bytes"]),
                ("sha256", &f["sha256"]),
                ("encoding", &f["encoding"]),
                ("encoding_confidence", &f["encoding_confidence"]),
                ("compression", &f["compression"]),
                ("generated", &f["generated"]),
                ("vendored", &f["vendored"]),
                ("status", &r["status"]),
                ("reason", &r["reason"]),
                ("grammar", &syn["grammar"]),
                ("grammar_version", &syn["version"]),
                ("syntax_status", &syn["status"]),
                ("nodes", &st["nodes"]),
                ("named_nodes", &st["named_nodes"]),
                ("depth", &st["depth"]),
                ("error_nodes", &st["error_nodes"]),
                ("missing_nodes", &st["missing_nodes"]),
                ("error_ratio", &st["error_ratio"]),
                ("lines", &st["lines"]),
            ]),
        );
        for s in r["producers"]["servers"].as_array().unwrap() {
            add(
                "servers",
                file(obj(&[
                    ("server", &s["name"]),
                    ("version", &s["version"]),
                    ("position_encoding", &s["position_encoding"]),
                    ("status", &s["status"]),
                    ("error", &s["error"]),
                ])),
            );
        }
        for e in r["errors"].as_array().unwrap() {
            add(
                "errors",
                file(obj(&[
                    ("producer", &e["producer"]),
                    ("request", &e["request"]),
                    ("code", &e["code"]),
                    ("message", &e["message"]),
                ])),
            );
        }
        for fold in r["folding"].as_array().unwrap() {
            add(
                "folding",
                file(obj(&[
                    ("start_line", &fold[0]),
                    ("end_line", &fold[1]),
                    ("kind", &fold[2]),
                ])),
            );
        }
        for d in r["definitions"].as_array().unwrap() {
            let mut row = file(obj(&[
                ("node", &d["node"]),
                ("name_node", &d["name_node"]),
                ("kind", &d["kind"]),
                ("name", &d["name"]),
                ("doc", &d["doc"]),
                ("enclosing", &d["enclosing"]),
            ]));
            span(&mut row, &d["span"]);
            pair(&mut row, &d["doc_span"], "doc_start", "doc_end");
            add("definitions", row);
        }
        for u in r["units"].as_array().unwrap() {
            let mut row = file(obj(&[
                ("node", &u["node"]),
                ("kind", &u["kind"]),
                ("name", &u["name"]),
                ("signature_text", &u["signature_text"]),
                ("sha256", &u["sha256"]),
                ("norm_sha256", &u["norm_sha256"]),
            ]));
            span(&mut row, &u["span"]);
            pair(
                &mut row,
                &u["signature"],
                "signature_start",
                "signature_end",
            );
            pair(&mut row, &u["body"], "body_start", "body_end");
            pair(&mut row, &u["doc"], "doc_start", "doc_end");
            add("units", row);
        }
        for s in r["symbols"].as_object().unwrap().values() {
            // Callers and callees are the `calls` edges; `rel` is not filled yet.
            assert_eq!(s["rel"], json!([]), "{s}");
            add(
                "symbols",
                file(obj(&[
                    ("symbol", &s["id"]),
                    ("name", &s["name"]),
                    ("kind", &s["kind"]),
                    ("detail", &s["detail"]),
                    ("hover", &s["hover"]),
                    ("enclosing", &s["enclosing"]),
                    ("def_path", &s["def"]["path"]),
                    ("def_node", &s["def"]["node"]),
                    ("refs", &s["refs"]),
                    ("external", &s["external"]),
                    ("source", &s["source"]),
                ])),
            );
        }
        for e in r["edges"].as_array().unwrap() {
            let (from, to) = (&e["from"], &e["to"]);
            add(
                "edges",
                file(obj(&[
                    ("kind", &e["kind"]),
                    ("from_path", &from["path"]),
                    ("from_node", &from["node"]),
                    ("from_symbol", &from["sym"]),
                    ("from_external", &from["external"]),
                    ("to_path", &to["path"]),
                    ("to_node", &to["node"]),
                    ("to_symbol", &to["sym"]),
                    ("to_external", &to["external"]),
                    ("name", &e["name"]),
                    ("source", &e["source"]),
                ])),
            );
        }
        for d in r["diagnostics"].as_array().unwrap() {
            let code = match &d["code"] {
                Value::Number(n) => json!(n.to_string()),
                other => other.clone(),
            };
            let mut row = file(obj(&[
                ("node", &d["node"]),
                ("severity", &d["severity"]),
                ("code", &code),
                ("source", &d["source"]),
                ("message", &d["message"]),
            ]));
            span(&mut row, &d["span"]);
            add("diagnostics", row);
        }
        // The tree, walked with each node's parent and depth.
        let mut stack: Vec<(&Value, Value, u64)> = Vec::new();
        if !r["tree"].is_null() {
            stack.push((&r["tree"], Value::Null, 0));
        }
        while let Some((n, parent, depth)) = stack.pop() {
            let tok = &n["tok"];
            let mods = tok["mods"]
                .as_array()
                .map(|m| {
                    json!(m
                        .iter()
                        .map(|x| x.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(" "))
                })
                .unwrap_or(Value::Null);
            let f = json!(false);
            let mut row = file(obj(&[
                ("id", &n["n"]),
                ("parent", &parent),
                ("depth", &json!(depth)),
                (
                    "last",
                    if n["last"].is_null() {
                        &n["n"]
                    } else {
                        &n["last"]
                    },
                ),
                ("kind", &n["kind"]),
                ("field", &n["field"]),
                ("named", &n["named"]),
                (
                    "extra",
                    if n["extra"].is_null() {
                        &f
                    } else {
                        &n["extra"]
                    },
                ),
                (
                    "error",
                    if n["error"].is_null() {
                        &f
                    } else {
                        &n["error"]
                    },
                ),
                (
                    "missing",
                    if n["missing"].is_null() {
                        &f
                    } else {
                        &n["missing"]
                    },
                ),
                ("text", &n["text"]),
                ("token_type", &tok["type"]),
                ("token_modifiers", &mods),
            ]));
            span(&mut row, &n["span"]);
            add("nodes", row);
            for c in n["children"].as_array().into_iter().flatten() {
                stack.push((c, n["n"].clone(), depth + 1));
            }
        }
    }
    for rows in facts.values_mut() {
        rows.sort();
    }
    facts
}

/// The rows of the tables under `out`, read back with `disco read`.
fn table_facts(out: &Path) -> Facts {
    let mut facts = Facts::new();
    for t in TABLES {
        let (o, stdout, stderr) = run(disco().arg("read").arg(out.join(t)));
        assert!(o.status.success(), "{t}: {stderr}");
        let mut rows: Vec<String> = json_lines(&stdout)
            .iter()
            .map(|r| canonical(r.as_object().unwrap()))
            .collect();
        rows.sort();
        facts.insert(t.to_string(), rows);
    }
    facts
}

fn assert_same(json: &Facts, tables: &Facts) {
    for t in TABLES {
        let (a, b) = (&json[t], &tables[t]);
        let only_json: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(3).collect();
        let only_tables: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(3).collect();
        assert!(
            a == b,
            "{t}: {} rows from JSON, {} from the tables\nonly in JSON: {only_json:#?}\nonly in the tables: {only_tables:#?}",
            a.len(),
            b.len()
        );
    }
}

fn tree_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let (out, stdout, stderr) = run(disco().arg("tree").arg(dir).args(args).arg("--quiet"));
    assert!(out.status.success(), "{stderr}");
    json_lines(&stdout)
}

fn tree_tables(dir: &Path, out: &Path, format: &str, args: &[&str]) -> String {
    let (o, _, stderr) = run(disco()
        .arg("tree")
        .arg(dir)
        .args(["--format", format, "-o"])
        .arg(out)
        .args(args)
        .arg("--quiet"));
    assert!(o.status.success(), "{stderr}");
    stderr
}

fn server_installed(server: &str) -> bool {
    let (out, stdout, _) = run(disco().args(["servers", "check"]));
    let ok = out.status.success()
        && stdout
            .lines()
            .any(|l| l.starts_with(server) && l.contains(" ok "));
    if !ok {
        assert!(
            std::env::var_os("DISCO_REQUIRE_SERVERS").is_none(),
            "{server} is not installed: run scripts/setup-servers.sh"
        );
        eprintln!("SKIPPED: {server} is not installed (scripts/setup-servers.sh)");
    }
    ok
}

#[test]
fn the_published_table_schemas_match_the_code() {
    let dir = repo_root().join("schema/tables");
    for t in disco::tree::tables::TreeTable::ALL {
        let expected = serde_json::to_string_pretty(&t.schema_json()).unwrap() + "\n";
        let path = dir.join(format!("{}.json", t.name()));
        if std::env::var_os("DISCO_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let published = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing (DISCO_BLESS=1 writes it)", path.display()));
        assert_eq!(
            published,
            expected,
            "{} differs from the code",
            path.display()
        );
    }
}

#[test]
fn json_lines_and_parquet_tables_hold_the_same_facts_for_bad_input() {
    let bad = bad_tree();
    let out = tempfile::tempdir().unwrap();
    let args = ["--max-bytes", "1M", "--jobs", "2"];
    let records = tree_json(bad.path(), &args);
    // Trees past the nested format's depth limit are `too_deep` there, whole in the tables
    // (rows have no depth limit, as `--flat` has none): compared by the other files.
    let deep: Vec<String> = records
        .iter()
        .filter(|r| r["status"] == "too_deep")
        .map(|r| format!("\"file\":{}", r["file"]["id"]))
        .collect();
    assert_eq!(deep.len(), 2);
    let shallow = |mut f: Facts| {
        for rows in f.values_mut() {
            rows.retain(|r| !deep.iter().any(|d| r.contains(d.as_str())));
        }
        f
    };
    let json = shallow(json_facts(&records));
    tree_tables(bad.path(), &out.path().join("t"), "parquet", &args);
    let tables = shallow(table_facts(&out.path().join("t")));
    assert!(json["files"].len() >= 10, "{:?}", json["files"]);
    assert!(json["nodes"].len() > 10);
    assert_same(&json, &tables);
}

#[test]
fn json_lines_and_delta_tables_hold_the_same_facts_with_a_language_server() {
    if !server_installed("basedpyright") {
        return;
    }
    let dir = repo_root().join("fixtures/lsp/python");
    let out = tempfile::tempdir().unwrap();
    let args = ["--lsp", "full", "--jobs", "1"];
    let json = json_facts(&tree_json(&dir, &args));
    tree_tables(&dir, &out.path().join("t"), "delta", &args);
    let tables = table_facts(&out.path().join("t"));
    for t in ["symbols", "edges", "diagnostics", "servers"] {
        assert!(!json[t].is_empty(), "no {t} in the records");
    }
    assert!(json["nodes"].iter().any(|n| n.contains("token_type")));
    assert_same(&json, &tables);
}
