//! One language-server process and its protocol session: spawned without a shell in its own
//! process group, initialized with rich client capabilities, its notifications tracked
//! (progress, diagnostics, server status), and shut down with a deadline — then killed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Notify};

use super::answers::Answers;
use super::position::Encoding;
use super::registry::{find_program, server_path};
use super::rpc::{Connection, Notification, RpcError};
use crate::catalog::ServerDef;

/// Why a server could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LspError {
    #[error("{server}: `{program}` not found (on PATH or in Disco's tools directory; try `disco servers install {server}`)")]
    NotFound { server: String, program: String },
    #[error("{server}: cannot start: {message}")]
    Spawn { server: String, message: String },
    #[error("{server}: initialize failed: {source}{stderr}")]
    Initialize {
        server: String,
        source: RpcError,
        stderr: String,
    },
    #[error("{server}: {source}")]
    Rpc { server: String, source: RpcError },
}

/// Limits for one session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub request_timeout: Duration,
    pub startup_timeout: Duration,
    pub max_in_flight: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            request_timeout: Duration::from_secs(30),
            startup_timeout: Duration::from_secs(60),
            max_in_flight: 16,
        }
    }
}

/// What the notifications have told us.
#[derive(Debug, Default)]
struct State {
    /// Progress tokens begun and not ended.
    active_progress: HashSet<String>,
    last_progress: Option<Instant>,
    /// rust-analyzer's `experimental/serverStatus`: quiescent and healthy.
    quiescent: Option<bool>,
    /// Pushed diagnostics by document URI.
    diagnostics: HashMap<String, Vec<Value>>,
    /// When each document's diagnostics were last published.
    published: HashMap<String, Instant>,
}

/// A running, initialized server.
pub struct Session {
    pub name: String,
    pub root: PathBuf,
    pub capabilities: Value,
    pub encoding: Encoding,
    pub version: Option<String>,
    pub config: SessionConfig,
    conn: Connection,
    answers: Arc<Answers>,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    child: Mutex<Option<Child>>,
    pgid: Option<i32>,
    /// Answers that hold wherever they are asked (see [`Session::remembered`]).
    memo: Mutex<HashMap<String, Value>>,
}

/// How many answers a session remembers; past it, new ones are not kept.
const MEMO_ENTRIES: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `file://` URI of a local path (percent-encoding what a URI path cannot hold).
pub fn file_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The local path of a `file://` URI.
pub fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

fn client_capabilities() -> Value {
    let token_types = [
        "namespace",
        "type",
        "class",
        "enum",
        "interface",
        "struct",
        "typeParameter",
        "parameter",
        "variable",
        "property",
        "enumMember",
        "event",
        "function",
        "method",
        "macro",
        "keyword",
        "modifier",
        "comment",
        "string",
        "number",
        "regexp",
        "operator",
        "decorator",
    ];
    let token_mods = [
        "declaration",
        "definition",
        "readonly",
        "static",
        "deprecated",
        "abstract",
        "async",
        "modification",
        "documentation",
        "defaultLibrary",
    ];
    json!({
        "general": {"positionEncodings": ["utf-8", "utf-16"], "staleRequestSupport": {"cancel": true, "retryOnContentModified": []}},
        "window": {"workDoneProgress": true, "showMessage": {}, "showDocument": {"support": false}},
        "workspace": {
            "configuration": true, "workspaceFolders": true, "applyEdit": false,
            "didChangeConfiguration": {"dynamicRegistration": true},
            "semanticTokens": {"refreshSupport": true}, "diagnostics": {"refreshSupport": true},
            "symbol": {"dynamicRegistration": false}
        },
        "textDocument": {
            "synchronization": {"dynamicRegistration": false, "didSave": false},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": true, "symbolKind": {"valueSet": (1..=26).collect::<Vec<_>>()}, "labelSupport": true},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "definition": {"linkSupport": true}, "declaration": {"linkSupport": true},
            "typeDefinition": {"linkSupport": true}, "implementation": {"linkSupport": true},
            "references": {}, "callHierarchy": {"dynamicRegistration": false}, "typeHierarchy": {},
            "foldingRange": {"lineFoldingOnly": false},
            "semanticTokens": {
                "dynamicRegistration": true, "requests": {"full": true, "range": false},
                "tokenTypes": token_types, "tokenModifiers": token_mods, "formats": ["relative"],
                "overlappingTokenSupport": false, "multilineTokenSupport": true
            },
            "publishDiagnostics": {"relatedInformation": true, "codeDescriptionSupport": true, "dataSupport": false},
            "diagnostic": {"dynamicRegistration": true, "relatedDocumentSupport": false}
        },
        "experimental": {"serverStatusNotification": true}
    })
}

