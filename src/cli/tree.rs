//! `disco tree PATH|URI`: records for every file of a volume, in path order.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use disco::catalog::Catalog;
use disco::lsp::{SessionConfig, Supervisor, SupervisorConfig};
use disco::syntax::detect;
use disco::syntax::language_by_name;
use disco::table::put::AtomicPut;
use disco::table::{files_path, TreeParquetWriter};
use disco::tree::{
    self, Enricher, FileOutput, Format, FullPlan, LspLevel, Payload, Sink, Summary, TextMode,
    TreeOptions,
};
use disco::volume::{Cache, Entry, ListOptions, TextEncoding, Volume};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;

#[derive(Args)]
pub struct TreeArgs {
    /// A directory, file, catalog URI (`repo://src/`) or built-in URI (`s3://bucket/prefix`).
    #[arg(default_value = ".")]
    target: String,
    /// Flat records: a file record, then one record per node, definition and unit.
    #[arg(long)]
    flat: bool,
    /// `jsonl` (default) or `parquet` (flat node rows; needs -o; files go to OUT.files.parquet).
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutputFormat,
    /// Write here instead of stdout (atomically: a temporary file, then a rename).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
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
enum OutputFormat {
    Jsonl,
    Parquet,
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

struct ParquetSink {
    writer: TreeParquetWriter,
    progress: Option<ProgressBar>,
}

impl Sink for ParquetSink {
    fn write(&mut self, file: FileOutput) -> std::io::Result<()> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        match file.payload {
            Payload::Rows(rows) => self.writer.write(*rows).map_err(std::io::Error::other),
            _ => Ok(()),
        }
    }
}

pub fn run(catalog: &Catalog, args: &TreeArgs) -> anyhow::Result<ExitCode> {
    let location = catalog.resolve(&args.target)?;
    let volume = Volume::open(&location.volume)?;
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
    let format = match (args.parse_only, args.format, args.flat) {
        (true, _, _) => Format::ParseOnly,
        (false, OutputFormat::Parquet, _) => Format::Rows,
        (false, OutputFormat::Jsonl, true) => Format::Flat,
        (false, OutputFormat::Jsonl, false) => Format::Nested,
    };
    let opts = TreeOptions {
        format,
        text: match args.text {
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
    let entries = volume.list(&location.path, &list_opts)?;
    let level = match args.lsp {
        _ if format == Format::ParseOnly => LspLevel::None,
        LspArg::None => LspLevel::None,
        LspArg::Symbols => LspLevel::Symbols,
        LspArg::Full => LspLevel::Full,
    };
    let lsp_runtime = (level > LspLevel::None).then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("disco-lsp")
            .enable_all()
            .build()
    });
    let lsp_runtime = lsp_runtime
        .transpose()
        .context("cannot start the language-server runtime")?;
    let mut opts = opts;
    if let Some(rt) = &lsp_runtime {
        let root = match volume.local_root() {
            Some(root) => root.to_path_buf(),
            None => Cache::default_location()
                .materialize(&volume, &location.path, &list_opts, args.max_bytes)
                .context("cannot materialise the volume for language servers")?,
        };
        let timeout = Duration::from_secs_f64(args.lsp_timeout.max(0.1));
        let config = SupervisorConfig {
            session: SessionConfig {
                request_timeout: timeout,
                startup_timeout: timeout.max(Duration::from_secs(60)),
                max_in_flight: 16,
            },
            ..SupervisorConfig::default()
        };
        let supervisor = Arc::new(Supervisor::new(catalog, config));
        report_missing_servers(&supervisor, &entries, &opts);
        opts.enricher = Some(Arc::new(Enricher {
            supervisor,
            level,
            runtime: rt.handle().clone(),
            root,
            push_wait: Duration::from_secs(10),
            only: (!args.lsp_only.is_empty()).then(|| args.lsp_only.clone()),
            plan: match args.lsp_plan {
                PlanArg::Definitions => FullPlan::Definitions,
                PlanArg::Requests => FullPlan::Requests,
            },
        }));
    }
    // Workers mostly wait on servers when enriching: more of them keep the servers busy.
    // At `full` a file sends its definitions as one pipelined batch, which keeps a server's
    // queue full by itself; more files at once only hold more documents open (measured on
    // the requests sdist: --jobs 1 took 108 s of wall where 8 took 130 s, same server CPU).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(match level {
        LspLevel::None => cores,
        LspLevel::Symbols => cores * 4,
        LspLevel::Full => cores,
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
    let summary = match (format, &args.output) {
        (Format::Rows, None) => {
            bail!("--format parquet needs -o FILE (the node table; files go to FILE.files.parquet)")
        }
        (Format::Rows, Some(path)) => {
            let mut sink = ParquetSink {
                writer: TreeParquetWriter::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
                progress: progress.clone(),
            };
            let summary = tree::run(&volume, &entries, &opts, jobs, &mut sink)?;
            sink.writer
                .finish()
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "disco: wrote {} and {}",
                path.display(),
                files_path(path).display()
            );
            summary
        }
        (_, Some(path)) => {
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
        (_, None) => {
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
    if let (Some(rt), Some(en)) = (&lsp_runtime, &opts.enricher) {
        rt.block_on(en.supervisor.shutdown(Duration::from_secs(3)));
    }
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
