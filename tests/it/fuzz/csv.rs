//! The CSV and TSV readers on generated files (quotes, delimiters and line breaks in cells,
//! CRLF and CR line ends, a BOM, blank lines, ragged rows, type mismatches, bytes that are
//! not UTF-8) and on arbitrary bytes, through `Input::open` and `read_part`: no panic, no
//! hang, no part error, and rows in = rows out + rejects.

use disco::table::InputFormat;
use proptest::prelude::*;

use super::{assert_reasons, knobs, noisy_bytes, read_file};

/// A CSV cell as written: its bytes, and whether to quote it when it need not be.
fn cell() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let text = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "true", "false", "True", "FALSE", "", "NaN", "-0", "1e3"
        ])
        .prop_map(str::to_string),
        "[a-z0-9 ,;\t\"'\r\n.\\-é東😀]{0,12}",
    ];
    let bytes = prop_oneof![
        9 => text.prop_map(String::into_bytes),
        1 => prop::sample::select(vec![&b"\xff"[..], b"caf\xe9", b"\xc3"]).prop_map(<[u8]>::to_vec),
    ];
    (bytes, any::<bool>())
}

/// Appends one cell, quoted when it holds a delimiter, a quote or a line break (or when
/// `quote` asks); an unquoted cell never starts with a quote.
fn push_cell(out: &mut Vec<u8>, (bytes, quote): &(Vec<u8>, bool), delimiter: u8) {
    let needs = bytes
        .iter()
        .any(|&b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if needs || *quote {
        out.push(b'"');
        for &b in bytes {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(bytes);
    }
}

/// A generated CSV file and the number of records in it (blank lines are not records).
#[derive(Debug, Clone)]
struct CsvFile {
    bytes: Vec<u8>,
    records: usize,
}

fn csv_file(delimiter: u8) -> impl Strategy<Value = CsvFile> {
    let columns = 1usize..6;
    columns
        .prop_flat_map(move |n| {
            // Mostly well-formed rows; one in six has a different number of fields.
            let width = prop_oneof![5 => Just(n), 1 => 1..n + 3];
            let record = width.prop_flat_map(|w| prop::collection::vec(cell(), w));
            let line_end = prop::sample::select(vec!["\n", "\r\n", "\r"]);
            (
                Just(n),
                any::<bool>(),
                prop::collection::vec((record, line_end, 0usize..2), 0..40),
                any::<bool>(),
            )
        })
        .prop_map(move |(n, bom, rows, final_newline)| {
            let mut bytes = Vec::new();
            if bom {
                bytes.extend_from_slice("\u{feff}".as_bytes());
            }
            let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
            bytes.extend_from_slice(header.join(&(delimiter as char).to_string()).as_bytes());
            let mut records = 0;
            for (record, end, blank_lines) in &rows {
                bytes.extend_from_slice(end.as_bytes());
                for _ in 0..*blank_lines {
                    bytes.extend_from_slice(end.as_bytes());
                }
                // One empty unquoted field is an empty line: CSV skips it.
                let blank = record.len() == 1 && record[0].0.is_empty() && !record[0].1;
                records += usize::from(!blank);
                for (i, c) in record.iter().enumerate() {
                    if i > 0 {
                        bytes.push(delimiter);
                    }
                    push_cell(&mut bytes, c, delimiter);
                }
            }
            if final_newline {
                bytes.push(b'\n');
            }
            CsvFile { bytes, records }
        })
}

/// The records the `csv` crate itself finds after the header: the count for arbitrary bytes.
fn csv_records(bytes: &[u8], delimiter: u8) -> usize {
    ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes)
        .byte_records()
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn fuzz_csv_generated_records_are_out_or_rejected(
        (file, tsv) in any::<bool>().prop_flat_map(|tsv| {
            (csv_file(if tsv { b'\t' } else { b',' }), Just(tsv))
        }),
        k in knobs(true),
    ) {
        let (name, format) = if tsv {
            ("t.tsv", InputFormat::parse("tsv").unwrap())
        } else {
            ("t.csv", InputFormat::parse("csv").unwrap())
        };
        let out = read_file(name, file.bytes.clone(), format, k).map_err(TestCaseError::fail)?;
        assert_reasons(&out.rejects);
        prop_assert_eq!(out.rows + out.rejects.len(), file.records, "{:?}", out.rejects);
    }

    #[test]
    fn fuzz_csv_arbitrary_bytes_never_panic_and_balance(bytes in noisy_bytes(2000), k in knobs(true)) {
        let records = csv_records(&bytes, b',');
        match read_file("a.csv", bytes, InputFormat::parse("csv").unwrap(), k) {
            // A header that is not UTF-8 cannot name columns: refusing the file is fine.
            Err(e) => prop_assert!(e.starts_with("open:"), "{}", e),
            Ok(out) => {
                assert_reasons(&out.rejects);
                prop_assert_eq!(out.rows + out.rejects.len(), records);
            }
        }
    }
}
