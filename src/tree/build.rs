//! One file, start to finish: load, parse, ask the language servers (when enabled), walk,
//! find definitions and units, and encode the result in the requested format.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use serde_json::{json, Value};

use super::cst::{walk, FlatWriter, NestedWriter, NoWriter, TextMode, Visitor};
use super::enrich::{Enricher, LspLevel};
use super::merge::{prepare, LspJson, MergeCtx};
use super::record::{
    Definition, FileHeader, Producers, ServerProducer, Stats, Status, SyntaxProducer, Unit, SCHEMA,
};
use super::source::{load, LoadOptions, Source};
use super::tables::NodeColumns;
use super::units::{finish, pending, Pending};
use crate::syntax::{parse, Language, ParseError};
use crate::volume::{Entry, TextEncoding, Volume};

/// The shape of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON line per file with the nested tree.
    Nested,
    /// JSON lines: a file record, then node, definition, unit, symbol, edge and diagnostic
    /// records.
    Flat,
    /// Rows for a table writer ([`FileRows`]).
    Rows,
    /// Parse, and keep nothing but the counts (measures the parse-only limit).
    ParseOnly,
}

/// How to build records.
#[derive(Debug, Clone)]
pub struct TreeOptions {
    pub format: Format,
    pub text: TextMode,
    pub max_bytes: u64,
    /// The nested format's depth limit; deeper trees get status `too_deep` (flat has none).
    pub max_depth: u32,
    pub parse_timeout: Option<Duration>,
    /// Only files of these languages (all when `None`).
    pub languages: Option<Vec<&'static Language>>,
    /// Language servers to ask (`None`: syntax only).
    pub enricher: Option<Arc<Enricher>>,
    /// Decode every file with this encoding instead of detecting one (a BOM still wins).
    pub encoding: Option<TextEncoding>,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            format: Format::Nested,
            text: TextMode::Leaves,
            max_bytes: 8 * 1024 * 1024,
            max_depth: 1000,
            parse_timeout: Some(Duration::from_secs(30)),
            languages: None,
            enricher: None,
            encoding: None,
        }
    }
}

/// A file's records, with what the summary needs.
#[derive(Debug)]
pub struct FileOutput {
    pub path: String,
    pub language: Option<&'static str>,
    pub status: Status,
    pub bytes: u64,
    /// Status of each language server asked.
    pub servers: Vec<ServerProducer>,
    pub payload: Payload,
}

/// The encoded records.
#[derive(Debug)]
pub enum Payload {
    /// JSON lines, each ending in `\n`.
    Json(Vec<u8>),
    Rows(Box<FileRows>),
    Nothing,
}

/// A file's records as values, for table writers (`tree::tables` turns them into rows of
/// the relational form).
#[derive(Debug)]
pub struct FileRows {
    pub header: FileHeader,
    /// The `nodes` table's rows, built during the walk (`None` when the file has no tree).
    pub nodes: Option<RecordBatch>,
    pub definitions: Vec<Definition>,
    pub units: Vec<Unit>,
    /// The record's `symbols` (values of its map), `edges`, `diagnostics`, `folding` and
    /// `errors`, as the JSON record has them.
    pub symbols: Vec<Value>,
    pub edges: Vec<Value>,
    pub diagnostics: Vec<Value>,
    pub folding: Vec<Value>,
    pub errors: Vec<Value>,
}

impl FileRows {
    fn new(header: FileHeader, nodes: Option<RecordBatch>, extras: Extras) -> FileRows {
        let Extras {
            definitions,
            units,
            lsp,
            mut errors,
        } = extras;
        let lsp = lsp.unwrap_or_else(LspJson::empty);
        errors.extend(lsp.errors);
        FileRows {
            header,
            nodes,
            definitions,
            units,
            symbols: lsp.symbols.into_iter().map(|(_, v)| v).collect(),
            edges: lsp.edges,
            diagnostics: lsp.diagnostics,
            folding: lsp.folding,
            errors,
        }
    }
}

/// Everything besides the header and the tree.
#[derive(Default)]
struct Extras {
    definitions: Vec<Definition>,
    units: Vec<Unit>,
    lsp: Option<LspJson>,
    errors: Vec<Value>,
}

/// Builds the records of one listed file; `None` when `--lang` filters it out.
pub fn build_file(volume: &Volume, entry: &Entry, opts: &TreeOptions) -> Option<FileOutput> {
    let load_opts = LoadOptions {
        max_bytes: opts.max_bytes,
        languages: opts.languages.clone(),
        encoding: opts.encoding,
    };
    let src = load(volume, entry, &load_opts)?;
    Some(build_source(src, opts))
}

