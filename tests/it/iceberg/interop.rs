//! Interoperability with PyIceberg and polars on one SQLite catalog: PyIceberg's tables
//! (appends, an overwrite, partitions, older snapshots, every type) read by Disco, and Disco's
//! read by PyIceberg and polars.

use super::*;

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

    // PyIceberg deletes rows (rewriting or dropping files): Disco reads what is left.
    pyiceberg(
        &py,
        dir.path(),
        "cat.load_table('db.parted').delete('id = 2 or id = 3')\nprint(json.dumps(None))\n",
    );
    let p = IcebergTable::open(&s, &id).unwrap().unwrap();
    assert_eq!(rows(&p, None), [(1, "a".to_string())]);
    assert_eq!(p.info(None).unwrap().records, 1);
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
