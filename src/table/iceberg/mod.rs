//! Apache Iceberg tables through iceberg-rust (the `iceberg` crate, feature `iceberg`), with
//! its SQL catalog (SQLite; the catalog PyIceberg's `SqlCatalog` writes) and REST catalog.
//!
//! The crate is async and speaks Arrow 58; Disco is synchronous and speaks Arrow 59. This
//! module blocks on the crate's futures on Disco's shared tokio runtime and moves batches
//! between the two Arrow versions through the C data interface (`bridge.rs`, no copy).
//!
//! The API, all blocking:
//! - [`IcebergTable::open`] (`None` when the table does not exist) and
//!   [`IcebergTable::create`] (namespace created when missing; identity partitions);
//!   [`IcebergTable::resolve`] turns a catalog's `[tables.X]` into what they take.
//! - [`IcebergTable::schema`] and [`IcebergTable::info`] (snapshot, schema, partitioning,
//!   rows and files from the snapshot summary or manifest list, without reading data).
//! - Reading (`scan.rs`): [`IcebergTable::tasks`] lists a snapshot's data files in commit
//!   order, [`IcebergTable::read_task`] streams one file's batches (delete files applied by
//!   the crate).
//! - Writing (`write.rs`): [`IcebergTable::writer`] writes Parquet data files into the table's
//!   location, invisible until [`IcebergTable::commit`] adds them in one snapshot (append, or
//!   overwrite) tagged `disco.app`/`disco.part`, so [`IcebergTable::progress`] tells a rerun
//!   what is committed. Commits that lose a race to another writer are retried.
//!
//! Blocking calls run the crate's futures on `volume::runtime()`: call them from ordinary
//! threads (not from inside a tokio runtime, where blocking on a future panics).
//!
//! iceberg-rust 0.10 has no overwrite action: `overwrite.rs` builds the overwrite snapshot
//! with the crate's manifest writers and swaps it in with the SQL catalog's own
//! compare-and-swap (SQL catalogs only).

mod bridge;
mod lake;
mod overwrite;
mod scan;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use iceberg::spec::{FormatVersion, Transform, UnboundPartitionSpec};
use iceberg::table::Table;
use iceberg::{CatalogBuilder, TableCreation, TableIdent};

use crate::catalog::{Catalog, CatalogError, CatalogSpec, CatalogType, TableDef, TableFormat};

pub use lake::Iceberg;
pub use scan::{BatchIter, Task};
pub use write::{DataFiles, IcebergProgress, IcebergWriter};

/// What went wrong with an Iceberg catalog or table. Every variant names the table (or
/// catalog) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum IcebergError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A catalog entry that is not an Iceberg table, or a malformed identifier.
    #[error("`{name}`: {message}")]
    NotIceberg { name: String, message: String },
    /// The catalog could not be reached or opened.
    #[error("Iceberg catalog `{catalog}`: {}", causes(&**error))]
    Connect {
        catalog: String,
        error: Box<iceberg::Error>,
    },
    /// The crate failed on this table (metadata, manifests, data files, commit).
    #[error("Iceberg table `{table}`: {}", causes(&**error))]
    Table {
        table: String,
        error: Box<iceberg::Error>,
    },
    /// Something the crate (or Disco) does not support on this table.
    #[error("Iceberg table `{table}`: not supported: {message}")]
    Unsupported { table: String, message: String },
    /// Batches that do not fit the table, or another misuse.
    #[error("Iceberg table `{table}`: {message}")]
    Invalid { table: String, message: String },
    #[error("Iceberg table `{table}`: no snapshot {id} (see `disco catalog show`)")]
    NoSnapshot { table: String, id: i64 },
    /// Handing batches between Arrow 58 and 59 failed.
    #[error("Iceberg table `{table}`: Arrow: {message}")]
    Arrow { table: String, message: String },
    /// Another writer committed between our read and our swap (retried by `commit`).
    #[error("Iceberg table `{table}`: another writer committed first")]
    Conflict { table: String },
    /// The SQL catalog's database, on an overwrite's compare-and-swap.
    #[error("Iceberg table `{table}`: SQL catalog: {}", causes(&**error))]
    Sql {
        table: String,
        error: Box<sqlx::Error>,
    },
}

