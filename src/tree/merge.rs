//! Merging language-server facts onto the syntax tree: each range lands on the smallest node
//! that encloses it (the name node for a selection range), symbols get SCIP-style ids built
//! from the tags definitions (so a symbol has the same id seen from its own file or from a
//! reference in another), and cross-file targets point to (path, node id).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tree_sitter as ts;

use super::enrich::{EdgeFact, Loc, LspFacts};
use crate::syntax::{detect, node_index, parse, Language, TagRole};

const KINDS: [&str; 27] = [
    "unknown",
    "file",
    "module",
    "namespace",
    "package",
    "class",
    "method",
    "property",
    "field",
    "constructor",
    "enum",
    "interface",
    "function",
    "variable",
    "constant",
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "key",
    "null",
    "enum_member",
    "struct",
    "event",
    "operator",
    "type_parameter",
];

/// The LSP `SymbolKind` as a name.
pub fn kind_name(k: u64) -> &'static str {
    KINDS.get(k as usize).copied().unwrap_or("unknown")
}

/// A SCIP descriptor: `name/` namespace, `name#` type, `name().` method, `name.` term.
fn descriptor(name: &str, kind: &str) -> String {
    let name = if name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !name.is_empty()
    {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    };
    match kind {
        "module" | "namespace" | "package" | "file" => format!("{name}/"),
        "class" | "struct" | "interface" | "enum" | "trait" | "type" | "impl"
        | "type_parameter" => format!("{name}#"),
        "function" | "method" | "constructor" | "macro" => format!("{name}()."),
        _ => format!("{name}."),
    }
}

/// A file's definitions as (name range, node range, descriptor), for symbol ids.
struct DefIndex {
    defs: Vec<(Range<usize>, Range<usize>, String)>,
}

