//! The tree engine: builds the records of many files in parallel (rayon) and hands them to a
//! [`Sink`] in path order, with at most a fixed window of files in flight, so memory stays
//! bounded however large the volume.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::build::{build_file, build_source, FileOutput, TreeOptions};
use super::record::Status;
use super::source::Source;
use crate::volume::{Entry, Volume};

/// Receives each file's records, in path order.
pub trait Sink {
    fn write(&mut self, file: FileOutput) -> std::io::Result<()>;
}

/// What a run did, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Files with a record.
    pub files: u64,
    pub by_status: BTreeMap<Status, u64>,
    pub by_language: BTreeMap<String, u64>,
    /// Per language server: files by the server's status.
    pub by_server: BTreeMap<String, BTreeMap<String, u64>>,
    /// Files left out by `--lang`.
    pub filtered: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Summary {
    fn add(&mut self, f: &FileOutput) {
        self.files += 1;
        *self.by_status.entry(f.status).or_default() += 1;
        *self
            .by_language
            .entry(f.language.unwrap_or("(none)").to_string())
            .or_default() += 1;
        self.bytes += f.bytes;
        for s in &f.servers {
            *self
                .by_server
                .entry(s.name.clone())
                .or_default()
                .entry(s.status.as_str().to_string())
                .or_default() += 1;
        }
    }

    /// Megabytes (10^6 bytes) of input per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The input rate for people: bytes read over the run's time, in the largest unit
    /// (B, kB, MB, GB per second) that keeps the figure at 1 or more, with three significant
    /// digits, so a slow run reads `412 kB/s` instead of rounding to `0.0 MB/s`.
    pub fn rate(&self) -> String {
        human_rate(self.bytes, self.elapsed.as_secs_f64())
    }
}

/// `bytes` over `secs` as `12.3 MB/s` (decimal units, three significant digits).
pub fn human_rate(bytes: u64, secs: f64) -> String {
    if secs <= 0.0 {
        return format!("{bytes} B in no measurable time");
    }
    let mut v = bytes as f64 / secs;
    let mut unit = "B/s";
    for next in ["kB/s", "MB/s", "GB/s"] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = next;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// Builds every entry's records with `jobs` threads and writes them to `sink` in the order
/// of `entries`. Stops early, returning the sink's error, if the sink fails (a closed pipe).
pub fn run(
    volume: &Volume,
    entries: &[Entry],
    opts: &TreeOptions,
    jobs: usize,
    sink: &mut dyn Sink,
) -> std::io::Result<Summary> {
    let started = Instant::now();
    let jobs = jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("disco-tree-{i}"))
        .build()
        .map_err(std::io::Error::other)?;
    let window = jobs * 16;
    let (permit_tx, permit_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        let _ = permit_tx.send(());
    }
    let mut permit_tx = Some(permit_tx);
    let (tx, rx) = mpsc::channel::<(usize, Option<FileOutput>)>();
    let stop = AtomicBool::new(false);
    let mut summary = Summary::default();
    let mut failure = None;
    std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            pool.in_place_scope(move |s| {
                for (i, entry) in entries.iter().enumerate() {
                    if permit_rx.recv().is_err() || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let tx = tx.clone();
                    s.spawn(move |_| {
                        let out =
                            catch_unwind(AssertUnwindSafe(|| build_file(volume, entry, opts)))
                                .unwrap_or_else(|panic| {
                                    let msg = crate::panic_message(panic.as_ref());
                                    let src = Source::failed(
                                        volume,
                                        entry,
                                        Status::Unreadable,
                                        format!("internal error: {msg}"),
                                    );
                                    Some(build_source(src, opts))
                                });
                        let _ = tx.send((i, out));
                    });
                }
            });
        });
        let mut next = 0;
        let mut ready: BTreeMap<usize, Option<FileOutput>> = BTreeMap::new();
        'receive: for (i, out) in rx.iter() {
            ready.insert(i, out);
            while let Some(out) = ready.remove(&next) {
                next += 1;
                if let Some(p) = &permit_tx {
                    let _ = p.send(());
                }
                match out {
                    None => summary.filtered += 1,
                    Some(out) => {
                        summary.add(&out);
                        if let Err(e) = sink.write(out) {
                            failure = Some(e);
                            stop.store(true, Ordering::Relaxed);
                            break 'receive;
                        }
                    }
                }
            }
            if next == entries.len() {
                break;
            }
        }
        // Unblocks the producer if it still waits for a permit.
        permit_tx = None;
        drop(rx);
    });
    summary.elapsed = started.elapsed();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

#[cfg(test)]
mod rate_tests {
    use super::human_rate;

    #[test]
    fn small_rates_are_not_rounded_to_zero() {
        assert_eq!(human_rate(412_000, 1.0), "412 kB/s");
        assert_eq!(human_rate(2_000, 4.0), "500 B/s");
        assert_eq!(human_rate(12_345_678, 1.0), "12.3 MB/s");
        assert_eq!(human_rate(31_500_000, 5.089), "6.19 MB/s");
        assert_eq!(human_rate(7, 2.0), "3.50 B/s");
        assert_eq!(human_rate(0, 1.0), "0.00 B/s");
    }
}
