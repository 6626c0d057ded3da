//! The tables of the relational form: their columns (name, type, nullability, a line of
//! documentation) and Arrow schemas. `schema/tables/<table>.json` publishes them.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde_json::Value;

/// A column's type: every table uses these four, which every output format holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Utf8,
    Int64,
    Float64,
    Boolean,
}

impl ColumnType {
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
        }
    }
}

/// One column of a tree table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub nullable: bool,
    pub doc: &'static str,
}

const fn col(name: &'static str, ty: ColumnType, nullable: bool, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable,
        doc,
    }
}

use ColumnType::{Boolean as B, Float64 as F, Int64 as I, Utf8 as S};

const FILE: Column = col("file", S, false, "The file id (`files.file`).");

const SPAN: [Column; 6] = [
    col("start_byte", I, false, "Start byte in the UTF-8 text."),
    col("end_byte", I, false, "End byte (exclusive)."),
    col("start_row", I, false, "Start row, from 0."),
    col("start_col", I, false, "Start column in bytes, from 0."),
    col("end_row", I, false, "End row."),
    col("end_col", I, false, "End column in bytes."),
];

const FILES: &[Column] = &[
    col("file", S, false, "`f:` + 16 hex digits of SHA-256(volume NUL path): stable across runs."),
    col("volume", S, false, "The volume's name."),
    col("path", S, false, "The path inside the volume."),
    col("language", S, true, "The detected language."),
    col("bytes", I, false, "Size of the content (after decompression)."),
    col("sha256", S, true, "SHA-256 of the content, when read."),
    col("encoding", S, true, "The encoding the text was decoded from."),
    col("encoding_confidence", F, true, "How sure the decoder is of `encoding`, 0 to 1."),
    col("compression", S, true, "The codec the file was stored with."),
    col("generated", B, false, "Generated code, by name or marker."),
    col("vendored", B, false, "Third-party code, by path."),
    col("status", S, false, "ok, syntax_errors, too_deep, timeout, unsupported, binary, too_large, invalid_encoding, unreadable, special, symlink, outside_volume."),
    col("reason", S, true, "Why, when the status is not ok."),
    col("grammar", S, true, "The grammar crate."),
    col("grammar_version", S, true, "Its version."),
    col("syntax_status", S, false, "ok, failed or skipped."),
    col("nodes", I, true, "Nodes in the tree (null when not parsed)."),
    col("named_nodes", I, true, "Named nodes."),
    col("depth", I, true, "Depth of the deepest node."),
    col("error_nodes", I, true, "ERROR nodes."),
    col("missing_nodes", I, true, "MISSING nodes."),
    col("error_ratio", F, true, "(error + missing nodes) / nodes."),
    col("lines", I, true, "Lines of text."),
];

const NODES: &[Column] = &[
    FILE,
    col(
        "id",
        I,
        false,
        "Pre-order index of the node in its file (the root is 0).",
    ),
    col("parent", I, true, "The parent's id."),
    col("depth", I, false, "Depth (the root is 0)."),
    col(
        "last",
        I,
        false,
        "Id of the last descendant: X is inside Y when Y.id <= X.id <= Y.last.",
    ),
    col("kind", S, false, "The tree-sitter node kind."),
    col("field", S, true, "The field name in the parent."),
    col("named", B, false, "A named node."),
    col("extra", B, false, "An extra node (comments)."),
    col("error", B, false, "An ERROR node."),
    col("missing", B, false, "A MISSING node."),
    SPAN[0],
    SPAN[1],
    SPAN[2],
    SPAN[3],
    SPAN[4],
    SPAN[5],
    col(
        "text",
        S,
        true,
        "The node's text (by --text: leaves, all or none).",
    ),
    col(
        "token_type",
        S,
        true,
        "The semantic token a language server put on the node.",
    ),
    col(
        "token_modifiers",
        S,
        true,
        "Its modifiers, separated by spaces.",
    ),
];

const DEFINITIONS: &[Column] = &[
    FILE,
    col("node", I, false, "The definition node's id."),
    col("name_node", I, false, "Its name node's id."),
    col(
        "kind",
        S,
        false,
        "function, class, method, ... (from the tags query).",
    ),
    col("name", S, false, "The defined name."),
    SPAN[0],
    SPAN[1],
    SPAN[2],
    SPAN[3],
    SPAN[4],
    SPAN[5],
    col("doc", S, true, "The doc comment or docstring."),
    col("doc_start", I, true, "Its start byte."),
    col("doc_end", I, true, "Its end byte."),
    col(
        "enclosing",
        I,
        true,
        "The node of the innermost definition around this one.",
    ),
];

const UNITS: &[Column] = &[
    FILE,
    col("node", I, false, "The unit's definition node id."),
    col("kind", S, false, "function, class, method, ..."),
    col("name", S, false, "Its name."),
    SPAN[0],
    SPAN[1],
    SPAN[2],
    SPAN[3],
    SPAN[4],
    SPAN[5],
    col(
        "signature_start",
        I,
        false,
        "Signature: from the definition's start...",
    ),
    col("signature_end", I, false, "...to its body's start."),
    col("signature_text", S, false, "The signature's text."),
    col("body_start", I, true, "The body's start byte."),
    col("body_end", I, true, "The body's end byte."),
    col("doc_start", I, true, "The docstring's start byte."),
    col("doc_end", I, true, "The docstring's end byte."),
    col("sha256", S, false, "SHA-256 of the unit's text."),
    col(
        "norm_sha256",
        S,
        false,
        "SHA-256 with whitespace runs folded to one space.",
    ),
];

