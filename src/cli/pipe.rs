//! `disco read` and `disco run`.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;

use disco::catalog::{Catalog, PipelineDef, StageRef};
use disco::pipeline::{RejectsTo, RunRequest, Shard};
use disco::table::{
    parse_type, Input, InputFormat, Output, OutputFormat, ReadOptions, SchemaMode, WriteOptions,
};
use disco::Disco;

/// How to read (shared by `read` and `run`).
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Input format (default: from the file extension): parquet, csv, tsv, ndjson, lines,
    /// text, blob, html.
    #[arg(long, value_name = "FORMAT")]
    input_format: Option<String>,
    /// Decompress every input file with this codec (gzip or gz, zstd, bzip2, xz), whatever
    /// its extension.
    #[arg(long)]
    codec: Option<String>,
    /// Override an inferred column type: `col=type` (int64, int32, float64, float32, bool,
    /// string, binary, date, timestamp). Repeatable.
    #[arg(long = "schema", value_name = "COL=TYPE")]
    schema: Vec<String>,
    /// Rows per batch.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Decode text, lines and html input with this encoding (a WHATWG label: windows-1252,
    /// shift_jis, gbk, utf-16le, ...) instead of detecting one. A BOM still wins.
    #[arg(long, value_name = "NAME", value_parser = disco::volume::TextEncoding::for_label)]
    encoding: Option<disco::volume::TextEncoding>,
}

impl ReadArgs {
    pub(super) fn options(&self) -> Result<ReadOptions> {
        let mut o = ReadOptions::default();
        if let Some(f) = &self.input_format {
            o.format =
                Some(InputFormat::parse(f).ok_or_else(|| anyhow!("unknown input format `{f}`"))?);
        }
        if let Some(c) = &self.codec {
            o.codec = Some(
                disco::volume::Codec::from_name(c)
                    .ok_or_else(|| anyhow!("unknown codec `{c}` (gzip/gz, zstd, bzip2, xz)"))?,
            );
        }
        for s in &self.schema {
            let (col, ty) = s
                .split_once('=')
                .ok_or_else(|| anyhow!("--schema takes COL=TYPE, not `{s}`"))?;
            o.schema.push((
                col.to_string(),
                parse_type(ty).ok_or_else(|| anyhow!("unknown type `{ty}`"))?,
            ));
        }
        if let Some(n) = self.batch_size {
            o.batch_size = n.max(1);
        }
        o.encoding = self.encoding;
        Ok(o)
    }
}

#[derive(Args, Debug)]
pub struct ReadCmd {
    /// A table: catalog name, `name://path`, URI, path or glob.
    uri: String,
    /// Only the first N rows.
    #[arg(long, value_name = "N")]
    head: Option<usize>,
    /// Output format (default ndjson on stdout, else from the extension).
    #[arg(long)]
    format: Option<String>,
    /// Where to write (default: stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    #[command(flatten)]
    read: ReadArgs,
}

pub(super) fn output_format(name: Option<&str>) -> Result<Option<OutputFormat>> {
    name.map(|f| {
        OutputFormat::parse(f)
            .ok_or_else(|| anyhow!("unknown format `{f}` (parquet, delta, csv, ndjson)"))
    })
    .transpose()
}

pub fn read(catalog: &Catalog, args: &ReadCmd) -> Result<ExitCode> {
    let input = Input::open(catalog, &args.uri, args.read.options()?)?;
    let write = WriteOptions {
        format: output_format(args.format.as_deref())?,
        ..Default::default()
    };
    let output = Output::open(catalog, &args.output, write)?;
    output.check(&input.schema)?;
    let mut w = output.writer(&input.schema, 0, "read", true)?;
    let mut left = args.head.unwrap_or(usize::MAX);
    let mut rejected = 0usize;
    let mut failed = Vec::new();
    for part in &input.parts {
        // A part that fails (an error, or a panic in a reader) is reported and the others
        // are still read, as `disco run` does.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<()> {
            for rb in input.read_part(part)? {
                let rb = rb?;
                for r in &rb.rejects {
                    rejected += 1;
                    eprintln!("rejected: {}:{}: {}", r.file, r.line, r.reason);
                }
                let b = rb.batch.slice(0, rb.batch.num_rows().min(left));
                left -= b.num_rows();
                w.write(&b)?;
                if left == 0 {
                    break;
                }
            }
            Ok(())
        }));
        let error = match read {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(p) => Some(format!("panicked: {}", disco::panic_message(p.as_ref()))),
        };
        if let Some(e) = error {
            eprintln!(
                "disco read: part {} ({}) failed: {e}",
                part.index,
                part.label()
            );
            failed.push(part.index);
        }
        if left == 0 {
            break;
        }
    }
    let rows = w.rows();
    w.commit()?;
    if args.output != "-" || !std::io::stdout().is_terminal() || !failed.is_empty() {
        eprintln!(
            "read {rows} rows{}{}",
            if rejected > 0 {
                format!(", {rejected} rows could not be read")
            } else {
                String::new()
            },
            match failed.len() {
                0 => String::new(),
                n => format!(", {n} of {} parts failed", input.parts.len()),
            }
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Args, Debug)]
pub struct RunCmd {
    /// A pipeline of the catalog, or a pipeline file (TOML with input, stages, output...).
    target: Option<String>,
    /// Ad hoc: the input table.
    #[arg(long)]
    input: Option<String>,
    /// Ad hoc: a stage (catalog validator, tokenizer or model, or tree, select, rename,
    /// filter, explode); repeatable, in order.
    #[arg(long = "stage", value_name = "NAME")]
    stages: Vec<String>,
    /// Ad hoc: the output table (`-` for stdout).
    #[arg(long)]
    output: Option<String>,
    /// Where rejected rows go (default: beside the output).
    #[arg(long)]
    rejects: Option<String>,
    /// Output format: parquet, delta, csv, ndjson.
    #[arg(long)]
    format: Option<String>,
    /// Replace the table's rows instead of appending (Delta, Iceberg).
    #[arg(long)]
    overwrite: bool,
    /// Partition column of a Delta or Iceberg table (identity partitions), when the run
    /// creates it; an existing table's must match. Repeatable.
    #[arg(long = "partition-by", value_name = "COL")]
    partition_by: Vec<String>,
    /// Rows whose columns differ from an existing Delta table's: `strict` (an error) or
    /// `merge` (add the new columns to the table, nullable; missing ones are written as null).
    #[arg(long = "schema-mode", value_name = "MODE", default_value = "strict")]
    schema_mode: String,
    /// This process's shard `i/n` (0-based); also read from SLURM_ARRAY_TASK_ID/COUNT or
    /// JOB_COMPLETION_INDEX with DISCO_WORLD_SIZE.
    #[arg(long)]
    shard: Option<String>,
    /// Redo every part, ignoring what earlier runs committed.
    #[arg(long)]
    fresh: bool,
    /// The job's name, for resuming (default: the pipeline's name, or input>stages>output).
    #[arg(long)]
    job: Option<String>,
    /// No progress bars.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    read: ReadArgs,
}

