//! JSON-RPC over a framed stream: a map from request id to reply, requests in flight bounded
//! by a semaphore, a timeout per request with `$/cancelRequest`, late replies dropped, and
//! server→client requests always answered. Generic over `AsyncRead + AsyncWrite`, so it runs
//! over in-memory pipes in tests as well as over a process's stdio.
//!
//! Messages leave in the order they were sent (one writer task, one queue), so a
//! `didOpen` notification always reaches the server before the requests that depend on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::transport::{read_message, write_message};

/// Why a request got no result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RpcError {
    #[error("{method}: no reply within {after:?} (cancelled)")]
    Timeout { method: String, after: Duration },
    #[error("{method}: the server closed the connection ({reason})")]
    Closed { method: String, reason: String },
    #[error("{method}: server error {code}: {message}")]
    Server {
        method: String,
        code: i64,
        message: String,
    },
    #[error("{method}: unexpected reply: {message}")]
    Decode { method: String, message: String },
}

impl RpcError {
    /// The JSON-RPC error code, for server errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Answers the server's requests to the client.
pub trait ClientHandler: Send + Sync + 'static {
    /// The result of a server→client request, or `Err((code, message))`.
    fn handle(&self, method: &str, params: Value) -> Result<Value, (i64, String)>;
}

/// A message from the server that is not a reply: a notification.
#[derive(Debug, Clone)]
pub struct Notification {
    pub method: String,
    pub params: Value,
}

type Pending = Arc<Mutex<HashMap<i64, (String, oneshot::Sender<Result<Value, RpcError>>)>>>;

/// One JSON-RPC connection.
pub struct Connection {
    out: mpsc::UnboundedSender<Vec<u8>>,
    pending: Pending,
    next_id: AtomicI64,
    in_flight: Arc<Semaphore>,
    /// Why the connection closed, once it has.
    closed: Arc<Mutex<Option<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Connection {
    /// Starts the reader and writer tasks on the current tokio runtime. Notifications go to
    /// `notifications`; server→client requests to `handler`.
    pub fn start<R, W>(
        reader: R,
        writer: W,
        handler: Arc<dyn ClientHandler>,
        notifications: mpsc::UnboundedSender<Notification>,
        max_in_flight: usize,
        max_message: usize,
    ) -> Connection
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (out, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let pending: Pending = Arc::default();
        let closed: Arc<Mutex<Option<String>>> = Arc::default();
        let mut writer = writer;
        let closed_w = closed.clone();
        tokio::spawn(async move {
            while let Some(body) = queue.recv().await {
                if let Err(e) = write_message(&mut writer, &body).await {
                    lock(&closed_w).get_or_insert_with(|| format!("write failed: {e}"));
                    break;
                }
            }
        });
        let (pending_r, closed_r, out_r) = (pending.clone(), closed.clone(), out.clone());
        tokio::spawn(async move {
            let mut reader = BufReader::with_capacity(1 << 16, reader);
            let reason = loop {
                let body = match read_message(&mut reader, max_message).await {
                    Ok(Some(body)) => body,
                    Ok(None) => break "end of stream".to_string(),
                    Err(e) => break format!("bad frame: {e}"),
                };
                let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
                    tracing::warn!("dropping a message that is not JSON ({} bytes)", body.len());
                    continue;
                };
                dispatch(msg, &pending_r, &out_r, handler.as_ref(), &notifications);
            };
            let reason = lock(&closed_r).get_or_insert(reason).clone();
            for (_, (method, tx)) in lock(&pending_r).drain() {
                let _ = tx.send(Err(RpcError::Closed {
                    method,
                    reason: reason.clone(),
                }));
            }
        });
        Connection {
            out,
            pending,
            next_id: AtomicI64::new(1),
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            closed,
        }
    }

    /// Why the connection closed, if it has.
    pub fn closed(&self) -> Option<String> {
        lock(&self.closed).clone()
    }

    fn send(&self, msg: &Value) -> Result<(), String> {
        let body = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        self.out
            .send(body)
            .map_err(|_| self.closed().unwrap_or_else(|| "connection closed".into()))
    }

    /// Sends a notification (queued behind everything sent before it).
    pub fn notify(&self, method: &str, params: Value) -> Result<(), RpcError> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .map_err(|reason| RpcError::Closed {
                method: method.into(),
                reason,
            })
    }

    /// Sends a request and waits for its result, at most `timeout`; on timeout (or when the
    /// returned future is dropped) the server is sent `$/cancelRequest`.
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| RpcError::Closed {
                method: method.into(),
                reason: "shut down".into(),
            })?;
        if let Some(reason) = self.closed() {
            return Err(RpcError::Closed {
                method: method.into(),
                reason,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, (method.to_string(), tx));
        let _cancel = CancelOnDrop { conn: self, id };
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .map_err(|reason| RpcError::Closed {
                method: method.into(),
                reason,
            })?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RpcError::Closed {
                method: method.into(),
                reason: self.closed().unwrap_or_default(),
            }),
            Err(_) => Err(RpcError::Timeout {
                method: method.into(),
                after: timeout,
            }),
        }
    }
}

/// Cancels a request that timed out or whose future was dropped before its reply: its entry
/// is still pending exactly then (a reply, or the connection closing, removes it).
struct CancelOnDrop<'a> {
    conn: &'a Connection,
    id: i64,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if lock(&self.conn.pending).remove(&self.id).is_some() {
            let _ = self.conn.send(
                &json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": self.id}}),
            );
        }
    }
}

fn dispatch(
    msg: Value,
    pending: &Pending,
    out: &mpsc::UnboundedSender<Vec<u8>>,
    handler: &dyn ClientHandler,
    notifications: &mpsc::UnboundedSender<Notification>,
) {
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = msg.get("id").cloned().filter(|v| !v.is_null());
    match (method, id) {
        // A reply to one of ours (or a late one, dropped).
        (None, Some(id)) => {
            let Some(n) = id.as_i64() else { return };
            let Some((method, tx)) = lock(pending).remove(&n) else {
                tracing::debug!("dropping a late or unknown reply (id {n})");
                return;
            };
            let result = match (msg.get("error"), msg.get("result")) {
                (Some(err), _) if !err.is_null() => Err(RpcError::Server {
                    method,
                    code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                }),
                (_, result) => Ok(result.cloned().unwrap_or(Value::Null)),
            };
            let _ = tx.send(result);
        }
        // A request from the server: always answered.
        (Some(method), Some(id)) => {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            let reply = match handler.handle(&method, params) {
                Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
                Err((code, message)) => {
                    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
                }
            };
            if let Ok(body) = serde_json::to_vec(&reply) {
                let _ = out.send(body);
            }
        }
        (Some(method), None) => {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            let _ = notifications.send(Notification { method, params });
        }
        (None, None) => tracing::debug!("dropping a message with neither id nor method"),
    }
}
