//! Listing a volume: every file under a path, sorted, with ignore rules on local volumes and
//! include/exclude globs on all. Nothing is dropped silently: special files, symlinks,
//! loops and unreadable directories come back as entries that say what they are.

use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{join_key, runtime, Backend, Volume, VolumeError};

/// How to list.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Honour `.gitignore`, `.ignore` and `.git/info/exclude` (local volumes).
    pub ignore_files: bool,
    /// Include hidden files and folders (`.git` itself is always skipped).
    pub hidden: bool,
    /// Follow symbolic links (inside the volume only); otherwise they are listed as links.
    pub follow_links: bool,
    /// Keep only paths matching one of these (all when empty), then drop those matching
    /// an exclude. Globs match the path relative to the volume (`*` crosses `/`).
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            ignore_files: true,
            hidden: false,
            follow_links: false,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// One listed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the volume root, `/`-separated.
    pub path: String,
    pub size: u64,
    pub kind: EntryKind,
}

/// What a listed path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    /// A symbolic link that was not followed, and where it points.
    Symlink {
        target: String,
    },
    /// A FIFO, socket or device: never opened (reading a FIFO would block).
    Special(&'static str),
    /// A link or path that resolves outside the volume.
    Outside(String),
    /// A path the listing could not read (permission denied, a symlink loop...).
    Unreadable(String),
}

pub(super) fn kind_name(t: &FileType) -> &'static str {
    if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "file"
    }
}

struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    fn new(volume: &Volume, opts: &ListOptions) -> Result<Filter, VolumeError> {
        let build = |globs: &mut dyn Iterator<Item = &String>| -> Result<GlobSet, VolumeError> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                let glob = Glob::new(g).map_err(|e| VolumeError::Open {
                    volume: volume.name.clone(),
                    url: volume.url.clone(),
                    message: format!("bad glob `{g}`: {e}"),
                })?;
                b.add(glob);
            }
            b.build().map_err(|e| VolumeError::Open {
                volume: volume.name.clone(),
                url: volume.url.clone(),
                message: e.to_string(),
            })
        };
        let includes: Vec<&String> = volume.include.iter().chain(&opts.include).collect();
        let include = if includes.is_empty() {
            None
        } else {
            Some(build(&mut includes.into_iter())?)
        };
        let exclude = build(&mut volume.exclude.iter().chain(&opts.exclude))?;
        Ok(Filter { include, exclude })
    }

    fn keeps(&self, rel: &str) -> bool {
        self.include.as_ref().is_none_or(|s| s.is_match(rel)) && !self.exclude.is_match(rel)
    }
}

