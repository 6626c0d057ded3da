//! `fake_lsp`: a tiny, purpose-built language server for Disco's supervisor tests.
//!
//! This is a **test double for fault injection**, never a substitute for a real language
//! server: it speaks just enough LSP (Content-Length framing over stdio, JSON-RPC) to misbehave
//! on purpose — crash, hang, stall, write garbage, announce absurd frame lengths, send requests
//! to the client, advertise the wrong position encoding — so that the supervisor's restart,
//! timeout, cancellation and kill paths can be tested without real servers.
//!
//! Environment:
//! - `FAKE_LSP_MODE`: one of [`MODES`] (default `ok`); an unknown mode exits with code 2.
//! - `FAKE_LSP_STATE_DIR`: if set, every start increments the number in `<dir>/starts` (absent
//!   = 0), so `crash-once` can tell its first start from later ones and tests can count
//!   restarts. Without it, every start is a first start.
//! - `FAKE_LSP_DELAY_MS`: delay before each documentSymbol/hover reply in `slow` (default 500).
//!
//! Documents are Python-like: each line starting with `def NAME` declares a function. Exit
//! codes: 0 on `exit`, on EOF or when stdout closes; 3 on an injected crash. Stdout carries the
//! protocol only, stderr the logs (`fake-lsp: ...`, plus `cancelled <id>` for every
//! `$/cancelRequest` and `reply <method> <json>` in `server-requests`).

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::time::Duration;
use std::{env, fs, process, thread};

/// The fault-injection modes, separated by spaces.
const MODES: &str = "ok crash-once crash-always hang hang-all slow garbage huge-length \
                         server-requests bad-encoding indexing malformed";

/// Server capabilities, except `positionEncoding` (set by mode).
const CAPABILITIES: &str = r#"{"textDocumentSync": 1, "documentSymbolProvider": true,
    "hoverProvider": true, "definitionProvider": true, "referencesProvider": true,
    "foldingRangeProvider": true, "semanticTokensProvider": {"legend": {
    "tokenTypes": ["function", "variable"], "tokenModifiers": ["declaration"]}, "full": true}}"#;

/// `server-requests`: what we ask the client before answering documentSymbol (null = no params).
const CLIENT_REQUESTS: &str = r#"[
    ["workspace/configuration", {"items": [{"section": "fake"}]}],
    ["client/registerCapability", {"registrations": [{"id": "fake-watch",
        "method": "workspace/didChangeWatchedFiles",
        "registerOptions": {"watchers": [{"globPattern": "**/*.fake"}]}}]}],
    ["window/workDoneProgress/create", {"token": "fake-progress"}],
    ["workspace/workspaceFolders", null],
    ["workspace/applyEdit", {"label": "fake edit", "edit": {"changes": {}}}],
    ["fake/unknownRequest", {}]]"#;

/// A `def` in a document; columns are in units of the advertised position encoding.
struct Def {
    line: usize,
    line_len: usize,
    start: usize,
    end: usize,
    name: String,
}

struct Server {
    mode: String,
    /// First start according to `FAKE_LSP_STATE_DIR` (always true when it is unset).
    first_start: bool,
    delay: Duration,
    /// Columns count UTF-8 bytes (`bad-encoding`) instead of UTF-16 code units.
    utf8: bool,
    /// `hang-all` after `initialize`: read everything, answer nothing, ignore `exit` and EOF.
    silent: bool,
    input: io::StdinLock<'static>,
    out: io::StdoutLock<'static>,
    /// Text of the open documents, by URI.
    docs: HashMap<String, String>,
    /// Client messages read while we waited for replies to our own requests.
    queue: VecDeque<Value>,
    next_id: u64,
}

