//! The one converter from LSP ranges and locations in a reply to byte ranges, in this file
//! or another file of the workspace. A range that is not one (a missing or non-numeric
//! field) is refused — the caller records it as an error on the file — never read as
//! position 0.

use std::ops::Range;

use serde_json::{json, Value};

use super::{Ctx, Loc};
use crate::lsp::{uri_path, Encoding, LineIndex};

/// An LSP `Range` as bytes of `text`, or `None` when `r` is not a range.
fn bytes(lines: &LineIndex, text: &str, enc: Encoding, r: &Value) -> Option<Range<usize>> {
    let p = |v: &Value| -> Option<(u32, u32)> {
        let n = |k: &str| u32::try_from(v.get(k)?.as_u64()?).ok();
        Some((n("line")?, n("character")?))
    };
    let (sl, sc) = p(r.get("start")?)?;
    let (el, ec) = p(r.get("end")?)?;
    let s = lines.offset(text, sl, sc, enc);
    let e = lines.offset(text, el, ec, enc);
    Some(s..e.max(s))
}

impl Ctx<'_> {
    /// A range of this file.
    pub(super) fn range(&self, enc: Encoding, r: &Value) -> Option<Range<usize>> {
        bytes(&self.lines, self.text, enc, r)
    }

    pub(super) fn position(&self, enc: Encoding, offset: usize) -> Value {
        let (line, character) = self.lines.position(self.text, offset, enc);
        json!({"line": line, "character": character})
    }

    /// Records a reply item that does not hold what the protocol says it must.
    pub(super) fn malformed(&mut self, server: &str, method: &str, item: &Value) {
        let mut shown = item.to_string();
        if shown.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        self.facts.errors.push((
            server.to_string(),
            method.to_string(),
            None,
            format!("malformed reply item (no valid range), skipped: {shown}"),
        ));
    }

    /// A location in a reply (`Location` or `LocationLink`), as bytes in its file; `None`
    /// for a file that cannot be read, and for a malformed location (recorded).
    pub(super) fn loc(&mut self, server: &str, enc: Encoding, v: &Value) -> Option<Loc> {
        let uri = v["uri"].as_str().or_else(|| v["targetUri"].as_str());
        let range = ["targetSelectionRange", "range", "targetRange"]
            .iter()
            .map(|k| &v[*k])
            .find(|r| r.is_object())
            .unwrap_or(&Value::Null);
        let Some(path) = uri.and_then(uri_path) else {
            self.malformed(server, "location", v);
            return None;
        };
        let range = if path == self.path {
            self.range(enc, range)
        } else {
            let other = self.others.entry(path.clone()).or_insert_with(|| {
                // Decoded as its own record was, so byte offsets agree.
                let text = crate::volume::decode(std::fs::read(&path).ok()?, None)
                    .ok()?
                    .text;
                let lines = LineIndex::new(&text);
                Some((text, lines))
            });
            let (text, lines) = other.as_ref()?;
            bytes(lines, text, enc, range)
        };
        match range {
            Some(range) => Some(Loc { path, range }),
            None => {
                self.malformed(server, "location", v);
                None
            }
        }
    }
}
