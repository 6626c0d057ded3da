//! `disco lsp` driven over stdio as an editor drives it: initialize, open, document symbols,
//! every command, an incremental edit reflected in the next tree, catalog diagnostics, a
//! failing command that leaves the server running, shutdown and exit.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use disco::lsp::transport::{read_message, write_message, DEFAULT_MAX_MESSAGE};
use serde_json::{json, Value};
use tokio::io::BufReader;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::support::{fake_lsp, write};

struct Editor {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: i64,
    notifications: Vec<Value>,
}

impl Editor {
    async fn start(root: &Path, level: &str) -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_disco"))
            .arg("lsp")
            .current_dir(root)
            .env_remove("DISCO_CATALOG")
            .env(
                "CARGO_TARGET_DIR",
                std::env::temp_dir().join("disco-it-servers-target"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ed = Editor {
            child,
            stdin,
            stdout,
            next: 1,
            notifications: Vec::new(),
        };
        let uri = uri(root);
        let init = ed
            .request("initialize", json!({"processId": null, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "w"}], "capabilities": {}, "initializationOptions": {"lspLevel": level}}))
            .await
            .unwrap();
        assert_eq!(init["serverInfo"]["name"], "disco");
        let commands = init["capabilities"]["executeCommandProvider"]["commands"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(commands, 5);
        ed.notify("initialized", json!({})).await;
        ed
    }

    async fn send(&mut self, v: Value) {
        write_message(&mut self.stdin, &serde_json::to_vec(&v).unwrap())
            .await
            .unwrap();
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// A request's result (`Err` with the error object), collecting notifications meanwhile.
    async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next;
        self.next += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let msg = self.recv().await;
            if msg["id"] == id && msg.get("method").is_none() {
                return match msg.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(msg["result"].clone()),
                };
            }
            if msg.get("method").is_some() && msg.get("id").is_some() {
                let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": null});
                self.send(reply).await;
            } else {
                self.notifications.push(msg);
            }
        }
    }

    async fn recv(&mut self) -> Value {
        let body = tokio::time::timeout(
            Duration::from_secs(120),
            read_message(&mut self.stdout, DEFAULT_MAX_MESSAGE),
        )
        .await
        .expect("the server answers")
        .unwrap()
        .expect("a message");
        serde_json::from_slice(&body).expect("stdout carries only protocol messages")
    }

    async fn command(&mut self, command: &str, args: Value) -> Result<Value, Value> {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": args}),
        )
        .await
    }

    /// Waits for a `publishDiagnostics` for `uri`.
    async fn diagnostics_for(&mut self, uri: &str) -> Value {
        loop {
            if let Some(n) = self.notifications.iter().rev().find(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            }) {
                return n["params"]["diagnostics"].clone();
            }
            let msg = self.recv().await;
            self.notifications.push(msg);
        }
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

const CATALOG: &str = "[volumes.data]\nurl = \"file://data\"\n\n[validators.v]\nschema = { type = \"object\" }\n\n[pipelines.clean]\ninput = \"data://in.csv\"\nstages = [\"v\"]\noutput = \"data://out/clean.parquet\"\n";

