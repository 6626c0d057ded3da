//! The `full` level. The reference graph comes from one `definition` answer per identifier
//! occurrence (the cheapest complete source: a server resolves a name locally, where
//! `references` and call hierarchy search the whole workspace for every symbol), inverted:
//!
//! - `references`: occurrence → its definition, when that lies in the volume;
//! - `calls`: enclosing definition of a call site → the callee's definition;
//! - `defines`: tags reference → every definition target (in or out of the volume).
//!
//! A server without `definition` (or `--lsp-plan requests`) gets the request plan of
//! `full_requests.rs`. Implementations and type definitions are asked per symbol either
//! way. Every batch of requests is sent at once (the connection bounds how many are in
//! flight), so the server's queue never runs dry between answers.

use serde_json::{json, Value};

use super::reuse::{self, Plan, Shared};
use super::{Ctx, EdgeFact, FullPlan, Loc, Occurrences, Server, SymFact};
use crate::lsp::{Encoding, RpcError};

impl Ctx<'_> {
    pub(super) async fn full(&mut self, servers: &mut [Server<'_>], occ: &Occurrences) {
        let by_definition = match self.en.plan {
            FullPlan::Definitions => {
                self.pick(servers, "definitionProvider", "textDocument/definition")
                    .await
            }
            FullPlan::Requests => None,
        };
        match by_definition {
            Some(i) => {
                let asked = self.undeclared(occ);
                self.definitions(servers, i, &asked, true).await
            }
            None => {
                self.references_by_request(servers).await;
                self.calls_by_hierarchy(servers).await;
                if let Some(i) = self
                    .pick(servers, "definitionProvider", "textDocument/definition")
                    .await
                {
                    let refs = Occurrences::from_refs(occ.refs.clone());
                    self.definitions(servers, i, &refs, false).await;
                }
            }
        }
        self.implementations_and_types(servers).await;
    }

    /// The occurrences worth a `definition`: without those the server's semantic tokens
    /// mark as declarations (a declaration resolves to itself), unless the tags query made
    /// them references.
    fn undeclared(&self, occ: &Occurrences) -> Occurrences {
        let declared: std::collections::HashSet<(usize, usize)> = self
            .facts
            .tokens
            .iter()
            .filter(|t| {
                t.mods
                    .iter()
                    .any(|m| m == "declaration" || m == "definition")
            })
            .map(|t| (t.range.start, t.range.end))
            .collect();
        let mut asked = occ.clone();
        asked
            .names
            .retain(|r| occ.is_ref(r) || !declared.contains(&(r.start, r.end)));
        asked
    }

    pub(super) fn encoding(&self, servers: &[Server<'_>], i: usize) -> Encoding {
        servers[i]
            .session
            .as_ref()
            .map_or(Encoding::Utf16, |s| s.encoding)
    }

    /// The same method with many parameters, all sent at once; one answer (or `None`,
    /// recorded as an error) per parameter, in order. Requests that met a crash are retried
    /// one by one on the restarted server.
    pub(super) async fn call_all(
        &mut self,
        servers: &mut [Server<'_>],
        i: usize,
        method: &str,
        params: Vec<Value>,
    ) -> Vec<Option<Value>> {
        let Some(session) = servers[i].session.clone() else {
            return vec![None; params.len()];
        };
        let replies =
            futures::future::join_all(params.iter().map(|p| session.request(method, p.clone())))
                .await;
        let mut out = Vec::with_capacity(params.len());
        for (p, r) in params.into_iter().zip(replies) {
            out.push(match r {
                Ok(v) => Some(v),
                Err(RpcError::Closed { .. }) => self.call(servers, i, method, p).await,
                Err(e) => {
                    self.record_error(servers, i, method, e);
                    None
                }
            });
        }
        out
    }

    /// `definition` at each occurrence; edges as in the module comment. `graph`: also the
    /// `references` and `calls` edges (false when the request plan made them).
    async fn definitions(
        &mut self,
        servers: &mut [Server<'_>],
        i: usize,
        occ: &Occurrences,
        graph: bool,
    ) {
        let enc = self.encoding(servers, i);
        let answers = self.shared_definitions(servers, i, occ).await;
        let source = servers[i].def.name.clone();
        for (r, answer) in occ.names.iter().zip(answers) {
            let Some(v) = answer else { continue };
            let from = self.here(r.clone());
            let name = self.text.get(r.clone()).map(str::to_string);
            let targets: Vec<Loc> = as_locations(&v)
                .iter()
                .filter_map(|l| self.loc(&source, enc, l))
                .collect();
            let mut edge = |kind, from: &Loc, to: &Loc| {
                self.facts.edges.push(EdgeFact {
                    kind,
                    from: from.clone(),
                    to: to.clone(),
                    name: name.clone(),
                    source: source.clone(),
                })
            };
            for to in &targets {
                if occ.is_ref(r) {
                    edge("defines", &from, to);
                }
                if !graph {
                    continue;
                }
                if occ.is_call(r) {
                    // Module-level code calls from the file itself, as call hierarchy says.
                    let caller = Loc {
                        path: from.path.clone(),
                        range: occ.enclosing(r).unwrap_or(0..0),
                    };
                    edge("calls", &caller, to);
                }
                // An occurrence inside its own target is a declaration, not a reference.
                let own = to.path == from.path
                    && to.range.start <= from.range.start
                    && from.range.end <= to.range.end;
                if !own && to.path.starts_with(&self.en.root) {
                    edge("references", &from, to);
                }
            }
        }
    }

    /// The `definition` answer at each occurrence, asking once for the occurrences that
    /// share one (`reuse.rs`).
    async fn shared_definitions(
        &mut self,
        servers: &mut [Server<'_>],
        i: usize,
        occ: &Occurrences,
    ) -> Vec<Option<Value>> {
        const METHOD: &str = "textDocument/definition";
        let enc = self.encoding(servers, i);
        let Some(session) = servers[i].session.clone() else {
            return vec![None; occ.names.len()];
        };
        let tokens: std::collections::HashMap<(usize, usize), &super::TokFact> = self
            .facts
            .tokens
            .iter()
            .map(|t| ((t.range.start, t.range.end), t))
            .collect();
        let keys: Vec<Option<Shared>> = occ
            .names
            .iter()
            .map(|r| reuse::shared(self.text, tokens.get(&(r.start, r.end)).copied(), r))
            .collect();
        let plan = reuse::plan(&keys, |k| session.remembered(k));
        let asked: Vec<usize> = (0..plan.len()).filter(|&k| plan[k] == Plan::Ask).collect();
        let params = asked
            .iter()
            .map(|&k| json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, occ.names[k].start)}))
            .collect();
        let replies = self.call_all(servers, i, METHOD, params).await;
        let mut answers = vec![None; plan.len()];
        for (k, reply) in asked.into_iter().zip(replies) {
            if let (Some(key), Some(v)) = (&keys[k], &reply) {
                session.remember(key.clone(), v.clone());
            }
            answers[k] = reply;
        }
        for (k, p) in plan.into_iter().enumerate() {
            match p {
                Plan::Ask => {}
                Plan::Copy(j) => answers[k] = answers[j].clone(),
                Plan::Known(v) => answers[k] = Some(v),
            }
        }
        answers
    }

    /// Implementations of classes, interfaces and methods; type definitions of variables,
    /// fields, properties and constants.
    ///
    /// Implementations are asked of classes and interfaces first, then of the methods of
    /// those that have one: a method of a class nothing derives from overrides nothing.
    /// (basedpyright answers such a method with itself, at 15 ms a request: 557 of the 578
    /// requests on the requests sdist.) A symbol's answer naming the symbol itself makes no
    /// edge.
    async fn implementations_and_types(&mut self, servers: &mut [Server<'_>]) {
        const TYPES: &[u64] = &[5, 11];
        let symbols = self.facts.symbols.clone();
        if let Some(i) = self
            .pick(
                servers,
                "implementationProvider",
                "textDocument/implementation",
            )
            .await
        {
            let in_type = |s: &SymFact| s.parent.is_some_and(|p| TYPES.contains(&symbols[p].kind));
            let first: Vec<usize> = (0..symbols.len())
                .filter(|&k| {
                    let s = &symbols[k];
                    TYPES.contains(&s.kind) || (s.kind == 6 && !in_type(s))
                })
                .collect();
            let found = self.relate(servers, i, &first, "implements").await;
            let mut derived = vec![false; symbols.len()];
            for (&k, &n) in first.iter().zip(&found) {
                derived[k] = n > 0;
            }
            let methods: Vec<usize> = (0..symbols.len())
                .filter(|&k| symbols[k].kind == 6 && symbols[k].parent.is_some_and(|p| derived[p]))
                .collect();
            self.relate(servers, i, &methods, "implements").await;
        }
        if let Some(i) = self
            .pick(
                servers,
                "typeDefinitionProvider",
                "textDocument/typeDefinition",
            )
            .await
        {
            let wanted: Vec<usize> = (0..symbols.len())
                .filter(|&k| matches!(symbols[k].kind, 7 | 8 | 13 | 14))
                .collect();
            self.relate(servers, i, &wanted, "type_of").await;
        }
    }

    /// Asks `implementation` (`kind` "implements": answer → symbol) or `typeDefinition`
    /// ("type_of": symbol → answer) at each of `wanted` (indexes into the symbols); returns
    /// how many edges each made.
    async fn relate(
        &mut self,
        servers: &mut [Server<'_>],
        i: usize,
        wanted: &[usize],
        kind: &'static str,
    ) -> Vec<usize> {
        let method = match kind {
            "implements" => "textDocument/implementation",
            _ => "textDocument/typeDefinition",
        };
        let enc = self.encoding(servers, i);
        let source = servers[i].def.name.clone();
        let params = wanted
            .iter()
            .map(|&k| json!({"textDocument": {"uri": self.uri}, "position": self.position(enc, self.facts.symbols[k].selection.start)}))
            .collect();
        let answers = self.call_all(servers, i, method, params).await;
        let mut made = Vec::with_capacity(wanted.len());
        for (&k, answer) in wanted.iter().zip(answers) {
            let s = &self.facts.symbols[k];
            let (name, me) = (s.name.clone(), self.here(s.selection.clone()));
            let at = s.selection.start;
            let locs: Vec<Loc> = answer
                .map(|v| as_locations(&v))
                .unwrap_or_default()
                .iter()
                .filter_map(|l| self.loc(&source, enc, l))
                .filter(|l| !(l.path == me.path && (l.range.start == at || l.range.contains(&at))))
                .collect();
            made.push(locs.len());
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
                    name: Some(name.clone()),
                    source: source.clone(),
                });
            }
        }
        made
    }
}

/// `Location`, `Location[]`, `LocationLink[]` or null, as a list.
pub(super) fn as_locations(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    }
}
