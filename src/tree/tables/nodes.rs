//! The `nodes` table of a file, built as Arrow columns during the tree walk itself, on the
//! worker that parsed the file: no row values in between, no string allocated per node (a
//! leaf's text is copied once, into the text column's buffer). The writer then only
//! concatenates files' batches. On the Python standard library (7.5M nodes) the per-node
//! row structs and the per-cell dispatch that built the same columns before were a fifth of
//! a Parquet run's CPU (perf).

use std::sync::Arc;

use arrow::array::builder::StringBuilder;
use arrow::array::{new_null_array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use super::TreeTable;
use crate::syntax::Language;
use crate::tree::cst::{TextMode, Tokens, TooDeep, Visit, Visitor};

/// The node columns of one file (all but `file`, added by [`NodeColumns::finish`]).
pub(crate) struct NodeColumns<'a> {
    lang: &'static Language,
    text: &'a str,
    mode: TextMode,
    tokens: Option<&'a Tokens>,
    /// id, parent (the root's is null), depth, last, then the six span columns: plain
    /// vectors, which the arrays take over without a copy.
    ints: [Vec<i64>; 10],
    kind: StringBuilder,
    field: StringBuilder,
    /// named, extra, error, missing.
    flags: [Vec<bool>; 4],
    node_text: StringBuilder,
    /// Filled only when a server gave tokens; all null otherwise.
    token_type: StringBuilder,
    token_modifiers: StringBuilder,
}

impl<'a> NodeColumns<'a> {
    /// Columns for a tree of about `nodes` nodes over `text`.
    pub fn new(
        lang: &'static Language,
        text: &'a str,
        mode: TextMode,
        tokens: Option<&'a Tokens>,
        nodes: usize,
    ) -> NodeColumns<'a> {
        let strings = |bytes: usize| StringBuilder::with_capacity(nodes, bytes);
        NodeColumns {
            lang,
            text,
            mode,
            tokens,
            ints: std::array::from_fn(|_| Vec::with_capacity(nodes)),
            kind: strings(nodes * 8),
            field: strings(nodes * 2),
            flags: std::array::from_fn(|_| Vec::with_capacity(nodes)),
            node_text: strings(if mode == TextMode::None {
                0
            } else {
                text.len()
            }),
            token_type: strings(0),
            token_modifiers: strings(0),
        }
    }

    /// The file's rows of the `nodes` table, `file` being the file id.
    pub fn finish(mut self, file: &str) -> Result<RecordBatch, ArrowError> {
        let rows = self.ints[0].len();
        let file: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            file, rows,
        )));
        let mut cols = vec![file];
        let [id, parent, depth, last, spans @ ..] = self.ints;
        // The root (row 0) is the one node without a parent.
        let roots = NullBuffer::from_iter((0..parent.len()).map(|r| r != 0));
        cols.push(Arc::new(Int64Array::from(id)));
        cols.push(Arc::new(Int64Array::new(parent.into(), Some(roots))));
        cols.push(Arc::new(Int64Array::from(depth)));
        cols.push(Arc::new(Int64Array::from(last)));
        cols.push(Arc::new(self.kind.finish()));
        cols.push(Arc::new(self.field.finish()));
        for b in self.flags {
            cols.push(Arc::new(BooleanArray::from(b)));
        }
        for b in spans {
            cols.push(Arc::new(Int64Array::from(b)));
        }
        cols.push(Arc::new(self.node_text.finish()));
        for b in [&mut self.token_type, &mut self.token_modifiers] {
            cols.push(match self.tokens {
                Some(_) => Arc::new(b.finish()),
                None => new_null_array(&DataType::Utf8, rows),
            });
        }
        RecordBatch::try_new(TreeTable::Nodes.schema(), cols)
    }
}

impl Visitor for NodeColumns<'_> {
    fn open(&mut self, v: &Visit) -> Result<(), TooDeep> {
        let node = &v.node;
        let [id, parent, depth, last, spans @ ..] = &mut self.ints;
        id.push(i64::from(v.n));
        parent.push(v.parent.map_or(0, i64::from));
        depth.push(i64::from(v.depth));
        last.push(i64::from(v.last));
        for (b, x) in spans.iter_mut().zip(v.span) {
            b.push(i64::try_from(x).unwrap_or(i64::MAX));
        }
        self.kind.append_value(self.lang.kind_name(node.kind_id()));
        self.field
            .append_option(v.field.and_then(|f| self.lang.field_name(f)));
        for (b, x) in self
            .flags
            .iter_mut()
            .zip([v.named, node.is_extra(), v.error, v.missing])
        {
            b.push(x);
        }
        let with_text = self.mode == TextMode::All || (self.mode == TextMode::Leaves && v.leaf);
        if with_text {
            self.node_text
                .append_value(self.text.get(node.byte_range()).unwrap_or(""));
        } else {
            self.node_text.append_null();
        }
        if let Some(tokens) = self.tokens {
            match tokens.get(&node.id()) {
                Some((ty, mods)) => {
                    self.token_type.append_value(ty);
                    self.token_modifiers.append_value(mods);
                }
                None => {
                    self.token_type.append_null();
                    self.token_modifiers.append_null();
                }
            }
        }
        Ok(())
    }
}
