//! The quick form of [`super::fit::json`] for JSON text: whether a line is an object whose
//! every key is a column and every value fits its column, read without building the value
//! (strings are looked at where they lie, numbers as they are parsed, nothing is allocated).
//!
//! It answers only "surely fits": a line that does not parse, is not an object, repeats a key,
//! has a value that does not fit, or holds a type this check leaves to the full rule (`f32`,
//! dates, timestamps, decimals...) is "not sure", and the reader then builds the value and
//! asks `fit::json`, which says why. So the rows read, the rejects and their reasons are the
//! same as with `fit::json` alone; this only skips building values for the rows that fit.
//!
//! Text values are skipped over as raw JSON, not decoded: "fits" for a string means "a string
//! the decoder behind this check will validate". A line whose text is invalid (bad UTF-8, a
//! lone surrogate) is refused by that decoder, and the reader then judges it by the full rule.

use std::fmt;

use arrow::datatypes::{DataType, Fields};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Whether `line` surely fits a row of `columns` (see the module comment).
pub fn surely_fits(line: &[u8], columns: &Fields) -> bool {
    let mut de = serde_json::Deserializer::from_slice(line);
    Object(columns).deserialize(&mut de).is_ok() && de.end().is_ok()
}

/// "Not sure": the value is left to the full rule.
#[derive(Debug)]
struct Unsure;

impl fmt::Display for Unsure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the full rule")
    }
}

fn unsure<E: serde::de::Error>() -> E {
    E::custom(Unsure)
}

/// An object of `Fields`, each key at most once.
struct Object<'a>(&'a Fields);

impl<'de> DeserializeSeed<'de> for Object<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Object<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        // Keys seen, by field; a repeated key is left to the full rule (a built object keeps
        // the last value, a decoder might not).
        if self.0.len() > 128 {
            return Err(unsure());
        }
        let mut seen = 0u128;
        while let Some(k) = m.next_key_seed(Key(self.0))? {
            if seen & (1 << k) != 0 {
                return Err(unsure());
            }
            seen |= 1 << k;
            m.next_value_seed(Fits(self.0[k].data_type()))?;
        }
        Ok(())
    }
}

/// A key that names a field (the first field of that name, as `fit::json` looks it up).
struct Key<'a>(&'a Fields);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = usize;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<usize, E> {
        self.0.iter().position(|f| f.name() == k).ok_or_else(unsure)
    }
}

/// A value that fits a column of this type.
struct Fits<'a>(&'a DataType);

impl<'de> DeserializeSeed<'de> for Fits<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.is_string() {
            // A text column's value is skipped over as raw JSON, not decoded: unescaping it
            // into a scratch buffer and checking its UTF-8 was most of this scan's time on
            // rows of code (perf). The decoder behind this check validates the text
            // (UTF-8, escapes, surrogates) and a line it refuses is judged by the full rule.
            let raw = <&serde_json::value::RawValue>::deserialize(d)?.get();
            return ok_if(raw.starts_with('"') || raw == "null");
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fits<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value of {}", self.0)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        ok_if(self.0 == &DataType::Boolean)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        match self.0 {
            t if t.is_integer() => ok_if(in_range(v as i128, t)),
            // A double holds it exactly (what `fit::json` asks of a JSON integer).
            DataType::Float64 => ok_if((v as f64) as i128 == v as i128),
            _ => Err(unsure()),
        }
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        match self.0 {
            t if t.is_integer() => ok_if(in_range(v as i128, t)),
            DataType::Float64 => ok_if((v as f64) as i128 == v as i128),
            _ => Err(unsure()),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        match self.0 {
            // `5.0` is the integer 5; `5.5` and `1e300` are left to the full rule (a reject).
            t if t.is_integer() => ok_if(v.fract() == 0.0 && in_range(v as i128, t)),
            DataType::Float64 => ok_if(v.is_finite()),
            _ => Err(unsure()),
        }
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        ok_if(self.0.is_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        let (DataType::List(item) | DataType::LargeList(item)) = self.0 else {
            return Err(unsure());
        };
        while s.next_element_seed(Fits(item.data_type()))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<(), A::Error> {
        match self.0 {
            DataType::Struct(fields) => Object(fields).visit_map(m),
            _ => Err(unsure()),
        }
    }
}

fn ok_if<E: serde::de::Error>(fits: bool) -> Result<(), E> {
    if fits {
        Ok(())
    } else {
        Err(unsure())
    }
}

fn in_range(v: i128, t: &DataType) -> bool {
    let (lo, hi): (i128, i128) = match t {
        DataType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DataType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DataType::UInt8 => (0, u8::MAX.into()),
        DataType::UInt16 => (0, u16::MAX.into()),
        DataType::UInt32 => (0, u32::MAX.into()),
        DataType::UInt64 => (0, u64::MAX.into()),
        _ => return false,
    };
    lo <= v && v <= hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;
    use std::sync::Arc;

    /// The quick check never says "fits" where the full rule says no, on values of every kind
    /// against columns of every kind the readers infer.
    #[test]
    fn surely_fits_only_what_the_full_rule_accepts() {
        let item = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        let types = [
            DataType::Boolean,
            DataType::Int8,
            DataType::Int64,
            DataType::UInt64,
            DataType::Float32,
            DataType::Float64,
            DataType::Utf8,
            DataType::Null,
            item(DataType::Int64),
            item(DataType::Utf8),
            DataType::Struct(vec![Field::new("a", DataType::Int64, true)].into()),
        ];
        let values = [
            "null",
            "true",
            "5",
            "-5",
            "300",
            "5.0",
            "5.5",
            "1e300",
            "-0",
            "1e19",
            "18446744073709551615",
            "9007199254740993",
            "9223372036854775808",
            "0.1",
            "\"x\"",
            "\"5\"",
            "[]",
            "[1,2]",
            "[1,\"x\"]",
            "[null]",
            "{}",
            "{\"a\":1}",
            "{\"a\":\"x\"}",
            "{\"b\":1}",
            "{\"a\":1,\"a\":2}",
        ];
        for t in &types {
            let fields: Fields = vec![Field::new("c", t.clone(), true)].into();
            for v in values {
                let line = format!("{{\"c\":{v}}}");
                let value: serde_json::Value = serde_json::from_str(&line).unwrap();
                let full = super::super::fit::json(&value["c"], t);
                if surely_fits(line.as_bytes(), &fields) {
                    assert_eq!(full, None, "{v} in {t}: quick says fits, full says no");
                }
            }
        }
        let fields: Fields = vec![Field::new("c", DataType::Int64, true)].into();
        for line in ["{\"c\":1}", "{}", " {\"c\": null} "] {
            assert!(surely_fits(line.as_bytes(), &fields), "{line}");
        }
        for line in [
            "{\"c\":1,\"c\":2}",
            "{\"d\":1}",
            "[1]",
            "{\"c\":1} x",
            "{\"c\":1",
        ] {
            assert!(!surely_fits(line.as_bytes(), &fields), "{line}");
        }
    }
}
