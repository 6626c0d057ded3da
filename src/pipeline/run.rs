//! The runner: checks the plan, then streams every input part of this shard through the
//! stages ([`super::part`]) into the output, with rejects beside it.
//!
//! Parts are the unit of atomicity, of resuming and of failure: a part's rows appear in the
//! output at once; a rerun skips the parts an earlier run committed; a part that fails (an
//! error or a panic while reading, processing or writing it) is left uncommitted, reported in
//! the summary, and the run goes on with the other parts.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow::datatypes::SchemaRef;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::part::{Counts, Failed, PartRunner, Reading, Sinks};
use super::rejects::rejects_schema;
use super::summary::{PartFailure, RunSummary};
use super::{Shard, StageRc};
use crate::panic_message;
use crate::table::{Input, Output, Part, PartWriter, Progress};

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
    /// This process's shard; `None` takes it from an array job's environment (Slurm,
    /// Kubernetes indexed jobs), or runs every part — whichever entry point starts the run.
    pub shard: Option<Shard>,
    /// Ignore what earlier runs committed.
    pub fresh: bool,
    pub progress: bool,
    /// Names this job for resuming (Delta application id); derived when empty.
    pub job: String,
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
        if output.resumable() && !r.resumable() {
            bail!(
                "{}: the rejects of a directory or Delta output must be a directory or Delta \
                 table too, so that they are committed (and resumed) part by part with the \
                 rows; {} is one file",
                output.uri,
                r.uri
            );
        }
    }
    Ok(schema)
}

/// The writers that live for the whole run: a single-file output (or stdout) and a
/// single-file rejects table. Directory and Delta outputs get a writer per part instead.
struct Whole<'o> {
    output: Option<PartWriter<'o>>,
    rejects: Option<PartWriter<'o>>,
}

impl<'o> Whole<'o> {
    fn open(
        (output, rejects): (&'o Output, Option<&'o Output>),
        schema: &SchemaRef,
        app: &str,
    ) -> Result<Whole<'o>> {
        Ok(Whole {
            output: match output.resumable() {
                false => Some(output.writer(schema, 0, app, true)?),
                true => None,
            },
            rejects: match rejects {
                Some(r) if !r.resumable() => Some(r.writer(&rejects_schema(), 0, app, true)?),
                _ => None,
            },
        })
    }

    /// Rejects first, then the rows.
    fn commit(self) -> Result<()> {
        if let Some(r) = self.rejects {
            r.commit()?;
        }
        if let Some(w) = self.output {
            w.commit()?;
        }
        Ok(())
    }

    /// Removes what was written (the temporary files).
    fn abort(&mut self) {
        for w in [self.output.take(), self.rejects.take()]
            .into_iter()
            .flatten()
        {
            w.abort();
        }
    }
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
    let shard = shard_for(opts, output)?;
    for s in stages {
        s.open().with_context(|| format!("stage `{}`", s.name()))?;
    }
    let job = if opts.job.is_empty() {
        "disco"
    } else {
        &opts.job
    };
    let app = format!("{job}#{}/{}", shard.index, shard.count);
    let bars = Bars::new(opts.progress, stages);
    let tick = |k: usize, rows: u64| bars.tick(k, rows);
    let runner = PartRunner {
        input,
        stages,
        tick: &tick,
    };
    let mut sum = RunSummary {
        rejects_kept: rejects.is_some(),
        schema: Some(schema.clone()),
        ..Default::default()
    };
    let mut whole = Whole::open((output, rejects), &schema, &app)?;
    let mine: Vec<&Part> = input.parts.iter().filter(|p| shard.mine(p.index)).collect();
    let progress = match opts.fresh {
        true => Progress::default(),
        false => {
            let indices: Vec<usize> = mine.iter().map(|p| p.index).collect();
            output.progress(&app, &indices)?
        }
    };
    let report = |done: usize| {
        if let Some(cb) = &opts.on_part {
            (cb.0)(done, mine.len());
        }
    };
    // An overwrite replaces the table's rows with the first part that commits — only when
    // nothing of this job is in the table yet: a rerun that resumes an overwrite must not
    // erase the parts the first run committed. A part that fails must not use it up.
    let mut first = progress.last.is_none() && progress.parts.is_empty();
    let mut skip = Vec::with_capacity(mine.len());
    for part in &mine {
        skip.push(
            !opts.fresh
                && output.resumable()
                && (progress.done(part.index) || output.done(part.index)?),
        );
    }
    // The parts to run, in order: each is read while the one before it runs.
    let mut todo = mine
        .iter()
        .zip(&skip)
        .filter(|(_, s)| !**s)
        .map(|(p, _)| *p);
    std::thread::scope(|scope| -> Result<()> {
        // The next part is read while this one runs, so its first batches are ready by the
        // time this one has committed.
        let mut ahead = todo.next().map(|p| runner.read_ahead(scope, p));
        for (part, skipped) in mine.iter().copied().zip(&skip) {
            report(sum.parts);
            sum.parts += 1;
            if *skipped {
                sum.parts_skipped += 1;
                continue;
            }
            let reading = match ahead.take() {
                Some(r) if r.index == part.index => r,
                _ => runner.read_ahead(scope, part),
            };
            ahead = todo.next().map(|p| runner.read_ahead(scope, p));
            let file = part.label();
            let apps = Apps {
                job: &app,
                // After a failure, parts commit under their own transaction id (see
                // `Output::delta_progress`), so the failed one can still be done later.
                ordered: sum.failures.is_empty(),
            };
            let outcome = one_part(
                &runner,
                (part, reading),
                &mut whole,
                (output, rejects),
                (&schema, apps),
                first,
            );
            match outcome {
                Ok(counts) => {
                    first = false;
                    sum.parts_written += 1;
                    add(&mut sum, counts);
                }
                Err(Failed {
                    error,
                    rows_sent,
                    writer_broken,
                }) => {
                    if whole.output.is_some() && writer_broken {
                        // The one output file is broken: nothing more can be written to it,
                        // and nothing of it is left behind.
                        whole.abort();
                        return Err(error);
                    }
                    tracing::warn!("part {} ({file}) failed: {error:#}", part.index);
                    sum.failures.push(PartFailure {
                        index: part.index,
                        file,
                        error: format!("{error:#}"),
                        rows_written: if whole.output.is_some() { rows_sent } else { 0 },
                    });
                }
            }
        }
        Ok(())
    })?;
    report(sum.parts);
    whole.commit()?;
    bars.finish();
    Ok(sum)
}

