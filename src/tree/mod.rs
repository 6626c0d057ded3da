//! Semantic trees: merging what syntax (and, later, language servers) know about a file into
//! `disco.tree/1` records, and the engine that does it for a whole volume.
//!
//! Architecture invariant: every listed file gets exactly one file record, whatever becomes
//! of it; a file that cannot be read or parsed says why in `status` and `reason`.

mod build;
mod cst;
mod engine;
pub mod enrich;
mod lines;
mod merge;
pub mod record;
mod scip;
mod source;
pub mod tables;
mod units;

pub use build::{build_file, build_source, FileOutput, FileRows, Format, Payload, TreeOptions};
pub use cst::TextMode;
pub use engine::{run, Sink, Summary};
pub use enrich::{Enricher, FullPlan, LspConfig, LspLevel, LspServers, Occurrences};
pub use scip::{ScipError, ScipWriter};
pub use source::{file_id, is_generated, is_vendored, load, LoadOptions, Source};