impl Session {
    /// Spawns and initializes `def` for the workspace at `root`.
    pub async fn start(
        def: &ServerDef,
        root: &Path,
        config: SessionConfig,
    ) -> Result<Session, LspError> {
        let name = def.name.clone();
        let program = find_program(&def.command[0]).ok_or_else(|| LspError::NotFound {
            server: name.clone(),
            program: def.command[0].clone(),
        })?;
        let mut cmd = Command::new(&program);
        cmd.args(&def.command[1..])
            .current_dir(root)
            .env("PATH", server_path())
            .envs(def.env.iter().map(|(k, v)| {
                (
                    k,
                    crate::catalog::interpolate(v, |n| std::env::var(n).ok()).unwrap_or_default(),
                )
            }))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| LspError::Spawn {
            server: name.clone(),
            message: format!("{}: {e}", program.display()),
        })?;
        let pgid = child.id().map(|id| id as i32);
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = (stdin, stdout, stderr) else {
            return Err(LspError::Spawn {
                server: name,
                message: "no stdio pipes".into(),
            });
        };
        let stderr_tail: Arc<Mutex<VecDeque<String>>> = Arc::default();
        {
            let (tail, server) = (stderr_tail.clone(), name.clone());
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "disco::lsp::stderr", server = %server, "{line}");
                    let mut t = lock(&tail);
                    if t.len() == 20 {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        let root_uri = file_uri(root);
        let folder_name = root
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let folders = json!([{"uri": root_uri, "name": folder_name}]);
        let answers = Arc::new(Answers::new(
            def.settings.clone().unwrap_or(json!({})),
            folders.clone(),
        ));
        let (ntx, nrx) = mpsc::unbounded_channel();
        let conn = Connection::start(
            stdout,
            stdin,
            answers.clone(),
            ntx,
            config.max_in_flight,
            super::transport::DEFAULT_MAX_MESSAGE,
        );
        let state: Arc<Mutex<State>> = Arc::default();
        let changed = Arc::new(Notify::new());
        tokio::spawn(track(nrx, state.clone(), changed.clone(), name.clone()));
        let params = json!({
            "processId": std::process::id(),
            "clientInfo": {"name": "disco", "version": env!("CARGO_PKG_VERSION")},
            "rootUri": root_uri,
            "rootPath": root.to_string_lossy(),
            "workspaceFolders": folders,
            "capabilities": client_capabilities(),
            "initializationOptions": def.initialization_options.clone().unwrap_or(Value::Null),
            "trace": "off",
        });
        let tail_text = |tail: &Arc<Mutex<VecDeque<String>>>| {
            let t = lock(tail);
            if t.is_empty() {
                String::new()
            } else {
                format!(
                    "; stderr: {}",
                    t.iter().cloned().collect::<Vec<_>>().join(" | ")
                )
            }
        };
        let init = match conn
            .request("initialize", params, config.startup_timeout)
            .await
        {
            Ok(v) => v,
            Err(source) => {
                // Give stderr a moment to explain a crash.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(LspError::Initialize {
                    server: name,
                    source,
                    stderr: tail_text(&stderr_tail),
                });
            }
        };
        let capabilities = init["capabilities"].clone();
        let encoding = Encoding::from_lsp(capabilities["positionEncoding"].as_str());
        let version = init["serverInfo"]["version"].as_str().map(str::to_string);
        let rpc = |source| LspError::Rpc {
            server: name.clone(),
            source,
        };
        conn.notify("initialized", json!({})).map_err(rpc)?;
        if let Some(settings) = &def.settings {
            conn.notify(
                "workspace/didChangeConfiguration",
                json!({"settings": settings}),
            )
            .map_err(rpc)?;
        }
        Ok(Session {
            name: name.clone(),
            root: root.to_path_buf(),
            capabilities,
            encoding,
            version,
            config,
            conn,
            answers,
            state,
            changed,
            stderr_tail,
            child: Mutex::new(Some(child)),
            pgid,
            memo: Mutex::default(),
        })
    }

    /// Why the connection closed (the server crashed or exited), if it has.
    pub fn crashed(&self) -> Option<String> {
        self.conn.closed().map(|reason| {
            let tail = lock(&self.stderr_tail);
            match tail.back() {
                Some(last) => format!("{reason}; last stderr: {last}"),
                None => reason,
            }
        })
    }

    /// A request with the session's timeout.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.conn
            .request(method, params, self.config.request_timeout)
            .await
    }

    /// An answer kept by [`Session::remember`] under `key`: the caller decides what is the
    /// same wherever it is asked (a standard-library name's definition). A restarted server
    /// is a new session and starts with none.
    pub fn remembered(&self, key: &str) -> Option<Value> {
        lock(&self.memo).get(key).cloned()
    }

    pub fn remember(&self, key: String, answer: Value) {
        let mut memo = lock(&self.memo);
        if memo.len() < MEMO_ENTRIES {
            memo.insert(key, answer);
        }
    }

    pub fn notify(&self, method: &str, params: Value) -> Result<(), RpcError> {
        self.conn.notify(method, params)
    }

    /// Whether the server advertises a capability (`hoverProvider`...), statically or by
    /// dynamic registration of `method`.
    pub fn supports(&self, capability: &str, method: &str) -> bool {
        let c = &self.capabilities[capability];
        let static_ok = !c.is_null() && c != &Value::Bool(false);
        static_ok || self.answers.registration(method).is_some()
    }

    /// The semantic-token legend: static, or from a dynamic registration.
    pub fn token_legend(&self) -> Option<(Vec<String>, Vec<String>)> {
        let opts = match &self.capabilities["semanticTokensProvider"] {
            Value::Null | Value::Bool(false) => {
                self.answers.registration("textDocument/semanticTokens")?
            }
            v => v.clone(),
        };
        let list = |v: &Value| {
            v.as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
        };
        Some((
            list(&opts["legend"]["tokenTypes"])?,
            list(&opts["legend"]["tokenModifiers"]).unwrap_or_default(),
        ))
    }

    pub fn open(&self, uri: &str, language_id: &str, text: &str) -> Result<(), RpcError> {
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": language_id, "version": 1, "text": text}}))
    }

    pub fn close(&self, uri: &str) -> Result<(), RpcError> {
        let mut state = lock(&self.state);
        state.diagnostics.remove(uri);
        state.published.remove(uri);
        drop(state);
        self.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        )
    }

    /// Whether the server says it is still working on the workspace: progress under way,
    /// or rust-analyzer's status not quiescent.
    pub fn indexing(&self) -> bool {
        let s = lock(&self.state);
        s.quiescent.map_or(!s.active_progress.is_empty(), |q| !q)
    }

    /// Waits until the server looks idle: rust-analyzer reports quiescence; others have no
    /// progress under way and none for `settle`. Bounded by `max`. Returns whether it
    /// became ready (false: it was still busy at the deadline).
    pub async fn wait_ready(&self, settle: Duration, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        let started = Instant::now();
        loop {
            let ready = {
                let s = lock(&self.state);
                match s.quiescent {
                    Some(q) => q,
                    None => {
                        s.active_progress.is_empty()
                            && s.last_progress.unwrap_or(started).elapsed() >= settle
                    }
                }
            };
            if ready || self.crashed().is_some() {
                return ready;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let step = (deadline - now).min(Duration::from_millis(50));
            let _ = tokio::time::timeout(step, self.changed.notified()).await;
        }
    }

    /// Pushed diagnostics of a document, waiting at most `max` for the first batch.
    pub async fn pushed_diagnostics(&self, uri: &str, max: Duration) -> Option<Vec<Value>> {
        // Servers may publish in rounds (syntax first, semantics later): after a batch, wait
        // until `SETTLE` has passed since the last one, within `max`. A batch published while
        // the file's other requests ran has already settled.
        const SETTLE: Duration = Duration::from_millis(500);
        let deadline = Instant::now() + max;
        loop {
            let last = lock(&self.state).published.get(uri).copied();
            let now = Instant::now();
            if last.is_some_and(|t| now.duration_since(t) >= SETTLE) {
                break;
            }
            if now >= deadline || self.crashed().is_some() {
                break;
            }
            let _ = tokio::time::timeout(
                (deadline - now).min(Duration::from_millis(50)),
                self.changed.notified(),
            )
            .await;
        }
        lock(&self.state).diagnostics.get(uri).cloned()
    }

    /// `shutdown` + `exit` within `deadline`, then the process group is killed.
    pub async fn shutdown(&self, deadline: Duration) {
        if self.crashed().is_none() {
            let _ = self.conn.request("shutdown", Value::Null, deadline).await;
            let _ = self.conn.notify("exit", Value::Null);
        }
        let child = lock(&self.child).take();
        if let Some(mut child) = child {
            if tokio::time::timeout(deadline, child.wait()).await.is_err() {
                self.kill_group();
                let _ = child.kill().await;
            }
        }
        self.kill_group();
    }

    fn kill_group(&self) {
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) with a negative pid signals the process group we created.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The child is killed on drop; its helpers (node workers, tsserver) share its group.
        self.kill_group();
    }
}

