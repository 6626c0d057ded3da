//! Writing one input part into a Delta table: its rows go into new data files (one per
//! partition directory) that nothing references yet, then one commit adds them — with the
//! part's application transaction (`txn`), so a rerun knows it is done. A commit that loses a
//! race to another writer (a shard) is rebuilt on the newer snapshot and tried again, so
//! concurrent appenders never lose a commit. Checkpoints follow `delta.checkpointInterval`
//! (100 commits when the table does not say).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use delta_kernel::committer::FileSystemCommitter;
use delta_kernel::engine::arrow_conversion::{TryFromArrow, TryIntoArrow};
use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::expressions::Scalar;
use delta_kernel::schema::{StructField, StructType};
use delta_kernel::transaction::create_table::create_table;
use delta_kernel::transaction::data_layout::DataLayout;
use delta_kernel::transaction::{CommitResult, UpdateTableOperation, WriteState};
use delta_kernel::SnapshotRef;

use super::types::{partition_key, partition_scalar, to_delta};
use super::{DeltaError, DeltaTable, Result, Version};
use crate::table::lake::PartCommit;

mod files;

use files::{lanes, DataFile, Lane, TARGET_FILE_BYTES};

const ENGINE_INFO: &str = concat!("disco/", env!("CARGO_PKG_VERSION"));
/// Commits lost to other writers before giving up.
const MAX_ATTEMPTS: usize = 100;

/// How rows whose schema differs from the table's are taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SchemaMode {
    /// The rows' columns must be the table's (same names and types).
    #[default]
    Strict,
    /// Columns the table lacks are added to it (nullable); columns the rows lack are null.
    Merge,
}

/// One part's rows on their way into the table.
pub struct DeltaPart<'t> {
    table: &'t DeltaTable,
    /// What each data file is opened with (see `DeltaTable::write_state`).
    write_state: Arc<WriteState>,
    /// The rows' schema (Delta types), partition columns included.
    schema: SchemaRef,
    partition_by: Vec<String>,
    mode: SchemaMode,
    row_group_size: usize,
    /// The size at which a data file is put and the next begun.
    file_bytes: usize,
    /// Data files being written, by partition values and lane.
    files: BTreeMap<(Vec<Option<String>>, usize), Lane>,
    /// The next lane of each partition (batches go round the lanes).
    turns: BTreeMap<Vec<Option<String>>, usize>,
    /// The table's schema the rows are cast to (after a merge, a superset of theirs).
    table_schema: SchemaRef,
}

