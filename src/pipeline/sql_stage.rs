//! The `sql` stage (`query = "SELECT ... FROM input WHERE ..."`) and the `filter` stage
//! (`where = "<SQL predicate>"`, which is `SELECT * FROM input WHERE <predicate>`), both
//! evaluated by DataFusion batch by batch (`crate::sql::RowQuery`). Rows the `WHERE` drops
//! go to the rejects table with the predicate as the reason.

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::plan::Opts;
use super::{PlanError, Reject, Stage, StageOutput};
use crate::sql::RowQuery;

/// A row-by-row SQL query as a stage.
pub struct SqlStage {
    name: &'static str,
    query: String,
    /// The query planned for the input schema last given to `plan`.
    planned: Mutex<Option<(SchemaRef, Arc<RowQuery>)>>,
}

impl SqlStage {
    /// `sql`: `query = "SELECT ... FROM input ..."`.
    pub fn sql(o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["query"])?;
        let query = o.string("query")?.ok_or_else(|| {
            PlanError::new("sql", "needs `query = \"SELECT ... FROM input ...\"`")
        })?;
        Ok(SqlStage::new("sql", query))
    }

    /// `filter`: `where = "<SQL predicate>"`.
    pub fn filter(o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["where"])?;
        let predicate = o
            .string("where")?
            .ok_or_else(|| PlanError::new("filter", "needs `where = \"<SQL predicate>\"`"))?;
        Ok(SqlStage::new(
            "filter",
            format!("SELECT * FROM {} WHERE {predicate}", crate::sql::INPUT),
        ))
    }

    fn new(name: &'static str, query: String) -> SqlStage {
        SqlStage {
            name,
            query,
            planned: Mutex::new(None),
        }
    }

    fn planned(&self, input: &SchemaRef) -> Result<Arc<RowQuery>, PlanError> {
        let mut slot = self
            .planned
            .lock()
            .map_err(|_| PlanError::new(self.name, "a previous plan panicked"))?;
        if let Some((schema, q)) = slot.as_ref() {
            if schema == input {
                return Ok(q.clone());
            }
        }
        let q = Arc::new(
            RowQuery::plan(&self.query, input)
                .map_err(|e| PlanError::new(self.name, e.to_string()))?,
        );
        *slot = Some((input.clone(), q.clone()));
        Ok(q)
    }
}

impl Stage for SqlStage {
    fn name(&self) -> &str {
        self.name
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        Ok(self.planned(input)?.schema().clone())
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let q = self.planned(&batch.schema())?;
        let (out, dropped) = q.run(&batch)?;
        Ok(StageOutput {
            batch: out,
            origin: None,
            rejects: dropped
                .into_iter()
                .map(|(row, reason)| Reject {
                    row,
                    reason,
                    pointer: None,
                })
                .collect(),
        })
    }
}
