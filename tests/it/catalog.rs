//! The catalog: good files, bad files with their messages, resolution, and the CLI.

use std::path::Path;

use disco::catalog::{Catalog, CatalogError, TableFormat};

use crate::support::{disco, run, tree};

pub const GOOD: &str = r#"
[volumes.pond]
url = "file://data/pond"

[volumes.lake]
url = "s3://acme-lake/raw"
options = { region = "eu-west-1", aws_secret_access_key = "${DISCO_TEST_SECRET}" }
exclude = ["**/*.tmp"]

[tokenizers.my_tokenizer]
url = "pond://minilm/tokenizer.json"
max_tokens = 128

[models.my_model]
kind = "embedding"
url = "pond://minilm/"
tokenizer = "my_tokenizer"

[validators.my_validator]
schema = "pond://schemas/trip.json"

[validators.inline]
schema = { type = "object", required = ["id"] }

[servers.pyright]
command = ["pyright-langserver", "--stdio"]
languages = ["python"]
settings = { python = { analysis = { typeCheckingMode = "basic" } } }

[tables.trips_clean]
url = "pond://out/trips_clean/"
format = "delta"

[pipelines.trips]
input = "pond://yellow.parquet"
stages = ["my_validator", { use = "my_tokenizer", column = "text" }, "my_model"]
output = "trips_clean"
rejects = "pond://out/trips_rejects/"
"#;

fn parse(text: &str) -> Result<Catalog, CatalogError> {
    Catalog::parse(text, Path::new("/cat/disco.toml"))
}

/// Parses `text` and asserts the error message contains every fragment.
fn check_err(text: &str, fragments: &[&str]) {
    let err = parse(text).expect_err("the catalog is bad").to_string();
    for f in fragments {
        assert!(err.contains(f), "error `{err}` lacks `{f}`");
    }
}

#[test]
fn a_good_catalog_has_every_section() {
    let cat = parse(GOOD).unwrap();
    assert_eq!(cat.volumes.len(), 2);
    assert_eq!(cat.tables["trips_clean"].format, TableFormat::Delta);
    assert_eq!(
        cat.models["my_model"].tokenizer.as_deref(),
        Some("my_tokenizer")
    );
    assert_eq!(cat.pipelines["trips"].stages[1].name, "my_tokenizer");
    assert_eq!(
        cat.pipelines["trips"].stages[1].options["column"].as_str(),
        Some("text")
    );
    assert_eq!(
        cat.servers["pyright"].settings.as_ref().unwrap()["python"]["analysis"]["typeCheckingMode"],
        "basic"
    );
    assert_eq!(cat.volumes["pond"].line, 2);
    // Values keep their ${VAR} unexpanded until a volume is opened.
    assert_eq!(
        cat.volumes["lake"].options["aws_secret_access_key"],
        "${DISCO_TEST_SECRET}"
    );
}

#[test]
fn bad_catalogs_name_file_line_and_key() {
    check_err("[volumes.pond\nurl = 1", &["/cat/disco.toml:1:"]);
    check_err(
        "[volumes.pond]\nurl = \"file://x\"\ncolour = \"red\"\n",
        &["/cat/disco.toml:3:", "colour"],
    );
    check_err(
        "[volumes.pond]\nurl = \"ftp://x\"\n",
        &[
            "/cat/disco.toml:2:",
            "volumes.pond.url",
            "unknown scheme `ftp://`",
        ],
    );
    check_err(
        "[volumes.s3]\nurl = \"file://x\"\n",
        &["volumes.s3", "built-in scheme"],
    );
    check_err(
        "[tokenizers.t]\nurl = \"file://t.json\"\n[models.m]\nurl = \"file://m/\"\ntokenizer = \"nope\"\n",
        &["/cat/disco.toml:5:", "models.m.tokenizer", "no tokenizer named `nope` (known: t)"],
    );
    check_err(
        "[tables.t]\nurl = \"warehouse://x\"\n",
        &["tables.t.url", "`warehouse://` is neither a volume"],
    );
    check_err(
        "[tables.t]\nurl = \"file://x\"\nformat = \"avro\"\n",
        &["tables.t.format", "unknown format `avro`"],
    );
    check_err(
        "[servers.s]\ncommand = []\n",
        &["servers.s.command", "non-empty"],
    );
    check_err(
        "[servers.s]\ninstances = 2\n",
        &["servers.s.command", "not built in needs a command"],
    );
    check_err(
        "[volumes.v]\nurl = \"s3://${BUCKET\"\n",
        &["volumes.v.url", "malformed `${...}`"],
    );
    check_err(
        "[pipelines.p]\ninput = \"file://x.csv\"\nstages = [\"ghost\"]\n",
        &[
            "pipelines.p.stages[0]",
            "no validator, tokenizer, model or built-in stage named `ghost`",
        ],
    );
    check_err(
        "[tokenizers.x]\nurl = \"file://t\"\n[models.x]\nurl = \"file://m\"\n[pipelines.p]\ninput = \"file://i\"\nstages = [\"x\"]\n",
        &["`x` is ambiguous: it names a tokenizer and a model"],
    );
    check_err(
        "[pipelines.p]\ninput = \"nowhere\"\nstages = []\n",
        &["pipelines.p.input", "neither a table"],
    );
}