fn pipeline_file(catalog: &Catalog, path: &Path) -> Result<(Catalog, PipelineDef)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    // A pipeline file holds the pipeline's keys at the top, and may define resources too;
    // the catalog's resources are visible from it.
    let base = match &catalog.path {
        Some(p) => std::fs::read_to_string(p)?,
        None => String::new(),
    };
    let combined = if value.contains_key("input") {
        let (top, rest): (Vec<&str>, Vec<&str>) = split_top(&text);
        format!(
            "{base}\n{}\n[pipelines.{name}]\n{}\n",
            rest.join("\n"),
            top.join("\n")
        )
    } else {
        format!("{base}\n{text}")
    };
    let cat = Catalog::parse(&combined, path)?;
    let def = match cat.pipelines.get(&name) {
        Some(d) => d.clone(),
        None if cat.pipelines.len() == 1 => cat.pipelines.values().next().cloned().expect("one"),
        None => bail!(
            "{}: which pipeline? it defines {:?}",
            path.display(),
            cat.pipelines.keys().collect::<Vec<_>>()
        ),
    };
    Ok((cat, def))
}

/// Splits a TOML text into its top-level key lines and the tables after them.
fn split_top(text: &str) -> (Vec<&str>, Vec<&str>) {
    let mut top = Vec::new();
    let mut rest = Vec::new();
    let mut in_tables = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[')
            && !line.trim_start().starts_with("[[")
            && !in_tables
            && line
                .trim_start()
                .chars()
                .nth(1)
                .is_some_and(|c| c != ' ' && c != '"' && c != '{')
        {
            in_tables = true;
        }
        if in_tables {
            rest.push(line)
        } else {
            top.push(line)
        }
    }
    (top, rest)
}

pub fn run(catalog: &Catalog, args: &RunCmd) -> Result<ExitCode> {
    let (cat, def) = match (&args.target, &args.input) {
        (Some(t), None) if catalog.pipelines.contains_key(t) => {
            (catalog.clone(), catalog.pipelines[t].clone())
        }
        (Some(t), None) if Path::new(t).is_file() => pipeline_file(catalog, Path::new(t))?,
        (Some(t), None) => bail!(
            "`{t}` is neither a pipeline of {} (known: {}) nor a pipeline file",
            catalog.origin(),
            catalog
                .pipelines
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (None, Some(input)) => (
            catalog.clone(),
            PipelineDef {
                name: String::new(),
                input: input.clone(),
                stages: args
                    .stages
                    .iter()
                    .map(|s| StageRef {
                        name: s.clone(),
                        options: toml::Table::new(),
                    })
                    .collect(),
                output: Some(
                    args.output
                        .clone()
                        .ok_or_else(|| anyhow!("--input needs --output"))?,
                ),
                rejects: None,
                format: None,
                batch_size: None,
                line: 0,
            },
        ),
        (Some(_), Some(_)) => bail!("give a pipeline or --input, not both"),
        (None, None) => bail!("give a pipeline (name or file), or --input ... --output ..."),
    };
    let mut def = def;
    if let Some(o) = &args.output {
        def.output = Some(o.clone());
    }
    // The same request the editor and the Rust API build; the flags override what the
    // pipeline says.
    let mut req = RunRequest::from_def(&def)?;
    let batch_size = req.read.batch_size;
    req.read = args.read.options()?;
    if args.read.batch_size.is_none() {
        req.read.batch_size = batch_size;
    }
    if let Some(r) = &args.rejects {
        req.destination.rejects = RejectsTo::At(r.clone());
    }
    if let Some(f) = output_format(args.format.as_deref())? {
        req.destination.write.format = Some(f);
    }
    req.destination.write.partition_by = args.partition_by.clone();
    req.destination.write.overwrite = args.overwrite;
    req.destination.write.schema_mode = match args.schema_mode.as_str() {
        "strict" => SchemaMode::Strict,
        "merge" => SchemaMode::Merge,
        other => bail!("unknown --schema-mode `{other}` (strict or merge)"),
    };
    // Without --shard, the runner reads the array job's environment (as for every entry
    // point).
    req.run.shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    req.run.fresh = args.fresh;
    req.run.progress = !args.quiet && std::io::stderr().is_terminal();
    if let Some(job) = &args.job {
        req.run.job = job.clone();
    }
    let summary = Disco::with_catalog(cat).run(&req)?;
    eprintln!("{}", summary.line());
    Ok(if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
