//! Catalog errors: each names the file, the line and the key it concerns.

use std::path::PathBuf;

/// An error in finding, reading, parsing or checking a catalog, or in resolving a name.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value does not fit the catalog's shape.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value parsed but is wrong: an unknown reference, a bad URI, an empty command.
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    /// A `${VAR}` reference names a variable that is not set.
    #[error("{path}:{line}: `{key}`: environment variable `{var}` is not set")]
    MissingEnv {
        path: PathBuf,
        line: usize,
        key: String,
        var: String,
    },
    /// A URI or name that the catalog cannot resolve.
    #[error("cannot resolve `{uri}`: {message}")]
    Resolve { uri: String, message: String },
    /// A resource name that is not in the catalog.
    #[error("no {kind} named `{name}` in {origin}")]
    Unknown {
        kind: &'static str,
        name: String,
        origin: String,
    },
}
