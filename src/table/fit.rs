//! Does a value fit a column's type? The one rule of every text reader: a value is read only
//! when the column holds it exactly, so that reading it back (as the validator does) gives the
//! source value; anything else is a read reject that names the column, the value and both
//! types. Nothing is coerced: `5` is not the string `"5"`, `"5"` is not the number `5`, `5.5`
//! is not the integer `5`, and `18446744073709551615` is not the float `1.8446744073709552e19`.
//!
//! Where a type is a reading of text that the user asked for with a schema override (dates,
//! timestamps), the text must parse completely; a timestamp keeps its instant, not its
//! spelling (`2024-01-02` reads back as `2024-01-02T00:00:00`).

use arrow::compute::kernels::cast_utils::string_to_datetime;
use arrow::datatypes::{DataType, TimeUnit};
use arrow_array::timezone::Tz;
use serde_json::{Number, Value};

/// Why a JSON value does not fit `ty`, or `None` when it does. Nested values say where they
/// are (`field `a`: `, `item 2: `).
pub fn json(v: &Value, ty: &DataType) -> Option<String> {
    let no = || Some(format!("{} is {}, not {ty}", show(v), json_kind(v)));
    match (v, ty) {
        (Value::Null, _) => None,
        (Value::Bool(_), DataType::Boolean) => None,
        (Value::Number(n), t) if t.is_integer() => match integer(n) {
            Some(i) if int_range(t).is_some_and(|(lo, hi)| lo <= i && i <= hi) => None,
            Some(_) => Some(format!("{n} is out of the range of {ty}")),
            None => Some(format!("{n} is a JSON number with a fraction, not {ty}")),
        },
        (Value::Number(n), DataType::Float64) => {
            (!f64_exact(n)).then(|| format!("{n} has no exact {ty} value"))
        }
        (Value::Number(n), DataType::Float32) => {
            let ok = f64_exact(n) && n.as_f64().is_some_and(f32_exact);
            (!ok).then(|| format!("{n} has no exact {ty} value"))
        }
        (Value::String(_), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => None,
        (Value::String(s), DataType::Date32 | DataType::Timestamp(..)) => (!cell(s, ty))
            .then(|| format!("{} is a JSON string that does not read as {ty}", show(v))),
        (Value::Array(items), DataType::List(f) | DataType::LargeList(f)) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| json(item, f.data_type()).map(|why| format!("item {i}: {why}"))),
        (Value::Object(m), DataType::Struct(fields)) => {
            m.iter()
                .find_map(|(k, item)| match fields.iter().find(|f| f.name() == k) {
                    Some(f) => json(item, f.data_type()).map(|why| format!("field `{k}`: {why}")),
                    None => Some(format!("`{k}` is not a field of {ty}")),
                })
        }
        (_, DataType::Null) => Some(format!(
            "{} is {}, but the column was null in every row its type was inferred from",
            show(v),
            json_kind(v)
        )),
        // Types no inference makes and no override names (decimals, maps, binaries...):
        // arrow-json decides, strictly (see `ndjson::decoder`).
        (_, t) if !known(t) => None,
        _ => no(),
    }
}

/// Why a text cell (CSV) does not fit `ty`; an empty cell is null and fits every type.
pub fn text(s: &str, ty: &DataType) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    (!cell(s, ty)).then(|| format!("`{}` is not {ty}", clip(s)))
}

/// Whether non-empty text reads as `ty` exactly. A number whose text would not survive the
/// trip (`007`, `+3`) does not fit a number column, whether the column was inferred (a few
/// zero-padded codes among plain numbers) or asked for.
fn cell(s: &str, ty: &DataType) -> bool {
    if ty.is_numeric() && number_loses_text(s) {
        return false;
    }
    match ty {
        DataType::Int64 => s.parse::<i64>().is_ok(),
        DataType::Int32 => s.parse::<i32>().is_ok(),
        DataType::Float64 => float_text(s).is_some(),
        DataType::Float32 => float_text(s).is_some_and(f32_exact),
        DataType::Boolean => matches!(s, "true" | "false" | "True" | "False"),
        DataType::Date32 => date(s),
        DataType::Timestamp(unit, tz) => timestamp(s, *unit, tz.as_deref()),
        _ => true,
    }
}

/// A decimal number written as text, when a float column holds it exactly (no `NaN`, `inf`,
/// overflow to infinity, or integer beyond 2^53 that would round).
pub fn float_text(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let numeric = bytes
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numeric || !bytes.iter().any(u8::is_ascii_digit) {
        return None;
    }
    let x: f64 = s.parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    let integral = !s.contains(['.', 'e', 'E']);
    if integral {
        // `9007199254740993` parses to ...992: an integer must survive the trip.
        let exact = s.parse::<i128>().ok().is_some_and(|i| x as i128 == i);
        return exact.then_some(x);
    }
    Some(x)
}

