//! Opening a volume's back end from its URL: `file://`, `memory://`, and with the `cloud`
//! feature `s3://`, `gs://`, `az://`, `http(s)://`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use object_store::memory::InMemory;
use object_store::ObjectStore;

use super::{Backend, VolumeError};
use crate::catalog::VolumeSpec;

/// In-memory stores live for the process, by name, so `memory://x/` means the same store
/// wherever it is opened.
static MEMORY: LazyLock<Mutex<HashMap<String, Arc<InMemory>>>> = LazyLock::new(Default::default);

pub(super) fn open(spec: &VolumeSpec) -> Result<Backend, VolumeError> {
    let open_err = |message: String| VolumeError::Open {
        volume: spec.name.clone(),
        url: crate::catalog::redact_url(&spec.url),
        message,
    };
    let (scheme, rest) = spec
        .url
        .split_once("://")
        .ok_or_else(|| open_err("not a URL".into()))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = path.trim_matches('/').to_string();
    match scheme {
        "file" => {
            let root = std::fs::canonicalize(format!("/{}", rest.trim_start_matches('/')))
                .map_err(|e| open_err(e.to_string()))?;
            if !root.is_dir() {
                return Err(open_err("not a directory".into()));
            }
            Ok(Backend::Local { root })
        }
        "memory" => {
            let mut stores = MEMORY.lock().unwrap_or_else(|p| p.into_inner());
            let store = stores.entry(authority.to_string()).or_default().clone();
            Ok(Backend::Store { store, prefix })
        }
        other => {
            let store = cloud(other, &format!("{scheme}://{authority}"), spec).map_err(open_err)?;
            Ok(Backend::Store { store, prefix })
        }
    }
}

#[cfg(not(feature = "cloud"))]
fn cloud(scheme: &str, _url: &str, spec: &VolumeSpec) -> Result<Arc<dyn ObjectStore>, String> {
    let _ = spec;
    Err(VolumeError::FeatureMissing {
        scheme: scheme.to_string(),
    }
    .to_string())
}

/// Builds a cloud store: credentials and settings from the environment first (as each
/// provider's tools do), then the volume's options, whose unknown keys are an error.
#[cfg(feature = "cloud")]
fn cloud(scheme: &str, url: &str, spec: &VolumeSpec) -> Result<Arc<dyn ObjectStore>, String> {
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    use object_store::http::HttpBuilder;

    fn configure<B, K: std::str::FromStr>(
        mut builder: B,
        spec: &VolumeSpec,
        set: impl Fn(B, K, &str) -> B,
    ) -> Result<B, String> {
        for (key, value) in &spec.options {
            let k: K = key.parse().map_err(|_| format!("unknown option `{key}`"))?;
            builder = set(builder, k, value);
        }
        Ok(builder)
    }
    let store: Arc<dyn ObjectStore> = match scheme {
        "s3" | "s3a" => {
            let b = AmazonS3Builder::from_env().with_url(url);
            let b = configure(b, spec, |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(|e| e.to_string())?)
        }
        "gs" => {
            let b = GoogleCloudStorageBuilder::from_env().with_url(url);
            let b = configure(b, spec, |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(|e| e.to_string())?)
        }
        "az" | "azure" | "abfs" | "abfss" => {
            let b = MicrosoftAzureBuilder::from_env().with_url(url);
            let b = configure(b, spec, |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(|e| e.to_string())?)
        }
        "http" | "https" => {
            let b = HttpBuilder::new().with_url(url);
            let b = configure(b, spec, |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().map_err(|e| e.to_string())?)
        }
        other => return Err(format!("unknown scheme `{other}`")),
    };
    Ok(store)
}
