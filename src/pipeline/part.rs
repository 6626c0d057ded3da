//! One part through the stages: a reader thread (started ahead, see [`Reading`]) feeds a
//! bounded channel, the stages run on this thread, a writer thread encodes the output. Each input row's id is followed through
//! the stages (lineage), so `rows in = rows passed + rows rejected` holds even when a stage
//! explodes or chunks rows.
//!
//! A part is also the unit of failure: an error or a panic while reading, processing or
//! writing it is returned as this part's error (naming the file), never unwound through the
//! run, so the runner can leave the part uncommitted and go on with the others.

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::Receiver;
use std::thread::{Scope, ScopedJoinHandle};

use anyhow::{anyhow, Result};
use arrow::array::RecordBatch;

use super::rejects::Rejected;
use super::{row_json, StageRc};
use crate::panic_message;
use crate::table::{Input, Part, PartWriter, ReadBatch};

/// What one part did.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub rows_in: u64,
    pub passed: u64,
    pub rejected: u64,
    pub rows_out: u64,
    pub rejected_by: BTreeMap<String, u64>,
}

/// Where a part's rows go: the output writer and, when rejects are kept, the rejects writer.
pub(super) struct Sinks<'w, 'o> {
    pub output: &'w mut PartWriter<'o>,
    pub rejects: Option<&'w mut PartWriter<'o>>,
}

/// What a part is run with.
pub(super) struct PartRunner<'a> {
    pub input: &'a Input,
    pub stages: &'a [StageRc],
    /// Called with (stage index, rows) after a stage processed a batch (progress bars).
    pub tick: &'a (dyn Fn(usize, u64) + Sync),
}

/// A part's error, and how many of its output rows already reached the writer.
pub(super) struct Failed {
    pub error: anyhow::Error,
    pub rows_sent: u64,
    /// The error came from writing (the output or the rejects), so the writer may be half
    /// way through a row group: a writer shared by every part cannot go on.
    pub writer_broken: bool,
}

/// A part's batches, read on a thread of their own into a short channel: started before the
/// part runs (while the previous part finishes and commits), so that its first batches are
/// decoded by the time the stages want them.
pub(super) struct Reading<'scope> {
    pub index: usize,
    file: String,
    rx: Option<Receiver<Result<ReadBatch>>>,
    handle: Option<ScopedJoinHandle<'scope, ()>>,
}

impl Reading<'_> {
    /// Waits for the reader; its panic as an error.
    fn join(&mut self) -> Result<()> {
        self.rx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Err(p)) => Err(anyhow!(
                "reading {} panicked: {}",
                self.file,
                panic_message(p.as_ref())
            )),
            _ => Ok(()),
        }
    }
}

impl Drop for Reading<'_> {
    /// A reading never consumed (its part failed before it ran, or the run stopped): the
    /// reader stops at its next batch, and is joined so its panic cannot escape the scope.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

