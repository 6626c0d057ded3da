//! Walking a tree-sitter tree once, iteratively (any depth, no recursion), in pre-order, and
//! writing it as nested JSON, as flat node lines, or as rows for a table.
//!
//! Node ids are pre-order indices; `last` is the index of a node's last descendant, so
//! "X is inside Y" is `Y.n <= X.n && X.n <= Y.last`.

use std::collections::HashMap;
use std::io::Write;

use tree_sitter as ts;

use super::lines::Lines;
use super::record::{Span, Stats};
use super::units::Pending;
use crate::syntax::Language;

/// Hashes tree-sitter node ids (addresses) for maps looked up at every node: a multiply,
/// not SipHash, since the keys are not attacker-chosen.
#[derive(Default, Clone, Copy)]
pub(crate) struct NodeIdHasher(u64);

impl std::hash::Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by tree-sitter node id.
pub(crate) type NodeMap<V> = HashMap<usize, V, std::hash::BuildHasherDefault<NodeIdHasher>>;

/// Which node texts to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextMode {
    None,
    #[default]
    Leaves,
    All,
}

/// One node as the walk sees it.
pub(crate) struct Visit<'a> {
    pub n: u32,
    pub parent: Option<u32>,
    pub depth: u32,
    pub last: u32,
    pub node: ts::Node<'a>,
    /// `[start byte, end byte, start row, start column, end row, end column]`.
    pub span: Span,
    pub field: Option<u16>,
    pub leaf: bool,
    pub named: bool,
    pub error: bool,
    pub missing: bool,
}

/// Receives nodes in pre-order; `close` follows a node's last descendant. `Err` stops the
/// walk (the nested writer's depth limit).
pub(crate) trait Visitor {
    fn open(&mut self, v: &Visit) -> Result<(), TooDeep>;
    fn close(&mut self, _leaf: bool) {}
}

/// The walk stopped at the nested format's depth limit.
#[derive(Debug)]
pub(crate) struct TooDeep(pub u32);

/// Walks `tree`, feeding `visitor`, matching the definitions `pend` scans for, filling
/// `pend.wanted` (tree-sitter node id → pre-order index) for the nodes asked for, and
/// returning the tree's statistics.
pub(crate) fn walk<'t>(
    tree: &'t ts::Tree,
    visitor: &mut dyn Visitor,
    pend: &mut Pending<'t>,
    lang: &Language,
    text: &[u8],
) -> Result<Stats, TooDeep> {
    let mut stats = Stats::default();
    let mut cursor = tree.walk();
    let mut stack: Vec<u32> = Vec::new();
    let mut lines = Lines::new(text);
    let mut n: u32 = 0;
    loop {
        let node = cursor.node();
        let leaf = node.child_count() == 0;
        let depth = stack.len() as u32;
        let visit = Visit {
            n,
            parent: stack.last().copied(),
            depth,
            last: n + (node.descendant_count() as u32).saturating_sub(1),
            node,
            span: lines.span(node.start_byte(), node.end_byte()),
            field: cursor.field_id().map(|f| f.get()),
            leaf,
            named: node.is_named(),
            error: node.is_error(),
            missing: node.is_missing(),
        };
        visitor.open(&visit)?;
        pend.visit(lang, node, text);
        if let Some(slot) = pend.wanted.get_mut(&node.id()) {
            *slot = n;
        }
        stats.nodes += 1;
        stats.named_nodes += visit.named as u64;
        stats.error_nodes += visit.error as u64;
        stats.missing_nodes += visit.missing as u64;
        stats.depth = stats.depth.max(depth);
        n += 1;
        if cursor.goto_first_child() {
            stack.push(n - 1);
            continue;
        }
        visitor.close(true);
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                stats.error_ratio =
                    (stats.error_nodes + stats.missing_nodes) as f64 / stats.nodes.max(1) as f64;
                return Ok(stats);
            }
            stack.pop();
            visitor.close(false);
        }
    }
}

fn span(out: &mut Vec<u8>, span: &Span) {
    let mut b = itoa::Buffer::new();
    out.push(b'[');
    for (i, v) in span.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b.format(*v).as_bytes());
    }
    out.push(b']');
}

fn num(out: &mut Vec<u8>, key: &[u8], v: u32) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// JSON fragments (`,"sym":...`) to add to nodes, by tree-sitter node id.
pub(crate) type Annotations = NodeMap<String>;

/// The semantic token on a node: its type and its modifiers joined by spaces.
pub(crate) type Tokens = NodeMap<(String, String)>;

