//! Iceberg tables against a real SQL catalog on SQLite, through the library API and the
//! `disco` binary (`cli`, `cli_jobs`): tables written by PyIceberg read by Disco (current and
//! older snapshots, overwrites, partitions), Disco's tables read by PyIceberg and polars,
//! resuming, and concurrent appenders. PyIceberg comes from `scripts/setup.sh`
//! (DISCO_PYTHON), as for the pipeline tests.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use disco::catalog::{Catalog, CatalogSpec};
use disco::table::iceberg::{IcebergError, IcebergTable};
use serde_json::Value;

use crate::pipeline::python;

mod checks;
mod cli;
mod cli_jobs;
mod interop;
mod writers;

/// A folder with a catalog: a SQLite catalog and a warehouse, both relative to it.
fn lake() -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let toml = r#"
[catalogs.lake_catalog]
uri = "sqlite://cat.db"
warehouse = "wh"

[tables.events]
format = "iceberg"
catalog = "lake_catalog"
table = "db.events"

[tables.parted]
catalog = "lake_catalog"
table = "db.parted"

[tables.mine]
format = "iceberg"
catalog = "lake_catalog"
table = "db.mine"
partition_by = ["region"]
"#;
    std::fs::write(dir.path().join("disco.toml"), toml).unwrap();
    let cat = Catalog::load(&dir.path().join("disco.toml")).unwrap();
    (dir, cat)
}

fn spec(cat: &Catalog, table: &str) -> (CatalogSpec, String) {
    IcebergTable::resolve(cat, &cat.tables[table]).unwrap()
}

/// Runs a PyIceberg script with the lake's folder as `D` and `cat` opened on it; its last
/// stdout line is JSON.
fn pyiceberg(py: &Path, dir: &Path, body: &str) -> Value {
    let script = format!(
        "import json, sys\nimport pyarrow as pa\nfrom pyiceberg.catalog.sql import SqlCatalog\n\
         D = sys.argv[1]\n\
         cat = SqlCatalog('lake_catalog', uri=f'sqlite:///{{D}}/cat.db', warehouse=f'file://{{D}}/wh')\n\
         {body}"
    );
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap()
}

/// Every row of a snapshot as (id, name), in the order read.
fn rows(t: &IcebergTable, snapshot: Option<i64>) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let schema = t.info(snapshot).unwrap().schema;
    for task in t.tasks(snapshot).unwrap() {
        for batch in t.read_task(&task, 2).unwrap() {
            let batch = batch.unwrap();
            assert!(batch.num_rows() <= 2);
            assert_eq!(batch.schema(), schema, "batches have the table's schema");
            let ids = batch.column_by_name("id").unwrap();
            let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
            let names = batch.column_by_name("name").unwrap();
            let names = names.as_any().downcast_ref::<StringArray>().unwrap();
            for i in 0..batch.num_rows() {
                out.push((ids.value(i), names.value(i).to_string()));
            }
        }
    }
    out
}

fn batch(ids: &[i64], region: &str) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from(ids.to_vec()));
    let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
    let name: ArrayRef = Arc::new(StringArray::from(names));
    let region: ArrayRef = Arc::new(StringArray::from(vec![region; ids.len()]));
    RecordBatch::try_from_iter([("id", id), ("name", name), ("region", region)]).unwrap()
}

fn schema() -> arrow_schema::SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
    ]))
}

/// Writes `batches` and commits them as part `part` of `app`.
fn put(
    t: &mut IcebergTable,
    batches: &[RecordBatch],
    overwrite: bool,
    app: &str,
    part: i64,
) -> bool {
    let mut w = t.writer().unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    let files = w.finish().unwrap();
    t.commit(files, overwrite, app, part).unwrap()
}

fn named(rows: &[(i64, String)]) -> Vec<i64> {
    rows.iter().map(|r| r.0).collect()
}
