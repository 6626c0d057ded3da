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
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use serde_json::Value;

use crate::tree::file_id;
use crate::tree::FileRows;

mod nodes;
mod schema;

pub(crate) use nodes::NodeColumns;
pub use schema::{Column, ColumnType, TreeTable};

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
    /// Rows that came as batches (the nodes of a file, built during its walk), before the
    /// builders' rows.
    batches: Vec<RecordBatch>,
    rows: usize,
}

impl TableRows {
    fn new(table: TreeTable) -> TableRows {
        TableRows {
            table,
            schema: table.schema(),
            cols: table.columns().iter().map(|c| Builder::new(c.ty)).collect(),
            batches: Vec::new(),
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

    /// The rows waiting, as the batches they came in (the builders' rows last, when any).
    fn finish_parts(&mut self) -> Result<Vec<RecordBatch>, ArrowError> {
        self.rows = 0;
        let cols = self.cols.iter_mut().map(Builder::finish).collect();
        let built = RecordBatch::try_new(self.schema.clone(), cols)?;
        let mut all = std::mem::take(&mut self.batches);
        if built.num_rows() > 0 || all.is_empty() {
            all.push(built);
        }
        Ok(all)
    }

    fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let all = self.finish_parts()?;
        match <[RecordBatch; 1]>::try_from(all) {
            Ok([one]) => Ok(one),
            Err(all) => arrow::compute::concat_batches(&self.schema, &all),
        }
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

    /// The rows waiting in `t` as the batches they were built in: a writer that takes
    /// batches of any size need not copy them into one.
    pub fn take_parts(&mut self, t: TreeTable) -> Result<Vec<RecordBatch>, ArrowError> {
        match self.table(t) {
            Some(r) => r.finish_parts(),
            None => Ok(Vec::new()),
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
                    if let Some(b) = &f.nodes {
                        t.rows += b.num_rows();
                        t.batches.push(b.clone());
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
                    // An endpoint inside the volume gets the id its own file record has.
                    let file_of = |end: &Value| {
                        let path = get_str(end, "path")?;
                        (get_bool(end, "external") != Some(true))
                            .then(|| file_id(&f.header.file.volume, path))
                    };
                    for e in &f.edges {
                        let from = e.get("from").unwrap_or(&Value::Null);
                        let to = e.get("to").unwrap_or(&Value::Null);
                        let (from_file, to_file) = (file_of(from), file_of(to));
                        t.push([
                            id.into(),
                            get_str(e, "kind").unwrap_or("").into(),
                            get_str(from, "path").unwrap_or("").into(),
                            from_file.as_deref().into(),
                            get_i64(from, "node").into(),
                            get_str(from, "sym").into(),
                            get_bool(from, "external").into(),
                            get_str(to, "path").unwrap_or("").into(),
                            to_file.as_deref().into(),
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
