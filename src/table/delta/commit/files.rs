//! A part's data files: rows go round the lanes, each lane a thread that encodes its files
//! (`parquet_props.rs` decides their encodings) and puts each one when it is full, so a part
//! encodes on every core and its memory stays bounded. Nothing here is visible in the table
//! until the part's commit names the files (`commit.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use delta_kernel::engine::arrow_conversion::{TryFromArrow, TryIntoArrow};
use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::expressions::Scalar;
use delta_kernel::transaction::BoundWriteContext;
use delta_kernel::FileMeta;
use delta_kernel_default_engine::parquet::DataFileMetadata;
use delta_kernel_default_engine::stats::FileStatsAccumulator;
use parquet::arrow::ArrowWriter;

use super::super::{DeltaError, DeltaTable, Result};
use super::DeltaPart;
use crate::table::parquet_props::{writer_properties, RowGroupBytes};

/// A lane's data files in one partition directory: one at a time is encoded in memory, and
/// put once it reaches the table's `delta.targetFileSize` ([`TARGET_FILE_BYTES`] when unset),
/// so memory stays bounded however many rows a part has (a `disco tree` table is one part).
pub(super) struct DataFile {
    ctx: BoundWriteContext,
    file_bytes: usize,
    physical: SchemaRef,
    row_group_rows: usize,
    evaluator: Arc<dyn delta_kernel::ExpressionEvaluator>,
    /// The columns of the rows that go into the file (partition columns live in the path).
    keep: Vec<usize>,
    /// The file being encoded: opened on its first rows, which decide the columns'
    /// encodings (`parquet_props.rs`).
    open: Option<OpenFile>,
    /// The add actions of the files already put.
    done: Vec<RecordBatch>,
}

struct OpenFile {
    writer: ArrowWriter<Vec<u8>>,
    stats: FileStatsAccumulator,
    group: RowGroupBytes,
}

/// Encoded bytes at which a data file is put and the next one started, unless the table sets
/// `delta.targetFileSize`. Files are held whole in memory until put, so this bounds a
/// writer's memory: on the Python standard library's trees (a 110 MB `nodes` table), peak RSS
/// was 178 MB with 16 MiB files and 198 MB with 32.
pub(super) const TARGET_FILE_BYTES: usize = 16 << 20;

/// How many data files of one partition a part writes at once: one per core, at most four.
/// Asked once: `available_parallelism` reads the cgroup files, and this is asked per batch.
pub(super) fn lanes() -> usize {
    static LANES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LANES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// A lane: one thread, fed through a short channel, that encodes a partition's data files and
/// puts each one, so a part's files are encoded and finished side by side.
pub(super) struct Lane {
    tx: std::sync::mpsc::SyncSender<RecordBatch>,
    /// The add actions of the lane's files, once they are put.
    handle: std::thread::JoinHandle<Result<Vec<RecordBatch>>>,
    table: String,
}

impl Lane {
    pub(super) fn start(mut file: DataFile, table: DeltaTable) -> Result<Lane> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let table_name = table.name.clone();
        let name = table.name.clone();
        let handle = std::thread::Builder::new()
            .name("disco-delta-file".into())
            .spawn(move || {
                let other = |message: String| DeltaError::Other {
                    table: table.name.clone(),
                    message,
                };
                for batch in rx {
                    file.write(&batch, &table, &other)?;
                }
                file.finish(&table, &other)
            })
            .map_err(|e| DeltaError::Other {
                table: name,
                message: format!("starting a data file writer: {e}"),
            })?;
        Ok(Lane {
            tx,
            handle,
            table: table_name,
        })
    }

    pub(super) fn send(&self, batch: RecordBatch) -> std::result::Result<(), RecordBatch> {
        self.tx.send(batch).map_err(|e| e.0)
    }

    /// Waits for the lane's files to be written and put: their add actions, or its error
    /// (or panic).
    pub(super) fn finish(self) -> Result<Vec<RecordBatch>> {
        let Lane { tx, handle, table } = self;
        drop(tx);
        handle.join().map_err(|p| DeltaError::Other {
            table,
            message: format!("a data file writer panicked: {}", crate::panic_message(&*p)),
        })?
    }
}