/// An error and its causes on one line, each said once. The crate's errors (and sqlx's) put
/// their source in their own text and return it from `source()` too, so a chain printed by
/// anyhow (`{:#}`) said the same cause three times; these variants keep the typed error in a
/// field that is not their `source()`, and their text is the whole chain without repeats.
fn causes(top: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut next = Some(top);
    while let Some(e) = next {
        let mut text = e.to_string();
        if let Some(i) = e.downcast_ref::<iceberg::Error>() {
            // `Kind => message, source: ...`: the source comes next in the chain.
            if let Some(src) = e.source() {
                if let Some(cut) = text.strip_suffix(&format!(", source: {src}")) {
                    text = cut.to_string();
                }
            }
            if let Some(cut) = text.strip_prefix(&format!("{} => ", i.kind())) {
                text = cut.to_string();
            }
        }
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

pub type Result<T, E = IcebergError> = std::result::Result<T, E>;

/// Runs a future of the crate to completion on Disco's runtime (the library is synchronous).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    crate::volume::runtime().block_on(f)
}

fn runtime() -> iceberg::Runtime {
    iceberg::Runtime::new(crate::volume::runtime())
}

/// A table in an Iceberg catalog, as last loaded.
#[derive(Clone)]
pub struct IcebergTable {
    /// `catalog:namespace.table`, for messages.
    name: String,
    spec: CatalogSpec,
    catalog: Arc<dyn iceberg::Catalog>,
    ident: TableIdent,
    table: Table,
}

impl std::fmt::Debug for IcebergTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcebergTable")
            .field("name", &self.name)
            .finish()
    }
}

/// What `disco catalog show` prints about a table, from metadata only.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub location: String,
    pub format_version: u8,
    /// The snapshot described (the current one unless asked); `None` for a table never written.
    pub snapshot_id: Option<i64>,
    pub timestamp_ms: Option<i64>,
    /// `append`, `overwrite`...
    pub operation: Option<String>,
    pub snapshots: usize,
    pub schema: SchemaRef,
    /// Partition fields as `transform(column)`: `identity(region)`, `bucket[16](id)`.
    pub partition_by: Vec<String>,
    pub records: u64,
    pub data_files: u64,
}

/// Connects to a catalog.
fn connect(spec: &CatalogSpec) -> Result<Arc<dyn iceberg::Catalog>> {
    let mut props: HashMap<String, String> = spec.props.clone().into_iter().collect();
    props.insert("uri".into(), spec.uri.clone());
    if let Some(w) = &spec.warehouse {
        props.insert("warehouse".into(), w.clone());
    }
    let storage = Arc::new(iceberg::io::LocalFsStorageFactory);
    let err = |source| IcebergError::Connect {
        catalog: spec.name.clone(),
        error: Box::new(source),
    };
    Ok(match spec.kind {
        CatalogType::Sql => {
            // SQLite takes `?` placeholders (the crate defaults to Postgres' `$1`).
            props.insert("sql_bind_style".into(), "QMark".into());
            let c = block_on(
                iceberg_catalog_sql::SqlCatalogBuilder::default()
                    .with_storage_factory(storage)
                    .with_runtime(runtime())
                    .load(spec.name.clone(), props),
            )
            .map_err(err)?;
            Arc::new(c)
        }
        CatalogType::Rest => {
            let c = block_on(
                iceberg_catalog_rest::RestCatalogBuilder::default()
                    .with_storage_factory(storage)
                    .with_runtime(runtime())
                    .load(spec.name.clone(), props),
            )
            .map_err(err)?;
            Arc::new(c)
        }
    })
}

fn parse_ident(spec: &CatalogSpec, ident: &str) -> Result<TableIdent> {
    let parts: Vec<&str> = ident.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(IcebergError::NotIceberg {
            name: format!("{}:{ident}", spec.name),
            message: "an Iceberg table is `namespace.table`".into(),
        });
    }
    TableIdent::from_strs(parts).map_err(|source| IcebergError::Table {
        table: ident.to_string(),
        error: Box::new(source),
    })
}

