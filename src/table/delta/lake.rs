//! Delta Lake as a [`LakeFormat`]: a table is a folder of a volume with a `_delta_log`.

use anyhow::{anyhow, Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::{delta_schema, DeltaPart, DeltaScan, DeltaTable, SchemaMode, Version};
use crate::table::lake::{
    batches, LakeFormat, PartCommit, PartSink, Progress, TableInfo, TableRef, TableSink,
    TableSource,
};
use crate::table::read::{Batches, Part};
use crate::table::write::WriteOptions;
use crate::volume::{ListOptions, Volume};

/// The Delta Lake format.
pub struct Delta;

fn open(table: &TableRef<'_>) -> Result<DeltaTable> {
    let (volume, path) = table
        .location
        .as_ref()
        .ok_or_else(|| anyhow!("{}: a Delta table needs a location (`url`)", table.name))?;
    Ok(DeltaTable::new(volume, path, &table.name)?)
}

fn version(table: &TableRef<'_>, v: Option<&str>) -> Result<Version> {
    match v {
        None => Ok(Version::Latest),
        Some(v) => Version::parse(v).ok_or_else(|| {
            anyhow!(
                "{}: version `{v}` is neither a version number (12, v12) nor an RFC 3339 time",
                table.name
            )
        }),
    }
}

impl LakeFormat for Delta {
    fn name(&self) -> &'static str {
        "delta"
    }

    fn detect(&self, volume: &Volume, path: &str) -> bool {
        let log = crate::table::write::join(path, "_delta_log");
        volume
            .list(&log, &ListOptions::default())
            .is_ok_and(|e| !e.is_empty())
    }

    fn source(&self, table: &TableRef<'_>, v: Option<&str>) -> Result<Box<dyn TableSource>> {
        let delta = open(table)?;
        let scan = delta.scan(delta.existing(version(table, v)?)?)?;
        Ok(Box::new(DeltaSource { table: delta, scan }))
    }

    fn sink(&self, table: &TableRef<'_>, opts: &WriteOptions) -> Result<Box<dyn TableSink>> {
        // The kernel creates a table only where its folder exists (object stores have none).
        if let Some((volume, path)) = &table.location {
            if let Some(root) = volume.local_root() {
                let dir = root.join(path);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        Ok(Box::new(DeltaSink {
            table: open(table)?,
            partition_by: opts.partition_by.clone(),
            mode: opts.schema_mode,
            row_group_size: opts.row_group_size,
        }))
    }

    fn info(&self, table: &TableRef<'_>, v: Option<&str>) -> Result<Option<TableInfo>> {
        let t = open(table)?;
        if t.snapshot(Version::Latest)?.is_none() {
            return Ok(None);
        }
        let i = t.info(version(table, v)?)?;
        let mut details = vec![
            ("bytes".to_string(), i.bytes.to_string()),
            ("reader features".to_string(), i.reader_features.join(", ")),
            ("writer features".to_string(), i.writer_features.join(", ")),
        ];
        details.extend(i.properties);
        Ok(Some(TableInfo {
            format: "delta",
            version: i.version.to_string(),
            schema: i.schema,
            partition_by: i.partition_columns,
            files: i.files,
            rows: i.rows,
            details,
        }))
    }
}

struct DeltaSource {
    table: DeltaTable,
    scan: DeltaScan,
}

impl TableSource for DeltaSource {
    fn schema(&self) -> SchemaRef {
        self.scan.schema.clone()
    }

    fn parts(&self) -> Vec<Part> {
        self.scan
            .files
            .iter()
            .enumerate()
            .map(|(index, f)| Part {
                index,
                files: vec![(f.path.clone(), f.size.max(0) as u64)],
            })
            .collect()
    }

    fn read(&self, part: &Part, _batch_size: usize) -> Result<Batches> {
        let file = self
            .scan
            .files
            .get(part.index)
            .ok_or_else(|| anyhow!("{}: no part {}", self.table.name, part.index))?;
        let rows = self.table.read_file(&self.scan, file)?;
        Ok(batches(rows.map(|r| r.map_err(anyhow::Error::from))))
    }
}

struct DeltaSink {
    table: DeltaTable,
    partition_by: Vec<String>,
    mode: SchemaMode,
    row_group_size: usize,
}

impl TableSink for DeltaSink {
    fn check(&self, schema: &SchemaRef) -> Result<()> {
        Ok(self
            .table
            .check_rows(&delta_schema(schema), &self.partition_by, self.mode)?)
    }

    /// The last part of an unbroken run of parts (the `app` transaction), and those of
    /// `indices` committed after a failed one (each under its own `app@index` transaction,
    /// since a Delta transaction version only moves forward and the failed part must stay
    /// retryable).
    fn progress(&self, app: &str, indices: &[usize]) -> Result<Progress> {
        let mut progress = Progress::default();
        let Some(snapshot) = self.table.snapshot(Version::Latest)? else {
            return Ok(progress);
        };
        progress.last = self.table.app_version(&snapshot, app)?;
        for &i in indices {
            let i = i as i64;
            if progress.last.is_some_and(|l| l >= i) {
                continue;
            }
            if self
                .table
                .app_version(&snapshot, &format!("{app}@{i}"))?
                .is_some()
            {
                progress.parts.insert(i);
            }
        }
        Ok(progress)
    }

    fn part(&self, schema: &SchemaRef) -> Result<Box<dyn PartSink + '_>> {
        Ok(Box::new(self.table.part(
            &delta_schema(schema),
            &self.partition_by,
            self.mode,
            self.row_group_size,
        )?))
    }
}

impl PartSink for DeltaPart<'_> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        Ok(DeltaPart::write(self, batch)?)
    }

    fn commit(self: Box<Self>, commit: &PartCommit) -> Result<bool> {
        Ok(DeltaPart::commit(*self, commit)?)
    }

    fn abort(self: Box<Self>) {
        DeltaPart::abort(*self)
    }
}
