//! Parquet parts: where their bytes come from (a local file read as needed, or bytes fetched
//! whole), and casting a later part to the first part's schema without losing a value.

use anyhow::{anyhow, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use bytes::Bytes;

/// Casts a batch to the input's schema (another part's types, or an override). A value the
/// cast cannot carry over exactly is an error naming the column (the caller adds the file):
/// the cast is unsafe (overflow and unparsable text fail instead of becoming null), and the
/// result must cast back to the original (so `f64` 0.1 into `f32`, or 2^53+1 into `f64`, fail).
pub(super) fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    let strict = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut cols = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let c = batch
            .column_by_name(f.name())
            .ok_or_else(|| anyhow!("no column `{}` here, unlike the first part", f.name()))?;
        if c.data_type() == f.data_type() {
            cols.push(c.clone());
            continue;
        }
        let why = |e: String| {
            anyhow!(
                "column `{}` is {} here and {} in the first part: {e}",
                f.name(),
                c.data_type(),
                f.data_type()
            )
        };
        let cast = arrow::compute::cast_with_options(c, f.data_type(), &strict)
            .map_err(|e| why(e.to_string()))?;
        // Text read as a type is parsed (unsafe: it parses or fails); between other types
        // the values must survive the trip back.
        let text = matches!(
            c.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        if !text {
            let back = arrow::compute::cast_with_options(&cast, c.data_type(), &strict)
                .map_err(|e| why(e.to_string()))?;
            if back.to_data() != c.to_data() {
                return Err(why("some values would change".into()));
            }
        }
        cols.push(cast);
    }
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}

/// Where Parquet bytes come from: a local file, or bytes fetched whole.
pub enum ParquetSource {
    File(std::fs::File),
    Bytes(Bytes),
}

impl parquet::file::reader::Length for ParquetSource {
    fn len(&self) -> u64 {
        match self {
            ParquetSource::File(f) => f.len(),
            ParquetSource::Bytes(b) => b.len() as u64,
        }
    }
}

impl parquet::file::reader::ChunkReader for ParquetSource {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            ParquetSource::File(f) => Box::new(f.get_read(start)?),
            ParquetSource::Bytes(b) => Box::new(b.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            ParquetSource::File(f) => f.get_bytes(start, length),
            ParquetSource::Bytes(b) => b.get_bytes(start, length),
        }
    }
}
