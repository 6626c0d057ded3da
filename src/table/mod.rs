//! Tables: file formats (`format.rs`: Parquet, CSV/TSV, NDJSON, lines, text, blobs, HTML;
//! compressed or not) and lakehouse tables (`lake.rs`: Delta, Iceberg), all on Arrow record
//! batches, plus the tables of `disco tree` (`tree_out.rs`).
//!
//! Architecture invariant: a table file appears whole or not at all: every file is written
//! through `put.rs` (a temporary file beside the target renamed into place, or put whole), and
//! a lakehouse commit is atomic in its own format.

mod csv;
pub mod delta;
mod fit;
mod fit_scan;
pub mod format;
mod html;
#[cfg(feature = "iceberg")]
pub mod iceberg;
pub mod lake;
mod lines;
mod ndjson;
mod parquet;
pub(crate) mod parquet_props;
mod parquet_source;
pub mod put;
mod read;
mod text;
mod tree_out;
mod write;

pub use delta::SchemaMode;
pub use format::FileFormat;
pub use html::extract as html_text;
pub use lake::{LakeFormat, Progress, TableInfo, TableRef};
pub use read::{parse_type, Batches, Input, InputFormat, Part, ReadBatch, ReadOptions, ReadReject};
pub use tree_out::{tree_format, TreeOutputs, TreeWriter};
pub use write::{Layout, Output, OutputFormat, PartWriter, WriteOptions};
