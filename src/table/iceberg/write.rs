//! Writing: data files written into the table's location (invisible until committed), and
//! commits that add them in one snapshot tagged with the job's app and part, retried when
//! another writer commits first.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use arrow::compute::{cast_with_options, CastOptions};
use arrow_array::{new_null_array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use iceberg::arrow::RecordBatchPartitionSplitter;
use iceberg::spec::{DataFile, DataFileFormat};
use iceberg::transaction::{ApplyTransactionAction, Transaction};
use iceberg::writer::base_writer::data_file_writer::DataFileWriterBuilder;
use iceberg::writer::file_writer::location_generator::{
    DefaultFileNameGenerator, DefaultLocationGenerator,
};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::file_writer::ParquetWriterBuilder;
use iceberg::writer::partitioning::fanout_writer::FanoutWriter;
use iceberg::writer::partitioning::unpartitioned_writer::UnpartitionedWriter;
use iceberg::writer::partitioning::PartitioningWriter;
use iceberg::ErrorKind;
use parquet_58::basic::{Compression, ZstdLevel};
use parquet_58::file::properties::WriterProperties;

use super::{block_on, bridge, overwrite, IcebergError, IcebergTable, Result};

/// Snapshot summary keys that record which job part a snapshot committed.
pub const APP_KEY: &str = "disco.app";
pub const PART_KEY: &str = "disco.part";

/// How many times a commit that lost a race is tried again (each after a refresh).
const COMMIT_ATTEMPTS: u32 = 30;

type Builder =
    DataFileWriterBuilder<ParquetWriterBuilder, DefaultLocationGenerator, DefaultFileNameGenerator>;

enum Inner {
    Plain(Box<UnpartitionedWriter<Builder>>),
    Partitioned(Box<(FanoutWriter<Builder>, RecordBatchPartitionSplitter)>),
}

/// Data files written and not yet committed.
#[derive(Debug, Clone, Default)]
pub struct DataFiles {
    files: Vec<DataFile>,
    pub rows: u64,
}

impl DataFiles {
    /// The files' URLs.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| f.file_path().to_string())
            .collect()
    }
}

/// The parts of a job (`app`) a table holds: every snapshot in the current snapshot's
/// history tagged with the app records its part.
#[derive(Debug, Clone, Default)]
pub struct IcebergProgress {
    pub parts: BTreeSet<i64>,
}

impl IcebergProgress {
    pub fn done(&self, part: usize) -> bool {
        self.parts.contains(&(part as i64))
    }
}

/// Writes batches as Parquet data files (zstd) of one table, split by its partition spec.
pub struct IcebergWriter {
    /// The table as it was when writing began (a cheap clone: metadata and handles).
    table: IcebergTable,
    /// The table's schema in Arrow 59, which every batch is conformed to.
    schema: SchemaRef,
    inner: Inner,
    rows: u64,
}

impl IcebergTable {
    /// A writer of new data files for this table (nothing is visible until [`Self::commit`]).
    pub fn writer(&self) -> Result<IcebergWriter> {
        let md = self.table.metadata();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let location = DefaultLocationGenerator::new(md).map_err(|e| self.err(e))?;
        // A fresh prefix per writer: several processes write into one data folder.
        let names = DefaultFileNameGenerator::new(
            format!("disco-{}", uuid::Uuid::new_v4()),
            None,
            DataFileFormat::Parquet,
        );
        let rolling = RollingFileWriterBuilder::new_with_default_file_size(
            ParquetWriterBuilder::new(props, md.current_schema().clone()),
            self.table.file_io().clone(),
            location,
            names,
        );
        let builder = DataFileWriterBuilder::new(rolling);
        let spec = md.default_partition_spec();
        let inner = if spec.is_unpartitioned() {
            Inner::Plain(Box::new(UnpartitionedWriter::new(builder)))
        } else {
            let splitter = RecordBatchPartitionSplitter::try_new_with_computed_values(
                md.current_schema().clone(),
                spec.clone(),
            )
            .map_err(|e| self.err(e))?;
            Inner::Partitioned(Box::new((FanoutWriter::new(builder), splitter)))
        };
        Ok(IcebergWriter {
            table: self.clone(),
            schema: self.schema()?,
            inner,
            rows: 0,
        })
    }

