//! Reading tables: a URI (a catalog table, `name://path`, a glob, a plain path) becomes a list
//! of parts (files, or groups of small files) in a fixed order, and each part a stream of
//! record batches. Rows that cannot be decoded are kept as read rejects, with their line.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::format::{self, FileFormat, Files};
use super::lake::{self, TableRef, TableSource};
use super::parquet_source::conform;
use crate::catalog::Catalog;
use crate::volume::{Codec, ListOptions, TextEncoding, Volume};

/// Input formats: a file format (`format::FORMATS`) or a lakehouse table.
#[derive(Clone, Copy)]
pub enum InputFormat {
    /// Files of one format (Parquet, CSV, ... : see `format::FORMATS`).
    File(&'static dyn FileFormat),
    /// A lakehouse table (Delta, Iceberg: see `lake::FORMATS`): its snapshot's data files,
    /// each a part.
    Lake(&'static str),
}

impl InputFormat {
    /// By name: a file format, one of its aliases, or a lakehouse format.
    pub fn parse(s: &str) -> Option<InputFormat> {
        match format::named(s) {
            Some(f) => Some(Self::File(f)),
            None => lake::format(s).map(|f| Self::Lake(f.name())),
        }
    }

    /// By extension (after a compression extension).
    pub fn from_path(path: &str) -> Option<InputFormat> {
        format::by_path(path).map(Self::File)
    }

    /// Its name (`csv`, `delta`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::File(f) => f.name(),
            Self::Lake(name) => name,
        }
    }
}

impl PartialEq for InputFormat {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Self::File(_), Self::File(_)) | (Self::Lake(_), Self::Lake(_))
        ) && self.name() == other.name()
    }
}

impl Eq for InputFormat {}

impl std::fmt::Debug for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(x) => write!(f, "File({:?})", x.name()),
            Self::Lake(x) => write!(f, "Lake({x:?})"),
        }
    }
}

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub format: Option<InputFormat>,
    /// Decompress every file with this codec, whatever its extension (`gz` = gzip).
    pub codec: Option<Codec>,
    pub batch_size: usize,
    /// Batches also stop at about this many bytes of input (text-heavy rows make small
    /// batches, so memory does not grow with the row size). A pipeline holds a few batches
    /// at once (read ahead, in a stage, waiting for and in the writer), and only once the
    /// input has more than a few: at 2 MiB, a tokenize run's peak RSS grew 1.35x from a
    /// 6 MB input to a 60 MB one; at 1 MiB (and one batch waiting per channel) about 1.2x,
    /// with the same throughput. 512 KiB cost validation 10% (issue 12).
    pub batch_bytes: usize,
    /// Column types that replace the inferred ones (`fare = "float64"`).
    pub schema: Vec<(String, DataType)>,
    /// Rows sampled per part to infer a CSV or NDJSON schema.
    pub infer_rows: usize,
    /// Largest file read (after decompression).
    pub max_bytes: u64,
    pub list: ListOptions,
    /// Decode `text`, `lines` and `html` files with this encoding instead of detecting one
    /// (a BOM still wins).
    pub encoding: Option<TextEncoding>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            codec: None,
            batch_size: 8192,
            batch_bytes: 1 << 20,
            schema: Vec::new(),
            infer_rows: 1000,
            max_bytes: 2 << 30,
            list: ListOptions::default(),
            encoding: None,
        }
    }
}

/// A column type by SQL-ish name.
pub fn parse_type(s: &str) -> Option<DataType> {
    Some(match s.to_ascii_lowercase().as_str() {
        "int64" | "bigint" | "long" => DataType::Int64,
        "int32" | "int" | "integer" => DataType::Int32,
        "float64" | "double" => DataType::Float64,
        "float32" | "float" | "real" => DataType::Float32,
        "bool" | "boolean" => DataType::Boolean,
        "string" | "utf8" | "text" | "varchar" => DataType::Utf8,
        "binary" | "bytes" => DataType::Binary,
        "date" | "date32" => DataType::Date32,
        "timestamp" => DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
        _ => return None,
    })
}

/// One unit of reading (and of resuming): a file, or a group of small files.
#[derive(Debug, Clone)]
pub struct Part {
    pub index: usize,
    pub files: Vec<(String, u64)>,
}

