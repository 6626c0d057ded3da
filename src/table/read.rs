//! Reading tables: a URI (a catalog table, `name://path`, a glob, a plain path) becomes a list
//! of parts (files, or groups of small files) in a fixed order, and each part a stream of
//! record batches. Rows that cannot be decoded are kept as read rejects, with their line.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow::array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::delta::{DeltaScan, DeltaTable, Version};
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
    /// A Delta Lake table: the files of a snapshot, each a part.
    Delta,
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
            "delta" => Self::Delta,
            _ => return None,
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
    pub volume: Volume,
    pub parts: Vec<Part>,
    pub format: InputFormat,
    pub schema: SchemaRef,
    opts: ReadOptions,
    /// A Delta table's snapshot: part `i` is its `i`-th file.
    delta: Option<(DeltaTable, DeltaScan)>,
}

/// `name@v12` or `name@2026-11-01T00:00:00Z`: the name and the version, when the last path
/// segment ends in one (an `@` elsewhere, as in credentials, is left alone).
fn split_version(target: &str) -> (String, Option<Version>) {
    let last = target.rsplit('/').next().unwrap_or(target);
    if let Some((_, v)) = last.rsplit_once('@') {
        if let Some(version) = Version::parse(v) {
            let cut = target.len() - v.len() - 1;
            return (target[..cut].to_string(), Some(version));
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
        let mut target = name.clone();
        if let Some(t) = catalog.tables.get(&name) {
            target = t.url.clone();
            if version.is_none() {
                if let Some(v) = &t.version {
                    version = Some(Version::parse(v).ok_or_else(|| {
                        anyhow!("tables.{name}.version: `{v}` is neither a version number nor an RFC 3339 time")
                    })?);
                }
            }
            if opts.format.is_none() {
                opts.format = match t.format {
                    TableFormat::Parquet => Some(InputFormat::Parquet),
                    TableFormat::Delta => Some(InputFormat::Delta),
                    TableFormat::Csv => Some(InputFormat::Csv),
                    TableFormat::Ndjson => Some(InputFormat::Ndjson),
                };
            }
        } else if version.is_some() {
            target = name.clone();
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
        let delta = match opts.format {
            Some(InputFormat::Delta) => true,
            None => pattern.is_none() && is_delta(&volume, &loc.path),
            Some(_) => false,
        };
        if delta {
            return Input::open_delta(uri, volume, &loc.path, version.unwrap_or_default(), opts);
        }
        if version.is_some() {
            bail!("{uri}: only Delta tables have versions to read");
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
            volume,
            parts,
            format,
            schema: Arc::new(Schema::empty()),
            opts,
            delta: None,
        };
        input.schema = input.infer()?;
        Ok(input)
    }

    /// A Delta table's snapshot at `version`: its schema, and a part per data file.
    fn open_delta(
        uri: &str,
        volume: Volume,
        path: &str,
        version: Version,
        opts: ReadOptions,
    ) -> Result<Input> {
        if !opts.schema.is_empty() {
            bail!("{uri}: a Delta table has its own column types; `--schema` does not apply");
        }
        let table = DeltaTable::new(&volume, path, uri)?;
        let scan = table.scan(table.existing(version)?)?;
        let parts = scan
            .files
            .iter()
            .enumerate()
            .map(|(index, f)| Part {
                index,
                files: vec![(f.path.clone(), f.size.max(0) as u64)],
            })
            .collect();
        Ok(Input {
            uri: uri.to_string(),
            volume,
            parts,
            format: InputFormat::Delta,
            schema: scan.schema.clone(),
            opts,
            delta: Some((table, scan)),
        })
    }

    fn bytes(&self, path: &str) -> Result<Vec<u8>> {
        match self.opts.codec {
            None => Ok(self.volume.read(path, self.opts.max_bytes)?.bytes),
            Some(c) => {
                let raw = self.volume.read_raw(path, self.opts.max_bytes)?;
                decompress(c, &raw, self.opts.max_bytes)
                    .map_err(|e| anyhow!("{path}: {} decompression failed: {e:?}", c.name()))
            }
        }
    }

    /// A Parquet reader: local files are read as needed (row group by row group), other
    /// files fetched whole.
    fn parquet(&self, path: &str) -> Result<ParquetRecordBatchReaderBuilder<ParquetSource>> {
        let plain = self.opts.codec.is_none() && Codec::from_path(path).is_none();
        let source = match self.volume.local_file(path)? {
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
            .volume
            .open_reader(path, self.opts.codec, self.opts.max_bytes)?)
    }

    fn infer(&self) -> Result<SchemaRef> {
        let first = &self.parts[0].files[0].0;
        let schema = match self.format {
            InputFormat::Parquet => self.parquet(first)?.schema().clone(),
            InputFormat::Delta => bail!("{}: a Delta table is opened by its log", self.uri),
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
        if let Some((table, scan)) = &self.delta {
            let file = scan
                .files
                .get(part.index)
                .ok_or_else(|| anyhow!("{}: no part {}", self.uri, part.index))?;
            let rows = table.read_file(scan, file)?;
            return Ok(Box::new(rows.map(move |b| {
                Ok(ReadBatch {
                    batch: conform(b?, &schema)?,
                    rejects: Vec::new(),
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

/// Whether `path` holds a Delta table (a `_delta_log` folder with entries).
fn is_delta(volume: &Volume, path: &str) -> bool {
    let log = if path.is_empty() {
        "_delta_log".to_string()
    } else {
        format!("{}/_delta_log", path.trim_end_matches('/'))
    };
    volume
        .list(&log, &ListOptions::default())
        .is_ok_and(|e| !e.is_empty())
}
