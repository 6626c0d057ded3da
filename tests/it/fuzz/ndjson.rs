//! The NDJSON reader on generated lines (objects whose fields meet values of every JSON
//! type, other JSON values, garbage, blank lines, CRLF, a BOM) and on arbitrary bytes, through
//! `Input::open` and `read_part`: no panic, no hang, no part error, and every non-blank line
//! a row or a reject on its own line number.

use disco::table::InputFormat;
use proptest::prelude::*;

use super::{assert_reasons, knobs, noisy_bytes, read_file, Knobs};

/// A JSON value; with `nested`, arrays and objects of any values (so nested fields and
/// array items of different types meet too), else scalars and arrays or objects of scalars.
fn json_value(nested: bool) -> BoxedStrategy<serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|i| json!(i)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        "[a-z0-9 \"\\\\\t\u{7f}é東😀]{0,10}".prop_map(Value::String),
    ]
    .boxed();
    let containers = |items: BoxedStrategy<Value>| {
        prop_oneof![
            prop::collection::vec(items.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]", items, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    };
    if nested {
        leaf.prop_recursive(3, 16, 4, containers).boxed()
    } else {
        prop_oneof![4 => leaf.clone(), 1 => containers(leaf)].boxed()
    }
}

/// One NDJSON line (without its end): objects over a few shared keys (so values of every
/// type meet in one column), other JSON values, garbage and blank lines.
fn ndjson_line(nested: bool) -> impl Strategy<Value = Vec<u8>> {
    let keys = prop::sample::select(vec!["id", "text", "score", "ok", "tags", "meta", "é"]);
    let object = prop::collection::vec((keys, json_value(nested)), 0..6).prop_map(|fields| {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k)))
            .collect();
        format!("{{{}}}", body.join(",")).into_bytes()
    });
    let garbage = prop::collection::vec(
        any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b }),
        0..30,
    );
    prop_oneof![
        6 => object,
        1 => json_value(nested).prop_map(|v| v.to_string().into_bytes()),
        1 => garbage,
        1 => prop::sample::select(vec!["", " ", "\t \r", "{", "{\"id\":", "{}", "[]", "\u{feff}{}"])
            .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// A file of generated lines, each ended by LF or CRLF (the last one maybe not).
fn ndjson_file(nested: bool) -> impl Strategy<Value = Vec<u8>> {
    let end = prop::sample::select(vec!["\n", "\r\n"]);
    (
        prop::collection::vec((ndjson_line(nested), end), 0..40),
        any::<bool>(),
    )
        .prop_map(|(lines, final_end)| {
            let mut bytes = Vec::new();
            for (i, (line, end)) in lines.iter().enumerate() {
                bytes.extend_from_slice(line);
                if i + 1 < lines.len() || final_end {
                    bytes.extend_from_slice(end.as_bytes());
                }
            }
            bytes
        })
}

/// Non-blank lines: what the reader must account for (a line of ASCII whitespace is blank).
fn ndjson_records(bytes: &[u8]) -> Vec<u64> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            !l.iter().all(u8::is_ascii_whitespace)
        })
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

fn check_ndjson(bytes: Vec<u8>, k: Knobs) -> Result<(), TestCaseError> {
    let lines = ndjson_records(&bytes);
    let out = read_file("n.ndjson", bytes, InputFormat::parse("ndjson").unwrap(), k)
        .map_err(TestCaseError::fail)?;
    assert_reasons(&out.rejects);
    prop_assert_eq!(
        out.rows + out.rejects.len(),
        lines.len(),
        "{:?}",
        out.rejects
    );
    let mut seen = std::collections::HashSet::new();
    for r in &out.rejects {
        prop_assert!(
            lines.contains(&r.line),
            "reject on a blank or absent line: {:?}",
            r
        );
        prop_assert!(seen.insert(r.line), "two rejects for line {}", r.line);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn fuzz_ndjson_lines_are_out_or_rejected(bytes in ndjson_file(false), k in knobs(false)) {
        check_ndjson(bytes, k)?;
    }

    #[test]
    fn fuzz_ndjson_nested_values_are_out_or_rejected(bytes in ndjson_file(true), k in knobs(false)) {
        check_ndjson(bytes, k)?;
    }

    #[test]
    fn fuzz_ndjson_small_byte_batches_keep_every_line(bytes in ndjson_file(false), k in knobs(true)) {
        check_ndjson(bytes, k)?;
    }

    #[test]
    fn fuzz_ndjson_arbitrary_bytes_never_panic_and_balance(bytes in noisy_bytes(2000), k in knobs(false)) {
        check_ndjson(bytes, k)?;
    }
}
