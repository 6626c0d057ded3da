//! The catalog's resources, as checked by the loader. String values are kept as written
//! (with `${VAR}` references unexpanded), so printing a resource never prints a secret.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A loaded and checked catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The file it came from; `None` for the embedded default.
    pub path: Option<PathBuf>,
    pub volumes: BTreeMap<String, VolumeDef>,
    pub tables: BTreeMap<String, TableDef>,
    /// Table catalogs (Iceberg) that `[tables.X] catalog = "NAME"` refers to.
    pub catalogs: BTreeMap<String, CatalogDef>,
    pub tokenizers: BTreeMap<String, TokenizerDef>,
    pub models: BTreeMap<String, ModelDef>,
    pub validators: BTreeMap<String, ValidatorDef>,
    pub servers: BTreeMap<String, ServerDef>,
    pub pipelines: BTreeMap<String, PipelineDef>,
}

/// The kinds of resource a catalog names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    Volume,
    Catalog,
    Table,
    Tokenizer,
    Model,
    Validator,
    Server,
    Pipeline,
}

impl ResourceKind {
    /// The catalog section that holds this kind.
    pub fn section(self) -> &'static str {
        match self {
            Self::Volume => "volumes",
            Self::Catalog => "catalogs",
            Self::Table => "tables",
            Self::Tokenizer => "tokenizers",
            Self::Model => "models",
            Self::Validator => "validators",
            Self::Server => "servers",
            Self::Pipeline => "pipelines",
        }
    }

    /// The singular noun, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Volume => "volume",
            Self::Catalog => "catalog",
            Self::Table => "table",
            Self::Tokenizer => "tokenizer",
            Self::Model => "model",
            Self::Validator => "validator",
            Self::Server => "server",
            Self::Pipeline => "pipeline",
        }
    }
}

/// `[volumes.NAME]`: a place files live. The name is also a URI scheme (`NAME://path`).
#[derive(Debug, Clone)]
pub struct VolumeDef {
    pub name: String,
    /// As written: `file://rel/or/abs`, `s3://bucket/prefix`, `memory://name`, a plain path...
    pub url: String,
    /// Back-end options (`region`, `endpoint`, `aws_access_key_id = "${KEY}"`...), as written.
    pub options: BTreeMap<String, String>,
    /// Globs a listing keeps (all files when empty) and drops.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub line: usize,
}

/// Table formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Delta,
    /// An Apache Iceberg table, named by a catalog (`catalog`) and an identifier (`table`).
    Iceberg,
    /// Files of a format Disco writes (`parquet`, `csv`, `ndjson`: see
    /// [`crate::table::format::FORMATS`]), by its name.
    File(&'static str),
}

impl TableFormat {
    /// By name (or a file format's alias). Lakehouse formats are known here even when Disco
    /// is built without them, so a catalog naming one says so when it is used.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delta" => Some(Self::Delta),
            "iceberg" => Some(Self::Iceberg),
            _ => crate::table::format::named(s)
                .filter(|f| f.writes())
                .map(|f| Self::File(f.name())),
        }
    }

    /// The format of a table at `url`, by its extension: files of a format Disco writes, and
    /// otherwise a folder holding a Delta table.
    pub fn guess(url: &str) -> Self {
        crate::table::format::by_path(url)
            .filter(|f| f.writes())
            .map_or(Self::Delta, |f| Self::File(f.name()))
    }

    /// Every name `parse` takes (not aliases), for messages.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["delta", "iceberg"];
        names.extend(crate::table::format::names(true));
        names
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delta => "delta",
            Self::Iceberg => "iceberg",
            Self::File(name) => name,
        }
    }
}

/// The kinds of table catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogType {
    /// Iceberg's SQL catalog on a SQLite file (the tables PyIceberg's `SqlCatalog` keeps).
    Sql,
    /// An Iceberg REST catalog server.
    Rest,
}

impl CatalogType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Rest => "rest",
        }
    }
}

/// `[catalogs.NAME]`: an Iceberg catalog. Values are kept as written (`${VAR}`s unexpanded);
/// relative paths in `uri` (SQLite) and `warehouse` resolve against the catalog file's folder
/// when the catalog is opened.
#[derive(Debug, Clone)]
pub struct CatalogDef {
    pub name: String,
    pub kind: CatalogType,
    /// `sqlite:///abs/cat.db`, `sqlite://rel/cat.db` (sql); `http://host:port` (rest).
    pub uri: String,
    /// Where new tables go: a path or a `file://` URL (required for sql).
    pub warehouse: Option<String>,
    /// The catalog name recorded in the SQL catalog's rows (PyIceberg's `SqlCatalog(name)`);
    /// defaults to the entry's name.
    pub catalog_name: Option<String>,
    /// Properties handed to the catalog as written (REST credentials, `pool.*`...).
    pub options: BTreeMap<String, String>,
    pub line: usize,
}

/// `[tables.NAME]`.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    /// Where the table lives; empty for an Iceberg table (its catalog knows).
    pub url: String,
    pub format: TableFormat,
    /// Iceberg: the `[catalogs.NAME]` entry and the table identifier (`db.events`).
    pub catalog: Option<String>,
    pub table: Option<String>,
    pub partition_by: Vec<String>,
    /// The version readers see (`12`, `v12`, or an RFC 3339 time); `None` for the latest.
    pub version: Option<String>,
    pub options: BTreeMap<String, String>,
    pub line: usize,
}

/// `[tokenizers.NAME]`: a Hugging Face `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct TokenizerDef {
    pub name: String,
    pub url: String,
    /// Stage options (`max_tokens`, `padding`, `overlap`...), checked by the tokenizer stage.
    pub options: toml::Table,
    pub line: usize,
}

