//! Writing tables: files of a format that writes (`format.rs`: Parquet, CSV, NDJSON; also to
//! stdout) and lakehouse tables (Delta, Iceberg: `lake.rs`). Every write is atomic: a single
//! file appears whole through [`AtomicPut`]; a directory of parts gets one file per input
//! part, each appearing whole; a lakehouse table gets one commit per input part.

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};

use super::delta::SchemaMode;
use super::format::{self, Encoder, FileFormat};
use super::lake::{self, PartCommit, PartSink, Progress, TableRef, TableSink};
use super::put::{AtomicPut, Discard, Sink};
use crate::catalog::{Catalog, TableFormat};
use crate::volume::{ListOptions, Volume};

/// Output formats: a file format Disco writes (`format::FORMATS`) or a lakehouse table.
#[derive(Clone, Copy)]
pub enum OutputFormat {
    /// Files of one format (Parquet, CSV, NDJSON).
    File(&'static dyn FileFormat),
    /// A lakehouse table (`lake::FORMATS`: delta, iceberg).
    Lake(&'static str),
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match format::named(s) {
            Some(f) if f.writes() => Some(Self::File(f)),
            Some(_) => None,
            None => lake::format(s).map(|f| Self::Lake(f.name())),
        }
    }

    fn from_table(f: TableFormat) -> Result<OutputFormat> {
        OutputFormat::parse(f.as_str())
            .ok_or_else(|| anyhow!("Disco is built without {} tables", f.as_str()))
    }

    /// By the file's extension (a compressed name is not a file Disco writes).
    fn from_ext(path: &str) -> Option<OutputFormat> {
        let (_, ext) = path.rsplit_once('.')?;
        format::by_extension(ext)
            .filter(|f| f.writes())
            .map(Self::File)
    }

    /// Its name (`parquet`, `delta`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::File(f) => f.name(),
            Self::Lake(name) => name,
        }
    }

    /// The file format, unless a lakehouse table.
    fn file(self) -> Option<&'static dyn FileFormat> {
        match self {
            Self::File(f) => Some(f),
            Self::Lake(_) => None,
        }
    }
}

impl PartialEq for OutputFormat {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Self::File(_), Self::File(_)) | (Self::Lake(_), Self::Lake(_))
        ) && self.name() == other.name()
    }
}

impl Eq for OutputFormat {}

impl std::fmt::Debug for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(x) => write!(f, "File({:?})", x.name()),
            Self::Lake(x) => write!(f, "Lake({x:?})"),
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
            let format = match opts.format {
                Some(f) => f,
                None => OutputFormat::parse("ndjson").expect("a registered format"),
            };
            if !format.file().is_some_and(|f| f.streams()) {
                bail!("stdout takes csv or ndjson, not {}", format.name());
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
        let format = match opts.format.or(ext_format) {
            Some(f) => f,
            None => OutputFormat::parse("parquet").expect("a registered format"),
        };
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
            OutputFormat::File(format) if format.flat() => {
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
                            "{}: {} cannot hold column `{}` ({}); write parquet, delta or ndjson, or drop it with `select`",
                            self.uri,
                            format.name().to_ascii_uppercase(),
                            f.name(),
                            f.data_type()
                        );
                    }
                }
            }
            OutputFormat::Lake(_) => {
                self.table.as_ref().expect("a table layout").check(schema)?;
            }
            OutputFormat::File(_) => {}
        }
        Ok(())
    }

    /// Whether a lakehouse table that lives in a folder (Delta) is there already.
    pub fn table_exists(&self) -> bool {
        match (self.format, &self.volume) {
            (OutputFormat::Lake(f), Some(v)) => {
                lake::format(f).is_some_and(|f| f.detect(v, &self.base))
            }
            _ => false,
        }
    }

    /// Whether input parts are resumable units here (a directory of parts or a table).
    pub fn resumable(&self) -> bool {
        matches!(self.layout, Layout::Dir | Layout::Table)
    }

    fn volume(&self) -> &Volume {
        self.volume.as_ref().expect("not stdout")
    }

    fn part_file(&self, index: usize) -> String {
        join(&self.base, &format!("part-{index:06}.{}", self.ext()))
    }

    /// The extension of the files written: the format's first.
    fn ext(&self) -> &'static str {
        self.format
            .file()
            .and_then(|f| f.extensions().first().copied())
            .unwrap_or("parquet")
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
        let sink = match &target {
            Target::Table { .. } => None,
            Target::Stdout => Some(Sink::Stdout(std::io::BufWriter::new(std::io::stdout()))),
            Target::Path(p) => Some(Sink::Put(AtomicPut::create(self.volume(), p)?)),
        };
        let discard = match &sink {
            Some(Sink::Put(p)) => Some(p.discard()),
            _ => None,
        };
        let enc = match (sink, self.format.file()) {
            (Some(sink), Some(f)) => match f.writer(sink, &schema, &self.opts) {
                Ok(enc) => Some(enc),
                Err(e) => {
                    // The temporary file was created: nothing is left behind.
                    if let Some(d) = discard {
                        d.run();
                    }
                    return Err(e);
                }
            },
            (Some(_), None) => bail!("{}: a table is written by its format", self.uri),
            (None, _) => None,
        };
        Ok(PartWriter {
            index,
            target,
            enc,
            discard,
            rows: 0,
        })
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

/// Writes the rows of one part (or of everything) and makes them appear at once.
pub struct PartWriter<'a> {
    index: usize,
    target: Target<'a>,
    enc: Option<Box<dyn Encoder>>,
    /// Removes the file being written when the part fails.
    discard: Option<Discard>,
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
        part.write(batch)
    }

    /// Makes the rows visible: rename, put, or a table commit. `Ok(false)` when a table
    /// commit found the part already committed (by an earlier run).
    pub fn commit(self) -> Result<bool> {
        if let Some(enc) = self.enc {
            let sink = enc.finish()?;
            if matches!(sink, Sink::Put(_)) {
                crate::pipeline::crash_point(self.index);
            }
            sink.commit()?;
            return Ok(true);
        }
        let Target::Table { part, commit } = self.target else {
            unreachable!("only tables write without one encoder")
        };
        part.commit(&commit)
    }

    /// Drops what was written: the temporary file is removed, a table commit never made.
    /// Nothing of it was ever visible.
    pub fn abort(self) {
        if let Target::Table { part, .. } = self.target {
            part.abort();
        }
        drop(self.enc);
        if let Some(d) = self.discard {
            d.run();
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
