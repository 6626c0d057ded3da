//! `disco sql "SELECT ..."`: a query over the catalog's tables and any URI, written where
//! `disco read` writes (NDJSON on stdout by default, or any table Disco writes with `-o`),
//! through the same output path. Rows a reader cannot decode are counted on stderr and kept
//! in a rejects table beside the output.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use clap::Args;

use disco::catalog::Catalog;
use disco::pipeline::{read_rejects_batch, rejects_schema};
use disco::sql::{SqlOptions, SqlSession, DEFAULT_MEMORY_LIMIT};
use disco::table::{Output, ReadReject, WriteOptions};

use super::pipe::{output_format, ReadArgs};

#[derive(Args, Debug)]
pub struct SqlCmd {
    /// The query. Tables are catalog names, or URIs, paths and globs in double quotes:
    /// SELECT count(*) FROM "pond://trips/*.csv".
    query: String,
    /// Output format: ndjson (default on stdout), csv, parquet (to a file, with -o).
    #[arg(long)]
    format: Option<String>,
    /// Where to write: `-` (stdout) or any table Disco writes (catalog name, URI, path).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Where rows that could not be read go (default: beside the output; with stdout, only
    /// counted on stderr).
    #[arg(long)]
    rejects: Option<String>,
    /// Memory the query's operators may hold (sorts, joins and aggregations spill to disk
    /// past it): bytes, or with K, M, G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<usize>,
    #[command(flatten)]
    read: ReadArgs,
}

/// `512M`, `2G`, `1048576`.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: usize = num.parse().map_err(|_| format!("not a size: `{s}`"))?;
    let k = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1,
        "K" | "KI" => 1 << 10,
        "M" | "MI" => 1 << 20,
        "G" | "GI" => 1 << 30,
        "T" | "TI" => 1 << 40,
        _ => return Err(format!("not a size: `{s}` (bytes, or K, M, G)")),
    };
    n.checked_mul(k).ok_or_else(|| format!("too large: `{s}`"))
}

pub fn run(catalog: &Catalog, args: &SqlCmd) -> Result<ExitCode> {
    let write = WriteOptions {
        format: output_format(args.format.as_deref())?,
        ..Default::default()
    };
    let rejects_uri = match &args.rejects {
        Some(r) => Some(r.clone()),
        None => disco::default_rejects(&args.output),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ReadReject>>(16);
    let opts = SqlOptions {
        read: args.read.options()?,
        memory_limit: args.memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT),
        rejects: Some(Arc::new(move |r| {
            let _ = tx.send(r);
        })),
        ..Default::default()
    };
    let (rows, rejected) = std::thread::scope(|scope| -> Result<(u64, u64)> {
        let keeper = scope.spawn(|| keep_rejects(catalog, rejects_uri.as_deref(), rx));
        let rows = query(catalog, args, opts, write);
        // The session (and with it every sender) is gone: the keeper ends.
        let rejected = keeper
            .join()
            .map_err(|_| anyhow!("the rejects writer panicked"))?;
        let rows = rows?;
        Ok((rows, rejected?))
    })?;
    if args.output != "-" || !std::io::stdout().is_terminal() {
        eprintln!(
            "{rows} rows{}",
            match (rejected, &args.rejects, args.output.as_str()) {
                (0, _, _) => String::new(),
                (n, None, "-") =>
                    format!(", {n} rows could not be read (not kept: give --rejects)"),
                (n, _, _) => format!(
                    ", {n} rows could not be read (kept in {})",
                    args.rejects
                        .clone()
                        .or_else(|| disco::default_rejects(&args.output))
                        .unwrap_or_default()
                ),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Plans the query (nothing is read before the plan and the output are checked), then
/// streams its rows into the output; the output appears only when every row is written.
fn query(catalog: &Catalog, args: &SqlCmd, opts: SqlOptions, write: WriteOptions) -> Result<u64> {
    let session = SqlSession::new(opts)?;
    let q = session.query(catalog, &args.query)?;
    let output = Output::open(catalog, &args.output, write)?;
    output.check(&q.schema)?;
    let schema = q.schema.clone();
    let mut w = output.writer(&schema, 0, "sql", true)?;
    let written = (|| -> Result<()> {
        for b in q.rows()? {
            w.write(&b?)?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => {
            let rows = w.rows();
            w.commit()?;
            Ok(rows)
        }
        Err(e) => {
            w.abort();
            Err(e)
        }
    }
}

/// Counts read rejects, prints the first few, and writes them all to `uri` when given (the
/// table appears only if there are any).
fn keep_rejects(
    catalog: &Catalog,
    uri: Option<&str>,
    rx: std::sync::mpsc::Receiver<Vec<ReadReject>>,
) -> Result<u64> {
    let output = uri
        .map(|u| Output::open(catalog, u, WriteOptions::default()))
        .transpose()?;
    if let Some(o) = &output {
        o.check(&rejects_schema())?;
    }
    let mut writer = None;
    let mut n = 0u64;
    for batch in rx {
        for r in batch.iter().take(10usize.saturating_sub(n as usize)) {
            eprintln!("rejected: {}:{}: {}", r.file, r.line, r.reason);
        }
        n += batch.len() as u64;
        if let Some(o) = &output {
            if writer.is_none() {
                writer = Some(o.writer(&rejects_schema(), 0, "sql", true)?);
            }
            if let Some(w) = writer.as_mut() {
                w.write(&read_rejects_batch(batch)?)?;
            }
        }
    }
    if let Some(w) = writer {
        w.commit()?;
    }
    Ok(n)
}
