//! The JSON-RPC connection over in-memory pipes, the test playing the server: concurrent
//! requests answered out of order, timeouts that send `$/cancelRequest` and drop the late
//! reply, server→client requests answered while a request waits, and a closed stream that
//! fails every pending request.

use std::sync::Arc;
use std::time::Duration;

use disco::lsp::transport::{read_message, write_message, DEFAULT_MAX_MESSAGE};
use disco::lsp::{Answers, Connection, RpcError};
use serde_json::{json, Value};
use tokio::io::{BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

struct Peer {
    r: BufReader<ReadHalf<DuplexStream>>,
    w: WriteHalf<DuplexStream>,
}

impl Peer {
    async fn recv(&mut self) -> Value {
        let body = read_message(&mut self.r, DEFAULT_MAX_MESSAGE)
            .await
            .unwrap()
            .expect("a message");
        serde_json::from_slice(&body).unwrap()
    }

    async fn send(&mut self, v: Value) {
        write_message(&mut self.w, &serde_json::to_vec(&v).unwrap())
            .await
            .unwrap();
    }
}

fn connect() -> (
    Connection,
    Peer,
    mpsc::UnboundedReceiver<disco::lsp::Notification>,
) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (cr, cw) = tokio::io::split(client);
    let (sr, sw) = tokio::io::split(server);
    let (ntx, nrx) = mpsc::unbounded_channel();
    let answers = Arc::new(Answers::new(
        json!({"fake": {"x": 1}}),
        json!([{"uri": "file:///w", "name": "w"}]),
    ));
    let conn = Connection::start(cr, cw, answers, ntx, 8, DEFAULT_MAX_MESSAGE);
    (
        conn,
        Peer {
            r: BufReader::new(sr),
            w: sw,
        },
        nrx,
    )
}

#[tokio::test]
async fn concurrent_requests_get_their_own_replies() {
    let (conn, mut peer, _n) = connect();
    let server = tokio::spawn(async move {
        let a = peer.recv().await;
        let b = peer.recv().await;
        // Reply in reverse order.
        peer.send(json!({"jsonrpc": "2.0", "id": b["id"], "result": b["method"]}))
            .await;
        peer.send(json!({"jsonrpc": "2.0", "id": a["id"], "result": a["method"]}))
            .await;
        peer
    });
    let t = Duration::from_secs(5);
    let (ra, rb) = tokio::join!(
        conn.request("first", json!({}), t),
        conn.request("second", json!({}), t)
    );
    assert_eq!(
        (ra.unwrap(), rb.unwrap()),
        (json!("first"), json!("second"))
    );
    server.await.unwrap();
}

#[tokio::test]
async fn a_timeout_cancels_and_the_late_reply_is_dropped() {
    let (conn, mut peer, _n) = connect();
    let err = conn
        .request("slow", json!({}), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout { .. }), "{err}");
    let req = peer.recv().await;
    let cancel = peer.recv().await;
    assert_eq!(cancel["method"], "$/cancelRequest");
    assert_eq!(cancel["params"]["id"], req["id"]);
    // The late reply arrives and is dropped; the connection still works.
    peer.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": "late"}))
        .await;
    let next = tokio::spawn(async move {
        let r = peer.recv().await;
        peer.send(json!({"jsonrpc": "2.0", "id": r["id"], "result": "fresh"}))
            .await;
        peer
    });
    assert_eq!(
        conn.request("next", json!({}), Duration::from_secs(5))
            .await
            .unwrap(),
        json!("fresh")
    );
    next.await.unwrap();
}

#[tokio::test]
async fn server_requests_are_answered_while_a_request_waits() {
    let (conn, mut peer, mut notes) = connect();
    let server = tokio::spawn(async move {
        let req = peer.recv().await;
        peer.send(json!({"jsonrpc": "2.0", "method": "$/progress", "params": {"token": 1, "value": {"kind": "begin"}}})).await;
        let asks = [
            (
                "workspace/configuration",
                json!({"items": [{"section": "fake"}, {"section": "other"}]}),
            ),
            ("workspace/workspaceFolders", Value::Null),
            ("window/workDoneProgress/create", json!({"token": 1})),
            ("workspace/applyEdit", json!({"edit": {}})),
            ("no/such", json!({})),
        ];
        let mut replies = Vec::new();
        for (i, (method, params)) in asks.iter().enumerate() {
            peer.send(json!({"jsonrpc": "2.0", "id": format!("s{i}"), "method": method, "params": params})).await;
            replies.push(peer.recv().await);
        }
        peer.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": null}))
            .await;
        replies
    });
    conn.request(
        "textDocument/documentSymbol",
        json!({}),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let replies = server.await.unwrap();
    assert_eq!(replies[0]["result"], json!([{"x": 1}, null]));
    assert_eq!(replies[1]["result"][0]["name"], "w");
    assert_eq!(replies[2]["result"], Value::Null);
    assert_eq!(replies[3]["result"]["applied"], false);
    assert_eq!(replies[4]["error"]["code"], -32601);
    assert_eq!(notes.recv().await.unwrap().method, "$/progress");
}

#[tokio::test]
async fn a_closed_stream_fails_pending_requests() {
    let (conn, mut peer, _n) = connect();
    let server = tokio::spawn(async move {
        let _ = peer.recv().await;
        drop(peer);
    });
    let err = conn
        .request("doomed", json!({}), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Closed { .. }), "{err}");
    server.await.unwrap();
    assert!(conn.closed().is_some());
    assert!(matches!(
        conn.request("after", json!({}), Duration::from_secs(1))
            .await,
        Err(RpcError::Closed { .. })
    ));
}