/// What a model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Embedding,
    Classifier,
}

/// `[models.NAME]`: a folder with `config.json` and `model.safetensors`.
#[derive(Debug, Clone)]
pub struct ModelDef {
    pub name: String,
    pub kind: ModelKind,
    pub url: String,
    /// The tokenizer resource the model's inputs go through.
    pub tokenizer: Option<String>,
    pub options: toml::Table,
    pub line: usize,
}

/// Where a validator's JSON Schema comes from.
#[derive(Debug, Clone)]
pub enum SchemaSource {
    Uri(String),
    Inline(serde_json::Value),
}

/// `[validators.NAME]`.
#[derive(Debug, Clone)]
pub struct ValidatorDef {
    pub name: String,
    pub schema: SchemaSource,
    pub options: toml::Table,
    pub line: usize,
}

/// `[servers.NAME]`: a language server Disco spawns and supervises.
#[derive(Debug, Clone, Default)]
pub struct ServerDef {
    pub name: String,
    /// Program and arguments, spawned without a shell.
    pub command: Vec<String>,
    pub languages: Vec<String>,
    /// Files whose presence marks a workspace root (`Cargo.toml`, `go.mod`...).
    pub root_markers: Vec<String>,
    pub initialization_options: Option<serde_json::Value>,
    /// Answers to `workspace/configuration`, by section.
    pub settings: Option<serde_json::Value>,
    pub env: BTreeMap<String, String>,
    pub request_timeout_ms: Option<u64>,
    pub startup_timeout_ms: Option<u64>,
    /// Requests in flight at once to one instance (default: the run's, 16).
    pub concurrency: Option<usize>,
    /// Processes of this server per workspace root, sharing the files between them
    /// (default 1): for single-threaded servers when there are cores to spare.
    pub instances: Option<usize>,
    pub line: usize,
}

/// One stage of a pipeline: a resource or built-in stage name, with options.
#[derive(Debug, Clone)]
pub struct StageRef {
    pub name: String,
    pub options: toml::Table,
}

/// `[pipelines.NAME]`.
#[derive(Debug, Clone)]
pub struct PipelineDef {
    pub name: String,
    pub input: String,
    pub stages: Vec<StageRef>,
    pub output: Option<String>,
    pub rejects: Option<String>,
    pub format: Option<TableFormat>,
    pub batch_size: Option<usize>,
    pub line: usize,
}

impl Catalog {
    /// Where this catalog came from, for messages.
    pub fn origin(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the embedded default catalog".to_string(),
        }
    }

    /// Every resource as `(kind, name, line)`, sorted by kind then name.
    pub fn resources(&self) -> Vec<(ResourceKind, &str, usize)> {
        let mut out = Vec::new();
        out.extend(
            self.volumes
                .values()
                .map(|d| (ResourceKind::Volume, d.name.as_str(), d.line)),
        );
        out.extend(
            self.catalogs
                .values()
                .map(|d| (ResourceKind::Catalog, d.name.as_str(), d.line)),
        );
        out.extend(
            self.tables
                .values()
                .map(|d| (ResourceKind::Table, d.name.as_str(), d.line)),
        );
        out.extend(
            self.tokenizers
                .values()
                .map(|d| (ResourceKind::Tokenizer, d.name.as_str(), d.line)),
        );
        out.extend(
            self.models
                .values()
                .map(|d| (ResourceKind::Model, d.name.as_str(), d.line)),
        );
        out.extend(
            self.validators
                .values()
                .map(|d| (ResourceKind::Validator, d.name.as_str(), d.line)),
        );
        out.extend(
            self.servers
                .values()
                .map(|d| (ResourceKind::Server, d.name.as_str(), d.line)),
        );
        out.extend(
            self.pipelines
                .values()
                .map(|d| (ResourceKind::Pipeline, d.name.as_str(), d.line)),
        );
        out
    }

    /// The kinds of resource called `name` (a name may be, say, both a table and a model).
    pub fn kinds_of(&self, name: &str) -> Vec<ResourceKind> {
        self.resources()
            .into_iter()
            .filter(|(_, n, _)| *n == name)
            .map(|(k, _, _)| k)
            .collect()
    }

    /// A one-line description of a resource: where it lives, or what it runs.
    pub fn detail(&self, kind: ResourceKind, name: &str) -> String {
        let cat = self;
        match kind {
            ResourceKind::Volume => cat.volumes[name].url.clone(),
            ResourceKind::Catalog => {
                let c = &cat.catalogs[name];
                format!("{} ({})", super::redact_url(&c.uri), c.kind.as_str())
            }
            ResourceKind::Table => {
                let t = &cat.tables[name];
                match (&t.catalog, &t.table) {
                    (Some(c), Some(id)) => format!("{c}:{id} ({})", t.format.as_str()),
                    _ => format!("{} ({})", t.url, t.format.as_str()),
                }
            }
            ResourceKind::Tokenizer => cat.tokenizers[name].url.clone(),
            ResourceKind::Model => cat.models[name].url.clone(),
            ResourceKind::Validator => match &cat.validators[name].schema {
                SchemaSource::Uri(u) => u.clone(),
                SchemaSource::Inline(_) => "(inline schema)".into(),
            },
            ResourceKind::Server => cat.servers[name].command.join(" "),
            ResourceKind::Pipeline => {
                let p = &cat.pipelines[name];
                let stages: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
                format!(
                    "{} → {} → {}",
                    p.input,
                    stages.join(" → "),
                    p.output.as_deref().unwrap_or("(stdout)")
                )
            }
        }
    }
}
