//! The `tree` stage: the `disco tree` engine on rows. Paths (into a volume) or blobs (`path`
//! and `bytes` columns) in; out come the rows of one table of the relational form of
//! `disco.tree/1` (`table = "files"` by default: one row per input row with its status and
//! reason, so every file is accounted for; or `nodes`, `definitions`, `symbols`, `edges`...,
//! as `disco tree --format parquet` writes them: `tree::tables` is the one conversion).
//! Rows without a path (or without bytes) are rejected.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use rayon::prelude::*;

use super::plan::Opts;
use super::{need_text_column, PlanError, Reject, Stage, StageOutput};
use crate::catalog::Catalog;
use crate::tree::record::Status;
use crate::tree::tables::{TreeRows, TreeTable};
use crate::tree::{
    build_file, build_source, FileOutput, Format, LspConfig, LspLevel, LspServers, Payload, Source,
    TreeOptions,
};
use crate::volume::{Entry, EntryKind, TextEncoding, Volume};

pub struct TreeStage {
    volume: Option<Volume>,
    volume_name: String,
    prefix: String,
    table: TreeTable,
    opts: TreeOptions,
    /// Language servers (`lsp = "symbols"` or `"full"`), started when the plan is checked.
    servers: Option<LspServers>,
}

impl TreeStage {
    /// Options: `volume` (where `path`s live; not needed with a `bytes` column, but needed
    /// for language servers), `table` (`files`, `nodes`, ...), `max_bytes`, `encoding`
    /// (decode every file with this one, as `disco tree --encoding` does), `lsp` (`none`,
    /// `symbols`, `full`, as `disco tree --lsp`), `lsp_timeout` (seconds).
    pub fn new(catalog: &Catalog, o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&[
            "volume",
            "table",
            "max_bytes",
            "encoding",
            "lsp",
            "lsp_timeout",
        ])?;
        let err = |m: String| PlanError::new("tree", m);
        let (volume, volume_name, prefix) = match o.string("volume")? {
            Some(uri) => {
                let loc = catalog.resolve(&uri).map_err(|e| err(e.to_string()))?;
                let v = Volume::open(&loc.volume).map_err(|e| err(e.to_string()))?;
                let name = v.name().to_string();
                (Some(v), name, loc.path)
            }
            None => (None, "rows".to_string(), String::new()),
        };
        let table = match o.string("table")? {
            None => TreeTable::Files,
            Some(name) => TreeTable::named(&name).ok_or_else(|| {
                let known: Vec<&str> = TreeTable::ALL.iter().map(|t| t.name()).collect();
                err(format!(
                    "`table` is one of {}, not {name:?}",
                    known.join(", ")
                ))
            })?,
        };
        let mut opts = TreeOptions {
            format: Format::Rows,
            ..TreeOptions::default()
        };
        if let Some(n) = o.usize("max_bytes")? {
            opts.max_bytes = n as u64;
        }
        if let Some(label) = o.string("encoding")? {
            opts.encoding = Some(TextEncoding::for_label(&label).map_err(|e| err(e.to_string()))?);
        }
        let level = match o.string("lsp")?.as_deref() {
            None | Some("none") => LspLevel::None,
            Some("symbols") => LspLevel::Symbols,
            Some("full") => LspLevel::Full,
            Some(other) => {
                return Err(err(format!(
                    "`lsp` is none, symbols or full, not {other:?}"
                )))
            }
        };
        let timeout = o.usize("lsp_timeout")?.unwrap_or(30).max(1) as u64;
        let servers = if level > LspLevel::None {
            // Servers read the files from disk: a local volume's folder.
            let root = volume
                .as_ref()
                .and_then(|v| v.local_root())
                .map(|r| r.to_path_buf())
                .ok_or_else(|| {
                    err("`lsp` needs `volume` to be a local folder (the servers read the files there)".into())
                })?;
            let cfg = LspConfig {
                level,
                root,
                timeout: std::time::Duration::from_secs(timeout),
                only: None,
                plan: Default::default(),
            };
            let s = LspServers::start(catalog, cfg)
                .map_err(|e| err(format!("cannot start the language-server runtime: {e}")))?;
            opts.enricher = Some(s.enricher.clone());
            Some(s)
        } else {
            None
        };
        Ok(TreeStage {
            volume,
            volume_name,
            prefix,
            table,
            opts,
            servers,
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

impl std::fmt::Debug for TreeStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeStage")
            .field("table", &self.table)
            .field("servers", &self.servers)
            .finish()
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
        Ok(self.table.schema())
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
        let mut rows = TreeRows::new(&[self.table]);
        let mut origin = Vec::new();
        let mut rejects = Vec::new();
        for (i, out) in outs.iter().enumerate() {
            match out.as_ref().map(|o| &o.payload) {
                Some(Payload::Rows(file)) => {
                    let n = rows.push(file)[0];
                    origin.extend(std::iter::repeat_n(i as u32, n));
                }
                _ => rejects.push(Reject {
                    row: i as u32,
                    reason: "no path (or no bytes) in this row".into(),
                    pointer: None,
                }),
            }
        }
        Ok(StageOutput {
            batch: rows.take(self.table)?,
            origin: Some(origin),
            rejects,
        })
    }
}
