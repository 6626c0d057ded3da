//! Type fidelity of the readers: every JSON type in every Arrow column type (and every kind of
//! CSV cell in every CSV column type) is either read as exactly the source value, or is a read
//! reject that names the column; and rows in = rows out + rejects, always. Values are compared
//! as the validator sees them (`rows_to_values`), so "read" means "the validator sees the
//! source". Also: HTML that crashed the old hand-written scanner.

use std::path::Path;

use arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use disco::catalog::Catalog;
use disco::pipeline::rows_to_values;
use disco::table::{Input, ReadOptions};
use serde_json::Value;

use crate::support::tree;

const JSON_VALUES: &[&str] = &[
    "null",
    "true",
    "0",
    "-7",
    "5.5",
    "5.0",
    "1e300",
    "18446744073709551615",
    "\"s\"",
    "\"\"",
    "\"2024-01-02\"",
    "[1,2]",
    "{\"a\":1}",
];

fn column_types() -> Vec<DataType> {
    vec![
        DataType::Int64,
        DataType::Int32,
        DataType::Float64,
        DataType::Float32,
        DataType::Boolean,
        DataType::Utf8,
        DataType::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::List(std::sync::Arc::new(Field::new(
            "item",
            DataType::Int64,
            true,
        ))),
        DataType::Struct(Fields::from(vec![Field::new("a", DataType::Int64, true)])),
    ]
}

/// What a read of `file` gave: the rows as the validator sees them, and the reject reasons.
fn read(dir: &Path, file: &str, schema: Vec<(String, DataType)>) -> (Vec<Value>, Vec<String>) {
    let opts = ReadOptions {
        schema,
        ..Default::default()
    };
    let uri = dir.join(file);
    let input = Input::open(&Catalog::default(), uri.to_str().unwrap(), opts)
        .unwrap_or_else(|e| panic!("{file}: {e:#}"));
    let (mut rows, mut rejects) = (Vec::new(), Vec::new());
    for part in &input.parts {
        for rb in input.read_part(part).unwrap() {
            let rb = rb.unwrap_or_else(|e| panic!("{file}: {e:#}"));
            rows.extend(rows_to_values(&rb.batch));
            rejects.extend(rb.rejects.into_iter().map(|r| r.reason));
        }
    }
    (rows, rejects)
}

/// The same JSON number (`5.0` is `5`), string, or structure.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => {
                    // An integer beyond 2^53 must not be compared through a rounding f64.
                    let big = |n: &serde_json::Number| n.is_u64() || n.is_i64();
                    !(big(x) && big(y)) && x.as_f64() == y.as_f64()
                }
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        // A struct reads back with every field; fields missing in the source are null.
        (Value::Object(x), Value::Object(y)) => y
            .iter()
            .all(|(k, v)| x.get(k).map_or(v.is_null(), |s| same(s, v))),
        _ => a == b,
    }
}

/// Timestamps keep their instant, not their spelling: `2024-01-02` is midnight.
fn same_instant(source: &Value, read: &Value) -> bool {
    match (source.as_str(), read.as_str()) {
        (Some(s), Some(r)) => {
            let r = r.trim_end_matches("T00:00:00");
            s == r
        }
        _ => source == read,
    }
}

#[test]
fn every_json_type_in_every_arrow_column_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut read_count = 0;
    for ty in column_types() {
        // Line 1 shapes the inference (then the override forces the type); lines 2.. hold one
        // JSON value each, and an id that must always come through.
        let mut text = String::from("{\"id\":0,\"v\":null}\n");
        for (i, v) in JSON_VALUES.iter().enumerate() {
            text += &format!("{{\"id\":{},\"v\":{v}}}\n", i + 1);
        }
        let file = "values.ndjson";
        std::fs::write(dir.path().join(file), &text).unwrap();
        let (rows, rejects) = read(dir.path(), file, vec![("v".into(), ty.clone())]);
        assert_eq!(
            rows.len() + rejects.len(),
            JSON_VALUES.len() + 1,
            "{ty}: rows in = rows out + rejects; {rejects:?}"
        );
        for r in &rejects {
            assert!(r.contains("column `v`"), "{ty}: {r}");
        }
        for row in &rows {
            let id = row["id"].as_u64().unwrap() as usize;
            if id == 0 {
                continue;
            }
            let source: Value = serde_json::from_str(JSON_VALUES[id - 1]).unwrap();
            let ok = match ty {
                DataType::Timestamp(..) => same_instant(&source, &row["v"]),
                _ => same(&source, &row["v"]),
            };
            assert!(
                ok,
                "{ty}: source {source} read as {} (it must be a reject)",
                row["v"]
            );
            read_count += 1;
        }
    }
    // Not everything is a reject: each type reads at least null and its own kind.
    assert!(read_count >= 2 * column_types().len(), "{read_count}");
}

