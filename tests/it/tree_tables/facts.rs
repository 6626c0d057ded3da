//! The facts of a run, two ways: from the JSON records (converted here, independently of
//! Disco's own conversion) and from the tables read back with `disco read`; compared as sets
//! of canonical rows per table.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::support::{disco, json_lines, run};

pub const TABLES: [&str; 10] = [
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
pub type Facts = BTreeMap<String, Vec<String>>;

/// A row in canonical form: keys sorted, nulls dropped, every number a float.
pub fn canonical(row: &Map<String, Value>) -> String {
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
pub fn json_facts(records: &[Value]) -> Facts {
    let mut facts: BTreeMap<String, Vec<String>> =
        TABLES.iter().map(|t| (t.to_string(), Vec::new())).collect();
    let mut add = |t: &str, row: Map<String, Value>| {
        facts.get_mut(t).unwrap().push(canonical(&row));
    };
    // Edge endpoints inside the volume carry their file's id.
    let ids: BTreeMap<&str, &Value> = records
        .iter()
        .map(|r| (r["file"]["path"].as_str().unwrap(), &r["file"]["id"]))
        .collect();
    let file_of = |end: &Value| match end["external"] {
        Value::Bool(true) => Value::Null,
        _ => ids[end["path"].as_str().unwrap()].clone(),
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
                    ("from_file", &file_of(from)),
                    ("from_node", &from["node"]),
                    ("from_symbol", &from["sym"]),
                    ("from_external", &from["external"]),
                    ("to_path", &to["path"]),
                    ("to_file", &file_of(to)),
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
pub fn table_facts(out: &Path) -> Facts {
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

pub fn assert_same(json: &Facts, tables: &Facts) {
    for t in TABLES {
        let (a, b) = (&json[t], &tables[t]);
        if a == b {
            continue;
        }
        // Both sorted: a binary search each.
        let only_json: Vec<&String> = a
            .iter()
            .filter(|r| b.binary_search(r).is_err())
            .take(3)
            .collect();
        let only_tables: Vec<&String> = b
            .iter()
            .filter(|r| a.binary_search(r).is_err())
            .take(3)
            .collect();
        panic!(
            "{t}: {} rows from JSON, {} from the tables\nonly in JSON: {only_json:#?}\nonly in the tables: {only_tables:#?}",
            a.len(),
            b.len()
        );
    }
}
