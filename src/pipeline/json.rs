//! Arrow rows as JSON values: what validators check, and how rejected rows are kept.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type};
use arrow::datatypes::{Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// Every row of `batch` as a JSON object (column name → value), nulls kept as `null`.
pub fn rows_to_values(batch: &RecordBatch) -> Vec<Value> {
    let columns: Vec<Vec<Value>> = batch.columns().iter().map(values).collect();
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let mut columns: Vec<std::vec::IntoIter<Value>> =
        columns.into_iter().map(Vec::into_iter).collect();
    (0..batch.num_rows())
        .map(|_| {
            let mut row = Map::with_capacity(names.len());
            for (name, col) in names.iter().zip(columns.iter_mut()) {
                row.insert((*name).to_string(), col.next().unwrap_or(Value::Null));
            }
            Value::Object(row)
        })
        .collect()
}

/// One row as a JSON text (for the rejects table).
pub fn row_json(batch: &RecordBatch, row: usize) -> String {
    let one = batch.slice(row, 1);
    rows_to_values(&one)
        .pop()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn float(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

macro_rules! prim {
    ($a:expr, $t:ty, $f:expr) => {
        $a.as_primitive::<$t>()
            .iter()
            .map(|v| v.map($f).unwrap_or(Value::Null))
            .collect()
    };
}

/// The values of one array, one JSON value a row.
pub(crate) fn values(a: &ArrayRef) -> Vec<Value> {
    match a.data_type() {
        DataType::Null => vec![Value::Null; a.len()],
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .map(|v| v.map(Value::Bool).unwrap_or(Value::Null))
            .collect(),
        DataType::Int8 => prim!(a, Int8Type, Value::from),
        DataType::Int16 => prim!(a, Int16Type, Value::from),
        DataType::Int32 => prim!(a, Int32Type, Value::from),
        DataType::Int64 => prim!(a, Int64Type, Value::from),
        DataType::UInt8 => prim!(a, UInt8Type, Value::from),
        DataType::UInt16 => prim!(a, UInt16Type, Value::from),
        DataType::UInt32 => prim!(a, UInt32Type, Value::from),
        DataType::UInt64 => prim!(a, UInt64Type, Value::from),
        // Through the shortest text that reads back as the same f32: `0.1f32` is 0.1, not
        // 0.10000000149011612 (the readers accept into f32 columns what reads back so).
        DataType::Float32 => prim!(a, Float32Type, |v: f32| float(
            v.to_string().parse().unwrap_or(v as f64)
        )),
        DataType::Float64 => prim!(a, Float64Type, float),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => super::text_values(a)
            .into_iter()
            .map(|v| {
                v.map(|s| Value::String(s.to_string()))
                    .unwrap_or(Value::Null)
            })
            .collect(),
        DataType::List(_) => lists(a, a.as_list::<i32>().iter()),
        DataType::LargeList(_) => lists(a, a.as_list::<i64>().iter()),
        DataType::FixedSizeList(_, _) => lists(a, a.as_fixed_size_list().iter()),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let cols: Vec<Vec<Value>> = s.columns().iter().map(values).collect();
            (0..a.len())
                .map(|i| {
                    if s.is_null(i) {
                        return Value::Null;
                    }
                    let mut m = Map::with_capacity(fields.len());
                    for (f, col) in fields.iter().zip(&cols) {
                        m.insert(f.name().clone(), col[i].clone());
                    }
                    Value::Object(m)
                })
                .collect()
        }
        // Dates, timestamps, decimals, binaries...: their display form.
        _ => match ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default()) {
            Ok(fmt) => (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::String(fmt.value(i).to_string())
                    }
                })
                .collect(),
            Err(_) => vec![Value::Null; a.len()],
        },
    }
}

fn lists(a: &ArrayRef, items: impl Iterator<Item = Option<ArrayRef>>) -> Vec<Value> {
    let out: Vec<Value> = items
        .map(|v| match v {
            Some(inner) => Value::Array(values(&inner)),
            None => Value::Null,
        })
        .collect();
    debug_assert_eq!(out.len(), a.len());
    out
}
