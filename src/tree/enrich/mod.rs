//! Asking language servers about one file: the facts they give, converted to byte ranges.
//! Each request goes to the first server for the language that supports it (started on
//! first need); a request that meets a crashed server is retried once on the restarted one;
//! every failure is kept as an error and in the server's status — never lost, never fatal.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

mod full;
mod full_requests;
mod occurrences;
mod ranges;
mod reuse;
mod start;
mod symbols;

pub use start::{LspConfig, LspServers};

pub use occurrences::Occurrences;
pub use symbols::hover_text;

use super::record::{ServerProducer, ServerStatus};
use crate::catalog::ServerDef;
use crate::lsp::{file_uri, LineIndex, RpcError, Session, Supervisor};
use crate::syntax::Language;

/// How much to ask the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LspLevel {
    None,
    /// Document symbols, semantic tokens, folding ranges, diagnostics, hover on definitions.
    Symbols,
    /// Also definitions and references of identifiers, call hierarchy, implementations and
    /// type definitions.
    Full,
}

/// How `--lsp full` builds the reference graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FullPlan {
    /// `definition` at every identifier, inverted into references and, at call sites, calls
    /// (one request per occurrence, pipelined). Servers without definitions fall back to
    /// `Requests`.
    #[default]
    Definitions,
    /// `references` per symbol, call hierarchy in and out, and `definition` at the tags
    /// references only: each fact asked several times over (the plan before issue 10).
    Requests,
}

/// A document symbol, flattened (`parent` indexes this list).
#[derive(Debug, Clone)]
pub struct SymFact {
    pub name: String,
    pub kind: u64,
    pub detail: Option<String>,
    pub range: Range<usize>,
    pub selection: Range<usize>,
    pub parent: Option<usize>,
    pub hover: Option<String>,
    pub source: String,
}

/// A place in some file of the workspace: an absolute path and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub path: PathBuf,
    pub range: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct TokFact {
    pub range: Range<usize>,
    pub ty: String,
    pub mods: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DiagFact {
    pub range: Range<usize>,
    pub severity: &'static str,
    pub code: Value,
    pub source: Option<String>,
    pub message: String,
}

/// A relation found for a symbol or an identifier.
#[derive(Debug, Clone)]
pub struct EdgeFact {
    /// `calls`, `references`, `implements`, `type_of`, `defines`.
    pub kind: &'static str,
    pub from: Loc,
    pub to: Loc,
    pub name: Option<String>,
    pub source: String,
}

/// Everything the servers said about a file.
#[derive(Debug, Default)]
pub struct LspFacts {
    pub servers: Vec<ServerProducer>,
    pub symbols: Vec<SymFact>,
    pub tokens: Vec<TokFact>,
    pub folds: Vec<(u32, u32, Option<String>)>,
    pub diagnostics: Vec<DiagFact>,
    /// Per symbol (index into `symbols`): number of references found, in all files.
    pub ref_counts: BTreeMap<usize, usize>,
    pub edges: Vec<EdgeFact>,
    /// `(producer, request, code, message)`.
    pub errors: Vec<(String, String, Option<i64>, String)>,
}

/// The LSP language identifier of a Disco language.
pub fn language_id(lang: &str) -> &str {
    match lang {
        "tsx" => "typescriptreact",
        "bash" => "shellscript",
        other => other,
    }
}

/// The part of a run that talks to servers.
pub struct Enricher {
    pub supervisor: Arc<Supervisor>,
    pub level: LspLevel,
    pub runtime: tokio::runtime::Handle,
    /// The local directory of the volume (materialised when remote).
    pub root: PathBuf,
    /// How long to wait for pushed diagnostics of a document.
    pub push_wait: Duration,
    /// Only these LSP methods (`textDocument/hover`...), when set.
    pub only: Option<Vec<String>>,
    pub plan: FullPlan,
}

impl Enricher {
    /// Whether `method` may be asked (a registration name matches its requests too).
    fn allowed(&self, method: &str) -> bool {
        self.only.as_ref().is_none_or(|only| {
            only.iter()
                .any(|m| m.starts_with(method) || method.starts_with(m.as_str()))
        })
    }
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("level", &self.level)
            .field("root", &self.root)
            .finish()
    }
}

/// One server as this file uses it.
struct Server<'a> {
    def: &'a ServerDef,
    root: PathBuf,
    /// The instance of the server this file uses.
    lease: crate::lsp::Lease,
    session: Option<Arc<Session>>,
    opened: bool,
    producer: ServerProducer,
    asked: bool,
    start_failed: bool,
}

