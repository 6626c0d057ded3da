//! The relational form of `disco.tree/1`: the facts of a file's record as rows of ten tables
//! (`files`, `nodes`, `definitions`, `units`, `symbols`, `edges`, `diagnostics`, `servers`,
//! `errors`, `folding`) that join on the file id (`file`) and node ids (pre-order indices).
//! Every fact of the JSON record is in exactly one table; what the JSON repeats on nodes
//! (`sym`, `occ`, `hover`, `def`) is a join away (`symbols.def_node`, `edges.from_node`), and
//! semantic tokens are node columns. Callers and callees are the `calls` edges.
//!
//! This is the one conversion from a record to rows: `disco tree --format parquet|delta|
//! iceberg` and the `tree` stage both write through [`TreeRows`]. The Arrow schemas are
//! published in `schema/tables/` (a test checks they match [`TreeTable::schema`]).

use std::sync::Arc;

use arrow::array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use serde_json::Value;

use super::build::FileRows;

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
        "Path of the file the edge starts in.",
    ),
    col("from_node", I, true, "Node id there."),
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
            "schema": super::record::SCHEMA,
            "table": self.name(),
            "fields": fields,
        })
    }
}

/// A value for one cell.
enum Cell<'a> {
    S(Option<&'a str>),
    I(Option<i64>),
    F(Option<f64>),
    B(Option<bool>),
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(v: &'a str) -> Self {
        Cell::S(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Cell::S(v)
    }
}
impl From<i64> for Cell<'_> {
    fn from(v: i64) -> Self {
        Cell::I(Some(v))
    }
}
impl From<Option<i64>> for Cell<'_> {
    fn from(v: Option<i64>) -> Self {
        Cell::I(v)
    }
}
impl From<Option<f64>> for Cell<'_> {
    fn from(v: Option<f64>) -> Self {
        Cell::F(v)
    }
}
impl From<bool> for Cell<'_> {
    fn from(v: bool) -> Self {
        Cell::B(Some(v))
    }
}
impl From<Option<bool>> for Cell<'_> {
    fn from(v: Option<bool>) -> Self {
        Cell::B(v)
    }
}

enum Builder {
    S(StringBuilder),
    I(Int64Builder),
    F(Float64Builder),
    B(BooleanBuilder),
}

impl Builder {
    fn new(ty: ColumnType) -> Builder {
        match ty {
            ColumnType::Utf8 => Builder::S(StringBuilder::new()),
            ColumnType::Int64 => Builder::I(Int64Builder::new()),
            ColumnType::Float64 => Builder::F(Float64Builder::new()),
            ColumnType::Boolean => Builder::B(BooleanBuilder::new()),
        }
    }

    fn push(&mut self, cell: Cell) {
        match (self, cell) {
            (Builder::S(b), Cell::S(v)) => b.append_option(v),
            (Builder::I(b), Cell::I(v)) => b.append_option(v),
            (Builder::F(b), Cell::F(v)) => b.append_option(v),
            (Builder::B(b), Cell::B(v)) => b.append_option(v),
            // The row functions below follow the column lists; a mismatch is a bug that
            // the round-trip tests catch, never input's fault.
            (b, _) => b.push_null(),
        }
    }