impl DefIndex {
    fn new(lang: &'static Language, tree: &ts::Tree, text: &str) -> DefIndex {
        let defs = lang
            .tags()
            .map(|q| {
                q.tags(tree, text.as_bytes(), false)
                    .into_iter()
                    .filter(|t| t.role == TagRole::Definition)
                    .map(|t| {
                        (
                            t.name.byte_range(),
                            t.node.byte_range(),
                            descriptor(text.get(t.name.byte_range()).unwrap_or(""), t.kind),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        DefIndex { defs }
    }

    /// The descriptor chain of the definition named at `at` (outermost first).
    fn chain(&self, at: &Range<usize>) -> Option<String> {
        let (_, node, own) = self
            .defs
            .iter()
            .find(|(name, _, _)| name.start <= at.start && at.start < name.end)?;
        let mut outer: Vec<&(Range<usize>, Range<usize>, String)> = self
            .defs
            .iter()
            .filter(|(_, n, _)| n.start <= node.start && node.end <= n.end && n != node)
            .collect();
        outer.sort_by_key(|(_, n, _)| (n.start, std::cmp::Reverse(n.end)));
        let mut s: String = outer.iter().map(|(_, _, d)| d.as_str()).collect();
        s.push_str(own);
        Some(s)
    }
}

/// A parsed file of the workspace other than the one being merged.
struct Other {
    tree: ts::Tree,
    defs: DefIndex,
    lang: &'static Language,
}

/// Everything needed to merge one file's facts.
pub(crate) struct MergeCtx<'a> {
    pub lang: &'static Language,
    pub volume: &'a str,
    pub root: &'a Path,
    pub path: &'a Path,
    pub tree: &'a ts::Tree,
    pub text: &'a str,
}

/// The merge, before the walk: node annotations (JSON fragments by tree-sitter node id) and
/// the nodes whose pre-order index the records need.
pub(crate) struct Merged {
    pub annots: super::cst::Annotations,
    /// The semantic token of each node (the first one that lands on it), for node rows.
    pub tokens: super::cst::Tokens,
    /// Finished after the walk, when node indices are known.
    symbols: Vec<(String, Value, usize)>,
    diagnostics: Vec<(Value, usize)>,
    edges: Vec<(Value, Option<usize>, Option<usize>)>,
    pub folding: Vec<Value>,
    pub errors: Vec<Value>,
}

/// The merged facts as record values.
pub(crate) struct LspJson {
    pub symbols: serde_json::Map<String, Value>,
    pub diagnostics: Vec<Value>,
    pub edges: Vec<Value>,
    pub folding: Vec<Value>,
    pub errors: Vec<Value>,
}

impl LspJson {
    /// No facts (no servers asked).
    pub(crate) fn empty() -> LspJson {
        LspJson {
            symbols: Default::default(),
            diagnostics: Vec::new(),
            edges: Vec::new(),
            folding: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl MergeCtx<'_> {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.root)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.to_string_lossy().into_owned())
    }

    fn symbol_id(&self, chain: &str) -> String {
        format!(
            "disco {} {} {} {}",
            self.lang.name,
            self.volume,
            self.rel(self.path).replace(' ', "%20"),
            chain
        )
    }

    fn node_at(&self, r: &Range<usize>) -> Option<ts::Node<'_>> {
        self.tree
            .root_node()
            .descendant_for_byte_range(r.start, r.end.max(r.start))
    }
}

pub(crate) fn prepare(
    ctx: &MergeCtx,
    facts: LspFacts,
    wanted: &mut super::cst::NodeMap<u32>,
) -> Merged {
    let own_defs = DefIndex::new(ctx.lang, ctx.tree, ctx.text);
    let mut others: HashMap<PathBuf, Option<Other>> = HashMap::new();
    let mut annots: HashMap<usize, Vec<String>> = HashMap::new();
    let mut add = |node: ts::Node, frag: String| annots.entry(node.id()).or_default().push(frag);

    // Symbol ids: from the tags definition at the selection, else the document-symbol chain.
    let mut ids: Vec<String> = Vec::with_capacity(facts.symbols.len());
    for (i, s) in facts.symbols.iter().enumerate() {
        let chain = own_defs.chain(&s.selection).unwrap_or_else(|| {
            let mut parts = vec![descriptor(&s.name, kind_name(s.kind))];
            let mut p = s.parent;
            while let Some(k) = p {
                parts.push(descriptor(
                    &facts.symbols[k].name,
                    kind_name(facts.symbols[k].kind),
                ));
                p = facts.symbols[k].parent;
            }
            parts.reverse();
            parts.concat()
        });
        let mut id = ctx.symbol_id(&chain);
        if ids.contains(&id) {
            id = format!("{id}#{i}");
        }
        ids.push(id);
    }
    let mut symbols = Vec::new();
    for (i, s) in facts.symbols.iter().enumerate() {
        let Some(name_node) = ctx.node_at(&s.selection) else {
            continue;
        };
        let mut frag = format!(
            ",\"sym\":{},\"occ\":{{\"sym\":{},\"roles\":[\"definition\"]}}",
            json!(ids[i]),
            json!(ids[i])
        );
        if let Some(h) = &s.hover {
            frag.push_str(&format!(",\"hover\":{}", json!(h)));
        }
        add(name_node, frag);
        wanted.entry(name_node.id()).or_insert(u32::MAX);
        let value = json!({
            "id": ids[i], "name": s.name, "kind": kind_name(s.kind), "detail": s.detail, "hover": s.hover,
            "enclosing": s.parent.map(|p| ids[p].clone()),
            "def": {"path": ctx.rel(ctx.path)},
            "refs": facts.ref_counts.get(&i), "callers": [], "callees": [], "rel": [], "external": false, "source": s.source,
        });
        symbols.push((ids[i].clone(), value, name_node.id()));
    }
    // One token per node (the first): a node's record has one `tok`, its row one type.
    let mut tokens = super::cst::Tokens::default();
    for t in &facts.tokens {
        if let Some(n) = ctx.node_at(&t.range) {
            if tokens.contains_key(&n.id()) {
                continue;
            }
            tokens.insert(n.id(), (t.ty.clone(), t.mods.join(" ")));
            add(
                n,
                format!(",\"tok\":{}", json!({"type": t.ty, "mods": t.mods})),
            );
        }
    }
    let mut diagnostics = Vec::new();
    let lines = crate::lsp::LineIndex::new(ctx.text);
    for d in &facts.diagnostics {
        let Some(n) = ctx.node_at(&d.range) else {
            continue;
        };
        wanted.entry(n.id()).or_insert(u32::MAX);
        let (sr, sc) = lines.row_col(d.range.start);
        let (er, ec) = lines.row_col(d.range.end);
        diagnostics.push((
            json!({"span": [d.range.start, d.range.end, sr, sc, er, ec], "severity": d.severity, "code": d.code, "source": d.source, "message": d.message}),
            n.id(),
        ));
    }
    // Edges: endpoints as (path, node, symbol); references and definitions also annotate nodes.
    let mut edges = Vec::new();
    let endpoint = |loc: &Loc,
                    others: &mut HashMap<PathBuf, Option<Other>>,
                    wanted: &mut super::cst::NodeMap<u32>|
     -> (Value, Option<usize>) {
        if loc.path == ctx.path {
            let node = ctx.node_at(&loc.range);
            if let Some(n) = node {
                wanted.entry(n.id()).or_insert(u32::MAX);
            }
            let sym = own_defs.chain(&loc.range).map(|c| ctx.symbol_id(&c));
            return (
                json!({"path": ctx.rel(ctx.path), "node": Value::Null, "sym": sym}),
                node.map(|n| n.id()),
            );
        }
        let other = others
            .entry(loc.path.clone())
            .or_insert_with(|| load_other(&loc.path, ctx.root));
        let (node, sym) = match other {
            Some(o) => {
                let n = o
                    .tree
                    .root_node()
                    .descendant_for_byte_range(loc.range.start, loc.range.end.max(loc.range.start));
                let idx = n.and_then(|n| node_index(&o.tree, n));
                let sym = o.defs.chain(&loc.range).map(|c| {
                    format!(
                        "disco {} {} {} {}",
                        o.lang.name,
                        ctx.volume,
                        ctx.rel(&loc.path).replace(' ', "%20"),
                        c
                    )
                });
                (idx, sym)
            }
            None => (None, None),
        };
        let external = !loc.path.starts_with(ctx.root);
        (
            json!({"path": ctx.rel(&loc.path), "node": node, "sym": sym, "external": external}),
            None,
        )
    };
    for e in &facts.edges {
        let (from, from_node) = endpoint(&e.from, &mut others, wanted);
        let (to, to_node) = endpoint(&e.to, &mut others, wanted);
        annotate_edge(e, &to, ctx, &mut add);
        let value =
            json!({"kind": e.kind, "from": from, "to": to, "name": e.name, "source": e.source});
        edges.push((value, from_node, to_node));
    }
    let folding = facts
        .folds
        .iter()
        .map(|(s, e, k)| json!([s, e, k]))
        .collect();
    let errors = facts
        .errors
        .iter()
        .map(|(p, r, c, m)| json!({"producer": p, "request": r, "code": c, "message": m}))
        .collect();
    Merged {
        annots: annots.into_iter().map(|(k, v)| (k, v.concat())).collect(),
        tokens,
        symbols,
        diagnostics,
        edges,
        folding,
        errors,
    }
}

/// A reference occurrence or a definition target on the node where the edge starts.
fn annotate_edge(e: &EdgeFact, to: &Value, ctx: &MergeCtx, add: &mut impl FnMut(ts::Node, String)) {
    if e.from.path != ctx.path {
        return;
    }
    let Some(n) = ctx.node_at(&e.from.range) else {
        return;
    };
    match e.kind {
        "references" => add(
            n,
            format!(
                ",\"occ\":{{\"sym\":{},\"roles\":[\"reference\"]}}",
                to["sym"]
            ),
        ),
        "defines" => add(
            n,
            format!(
                ",\"def\":{}",
                json!({"path": to["path"], "node": to["node"], "sym": to["sym"]})
            ),
        ),
        _ => {}
    }
}

fn load_other(path: &Path, root: &Path) -> Option<Other> {
    if !path.starts_with(root) {
        return None;
    }
    // Decoded as its own record was, so node offsets agree.
    let text = crate::volume::decode(std::fs::read(path).ok()?, None)
        .ok()?
        .text;
    if text.len() > 8 << 20 {
        return None;
    }
    let lang = detect(&path.to_string_lossy(), text.as_bytes())?;
    let tree = parse(
        lang,
        text.as_bytes(),
        Some(std::time::Duration::from_secs(10)),
    )
    .ok()?;
    let defs = DefIndex::new(lang, &tree, &text);
    Some(Other { tree, defs, lang })
}

impl Merged {
    /// Fills in node indices (known after the walk) and returns the record values.
    pub(crate) fn finish(self, wanted: &super::cst::NodeMap<u32>) -> LspJson {
        let idx = |id: usize| wanted.get(&id).copied().filter(|&n| n != u32::MAX);
        let mut symbols = serde_json::Map::new();
        for (id, mut v, node) in self.symbols {
            v["def"]["node"] = json!(idx(node));
            symbols.insert(id, v);
        }
        let diagnostics = self
            .diagnostics
            .into_iter()
            .map(|(mut v, node)| {
                v["node"] = json!(idx(node));
                v
            })
            .collect();
        let mut edges: Vec<Value> = Vec::new();
        for (mut v, from, to) in self.edges {
            if let Some(n) = from.and_then(idx) {
                v["from"]["node"] = json!(n);
            }
            if let Some(n) = to.and_then(idx) {
                v["to"]["node"] = json!(n);
            }
            edges.push(v);
        }
        // Callers and callees on the symbols, from call edges.
        for e in edges.iter().filter(|e| e["kind"] == "calls") {
            if let Some(to) = e["to"]["sym"].as_str().and_then(|s| symbols.get_mut(s)) {
                if let Some(a) = to["callers"].as_array_mut() {
                    a.push(e["from"]["sym"].clone());
                }
            }
            if let Some(from) = e["from"]["sym"].as_str().and_then(|s| symbols.get_mut(s)) {
                if let Some(a) = from["callees"].as_array_mut() {
                    a.push(e["to"]["sym"].clone());
                }
            }
        }
        LspJson {
            symbols,
            diagnostics,
            edges,
            folding: self.folding,
            errors: self.errors,
        }
    }
}