/// Whether text in a column inferred as a number would lose something when read back: a
/// leading zero (`02134`, a ZIP code) or a plus sign is part of the value, not of the number.
pub fn number_loses_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    s.starts_with('+') || (digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0."))
}

fn known(t: &DataType) -> bool {
    t.is_integer()
        || matches!(
            t,
            DataType::Null
                | DataType::Boolean
                | DataType::Float32
                | DataType::Float64
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Date32
                | DataType::Timestamp(..)
                | DataType::List(_)
                | DataType::LargeList(_)
                | DataType::Struct(_)
        )
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// A value for a message: long ones are cut (on a character boundary).
fn show(v: &Value) -> String {
    clip(&v.to_string())
}

fn clip(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The integer a JSON number is, if it is one (`5.0` is `5`; `5.5` and `1e300` are not).
fn integer(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i as i128);
    }
    if let Some(u) = n.as_u64() {
        return Some(u as i128);
    }
    let x = n.as_f64()?;
    // `as` saturates, so `1e300` is out of every range rather than a fraction.
    (x.fract() == 0.0).then_some(x as i128)
}

fn int_range(t: &DataType) -> Option<(i128, i128)> {
    Some(match t {
        DataType::Int8 => (i8::MIN as i128, i8::MAX as i128),
        DataType::Int16 => (i16::MIN as i128, i16::MAX as i128),
        DataType::Int32 => (i32::MIN as i128, i32::MAX as i128),
        DataType::Int64 => (i64::MIN as i128, i64::MAX as i128),
        DataType::UInt8 => (0, u8::MAX as i128),
        DataType::UInt16 => (0, u16::MAX as i128),
        DataType::UInt32 => (0, u32::MAX as i128),
        DataType::UInt64 => (0, u64::MAX as i128),
        _ => return None,
    })
}

/// A JSON integer a double holds exactly (every JSON float already is one).
fn f64_exact(n: &Number) -> bool {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => (i as f64) as i128 == i as i128,
        (_, Some(u), _) => (u as f64) as i128 == u as i128,
        (_, _, Some(x)) => x.is_finite(),
        _ => false,
    }
}

/// A float whose nearest `f32` reads back as the same number (`0.1` and `5.5` do; `1e300`
/// and `0.1234567891` do not). The validator reads `f32`s back through their shortest form.
fn f32_exact(x: f64) -> bool {
    let y = x as f32;
    y.is_finite() && y.to_string().parse::<f64>().ok() == Some(x)
}

/// `YYYY-MM-DD` exactly (what a date column reads back as), and a real day.
fn date(s: &str) -> bool {
    use arrow::compute::kernels::cast_utils::Parser;
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && arrow::datatypes::Date32Type::parse(s).is_some()
}

/// The text parses as a timestamp (as arrow-json and the CSV cast read it) that fits the unit.
fn timestamp(s: &str, unit: TimeUnit, tz: Option<&str>) -> bool {
    let Ok(tz) = tz.unwrap_or("+00:00").parse::<Tz>() else {
        // A zone arrow cannot name: the decoder reports it.
        return true;
    };
    match string_to_datetime(&tz, s) {
        Ok(t) => unit != TimeUnit::Nanosecond || t.timestamp_nanos_opt().is_some(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_and_plus_signs_are_text() {
        for s in ["02134", "+3", "-012", "00.5", "+1.5"] {
            assert!(number_loses_text(s), "{s}");
        }
        for s in ["0", "-0", "0.5", "-0.5", "10", "1e5"] {
            assert!(!number_loses_text(s), "{s}");
        }
    }

    #[test]
    fn float_text_refuses_what_a_double_would_change() {
        for s in [
            "NaN",
            "inf",
            "-infinity",
            "1e400",
            "9007199254740993",
            "1-2",
            "-",
            "",
        ] {
            assert_eq!(float_text(s), None, "{s}");
        }
        assert_eq!(float_text("9007199254740992"), Some(9007199254740992.0));
        assert_eq!(float_text("-5.5"), Some(-5.5));
    }

    #[test]
    fn reasons_name_the_value_and_both_types() {
        let why = |v: &str, t: DataType| json(&serde_json::from_str(v).unwrap(), &t);
        assert_eq!(
            why("5", DataType::Utf8).unwrap(),
            "5 is a JSON number, not Utf8"
        );
        assert!(why("5.5", DataType::Int64).unwrap().contains("fraction"));
        assert!(why("1e300", DataType::Int64)
            .unwrap()
            .contains("out of the range"));
        assert!(why("0.1", DataType::Float32).is_none());
        assert!(why("0.1234567891", DataType::Float32).is_some());
        let list = DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new(
            "item",
            DataType::Int64,
            true,
        )));
        assert!(why("[1,\"x\"]", list).unwrap().starts_with("item 1: "));
        assert_eq!(
            text("2024-02-30", &DataType::Date32).unwrap(),
            "`2024-02-30` is not Date32"
        );
        assert!(text("2024-1-2", &DataType::Date32).is_some());
        assert!(text("", &DataType::Date32).is_none());
    }
}
