//! The command line: the only code that prints to stdout. Errors are walked once at the top:
//! a closed pipe exits 0 (`disco tree . | head` is not a failure), anything else prints its
//! chain of causes and exits 1; usage errors exit 2.

mod catalog;
mod pipe;
mod servers;
#[cfg(feature = "sql")]
mod sql;
mod tree;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "disco",
    version,
    about = "Use volumes, tables, tokenizers, models, validators and language servers by name"
)]
struct Cli {
    /// The catalog file (default: disco.toml in the current directory or a parent).
    #[arg(long, global = true, env = "DISCO_CATALOG", value_name = "PATH")]
    catalog: Option<PathBuf>,
    /// More logging on stderr (-v, -vv); `DISCO_LOG` takes a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse every file of a volume and write semantic-tree records.
    Tree(tree::TreeArgs),
    /// List or show the catalog's resources.
    Catalog {
        #[command(subcommand)]
        command: catalog::CatalogCommand,
    },
    /// List the languages Disco parses and how it detects them.
    Languages,
    /// Serve the Language Server Protocol on stdio, for editors (VS Code: editors/vscode).
    Lsp {
        /// Accepted for clients that pass it: stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Read a table (Parquet, CSV, NDJSON, text, blobs, HTML; compressed or not) and write it
    /// out (NDJSON on stdout by default).
    Read(pipe::ReadCmd),
    /// Run a pipeline: a catalog pipeline, a pipeline file, or ad hoc stages.
    Run(pipe::RunCmd),
    /// Query tables with SQL: catalog tables by name, files and globs by URI in double
    /// quotes (NDJSON on stdout by default).
    #[cfg(feature = "sql")]
    Sql(sql::SqlCmd),
    /// List, check and install language servers.
    Servers {
        #[command(subcommand)]
        command: servers::ServersCommand,
    },
}

/// Runs the command line and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let load_catalog = || -> anyhow::Result<disco::catalog::Catalog> {
        let cwd = std::env::current_dir()?;
        Ok(disco::catalog::Catalog::discover(
            cli.catalog.as_deref(),
            &cwd,
        )?)
    };
    match &cli.command {
        Command::Tree(args) => tree::run(&load_catalog()?, args),
        Command::Catalog { command } => catalog::run(&load_catalog()?, command),
        Command::Read(args) => pipe::read(&load_catalog()?, args),
        Command::Run(args) => pipe::run(&load_catalog()?, args),
        #[cfg(feature = "sql")]
        Command::Sql(args) => sql::run(&load_catalog()?, args),
        Command::Servers { command } => servers::run(&load_catalog()?, command),
        Command::Lsp { .. } => {
            let options = disco::server::ServerOptions {
                catalog: cli.catalog.clone(),
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(disco::server::serve(
                tokio::io::stdin(),
                tokio::io::stdout(),
                options,
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Languages => {
            catalog::languages()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8) {
    // The Delta kernel logs every error it returns; Disco reports those itself, once, with
    // the table's name, so the kernel's own log starts at -vv.
    let default = match verbose {
        0 => "warn,delta_kernel=off,delta_kernel_default_engine=off",
        1 => "info,delta_kernel=off,delta_kernel_default_engine=off",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DISCO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
