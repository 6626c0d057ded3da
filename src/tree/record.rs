//! The `disco.tree/1` record types: the only `Serialize` types of the tree job. The JSON
//! Schema of these records is `schema/tree.schema.json` (nested) and
//! `schema/flat.schema.json` (flat); tests validate real output against both.

use serde::Serialize;

/// The schema version every record carries.
pub const SCHEMA: &str = "disco.tree/1";

/// `[start_byte, end_byte, start_row, start_col, end_row, end_col]`; columns in bytes, rows
/// and columns from 0. Offsets are into the file's UTF-8 text (after a BOM is removed and
/// any other encoding is transcoded).
pub type Span = [u64; 6];

/// What became of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Parsed; the tree has no ERROR or MISSING node.
    Ok,
    /// Parsed; the tree has ERROR or MISSING nodes (it is still complete).
    SyntaxErrors,
    /// Parsed, but the tree is deeper than the nested format's limit (use `--flat`).
    TooDeep,
    /// Parsing passed its deadline.
    Timeout,
    /// No grammar for this file.
    Unsupported,
    /// Binary content (a NUL byte near the start).
    Binary,
    /// Over the size limit.
    TooLarge,
    /// Not text: malformed in its BOM's, the forced or the detected encoding, broken UTF-8,
    /// or bytes that decode only into control characters.
    InvalidEncoding,
    /// Could not be read (permissions, I/O, corrupt compression, a symlink loop).
    Unreadable,
    /// A FIFO, socket or device: never opened.
    Special,
    /// A symbolic link that was not followed.
    Symlink,
    /// A path or link that resolves outside the volume: refused.
    OutsideVolume,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::SyntaxErrors => "syntax_errors",
            Status::TooDeep => "too_deep",
            Status::Timeout => "timeout",
            Status::Unsupported => "unsupported",
            Status::Binary => "binary",
            Status::TooLarge => "too_large",
            Status::InvalidEncoding => "invalid_encoding",
            Status::Unreadable => "unreadable",
            Status::Special => "special",
            Status::Symlink => "symlink",
            Status::OutsideVolume => "outside_volume",
        }
    }

    /// Whether the file was parsed and its tree is in the record.
    pub fn parsed(self) -> bool {
        matches!(self, Status::Ok | Status::SyntaxErrors)
    }
}

/// Provenance of a file.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// `f:` + the first 16 hex digits of SHA-256(volume NUL path): stable across runs.
    pub id: String,
    pub volume: String,
    pub path: String,
    pub language: Option<&'static str>,
    /// Size of the content in bytes (after decompression).
    pub bytes: u64,
    /// SHA-256 of the content (after decompression), when it was read.
    pub sha256: Option<String>,
    /// The encoding the text was decoded from, when it was: `utf-8`, `utf-8-bom`,
    /// `utf-16le`, `utf-16be`, `utf-32le`, `utf-32be`, or a detected (or `--encoding`)
    /// WHATWG encoding in lower case (`windows-1252`, `shift_jis`, `gbk`, ...).
    pub encoding: Option<&'static str>,
    /// How sure the decoder is of `encoding`, 0 to 1 (1 for a BOM, valid UTF-8 or
    /// `--encoding`); null when the file was not decoded.
    pub encoding_confidence: Option<f64>,
    /// The codec the file was stored with, when compressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<&'static str>,
    pub generated: bool,
    pub vendored: bool,
}

/// Who produced what for this file, and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Producers {
    pub syntax: SyntaxProducer,
    /// One entry per language server asked (filled by the supervisor; empty at `--lsp none`).
    pub servers: Vec<ServerProducer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyntaxProducer {
    /// The grammar crate, or null when no grammar applied.
    pub grammar: Option<String>,
    pub version: Option<String>,
    /// `ok`, `failed` or `skipped`.
    pub status: &'static str,
}

/// How a language server did on one file, from best to worst: a file keeps the worst it
/// met (`Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    Ok,
    /// Some requests failed, or it crashed and a retry answered.
    Partial,
    /// Still indexing the workspace when the file was asked, after waiting: answers (above
    /// all references) may be missing, never to be read as "none".
    Indexing,
    Timeout,
    /// Crashed (or was given up after restarts).
    Crashed,
    /// Not installed, or would not start.
    Unsupported,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Ok => "ok",
            ServerStatus::Partial => "partial",
            ServerStatus::Indexing => "indexing",
            ServerStatus::Timeout => "timeout",
            ServerStatus::Crashed => "crashed",
            ServerStatus::Unsupported => "unsupported",
        }
    }
}

/// A language server's part in a record.
#[derive(Debug, Clone, Serialize)]
pub struct ServerProducer {
    pub name: String,
    pub version: Option<String>,
    pub position_encoding: Option<String>,
    pub status: ServerStatus,
    pub error: Option<String>,
}

/// Size and quality figures of a parsed tree.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub nodes: u64,
    pub named_nodes: u64,
    pub depth: u32,
    pub error_nodes: u64,
    pub missing_nodes: u64,
    /// (error + missing nodes) / nodes.
    pub error_ratio: f64,
    pub lines: u64,
}

/// A definition found by the language's tags query.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    pub kind: &'static str,
    pub name: String,
    /// Pre-order index of the definition node and of its name node.
    pub node: u32,
    pub name_node: u32,
    pub span: Span,
    pub doc: Option<String>,
    pub doc_span: Option<[u64; 2]>,
    /// The `node` of the innermost definition around this one.
    pub enclosing: Option<u32>,
}

/// A function- or class-level unit, for datasets.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub kind: &'static str,
    pub name: String,
    pub node: u32,
    pub span: Span,
    /// Byte range of the signature: from the definition's start to its body's start.
    pub signature: [u64; 2],
    pub signature_text: String,
    pub body: Option<[u64; 2]>,
    /// Byte range of the docstring or doc comment.
    pub doc: Option<[u64; 2]>,
    /// SHA-256 of the unit's text, and of the text with whitespace runs folded to one space.
    pub sha256: String,
    pub norm_sha256: String,
}

/// Everything about a file except its tree, which is spliced in as raw JSON (nested mode)
/// or written as node lines (flat mode).
#[derive(Debug, Clone, Serialize)]
pub struct FileHeader {
    pub schema: &'static str,
    pub file: FileInfo,
    pub status: Status,
    pub reason: Option<String>,
    pub producers: Producers,
    pub stats: Option<Stats>,
}
