//! Documentation attached to definitions: the comments right above a definition (past its
//! attributes and decorators), or a Python-style docstring.

use std::ops::Range;

use tree_sitter as ts;

use super::Language;

/// A definition's documentation: where it is and its text, markers stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub span: Range<usize>,
    pub text: String,
}

/// Nodes that wrap a definition and carry its comments before them.
const WRAPPERS: &[&str] = &[
    "export_statement",
    "decorated_definition",
    "template_declaration",
    "ambient_declaration",
    "lexical_declaration",
    "variable_declaration",
    "type_declaration",
    "const_declaration",
    "var_declaration",
    "var_spec_list",
];

fn is_attribute(kind: &str) -> bool {
    kind.contains("attribute")
        || kind.contains("decorator")
        || kind == "annotation"
        || kind == "marker_annotation"
}

/// The contiguous comments directly above `node` (no blank line between), as one doc.
pub fn doc_comment(lang: &Language, node: ts::Node, text: &[u8]) -> Option<Doc> {
    let is_comment = |n: &ts::Node| lang.comment_kinds.iter().any(|k| k == n.kind());
    let mut anchor = node;
    loop {
        let mut prev = anchor.prev_sibling();
        let mut next_row = anchor.start_position().row;
        while let Some(p) = prev.filter(|p| is_attribute(p.kind())) {
            next_row = p.start_position().row;
            prev = p.prev_sibling();
        }
        let mut comments = Vec::new();
        while let Some(p) = prev.filter(|p| is_comment(p) && p.end_position().row + 1 >= next_row) {
            // A trailing comment on the line of the previous statement is not a doc.
            // (A line comment that ends at column 0 ended with its newline: it is a line above.)
            if p.prev_sibling().is_some_and(|pp| {
                let end = pp.end_position();
                end.row == p.start_position().row && end.column > 0
            }) {
                break;
            }
            next_row = p.start_position().row;
            comments.push(p);
            prev = p.prev_sibling();
        }
        if let (Some(first), Some(last)) = (comments.last(), comments.first()) {
            let span = first.start_byte()..last.end_byte();
            let joined: Vec<String> = comments
                .iter()
                .rev()
                .map(|c| strip_comment(&String::from_utf8_lossy(&text[c.byte_range()])))
                .collect();
            let text = joined.join("\n").trim().to_string();
            return (!text.is_empty()).then_some(Doc { span, text });
        }
        // Only keywords (`export`, `type`) before the definition in its wrapper: climb.
        let first_in_wrapper =
            std::iter::successors(prev, |p| p.prev_sibling()).all(|p| !p.is_named());
        match anchor.parent() {
            Some(parent) if WRAPPERS.contains(&parent.kind()) && first_in_wrapper => {
                anchor = parent
            }
            _ => return None,
        }
    }
}

/// Strips comment markers: `//`, `///`, `//!`, `#`, `--`, `/* */`, `/** */`, `<!-- -->`, and a
/// leading `*` on each line of a block comment.
fn strip_comment(raw: &str) -> String {
    let mut s = raw.trim();
    for open in ["/**", "/*!", "/*", "<!--"] {
        if let Some(rest) = s.strip_prefix(open) {
            s = rest;
            break;
        }
    }
    for close in ["*/", "-->"] {
        if let Some(rest) = s.strip_suffix(close) {
            s = rest;
            break;
        }
    }
    s.lines()
        .map(|line| {
            let l = line.trim();
            let l = ["///", "//!", "//", "#", "--", "*"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .unwrap_or(l);
            l.trim()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// A Python-style docstring: the first statement of the body, when it is a string.
pub fn docstring(lang: &Language, node: ts::Node, text: &[u8]) -> Option<Doc> {
    if !lang.docstring {
        return None;
    }
    let body = lang
        .body_fields
        .iter()
        .find_map(|f| node.child_by_field_name(f))?;
    let first = body.named_child(0)?;
    let string = if first.kind() == "expression_statement" {
        first.named_child(0)?
    } else {
        first
    };
    if string.kind() != "string" {
        return None;
    }
    let raw = String::from_utf8_lossy(&text[string.byte_range()]);
    let s = raw.trim_start_matches(['r', 'R', 'u', 'U', 'b', 'B', 'f', 'F']);
    let s = ["\"\"\"", "'''", "\"", "'"]
        .iter()
        .find_map(|q| s.strip_prefix(q).and_then(|r| r.strip_suffix(q)))
        .unwrap_or(s);
    let text: Vec<&str> = s.lines().map(str::trim).collect();
    Some(Doc {
        span: string.byte_range(),
        text: text.join("\n").trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::strip_comment;

    #[test]
    fn strips_markers() {
        assert_eq!(strip_comment("/// Parse x."), "Parse x.");
        assert_eq!(
            strip_comment("/**\n * Returns a.\n * @param b\n */"),
            "Returns a.\n@param b"
        );
        assert_eq!(strip_comment("# hello"), "hello");
        assert_eq!(strip_comment("<!-- note -->"), "note");
    }
}
