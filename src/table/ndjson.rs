//! NDJSON: one JSON object a line. Schema inference by majority per top-level field (a number
//! column with a stray string stays numeric; the stray row is rejected), and streaming decoding
//! through arrow-json; a line that does not parse or fit is rejected with its line number.
//!
//! Fitting is strict both ways (`fit::json`): a number in a string column is a reject just
//! like a string in a number column, and so is a key the schema does not have (the schema comes
//! from the first rows of the first part, so a key first seen later would otherwise be dropped).
//! We reject rather than widen: widening `text` to hold `5` would still turn it into `"5"`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::json::reader::{infer_json_schema_from_iterator, Decoder, ReaderBuilder};
use rayon::prelude::*;
use serde::de::{MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::format::{Encoder, FileFormat, Files};
use super::put::Sink;
use super::read::{Batches, Part, ReadBatch, ReadReject};
use super::write::WriteOptions;
use super::{fit, fit_scan};

fn kind(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A JSON object's members in the order written (a `Value`'s map sorts its keys).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(kv) = m.next_entry::<String, Value>()? {
                    members.push(kv);
                }
                Ok(Ordered(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// Infers a schema from the first `rows` objects.
pub fn infer(input: Box<dyn Read + Send>, rows: usize) -> Result<SchemaRef> {
    let mut lines = BufReader::new(input)
        .lines()
        .map_while(|l| l.ok())
        .filter(|l| !l.trim().is_empty());
    let head: Vec<String> = lines.by_ref().take(rows).collect();
    // Each sampled line is parsed once (in parallel: inference runs before any row is read),
    // for its keys in order and its value (a repeated key keeps its last value, as when
    // parsed straight into a `Value`).
    let parsed: Vec<Vec<(String, Value)>> = head
        .par_iter()
        .filter_map(|l| serde_json::from_str::<Ordered>(l).ok().map(|o| o.0))
        .collect();
    drop(head);
    let mut order: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut sample: Vec<Value> = Vec::with_capacity(parsed.len());
    for members in parsed {
        for (k, _) in &members {
            if !seen.contains(k) {
                seen.insert(k.clone());
                order.push(k.clone());
            }
        }
        sample.push(Value::Object(members.into_iter().collect()));
    }
    sample.extend(sparse_values(&mut lines, &sample, (&mut order, &mut seen)));
    // The majority kind of each field; minority values do not shape the schema.
    let mut votes: HashMap<String, [usize; 6]> = HashMap::new();
    for row in &sample {
        for (k, v) in row.as_object().into_iter().flatten() {
            votes.entry(k.clone()).or_default()[kind(v) as usize] += 1;
        }
    }
    let majority: HashMap<String, u8> = votes
        .into_iter()
        .map(|(k, c)| {
            let best = (1..6).max_by_key(|&i| c[i]).unwrap_or(0);
            (k, best as u8)
        })
        .collect();
    for row in &mut sample {
        if let Some(obj) = row.as_object_mut() {
            for (k, v) in obj.iter_mut() {
                let m = majority.get(k).copied().unwrap_or(0);
                // Off the majority: the row will be a reject, so it does not vote on the type.
                if kind(v) != 0 && kind(v) != m {
                    *v = Value::Null;
                }
            }
        }
    }
    let schema = match infer_json_schema_from_iterator(sample.iter().map(Ok)) {
        Ok(s) => s,
        // Nested values of mixed shapes (`[false, []]`, `{"c": false}` then `{"c": {}}`) make
        // Arrow's inference fail for the whole file; infer field by field instead.
        Err(_) => Schema::new(
            order
                .iter()
                .map(|k| field_alone(k, &sample))
                .collect::<Vec<_>>(),
        ),
    };
    // Columns in the order the rows first name them (inference sorts them).
    let fields: Vec<arrow::datatypes::FieldRef> = order
        .iter()
        .filter_map(|k| schema.field_with_name(k).ok().map(|f| Arc::new(f.clone())))
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// Lines read past the sample, at most, to type the fields that were null in all of it.
const SPARSE_LINES: usize = 100_000;
/// Values kept per such field.
const SPARSE_VALUES: usize = 100;

/// Values of sparse fields: a field null in every sampled row would be typed Null, and then
/// every later value of it would be a reject. While such fields remain, the reading goes on
/// (bounded) and keeps, for each, its first non-null values as `{field: value}` rows; fields
/// first named in those lines join the schema the same way.
fn sparse_values(
    lines: &mut impl Iterator<Item = String>,
    sample: &[Value],
    (order, seen): (&mut Vec<String>, &mut std::collections::HashSet<String>),
) -> Vec<Value> {
    let typed: std::collections::HashSet<&str> = sample
        .iter()
        .flat_map(|r| r.as_object().into_iter().flatten())
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.as_str())
        .collect();
    let mut pending: HashMap<String, usize> = order
        .iter()
        .filter(|k| !typed.contains(k.as_str()))
        .map(|k| (k.clone(), 0))
        .collect();
    let mut out = Vec::new();
    for line in lines.take(SPARSE_LINES) {
        if pending.is_empty() {
            break;
        }
        let Ok(Value::Object(row)) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        for (k, v) in row {
            if seen.insert(k.clone()) {
                order.push(k.clone());
                pending.insert(k.clone(), 0);
            }
            let Some(n) = pending.get_mut(&k) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            *n += 1;
            if *n >= SPARSE_VALUES {
                pending.remove(&k);
            }
            out.push(Value::Object([(k, v)].into_iter().collect()));
        }
    }
    out
}

/// One field's type from its sampled values: from all of them when they agree, else from the
/// first non-null one (rows whose values do not fit it become read rejects that say why),
/// else text (so every row with a value there is a reject, none is lost).
fn field_alone(key: &str, sample: &[Value]) -> Field {
    let values: Vec<Value> = sample
        .iter()
        .filter_map(|row| row.get(key))
        .filter(|v| !v.is_null())
        .map(|v| serde_json::json!({ key: v }))
        .collect();
    let infer = |rows: &[Value]| {
        infer_json_schema_from_iterator(rows.iter().map(Ok))
            .ok()
            .and_then(|s| s.field_with_name(key).ok().cloned())
    };
    infer(&values)
        .or_else(|| infer(&values[..values.len().min(1)]))
        .unwrap_or_else(|| Field::new(key, DataType::Utf8, true))
}

/// Decodes lines into batches of at most `n` lines (or about `max_bytes` of text).
///
/// A batch's lines are read into one buffer, checked against the columns in parallel, and the
/// lines that surely fit (`fit_scan`, no value built) go to arrow-json's decoder as the text
/// they are. The others are built as values and checked by `fit::json`, which says why a line
/// is a reject; the few of those that fit join the decoder's input re-serialized.
pub fn read(
    input: Box<dyn Read + Send>,
    path: String,
    schema: SchemaRef,
    (n, max_bytes): (usize, usize),
) -> impl Iterator<Item = Result<ReadBatch>> + Send {
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let mut line_no = 0u64;
    let mut done = false;
    let columns: HashMap<String, DataType> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    // The line buffer and the decoder (with its tape) live across batches: allocated anew
    // for each, their batch-sized buffers were mapped, faulted in and unmapped every time
    // (a tenth of a validation's CPU in page faults, perf). A batch that grew them well past
    // a batch's size (a huge line) lets them go, so that they do not keep its memory.
    let size = max_bytes.min(4 << 20) + 4096;
    let mut text: Vec<u8> = Vec::with_capacity(size);
    let mut dec: Option<Decoder> = None;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        text.clear();
        let mut lines: Vec<(u64, Range<usize>)> = Vec::new();
        let mut bytes = 0usize;
        // Blank lines use up the byte budget without making a row: a batch goes on until it
        // holds a line, or the file ends (else an early empty batch would end the part and
        // drop the rest of the file).
        while lines.len() < n && (bytes < max_bytes || lines.is_empty()) {
            let start = text.len();
            match input.read_until(b'\n', &mut text) {
                Ok(0) => {
                    done = true;
                    break;
                }
                Ok(_) => {}
                // An I/O error ends the stream with the rest of the part unread: the part
                // fails (a reject would let it commit with its remaining rows missing).
                Err(e) => {
                    done = true;
                    return Some(Err(anyhow::anyhow!(
                        "{path}: read error at line {}: {e}",
                        line_no + 1
                    )));
                }
            }
            line_no += 1;
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            bytes += text.len() - start + 1;
            if text[start..].last() == Some(&b'\r') {
                text.pop();
            }
            if text[start..].iter().all(u8::is_ascii_whitespace) {
                text.truncate(start);
                continue;
            }
            lines.push((line_no, start..text.len()));
            // Keep lines apart in the buffer: it may go to the decoder whole.
            text.push(b'\n');
        }
        if lines.is_empty() {
            return None;
        }
        let out = batch(&schema, &columns, &path, &text, lines, (n, &mut dec));
        if text.capacity() > 2 * size {
            text = Vec::with_capacity(size);
            dec = None;
        }
        Some(out)
    })
}

/// What the check of one line found.
enum Line {
    /// Surely fits: decoded from its text.
    Fits,
    /// Fits, as a value built and checked by `fit::json`.
    Built(Value),
    Reject(String),
}

fn check(text: &[u8], schema: &SchemaRef, columns: &HashMap<String, DataType>) -> Line {
    if fit_scan::surely_fits(text, schema.fields()) {
        return Line::Fits;
    }
    match serde_json::from_slice::<Value>(text) {
        Ok(v @ Value::Object(_)) => match misfit(&v, columns) {
            None => Line::Built(v),
            Some(why) => Line::Reject(why),
        },
        Ok(_) => Line::Reject("not a JSON object".into()),
        Err(e) => Line::Reject(format!("invalid JSON: {e}")),
    }
}

/// One batch of lines (`text[range]` each) checked and decoded.
fn batch(
    schema: &SchemaRef,
    columns: &HashMap<String, DataType>,
    path: &str,
    text: &[u8],
    lines: Vec<(u64, Range<usize>)>,
    (n, dec): (usize, &mut Option<Decoder>),
) -> Result<ReadBatch> {
    let checked: Vec<Line> = lines
        .par_iter()
        .with_min_len(32)
        .map(|(_, r)| check(&text[r.clone()], schema, columns))
        .collect();
    let all_fit = checked.iter().all(|c| matches!(c, Line::Fits));
    let mut rejects = Vec::new();
    // Lines that fit: their line numbers and the decoder's input.
    let mut rows: Vec<(u64, Range<usize>)> = Vec::with_capacity(lines.len());
    let mut input: Vec<u8> = Vec::new();
    for ((line, r), c) in lines.into_iter().zip(checked) {
        let at = input.len();
        match c {
            Line::Fits if all_fit => {
                rows.push((line, r));
                continue;
            }
            Line::Fits => input.extend_from_slice(&text[r]),
            Line::Built(v) => serde_json::to_writer(&mut input, &v)?,
            Line::Reject(reason) => {
                rejects.push(ReadReject {
                    file: path.to_string(),
                    line,
                    reason,
                    raw: String::from_utf8_lossy(&text[r]).into_owned(),
                });
                continue;
            }
        }
        rows.push((line, at..input.len()));
        input.push(b'\n');
    }
    let input = if all_fit { text } else { &input[..] };
    // A decoder is reused only after a batch it decoded whole; after an error its state is
    // unknown, so the next batch gets a new one.
    let mut d = match dec.take() {
        Some(d) => d,
        None => decoder(schema, n)?,
    };
    match decode_text(&mut d, input) {
        Ok(Some(batch)) if batch.num_rows() == rows.len() => {
            *dec = Some(d);
            Ok(ReadBatch { batch, rejects })
        }
        Ok(None) if rows.is_empty() => Ok(ReadBatch {
            batch: arrow::record_batch::RecordBatch::new_empty(schema.clone()),
            rejects,
        }),
        // A row arrow-json refuses: find it (and say why) row by row, from built values. The
        // quick check skips over text values, so a line it passed may still be invalid JSON
        // inside a string (bad UTF-8, a lone surrogate): a reject, as the full check says.
        _ => {
            let mut values = Vec::with_capacity(rows.len());
            for (line, r) in rows {
                match serde_json::from_slice::<Value>(&input[r.clone()]) {
                    Ok(v) => values.push((line, v)),
                    Err(e) => rejects.push(ReadReject {
                        file: path.to_string(),
                        line,
                        reason: format!("invalid JSON: {e}"),
                        raw: String::from_utf8_lossy(&input[r]).into_owned(),
                    }),
                }
            }
            decode(schema, path, values, rejects)
        }
    }
}

/// Decodes all of `input`, one JSON object a line, into one batch.
fn decode_text(
    d: &mut Decoder,
    mut input: &[u8],
) -> Result<Option<arrow::record_batch::RecordBatch>> {
    while !input.is_empty() {
        let used = d.decode(input)?;
        if used == 0 {
            break;
        }
        input = &input[used..];
    }
    Ok(d.flush()?)
}

/// Why a row does not fit the columns: the first key that is not a column or whose value does
/// not fit its column's type.
fn misfit(row: &Value, columns: &HashMap<String, DataType>) -> Option<String> {
    row.as_object()?
        .iter()
        .find_map(|(k, v)| match columns.get(k) {
            Some(ty) => fit::json(v, ty).map(|why| format!("column `{k}`: {why}")),
            None => Some(format!(
                "`{k}` is not a column (the columns are those of the first rows of the first part)"
            )),
        })
}

/// arrow-json, strict: the second line of defence behind `misfit`, for the types it leaves to
/// arrow (no primitive coercion, unknown struct fields an error).
fn decoder(schema: &SchemaRef, n: usize) -> Result<Decoder> {
    Ok(ReaderBuilder::new(schema.clone())
        .with_batch_size(n.max(1))
        .with_coerce_primitive(false)
        .with_strict_mode(true)
        .build_decoder()?)
}

/// Decodes built rows; when the batch fails, finds the rows that do not fit one by one.
fn decode(
    schema: &SchemaRef,
    path: &str,
    rows: Vec<(u64, Value)>,
    mut rejects: Vec<ReadReject>,
) -> Result<ReadBatch> {
    let values: Vec<&Value> = rows.iter().map(|r| &r.1).collect();
    let mut d = decoder(schema, values.len())?;
    let whole = d.serialize(&values).and_then(|_| d.flush());
    let batch = match whole {
        Ok(Some(b)) => b,
        Ok(None) => arrow::record_batch::RecordBatch::new_empty(schema.clone()),
        Err(_) => {
            let mut good = Vec::new();
            for (line, v) in &rows {
                let mut one = decoder(schema, 1)?;
                match one.serialize(&[v]).and_then(|_| one.flush()) {
                    Ok(_) => good.push(v),
                    Err(e) => rejects.push(ReadReject {
                        file: path.to_string(),
                        line: *line,
                        reason: format!("does not fit the schema: {e}"),
                        raw: v.to_string(),
                    }),
                }
            }
            let mut d = decoder(schema, good.len())?;
            d.serialize(&good)?;
            d.flush()?
                .unwrap_or_else(|| arrow::record_batch::RecordBatch::new_empty(schema.clone()))
        }
    };
    rejects.sort_by_key(|r| r.line);
    Ok(ReadBatch { batch, rejects })
}

/// NDJSON (also called JSON Lines; `.json` files are read as one object a line).
pub struct Ndjson;

impl FileFormat for Ndjson {
    fn name(&self) -> &'static str {
        "ndjson"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["jsonl", "json"]
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["ndjson", "jsonl", "json"]
    }

    fn infer(&self, files: &Files<'_>, path: &str) -> Result<SchemaRef> {
        infer(files.stream(path)?, files.opts.infer_rows)
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches> {
        let path = part.files[0].0.clone();
        Ok(Box::new(read(
            files.stream(&path)?,
            path,
            schema,
            (files.batch_rows(), files.opts.batch_bytes),
        )))
    }

    fn writes(&self) -> bool {
        true
    }

    fn writer(&self, sink: Sink, _: &SchemaRef, _: &WriteOptions) -> Result<Box<dyn Encoder>> {
        Ok(Box::new(Writer(arrow::json::LineDelimitedWriter::new(
            sink,
        ))))
    }
}

struct Writer(arrow::json::LineDelimitedWriter<Sink>);

impl Encoder for Writer {
    fn write(&mut self, batch: &arrow::array::RecordBatch) -> Result<()> {
        Ok(self.0.write(batch)?)
    }

    fn finish(mut self: Box<Self>) -> Result<Sink> {
        self.0.finish()?;
        Ok(self.0.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;

    /// The line buffer and the decoder are kept from batch to batch; a batch the decoder
    /// refuses (a text that is not UTF-8 inside a string, which the quick check skips) is
    /// decoded row by row, and the batches after it decode whole again with a new decoder.
    #[test]
    fn batches_after_a_refused_one_decode_their_own_rows() {
        let mut text: Vec<u8> = Vec::new();
        for id in 1..=7 {
            if id == 4 {
                text.extend_from_slice(b"{\"id\":4,\"text\":\"bad \xff byte\"}\n");
            } else {
                text.extend_from_slice(
                    format!("{{\"id\":{id},\"text\":\"row {id}\"}}\n").as_bytes(),
                );
            }
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("text", DataType::Utf8, true),
        ]));
        let batches: Vec<ReadBatch> = read(
            Box::new(std::io::Cursor::new(text)),
            "t.ndjson".into(),
            schema,
            (2, 1 << 20),
        )
        .collect::<Result<_>>()
        .unwrap();
        let got: Vec<(Vec<i64>, Vec<String>, Vec<u64>)> = batches
            .iter()
            .map(|b| {
                let ids = b
                    .batch
                    .column(0)
                    .as_primitive::<arrow::datatypes::Int64Type>();
                let texts = b.batch.column(1).as_string::<i32>();
                (
                    ids.values().to_vec(),
                    texts.iter().map(|t| t.unwrap().to_string()).collect(),
                    b.rejects.iter().map(|r| r.line).collect(),
                )
            })
            .collect();
        let row = |i: i64| format!("row {i}");
        assert_eq!(
            got,
            [
                (vec![1, 2], vec![row(1), row(2)], vec![]),
                (vec![3], vec![row(3)], vec![4]),
                (vec![5, 6], vec![row(5), row(6)], vec![]),
                (vec![7], vec![row(7)], vec![]),
            ]
        );
        assert!(batches[1].rejects[0].reason.starts_with("invalid JSON"));
    }

    /// Inference from lines parsed once types nested, escaped and deep values, with the
    /// columns in the order the rows first name them.
    #[test]
    fn inference_types_nested_escaped_and_deep_values_in_first_named_order() {
        let deep = format!("{}1{}", "[".repeat(20), "]".repeat(20));
        let text = format!(
            "{{\"z\":\"a \\\"quoted\\\" \\u00e9\",\"b\":{{\"c\":[1,2],\"d\":\"s\",\"e\":[[\"x\"]]}},\"n\":null}}\n\
             {{\"deep\":{deep},\"z\":\"\\ud83d\\ude00\",\"f\":1.5,\"t\":true}}\n"
        );
        let schema = infer(Box::new(std::io::Cursor::new(text.into_bytes())), 1000).unwrap();
        let got: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect();
        let mut deep_type = "Int64".to_string();
        for _ in 0..20 {
            deep_type = format!("List({deep_type})");
        }
        assert_eq!(
            got,
            [
                "z: Utf8".to_string(),
                "b: Struct(\"c\": List(Int64), \"d\": Utf8, \"e\": List(List(Utf8)))".into(),
                "n: Null".into(),
                format!("deep: {deep_type}"),
                "f: Float64".into(),
                "t: Boolean".into(),
            ]
        );
    }
}
