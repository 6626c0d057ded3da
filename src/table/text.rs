//! Formats of one row per file: `text` (`path`, `text`: the decoded text) and `blob` (`path`,
//! `size`, `bytes`), and [`whole_files`], which the HTML format shares. A part is a group of
//! small files read into one batch; a file that cannot be read or decoded is a reject.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::format::{FileFormat, Files};
use super::read::{Batches, Part, ReadBatch, ReadReject};
use crate::volume::decode;

/// The files of a part, each read whole and turned into a row's values by `row`.
pub(super) struct WholeFiles<T> {
    pub paths: Vec<String>,
    pub rows: Vec<T>,
    pub rejects: Vec<ReadReject>,
}

/// Reads every file of `part` and gives each to `row`. Files that cannot be read are
/// rejected first, then those `row` refuses (the order readers have always reported).
pub(super) fn whole_files<T>(
    files: &Files<'_>,
    part: &Part,
    mut row: impl FnMut(Vec<u8>) -> Result<T, String>,
) -> WholeFiles<T> {
    let mut read = Vec::new();
    let mut rejects = Vec::new();
    let reject = |file: &str, reason: String| ReadReject {
        file: file.to_string(),
        line: 0,
        reason,
        raw: String::new(),
    };
    for (path, _) in &part.files {
        match files.bytes(path) {
            Ok(b) => read.push((path.clone(), b)),
            Err(e) => rejects.push(reject(path, format!("{e:#}"))),
        }
    }
    let mut out = WholeFiles {
        paths: Vec::new(),
        rows: Vec::new(),
        rejects,
    };
    for (path, bytes) in read {
        match row(bytes) {
            Ok(r) => {
                out.paths.push(path);
                out.rows.push(r);
            }
            Err(e) => out.rejects.push(reject(&path, e)),
        }
    }
    out
}

/// The decoded text of a file: the decoder `disco tree` uses (BOMs, UTF-16/32, detected
/// legacy encodings), or the encoding the reader was given.
pub(super) fn decoded(files: &Files<'_>, bytes: Vec<u8>) -> Result<String, String> {
    decode(bytes, files.opts.encoding)
        .map(|d| d.text)
        .map_err(|e| e.to_string())
}

/// One batch from a part's rows.
pub(super) fn batch(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    rejects: Vec<ReadReject>,
) -> Result<Batches> {
    let batch = RecordBatch::try_new(schema, columns)?;
    Ok(Box::new(std::iter::once(Ok(ReadBatch { batch, rejects }))))
}

/// A text file a row.
pub struct Text;

impl FileFormat for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &[]
    }

    fn per_file(&self) -> bool {
        true
    }

    fn infer(&self, _: &Files<'_>, _: &str) -> Result<SchemaRef> {
        Ok(Arc::new(Schema::new(vec![
            Field::new("path", DataType::Utf8, false),
            Field::new("text", DataType::Utf8, false),
        ])))
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let w = whole_files(files, part, |b| decoded(files, b));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(w.paths)),
            Arc::new(StringArray::from(w.rows)),
        ];
        batch(schema, columns, w.rejects)
    }
}

/// A file's bytes a row.
pub struct Blob;

impl FileFormat for Blob {
    fn name(&self) -> &'static str {
        "blob"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &[]
    }

    fn per_file(&self) -> bool {
        true
    }

    fn infer(&self, _: &Files<'_>, _: &str) -> Result<SchemaRef> {
        Ok(Arc::new(Schema::new(vec![
            Field::new("path", DataType::Utf8, false),
            Field::new("size", DataType::Int64, false),
            Field::new("bytes", DataType::Binary, false),
        ])))
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let w = whole_files(files, part, Ok);
        let sizes: Vec<i64> = w.rows.iter().map(|b| b.len() as i64).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(w.paths)),
            Arc::new(Int64Array::from(sizes)),
            Arc::new(BinaryArray::from_iter_values(w.rows.iter())),
        ];
        batch(schema, columns, w.rejects)
    }
}
