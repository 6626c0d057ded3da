//! The one way Disco makes a file appear whole or not at all. On a local volume the bytes go
//! to a hidden temporary file beside the target (readers of folders skip dot files), synced,
//! then renamed over it; on an object store they are kept in memory and put in one request
//! (a put is atomic there). Single-file outputs, part files and `disco tree` files all use it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::volume::Volume;

/// A file being written; nothing of it is visible until [`AtomicPut::commit`].
pub struct AtomicPut(Inner);

enum Inner {
    Local {
        out: BufWriter<File>,
        tmp: PathBuf,
        full: PathBuf,
    },
    Store {
        bytes: Vec<u8>,
        volume: Volume,
        path: String,
    },
}

impl AtomicPut {
    /// File `path` of `volume`.
    pub fn create(volume: &Volume, path: &str) -> Result<AtomicPut> {
        match volume.local_root() {
            Some(root) => AtomicPut::local(root.join(path)),
            None => Ok(AtomicPut(Inner::Store {
                bytes: Vec::new(),
                volume: volume.clone(),
                path: path.to_string(),
            })),
        }
    }

    /// The local file `full` (its folder is created).
    pub fn local(full: PathBuf) -> Result<AtomicPut> {
        if let Some(parent) = full.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = full.with_file_name(format!(".{name}.disco-tmp-{}", std::process::id()));
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(AtomicPut(Inner::Local {
            out: BufWriter::new(file),
            tmp,
            full,
        }))
    }

    /// Makes the file visible, whole: sync and rename, or one put.
    pub fn commit(self) -> Result<()> {
        match self.0 {
            Inner::Local { out, tmp, full } => {
                out.into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .with_context(|| format!("writing {}", tmp.display()))?;
                std::fs::rename(&tmp, &full)
                    .with_context(|| format!("renaming into {}", full.display()))
            }
            Inner::Store {
                bytes,
                volume,
                path,
            } => Ok(volume.put(&path, bytes)?),
        }
    }

    /// Drops what was written; nothing of it was ever visible.
    pub fn abort(self) {
        let discard = self.discard();
        drop(self);
        discard.run();
    }

    /// How to drop this file later, once its writer is gone into an encoder.
    pub fn discard(&self) -> Discard {
        match &self.0 {
            Inner::Local { tmp, .. } => Discard(Some(tmp.clone())),
            Inner::Store { .. } => Discard(None),
        }
    }
}

/// Removes the temporary file of an [`AtomicPut`] that will not be committed.
pub struct Discard(Option<PathBuf>);

impl Discard {
    pub fn run(self) {
        if let Some(tmp) = self.0 {
            if let Err(e) = std::fs::remove_file(&tmp) {
                tracing::warn!("could not remove {}: {e}", tmp.display());
            }
        }
    }
}

impl Write for AtomicPut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Inner::Local { out, .. } => out.write(buf),
            Inner::Store { bytes, .. } => bytes.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Inner::Local { out, .. } => out.flush(),
            Inner::Store { .. } => Ok(()),
        }
    }
}

/// Where an encoder writes: stdout, or a file that appears when committed.
pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    Put(AtomicPut),
}

impl Sink {
    /// Makes what was written visible (stdout: flushes it).
    pub fn commit(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::Put(p) => p.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::Put(p) => p.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::Put(p) => p.flush(),
        }
    }
}
