//! Iceberg tables through the library API, against a real SQL catalog on SQLite: tables
//! written by PyIceberg read by Disco (current and older snapshots, overwrites, partitions),
//! Disco's tables read by PyIceberg and polars, resuming, and concurrent appenders. PyIceberg
//! comes from `scripts/setup.sh` (DISCO_PYTHON), as for the pipeline tests.

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

#[test]
fn pyiceberg_tables_are_read_with_their_rows_partitions_and_older_snapshots() {
    let Some(py) = python() else { return };
    let (dir, cat) = lake();
    let snaps = pyiceberg(
        &py,
        dir.path(),
        r#"
from pyiceberg.partitioning import PartitionSpec, PartitionField
from pyiceberg.transforms import IdentityTransform
cat.create_namespace('db')
s = pa.schema([('id', pa.int64()), ('name', pa.string())])
t = cat.create_table('db.events', schema=s)
ids = []
t.append(pa.table({'id': [1, 2], 'name': ['a', 'b']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
t.append(pa.table({'id': [3], 'name': ['c']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
t.overwrite(pa.table({'id': [10, 11], 'name': ['x', 'y']}, schema=s)); ids.append(t.current_snapshot().snapshot_id)
ps = pa.schema([('id', pa.int64()), ('name', pa.string()), ('region', pa.string())])
p = cat.create_table('db.parted', schema=ps)
f = p.schema().find_field('region').field_id
with p.update_spec() as u:
    u.add_identity('region')
p.append(pa.table({'id': [1, 2, 3], 'name': ['a', 'b', 'c'], 'region': ['eu', 'us', 'eu']}, schema=ps))
print(json.dumps(ids))
"#,
    );
    let snaps: Vec<i64> = snaps
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();

    let (s, id) = spec(&cat, "events");
    let t = IcebergTable::open(&s, &id)
        .unwrap()
        .expect("the table exists");
    // The overwrite replaced everything; older snapshots still read as they were.
    assert_eq!(named(&rows(&t, None)), [10, 11]);
    assert_eq!(
        rows(&t, Some(snaps[1])),
        [(1, "a".into()), (2, "b".into()), (3, "c".into())]
    );
    assert_eq!(named(&rows(&t, Some(snaps[0]))), [1, 2]);
    let info = t.info(None).unwrap();
    assert_eq!((info.records, info.data_files), (2, 1));
    assert_eq!(info.snapshot_id, Some(snaps[2]));
    assert_eq!(info.format_version, 2);
    let names: Vec<&str> = info
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(t.info(Some(snaps[1])).unwrap().records, 3);
    let err = t.tasks(Some(42)).unwrap_err().to_string();
    assert!(
        err.contains("lake_catalog:db.events") && err.contains("no snapshot 42"),
        "{err}"
    );

    let (s, id) = spec(&cat, "parted");
    let p = IcebergTable::open(&s, &id).unwrap().unwrap();
    assert_eq!(p.info(None).unwrap().partition_by, ["identity(region)"]);
    let tasks = p.tasks(None).unwrap();
    assert_eq!(tasks.len(), 2, "one data file per region");
    let mut got = BTreeSet::new();
    for task in &tasks {
        for b in p.read_task(task, 100).unwrap() {
            let b = b.unwrap();
            assert_eq!(b.schema(), p.schema().unwrap());
            let region = b.column_by_name("region").unwrap();
            let region = region.as_any().downcast_ref::<StringArray>().unwrap();
            let ids = b.column_by_name("id").unwrap();
            let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..b.num_rows() {
                got.insert((ids.value(i), region.value(i).to_string()));
            }
        }
    }
    let want: BTreeSet<(i64, String)> = [(1, "eu"), (2, "us"), (3, "eu")]
        .map(|(i, r)| (i, r.to_string()))
        .into();
    assert_eq!(got, want);

    // A table the catalog does not have is `None`, not an error.
    assert!(IcebergTable::open(&s, "db.ghost").unwrap().is_none());
}

#[test]
fn disco_tables_are_read_by_pyiceberg_and_polars() {
    let Some(py) = python() else { return };
    let (dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    assert!(IcebergTable::open(&s, &id).unwrap().is_none());
    let mut t = IcebergTable::create(&s, &id, &schema(), &["region".to_string()]).unwrap();
    assert!(put(
        &mut t,
        &[batch(&[1, 2], "eu"), batch(&[3], "us")],
        false,
        "job1",
        0
    ));
    assert!(put(&mut t, &[batch(&[4], "eu")], false, "job1", 1));
    let before = t.info(None).unwrap();
    assert_eq!((before.records, before.data_files), (4, 3));
    assert!(put(&mut t, &[batch(&[7, 8], "us")], true, "job2", 0));
    assert_eq!(named(&rows(&t, None)), [7, 8]);
    assert_eq!(named(&rows(&t, before.snapshot_id)), [1, 2, 3, 4]);
    let after = t.info(None).unwrap();
    assert_eq!(after.operation.as_deref(), Some("overwrite"));
    assert_eq!((after.records, after.data_files), (2, 1));

    let got = pyiceberg(
        &py,
        dir.path(),
        &format!(
            r#"
import polars as pl
t = cat.load_table('db.mine')
now = sorted(t.scan().to_arrow().column('id').to_pylist())
old = sorted(t.scan(snapshot_id={old}).to_arrow().column('id').to_pylist())
pol = pl.from_arrow(t.scan().to_arrow()).sort('id')
regions = [f.transform.__class__.__name__ for f in t.spec().fields]
summary = t.current_snapshot().summary
print(json.dumps({{'now': now, 'old': old, 'polars': pol['id'].to_list(),
    'names': pol['name'].to_list(), 'regions': regions, 'op': summary.operation.value,
    'app': summary['disco.app'], 'total': summary['total-records']}}))
"#,
            old = before.snapshot_id.unwrap()
        ),
    );
    assert_eq!(got["now"], serde_json::json!([7, 8]));
    assert_eq!(got["old"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(got["polars"], serde_json::json!([7, 8]));
    assert_eq!(got["names"], serde_json::json!(["n7", "n8"]));
    assert_eq!(got["regions"], serde_json::json!(["IdentityTransform"]));
    assert_eq!(got["op"], "overwrite");
    assert_eq!(got["app"], "job2");
    assert_eq!(got["total"], "2");

    // PyIceberg appends to Disco's table, and Disco reads that too.
    pyiceberg(
        &py,
        dir.path(),
        r#"
t = cat.load_table('db.mine')
t.append(pa.table({'id': [9], 'name': ['n9'], 'region': ['eu']}, schema=t.schema().as_arrow()))
print(json.dumps(None))
"#,
    );
    t.refresh().unwrap();
    assert_eq!(named(&rows(&t, None)), [7, 8, 9]);
}

#[test]
fn tables_tasks_and_batches_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<IcebergTable>();
    send_sync::<disco::table::iceberg::Task>();
    send_sync::<disco::table::iceberg::DataFiles>();
    send::<disco::table::iceberg::BatchIter>();
    send::<disco::table::iceberg::IcebergWriter<'static>>();
}

#[test]
fn a_rerun_skips_the_parts_already_committed() {
    let (_dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    let mut t = IcebergTable::create(&s, &id, &schema(), &[]).unwrap();
    assert!(put(&mut t, &[batch(&[1], "eu")], false, "job#0/1", 0));
    assert!(
        put(&mut t, &[batch(&[], "eu")], false, "job#0/1", 1),
        "an empty part commits too"
    );
    assert!(put(&mut t, &[batch(&[3], "eu")], false, "job#0/1", 2));
    // The rerun: the same parts again, from a fresh handle.
    let mut again = IcebergTable::open(&s, &id).unwrap().unwrap();
    let progress = again.progress("job#0/1").unwrap();
    assert_eq!(progress.parts, BTreeSet::from([0, 1, 2]));
    assert!(progress.done(1) && !progress.done(3));
    assert!(again.progress("other").unwrap().parts.is_empty());
    assert!(!put(&mut again, &[batch(&[1], "eu")], false, "job#0/1", 0));
    // A writer that dies before its commit leaves nothing a reader sees.
    let mut w = again.writer().unwrap();
    w.write(&batch(&[99], "eu")).unwrap();
    let files = w.finish().unwrap();
    assert_eq!(files.paths().len(), 1);
    assert_eq!(named(&rows(&again, None)), [1, 3]);
    again.discard(files);
    assert!(
        !put(&mut again, &[batch(&[1], "eu")], true, "job#0/1", 2),
        "nor an overwrite"
    );
    assert_eq!(named(&rows(&again, None)), [1, 3]);
}

#[test]
fn concurrent_appenders_lose_no_commit() {
    let (_dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    IcebergTable::create(&s, &id, &schema(), &["region".to_string()]).unwrap();
    let shards = 4;
    let parts = 5;
    std::thread::scope(|scope| {
        for shard in 0..shards {
            let (s, id) = (&s, &id);
            scope.spawn(move || {
                let mut t = IcebergTable::open(s, id).unwrap().unwrap();
                for p in 0..parts {
                    let n = shard * 100 + p;
                    let region = if p % 2 == 0 { "eu" } else { "us" };
                    assert!(put(
                        &mut t,
                        &[batch(&[n], region)],
                        false,
                        &format!("job#{shard}/{shards}"),
                        p
                    ));
                }
            });
        }
    });
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    let mut got = named(&rows(&t, None));
    got.sort();
    let mut want: Vec<i64> = (0..shards)
        .flat_map(|s| (0..parts).map(move |p| s * 100 + p))
        .collect();
    want.sort();
    assert_eq!(got, want);
    for shard in 0..shards {
        let progress = t.progress(&format!("job#{shard}/{shards}")).unwrap();
        assert_eq!(progress.parts.len(), parts as usize);
    }
    assert_eq!(t.info(None).unwrap().snapshots, (shards * parts) as usize);
}

#[test]
fn batches_that_do_not_fit_the_table_are_refused_with_the_column() {
    let (_dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    let t = IcebergTable::create(&s, &id, &schema(), &[]).unwrap();
    let mut w = t.writer().unwrap();
    let bad: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
    let b = RecordBatch::try_from_iter([("id", bad)]).unwrap();
    let err = w.write(&b).unwrap_err().to_string();
    assert!(
        err.contains("lake_catalog:db.mine") && err.contains("column `id` is Utf8"),
        "{err}"
    );
    let extra: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let b = RecordBatch::try_from_iter([("id", extra.clone()), ("ghost", extra)]).unwrap();
    let err = w.write(&b).unwrap_err().to_string();
    assert!(err.contains("column `ghost` is not in the table"), "{err}");
    // int32 widens to long; a missing nullable column is null.
    let small: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![5]));
    w.write(&RecordBatch::try_from_iter([("id", small)]).unwrap())
        .unwrap();
    assert_eq!(w.finish().unwrap().rows, 1);
}

#[test]
fn iceberg_catalog_entries_are_checked_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |text: &str| {
        Catalog::parse(text, &dir.path().join("disco.toml"))
            .expect_err("the catalog is bad")
            .to_string()
    };
    let cat = "[catalogs.lake]\nuri = \"sqlite://c.db\"\nwarehouse = \"wh\"\n";
    let err = bad(&format!(
        "{cat}[tables.t]\nformat = \"iceberg\"\ncatalog = \"nope\"\ntable = \"db.t\"\n"
    ));
    assert!(
        err.contains("tables.t.catalog") && err.contains("no catalog named `nope` (known: lake)"),
        "{err}"
    );
    let err = bad(&format!(
        "{cat}[tables.t]\nformat = \"iceberg\"\ncatalog = \"lake\"\n"
    ));
    assert!(
        err.contains("tables.t.table") && err.contains("missing `table`"),
        "{err}"
    );
    let err = bad(&format!(
        "{cat}[tables.t]\ncatalog = \"lake\"\ntable = \"events\"\n"
    ));
    assert!(err.contains("not `namespace.table`"), "{err}");
    let err = bad(&format!("{cat}[tables.t]\nurl = \"x/\"\ncatalog = \"lake\"\ntable = \"db.t\"\nformat = \"iceberg\"\n"));
    assert!(err.contains("not `url`"), "{err}");
    let err = bad("[catalogs.lake]\nuri = \"sqlite://c.db\"\n");
    assert!(err.contains("catalogs.lake.warehouse"), "{err}");
    let err = bad("[catalogs.lake]\ntype = \"hive\"\nuri = \"thrift://x\"\n");
    assert!(err.contains("unknown catalog type `hive`"), "{err}");
    let err = bad("[catalogs.lake]\nuri = \"postgres://x\"\nwarehouse = \"w\"\n");
    assert!(err.contains("catalogs.lake.uri"), "{err}");
    let err = bad("[tables.t]\nformat = \"delta\"\n");
    assert!(err.contains("missing `url`"), "{err}");

    // `disco catalog list` shows catalogs; `show` shows the table's catalog and identifier.
    let text = format!("{cat}[tables.t]\ncatalog = \"lake\"\ntable = \"db.t\"\n");
    std::fs::write(dir.path().join("disco.toml"), &text).unwrap();
    let (out, stdout, _) = crate::support::run(
        crate::support::disco()
            .args(["catalog", "list"])
            .current_dir(dir.path()),
    );
    assert!(out.status.success());
    assert!(
        stdout.contains("catalog    lake                 sqlite://c.db (sql)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("table      t                    lake:db.t (iceberg)"),
        "{stdout}"
    );
    let (_, stdout, _) = crate::support::run(
        crate::support::disco()
            .args(["catalog", "show", "t"])
            .current_dir(dir.path()),
    );
    assert!(
        stdout.contains("catalog = \"lake\"\ntable = \"db.t\"\nformat = \"iceberg\""),
        "{stdout}"
    );
}

#[test]
fn a_rest_catalog_that_does_not_answer_names_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on a port we just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = format!("[catalogs.remote]\ntype = \"rest\"\nuri = \"http://127.0.0.1:{port}\"\n[tables.t]\ncatalog = \"remote\"\ntable = \"db.t\"\n");
    let cat = Catalog::parse(&text, &dir.path().join("disco.toml")).unwrap();
    let (s, id) = spec(&cat, "t");
    let err = match IcebergTable::open(&s, &id) {
        Err(e) => e,
        Ok(_) => panic!("a catalog that does not answer cannot open a table"),
    };
    assert!(
        matches!(
            err,
            IcebergError::Connect { .. } | IcebergError::Table { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("remote"), "{err}");
}

#[test]
fn unsupported_tables_and_types_are_refused_naming_the_table() {
    use iceberg::spec::{FormatVersion, NestedField, PrimitiveType, Type};
    use iceberg::{Catalog as _, CatalogBuilder, NamespaceIdent, TableCreation};

    let (dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    // An Arrow type Iceberg has no type for.
    let odd = Arc::new(Schema::new(vec![Field::new("n", DataType::UInt64, true)]));
    let err = IcebergTable::create(&s, &id, &odd, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lake_catalog:db.mine") && err.contains("UInt64 is not supported"),
        "{err}"
    );

    // A format version 3 table, made with iceberg-rust itself (PyIceberg cannot write one).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let props = [
            (
                "uri",
                format!("sqlite://{}/cat.db?mode=rwc", dir.path().display()),
            ),
            ("warehouse", format!("file://{}/wh", dir.path().display())),
            ("sql_bind_style", "QMark".to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into();
        let c = iceberg_catalog_sql::SqlCatalogBuilder::default()
            .with_storage_factory(Arc::new(iceberg::io::LocalFsStorageFactory))
            .load("lake_catalog", props)
            .await
            .unwrap();
        let ns = NamespaceIdent::new("db".into());
        c.create_namespace(&ns, Default::default()).await.unwrap();
        let schema = iceberg::spec::Schema::builder()
            .with_fields(vec![NestedField::optional(
                1,
                "id",
                Type::Primitive(PrimitiveType::Long),
            )
            .into()])
            .build()
            .unwrap();
        let creation = TableCreation::builder()
            .name("v3".into())
            .schema(schema)
            .format_version(FormatVersion::V3)
            .build();
        c.create_table(&ns, creation).await.unwrap();
    });
    let err = IcebergTable::open(&s, "db.v3").unwrap_err().to_string();
    assert!(
        err.contains("lake_catalog:db.v3") && err.contains("format version 3"),
        "{err}"
    );
}

#[test]
fn every_iceberg_type_survives_pyiceberg_to_disco_and_back() {
    let Some(py) = python() else { return };
    let (dir, cat) = lake();
    // Each value as Python prints it: the same text both ways means the same value.
    let show = r#"
def show(t):
    return [{k: str(v) for k, v in r.items()} for r in sorted(t.to_pylist(), key=lambda r: r['l'])]
"#;
    let original = pyiceberg(
        &py,
        dir.path(),
        &format!(
            r#"{show}
import datetime, decimal
s = pa.schema([
    ('b', pa.bool_()), ('i', pa.int32()), ('l', pa.int64()), ('f', pa.float32()),
    ('d', pa.float64()), ('dec', pa.decimal128(10, 2)), ('dt', pa.date32()),
    ('ts', pa.timestamp('us')), ('tstz', pa.timestamp('us', tz='UTC')), ('s', pa.string()),
    ('bin', pa.binary()), ('lst', pa.list_(pa.string())),
    ('st', pa.struct([('a', pa.int64()), ('b', pa.string())])),
    ('m', pa.map_(pa.string(), pa.int64())),
])
rows = pa.table({{
    'b': [True, None], 'i': [1, None], 'l': [10, 20], 'f': [1.5, None], 'd': [2.25, -0.5],
    'dec': [decimal.Decimal('12.34'), None], 'dt': [datetime.date(2026, 11, 28), None],
    'ts': [datetime.datetime(2026, 11, 28, 12, 30, 1, 5), None],
    'tstz': [datetime.datetime(2026, 11, 28, 12, 30, tzinfo=datetime.timezone.utc), None],
    's': ['héllo', None], 'bin': [b'\x00\x01', None], 'lst': [['a', 'b'], []],
    'st': [{{'a': 1, 'b': 'x'}}, None], 'm': [[('k', 1)], None],
}}, schema=s)
cat.create_namespace('db')
t = cat.create_table('db.types', schema=s)
t.append(rows)
print(json.dumps(show(t.scan().to_arrow())))
"#
        ),
    );
    let (s, _) = spec(&cat, "mine");
    let t = IcebergTable::open(&s, "db.types").unwrap().unwrap();
    let mut batches = Vec::new();
    for task in t.tasks(None).unwrap() {
        batches.extend(t.read_task(&task, 1024).unwrap().map(Result::unwrap));
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 2);
    let first = &batches[0];
    let cell = |name: &str| {
        let col = first.column_by_name(name).unwrap();
        arrow::util::display::array_value_to_string(col, 0).unwrap()
    };
    assert_eq!(cell("dec"), "12.34");
    assert_eq!(cell("tstz"), "2026-11-28T12:30:00Z");
    assert_eq!(cell("lst"), "[a, b]");

    // Disco writes what it read into a table of its own; PyIceberg reads the same values.
    let mut copy = IcebergTable::create(&s, "db.types2", &t.schema().unwrap(), &[]).unwrap();
    assert!(put(&mut copy, &batches, false, "copy", 0));
    let back = pyiceberg(
        &py,
        dir.path(),
        &format!(
            "{show}\nprint(json.dumps(show(cat.load_table('db.types2').scan().to_arrow())))\n"
        ),
    );
    assert_eq!(back, original);
}

/// The child of `concurrent_appender_processes_lose_no_commit` (a no-op unless it sets
/// `DISCO_ICEBERG_CHILD`): one shard appending its parts from its own process.
#[test]
fn appender_process_child() {
    let Ok(job) = std::env::var("DISCO_ICEBERG_CHILD") else {
        return;
    };
    let [catalog, shard, shards, parts]: [&str; 4] =
        job.split('|').collect::<Vec<_>>().try_into().unwrap();
    let (shard, parts): (i64, i64) = (shard.parse().unwrap(), parts.parse().unwrap());
    let cat = Catalog::load(Path::new(catalog)).unwrap();
    let (s, id) = spec(&cat, "mine");
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    for p in 0..parts {
        let app = format!("job#{shard}/{shards}");
        assert!(put(
            &mut t,
            &[batch(&[shard * 100 + p], "eu")],
            false,
            &app,
            p
        ));
    }
}

#[test]
fn concurrent_appender_processes_lose_no_commit() {
    let (dir, cat) = lake();
    let (s, id) = spec(&cat, "mine");
    IcebergTable::create(&s, &id, &schema(), &[]).unwrap();
    let (shards, parts) = (3, 4);
    let children: Vec<_> = (0..shards)
        .map(|shard| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "iceberg::appender_process_child",
                    "--test-threads=1",
                ])
                .env(
                    "DISCO_ICEBERG_CHILD",
                    format!(
                        "{}|{shard}|{shards}|{parts}",
                        dir.path().join("disco.toml").display()
                    ),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut t = IcebergTable::open(&s, &id).unwrap().unwrap();
    let mut got = named(&rows(&t, None));
    got.sort();
    let want: Vec<i64> = (0..shards)
        .flat_map(|s| (0..parts).map(move |p| s * 100 + p))
        .collect();
    assert_eq!(got, want);
    for shard in 0..shards {
        let progress = t.progress(&format!("job#{shard}/{shards}")).unwrap();
        assert_eq!(progress.parts.len(), parts as usize);
    }
}
