//! Reading: a snapshot's data files as tasks (one per file, in commit order), and one task's
//! rows as a stream of Arrow 59 batches.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use iceberg::scan::{ArrowRecordBatchStream, FileScanTask};
use iceberg::spec::{ManifestContentType, SnapshotRef};

use super::{block_on, bridge, IcebergError, IcebergTable, Result};

/// One data file of a snapshot, with the delete files that apply to it.
#[derive(Debug, Clone)]
pub struct Task {
    /// The data file's URL (`file:///…/data/….parquet`).
    pub path: String,
    pub size: u64,
    /// Rows in the file before deletes.
    pub records: Option<u64>,
    /// Delete files (position or equality) the reader applies.
    pub deletes: usize,
    inner: FileScanTask,
}

impl IcebergTable {
    /// The data files of snapshot `snapshot_id` (the current one if `None`), oldest commit
    /// first (then by path), so rows come out in the order they were committed.
    pub fn tasks(&self, snapshot_id: Option<i64>) -> Result<Vec<Task>> {
        let Some(snap) = self.snapshot(snapshot_id)? else {
            return Ok(Vec::new());
        };
        let mut scan = self.table.scan().select_all();
        if let Some(id) = snapshot_id {
            scan = scan.snapshot_id(id);
        }
        let scan = scan.build().map_err(|e| self.err(e))?;
        let planned: Vec<FileScanTask> =
            block_on(async { scan.plan_files().await?.try_collect::<Vec<_>>().await })
                .map_err(|e| self.err(e))?;
        let order = self.commit_order(&snap)?;
        let mut tasks: Vec<Task> = planned
            .into_iter()
            .map(|t| Task {
                path: t.data_file_path.clone(),
                size: t.file_size_in_bytes,
                records: t.record_count,
                deletes: t.deletes.len(),
                inner: t,
            })
            .collect();
        tasks.sort_by(|a, b| {
            let key = |t: &Task| order.get(&t.path).copied().unwrap_or(i64::MAX);
            key(a).cmp(&key(b)).then_with(|| a.path.cmp(&b.path))
        });
        Ok(tasks)
    }

    /// Each live data file's data sequence number (its commit), from the manifests.
    fn commit_order(&self, snap: &SnapshotRef) -> Result<HashMap<String, i64>> {
        let table = &self.table;
        block_on(async {
            let list = table.manifest_list_reader(snap).load().await?;
            let mut order = HashMap::new();
            for m in list.entries() {
                if m.content != ManifestContentType::Data {
                    continue;
                }
                let manifest = m.load_manifest(table.file_io()).await?;
                for e in manifest.entries().iter().filter(|e| e.is_alive()) {
                    let seq = e.sequence_number().unwrap_or(m.sequence_number);
                    order.insert(e.data_file().file_path().to_string(), seq);
                }
            }
            Ok(order)
        })
        .map_err(|e| self.err(e))
    }

    /// Streams one task's rows in batches of at most `batch_size` rows, as Arrow 59, with
    /// its delete files applied.
    pub fn read_task(&self, task: &Task, batch_size: usize) -> Result<BatchIter> {
        let reader = self
            .table
            .reader_builder()
            .with_batch_size(batch_size.max(1))
            .with_data_file_concurrency_limit(1)
            .build();
        let tasks = futures::stream::iter([Ok(task.inner.clone())]).boxed();
        let stream = reader.read(tasks).map_err(|e| self.err(e))?.stream();
        Ok(BatchIter {
            table: self.name.clone(),
            path: task.path.clone(),
            stream,
        })
    }
}

/// The batches of one data file, read on demand.
pub struct BatchIter {
    table: String,
    path: String,
    stream: ArrowRecordBatchStream,
}

impl Iterator for BatchIter {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = block_on(self.stream.next())?;
        Some(match next {
            Ok(batch) => bridge::batch_to_59(batch).map_err(|message| IcebergError::Arrow {
                table: self.table.clone(),
                message,
            }),
            Err(source) => Err(IcebergError::Table {
                table: format!("{} ({})", self.table, self.path),
                error: Box::new(source),
            }),
        })
    }
}
