//! Flat tree records as Parquet: `<out>.parquet` holds one row per node, and
//! `<out>.files.parquet` one row per file (so files without nodes — binary, too large,
//! unsupported — are accounted for too).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::put::AtomicPut;
use crate::tree::{FileRows, NodeRow};

/// Rows buffered before a record batch is written.
const BATCH_ROWS: usize = 64 * 1024;

/// The node table's schema.
pub fn node_schema() -> SchemaRef {
    let u32f = |n: &str| Field::new(n, DataType::UInt32, false);
    let u64f = |n: &str| Field::new(n, DataType::UInt64, false);
    let boolf = |n: &str| Field::new(n, DataType::Boolean, false);
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        u32f("id"),
        Field::new("parent", DataType::UInt32, true),
        u32f("depth"),
        u32f("last"),
        Field::new("kind", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, true),
        boolf("named"),
        boolf("extra"),
        boolf("error"),
        boolf("missing"),
        u64f("start_byte"),
        u64f("end_byte"),
        u64f("start_row"),
        u64f("start_col"),
        u64f("end_row"),
        u64f("end_col"),
        Field::new("text", DataType::Utf8, true),
    ]))
}

/// The file table's schema.
pub fn file_schema() -> SchemaRef {
    let s = |n: &str, null| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("file", false),
        s("volume", false),
        s("path", false),
        s("language", true),
        Field::new("bytes", DataType::UInt64, false),
        s("sha256", true),
        s("encoding", true),
        Field::new("encoding_confidence", DataType::Float64, true),
        s("compression", true),
        Field::new("generated", DataType::Boolean, false),
        Field::new("vendored", DataType::Boolean, false),
        s("status", false),
        s("reason", true),
        Field::new("nodes", DataType::UInt64, true),
        Field::new("depth", DataType::UInt32, true),
        Field::new("error_nodes", DataType::UInt64, true),
        Field::new("error_ratio", DataType::Float64, true),
        Field::new("lines", DataType::UInt64, true),
        Field::new("definitions", DataType::UInt32, false),
        Field::new("units", DataType::UInt32, false),
    ]))
}

struct Target {
    writer: ArrowWriter<AtomicPut>,
}

/// An error of the atomic put, as Parquet's (the writer's errors are).
fn put_error(e: anyhow::Error) -> ParquetError {
    ParquetError::External(e.into())
}

impl Target {
    fn create(path: PathBuf, schema: SchemaRef) -> Result<Target, ParquetError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .build();
        let put = AtomicPut::local(path).map_err(put_error)?;
        let writer = ArrowWriter::try_new(put, schema, Some(props))?;
        Ok(Target { writer })
    }

    fn finish(self) -> Result<(), ParquetError> {
        self.writer.into_inner()?.commit().map_err(put_error)
    }
}

/// Writes flat tree records to `<out>` (nodes) and `<out stem>.files.parquet` (files).
pub struct TreeParquetWriter {
    nodes: Target,
    files: Target,
    pending_nodes: Vec<(Arc<str>, Arc<str>, NodeRow)>,
    pending_files: Vec<FileRows>,
}

impl TreeParquetWriter {
    /// Creates both files (as temporaries until [`finish`](Self::finish)).
    pub fn create(out: &Path) -> Result<TreeParquetWriter, ParquetError> {
        let files_path = files_path(out);
        Ok(TreeParquetWriter {
            nodes: Target::create(out.to_path_buf(), node_schema())?,
            files: Target::create(files_path, file_schema())?,
            pending_nodes: Vec::new(),
            pending_files: Vec::new(),
        })
    }

    /// Adds one file's rows.
    pub fn write(&mut self, mut rows: FileRows) -> Result<(), ParquetError> {
        let id: Arc<str> = rows.header.file.id.as_str().into();
        let path: Arc<str> = rows.header.file.path.as_str().into();
        for node in rows.nodes.drain(..) {
            self.pending_nodes.push((id.clone(), path.clone(), node));
        }
        self.pending_files.push(rows);
        if self.pending_nodes.len() >= BATCH_ROWS {
            self.flush_nodes()?;
        }
        if self.pending_files.len() >= 4096 {
            self.flush_files()?;
        }
        Ok(())
    }

