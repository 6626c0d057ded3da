//! Starting the language servers of a run: the runtime they live on, the supervisor and the
//! [`Enricher`] that asks them. `disco tree` and the `tree` stage start them the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Enricher, FullPlan, LspLevel};
use crate::catalog::Catalog;
use crate::lsp::{SessionConfig, Supervisor, SupervisorConfig};

/// What to ask, of which servers, where.
#[derive(Debug, Clone)]
pub struct LspConfig {
    pub level: LspLevel,
    /// The local directory the servers see as the workspace (a remote volume materialised).
    pub root: PathBuf,
    /// Seconds a request may take before it is cancelled.
    pub timeout: Duration,
    /// Only these LSP methods, when set.
    pub only: Option<Vec<String>>,
    /// How `full` builds the reference graph.
    pub plan: FullPlan,
}

/// Running language servers; shut down (with a deadline) when dropped.
pub struct LspServers {
    runtime: Option<tokio::runtime::Runtime>,
    pub enricher: Arc<Enricher>,
}

impl LspServers {
    /// Starts the runtime and the supervisor (servers themselves start on first need).
    pub fn start(catalog: &Catalog, cfg: LspConfig) -> std::io::Result<LspServers> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("disco-lsp")
            .enable_all()
            .build()?;
        let config = SupervisorConfig {
            session: SessionConfig {
                request_timeout: cfg.timeout,
                startup_timeout: cfg.timeout.max(Duration::from_secs(60)),
                max_in_flight: 16,
            },
            ..SupervisorConfig::default()
        };
        let enricher = Arc::new(Enricher {
            supervisor: Arc::new(Supervisor::new(catalog, config)),
            level: cfg.level,
            runtime: runtime.handle().clone(),
            root: cfg.root,
            push_wait: Duration::from_secs(10),
            only: cfg.only,
            plan: cfg.plan,
        });
        Ok(LspServers {
            runtime: Some(runtime),
            enricher,
        })
    }
}

impl Drop for LspServers {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.block_on(self.enricher.supervisor.shutdown(Duration::from_secs(3)));
        }
    }
}

impl std::fmt::Debug for LspServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.enricher.fmt(f)
    }
}
