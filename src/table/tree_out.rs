//! The relational form of `disco tree` written as tables: one output per tree table
//! (`BASE/files`, `BASE/nodes`, ...; `tree::tables`), each through the table layer like any
//! other output (a folder of Parquet part files, a Delta table, an Iceberg table of a
//! catalog). Rows stream out in batches as files finish, so memory does not grow with the
//! volume, and nothing appears until every table's part commits.

use anyhow::{anyhow, bail, Context, Result};

use super::lake::{self, Progress};
use super::write::{Output, OutputFormat, PartWriter, WriteOptions};
use crate::catalog::{Catalog, TableDef, TableFormat};
use crate::tree::tables::{TreeRows, TreeTable};
use crate::tree::FileRows;

/// Rows a table buffers before they go to its writer as one batch.
const BATCH_ROWS: usize = 16 * 1024;

/// The tables of a tree output, opened and checked.
pub struct TreeOutputs {
    base: String,
    outputs: Vec<(TreeTable, Output)>,
}

impl TreeOutputs {
    /// Opens `BASE/<table>` for every tree table in `format` (`parquet`: a folder of part
    /// files each; `delta`: a Delta table each; `iceberg`: BASE is `CATALOG.NAMESPACE` and
    /// the tables are `NAMESPACE.<table>` of that `[catalogs.CATALOG]`), and checks that each
    /// can hold its rows (an existing table with another schema is an error), before any file
    /// is read.
    pub fn open(catalog: &Catalog, base: &str, format: OutputFormat) -> Result<TreeOutputs> {
        let opts = WriteOptions {
            format: Some(format),
            ..WriteOptions::default()
        };
        let mut outputs = Vec::new();
        let iceberg = matches!(format, OutputFormat::Lake("iceberg"));
        let mut catalog = catalog.clone();
        for t in TreeTable::ALL {
            let uri = if iceberg {
                let (cat, ns) = base.split_once('.').ok_or_else(|| {
                    anyhow!("an Iceberg tree output is CATALOG.NAMESPACE (a `[catalogs.NAME]` of disco.toml and a namespace), not `{base}`")
                })?;
                if !catalog.catalogs.contains_key(cat) {
                    bail!("no catalog `{cat}` in disco.toml (`[catalogs.{cat}]`) for the Iceberg tree tables");
                }
                let name = format!("{ns}.{}", t.name());
                catalog.tables.insert(
                    name.clone(),
                    TableDef {
                        name: name.clone(),
                        url: String::new(),
                        format: TableFormat::Iceberg,
                        catalog: Some(cat.to_string()),
                        table: Some(name.clone()),
                        partition_by: Vec::new(),
                        version: None,
                        options: Default::default(),
                        line: 0,
                    },
                );
                name
            } else {
                format!("{}/{}", base.trim_end_matches('/'), t.name())
            };
            let out = Output::open(&catalog, &uri, opts.clone())
                .with_context(|| format!("cannot open the {} table {uri}", t.name()))?;
            out.check(&t.schema())
                .with_context(|| format!("the {} table {uri}", t.name()))?;
            outputs.push((t, out));
        }
        Ok(TreeOutputs {
            base: base.to_string(),
            outputs,
        })
    }

    /// Where the tables are, for messages.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Which tables already hold part `index` of job `app` (a lakehouse table's recorded
    /// transaction; part files are rewritten whole, so they never count as done).
    pub fn done(&self, app: &str, index: usize) -> Result<Vec<bool>> {
        self.outputs
            .iter()
            .map(|(_, o)| {
                let p: Progress = o.progress(app, &[index])?;
                Ok(p.done(index))
            })
            .collect()
    }

    /// Writers of part `index` for the tables not `done` (all when `done` is empty).
    pub fn writer(&self, app: &str, index: usize, done: &[bool]) -> Result<TreeWriter<'_>> {
        let mut parts = Vec::new();
        for (k, (t, out)) in self.outputs.iter().enumerate() {
            if done.get(k).copied().unwrap_or(false) {
                continue;
            }
            match out.writer(&t.schema(), index, app, false) {
                Ok(w) => parts.push((*t, w)),
                Err(e) => {
                    for (_, w) in parts {
                        w.abort();
                    }
                    return Err(e.context(format!("cannot write the {} table", t.name())));
                }
            }
        }
        let tables: Vec<TreeTable> = parts.iter().map(|(t, _)| *t).collect();
        Ok(TreeWriter {
            parts,
            rows: TreeRows::new(&tables),
        })
    }
}

/// One part of every tree table, being written.
pub struct TreeWriter<'a> {
    parts: Vec<(TreeTable, PartWriter<'a>)>,
    rows: TreeRows,
}

impl TreeWriter<'_> {
    /// Adds a file's rows; full batches go to their tables' writers.
    pub fn write(&mut self, file: &FileRows) -> Result<()> {
        self.rows.push(file);
        for (t, w) in &mut self.parts {
            if self.rows.rows(*t) >= BATCH_ROWS {
                w.write(&self.rows.take(*t)?)?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered and commits every table's part, `files` last (so a file
    /// listed there has all its rows in the other tables). On an error, the parts not yet
    /// committed are dropped.
    pub fn commit(mut self) -> Result<()> {
        let mut failed = None;
        for (t, w) in &mut self.parts {
            if self.rows.rows(*t) > 0 {
                if let Err(e) = self
                    .rows
                    .take(*t)
                    .map_err(Into::into)
                    .and_then(|b| w.write(&b))
                {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            self.abort();
            return Err(e);
        }
        let mut parts = std::mem::take(&mut self.parts);
        parts.sort_by_key(|(t, _)| *t == TreeTable::Files);
        let mut parts = parts.into_iter();
        let mut committed = 0;
        while let Some((t, w)) = parts.next() {
            if let Err(e) = w.commit() {
                for (_, w) in parts {
                    w.abort();
                }
                return Err(e.context(format!("cannot commit the {} table", t.name())));
            }
            committed += 1;
            crash_point(committed);
        }
        Ok(())
    }

    /// Drops every part: nothing of them is visible.
    pub fn abort(self) {
        for (_, w) in self.parts {
            w.abort();
        }
    }
}

/// Fault injection for the shard tests: `DISCO_CRASH_AFTER_TABLES=k` aborts the process
/// (like `kill -9`) once k tables have committed their part and the others have not.
fn crash_point(committed: usize) {
    if std::env::var("DISCO_CRASH_AFTER_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(committed)
    {
        std::process::abort();
    }
}

/// The output format called `name` for tree tables: a lakehouse format or a file format
/// that holds the tables (Parquet, CSV, NDJSON).
pub fn tree_format(name: &str) -> Result<OutputFormat> {
    let f = OutputFormat::parse(name).ok_or_else(|| {
        let mut known = vec!["jsonl"];
        known.extend(super::format::names(true));
        known.extend(lake::FORMATS.iter().map(|f| f.name()));
        anyhow!(
            "unknown output format `{name}` (known: {})",
            known.join(", ")
        )
    })?;
    Ok(f)
}
