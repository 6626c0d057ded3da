//! The relational form of `disco.tree/1`: the JSON records and the tables of the same input
//! hold the same facts; the tables read back in polars and deltalake with their joins
//! working; shards fill one Delta table with every file once; a rerun adds nothing twice;
//! the `tree` stage gives the rows `disco tree` gives.

use std::path::Path;

use serde_json::{json, Value};

use crate::bad_input::bad_tree;
use crate::support::{disco, json_lines, repo_root, run};

mod facts;

use facts::{assert_same, canonical, json_facts, table_facts, Facts};

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
fn nodes_written_over_several_batches_of_files_are_each_written_once_in_order() {
    // About 40,000 nodes in 10 files: the writer gets a first whole batch, then files'
    // batches as they were built, then the rest at commit.
    let corpus = tempfile::tempdir().unwrap();
    for f in 0..10 {
        let body: String = (0..300)
            .map(|i| format!("def f{i}(x):\n    return x + {i}\n\n"))
            .collect();
        crate::support::write(corpus.path(), &format!("m{f}.py"), body.as_bytes());
    }
    let out = tempfile::tempdir().unwrap();
    let args = ["--jobs", "2"];
    let json = json_facts(&tree_json(corpus.path(), &args));
    tree_tables(corpus.path(), &out.path().join("t"), "parquet", &args);
    let tables = table_facts(&out.path().join("t"));
    assert!(
        json["nodes"].len() > 2 * 16 * 1024,
        "{}",
        json["nodes"].len()
    );
    assert_same(&json, &tables);
    // Each file's nodes are together, ids 0.. in order, as the walk numbered them.
    let (o, stdout, stderr) = run(disco().arg("read").arg(out.path().join("t/nodes")));
    assert!(o.status.success(), "{stderr}");
    let mut files: Vec<(String, i64)> = Vec::new();
    for n in json_lines(&stdout) {
        let (file, id) = (n["file"].as_str().unwrap(), n["id"].as_i64().unwrap());
        match files.last_mut() {
            Some((f, last)) if f == file => {
                assert_eq!(id, *last + 1, "{file}");
                *last = id;
            }
            _ => {
                assert_eq!(id, 0, "{file}");
                files.push((file.to_string(), id));
            }
        }
    }
    assert_eq!(files.len(), 10, "each file's nodes in one run: {files:?}");
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

/// The Delta tables under `base` in polars (through deltalake): row counts, and how many
/// `references` edges inside the volume join a node and a symbol.
fn joins(base: &Path) -> Value {
    crate::pipeline::py(
        "import sys, json, polars as pl\n\
         from deltalake import DeltaTable\n\
         base = sys.argv[1]\n\
         t = {n: pl.from_arrow(DeltaTable(f'{base}/{n}').to_pyarrow_table()) for n in\n\
              ['files', 'nodes', 'symbols', 'edges', 'definitions', 'diagnostics']}\n\
         refs = t['edges'].filter((pl.col('kind') == 'references') & ~pl.col('to_external').fill_null(False)).with_row_index('i')\n\
         nodes = refs.join(t['nodes'], left_on=['from_file', 'from_node'], right_on=['file', 'id'], how='inner')\n\
         syms = t['symbols']\n\
         by_id = refs.join(syms.select(pl.col('symbol').alias('to_symbol')), on='to_symbol', how='semi')\n\
         by_def = refs.join(syms.select(['def_path', 'def_node']), left_on=['to_path', 'to_node'], right_on=['def_path', 'def_node'], how='semi')\n\
         with_symbol = pl.concat([by_id['i'], by_def['i']]).unique().len()\n\
         defs = t['symbols'].join(t['nodes'], left_on=['file', 'def_node'], right_on=['file', 'id'], how='inner')\n\
         diags = t['diagnostics'].join(t['nodes'], left_on=['file', 'node'], right_on=['file', 'id'], how='inner')\n\
         print(json.dumps({\n\
           'counts': {n: v.height for n, v in t.items()},\n\
           'polars_files': pl.read_delta(f'{base}/files').height,\n\
           'paths': sorted(t['files']['path'].to_list()),\n\
           'unique_nodes': t['nodes'].select(['file', 'id']).unique().height,\n\
           'node_sum': int(t['files']['nodes'].fill_null(0).sum()),\n\
           'refs': refs.height, 'refs_with_node': nodes['i'].unique().len(),\n\
           'refs_named': nodes.filter(pl.col('text') == pl.col('name'))['i'].unique().len(),\n\
           'refs_with_symbol': with_symbol,\n\
           'refs_naming_a_symbol': refs.filter(pl.col('to_symbol').is_not_null()).height,\n\
           'refs_by_symbol_id': by_id.height,\n\
           'symbols_on_their_name': defs.filter(pl.col('text') == pl.col('name'))['symbol'].unique().len(),\n\
           'symbols_with_node': defs.height, 'symbols_with_def_node': syms.filter(pl.col('def_node').is_not_null()).height,\n\
           'diagnostics_on_nodes': diags.height}))",
        &[base.to_str().unwrap()],
    )
}

#[test]
fn delta_tables_read_back_in_polars_and_references_join_their_nodes_and_symbols() {
    if crate::pipeline::python().is_none() || !server_installed("basedpyright") {
        return;
    }
    let dir = repo_root().join("fixtures/lsp/python");
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("t");
    tree_tables(&dir, &base, "delta", &["--lsp", "full"]);
    let j = joins(&base);
    let c = &j["counts"];
    assert_eq!(c["files"], 3, "{j}");
    assert_eq!(j["polars_files"], 3);
    assert_eq!(j["unique_nodes"], c["nodes"]);
    assert_eq!(j["node_sum"], c["nodes"]);
    assert!(j["refs"].as_u64().unwrap() >= 5, "{j}");
    assert_eq!(j["refs_with_node"], j["refs"], "{j}");
    // A reference that names a symbol joins it by id. References to locals the servers give
    // no symbol (parameters, `self`, imported names: the definition plan finds them) join
    // their definition's node only; most references join a symbol.
    assert_eq!(j["refs_by_symbol_id"], j["refs_naming_a_symbol"], "{j}");
    let half = |k: &str, of: &Value| j[k].as_u64().unwrap() * 2 > of.as_u64().unwrap();
    assert!(half("refs_with_symbol", &j["refs"]), "{j}");
    assert_eq!(j["symbols_with_node"], j["symbols_with_def_node"], "{j}");
    // Most land on a node with the name itself (a constructor's reference starts at the
    // class name it is called by).
    assert!(half("refs_named", &j["refs"]), "{j}");
    assert!(half("symbols_on_their_name", &c["symbols"]), "{j}");
    assert_eq!(j["diagnostics_on_nodes"], c["diagnostics"], "{j}");
}

#[test]
fn two_shards_fill_one_delta_table_with_every_file_once_even_after_a_crash() {
    if crate::pipeline::python().is_none() {
        return;
    }
    let corpus = repo_root().join("fixtures/langs");
    let expected: Vec<Value> = {
        let mut p: Vec<Value> = tree_json(&corpus, &[])
            .iter()
            .map(|r| r["file"]["path"].clone())
            .collect();
        p.sort_by_key(|v| v.to_string());
        p
    };
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("t");
    let shard = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = disco();
        cmd.arg("tree")
            .arg(&corpus)
            .args(["--format", "delta", "-o"])
            .arg(&base)
            .args(args)
            .arg("--quiet");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    // Shard 1 of 2 (from Slurm's variables) dies after three of its tables committed;
    // shard 0 runs at the same time.
    let mut first = shard(&[], &["--shard", "0/2"]).spawn().unwrap();
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let crashed = run(&mut shard(
        &[slurm[0], slurm[1], ("DISCO_CRASH_AFTER_TABLES", "3")],
        &[],
    ));
    assert!(!crashed.0.status.success(), "{}", crashed.2);
    assert!(first.wait().unwrap().success());
    // Its rerun writes the seven tables it had not committed; another rerun does nothing.
    let (o, _, stderr) = run(&mut shard(&slurm, &[]));
    assert!(o.status.success(), "{stderr}");
    let (o, _, stderr) = run(&mut shard(&slurm, &[]));
    assert!(
        o.status.success() && stderr.contains("nothing to do"),
        "{stderr}"
    );
    let j = joins(&base);
    let mut paths: Vec<Value> = j["paths"].as_array().unwrap().clone();
    paths.sort_by_key(|v| v.to_string());
    assert_eq!(paths, expected, "every file exactly once");
    assert_eq!(j["unique_nodes"], j["counts"]["nodes"], "no node twice");
    assert_eq!(j["node_sum"], j["counts"]["nodes"], "every file's nodes");
}

#[test]
fn an_unknown_format_or_a_table_of_another_schema_is_refused_before_any_work() {
    let corpus = repo_root().join("fixtures/langs");
    let out = tempfile::tempdir().unwrap();
    let (o, _, stderr) = run(disco()
        .arg("tree")
        .arg(&corpus)
        .args(["--format", "orc", "-o"])
        .arg(out.path().join("t")));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr.contains("unknown output format `orc`"), "{stderr}");
    // A Delta table named `nodes` that holds something else.
    let csv = out.path().join("x.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let (o, _, stderr) = run(disco()
        .arg("run")
        .arg("--input")
        .arg(&csv)
        .arg("--output")
        .arg(out.path().join("t/nodes"))
        .args(["--format", "delta", "--quiet"]));
    assert!(o.status.success(), "{stderr}");
    let (o, _, stderr) = run(disco()
        .arg("tree")
        .arg(&corpus)
        .args(["--format", "delta", "-o"])
        .arg(out.path().join("t"))
        .arg("--quiet"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr.contains("nodes"), "{stderr}");
    // Nothing was written: no other table exists.
    assert!(!out.path().join("t/files/_delta_log").exists(), "{stderr}");
}

#[test]
fn the_stage_asks_language_servers_and_gives_the_rows_disco_tree_gives() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    crate::support::write(p, "repo/a.py", b"def alpha():\n    return 1\n");
    crate::support::write(p, "repo/b.py", b"def beta():\n    return 2\n");
    std::fs::write(
        p.join("disco.toml"),
        format!(
            "[servers.fake]\ncommand = [{:?}]\nlanguages = [\"python\"]\nenv = {{ FAKE_LSP_MODE = \"ok\" }}\n",
            crate::support::fake_lsp().to_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::write(
        p.join("paths.ndjson"),
        "{\"path\": \"a.py\"}\n{\"path\": \"b.py\"}\n",
    )
    .unwrap();
    for table in ["files", "symbols", "nodes"] {
        std::fs::write(
            p.join(format!("{table}.toml")),
            format!(
                "input = \"file://paths.ndjson\"\nstages = [{{ use = \"tree\", volume = \"file://repo\", lsp = \"symbols\", table = \"{table}\" }}]\noutput = \"file://stage/{table}.ndjson\"\n"
            ),
        )
        .unwrap();
        let (o, _, stderr) =
            run(disco()
                .current_dir(p)
                .args(["run", &format!("{table}.toml"), "--quiet"]));
        assert!(o.status.success(), "{stderr}");
    }
    let (o, _, stderr) = run(disco().current_dir(p).args([
        "tree", "repo", "--lsp", "symbols", "--format", "ndjson", "-o", "cli", "--quiet",
    ]));
    assert!(o.status.success(), "{stderr}");
    let rows = |text: String| {
        let mut rows: Vec<String> = json_lines(&text)
            .iter()
            .map(|r| canonical(r.as_object().unwrap()))
            .collect();
        rows.sort();
        rows
    };
    for table in ["files", "symbols", "nodes"] {
        let stage = rows(std::fs::read_to_string(p.join(format!("stage/{table}.ndjson"))).unwrap());
        let cli = rows(
            std::fs::read_to_string(p.join(format!("cli/{table}/part-000000.ndjson"))).unwrap(),
        );
        assert_eq!(stage, cli, "{table}");
        if table == "symbols" {
            assert_eq!(stage.len(), 2, "{stage:?}");
            assert!(stage[0].contains("def alpha()"), "{stage:?}");
        }
        if table == "nodes" {
            assert!(stage
                .iter()
                .any(|n| n.contains("\"token_type\":\"function\"")));
        }
    }
}

#[test]
fn a_rerun_over_unchanged_files_parses_nothing_and_a_changed_file_is_added() {
    if crate::pipeline::python().is_none() {
        return;
    }
    let corpus = tempfile::tempdir().unwrap();
    for name in ["a.py", "b.py", "c.rs"] {
        crate::support::write(corpus.path(), name, format!("# {name}\n").as_bytes());
    }
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("t");
    let first = tree_tables(corpus.path(), &base, "delta", &[]);
    assert!(first.contains("3 files from"), "{first}");
    let again = tree_tables(corpus.path(), &base, "delta", &[]);
    assert!(
        again.contains("3 files unchanged") && again.contains("nothing to do"),
        "{again}"
    );
    crate::support::write(corpus.path(), "b.py", b"def b():\n    pass\n");
    crate::support::write(corpus.path(), "d.py", b"x = 1\n");
    let third = tree_tables(corpus.path(), &base, "delta", &[]);
    assert!(
        third.contains("2 files unchanged") && third.contains("2 files from"),
        "{third}"
    );
    let j = joins(&base);
    // The changed file has its old rows and its new ones (told apart by `sha256`).
    assert_eq!(j["paths"], json!(["a.py", "b.py", "b.py", "c.rs", "d.py"]));
}

#[cfg(feature = "iceberg")]
#[test]
fn iceberg_tree_tables_are_tables_of_a_catalog_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = format!(
        "[catalogs.lake]\nuri = \"sqlite://{0}/catalog.db\"\nwarehouse = \"{0}/warehouse\"\n",
        dir.path().display()
    );
    std::fs::write(dir.path().join("disco.toml"), &catalog).unwrap();
    let corpus = repo_root().join("fixtures/langs");
    let tree = |out: &str| {
        run(disco()
            .current_dir(dir.path())
            .arg("tree")
            .arg(&corpus)
            .args(["--format", "iceberg", "-o", out, "--quiet"]))
    };
    let (o, _, stderr) = tree("nope.trees");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr.contains("no catalog `nope`"), "{stderr}");
    let (o, _, stderr) = tree("lake.trees");
    assert!(o.status.success(), "{stderr}");
    let expected = tree_json(&corpus, &[]).len();
    std::fs::write(
        dir.path().join("disco.toml"),
        format!("{catalog}[tables.f]\nformat = \"iceberg\"\ncatalog = \"lake\"\ntable = \"trees.files\"\n"),
    )
    .unwrap();
    let (o, stdout, stderr) = run(disco().current_dir(dir.path()).args(["read", "f"]));
    assert!(o.status.success(), "{stderr}");
    assert_eq!(json_lines(&stdout).len(), expected);
}
