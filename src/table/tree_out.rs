//! The relational form of `disco tree` written as tables: one output per tree table
//! (`BASE/files`, `BASE/nodes`, ...; `tree::tables`), each through the table layer like any
//! other output (a folder of Parquet part files, a Delta table, an Iceberg table of a
//! catalog). Rows stream out in batches as files finish, so memory does not grow with the
//! volume, and nothing appears until every table's part commits.

use std::collections::HashSet;

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::lake::{self, Progress};
use super::read::{Input, InputFormat, ReadOptions};
use super::write::{Output, OutputFormat, PartWriter, WriteOptions};
use crate::catalog::{Catalog, TableDef, TableFormat};
use crate::tree::tables::{TreeRows, TreeTable};
use crate::tree::{load as load_source, FileRows, LoadOptions};
use crate::volume::{Entry, Volume};

/// Rows a table buffers before they go to its writer ([`Part::flush`] says in what batches).
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

    /// The `(path, sha256)` of the files among `paths` that the `files` table holds
    /// (`sha256` empty for files that were not read), when it is a lakehouse table in a
    /// folder: a rerun leaves those files out. `None` for other outputs, which are written
    /// whole each time.
    pub fn known_files(
        &self,
        catalog: &Catalog,
        paths: &HashSet<&str>,
    ) -> Result<Option<HashSet<(String, String)>>> {
        let Some((_, out)) = self.outputs.iter().find(|(t, _)| *t == TreeTable::Files) else {
            return Ok(None);
        };
        let OutputFormat::Lake(format) = out.format else {
            return Ok(None);
        };
        let mut known = HashSet::new();
        if format != "delta" {
            return Ok(None);
        }
        if !out.table_exists() {
            return Ok(Some(known));
        }
        let opts = ReadOptions {
            format: InputFormat::parse(format),
            ..ReadOptions::default()
        };
        let input = Input::open(catalog, &out.uri, opts)
            .with_context(|| format!("cannot read the files table {}", out.uri))?;
        for part in &input.parts {
            for batch in input.read_part(part)? {
                let b = batch?.batch;
                let (Some(path), Some(sha)) =
                    (b.column_by_name("path"), b.column_by_name("sha256"))
                else {
                    bail!(
                        "{}: not a files table (no path and sha256 columns)",
                        out.uri
                    );
                };
                let (path, sha) = (cast(path, &DataType::Utf8)?, cast(sha, &DataType::Utf8)?);
                let (path, sha) = (path.as_string::<i32>(), sha.as_string::<i32>());
                for i in 0..b.num_rows() {
                    let p = path.value(i);
                    if paths.contains(p) {
                        let h = if sha.is_null(i) { "" } else { sha.value(i) };
                        known.insert((p.to_string(), h.to_string()));
                    }
                }
            }
        }
        Ok(Some(known))
    }

    /// This shard's work, against what the tables hold: every listed file whose content the
    /// `files` table does not hold yet (a Delta output; all of them otherwise), and the
    /// shard's transaction id, `base_app` + a hash of that set — so a killed run's rerun has
    /// the same id and skips the tables it committed, and a later run over changed files
    /// commits under a new one. Files are read and hashed here, not parsed.
    pub fn plan(
        &self,
        catalog: &Catalog,
        volume: &Volume,
        entries: Vec<Entry>,
        load: &LoadOptions,
        base_app: &str,
        index: usize,
    ) -> Result<TreeJob> {
        let paths: HashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let Some(known) = self.known_files(catalog, &paths)? else {
            // Rewritten whole (part files), or without incremental runs (Iceberg): nothing
            // to compare, so no reading pass; the id is the shard's own.
            let done = self.done(base_app, index)?;
            return Ok(TreeJob {
                entries,
                app: base_app.to_string(),
                unchanged: 0,
                done,
            });
        };
        let keyed: Vec<(Entry, Option<(String, String)>)> = entries
            .into_par_iter()
            .map(|e| {
                let key = load_source(volume, &e, load)
                    .map(|src| (src.info.path, src.info.sha256.unwrap_or_default()));
                (e, key)
            })
            .collect();
        let mut hash = Sha256::new();
        let mut todo = Vec::new();
        let mut unchanged = 0;
        for (e, key) in keyed {
            match key {
                // Left out by --lang: nothing to write either way.
                None => todo.push(e),
                Some(k) if known.contains(&k) => unchanged += 1,
                Some((path, sha)) => {
                    hash.update(path.as_bytes());
                    hash.update([0]);
                    hash.update(sha.as_bytes());
                    hash.update([b'\n']);
                    todo.push(e);
                }
            }
        }
        let app = format!("{base_app}@{}", &hex::encode(hash.finalize())[..16]);
        let done = self.done(&app, index)?;
        Ok(TreeJob {
            entries: todo,
            app,
            unchanged,
            done,
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
                Ok(writer) => parts.push(Part {
                    table: *t,
                    writer,
                    whole: matches!(out.format, OutputFormat::Lake(_)),
                }),
                Err(e) => {
                    for p in parts {
                        p.writer.abort();
                    }
                    return Err(e.context(format!("cannot write the {} table", t.name())));
                }
            }
        }
        let tables: Vec<TreeTable> = parts.iter().map(|p| p.table).collect();
        Ok(TreeWriter {
            parts,
            rows: TreeRows::new(&tables),
        })
    }
}

