//! Property tests ("fuzzing that can fail", issue 11): generated and arbitrary inputs for the
//! readers, the catalog loader and the codecs. Each property says what must hold for every
//! input: no panic, no hang (a deadline thread turns one into a failure), and for readers
//! every record either out or rejected with a reason.
//!
//! Case counts are small so `cargo test` stays quick; `PROPTEST_CASES=100000` overrides
//! them all for a long run (the `proptest!` macro applies the environment on top of each
//! test's `with_cases`). Failing inputs proptest shrinks are kept in
//! `tests/proptest-regressions/` and replayed first on every run.

mod catalog;
mod codec;
mod compressed;
mod csv;
mod html;
mod ndjson;

use std::sync::mpsc;
use std::time::Duration;

use disco::catalog::Catalog;
use disco::table::{Input, InputFormat, ReadOptions, ReadReject};
use proptest::prelude::*;

/// How long one case may take before it counts as a hang. Generous: debug builds on a
/// shared two-core machine are slow, and a real hang never finishes.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread and returns its result; panics if it has not finished by
/// `DEADLINE` (the thread is left behind: a hung case fails the test either way), and
/// passes a panic in `f` on unchanged, so proptest shrinks it like any other failure.
pub fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within_for(DEADLINE, what, f)
}

/// `within` with another deadline (a reader stuck in a loop that also allocates must be
/// stopped before it fills the memory).
pub fn within_for<T: Send + 'static>(
    deadline: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(deadline) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer in {deadline:?} (a hang)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}

/// What a whole file came to.
#[derive(Debug)]
pub struct Outcome {
    pub rows: usize,
    pub rejects: Vec<ReadReject>,
}

/// The knobs a property varies: small batches and samples exercise the batch splitting and
/// inference by majority on a few rows.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub batch_size: usize,
    pub batch_bytes: usize,
    pub infer_rows: usize,
}

/// With `small_byte_batches`, batches also stop after a few hundred bytes (a line or two).
pub fn knobs(small_byte_batches: bool) -> impl Strategy<Value = Knobs> {
    let batch_bytes = if small_byte_batches {
        prop_oneof![Just(2usize << 20), 1usize..64, 64usize..400].boxed()
    } else {
        Just(2usize << 20).boxed()
    };
    (1usize..50, batch_bytes, 1usize..60).prop_map(|(batch_size, batch_bytes, infer_rows)| Knobs {
        batch_size,
        batch_bytes,
        infer_rows,
    })
}

/// Writes `bytes` to `name` in a new temporary directory and reads every part of it.
/// `Err` is an error opening the input or reading a part (the message, for the report).
pub fn read_file(
    name: &'static str,
    bytes: Vec<u8>,
    format: InputFormat,
    k: Knobs,
) -> Result<Outcome, String> {
    within(name, move || {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write the input");
        let opts = ReadOptions {
            format: Some(format),
            batch_size: k.batch_size,
            batch_bytes: k.batch_bytes,
            infer_rows: k.infer_rows,
            ..ReadOptions::default()
        };
        let input = Input::open(&Catalog::default(), path.to_str().unwrap(), opts)
            .map_err(|e| format!("open: {e:#}"))?;
        let mut out = Outcome {
            rows: 0,
            rejects: Vec::new(),
        };
        for part in &input.parts {
            for b in input.read_part(part).map_err(|e| format!("part: {e:#}"))? {
                let b = b.map_err(|e| format!("batch: {e:#}"))?;
                assert_eq!(b.batch.schema(), input.schema, "a batch in another schema");
                out.rows += b.batch.num_rows();
                out.rejects.extend(b.rejects);
            }
        }
        Ok(out)
    })
}

pub fn assert_reasons(rejects: &[ReadReject]) {
    for r in rejects {
        assert!(
            !r.reason.trim().is_empty(),
            "a reject without a reason: {r:?}"
        );
    }
}

/// Bytes biased towards what CSV and JSON care about.
pub fn noisy_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => any::<u8>(),
        2 => prop::sample::select(b",;\t\"'\r\n{}[]:0123456789 aetrufnl\\\xef\xbb\xbf\xff".to_vec()),
    ];
    prop::collection::vec(byte, 0..max)
}
