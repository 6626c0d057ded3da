//! The Parquet format: read row group by row group (local files as needed, others fetched
//! whole), written with zstd in row groups of bounded memory.

use anyhow::{Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::format::{Encoder, FileFormat, Files};
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
        let path = part.files[0].0.clone();
        let builder = open(files, &path)?;
        let (rows, bytes) = builder
            .metadata()
            .row_groups()
            .iter()
            .fold((0i64, 0i64), |(r, b), g| {
                (r + g.num_rows(), b + g.total_byte_size())
            });
        // Batches of about `batch_bytes`, whatever the row size.
        let per_row = (bytes / rows.max(1)).max(1) as usize;
        let n = files
            .batch_rows()
            .min((files.opts.batch_bytes / per_row).max(16));
        let reader = builder.with_batch_size(n).build()?;
        Ok(Box::new(reader.map(move |b| {
            let b = b.with_context(|| format!("{path}: corrupt Parquet"))?;
            Ok(ReadBatch {
                batch: conform(b, &schema).with_context(|| path.clone())?,
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
        let props = WriterProperties::builder()
            // Level 1, zstd's fast strategy, as for Delta data files: level 3's was the largest
            // single cost of writing validated rows (perf: 17% of the CPU, on the writer's
            // one thread, which set the pace), for files a few percent smaller.
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
            .set_max_row_group_row_count(Some(opts.row_group_size.max(1)))
            .build();
        Ok(Box::new(Writer {
            inner: ArrowWriter::try_new(sink, schema.clone(), Some(props))?,
            open: 0,
        }))
    }
}

struct Writer {
    inner: ArrowWriter<Sink>,
    /// Bytes of Arrow data given to the open row group.
    open: usize,
}

impl Encoder for Writer {
    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.inner.write(b)?;
        // Bounded memory: a row group is closed after 8 MiB of Arrow data (its encoders hold
        // about that much until it closes), or 16 MiB encoded.
        self.open += b.get_array_memory_size();
        if self.open > 8 << 20 || self.inner.in_progress_size() > 16 << 20 {
            self.inner.flush()?;
            self.open = 0;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Sink> {
        Ok(self.inner.into_inner()?)
    }
}
