//! `tags.scm` queries: definitions (`@definition.<kind>` + `@name`) and references
//! (`@reference.<kind>` + `@name`).

use tree_sitter as ts;
use tree_sitter::StreamingIterator;

/// Whether a tag defines or refers to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRole {
    Definition,
    Reference,
}

/// A compiled tags query.
#[derive(Debug)]
pub struct TagsQuery {
    query: ts::Query,
    name: u32,
    /// By capture index: the role and kind of `@definition.x` / `@reference.x` captures.
    roles: Vec<Option<(TagRole, String)>>,
}

/// One definition or reference found in a tree.
#[derive(Debug, Clone)]
pub struct Tag<'tree> {
    pub role: TagRole,
    pub kind: &'static str,
    /// The whole definition (or reference) node.
    pub node: ts::Node<'tree>,
    /// The node holding the name.
    pub name: ts::Node<'tree>,
}

impl TagsQuery {
    /// Compiles `source` for `language`; `Err` holds the query error with its position.
    pub fn new(language: &ts::Language, source: &str) -> Result<TagsQuery, String> {
        let query = ts::Query::new(language, source).map_err(|e| {
            format!(
                "tags.scm:{}:{}: {:?}: {}",
                e.row + 1,
                e.column + 1,
                e.kind,
                e.message
            )
        })?;
        let name = query
            .capture_index_for_name("name")
            .ok_or("tags.scm has no @name capture")?;
        let roles = query
            .capture_names()
            .iter()
            .map(|c| {
                if let Some(kind) = c.strip_prefix("definition.") {
                    Some((TagRole::Definition, kind.to_string()))
                } else {
                    c.strip_prefix("reference.")
                        .map(|kind| (TagRole::Reference, kind.to_string()))
                }
            })
            .collect();
        Ok(TagsQuery { query, name, roles })
    }

    /// The query, for callers that need it directly.
    pub fn query(&self) -> &ts::Query {
        &self.query
    }

    /// Every tag in `tree`, in document order, each (node, role, kind) once.
    pub fn tags<'tree>(&'static self, tree: &'tree ts::Tree, text: &[u8]) -> Vec<Tag<'tree>> {
        let mut cursor = ts::QueryCursor::new();
        let mut matches = cursor.matches(&self.query, tree.root_node(), text);
        let mut out: Vec<Tag<'tree>> = Vec::new();
        while let Some(m) = matches.next() {
            let mut role = None;
            let mut name = None;
            for c in m.captures() {
                if c.index == self.name {
                    name = Some(c.node);
                } else if let Some(Some((r, kind))) = self.roles.get(c.index as usize) {
                    role = Some((*r, kind.as_str(), c.node));
                }
            }
            if let (Some((role, kind, node)), Some(name)) = (role, name) {
                out.push(Tag {
                    role,
                    kind,
                    node,
                    name,
                });
            }
        }
        out.sort_by_key(|t| {
            (
                t.node.start_byte(),
                std::cmp::Reverse(t.node.end_byte()),
                t.name.start_byte(),
            )
        });
        out.dedup_by(|a, b| {
            a.node.id() == b.node.id()
                && a.name.id() == b.name.id()
                && a.role == b.role
                && a.kind == b.kind
        });
        out
    }
}
