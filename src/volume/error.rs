//! Volume errors: each names the volume and the path it concerns.

/// An error opening a volume or reading from it.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("cannot open volume `{volume}` ({url}): {message}")]
    Open {
        volume: String,
        url: String,
        message: String,
    },
    #[error("`{scheme}://` volumes need Disco built with the `cloud` feature (cargo build --features cloud)")]
    FeatureMissing { scheme: String },
    #[error("{volume}://{path}: refused: {message}")]
    Escape {
        volume: String,
        path: String,
        message: String,
    },
    #[error("{volume}://{path}: not found")]
    NotFound { volume: String, path: String },
    #[error("{volume}://{path}: {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        volume: String,
        path: String,
        size: u64,
        limit: u64,
    },
    #[error("{volume}://{path}: not a regular file ({kind})")]
    NotAFile {
        volume: String,
        path: String,
        kind: &'static str,
    },
    #[error("{volume}://{path}: cannot decompress {codec}: {message}")]
    Decompress {
        volume: String,
        path: String,
        codec: &'static str,
        message: String,
    },
    #[error("{volume}://{path}: {source}")]
    Io {
        volume: String,
        path: String,
        source: std::io::Error,
    },
    #[error("{volume}://{path}: {source}")]
    Store {
        volume: String,
        path: String,
        source: object_store::Error,
    },
}