fn header(
    src: &Source,
    status: Status,
    reason: Option<String>,
    stats: Option<Stats>,
    servers: Vec<ServerProducer>,
) -> FileHeader {
    let syntax = SyntaxProducer {
        grammar: src.language.map(|l| l.grammar.clone()),
        version: src.language.and_then(|l| l.grammar_version()),
        status: match status {
            Status::Ok | Status::SyntaxErrors | Status::TooDeep => "ok",
            Status::Timeout => "failed",
            _ => "skipped",
        },
    };
    FileHeader {
        schema: SCHEMA,
        file: src.info.clone(),
        status,
        reason,
        producers: Producers { syntax, servers },
        stats,
    }
}

fn failed(src: &Source, status: Status, reason: String, format: Format) -> FileOutput {
    let h = header(src, status, Some(reason), None, Vec::new());
    let payload = encode(format, h, None, Extras::default());
    FileOutput {
        path: src.info.path.clone(),
        language: src.info.language,
        status,
        bytes: src.info.bytes,
        servers: Vec::new(),
        payload,
    }
}

/// Builds the records of a loaded file.
pub fn build_source(src: Source, opts: &TreeOptions) -> FileOutput {
    if let Some((status, reason)) = src.failure.clone() {
        return failed(&src, status, reason, opts.format);
    }
    let (Some(lang), Some(text)) = (src.language, src.text.as_deref()) else {
        return failed(
            &src,
            Status::Unsupported,
            "no grammar for this file".into(),
            opts.format,
        );
    };
    let tree = match parse(lang, text.as_bytes(), opts.parse_timeout) {
        Ok(tree) => tree,
        Err(e) => {
            let status = if matches!(e, ParseError::Timeout(_)) {
                Status::Timeout
            } else {
                Status::Unreadable
            };
            return failed(&src, status, e.to_string(), opts.format);
        }
    };
    if opts.format == Format::ParseOnly {
        // The parse-only limit: nothing past the parser.
        let status = if tree.root_node().has_error() {
            Status::SyntaxErrors
        } else {
            Status::Ok
        };
        return FileOutput {
            path: src.info.path.clone(),
            language: src.info.language,
            status,
            bytes: src.info.bytes,
            servers: Vec::new(),
            payload: Payload::Nothing,
        };
    }
    let mut extras = Extras::default();
    let references = opts
        .enricher
        .as_ref()
        .is_some_and(|e| e.level == LspLevel::Full);
    let mut pend = pending(lang, &tree, text.as_bytes(), references).unwrap_or_else(|e| {
        extras
            .errors
            .push(json!({"producer": "syntax", "message": e}));
        Pending::none()
    });
    // Language servers first: their answers annotate nodes during the walk.
    let mut servers = Vec::new();
    let merged = match &opts.enricher {
        Some(en) if en.level > LspLevel::None && opts.format != Format::ParseOnly => {
            let mut facts = en.enrich(lang, &src.info.path, text, &pend.occ);
            servers = std::mem::take(&mut facts.servers);
            let path = en.root.join(&src.info.path);
            let ctx = MergeCtx {
                lang,
                volume: &src.info.volume,
                root: &en.root,
                path: &path,
                tree: &tree,
                text,
            };
            Some(prepare(&ctx, facts, &mut pend.wanted))
        }
        _ => None,
    };
    let annots = merged.as_ref().map(|m| &m.annots);
    let mut status = if tree.root_node().has_error() {
        Status::SyntaxErrors
    } else {
        Status::Ok
    };
    let mut reason =
        (status == Status::SyntaxErrors).then(|| "the tree has ERROR or MISSING nodes".to_string());
    let mut body: Option<Vec<u8>> = None;
    let mut rows = None;
    let walked = match opts.format {
        Format::Nested => {
            let mut w = NestedWriter::new(lang, text, opts.text, opts.max_depth, annots);
            let r = walk(&tree, &mut w, &mut pend, lang, text.as_bytes());
            body = Some(w.out);
            r
        }
        Format::Flat => {
            let mut w = FlatWriter::new(
                Vec::with_capacity(text.len() * 32),
                &src.info.id,
                lang,
                text,
                opts.text,
                annots,
            );
            let r = walk(&tree, &mut w, &mut pend, lang, text.as_bytes());
            body = Some(w.out);
            r
        }
        Format::Rows => {
            let tokens = merged.as_ref().map(|m| &m.tokens);
            let nodes = tree.root_node().descendant_count();
            let mut w = NodeColumns::new(lang, text, opts.text, tokens, nodes);
            let r = walk(&tree, &mut w, &mut pend, lang, text.as_bytes());
            match w.finish(&src.info.id) {
                Ok(b) => rows = Some(b),
                // A bug, not the input's fault: the file keeps its other rows and says why.
                Err(e) => extras
                    .errors
                    .push(json!({"producer": "syntax", "message": format!("nodes table: {e}")})),
            }
            r
        }
        Format::ParseOnly => walk(
            &tree,
            &mut NoWriter as &mut dyn Visitor,
            &mut pend,
            lang,
            text.as_bytes(),
        ),
    };
    let lines = text.lines().count() as u64;
    let stats = match walked {
        Ok(stats) => Some(Stats { lines, ..stats }),
        Err(deep) => {
            status = Status::TooDeep;
            reason = Some(format!(
                "the syntax tree is deeper than {} levels (the nested format's limit, --max-depth; reached level {}); --flat has no limit",
                opts.max_depth, deep.0
            ));
            body = None;
            // Statistics (and definitions) still describe the whole tree.
            pend.restart();
            walk(&tree, &mut NoWriter, &mut pend, lang, text.as_bytes())
                .ok()
                .map(|s| Stats { lines, ..s })
        }
    };
    pend.settle();
    (extras.definitions, extras.units) = finish(lang, &pend, text);
    extras.lsp = merged.map(|m| m.finish(&pend.wanted));
    // An ERROR leaf does not always set `has_error` on the root: the walk's counts decide too.
    if status == Status::Ok
        && stats
            .as_ref()
            .is_some_and(|s| s.error_nodes + s.missing_nodes > 0)
    {
        status = Status::SyntaxErrors;
        reason = Some("the tree has ERROR or MISSING nodes".to_string());
    }
    let h = header(&src, status, reason, stats, servers.clone());
    let payload = if opts.format == Format::Rows {
        Payload::Rows(Box::new(FileRows::new(h, rows, extras)))
    } else {
        encode(opts.format, h, body, extras)
    };
    FileOutput {
        path: src.info.path.clone(),
        language: src.info.language,
        status,
        bytes: src.info.bytes,
        servers,
        payload,
    }
}