impl DeltaTable {
    /// Starts writing a part of rows of `schema` (already [`super::delta_schema`]-cast).
    /// Checks the rows against the table (when there is one) before anything is written.
    pub fn part(
        &self,
        schema: &SchemaRef,
        partition_by: &[String],
        mode: SchemaMode,
        row_group_size: usize,
    ) -> Result<DeltaPart<'_>> {
        let mut attempt = 0;
        let (table_schema, partition_by, write_state, file_bytes) = loop {
            let snapshot = self.snapshot(Version::Latest)?;
            let file_bytes = snapshot
                .as_ref()
                .and_then(|s| s.table_properties().target_file_size)
                .map_or(TARGET_FILE_BYTES, |n| {
                    usize::try_from(n.get()).unwrap_or(usize::MAX)
                });
            let table_schema = match &snapshot {
                Some(s) => self.check(s, schema, partition_by, mode)?.0,
                None => schema.clone(),
            };
            let partition_by = match &snapshot {
                Some(s) => s
                    .table_configuration()
                    .metadata()
                    .partition_columns()
                    .to_vec(),
                None => partition_by.to_vec(),
            };
            match self.write_state(snapshot, schema, &table_schema, &partition_by, mode) {
                Ok(w) => break (table_schema, partition_by, w, file_bytes),
                Err(e) if super::is_existing(&e) && attempt < MAX_ATTEMPTS => {
                    creation_in_flight(attempt);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(DeltaPart {
            table: self,
            write_state,
            schema: schema.clone(),
            partition_by,
            mode,
            row_group_size,
            file_bytes,
            files: BTreeMap::new(),
            turns: BTreeMap::new(),
            table_schema,
        })
    }

    /// The write state every data file of a part is opened with (partition directories,
    /// physical schema under column mapping, statistics columns), from a throwaway transaction
    /// on the current (or a to-be-created) table: built once per part, not per file.
    fn write_state(
        &self,
        snapshot: Option<SnapshotRef>,
        schema: &SchemaRef,
        table_schema: &SchemaRef,
        partition_by: &[String],
        mode: SchemaMode,
    ) -> Result<Arc<WriteState>> {
        let committer = Box::new(FileSystemCommitter::new());
        match snapshot {
            Some(s) => {
                let (_, added) = self.check(&s, schema, &[], mode)?;
                let mut b = s.update_table(UpdateTableOperation::Write, ENGINE_INFO, true);
                for f in added {
                    b = b.add_column(f);
                }
                b.build(self.engine(), committer)
                    .map_err(self.kernel())?
                    .write_state()
                    .map_err(self.kernel())
            }
            None => {
                let schema = StructType::try_from_arrow(table_schema.as_ref()).map_err(
                    |e: delta_kernel::arrow::error::ArrowError| DeltaError::Other {
                        table: self.name.clone(),
                        message: e.to_string(),
                    },
                )?;
                let mut b = create_table(self.url.as_str(), Arc::new(schema), ENGINE_INFO, true);
                if !partition_by.is_empty() {
                    b = b.with_data_layout(DataLayout::partitioned(partition_by.to_vec()));
                }
                b.build(self.engine(), committer)
                    .map_err(self.kernel())?
                    .write_state()
                    .map_err(self.kernel())
            }
        }
    }

    /// The table's schema for rows of `schema`, and the columns a merge adds.
    fn check(
        &self,
        snapshot: &SnapshotRef,
        schema: &SchemaRef,
        partition_by: &[String],
        mode: SchemaMode,
    ) -> Result<(SchemaRef, Vec<StructField>)> {
        let bad = |message: String| DeltaError::Schema {
            table: self.name.clone(),
            message,
        };
        let table: arrow::datatypes::Schema = snapshot
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e: delta_kernel::arrow::error::ArrowError| bad(e.to_string()))?;
        let parts = snapshot
            .table_configuration()
            .metadata()
            .partition_columns();
        if !partition_by.is_empty() && partition_by != parts {
            return Err(bad(format!(
                "the table is partitioned by {parts:?}, not {partition_by:?}"
            )));
        }
        let mut added = Vec::new();
        let mut fields: Vec<arrow::datatypes::Field> =
            table.fields().iter().map(|f| f.as_ref().clone()).collect();
        for f in schema.fields() {
            match table.field_with_name(f.name()) {
                Ok(t) if same_type(t.data_type(), f.data_type()) => {}
                Ok(t) => {
                    return Err(bad(format!(
                        "column `{}` is {} in the table and {} in the rows",
                        f.name(),
                        t.data_type(),
                        f.data_type()
                    )))
                }
                Err(_) if mode == SchemaMode::Merge => {
                    let k = StructField::try_from_arrow(f.as_ref())
                        .map_err(|e: delta_kernel::arrow::error::ArrowError| bad(e.to_string()))?;
                    added.push(StructField::nullable(f.name(), k.data_type().clone()));
                    fields.push(f.as_ref().clone().with_nullable(true));
                }
                Err(_) => {
                    return Err(bad(format!(
                        "the rows have a column `{}` the table does not (columns: {}); \
                         `--schema-mode merge` adds it",
                        f.name(),
                        names(&table)
                    )))
                }
            }
        }
        if mode == SchemaMode::Strict {
            if let Some(missing) = table
                .fields()
                .iter()
                .find(|t| schema.field_with_name(t.name()).is_err())
            {
                return Err(bad(format!(
                    "the rows lack the table's column `{}` (rows: {}); `--schema-mode merge` \
                     writes it as null",
                    missing.name(),
                    names(schema)
                )));
            }
        }
        Ok((Arc::new(arrow::datatypes::Schema::new(fields)), added))
    }

    /// The last part `app` committed, if any.
    pub fn app_version(&self, snapshot: &SnapshotRef, app: &str) -> Result<Option<i64>> {
        snapshot
            .get_app_id_version(app, self.engine())
            .map_err(self.kernel())
    }
}

fn names(s: &arrow::datatypes::Schema) -> String {
    s.fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Types equal up to field names of lists and nullability inside nested types.
fn same_type(a: &arrow::datatypes::DataType, b: &arrow::datatypes::DataType) -> bool {
    use arrow::datatypes::DataType as T;
    match (a, b) {
        (T::List(x), T::List(y)) => same_type(x.data_type(), y.data_type()),
        (T::Struct(x), T::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| p.name() == q.name() && same_type(p.data_type(), q.data_type()))
        }
        (T::Timestamp(_, Some(_)), T::Timestamp(_, Some(_))) => true,
        _ => a == b,
    }
}

impl DeltaPart<'_> {
    /// Adds rows, split by partition values into their data files.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let other = |message: String| DeltaError::Other {
            table: self.table.name.clone(),
            message,
        };
        let batch = to_delta(batch, &self.table_schema).map_err(|e| other(e.to_string()))?;
        if self.partition_by.is_empty() {
            return self.send(Vec::new(), HashMap::new(), batch);
        }
        let idx: Vec<usize> = self
            .partition_by
            .iter()
            .map(|p| batch.schema().index_of(p))
            .collect::<Result<_, _>>()
            .map_err(|e| other(e.to_string()))?;
        let mut groups: BTreeMap<Vec<Option<String>>, Vec<bool>> = BTreeMap::new();
        for row in 0..batch.num_rows() {
            let key = idx
                .iter()
                .map(|&i| partition_key(batch.column(i).as_ref(), row))
                .collect();
            groups
                .entry(key)
                .or_insert_with(|| vec![false; batch.num_rows()])[row] = true;
        }
        for (key, mask) in groups {
            let sub =
                filter_record_batch(&batch, &mask.into()).map_err(|e| other(e.to_string()))?;
            let mut values = HashMap::new();
            for (p, &i) in self.partition_by.iter().zip(&idx) {
                let v = partition_scalar(sub.column(i).as_ref(), 0)
                    .map_err(|m| other(format!("`{p}`: {m}")))?;
                values.insert(p.clone(), v);
            }
            self.send(key, values, sub)?;
        }
        Ok(())
    }

    /// Sends rows to a data file of their partition: batches go round the lanes, each a file
    /// encoded on its own thread, so one part's encoding (most of a copy's time) uses the
    /// machine's cores. A lane is opened on first use: a small part makes one file.
    fn send(
        &mut self,
        key: Vec<Option<String>>,
        values: HashMap<String, Scalar>,
        batch: RecordBatch,
    ) -> Result<()> {
        let turn = self.turns.entry(key.clone()).or_insert(0);
        let lane = *turn % lanes();
        *turn += 1;
        let at = (key, lane);
        if !self.files.contains_key(&at) {
            let f = DataFile::open(self, values)?;
            let lane = Lane::start(f, self.table.clone())?;
            self.files.insert(at.clone(), lane);
        }
        if self.files[&at].send(batch).is_err() {
            // The lane stopped on an error: that error is the part's.
            let lane = self.files.remove(&at).expect("present above");
            lane.finish()?;
            return Err(DeltaError::Other {
                table: self.table.name.clone(),
                message: "a data file writer stopped".into(),
            });
        }
        Ok(())
    }

    /// Makes the rows visible in one commit. `Ok(false)`: `app` had already committed this
    /// part (an earlier run), so nothing was added.
    pub fn commit(mut self, c: &PartCommit) -> Result<bool> {
        let table = self.table;
        let other = |message: String| DeltaError::Other {
            table: table.name.clone(),
            message,
        };
        // The files go up first; until the commit names them they are not part of the table.
        let mut adds: Vec<RecordBatch> = Vec::new();
        for (_, lane) in std::mem::take(&mut self.files) {
            adds.extend(lane.finish()?);
        }
        crate::pipeline::crash_point(c.index as usize);
        for attempt in 0..MAX_ATTEMPTS {
            let snapshot = table.snapshot(Version::Latest)?;
            let committer = Box::new(FileSystemCommitter::new());
            let result = match snapshot {
                None => {
                    // Another shard may create the table first: then this is a lost race, and
                    // the next attempt appends to the table it made.
                    match self.create(c, &adds, committer) {
                        Ok(v) => v,
                        Err(e) if super::is_existing(&e) => {
                            creation_in_flight(attempt);
                            None
                        }
                        Err(_) if table.snapshot(Version::Latest)?.is_some() => None,
                        Err(e) => return Err(e),
                    }
                }
                Some(snapshot) => {
                    if table
                        .app_version(&snapshot, &c.app)?
                        .is_some_and(|v| v >= c.index)
                    {
                        return Ok(false);
                    }
                    let (_, added) = table.check(&snapshot, &self.schema, &[], self.mode)?;
                    let mut builder = snapshot.clone().update_table(
                        UpdateTableOperation::Write,
                        ENGINE_INFO,
                        true,
                    );
                    for f in added {
                        builder = builder.add_column(f);
                    }
                    let mut txn = builder
                        .build(table.engine(), committer)
                        .map_err(table.kernel())?
                        .with_transaction_id(c.app.clone(), c.index);
                    if c.overwrite {
                        let scan = snapshot
                            .clone()
                            .scan_builder()
                            .build()
                            .map_err(table.kernel())?;
                        for meta in scan.scan_metadata(table.engine()).map_err(table.kernel())? {
                            txn.remove_files(meta.map_err(table.kernel())?.scan_files);
                        }
                    }
                    for a in &adds {
                        txn.add_files(Box::new(ArrowEngineData::new(a.clone())));
                    }
                    match txn.commit(table.engine()).map_err(table.kernel())? {
                        CommitResult::Committed(done) => {
                            let v = done.commit_version();
                            if let Some(post) = done.post_commit_snapshot() {
                                table.checkpoint_if_due(post, v);
                            }
                            Some(v)
                        }
                        _ => None,
                    }
                }
            };
            if result.is_some() {
                return Ok(true);
            }
            tracing::debug!(
                "{}: commit attempt {attempt} lost a race; retrying",
                table.name
            );
        }
        Err(other(format!(
            "gave up committing after {MAX_ATTEMPTS} commits lost to other writers"
        )))
    }

    /// Creates the table with this part's files as its first commit; `None` if another writer
    /// made version 0 first.
    fn create(
        &self,
        c: &PartCommit,
        adds: &[RecordBatch],
        committer: Box<FileSystemCommitter>,
    ) -> Result<Option<u64>> {
        let table = self.table;
        let schema = StructType::try_from_arrow(self.table_schema.as_ref()).map_err(
            |e: delta_kernel::arrow::error::ArrowError| DeltaError::Other {
                table: table.name.clone(),
                message: e.to_string(),
            },
        )?;
        let mut builder = create_table(table.url.as_str(), Arc::new(schema), ENGINE_INFO, true)
            .with_transaction_id(c.app.clone(), c.index);
        if !self.partition_by.is_empty() {
            builder = builder.with_data_layout(DataLayout::partitioned(self.partition_by.clone()));
        }
        let mut txn = builder
            .build(table.engine(), committer)
            .map_err(table.kernel())?;
        for a in adds {
            txn.add_files(Box::new(ArrowEngineData::new(a.clone())));
        }
        Ok(match txn.commit(table.engine()).map_err(table.kernel())? {
            CommitResult::Committed(done) => Some(done.commit_version()),
            _ => None,
        })
    }

    /// Drops what was written: the data files were never referenced by a commit.
    pub fn abort(self) {}
}

/// Another writer is creating the table: the kernel refuses to create over a `_delta_log`
/// that holds any file (that writer's temporary commit included) before its version 0 can be
/// read. Waits a little longer on each attempt, then the caller looks again.
fn creation_in_flight(attempt: usize) {
    std::thread::sleep(std::time::Duration::from_millis(
        5 * (attempt as u64 + 1).min(40),
    ));
}

impl DeltaTable {
    /// Checks rows of `schema` can be written to the table, before any is read.
    pub fn check_rows(
        &self,
        schema: &SchemaRef,
        partition_by: &[String],
        mode: SchemaMode,
    ) -> Result<()> {
        if let Some(s) = self.snapshot(Version::Latest)? {
            self.check(&s, schema, partition_by, mode)?;
        }
        Ok(())
    }
}
