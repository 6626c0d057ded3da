//! Clear errors: catalog entries checked on load, batches that do not fit, unsupported types and
//! format versions, a REST catalog that does not answer.

use super::*;

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