    /// Commits `files` as one snapshot recording `app` and `part`: appended, or replacing
    /// every row of the table (`overwrite`). `Ok(false)` when `app` already committed `part`
    /// (a rerun). A commit that loses a race to another writer is retried on the new state.
    pub fn commit(
        &mut self,
        files: DataFiles,
        overwrite: bool,
        app: &str,
        part: i64,
    ) -> Result<bool> {
        let props = HashMap::from([
            (APP_KEY.to_string(), app.to_string()),
            (PART_KEY.to_string(), part.to_string()),
        ]);
        let mut attempt = 0;
        loop {
            self.refresh()?;
            if self.progress_now(app).parts.contains(&part) {
                return Ok(false);
            }
            let result = if overwrite {
                overwrite::commit(self, files.files.clone(), props.clone())
            } else {
                let tx = Transaction::new(&self.table);
                let action = tx
                    .fast_append()
                    .add_data_files(files.files.clone())
                    .set_snapshot_properties(props.clone());
                match action.apply(tx) {
                    Ok(tx) => block_on(tx.commit(self.catalog.as_ref())).map_err(|e| self.err(e)),
                    Err(e) => Err(self.err(e)),
                }
            };
            match result {
                Ok(table) => {
                    self.table = table;
                    return Ok(true);
                }
                Err(e) if conflict(&e) && attempt < COMMIT_ATTEMPTS => {
                    attempt += 1;
                    // Spread the retries of writers that collided.
                    let jitter = u64::from(uuid::Uuid::new_v4().as_u128() as u8);
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt) + jitter));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// What `app` already committed (reloading the table first).
    pub fn progress(&mut self, app: &str) -> Result<IcebergProgress> {
        self.refresh()?;
        Ok(self.progress_now(app))
    }

    /// What job `app` already committed (reloading the table first), counting a part `i`
    /// committed under the app `{app}@{i}` as the job's: a pipeline commits the parts after
    /// a failed one that way, so the failed part can still be committed later.
    pub fn job_progress(&mut self, app: &str) -> Result<IcebergProgress> {
        self.refresh()?;
        Ok(self.committed(|a, part| a == app || a == format!("{app}@{part}")))
    }

    fn progress_now(&self, app: &str) -> IcebergProgress {
        self.committed(|a, _| a == app)
    }

    /// The parts of the snapshots in the current one's history whose app and part `mine`
    /// accepts.
    fn committed(&self, mine: impl Fn(&str, i64) -> bool) -> IcebergProgress {
        let md = self.table.metadata();
        let mut parts = BTreeSet::new();
        let mut next = md.current_snapshot().cloned();
        while let Some(s) = next {
            let summary = &s.summary().additional_properties;
            let app = summary.get(APP_KEY);
            let part = summary.get(PART_KEY).and_then(|p| p.parse().ok());
            if let (Some(a), Some(p)) = (app, part) {
                if mine(a, p) {
                    parts.insert(p);
                }
            }
            next = s
                .parent_snapshot_id()
                .and_then(|id| md.snapshot_by_id(id).cloned());
        }
        IcebergProgress { parts }
    }

    /// Deletes data files that will not be committed (best effort: an uncommitted file is
    /// invisible to readers anyway).
    pub fn discard(&self, files: DataFiles) {
        for f in files.files {
            let _ = block_on(self.table.file_io().delete(f.file_path()));
        }
    }
}

fn conflict(e: &IcebergError) -> bool {
    matches!(e, IcebergError::Table { error, .. } if error.kind() == ErrorKind::CatalogCommitConflicts)
        || matches!(e, IcebergError::Conflict { .. })
}

impl IcebergWriter {
    /// Writes `batch`, whose columns are matched to the table's by name: a missing nullable
    /// column is null, lossless widenings (int32 → long, utf8 variants) are cast, anything
    /// else is an error naming the column.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let conformed = self.conform(batch)?;
        let old = bridge::batch_to_58(&conformed).map_err(|m| self.table.arrow_err(m))?;
        let result = match &mut self.inner {
            Inner::Plain(w) => block_on(w.write(old)),
            Inner::Partitioned(inner) => {
                let (w, splitter) = inner.as_mut();
                let split = splitter.split(&old);
                block_on(async {
                    for (key, part) in split? {
                        w.write(key, part).await?;
                    }
                    Ok(())
                })
            }
        };
        result.map_err(|e| self.table.err(e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the open files; they are the table's once committed.
    pub fn finish(self) -> Result<DataFiles> {
        let files = match self.inner {
            Inner::Plain(w) => block_on(w.close()),
            Inner::Partitioned(inner) => block_on(inner.0.close()),
        }
        .map_err(|e| self.table.err(e))?;
        Ok(DataFiles {
            files,
            rows: self.rows,
        })
    }

    fn conform(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let in_schema = batch.schema();
        self.table.check_fits(&self.schema, &in_schema)?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for field in self.schema.fields() {
            let column = match in_schema.index_of(field.name()) {
                Ok(i) => batch.column(i).clone(),
                // Checked above: a column the rows lack is nullable.
                Err(_) => new_null_array(field.data_type(), batch.num_rows()),
            };
            let column = if column.data_type() == field.data_type() {
                column
            } else {
                let opts = CastOptions {
                    safe: false,
                    ..Default::default()
                };
                cast_with_options(&column, field.data_type(), &opts).map_err(|e| {
                    self.table
                        .invalid(format!("column `{}`: {e}", field.name()))
                })?
            };
            columns.push(column);
        }
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| self.table.invalid(e.to_string()))
    }
}

impl IcebergTable {
    /// Checks that rows of `rows` can be written into the table: matched by name, every
    /// column of theirs is one of the table's, a table column they lack is nullable (written
    /// as null), and each type is the table's or widens to it without loss. Called before a
    /// job reads anything, and on each batch.
    pub fn check_schema(&self, rows: &SchemaRef) -> Result<()> {
        self.check_fits(&self.schema()?, rows)
    }

