//! Opening a `[catalogs.NAME]` entry: `${VAR}`s expanded and relative paths (the SQLite file,
//! the warehouse) resolved against the catalog file's folder, like volumes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::error::CatalogError;
use super::load::catalog_dir;
use super::model::{Catalog, CatalogDef, CatalogType};
use super::resolve::{expand_env, file_url, redact_url, split_scheme};

/// A table catalog ready to connect to. `Debug` hides property values and URL credentials.
#[derive(Clone)]
pub struct CatalogSpec {
    /// The catalog name the catalog itself records (PyIceberg's `SqlCatalog(name)`).
    pub name: String,
    pub kind: CatalogType,
    /// `sqlite:///abs/path.db?mode=rwc` (sql) or the REST server's URL.
    pub uri: String,
    /// `file:///abs/warehouse` (or a remote URL, as written).
    pub warehouse: Option<String>,
    pub props: BTreeMap<String, String>,
}

impl fmt::Debug for CatalogSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("uri", &redact_url(&self.uri))
            .field("warehouse", &self.warehouse)
            .field("props", &self.props.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Catalog {
    /// The `[catalogs.NAME]` entry called `name`, with a clear error naming the known ones.
    pub fn table_catalog(&self, name: &str) -> Result<&CatalogDef, CatalogError> {
        self.catalogs.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.catalogs.keys().map(String::as_str).collect();
            CatalogError::Unknown {
                kind: "catalog",
                name: name.to_string(),
                origin: format!(
                    "{} (its catalogs: {})",
                    self.origin(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            }
        })
    }

    /// Expands and resolves a catalog entry (reads the environment, never the catalog).
    pub fn catalog_spec(&self, def: &CatalogDef) -> Result<CatalogSpec, CatalogError> {
        let path = self.path.clone().unwrap_or_default();
        let expand = |s: &str, key: String| expand_env(&path, def.line, s, key);
        let dir = catalog_dir(self);
        let key = |k: &str| format!("catalogs.{}.{k}", def.name);
        let raw = expand(&def.uri, key("uri"))?;
        let uri = match def.kind {
            CatalogType::Sql => sqlite_uri(&raw, &dir),
            CatalogType::Rest => raw,
        };
        let warehouse = match &def.warehouse {
            None => None,
            Some(w) => {
                let w = expand(w, key("warehouse"))?;
                Some(match split_scheme(&w) {
                    Some(("file", p)) => file_url(&dir.join(p)),
                    Some(_) => w,
                    None => file_url(&dir.join(&w)),
                })
            }
        };
        let mut props = BTreeMap::new();
        for (k, v) in &def.options {
            props.insert(k.clone(), expand(v, key(&format!("options.{k}")))?);
        }
        Ok(CatalogSpec {
            name: def.catalog_name.clone().unwrap_or_else(|| def.name.clone()),
            kind: def.kind,
            uri,
            warehouse: warehouse.map(|w| w.trim_end_matches('/').to_string()),
            props,
        })
    }
}

/// `sqlite:///abs`, `sqlite:////abs` (SQLAlchemy's spelling), `sqlite://rel` or `sqlite:rel`
/// → `sqlite:///abs/path?mode=rwc` (created when missing, as PyIceberg does).
fn sqlite_uri(raw: &str, dir: &Path) -> String {
    let rest = raw
        .strip_prefix("sqlite://")
        .or_else(|| raw.strip_prefix("sqlite:"))
        .unwrap_or(raw);
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let file = if file.starts_with('/') {
        format!("/{}", file.trim_start_matches('/'))
    } else {
        let joined = dir.join(file);
        std::path::absolute(&joined)
            .unwrap_or(joined)
            .display()
            .to_string()
    };
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else if query.contains("mode=") {
        query.to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    format!("sqlite://{file}?{query}")
}

#[cfg(test)]
mod tests {
    use super::sqlite_uri;
    use std::path::Path;

    #[test]
    fn sqlite_uris_resolve_against_the_catalog_folder() {
        let dir = Path::new("/cat");
        assert_eq!(
            sqlite_uri("sqlite:///a/b.db", dir),
            "sqlite:///a/b.db?mode=rwc"
        );
        assert_eq!(
            sqlite_uri("sqlite:////a/b.db", dir),
            "sqlite:///a/b.db?mode=rwc"
        );
        assert_eq!(
            sqlite_uri("sqlite://x/b.db", dir),
            "sqlite:///cat/x/b.db?mode=rwc"
        );
        assert_eq!(
            sqlite_uri("sqlite:b.db?mode=ro", dir),
            "sqlite:///cat/b.db?mode=ro"
        );
    }
}
