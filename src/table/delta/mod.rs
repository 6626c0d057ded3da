//! Delta Lake tables through `delta_kernel`, the Delta project's own Rust kernel, and its
//! default Arrow/object_store engine. The kernel replays the log (JSON commits, V1/V2 and
//! multi-part checkpoints), resolves the files a snapshot holds (removed files are gone),
//! turns physical data into the logical schema (partition values become columns, column
//! mapping renames) and hands us deletion vectors; we stream each data file as one part.
//!
//! Writing (append, overwrite, partitions, schema merge, application transactions,
//! checkpoints) is in [`commit`].

mod commit;
mod lake;
mod types;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use delta_kernel::engine::arrow_conversion::TryIntoArrow;
use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::scan::state::ScanFile;
use delta_kernel::scan::Scan;
use delta_kernel::{Engine, FileMeta, Snapshot, SnapshotRef};
use delta_kernel_default_engine::executor::tokio::TokioMultiThreadExecutor;
use delta_kernel_default_engine::DefaultEngine;
use url::Url;

pub use commit::{DeltaPart, SchemaMode};
pub use lake::Delta;
pub use types::{delta_schema, to_delta};

use crate::volume::Volume;

/// What went wrong with a Delta table; every message names the table.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error("{table}: not a Delta table (no _delta_log commits)")]
    NotFound { table: String },
    #[error("{table}: {message}")]
    Unsupported { table: String, message: String },
    #[error("{table}: {}", plain(error))]
    Kernel {
        table: String,
        error: delta_kernel::KernelError,
    },
    #[error("{table}: reading its log (_delta_log): {}", plain(error))]
    Log {
        table: String,
        error: delta_kernel::KernelError,
    },
    #[error("{table}: {message}")]
    Schema { table: String, message: String },
    #[error("{table}: {message}")]
    Other { table: String, message: String },
}

pub type Result<T, E = DeltaError> = std::result::Result<T, E>;

/// A version of a table to read: the latest, a version number, or the latest version
/// committed at or before a time (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    Latest,
    At(u64),
    AsOf(i64),
}

impl Version {
    /// `12`, `v12`, or an RFC 3339 time (`2026-11-01T00:00:00Z`).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let digits = s.strip_prefix('v').unwrap_or(s);
        if let Ok(v) = digits.parse::<u64>() {
            return Some(Version::At(v));
        }
        let t = chrono_free_rfc3339_millis(s)?;
        Some(Version::AsOf(t))
    }
}

/// Milliseconds since the epoch of an RFC 3339 UTC time, via Arrow's parser (no extra crate).
fn chrono_free_rfc3339_millis(s: &str) -> Option<i64> {
    let nanos = arrow::compute::kernels::cast_utils::string_to_timestamp_nanos(s).ok()?;
    Some(nanos.div_euclid(1_000_000))
}

/// An opened Delta table location (which may not hold a table yet). Cloning shares the
/// store and the engine.
#[derive(Clone)]
pub struct DeltaTable {
    /// The name errors use: the catalog name or URI the user gave.
    pub name: String,
    url: Url,
    store: Arc<dyn object_store::ObjectStore>,
    engine: Arc<DefaultEngine<TokioMultiThreadExecutor>>,
}

/// The files of a snapshot to read, in a fixed order, and how to read them.
pub struct DeltaScan {
    scan: Scan,
    pub version: u64,
    pub schema: SchemaRef,
    pub files: Vec<ScanFile>,
}

/// What `disco catalog show` prints of a table, from its log alone.
#[derive(Debug, Clone)]
pub struct DeltaInfo {
    pub version: u64,
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub files: u64,
    /// `None` when a file's add action has no statistics.
    pub rows: Option<u64>,
    pub bytes: u64,
    pub reader_features: Vec<String>,
    pub writer_features: Vec<String>,
    pub properties: Vec<(String, String)>,
}

