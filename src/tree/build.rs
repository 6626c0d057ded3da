//! One file, start to finish: load, parse, walk, find definitions and units, and encode
//! the result in the requested format.

use std::time::Duration;

use super::cst::{
    walk, FlatWriter, NestedWriter, NoWriter, NodeRow, RowCollector, TextMode, Visitor,
};
use super::record::{
    Definition, FileHeader, Producers, Stats, Status, SyntaxProducer, Unit, SCHEMA,
};
use super::source::{load, LoadOptions, Source};
use super::units::{finish, pending};
use crate::syntax::{parse, Language, ParseError};
use crate::volume::{Entry, Volume};

/// The shape of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON line per file with the nested tree.
    Nested,
    /// JSON lines: a file record, then node, definition and unit records.
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

/// A file's records as values, for table writers.
#[derive(Debug)]
pub struct FileRows {
    pub header: FileHeader,
    pub nodes: Vec<NodeRow>,
    pub definitions: Vec<Definition>,
    pub units: Vec<Unit>,
}

/// Builds the records of one listed file; `None` when `--lang` filters it out.
pub fn build_file(volume: &Volume, entry: &Entry, opts: &TreeOptions) -> Option<FileOutput> {
    let load_opts = LoadOptions {
        max_bytes: opts.max_bytes,
        languages: opts.languages.clone(),
    };
    let src = load(volume, entry, &load_opts)?;
    Some(build_source(src, opts))
}

fn header(
    src: &Source,
    status: Status,
    reason: Option<String>,
    stats: Option<Stats>,
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
        producers: Producers {
            syntax,
            servers: Vec::new(),
        },
        stats,
    }
}

fn output(src: &Source, status: Status, payload: Payload) -> FileOutput {
    FileOutput {
        path: src.info.path.clone(),
        language: src.info.language,
        status,
        bytes: src.info.bytes,
        payload,
    }
}

/// Builds the records of a loaded file.
pub fn build_source(src: Source, opts: &TreeOptions) -> FileOutput {
    if let Some((status, reason)) = src.failure.clone() {
        let h = header(&src, status, Some(reason), None);
        return output(
            &src,
            status,
            encode(opts.format, h, None, Vec::new(), Vec::new(), Vec::new()),
        );
    }
    let (Some(lang), Some(text)) = (src.language, src.text.as_deref()) else {
        let h = header(
            &src,
            Status::Unsupported,
            Some("no grammar for this file".into()),
            None,
        );
        return output(
            &src,
            Status::Unsupported,
            encode(opts.format, h, None, Vec::new(), Vec::new(), Vec::new()),
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
            let h = header(&src, status, Some(e.to_string()), None);
            return output(
                &src,
                status,
                encode(opts.format, h, None, Vec::new(), Vec::new(), Vec::new()),
            );
        }
    };
    let mut errors = Vec::new();
    let mut pend = pending(lang, &tree, text.as_bytes()).unwrap_or_else(|e| {
        errors.push(e);
        super::units::Pending {
            defs: Vec::new(),
            wanted: Default::default(),
        }
    });
    let mut status = if tree.root_node().has_error() {
        Status::SyntaxErrors
    } else {
        Status::Ok
    };
    let mut reason =
        (status == Status::SyntaxErrors).then(|| "the tree has ERROR or MISSING nodes".to_string());
    let mut body: Option<Vec<u8>> = None;
    let mut rows = Vec::new();
    let walked = match opts.format {
        Format::Nested => {
            let mut w = NestedWriter::new(lang, text, opts.text, opts.max_depth);
            let r = walk(&tree, &mut w, &mut pend.wanted);
            body = Some(w.out);
            r
        }
        Format::Flat => {
            let mut w = FlatWriter::new(
                Vec::with_capacity(text.len() * 12),
                &src.info.id,
                lang,
                text,
                opts.text,
            );
            let r = walk(&tree, &mut w, &mut pend.wanted);
            body = Some(w.out);
            r
        }
        Format::Rows => {
            let mut w = RowCollector {
                rows: Vec::new(),
                lang,
                text,
                mode: opts.text,
            };
            let r = walk(&tree, &mut w, &mut pend.wanted);
            rows = w.rows;
            r
        }
        Format::ParseOnly => walk(&tree, &mut NoWriter as &mut dyn Visitor, &mut pend.wanted),
    };
    let stats = match walked {
        Ok(mut stats) => {
            stats.lines = text.lines().count() as u64;
            Some(stats)
        }
        Err(deep) => {
            status = Status::TooDeep;
            reason = Some(format!(
                "the syntax tree is deeper than {} levels (the nested format's limit, --max-depth; reached level {}); --flat has no limit",
                opts.max_depth, deep.0
            ));
            body = None;
            // Statistics still describe the whole tree.
            walk(&tree, &mut NoWriter, &mut pend.wanted)
                .ok()
                .map(|mut s| {
                    s.lines = text.lines().count() as u64;
                    s
                })
        }
    };
    let (defs, units) = finish(lang, &pend, text);
    let h = header(&src, status, reason, stats);
    let payload = if opts.format == Format::Rows {
        Payload::Rows(Box::new(FileRows {
            header: h,
            nodes: rows,
            definitions: defs,
            units,
        }))
    } else {
        encode(opts.format, h, body, defs, units, errors)
    };
    output(&src, status, payload)
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
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
        out.extend_from_slice(&json(&id));
        out.push(b',');
    }
    out.extend_from_slice(&object[1..]);
    out.push(b'\n');
}

fn encode(
    format: Format,
    h: FileHeader,
    tree: Option<Vec<u8>>,
    defs: Vec<Definition>,
    units: Vec<Unit>,
    errors: Vec<String>,
) -> Payload {
    let errors: Vec<serde_json::Value> = errors
        .into_iter()
        .map(|m| serde_json::json!({"producer": "syntax", "message": m}))
        .collect();
    match format {
        Format::ParseOnly => Payload::Nothing,
        Format::Rows => Payload::Rows(Box::new(FileRows {
            header: h,
            nodes: Vec::new(),
            definitions: defs,
            units,
        })),
        Format::Nested => {
            let mut out = json(&h);
            out.pop();
            out.extend_from_slice(b",\"definitions\":");
            out.extend_from_slice(&json(&defs));
            out.extend_from_slice(b",\"units\":");
            out.extend_from_slice(&json(&units));
            out.extend_from_slice(b",\"symbols\":{},\"diagnostics\":[],\"errors\":");
            out.extend_from_slice(&json(&errors));
            out.extend_from_slice(b",\"tree\":");
            match &tree {
                Some(t) => out.extend_from_slice(t),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b"}\n");
            Payload::Json(out)
        }
        Format::Flat => {
            let id = h.file.id.clone();
            let mut file = json(&h);
            file.pop();
            file.extend_from_slice(b",\"errors\":");
            file.extend_from_slice(&json(&errors));
            file.push(b'}');
            let mut out = Vec::with_capacity(file.len() + tree.as_ref().map_or(0, Vec::len) + 256);
            typed(&mut out, "file", None, &file);
            if let Some(nodes) = tree {
                out.extend_from_slice(&nodes);
            }
            for d in &defs {
                typed(&mut out, "definition", Some(&id), &json(d));
            }
            for u in &units {
                typed(&mut out, "unit", Some(&id), &json(u));
            }
            Payload::Json(out)
        }
    }
}
