//! Where `--lsp full` asks a server `textDocument/definition`: every identifier of the file
//! (the name leaves of the syntax tree and the tags query's references), with what the
//! syntax already knows about each — a tags reference, a call site, its enclosing definition.
//! One definition answer per occurrence is the whole reference graph: inverted, it gives the
//! references; at call sites, the calls (see `full.rs`).

use std::ops::Range;

use tree_sitter as ts;

use crate::syntax::{Tag, TagRole};

/// The identifier occurrences of one file, as byte ranges.
#[derive(Debug, Default, Clone)]
pub struct Occurrences {
    /// Every occurrence to ask about, sorted.
    pub names: Vec<Range<usize>>,
    /// The tags query's references (`defines` edges start there), sorted.
    pub refs: Vec<Range<usize>>,
    /// The references the tags query marks as calls (`@reference.call`, and class
    /// references in a `new` expression), sorted.
    pub calls: Vec<Range<usize>>,
    /// Tags definitions: (name range, whole node range), for the caller of a call site.
    pub defs: Vec<(Range<usize>, Range<usize>)>,
}

/// Leaves named like identifiers in every grammar Disco has (`identifier`,
/// `type_identifier`, `field_identifier`, `property_identifier`, bash's `variable_name`...).
fn is_name(node: &ts::Node) -> bool {
    let kind = node.kind();
    node.is_named()
        && node.child_count() == 0
        && (kind.ends_with("identifier") || kind == "variable_name")
}

impl Occurrences {
    /// The occurrences of `tree`, given the file's tags (definitions and references).
    pub fn new(tree: &ts::Tree, tags: &[Tag]) -> Occurrences {
        let mut occ = Occurrences::default();
        for t in tags {
            let name = t.name.byte_range();
            match t.role {
                TagRole::Definition => occ.defs.push((name, t.node.byte_range())),
                _ => {
                    // Constructor calls are tagged as class references.
                    let new = matches!(
                        t.node.kind(),
                        "new_expression" | "object_creation_expression"
                    );
                    if t.kind == "call" || new {
                        occ.calls.push(name.clone());
                    }
                    occ.refs.push(name);
                }
            }
        }
        // Definition names are asked too: some name another thing (`impl Counter`, a
        // C++ out-of-line method); a name that resolves to itself makes no edge.
        let mut cursor = tree.walk();
        'walk: loop {
            let node = cursor.node();
            if is_name(&node) {
                occ.names.push(node.byte_range());
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        // A tags reference that is no identifier leaf (bash's command names are `word`s).
        occ.names.extend(occ.refs.iter().cloned());
        for v in [&mut occ.names, &mut occ.refs, &mut occ.calls] {
            v.sort_by_key(|r| (r.start, r.end));
            v.dedup();
        }
        occ
    }

    /// Only the tags references (what the request plan asks `definition` about).
    pub fn from_refs(refs: Vec<Range<usize>>) -> Occurrences {
        Occurrences {
            names: refs.clone(),
            refs,
            ..Occurrences::default()
        }
    }

    pub fn is_ref(&self, r: &Range<usize>) -> bool {
        self.refs
            .binary_search_by_key(&(r.start, r.end), |x| (x.start, x.end))
            .is_ok()
    }

    pub fn is_call(&self, r: &Range<usize>) -> bool {
        self.calls
            .binary_search_by_key(&(r.start, r.end), |x| (x.start, x.end))
            .is_ok()
    }

    /// The name range of the innermost definition enclosing `at`, if any.
    pub fn enclosing(&self, at: &Range<usize>) -> Option<Range<usize>> {
        self.defs
            .iter()
            .filter(|(_, node)| node.start <= at.start && at.end <= node.end)
            .min_by_key(|(_, node)| node.end - node.start)
            .map(|(name, _)| name.clone())
    }
}
