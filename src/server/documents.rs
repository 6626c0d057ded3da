//! Open documents: text, language, and a syntax tree kept current by incremental re-parses
//! (`didChange` edits are applied to the text and to the tree, and the parser reuses what
//! did not change).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tower_lsp_server::ls_types as lsp;
use tree_sitter as ts;

use crate::lsp::{Encoding, LineIndex};
use crate::syntax::{detect, reparse, Language};

/// One open document.
pub struct Document {
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
    pub language: Option<&'static Language>,
    pub tree: Option<ts::Tree>,
}

const PARSE_TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

impl Document {
    pub fn open(path: PathBuf, text: String, version: i32) -> Document {
        let language = detect(&path.to_string_lossy(), text.as_bytes());
        let tree = language.and_then(|l| reparse(l, text.as_bytes(), None, PARSE_TIMEOUT).ok());
        Document {
            path,
            text,
            version,
            language,
            tree,
        }
    }

    /// Applies `didChange` edits (ranges in UTF-16, the protocol's default) and re-parses.
    pub fn change(&mut self, version: i32, changes: Vec<lsp::TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                None => {
                    self.text = change.text;
                    self.tree = None;
                }
                Some(range) => {
                    let index = LineIndex::new(&self.text);
                    let start = index.offset(
                        &self.text,
                        range.start.line,
                        range.start.character,
                        Encoding::Utf16,
                    );
                    let old_end = index
                        .offset(
                            &self.text,
                            range.end.line,
                            range.end.character,
                            Encoding::Utf16,
                        )
                        .max(start);
                    let point = |text: &str, at: usize| {
                        let (row, column) = LineIndex::new(text).row_col(at);
                        ts::Point { row, column }
                    };
                    let start_position = point(&self.text, start);
                    let old_end_position = point(&self.text, old_end);
                    self.text.replace_range(start..old_end, &change.text);
                    let new_end = start + change.text.len();
                    let edit = ts::InputEdit {
                        start_byte: start,
                        old_end_byte: old_end,
                        new_end_byte: new_end,
                        start_position,
                        old_end_position,
                        new_end_position: point(&self.text, new_end),
                    };
                    if let Some(tree) = &mut self.tree {
                        tree.edit(&edit);
                    }
                }
            }
        }
        self.version = version;
        self.tree = self
            .language
            .and_then(|l| reparse(l, self.text.as_bytes(), self.tree.as_ref(), PARSE_TIMEOUT).ok());
    }
}

/// The open documents, by URI.
#[derive(Default)]
pub struct Documents {
    pub by_uri: HashMap<String, Document>,
}

/// The local path of a document URI.
pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// The URI of a local path.
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    lsp::Uri::from_file_path(path)
}