impl IcebergTable {
    /// The catalog spec and identifier of a `[tables.X]` entry with `format = "iceberg"`.
    pub fn resolve(cat: &Catalog, def: &TableDef) -> Result<(CatalogSpec, String)> {
        let not = |message: &str| IcebergError::NotIceberg {
            name: def.name.clone(),
            message: message.to_string(),
        };
        if def.format != TableFormat::Iceberg {
            return Err(not("not an Iceberg table"));
        }
        let catalog = def.catalog.as_deref().ok_or_else(|| not("no `catalog`"))?;
        let ident = def.table.as_deref().ok_or_else(|| not("no `table`"))?;
        let spec = cat.catalog_spec(cat.table_catalog(catalog)?)?;
        Ok((spec, ident.to_string()))
    }

    /// Loads `ident` (`namespace.table`) from the catalog; `None` when it does not exist.
    pub fn open(spec: &CatalogSpec, ident: &str) -> Result<Option<Self>> {
        let catalog = connect(spec)?;
        let id = parse_ident(spec, ident)?;
        let name = format!("{}:{ident}", spec.name);
        let tbl = |source| IcebergError::Table {
            table: name.clone(),
            error: Box::new(source),
        };
        if !block_on(catalog.table_exists(&id)).map_err(tbl)? {
            return Ok(None);
        }
        let table = block_on(catalog.load_table(&id)).map_err(tbl)?;
        let t = Self {
            name,
            spec: spec.clone(),
            catalog,
            ident: id,
            table,
        };
        t.check_version()?;
        Ok(Some(t))
    }

    /// Creates `ident` with `schema` (Arrow field names and types; nullable fields stay
    /// optional) and identity partitions on `partition_by`, creating its namespace if needed.
    pub fn create(
        spec: &CatalogSpec,
        ident: &str,
        schema: &SchemaRef,
        partition_by: &[String],
    ) -> Result<Self> {
        let catalog = connect(spec)?;
        let id = parse_ident(spec, ident)?;
        let name = format!("{}:{ident}", spec.name);
        let tbl = |source| IcebergError::Table {
            table: name.clone(),
            error: Box::new(source),
        };
        let old = bridge::schema_to_58(schema).map_err(|message| IcebergError::Arrow {
            table: name.clone(),
            message,
        })?;
        let ice = iceberg::arrow::arrow_schema_to_schema_auto_assign_ids(&old).map_err(|e| {
            IcebergError::Unsupported {
                table: name.clone(),
                message: format!("the schema: {e}"),
            }
        })?;
        let mut part = UnboundPartitionSpec::builder();
        for col in partition_by {
            let field = ice
                .field_by_name(col)
                .ok_or_else(|| IcebergError::Invalid {
                    table: name.clone(),
                    message: format!("partition column `{col}` is not in the schema"),
                })?;
            part = part
                .add_partition_field(field.id, col.clone(), Transform::Identity)
                .map_err(tbl)?;
        }
        let ns = id.namespace().clone();
        if !block_on(catalog.namespace_exists(&ns)).map_err(tbl)? {
            // Another writer may create it at the same moment: only a missing one is an error.
            if let Err(e) = block_on(catalog.create_namespace(&ns, HashMap::new())) {
                if !block_on(catalog.namespace_exists(&ns)).unwrap_or(false) {
                    return Err(tbl(e));
                }
            }
        }
        let creation = TableCreation::builder()
            .name(id.name().to_string())
            .schema(ice)
            .partition_spec(part.build())
            .build();
        let table = match block_on(catalog.create_table(&ns, creation)) {
            Ok(t) => t,
            // A concurrent writer created it first: use theirs.
            Err(e) => match block_on(catalog.load_table(&id)) {
                Ok(t) => t,
                Err(_) => return Err(tbl(e)),
            },
        };
        Ok(Self {
            name,
            spec: spec.clone(),
            catalog,
            ident: id,
            table,
        })
    }

    /// `catalog:namespace.table`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reloads the table's metadata from the catalog (after another writer's commit).
    pub fn refresh(&mut self) -> Result<()> {
        self.table = block_on(self.catalog.load_table(&self.ident)).map_err(|e| self.err(e))?;
        self.check_version()
    }