impl Volume {
    /// Lists every file under `path` ("" for the whole volume), sorted by path.
    pub fn list(&self, path: &str, opts: &ListOptions) -> Result<Vec<Entry>, VolumeError> {
        let rel = self.confine(path)?;
        let filter = Filter::new(self, opts)?;
        let mut entries = match &self.backend {
            Backend::Local { root } => self.list_local(root, &rel, opts, &filter)?,
            Backend::Store { store, prefix } => {
                let key = join_key(prefix, &rel);
                let key = (!key.is_empty()).then(|| object_store::path::Path::from(key));
                let metas: Vec<_> = runtime()
                    .block_on(store.list(key.as_ref()).try_collect())
                    .map_err(|source| VolumeError::Store {
                        volume: self.name.clone(),
                        path: rel.clone(),
                        source,
                    })?;
                metas
                    .into_iter()
                    .filter_map(|m| {
                        let full = m.location.to_string();
                        let p = if prefix.is_empty() {
                            full
                        } else {
                            full.strip_prefix(prefix.as_str())?
                                .trim_start_matches('/')
                                .to_string()
                        };
                        filter.keeps(&p).then_some(Entry {
                            path: p,
                            size: m.size,
                            kind: EntryKind::File,
                        })
                    })
                    .collect()
            }
        };
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|a, b| a.path == b.path);
        Ok(entries)
    }

    fn list_local(
        &self,
        root: &Path,
        rel: &str,
        opts: &ListOptions,
        filter: &Filter,
    ) -> Result<Vec<Entry>, VolumeError> {
        let start = self.local_path(root, rel)?;
        let relative = |p: &Path| -> String {
            p.strip_prefix(root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| p.to_string_lossy().into_owned())
        };
        // Links refused while walking are recorded here rather than dropped.
        let refused: Arc<Mutex<Vec<Entry>>> = Arc::default();
        // The walk starts at the volume's root, so the root's own ignore files apply to any
        // sub-path, and ignore files above the root never do: a volume stands on its own.
        // Directories off the way to the requested path are pruned.
        let single_file = start.is_file();
        let mut walk = ignore::WalkBuilder::new(if single_file { &start } else { root });
        walk.hidden(!opts.hidden)
            .ignore(opts.ignore_files)
            .git_ignore(opts.ignore_files)
            .git_exclude(opts.ignore_files)
            .parents(false)
            .git_global(false)
            .require_git(false)
            .follow_links(opts.follow_links);
        {
            let root = root.to_path_buf();
            let refused = refused.clone();
            let wanted = rel.to_string();
            walk.filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                if !wanted.is_empty() && e.depth() > 0 {
                    let p = e
                        .path()
                        .strip_prefix(&root)
                        .map(|r| r.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let on_the_way = wanted.starts_with(&p) && wanted[p.len()..].starts_with('/');
                    let inside = p == wanted || p.starts_with(&format!("{wanted}/"));
                    if !on_the_way && !inside {
                        return false;
                    }
                }
                if e.path_is_symlink() && e.depth() > 0 {
                    if let Ok(real) = std::fs::canonicalize(e.path()) {
                        if !real.starts_with(&root) {
                            let path = e
                                .path()
                                .strip_prefix(&root)
                                .map(|r| r.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            let mut refused = refused.lock().unwrap_or_else(|p| p.into_inner());
                            refused.push(Entry {
                                path,
                                size: 0,
                                kind: EntryKind::Outside(format!(
                                    "symbolic link to {}, outside the volume",
                                    real.display()
                                )),
                            });
                            return false;
                        }
                    }
                }
                true
            });
        }
        let mut out = Vec::new();
        for item in walk.build() {
            let entry = match item {
                Ok(e) => e,
                Err(err) => {
                    let path = error_path(&err).map(|p| relative(&p)).unwrap_or_default();
                    if filter.keeps(&path) {
                        out.push(Entry {
                            path,
                            size: 0,
                            kind: EntryKind::Unreadable(error_message(&err)),
                        });
                    }
                    continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                continue;
            };
            if ft.is_dir() {
                continue;
            }
            let path = relative(entry.path());
            if !filter.keeps(&path) {
                continue;
            }
            let kind = if ft.is_file() {
                EntryKind::File
            } else if ft.is_symlink() {
                match std::fs::canonicalize(entry.path()) {
                    Ok(real) if real.starts_with(root) => EntryKind::Symlink {
                        target: relative(&real),
                    },
                    Ok(real) => EntryKind::Outside(format!(
                        "symbolic link to {}, outside the volume",
                        real.display()
                    )),
                    Err(e) => EntryKind::Unreadable(format!("dangling symbolic link: {e}")),
                }
            } else {
                EntryKind::Special(kind_name(&ft))
            };
            let size = match kind {
                EntryKind::File => entry.metadata().map(|m| m.len()).unwrap_or(0),
                _ => 0,
            };
            out.push(Entry { path, size, kind });
        }
        out.extend(
            refused
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
                .filter(|e| filter.keeps(&e.path)),
        );
        Ok(out)
    }
}

fn error_path(err: &ignore::Error) -> Option<std::path::PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errs) => errs.first().and_then(error_path),
        _ => None,
    }
}

fn error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop (back to {})", ancestor.display())
        }
        other => other.to_string(),
    }
}
