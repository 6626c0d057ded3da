//! The Parquet format: read row group by row group (local files as needed, others fetched
//! whole), written with zstd in row groups of bounded memory (`parquet_props.rs`).

use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};

use super::format::{Encoder, FileFormat, Files};
use super::parquet_props::{writer_properties, RowGroupBytes};
use super::parquet_source::{conform, ParquetSource};
use super::put::Sink;
use super::read::{Batches, Part, ReadBatch};
use super::write::WriteOptions;

pub struct Parquet;

fn open(files: &Files<'_>, path: &str) -> Result<ParquetRecordBatchReaderBuilder<ParquetSource>> {
    let source = match files.local_plain(path)? {
        Some(file) => ParquetSource::File(
            std::fs::File::open(&file).with_context(|| format!("opening {path}"))?,
        ),
        None => ParquetSource::Bytes(Bytes::from(files.bytes(path)?)),
    };
    ParquetRecordBatchReaderBuilder::try_new(source)
        .with_context(|| format!("{path}: not a Parquet file"))
}

impl FileFormat for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["parquet", "pq"]
    }

    fn infer(&self, files: &Files<'_>, path: &str) -> Result<SchemaRef> {
        Ok(open(files, path)?.schema().clone())
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let all: Vec<usize> = (0..schema.fields().len()).collect();
        self.read_columns(files, part, schema, &all)
    }

    /// Only the column chunks of `columns` are read and decoded.
    fn read_columns(
        &self,
        files: &Files<'_>,
        part: &Part,
        schema: SchemaRef,
        columns: &[usize],
    ) -> Result<Batches> {
        let path = part.files[0].0.clone();
        let builder = open(files, &path)?;
        let wanted = Arc::new(schema.project(columns)?);
        // This file's own columns of those names (a later part may order them otherwise).
        let file = builder.schema().clone();
        let roots = wanted
            .fields()
            .iter()
            .map(|f| {
                file.index_of(f.name())
                    .with_context(|| format!("{path}: no column `{}` here", f.name()))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta = builder.metadata().clone();
        let (rows, bytes) = meta.row_groups().iter().fold((0i64, 0i64), |(r, b), g| {
            let cols: i64 = roots
                .iter()
                .filter_map(|&i| g.columns().get(i).map(|c| c.uncompressed_size()))
                .sum();
            (
                r + g.num_rows(),
                b + if roots.len() == file.fields().len() {
                    g.total_byte_size()
                } else {
                    cols
                },
            )
        });
        // Batches of about `batch_bytes`, whatever the row size.
        let per_row = (bytes / rows.max(1)).max(1) as usize;
        let n = files
            .batch_rows()
            .min((files.opts.batch_bytes / per_row).max(16));
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder.with_projection(mask).with_batch_size(n).build()?;
        Ok(Box::new(reader.map(move |b| {
            let b = b.with_context(|| format!("{path}: corrupt Parquet"))?;
            Ok(ReadBatch {
                batch: conform(b, &wanted).with_context(|| path.clone())?,
                rejects: Vec::new(),
            })
        })))
    }

    fn writes(&self) -> bool {
        true
    }

    fn streams(&self) -> bool {
        false
    }

    fn writer(
        &self,
        sink: Sink,
        schema: &SchemaRef,
        opts: &WriteOptions,
    ) -> Result<Box<dyn Encoder>> {
        Ok(Box::new(Writer {
            state: State::Unopened(sink),
            schema: schema.clone(),
            row_group_rows: opts.row_group_size,
            group: RowGroupBytes::default(),
        }))
    }
}

/// A Parquet file being written: the writer is opened on the first batch, which decides
/// the columns' encodings (see `parquet_props.rs`).
struct Writer {
    state: State,
    schema: SchemaRef,
    row_group_rows: usize,
    group: RowGroupBytes,
}

enum State {
    Unopened(Sink),
    Open(Box<ArrowWriter<Sink>>),
    /// Between the two, and after an error opening.
    Gone,
}

impl State {
    fn open(
        &mut self,
        schema: &SchemaRef,
        row_group_rows: usize,
        first: &RecordBatch,
    ) -> Result<&mut ArrowWriter<Sink>> {
        if let State::Unopened(_) = self {
            let State::Unopened(sink) = std::mem::replace(self, State::Gone) else {
                unreachable!("matched above")
            };
            let props = writer_properties(first, row_group_rows);
            *self = State::Open(Box::new(ArrowWriter::try_new(
                sink,
                schema.clone(),
                Some(props),
            )?));
        }
        match self {
            State::Open(w) => Ok(w),
            _ => anyhow::bail!("the Parquet writer failed to open"),
        }
    }
}

impl Encoder for Writer {
    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        if b.num_rows() == 0 {
            return Ok(());
        }
        let w = self.state.open(&self.schema, self.row_group_rows, b)?;
        w.write(b)?;
        if self.group.add(b, w) {
            w.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Sink> {
        // A file without rows still has the schema.
        let empty = RecordBatch::new_empty(self.schema.clone());
        self.state.open(&self.schema, self.row_group_rows, &empty)?;
        match self.state {
            State::Open(w) => Ok(w.into_inner()?),
            _ => anyhow::bail!("the Parquet writer failed to open"),
        }
    }
}
