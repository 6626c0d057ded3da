//! `disco lsp`: the editor-facing language server (tower-lsp-server, the same LSP types as
//! Disco's client). Thin over the library: it keeps a syntax tree per open document
//! (incremental re-parse on `didChange`), serves document symbols from the tags queries,
//! publishes diagnostics for `disco.toml`, and offers Disco through `workspace/executeCommand`
//! (`disco.tree`, `disco.node`, `disco.catalog`, `disco.runPipeline`, `disco.servers`).
//!
//! Architecture invariant: stdout carries only protocol messages (logs go to stderr), and a
//! failing handler answers with an error; the server keeps running.

mod commands;
mod documents;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::catalog::{Catalog, CatalogError};
use crate::lsp::{Encoding, LineIndex, Supervisor, SupervisorConfig};
use crate::syntax::TagRole;
use crate::tree::LspLevel;
use documents::{uri_to_path, Document, Documents};

/// The commands `workspace/executeCommand` offers.
pub const COMMANDS: &[&str] = &[
    "disco.tree",
    "disco.node",
    "disco.catalog",
    "disco.runPipeline",
    "disco.servers",
];

/// How the server starts.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `--catalog`, when given; otherwise `disco.toml` is looked for from the workspace root.
    pub catalog: Option<PathBuf>,
}

struct State {
    options: ServerOptions,
    docs: Mutex<Documents>,
    root: Mutex<Option<PathBuf>>,
    level: Mutex<LspLevel>,
    supervisor: OnceLock<Arc<Supervisor>>,
    runtime: OnceLock<tokio::runtime::Handle>,
}

/// The language server.
pub struct Backend {
    client: Client,
    state: Arc<State>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serves LSP over `input`/`output` until the client exits.
pub async fn serve<I, O>(input: I, output: O, options: ServerOptions)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let state = Arc::new(State {
        options,
        docs: Mutex::default(),
        root: Mutex::default(),
        level: Mutex::new(LspLevel::Symbols),
        supervisor: OnceLock::new(),
        runtime: OnceLock::new(),
    });
    let (service, socket) = LspService::new(|client| Backend {
        client,
        state: state.clone(),
    });
    Server::new(input, output, socket).serve(service).await;
    if let Some(sup) = state.supervisor.get() {
        sup.shutdown(std::time::Duration::from_secs(3)).await;
    }
}

impl State {
    fn catalog(&self) -> std::result::Result<Catalog, CatalogError> {
        let root = lock(&self.root)
            .clone()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        Catalog::discover(self.options.catalog.as_deref(), &root)
    }

    fn supervisor(&self) -> Arc<Supervisor> {
        self.supervisor
            .get_or_init(|| {
                let catalog = self.catalog().unwrap_or_default();
                Arc::new(Supervisor::new(&catalog, SupervisorConfig::default()))
            })
            .clone()
    }
}

fn position(text: &str, offset: usize) -> lsp::Position {
    let (line, character) = LineIndex::new(text).position(text, offset, Encoding::Utf16);
    lsp::Position { line, character }
}

/// Diagnostics of a `disco.toml`: the catalog's own errors, at their line.
fn catalog_diagnostics(doc: &Document) -> Vec<lsp::Diagnostic> {
    let (line, message) = match Catalog::parse(&doc.text, &doc.path) {
        Ok(_) => return Vec::new(),
        Err(CatalogError::Parse { line, message, .. }) => (line, message),
        Err(CatalogError::Invalid {
            line, key, message, ..
        }) => (line, format!("`{key}`: {message}")),
        Err(other) => (1, other.to_string()),
    };
    let row = line.saturating_sub(1) as u32;
    let width = doc
        .text
        .lines()
        .nth(row as usize)
        .map_or(0, |l| l.encode_utf16().count()) as u32;
    vec![lsp::Diagnostic {
        range: lsp::Range {
            start: lsp::Position {
                line: row,
                character: 0,
            },
            end: lsp::Position {
                line: row,
                character: width,
            },
        },
        severity: Some(lsp::DiagnosticSeverity::ERROR),
        source: Some("disco".into()),
        message,
        ..Default::default()
    }]
}

fn is_catalog(doc: &Document) -> bool {
    doc.path
        .file_name()
        .is_some_and(|n| n == crate::catalog::CATALOG_FILE)
}