impl DataFile {
    pub(super) fn open(part: &DeltaPart<'_>, values: HashMap<String, Scalar>) -> Result<DataFile> {
        let table = part.table;
        let other = |message: String| DeltaError::Other {
            table: table.name.clone(),
            message,
        };
        let mut builder = part.write_state.write_context_builder();
        if !part.partition_by.is_empty() {
            builder = builder.with_partition_values(values);
        }
        let ctx = builder.build().map_err(table.kernel())?;
        let physical: arrow::datatypes::Schema = ctx
            .physical_data_schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e: delta_kernel::arrow::error::ArrowError| other(e.to_string()))?;
        let keep: Vec<usize> = (0..part.table_schema.fields().len())
            .filter(|&i| {
                !part
                    .partition_by
                    .contains(part.table_schema.field(i).name())
            })
            .collect();
        let data_schema = part
            .table_schema
            .project(&keep)
            .map_err(|e| other(e.to_string()))?;
        let input = delta_kernel::schema::Schema::try_from_arrow(&data_schema)
            .map_err(|e: delta_kernel::arrow::error::ArrowError| other(e.to_string()))?;
        let evaluator = table
            .engine()
            .evaluation_handler()
            .new_expression_evaluator(
                Arc::new(input),
                ctx.logical_to_physical(),
                ctx.physical_data_schema().clone().into(),
            )
            .map_err(table.kernel())?;
        Ok(DataFile {
            ctx,
            file_bytes: part.file_bytes,
            physical: Arc::new(physical),
            row_group_rows: part.row_group_size,
            evaluator,
            keep,
            open: None,
            done: Vec::new(),
        })
    }

    fn write(
        &mut self,
        batch: &RecordBatch,
        table: &DeltaTable,
        other: &dyn Fn(String) -> DeltaError,
    ) -> Result<()> {
        let data = ArrowEngineData::new(
            batch
                .project(&self.keep)
                .map_err(|e| other(e.to_string()))?,
        );
        let physical = self
            .evaluator
            .evaluate(&data)
            .map_err(|e| other(e.to_string()))?;
        let physical = ArrowEngineData::try_from_engine_data(physical)
            .map_err(|e| other(e.to_string()))?
            .record_batch()
            .clone();
        let f = match &mut self.open {
            Some(f) => f,
            None => {
                let props = writer_properties(&physical, self.row_group_rows);
                let writer = ArrowWriter::try_new(Vec::new(), self.physical.clone(), Some(props))
                    .map_err(|e| other(e.to_string()))?;
                self.open.insert(OpenFile {
                    writer,
                    stats: FileStatsAccumulator::new(
                        self.ctx.stats_columns(),
                        self.ctx.physical_data_schema(),
                    ),
                    group: RowGroupBytes::default(),
                })
            }
        };
        f.stats.merge(&physical).map_err(|e| other(e.to_string()))?;
        f.writer
            .write(&physical)
            .map_err(|e| other(e.to_string()))?;
        if f.group.add(&physical, &f.writer) {
            f.writer.flush().map_err(|e| other(e.to_string()))?;
        }
        if f.writer.bytes_written() + f.writer.in_progress_size() >= self.file_bytes {
            self.put(table, other)?;
        }
        Ok(())
    }

    /// Puts the open file and keeps its add-action row.
    fn put(&mut self, table: &DeltaTable, other: &dyn Fn(String) -> DeltaError) -> Result<()> {
        let Some(f) = self.open.take() else {
            return Ok(());
        };
        let bytes = f.writer.into_inner().map_err(|e| other(e.to_string()))?;
        let stats = f
            .stats
            .finish()
            .map_err(|e| other(e.to_string()))?
            .ok_or_else(|| other("a data file without rows".into()))?;
        let name = format!("part-{}.zstd.parquet", uuid::Uuid::new_v4());
        let location = self
            .ctx
            .write_dir()
            .join(&name)
            .map_err(|e| other(e.to_string()))?;
        let size = bytes.len() as u64;
        table.put(&location, bytes)?;
        let meta = FileMeta {
            location,
            last_modified: now_millis(),
            size,
        };
        let add = delta_kernel_default_engine::build_add_file_metadata(
            DataFileMetadata::new(meta, stats),
            &self.ctx,
        )
        .map_err(table.kernel())?;
        self.done.push(
            ArrowEngineData::try_from_engine_data(add)
                .map_err(table.kernel())?
                .record_batch()
                .clone(),
        );
        Ok(())
    }

    /// Puts the last file; the add-action rows of all of them.
    fn finish(
        mut self,
        table: &DeltaTable,
        other: &dyn Fn(String) -> DeltaError,
    ) -> Result<Vec<RecordBatch>> {
        self.put(table, other)?;
        if self.done.is_empty() {
            return Err(other("a data file without rows".into()));
        }
        Ok(self.done)
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
