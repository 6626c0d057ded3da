//! The language-server client: framing, JSON-RPC routing, one supervised process per
//! (server, workspace root), restarts, timeouts, cancellation, readiness, and answers to
//! server→client requests. LSP types are `tower_lsp_server::ls_types` (shared with the
//! editor-facing server); anything they do not model passes through as raw JSON.
//!
//! Architecture invariant: a server that dies, hangs or talks nonsense costs a request an
//! error, never the run: every request has a timeout, a crash fails the pending requests, and
//! the supervisor restarts the server a bounded number of times. This module knows nothing
//! about tree-sitter.

mod answers;
pub mod position;
pub mod registry;
mod rpc;
mod session;
mod supervisor;
pub mod transport;

pub use answers::Answers;
pub use position::{Encoding, LineIndex};
pub use registry::{builtin, find_program, known, tools_dir, Install, KnownServer};
pub use rpc::{ClientHandler, Connection, Notification, RpcError};
pub use session::{file_uri, uri_path, LspError, Session, SessionConfig};
pub use supervisor::{Lease, Supervisor, SupervisorConfig};