impl Backend {
    async fn publish_catalog_diagnostics(&self, uri: lsp::Uri) {
        let found = {
            let docs = lock(&self.state.docs);
            docs.by_uri
                .get(uri.as_str())
                .filter(|d| is_catalog(d))
                .map(|d| (catalog_diagnostics(d), d.version))
        };
        if let Some((diagnostics, version)) = found {
            self.client
                .publish_diagnostics(uri, diagnostics, Some(version))
                .await;
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let _ = self.state.runtime.set(tokio::runtime::Handle::current());
        #[allow(deprecated)]
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .and_then(|f| uri_to_path(&f.uri))
            .or_else(|| params.root_uri.as_ref().and_then(uri_to_path));
        *lock(&self.state.root) = root;
        let level = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("lspLevel"))
            .and_then(Value::as_str);
        *lock(&self.state.level) = match level {
            Some("none") => LspLevel::None,
            Some("full") => LspLevel::Full,
            _ => LspLevel::Symbols,
        };
        Ok(lsp::InitializeResult {
            server_info: Some(lsp::ServerInfo {
                name: "disco".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: lsp::ServerCapabilities {
                text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
                    lsp::TextDocumentSyncKind::INCREMENTAL,
                )),
                document_symbol_provider: Some(lsp::OneOf::Left(true)),
                execute_command_provider: Some(lsp::ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    work_done_progress_options: lsp::WorkDoneProgressOptions {
                        work_done_progress: Some(true),
                    },
                }),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        if let Some(sup) = self.state.supervisor.get() {
            sup.shutdown(std::time::Duration::from_secs(3)).await;
        }
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let Some(path) = uri_to_path(&doc.uri) else {
            return;
        };
        let document = Document::open(path, doc.text, doc.version);
        lock(&self.state.docs)
            .by_uri
            .insert(doc.uri.as_str().to_string(), document);
        self.publish_catalog_diagnostics(doc.uri).await;
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut docs = lock(&self.state.docs);
            let Some(doc) = docs.by_uri.get_mut(uri.as_str()) else {
                tracing::warn!(
                    "didChange for a document that is not open: {}",
                    uri.as_str()
                );
                return;
            };
            doc.change(params.text_document.version, params.content_changes);
        }
        self.publish_catalog_diagnostics(uri).await;
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        let removed = lock(&self.state.docs)
            .by_uri
            .remove(params.text_document.uri.as_str());
        if removed.is_some_and(|d| is_catalog(&d)) {
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
        }
    }

    async fn document_symbol(
        &self,
        params: lsp::DocumentSymbolParams,
    ) -> Result<Option<lsp::DocumentSymbolResponse>> {
        let docs = lock(&self.state.docs);
        let Some(doc) = docs.by_uri.get(params.text_document.uri.as_str()) else {
            return Ok(None);
        };
        let (Some(lang), Some(tree)) = (doc.language, &doc.tree) else {
            return Ok(None);
        };
        let Ok(query) = lang.tags() else {
            return Ok(None);
        };
        let tags: Vec<_> = query
            .tags(tree, doc.text.as_bytes(), false)
            .into_iter()
            .filter(|t| t.role == TagRole::Definition)
            .collect();
        // Nest by containment: each definition goes under the innermost one around it.
        let mut roots: Vec<lsp::DocumentSymbol> = Vec::new();
        let mut stack: Vec<(usize, lsp::DocumentSymbol)> = Vec::new();
        let kind = |k: &str| match k {
            "function" => lsp::SymbolKind::FUNCTION,
            "method" => lsp::SymbolKind::METHOD,
            "class" => lsp::SymbolKind::CLASS,
            "struct" => lsp::SymbolKind::STRUCT,
            "enum" => lsp::SymbolKind::ENUM,
            "interface" | "trait" => lsp::SymbolKind::INTERFACE,
            "module" => lsp::SymbolKind::MODULE,
            "constant" => lsp::SymbolKind::CONSTANT,
            "field" => lsp::SymbolKind::FIELD,
            "macro" | "type" => lsp::SymbolKind::TYPE_PARAMETER,
            "section" | "table" => lsp::SymbolKind::NAMESPACE,
            "key" => lsp::SymbolKind::KEY,
            _ => lsp::SymbolKind::VARIABLE,
        };
        fn close(
            stack: &mut Vec<(usize, lsp::DocumentSymbol)>,
            roots: &mut Vec<lsp::DocumentSymbol>,
            until: usize,
        ) {
            while stack.last().is_some_and(|(end, _)| *end <= until) {
                let (_, sym) = stack.pop().unwrap_or_else(|| unreachable!());
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.get_or_insert_with(Vec::new).push(sym),
                    None => roots.push(sym),
                }
            }
        }
        for t in tags {
            close(&mut stack, &mut roots, t.node.start_byte());
            let range = |r: std::ops::Range<usize>| lsp::Range {
                start: position(&doc.text, r.start),
                end: position(&doc.text, r.end),
            };
            #[allow(deprecated)]
            let sym = lsp::DocumentSymbol {
                name: doc.text.get(t.name.byte_range()).unwrap_or("").to_string(),
                detail: Some(t.kind.to_string()),
                kind: kind(t.kind),
                tags: None,
                deprecated: None,
                range: range(t.node.byte_range()),
                selection_range: range(t.name.byte_range()),
                children: None,
            };
            stack.push((t.node.end_byte(), sym));
        }
        close(&mut stack, &mut roots, usize::MAX);
        Ok(Some(lsp::DocumentSymbolResponse::Nested(roots)))
    }

    async fn execute_command(
        &self,
        params: lsp::ExecuteCommandParams,
    ) -> Result<Option<lsp::LSPAny>> {
        commands::execute(self, params).await.map(Some)
    }
}
