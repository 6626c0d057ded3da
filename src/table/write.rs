//! Writing tables: Parquet (zstd), CSV, NDJSON (also to stdout) and lakehouse tables (Delta,
//! Iceberg: `lake.rs`). Every write
//! is atomic: a single file is written beside its target and renamed (or put whole); a
//! directory of parts gets one file per input part, each appearing whole; a Delta table gets
//! one commit per input part.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::delta::SchemaMode;
use super::lake::{self, PartCommit, PartSink, Progress, TableRef, TableSink};
use crate::catalog::{Catalog, TableFormat};
use crate::volume::{ListOptions, Volume};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Parquet,
    Csv,
    Ndjson,
    /// A lakehouse table (`lake::FORMATS`: delta, iceberg).
    Lake(&'static str),
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<OutputFormat> {
        Some(match s {
            "parquet" => Self::Parquet,
            "csv" => Self::Csv,
            "ndjson" | "jsonl" | "json" => Self::Ndjson,
            other => return lake::format(other).map(|f| Self::Lake(f.name())),
        })
    }

    fn from_table(f: TableFormat) -> Result<OutputFormat> {
        OutputFormat::parse(f.as_str())
            .ok_or_else(|| anyhow!("Disco is built without {} tables", f.as_str()))
    }

    fn from_ext(path: &str) -> Option<OutputFormat> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "parquet" | "pq" => Self::Parquet,
            "csv" => Self::Csv,
            "ndjson" | "jsonl" | "json" => Self::Ndjson,
            _ => return None,
        })
    }

    fn ext(self) -> &'static str {
        match self {
            Self::Parquet | Self::Lake(_) => "parquet",
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }
}

/// Where the rows go: stdout, one file, a directory of part files, or a lakehouse table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Stdout,
    File,
    Dir,
    Table,
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub format: Option<OutputFormat>,
    pub row_group_size: usize,
    pub partition_by: Vec<String>,
    pub overwrite: bool,
    /// How rows whose columns differ from an existing table's are taken (Delta).
    pub schema_mode: SchemaMode,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            format: None,
            row_group_size: 64 * 1024,
            partition_by: Vec::new(),
            overwrite: false,
            schema_mode: SchemaMode::Strict,
        }
    }
}

/// An output table.
pub struct Output {
    pub uri: String,
    /// The lakehouse table (layout Table).
    table: Option<Box<dyn TableSink>>,
    volume: Option<Volume>,
    base: String,
    pub format: OutputFormat,
    pub layout: Layout,
    pub opts: WriteOptions,
}

impl Output {
    /// `-` is stdout (NDJSON unless told otherwise); a catalog table name, a URI or a path
    /// ending in `.parquet`/`.csv`/`.ndjson` is one file; anything else a directory of parts,
    /// or a lakehouse table with format `delta` or `iceberg`.
    pub fn open(catalog: &Catalog, uri: &str, mut opts: WriteOptions) -> Result<Output> {
        if uri == "-" {
            let format = opts.format.unwrap_or(OutputFormat::Ndjson);
            if matches!(format, OutputFormat::Lake(_) | OutputFormat::Parquet) {
                bail!("stdout takes csv or ndjson, not {format:?}");
            }
            return Ok(Output {
                table: None,
                uri: uri.into(),
                volume: None,
                base: String::new(),
                format,
                layout: Layout::Stdout,
                opts,
            });
        }
        let mut target = uri.to_string();
        let def = catalog.tables.get(uri);
        if let Some(t) = def {
            target = t.url.clone();
            if opts.format.is_none() {
                opts.format = Some(OutputFormat::from_table(t.format)?);
            }
            if opts.partition_by.is_empty() {
                opts.partition_by = t.partition_by.clone();
            }
        }
        // A table in an external catalog (Iceberg) has no folder here.
        if let (Some(OutputFormat::Lake(f)), true) = (opts.format, target.is_empty()) {
            let tref = TableRef {
                name: uri.to_string(),
                catalog,
                def,
                location: None,
            };
            let table = lake::format(f)
                .expect("a registered format")
                .sink(&tref, &opts)?;
            return Ok(Output {
                table: Some(table),
                uri: uri.into(),
                volume: None,
                base: String::new(),
                format: OutputFormat::Lake(f),
                layout: Layout::Table,
                opts,
            });
        }
        let (dir_uri, leaf) = match target.trim_end_matches('/').rsplit_once('/') {
            Some((d, l)) if !d.ends_with(':') && !d.ends_with(":/") => {
                (d.to_string(), l.to_string())
            }
            _ if target.contains("://") => (
                target.trim_end_matches('/').to_string() + "/",
                String::new(),
            ),
            _ => (".".to_string(), target.trim_end_matches('/').to_string()),
        };
        // The parent must exist for a local output; create it.
        let local_dir = match dir_uri.strip_prefix("file://") {
            Some(p) => Some(p),
            None => (!dir_uri.contains("://")).then_some(dir_uri.as_str()),
        };
        if let Some(d) = local_dir {
            std::fs::create_dir_all(d).with_context(|| format!("creating {d}"))?;
        }
        let loc = catalog.resolve(&dir_uri)?;
        let volume = Volume::open(&loc.volume)?;
        let base = join(&loc.path, &leaf);
        let ext_format = OutputFormat::from_ext(&leaf);
        let format = opts.format.or(ext_format).unwrap_or(OutputFormat::Parquet);
        let layout = if matches!(format, OutputFormat::Lake(_)) {
            Layout::Table
        } else if ext_format.is_some() {
            Layout::File
        } else {
            Layout::Dir
        };
        if !opts.partition_by.is_empty() && layout != Layout::Table {
            bail!("{uri}: partition columns need a lakehouse table (format delta or iceberg)");
        }
        let table = match format {
            OutputFormat::Lake(f) => {
                let tref = TableRef {
                    name: uri.to_string(),
                    catalog,
                    def,
                    location: Some((volume.clone(), base.clone())),
                };
                Some(
                    lake::format(f)
                        .expect("a registered format")
                        .sink(&tref, &opts)?,
                )
            }
            _ => None,
        };
        Ok(Output {
            table,
            uri: uri.into(),
            volume: Some(volume),
            base,
            format,
            layout,
            opts,
        })
    }