    fn push_null(&mut self) {
        match self {
            Builder::S(b) => b.append_null(),
            Builder::I(b) => b.append_null(),
            Builder::F(b) => b.append_null(),
            Builder::B(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::S(b) => Arc::new(b.finish()),
            Builder::I(b) => Arc::new(b.finish()),
            Builder::F(b) => Arc::new(b.finish()),
            Builder::B(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows of one table, being built.
struct TableRows {
    table: TreeTable,
    schema: SchemaRef,
    cols: Vec<Builder>,
    rows: usize,
}

impl TableRows {
    fn new(table: TreeTable) -> TableRows {
        TableRows {
            table,
            schema: table.schema(),
            cols: table.columns().iter().map(|c| Builder::new(c.ty)).collect(),
            rows: 0,
        }
    }

    fn push<const N: usize>(&mut self, cells: [Cell; N]) {
        debug_assert_eq!(N, self.cols.len(), "{}", self.table.name());
        for (b, c) in self.cols.iter_mut().zip(cells) {
            b.push(c);
        }
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        self.rows = 0;
        let cols = self.cols.iter_mut().map(Builder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), cols)
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn get_i64(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn get_bool(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// The six span cells of `[s, e, sr, sc, er, ec]` in a JSON value (zeros when absent).
fn span_of(v: &Value) -> [i64; 6] {
    let mut out = [0i64; 6];
    if let Some(a) = v.as_array() {
        for (o, x) in out.iter_mut().zip(a) {
            *o = x.as_i64().unwrap_or(0);
        }
    }
    out
}

/// Rows of the tables asked for, filled a file at a time, taken as record batches.
pub struct TreeRows {
    tables: Vec<TableRows>,
}

impl TreeRows {
    /// Rows for `tables` (the others are not built).
    pub fn new(tables: &[TreeTable]) -> TreeRows {
        TreeRows {
            tables: tables.iter().map(|t| TableRows::new(*t)).collect(),
        }
    }

    fn table(&mut self, t: TreeTable) -> Option<&mut TableRows> {
        self.tables.iter_mut().find(|r| r.table == t)
    }

    /// Rows waiting in `t`.
    pub fn rows(&self, t: TreeTable) -> usize {
        self.tables
            .iter()
            .find(|r| r.table == t)
            .map_or(0, |r| r.rows)
    }

    /// The rows waiting in `t` as a batch (empty when none).
    pub fn take(&mut self, t: TreeTable) -> Result<RecordBatch, ArrowError> {
        match self.table(t) {
            Some(r) => r.finish(),
            None => Ok(RecordBatch::new_empty(t.schema())),
        }
    }

    /// Adds one file's rows to every table asked for; returns how many rows each table got,
    /// in the order the tables were given.
    pub fn push(&mut self, f: &FileRows) -> Vec<usize> {
        let before: Vec<usize> = self.tables.iter().map(|t| t.rows).collect();
        let id = f.header.file.id.as_str();
        for t in &mut self.tables {
            match t.table {
                TreeTable::Files => file_row(t, f),
                TreeTable::Nodes => {
                    for n in &f.nodes {
                        let s = n.span.map(i);
                        let (ty, mods) = match &n.token {
                            Some((t, m)) => (Some(t.as_str()), Some(m.as_str())),
                            None => (None, None),
                        };
                        t.push([
                            id.into(),
                            i64::from(n.id).into(),
                            n.parent.map(i64::from).into(),
                            i64::from(n.depth).into(),
                            i64::from(n.last).into(),
                            n.kind.into(),
                            n.field.into(),
                            n.named.into(),
                            n.extra.into(),
                            n.error.into(),
                            n.missing.into(),
                            s[0].into(),
                            s[1].into(),
                            s[2].into(),
                            s[3].into(),
                            s[4].into(),
                            s[5].into(),
                            n.text.as_deref().into(),
                            ty.into(),
                            mods.into(),
                        ]);
                    }
                }
                TreeTable::Definitions => {
                    for d in &f.definitions {
                        let s = d.span.map(i);
                        t.push([
                            id.into(),
                            i64::from(d.node).into(),
                            i64::from(d.name_node).into(),
                            d.kind.into(),
                            d.name.as_str().into(),
                            s[0].into(),
                            s[1].into(),
                            s[2].into(),
                            s[3].into(),
                            s[4].into(),
                            s[5].into(),
                            d.doc.as_deref().into(),
                            d.doc_span.map(|r| i(r[0])).into(),
                            d.doc_span.map(|r| i(r[1])).into(),
                            d.enclosing.map(i64::from).into(),
                        ]);
                    }
                }
                TreeTable::Units => {
                    for u in &f.units {
                        let s = u.span.map(i);
                        t.push([
                            id.into(),
                            i64::from(u.node).into(),
                            u.kind.into(),
                            u.name.as_str().into(),
                            s[0].into(),
                            s[1].into(),
                            s[2].into(),
                            s[3].into(),
                            s[4].into(),
                            s[5].into(),
                            i(u.signature[0]).into(),
                            i(u.signature[1]).into(),
                            u.signature_text.as_str().into(),
                            u.body.map(|r| i(r[0])).into(),
                            u.body.map(|r| i(r[1])).into(),
                            u.doc.map(|r| i(r[0])).into(),
                            u.doc.map(|r| i(r[1])).into(),
                            u.sha256.as_str().into(),
                            u.norm_sha256.as_str().into(),
                        ]);
                    }
                }
                TreeTable::Symbols => {
                    for s in &f.symbols {
                        let def = s.get("def").unwrap_or(&Value::Null);
                        t.push([
                            id.into(),
                            get_str(s, "id").unwrap_or("").into(),
                            get_str(s, "name").unwrap_or("").into(),
                            get_str(s, "kind").unwrap_or("unknown").into(),
                            get_str(s, "detail").into(),
                            get_str(s, "hover").into(),
                            get_str(s, "enclosing").into(),
                            get_str(def, "path").unwrap_or("").into(),
                            get_i64(def, "node").into(),
                            get_i64(s, "refs").into(),
                            get_bool(s, "external").unwrap_or(false).into(),
                            get_str(s, "source").unwrap_or("").into(),
                        ]);
                    }
                }
                TreeTable::Edges => {
                    for e in &f.edges {
                        let from = e.get("from").unwrap_or(&Value::Null);
                        let to = e.get("to").unwrap_or(&Value::Null);
                        t.push([
                            id.into(),
                            get_str(e, "kind").unwrap_or("").into(),
                            get_str(from, "path").unwrap_or("").into(),
                            get_i64(from, "node").into(),
                            get_str(from, "sym").into(),
                            get_bool(from, "external").into(),
                            get_str(to, "path").unwrap_or("").into(),
                            get_i64(to, "node").into(),
                            get_str(to, "sym").into(),
                            get_bool(to, "external").into(),
                            get_str(e, "name").into(),
                            get_str(e, "source").unwrap_or("").into(),
                        ]);
                    }
                }
                TreeTable::Diagnostics => {
                    for d in &f.diagnostics {
                        let s = span_of(d.get("span").unwrap_or(&Value::Null));
                        let code = code_text(d.get("code"));
                        t.push([
                            id.into(),
                            get_i64(d, "node").into(),
                            s[0].into(),
                            s[1].into(),
                            s[2].into(),
                            s[3].into(),
                            s[4].into(),
                            s[5].into(),
                            get_str(d, "severity").unwrap_or("").into(),
                            code.as_deref().into(),
                            get_str(d, "source").into(),
                            get_str(d, "message").unwrap_or("").into(),
                        ]);
                    }
                }
                TreeTable::Servers => {
                    for s in &f.header.producers.servers {
                        t.push([
                            id.into(),
                            s.name.as_str().into(),
                            s.version.as_deref().into(),
                            s.position_encoding.as_deref().into(),
                            s.status.as_str().into(),
                            s.error.as_deref().into(),
                        ]);
                    }
                }
                TreeTable::Errors => {
                    for e in &f.errors {
                        t.push([
                            id.into(),
                            get_str(e, "producer").unwrap_or("").into(),
                            get_str(e, "request").into(),
                            get_i64(e, "code").into(),
                            get_str(e, "message").unwrap_or("").into(),
                        ]);
                    }
                }
                TreeTable::Folding => {
                    for fold in &f.folding {
                        let get = |k: usize| fold.get(k);
                        t.push([
                            id.into(),
                            get(0).and_then(Value::as_i64).unwrap_or(0).into(),
                            get(1).and_then(Value::as_i64).unwrap_or(0).into(),
                            get(2).and_then(Value::as_str).into(),
                        ]);
                    }
                }
            }
        }
        self.tables
            .iter()
            .zip(before)
            .map(|(t, b)| t.rows - b)
            .collect()
    }
}

/// A diagnostic code as text: a string as it is, a number as its decimal text.
pub fn code_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn file_row(t: &mut TableRows, f: &FileRows) {
    let h = &f.header;
    let fi = &h.file;
    let st = h.stats.as_ref();
    t.push([
        fi.id.as_str().into(),
        fi.volume.as_str().into(),
        fi.path.as_str().into(),
        fi.language.into(),
        i(fi.bytes).into(),
        fi.sha256.as_deref().into(),
        fi.encoding.into(),
        fi.encoding_confidence.into(),
        fi.compression.into(),
        fi.generated.into(),
        fi.vendored.into(),
        h.status.as_str().into(),
        h.reason.as_deref().into(),
        h.producers.syntax.grammar.as_deref().into(),
        h.producers.syntax.version.as_deref().into(),
        h.producers.syntax.status.into(),
        st.map(|s| i(s.nodes)).into(),
        st.map(|s| i(s.named_nodes)).into(),
        st.map(|s| i64::from(s.depth)).into(),
        st.map(|s| i(s.error_nodes)).into(),
        st.map(|s| i(s.missing_nodes)).into(),
        st.map(|s| s.error_ratio).into(),
        st.map(|s| i(s.lines)).into(),
    ]);
}

#[cfg(test)]
mod tests {
    use super::TreeTable;

    #[test]
    fn every_table_has_the_file_id_first_and_unique_column_names() {
        for t in TreeTable::ALL {
            let cols = t.columns();
            assert_eq!(cols[0].name, "file", "{}", t.name());
            let mut names: Vec<&str> = cols.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), cols.len(), "{}", t.name());
        }
    }
}
