//! The language registry: one entry per folder of `grammars/`, each with its grammar crate,
//! detection rules and queries, built once and cached for the process.

use std::sync::OnceLock;

use serde::Deserialize;
use tree_sitter as ts;

use super::tags::TagsQuery;

/// A language's configuration, from `grammars/<name>/language.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    name: String,
    display_name: String,
    grammar: String,
    extensions: Vec<String>,
    filenames: Vec<String>,
    shebangs: Vec<String>,
    servers: Vec<String>,
    comment_kinds: Vec<String>,
    docstring: bool,
    body_fields: Vec<String>,
}

/// A language Disco parses.
pub struct Language {
    /// The folder name in `grammars/`, used in records (`python`, `tsx`...).
    pub name: String,
    pub display_name: String,
    /// The grammar crate.
    pub grammar: String,
    pub extensions: Vec<String>,
    pub filenames: Vec<String>,
    pub shebangs: Vec<String>,
    /// Default language servers, by name.
    pub servers: Vec<String>,
    /// Node kinds that are comments (doc comments are the ones right above a definition).
    pub comment_kinds: Vec<String>,
    /// Whether a body's first string statement is its docstring (Python).
    pub docstring: bool,
    /// Fields of a definition node that hold its body.
    pub body_fields: Vec<String>,
    ts: ts::Language,
    tags_source: &'static str,
    tags: OnceLock<Result<TagsQuery, String>>,
    /// Node kind and field names by id (a name from the grammar costs a `strlen` and a
    /// UTF-8 check each time it is asked), and each already JSON-escaped and quoted.
    kinds: Vec<Box<str>>,
    fields: Vec<Option<Box<str>>>,
    kinds_json: Vec<Box<str>>,
    fields_json: Vec<Box<str>>,
}

impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Language")
            .field("name", &self.name)
            .finish()
    }
}

impl Language {
    /// The tree-sitter language.
    pub fn ts(&self) -> &ts::Language {
        &self.ts
    }

    /// The grammar's version, from the grammar's own metadata where it has some.
    pub fn grammar_version(&self) -> Option<String> {
        self.ts.metadata().map(|m| {
            format!(
                "{}.{}.{}",
                m.major_version, m.minor_version, m.patch_version
            )
        })
    }

    /// The compiled `tags.scm`, built on first use; `Err` carries the query error.
    pub fn tags(&self) -> Result<&TagsQuery, &str> {
        self.tags
            .get_or_init(|| TagsQuery::new(&self.ts, self.tags_source))
            .as_ref()
            .map_err(String::as_str)
    }

    /// The JSON string (quoted, escaped) of a node kind id.
    pub(crate) fn kind_json(&self, id: u16) -> &str {
        match self.kinds_json.get(id as usize) {
            Some(s) => s,
            // tree-sitter gives ERROR nodes the id u16::MAX, past the grammar's own kinds.
            None if id == u16::MAX => "\"ERROR\"",
            None => "\"?\"",
        }
    }

    /// The JSON string (quoted, escaped) of a field id.
    pub(crate) fn field_json(&self, id: u16) -> &str {
        self.fields_json.get(id as usize).map_or("null", |s| s)
    }

    /// The node kind name of an id.
    pub fn kind_name(&self, id: u16) -> &str {
        match self.kinds.get(usize::from(id)) {
            Some(k) => k,
            // ERROR (u16::MAX) and the grammar's other built-in ids past its own kinds.
            None => self.ts.node_kind_for_id(id).unwrap_or("?"),
        }
    }

    /// The field name of an id.
    pub fn field_name(&self, id: u16) -> Option<&str> {
        self.fields.get(usize::from(id))?.as_deref()
    }

