//! Reading tables: a URI (a catalog table, `name://path`, a glob, a plain path) becomes a list
//! of parts (files, or groups of small files) in a fixed order, and each part a stream of
//! record batches. Rows that cannot be decoded are kept as read rejects, with their line.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::lake::{self, TableRef, TableSource};
use super::lines::read_lines;
use super::parquet_source::{conform, ParquetSource};
use super::{csv, html, ndjson};
use crate::catalog::{Catalog, TableFormat};
use crate::volume::decode::LineDecoder;
use crate::volume::{
    decode, decompress, strip_codec_extension, Codec, ListOptions, TextEncoding, Volume,
};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Parquet,
    Csv,
    Tsv,
    Ndjson,
    /// One row per line: `path`, `line`, `text`.
    Lines,
    /// One row per file: `path`, `text`.
    Text,
    /// One row per file: `path`, `size`, `bytes`.
    Blob,
    /// One row per file: `path`, `title`, `text` (the visible text).
    Html,
    /// A lakehouse table (Delta, Iceberg: see `lake::FORMATS`): its snapshot's data files,
    /// each a part.
    Lake(&'static str),
}

impl InputFormat {
    pub fn parse(s: &str) -> Option<InputFormat> {
        Some(match s {
            "parquet" => Self::Parquet,
            "csv" => Self::Csv,
            "tsv" => Self::Tsv,
            "ndjson" | "jsonl" | "json" => Self::Ndjson,
            "lines" => Self::Lines,
            "text" => Self::Text,
            "blob" => Self::Blob,
            "html" => Self::Html,
            other => return lake::format(other).map(|f| Self::Lake(f.name())),
        })
    }

    /// By extension (after a compression extension).
    pub fn from_path(path: &str) -> Option<InputFormat> {
        let p = strip_codec_extension(path);
        let ext = p.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        Some(match ext.as_str() {
            "parquet" | "pq" => Self::Parquet,
            "csv" => Self::Csv,
            "tsv" | "tab" => Self::Tsv,
            "ndjson" | "jsonl" | "json" => Self::Ndjson,
            "txt" | "text" | "log" => Self::Lines,
            "html" | "htm" => Self::Html,
            _ => return None,
        })
    }