impl<'a> PartRunner<'a> {
    /// Starts reading `part` on a thread of `scope`; one batch waits in the channel (plus the
    /// one being decoded), so reading ahead costs two batches of memory. A second waiting
    /// batch (here and before the writer) bought no throughput on two cores (issue 12).
    pub fn read_ahead<'scope>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        part: &'a Part,
    ) -> Reading<'scope>
    where
        'a: 'scope,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<ReadBatch>>(1);
        let input: &'a Input = self.input;
        let handle = scope.spawn(move || {
            match reader_fault(part.index).and_then(|()| input.read_part(part)) {
                Ok(batches) => {
                    for b in batches {
                        if tx.send(b).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        Reading {
            index: part.index,
            file: part.label(),
            rx: Some(rx),
            handle: Some(handle),
        }
    }

    /// Streams `part` (read by `reading`) into `sinks`. Nothing is committed here: the caller
    /// commits on `Ok` and aborts on `Err`.
    pub fn run(
        &self,
        part: &Part,
        mut reading: Reading<'_>,
        sinks: Sinks<'_, '_>,
    ) -> Result<Counts, Failed> {
        let file = part.label();
        let Sinks { output, rejects } = sinks;
        let mut rej = Rejected::default();
        let mut counts = Counts::default();
        let mut rejects = rejects;
        let mut rows_sent = 0u64;
        let mut writer_broken = false;
        let outcome = std::thread::scope(|scope| -> Result<()> {
            let (otx, orx) = std::sync::mpsc::sync_channel::<RecordBatch>(1);
            let writer = scope.spawn(move || -> Result<()> {
                for b in orx {
                    output.write(&b)?;
                }
                Ok(())
            });
            let rx = reading.rx.take().expect("a reading is consumed once");
            let mut offset = 0u64;
            let streamed = (|| -> Result<()> {
                for rb in &rx {
                    let rb = rb.map_err(|e| e.context(format!("reading {file}")))?;
                    let out = self.batch(rb, &file, &mut offset, &mut rej, &mut counts)?;
                    rows_sent += out.num_rows() as u64;
                    if otx.send(out).is_err() {
                        // The writer stopped on an error: its join below says which.
                        break;
                    }
                    // Written as they come (by count or size), so that memory does not
                    // grow with the part's rejects.
                    if rej.len() >= 8192 || rej.bytes() >= 1 << 20 {
                        write_rejects(&mut rej, rejects.as_deref_mut())
                            .inspect_err(|_| writer_broken = true)?;
                    }
                }
                Ok(())
            })();
            // Both threads are joined here, whatever happened, so that a panic on either
            // becomes this part's error instead of unwinding out of the scope.
            drop(rx);
            drop(otx);
            let read = reading.join();
            let wrote = writer
                .join()
                .map_err(|p| {
                    anyhow!(
                        "the writer of {file} panicked: {}",
                        panic_message(p.as_ref())
                    )
                })
                .and_then(|r| r.map_err(|e| e.context(format!("writing {file}"))));
            writer_broken |= wrote.is_err();
            read?;
            wrote?;
            streamed
        });
        let done = outcome.and_then(|()| {
            if counts.rows_in != counts.passed + counts.rejected {
                return Err(anyhow!(
                    "internal accounting error on {file}: {} in, {} passed, {} rejected",
                    counts.rows_in,
                    counts.passed,
                    counts.rejected
                ));
            }
            write_rejects(&mut rej, rejects).inspect_err(|_| writer_broken = true)
        });
        match done {
            Ok(()) => Ok(counts),
            Err(error) => Err(Failed {
                error,
                rows_sent,
                writer_broken,
            }),
        }
    }

    /// One read batch through every stage: its read rejects and stage rejects go to `rej`,
    /// the surviving rows are returned. A stage's panic is caught and becomes an error.
    fn batch(
        &self,
        rb: ReadBatch,
        file: &str,
        offset: &mut u64,
        rej: &mut Rejected,
        counts: &mut Counts,
    ) -> Result<RecordBatch> {
        let read_rejects = rb.rejects.len() as u64;
        counts.rows_in += rb.batch.num_rows() as u64 + read_rejects;
        counts.rejected += read_rejects;
        if read_rejects > 0 {
            *counts.rejected_by.entry("read".into()).or_default() += read_rejects;
        }
        rb.rejects.into_iter().for_each(|r| rej.read(r));
        let n = rb.batch.num_rows() as u64;
        let mut ids: Vec<u64> = (*offset..*offset + n).collect();
        *offset += n;
        let mut batch = rb.batch;
        for (k, s) in self.stages.iter().enumerate() {
            let rows = batch.num_rows() as u64;
            let before = batch.clone();
            let out = catch_unwind(AssertUnwindSafe(|| s.process(batch)))
                .map_err(|p| {
                    anyhow!(
                        "stage `{}` panicked on {file}: {}",
                        s.name(),
                        panic_message(p.as_ref())
                    )
                })?
                .map_err(|e| e.context(format!("stage `{}` on {file}", s.name())))?;
            for r in &out.rejects {
                let row = r.row as usize;
                let id = *ids.get(row).ok_or_else(|| {
                    anyhow!(
                        "stage `{}` rejected row {row} of a {}-row batch",
                        s.name(),
                        ids.len()
                    )
                })?;
                rej.stage(file, id, s.name(), r, row_json(&before, row));
            }
            if !out.rejects.is_empty() {
                *counts.rejected_by.entry(s.name().to_string()).or_default() +=
                    out.rejects.len() as u64;
            }
            // The source row of each output row; a source row is rejected here when none of
            // its copies survives.
            let next: Vec<u64> = match &out.origin {
                Some(o) => o
                    .iter()
                    .map(|&i| ids.get(i as usize).copied())
                    .collect::<Option<_>>()
                    .ok_or_else(|| anyhow!("stage `{}` gave an out-of-range origin", s.name()))?,
                None => {
                    let dead: HashSet<u32> = out.rejects.iter().map(|r| r.row).collect();
                    ids.iter()
                        .enumerate()
                        .filter(|(i, _)| !dead.contains(&(*i as u32)))
                        .map(|(_, id)| *id)
                        .collect()
                }
            };
            let survivors: HashSet<u64> = next.iter().copied().collect();
            let mut gone: Vec<u64> = ids
                .iter()
                .copied()
                .filter(|i| !survivors.contains(i))
                .collect();
            gone.dedup();
            counts.rejected += gone.len() as u64;
            ids = next;
            (self.tick)(k, rows);
            batch = out.batch;
        }
        let mut distinct = ids;
        distinct.dedup();
        counts.passed += distinct.len() as u64;
        counts.rows_out += batch.num_rows() as u64;
        Ok(batch)
    }
}

/// Fault injection for the part-failure tests: `DISCO_FAULT_READING_PART=k` makes the reader
/// of part k panic, the way a bug in a reader would; `DISCO_FAULT_READING_PART=k:error`
/// makes it fail with an error instead.
fn reader_fault(part: usize) -> Result<()> {
    let Ok(v) = std::env::var("DISCO_FAULT_READING_PART") else {
        return Ok(());
    };
    let (at, kind) = v.split_once(':').unwrap_or((&v, "panic"));
    if at.parse() != Ok(part) {
        return Ok(());
    }
    match kind {
        "error" => Err(anyhow!("injected error reading part {part}")),
        _ => panic!("injected panic reading part {part}"),
    }
}

/// Writes the collected rejects, when they are kept.
fn write_rejects(rej: &mut Rejected, to: Option<&mut PartWriter<'_>>) -> Result<()> {
    if rej.len() == 0 {
        return Ok(());
    }
    let batch = rej.batch()?;
    match to {
        Some(w) => w.write(&batch),
        None => Ok(()),
    }
}
