//! `workspace/executeCommand`: Disco's own requests, each a thin call into the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types as lsp;
use tree_sitter as ts;

use super::documents::path_to_uri;
use super::{lock, position, Backend, State};
use crate::lsp::{find_program, known, Encoding, LineIndex};
use crate::syntax::{detect, node_index, parse};
use crate::tree::{build_source, Enricher, Format, LspLevel, Payload, Source, TreeOptions};
use crate::volume::{decode, Decoded};

fn invalid(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}

fn failed(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into().into(),
        data: None,
    }
}

/// The `uri` argument of a command, as a path.
fn arg_path(params: &lsp::ExecuteCommandParams) -> Result<(String, PathBuf)> {
    let uri = params
        .arguments
        .first()
        .and_then(|a| a["uri"].as_str())
        .ok_or_else(|| invalid("expected [{\"uri\": ...}]"))?;
    let parsed: lsp::Uri = uri
        .parse()
        .map_err(|_| invalid(format!("not a URI: {uri}")))?;
    let path = parsed
        .to_file_path()
        .map(|p| p.into_owned())
        .ok_or_else(|| invalid(format!("not a file URI: {uri}")))?;
    Ok((parsed.as_str().to_string(), path))
}

pub async fn execute(backend: &Backend, params: lsp::ExecuteCommandParams) -> Result<Value> {
    let state = backend.state.clone();
    match params.command.as_str() {
        "disco.tree" => {
            let (uri, path) = arg_path(&params)?;
            record(&state, &uri, &path).await
        }
        "disco.node" => node(&state, &params).await,
        "disco.catalog" => {
            let cat = state.catalog().map_err(|e| failed(e.to_string()))?;
            let resources: Vec<Value> = cat
                .resources()
                .into_iter()
                .map(|(kind, name, line)| json!({"kind": kind.noun(), "name": name, "line": line, "detail": cat.detail(kind, name)}))
                .collect();
            Ok(json!({"origin": cat.origin(), "path": cat.path, "resources": resources}))
        }
        "disco.runPipeline" => {
            let name = params
                .arguments
                .first()
                .and_then(|a| a["name"].as_str())
                .ok_or_else(|| invalid("expected [{\"name\": ...}]"))?;
            let cat = state.catalog().map_err(|e| failed(e.to_string()))?;
            if !cat.pipelines.contains_key(name) {
                let known: Vec<&str> = cat.pipelines.keys().map(String::as_str).collect();
                return Err(invalid(format!(
                    "no pipeline named `{name}` in {} (known: {})",
                    cat.origin(),
                    known.join(", ")
                )));
            }
            let token = params.work_done_progress_params.work_done_token.clone();
            run_pipeline(backend, cat, name.to_string(), token).await
        }
        "disco.servers" => {
            let sup = state.supervisor();
            let mut out: Vec<Value> = Vec::new();
            for s in sup.sessions().await {
                out.push(json!({
                    "name": s.name, "root": s.root, "status": if s.crashed().is_some() { "crashed" } else { "running" },
                    "version": s.version, "positionEncoding": s.encoding.as_str(),
                }));
            }
            let catalog = state.catalog().unwrap_or_default();
            for k in known(&catalog) {
                if !out.iter().any(|o| o["name"] == k.def.name.as_str()) {
                    let installed = find_program(&k.def.command[0]).is_some();
                    out.push(json!({"name": k.def.name, "root": null, "status": if installed { "idle" } else { "not installed" }, "version": null, "positionEncoding": null, "languages": k.def.languages}));
                }
            }
            Ok(Value::Array(out))
        }
        other => Err(Error {
            code: ErrorCode::MethodNotFound,
            message: format!(
                "unknown command `{other}` (known: {})",
                super::COMMANDS.join(", ")
            )
            .into(),
            data: None,
        }),
    }
}

/// A file on disk, decoded as `disco tree` decodes it (BOMs, UTF-16/32, detected legacy
/// encodings), so editor commands see the text the records were made from.
fn read_text(path: &Path) -> std::result::Result<Decoded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    decode(bytes, None).map_err(|e| format!("{}: {e}", path.display()))
}

