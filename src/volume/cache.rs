//! A content-addressed local cache. Language servers need a real directory, so files of a
//! remote volume are materialised there: each file's bytes once under `blobs/` by SHA-256,
//! and a per-volume tree of hard links (copies where links fail) under `volumes/`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{EntryKind, ListOptions, Volume, VolumeError};

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// `$DISCO_CACHE_DIR`, else `$XDG_CACHE_HOME/disco`, else `~/.cache/disco`.
    pub fn default_location() -> Cache {
        let root = std::env::var_os("DISCO_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("disco")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/disco")))
            .unwrap_or_else(|| std::env::temp_dir().join("disco-cache"));
        Cache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes the files under `path` of `volume` available in a local directory and returns
    /// the directory that stands for the volume's root (paths inside it are the volume's).
    /// A local volume is its own directory; a remote one is copied file by file (one in
    /// memory at a time), each blob stored once however many volumes hold it.
    pub fn materialize(
        &self,
        volume: &Volume,
        path: &str,
        opts: &ListOptions,
        limit: u64,
    ) -> Result<PathBuf, VolumeError> {
        if let Some(root) = volume.local_root() {
            return Ok(root.to_path_buf());
        }
        let io = |p: &Path, source| VolumeError::Io {
            volume: volume.name().to_string(),
            path: p.display().to_string(),
            source,
        };
        let tree = self
            .root
            .join("volumes")
            .join(&hex::encode(Sha256::digest(volume.url().as_bytes()))[..16]);
        for entry in volume.list(path, opts)? {
            if entry.kind != EntryKind::File {
                continue;
            }
            let bytes = volume.read_raw(&entry.path, limit)?;
            let hash = hex::encode(Sha256::digest(&bytes));
            let blob = self.root.join("blobs").join(&hash[..2]).join(&hash);
            if !blob.exists() {
                let dir = blob.parent().unwrap_or(&self.root);
                std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
                let tmp = blob.with_extension(format!("tmp-{}", std::process::id()));
                std::fs::write(&tmp, &bytes)
                    .and_then(|_| std::fs::rename(&tmp, &blob))
                    .map_err(|e| io(&blob, e))?;
            }
            let dest = tree.join(&entry.path);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
            let _ = std::fs::remove_file(&dest);
            if std::fs::hard_link(&blob, &dest).is_err() {
                std::fs::copy(&blob, &dest).map_err(|e| io(&dest, e))?;
            }
        }
        std::fs::create_dir_all(&tree).map_err(|e| io(&tree, e))?;
        Ok(tree)
    }
}
