//! `tags.scm` queries: definitions (`@definition.<kind>` + `@name`) and references
//! (`@reference.<kind>` + `@name`).
//!
//! Queries cost milliseconds to compile, and matching reference patterns costs time that
//! only `--lsp full` spends: the definition patterns are compiled on their own, up front,
//! and the whole query only when references are first asked for.
//!
//! Definitions are matched only where a pattern can start. A query cursor run over a whole
//! tree visits every node and, at each, works out its field and sibling status: on the Python
//! standard library that was as much CPU as writing the nodes table. When every definition
//! pattern starts at a named node kind (`(class_definition ...)`, a grouping with
//! predicates, an alternation of such), one cheap cursor walk finds the nodes of those kinds
//! and the query runs at each with a start depth of 0, which explores only the few levels
//! its patterns name. The matches are the same (a test compares both ways on every
//! language's fixtures); a query with a wildcard, supertype, anonymous or repeated root
//! runs over the whole tree as before.

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
    /// By node kind id: whether a pattern can start at a node of that kind; `None` when
    /// some pattern can start anywhere (the query then runs over the whole tree).
    roots: Option<Vec<bool>>,
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
    Ok(Compiled {
        query,
        name,
        roles,
        roots: None,
    })
}

/// The text of a bracketed element `(...)`/`[...]` between its brackets, and what follows
/// the closing bracket; `None` when unbalanced.
fn bracketed(element: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, b) in brackets(element) {
        if matches!(b, b'(' | b'[') {
            depth += 1;
        } else {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some((element.get(1..i)?, element.get(i + 1..)?));
            }
        }
    }
    None
}

/// The named node kinds a pattern element can start at: `(kind ...)`, a grouping
/// `((kind ...) (#predicate ...))`, or an alternation `[...]` of those. `None` when it can
/// start at any node or at a sibling of its first node: a wildcard, a supertype, an
/// anonymous node, a quantified root, a grouping of several nodes.
fn root_kinds(element: &str, out: &mut Vec<String>) -> Option<()> {
    let element = element.trim();
    let (inner, trailer) = bracketed(element)?;
    let trailer = trailer.trim_start();
    if trailer.starts_with(['*', '+', '?']) {
        return None;
    }
    if element.starts_with('[') {
        for alt in patterns(inner) {
            root_kinds(alt, out)?;
        }
        return Some(());
    }
    let inner = inner.trim_start();
    if inner.starts_with(['(', '[']) {
        // A grouping: one node (or alternation) and predicates only.
        let parts = patterns(inner);
        let (first, rest) = parts.split_first()?;
        if !rest.iter().all(|p| p.trim_start().starts_with("(#")) {
            return None;
        }
        return root_kinds(first, out);
    }
    let kind: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let next = inner[kind.len()..].chars().next();
    if kind.is_empty() || kind == "_" || kind == "MISSING" || next == Some('/') {
        return None;
    }
    out.push(kind);
    Some(())
}

/// By node kind id, whether one of `patterns` can start there (see [`root_kinds`]).
fn pattern_roots(language: &ts::Language, patterns: &[&str]) -> Option<Vec<bool>> {
    let mut kinds = Vec::new();
    for p in patterns {
        root_kinds(p, &mut kinds)?;
    }
    let mut roots = vec![false; language.node_kind_count()];
    for kind in &kinds {
        let mut found = false;
        for (id, slot) in roots.iter_mut().enumerate() {
            let id = id as u16;
            if language.node_kind_is_named(id) && language.node_kind_for_id(id) == Some(kind) {
                if language.node_kind_is_supertype(id) {
                    return None;
                }
                *slot = true;
                found = true;
            }
        }
        if !found {
            return None;
        }
    }
    Some(roots)
}

/// The brackets of a query source outside strings and `;` comments: (byte offset, bracket).
fn brackets(source: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = source.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            i += 1;
            match bytes[at] {
                b';' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' => {
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                b @ (b'(' | b'[' | b')' | b']') => return Some((at, b)),
                _ => {}
            }
        }
        None
    })
}

