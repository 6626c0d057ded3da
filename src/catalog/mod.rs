//! The catalog: `disco.toml`, which names volumes, tables, tokenizers, models, validators,
//! language servers and pipelines, and resolves `name://path` URIs to volumes.
//!
//! The catalog only knows names and where things live; it never reads a resource. Values keep
//! their `${ENV_VAR}` references as written, and are interpolated only when a resource is
//! opened ([`Catalog::resolve`]), so a catalog can be listed or shown without printing a secret.

mod error;
mod interp;
mod lake;
mod load;
mod model;
mod resolve;

pub use error::CatalogError;
pub use interp::interpolate;
pub use lake::CatalogSpec;
pub use load::BUILTIN_STAGES;
pub use model::{
    Catalog, CatalogDef, CatalogType, ModelDef, ModelKind, PipelineDef, ResourceKind, SchemaSource,
    ServerDef, StageRef, TableDef, TableFormat, TokenizerDef, ValidatorDef, VolumeDef,
};
pub use resolve::{confine, redact_url, Location, VolumeSpec, BUILTIN_SCHEMES};

/// The file name looked for in the current directory and its parents.
pub const CATALOG_FILE: &str = "disco.toml";
