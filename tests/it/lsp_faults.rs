//! Fault injection: a purpose-built server (`examples/fake_lsp.rs`) that crashes, hangs,
//! replies slowly, writes garbage or an absurd Content-Length, and sends server→client
//! requests before replying. The run survives each, every file keeps its record, and the
//! record says what happened. (The real servers are tested in `lsp_servers`.)

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{disco, fake_lsp, json_lines, run, write};

/// A workspace of Python files served only by the fake server in `mode`.
fn workspace(mode: &str, extra_env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "repo/a.py", "def alpha():\n    return 1\n".as_bytes());
    write(p, "repo/b.py", "def beta():\n    return 2\n".as_bytes());
    write(p, "repo/c.py", "def été_b():\n    return 3\n".as_bytes());
    std::fs::create_dir_all(p.join("state")).unwrap();
    let catalog = format!(
        "[servers.fake]\ncommand = [{:?}]\nlanguages = [\"python\"]\nrequest_timeout_ms = 1500\nstartup_timeout_ms = 10000\nconcurrency = 4\nenv = {{ FAKE_LSP_MODE = {mode:?}, FAKE_LSP_STATE_DIR = {:?}{extra_env} }}\nsettings = {{ fake = {{ answer = 42 }} }}\n",
        fake_lsp().to_str().unwrap(),
        p.join("state").to_str().unwrap()
    );
    std::fs::write(p.join("disco.toml"), catalog).unwrap();
    dir
}

/// Runs `disco tree repo --lsp symbols` in the workspace; returns records, stderr, seconds.
fn tree(dir: &Path, extra: &[&str]) -> (Vec<Value>, String, f64) {
    let started = Instant::now();
    let (out, stdout, stderr) = run(disco()
        .args(["tree", "repo", "--lsp", "symbols", "--quiet", "--jobs", "1"])
        .args(extra)
        .current_dir(dir));
    assert!(out.status.success(), "{stderr}");
    (json_lines(&stdout), stderr, started.elapsed().as_secs_f64())
}

fn server(rec: &Value) -> &Value {
    &rec["producers"]["servers"][0]
}

fn starts(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("state/starts"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn a_well_behaved_server_annotates_nodes() {
    let dir = workspace("ok", "");
    let (recs, _, _) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(server(r)["status"], "ok", "{r}");
        assert_eq!(server(r)["name"], "fake");
    }
    let a = &recs[0];
    let sym = a["symbols"].as_object().unwrap().values().next().unwrap();
    assert_eq!(sym["name"], "alpha");
    assert!(sym["hover"].as_str().unwrap().contains("def alpha()"));
    // The selection range lands on the name node, which carries the symbol and the token.
    let name = &a["tree"]["children"][0]["children"][1];
    assert_eq!(name["text"], "alpha");
    assert_eq!(name["sym"], sym["id"]);
    assert_eq!(name["tok"]["type"], "function");
}

#[test]
fn positions_follow_the_negotiated_encoding() {
    for mode in ["ok", "bad-encoding"] {
        let dir = workspace(mode, "");
        let (recs, _, _) = tree(dir.path(), &[]);
        let c = recs.iter().find(|r| r["file"]["path"] == "c.py").unwrap();
        let expected = if mode == "ok" { "utf-16" } else { "utf-8" };
        assert_eq!(server(c)["position_encoding"], expected);
        let name = &c["tree"]["children"][0]["children"][1];
        assert_eq!(name["text"], "été_b", "{mode}");
        assert!(
            name["sym"].is_string(),
            "{mode}: the symbol landed elsewhere: {}",
            c["tree"]
        );
    }
}

#[test]
fn a_crash_mid_request_restarts_the_server_and_retries() {
    let dir = workspace("crash-once", "");
    let (recs, _, _) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3);
    let a = &recs[0];
    assert_eq!(server(a)["status"], "partial", "{}", server(a));
    assert!(server(a)["error"].as_str().unwrap().contains("restarted"));
    assert_eq!(
        a["symbols"].as_object().unwrap().len(),
        1,
        "the retried request answered"
    );
    assert_eq!(server(&recs[1])["status"], "ok");
    assert_eq!(starts(dir.path()), 2);
}