const SYMBOLS: &[Column] = &[
    FILE,
    col(
        "symbol",
        S,
        false,
        "SCIP-style symbol id: the same seen from any file.",
    ),
    col("name", S, false, "The symbol's name."),
    col(
        "kind",
        S,
        false,
        "LSP symbol kind (function, class, variable, ...).",
    ),
    col("detail", S, true, "The server's detail text."),
    col("hover", S, true, "Hover text (markdown) at the definition."),
    col("enclosing", S, true, "The enclosing symbol's id."),
    col("def_path", S, false, "Path of the defining file."),
    col(
        "def_node",
        I,
        true,
        "The name node of the definition (join nodes on file, id).",
    ),
    col("refs", I, true, "References found (--lsp full)."),
    col("external", B, false, "Defined outside the volume."),
    col("source", S, false, "The language server."),
];

const EDGES: &[Column] = &[
    FILE,
    col(
        "kind",
        S,
        false,
        "defines, references, calls, implements, type_of.",
    ),
    col(
        "from_path",
        S,
        false,
        "Path of the file the edge starts in (not always this row's file).",
    ),
    col("from_file", S, true, "Its file id, when inside the volume."),
    col(
        "from_node",
        I,
        true,
        "Node id there (join nodes on file, id).",
    ),
    col(
        "from_symbol",
        S,
        true,
        "Symbol id at the start, when a definition is there.",
    ),
    col(
        "from_external",
        B,
        true,
        "Start outside the volume (null: in this file).",
    ),
    col("to_path", S, false, "Path of the target file."),
    col("to_file", S, true, "Its file id, when inside the volume."),
    col("to_node", I, true, "Node id there."),
    col(
        "to_symbol",
        S,
        true,
        "The target's symbol id (join symbols on symbol).",
    ),
    col(
        "to_external",
        B,
        true,
        "Target outside the volume (null: in this file).",
    ),
    col(
        "name",
        S,
        true,
        "The name the server gave (call hierarchy).",
    ),
    col("source", S, false, "The language server."),
];

const DIAGNOSTICS: &[Column] = &[
    FILE,
    col("node", I, true, "The smallest node around the range."),
    SPAN[0],
    SPAN[1],
    SPAN[2],
    SPAN[3],
    SPAN[4],
    SPAN[5],
    col("severity", S, false, "error, warning, information, hint."),
    col(
        "code",
        S,
        true,
        "The diagnostic code (a number as its decimal text).",
    ),
    col("source", S, true, "Who reported it."),
    col("message", S, false, "The message."),
];

const SERVERS: &[Column] = &[
    FILE,
    col(
        "server",
        S,
        false,
        "The language server asked about the file.",
    ),
    col("version", S, true, "Its version."),
    col(
        "position_encoding",
        S,
        true,
        "The position encoding negotiated.",
    ),
    col(
        "status",
        S,
        false,
        "ok, partial, timeout, crashed or unsupported.",
    ),
    col("error", S, true, "What went wrong."),
];

const ERRORS: &[Column] = &[
    FILE,
    col("producer", S, false, "syntax or the language server."),
    col("request", S, true, "The LSP method."),
    col("code", I, true, "The JSON-RPC error code."),
    col("message", S, false, "The message."),
];

const FOLDING: &[Column] = &[
    FILE,
    col("start_line", I, false, "First line of the range."),
    col("end_line", I, false, "Last line."),
    col("kind", S, true, "comment, imports, region."),
];

/// One table of the relational form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TreeTable {
    Files,
    Nodes,
    Definitions,
    Units,
    Symbols,
    Edges,
    Diagnostics,
    Servers,
    Errors,
    Folding,
}

impl TreeTable {
    /// Every table, `files` first.
    pub const ALL: [TreeTable; 10] = [
        TreeTable::Files,
        TreeTable::Nodes,
        TreeTable::Definitions,
        TreeTable::Units,
        TreeTable::Symbols,
        TreeTable::Edges,
        TreeTable::Diagnostics,
        TreeTable::Servers,
        TreeTable::Errors,
        TreeTable::Folding,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TreeTable::Files => "files",
            TreeTable::Nodes => "nodes",
            TreeTable::Definitions => "definitions",
            TreeTable::Units => "units",
            TreeTable::Symbols => "symbols",
            TreeTable::Edges => "edges",
            TreeTable::Diagnostics => "diagnostics",
            TreeTable::Servers => "servers",
            TreeTable::Errors => "errors",
            TreeTable::Folding => "folding",
        }
    }

    pub fn named(name: &str) -> Option<TreeTable> {
        TreeTable::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            TreeTable::Files => FILES,
            TreeTable::Nodes => NODES,
            TreeTable::Definitions => DEFINITIONS,
            TreeTable::Units => UNITS,
            TreeTable::Symbols => SYMBOLS,
            TreeTable::Edges => EDGES,
            TreeTable::Diagnostics => DIAGNOSTICS,
            TreeTable::Servers => SERVERS,
            TreeTable::Errors => ERRORS,
            TreeTable::Folding => FOLDING,
        }
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns()
                .iter()
                .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    /// The schema as published in `schema/tables/<name>.json`.
    pub fn schema_json(self) -> Value {
        let fields: Vec<Value> = self
            .columns()
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "type": c.ty.arrow().to_string(),
                    "nullable": c.nullable,
                    "doc": c.doc,
                })
            })
            .collect();
        serde_json::json!({
            "schema": crate::tree::record::SCHEMA,
            "table": self.name(),
            "fields": fields,
        })
    }
}
