//! Tables: writing records as Parquet. (Readers, Delta Lake and the pipeline writers come
//! with the pipelines.)
//!
//! Architecture invariant: a table file appears whole or not at all: writers write to a
//! temporary file beside the target and rename it into place when they finish.

mod tree_parquet;

pub use tree_parquet::{file_schema, files_path, node_schema, TreeParquetWriter};
