//! The runner: checks the plan, then streams every input part of this shard through the
//! stages into the output, with rejects beside it. Reading runs ahead on its own thread
//! through a bounded channel (back-pressure); CPU-heavy stages run on rayon.
//!
//! Per part, always: rows in = rows passed + rows rejected. Parts are the unit of atomicity
//! and of resuming: a part's rows appear in the output at once, and a rerun skips the parts
//! an earlier run committed.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{row_json, StageRc};
use crate::table::{Input, Output, ReadReject};

/// Which slice of the parts this process does: parts `k` with `k % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// `i/n`, 0-based.
    pub fn parse(s: &str) -> Result<Shard> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| anyhow!("a shard is `i/n` (0-based), not `{s}`"))?;
        Shard::new(i.trim().parse()?, n.trim().parse()?)
    }

    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            bail!("shard {index}/{count}: need 0 <= i < n");
        }
        Ok(Shard { index, count })
    }

    /// From the environment of an array job: `SLURM_ARRAY_TASK_ID` with
    /// `SLURM_ARRAY_TASK_COUNT`, or `JOB_COMPLETION_INDEX` (Kubernetes indexed jobs) with
    /// `DISCO_WORLD_SIZE`.
    pub fn from_env() -> Result<Option<Shard>> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pair = if let Some(i) = get("SLURM_ARRAY_TASK_ID") {
            let n = get("SLURM_ARRAY_TASK_COUNT").ok_or_else(|| {
                anyhow!("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            })?;
            let min = get("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
            Some((i.parse::<usize>()? - min.parse::<usize>()?, n.parse()?))
        } else if let Some(i) = get("JOB_COMPLETION_INDEX") {
            let n = get("DISCO_WORLD_SIZE").ok_or_else(|| {
                anyhow!("JOB_COMPLETION_INDEX is set: give the world size in DISCO_WORLD_SIZE")
            })?;
            Some((i.parse()?, n.parse()?))
        } else {
            None
        };
        pair.map(|(i, n)| Shard::new(i, n)).transpose()
    }

    fn mine(&self, part: usize) -> bool {
        part % self.count == self.index
    }
}

/// Called after each part of this shard: `(parts done or skipped, parts of this shard)`.
#[derive(Clone)]
pub struct OnPart(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for OnPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnPart(..)")
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Progress for callers that are not a terminal (the editor's work-done progress).
    pub on_part: Option<OnPart>,
    pub shard: Shard,
    /// Ignore what earlier runs committed.
    pub fresh: bool,
    pub progress: bool,
    /// Names this job for resuming (Delta application id); derived when empty.
    pub job: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub parts: usize,
    pub parts_skipped: usize,
    pub parts_written: usize,
    pub rows_in: u64,
    /// Input rows that reached the output (as one row or several).
    pub rows_passed: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
    pub rejected_by: BTreeMap<String, u64>,
    pub rejects_kept: bool,
    pub schema: Option<SchemaRef>,
}

impl RunSummary {
    pub fn line(&self) -> String {
        let by: Vec<String> = self
            .rejected_by
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        format!(
            "{} parts ({} written, {} already done); rows in {} = {} passed + {} rejected{}; rows out {}{}",
            self.parts,
            self.parts_written,
            self.parts_skipped,
            self.rows_in,
            self.rows_passed,
            self.rows_rejected,
            if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) },
            self.rows_out,
            if self.rows_rejected > 0 && !self.rejects_kept { " — rejected rows NOT kept (no rejects table)" } else { "" }
        )
    }
}

/// The rejects table's columns.
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, true),
        Field::new("line", DataType::Int64, true),
        Field::new("stage", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("pointer", DataType::Utf8, true),
        Field::new("record", DataType::Utf8, false),
    ]))
}

#[derive(Default)]
struct Rejected {
    file: Vec<String>,
    row: Vec<Option<i64>>,
    line: Vec<Option<i64>>,
    stage: Vec<String>,
    reason: Vec<String>,
    pointer: Vec<Option<String>>,
    record: Vec<String>,
}

impl Rejected {
    fn read(&mut self, r: ReadReject) {
        self.file.push(r.file);
        self.row.push(None);
        self.line.push((r.line > 0).then_some(r.line as i64));
        self.stage.push("read".into());
        self.reason.push(r.reason);
        self.pointer.push(None);
        self.record.push(r.raw);
    }

    fn len(&self) -> usize {
        self.file.len()
    }

    fn batch(&mut self) -> Result<RecordBatch> {
        let t = std::mem::take(self);
        Ok(RecordBatch::try_new(
            rejects_schema(),
            vec![
                Arc::new(StringArray::from(t.file)),
                Arc::new(Int64Array::from(t.row)),
                Arc::new(Int64Array::from(t.line)),
                Arc::new(StringArray::from(t.stage)),
                Arc::new(StringArray::from(t.reason)),
                Arc::new(StringArray::from(t.pointer)),
                Arc::new(StringArray::from(t.record)),
            ],
        )?)
    }
}

