//! The supervisor: one session per (server definition, workspace root, instance), started
//! on first use, waited on until ready, restarted with backoff (a bounded number of times)
//! when it crashes, and shut down together at the end. A server with `instances = N` has up
//! to N sessions per root; each file leases the one with the fewest files in hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::registry::{find_program, known, KnownServer};
use super::session::{LspError, Session, SessionConfig};
use crate::catalog::{Catalog, ServerDef};

/// Restart policy and limits.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    pub session: SessionConfig,
    /// Restarts of one (server, root) before it is given up.
    pub max_restarts: u32,
    /// First backoff; doubled on each restart.
    pub backoff: Duration,
    /// Quiet time with no progress that counts as ready.
    pub settle: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            session: SessionConfig::default(),
            max_restarts: 3,
            backoff: Duration::from_millis(200),
            settle: Duration::from_millis(500),
        }
    }
}

#[derive(Default)]
struct Slot {
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    restarts: AtomicU32,
    /// Set when the server could not be started (or restarted): every later use fails fast.
    failed: Mutex<Option<LspError>>,
}

/// (server name, workspace root): the key of a server's instances.
type Workspace = (String, PathBuf);

/// Supervises the language servers of a run.
pub struct Supervisor {
    servers: Vec<KnownServer>,
    config: SupervisorConfig,
    slots: Mutex<HashMap<(Workspace, usize), Arc<Slot>>>,
    /// Files in hand per instance.
    busy: Mutex<HashMap<Workspace, Vec<Arc<AtomicUsize>>>>,
}

/// A file's hold on one instance of a server, released on drop.
#[derive(Debug)]
pub struct Lease {
    pub instance: usize,
    busy: Arc<AtomicUsize>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Supervisor {
    pub fn new(catalog: &Catalog, config: SupervisorConfig) -> Supervisor {
        Supervisor {
            servers: known(catalog),
            config,
            slots: Mutex::default(),
            busy: Mutex::default(),
        }
    }

    /// The instance of `def` at `root` a file should use: of its `instances`, the one with
    /// the fewest files in hand (the lowest on a tie, so one file at a time uses one).
    pub fn lease(&self, def: &ServerDef, root: &Path) -> Lease {
        let n = def.instances.unwrap_or(1).max(1);
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let counts = busy
            .entry((def.name.clone(), root.to_path_buf()))
            .or_insert_with(|| (0..n).map(|_| Arc::default()).collect());
        let mut instance = 0;
        for (k, c) in counts.iter().enumerate() {
            if c.load(Ordering::Relaxed) < counts[instance].load(Ordering::Relaxed) {
                instance = k;
            }
        }
        let busy = counts[instance].clone();
        busy.fetch_add(1, Ordering::Relaxed);
        Lease { instance, busy }
    }

    /// Servers that handle `language`, in order of preference, with whether each one's
    /// program is installed: the catalog's servers for the language when it names any;
    /// otherwise the first installed of the language's defaults (or, when none is, the
    /// first, to say so).
    pub fn servers_for(&self, language: &str, defaults: &[String]) -> Vec<(&ServerDef, bool)> {
        let installed = |d: &ServerDef| find_program(&d.command[0]).is_some();
        let mut out: Vec<(&ServerDef, bool)> = self
            .servers
            .iter()
            .filter(|s| s.def.line > 0 && s.def.languages.iter().any(|l| l == language))
            .map(|s| (&s.def, installed(&s.def)))
            .collect();
        if !out.is_empty() {
            // The catalog names servers for this language: they replace the defaults.
            return out;
        }
        let defaults: Vec<&ServerDef> = defaults
            .iter()
            .filter_map(|name| {
                self.servers
                    .iter()
                    .find(|s| &s.def.name == name)
                    .map(|s| &s.def)
            })
            .filter(|d| !out.iter().any(|(o, _)| o.name == d.name))
            .collect();
        match defaults.iter().find(|d| installed(d)) {
            Some(d) => out.push((d, true)),
            None => out.extend(defaults.first().map(|d| (*d, false))),
        }
        out
    }

    /// The workspace root for `file`: the nearest folder at or above it, inside `volume_root`,
    /// holding one of the server's root markers; else the volume root.
    pub fn root_for(def: &ServerDef, file: &Path, volume_root: &Path) -> PathBuf {
        let mut dir = file.parent();
        while let Some(d) = dir {
            if !d.starts_with(volume_root) {
                break;
            }
            if def.root_markers.iter().any(|m| d.join(m).exists()) {
                return d.to_path_buf();
            }
            dir = d.parent();
        }
        volume_root.to_path_buf()
    }

    fn slot(&self, def: &ServerDef, root: &Path, instance: usize) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(((def.name.clone(), root.to_path_buf()), instance))
            .or_default()
            .clone()
    }

    /// A ready session of `def` for `root` (its `instance`, from [`Supervisor::lease`]): the
    /// running one, or a (re)started one. A crashed server is restarted after a backoff, up
    /// to `max_restarts` times; then it fails fast.
    pub async fn session(
        &self,
        def: &ServerDef,
        root: &Path,
        instance: usize,
    ) -> Result<Arc<Session>, LspError> {
        let slot = self.slot(def, root, instance);
        let mut guard = slot.session.lock().await;
        if let Some(err) = slot
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(err);
        }
        if let Some(s) = guard.as_ref() {
            let Some(reason) = s.crashed() else {
                return Ok(s.clone());
            };
            let n = slot.restarts.fetch_add(1, Ordering::Relaxed);
            if n >= self.config.max_restarts {
                let err = LspError::Spawn {
                    server: def.name.clone(),
                    message: format!("crashed {} times, given up (last: {reason})", n + 1),
                };
                *slot.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(err.clone());
                *guard = None;
                return Err(err);
            }
            tracing::warn!(server = %def.name, "crashed ({reason}); restart {} of {}", n + 1, self.config.max_restarts);
            tokio::time::sleep(self.config.backoff * 2u32.pow(n)).await;
        }
        let mut config = self.config.session.clone();
        if let Some(ms) = def.request_timeout_ms {
            config.request_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = def.startup_timeout_ms {
            config.startup_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = def.concurrency {
            config.max_in_flight = n.max(1);
        }
        let startup = config.startup_timeout;
        match Session::start(def, root, config).await {
            Ok(session) => {
                let session = Arc::new(session);
                if !session.wait_ready(self.config.settle, startup).await {
                    tracing::info!(server = %def.name, "not idle after {startup:?}; going on");
                }
                *guard = Some(session.clone());
                Ok(session)
            }
            Err(err) => {
                *slot.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Every session that is running, with its (server, root).
    pub async fn sessions(&self) -> Vec<Arc<Session>> {
        let slots: Vec<Arc<Slot>> = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut out = Vec::new();
        for slot in slots {
            if let Some(s) = slot.session.lock().await.as_ref() {
                out.push(s.clone());
            }
        }
        out
    }

    /// Shuts every session down (concurrently), each within `deadline`.
    pub async fn shutdown(&self, deadline: Duration) {
        let sessions = self.sessions().await;
        futures::future::join_all(sessions.iter().map(|s| s.shutdown(deadline))).await;
    }
}