    fn err(&self, source: iceberg::Error) -> IcebergError {
        IcebergError::Table {
            table: self.name.clone(),
            error: Box::new(source),
        }
    }

    fn arrow_err(&self, message: String) -> IcebergError {
        IcebergError::Arrow {
            table: self.name.clone(),
            message,
        }
    }

    fn check_version(&self) -> Result<()> {
        match self.table.metadata().format_version() {
            FormatVersion::V1 | FormatVersion::V2 => Ok(()),
            v => Err(IcebergError::Unsupported {
                table: self.name.clone(),
                message: format!(
                    "format version {} (Disco reads and writes versions 1 and 2)",
                    v as u8
                ),
            }),
        }
    }

    /// The current schema, as Arrow 59 (fields carry their Iceberg ids as `PARQUET:field_id`
    /// metadata, as the batches read do).
    pub fn schema(&self) -> Result<SchemaRef> {
        self.schema_of(self.table.metadata().current_schema())
    }

    fn schema_of(&self, schema: &iceberg::spec::Schema) -> Result<SchemaRef> {
        let old = iceberg::arrow::schema_to_arrow_schema(schema).map_err(|e| {
            IcebergError::Unsupported {
                table: self.name.clone(),
                message: format!("the schema: {e}"),
            }
        })?;
        bridge::schema_to_59(&old).map_err(|m| self.arrow_err(m))
    }

    /// The table's metadata at `snapshot_id` (the current snapshot if `None`), without
    /// reading data: rows and files from the snapshot summary, else from its manifest list.
    pub fn info(&self, snapshot_id: Option<i64>) -> Result<TableInfo> {
        let md = self.table.metadata();
        let snap = self.snapshot(snapshot_id)?;
        let schema = match snap.as_ref().and_then(|s| s.schema_id()) {
            Some(id) => md
                .schema_by_id(id)
                .cloned()
                .unwrap_or(md.current_schema().clone()),
            None => md.current_schema().clone(),
        };
        let spec = md.default_partition_spec();
        let partition_by = spec
            .fields()
            .iter()
            .map(|f| {
                let col = schema
                    .name_by_field_id(f.source_id)
                    .unwrap_or(f.name.as_str());
                format!("{}({col})", f.transform)
            })
            .collect();
        let (mut records, mut data_files) = (0, 0);
        if let Some(s) = &snap {
            let summary = &s.summary().additional_properties;
            let num = |k: &str| summary.get(k).and_then(|v| v.parse::<u64>().ok());
            match (num("total-records"), num("total-data-files")) {
                (Some(r), Some(f)) => (records, data_files) = (r, f),
                _ => {
                    let list = block_on(self.table.manifest_list_reader(s).load())
                        .map_err(|e| self.err(e))?;
                    for m in list.entries() {
                        if m.content == iceberg::spec::ManifestContentType::Data {
                            records += m.added_rows_count.unwrap_or(0)
                                + m.existing_rows_count.unwrap_or(0);
                            data_files += u64::from(m.added_files_count.unwrap_or(0))
                                + u64::from(m.existing_files_count.unwrap_or(0));
                        }
                    }
                }
            }
        }
        Ok(TableInfo {
            location: md.location().to_string(),
            format_version: match md.format_version() {
                FormatVersion::V1 => 1,
                FormatVersion::V2 => 2,
                FormatVersion::V3 => 3,
            },
            snapshot_id: snap.as_ref().map(|s| s.snapshot_id()),
            timestamp_ms: snap.as_ref().map(|s| s.timestamp_ms()),
            operation: snap
                .as_ref()
                .map(|s| s.summary().operation.as_str().to_string()),
            snapshots: md.snapshots().len(),
            schema: self.schema_of(&schema)?,
            partition_by,
            records,
            data_files,
        })
    }

    /// The snapshot `id`, or the current one; `None` for a table never written.
    fn snapshot(&self, id: Option<i64>) -> Result<Option<iceberg::spec::SnapshotRef>> {
        let md = self.table.metadata();
        match id {
            None => Ok(md.current_snapshot().cloned()),
            Some(id) => {
                md.snapshot_by_id(id)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| IcebergError::NoSnapshot {
                        table: self.name.clone(),
                        id,
                    })
            }
        }
    }
}
