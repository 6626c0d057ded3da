//! The rejects table: every row a reader or a stage refused, with the file, the input row
//! (or line), the stage, the reason, where in the row (a JSON pointer) and the row itself.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::table::ReadReject;

/// The rejects table's columns.
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, true),
        Field::new("line", DataType::Int64, true),
        Field::new("stage", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("pointer", DataType::Utf8, true),
        Field::new("record", DataType::Utf8, false),
    ]))
}

/// Rejected rows collected for a part, as columns of the rejects table.
#[derive(Default)]
pub(super) struct Rejected {
    file: Vec<String>,
    row: Vec<Option<i64>>,
    line: Vec<Option<i64>>,
    stage: Vec<String>,
    reason: Vec<String>,
    pointer: Vec<Option<String>>,
    record: Vec<String>,
    /// Bytes of text held (records and reasons), so that they are written before they grow.
    bytes: usize,
}

impl Rejected {
    /// A row a reader could not decode.
    pub(super) fn read(&mut self, r: ReadReject) {
        self.file.push(r.file);
        self.row.push(None);
        self.line.push((r.line > 0).then_some(r.line as i64));
        self.stage.push("read".into());
        self.bytes += r.raw.len() + r.reason.len();
        self.reason.push(r.reason);
        self.pointer.push(None);
        self.record.push(r.raw);
    }

    /// A row a stage rejected: `row` is the input row's index in the part, `record` the
    /// row as JSON.
    pub(super) fn stage(
        &mut self,
        file: &str,
        row: u64,
        stage: &str,
        reject: &super::Reject,
        record: String,
    ) {
        self.file.push(file.to_string());
        self.row.push(Some(row as i64));
        self.line.push(None);
        self.stage.push(stage.to_string());
        self.bytes += record.len() + reject.reason.len();
        self.reason.push(reject.reason.clone());
        self.pointer.push(reject.pointer.clone());
        self.record.push(record);
    }

    pub(super) fn len(&self) -> usize {
        self.file.len()
    }

    /// Bytes of rejected rows and reasons held.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes the collected rows as a batch.
    pub(super) fn batch(&mut self) -> Result<RecordBatch> {
        let t = std::mem::take(self);
        Ok(RecordBatch::try_new(
            rejects_schema(),
            vec![
                Arc::new(StringArray::from(t.file)),
                Arc::new(Int64Array::from(t.row)),
                Arc::new(Int64Array::from(t.line)),
                Arc::new(StringArray::from(t.stage)),
                Arc::new(StringArray::from(t.reason)),
                Arc::new(StringArray::from(t.pointer)),
                Arc::new(StringArray::from(t.record)),
            ],
        )?)
    }
}

/// Rows readers could not decode, as a batch of the rejects table (for `disco sql`, whose
/// readers run outside a pipeline).
pub fn read_rejects_batch(rejects: Vec<ReadReject>) -> Result<RecordBatch> {
    let mut r = Rejected::default();
    rejects.into_iter().for_each(|x| r.read(x));
    r.batch()
}
