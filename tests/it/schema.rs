//! Real output validates against the JSON Schemas in `schema/`.

use jsonschema::{Registry, Validator};
use serde_json::Value;

use crate::support::{disco, json_lines, repo_root, run};

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_root().join("schema").join(name)).unwrap())
        .unwrap()
}

pub fn validator(name: &str) -> Validator {
    let tree = load("tree.schema.json");
    let registry = Registry::new()
        .add("https://disco.dev/schema/tree.schema.json", tree)
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .build(&load(name))
        .unwrap()
}

pub fn assert_valid(v: &Validator, records: &[Value]) {
    for r in records {
        let errors: Vec<String> = v
            .iter_errors(r)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{errors:?}\nin {}",
            &r.to_string()[..r.to_string().len().min(400)]
        );
    }
}

/// Every fixture, plus files of every failure status, in both formats.
fn sample() -> tempfile::TempDir {
    let dir = crate::bad_input::bad_tree();
    let fixtures = repo_root().join("fixtures/langs");
    for lang in std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        for f in std::fs::read_dir(&lang).unwrap().map(|e| e.unwrap().path()) {
            let name = format!(
                "langs/{}/{}",
                lang.file_name().unwrap().to_str().unwrap(),
                f.file_name().unwrap().to_str().unwrap()
            );
            crate::support::write(dir.path(), &name, &std::fs::read(&f).unwrap());
        }
    }
    dir
}

#[test]
fn nested_records_validate() {
    let dir = sample();
    let (_, stdout, stderr) =
        run(disco()
            .arg("tree")
            .arg(dir.path())
            .args(["--quiet", "--max-bytes", "1M"]));
    let records = json_lines(&stdout);
    assert!(records.len() > 40, "{stderr}");
    assert_valid(&validator("tree.schema.json"), &records);
}

#[test]
fn flat_records_validate() {
    let dir = sample();
    let (_, stdout, _) =
        run(disco()
            .arg("tree")
            .arg(dir.path())
            .args(["--quiet", "--flat", "--max-bytes", "1M"]));
    let records = json_lines(&stdout);
    for ty in ["file", "node", "definition", "unit"] {
        assert!(records.iter().any(|r| r["type"] == ty), "no {ty} record");
    }
    assert_valid(&validator("flat.schema.json"), &records);
}

#[test]
fn the_schema_rejects_what_it_should() {
    let v = validator("tree.schema.json");
    let (_, stdout, _) = run(disco()
        .arg("tree")
        .arg(repo_root().join("fixtures/langs/go"))
        .arg("--quiet"));
    let mut rec: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(v.is_valid(&rec));
    rec["status"] = "fine".into();
    assert!(!v.is_valid(&rec));
    rec["status"] = "ok".into();
    rec["tree"]["children"][0]["colour"] = "red".into();
    assert!(!v.is_valid(&rec));
}