struct Ctx<'a> {
    en: &'a Enricher,
    uri: String,
    path: PathBuf,
    lang_id: &'a str,
    text: &'a str,
    lines: LineIndex,
    facts: LspFacts,
    /// Other files' texts, for converting their positions (`None`: unreadable).
    others: std::collections::HashMap<PathBuf, Option<(String, LineIndex)>>,
}

impl Enricher {
    /// Asks the servers of `lang` about the file at `rel` (relative to the volume).
    pub fn enrich(
        &self,
        lang: &Language,
        rel: &str,
        text: &str,
        occurrences: &Occurrences,
    ) -> LspFacts {
        let path = self.root.join(rel);
        let mut ctx = Ctx {
            en: self,
            uri: file_uri(&path),
            path: path.clone(),
            lang_id: language_id(&lang.name),
            text,
            lines: LineIndex::new(text),
            facts: LspFacts::default(),
            others: Default::default(),
        };
        let candidates = self.supervisor.servers_for(&lang.name, &lang.servers);
        let mut servers: Vec<Server> = Vec::new();
        for (def, installed) in candidates {
            let producer = ServerProducer {
                name: def.name.clone(),
                version: None,
                position_encoding: None,
                status: ServerStatus::Ok,
                error: None,
            };
            if !installed {
                let mut p = producer;
                p.status = ServerStatus::Unsupported;
                p.error = Some(format!(
                    "`{}` is not installed (disco servers install {})",
                    def.command[0], def.name
                ));
                ctx.facts.servers.push(p);
                continue;
            }
            let root = Supervisor::root_for(def, &path, &self.root);
            servers.push(Server {
                def,
                lease: self.supervisor.lease(def, &root),
                root,
                session: None,
                opened: false,
                producer,
                asked: false,
                start_failed: false,
            });
        }
        if servers.is_empty() {
            return ctx.facts;
        }
        self.runtime.block_on(ctx.run(&mut servers, occurrences));
        for s in servers.iter_mut() {
            if let (Some(session), true) = (&s.session, s.opened) {
                let _ = session.close(&ctx.uri);
            }
            if s.asked {
                ctx.facts.servers.push(s.producer.clone());
            }
        }
        ctx.facts
    }
}