/// The nested record of a document, with the configured language-server level. An open
/// buffer is the editor's UTF-8 text; a file on disk is loaded exactly as `disco tree` loads
/// it (the same decoder, and `bytes`/`sha256` of the file's bytes, not of the decoded text).
async fn record(state: &Arc<State>, uri: &str, path: &Path) -> Result<Value> {
    let open = lock(&state.docs).by_uri.get(uri).map(|d| d.text.clone());
    let on_disk = match open {
        Some(_) => None,
        None => Some(std::fs::read(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?),
    };
    let root = lock(&state.root)
        .clone()
        .or_else(|| path.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let rel = path
        .strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let volume = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workspace".into());
    let level = *lock(&state.level);
    let enricher = (level > LspLevel::None).then(|| {
        Arc::new(Enricher {
            supervisor: state.supervisor(),
            level,
            runtime: state
                .runtime
                .get()
                .cloned()
                .unwrap_or_else(tokio::runtime::Handle::current),
            root: root.clone(),
            push_wait: Duration::from_secs(5),
            only: None,
            plan: Default::default(),
        })
    });
    let opts = TreeOptions {
        format: Format::Nested,
        max_depth: 500,
        enricher,
        ..TreeOptions::default()
    };
    // Building a record blocks on the language servers: off the async runtime.
    let out = tokio::task::spawn_blocking(move || {
        let src = match (open, on_disk) {
            (Some(text), _) => {
                let language = detect(&rel, text.as_bytes());
                Source::from_text(&volume, &rel, text, language)
            }
            (None, bytes) => Source::from_bytes(&volume, &rel, bytes.unwrap_or_default(), None),
        };
        build_source(src, &opts)
    })
    .await
    .map_err(|e| failed(format!("building the record failed: {e}")))?;
    let Payload::Json(bytes) = out.payload else {
        return Err(failed("no record"));
    };
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).map_err(|e| failed(format!("bad record: {e}")))
}

/// Finds the node object with pre-order index `n` in a nested tree.
fn find_node(tree: &Value, n: u64) -> Option<&Value> {
    let mut cur = tree;
    loop {
        if cur["n"].as_u64() == Some(n) {
            return Some(cur);
        }
        // Children are in pre-order: descend into the last child whose `n` is not past it.
        cur = cur["children"]
            .as_array()?
            .iter()
            .take_while(|c| c["n"].as_u64().is_some_and(|cn| cn <= n))
            .last()?;
    }
}

/// The LSP range of node `n` of the file at `path` (parsed for the purpose).
fn range_of(path: &Path, n: u64) -> Option<lsp::Range> {
    let text = read_text(path).ok()?.text;
    let lang = detect(&path.to_string_lossy(), text.as_bytes())?;
    let tree = parse(lang, text.as_bytes(), Some(Duration::from_secs(10))).ok()?;
    let mut cursor = tree.walk();
    cursor.goto_descendant(n as usize);
    let node = cursor.node();
    Some(lsp::Range {
        start: position(&text, node.start_byte()),
        end: position(&text, node.end_byte()),
    })
}

fn location(root: &Path, endpoint: &Value) -> Value {
    let rel = endpoint["path"].as_str().unwrap_or("");
    let path = if Path::new(rel).is_absolute() {
        PathBuf::from(rel)
    } else {
        root.join(rel)
    };
    let range = endpoint["node"].as_u64().and_then(|n| range_of(&path, n));
    json!({"uri": path_to_uri(&path).map(|u| u.as_str().to_string()), "path": rel, "node": endpoint["node"], "range": range})
}

/// `disco.node`: the node at a position, with everything the record knows about it.
async fn node(state: &Arc<State>, params: &lsp::ExecuteCommandParams) -> Result<Value> {
    let (uri, path) = arg_path(params)?;
    let pos = &params.arguments[0]["position"];
    let (line, character) = (
        pos["line"].as_u64().unwrap_or(0) as u32,
        pos["character"].as_u64().unwrap_or(0) as u32,
    );
    let (offset, n, ancestors, text) = {
        let docs = lock(&state.docs);
        let owned;
        let (text, tree): (&str, Option<&ts::Tree>) = match docs.by_uri.get(&uri) {
            Some(d) => (&d.text, d.tree.as_ref()),
            None => {
                owned = read_text(&path).map_err(invalid)?.text;
                (&owned, None)
            }
        };
        let offset = LineIndex::new(text).offset(text, line, character, Encoding::Utf16);
        let parsed;
        let tree = match tree {
            Some(t) => t,
            None => {
                let lang = detect(&path.to_string_lossy(), text.as_bytes())
                    .ok_or_else(|| invalid("no grammar for this file"))?;
                parsed = parse(lang, text.as_bytes(), Some(Duration::from_secs(10)))
                    .map_err(|e| failed(e.to_string()))?;
                &parsed
            }
        };
        let node = tree
            .root_node()
            .descendant_for_byte_range(offset, offset)
            .ok_or_else(|| invalid("no node there"))?;
        let n = node_index(tree, node).ok_or_else(|| failed("node not found in its tree"))?;
        let ancestors: Vec<String> = std::iter::successors(node.parent(), |p| p.parent())
            .map(|p| p.kind().to_string())
            .collect();
        (offset, n, ancestors, text.to_string())
    };
    let rec = record(state, &uri, &path).await?;
    let node = find_node(&rec["tree"], n as u64)
        .cloned()
        .ok_or_else(|| failed("node not in the record"))?;
    let sym_id = node["sym"]
        .as_str()
        .or_else(|| node["occ"]["sym"].as_str())
        .map(str::to_string);
    let symbol = sym_id
        .as_deref()
        .and_then(|id| rec["symbols"].get(id))
        .cloned();
    let diagnostics: Vec<Value> = rec["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| {
            d["node"].as_u64() == Some(n as u64)
                || (d["span"][0].as_u64().unwrap_or(u64::MAX) <= offset as u64
                    && offset as u64 <= d["span"][1].as_u64().unwrap_or(0))
        })
        .cloned()
        .collect();
    let root = lock(&state.root)
        .clone()
        .or_else(|| path.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let definition: Vec<Value> = node
        .get("def")
        .map(|d| location(&root, d))
        .into_iter()
        .collect();
    let references: Vec<Value> = match &sym_id {
        Some(id) => rec["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["kind"] == "references" && e["to"]["sym"] == id.as_str())
            .map(|e| location(&root, &e["from"]))
            .collect(),
        None => Vec::new(),
    };
    let mut bare = node.clone();
    if let Some(o) = bare.as_object_mut() {
        o.remove("children");
    }
    let _ = text;
    Ok(json!({
        "node": bare,
        "ancestors": ancestors,
        "symbol": symbol,
        "hover": node["hover"].as_str().map(str::to_string).or_else(|| symbol.as_ref().and_then(|s| s["hover"].as_str().map(str::to_string))),
        "definition": definition,
        "references": references,
        "diagnostics": diagnostics,
        "file": rec["file"],
    }))
}

/// Runs a catalog pipeline on a blocking thread, reporting work-done progress per input
/// part when the client gave a token, and returns the run's summary.
async fn run_pipeline(
    backend: &Backend,
    cat: crate::catalog::Catalog,
    name: String,
    token: Option<lsp::ProgressToken>,
) -> Result<Value> {
    use lsp::notification::Progress;
    use lsp::{ProgressParams, ProgressParamsValue, WorkDoneProgress};
    let client = backend.client.clone();
    let send = |value: WorkDoneProgress| {
        let client = client.clone();
        let token = token.clone();
        async move {
            if let Some(token) = token {
                client
                    .send_notification::<Progress>(ProgressParams {
                        token,
                        value: ProgressParamsValue::WorkDone(value),
                    })
                    .await;
            }
        }
    };
    send(WorkDoneProgress::Begin(lsp::WorkDoneProgressBegin {
        title: format!("Pipeline {name}"),
        cancellable: Some(false),
        message: Some("checking the plan".into()),
        percentage: Some(0),
    }))
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
    let on_part = crate::pipeline::OnPart(Arc::new(move |done, total| {
        let _ = tx.send((done, total));
    }));
    let job_name = name.clone();
    let started = std::time::Instant::now();
    let job = tokio::task::spawn_blocking(move || {
        let opts = crate::pipeline::RunOptions {
            on_part: Some(on_part),
            ..Default::default()
        };
        crate::Disco::with_catalog(cat).run_pipeline(&job_name, &opts)
    });
    while let Some((done, total)) = rx.recv().await {
        send(WorkDoneProgress::Report(lsp::WorkDoneProgressReport {
            cancellable: Some(false),
            message: Some(format!("{done}/{total} parts")),
            percentage: Some((done * 100 / total.max(1)) as u32),
        }))
        .await;
    }
    let outcome = job
        .await
        .map_err(|e| failed(format!("pipeline `{name}` panicked: {e}")))?;
    let message = match &outcome {
        Ok(sum) => sum.line(),
        Err(e) => format!("failed: {e:#}"),
    };
    send(WorkDoneProgress::End(lsp::WorkDoneProgressEnd {
        message: Some(message),
    }))
    .await;
    let sum = outcome.map_err(|e| failed(format!("pipeline `{name}`: {e:#}")))?;
    let by: serde_json::Map<String, Value> = sum
        .rejected_by
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    Ok(json!({
        "pipeline": name,
        "summary": sum.line(),
        "parts": sum.parts,
        "partsWritten": sum.parts_written,
        "partsSkipped": sum.parts_skipped,
        "rowsIn": sum.rows_in,
        "rowsPassed": sum.rows_passed,
        "rowsRejected": sum.rows_rejected,
        "rowsOut": sum.rows_out,
        "rejectedBy": by,
        "rejectsKept": sum.rejects_kept,
        "partsFailed": sum.failures.len(),
        "failures": sum.failures.iter().map(|f| json!({
            "part": f.index,
            "file": f.file,
            "error": f.error,
            "rowsWritten": f.rows_written,
        })).collect::<Vec<_>>(),
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