/// The top-level patterns of a query source: each from a top-level `(` or `[` up to the next
/// one (so trailing captures and quantifiers stay with their pattern). Strings and `;`
/// comments are skipped when counting brackets.
fn patterns(source: &str) -> Vec<&str> {
    let (mut depth, mut starts) = (0usize, Vec::new());
    for (i, b) in brackets(source) {
        if matches!(b, b'(' | b'[') {
            if depth == 0 {
                starts.push(i);
            }
            depth += 1;
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| &source[s..starts.get(k + 1).copied().unwrap_or(source.len())])
        .collect()
}

/// The patterns of `source` that capture definitions.
fn definition_patterns(source: &str) -> Vec<&str> {
    patterns(source)
        .into_iter()
        .filter(|p| p.contains("@definition."))
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
        let defs = definition_patterns(source);
        let mut definitions = compile(language, &defs.join("\n"))?;
        definitions.roots = pattern_roots(language, &defs);
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
        let mut out: Vec<Tag<'tree>> = Vec::new();
        match DefinitionScan::new(compiled) {
            Some(mut scan) => {
                let mut walk = tree.walk();
                'walk: loop {
                    scan.at(walk.node(), text, &mut out);
                    if walk.goto_first_child() {
                        continue;
                    }
                    while !walk.goto_next_sibling() {
                        if !walk.goto_parent() {
                            break 'walk;
                        }
                    }
                }
            }
            None => collect(
                compiled,
                &mut ts::QueryCursor::new(),
                tree.root_node(),
                text,
                &mut out,
            ),
        }
        in_document_order(&mut out);
        out
    }

    /// Matches definitions node by node during a walk the caller makes anyway; `None` when
    /// some definition pattern can start anywhere (then use [`tags`](Self::tags)).
    pub fn definition_scan(&'static self) -> Option<DefinitionScan> {
        DefinitionScan::new(&self.definitions)
    }
}

/// Definition matching at the nodes where a pattern can start, fed the nodes of a walk.
pub struct DefinitionScan {
    compiled: &'static Compiled,
    roots: &'static [bool],
    cursor: ts::QueryCursor,
}

impl DefinitionScan {
    fn new(compiled: &'static Compiled) -> Option<DefinitionScan> {
        let roots = compiled.roots.as_deref()?;
        let mut cursor = ts::QueryCursor::new();
        cursor.set_max_start_depth(Some(0));
        Some(DefinitionScan {
            compiled,
            roots,
            cursor,
        })
    }

    /// Adds the tags of the patterns that start at `node` to `out`; the walk's order is not
    /// the tags' order, [`in_document_order`] sorts them once all nodes are seen.
    pub fn at<'t>(&mut self, node: ts::Node<'t>, text: &[u8], out: &mut Vec<Tag<'t>>) {
        if self.roots.get(usize::from(node.kind_id())) == Some(&true) {
            collect(self.compiled, &mut self.cursor, node, text, out);
        }
    }
}

/// Sorts tags in document order (outer before inner) and drops repeats of the same
/// (node, name, role, kind).
pub fn in_document_order(out: &mut Vec<Tag>) {
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
}

/// The tags of the matches of `compiled` in `node` (whose start depth the cursor bounds).
fn collect<'tree>(
    compiled: &'static Compiled,
    cursor: &mut ts::QueryCursor,
    node: ts::Node<'tree>,
    text: &[u8],
    out: &mut Vec<Tag<'tree>>,
) {
    let mut matches = cursor.matches(&compiled.query, node, text);
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
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn definitions_matched_where_patterns_start_are_those_of_a_whole_tree_match() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut fast = Vec::new();
        for lang in crate::syntax::languages() {
            let Ok(q) = lang.tags() else { continue };
            if q.definitions.roots.is_some() {
                fast.push(lang.name.as_str());
            }
            let whole = compile(lang.ts(), &definition_patterns(&q.source).join("\n")).unwrap();
            let whole: &'static Compiled = Box::leak(Box::new(whole));
            let mut paths = Vec::new();
            for dir in ["fixtures/langs", "fixtures/lsp"] {
                files(&root.join(dir).join(&lang.name), &mut paths);
            }
            if lang.name == "rust" {
                files(&root.join("src"), &mut paths);
            }
            let paths: Vec<_> = paths
                .into_iter()
                .filter(|p| {
                    let head = std::fs::read(p).unwrap_or_default();
                    let name = p.to_string_lossy();
                    crate::syntax::detect(&name, &head).is_some_and(|l| l.name == lang.name)
                })
                .collect();
            for path in &paths {
                let text = std::fs::read(path).unwrap();
                let tree = crate::syntax::parse(lang, &text, None).unwrap();
                let key = |t: &Tag| (t.node.id(), t.name.id(), t.role, t.kind);
                let got: Vec<_> = q.tags(&tree, &text, false).iter().map(key).collect();
                let mut want = Vec::new();
                collect(
                    whole,
                    &mut ts::QueryCursor::new(),
                    tree.root_node(),
                    &text,
                    &mut want,
                );
                in_document_order(&mut want);
                let want: Vec<_> = want.iter().map(key).collect();
                assert_eq!(got, want, "{}", path.display());
            }
        }
        eprintln!("definitions matched where patterns start: {fast:?}");
        for lang in ["python", "rust", "go", "java", "c"] {
            assert!(
                fast.contains(&lang),
                "{lang} should match where patterns start: {fast:?}"
            );
        }
    }

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
