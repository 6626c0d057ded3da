//! Apache Iceberg as a [`LakeFormat`]: a table is a `[tables.X]` entry naming a catalog and an
//! identifier (`catalog = "lake"`, `table = "db.events"`).

use std::sync::Mutex;

use anyhow::{anyhow, bail, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::{IcebergTable, IcebergWriter, Task};
use crate::catalog::CatalogSpec;
use crate::table::lake::{
    batches, LakeFormat, PartCommit, PartSink, Progress, TableInfo, TableRef, TableSink,
    TableSource,
};
use crate::table::read::{Batches, Part};
use crate::table::write::WriteOptions;
use crate::volume::Volume;

/// The Apache Iceberg format.
pub struct Iceberg;

fn resolve(table: &TableRef<'_>) -> Result<(CatalogSpec, String)> {
    let def = table.def.ok_or_else(|| {
        anyhow!(
            "{}: an Iceberg table is named in the catalog (`[tables.X]` with `catalog` and `table`)",
            table.name
        )
    })?;
    Ok(IcebergTable::resolve(table.catalog, def)?)
}

fn existing(table: &TableRef<'_>) -> Result<IcebergTable> {
    let (spec, ident) = resolve(table)?;
    IcebergTable::open(&spec, &ident)?.ok_or_else(|| {
        anyhow!(
            "{}: no table `{ident}` in catalog `{}`",
            table.name,
            spec.name
        )
    })
}

fn snapshot(table: &TableRef<'_>, v: Option<&str>) -> Result<Option<i64>> {
    v.map(|v| {
        v.trim_start_matches('v')
            .parse::<i64>()
            .map_err(|_| anyhow!("{}: `{v}` is not an Iceberg snapshot id", table.name))
    })
    .transpose()
}

impl LakeFormat for Iceberg {
    fn name(&self) -> &'static str {
        "iceberg"
    }

    fn detect(&self, _volume: &Volume, _path: &str) -> bool {
        false
    }

    fn source(&self, table: &TableRef<'_>, v: Option<&str>) -> Result<Box<dyn TableSource>> {
        let t = existing(table)?;
        let tasks = t.tasks(snapshot(table, v)?)?;
        let schema = t.schema()?;
        Ok(Box::new(IcebergSource {
            table: t,
            tasks,
            schema,
        }))
    }

    fn sink(&self, table: &TableRef<'_>, opts: &WriteOptions) -> Result<Box<dyn TableSink>> {
        if opts.schema_mode == crate::table::SchemaMode::Merge {
            bail!("{}: `--schema-mode merge` is for Delta tables", table.name);
        }
        let (spec, ident) = resolve(table)?;
        let existing = IcebergTable::open(&spec, &ident)?;
        Ok(Box::new(IcebergSink {
            spec,
            ident,
            partition_by: opts.partition_by.clone(),
            table: Mutex::new(existing),
        }))
    }

    fn info(&self, table: &TableRef<'_>, v: Option<&str>) -> Result<Option<TableInfo>> {
        let (spec, ident) = resolve(table)?;
        let Some(t) = IcebergTable::open(&spec, &ident)? else {
            return Ok(None);
        };
        let i = t.info(snapshot(table, v)?)?;
        let mut details = vec![
            ("location".to_string(), i.location),
            ("format version".to_string(), i.format_version.to_string()),
            ("snapshots".to_string(), i.snapshots.to_string()),
        ];
        if let Some(op) = i.operation {
            details.push(("operation".to_string(), op));
        }
        if let Some(ts) = i.timestamp_ms {
            details.push(("committed at (ms)".to_string(), ts.to_string()));
        }
        Ok(Some(TableInfo {
            format: "iceberg",
            version: i
                .snapshot_id
                .map_or_else(|| "none (no snapshot yet)".to_string(), |s| s.to_string()),
            schema: i.schema,
            partition_by: i.partition_by,
            files: i.data_files,
            rows: Some(i.records),
            details,
        }))
    }
}

struct IcebergSource {
    table: IcebergTable,
    tasks: Vec<Task>,
    schema: SchemaRef,
}

impl TableSource for IcebergSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn parts(&self) -> Vec<Part> {
        self.tasks
            .iter()
            .enumerate()
            .map(|(index, t)| Part {
                index,
                files: vec![(t.path.clone(), t.size)],
            })
            .collect()
    }

    fn read(&self, part: &Part, batch_size: usize) -> Result<Batches> {
        let task = self
            .tasks
            .get(part.index)
            .ok_or_else(|| anyhow!("{}: no part {}", self.table.name(), part.index))?;
        let rows = self.table.read_task(task, batch_size)?;
        Ok(batches(rows.map(|r| r.map_err(anyhow::Error::from))))
    }
}

struct IcebergSink {
    spec: CatalogSpec,
    ident: String,
    partition_by: Vec<String>,
    /// The table as last loaded; `None` until the first part creates it.
    table: Mutex<Option<IcebergTable>>,
}

impl IcebergSink {
    fn table(&self) -> std::sync::MutexGuard<'_, Option<IcebergTable>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TableSink for IcebergSink {
    fn check(&self, schema: &SchemaRef) -> Result<()> {
        let guard = self.table();
        // Created with the rows' schema (and `partition_by`) by the first part.
        let Some(t) = guard.as_ref() else {
            return Ok(());
        };
        if !self.partition_by.is_empty() {
            // Partitions asked for must be the table's: written otherwise, they would be
            // silently ignored.
            let have = t.info(None)?.partition_by;
            let want: Vec<String> = self
                .partition_by
                .iter()
                .map(|c| format!("identity({c})"))
                .collect();
            if have != want {
                bail!(
                    "{}: the table is partitioned by {}, not by {}",
                    t.name(),
                    match have.is_empty() {
                        true => "nothing".to_string(),
                        false => have.join(", "),
                    },
                    want.join(", ")
                );
            }
        }
        Ok(t.check_schema(schema)?)
    }

    fn progress(&self, app: &str, _indices: &[usize]) -> Result<Progress> {
        let mut guard = self.table();
        let Some(t) = guard.as_mut() else {
            return Ok(Progress::default());
        };
        Ok(Progress {
            last: None,
            parts: t.job_progress(app)?.parts,
        })
    }

    fn part(&self, schema: &SchemaRef) -> Result<Box<dyn PartSink + '_>> {
        let mut guard = self.table();
        if guard.is_none() {
            // Created with the rows' schema on the first write (metadata only: an empty table
            // until a part commits).
            *guard = Some(IcebergTable::create(
                &self.spec,
                &self.ident,
                schema,
                &self.partition_by,
            )?);
        }
        let table = guard.as_ref().expect("set above").clone();
        let writer = table.writer()?;
        Ok(Box::new(IcebergPart { table, writer }))
    }
}

struct IcebergPart {
    table: IcebergTable,
    writer: IcebergWriter,
}

impl PartSink for IcebergPart {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        Ok(self.writer.write(batch)?)
    }

    fn commit(self: Box<Self>, c: &PartCommit) -> Result<bool> {
        let IcebergPart { mut table, writer } = *self;
        let files = writer.finish()?;
        crate::pipeline::crash_point(c.index as usize);
        Ok(table.commit(files, c.overwrite, &c.app, c.index)?)
    }

    fn abort(self: Box<Self>) {
        let IcebergPart { table, writer } = *self;
        if let Ok(files) = writer.finish() {
            table.discard(files);
        }
    }
}