#[tokio::test]
async fn an_editor_session_from_open_to_exit() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(&root, "disco.toml", CATALOG.as_bytes());
    let app = "def greet(name):\n    return name\n\nvalue = greet('x')\n";
    write(&root, "app.py", app.as_bytes());
    let mut ed = Editor::start(&root, "none").await;
    let app_uri = uri(&root.join("app.py"));
    ed.notify("textDocument/didOpen", json!({"textDocument": {"uri": app_uri, "languageId": "python", "version": 1, "text": app}})).await;

    let symbols = ed
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": app_uri}}),
        )
        .await
        .unwrap();
    assert_eq!(symbols[0]["name"], "greet");
    assert_eq!(
        symbols[0]["selectionRange"]["start"],
        json!({"line": 0, "character": 4})
    );

    let rec = ed
        .command("disco.tree", json!([{"uri": app_uri}]))
        .await
        .unwrap();
    assert_eq!(rec["schema"], "disco.tree/1");
    assert_eq!(rec["definitions"][0]["name"], "greet");

    // An incremental edit: rename the definition; the next tree reflects it.
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": app_uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 9}}, "text": "welcome"}]}),
    )
    .await;
    let rec = ed
        .command("disco.tree", json!([{"uri": app_uri}]))
        .await
        .unwrap();
    assert_eq!(rec["definitions"][0]["name"], "welcome");
    assert_eq!(rec["tree"]["children"][0]["children"][1]["text"], "welcome");
    assert_eq!(rec["status"], "ok");

    let node = ed
        .command(
            "disco.node",
            json!([{"uri": app_uri, "position": {"line": 0, "character": 6}}]),
        )
        .await
        .unwrap();
    assert_eq!(node["node"]["kind"], "identifier");
    assert_eq!(node["node"]["text"], "welcome");
    assert_eq!(node["ancestors"][0], "function_definition");

    let catalog = ed.command("disco.catalog", json!([])).await.unwrap();
    let names: Vec<&str> = catalog["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["data", "v", "clean"]);
    assert!(catalog["origin"].as_str().unwrap().ends_with("disco.toml"));

    let servers = ed.command("disco.servers", json!([])).await.unwrap();
    assert!(servers
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "basedpyright"));

    let err = ed
        .command("disco.runPipeline", json!([{"name": "nope"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("no pipeline named `nope`"),
        "{err}"
    );
    // A real run, with work-done progress under the client's token.
    write(&root, "data/in.csv", b"a,b\n1,x\n2,y\n3,z\n");
    let sum = ed
        .request(
            "workspace/executeCommand",
            json!({"command": "disco.runPipeline", "arguments": [{"name": "clean"}], "workDoneToken": "run-1"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (sum["rowsIn"].as_u64(), sum["rowsOut"].as_u64()),
        (Some(3), Some(3)),
        "{sum}"
    );
    assert!(sum["summary"]
        .as_str()
        .unwrap()
        .contains("rows in 3 = 3 passed + 0 rejected"));
    assert!(root.join("data/out/clean.parquet").is_file());
    // The last progress notification may trail the answer.
    let kinds = loop {
        let kinds: Vec<String> = ed
            .notifications
            .iter()
            .filter(|n| n["method"] == "$/progress" && n["params"]["token"] == "run-1")
            .map(|n| n["params"]["value"]["kind"].as_str().unwrap().to_string())
            .collect();
        if kinds.iter().any(|k| k == "end") {
            break kinds;
        }
        let msg = ed.recv().await;
        ed.notifications.push(msg);
    };
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("begin"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("end"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "report"), "{kinds:?}");
    let err = ed.command("disco.bogus", json!([])).await.unwrap_err();
    assert_eq!(err["code"], -32601);

    // disco.toml diagnostics, with the line of the error.
    let cat_uri = uri(&root.join("disco.toml"));
    let bad = CATALOG.replace("file://data", "ftp://data");
    ed.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": cat_uri, "languageId": "toml", "version": 1, "text": bad}}),
    )
    .await;
    let diags = ed.diagnostics_for(&cat_uri).await;
    assert_eq!(diags[0]["range"]["start"]["line"], 1, "{diags}");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown scheme `ftp://`"),
        "{diags}"
    );
    // Fixing it clears them.
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": cat_uri, "version": 2}, "contentChanges": [{"text": CATALOG}]}),
    )
    .await;
    ed.notifications.clear();
    let diags = ed.diagnostics_for(&cat_uri).await;
    assert_eq!(diags, json!([]));

    // The server is still up after the failing handlers; then shutdown and exit.
    assert!(ed
        .command("disco.tree", json!([{"uri": app_uri}]))
        .await
        .is_ok());
    ed.request("shutdown", Value::Null).await.unwrap();
    ed.notify("exit", Value::Null).await;
    let status = tokio::time::timeout(Duration::from_secs(30), ed.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_node_at_the_cursor_carries_what_the_servers_know() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let catalog = format!(
        "[servers.fake]\ncommand = [{:?}]\nlanguages = [\"python\"]\n",
        fake_lsp().to_str().unwrap()
    );
    write(&root, "disco.toml", catalog.as_bytes());
    let app = "def greet(name):\n    return name\n";
    write(&root, "app.py", app.as_bytes());
    let mut ed = Editor::start(&root, "symbols").await;
    let app_uri = uri(&root.join("app.py"));
    // An unsaved buffer: the servers see the editor's text, not the file's.
    let edited = "def hello(name):\n    return name\n";
    ed.notify("textDocument/didOpen", json!({"textDocument": {"uri": app_uri, "languageId": "python", "version": 1, "text": edited}})).await;
    let node = ed
        .command(
            "disco.node",
            json!([{"uri": app_uri, "position": {"line": 0, "character": 5}}]),
        )
        .await
        .unwrap();
    assert_eq!(node["node"]["text"], "hello");
    assert_eq!(node["node"]["tok"]["type"], "function");
    assert_eq!(node["symbol"]["name"], "hello");
    assert!(
        node["hover"].as_str().unwrap().contains("def hello()"),
        "{node}"
    );
    let servers = ed.command("disco.servers", json!([])).await.unwrap();
    let fake = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "fake")
        .unwrap();
    assert_eq!(fake["status"], "running");
    assert_eq!(fake["positionEncoding"], "utf-16");
    ed.request("shutdown", Value::Null).await.unwrap();
    ed.notify("exit", Value::Null).await;
    assert!(
        tokio::time::timeout(Duration::from_secs(30), ed.child.wait())
            .await
            .unwrap()
            .unwrap()
            .success()
    );
}

/// Regression: `disco.runPipeline` went through a run path that wrote no rejects table, while
/// `disco run` kept rejected rows beside the output. Both now build the same run request.
#[tokio::test]
async fn the_editors_pipeline_runs_keep_rejects_like_disco_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let catalog = "[volumes.data]\nurl = \"file://data\"\n\n\
                   [validators.small]\nschema = { type = \"object\", properties = { a = { maximum = 2 } } }\n\n\
                   [pipelines.clean]\ninput = \"data://in.csv\"\nstages = [\"small\"]\noutput = \"data://out/clean.parquet\"\n";
    write(&root, "disco.toml", catalog.as_bytes());
    write(&root, "data/in.csv", b"a,b\n1,x\n2,y\n3,z\n");
    let mut ed = Editor::start(&root, "none").await;
    let sum = ed
        .command("disco.runPipeline", json!([{"name": "clean"}]))
        .await
        .unwrap();
    ed.request("shutdown", Value::Null).await.unwrap();
    assert_eq!(
        (
            sum["rowsIn"].as_u64(),
            sum["rowsRejected"].as_u64(),
            sum["rejectsKept"].as_bool()
        ),
        (Some(3), Some(1), Some(true)),
        "{sum}"
    );
    let rejects = root.join("data/out/clean.rejects.parquet");
    assert!(rejects.is_file(), "{sum}");
    let editor_rejects = std::fs::read(&rejects).unwrap();
    std::fs::remove_dir_all(root.join("data/out")).unwrap();
    // The CLI's run of the same pipeline says and writes the same.
    let (out, _, stderr) = super::support::run(
        super::support::disco()
            .current_dir(&root)
            .args(["run", "clean", "--quiet"]),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(sum["summary"].as_str().unwrap()),
        "{stderr} vs {sum}"
    );
    assert_eq!(
        std::fs::read(&rejects).unwrap().len(),
        editor_rejects.len(),
        "the same rejects table"
    );
}

#[tokio::test]
async fn a_file_not_open_in_the_editor_is_decoded_as_disco_tree_decodes_it() {
    // `disco.tree` on a file the editor has not opened reads it from disk: a Latin-1 file
    // must not fail as invalid UTF-8 there either.
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(&root, "latin1.py", b"def cafe():\n    return \"caf\xe9\"\n");
    let mut ed = Editor::start(&root, "none").await;
    let file_uri = uri(&root.join("latin1.py"));
    let rec = ed
        .command("disco.tree", json!([{"uri": file_uri}]))
        .await
        .unwrap();
    assert_eq!(rec["file"]["encoding"], "windows-1252", "{}", rec["file"]);
    assert_eq!(rec["definitions"][0]["name"], "cafe");
    let node = ed
        .command(
            "disco.node",
            json!([{"uri": file_uri, "position": {"line": 1, "character": 13}}]),
        )
        .await
        .unwrap();
    assert_eq!(node["node"]["text"], "café", "{node}");
    ed.request("shutdown", Value::Null).await.unwrap();
    ed.notify("exit", Value::Null).await;
}