fn main() {
    let mode = (env::var("FAKE_LSP_MODE").ok().filter(|m| !m.is_empty()))
        .unwrap_or_else(|| "ok".to_owned());
    if !MODES.split_whitespace().any(|m| m == mode) {
        eprintln!("fake-lsp: unknown FAKE_LSP_MODE {mode:?}");
        process::exit(2);
    }
    let delay = env::var("FAKE_LSP_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok());
    let first_start = record_start();
    eprintln!("fake-lsp: mode {mode}, first start {first_start}");
    Server {
        utf8: mode == "bad-encoding",
        mode,
        first_start,
        delay: Duration::from_millis(delay.unwrap_or(500)),
        silent: false,
        input: io::stdin().lock(),
        out: io::stdout().lock(),
        docs: HashMap::new(),
        queue: VecDeque::new(),
        next_id: 1,
    }
    .run();
}

/// Increments the counter in `FAKE_LSP_STATE_DIR/starts`; true if this is the first start.
fn record_start() -> bool {
    let Some(dir) = env::var_os("FAKE_LSP_STATE_DIR") else {
        return true;
    };
    let path = Path::new(&dir).join("starts");
    // Instances started at the same moment must not both read the same count: the update
    // is done holding `starts.lock` (created exclusively; given up on after five seconds).
    let lock = Path::new(&dir).join("starts.lock");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let locked = loop {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break true,
            Err(_) if std::time::Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => {
                eprintln!("fake-lsp: cannot lock {}: {e}", lock.display());
                break false;
            }
        }
    };
    let previous: u64 = fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if let Err(e) = fs::write(&path, format!("{}\n", previous + 1)) {
        eprintln!("fake-lsp: cannot write {}: {e}", path.display());
    }
    if locked {
        let _ = fs::remove_file(&lock);
    }
    previous == 0
}

/// Stays alive doing nothing, like a hung server: the supervisor must kill us. A ten-minute
/// safety net keeps a broken test from leaking the process forever.
fn hang_forever() -> ! {
    thread::sleep(Duration::from_secs(600));
    eprintln!("fake-lsp: gave up hanging after 10 minutes");
    process::exit(0)
}

fn crash() -> ! {
    eprintln!("fake-lsp: crashing (exit 3) on textDocument/documentSymbol");
    process::exit(3)
}

fn range(line: usize, start: usize, end: usize) -> Value {
    json!({"start": {"line": line, "character": start}, "end": {"line": line, "character": end}})
}

/// The identifier (letters, digits, `_`) around byte offset `at` of `line`; may be empty.
fn word_at(line: &str, at: usize) -> &str {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let before = line[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident(c));
    let start = before.last().map_or(at, |(i, _)| i);
    let end = line[at..].find(|c: char| !is_ident(c));
    &line[start..end.map_or(line.len(), |i| at + i)]
}

impl Server {
    fn run(&mut self) -> ! {
        while let Some(msg) = self.queue.pop_front().or_else(|| self.read_frame()) {
            self.handle(msg);
        }
        if self.silent {
            eprintln!("fake-lsp: stdin closed, hang-all stays alive until killed");
            hang_forever();
        }
        eprintln!("fake-lsp: stdin closed, exiting");
        process::exit(0)
    }

    /// Reads one framed JSON message; None on EOF or a read error. Bad frames are skipped.
    fn read_frame(&mut self) -> Option<Value> {
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if self.input.read_line(&mut line).unwrap_or(0) == 0 {
                    return None;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                if name.trim().eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
            let Some(length) = length else {
                eprintln!("fake-lsp: frame without a valid Content-Length, skipped");
                continue;
            };
            let mut body = vec![0; length];
            self.input.read_exact(&mut body).ok()?;
            match serde_json::from_slice(&body) {
                Ok(msg) => return Some(msg),
                Err(e) => eprintln!("fake-lsp: invalid JSON body, skipped: {e}"),
            }
        }
    }

