//! The `tree` stage: the `disco tree` engine on rows. Paths (into a volume) or blobs (`path`
//! and `bytes` columns) in; each row gains the file's `language`, `status`, `reason` and its
//! `disco.tree/1` record (`tree`, JSON). A file that cannot be parsed keeps its row, with its
//! status and reason: every file is accounted for.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;

use super::plan::Opts;
use super::{need_text_column, PlanError, Stage, StageOutput};
use crate::catalog::Catalog;
use crate::tree::record::Status;
use crate::tree::{build_file, build_source, FileOutput, Format, Payload, Source, TreeOptions};
use crate::volume::{Entry, EntryKind, TextEncoding, Volume};

pub struct TreeStage {
    volume: Option<Volume>,
    volume_name: String,
    prefix: String,
    opts: TreeOptions,
}

impl TreeStage {
    /// Options: `volume` (where `path`s live; not needed with a `bytes` column), `format`
    /// (`nested` or `flat`), `max_bytes`, `encoding` (decode every file with this one, as
    /// `disco tree --encoding` does).
    pub fn new(catalog: &Catalog, o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["volume", "format", "max_bytes", "encoding"])?;
        let (volume, volume_name, prefix) = match o.string("volume")? {
            Some(uri) => {
                let loc = catalog
                    .resolve(&uri)
                    .map_err(|e| PlanError::new("tree", e.to_string()))?;
                let v =
                    Volume::open(&loc.volume).map_err(|e| PlanError::new("tree", e.to_string()))?;
                let name = v.name().to_string();
                (Some(v), name, loc.path)
            }
            None => (None, "rows".to_string(), String::new()),
        };
        let format = match o.string("format")?.as_deref() {
            None | Some("nested") => Format::Nested,
            Some("flat") => Format::Flat,
            Some(f) => {
                return Err(PlanError::new(
                    "tree",
                    format!("`format` is nested or flat, not {f:?}"),
                ))
            }
        };
        let mut opts = TreeOptions {
            format,
            ..TreeOptions::default()
        };
        if let Some(n) = o.usize("max_bytes")? {
            opts.max_bytes = n as u64;
        }
        if let Some(label) = o.string("encoding")? {
            opts.encoding = Some(
                TextEncoding::for_label(&label)
                    .map_err(|e| PlanError::new("tree", e.to_string()))?,
            );
        }
        Ok(TreeStage {
            volume,
            volume_name,
            prefix,
            opts,
        })
    }

    /// A blob goes through [`Source::from_bytes`], as a file `disco tree` reads does, so the
    /// same bytes get the same status, encoding and record.
    fn of_blob(&self, path: &str, bytes: &[u8]) -> FileOutput {
        let limit = self.opts.max_bytes;
        if bytes.len() as u64 > limit {
            let mut src = Source::from_bytes(&self.volume_name, path, Vec::new(), None);
            src.info.bytes = bytes.len() as u64;
            src.info.sha256 = None;
            src.info.encoding = None;
            src.info.encoding_confidence = None;
            src.text = None;
            src.failure = Some((
                Status::TooLarge,
                format!(
                    "{} bytes is over the limit of {limit} bytes (--max-bytes)",
                    bytes.len()
                ),
            ));
            return build_source(src, &self.opts);
        }
        let src = Source::from_bytes(&self.volume_name, path, bytes.to_vec(), self.opts.encoding);
        build_source(src, &self.opts)
    }

    fn of_path(&self, path: &str) -> Option<FileOutput> {
        let volume = self.volume.as_ref()?;
        let full = if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.prefix)
        };
        let entry = Entry {
            path: full,
            size: 0,
            kind: EntryKind::File,
        };
        build_file(volume, &entry, &self.opts)
    }
}

impl Stage for TreeStage {
    fn name(&self) -> &str {
        "tree"
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        need_text_column("tree", input, "path")?;
        match input
            .index_of("bytes")
            .map(|i| input.field(i).data_type().clone())
        {
            Ok(DataType::Binary | DataType::LargeBinary | DataType::BinaryView) => {}
            Ok(other) => {
                return Err(PlanError::new(
                    "tree",
                    format!("column `bytes` is {other}, not binary"),
                ))
            }
            Err(_) if self.volume.is_none() => {
                return Err(PlanError::new(
                    "tree",
                    "its input has no `bytes` column, so it needs `volume = \"...\"` for the paths",
                ))
            }
            Err(_) => {}
        }
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (name, nullable) in [
            ("language", true),
            ("status", false),
            ("reason", true),
            ("tree", false),
        ] {
            if input.index_of(name).is_ok() {
                return Err(PlanError::new(
                    "tree",
                    format!("its output column `{name}` is already in the input"),
                ));
            }
            fields.push(Field::new(name, DataType::Utf8, nullable));
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let schema = batch.schema();
        let paths = super::text_values(batch.column(schema.index_of("path")?));
        let bytes: Option<Vec<Option<&[u8]>>> = schema.index_of("bytes").ok().map(|i| {
            let c = batch.column(i);
            match c.data_type() {
                DataType::LargeBinary => c.as_binary::<i64>().iter().collect(),
                DataType::BinaryView => c.as_binary_view().iter().collect(),
                _ => c.as_binary::<i32>().iter().collect(),
            }
        });
        let outs: Vec<Option<FileOutput>> = (0..batch.num_rows())
            .into_par_iter()
            .map(|i| {
                let path = paths[i]?;
                match &bytes {
                    Some(b) => b[i].map(|b| self.of_blob(path, b)),
                    None => self.of_path(path),
                }
            })
            .collect();
        let mut language = Vec::with_capacity(outs.len());
        let mut status = Vec::with_capacity(outs.len());
        let mut reason: Vec<Option<String>> = Vec::with_capacity(outs.len());
        let mut tree = Vec::with_capacity(outs.len());
        for out in &outs {
            match out {
                Some(o) => {
                    language.push(o.language);
                    status.push(o.status.as_str());
                    let text = match &o.payload {
                        Payload::Json(j) => String::from_utf8_lossy(j).trim_end().to_string(),
                        _ => String::new(),
                    };
                    // Only failed files have a reason: parse the record only for them.
                    let failed = !matches!(o.status, Status::Ok | Status::SyntaxErrors);
                    reason.push(
                        failed
                            .then(|| {
                                serde_json::from_str::<serde_json::Value>(
                                    text.lines().next().unwrap_or(""),
                                )
                                .ok()
                                .and_then(|v| v["reason"].as_str().map(str::to_string))
                            })
                            .flatten(),
                    );
                    tree.push(text);
                }
                None => {
                    language.push(None);
                    status.push("unreadable");
                    reason.push(Some("no path (or no bytes) in this row".into()));
                    tree.push(String::new());
                }
            }
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.push(Arc::new(StringArray::from(language)));
        columns.push(Arc::new(StringArray::from(status)));
        columns.push(Arc::new(StringArray::from(reason)));
        columns.push(Arc::new(StringArray::from(tree)));
        Ok(StageOutput::all(RecordBatch::try_new(
            self.plan(&schema)?,
            columns,
        )?))
    }
}
