//! Resolving `name://path`, built-in URIs and plain paths to a volume and a path inside it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::CatalogError;
use super::interp::interpolate;
use super::load::catalog_dir;
use super::model::{Catalog, VolumeDef};

/// URI schemes that work without a catalog entry.
pub const BUILTIN_SCHEMES: &[&str] = &[
    "file", "memory", "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "http", "https",
];

pub(crate) fn is_builtin_scheme(scheme: &str) -> bool {
    BUILTIN_SCHEMES.contains(&scheme)
}

/// Splits `scheme://rest`; `None` for a plain path.
pub(crate) fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// A volume ready to open: its URL and options with `${VAR}`s expanded.
///
/// `Debug` hides option values and URL credentials: they may hold secrets.
#[derive(Clone)]
pub struct VolumeSpec {
    /// The catalog name, or a name derived from the URI for an ad hoc volume.
    pub name: String,
    /// The root: `file:///abs/dir/`, `s3://bucket/prefix/`, `memory://name/`...
    pub url: String,
    pub options: BTreeMap<String, String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl fmt::Debug for VolumeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VolumeSpec")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .finish()
    }
}

/// Hides `user:password@` in a URL.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = split_scheme(url) else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// A resolved name: a volume and a `/`-separated path inside it ("" for its root).
#[derive(Debug, Clone)]
pub struct Location {
    pub volume: VolumeSpec,
    pub path: String,
}

impl Catalog {
    /// Resolves `uri`: `name://path` for a catalog volume, a built-in URI
    /// (`file://`, `s3://bucket/key`, `memory://name/key`...), or a plain local path.
    ///
    /// An ad hoc local location is rooted at the directory itself, or at a file's parent, so
    /// paths in records are relative to what the user named.
    pub fn resolve(&self, uri: &str) -> Result<Location, CatalogError> {
        let err = |message: String| CatalogError::Resolve {
            uri: uri.to_string(),
            message,
        };
        let Some((scheme, rest)) = split_scheme(uri) else {
            return local_location(Path::new(uri)).map_err(err);
        };
        if let Some(def) = self.volumes.get(scheme) {
            let volume = self.volume_spec(def)?;
            let path = confine(rest).map_err(err)?;
            return Ok(Location { volume, path });
        }
        if !is_builtin_scheme(scheme) {
            let known: Vec<&str> = self.volumes.keys().map(String::as_str).collect();
            return Err(CatalogError::Unknown {
                kind: "volume",
                name: scheme.to_string(),
                origin: format!(
                    "{} (its volumes: {}; built-in schemes: {})",
                    self.origin(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    },
                    BUILTIN_SCHEMES.join(", ")
                ),
            });
        }
        if scheme == "file" {
            return local_location(Path::new(rest)).map_err(err);
        }
        // Remote and memory: the bucket (or store name) is the volume, the key the path.
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(err(format!("`{scheme}://` needs a bucket or store name")));
        }
        let path = confine(key).map_err(err)?;
        let name = bucket.rsplit('@').next().unwrap_or(bucket).to_string();
        Ok(Location {
            volume: VolumeSpec {
                name,
                url: format!("{scheme}://{bucket}/"),
                options: BTreeMap::new(),
                include: Vec::new(),
                exclude: Vec::new(),
            },
            path,
        })
    }

    /// The spec of a catalog volume: URL made absolute and `${VAR}`s expanded.
    pub fn volume_spec(&self, def: &VolumeDef) -> Result<VolumeSpec, CatalogError> {
        let path = self.path.clone().unwrap_or_default();
        let expand = |s: &str, key: String| expand_env(&path, def.line, s, key);
        let raw = expand(&def.url, format!("volumes.{}.url", def.name))?;
        let url = match split_scheme(&raw) {
            Some(("file", p)) => file_url(&catalog_dir(self).join(p)),
            Some(_) => {
                if raw.ends_with('/') {
                    raw
                } else {
                    format!("{raw}/")
                }
            }
            None => file_url(&catalog_dir(self).join(&raw)),
        };
        let mut options = BTreeMap::new();
        for (k, v) in &def.options {
            options.insert(
                k.clone(),
                expand(v, format!("volumes.{}.options.{k}", def.name))?,
            );
        }
        Ok(VolumeSpec {
            name: def.name.clone(),
            url,
            options,
            include: def.include.clone(),
            exclude: def.exclude.clone(),
        })
    }
}

/// A catalog value with its `${VAR}`s expanded from the environment, or an error naming the
/// catalog file, line and key.
pub(crate) fn expand_env(
    path: &Path,
    line: usize,
    s: &str,
    key: String,
) -> Result<String, CatalogError> {
    interpolate(s, |v| std::env::var(v).ok()).map_err(|var| match var {
        Some(var) => CatalogError::MissingEnv {
            path: path.to_path_buf(),
            line,
            key,
            var,
        },
        None => CatalogError::Invalid {
            path: path.to_path_buf(),
            line,
            key,
            message: "malformed `${...}`".into(),
        },
    })
}

pub(crate) fn file_url(dir: &Path) -> String {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut s = format!("file://{}", abs.display());
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// An ad hoc local location: a directory is its own root; a file's root is its parent.
fn local_location(path: &Path) -> Result<Location, String> {
    let abs: PathBuf = std::path::absolute(path).map_err(|e| e.to_string())?;
    let meta = std::fs::metadata(&abs).map_err(|e| format!("{}: {e}", abs.display()))?;
    let (root, rel) = if meta.is_dir() {
        (abs.clone(), String::new())
    } else {
        let parent = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let file = abs
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        (parent, file)
    };
    let name = root
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".to_string());
    Ok(Location {
        volume: VolumeSpec {
            name,
            url: file_url(&root),
            options: BTreeMap::new(),
            include: Vec::new(),
            exclude: Vec::new(),
        },
        path: rel,
    })
}

/// Normalises a path inside a volume: `/`-separated, no `.`, no leading `/`, and no `..`
/// (a path never leaves its volume).
pub fn confine(path: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "path `{path}` escapes its volume (`..` is not allowed)"
                ))
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_escapes() {
        assert_eq!(confine("./a//b/").unwrap(), "a/b");
        assert!(confine("a/../../etc").is_err());
        assert_eq!(redact_url("https://u:p@host/x"), "https://***@host/x");
        assert_eq!(redact_url("s3://bucket/x@y"), "s3://bucket/x@y");
    }
}