    /// Writes raw bytes to stdout; a closed stdout means the client is gone, so we exit 0.
    fn write_raw(&mut self, bytes: &[u8]) {
        let out = &mut self.out;
        if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
            eprintln!("fake-lsp: stdout closed, exiting");
            process::exit(0);
        }
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.write_raw(frame.as_bytes());
    }

    fn reply(&mut self, id: Value, result: Result<Value, (i64, String)>) {
        self.send(&match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err((code, message)) => json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": code, "message": message}}),
        });
    }

    fn handle(&mut self, msg: Value) {
        // A message without a method is a response from the client that nobody waits for.
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            return;
        };
        if self.silent {
            return;
        }
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        match msg.get("id").cloned() {
            Some(id) => self.request(id, method, &params),
            None => self.notification(method, &params),
        }
    }

    fn notification(&mut self, method: &str, params: &Value) {
        let uri = params["textDocument"]["uri"].as_str().map(str::to_owned);
        // didOpen carries the text; didChange (full sync) has it in its last change.
        let changes = params["contentChanges"].as_array().and_then(|c| c.last());
        let text = match method {
            "textDocument/didOpen" => params["textDocument"]["text"].as_str(),
            "textDocument/didChange" => changes.and_then(|c| c["text"].as_str()),
            _ => None,
        };
        match method {
            "exit" => {
                eprintln!("fake-lsp: exit");
                process::exit(0)
            }
            "textDocument/didOpen" | "textDocument/didChange" => {
                if let (Some(uri), Some(text)) = (uri, text) {
                    self.docs.insert(uri, text.to_owned());
                }
            }
            "textDocument/didClose" => {
                self.docs.remove(&uri.unwrap_or_default());
            }
            "$/cancelRequest" => match &params["id"] {
                Value::String(id) => eprintln!("cancelled {id}"),
                id => eprintln!("cancelled {id}"),
            },
            // `indexing`: a workspace index that never finishes.
            "initialized" if self.mode == "indexing" => {
                let value = json!({"kind": "begin", "title": "Indexing"});
                let params = json!({"token": "fake-indexing", "value": value});
                self.send(&json!({"jsonrpc": "2.0", "method": "$/progress", "params": params}));
            }
            _ => {} // `initialized` and anything else: ignored
        }
    }

    fn request(&mut self, id: Value, method: &str, params: &Value) {
        let result = match method {
            "initialize" => {
                self.silent = self.mode == "hang-all";
                let mut capabilities: Value = serde_json::from_str(CAPABILITIES).unwrap();
                let encoding = if self.utf8 { "utf-8" } else { "utf-16" };
                capabilities["positionEncoding"] = json!(encoding);
                let server_info = json!({"name": "fake-lsp", "version": "0.1"});
                Ok(json!({"capabilities": capabilities, "serverInfo": server_info}))
            }
            "shutdown" => Ok(Value::Null),
            "textDocument/documentSymbol" => return self.document_symbol(id, params),
            "textDocument/hover" if self.mode == "hang" => return,
            "textDocument/hover" => {
                if self.mode == "slow" {
                    thread::sleep(self.delay);
                }
                Ok(self.hover(params))
            }
            "textDocument/semanticTokens/full" => Ok(self.semantic_tokens(params)),
            "textDocument/foldingRange" | "textDocument/references" => Ok(json!([])),
            "textDocument/definition" => Ok(Value::Null),
            _ => Err((-32601, format!("method not found: {method}"))),
        };
        self.reply(id, result);
    }

    fn document_symbol(&mut self, id: Value, params: &Value) {
        match self.mode.as_str() {
            "crash-always" => crash(),
            "crash-once" if self.first_start => crash(),
            "hang" => return,
            "huge-length" => {
                self.write_raw(b"Content-Length: 99999999999\r\n\r\n");
                eprintln!("fake-lsp: sent a huge Content-Length, now hanging");
                hang_forever();
            }
            "slow" => thread::sleep(self.delay),
            "garbage" => {
                self.write_raw(b"garbage line without header\n");
                self.write_raw(b"Content-Length: 5\r\n\r\nnot j");
            }
            _ => {}
        }
        let config = (self.mode == "server-requests").then(|| self.ask_client());
        let text = self.text(params);
        let mut symbols: Vec<Value> = (self.defs(&text).into_iter())
            .map(|d| {
                json!({"name": d.name, "kind": 12, "range": range(d.line, 0, d.line_len),
                    "selectionRange": range(d.line, d.start, d.end)})
            })
            .collect();
        if let (Some(config), Some(first)) = (config, symbols.first_mut()) {
            first["detail"] = Value::String(config);
        }
        if self.mode == "malformed" {
            // A symbol whose range has a position without `character`.
            symbols.push(json!({"name": "broken", "kind": 12,
                "range": {"start": {"line": 0}, "end": {"line": 1, "character": 0}},
                "selectionRange": range(0, 0, 1)}));
        }
        self.reply(id, Ok(Value::Array(symbols)));
    }

    /// `server-requests`: sends [`CLIENT_REQUESTS`] and waits for all their replies, logging
    /// `reply <method> <json>` for each; returns the workspace/configuration answer's JSON.
    fn ask_client(&mut self) -> String {
        let requests: Vec<(String, Value)> = serde_json::from_str(CLIENT_REQUESTS).unwrap();
        let mut pending = Vec::new();
        for (method, params) in requests {
            let id = json!(self.next_id);
            self.next_id += 1;
            let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
            if !params.is_null() {
                msg["params"] = params;
            }
            self.send(&msg);
            pending.push((id, method));
        }
        let mut config = String::from("null");
        while !pending.is_empty() {
            let Some(msg) = self.read_frame() else {
                eprintln!("fake-lsp: stdin closed while waiting for replies, exiting");
                process::exit(0);
            };
            let slot = match (msg.get("method"), msg.get("id")) {
                (None, Some(id)) => pending.iter().position(|(p, _)| p == id),
                _ => None,
            };
            let Some(i) = slot else {
                self.queue.push_back(msg); // handled after the documentSymbol reply
                continue;
            };
            let (_, method) = pending.remove(i);
            let outcome = msg.get("error").or_else(|| msg.get("result"));
            let outcome = outcome.unwrap_or(&Value::Null).to_string();
            eprintln!("reply {method} {outcome}");
            if method == "workspace/configuration" {
                config = outcome;
            }
        }
        config
    }

    /// The text of the document `params.textDocument.uri` (empty if it is not open).
    fn text(&self, params: &Value) -> String {
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        self.docs.get(uri).cloned().unwrap_or_default()
    }

    /// Length of `s` in units of the advertised position encoding.
    fn units(&self, s: &str) -> usize {
        if self.utf8 {
            s.len()
        } else {
            s.encode_utf16().count()
        }
    }

    /// Every line starting with `def NAME`.
    fn defs(&self, text: &str) -> Vec<Def> {
        let mut defs = Vec::new();
        for (line_no, line) in text.lines().enumerate() {
            let Some(after) = line.strip_prefix("def ") else {
                continue;
            };
            let start = line.len() - after.trim_start().len();
            let rest = &line[start..];
            let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'));
            let end = start + len.unwrap_or(rest.len());
            if end > start {
                let (line_len, name) = (self.units(line), line[start..end].to_owned());
                let (start, end) = (self.units(&line[..start]), self.units(&line[..end]));
                defs.push(Def {
                    line: line_no,
                    line_len,
                    start,
                    end,
                    name,
                });
            }
        }
        defs
    }

    fn hover(&self, params: &Value) -> Value {
        let text = self.text(params);
        let position = |key: &str| params["position"][key].as_u64().unwrap_or(0) as usize;
        let line = text.lines().nth(position("line")).unwrap_or("");
        // Byte offset of the requested column (clamped to the end of the line).
        let column = position("character");
        let mut units = 0;
        let at = line.char_indices().find(|&(_, c)| {
            let reached = units >= column;
            units += self.units(c.encode_utf8(&mut [0; 4]));
            reached
        });
        let word = word_at(line, at.map_or(line.len(), |(i, _)| i));
        if word.is_empty() {
            return Value::Null;
        }
        json!({"contents": {"kind": "markdown", "value": format!("```\ndef {word}()\n```")}})
    }

    /// One token per `def` name: type 0 (function), modifier bit 0 (declaration).
    fn semantic_tokens(&self, params: &Value) -> Value {
        let mut data = Vec::new();
        let mut previous_line = 0;
        for d in self.defs(&self.text(params)) {
            // At most one token per line, so the start column is never relative.
            data.extend([d.line - previous_line, d.start, d.end - d.start, 0, 1]);
            previous_line = d.line;
        }
        json!({ "data": data })
    }
}