    fn check_fits(&self, table: &SchemaRef, rows: &SchemaRef) -> Result<()> {
        for f in rows.fields() {
            if table.field_with_name(f.name()).is_err() {
                return Err(self.invalid(format!(
                    "column `{}` is not in the table (its columns: {})",
                    f.name(),
                    table
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        for field in table.fields() {
            let Ok(given) = rows.field_with_name(field.name()) else {
                if field.is_nullable() {
                    continue;
                }
                return Err(self.invalid(format!(
                    "column `{}` is required by the table and missing",
                    field.name()
                )));
            };
            let (from, to) = (given.data_type(), field.data_type());
            if !(from == to || from.equals_datatype(to) || widens(from, to)) {
                return Err(self.invalid(format!(
                    "column `{}` is {from}, the table's is {to}",
                    field.name()
                )));
            }
        }
        Ok(())
    }

    fn invalid(&self, message: String) -> IcebergError {
        IcebergError::Invalid {
            table: self.name.clone(),
            message,
        }
    }
}

/// Casts that lose nothing.
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    matches!(
        (from, to),
        (Int8 | Int16 | UInt8 | UInt16, Int32)
            | (Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32, Int64)
            | (Float16, Float32)
            | (Float16 | Float32, Float64)
            | (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8)
            | (Binary | LargeBinary | BinaryView, Binary | LargeBinary)
    )
}
