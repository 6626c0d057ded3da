//! The request plan of `full`, for servers that cannot answer `definition` (and for
//! `--lsp-plan requests`): `references` per document symbol, and call hierarchy in and out
//! of every callable one. Each search covers the whole workspace, so this costs far more
//! than the definition plan of `full.rs`; it also counts each symbol's references.

use serde_json::{json, Value};

use super::{Ctx, EdgeFact, Loc, Server};
use crate::lsp::Encoding;

impl Ctx<'_> {
    pub(super) async fn references_by_request(&mut self, servers: &mut [Server<'_>]) {
        let Some(i) = self
            .pick(servers, "referencesProvider", "textDocument/references")
            .await
        else {
            return;
        };
        let enc = self.encoding(servers, i);
        let source = servers[i].def.name.clone();
        let symbols = self.facts.symbols.clone();
        let params = symbols
            .iter()
            .map(|s| json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start), "context": {"includeDeclaration": false}}))
            .collect();
        let answers = self
            .call_all(servers, i, "textDocument/references", params)
            .await;
        for (k, (s, answer)) in symbols.iter().zip(answers).enumerate() {
            let Some(v) = answer else { continue };
            let locs: Vec<Loc> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| self.loc(&source, enc, l))
                .collect();
            self.facts.ref_counts.insert(k, locs.len());
            let to = self.here(s.selection.clone());
            for from in locs {
                self.facts.edges.push(EdgeFact {
                    kind: "references",
                    from,
                    to: to.clone(),
                    name: Some(s.name.clone()),
                    source: source.clone(),
                });
            }
        }
    }

    pub(super) async fn calls_by_hierarchy(&mut self, servers: &mut [Server<'_>]) {
        let Some(i) = self
            .pick(
                servers,
                "callHierarchyProvider",
                "textDocument/prepareCallHierarchy",
            )
            .await
        else {
            return;
        };
        let enc = self.encoding(servers, i);
        let callable: Vec<_> = self
            .facts
            .symbols
            .iter()
            .filter(|s| matches!(s.kind, 6 | 9 | 12))
            .cloned()
            .collect();
        let params = callable
            .iter()
            .map(|s| json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start)}))
            .collect();
        let prepared = self
            .call_all(servers, i, "textDocument/prepareCallHierarchy", params)
            .await;
        let items: Vec<(Loc, Value)> = callable
            .iter()
            .zip(prepared)
            .filter_map(|(s, items)| {
                let item = items?.as_array()?.first()?.clone();
                Some((self.here(s.selection.clone()), item))
            })
            .collect();
        let source = servers[i].def.name.clone();
        // Incoming calls end at the symbol, outgoing ones start from it.
        for (method, end, incoming) in [
            ("callHierarchy/incomingCalls", "from", true),
            ("callHierarchy/outgoingCalls", "to", false),
        ] {
            let params = items
                .iter()
                .map(|(_, item)| json!({"item": item}))
                .collect();
            let answers = self.call_all(servers, i, method, params).await;
            for ((me, _), answer) in items.iter().zip(answers) {
                let Some(v) = answer else { continue };
                for c in v.as_array().into_iter().flatten() {
                    let Some(other) = self.item_loc(&source, enc, &c[end]) else {
                        continue;
                    };
                    let (from, to) = if incoming {
                        (other, me.clone())
                    } else {
                        (me.clone(), other)
                    };
                    self.facts.edges.push(EdgeFact {
                        kind: "calls",
                        from,
                        to,
                        name: c[end]["name"].as_str().map(str::to_string),
                        source: source.clone(),
                    });
                }
            }
        }
    }

    fn item_loc(&mut self, server: &str, enc: Encoding, item: &Value) -> Option<Loc> {
        self.loc(
            server,
            enc,
            &json!({"uri": item["uri"], "range": item["selectionRange"]}),
        )
    }
}