/// Writes the fields every node shares: kind, field, flags, span, (by mode) text, and what
/// language servers said about the node.
fn common(
    out: &mut Vec<u8>,
    lang: &Language,
    text: &str,
    mode: TextMode,
    v: &Visit,
    annots: Option<&Annotations>,
) {
    out.extend_from_slice(b",\"kind\":");
    out.extend_from_slice(lang.kind_json(v.node.kind_id()).as_bytes());
    if let Some(f) = v.field {
        out.extend_from_slice(b",\"field\":");
        out.extend_from_slice(lang.field_json(f).as_bytes());
    }
    out.extend_from_slice(if v.named {
        b",\"named\":true"
    } else {
        b",\"named\":false"
    });
    if v.node.is_extra() {
        out.extend_from_slice(b",\"extra\":true");
    }
    if v.error {
        out.extend_from_slice(b",\"error\":true");
    }
    if v.missing {
        out.extend_from_slice(b",\"missing\":true");
    }
    out.extend_from_slice(b",\"span\":");
    span(out, &v.span);
    if v.last != v.n {
        num(out, b",\"last\":", v.last);
    }
    if mode == TextMode::All || (mode == TextMode::Leaves && v.leaf) {
        out.extend_from_slice(b",\"text\":");
        let piece = text.get(v.node.byte_range()).unwrap_or("");
        // Writing a &str to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, piece);
    }
    if let Some(frag) = annots.and_then(|a| a.get(&v.node.id())) {
        out.extend_from_slice(frag.as_bytes());
    }
}

/// The nested tree: `{"n":0,...,"children":[{...}]}`.
pub(crate) struct NestedWriter<'a> {
    pub out: Vec<u8>,
    pub lang: &'a Language,
    pub text: &'a str,
    pub mode: TextMode,
    pub max_depth: u32,
    pub annots: Option<&'a Annotations>,
    /// Whether the next node opened is the first among its siblings.
    first: bool,
}

impl<'a> NestedWriter<'a> {
    pub fn new(
        lang: &'a Language,
        text: &'a str,
        mode: TextMode,
        max_depth: u32,
        annots: Option<&'a Annotations>,
    ) -> Self {
        NestedWriter {
            annots,
            out: Vec::with_capacity(text.len() * 24),
            lang,
            text,
            mode,
            max_depth,
            first: true,
        }
    }
}

impl Visitor for NestedWriter<'_> {
    fn open(&mut self, v: &Visit) -> Result<(), TooDeep> {
        if v.depth > self.max_depth {
            return Err(TooDeep(v.depth));
        }
        if !self.first {
            self.out.push(b',');
        }
        num(&mut self.out, b"{\"n\":", v.n);
        common(
            &mut self.out,
            self.lang,
            self.text,
            self.mode,
            v,
            self.annots,
        );
        if v.leaf {
            self.first = false;
        } else {
            self.out.extend_from_slice(b",\"children\":[");
            self.first = true;
        }
        Ok(())
    }

    fn close(&mut self, leaf: bool) {
        self.out.extend_from_slice(if leaf { b"}" } else { b"]}" });
        self.first = false;
    }
}

/// Flat node lines: `{"type":"node","file":...,"id":14,"parent":9,...}\n`.
pub(crate) struct FlatWriter<'a> {
    pub out: Vec<u8>,
    pub lang: &'a Language,
    pub text: &'a str,
    pub mode: TextMode,
    pub annots: Option<&'a Annotations>,
    /// `"file":"f:...",` ready to copy into each line.
    file_field: Vec<u8>,
}

impl<'a> FlatWriter<'a> {
    pub fn new(
        out: Vec<u8>,
        file_id: &str,
        lang: &'a Language,
        text: &'a str,
        mode: TextMode,
        annots: Option<&'a Annotations>,
    ) -> Self {
        let mut file_field = b"{\"type\":\"node\",\"file\":".to_vec();
        let _ = serde_json::to_writer(&mut file_field, file_id);
        FlatWriter {
            out,
            lang,
            text,
            mode,
            annots,
            file_field,
        }
    }
}

impl Visitor for FlatWriter<'_> {
    fn open(&mut self, v: &Visit) -> Result<(), TooDeep> {
        self.out.extend_from_slice(&self.file_field);
        num(&mut self.out, b",\"id\":", v.n);
        match v.parent {
            Some(p) => num(&mut self.out, b",\"parent\":", p),
            None => self.out.extend_from_slice(b",\"parent\":null"),
        }
        num(&mut self.out, b",\"depth\":", v.depth);
        common(
            &mut self.out,
            self.lang,
            self.text,
            self.mode,
            v,
            self.annots,
        );
        let _ = self.out.write_all(b"}\n");
        Ok(())
    }
}

/// Counts only (parse-only runs and statistics).
pub(crate) struct NoWriter;

impl Visitor for NoWriter {
    fn open(&mut self, _: &Visit) -> Result<(), TooDeep> {
        Ok(())
    }
}