    /// Checks the output can hold `schema` (before any data is read).
    pub fn check(&self, schema: &SchemaRef) -> Result<()> {
        for p in &self.opts.partition_by {
            schema
                .index_of(p)
                .map_err(|_| anyhow!("{}: no partition column `{p}` in the output", self.uri))?;
        }
        match self.format {
            OutputFormat::Csv => {
                for f in schema.fields() {
                    if matches!(
                        f.data_type(),
                        DataType::List(_)
                            | DataType::LargeList(_)
                            | DataType::FixedSizeList(_, _)
                            | DataType::Struct(_)
                            | DataType::Map(_, _)
                    ) {
                        bail!(
                            "{}: CSV cannot hold column `{}` ({}); write parquet, delta or ndjson, or drop it with `select`",
                            self.uri,
                            f.name(),
                            f.data_type()
                        );
                    }
                }
            }
            OutputFormat::Lake(_) => {
                self.table.as_ref().expect("a table layout").check(schema)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether input parts are resumable units here (a directory of parts or a table).
    pub fn resumable(&self) -> bool {
        matches!(self.layout, Layout::Dir | Layout::Table)
    }

    fn volume(&self) -> &Volume {
        self.volume.as_ref().expect("not stdout")
    }

    fn part_file(&self, index: usize) -> String {
        join(
            &self.base,
            &format!("part-{index:06}.{}", self.format.ext()),
        )
    }

    /// Is input part `index` already written (a directory of parts)? Tables answer with
    /// [`Output::progress`].
    pub fn done(&self, index: usize) -> Result<bool> {
        Ok(self.layout == Layout::Dir
            && self
                .volume()
                .list(&self.part_file(index), &ListOptions::default())
                .is_ok_and(|e| !e.is_empty()))
    }

    /// What `app` already committed to a lakehouse table, among parts `indices` (see
    /// [`TableSink::progress`]); nothing for other layouts.
    pub fn progress(&self, app: &str, indices: &[usize]) -> Result<Progress> {
        match &self.table {
            Some(t) => t.progress(app, indices),
            None => Ok(Progress::default()),
        }
    }

    /// A writer for input part `index` (Dir, Table), or for everything (File, Stdout).
    pub fn writer(
        &self,
        schema: &SchemaRef,
        index: usize,
        app: &str,
        first: bool,
    ) -> Result<PartWriter<'_>> {
        let schema = schema.clone();
        let target = match self.layout {
            Layout::Stdout => Target::Stdout,
            Layout::File => Target::Path(self.base.clone()),
            Layout::Dir => Target::Path(self.part_file(index)),
            Layout::Table => Target::Table {
                part: self.table.as_ref().expect("a table layout").part(&schema)?,
                commit: PartCommit {
                    app: app.to_string(),
                    index: index as i64,
                    overwrite: self.opts.overwrite && first,
                },
            },
        };
        let mut tmp = None;
        let enc = match &target {
            Target::Table { .. } => None,
            Target::Stdout => Some(Enc::new(
                self.format,
                Sink::Stdout(std::io::BufWriter::new(std::io::stdout())),
                &schema,
                &self.opts,
            )?),
            Target::Path(p) => {
                let sink = self.sink_for(p)?;
                if let Sink::File(_, t, _) = &sink {
                    tmp = Some(t.clone());
                }
                Some(Enc::new(self.format, sink, &schema, &self.opts)?)
            }
        };
        Ok(PartWriter {
            index,
            out: self,
            target,
            enc,
            tmp,
            rows: 0,
        })
    }

    fn sink_for(&self, path: &str) -> Result<Sink> {
        match self.volume().local_root() {
            Some(root) => {
                let full = root.join(path);
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                // Hidden (readers of directories skip dot files) until renamed.
                let name = full
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tmp = full.with_file_name(format!(".{name}.disco-tmp-{}", std::process::id()));
                let file = std::fs::File::create(&tmp)
                    .with_context(|| format!("creating {}", tmp.display()))?;
                Ok(Sink::File(std::io::BufWriter::new(file), tmp, full))
            }
            None => Ok(Sink::Memory(Vec::new(), path.to_string())),
        }
    }
}

enum Target<'a> {
    Stdout,
    Path(String),
    Table {
        part: Box<dyn PartSink + 'a>,
        commit: PartCommit,
    },
}

enum Sink {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(std::io::BufWriter<std::fs::File>, PathBuf, PathBuf),
    Memory(Vec<u8>, String),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(w, _, _) => w.write(buf),
            Sink::Memory(v, _) => v.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w, _, _) => w.flush(),
            Sink::Memory(_, _) => Ok(()),
        }
    }
}