    /// One row per file: small files are grouped into parts.
    fn per_file(self) -> bool {
        matches!(self, Self::Text | Self::Blob | Self::Html)
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
    /// batches, so memory does not grow with the row size).
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
            batch_bytes: 2 << 20,
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
                opts.format = Some(match t.format {
                    TableFormat::Parquet => InputFormat::Parquet,
                    TableFormat::Csv => InputFormat::Csv,
                    TableFormat::Ndjson => InputFormat::Ndjson,
                    other => InputFormat::parse(other.as_str()).ok_or_else(|| {
                        anyhow!("{uri}: Disco is built without {} tables", other.as_str())
                    })?,
                });
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
                    "{uri}: cannot tell the format of {} from its name; give one \
                     (parquet, csv, tsv, ndjson, lines, text, blob, html)",
                    files[0].0
                )
            })?,
        };
        let parts: Vec<Part> = if format.per_file() {
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

    fn bytes(&self, path: &str) -> Result<Vec<u8>> {
        match self.opts.codec {
            None => Ok(self.volume()?.read(path, self.opts.max_bytes)?.bytes),
            Some(c) => {
                let raw = self.volume()?.read_raw(path, self.opts.max_bytes)?;
                decompress(c, &raw, self.opts.max_bytes)
                    .map_err(|e| anyhow!("{path}: {} decompression failed: {e:?}", c.name()))
            }
        }
    }

    /// A Parquet reader: local files are read as needed (row group by row group), other
    /// files fetched whole.
    fn parquet(&self, path: &str) -> Result<ParquetRecordBatchReaderBuilder<ParquetSource>> {
        let plain = self.opts.codec.is_none() && Codec::from_path(path).is_none();
        let source = match self.volume()?.local_file(path)? {
            Some(file) if plain => ParquetSource::File(
                std::fs::File::open(&file).with_context(|| format!("opening {path}"))?,
            ),
            _ => ParquetSource::Bytes(Bytes::from(self.bytes(path)?)),
        };
        ParquetRecordBatchReaderBuilder::try_new(source)
            .with_context(|| format!("{path}: not a Parquet file"))
    }

    fn stream(&self, path: &str) -> Result<Box<dyn std::io::Read + Send>> {
        Ok(self
            .volume()?
            .open_reader(path, self.opts.codec, self.opts.max_bytes)?)
    }

    fn infer(&self) -> Result<SchemaRef> {
        let first = &self.parts[0].files[0].0;
        let schema = match self.format {
            InputFormat::Parquet => self.parquet(first)?.schema().clone(),
            InputFormat::Lake(f) => bail!("{}: a {f} table is opened by its metadata", self.uri),
            InputFormat::Csv | InputFormat::Tsv => {
                csv::infer(self.stream(first)?, self.delimiter(), self.opts.infer_rows)?
            }
            InputFormat::Ndjson => ndjson::infer(self.stream(first)?, self.opts.infer_rows)?,
            InputFormat::Lines => Arc::new(Schema::new(vec![
                Field::new("path", DataType::Utf8, false),
                Field::new("line", DataType::Int64, false),
                Field::new("text", DataType::Utf8, false),
            ])),
            InputFormat::Text => Arc::new(Schema::new(vec![
                Field::new("path", DataType::Utf8, false),
                Field::new("text", DataType::Utf8, false),
            ])),
            InputFormat::Blob => Arc::new(Schema::new(vec![
                Field::new("path", DataType::Utf8, false),
                Field::new("size", DataType::Int64, false),
                Field::new("bytes", DataType::Binary, false),
            ])),
            InputFormat::Html => Arc::new(Schema::new(vec![
                Field::new("path", DataType::Utf8, false),
                Field::new("title", DataType::Utf8, true),
                Field::new("text", DataType::Utf8, false),
            ])),
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

    fn delimiter(&self) -> u8 {
        if self.format == InputFormat::Tsv {
            b'\t'
        } else {
            b','
        }
    }

    /// Reads one part, batch by batch (in the input's schema), streaming.
    pub fn read_part(&self, part: &Part) -> Result<Batches> {
        let n = self.opts.batch_size.max(1);
        let schema = self.schema.clone();
        if self.format.per_file() {
            return Ok(Box::new(std::iter::once(self.read_files(part))));
        }
        if let Some(table) = &self.table {
            let rows = table.read(part, n)?;
            return Ok(Box::new(rows.map(move |b| {
                let b = b?;
                Ok(ReadBatch {
                    batch: conform(b.batch, &schema)?,
                    rejects: b.rejects,
                })
            })));
        }
        let path = part.files[0].0.clone();
        Ok(match self.format {
            InputFormat::Parquet => {
                let builder = self.parquet(&path)?;
                let (rows, bytes) = builder
                    .metadata()
                    .row_groups()
                    .iter()
                    .fold((0i64, 0i64), |(r, b), g| {
                        (r + g.num_rows(), b + g.total_byte_size())
                    });
                let per_row = (bytes / rows.max(1)).max(1) as usize;
                let n = n.min((self.opts.batch_bytes / per_row).max(16));
                let reader = builder.with_batch_size(n).build()?;
                Box::new(reader.map(move |b| {
                    let b = b.with_context(|| format!("{path}: corrupt Parquet"))?;
                    Ok(ReadBatch {
                        batch: conform(b, &schema).with_context(|| path.clone())?,
                        rejects: Vec::new(),
                    })
                }))
            }
            InputFormat::Csv | InputFormat::Tsv => Box::new(csv::read(
                self.stream(&path)?,
                path,
                self.delimiter(),
                schema,
                (n, self.opts.batch_bytes),
            )),
            InputFormat::Ndjson => Box::new(ndjson::read(
                self.stream(&path)?,
                path,
                schema,
                (n, self.opts.batch_bytes),
            )),
            InputFormat::Lines => {
                let (decoder, stream) = LineDecoder::open(self.stream(&path)?, self.opts.encoding)
                    .with_context(|| format!("reading {path}"))?;
                Box::new(read_lines(stream, decoder, path, schema, n))
            }
            _ => unreachable!("per-file formats and Delta are read above"),
        })
    }

    fn read_files(&self, part: &Part) -> Result<ReadBatch> {
        let mut rejects = Vec::new();
        let mut paths = Vec::new();
        let mut sizes = Vec::new();
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        for (path, _) in &part.files {
            match self.bytes(path) {
                Ok(b) => {
                    paths.push(path.clone());
                    sizes.push(b.len() as i64);
                    blobs.push(b);
                }
                Err(e) => rejects.push(ReadReject {
                    file: path.clone(),
                    line: 0,
                    reason: format!("{e:#}"),
                    raw: String::new(),
                }),
            }
        }
        let mut texts: Vec<String> = Vec::new();
        let mut titles: Vec<Option<String>> = Vec::new();
        if self.format != InputFormat::Blob {
            // The decoder `disco tree` uses: BOMs, UTF-16/32, detected legacy encodings.
            let mut keep = Vec::new();
            for (i, b) in std::mem::take(&mut blobs).into_iter().enumerate() {
                match decode(b, self.opts.encoding) {
                    Ok(d) if self.format == InputFormat::Html => {
                        let (title, text) = html::extract(&d.text);
                        titles.push(title);
                        texts.push(text);
                        keep.push(i);
                    }
                    Ok(d) => {
                        texts.push(d.text);
                        keep.push(i);
                    }
                    Err(e) => rejects.push(ReadReject {
                        file: paths[i].clone(),
                        line: 0,
                        reason: e.to_string(),
                        raw: String::new(),
                    }),
                }
            }
            paths = keep.iter().map(|&i| paths[i].clone()).collect();
        }
        let path_col: ArrayRef = Arc::new(StringArray::from(paths));
        let columns: Vec<ArrayRef> = match self.format {
            InputFormat::Blob => vec![
                path_col,
                Arc::new(Int64Array::from(sizes)),
                Arc::new(BinaryArray::from_iter_values(blobs.iter())),
            ],
            InputFormat::Html => vec![
                path_col,
                Arc::new(StringArray::from(titles)),
                Arc::new(StringArray::from(texts)),
            ],
            _ => vec![path_col, Arc::new(StringArray::from(texts))],
        };
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Ok(ReadBatch { batch, rejects })
    }
}
