//! `disco tree PATH|URI`: records for every file of a volume, in path order.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use disco::catalog::Catalog;
use disco::lsp::Supervisor;
use disco::pipeline::Shard;
use disco::syntax::detect;
use disco::syntax::language_by_name;
use disco::table::put::AtomicPut;
use disco::table::{tree_format, TreeOutputs, TreeWriter};
use disco::tree::{
    self, FileOutput, Format, FullPlan, LoadOptions, LspConfig, LspLevel, LspServers, Payload,
    ScipWriter, Sink, Summary, TextMode, TreeOptions,
};
use disco::volume::{Cache, Entry, ListOptions, TextEncoding, Volume};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args)]
pub struct TreeArgs {
    /// A directory, file, catalog URI (`repo://src/`) or built-in URI (`s3://bucket/prefix`).
    #[arg(default_value = ".")]
    target: String,
    /// Flat records: a file record, then one record per node, definition and unit.
    #[arg(long)]
    flat: bool,
    /// `jsonl` (default: the JSON records), or the relational form as tables under -o:
    /// `parquet` (a folder of part files per table), `delta` (a Delta table per table),
    /// `iceberg` (-o CATALOG.NAMESPACE), `csv`, `ndjson`; or `scip` (a SCIP index of the
    /// symbols, occurrences and diagnostics, written to the file -o names).
    #[arg(long, default_value = "jsonl")]
    format: String,
    /// Write here instead of stdout: a file for JSON lines (atomically: a temporary file,
    /// then a rename); for tables, the folder or URI they go under (`OUT/files`,
    /// `OUT/nodes`, ...).
    #[arg(short, long, value_name = "URI")]
    output: Option<String>,
    /// This process's shard `i/n` (0-based) of the listed files; also read from
    /// SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX with DISCO_WORLD_SIZE. Shards write
    /// into the same tables; a rerun of a shard whose rows a lakehouse table holds does
    /// nothing.
    #[arg(long)]
    shard: Option<String>,
    /// Only these languages (comma-separated: python,rust,...).
    #[arg(long, value_delimiter = ',', value_name = "LANG")]
    lang: Vec<String>,
    /// Only paths matching a glob (repeatable; `*` crosses `/`).
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Leave out paths matching a glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Decode every file with this encoding (a WHATWG label: windows-1252, shift_jis, gbk,
    /// utf-16le, ...; or utf-32le/utf-32be) instead of detecting one. A BOM still wins.
    #[arg(long, value_name = "NAME", value_parser = TextEncoding::for_label)]
    encoding: Option<TextEncoding>,
    /// Files larger than this get status `too_large` (suffixes K, M, G; KiB/MiB/GiB).
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    max_bytes: u64,
    /// Node text to include: none, leaves, or all nodes.
    #[arg(long, value_enum, default_value = "leaves")]
    text: TextArg,
    /// Worker threads (default: the number of cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Language servers: none (syntax only); symbols (document symbols, semantic tokens,
    /// folding, diagnostics, hover on definitions); full (also definitions, references, call
    /// hierarchy, implementations, type definitions).
    #[arg(long, value_enum, default_value = "symbols", env = "DISCO_LSP")]
    lsp: LspArg,
    /// Ask the servers only these LSP methods (comma-separated, e.g.
    /// textDocument/documentSymbol,textDocument/hover).
    #[arg(long, value_delimiter = ',', value_name = "METHODS")]
    lsp_only: Vec<String>,
    /// How `--lsp full` builds the reference graph: `definitions` (one `definition` per
    /// identifier, inverted into references and calls) or `requests` (references per
    /// symbol and call hierarchy, as before; kept to compare the two).
    #[arg(long, value_enum, default_value = "definitions", hide = true)]
    lsp_plan: PlanArg,
    /// Seconds a language-server request may take before it is cancelled.
    #[arg(long, default_value_t = 30.0)]
    lsp_timeout: f64,
    /// Include hidden files and folders.
    #[arg(long)]
    hidden: bool,
    /// Do not honour .gitignore / .ignore files.
    #[arg(long)]
    no_ignore: bool,
    /// Follow symbolic links that stay inside the volume.
    #[arg(long)]
    follow: bool,
    /// The nested format's depth limit; deeper trees get status too_deep (use --flat).
    #[arg(long, default_value_t = 1000)]
    max_depth: u32,
    /// Seconds a single file may take to parse.
    #[arg(long, default_value_t = 30.0)]
    parse_timeout: f64,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
    /// List, read and parse, but write nothing (measures the parse-only limit).
    #[arg(long, hide = true)]
    parse_only: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TextArg {
    None,
    Leaves,
    All,
}

#[derive(Clone, Copy, ValueEnum)]
enum LspArg {
    None,
    Symbols,
    Full,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PlanArg {
    Definitions,
    Requests,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 512K, 8MiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Writes JSON-line payloads to any writer.
struct JsonlSink<W: Write> {
    out: W,
    progress: Option<ProgressBar>,
}

impl<W: Write> Sink for JsonlSink<W> {
    fn write(&mut self, file: FileOutput) -> std::io::Result<()> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        match file.payload {
            Payload::Json(bytes) => self.out.write_all(&bytes),
            Payload::Rows(_) | Payload::Nothing => Ok(()),
        }
    }
}

/// Feeds the nested records to a SCIP index written atomically to `path`.
struct ScipSink {
    writer: ScipWriter<BufWriter<AtomicPut>>,
    progress: Option<ProgressBar>,
}

impl Sink for ScipSink {
    fn write(&mut self, file: FileOutput) -> std::io::Result<()> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        match file.payload {
            Payload::Json(bytes) => self.writer.add_lines(&bytes).map_err(std::io::Error::other),
            Payload::Rows(_) | Payload::Nothing => Ok(()),
        }
    }
}

fn write_scip(
    path: &std::path::Path,
    root: &str,
    run: impl FnOnce(&mut ScipSink) -> anyhow::Result<Summary>,
    progress: Option<ProgressBar>,
) -> anyhow::Result<Summary> {
    let put = AtomicPut::local(path.to_path_buf())
        .with_context(|| format!("cannot create {}", path.display()))?;
    let discard = put.discard();
    let result = (|| -> anyhow::Result<Summary> {
        let writer = ScipWriter::new(BufWriter::with_capacity(1 << 20, put), root)?;
        let mut sink = ScipSink { writer, progress };
        let summary = run(&mut sink)?;
        let (out, documents) = sink.writer.finish()?;
        out.into_inner().map_err(|e| e.into_error())?.commit()?;
        eprintln!("disco: wrote {} ({documents} documents)", path.display());
        Ok(summary)
    })();
    if result.is_err() {
        discard.run();
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes each file's rows to the tree tables.
struct TablesSink<'a> {
    writer: TreeWriter<'a>,
    progress: Option<ProgressBar>,
}

impl Sink for TablesSink<'_> {
    fn write(&mut self, file: FileOutput) -> std::io::Result<()> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        match file.payload {
            Payload::Rows(rows) => self.writer.write(&rows).map_err(std::io::Error::other),
            _ => Ok(()),
        }
    }
}

pub fn run(catalog: &Catalog, args: &TreeArgs) -> anyhow::Result<ExitCode> {
    // Everything that can be refused is refused before a file is listed or read.
    let table_format = match args.format.as_str() {
        "jsonl" | "scip" => None,
        name => Some(tree_format(name)?),
    };
    let scip = args.format == "scip" && !args.parse_only;
    if scip && args.output.is_none() {
        bail!("--format scip needs -o FILE (e.g. -o index.scip)");
    }
    let shard = match &args.shard {
        Some(s) => Shard::parse(s)?,
        None => Shard::from_env()?.unwrap_or_default(),
    };
    let location = catalog.resolve(&args.target)?;
    let volume = Volume::open(&location.volume)?;
    let tables = match (table_format, &args.output) {
        (None, _) => None,
        (Some(f), None) => bail!(
            "--format {} writes a folder of tables: give it with -o URI (OUT/files, OUT/nodes, ...)",
            f.name()
        ),
        (Some(f), Some(out)) => Some(TreeOutputs::open(catalog, out, f)?),
    };
    let languages = if args.lang.is_empty() {
        None
    } else {
        let mut langs = Vec::new();
        for name in &args.lang {
            let known: Vec<&str> = disco::syntax::languages()
                .iter()
                .map(|l| l.name.as_str())
                .collect();
            langs.push(language_by_name(name).with_context(|| {
                format!("unknown language `{name}` (known: {})", known.join(", "))
            })?);
        }
        Some(langs)
    };
    let format = match (args.parse_only, &tables, args.flat) {
        (true, _, _) => Format::ParseOnly,
        (false, Some(_), _) => Format::Rows,
        // SCIP is made from the nested records.
        (false, None, _) if scip => Format::Nested,
        (false, None, true) => Format::Flat,
        (false, None, false) => Format::Nested,
    };
    let opts = TreeOptions {
        format,
        text: match args.text {
            // SCIP holds positions, not text.
            _ if scip => TextMode::None,
            TextArg::None => TextMode::None,
            TextArg::Leaves => TextMode::Leaves,
            TextArg::All => TextMode::All,
        },
        max_bytes: args.max_bytes,
        max_depth: args.max_depth,
        parse_timeout: (args.parse_timeout > 0.0)
            .then(|| Duration::from_secs_f64(args.parse_timeout)),
        languages,
        enricher: None,
        encoding: args.encoding,
    };
    let list_opts = ListOptions {
        ignore_files: !args.no_ignore,
        hidden: args.hidden,
        follow_links: args.follow,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
    };
    let listed = volume.list(&location.path, &list_opts)?;
    let total = listed.len();
    let entries: Vec<Entry> = listed
        .into_iter()
        .enumerate()
        .filter(|(k, _)| shard.mine(*k))
        .map(|(_, e)| e)
        .collect();
    if shard.count > 1 {
        // Said, since the shard may come from the environment (an array job's variables).
        eprintln!(
            "disco tree: shard {}/{}: {} of {total} listed files",
            shard.index,
            shard.count,
            entries.len()
        );
    }
    // Tables: only what they do not hold yet, under a transaction id stable across reruns.
    let (entries, job) = match &tables {
        None => (entries, None),
        Some(t) => {
            let load = LoadOptions {
                max_bytes: opts.max_bytes,
                languages: opts.languages.clone(),
                encoding: opts.encoding,
            };
            let base = format!(
                "disco-tree {}:{}#{}/{}",
                volume.name(),
                location.path,
                shard.index,
                shard.count
            );
            let mut job = t.plan(catalog, &volume, entries, &load, &base, shard.index)?;
            if job.unchanged > 0 {
                eprintln!(
                    "disco tree: {} files unchanged since an earlier run (the tables hold them)",
                    job.unchanged
                );
            }
            if job.nothing_to_do() {
                eprintln!(
                    "disco tree: shard {}/{} is already in {}; nothing to do",
                    shard.index,
                    shard.count,
                    t.base()
                );
                return Ok(ExitCode::SUCCESS);
            }
            (std::mem::take(&mut job.entries), Some(job))
        }
    };
    let level = match args.lsp {
        _ if format == Format::ParseOnly => LspLevel::None,
        LspArg::None => LspLevel::None,
        LspArg::Symbols => LspLevel::Symbols,
        LspArg::Full => LspLevel::Full,
    };
    let mut opts = opts;
    let servers = if level > LspLevel::None {
        let root = match volume.local_root() {
            Some(root) => root.to_path_buf(),
            None => Cache::default_location()
                .materialize(&volume, &location.path, &list_opts, args.max_bytes)
                .context("cannot materialise the volume for language servers")?,
        };
        let servers = LspServers::start(
            catalog,
            LspConfig {
                level,
                root,
                timeout: Duration::from_secs_f64(args.lsp_timeout.max(0.1)),
                only: (!args.lsp_only.is_empty()).then(|| args.lsp_only.clone()),
                plan: match args.lsp_plan {
                    PlanArg::Definitions => FullPlan::Definitions,
                    PlanArg::Requests => FullPlan::Requests,
                },
            },
        )
        .context("cannot start the language-server runtime")?;
        report_missing_servers(&servers.enricher.supervisor, &entries, &opts);
        opts.enricher = Some(servers.enricher.clone());
        Some(servers)
    } else {
        None
    };
    // Workers mostly wait on servers when enriching: more of them keep the servers busy.
    // At `full` a file sends its definitions as one pipelined batch, which keeps a server's
    // queue full by itself, but a file waiting for its pushed diagnostics to settle does
    // not: two files per core. Measured on 2 cores, runs interleaved: requests sdist
    // (basedpyright) 43.0 and 43.7 s with --jobs 4 against 44.2 and 47.7 s with 2; mobx
    // (tsserver) 27.3 s against 32.9 s. (Eight were slower on basedpyright: 130 s where one
    // took 108 s, with more documents open.)
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(match level {
        LspLevel::None => cores,
        LspLevel::Symbols => cores * 4,
        LspLevel::Full => cores * 2,
    });
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(entries.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} {pos}/{len} files  {per_sec}  {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let summary = match (&tables, &args.output) {
        (Some(tables), _) => {
            let mut sink = TablesSink {
                writer: {
                    let job = job.as_ref().expect("a job for tables");
                    tables.writer(&job.app, shard.index, &job.done)?
                },
                progress: progress.clone(),
            };
            match tree::run(&volume, &entries, &opts, jobs, &mut sink) {
                Ok(summary) => {
                    sink.writer.commit().with_context(|| {
                        format!("cannot write the tables under {}", tables.base())
                    })?;
                    eprintln!("disco: wrote the tree tables under {}", tables.base());
                    summary
                }
                Err(e) => {
                    sink.writer.abort();
                    return Err(e)
                        .context(format!("cannot write the tables under {}", tables.base()));
                }
            }
        }
        (None, Some(path)) if scip => write_scip(
            std::path::Path::new(path),
            &location.volume.url,
            |sink| tree::run(&volume, &entries, &opts, jobs, sink).map_err(anyhow::Error::from),
            progress.clone(),
        )?,
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            let put = AtomicPut::local(path.clone())
                .with_context(|| format!("cannot create {}", path.display()))?;
            let discard = put.discard();
            let mut sink = JsonlSink {
                out: BufWriter::with_capacity(1 << 20, put),
                progress: progress.clone(),
            };
            let result = tree::run(&volume, &entries, &opts, jobs, &mut sink)
                .map_err(anyhow::Error::from)
                .and_then(|s| {
                    let put = sink.out.into_inner().map_err(|e| e.into_error())?;
                    put.commit().map(|_| s)
                });
            match result {
                Ok(s) => s,
                Err(e) => {
                    discard.run();
                    return Err(e).context(format!("cannot write {}", path.display()));
                }
            }
        }
        (None, None) => {
            let stdout = std::io::stdout().lock();
            let mut sink = JsonlSink {
                out: BufWriter::with_capacity(1 << 20, stdout),
                progress: progress.clone(),
            };
            let summary = tree::run(&volume, &entries, &opts, jobs, &mut sink)?;
            sink.out.flush()?;
            summary
        }
    };
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    // Shuts the servers down (with a deadline).
    opts.enricher = None;
    drop(servers);
    print_summary(&volume, &summary);
    Ok(ExitCode::SUCCESS)
}

fn print_summary(volume: &Volume, s: &Summary) {
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {}", k.as_str()))
        .collect();
    let mut langs: Vec<(&String, &u64)> = s.by_language.iter().collect();
    langs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let langs: Vec<String> = langs.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "disco tree: {} files from {} ({}) in {:.2} s, {}",
        s.files,
        volume.name(),
        statuses.join(", "),
        s.elapsed.as_secs_f64(),
        s.rate()
    );
    let _ = writeln!(err, "  by language: {}", langs.join(", "));
    if s.filtered > 0 {
        let _ = writeln!(err, "  left out by --lang: {} files", s.filtered);
    }
    for (server, statuses) in &s.by_server {
        let counts: Vec<String> = statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(err, "  {server}: {}", counts.join(", "));
    }
}

/// One line on stderr per language in the listing that no installed server handles.
fn report_missing_servers(supervisor: &Supervisor, entries: &[Entry], opts: &TreeOptions) {
    let mut seen = std::collections::BTreeSet::new();
    for e in entries {
        let Some(lang) = detect(&e.path, b"") else {
            continue;
        };
        if opts
            .languages
            .as_ref()
            .is_some_and(|set| !set.iter().any(|l| std::ptr::eq(*l, lang)))
            || !seen.insert(lang.name.as_str())
        {
            continue;
        }
        let servers = supervisor.servers_for(&lang.name, &lang.servers);
        if servers.is_empty() {
            eprintln!("disco: no language server is defined for {} (add one under [servers.NAME] in disco.toml); syntax only", lang.name);
        } else if !servers.iter().any(|(_, installed)| *installed) {
            let names: Vec<&str> = servers.iter().map(|(d, _)| d.name.as_str()).collect();
            eprintln!("disco: no language server installed for {} (try `disco servers install {}`); syntax only", lang.name, names[0]);
            let _ = names;
        }
    }
}