impl DeltaTable {
    /// The table at `path` of `volume` (local or object store).
    pub fn new(volume: &Volume, path: &str, name: &str) -> Result<DeltaTable> {
        let other = |message: String| DeltaError::Other {
            table: name.to_string(),
            message,
        };
        let (store, url) = volume
            .store_and_url(path)
            .map_err(|e| other(e.to_string()))?;
        let url = if url.path().ends_with('/') {
            url
        } else {
            Url::parse(&format!("{url}/")).map_err(|e| other(e.to_string()))?
        };
        // Disco's shared multi-threaded runtime: the kernel's checkpoint writer blocks on
        // futures that need other workers (its single-threaded default executor hangs there).
        let executor = TokioMultiThreadExecutor::new(crate::volume::runtime().handle().clone());
        // Batches of 8,192 rows (the kernel's default is 1,000), as Disco's other readers make:
        // fewer, larger batches through the stages and the writer.
        let engine = DefaultEngine::builder(store.clone())
            .with_task_executor(Arc::new(executor))
            .with_batch_size(std::num::NonZero::new(8192).expect("not zero"))
            .build();
        Ok(DeltaTable {
            name: name.to_string(),
            url,
            store,
            engine: Arc::new(engine),
        })
    }

    fn kernel(&self) -> impl Fn(delta_kernel::KernelError) -> DeltaError + '_ {
        move |source| DeltaError::Kernel {
            table: self.name.clone(),
            error: source,
        }
    }

    pub(crate) fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }

    /// Puts a data file whole (it is referenced by no commit yet).
    fn put(&self, location: &Url, bytes: Vec<u8>) -> Result<()> {
        use object_store::ObjectStoreExt;
        let other = |message: String| DeltaError::Other {
            table: self.name.clone(),
            message,
        };
        let path = object_store::path::Path::from_url_path(location.path())
            .map_err(|e| other(e.to_string()))?;
        crate::volume::runtime()
            .block_on(self.store.put(&path, bytes.into()))
            .map_err(|e| other(format!("writing {location}: {e}")))?;
        Ok(())
    }

    /// Writes a checkpoint when version `v` is a multiple of `delta.checkpointInterval` (100
    /// when the table does not set it, as Delta's writers do). A failed checkpoint costs
    /// readers time, not data: it is logged, not raised.
    fn checkpoint_if_due(&self, snapshot: &SnapshotRef, v: u64) {
        let every = snapshot
            .table_properties()
            .checkpoint_interval
            .map_or(100, |n| n.get());
        if v == 0 || v % every != 0 {
            return;
        }
        if let Err(e) = snapshot.checkpoint(self.engine(), None) {
            tracing::warn!("{}: checkpoint at version {v} failed: {e}", self.name);
        }
    }

    /// The snapshot at `version`; `Ok(None)` when there is no table here yet.
    pub fn snapshot(&self, version: Version) -> Result<Option<SnapshotRef>> {
        let latest = match Snapshot::builder_for(self.url.as_str()).build(self.engine()) {
            Ok(s) => s,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(error) => {
                return Err(DeltaError::Log {
                    table: self.name.clone(),
                    error,
                })
            }
        };
        let at = match version {
            Version::Latest => return Ok(Some(latest)),
            Version::At(v) => v,
            Version::AsOf(ms) => {
                delta_kernel::history_manager::latest_version_as_of(
                    &latest,
                    self.engine(),
                    ms,
                    delta_kernel::history_manager::HistoryCommitType::Recreatable,
                )
                .map_err(self.kernel())?
                .version
            }
        };
        Snapshot::builder_for(self.url.as_str())
            .at_version(at)
            .build(self.engine())
            .map(Some)
            .map_err(|error| DeltaError::Log {
                table: self.name.clone(),
                error,
            })
    }

    /// The snapshot, or an error when there is no table.
    pub fn existing(&self, version: Version) -> Result<SnapshotRef> {
        self.snapshot(version)?.ok_or_else(|| DeltaError::NotFound {
            table: self.name.clone(),
        })
    }

    /// The files of a snapshot, sorted by path (parts are numbered in this order).
    pub fn scan(&self, snapshot: SnapshotRef) -> Result<DeltaScan> {
        let version = snapshot.version();
        let scan = snapshot.scan_builder().build().map_err(self.kernel())?;
        let mut files: Vec<ScanFile> = Vec::new();
        for meta in scan.scan_metadata(self.engine()).map_err(self.kernel())? {
            let meta = meta.map_err(self.kernel())?;
            files = meta
                .visit_scan_files(files, |acc: &mut Vec<ScanFile>, f| acc.push(f))
                .map_err(self.kernel())?;
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let schema: arrow::datatypes::Schema =
            scan.logical_schema().as_ref().try_into_arrow().map_err(
                |e: delta_kernel::arrow::error::ArrowError| DeltaError::Other {
                    table: self.name.clone(),
                    message: e.to_string(),
                },
            )?;
        Ok(DeltaScan {
            scan,
            version,
            schema: Arc::new(schema),
            files,
        })
    }

    /// Streams one data file in the logical schema, deleted rows dropped.
    pub fn read_file(
        &self,
        scan: &DeltaScan,
        file: &ScanFile,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + Send + 'static> {
        let table = self.name.clone();
        let kernel = move |source: delta_kernel::KernelError| DeltaError::Kernel {
            table: table.clone(),
            error: source,
        };
        let engine: Arc<dyn Engine> = self.engine.clone();
        let location = self.url.join(&file.path).map_err(|e| DeltaError::Other {
            table: self.name.clone(),
            message: format!("{}: {e}", file.path),
        })?;
        let mut deleted = file
            .dv_info
            .get_selection_vector(engine.as_ref(), &self.url)
            .map_err(&kernel)?;
        let meta = FileMeta {
            last_modified: file.modification_time,
            size: file.size.max(0) as u64,
            location,
        };
        let physical = scan.scan.physical_schema().clone();
        let logical = scan.scan.logical_schema().clone();
        let transform = file.transform.clone();
        let data = engine
            .parquet_handler()
            .read_parquet_files(&[meta], physical.clone(), None)
            .map_err(&kernel)?;
        let path = file.path.clone();
        let name = self.name.clone();
        Ok(data.map(move |chunk| {
            let chunk = chunk.map_err(&kernel)?;
            let logical = delta_kernel::scan::state::transform_to_logical(
                engine.as_ref(),
                chunk,
                &physical,
                &logical,
                transform.clone(),
            )
            .map_err(&kernel)?;
            let batch = ArrowEngineData::try_from_engine_data(logical)
                .map_err(&kernel)?
                .record_batch()
                .clone();
            // The deletion vector covers the file's rows in order: this chunk takes its head.
            match deleted.as_mut() {
                None => Ok(batch),
                Some(sv) => {
                    let n = batch.num_rows();
                    let mut mine: Vec<bool> = sv.drain(..n.min(sv.len())).collect();
                    mine.resize(n, true);
                    filter_record_batch(&batch, &mine.into()).map_err(|e| DeltaError::Other {
                        table: name.clone(),
                        message: format!("{path}: applying its deletion vector: {e}"),
                    })
                }
            }
        }))
    }

    /// The table's metadata, from its log only.
    pub fn info(&self, version: Version) -> Result<DeltaInfo> {
        let snapshot = self.existing(version)?;
        let scan = self.scan(snapshot.clone())?;
        let config = snapshot.table_configuration();
        let protocol = config.protocol();
        let names = |f: Option<&[delta_kernel::table_features::TableFeature]>| {
            f.unwrap_or_default()
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        };
        let rows = scan
            .files
            .iter()
            .map(|f| f.stats.as_ref().map(|s| s.num_records))
            .try_fold(0u64, |acc, n| n.map(|n| acc + n));
        let mut properties: Vec<(String, String)> = config
            .metadata()
            .configuration()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        properties.sort();
        Ok(DeltaInfo {
            version: scan.version,
            schema: scan.schema.clone(),
            partition_columns: config.metadata().partition_columns().to_vec(),
            files: scan.files.len() as u64,
            rows,
            bytes: scan.files.iter().map(|f| f.size.max(0) as u64).sum(),
            reader_features: names(protocol.reader_features()),
            writer_features: names(protocol.writer_features()),
            properties,
        })
    }
}

/// A kernel error's message without the backtrace the kernel may attach to it.
fn plain(e: &delta_kernel::KernelError) -> String {
    match e {
        delta_kernel::KernelError::Backtraced { source, .. } => plain(source),
        e => e.to_string(),
    }
}

/// The kernel refused to create a table because its `_delta_log` already holds a file.
pub(super) fn is_existing(e: &DeltaError) -> bool {
    fn kernel(e: &delta_kernel::KernelError) -> bool {
        use delta_kernel::KernelError as E;
        match e {
            E::Backtraced { source, .. } => kernel(source),
            E::TableAlreadyExistsAtPath(_) => true,
            _ => false,
        }
    }
    matches!(e, DeltaError::Kernel { error, .. } if kernel(error))
}

/// A location without a log is not an error for a writer: it creates the table.
fn is_missing(e: &delta_kernel::KernelError) -> bool {
    use delta_kernel::KernelError as E;
    match e {
        E::Backtraced { source, .. } => is_missing(source),
        E::EmptyLog | E::FileNotFound(_) | E::InvalidTableLocation(_) => true,
        _ => false,
    }
}
