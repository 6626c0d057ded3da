//! Disco: use volumes, tables, tokenizers, models, validators and language servers by name.
//!
//! The modules follow the data flow (see `ARCHITECTURE.md`): the [`catalog`] names resources,
//! a [`volume`] lists and reads files, [`syntax`] parses them with tree-sitter, [`tree`] turns
//! parses into `disco.tree/1` records, and [`table`] writes records as tables.

mod api;
pub mod catalog;
pub mod lsp;
pub mod pipeline;
pub mod server;
#[cfg(feature = "sql")]
pub mod sql;
pub mod syntax;
pub mod table;
pub mod tree;
pub mod volume;

pub use api::{default_rejects, Dataset, Disco};

/// The message of a caught panic (`catch_unwind`, a joined thread): every place that turns a
/// panic into a recorded error — a file's record, a part's failure — says it the same way.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string())
}