#[test]
fn ndjson_number_or_bool_in_a_string_column_is_rejected_not_turned_into_text() {
    let dir = tree(&[(
        "t.ndjson",
        b"{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":5}\n{\"id\":3,\"text\":true}\n{\"id\":4,\"text\":\"5\"}\n",
    )]);
    let (rows, rejects) = read(dir.path(), "t.ndjson", Vec::new());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["text"].is_string()));
    assert_eq!(rejects.len(), 2);
    assert!(
        rejects[0].contains("column `text`: 5 is a JSON number, not Utf8"),
        "{rejects:?}"
    );
    assert!(rejects[1].contains("true is a JSON boolean"), "{rejects:?}");
}

#[test]
fn ndjson_float_in_an_integer_column_is_rejected_not_truncated() {
    let dir = tree(&[("t.ndjson", b"{\"n\":1}\n{\"n\":5.5}\n")]);
    // Inference sees a float and widens to Float64 (5.5 is exact there)...
    let (rows, rejects) = read(dir.path(), "t.ndjson", Vec::new());
    assert_eq!((rows.len(), rejects.len()), (2, 0));
    assert_eq!(rows[1]["n"], 5.5);
    // ...a forced Int64 rejects it.
    let (rows, rejects) = read(dir.path(), "t.ndjson", vec![("n".into(), DataType::Int64)]);
    assert_eq!(rows.len(), 1);
    assert!(rejects[0].contains("column `n`: 5.5"), "{rejects:?}");
}

#[test]
fn ndjson_keys_unseen_at_inference_are_rejected_not_dropped() {
    let mut text = String::new();
    for i in 0..1001 {
        text += &format!("{{\"id\":{i},\"s\":{{\"a\":1}}}}\n");
    }
    text += "{\"id\":2000,\"late\":\"x\",\"s\":{\"a\":1}}\n";
    text += "{\"id\":2001,\"s\":{\"a\":1,\"b\":2}}\n";
    let dir = tree(&[("t.ndjson", text.as_bytes())]);
    let (rows, rejects) = read(dir.path(), "t.ndjson", Vec::new());
    assert_eq!(rows.len(), 1001);
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(rejects[0].contains("`late` is not a column"), "{rejects:?}");
    assert!(
        rejects[1].contains("column `s`: `b` is not a field"),
        "{rejects:?}"
    );
}

/// The quick scan skips over text values without decoding them; a line whose text is not valid
/// (a byte that is not UTF-8, a lone surrogate, an unknown escape) is still a reject that says
/// why, its neighbours in the same batch are kept, and valid escapes decode as before.
#[test]
fn ndjson_invalid_text_in_a_string_is_a_reject_and_its_batch_is_kept() {
    let mut text: Vec<u8> = Vec::new();
    text.extend_from_slice(b"{\"id\":1,\"text\":\"tab\\there \\u00e9 \\ud83d\\ude00\"}\n");
    text.extend_from_slice(b"{\"id\":2,\"text\":\"bad \xff byte\"}\n");
    text.extend_from_slice(b"{\"id\":3,\"text\":\"lone \\ud800 surrogate\"}\n");
    text.extend_from_slice(b"{\"id\":4,\"text\":\"unknown \\q escape\"}\n");
    text.extend_from_slice(b"{\"id\":5,\"text\":null}\n");
    let dir = tree(&[("t.ndjson", &text)]);
    let (rows, rejects) = read(dir.path(), "t.ndjson", Vec::new());
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 5], "{rows:?} {rejects:?}");
    assert_eq!(rows[0]["text"], "tab\there é 😀");
    assert!(rows[1]["text"].is_null());
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    assert!(
        rejects.iter().all(|r| r.starts_with("invalid JSON")),
        "{rejects:?}"
    );
}