/// What a shard has to do (see [`TreeOutputs::plan`]).
#[derive(Debug)]
pub struct TreeJob {
    /// The files to build and write.
    pub entries: Vec<Entry>,
    /// The transaction id its commits record.
    pub app: String,
    /// Files left out because the tables hold them, with the same content.
    pub unchanged: usize,
    /// Which tables hold this job's part already (a killed run's rerun).
    pub done: Vec<bool>,
}

impl TreeJob {
    /// Nothing to write: every table holds it, or every file is unchanged.
    pub fn nothing_to_do(&self) -> bool {
        self.done.iter().all(|d| *d) || (self.entries.is_empty() && self.unchanged > 0)
    }
}

/// One part of every tree table, being written.
pub struct TreeWriter<'a> {
    parts: Vec<Part<'a>>,
    rows: TreeRows,
}

/// A table's part.
struct Part<'a> {
    table: TreeTable,
    writer: PartWriter<'a>,
    /// Rows go to the writer as whole batches, never as the batches they were built in (see
    /// [`Part::flush`]).
    whole: bool,
}

impl Part<'_> {
    /// Writes the rows waiting in `rows` for this table. A writer judges its columns'
    /// encodings by the first batch it gets, so that one is the rows concatenated; later ones
    /// go as they were built (one file's nodes each), uncopied, except to a lakehouse table
    /// (`whole`), whose writer computes statistics per batch: there thousands of small
    /// batches cost more than the copy (Delta on the standard library: 180 MB peak RSS
    /// against 155 MB; heaptrack put the difference in delta-kernel's per-batch statistics).
    fn flush(&mut self, rows: &mut TreeRows) -> Result<()> {
        if self.whole || self.writer.rows() == 0 {
            return self.writer.write(&rows.take(self.table)?);
        }
        rows.take_parts(self.table)?
            .iter()
            .try_for_each(|b| self.writer.write(b))
    }
}

impl TreeWriter<'_> {
    /// Adds a file's rows; full batches go to their tables' writers.
    pub fn write(&mut self, file: &FileRows) -> Result<()> {
        self.rows.push(file);
        for p in &mut self.parts {
            if self.rows.rows(p.table) >= BATCH_ROWS {
                p.flush(&mut self.rows)?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered and commits every table's part, `files` last (so a file
    /// listed there has all its rows in the other tables). On an error, the parts not yet
    /// committed are dropped.
    pub fn commit(mut self) -> Result<()> {
        let mut failed = None;
        for p in &mut self.parts {
            if self.rows.rows(p.table) > 0 {
                if let Err(e) = p.flush(&mut self.rows) {
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
        parts.sort_by_key(|p| p.table == TreeTable::Files);
        let mut parts = parts.into_iter();
        let mut committed = 0;
        while let Some(Part { table, writer, .. }) = parts.next() {
            if let Err(e) = writer.commit() {
                for p in parts {
                    p.writer.abort();
                }
                return Err(e.context(format!("cannot commit the {} table", table.name())));
            }
            committed += 1;
            crash_point(committed);
        }
        Ok(())
    }

    /// Drops every part: nothing of them is visible.
    pub fn abort(self) {
        for p in self.parts {
            p.writer.abort();
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
