//! Lakehouse table formats: tables that keep their own list of data files and commit new
//! ones atomically (Delta Lake, Apache Iceberg). Each format is one module implementing
//! [`LakeFormat`] and one line in [`FORMATS`]; inputs, outputs and `disco catalog show` go
//! through these traits only, so a new format touches nothing else.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Result;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::read::{Batches, Part};
use super::write::WriteOptions;
use crate::catalog::{Catalog, TableDef};
use crate::volume::Volume;

/// Where a lakehouse table lives: a folder of a volume (Delta), or a catalog entry that
/// names an external catalog (Iceberg).
pub struct TableRef<'c> {
    /// The name the user gave (catalog table or URI), for messages.
    pub name: String,
    pub catalog: &'c Catalog,
    /// The catalog's `[tables.X]`, when the table is one.
    pub def: Option<&'c TableDef>,
    /// The volume and path of the table's folder (formats that live in one).
    pub location: Option<(Volume, String)>,
}

/// One lakehouse format.
pub trait LakeFormat: Sync {
    /// Its catalog and `--format` name.
    fn name(&self) -> &'static str;
    /// Whether the folder `path` of `volume` holds a table of this format (so a plain path
    /// is read as one without being told).
    fn detect(&self, volume: &Volume, path: &str) -> bool;
    /// The table at `version` (format-specific: `12`, `v12`, a time, a snapshot id).
    fn source(&self, table: &TableRef<'_>, version: Option<&str>) -> Result<Box<dyn TableSource>>;
    /// The table as a destination (created by the first commit when it does not exist).
    fn sink(&self, table: &TableRef<'_>, opts: &WriteOptions) -> Result<Box<dyn TableSink>>;
    /// What its metadata says, without reading data; `None` when the table does not exist
    /// yet (a run writing to it creates it).
    fn info(&self, table: &TableRef<'_>, version: Option<&str>) -> Result<Option<TableInfo>>;
}

/// The formats, by name.
pub static FORMATS: &[&dyn LakeFormat] = &[
    &super::delta::Delta,
    #[cfg(feature = "iceberg")]
    &super::iceberg::Iceberg,
];

/// The format called `name`.
pub fn format(name: &str) -> Option<&'static dyn LakeFormat> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// The metadata of catalog table `name`, when it is a lakehouse table (`Ok(None)` for other
/// tables and unknown names). Reads metadata only: the log, the checkpoint, the manifests.
/// What [`describe`] found.
pub enum Described {
    /// Not a lakehouse table (a file format, or no such table).
    NotLake,
    /// A lakehouse table that does not exist yet.
    Missing,
    Table(Box<TableInfo>),
}

pub fn describe(catalog: &Catalog, name: &str) -> Result<Described> {
    let Some(def) = catalog.tables.get(name) else {
        return Ok(Described::NotLake);
    };
    let Some(f) = format(def.format.as_str()) else {
        return Ok(Described::NotLake);
    };
    let location = match def.url.is_empty() {
        true => None,
        false => {
            let loc = catalog.resolve(&def.url)?;
            Some((Volume::open(&loc.volume)?, loc.path))
        }
    };
    let table = TableRef {
        name: name.to_string(),
        catalog,
        def: Some(def),
        location,
    };
    Ok(match f.info(&table, def.version.as_deref())? {
        Some(info) => Described::Table(Box::new(info)),
        None => Described::Missing,
    })
}

/// A snapshot of a table being read: a part per data file, in a fixed order.
pub trait TableSource: Send + Sync {
    fn schema(&self) -> SchemaRef;
    fn parts(&self) -> Vec<Part>;
    /// Streams part `part` (rows deleted by the table's deletion vectors or delete files
    /// left out).
    fn read(&self, part: &Part, batch_size: usize) -> Result<Batches>;
}

/// A table being written: parts are written one at a time and each commits on its own.
pub trait TableSink: Send + Sync {
    /// Checks rows of `schema` can go into the table, before anything is read.
    fn check(&self, schema: &SchemaRef) -> Result<()>;
    /// What `app` already committed, among `indices`.
    fn progress(&self, app: &str, indices: &[usize]) -> Result<Progress>;
    /// A writer for one part.
    fn part(&self, schema: &SchemaRef) -> Result<Box<dyn PartSink + '_>>;
}

/// One part's rows on their way into a table.
pub trait PartSink: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Commits the rows as one version, recording `app` and `index` in it so a rerun skips
    /// the part. `Ok(false)`: an earlier run had committed it already.
    fn commit(self: Box<Self>, commit: &PartCommit) -> Result<bool>;
    /// Drops the rows; nothing of them is visible.
    fn abort(self: Box<Self>);
}

/// How one part commits.
#[derive(Debug, Clone)]
pub struct PartCommit {
    pub app: String,
    pub index: i64,
    /// Replace the table's rows (the first part of an overwrite).
    pub overwrite: bool,
}

/// The parts of a job a table already holds.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Every part up to this one (of this shard) is committed.
    pub last: Option<i64>,
    /// Parts committed out of order (after a part that failed), or one by one.
    pub parts: BTreeSet<i64>,
}

impl Progress {
    pub fn done(&self, index: usize) -> bool {
        let i = index as i64;
        self.last.is_some_and(|v| v >= i) || self.parts.contains(&i)
    }
}

/// A table's metadata, for `disco catalog show`.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub format: &'static str,
    /// The version or snapshot described.
    pub version: String,
    pub schema: SchemaRef,
    pub partition_by: Vec<String>,
    pub files: u64,
    /// `None` when the metadata does not count them.
    pub rows: Option<u64>,
    /// Format-specific facts (protocol, features, properties, location), in order.
    pub details: Vec<(String, String)>,
}

/// A part's batches from an iterator of record batches.
pub fn batches<I>(rows: I) -> Batches
where
    I: Iterator<Item = Result<RecordBatch>> + Send + 'static,
{
    Box::new(rows.map(|b| {
        b.map(|batch| super::read::ReadBatch {
            batch,
            rejects: Vec::new(),
        })
    }))
}

/// Shared handle type for sources.
pub type Source = Arc<dyn TableSource>;