fn json_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Serialising these record types to a Vec cannot fail: no maps with non-string keys.
    serde_json::to_vec(v).unwrap_or_default()
}

/// `{"type":"x",` + the rest of an object's JSON.
fn typed(out: &mut Vec<u8>, ty: &str, file: Option<&str>, object: &[u8]) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",");
    if let Some(id) = file {
        out.extend_from_slice(b"\"file\":");
        out.extend_from_slice(&json_bytes(&id));
        out.push(b',');
    }
    out.extend_from_slice(&object[1..]);
    out.push(b'\n');
}

fn encode(format: Format, h: FileHeader, tree: Option<Vec<u8>>, extras: Extras) -> Payload {
    if format == Format::Rows {
        return Payload::Rows(Box::new(FileRows::new(h, None, extras)));
    }
    let Extras {
        definitions,
        units,
        lsp,
        mut errors,
    } = extras;
    let lsp = lsp.unwrap_or_else(LspJson::empty);
    errors.extend(lsp.errors);
    match format {
        Format::ParseOnly | Format::Rows => Payload::Nothing,
        Format::Nested => {
            let mut out = json_bytes(&h);
            out.pop();
            for (key, value) in [
                ("definitions", json_bytes(&definitions)),
                ("units", json_bytes(&units)),
                ("symbols", json_bytes(&lsp.symbols)),
                ("diagnostics", json_bytes(&lsp.diagnostics)),
                ("edges", json_bytes(&lsp.edges)),
                ("folding", json_bytes(&lsp.folding)),
                ("errors", json_bytes(&errors)),
            ] {
                out.extend_from_slice(format!(",\"{key}\":").as_bytes());
                out.extend_from_slice(&value);
            }
            out.extend_from_slice(b",\"tree\":");
            out.extend_from_slice(tree.as_deref().unwrap_or(b"null"));
            out.extend_from_slice(b"}\n");
            Payload::Json(out)
        }
        Format::Flat => {
            let id = h.file.id.clone();
            let mut file = json_bytes(&h);
            file.pop();
            file.extend_from_slice(b",\"errors\":");
            file.extend_from_slice(&json_bytes(&errors));
            file.push(b'}');
            let mut out = Vec::with_capacity(file.len() + tree.as_ref().map_or(0, Vec::len) + 256);
            typed(&mut out, "file", None, &file);
            if let Some(nodes) = tree {
                out.extend_from_slice(&nodes);
            }
            for d in &definitions {
                typed(&mut out, "definition", Some(&id), &json_bytes(d));
            }
            for u in &units {
                typed(&mut out, "unit", Some(&id), &json_bytes(u));
            }
            for s in lsp.symbols.values() {
                typed(&mut out, "symbol", Some(&id), &json_bytes(s));
            }
            for e in &lsp.edges {
                typed(&mut out, "edge", Some(&id), &json_bytes(e));
            }
            for d in &lsp.diagnostics {
                typed(&mut out, "diagnostic", Some(&id), &json_bytes(d));
            }
            Payload::Json(out)
        }
    }
}