    fn build(b: &Builtin) -> Language {
        let config: Config = toml::from_str(b.config)
            .unwrap_or_else(|e| panic!("grammars/{}/language.toml is invalid: {e}", b.dir));
        assert_eq!(
            config.name, b.dir,
            "grammars/{}/language.toml names another language",
            b.dir
        );
        let ts: ts::Language = (b.language)();
        let quote = |s: &str| -> Box<str> {
            serde_json::to_string(s)
                .unwrap_or_default()
                .into_boxed_str()
        };
        let kinds: Vec<Box<str>> = (0..ts.node_kind_count() as u16)
            .map(|id| ts.node_kind_for_id(id).unwrap_or("?").into())
            .collect();
        let fields: Vec<Option<Box<str>>> = (0..=ts.field_count() as u16)
            .map(|id| ts.field_name_for_id(id).map(Into::into))
            .collect();
        let kinds_json = kinds.iter().map(|k| quote(k)).collect();
        let fields_json = fields
            .iter()
            .map(|f| f.as_deref().map_or_else(|| "null".into(), quote))
            .collect();
        Language {
            name: config.name,
            display_name: config.display_name,
            grammar: config.grammar,
            extensions: config.extensions,
            filenames: config.filenames,
            shebangs: config.shebangs,
            servers: config.servers,
            comment_kinds: config.comment_kinds,
            docstring: config.docstring,
            body_fields: config.body_fields,
            ts,
            tags_source: b.tags,
            tags: OnceLock::new(),
            kinds,
            fields,
            kinds_json,
            fields_json,
        }
    }
}

struct Builtin {
    dir: &'static str,
    config: &'static str,
    tags: &'static str,
    language: fn() -> ts::Language,
}

macro_rules! builtin {
    ($dir:literal, $lang:expr) => {
        Builtin {
            dir: $dir,
            config: include_str!(concat!("../../grammars/", $dir, "/language.toml")),
            tags: include_str!(concat!("../../grammars/", $dir, "/tags.scm")),
            language: || $lang.into(),
        }
    };
}

const BUILTINS: &[Builtin] = &[
    builtin!("bash", tree_sitter_bash::LANGUAGE),
    builtin!("c", tree_sitter_c::LANGUAGE),
    builtin!("cpp", tree_sitter_cpp::LANGUAGE),
    builtin!("csharp", tree_sitter_c_sharp::LANGUAGE),
    builtin!("css", tree_sitter_css::LANGUAGE),
    builtin!("go", tree_sitter_go::LANGUAGE),
    builtin!("html", tree_sitter_html::LANGUAGE),
    builtin!("java", tree_sitter_java::LANGUAGE),
    builtin!("javascript", tree_sitter_javascript::LANGUAGE),
    builtin!("json", tree_sitter_json::LANGUAGE),
    builtin!("markdown", tree_sitter_md::LANGUAGE),
    builtin!("python", tree_sitter_python::LANGUAGE),
    builtin!("ruby", tree_sitter_ruby::LANGUAGE),
    builtin!("rust", tree_sitter_rust::LANGUAGE),
    builtin!("toml", tree_sitter_toml_ng::LANGUAGE),
    builtin!("tsx", tree_sitter_typescript::LANGUAGE_TSX),
    builtin!("typescript", tree_sitter_typescript::LANGUAGE_TYPESCRIPT),
    builtin!("yaml", tree_sitter_yaml::LANGUAGE),
];

/// Every language, sorted by name; built on first use.
pub fn languages() -> &'static [Language] {
    static LANGUAGES: OnceLock<Vec<Language>> = OnceLock::new();
    LANGUAGES.get_or_init(|| BUILTINS.iter().map(Language::build).collect())
}

/// A language by its name (`python`, `tsx`...) or a common alias (`py`, `ts`, `c++`...).
pub fn language_by_name(name: &str) -> Option<&'static Language> {
    let lower = name.to_ascii_lowercase();
    let canonical = match lower.as_str() {
        "py" => "python",
        "js" | "jsx" => "javascript",
        "ts" => "typescript",
        "rs" => "rust",
        "c++" | "cxx" => "cpp",
        "c#" | "cs" => "csharp",
        "rb" => "ruby",
        "sh" | "shell" => "bash",
        "md" => "markdown",
        "yml" => "yaml",
        "golang" => "go",
        other => other,
    };
    languages().iter().find(|l| l.name == canonical)
}
