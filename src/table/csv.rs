//! CSV and TSV: schema inference by majority (a column of numbers with a stray word stays a
//! number column; the stray row is rejected with its line), and streaming decoding.
//!
//! A cell is read only when its column holds it exactly (`fit::text`); otherwise the row is a
//! reject naming the column. Inference keeps as text what a number would change: zero-padded
//! codes (`02134`), `+` signs, integers a double cannot hold, `NaN`/`inf`.

use std::io::Read;
use std::sync::Arc;

use anyhow::{bail, Result};
use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::array::{BooleanBuilder, Float32Builder, Float64Builder, Int32Builder, Int64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::fit;
use super::format::{Encoder, FileFormat, Files};
use super::put::Sink;
use super::read::{Batches, Part, ReadBatch, ReadReject};
use super::write::WriteOptions;

/// Share of non-empty values that must parse for a column to get a non-text type.
const MAJORITY: f64 = 0.9;

fn reader(input: Box<dyn Read + Send>, delimiter: u8) -> ::csv::Reader<Box<dyn Read + Send>> {
    ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(input)
}

/// Infers a schema from the header and the first `rows` records.
pub fn infer(input: Box<dyn Read + Send>, delimiter: u8, rows: usize) -> Result<SchemaRef> {
    let mut r = reader(input, delimiter);
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    // Per column: non-empty, integers, other numbers, bools.
    let mut counts = vec![[0usize; 4]; header.len()];
    for rec in r.records().take(rows) {
        let Ok(rec) = rec else { continue };
        for (i, v) in rec.iter().enumerate().take(header.len()) {
            if v.is_empty() {
                continue;
            }
            let c = &mut counts[i];
            c[0] += 1;
            if fit::number_loses_text(v) {
                continue;
            }
            if v.parse::<i64>().is_ok() {
                c[1] += 1;
            } else if fit::float_text(v).is_some() {
                c[2] += 1;
            }
            c[3] += matches!(v, "true" | "false" | "True" | "False") as usize;
        }
    }
    let fields: Vec<Field> = header
        .iter()
        .zip(&counts)
        .map(|(name, c)| {
            let n = c[0] as f64;
            let ty = if c[0] == 0 {
                DataType::Utf8
            } else if c[1] as f64 >= n * MAJORITY && c[2] == 0 {
                DataType::Int64
            } else if (c[1] + c[2]) as f64 >= n * MAJORITY {
                DataType::Float64
            } else if c[3] as f64 >= n * MAJORITY {
                DataType::Boolean
            } else {
                DataType::Utf8
            };
            Field::new(name, ty, true)
        })
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

enum Col {
    I64(Int64Builder),
    I32(Int32Builder),
    F64(Float64Builder),
    F32(Float32Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
    /// Text cast to the column's type when the batch is done (dates, timestamps...): an empty
    /// cell is null there, as in every non-text column.
    Cast(StringBuilder),
}

impl Col {
    fn new(ty: &DataType) -> Col {
        match ty {
            DataType::Int64 => Col::I64(Int64Builder::new()),
            DataType::Int32 => Col::I32(Int32Builder::new()),
            DataType::Float64 => Col::F64(Float64Builder::new()),
            DataType::Float32 => Col::F32(Float32Builder::new()),
            DataType::Boolean => Col::Bool(BooleanBuilder::new()),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Col::Text(StringBuilder::new())
            }
            _ => Col::Cast(StringBuilder::new()),
        }
    }

    fn push(&mut self, v: &str) {
        let empty = v.is_empty();
        match self {
            Col::I64(b) => b.append_option((!empty).then(|| v.parse().unwrap_or_default())),
            Col::I32(b) => b.append_option((!empty).then(|| v.parse().unwrap_or_default())),
            Col::F64(b) => b.append_option((!empty).then(|| v.parse().unwrap_or_default())),
            Col::F32(b) => b.append_option((!empty).then(|| v.parse().unwrap_or_default())),
            Col::Bool(b) => b.append_option((!empty).then(|| v.eq_ignore_ascii_case("true"))),
            Col::Text(b) => b.append_value(v),
            Col::Cast(b) => b.append_option((!empty).then_some(v)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::I64(b) => Arc::new(b.finish()),
            Col::I32(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::F32(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Text(b) | Col::Cast(b) => Arc::new(b.finish()),
        }
    }
}

/// Decodes records into batches of `n` rows; records that do not fit the schema are rejects.
pub fn read(
    input: Box<dyn Read + Send>,
    path: String,
    delimiter: u8,
    schema: SchemaRef,
    (n, max_bytes): (usize, usize),
) -> impl Iterator<Item = Result<ReadBatch>> + Send {
    let mut r = reader(input, delimiter);
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    };
    // Where each schema column is in this file.
    let index: Vec<Option<usize>> = schema
        .fields()
        .iter()
        .map(|f| header.iter().position(|h| h == f.name()))
        .collect();
    let mut records = r.into_records();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut cols: Vec<Col> = schema
            .fields()
            .iter()
            .map(|f| Col::new(f.data_type()))
            .collect();
        let mut rejects = Vec::new();
        let mut rows = 0;
        let start = records.reader().position().byte();
        // As in NDJSON: a batch goes on until it holds a row or a reject (blank lines use up
        // bytes without making either), so an empty batch always means the end of the file.
        while rows < n
            && ((records.reader().position().byte() - start) < max_bytes as u64
                || (rows == 0 && rejects.is_empty()))
        {
            let Some(rec) = records.next() else {
                done = true;
                break;
            };
            let line = rec
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(0, |p| p.line());
            let rec = match rec {
                Ok(rec) => rec,
                // An I/O error (a connection reset, a corrupt `.gz`, the read limit) ends the
                // stream: the rest of the part is unread, so the part fails — a reject would
                // let it commit with its remaining rows missing.
                Err(e) if e.is_io_error() => {
                    done = true;
                    return Some(Err(anyhow::anyhow!(
                        "{path}: read error at line {}: {e}",
                        e.position().map_or(0, |p| p.line())
                    )));
                }
                Err(e) => {
                    rejects.push(ReadReject {
                        file: path.clone(),
                        line: e.position().map_or(0, |p| p.line()),
                        reason: format!("malformed CSV: {e}"),
                        raw: String::new(),
                    });
                    continue;
                }
            };
            let raw = || {
                rec.iter()
                    .collect::<Vec<_>>()
                    .join(&(delimiter as char).to_string())
            };
            if rec.len() != header.len() {
                rejects.push(ReadReject {
                    file: path.clone(),
                    line,
                    reason: format!("{} fields, the header has {}", rec.len(), header.len()),
                    raw: raw(),
                });
                continue;
            }
            let bad = index.iter().zip(schema.fields()).find_map(|(i, f)| {
                let v = i.and_then(|i| rec.get(i)).unwrap_or("");
                fit::text(v, f.data_type()).map(|why| format!("column `{}`: {why}", f.name()))
            });
            if let Some(reason) = bad {
                rejects.push(ReadReject {
                    file: path.clone(),
                    line,
                    reason,
                    raw: raw(),
                });
                continue;
            }
            for (i, c) in index.iter().zip(cols.iter_mut()) {
                c.push(i.and_then(|i| rec.get(i)).unwrap_or(""));
            }
            rows += 1;
        }
        if rows == 0 && rejects.is_empty() {
            return None;
        }
        // Types CSV cells are not built as (dates, timestamps...) are cast from text, which
        // `fit::text` checked; an unsafe cast makes a disagreement an error, never a null.
        let strict = arrow::compute::CastOptions {
            safe: false,
            ..Default::default()
        };
        let columns: Result<Vec<ArrayRef>, _> = cols
            .iter_mut()
            .zip(schema.fields())
            .map(|(c, f)| {
                let a = c.finish();
                if a.data_type() == f.data_type() {
                    Ok(a)
                } else {
                    arrow::compute::cast_with_options(&a, f.data_type(), &strict)
                }
            })
            .collect();
        let columns = match columns {
            Ok(c) => c,
            Err(e) => return Some(Err(e.into())),
        };
        Some(
            RecordBatch::try_new(schema.clone(), columns)
                .map(|batch| ReadBatch { batch, rejects })
                .map_err(Into::into),
        )
    })
}

/// CSV or TSV (the same format with another delimiter).
pub struct Csv {
    name: &'static str,
    delimiter: u8,
    extensions: &'static [&'static str],
}

pub static CSV: Csv = Csv {
    name: "csv",
    delimiter: b',',
    extensions: &["csv"],
};

pub static TSV: Csv = Csv {
    name: "tsv",
    delimiter: b'\t',
    extensions: &["tsv", "tab"],
};

impl FileFormat for Csv {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }

    fn infer(&self, files: &Files<'_>, path: &str) -> Result<SchemaRef> {
        infer(files.stream(path)?, self.delimiter, files.opts.infer_rows)
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let path = part.files[0].0.clone();
        Ok(Box::new(read(
            files.stream(&path)?,
            path,
            self.delimiter,
            schema,
            (files.batch_rows(), files.opts.batch_bytes),
        )))
    }

    // TSV is read only: Disco writes CSV.
    fn writes(&self) -> bool {
        self.delimiter == b','
    }

    fn flat(&self) -> bool {
        true
    }

    fn writer(&self, sink: Sink, _: &SchemaRef, _: &WriteOptions) -> Result<Box<dyn Encoder>> {
        if !self.writes() {
            bail!("Disco does not write {} files", self.name);
        }
        let w = arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(sink);
        Ok(Box::new(Writer(w)))
    }
}

struct Writer(arrow::csv::Writer<Sink>);

impl Encoder for Writer {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        Ok(self.0.write(batch)?)
    }

    fn finish(self: Box<Self>) -> Result<Sink> {
        Ok(self.0.into_inner())
    }
}
