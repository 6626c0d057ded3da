//! Disco's tables as DataFusion tables: one [`TableProvider`] over an opened [`Input`], for
//! every format Disco reads (the file formats of `table/format.rs`, the lakehouse tables of
//! `table/lake.rs`). Parts are dealt round-robin to a few DataFusion partitions ("lanes");
//! each lane reads its parts one after another on a thread of its own through Disco's reader
//! (`Input::read_part`), handing batches over a bounded channel, so memory holds a couple of
//! batches per lane. Rows a reader cannot decode go to the session's reject sink.
//!
//! Readers run on plain threads, not on DataFusion's runtime: volumes and lakehouse tables
//! drive Disco's own tokio runtime with `block_on`, which a runtime thread may not do.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;

use crate::panic_message;
use crate::table::{Input, ReadReject};

/// Where read rejects go (the CLI prints them and writes them to a rejects table).
pub type RejectSink = Arc<dyn Fn(Vec<ReadReject>) + Send + Sync>;

/// Batches in flight per lane, between its reader thread and the query.
const LANE_BUFFER: usize = 2;

/// An opened Disco table, queryable by DataFusion.
pub struct DiscoTable {
    input: Arc<Input>,
    lanes: usize,
    rejects: RejectSink,
}

impl DiscoTable {
    /// `lanes`: how many parts are read at once (at most one per part).
    pub fn new(input: Input, lanes: usize, rejects: RejectSink) -> DiscoTable {
        DiscoTable {
            input: Arc::new(input),
            lanes: lanes.max(1),
            rejects,
        }
    }
}

impl fmt::Debug for DiscoTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DiscoTable({})", self.input.uri)
    }
}

#[async_trait]
impl TableProvider for DiscoTable {
    fn schema(&self) -> SchemaRef {
        self.input.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let parts = self.input.parts.len();
        let n = self.lanes.min(parts).max(1);
        // Readers read only the columns the query uses (Parquet skips the others).
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.input.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.input.schema.project(&columns)?);
        let lanes: Vec<Arc<dyn PartitionStream>> = (0..n)
            .map(|k| {
                Arc::new(Lane {
                    input: self.input.clone(),
                    parts: (k..parts).step_by(n).collect(),
                    columns: columns.clone(),
                    schema: schema.clone(),
                    rejects: self.rejects.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        let exec = StreamingTableExec::try_new(
            schema,
            lanes,
            None,
            Vec::<LexOrdering>::new(),
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
    }
}

/// Some parts of a table, read in order as one DataFusion partition.
struct Lane {
    input: Arc<Input>,
    parts: Vec<usize>,
    /// The columns read (indices into the input's schema), and their schema.
    columns: Vec<usize>,
    schema: SchemaRef,
    rejects: RejectSink,
}

impl fmt::Debug for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lane({}, parts {:?})", self.input.uri, self.parts)
    }
}

impl PartitionStream for Lane {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (tx, rx) = tokio::sync::mpsc::channel::<DFResult<RecordBatch>>(LANE_BUFFER);
        let input = self.input.clone();
        let parts = self.parts.clone();
        let columns = self.columns.clone();
        let rejects = self.rejects.clone();
        // The thread ends when its parts are read, or when the query drops the stream (a
        // LIMIT reached, an error elsewhere): `blocking_send` fails then.
        std::thread::spawn(move || {
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_parts(&input, &parts, &columns, &rejects, &tx)
            }));
            let error = match read {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(p) => DataFusionError::External(
                    format!(
                        "reading {} panicked: {}",
                        input.uri,
                        panic_message(p.as_ref())
                    )
                    .into(),
                ),
            };
            let _ = tx.blocking_send(Err(error));
        });
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// Streams `parts` of `input` into `tx`; `Ok` also when the receiver went away.
fn read_parts(
    input: &Input,
    parts: &[usize],
    columns: &[usize],
    rejects: &RejectSink,
    tx: &tokio::sync::mpsc::Sender<DFResult<RecordBatch>>,
) -> DFResult<()> {
    let fail = |part: &crate::table::Part, e: anyhow::Error| {
        DataFusionError::External(format!("reading {}: {e:#}", part.label()).into())
    };
    for &i in parts {
        let part = &input.parts[i];
        for rb in input
            .read_columns(part, columns)
            .map_err(|e| fail(part, e))?
        {
            let rb = rb.map_err(|e| fail(part, e))?;
            if !rb.rejects.is_empty() {
                rejects(rb.rejects);
            }
            if rb.batch.num_rows() > 0 && tx.blocking_send(Ok(rb.batch)).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}
