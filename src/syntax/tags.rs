//! `tags.scm` queries: definitions (`@definition.<kind>` + `@name`) and references
//! (`@reference.<kind>` + `@name`).
//!
//! Queries cost milliseconds to compile, and matching reference patterns costs time that
//! only `--lsp full` spends: the definition patterns are compiled on their own, up front,
//! and the whole query only when references are first asked for.

use std::sync::OnceLock;

use tree_sitter as ts;
use tree_sitter::StreamingIterator;

/// Whether a tag defines or refers to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRole {
    Definition,
    Reference,
}

/// A compiled query and what its captures mean.
#[derive(Debug)]
struct Compiled {
    query: ts::Query,
    name: u32,
    /// By capture index: the role and kind of `@definition.x` / `@reference.x` captures.
    roles: Vec<Option<(TagRole, String)>>,
}

fn compile(language: &ts::Language, source: &str) -> Result<Compiled, String> {
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
    Ok(Compiled { query, name, roles })
}

/// The top-level patterns of a query source: each from a top-level `(` or `[` up to the next
/// one (so trailing captures and quantifiers stay with their pattern). Strings and `;`
/// comments are skipped when counting brackets.
fn patterns(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    let (mut depth, mut starts) = (0usize, Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' => {
                if depth == 0 {
                    starts.push(i);
                }
                depth += 1;
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| &source[s..starts.get(k + 1).copied().unwrap_or(source.len())])
        .collect()
}

/// A language's tags query.
#[derive(Debug)]
pub struct TagsQuery {
    language: ts::Language,
    source: String,
    definitions: Compiled,
    whole: OnceLock<Result<Compiled, String>>,
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
    /// Compiles the definition patterns of `source`; `Err` holds the query error with its
    /// position. [`check`](Self::check) compiles the whole query.
    pub fn new(language: &ts::Language, source: &str) -> Result<TagsQuery, String> {
        let defs: Vec<&str> = patterns(source)
            .into_iter()
            .filter(|p| p.contains("@definition."))
            .collect();
        let definitions = compile(language, &defs.join("\n"))?;
        Ok(TagsQuery {
            language: language.clone(),
            source: source.to_string(),
            definitions,
            whole: OnceLock::new(),
        })
    }

    fn whole(&self) -> Result<&Compiled, &str> {
        self.whole
            .get_or_init(|| compile(&self.language, &self.source))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Compiles the whole query (definitions and references).
    pub fn check(&self) -> Result<(), &str> {
        self.whole().map(drop)
    }

    /// Every tag in `tree` (references too when `references`), in document order, each
    /// (node, name, role, kind) once.
    pub fn tags<'tree>(
        &'static self,
        tree: &'tree ts::Tree,
        text: &[u8],
        references: bool,
    ) -> Vec<Tag<'tree>> {
        let compiled = if references {
            self.whole().unwrap_or(&self.definitions)
        } else {
            &self.definitions
        };
        let mut cursor = ts::QueryCursor::new();
        let mut matches = cursor.matches(&compiled.query, tree.root_node(), text);
        let mut out: Vec<Tag<'tree>> = Vec::new();
        while let Some(m) = matches.next() {
            let mut role = None;
            let mut name = None;
            for c in m.captures() {
                if c.index == compiled.name {
                    name = Some(c.node);
                } else if let Some(Some((r, kind))) = compiled.roles.get(c.index as usize) {
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

#[cfg(test)]
mod tests {
    use super::patterns;

    #[test]
    fn splits_top_level_patterns() {
        let src = "; (not a pattern)\n(a name: (b) @name) @definition.x\n[(c) (d \")\")] @reference.call\n((e) @name (#eq? @name \"(\"))";
        let p = patterns(src);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].contains("@definition.x")
                && p[1].contains("@reference.call")
                && p[2].starts_with("((e)")
        );
    }
}