/// This process's shard (given, or from an array job's environment), checked against the
/// output: several shards append to a directory or a Delta table, never to one file.
fn shard_for(opts: &RunOptions, output: &Output) -> Result<Shard> {
    let shard = match opts.shard {
        Some(s) => s,
        None => Shard::from_env()?.unwrap_or_default(),
    };
    if shard.count > 1 && output.opts.overwrite {
        bail!("overwrite with several shards would let one shard erase another's rows; append instead");
    }
    if shard.count > 1 && !output.resumable() {
        bail!(
            "{}: several shards need a directory of parts or a Delta table, not one file",
            output.uri
        );
    }
    Ok(shard)
}

/// One part, into the run's single-file writers or into writers of its own. The part runner
/// catches panics on its threads and in stages; this catches the rest (encoding rejects,
/// committing), so no part can end the run by panicking.
fn one_part<'o>(
    runner: &PartRunner<'_>,
    (part, reading): (&Part, Reading<'_>),
    whole: &mut Whole<'o>,
    outputs: (&'o Output, Option<&'o Output>),
    (schema, apps): (&SchemaRef, Apps<'_>),
    first: bool,
) -> Result<Counts, Failed> {
    catch_unwind(AssertUnwindSafe(|| match &mut whole.output {
        Some(w) => runner.run(
            part,
            reading,
            Sinks {
                output: w,
                rejects: whole.rejects.as_mut(),
            },
        ),
        None => own_part(runner, (part, reading), outputs, (schema, apps), first),
    }))
    .unwrap_or_else(|p| {
        Err(Failed {
            error: anyhow::anyhow!(
                "part {} panicked: {}",
                part.index,
                panic_message(p.as_ref())
            ),
            rows_sent: 0,
            writer_broken: true,
        })
    })
}

/// A part with writers of its own (a part file, or a Delta commit): streamed, then its
/// rejects and its rows committed — rejects first, since the output part is what marks the
/// part done — or, on failure, both writers aborted so nothing of it is visible.
/// The Delta transaction ids a part commits under: the job's (`job#shard`) while parts commit
/// in order, else the part's own (`job#shard@index`). Rejects always use the part's own: they
/// commit before the rows, so if the rows' commit then fails, the rerun's rejects commit finds
/// them already there instead of adding them twice.
#[derive(Clone, Copy)]
struct Apps<'a> {
    job: &'a str,
    ordered: bool,
}

fn own_part(
    runner: &PartRunner<'_>,
    (part, reading): (&Part, Reading<'_>),
    (output, rejects): (&Output, Option<&Output>),
    (schema, apps): (&SchemaRef, Apps<'_>),
    first: bool,
) -> Result<Counts, Failed> {
    let failed = |error: anyhow::Error| Failed {
        error,
        rows_sent: 0,
        writer_broken: true,
    };
    let own = format!("{}@{}", apps.job, part.index);
    let app = if apps.ordered { apps.job } else { &own };
    let mut w = output
        .writer(schema, part.index, app, first)
        .map_err(failed)?;
    let rejects = rejects.map(|r| r.writer(&rejects_schema(), part.index, &own, first));
    let mut r = match rejects {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            w.abort();
            return Err(failed(e));
        }
        None => None,
    };
    let outcome = runner.run(
        part,
        reading,
        Sinks {
            output: &mut w,
            rejects: r.as_mut(),
        },
    );
    let counts = match outcome {
        Ok(c) => c,
        Err(f) => {
            w.abort();
            if let Some(r) = r {
                r.abort();
            }
            return Err(f);
        }
    };
    if let Some(r) = r {
        if let Err(e) = r.commit() {
            w.abort();
            return Err(failed(e));
        }
    }
    w.commit().map_err(failed)?;
    Ok(counts)
}

fn add(sum: &mut RunSummary, c: Counts) {
    sum.rows_in += c.rows_in;
    sum.rows_passed += c.passed;
    sum.rows_rejected += c.rejected;
    sum.rows_out += c.rows_out;
    for (stage, n) in c.rejected_by {
        *sum.rejected_by.entry(stage).or_default() += n;
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

/// Fault injection for the crash tests, once part k's rows are encoded but not committed:
/// `DISCO_CRASH_AT_PART=k` aborts the process (like `kill -9`: no unwinding, no cleanup);
/// `DISCO_HANG_AT_PART=k` stops there for good, so a scheduler can kill the task mid-run.
pub(crate) fn crash_point(part: usize) {
    let at = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok()) == Some(part);
    if at("DISCO_CRASH_AT_PART") {
        std::process::abort();
    }
    if at("DISCO_HANG_AT_PART") {
        tracing::warn!("part {part}: DISCO_HANG_AT_PART: waiting to be killed");
        loop {
            std::thread::park();
        }
    }
}
