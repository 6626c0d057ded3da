//! Finding, parsing and checking `disco.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::CatalogError;
use super::interp::check_syntax;
use super::model::*;
use super::resolve::{is_builtin_scheme, split_scheme};
use super::CATALOG_FILE;

mod lake_check;
mod pipeline_check;

/// Built-in stage names a pipeline may use besides catalog resources.
pub const BUILTIN_STAGES: &[&str] = &["tree", "select", "rename", "filter", "explode", "sql"];

type Options = BTreeMap<String, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    volumes: BTreeMap<String, Spanned<RawVolume>>,
    #[serde(default)]
    catalogs: BTreeMap<String, Spanned<RawTableCatalog>>,
    #[serde(default)]
    tables: BTreeMap<String, Spanned<RawTable>>,
    #[serde(default)]
    tokenizers: BTreeMap<String, Spanned<RawTokenizer>>,
    #[serde(default)]
    models: BTreeMap<String, Spanned<RawModel>>,
    #[serde(default)]
    validators: BTreeMap<String, Spanned<RawValidator>>,
    #[serde(default)]
    servers: BTreeMap<String, Spanned<RawServer>>,
    #[serde(default)]
    pipelines: BTreeMap<String, Spanned<RawPipeline>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVolume {
    url: Spanned<String>,
    #[serde(default)]
    options: Options,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableCatalog {
    #[serde(default, rename = "type")]
    kind: Option<Spanned<String>>,
    uri: Spanned<String>,
    #[serde(default)]
    warehouse: Option<Spanned<String>>,
    #[serde(default)]
    catalog_name: Option<String>,
    #[serde(default)]
    options: Options,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    catalog: Option<Spanned<String>>,
    #[serde(default)]
    table: Option<Spanned<String>>,
    #[serde(default)]
    partition_by: Vec<String>,
    /// The version a reader sees (time travel): a version number or a timestamp.
    #[serde(default)]
    version: Option<RawVersion>,
    #[serde(default)]
    options: Options,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawVersion {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
struct RawTokenizer {
    url: Spanned<String>,
    #[serde(flatten)]
    options: toml::Table,
}

#[derive(Deserialize)]
struct RawModel {
    url: Spanned<String>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    tokenizer: Option<Spanned<String>>,
    #[serde(flatten)]
    options: toml::Table,
}

#[derive(Deserialize)]
struct RawValidator {
    schema: Spanned<toml::Value>,
    #[serde(flatten)]
    options: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default)]
    command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    root_markers: Vec<String>,
    #[serde(default)]
    initialization_options: Option<toml::Value>,
    #[serde(default)]
    settings: Option<toml::Value>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    request_timeout_ms: Option<u64>,
    #[serde(default)]
    startup_timeout_ms: Option<u64>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    instances: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    input: Spanned<String>,
    stages: Spanned<Vec<toml::Value>>,
    #[serde(default)]
    output: Option<Spanned<String>>,
    #[serde(default)]
    rejects: Option<Spanned<String>>,
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    batch_size: Option<usize>,
}

impl Catalog {
    /// Finds the catalog: `explicit` if given, else `disco.toml` in `start` or a parent, else
    /// the embedded default (no resources; plain paths and built-in URI schemes still work).
    pub fn discover(explicit: Option<&Path>, start: &Path) -> Result<Catalog, CatalogError> {
        if let Some(path) = explicit {
            return Catalog::load(path);
        }
        for dir in start.ancestors() {
            let candidate = dir.join(CATALOG_FILE);
            if candidate.is_file() {
                return Catalog::load(&candidate);
            }
        }
        Ok(Catalog::default())
    }

    /// Reads and checks one catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Catalog::parse(&text, &path)
    }

    /// Parses and checks catalog `text` as if read from `path` (relative `file://` URLs
    /// resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            CatalogError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        Checker { text, path }.check(raw)
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Checker<'_> {
    fn line<T>(&self, s: &Spanned<T>) -> usize {
        line_col(self.text, s.span().start).0
    }

    fn invalid(&self, line: usize, key: String, message: impl Into<String>) -> CatalogError {
        CatalogError::Invalid {
            path: self.path.to_path_buf(),
            line,
            key,
            message: message.into(),
        }
    }

    fn name(&self, section: &str, name: &str, line: usize) -> Result<(), CatalogError> {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(())
        } else {
            Err(self.invalid(
                line,
                format!("{section}.{name}"),
                "a resource name uses letters, digits, `_`, `-` and `.` only",
            ))
        }
    }

    fn interp(
        &self,
        s: &str,
        line: usize,
        key: impl FnOnce() -> String,
    ) -> Result<(), CatalogError> {
        if check_syntax(s) {
            Ok(())
        } else {
            Err(self.invalid(
                line,
                key(),
                "malformed `${...}` reference (write `$${` for a literal `${`)",
            ))
        }
    }

    fn options(&self, key: &str, raw: Options) -> Result<BTreeMap<String, String>, CatalogError> {
        let mut out = BTreeMap::new();
        for (k, v) in raw {
            let line = self.line(&v);
            let value = match v.into_inner() {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    return Err(self.invalid(
                        line,
                        format!("{key}.options.{k}"),
                        "an option is a string, number or boolean",
                    ))
                }
            };
            self.interp(&value, line, || format!("{key}.options.{k}"))?;
            out.insert(k, value);
        }
        Ok(out)
    }

    /// A URI naming something in a volume: its scheme must be a volume of this catalog or a
    /// built-in scheme; a plain path is a local file.
    fn uri(
        &self,
        cat: &Catalog,
        s: &Spanned<String>,
        key: impl Fn() -> String,
    ) -> Result<(), CatalogError> {
        self.uri_at(cat, s.get_ref(), self.line(s), key)
    }

    fn uri_at(
        &self,
        cat: &Catalog,
        s: &str,
        line: usize,
        key: impl Fn() -> String,
    ) -> Result<(), CatalogError> {
        self.interp(s, line, &key)?;
        if let Some((scheme, _)) = split_scheme(s) {
            if !cat.volumes.contains_key(scheme) && !is_builtin_scheme(scheme) {
                let known: Vec<&str> = cat.volumes.keys().map(String::as_str).collect();
                return Err(self.invalid(
                    line,
                    key(),
                    format!("`{scheme}://` is neither a volume of this catalog (known: {}) nor a built-in scheme", list(&known)),
                ));
            }
        }
        Ok(())
    }

    fn check(&self, raw: RawCatalog) -> Result<Catalog, CatalogError> {
        let mut cat = Catalog {
            path: Some(self.path.to_path_buf()),
            ..Catalog::default()
        };
        for (name, v) in raw.volumes {
            let line = self.line(&v);
            self.name("volumes", &name, line)?;
            let key = format!("volumes.{name}");
            if is_builtin_scheme(&name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                return Err(self.invalid(line, key, "a volume's name is its URI scheme: start with a lowercase letter, and do not reuse a built-in scheme (file, s3, gs, az, memory, http...)"));
            }
            let v = v.into_inner();
            let url_line = self.line(&v.url);
            self.interp(v.url.get_ref(), url_line, || format!("{key}.url"))?;
            if let Some((scheme, _)) = split_scheme(v.url.get_ref()) {
                if !is_builtin_scheme(scheme) {
                    return Err(self.invalid(url_line, format!("{key}.url"), format!("unknown scheme `{scheme}://` (use file, memory, s3, gs, az, http or https)")));
                }
            }
            for glob in v.include.iter().chain(&v.exclude) {
                if let Err(e) = globset::Glob::new(glob) {
                    return Err(self.invalid(
                        line,
                        format!("{key}.include/exclude"),
                        format!("bad glob `{glob}`: {e}"),
                    ));
                }
            }
            let options = self.options(&key, v.options)?;
            cat.volumes.insert(
                name.clone(),
                VolumeDef {
                    name,
                    url: v.url.into_inner(),
                    options,
                    include: v.include,
                    exclude: v.exclude,
                    line,
                },
            );
        }
        for (name, c) in raw.catalogs {
            let line = self.line(&c);
            self.name("catalogs", &name, line)?;
            let def = self.table_catalog(name.clone(), c.into_inner(), line)?;
            cat.catalogs.insert(name, def);
        }
        for (name, t) in raw.tables {
            let line = self.line(&t);
            self.name("tables", &name, line)?;
            let key = format!("tables.{name}");
            let t = t.into_inner();
            let format = match &t.format {
                None if t.catalog.is_some() => TableFormat::Iceberg,
                None => TableFormat::guess(t.url.as_ref().map_or("", |u| u.get_ref())),
                Some(f) => TableFormat::parse(f.get_ref()).ok_or_else(|| {
                    self.invalid(
                        self.line(f),
                        format!("{key}.format"),
                        format!(
                            "unknown format `{}` (use {})",
                            f.get_ref(),
                            or_list(TableFormat::names())
                        ),
                    )
                })?,
            };
            let (catalog, table) = self.table_catalog_ref(&cat, &key, format, &t, line)?;
            let url = match (&t.url, format) {
                (Some(u), _) => {
                    self.uri(&cat, u, || format!("{key}.url"))?;
                    u.get_ref().clone()
                }
                (None, TableFormat::Iceberg) => String::new(),
                (None, _) => {
                    return Err(self.invalid(
                        line,
                        format!("{key}.url"),
                        "missing `url` (where the table lives)",
                    ))
                }
            };
            let options = self.options(&key, t.options)?;
            cat.tables.insert(
                name.clone(),
                TableDef {
                    name,
                    url,
                    format,
                    catalog,
                    table,
                    partition_by: t.partition_by,
                    version: t.version.map(|v| match v {
                        RawVersion::Number(n) => n.to_string(),
                        RawVersion::Text(s) => s,
                    }),
                    options,
                    line,
                },
            );
        }
        for (name, t) in raw.tokenizers {
            let line = self.line(&t);
            self.name("tokenizers", &name, line)?;
            let t = t.into_inner();
            self.uri(&cat, &t.url, || format!("tokenizers.{name}.url"))?;
            cat.tokenizers.insert(
                name.clone(),
                TokenizerDef {
                    name,
                    url: t.url.into_inner(),
                    options: t.options,
                    line,
                },
            );
        }
        for (name, m) in raw.models {
            let line = self.line(&m);
            self.name("models", &name, line)?;
            let key = format!("models.{name}");
            let m = m.into_inner();
            self.uri(&cat, &m.url, || format!("{key}.url"))?;
            let kind = match m
                .kind
                .as_ref()
                .map(|k| (k.get_ref().as_str(), self.line(k)))
            {
                None | Some(("embedding", _)) => ModelKind::Embedding,
                Some(("classifier", _)) => ModelKind::Classifier,
                Some((other, l)) => {
                    return Err(self.invalid(
                        l,
                        format!("{key}.kind"),
                        format!("unknown model kind `{other}` (use embedding or classifier)"),
                    ))
                }
            };
            if let Some(tok) = &m.tokenizer {
                if !cat.tokenizers.contains_key(tok.get_ref()) {
                    let known: Vec<&str> = cat.tokenizers.keys().map(String::as_str).collect();
                    return Err(self.invalid(
                        self.line(tok),
                        format!("{key}.tokenizer"),
                        format!(
                            "no tokenizer named `{}` (known: {})",
                            tok.get_ref(),
                            list(&known)
                        ),
                    ));
                }
            }
            cat.models.insert(
                name.clone(),
                ModelDef {
                    name,
                    kind,
                    url: m.url.into_inner(),
                    tokenizer: m.tokenizer.map(Spanned::into_inner),
                    options: m.options,
                    line,
                },
            );
        }
        for (name, v) in raw.validators {
            let line = self.line(&v);
            self.name("validators", &name, line)?;
            let key = format!("validators.{name}.schema");
            let v = v.into_inner();
            let schema_line = self.line(&v.schema);
            let schema = match v.schema.into_inner() {
                toml::Value::String(s) => {
                    self.uri_at(&cat, &s, schema_line, || key.clone())?;
                    SchemaSource::Uri(s)
                }
                toml::Value::Table(t) => SchemaSource::Inline(
                    serde_json::to_value(t)
                        .map_err(|e| self.invalid(schema_line, key.clone(), e.to_string()))?,
                ),
                _ => {
                    return Err(self.invalid(
                        schema_line,
                        key,
                        "a schema is a URI string or an inline table",
                    ))
                }
            };
            cat.validators.insert(
                name.clone(),
                ValidatorDef {
                    name,
                    schema,
                    options: v.options,
                    line,
                },
            );
        }
        for (name, s) in raw.servers {
            let line = self.line(&s);
            self.name("servers", &name, line)?;
            let key = format!("servers.{name}");
            let s = s.into_inner();
            // A built-in server's entry may leave out what it does not change, command
            // included (`[servers.basedpyright] instances = 2`).
            let builtin = crate::lsp::builtin()
                .into_iter()
                .find(|b| b.def.name == name)
                .map(|b| b.def);
            let (command, cmd_line) = match (s.command, &builtin) {
                (Some(c), _) => {
                    let cmd_line = self.line(&c);
                    (c.into_inner(), cmd_line)
                }
                (None, Some(b)) => (b.command.clone(), line),
                (None, None) => {
                    return Err(self.invalid(
                        line,
                        format!("{key}.command"),
                        "a server that is not built in needs a command: [program, args...]",
                    ))
                }
            };
            if command.is_empty() || command[0].trim().is_empty() {
                return Err(self.invalid(
                    cmd_line,
                    format!("{key}.command"),
                    "a command is a non-empty list: [program, args...]",
                ));
            }
            for part in command.iter().chain(s.env.values()) {
                self.interp(part, cmd_line, || format!("{key}.command"))?;
            }
            let json = |v: Option<toml::Value>,
                        field: &str|
             -> Result<Option<serde_json::Value>, CatalogError> {
                v.map(|v| {
                    serde_json::to_value(v)
                        .map_err(|e| self.invalid(line, format!("{key}.{field}"), e.to_string()))
                })
                .transpose()
            };
            let base = builtin.unwrap_or_default();
            let or = |given: Vec<String>, built: Vec<String>| {
                if given.is_empty() {
                    built
                } else {
                    given
                }
            };
            cat.servers.insert(
                name.clone(),
                ServerDef {
                    name,
                    command,
                    languages: or(s.languages, base.languages),
                    root_markers: or(s.root_markers, base.root_markers),
                    initialization_options: json(
                        s.initialization_options,
                        "initialization_options",
                    )?
                    .or(base.initialization_options),
                    settings: json(s.settings, "settings")?.or(base.settings),
                    env: s.env,
                    request_timeout_ms: s.request_timeout_ms,
                    startup_timeout_ms: s.startup_timeout_ms,
                    concurrency: s.concurrency,
                    instances: s.instances,
                    line,
                },
            );
        }
        for (name, p) in raw.pipelines {
            let line = self.line(&p);
            self.name("pipelines", &name, line)?;
            let p = p.into_inner();
            let pipeline = self.pipeline(&cat, name.clone(), p, line)?;
            cat.pipelines.insert(name, pipeline);
        }
        Ok(cat)
    }
}

/// `a, b or c`.
fn or_list(names: Vec<&str>) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The folder relative `file://` URLs of a catalog resolve against.
pub(crate) fn catalog_dir(cat: &Catalog) -> PathBuf {
    match &cat.path {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => std::env::current_dir().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
