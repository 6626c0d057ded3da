//! SCIP out: `disco tree --format scip` over Python, bash, YAML, JSON, CSS and TOML (the last five
//! covered by no SCIP indexer), decoded with the SCIP project's own `scip` crate and checked
//! against the JSON records: documents, occurrences with roles, symbols with documentation,
//! diagnostics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use protobuf::Message;
use scip::types::{Index, SymbolRole};
use serde_json::Value;

use crate::support::{disco, json_lines, repo_root, run};

fn servers_installed() -> bool {
    let (out, stdout, _) = run(disco().args(["servers", "check"]));
    let ok = [
        "basedpyright",
        "bash-language-server",
        "yaml-language-server",
    ]
    .iter()
    .all(|s| {
        out.status.success()
            && stdout
                .lines()
                .any(|l| l.starts_with(s) && l.contains(" ok "))
    });
    if !ok {
        assert!(
            std::env::var_os("DISCO_REQUIRE_SERVERS").is_none(),
            "language servers are missing: run scripts/setup-servers.sh"
        );
        eprintln!("SKIPPED: language servers are missing (scripts/setup-servers.sh)");
    }
    ok
}

fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["python", "bash"] {
        let from = repo_root().join("fixtures/lsp").join(lang);
        std::fs::create_dir_all(dir.path().join(lang)).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(lang).join(e.file_name())).unwrap();
        }
    }
    let write = |p: &str, s: &str| std::fs::write(dir.path().join(p), s).unwrap();
    write(
        "config.json",
        "{\"name\": \"demo\", \"version\": 1, \"deps\": {\"a\": 1}}\n",
    );
    write(
        "ci.yaml",
        "name: demo\njobs:\n  build:\n    runs-on: linux\n",
    );
    write("style.css", "body { color: red; }\n.x { margin: 0; }\n");
    dir
}

fn tree(dir: &Path, args: &[&str]) -> String {
    let (out, stdout, stderr) = run(disco()
        .arg("tree")
        .arg(dir)
        .args(["--lsp", "full", "--quiet"])
        .args(args));
    assert!(out.status.success(), "{stderr}");
    stdout
}

/// Per path: (occurrences with a symbol, of which definitions) counted in the JSON tree.
fn json_occurrences(rec: &Value) -> (usize, usize) {
    let (mut all, mut defs) = (0, 0);
    let mut stack = vec![&rec["tree"]];
    while let Some(n) = stack.pop() {
        if n["occ"]["sym"].is_string() {
            all += 1;
            let roles = n["occ"]["roles"].as_array().unwrap();
            defs += roles.iter().any(|r| r == "definition") as usize;
        } else if n["def"]["sym"].is_string() {
            all += 1;
        }
        stack.extend(n["children"].as_array().into_iter().flatten());
    }
    (all, defs)
}

fn decode(bytes: &[u8]) -> Index {
    Index::parse_from_bytes(bytes).expect("a SCIP index the scip crate decodes")
}

#[test]
fn a_scip_index_holds_the_records_symbols_occurrences_and_diagnostics() {
    if !servers_installed() {
        return;
    }
    let dir = corpus();
    let records = json_lines(&tree(dir.path(), &[]));
    // The records, converted by the library: exact counts against the same run's facts.
    let mut writer = disco::tree::ScipWriter::new(Vec::new(), "file:///corpus/").unwrap();
    for r in &records {
        writer.add(r).unwrap();
    }
    let (bytes, documents) = writer.finish().unwrap();
    assert_eq!(documents as usize, records.len());
    let index = decode(&bytes);
    assert_eq!(index.metadata.tool_info.name, "disco");
    assert_eq!(index.documents.len(), records.len());
    let by_path: BTreeMap<&str, &scip::types::Document> = index
        .documents
        .iter()
        .map(|d| (d.relative_path.as_str(), d))
        .collect();
    let mut languages = BTreeSet::new();
    for rec in &records {
        let path = rec["file"]["path"].as_str().unwrap();
        let doc = by_path[path];
        let (all, defs) = json_occurrences(rec);
        let with_symbol: Vec<_> = doc
            .occurrences
            .iter()
            .filter(|o| !o.symbol.is_empty())
            .collect();
        assert_eq!(with_symbol.len(), all, "{path}: occurrences");
        let definitions = with_symbol
            .iter()
            .filter(|o| o.symbol_roles & SymbolRole::Definition as i32 != 0)
            .count();
        assert_eq!(definitions, defs, "{path}: definitions");
        for o in &with_symbol {
            assert!(
                o.range.len() == 3 || o.range.len() == 4,
                "{path}: {:?}",
                o.range
            );
            scip::symbol::parse_symbol(&o.symbol)
                .unwrap_or_else(|e| panic!("{path}: `{}` is not a SCIP symbol: {e:?}", o.symbol));
        }
        let diagnostics: usize = doc.occurrences.iter().map(|o| o.diagnostics.len()).sum();
        assert_eq!(
            diagnostics,
            rec["diagnostics"].as_array().unwrap().len(),
            "{path}: diagnostics"
        );
        let want: BTreeSet<&str> = rec["symbols"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, s)| s["def"]["path"] == path && s["external"] != true)
            .map(|(id, _)| id.as_str())
            .collect();
        let got: BTreeSet<&str> = doc.symbols.iter().map(|s| s.symbol.as_str()).collect();
        assert_eq!(got, want, "{path}: symbols");
        if !got.is_empty() {
            languages.insert(doc.language.clone());
        }
    }
    // Languages no SCIP indexer covers have symbols too.
    for lang in ["python", "bash", "yaml", "json", "css", "toml"] {
        assert!(languages.contains(lang), "{lang}: {languages:?}");
    }
    let helpers = by_path["python/helpers.py"];
    let counter = helpers
        .symbols
        .iter()
        .find(|s| s.display_name == "count_words")
        .expect("count_words");
    assert!(
        counter
            .documentation
            .iter()
            .any(|d| d.contains("Count the whitespace")),
        "{:?}",
        counter.documentation
    );
    // main.py references helpers.py's count_words.
    let main = by_path["python/main.py"];
    assert!(main
        .occurrences
        .iter()
        .any(|o| o.symbol == counter.symbol && o.symbol_roles == 0));

    // The CLI writes the same documents and symbols (a second run: the servers' facts on
    // these files do not change between runs).
    let out = dir.path().join("out/index.scip");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    tree(
        dir.path(),
        &["--format", "scip", "-o", out.to_str().unwrap()],
    );
    let cli = decode(&std::fs::read(&out).unwrap());
    assert!(cli.metadata.project_root.starts_with("file://"));
    let symbols = |i: &Index| -> BTreeSet<String> {
        i.documents
            .iter()
            .flat_map(|d| d.symbols.iter().map(|s| s.symbol.clone()))
            .collect()
    };
    assert_eq!(symbols(&cli), symbols(&index));
    let paths = |i: &Index| -> Vec<String> {
        i.documents
            .iter()
            .map(|d| d.relative_path.clone())
            .collect()
    };
    assert_eq!(paths(&cli), paths(&index));
}

#[test]
fn scip_output_needs_a_file() {
    let (out, _, stderr) = run(disco().args(["tree", ".", "--format", "scip"]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--format scip needs -o FILE"), "{stderr}");
}