/// Follows the server's notifications: progress, diagnostics, status.
async fn track(
    mut rx: mpsc::UnboundedReceiver<Notification>,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    server: String,
) {
    while let Some(n) = rx.recv().await {
        {
            let mut s = lock(&state);
            match n.method.as_str() {
                "$/progress" => {
                    let token = n.params["token"].to_string();
                    match n.params["value"]["kind"].as_str() {
                        Some("begin") => {
                            s.active_progress.insert(token);
                        }
                        Some("end") => {
                            s.active_progress.remove(&token);
                        }
                        _ => {}
                    }
                    s.last_progress = Some(Instant::now());
                }
                "experimental/serverStatus" => {
                    let q = n.params["quiescent"].as_bool().unwrap_or(false)
                        && n.params["health"] != "error";
                    s.quiescent = Some(q);
                }
                "textDocument/publishDiagnostics" => {
                    if let Some(uri) = n.params["uri"].as_str() {
                        s.published.insert(uri.to_string(), Instant::now());
                        s.diagnostics.insert(
                            uri.to_string(),
                            n.params["diagnostics"]
                                .as_array()
                                .cloned()
                                .unwrap_or_default(),
                        );
                    }
                }
                "window/logMessage" | "window/showMessage" => {
                    tracing::debug!(target: "disco::lsp::log", server = %server, "{}", n.params["message"].as_str().unwrap_or(""));
                }
                _ => {}
            }
        }
        changed.notify_waiters();
    }
}
