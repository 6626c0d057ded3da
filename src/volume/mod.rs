//! Volumes: where files live. Local directories, in-memory stores and (with the `cloud`
//! feature) S3 and S3-compatible endpoints, GCS, Azure and HTTP, all through one [`Volume`].
//!
//! Architecture invariant: a path never leaves its volume. `..` is refused, and on local
//! volumes a symlink that resolves outside the root is refused with a clear error.
//! Volumes know nothing about parsing or language servers.

mod backend;
mod cache;
mod codec;
pub mod decode;
mod error;
mod list;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use object_store::{ObjectStore, ObjectStoreExt};

pub use cache::Cache;
pub use codec::{decompress, strip_codec_extension, Codec, DecompressError, Limited};
pub use decode::{decode, DecodeError, Decoded, TextEncoding};
pub use error::VolumeError;
pub use list::{Entry, EntryKind, ListOptions};

use crate::catalog::{confine, VolumeSpec};

/// The tokio runtime that drives object_store calls from synchronous code.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("disco-volume")
            .enable_all()
            .build()
            .expect("the tokio runtime starts")
    })
}

/// An open volume.
#[derive(Debug, Clone)]
pub struct Volume {
    name: String,
    url: String,
    backend: Backend,
    include: Vec<String>,
    exclude: Vec<String>,
}

#[derive(Debug, Clone)]
enum Backend {
    /// A local directory, canonicalised, read with `std::fs` (ignore rules, special files).
    Local { root: PathBuf },
    /// Any object store, with the key prefix the volume is rooted at.
    Store {
        store: Arc<dyn ObjectStore>,
        prefix: String,
    },
}

/// What a read returns: the (decompressed) bytes and the codec they came through.
#[derive(Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub codec: Option<Codec>,
}

impl Volume {
    /// Opens the volume a spec describes.
    pub fn open(spec: &VolumeSpec) -> Result<Volume, VolumeError> {
        let backend = backend::open(spec)?;
        Ok(Volume {
            name: spec.name.clone(),
            url: crate::catalog::redact_url(&spec.url),
            backend,
            include: spec.include.clone(),
            exclude: spec.exclude.clone(),
        })
    }

