//! Pipelines: record batches streamed from a table through stages into a table.
//!
//! A [`Stage`] derives its output schema from its input schema, so a whole plan is checked
//! (resources resolved, columns and types present) before any data is read or any model
//! loaded. At run time it maps a batch to a batch plus rejected rows; the runner keeps the
//! accounting `rows in = rows passed + rows rejected` for every input part.
//!
//! Built-in stages come from catalog resources (validators, tokenizers, models) or are named
//! `tree`, `select`, `rename`, `filter`, `explode`, `sql` (the last two with the `sql` feature); Rust users add their own with
//! [`crate::Disco::register`].

#[cfg(feature = "model")]
mod bert;
mod bert_ascii;
mod columns;
mod json;
#[cfg(feature = "model")]
mod model;
mod part;
mod plan;
mod rejects;
mod request;
mod run;
mod shard;
#[cfg(feature = "sql")]
mod sql_stage;
mod summary;
mod tokenize;
mod tree_stage;
mod validate;
#[cfg(feature = "model")]
mod vecmath;

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;

pub use json::{row_json, rows_to_values};
pub use plan::{build_stages, StageRegistry};
pub use rejects::{read_rejects_batch, rejects_schema};
pub use request::{Destination, RejectsTo, RequestError, RunRequest};
pub(crate) use run::crash_point;
pub use run::{run, OnPart, RunOptions};
pub use shard::Shard;
pub use summary::{PartFailure, RunSummary};

/// A plan error: which stage, and what is wrong (naming the column).
#[derive(Debug, Clone)]
pub struct PlanError {
    pub stage: String,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage `{}`: {}", self.stage, self.message)
    }
}

impl std::error::Error for PlanError {}

impl PlanError {
    pub fn new(stage: &str, message: impl Into<String>) -> PlanError {
        PlanError {
            stage: stage.to_string(),
            message: message.into(),
        }
    }
}

/// One rejected row of a stage's input batch, and why.
#[derive(Debug, Clone)]
pub struct Reject {
    /// The row's index in the batch the stage was given.
    pub row: u32,
    pub reason: String,
    /// Where in the row the problem is (a JSON pointer for validators), when known.
    pub pointer: Option<String>,
}

/// What a stage makes of a batch.
#[derive(Debug)]
pub struct StageOutput {
    pub batch: RecordBatch,
    /// For each output row, the input row it came from; `None` when the output rows are the
    /// input rows minus the rejected ones, in order.
    pub origin: Option<Vec<u32>>,
    pub rejects: Vec<Reject>,
}

impl StageOutput {
    /// Every row passes, unchanged in number and order.
    pub fn all(batch: RecordBatch) -> StageOutput {
        StageOutput {
            batch,
            origin: None,
            rejects: Vec::new(),
        }
    }
}

/// A pipeline stage. Implement it to add your own (`disco.register(MyValidator)`).
pub trait Stage: Send + Sync {
    /// The name pipelines use for it.
    fn name(&self) -> &str;

    /// The output schema for `input`; an error names the missing or mistyped column. Called
    /// for the whole plan before any data is read.
    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError>;

    /// Loads what the stage needs (a model's weights...) once the whole plan is checked.
    fn open(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// Maps a batch (of the planned input schema) to a batch of the planned output schema.
    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput>;
}

/// A shared, type-erased stage.
pub type StageRc = Arc<dyn Stage>;

/// The column `name` of `schema`, or a plan error that lists the columns there are.
pub fn need_column(
    stage: &str,
    schema: &SchemaRef,
    name: &str,
) -> Result<(usize, DataType), PlanError> {
    match schema.index_of(name) {
        Ok(i) => Ok((i, schema.field(i).data_type().clone())),
        Err(_) => Err(PlanError::new(
            stage,
            format!(
                "no column `{name}` in its input (columns: {})",
                column_list(schema)
            ),
        )),
    }
}

/// A text column: `Utf8` or `LargeUtf8` (or `Utf8View`).
pub fn need_text_column(stage: &str, schema: &SchemaRef, name: &str) -> Result<usize, PlanError> {
    let (i, ty) = need_column(stage, schema, name)?;
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(i),
        other => Err(PlanError::new(
            stage,
            format!("column `{name}` is {other}, not text"),
        )),
    }
}

pub(crate) fn column_list(schema: &SchemaRef) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The strings of a text column as `Option<&str>`s, whatever its text type.
pub(crate) fn text_values(array: &dyn arrow::array::Array) -> Vec<Option<&str>> {
    use arrow::array::AsArray;
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        // Plans only let text columns through; anything else reads as missing.
        _ => vec![None; array.len()],
    }
}
