//! Answers to server→client requests. Every request gets a reply: configuration from the
//! server's settings, `null` for registrations, progress tokens and refreshes, `applied:
//! false` for edits, and MethodNotFound for anything unknown.

use std::sync::Mutex;

use serde_json::{json, Value};
use tokio::sync::Notify;

use super::rpc::ClientHandler;

/// The client's side of one server's session.
pub struct Answers {
    /// `workspace/configuration` answers, by dotted section.
    pub settings: Value,
    /// `[{uri, name}]` for `workspace/workspaceFolders`.
    pub folders: Value,
    /// Dynamic registrations (`client/registerCapability`), kept for their options
    /// (gopls announces its semantic-token legend this way).
    pub registrations: Mutex<Vec<Value>>,
    /// Signalled on `workspace/diagnostic/refresh`: pulled diagnostics are stale.
    pub diagnostics_refreshed: Notify,
}

impl Answers {
    pub fn new(settings: Value, folders: Value) -> Answers {
        Answers {
            settings,
            folders,
            registrations: Mutex::new(Vec::new()),
            diagnostics_refreshed: Notify::new(),
        }
    }

    /// The settings value at a dotted section (`python.analysis`), or null.
    fn section(&self, section: Option<&str>) -> Value {
        let Some(section) = section.filter(|s| !s.is_empty()) else {
            return self.settings.clone();
        };
        let mut v = &self.settings;
        for part in section.split('.') {
            match v.get(part) {
                Some(next) => v = next,
                None => return self.settings.get(section).cloned().unwrap_or(Value::Null),
            }
        }
        v.clone()
    }

    /// The registration options of a dynamically registered method, if any.
    pub fn registration(&self, method: &str) -> Option<Value> {
        let regs = self.registrations.lock().unwrap_or_else(|p| p.into_inner());
        regs.iter()
            .rev()
            .find(|r| r["method"] == method)
            .map(|r| r["registerOptions"].clone())
    }
}

impl ClientHandler for Answers {
    fn handle(&self, method: &str, params: Value) -> Result<Value, (i64, String)> {
        match method {
            "workspace/configuration" => {
                let items = params["items"].as_array().cloned().unwrap_or_default();
                Ok(Value::Array(
                    items
                        .iter()
                        .map(|i| self.section(i["section"].as_str()))
                        .collect(),
                ))
            }
            "client/registerCapability" => {
                let mut regs = self.registrations.lock().unwrap_or_else(|p| p.into_inner());
                regs.extend(
                    params["registrations"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
                Ok(Value::Null)
            }
            "workspace/diagnostic/refresh" => {
                self.diagnostics_refreshed.notify_waiters();
                Ok(Value::Null)
            }
            "client/unregisterCapability"
            | "window/workDoneProgress/create"
            | "window/showMessageRequest"
            | "workspace/semanticTokens/refresh"
            | "workspace/inlayHint/refresh"
            | "workspace/inlineValue/refresh"
            | "workspace/codeLens/refresh"
            | "workspace/foldingRange/refresh" => Ok(Value::Null),
            "workspace/workspaceFolders" => Ok(self.folders.clone()),
            "workspace/applyEdit" => {
                Ok(json!({"applied": false, "failureReason": "disco does not edit files"}))
            }
            "window/showDocument" => Ok(json!({"success": false})),
            _ => Err((-32601, format!("disco does not handle {method}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_every_request() {
        let a = Answers::new(
            json!({"python": {"analysis": {"mode": "basic"}}, "css": {"lint": {}}}),
            json!([]),
        );
        let conf = a.handle("workspace/configuration", json!({"items": [{"section": "python.analysis"}, {"section": "css"}, {"section": "nope"}]})).unwrap();
        assert_eq!(conf, json!([{"mode": "basic"}, {"lint": {}}, null]));
        a.handle("client/registerCapability", json!({"registrations": [{"id": "1", "method": "textDocument/semanticTokens", "registerOptions": {"legend": {}}}]})).unwrap();
        assert!(a.registration("textDocument/semanticTokens").is_some());
        assert_eq!(
            a.handle("workspace/applyEdit", json!({})).unwrap()["applied"],
            false
        );
        assert_eq!(a.handle("weird/thing", json!({})).unwrap_err().0, -32601);
    }
}