const CSV_CELLS: &[&str] = &[
    "",
    "true",
    "False",
    "0",
    "-7",
    "007",
    "+3",
    "5.5",
    "5.0",
    "1e300",
    "1e400",
    "NaN",
    "inf",
    "18446744073709551615",
    "9007199254740993",
    "s",
    "2024-01-02",
    "2024-02-30",
    "2024-01-02T03:04:05",
    "\"a,b\"",
];

#[test]
fn every_csv_cell_in_every_csv_column_type() {
    let dir = tempfile::tempdir().unwrap();
    let types = [
        DataType::Int64,
        DataType::Float64,
        DataType::Boolean,
        DataType::Utf8,
        DataType::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, None),
    ];
    for ty in types {
        let mut text = String::from("id,v\n");
        for (i, c) in CSV_CELLS.iter().enumerate() {
            text += &format!("{i},{c}\n");
        }
        std::fs::write(dir.path().join("cells.csv"), &text).unwrap();
        let (rows, rejects) = read(dir.path(), "cells.csv", vec![("v".into(), ty.clone())]);
        assert_eq!(rows.len() + rejects.len(), CSV_CELLS.len(), "{ty}");
        if ty.is_numeric() {
            // A zero-padded code or a plus sign is part of the text: not read as a number.
            for padded in ["007", "+3"] {
                let i = CSV_CELLS.iter().position(|c| *c == padded).unwrap() as u64;
                assert!(
                    rows.iter().all(|r| r["id"].as_u64() != Some(i)),
                    "{ty}: `{padded}` must be a reject"
                );
            }
        }
        for r in &rejects {
            assert!(r.contains("column `v`"), "{ty}: {r}");
        }
        for row in &rows {
            let cell = CSV_CELLS[row["id"].as_u64().unwrap() as usize].trim_matches('"');
            let v = &row["v"];
            let ok = match (&ty, v) {
                (_, Value::Null) => cell.is_empty(),
                (DataType::Utf8, Value::String(s)) => s == cell,
                (DataType::Int64, Value::Number(n)) => cell.parse::<i64>().ok() == n.as_i64(),
                (DataType::Float64, Value::Number(n)) => {
                    cell.parse::<f64>().ok() == n.as_f64()
                        && (cell.contains(['.', 'e'])
                            || cell
                                .parse::<i128>()
                                .ok()
                                .is_some_and(|i| n.as_f64().is_some_and(|f| f as i128 == i)))
                }
                (DataType::Boolean, Value::Bool(b)) => cell.eq_ignore_ascii_case(&b.to_string()),
                (DataType::Date32, Value::String(s)) => s == cell,
                (DataType::Timestamp(..), Value::String(s)) => {
                    s == cell || s.trim_end_matches("T00:00:00") == cell
                }
                _ => false,
            };
            assert!(ok, "{ty}: cell `{cell}` read as {v} (it must be a reject)");
        }
    }
}

#[test]
fn csv_zero_padded_codes_stay_text() {
    let dir = tree(&[("zips.csv", b"zip,n\n02134,1\n10001,2\n00501,3\n")]);
    let (rows, rejects) = read(dir.path(), "zips.csv", Vec::new());
    assert!(rejects.is_empty());
    let zips: Vec<&str> = rows.iter().map(|r| r["zip"].as_str().unwrap()).collect();
    assert_eq!(zips, ["02134", "10001", "00501"]);
    assert!(rows[0]["n"].is_i64());
}

#[test]
fn csv_unparsable_date_is_a_reject_not_a_null() {
    let dir = tree(&[("d.csv", b"d\n2024-01-02\nyesterday\n2024-13-01\n\n")]);
    let (rows, rejects) = read(dir.path(), "d.csv", vec![("d".into(), DataType::Date32)]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["d"], "2024-01-02");
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(rejects.iter().all(|r| r.contains("column `d`")));
}

