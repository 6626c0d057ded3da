//! Definitions from the tags query, and the function/class units datasets keep.

use sha2::{Digest, Sha256};
use tree_sitter as ts;

use super::record::{Definition, Span, Unit};
use crate::syntax::{
    doc_comment, docstring, in_document_order, DefinitionScan, Language, Tag, TagRole,
};

/// Definition kinds that make a unit.
const UNIT_KINDS: &[&str] = &[
    "function",
    "method",
    "class",
    "struct",
    "enum",
    "interface",
    "trait",
    "impl",
    "module",
];

pub(crate) fn span_of(node: &ts::Node) -> Span {
    let (s, e) = (node.start_position(), node.end_position());
    [
        node.start_byte() as u64,
        node.end_byte() as u64,
        s.row as u64,
        s.column as u64,
        e.row as u64,
        e.column as u64,
    ]
}

fn range(r: std::ops::Range<usize>) -> [u64; 2] {
    [r.start as u64, r.end as u64]
}

/// The definition tags of a tree, and the tree-sitter node ids whose pre-order index the
/// walk must fill in (definition, name and body nodes).
pub(crate) struct Pending<'t> {
    pub defs: Vec<Tag<'t>>,
    /// The identifiers where `--lsp full` asks for definitions (empty below `full`).
    pub occ: super::enrich::Occurrences,
    pub wanted: super::cst::NodeMap<u32>,
    /// When set, the definitions are matched during the walk ([`Pending::visit`]) instead of
    /// by a walk of their own; `defs` fills then.
    pub scan: Option<DefinitionScan>,
}

impl<'t> Pending<'t> {
    /// Definitions and units without a query.
    pub fn none() -> Pending<'t> {
        Pending {
            defs: Vec::new(),
            occ: Default::default(),
            wanted: Default::default(),
            scan: None,
        }
    }

    /// Called by the walk at each node, before it looks the node up in `wanted`: matches the
    /// definitions that start at `node` and asks for their nodes' indices, which the walk
    /// meets later (they are `node` or below it).
    pub fn visit(&mut self, lang: &Language, node: ts::Node<'t>, text: &[u8]) {
        let Some(scan) = &mut self.scan else { return };
        let before = self.defs.len();
        scan.at(node, text, &mut self.defs);
        for d in &self.defs[before..] {
            want(&mut self.wanted, lang, d);
        }
    }

    /// Before walking again after a walk that stopped early: the definitions it matched
    /// are matched again.
    pub fn restart(&mut self) {
        if self.scan.is_some() {
            self.defs.clear();
        }
    }

    /// After the walk: the definitions in document order.
    pub fn settle(&mut self) {
        if self.scan.is_some() {
            in_document_order(&mut self.defs);
        }
    }
}

fn want(wanted: &mut super::cst::NodeMap<u32>, lang: &Language, d: &Tag) {
    wanted.entry(d.node.id()).or_insert(u32::MAX);
    wanted.entry(d.name.id()).or_insert(u32::MAX);
    if let Some(body) = body_of(lang, d.node) {
        wanted.entry(body.id()).or_insert(u32::MAX);
    }
}

pub(crate) fn pending<'t>(
    lang: &'static Language,
    tree: &'t ts::Tree,
    text: &[u8],
    references: bool,
) -> Result<Pending<'t>, String> {
    let query = lang.tags().map_err(str::to_string)?;
    if !references {
        if let Some(scan) = query.definition_scan() {
            return Ok(Pending {
                scan: Some(scan),
                ..Pending::none()
            });
        }
    }
    let tags = query.tags(tree, text, references);
    let occ = if references {
        super::enrich::Occurrences::new(tree, &tags)
    } else {
        Default::default()
    };
    let defs: Vec<Tag> = tags
        .into_iter()
        .filter(|t| t.role == TagRole::Definition)
        .collect();
    let mut wanted =
        super::cst::NodeMap::with_capacity_and_hasher(defs.len() * 3, Default::default());
    for d in &defs {
        want(&mut wanted, lang, d);
    }
    Ok(Pending {
        defs,
        occ,
        wanted,
        scan: None,
    })
}

fn body_of<'t>(lang: &Language, node: ts::Node<'t>) -> Option<ts::Node<'t>> {
    lang.body_fields
        .iter()
        .find_map(|f| node.child_by_field_name(f))
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the text with every whitespace run folded to one space (and none at either
/// end), for near-duplicate detection; streamed, without building the folded text.
fn normalised_sha(text: &str) -> String {
    let mut h = Sha256::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            h.update(b" ");
        }
        h.update(word.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Turns the tags into definition records (with docs and enclosing definitions) and units.
pub(crate) fn finish(
    lang: &'static Language,
    pending: &Pending,
    text: &str,
) -> (Vec<Definition>, Vec<Unit>) {
    let bytes = text.as_bytes();
    let index = |n: &ts::Node| pending.wanted.get(&n.id()).copied().unwrap_or(u32::MAX);
    let mut defs = Vec::with_capacity(pending.defs.len());
    let mut units = Vec::new();
    // Open definitions, innermost last: (end byte, node index).
    let mut open: Vec<(usize, u32)> = Vec::new();
    for tag in &pending.defs {
        let node = tag.node;
        while open
            .last()
            .is_some_and(|(end, _)| *end <= node.start_byte())
        {
            open.pop();
        }
        let enclosing = open
            .iter()
            .rev()
            .find(|(_, n)| *n != index(&node))
            .map(|(_, n)| *n);
        open.push((node.end_byte(), index(&node)));
        let doc = docstring(lang, node, bytes).or_else(|| doc_comment(lang, node, bytes));
        let name = text.get(tag.name.byte_range()).unwrap_or("").to_string();
        if UNIT_KINDS.contains(&tag.kind) {
            let body = body_of(lang, node);
            let sig_end = body.map_or(node.end_byte(), |b| b.start_byte());
            let sig_text = text
                .get(node.start_byte()..sig_end)
                .unwrap_or("")
                .trim_end();
            let unit_text = text.get(node.byte_range()).unwrap_or("");
            units.push(Unit {
                kind: tag.kind,
                name: name.clone(),
                node: index(&node),
                span: span_of(&node),
                signature: [
                    node.start_byte() as u64,
                    (node.start_byte() + sig_text.len()) as u64,
                ],
                signature_text: sig_text.to_string(),
                body: body.map(|b| range(b.byte_range())),
                doc: doc.as_ref().map(|d| range(d.span.clone())),
                sha256: sha(unit_text.as_bytes()),
                norm_sha256: normalised_sha(unit_text),
            });
        }
        defs.push(Definition {
            kind: tag.kind,
            name,
            node: index(&node),
            name_node: index(&tag.name),
            span: span_of(&node),
            doc_span: doc.as_ref().map(|d| range(d.span.clone())),
            doc: doc.map(|d| d.text),
            enclosing,
        });
    }
    (defs, units)
}
