//! Arrow rows as JSON values: what validators check, and how rejected rows are kept.
//!
//! A [`RowReader`] looks at a batch's columns once (downcasts, display forms) and then writes
//! any row into a JSON value, reusing what that value already holds: a string is overwritten
//! in its own allocation, an array keeps its items, an object its keys. So a validator that
//! keeps one value per thread allocates per thread, not per row (the conversion, not the
//! schema, was most of validation's time).

use std::ops::Range;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type};
use arrow::datatypes::{Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// Every row of `batch` as a JSON object (column name → value), nulls kept as `null`.
pub fn rows_to_values(batch: &RecordBatch) -> Vec<Value> {
    let reader = RowReader::new(batch);
    (0..batch.num_rows())
        .map(|i| {
            let mut row = Value::Null;
            reader.fill(&mut row, i);
            row
        })
        .collect()
}

/// One row as a JSON text (for the rejects table).
pub fn row_json(batch: &RecordBatch, row: usize) -> String {
    if row >= batch.num_rows() {
        return String::new();
    }
    // A one-row slice, so that display forms are made for this row only.
    let one = batch.slice(row, 1);
    let mut v = Value::Null;
    RowReader::new(&one).fill(&mut v, 0);
    v.to_string()
}

/// The rows of one batch, as JSON objects on demand.
pub struct RowReader<'a> {
    row: Fields<'a>,
}

impl<'a> RowReader<'a> {
    pub fn new(batch: &'a RecordBatch) -> RowReader<'a> {
        let names = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str());
        RowReader {
            row: Fields::new(names.zip(batch.columns())),
        }
    }

    /// Writes row `i` into `slot` (an object of every column), reusing what `slot` holds.
    pub fn fill(&self, slot: &mut Value, i: usize) {
        self.row.fill(slot, i);
    }
}

type Scalar<'a> = Box<dyn Fn(usize) -> Value + Send + Sync + 'a>;
type Text<'a> = Box<dyn Fn(usize) -> &'a str + Send + Sync + 'a>;
type Span<'a> = Box<dyn Fn(usize) -> Range<usize> + Send + Sync + 'a>;

/// One array, ready to read a value at a time.
struct Col<'a> {
    array: &'a ArrayRef,
    kind: Kind<'a>,
}