#[test]
fn html_stray_ampersand_before_multibyte_text_does_not_panic() {
    // `disco read x.html` on this page panicked (the old scanner sliced entities by bytes).
    // Read through `Input` (what `disco read` calls), on a real file.
    let dir = tree(&[("x.html", "<p>&東京東京東京東京東京</p>".as_bytes())]);
    let (rows, rejects) = read(dir.path(), "x.html", Vec::new());
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(rows[0]["text"], "&東京東京東京東京東京");
}

#[test]
fn html_malformed_pages_read_as_a_browser_would() {
    let pages: &[(&str, &str, &str)] = &[
        ("unclosed.html", "<div><p>a<p>b<li>c", "a\nb\nc"),
        ("script.html", "<p>x</p><script>if (a<b) {", "x"),
        (
            "amp.html",
            "<p>A & B &amp C &#x110000; &#65;</p>",
            "A & B & C \u{FFFD} A",
        ),
        ("cdata.html", "<p>a<![CDATA[hidden]]>b</p>", "ab"),
        ("comments.html", "<p>a<!-- <!-- x --> b<!--", "a b"),
    ];
    let files: Vec<(&str, &[u8])> = pages.iter().map(|(f, h, _)| (*f, h.as_bytes())).collect();
    let dir = tree(&files);
    for (file, _, want) in pages {
        let (rows, rejects) = read(dir.path(), file, Vec::new());
        assert!(rejects.is_empty(), "{file}: {rejects:?}");
        assert_eq!(rows[0]["text"], *want, "{file}");
    }
}

fn parquet_file(path: &Path, column: arrow::array::ArrayRef) {
    let batch = arrow::record_batch::RecordBatch::try_from_iter([("x", column)]).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_part_that_overflows_the_first_parts_type_fails_naming_file_and_column() {
    use arrow::array::{Float32Array, Float64Array, Int32Array, Int64Array};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, arrow::array::ArrayRef, arrow::array::ArrayRef)> = vec![
        // A safe cast made 5e9 a null in an Int32 column.
        (
            "ints",
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(Int64Array::from(vec![5_000_000_000])),
        ),
        // No cast error at all: 0.1 as f32 is another number.
        (
            "floats",
            Arc::new(Float32Array::from(vec![1.5])),
            Arc::new(Float64Array::from(vec![0.1])),
        ),
    ];
    for (name, first, second) in cases {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        parquet_file(&sub.join("a.parquet"), first);
        parquet_file(&sub.join("b.parquet"), second);
        let input = Input::open(
            &Catalog::default(),
            sub.join("*.parquet").to_str().unwrap(),
            ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(input.parts.len(), 2);
        let first: Vec<_> = input.read_part(&input.parts[0]).unwrap().collect();
        assert!(first.iter().all(Result::is_ok), "{name}");
        let err = input
            .read_part(&input.parts[1])
            .unwrap()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{name}: the second part must fail"));
        let msg = format!("{err:#}");
        assert!(
            msg.contains("b.parquet") && msg.contains("column `x`"),
            "{msg}"
        );
    }
    // Values that fit still conform (Int64 1 into Int32).
    let sub = dir.path().join("fits");
    std::fs::create_dir(&sub).unwrap();
    parquet_file(&sub.join("a.parquet"), Arc::new(Int32Array::from(vec![1])));
    parquet_file(&sub.join("b.parquet"), Arc::new(Int64Array::from(vec![2])));
    let (rows, rejects) = read(&sub, "*.parquet", Vec::new());
    assert!(rejects.is_empty());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["x"], 2);
}

/// Reads every part of `file` with a tiny byte budget per batch.
fn read_small_batches(dir: &Path, file: &str) -> (usize, usize) {
    let opts = ReadOptions {
        batch_bytes: 1,
        ..Default::default()
    };
    let uri = dir.join(file);
    let input = Input::open(&Catalog::default(), uri.to_str().unwrap(), opts).unwrap();
    let (mut rows, mut rejects) = (0, 0);
    for part in &input.parts {
        for rb in input.read_part(part).unwrap() {
            let rb = rb.unwrap();
            rows += rb.batch.num_rows();
            rejects += rb.rejects.len();
        }
    }
    (rows, rejects)
}

