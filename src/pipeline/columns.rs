//! Column operations: `select`, `rename` and `explode` (`filter` is SQL: `sql_stage.rs`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::plan::Opts;
use super::{need_column, PlanError, Stage, StageOutput};

/// `select`: keep these columns, in this order.
pub struct SelectStage {
    columns: Vec<String>,
}

impl SelectStage {
    pub fn new(o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["columns"])?;
        let columns = o
            .strings("columns")?
            .ok_or_else(|| PlanError::new("select", "needs `columns`"))?;
        Ok(SelectStage { columns })
    }
}

impl Stage for SelectStage {
    fn name(&self) -> &str {
        "select"
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        let idx = self
            .columns
            .iter()
            .map(|c| need_column("select", input, c).map(|(i, _)| i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(
            input
                .project(&idx)
                .map_err(|e| PlanError::new("select", e.to_string()))?,
        ))
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let idx = self
            .columns
            .iter()
            .map(|c| batch.schema().index_of(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StageOutput::all(batch.project(&idx)?))
    }
}

/// `rename`: `columns = { old = "new" }`.
pub struct RenameStage {
    pairs: Vec<(String, String)>,
}

impl RenameStage {
    pub fn new(o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["columns"])?;
        let pairs = o
            .string_map("columns")?
            .ok_or_else(|| PlanError::new("rename", "needs `columns = { old = \"new\" }`"))?;
        Ok(RenameStage { pairs })
    }
}

impl Stage for RenameStage {
    fn name(&self) -> &str {
        "rename"
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (old, new) in &self.pairs {
            let (i, _) = need_column("rename", input, old)?;
            fields[i] = fields[i].clone().with_name(new);
        }
        let mut seen = std::collections::HashSet::new();
        for f in &fields {
            if !seen.insert(f.name().clone()) {
                return Err(PlanError::new(
                    "rename",
                    format!("two columns would be named `{}`", f.name()),
                ));
            }
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let schema = self.plan(&batch.schema())?;
        Ok(StageOutput::all(RecordBatch::try_new(
            schema,
            batch.columns().to_vec(),
        )?))
    }
}

/// `explode`: one row per element of a list column (`column = "chunks"`); an empty or null
/// list keeps its row with a null element.
pub struct ExplodeStage {
    column: String,
}

impl ExplodeStage {
    pub fn new(o: &Opts) -> Result<Self, PlanError> {
        o.check_keys(&["column"])?;
        let column = o
            .string("column")?
            .ok_or_else(|| PlanError::new("explode", "needs `column`"))?;
        Ok(ExplodeStage { column })
    }
}

impl Stage for ExplodeStage {
    fn name(&self) -> &str {
        "explode"
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        let (i, ty) = need_column("explode", input, &self.column)?;
        let item = match ty {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f,
            other => {
                return Err(PlanError::new(
                    "explode",
                    format!("column `{}` is {other}, not a list", self.column),
                ))
            }
        };
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[i] = Field::new(&self.column, item.data_type().clone(), true);
        Ok(Arc::new(Schema::new(fields)))
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let schema = self.plan(&batch.schema())?;
        let col = batch.schema().index_of(&self.column)?;
        let list = batch.column(col);
        // For each row: the range of its elements in the flattened values.
        let (values, ranges): (ArrayRef, Vec<Option<(usize, usize)>>) = match list.data_type() {
            DataType::List(_) => {
                let l = list.as_list::<i32>();
                let o = l.value_offsets();
                let r = (0..l.len())
                    .map(|i| l.is_valid(i).then(|| (o[i] as usize, o[i + 1] as usize)))
                    .collect();
                (l.values().clone(), r)
            }
            DataType::LargeList(_) => {
                let l = list.as_list::<i64>();
                let o = l.value_offsets();
                let r = (0..l.len())
                    .map(|i| l.is_valid(i).then(|| (o[i] as usize, o[i + 1] as usize)))
                    .collect();
                (l.values().clone(), r)
            }
            _ => {
                let l = list.as_fixed_size_list();
                let n = l.value_length() as usize;
                let r = (0..l.len())
                    .map(|i| l.is_valid(i).then(|| (i * n, (i + 1) * n)))
                    .collect();
                (l.values().clone(), r)
            }
        };
        let mut origin = Vec::new();
        let mut picks: Vec<Option<u32>> = Vec::new();
        for (row, r) in ranges.iter().enumerate() {
            match r {
                Some((s, e)) if e > s => {
                    for k in *s..*e {
                        origin.push(row as u32);
                        picks.push(Some(k as u32));
                    }
                }
                _ => {
                    origin.push(row as u32);
                    picks.push(None);
                }
            }
        }
        let rows = UInt32Array::from(origin.clone());
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (i, c) in batch.columns().iter().enumerate() {
            if i == col {
                columns.push(take(
                    values.as_ref(),
                    &UInt32Array::from(picks.clone()),
                    None,
                )?);
            } else {
                columns.push(take(c.as_ref(), &rows, None)?);
            }
        }
        Ok(StageOutput {
            batch: RecordBatch::try_new(schema, columns)?,
            origin: Some(origin),
            rejects: Vec::new(),
        })
    }
}
