//! File formats: tables stored as plain files (Parquet, CSV, TSV, NDJSON, lines, text, blobs,
//! HTML). Each format is one module implementing [`FileFormat`] and one line in [`FORMATS`];
//! `--format` names, extension guessing (inputs, outputs, catalog tables) and default rejects
//! all go through the registry, so a new format touches nothing else. Lakehouse tables, which
//! keep their own list of files, are `lake.rs`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::put::Sink;
use super::read::{Batches, Part, ReadOptions};
use super::write::WriteOptions;
use super::{csv, html, lines, ndjson, parquet, text};
use crate::volume::{decompress, strip_codec_extension, Codec, Volume};

/// One file format.
pub trait FileFormat: Sync {
    /// Its `--format` and catalog name.
    fn name(&self) -> &'static str;
    /// Other names it answers to (`jsonl` for NDJSON).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// The extensions it claims (after a compression extension), lower case; the first is
    /// the one Disco gives the files it writes.
    fn extensions(&self) -> &'static [&'static str];
    /// One row per file (text, blobs, HTML): small files are grouped into parts. Otherwise
    /// each file is one part.
    fn per_file(&self) -> bool {
        false
    }
    /// The schema of a table whose first file is `path`.
    fn infer(&self, files: &Files<'_>, path: &str) -> Result<SchemaRef>;
    /// Streams `part` in `schema`; rows that cannot be decoded are read rejects.
    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> Result<Batches>;
    /// Streams only `columns` (indices into `schema`) of `part`, for a query that needs no
    /// others. Formats that can skip columns (Parquet) override it; the rest decode whole
    /// rows (a row that does not decode is still a reject) and drop the other columns.
    fn read_columns(
        &self,
        files: &Files<'_>,
        part: &Part,
        schema: SchemaRef,
        columns: &[usize],
    ) -> Result<Batches> {
        let rows = self.read(files, part, schema)?;
        Ok(project(rows, columns.to_vec()))
    }
    /// Whether Disco writes it (then [`FileFormat::writer`] works).
    fn writes(&self) -> bool {
        false
    }
    /// Whether it can be written to a stream (stdout) as well as to a file.
    fn streams(&self) -> bool {
        true
    }
    /// Whether it holds only flat columns (no lists, structs or maps).
    fn flat(&self) -> bool {
        false
    }
    /// An encoder writing rows of `schema` to `sink`.
    fn writer(
        &self,
        sink: Sink,
        schema: &SchemaRef,
        opts: &WriteOptions,
    ) -> Result<Box<dyn Encoder>> {
        let _ = (sink, schema, opts);
        bail!("Disco does not write {} files", self.name())
    }
}

/// Rows on their way into one file.
pub trait Encoder: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Ends the file (footer, last row group) and hands back the sink, not yet committed.
    fn finish(self: Box<Self>) -> Result<Sink>;
}

/// Keeps `columns` of each batch.
pub(crate) fn project(rows: Batches, columns: Vec<usize>) -> Batches {
    Box::new(rows.map(move |b| {
        let b = b?;
        Ok(super::read::ReadBatch {
            batch: b.batch.project(&columns)?,
            rejects: b.rejects,
        })
    }))
}

/// The formats. Order matters only for messages listing them.
pub static FORMATS: &[&dyn FileFormat] = &[
    &parquet::Parquet,
    &csv::CSV,
    &csv::TSV,
    &ndjson::Ndjson,
    &lines::Lines,
    &text::Text,
    &text::Blob,
    &html::Html,
];

/// The format called `name` (or one of its aliases).
pub fn named(name: &str) -> Option<&'static dyn FileFormat> {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.name() == name || f.aliases().contains(&name))
}

/// The format claiming extension `ext` (any case, no dot).
pub fn by_extension(ext: &str) -> Option<&'static dyn FileFormat> {
    let ext = ext.to_ascii_lowercase();
    FORMATS
        .iter()
        .copied()
        .find(|f| f.extensions().contains(&ext.as_str()))
}

/// The format of `path` by its extension, after a compression extension (`x.csv.gz`).
pub fn by_path(path: &str) -> Option<&'static dyn FileFormat> {
    let (_, ext) = strip_codec_extension(path).rsplit_once('.')?;
    by_extension(ext)
}

/// The names of the formats, for messages: `parquet, csv, ...` (`writes`: those written).
pub fn names(writes: bool) -> Vec<&'static str> {
    FORMATS
        .iter()
        .filter(|f| !writes || f.writes())
        .map(|f| f.name())
        .collect()
}

/// The files of an input, as a format reads them: through its volume and its read options.
pub struct Files<'a> {
    pub volume: &'a Volume,
    pub opts: &'a ReadOptions,
}

impl Files<'_> {
    /// Rows a batch holds at most.
    pub fn batch_rows(&self) -> usize {
        self.opts.batch_size.max(1)
    }

    /// A whole file, decompressed.
    pub fn bytes(&self, path: &str) -> Result<Vec<u8>> {
        match self.opts.codec {
            None => Ok(self.volume.read(path, self.opts.max_bytes)?.bytes),
            Some(c) => {
                let raw = self.volume.read_raw(path, self.opts.max_bytes)?;
                decompress(c, &raw, self.opts.max_bytes)
                    .map_err(|e| anyhow!("{path}: {} decompression failed: {e:?}", c.name()))
            }
        }
    }

    /// A file as a stream, decompressed.
    pub fn stream(&self, path: &str) -> Result<Box<dyn std::io::Read + Send>> {
        Ok(self
            .volume
            .open_reader(path, self.opts.codec, self.opts.max_bytes)?)
    }

    /// The local file behind `path` when it is read as it is (a local volume, no codec).
    pub fn local_plain(&self, path: &str) -> Result<Option<PathBuf>> {
        let plain = self.opts.codec.is_none() && Codec::from_path(path).is_none();
        Ok(self.volume.local_file(path)?.filter(|_| plain))
    }
}