impl Ctx<'_> {
    fn here(&self, range: Range<usize>) -> Loc {
        Loc {
            path: self.path.clone(),
            range,
        }
    }

    /// The index of the first server that supports a feature, starting its session (and
    /// opening the document) on first use. A server that could not start is not tried again.
    async fn pick(
        &mut self,
        servers: &mut [Server<'_>],
        capability: &str,
        method: &str,
    ) -> Option<usize> {
        if !self.en.allowed(method) {
            return None;
        }
        for (i, server) in servers.iter_mut().enumerate() {
            if server.start_failed {
                continue;
            }
            if server.session.is_none() {
                let (def, root, k) = (server.def, &server.root, server.lease.instance);
                match self.en.supervisor.session(def, root, k).await {
                    Ok(s) => {
                        server.producer.version = s.version.clone();
                        server.producer.position_encoding = Some(s.encoding.as_str().to_string());
                        // A file asked while the server still indexes could read "no
                        // references" where there are some: wait, else say so.
                        let wait = s.config.request_timeout;
                        if s.indexing() && !s.wait_ready(Duration::ZERO, wait).await {
                            server.producer.status =
                                server.producer.status.max(ServerStatus::Indexing);
                            server.producer.error.get_or_insert_with(|| {
                                format!("still indexing after waiting {wait:?}: answers may be incomplete")
                            });
                        }
                        server.session = Some(s);
                    }
                    Err(e) => {
                        server.asked = true;
                        server.start_failed = true;
                        let crashed = matches!(e, crate::lsp::LspError::Spawn { .. });
                        server.producer.status = if crashed {
                            ServerStatus::Crashed
                        } else {
                            ServerStatus::Unsupported
                        };
                        server.producer.error = Some(e.to_string());
                        self.facts.errors.push((
                            server.def.name.clone(),
                            "initialize".into(),
                            None,
                            e.to_string(),
                        ));
                        continue;
                    }
                }
            }
            let session = server.session.clone()?;
            if !session.supports(capability, method) {
                continue;
            }
            if !server.opened {
                if session.open(&self.uri, self.lang_id, self.text).is_err() {
                    continue;
                }
                server.opened = true;
            }
            server.asked = true;
            return Some(i);
        }
        None
    }

    /// A request to server `i`, retried once on a restarted server after a crash.
    async fn call(
        &mut self,
        servers: &mut [Server<'_>],
        i: usize,
        method: &str,
        params: Value,
    ) -> Option<Value> {
        let session = servers[i].session.clone()?;
        let result = match session.request(method, params.clone()).await {
            Err(RpcError::Closed { .. }) => match self
                .en
                .supervisor
                .session(servers[i].def, &servers[i].root, servers[i].lease.instance)
                .await
            {
                Ok(fresh) => {
                    let _ = fresh.open(&self.uri, self.lang_id, self.text);
                    servers[i].session = Some(fresh.clone());
                    let r = fresh.request(method, params).await;
                    if r.is_ok() && servers[i].producer.status == ServerStatus::Ok {
                        servers[i].producer.status = ServerStatus::Partial;
                        servers[i].producer.error =
                            Some(format!("{method}: crashed, restarted and retried"));
                    }
                    r
                }
                Err(e) => Err(RpcError::Closed {
                    method: method.into(),
                    reason: e.to_string(),
                }),
            },
            other => other,
        };
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.record_error(servers, i, method, e);
                None
            }
        }
    }

    async fn run(&mut self, servers: &mut [Server<'_>], occurrences: &Occurrences) {
        let doc = json!({"textDocument": {"uri": self.uri}});
        if let Some(i) = self
            .pick(
                servers,
                "documentSymbolProvider",
                "textDocument/documentSymbol",
            )
            .await
        {
            if let Some(v) = self
                .call(servers, i, "textDocument/documentSymbol", doc.clone())
                .await
            {
                let enc = servers[i]
                    .session
                    .as_ref()
                    .map(|s| s.encoding)
                    .unwrap_or(crate::lsp::Encoding::Utf16);
                let name = servers[i].def.name.clone();
                self.symbols(enc, &v, None, &name);
            }
        }
        if let Some(i) = self
            .pick(
                servers,
                "semanticTokensProvider",
                "textDocument/semanticTokens",
            )
            .await
        {
            if let Some(v) = self
                .call(servers, i, "textDocument/semanticTokens/full", doc.clone())
                .await
            {
                if let Some(session) = servers[i].session.clone() {
                    self.tokens(&session, &v);
                }
            }
        }
        if let Some(i) = self
            .pick(servers, "foldingRangeProvider", "textDocument/foldingRange")
            .await
        {
            if let Some(v) = self
                .call(servers, i, "textDocument/foldingRange", doc.clone())
                .await
            {
                let name = servers[i].def.name.clone();
                for f in v.as_array().into_iter().flatten() {
                    let line = |k: &str| u32::try_from(f[k].as_u64()?).ok();
                    match (line("startLine"), line("endLine")) {
                        (Some(s), Some(e)) => self.folds_push(s, e, f["kind"].as_str()),
                        _ => self.malformed(&name, "textDocument/foldingRange", f),
                    }
                }
            }
        }
        // Before the definitions: the wait for a server's pushed diagnostics is also the
        // time clangd takes to index the other files (asked at once, `main.c` → `helpers.c`
        // definitions came back as the header's declaration, and `lsp_servers::clangd` failed).
        self.diagnostics(servers).await;
        if let Some(i) = self
            .pick(servers, "hoverProvider", "textDocument/hover")
            .await
        {
            self.hovers(servers, i).await;
        }
        if self.en.level == LspLevel::Full {
            self.full(servers, occurrences).await;
        }
    }

    fn folds_push(&mut self, s: u32, e: u32, kind: Option<&str>) {
        self.facts.folds.push((s, e, kind.map(str::to_string)));
    }

    fn record_error(&mut self, servers: &mut [Server<'_>], i: usize, method: &str, e: RpcError) {
        let status = match &e {
            RpcError::Timeout { .. } => ServerStatus::Timeout,
            RpcError::Closed { .. } => ServerStatus::Crashed,
            _ => ServerStatus::Partial,
        };
        let p = &mut servers[i].producer;
        p.status = p.status.max(status);
        p.error.get_or_insert_with(|| e.to_string());
        self.facts.errors.push((
            servers[i].def.name.clone(),
            method.into(),
            e.code(),
            e.to_string(),
        ));
    }
}