/// Checks the plan: each stage's output schema from its input's; the output and rejects
/// tables can hold them. Nothing is read and no model is loaded.
pub fn plan(
    input: &Input,
    stages: &[StageRc],
    output: &Output,
    rejects: Option<&Output>,
) -> Result<SchemaRef> {
    let mut schema = input.schema.clone();
    for s in stages {
        schema = s.plan(&schema)?;
    }
    output.check(&schema)?;
    if let Some(r) = rejects {
        r.check(&rejects_schema())?;
    }
    Ok(schema)
}

/// Runs a checked plan.
pub fn run(
    input: &Input,
    stages: &[StageRc],
    output: &Output,
    rejects: Option<&Output>,
    opts: &RunOptions,
) -> Result<RunSummary> {
    let schema = plan(input, stages, output, rejects)?;
    if opts.shard.count > 1 && output.opts.overwrite {
        bail!("overwrite with several shards would let one shard erase another's rows; append instead");
    }
    if opts.shard.count > 1 && !output.resumable() {
        bail!(
            "{}: several shards need a directory of parts or a Delta table, not one file",
            output.uri
        );
    }
    for s in stages {
        s.open().with_context(|| format!("stage `{}`", s.name()))?;
    }
    let app = format!(
        "{}#{}/{}",
        if opts.job.is_empty() {
            "disco"
        } else {
            &opts.job
        },
        opts.shard.index,
        opts.shard.count
    );
    let bars = Bars::new(opts.progress, stages);
    let mut sum = RunSummary {
        rejects_kept: rejects.is_some(),
        schema: Some(schema.clone()),
        ..Default::default()
    };
    let single = !output.resumable();
    let mut whole = if single {
        Some(output.writer(&schema, 0, &app, true)?)
    } else {
        None
    };
    let mut whole_rejects = match (single, rejects) {
        (true, Some(r)) if !r.resumable() => {
            Some(r.writer(&super::run::rejects_schema(), 0, &app, true)?)
        }
        _ => None,
    };
    let progress = if opts.fresh {
        None
    } else {
        output.delta_progress(&app)?
    };
    let mut first = true;
    let mine = input
        .parts
        .iter()
        .filter(|p| opts.shard.mine(p.index))
        .count();
    let report = |done: usize| {
        if let Some(cb) = &opts.on_part {
            (cb.0)(done, mine);
        }
    };
    for part in input.parts.iter().filter(|p| opts.shard.mine(p.index)) {
        report(sum.parts);
        sum.parts += 1;
        let skip = !opts.fresh
            && output.resumable()
            && (progress.is_some_and(|v| v >= part.index as i64) || output.done(part.index)?);
        if skip {
            sum.parts_skipped += 1;
            continue;
        }
        let mut own = if whole.is_none() {
            Some(output.writer(&schema, part.index, &app, first)?)
        } else {
            None
        };
        let mut own_rejects = match (&whole_rejects, rejects) {
            (None, Some(r)) => Some(r.writer(&rejects_schema(), part.index, &app, first)?),
            _ => None,
        };
        first = false;
        let mut rej = Rejected::default();
        let (mut rows_in, mut passed, mut rejected) = (0u64, 0u64, 0u64);
        let mut offset = 0u64;
        let file = part.label();
        // The output writer runs on its own thread while the stages work on the next batch.
        let mut writer = match whole.take() {
            Some(w) => w,
            None => own.take().expect("a writer for this part"),
        };
        let writing_whole = single;
        let writer_back = std::thread::scope(|scope| -> Result<crate::table::PartWriter<'_>> {
            let (otx, orx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
            let write_thread = scope.spawn(move || -> Result<crate::table::PartWriter<'_>> {
                for b in orx {
                    writer.write(&b)?;
                }
                Ok(writer)
            });
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            scope.spawn(|| {
                let tx = tx;
                match input.read_part(part) {
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
            for rb in rx {
                let rb = rb.with_context(|| format!("reading {file}"))?;
                rows_in += rb.batch.num_rows() as u64 + rb.rejects.len() as u64;
                rejected += rb.rejects.len() as u64;
                if !rb.rejects.is_empty() {
                    *sum.rejected_by.entry("read".into()).or_default() += rb.rejects.len() as u64;
                }
                rb.rejects.into_iter().for_each(|r| rej.read(r));
                let n = rb.batch.num_rows() as u64;
                let mut ids: Vec<u64> = (offset..offset + n).collect();
                offset += n;
                let mut batch = rb.batch;
                for (k, s) in stages.iter().enumerate() {
                    let rows = batch.num_rows() as u64;
                    let before = batch.clone();
                    let out = s
                        .process(batch)
                        .with_context(|| format!("stage `{}` on {file}", s.name()))?;
                    let mut dead = vec![false; before.num_rows()];
                    for r in &out.rejects {
                        dead[r.row as usize] = true;
                        rej.file.push(file.clone());
                        rej.row.push(Some(ids[r.row as usize] as i64));
                        rej.line.push(None);
                        rej.stage.push(s.name().to_string());
                        rej.reason.push(r.reason.clone());
                        rej.pointer.push(r.pointer.clone());
                        rej.record.push(row_json(&before, r.row as usize));
                    }
                    if !out.rejects.is_empty() {
                        *sum.rejected_by.entry(s.name().to_string()).or_default() +=
                            out.rejects.len() as u64;
                    }
                    // The source row of each output row; a source row is rejected here when
                    // none of its copies survives.
                    let next: Vec<u64> = match &out.origin {
                        Some(o) => o.iter().map(|&i| ids[i as usize]).collect(),
                        None => ids
                            .iter()
                            .zip(&dead)
                            .filter(|(_, d)| !**d)
                            .map(|(i, _)| *i)
                            .collect(),
                    };
                    let survivors: std::collections::HashSet<u64> = next.iter().copied().collect();
                    let mut gone: Vec<u64> = ids
                        .iter()
                        .copied()
                        .filter(|i| !survivors.contains(i))
                        .collect();
                    gone.dedup();
                    rejected += gone.len() as u64;
                    ids = next;
                    bars.tick(k, rows);
                    batch = out.batch;
                }
                let mut distinct = ids.clone();
                distinct.dedup();
                passed += distinct.len() as u64;
                sum.rows_out += batch.num_rows() as u64;
                if otx.send(batch).is_err() {
                    // The writer stopped on an error: its join below says which.
                    break;
                }
                if rej.len() >= 8192 {
                    write_rejects(&mut rej, &mut whole_rejects, &mut own_rejects)?;
                }
            }
            drop(otx);
            write_thread
                .join()
                .map_err(|_| anyhow!("the writer of {file} panicked"))?
        })?;
        if writing_whole {
            whole = Some(writer_back);
        } else {
            own = Some(writer_back);
        }
        if rows_in != passed + rejected {
            bail!("internal accounting error on {file}: {rows_in} in, {passed} passed, {rejected} rejected");
        }
        sum.rows_in += rows_in;
        sum.rows_passed += passed;
        sum.rows_rejected += rejected;
        write_rejects(&mut rej, &mut whole_rejects, &mut own_rejects)?;
        // Rejects first: the output part is what marks the part done.
        if let Some(r) = own_rejects {
            r.commit()?;
        }
        if let Some(w) = own {
            w.commit()?;
        }
        sum.parts_written += 1;
    }
    report(sum.parts);
    if let Some(r) = whole_rejects {
        r.commit()?;
    }
    if let Some(w) = whole {
        w.commit()?;
    }
    bars.finish();
    Ok(sum)
}

fn write_rejects<'a>(
    rej: &mut Rejected,
    whole: &mut Option<crate::table::PartWriter<'a>>,
    own: &mut Option<crate::table::PartWriter<'a>>,
) -> Result<()> {
    if rej.len() == 0 {
        return Ok(());
    }
    let batch = rej.batch()?;
    match (whole, own) {
        (Some(w), _) | (None, Some(w)) => w.write(&batch),
        _ => Ok(()),
    }
}

/// A progress bar per stage, on stderr when it is a terminal.
struct Bars {
    bars: Vec<ProgressBar>,
    _multi: Option<MultiProgress>,
}

impl Bars {
    fn new(on: bool, stages: &[StageRc]) -> Bars {
        if !on {
            return Bars {
                bars: Vec::new(),
                _multi: None,
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{prefix:>16} {spinner} {human_pos} rows {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = stages
            .iter()
            .map(|s| {
                let b = multi.add(ProgressBar::new_spinner());
                b.set_style(style.clone());
                b.set_prefix(s.name().to_string());
                b
            })
            .collect();
        Bars {
            bars,
            _multi: Some(multi),
        }
    }

    fn tick(&self, k: usize, rows: u64) {
        if let Some(b) = self.bars.get(k) {
            b.inc(rows);
        }
    }

    fn finish(&self) {
        for b in &self.bars {
            b.finish();
        }
    }
}

/// Fault injection for the crash tests: `DISCO_CRASH_AT_PART=k` aborts the process (like
/// `kill -9`: no unwinding, no cleanup) once part k's rows are encoded but not committed.
pub(crate) fn crash_point(part: usize) {
    if std::env::var("DISCO_CRASH_AT_PART")
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(part)
    {
        std::process::abort();
    }
}
