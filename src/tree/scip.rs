//! SCIP out: `disco tree --format scip -o index.scip` turns the merged `disco.tree/1` records
//! into a SCIP index (the `scip` crate's protobuf types), for every language with a server —
//! including those no SCIP indexer covers (bash, YAML, JSON, HTML, CSS, TOML).
//!
//! What goes where:
//! - one `Document` per file record, with its language and path; positions are UTF-8 byte
//!   columns, as in the records (`PositionEncoding::UTF8CodeUnitOffsetFromLineStart`);
//! - an `Occurrence` per node carrying an `occ` with a symbol (role `Definition` for
//!   definitions), and per node whose `def` names a symbol but has no `occ` (a reference);
//! - an `Occurrence` without a symbol per diagnostic, holding it;
//! - a `SymbolInformation` per symbol the file defines (kind, display name, the hover as
//!   documentation, the enclosing symbol, `implements`/`type_of` edges as relationships);
//!   external symbols once each, in `Index.external_symbols`.
//!
//! The index streams: protobuf merges concatenated messages, so the metadata, each document
//! and the external symbols are written as separate `Index` messages as they come. Only the
//! external symbols are held until the end.

use std::collections::BTreeMap;
use std::io::Write;

use protobuf::{EnumOrUnknown, Message, MessageField};
use scip::types::{
    symbol_information::Kind, Diagnostic, Document, Index, Metadata, Occurrence, PositionEncoding,
    Relationship, Severity, SymbolInformation, SymbolRole, TextEncoding, ToolInfo,
};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ScipError {
    #[error("writing the SCIP index: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding the SCIP index: {0}")]
    Encode(#[from] protobuf::Error),
    #[error("{path}: not a disco.tree/1 record: {message}")]
    Record { path: String, message: String },
}

/// Writes a SCIP index from nested `disco.tree/1` records, one file at a time.
pub struct ScipWriter<W: Write> {
    out: W,
    external: BTreeMap<String, SymbolInformation>,
    documents: u64,
}

impl<W: Write> ScipWriter<W> {
    /// Starts the index: `project_root` is the URI of the volume's root.
    pub fn new(mut out: W, project_root: &str) -> Result<Self, ScipError> {
        let metadata = Metadata {
            tool_info: MessageField::some(ToolInfo {
                name: "disco".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                arguments: std::env::args().skip(1).collect(),
                ..Default::default()
            }),
            project_root: project_root.into(),
            text_document_encoding: EnumOrUnknown::new(TextEncoding::UTF8),
            ..Default::default()
        };
        let index = Index {
            metadata: MessageField::some(metadata),
            ..Default::default()
        };
        out.write_all(&index.write_to_bytes()?)?;
        Ok(ScipWriter {
            out,
            external: BTreeMap::new(),
            documents: 0,
        })
    }

    /// Adds the files of a chunk of JSON lines (nested records, one per line).
    pub fn add_lines(&mut self, lines: &[u8]) -> Result<(), ScipError> {
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let record: Value = serde_json::from_slice(line).map_err(|e| ScipError::Record {
                path: String::new(),
                message: e.to_string(),
            })?;
            self.add(&record)?;
        }
        Ok(())
    }

    /// Adds one file record as a document.
    pub fn add(&mut self, record: &Value) -> Result<(), ScipError> {
        let doc = document(record, &mut self.external)?;
        let index = Index {
            documents: vec![doc],
            ..Default::default()
        };
        self.out.write_all(&index.write_to_bytes()?)?;
        self.documents += 1;
        Ok(())
    }

    /// Writes the external symbols and returns the output and the number of documents.
    pub fn finish(mut self) -> Result<(W, u64), ScipError> {
        if !self.external.is_empty() {
            let index = Index {
                external_symbols: std::mem::take(&mut self.external).into_values().collect(),
                ..Default::default()
            };
            self.out.write_all(&index.write_to_bytes()?)?;
        }
        self.out.flush()?;
        Ok((self.out, self.documents))
    }
}

fn document(
    record: &Value,
    external: &mut BTreeMap<String, SymbolInformation>,
) -> Result<Document, ScipError> {
    let path = record["file"]["path"]
        .as_str()
        .ok_or_else(|| ScipError::Record {
            path: String::new(),
            message: "no file.path".into(),
        })?;
    let mut doc = Document {
        relative_path: path.to_string(),
        language: record["file"]["language"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        position_encoding: EnumOrUnknown::new(PositionEncoding::UTF8CodeUnitOffsetFromLineStart),
        ..Default::default()
    };
    occurrences(&record["tree"], &mut doc.occurrences);
    for d in record["diagnostics"].as_array().into_iter().flatten() {
        if let Some(range) = range(&d["span"]) {
            doc.occurrences.push(Occurrence {
                range,
                diagnostics: vec![diagnostic(d)],
                ..Default::default()
            });
        }
    }
    let relations = relationships(record);
    for (id, s) in record["symbols"].as_object().into_iter().flatten() {
        let mut info = symbol(id, s);
        if let Some(r) = relations.get(id.as_str()) {
            info.relationships = r.clone();
        }
        if s["external"].as_bool() == Some(true) {
            external.entry(id.clone()).or_insert(info);
        } else if s["def"]["path"].as_str() == Some(path) {
            doc.symbols.push(info);
        }
    }
    Ok(doc)
}

/// Every node's occurrence, in document order (an explicit stack: trees can be deep).
fn occurrences(tree: &Value, out: &mut Vec<Occurrence>) {
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        let occ_sym = node["occ"]["sym"].as_str();
        let def_sym = node["def"]["sym"].as_str();
        let (sym, definition) = match (occ_sym, def_sym) {
            (Some(s), _) => {
                let roles = node["occ"]["roles"].as_array();
                let def = roles.is_some_and(|r| r.iter().any(|x| x == "definition"));
                (Some(s), def)
            }
            (None, Some(s)) => (Some(s), false),
            (None, None) => (None, false),
        };
        if let (Some(sym), Some(range)) = (sym, range(&node["span"])) {
            out.push(Occurrence {
                range,
                symbol: sym.to_string(),
                symbol_roles: if definition {
                    SymbolRole::Definition as i32
                } else {
                    0
                },
                ..Default::default()
            });
        }
        if let Some(children) = node["children"].as_array() {
            stack.extend(children.iter().rev());
        }
    }
}