enum Enc {
    /// The writer, and the bytes of Arrow data given to its open row group.
    Parquet(Box<ArrowWriter<Sink>>, usize),
    Csv(Box<arrow::csv::Writer<Sink>>),
    Ndjson(Box<arrow::json::LineDelimitedWriter<Sink>>),
}

impl Enc {
    fn new(
        format: OutputFormat,
        sink: Sink,
        schema: &SchemaRef,
        opts: &WriteOptions,
    ) -> Result<Enc> {
        Ok(match format {
            OutputFormat::Parquet | OutputFormat::Lake(_) => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
                    .set_max_row_group_row_count(Some(opts.row_group_size.max(1)))
                    .build();
                Enc::Parquet(
                    Box::new(ArrowWriter::try_new(sink, schema.clone(), Some(props))?),
                    0,
                )
            }
            OutputFormat::Csv => Enc::Csv(Box::new(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(sink),
            )),
            OutputFormat::Ndjson => {
                Enc::Ndjson(Box::new(arrow::json::LineDelimitedWriter::new(sink)))
            }
        })
    }

    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        match self {
            Enc::Parquet(w, open) => {
                w.write(b)?;
                // Bounded memory: a row group is closed after 8 MiB of Arrow data (its
                // encoders hold about that much until it closes), or 16 MiB encoded.
                *open += b.get_array_memory_size();
                if *open > 8 << 20 || w.in_progress_size() > 16 << 20 {
                    w.flush()?;
                    *open = 0;
                }
            }
            Enc::Csv(w) => w.write(b)?,
            Enc::Ndjson(w) => w.write(b)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<Sink> {
        Ok(match self {
            Enc::Parquet(w, _) => w.into_inner()?,
            Enc::Csv(w) => w.into_inner(),
            Enc::Ndjson(mut w) => {
                w.finish()?;
                w.into_inner()
            }
        })
    }
}

/// Writes the rows of one part (or of everything) and makes them appear at once.
pub struct PartWriter<'a> {
    index: usize,
    out: &'a Output,
    target: Target<'a>,
    enc: Option<Enc>,
    /// The hidden temporary file a local single file or part file is written to.
    tmp: Option<PathBuf>,
    rows: u64,
}

impl PartWriter<'_> {
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        if let Some(enc) = &mut self.enc {
            return enc.write(batch);
        }
        let Target::Table { part, .. } = &mut self.target else {
            unreachable!("only tables write without one encoder")
        };
        Ok(part.write(batch)?)
    }

    /// Makes the rows visible: rename, put, or a table commit. `Ok(false)` when a table
    /// commit found the part already committed (by an earlier run).
    pub fn commit(self) -> Result<bool> {
        let volume = self.out.volume.as_ref();
        if let Some(enc) = self.enc {
            match enc.finish()? {
                Sink::Stdout(mut w) => w.flush()?,
                Sink::File(mut w, tmp, full) => {
                    w.flush()?;
                    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                    crate::pipeline::crash_point(self.index);
                    std::fs::rename(&tmp, &full)
                        .with_context(|| format!("renaming into {}", full.display()))?;
                }
                Sink::Memory(bytes, path) => volume.expect("a volume").put(&path, bytes)?,
            }
            return Ok(true);
        }
        let Target::Table { part, commit } = self.target else {
            unreachable!("only tables write without one encoder")
        };
        Ok(part.commit(&commit)?)
    }

    /// Drops what was written: the temporary file is removed, a Delta commit never made
    /// (its data files are still in memory). Nothing of it was ever visible.
    pub fn abort(self) {
        let tmp = self.tmp.clone();
        if let Target::Table { part, .. } = self.target {
            part.abort();
        }
        if let Some(t) = tmp {
            if let Err(e) = std::fs::remove_file(&t) {
                tracing::warn!("could not remove {}: {e}", t.display());
            }
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// `base/rel`, either of them possibly empty.
pub(crate) fn join(base: &str, rel: &str) -> String {
    match (base.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{}/{rel}", base.trim_end_matches('/')),
    }
}