    /// The volume's name (its catalog name, or one derived from an ad hoc URI).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The root URL, with credentials hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The local root directory, for local volumes.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Local { root } => Some(root),
            Backend::Store { .. } => None,
        }
    }

    fn confine(&self, path: &str) -> Result<String, VolumeError> {
        confine(path).map_err(|message| VolumeError::Escape {
            volume: self.name.clone(),
            path: path.to_string(),
            message,
        })
    }

    /// A local path inside the root, refusing symlinks that resolve outside it.
    fn local_path(&self, root: &Path, rel: &str) -> Result<PathBuf, VolumeError> {
        let full = root.join(rel);
        let io = |source| VolumeError::Io {
            volume: self.name.clone(),
            path: rel.to_string(),
            source,
        };
        match std::fs::canonicalize(&full) {
            Ok(real) if real.starts_with(root) => Ok(full),
            Ok(real) => Err(VolumeError::Escape {
                volume: self.name.clone(),
                path: rel.to_string(),
                message: format!("resolves to {}, outside the volume", real.display()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VolumeError::NotFound {
                volume: self.name.clone(),
                path: rel.to_string(),
            }),
            Err(e) => Err(io(e)),
        }
    }

    /// Reads a file whole, decompressing it when its extension names a codec. Refuses files
    /// (and decompressed contents) over `limit` bytes without reading them whole.
    pub fn read(&self, path: &str, limit: u64) -> Result<Blob, VolumeError> {
        let rel = self.confine(path)?;
        let raw = self.read_raw(&rel, limit)?;
        let codec = Codec::from_path(&rel);
        let bytes = match codec {
            None => raw,
            Some(c) => decompress(c, &raw, limit).map_err(|e| match e {
                DecompressError::TooLarge => VolumeError::TooLarge {
                    volume: self.name.clone(),
                    path: rel.clone(),
                    size: limit + 1,
                    limit,
                },
                DecompressError::Corrupt(err) => VolumeError::Decompress {
                    volume: self.name.clone(),
                    path: rel.clone(),
                    codec: c.name(),
                    message: err.to_string(),
                },
            })?,
        };
        Ok(Blob { bytes, codec })
    }

    /// Reads a file's stored bytes (no decompression), at most `limit` of them.
    pub fn read_raw(&self, rel: &str, limit: u64) -> Result<Vec<u8>, VolumeError> {
        let too_large = |size| VolumeError::TooLarge {
            volume: self.name.clone(),
            path: rel.to_string(),
            size,
            limit,
        };
        match &self.backend {
            Backend::Local { root } => {
                let full = self.local_path(root, rel)?;
                let io = |source| VolumeError::Io {
                    volume: self.name.clone(),
                    path: rel.to_string(),
                    source,
                };
                let meta = std::fs::metadata(&full).map_err(io)?;
                if !meta.is_file() {
                    return Err(VolumeError::NotAFile {
                        volume: self.name.clone(),
                        path: rel.to_string(),
                        kind: list::kind_name(&meta.file_type()),
                    });
                }
                if meta.len() > limit {
                    return Err(too_large(meta.len()));
                }
                let mut bytes = Vec::with_capacity(meta.len() as usize);
                std::fs::File::open(&full)
                    .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
                    .map_err(io)?;
                if bytes.len() as u64 > limit {
                    return Err(too_large(bytes.len() as u64));
                }
                Ok(bytes)
            }
            Backend::Store { store, prefix } => {
                let key = object_store::path::Path::from(join_key(prefix, rel));
                let store_err = |source: object_store::Error| match source {
                    object_store::Error::NotFound { .. } => VolumeError::NotFound {
                        volume: self.name.clone(),
                        path: rel.to_string(),
                    },
                    source => VolumeError::Store {
                        volume: self.name.clone(),
                        path: rel.to_string(),
                        source,
                    },
                };
                runtime().block_on(async {
                    let got = store.get(&key).await.map_err(store_err)?;
                    if got.meta.size > limit {
                        return Err(too_large(got.meta.size));
                    }
                    Ok(got.bytes().await.map_err(store_err)?.to_vec())
                })
            }
        }
    }

    /// The local file behind `path` on a local volume (checked as a read is: inside the
    /// volume), `None` on other back ends.
    pub fn local_file(&self, path: &str) -> Result<Option<PathBuf>, VolumeError> {
        let rel = self.confine(path)?;
        match &self.backend {
            Backend::Local { root } => self.local_path(root, &rel).map(Some),
            Backend::Store { .. } => Ok(None),
        }
    }

    /// A streaming reader of a file, decompressed by `codec` (or by its extension when
    /// `None`). Local files are read as they are consumed; other stores fetch the object.
    /// More than `limit` bytes (after decompression) is a read error, not a silent cut.
    pub fn open_reader(
        &self,
        path: &str,
        codec: Option<Codec>,
        limit: u64,
    ) -> Result<Box<dyn Read + Send>, VolumeError> {
        let rel = self.confine(path)?;
        let codec = codec.or_else(|| Codec::from_path(&rel));
        let io = |source| VolumeError::Io {
            volume: self.name.clone(),
            path: rel.clone(),
            source,
        };
        let raw: Box<dyn Read + Send> = match &self.backend {
            Backend::Local { root } => {
                let full = self.local_path(root, &rel)?;
                let file = std::fs::File::open(&full).map_err(io)?;
                Box::new(std::io::BufReader::with_capacity(256 * 1024, file))
            }
            Backend::Store { .. } => Box::new(std::io::Cursor::new(self.read_raw(&rel, limit)?)),
        };
        let reader = match codec {
            Some(c) => c.reader(raw).map_err(io)?,
            None => raw,
        };
        Ok(Box::new(Limited::new(reader, limit)))
    }

    /// Writes a file only if it does not exist yet: `Ok(false)` when it does. Atomic on
    /// every back end (a hard link on local volumes, a conditional put on stores), so two
    /// writers racing for the same name never both win.
    pub fn put_new(&self, path: &str, bytes: Vec<u8>) -> Result<bool, VolumeError> {
        let rel = self.confine(path)?;
        let io = |source| VolumeError::Io {
            volume: self.name.clone(),
            path: rel.clone(),
            source,
        };
        match &self.backend {
            Backend::Local { root } => {
                let full = root.join(&rel);
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let tmp = full.with_extension(format!("disco-new-{}", std::process::id()));
                std::fs::write(&tmp, bytes).map_err(io)?;
                let linked = std::fs::hard_link(&tmp, &full);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                    Err(e) => Err(io(e)),
                }
            }
            Backend::Store { store, prefix } => {
                let key = object_store::path::Path::from(join_key(prefix, &rel));
                let opts = object_store::PutOptions {
                    mode: object_store::PutMode::Create,
                    ..Default::default()
                };
                match runtime().block_on(store.put_opts(&key, bytes.into(), opts)) {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
                    Err(source) => Err(VolumeError::Store {
                        volume: self.name.clone(),
                        path: rel.clone(),
                        source,
                    }),
                }
            }
        }
    }

    /// An object store and the URL of `path` in it, for libraries that take both (the Delta
    /// kernel): the local root's file URL over a root-less local store, or the bucket URL.
    pub fn store_and_url(
        &self,
        path: &str,
    ) -> Result<(Arc<dyn ObjectStore>, url::Url), VolumeError> {
        let rel = self.confine(path)?;
        let open = |message: String| VolumeError::Open {
            volume: self.name.clone(),
            url: self.url.clone(),
            message,
        };
        match &self.backend {
            Backend::Local { root } => {
                let dir = root.join(&rel);
                let url = url::Url::from_directory_path(&dir)
                    .map_err(|()| open(format!("{} is not an absolute path", dir.display())))?;
                Ok((Arc::new(object_store::local::LocalFileSystem::new()), url))
            }
            Backend::Store { store, prefix } => {
                let mut url = url::Url::parse(&self.url).map_err(|e| open(e.to_string()))?;
                url.set_path(&format!("/{}/", join_key(prefix, &rel).trim_matches('/')));
                Ok((store.clone(), url))
            }
        }
    }

    /// Deletes a file; a missing file is not an error.
    pub fn delete(&self, path: &str) -> Result<(), VolumeError> {
        let rel = self.confine(path)?;
        match &self.backend {
            Backend::Local { root } => match std::fs::remove_file(root.join(&rel)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(VolumeError::Io {
                    volume: self.name.clone(),
                    path: rel.clone(),
                    source,
                }),
            },
            Backend::Store { store, prefix } => {
                let key = object_store::path::Path::from(join_key(prefix, &rel));
                match runtime().block_on(store.delete(&key)) {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(source) => Err(VolumeError::Store {
                        volume: self.name.clone(),
                        path: rel.clone(),
                        source,
                    }),
                }
            }
        }
    }

    /// Writes a file (atomically on local volumes: a temporary file, then a rename).
    pub fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), VolumeError> {
        let rel = self.confine(path)?;
        match &self.backend {
            Backend::Local { root } => {
                let full = root.join(&rel);
                let io = |source| VolumeError::Io {
                    volume: self.name.clone(),
                    path: rel.clone(),
                    source,
                };
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let tmp = full.with_extension(format!("disco-tmp-{}", std::process::id()));
                std::fs::write(&tmp, bytes)
                    .and_then(|_| std::fs::rename(&tmp, &full))
                    .map_err(io)
            }
            Backend::Store { store, prefix } => {
                let key = object_store::path::Path::from(join_key(prefix, &rel));
                runtime()
                    .block_on(store.put(&key, bytes.into()))
                    .map(drop)
                    .map_err(|source| VolumeError::Store {
                        volume: self.name.clone(),
                        path: rel.clone(),
                        source,
                    })
            }
        }
    }
}

fn join_key(prefix: &str, rel: &str) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{rel}"),
    }
}
