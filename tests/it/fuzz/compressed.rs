//! Compressed tables through the public path (`t.csv.gz`, `t.ndjson.zst`...): intact, cut
//! short, corrupted, or larger than `max_bytes` once decompressed. No panic, no hang, and
//! never rows silently lost: a part that loses rows says so with an error or a reject.

use std::io::Write;
use std::time::Duration;

use disco::catalog::Catalog;
use disco::table::{Input, InputFormat, ReadOptions};
use proptest::prelude::*;

use super::within_for;

/// What is done to the stream, and the limit it is read with.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Cut(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    /// `max_bytes` below the decompressed size (as a share of it, in percent).
    Limit(u8),
}

fn compress(ext: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match ext {
        "gz" => {
            let mut w = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        "zst" => {
            let mut w = zstd::stream::write::Encoder::new(&mut out, 1).unwrap();
            w.include_checksum(true).unwrap();
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        "bz2" => {
            let mut w = bzip2::write::BzEncoder::new(&mut out, bzip2::Compression::fast());
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        "xz" => {
            let mut w = liblzma::write::XzEncoder::new(&mut out, 1);
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        _ => out.extend_from_slice(data),
    }
    out
}

/// Rows read, rejects, and the first reject's reason; `Err` for an error of the input.
type Read = Result<(usize, usize, Option<String>), String>;

fn read(name: String, bytes: Vec<u8>, format: InputFormat, max_bytes: u64) -> Read {
    // Short: a reader looping on an error may allocate as it loops.
    within_for(Duration::from_secs(10), "compressed table", move || {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(&name);
        std::fs::write(&path, &bytes).expect("write");
        let opts = ReadOptions {
            format: Some(format),
            max_bytes,
            batch_size: 64,
            ..ReadOptions::default()
        };
        let input = Input::open(&Catalog::default(), path.to_str().unwrap(), opts)
            .map_err(|e| format!("open: {e:#}"))?;
        let (mut rows, mut rejects) = (0, Vec::new());
        for part in &input.parts {
            for b in input.read_part(part).map_err(|e| format!("part: {e:#}"))? {
                let b = b.map_err(|e| format!("batch: {e:#}"))?;
                rows += b.batch.num_rows();
                rejects.extend(b.rejects);
            }
        }
        Ok((
            rows,
            rejects.len(),
            rejects.first().map(|r| r.reason.clone()),
        ))
    })
}

/// A table of `n` rows in CSV or NDJSON.
fn table(csv: bool, n: usize) -> Vec<u8> {
    let mut s = String::new();
    if csv {
        s.push_str("id,text\n");
    }
    for i in 0..n {
        if csv {
            s.push_str(&format!("{i},\"w, {i}\"\n"));
        } else {
            s.push_str(&format!("{{\"id\":{i},\"text\":\"w {i}\"}}\n"));
        }
    }
    s.into_bytes()
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::None),
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, m)| Damage::Flip(i, m)),
        (1u8..100).prop_map(Damage::Limit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fuzz_compressed_tables_never_lose_rows_silently(
        csv in any::<bool>(),
        ext in prop::sample::select(vec!["gz", "zst", "bz2", "xz", ""]),
        n in 1usize..3000,
        damage in damage(),
    ) {
        // A plain file cut short or changed is just another file: only its limit applies.
        let damage = match damage {
            Damage::Cut(_) | Damage::Flip(..) if ext.is_empty() => Damage::Limit(50),
            d => d,
        };
        let data = table(csv, n);
        let mut stream = compress(ext, &data);
        let mut max_bytes = u64::MAX;
        match &damage {
            Damage::None => {}
            Damage::Cut(at) => stream.truncate(at.index(stream.len())),
            Damage::Flip(at, mask) => {
                let i = at.index(stream.len());
                stream[i] ^= mask;
            }
            Damage::Limit(pct) => max_bytes = data.len() as u64 * u64::from(*pct) / 100,
        }
        let (format, base) = if csv { (InputFormat::parse("csv").unwrap(), "t.csv") } else { (InputFormat::parse("ndjson").unwrap(), "t.ndjson") };
        let name = if ext.is_empty() { base.to_string() } else { format!("{base}.{ext}") };
        match read(name, stream, format, max_bytes) {
            Ok((rows, 0, _)) => prop_assert_eq!(rows, n, "rows lost without an error or a reject"),
            Ok((rows, rejects, reason)) => {
                prop_assert!(!matches!(damage, Damage::None), "{rows} rows, {rejects} rejects: {reason:?}");
            }
            Err(e) => prop_assert!(!matches!(damage, Damage::None), "{}", e),
        }
    }
}

/// A CSV file larger than `max_bytes` was cut at the limit by the streaming reader, and the
/// rows past it vanished without an error or a reject.
#[test]
fn csv_over_max_bytes_fails_the_part_not_a_silent_cut() {
    let data = table(true, 1000);
    let err = read(
        "t.csv".into(),
        data,
        InputFormat::parse("csv").unwrap(),
        5000,
    )
    .unwrap_err();
    assert!(err.contains("read limit"), "{err}");
}