impl Part {
    pub fn label(&self) -> String {
        match self.files.as_slice() {
            [(p, _)] => p.clone(),
            [(first, _), .., (last, _)] => format!("{first}..{last}"),
            [] => String::new(),
        }
    }
}

/// A row a reader could not decode.
#[derive(Debug, Clone)]
pub struct ReadReject {
    pub file: String,
    /// 1-based line (CSV, NDJSON, lines) or 0 when the whole file failed.
    pub line: u64,
    pub reason: String,
    pub raw: String,
}

/// A decoded batch and the rows around it that failed.
pub struct ReadBatch {
    pub batch: RecordBatch,
    pub rejects: Vec<ReadReject>,
}

/// The batches of one part, in order.
pub type Batches = Box<dyn Iterator<Item = Result<ReadBatch>> + Send>;

/// An opened input: its volume, parts and schema.
pub struct Input {
    pub uri: String,
    /// The volume files are read from (`None` for a table in an external catalog).
    pub volume: Option<Volume>,
    pub parts: Vec<Part>,
    pub format: InputFormat,
    pub schema: SchemaRef,
    opts: ReadOptions,
    /// A lakehouse table's snapshot: part `i` is its `i`-th data file.
    table: Option<Box<dyn TableSource>>,
}

/// `name@v12`, `name@2026-11-01T00:00:00Z` or `name@8231950` (a snapshot id): the name and
/// the version, when the last path segment ends in one (an `@` elsewhere, as in
/// credentials, is left alone). The table's format parses the version.
fn split_version(target: &str) -> (String, Option<String>) {
    let last = target.rsplit('/').next().unwrap_or(target);
    if let Some((_, v)) = last.rsplit_once('@') {
        let digits = v.strip_prefix('v').unwrap_or(v);
        if digits.starts_with(|c: char| c.is_ascii_digit()) {
            let cut = target.len() - v.len() - 1;
            return (target[..cut].to_string(), Some(v.to_string()));
        }
    }
    (target.to_string(), None)
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Input {
    /// Opens `uri`: a catalog table name, `name://path`, a built-in URI or a path; a path may
    /// hold a glob (`pond://trips/*.csv`). The schema is inferred from the first part.
    pub fn open(catalog: &Catalog, uri: &str, mut opts: ReadOptions) -> Result<Input> {
        let (name, mut version) = split_version(uri);
        let def = catalog.tables.get(&name);
        let mut target = name.clone();
        if let Some(t) = def {
            target = t.url.clone();
            version = version.or_else(|| t.version.clone());
            if opts.format.is_none() {
                let name = t.format.as_str();
                opts.format = Some(
                    InputFormat::parse(name)
                        .ok_or_else(|| anyhow!("{uri}: Disco is built without {name} tables"))?,
                );
            }
        }
        // A table in an external catalog (Iceberg) has no folder to list.
        if let (Some(InputFormat::Lake(f)), true) = (opts.format, target.is_empty()) {
            let tref = TableRef {
                name: uri.to_string(),
                catalog,
                def,
                location: None,
            };
            let source = lake::format(f)
                .expect("a registered format")
                .source(&tref, version.as_deref())?;
            return Input::from_table(uri, None, f, source, opts);
        }
        let (base, pattern) = match target.find(['*', '?', '[']) {
            Some(i) if has_glob(&target) => {
                let cut = target[..i].rfind('/').map(|j| j + 1).unwrap_or(0);
                (target[..cut].to_string(), Some(target[cut..].to_string()))
            }
            _ => (target.clone(), None),
        };
        let base_uri = if base.is_empty() {
            ".".to_string()
        } else {
            base
        };
        let loc = catalog.resolve(&base_uri)?;
        let volume = Volume::open(&loc.volume)?;
        let lake_format = match opts.format {
            Some(InputFormat::Lake(f)) => lake::format(f),
            None if pattern.is_none() => lake::FORMATS
                .iter()
                .copied()
                .find(|f| f.detect(&volume, &loc.path)),
            _ => None,
        };
        if let Some(f) = lake_format {
            let tref = TableRef {
                name: uri.to_string(),
                catalog,
                def,
                location: Some((volume.clone(), loc.path.clone())),
            };
            let source = f.source(&tref, version.as_deref())?;
            return Input::from_table(uri, Some(volume), f.name(), source, opts);
        }
        if version.is_some() {
            bail!("{uri}: only lakehouse tables (Delta, Iceberg) have versions to read");
        }
        let mut list = opts.list.clone();
        if let Some(p) = &pattern {
            let full = if loc.path.is_empty() {
                p.clone()
            } else {
                format!("{}/{p}", loc.path)
            };
            list.include.push(full);
        }
        let entries = volume.list(&loc.path, &list)?;
        let mut files: Vec<(String, u64)> = entries
            .into_iter()
            .filter(|e| matches!(e.kind, crate::volume::EntryKind::File))
            .map(|e| (e.path, e.size))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("{uri}: no files to read");
        }
        let format = match opts.format {
            Some(f) => f,
            None => InputFormat::from_path(&files[0].0).ok_or_else(|| {
                anyhow!(
                    "{uri}: cannot tell the format of {} from its name; give one ({})",
                    files[0].0,
                    format::names(false).join(", ")
                )
            })?,
        };
        let per_file = matches!(format, InputFormat::File(f) if f.per_file());
        let parts: Vec<Part> = if per_file {
            files
                .chunks(opts.batch_size.clamp(1, 1024))
                .enumerate()
                .map(|(index, c)| Part {
                    index,
                    files: c.to_vec(),
                })
                .collect()
        } else {
            files
                .into_iter()
                .enumerate()
                .map(|(index, f)| Part {
                    index,
                    files: vec![f],
                })
                .collect()
        };
        let mut input = Input {
            uri: uri.to_string(),
            volume: Some(volume),
            parts,
            format,
            schema: Arc::new(Schema::empty()),
            opts,
            table: None,
        };
        input.schema = input.infer()?;
        Ok(input)
    }

    /// A lakehouse table's snapshot: its schema, and a part per data file.
    fn from_table(
        uri: &str,
        volume: Option<Volume>,
        format: &'static str,
        source: Box<dyn TableSource>,
        opts: ReadOptions,
    ) -> Result<Input> {
        if !opts.schema.is_empty() {
            bail!("{uri}: a {format} table has its own column types; `--schema` does not apply");
        }
        Ok(Input {
            uri: uri.to_string(),
            volume,
            parts: source.parts(),
            format: InputFormat::Lake(format),
            schema: source.schema(),
            opts,
            table: Some(source),
        })
    }

    fn volume(&self) -> Result<&Volume> {
        self.volume
            .as_ref()
            .ok_or_else(|| anyhow!("{}: a catalog table has no files of its own", self.uri))
    }

    /// The input's files, as its format reads them.
    fn files(&self) -> Result<Files<'_>> {
        Ok(Files {
            volume: self.volume()?,
            opts: &self.opts,
        })
    }

    fn infer(&self) -> Result<SchemaRef> {
        let first = &self.parts[0].files[0].0;
        let schema = match self.format {
            InputFormat::File(f) => f.infer(&self.files()?, first)?,
            InputFormat::Lake(f) => bail!("{}: a {f} table is opened by its metadata", self.uri),
        };
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (name, ty) in &self.opts.schema {
            let f = fields
                .iter_mut()
                .find(|f| f.name() == name)
                .ok_or_else(|| anyhow!("schema override: no column `{name}` in {}", self.uri))?;
            *f = Field::new(name, ty.clone(), true);
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// Reads only `columns` (indices into the input's schema) of one part, streaming: a
    /// Parquet part skips the other column chunks; other formats decode whole rows.
    pub fn read_columns(&self, part: &Part, columns: &[usize]) -> Result<Batches> {
        match (&self.table, self.format) {
            (None, InputFormat::File(f)) => {
                f.read_columns(&self.files()?, part, self.schema.clone(), columns)
            }
            _ => Ok(format::project(self.read_part(part)?, columns.to_vec())),
        }
    }

    /// Reads one part, batch by batch (in the input's schema), streaming.
    pub fn read_part(&self, part: &Part) -> Result<Batches> {
        let schema = self.schema.clone();
        if let Some(table) = &self.table {
            let rows = table.read(part, self.opts.batch_size.max(1))?;
            return Ok(Box::new(rows.map(move |b| {
                let b = b?;
                Ok(ReadBatch {
                    batch: conform(b.batch, &schema)?,
                    rejects: b.rejects,
                })
            })));
        }
        match self.format {
            InputFormat::File(f) => f.read(&self.files()?, part, schema),
            InputFormat::Lake(f) => bail!("{}: a {f} table is read through its snapshot", self.uri),
        }
    }
}