/// A record span `[start_byte, end_byte, start_row, start_col, end_row, end_col]` as a SCIP
/// range: `[line, col, end_col]` on one line, else `[line, col, end_line, end_col]`.
fn range(span: &Value) -> Option<Vec<i32>> {
    let s = span.as_array()?;
    let at = |i: usize| s.get(i)?.as_u64().and_then(|v| i32::try_from(v).ok());
    let (l0, c0, l1, c1) = (at(2)?, at(3)?, at(4)?, at(5)?);
    Some(if l0 == l1 {
        vec![l0, c0, c1]
    } else {
        vec![l0, c0, l1, c1]
    })
}

fn diagnostic(d: &Value) -> Diagnostic {
    let severity = match d["severity"].as_str() {
        Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        Some("information") => Severity::Information,
        _ => Severity::Hint,
    };
    Diagnostic {
        severity: EnumOrUnknown::new(severity),
        code: match &d["code"] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        message: d["message"].as_str().unwrap_or_default().to_string(),
        source: d["source"].as_str().unwrap_or_default().to_string(),
        ..Default::default()
    }
}

/// `implements` and `type_of` edges between two symbols, by the symbol they start from.
fn relationships(record: &Value) -> BTreeMap<&str, Vec<Relationship>> {
    let mut out: BTreeMap<&str, Vec<Relationship>> = BTreeMap::new();
    for e in record["edges"].as_array().into_iter().flatten() {
        let (Some(from), Some(to)) = (e["from"]["sym"].as_str(), e["to"]["sym"].as_str()) else {
            continue;
        };
        let mut r = Relationship {
            symbol: to.to_string(),
            ..Default::default()
        };
        match e["kind"].as_str() {
            // A server answering `implementation` with the symbol itself says nothing.
            Some("implements") if from != to => r.is_implementation = true,
            Some("type_of") => r.is_type_definition = true,
            _ => continue,
        }
        let list = out.entry(from).or_default();
        if !list.contains(&r) {
            list.push(r);
        }
    }
    out
}

fn symbol(id: &str, s: &Value) -> SymbolInformation {
    SymbolInformation {
        symbol: id.to_string(),
        display_name: s["name"].as_str().unwrap_or_default().to_string(),
        kind: EnumOrUnknown::new(kind(s["kind"].as_str().unwrap_or_default())),
        documentation: s["hover"]
            .as_str()
            .map(str::to_string)
            .into_iter()
            .collect(),
        enclosing_symbol: s["enclosing"].as_str().unwrap_or_default().to_string(),
        ..Default::default()
    }
}

/// Disco's symbol kinds (LSP `SymbolKind` names) as SCIP kinds.
fn kind(k: &str) -> Kind {
    match k {
        "file" => Kind::File,
        "module" => Kind::Module,
        "namespace" => Kind::Namespace,
        "package" => Kind::Package,
        "class" => Kind::Class,
        "method" => Kind::Method,
        "property" => Kind::Property,
        "field" => Kind::Field,
        "constructor" => Kind::Constructor,
        "enum" => Kind::Enum,
        "interface" => Kind::Interface,
        "function" => Kind::Function,
        "variable" => Kind::Variable,
        "constant" => Kind::Constant,
        "string" => Kind::String,
        "number" => Kind::Number,
        "boolean" => Kind::Boolean,
        "array" => Kind::Array,
        "object" => Kind::Object,
        "key" => Kind::Key,
        "null" => Kind::Null,
        "enum_member" => Kind::EnumMember,
        "struct" => Kind::Struct,
        "event" => Kind::Event,
        "operator" => Kind::Operator,
        "type_parameter" => Kind::TypeParameter,
        "parameter" => Kind::Parameter,
        "trait" => Kind::Trait,
        "type" => Kind::Type,
        "macro" => Kind::Macro,
        _ => Kind::UnspecifiedKind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_spans_are_three_numbers_and_others_four() {
        assert_eq!(
            range(&serde_json::json!([0, 5, 3, 4, 3, 9])),
            Some(vec![3, 4, 9])
        );
        assert_eq!(
            range(&serde_json::json!([0, 50, 3, 4, 5, 1])),
            Some(vec![3, 4, 5, 1])
        );
        assert_eq!(range(&serde_json::json!([0, 5])), None);
    }

    #[test]
    fn a_symbol_implementing_itself_is_not_a_relationship() {
        let rec = serde_json::json!({"edges": [
            {"kind": "implements", "from": {"sym": "a"}, "to": {"sym": "a"}},
            {"kind": "implements", "from": {"sym": "b"}, "to": {"sym": "a"}},
            {"kind": "type_of", "from": {"sym": "b"}, "to": {"sym": "t"}},
            {"kind": "references", "from": {"sym": "b"}, "to": {"sym": "a"}},
        ]});
        let r = relationships(&rec);
        assert!(!r.contains_key("a"));
        assert_eq!(r["b"].len(), 2);
        assert!(r["b"][0].is_implementation && r["b"][1].is_type_definition);
    }
}
