//! The `lines` format: one row per line (`path`, `line`, `text`), each line decoded on its own
//! by the file's [`LineDecoder`], so one bad line is one reject and the rest still reads.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::format::{FileFormat, Files};
use super::read::{Batches, Part, ReadBatch, ReadReject};
use crate::volume::decode::LineDecoder;

/// Text files, one row per line.
pub struct Lines;

impl FileFormat for Lines {
    fn name(&self) -> &'static str {
        "lines"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["txt", "text", "log"]
    }

    fn infer(&self, _: &Files<'_>, _: &str) -> Result<SchemaRef> {
        Ok(Arc::new(Schema::new(vec![
            Field::new("path", DataType::Utf8, false),
            Field::new("line", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
        ])))
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let path = part.files[0].0.clone();
        let (decoder, stream) = LineDecoder::open(files.stream(&path)?, files.opts.encoding)
            .with_context(|| format!("reading {path}"))?;
        Ok(Box::new(read_lines(
            stream,
            decoder,
            path,
            schema,
            files.batch_rows(),
        )))
    }
}

/// One row per line of `input`, each decoded on its own (see [`LineDecoder`]).
fn read_lines(
    input: Box<dyn std::io::Read + Send>,
    decoder: LineDecoder,
    path: String,
    schema: SchemaRef,
    n: usize,
) -> impl Iterator<Item = Result<ReadBatch>> + Send {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::with_capacity(256 * 1024, input)
        .split(b'\n')
        .enumerate();
    let mut done = false;
    let mut first = true;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let (mut numbers, mut texts, mut rejects) = (Vec::new(), Vec::new(), Vec::new());
        // Rejected lines count toward the batch too, so a binary file read as lines makes
        // batches of bounded size, not one batch of every line's reject.
        while numbers.len() + rejects.len() < n {
            let Some((i, line)) = lines.next() else {
                done = true;
                break;
            };
            let reject = |reason: String, raw: &[u8]| ReadReject {
                file: path.clone(),
                line: i as u64 + 1,
                reason,
                raw: String::from_utf8_lossy(raw).into_owned(),
            };
            let line = match line {
                Ok(l) => l,
                // The rest of the part is unread: the part fails (see csv.rs).
                Err(e) => {
                    done = true;
                    return Some(Err(anyhow!("{path}: read error at line {}: {e}", i + 1)));
                }
            };
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            match decoder.line(line) {
                Ok(t) => {
                    numbers.push(i as i64 + 1);
                    texts.push(t.into_owned());
                }
                Err(e) => rejects.push(reject(e.to_string(), line)),
            }
        }
        if numbers.is_empty() && rejects.is_empty() && !first {
            return None;
        }
        first = false;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![path.as_str(); numbers.len()])),
            Arc::new(Int64Array::from(numbers)),
            Arc::new(StringArray::from(texts)),
        ];
        Some(
            RecordBatch::try_new(schema.clone(), cols)
                .map(|batch| ReadBatch { batch, rejects })
                .map_err(Into::into),
        )
    })
}
