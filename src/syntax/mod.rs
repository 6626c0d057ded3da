//! Syntax: tree-sitter languages, detection, parsing and the queries in `grammars/`.
//!
//! Architecture invariant: parsing never fails on input. A parse returns a tree, with ERROR
//! and MISSING nodes where the text does not fit the grammar; only a timeout stops it.
//! This module knows nothing about records, JSON or language servers.

mod detect;
mod docs;
mod language;
mod parse;
mod tags;

pub use detect::{detect, shebang_interpreter};
pub use docs::{doc_comment, docstring, Doc};
pub use language::{language_by_name, languages, Language};
pub use parse::{node_index, parse, reparse, ParseError};
pub use tags::{in_document_order, DefinitionScan, Tag, TagRole, TagsQuery};