/// Regression (found by the property tests): blank lines used up a batch's byte budget
/// without making a row, the empty batch ended the part, and the rest of the file was
/// dropped without a trace.
#[test]
fn blank_lines_past_the_batch_budget_do_not_end_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.ndjson"),
        "{\"a\":1}\n\r\n\n  \n{\"a\":2}\n\n{\"a\":3}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("t.csv"), "a\n1\n\n\n\n2\n\n3\n").unwrap();
    assert_eq!(read_small_batches(dir.path(), "t.ndjson"), (3, 0));
    assert_eq!(read_small_batches(dir.path(), "t.csv"), (3, 0));
}

/// Regression (found by the property tests): nested values of mixed shapes made Arrow's
/// schema inference fail, so the whole file could not be opened. Fields are now inferred one
/// by one; a value that does not fit the field's type is a read reject that says where.
#[test]
fn ndjson_nested_values_of_mixed_shapes_open_and_misfits_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.ndjson"),
        "{\"id\":1,\"ok\":{\"c\":false}}\n{\"id\":2,\"ok\":{\"c\":{}}}\n{\"id\":3,\"l\":[false,[]]}\n",
    )
    .unwrap();
    let (rows, rejects) = read(dir.path(), "t.ndjson", Vec::new());
    assert_eq!(rows.len() + rejects.len(), 3, "{rows:?} {rejects:?}");
    assert_eq!(rows[0]["id"], 1);
    assert!(
        rejects.iter().any(|r| r.contains("column `ok`")),
        "{rejects:?}"
    );
}

/// A field null in every sampled row (the first 1000) used to be typed Null, so every later
/// value of it was a reject. Inference now reads on (bounded) to type such fields, and a field
/// first named in those rows joins the schema too.
#[test]
fn ndjson_a_field_null_in_the_whole_sample_is_typed_from_later_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..1500 {
        if i < 1200 {
            text += &format!("{{\"id\":{i},\"x\":null}}\n");
        } else {
            text += &format!("{{\"id\":{i},\"x\":{i},\"late\":\"s{i}\"}}\n");
        }
    }
    std::fs::write(dir.path().join("sparse.ndjson"), text).unwrap();
    let (rows, rejects) = read(dir.path(), "sparse.ndjson", Vec::new());
    assert!(rejects.is_empty(), "{:?}", &rejects[..rejects.len().min(3)]);
    assert_eq!(rows.len(), 1500);
    assert_eq!(rows[1300]["x"], 1300);
    assert_eq!(rows[1300]["late"], "s1300");
    assert_eq!(rows[5]["x"], Value::Null);
}

/// Review finding: rejected lines did not count toward a `lines` batch, so a binary file read
/// as lines collected every line's reject into one batch (memory, and Arrow's 2 GiB string
/// offsets). Batches now hold at most `batch_size` rows and rejects together.
#[test]
fn lines_batches_are_bounded_when_every_line_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let bad: Vec<u8> = (0..5000).flat_map(|_| b"\xff\xfe\xfd\n".to_vec()).collect();
    let mut bytes = b"ok\n".to_vec();
    bytes.extend(bad);
    std::fs::write(dir.path().join("bad.txt"), bytes).unwrap();
    let opts = ReadOptions {
        format: Some(disco::table::InputFormat::parse("lines").unwrap()),
        batch_size: 100,
        ..Default::default()
    };
    let uri = dir.path().join("bad.txt");
    let input = Input::open(&Catalog::default(), uri.to_str().unwrap(), opts).unwrap();
    let (mut rows, mut rejects, mut batches) = (0, 0, 0);
    for part in &input.parts {
        for rb in input.read_part(part).unwrap() {
            let rb = rb.unwrap();
            assert!(rb.batch.num_rows() + rb.rejects.len() <= 100);
            rows += rb.batch.num_rows();
            rejects += rb.rejects.len();
            batches += 1;
        }
    }
    assert_eq!(
        (rows + rejects, batches > 1),
        (5001, true),
        "{rows} {rejects}"
    );
}