#[test]
fn a_server_that_always_crashes_is_given_up_and_files_keep_their_records() {
    let dir = workspace("crash-always", "");
    let (recs, stderr, _) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3, "{stderr}");
    for r in &recs {
        assert_eq!(r["status"], "ok", "the syntax tree is still there");
        assert_eq!(server(r)["status"], "crashed", "{}", server(r));
        assert!(r["tree"].is_object());
    }
    assert!(
        starts(dir.path()) <= 4,
        "restarts are bounded: {}",
        starts(dir.path())
    );
    assert!(stderr.contains("fake: 3 crashed"), "{stderr}");
}

#[test]
fn a_hanging_request_times_out_and_is_cancelled() {
    let dir = workspace("hang", "");
    let (recs, stderr, _) = tree(dir.path(), &["-vv"]);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(server(r)["status"], "timeout", "{}", server(r));
        let errors = r["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["request"] == "textDocument/documentSymbol"
                    && e["message"].as_str().unwrap().contains("no reply within")),
            "{errors:?}"
        );
    }
    assert!(
        stderr.contains("cancelled "),
        "the server saw $/cancelRequest: {stderr}"
    );
}

#[test]
fn a_server_that_stops_answering_everything_is_killed() {
    let marker = format!("disco-it-{}", std::process::id());
    let dir = workspace("hang-all", &format!(", DISCO_IT_MARKER = {marker:?}"));
    let (recs, _, secs) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| server(r)["status"] == "timeout"));
    // Shutdown has a deadline, then the process group is killed: nothing is left behind.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!process_with_env(&marker), "a fake server survived the run");
    eprintln!("hang-all run took {secs:.1} s");
}

fn process_with_env(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| env.windows(marker.len()).any(|w| w == marker.as_bytes()))
        })
}

#[test]
fn slow_replies_garbage_and_chatty_stdout_are_survived() {
    for mode in ["slow", "garbage"] {
        let dir = workspace(mode, ", FAKE_LSP_DELAY_MS = \"300\"");
        let (recs, _, _) = tree(dir.path(), &[]);
        for r in &recs {
            assert_eq!(server(r)["status"], "ok", "{mode}: {}", server(r));
            assert_eq!(r["symbols"].as_object().unwrap().len(), 1, "{mode}");
        }
    }
}

#[test]
fn an_absurd_content_length_is_refused_without_allocating_it() {
    let dir = workspace("huge-length", "");
    let (recs, _, _) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        let s = server(r);
        assert_eq!(s["status"], "crashed", "{s}");
        assert!(
            r["errors"].to_string().contains("over the"),
            "{}",
            r["errors"]
        );
    }
}

#[test]
fn server_to_client_requests_are_answered_before_the_reply() {
    let dir = workspace("server-requests", "");
    let (recs, stderr, _) = tree(dir.path(), &["-vv"]);
    let a = &recs[0];
    assert_eq!(server(a)["status"], "ok");
    let sym = a["symbols"].as_object().unwrap().values().next().unwrap();
    // workspace/configuration was answered from the catalog's settings.
    assert_eq!(sym["detail"], "[{\"answer\":42}]");
    for line in [
        "reply client/registerCapability null",
        "reply window/workDoneProgress/create null",
        "reply workspace/applyEdit {\"applied\":false",
        "reply fake/unknownRequest {\"code\":-32601",
    ] {
        assert!(stderr.contains(line), "missing `{line}` in {stderr}");
    }
    assert!(
        stderr.contains("reply workspace/workspaceFolders [{\"name\":\"repo\""),
        "{stderr}"
    );
}

#[test]
fn a_file_asked_while_the_server_indexes_says_indexing_not_no_answers() {
    let dir = workspace("indexing", "");
    let (recs, _, _) = tree(dir.path(), &[]);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        let s = server(r);
        assert_eq!(s["status"], "indexing", "{s}");
        assert!(
            s["error"].as_str().unwrap().contains("still indexing"),
            "{s}"
        );
    }
}

#[test]
fn a_malformed_range_is_a_recorded_error_not_position_zero() {
    let dir = workspace("malformed", "");
    let (recs, _, _) = tree(dir.path(), &[]);
    let a = &recs[0];
    let symbols = a["symbols"].as_object().unwrap();
    assert_eq!(symbols.len(), 1, "only the valid symbol: {symbols:?}");
    assert!(symbols.values().all(|s| s["name"] == "alpha"));
    let errors = a["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["request"] == "textDocument/documentSymbol"
                && e["message"]
                    .as_str()
                    .unwrap()
                    .contains("malformed reply item")),
        "{errors:?}"
    );
}
