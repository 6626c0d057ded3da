//! Tables: readers (Parquet, CSV/TSV, NDJSON, lines, text, blobs, HTML; compressed or not)
//! and writers (Parquet, CSV, NDJSON, Delta Lake), all on Arrow record batches, plus the
//! Parquet form of `disco tree`.
//!
//! Architecture invariant: a table file appears whole or not at all: writers write to a
//! temporary file beside the target and rename it into place (or put it whole), and a Delta
//! commit is a put-if-absent of the next log entry.

mod csv;
pub mod delta;
mod fit;
mod html;
#[cfg(feature = "iceberg")]
pub mod iceberg;
pub mod lake;
mod lines;
mod ndjson;
mod parquet_source;
mod read;
mod tree_parquet;
mod write;

pub use delta::SchemaMode;
pub use html::extract as html_text;
pub use lake::{LakeFormat, Progress, TableInfo, TableRef};
pub use read::{parse_type, Batches, Input, InputFormat, Part, ReadBatch, ReadOptions, ReadReject};
pub use tree_parquet::{file_schema, files_path, node_schema, TreeParquetWriter};
pub use write::{Layout, Output, OutputFormat, PartWriter, WriteOptions};
