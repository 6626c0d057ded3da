//! The `full` level: references of every symbol, call hierarchy, implementations, type
//! definitions, and definitions at every reference the tags query found.

use std::ops::Range;

use serde_json::{json, Value};

use super::{Ctx, EdgeFact, Loc, Server};

impl Ctx<'_> {
    pub(super) async fn full(&mut self, servers: &mut [Server<'_>], references: &[Range<usize>]) {
        let callable = |k: u64| matches!(k, 6 | 9 | 12);
        let symbols = self.facts.symbols.clone();
        if let Some(i) = self
            .pick(servers, "referencesProvider", "textDocument/references")
            .await
        {
            let session = servers[i].session.clone();
            let enc = session
                .as_ref()
                .map_or(crate::lsp::Encoding::Utf16, |s| s.encoding);
            for (k, s) in symbols.iter().enumerate() {
                let params = json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start), "context": {"includeDeclaration": false}});
                if let Some(v) = self
                    .call(servers, i, "textDocument/references", params)
                    .await
                {
                    let locs: Vec<Loc> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| self.loc(enc, l))
                        .collect::<Vec<_>>();
                    self.facts.ref_counts.insert(k, locs.len());
                    let to = self.here(s.selection.clone());
                    for from in locs {
                        self.facts.edges.push(EdgeFact {
                            kind: "references",
                            from,
                            to: to.clone(),
                            name: Some(s.name.clone()),
                            source: servers[i].def.name.clone(),
                        });
                    }
                }
            }
        }
        if let Some(i) = self
            .pick(
                servers,
                "callHierarchyProvider",
                "textDocument/prepareCallHierarchy",
            )
            .await
        {
            let enc = servers[i]
                .session
                .as_ref()
                .map_or(crate::lsp::Encoding::Utf16, |s| s.encoding);
            for s in symbols.iter().filter(|s| callable(s.kind)) {
                let params = json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start)});
                let Some(items) = self
                    .call(servers, i, "textDocument/prepareCallHierarchy", params)
                    .await
                else {
                    continue;
                };
                let Some(item) = items.as_array().and_then(|a| a.first()).cloned() else {
                    continue;
                };
                let me = self.here(s.selection.clone());
                let source = servers[i].def.name.clone();
                // Incoming calls end at this symbol, outgoing ones start from it.
                for (method, end, incoming) in [
                    ("callHierarchy/incomingCalls", "from", true),
                    ("callHierarchy/outgoingCalls", "to", false),
                ] {
                    let Some(v) = self.call(servers, i, method, json!({"item": item})).await else {
                        continue;
                    };
                    for c in v.as_array().into_iter().flatten() {
                        let Some(other) = self.item_loc(enc, &c[end]) else {
                            continue;
                        };
                        let (from, to) = if incoming {
                            (other, me.clone())
                        } else {
                            (me.clone(), other)
                        };
                        let name = c[end]["name"].as_str().map(str::to_string);
                        self.facts.edges.push(EdgeFact {
                            kind: "calls",
                            from,
                            to,
                            name,
                            source: source.clone(),
                        });
                    }
                }
            }
        }
        for (cap, method, kind) in [
            (
                "implementationProvider",
                "textDocument/implementation",
                "implements",
            ),
            (
                "typeDefinitionProvider",
                "textDocument/typeDefinition",
                "type_of",
            ),
        ] {
            let Some(i) = self.pick(servers, cap, method).await else {
                continue;
            };
            let enc = servers[i]
                .session
                .as_ref()
                .map_or(crate::lsp::Encoding::Utf16, |s| s.encoding);
            for s in &symbols {
                let wanted = if kind == "implements" {
                    matches!(s.kind, 5 | 6 | 11)
                } else {
                    matches!(s.kind, 7 | 8 | 13 | 14)
                };
                if !wanted {
                    continue;
                }
                let params = json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, s.selection.start)});
                let Some(v) = self.call(servers, i, method, params).await else {
                    continue;
                };
                let me = self.here(s.selection.clone());
                let locs: Vec<Loc> = as_locations(&v)
                    .iter()
                    .filter_map(|l| self.loc(enc, l))
                    .collect();
                for l in locs {
                    let (from, to) = if kind == "implements" {
                        (l, me.clone())
                    } else {
                        (me.clone(), l)
                    };
                    self.facts.edges.push(EdgeFact {
                        kind,
                        from,
                        to,
                        name: Some(s.name.clone()),
                        source: servers[i].def.name.clone(),
                    });
                }
            }
        }
        if let Some(i) = self
            .pick(servers, "definitionProvider", "textDocument/definition")
            .await
        {
            let enc = servers[i]
                .session
                .as_ref()
                .map_or(crate::lsp::Encoding::Utf16, |s| s.encoding);
            for r in references {
                let params = json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, r.start)});
                let Some(v) = self
                    .call(servers, i, "textDocument/definition", params)
                    .await
                else {
                    continue;
                };
                let from = self.here(r.clone());
                let name = self.text.get(r.clone()).map(str::to_string);
                let targets: Vec<Loc> = as_locations(&v)
                    .iter()
                    .filter_map(|l| self.loc(enc, l))
                    .collect();
                for to in targets {
                    self.facts.edges.push(EdgeFact {
                        kind: "defines",
                        from: from.clone(),
                        to,
                        name: name.clone(),
                        source: servers[i].def.name.clone(),
                    });
                }
            }
        }
    }

    fn item_loc(&mut self, enc: crate::lsp::Encoding, item: &Value) -> Option<Loc> {
        self.loc(
            enc,
            &json!({"uri": item["uri"], "range": item["selectionRange"]}),
        )
    }
}

fn as_locations(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    }
}
