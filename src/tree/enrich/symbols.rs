//! The `symbols` level's facts of one file: document symbols (flattened), semantic tokens
//! decoded against the server's legend, diagnostics (pulled, or the pushed ones), and a hover
//! on every symbol (sent together).

use serde_json::{json, Value};

use super::{Ctx, DiagFact, Server, SymFact, TokFact};
use crate::lsp::Session;

impl Ctx<'_> {
    pub(super) fn symbols(
        &mut self,
        enc: crate::lsp::Encoding,
        v: &Value,
        parent: Option<usize>,
        source: &str,
    ) {
        for s in v.as_array().into_iter().flatten() {
            // DocumentSymbol (hierarchical) or SymbolInformation (flat, with a location).
            let ranges = if s["location"].is_object() {
                self.range(enc, &s["location"]["range"])
                    .map(|r| (r.clone(), r))
            } else {
                self.range(enc, &s["range"])
                    .zip(self.range(enc, &s["selectionRange"]))
            };
            let Some((range, selection)) = ranges else {
                self.malformed(source, "textDocument/documentSymbol", s);
                continue;
            };
            let idx = self.facts.symbols.len();
            self.facts.symbols.push(SymFact {
                name: s["name"].as_str().unwrap_or("").to_string(),
                kind: s["kind"].as_u64().unwrap_or(0),
                detail: s["detail"]
                    .as_str()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                range,
                selection,
                parent,
                hover: None,
                source: source.to_string(),
            });
            if s["children"].is_array() {
                self.symbols(enc, &s["children"], Some(idx), source);
            }
        }
    }

    pub(super) fn tokens(&mut self, session: &Session, v: &Value) {
        let Some((types, mods)) = session.token_legend() else {
            return;
        };
        let data: Vec<u64> = v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let (mut line, mut start) = (0u64, 0u64);
        for t in data.chunks_exact(5) {
            if t[0] > 0 {
                line += t[0];
                start = t[1];
            } else {
                start += t[1];
            }
            let s = self
                .lines
                .offset(self.text, line as u32, start as u32, session.encoding);
            let e = self.lines.offset(
                self.text,
                line as u32,
                (start + t[2]) as u32,
                session.encoding,
            );
            let ty = types
                .get(t[3] as usize)
                .cloned()
                .unwrap_or_else(|| format!("#{}", t[3]));
            let m: Vec<String> = mods
                .iter()
                .enumerate()
                .filter(|(b, _)| t[4] & (1 << b) != 0)
                .map(|(_, m)| m.clone())
                .collect();
            self.facts.tokens.push(TokFact {
                range: s..e,
                ty,
                mods: m,
            });
        }
    }

    pub(super) async fn diagnostics(&mut self, servers: &mut [Server<'_>]) {
        let mut items = Vec::new();
        let mut source = String::new();
        let mut enc = crate::lsp::Encoding::Utf16;
        if let Some(i) = self
            .pick(servers, "diagnosticProvider", "textDocument/diagnostic")
            .await
        {
            let params = json!({"textDocument": {"uri": self.uri}});
            if let Some(v) = self
                .call(servers, i, "textDocument/diagnostic", params)
                .await
            {
                items = v["items"].as_array().cloned().unwrap_or_default();
            }
            source = servers[i].def.name.clone();
            enc = servers[i].session.as_ref().map_or(enc, |s| s.encoding);
        } else if let Some(i) = servers
            .iter()
            .position(|s| s.opened)
            .filter(|_| self.en.allowed("textDocument/publishDiagnostics"))
        {
            // Push diagnostics from the primary server, if it sends any.
            if let Some(session) = servers[i].session.clone() {
                items = session
                    .pushed_diagnostics(
                        &self.uri,
                        self.en.push_wait.min(session.config.request_timeout),
                    )
                    .await
                    .unwrap_or_default();
                source = servers[i].def.name.clone();
                enc = session.encoding;
            }
        }
        for d in items {
            let Some(range) = self.range(enc, &d["range"]) else {
                self.malformed(&source, "textDocument/diagnostic", &d);
                continue;
            };
            let severity = match d["severity"].as_u64() {
                Some(1) => "error",
                Some(2) => "warning",
                Some(3) => "information",
                _ => "hint",
            };
            self.facts.diagnostics.push(DiagFact {
                range,
                severity,
                code: d["code"].clone(),
                source: d["source"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| Some(source.clone())),
                message: d["message"].as_str().unwrap_or("").to_string(),
            });
        }
    }

    pub(super) async fn hovers(&mut self, servers: &mut [Server<'_>], i: usize) {
        let Some(session) = servers[i].session.clone() else {
            return;
        };
        let enc = session.encoding;
        let asks: Vec<(usize, Value)> = self
            .facts
            .symbols
            .iter()
            .enumerate()
            .map(|(k, s)| (k, json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start)})))
            .collect();
        let replies = futures::future::join_all(
            asks.iter()
                .map(|(_, p)| session.request("textDocument/hover", p.clone())),
        )
        .await;
        for ((k, _), r) in asks.into_iter().zip(replies) {
            match r {
                Ok(v) => self.facts.symbols[k].hover = hover_text(&v["contents"]),
                Err(e) => self.record_error(servers, i, "textDocument/hover", e),
            }
        }
    }
}

/// Hover contents as text: `MarkupContent`, `MarkedString` or a list of them.
pub fn hover_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        Value::Array(a) => a
            .iter()
            .filter_map(hover_text)
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    };
    (!text.trim().is_empty()).then_some(text)
}
