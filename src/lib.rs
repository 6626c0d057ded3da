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
pub mod syntax;
pub mod table;
pub mod tree;
pub mod volume;

pub use api::{default_rejects, Dataset, Disco};