    fn flush_nodes(&mut self) -> Result<(), ParquetError> {
        if self.pending_nodes.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending_nodes);
        let n = rows.len();
        let (mut file, mut path, mut kind, mut field, mut text) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let mut u32s: Vec<UInt32Builder> =
            (0..4).map(|_| UInt32Builder::with_capacity(n)).collect();
        let mut u64s: Vec<UInt64Builder> =
            (0..6).map(|_| UInt64Builder::with_capacity(n)).collect();
        let mut bools: Vec<BooleanBuilder> =
            (0..4).map(|_| BooleanBuilder::with_capacity(n)).collect();
        for (f, p, r) in &rows {
            file.append_value(f);
            path.append_value(p);
            u32s[0].append_value(r.id);
            u32s[1].append_option(r.parent);
            u32s[2].append_value(r.depth);
            u32s[3].append_value(r.last);
            kind.append_value(r.kind);
            field.append_option(r.field);
            for (b, v) in bools.iter_mut().zip([r.named, r.extra, r.error, r.missing]) {
                b.append_value(v);
            }
            for (b, v) in u64s.iter_mut().zip(r.span) {
                b.append_value(v);
            }
            text.append_option(r.text.as_deref());
        }
        let mut cols: Vec<ArrayRef> = vec![Arc::new(file.finish()), Arc::new(path.finish())];
        let mut u32s = u32s
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef);
        cols.extend(u32s.by_ref().take(4));
        cols.push(Arc::new(kind.finish()));
        cols.push(Arc::new(field.finish()));
        cols.extend(
            bools
                .into_iter()
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
        );
        cols.extend(
            u64s.into_iter()
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
        );
        cols.push(Arc::new(text.finish()));
        let batch = RecordBatch::try_new(node_schema(), cols)?;
        self.nodes.writer.write(&batch)
    }

    fn flush_files(&mut self) -> Result<(), ParquetError> {
        if self.pending_files.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending_files);
        let mut strs: Vec<StringBuilder> = (0..9).map(|_| StringBuilder::new()).collect();
        let (mut bytes, mut nodes, mut errs, mut lines) = (
            UInt64Builder::new(),
            UInt64Builder::new(),
            UInt64Builder::new(),
            UInt64Builder::new(),
        );
        let (mut depth, mut defs, mut units) = (
            UInt32Builder::new(),
            UInt32Builder::new(),
            UInt32Builder::new(),
        );
        let (mut generated, mut vendored, mut ratio, mut confidence) = (
            BooleanBuilder::new(),
            BooleanBuilder::new(),
            Float64Builder::new(),
            Float64Builder::new(),
        );
        for r in &rows {
            let f = &r.header.file;
            let st = r.header.stats.as_ref();
            strs[0].append_value(&f.id);
            strs[1].append_value(&f.volume);
            strs[2].append_value(&f.path);
            strs[3].append_option(f.language);
            bytes.append_value(f.bytes);
            strs[4].append_option(f.sha256.as_deref());
            strs[5].append_option(f.encoding);
            confidence.append_option(f.encoding_confidence);
            strs[6].append_option(f.compression);
            generated.append_value(f.generated);
            vendored.append_value(f.vendored);
            strs[7].append_value(r.header.status.as_str());
            strs[8].append_option(r.header.reason.as_deref());
            nodes.append_option(st.map(|s| s.nodes));
            depth.append_option(st.map(|s| s.depth));
            errs.append_option(st.map(|s| s.error_nodes));
            ratio.append_option(st.map(|s| s.error_ratio));
            lines.append_option(st.map(|s| s.lines));
            defs.append_value(r.definitions.len() as u32);
            units.append_value(r.units.len() as u32);
        }
        let mut s = strs
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef);
        let mut take = || s.next().expect("nine string columns");
        let cols: Vec<ArrayRef> = vec![
            take(),
            take(),
            take(),
            take(),
            Arc::new(bytes.finish()),
            take(),
            take(),
            Arc::new(confidence.finish()),
            take(),
            Arc::new(generated.finish()),
            Arc::new(vendored.finish()),
            take(),
            take(),
            Arc::new(nodes.finish()),
            Arc::new(depth.finish()),
            Arc::new(errs.finish()),
            Arc::new(ratio.finish()),
            Arc::new(lines.finish()),
            Arc::new(defs.finish()),
            Arc::new(units.finish()),
        ];
        let batch = RecordBatch::try_new(file_schema(), cols)?;
        self.files.writer.write(&batch)
    }

    /// Writes what is buffered and renames both files into place.
    pub fn finish(mut self) -> Result<(), ParquetError> {
        self.flush_nodes()?;
        self.flush_files()?;
        self.nodes.finish()?;
        self.files.finish()
    }
}

/// `out.parquet` → `out.files.parquet`.
pub fn files_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tree".into());
    out.with_file_name(format!("{stem}.files.parquet"))
}