enum Kind<'a> {
    /// Every value is null (the Null type has no validity buffer to ask).
    Null,
    /// Values that own no allocation: booleans and numbers.
    Scalar(Scalar<'a>),
    Text(Text<'a>),
    List {
        span: Span<'a>,
        items: Box<Col<'a>>,
    },
    Object(Fields<'a>),
    /// Dates, timestamps, decimals, binaries...: their display form, made once per batch.
    Shown(Vec<Option<String>>),
}

/// The fields of an object in the order its map keeps them; a name given twice keeps its last
/// column, as inserting them one by one would.
struct Fields<'a> {
    names: Vec<&'a str>,
    cols: Vec<Col<'a>>,
}

impl<'a> Fields<'a> {
    fn new(fields: impl Iterator<Item = (&'a str, &'a ArrayRef)>) -> Fields<'a> {
        let fields: Vec<(&'a str, &'a ArrayRef)> = fields.collect();
        // The map's own order (sorted, or insertion order with serde_json's
        // `preserve_order`), learnt from the map itself.
        let mut probe = Map::new();
        for (k, (name, _)) in fields.iter().enumerate() {
            probe.insert((*name).to_string(), Value::from(k));
        }
        let order: Vec<usize> = probe
            .values()
            .filter_map(Value::as_u64)
            .map(|k| k as usize)
            .collect();
        Fields {
            names: order.iter().map(|&k| fields[k].0).collect(),
            cols: order.iter().map(|&k| Col::new(fields[k].1)).collect(),
        }
    }

    fn fill(&self, slot: &mut Value, i: usize) {
        if let Value::Object(m) = slot {
            if m.len() == self.names.len() && m.keys().zip(&self.names).all(|(k, n)| k == n) {
                for (v, col) in m.values_mut().zip(&self.cols) {
                    col.fill(v, i);
                }
                return;
            }
        }
        let mut m = Map::new();
        for (name, col) in self.names.iter().zip(&self.cols) {
            let mut v = Value::Null;
            col.fill(&mut v, i);
            m.insert((*name).to_string(), v);
        }
        *slot = Value::Object(m);
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

macro_rules! scalar {
    ($a:expr, $t:ty, $f:expr) => {{
        let a = $a.as_primitive::<$t>();
        Kind::Scalar(Box::new(move |i| $f(a.value(i))))
    }};
}

impl<'a> Col<'a> {
    fn new(a: &'a ArrayRef) -> Col<'a> {
        let kind = match a.data_type() {
            DataType::Null => Kind::Null,
            DataType::Boolean => {
                let b = a.as_boolean();
                Kind::Scalar(Box::new(move |i| Value::Bool(b.value(i))))
            }
            DataType::Int8 => scalar!(a, Int8Type, Value::from),
            DataType::Int16 => scalar!(a, Int16Type, Value::from),
            DataType::Int32 => scalar!(a, Int32Type, Value::from),
            DataType::Int64 => scalar!(a, Int64Type, Value::from),
            DataType::UInt8 => scalar!(a, UInt8Type, Value::from),
            DataType::UInt16 => scalar!(a, UInt16Type, Value::from),
            DataType::UInt32 => scalar!(a, UInt32Type, Value::from),
            DataType::UInt64 => scalar!(a, UInt64Type, Value::from),
            // Through the shortest text that reads back as the same f32: `0.1f32` is 0.1, not
            // 0.10000000149011612 (the readers accept into f32 columns what reads back so).
            DataType::Float32 => scalar!(a, Float32Type, |v: f32| float(
                v.to_string().parse().unwrap_or(v as f64)
            )),
            DataType::Float64 => scalar!(a, Float64Type, float),
            DataType::Utf8 => {
                let s = a.as_string::<i32>();
                Kind::Text(Box::new(move |i| s.value(i)))
            }
            DataType::LargeUtf8 => {
                let s = a.as_string::<i64>();
                Kind::Text(Box::new(move |i| s.value(i)))
            }
            DataType::Utf8View => {
                let s = a.as_string_view();
                Kind::Text(Box::new(move |i| s.value(i)))
            }
            DataType::List(_) => {
                let l = a.as_list::<i32>();
                let o = l.value_offsets();
                Kind::List {
                    span: Box::new(move |i| o[i] as usize..o[i + 1] as usize),
                    items: Box::new(Col::new(l.values())),
                }
            }
            DataType::LargeList(_) => {
                let l = a.as_list::<i64>();
                let o = l.value_offsets();
                Kind::List {
                    span: Box::new(move |i| o[i] as usize..o[i + 1] as usize),
                    items: Box::new(Col::new(l.values())),
                }
            }
            DataType::FixedSizeList(_, _) => {
                let l = a.as_fixed_size_list();
                Kind::List {
                    span: Box::new(move |i| {
                        let at = l.value_offset(i) as usize;
                        at..at + l.value_length() as usize
                    }),
                    items: Box::new(Col::new(l.values())),
                }
            }
            DataType::Struct(fields) => {
                let s = a.as_struct();
                let names = fields.iter().map(|f| f.name().as_str());
                Kind::Object(Fields::new(names.zip(s.columns())))
            }
            _ => Kind::Shown(shown(a)),
        };
        Col { array: a, kind }
    }

    fn fill(&self, slot: &mut Value, i: usize) {
        if !matches!(self.kind, Kind::Null) && self.array.is_null(i) {
            *slot = Value::Null;
            return;
        }
        match &self.kind {
            Kind::Null => *slot = Value::Null,
            Kind::Scalar(value) => *slot = value(i),
            Kind::Text(text) => set_str(slot, text(i)),
            Kind::Shown(forms) => match &forms[i] {
                Some(s) => set_str(slot, s),
                None => *slot = Value::Null,
            },
            Kind::List { span, items } => {
                let span = span(i);
                if !slot.is_array() {
                    *slot = Value::Array(Vec::with_capacity(span.len()));
                }
                if let Value::Array(values) = slot {
                    values.truncate(span.len());
                    values.resize(span.len(), Value::Null);
                    for (v, j) in values.iter_mut().zip(span) {
                        items.fill(v, j);
                    }
                }
            }
            Kind::Object(fields) => fields.fill(slot, i),
        }
    }
}

/// A string value, written into the slot's own string when it has one.
fn set_str(slot: &mut Value, s: &str) {
    match slot {
        Value::String(old) => {
            old.clear();
            old.push_str(s);
        }
        _ => *slot = Value::String(s.to_string()),
    }
}

/// The display form of every value of `a` (`None` for nulls, and for all of a type that has
/// no display form).
fn shown(a: &ArrayRef) -> Vec<Option<String>> {
    match ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default()) {
        Ok(fmt) => (0..a.len())
            .map(|i| (!a.is_null(i)).then(|| fmt.value(i).to_string()))
            .collect(),
        Err(_) => vec![None; a.len()],
    }
}