#[test]
fn names_resolve_to_volumes_and_env_vars_expand_only_on_open() {
    let dir = tree(&[("data/pond/yellow.csv", b"a\n1\n")]);
    let path = dir.path().join("disco.toml");
    std::fs::write(&path, GOOD).unwrap();
    let cat = Catalog::load(&path).unwrap();
    let loc = cat.resolve("pond://yellow.csv").unwrap();
    assert_eq!(loc.path, "yellow.csv");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    assert!(
        loc.volume
            .url
            .contains(&format!("{}/data/pond", root.display())),
        "{}",
        loc.volume.url
    );
    assert!(cat
        .resolve("pond://../secret")
        .unwrap_err()
        .to_string()
        .contains("escapes its volume"));
    let unknown = cat.resolve("nope://x").unwrap_err().to_string();
    assert!(
        unknown.contains("no volume named `nope`") && unknown.contains("pond"),
        "{unknown}"
    );
    // The secret is missing: the error names the variable, never a value.
    std::env::remove_var("DISCO_TEST_SECRET");
    let missing = cat.resolve("lake://x").unwrap_err().to_string();
    assert!(
        missing.contains("`DISCO_TEST_SECRET` is not set"),
        "{missing}"
    );
}

#[test]
fn without_a_catalog_plain_paths_and_builtin_uris_work() {
    let cat = Catalog::discover(None, Path::new("/")).unwrap();
    assert!(cat.path.is_none());
    let loc = cat.resolve("memory://scratch/a/b.txt").unwrap();
    assert_eq!(
        (loc.volume.name.as_str(), loc.path.as_str()),
        ("scratch", "a/b.txt")
    );
    let loc = cat.resolve("s3://bucket/repo/x.py").unwrap();
    assert_eq!(
        (loc.volume.url.as_str(), loc.path.as_str()),
        ("s3://bucket/", "repo/x.py")
    );
    let here = cat.resolve(env!("CARGO_MANIFEST_DIR")).unwrap();
    assert_eq!(here.path, "");
}

#[test]
fn cli_lists_and_shows_without_printing_secrets() {
    let dir = tree(&[]);
    std::fs::write(
        dir.path().join("disco.toml"),
        GOOD.replace("${DISCO_TEST_SECRET}", "hunter2"),
    )
    .unwrap();
    let (out, stdout, stderr) = run(disco().args(["catalog", "list"]).current_dir(dir.path()));
    assert!(out.status.success(), "{stderr}");
    for name in [
        "pond",
        "lake",
        "my_tokenizer",
        "my_model",
        "my_validator",
        "pyright",
        "trips_clean",
        "trips",
    ] {
        assert!(stdout.contains(name), "list lacks {name}: {stdout}");
    }
    let (out, stdout, _) = run(disco()
        .args(["catalog", "show", "lake"])
        .current_dir(dir.path()));
    assert!(out.status.success());
    assert!(
        stdout.contains("region") && stdout.contains("***") && !stdout.contains("hunter2"),
        "{stdout}"
    );
    // A catalog given by --catalog from elsewhere, and a bad one: exit non-zero with the line.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[volumes.v]\nurl = \"ftp://x\"\n",
    )
    .unwrap();
    let (out, _, stderr) = run(disco()
        .args(["catalog", "list", "--catalog"])
        .arg(dir.path().join("bad.toml")));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("bad.toml:2:") && stderr.contains("volumes.v.url"),
        "{stderr}"
    );
    let (out, _, stderr) = run(disco()
        .args(["catalog", "show", "ghost"])
        .current_dir(dir.path()));
    assert!(!out.status.success() && stderr.contains("no resource named `ghost`"));
}

#[test]
fn a_catalog_volume_names_the_tree_target() {
    let dir = tree(&[
        ("code/src/a.py", b"def f():\n    return 1\n"),
        ("disco.toml", b"[volumes.repo]\nurl = \"file://code\"\n"),
    ]);
    let (out, stdout, stderr) = run(disco()
        .args(["tree", "repo://src", "--quiet"])
        .current_dir(dir.path()));
    assert!(out.status.success(), "{stderr}");
    let rec: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(rec["file"]["volume"], "repo");
    assert_eq!(rec["file"]["path"], "src/a.py");
}

#[test]
fn a_builtin_servers_entry_says_only_what_it_changes() {
    let cat = parse(
        "[servers.basedpyright]\ninstances = 2\nenv = { NODE_OPTIONS = \"--max-old-space-size=320\" }\n",
    )
    .unwrap();
    let s = &cat.servers["basedpyright"];
    assert_eq!(s.instances, Some(2));
    assert_eq!(s.command, ["basedpyright-langserver", "--stdio"]);
    assert_eq!(s.languages, ["python"]);
    assert!(s.root_markers.iter().any(|m| m == "pyproject.toml"));
    assert!(s.settings.is_some(), "the built-in settings are kept");
    assert_eq!(s.env["NODE_OPTIONS"], "--max-old-space-size=320");
}
