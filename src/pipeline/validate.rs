//! The validator stage: a JSON Schema checked against every row; failing rows are rejected
//! with the JSON pointer and message of each error.

use arrow::array::BooleanArray;
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use serde_json::Value;

use super::json::RowReader;
use super::{PlanError, Reject, Stage, StageOutput};

/// Errors of one row reported at most (the rest are counted).
const MAX_ERRORS: usize = 8;

pub struct ValidatorStage {
    name: String,
    validator: jsonschema::Validator,
    /// Top-level properties the schema requires, checked against the plan's columns.
    required: Vec<String>,
}

impl ValidatorStage {
    pub fn new(name: &str, schema: &Value) -> Result<ValidatorStage, PlanError> {
        let validator = jsonschema::options()
            .should_validate_formats(false)
            .build(schema)
            .map_err(|e| PlanError::new(name, format!("invalid JSON Schema: {e}")))?;
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(ValidatorStage {
            name: name.to_string(),
            validator,
            required,
        })
    }

    /// Why `row` fails, or `None` when it is valid.
    fn check(&self, row: &Value) -> Option<(String, String)> {
        if self.validator.is_valid(row) {
            return None;
        }
        let mut pointer = String::new();
        let mut messages = Vec::new();
        let mut total = 0usize;
        for e in self.validator.iter_errors(row) {
            if total == 0 {
                pointer = e.instance_path().as_str().to_string();
            }
            if total < MAX_ERRORS {
                let at = e.instance_path().as_str();
                let at = if at.is_empty() { "/" } else { at };
                messages.push(format!("{at}: {e}"));
            }
            total += 1;
        }
        if total > MAX_ERRORS {
            messages.push(format!("... and {} more", total - MAX_ERRORS));
        }
        Some((pointer, messages.join("; ")))
    }
}

impl Stage for ValidatorStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        // A required property the input cannot have fails every row: say so before reading.
        for r in &self.required {
            if input.index_of(r).is_err() {
                return Err(PlanError::new(
                    &self.name,
                    format!(
                        "the schema requires `{r}`, but the input has no such column (columns: {})",
                        super::column_list(input)
                    ),
                ));
            }
        }
        Ok(input.clone())
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        // Each worker fills one JSON value row after row, reusing its strings and maps.
        let verdicts: Vec<Option<(String, String)>> = {
            let rows = RowReader::new(&batch);
            (0..batch.num_rows())
                .into_par_iter()
                .with_min_len(64)
                .map_init(
                    || Value::Null,
                    |row, i| {
                        rows.fill(row, i);
                        self.check(row)
                    },
                )
                .collect()
        };
        if verdicts.iter().all(Option::is_none) {
            return Ok(StageOutput::all(batch));
        }
        let keep: BooleanArray = verdicts.iter().map(|v| Some(v.is_none())).collect();
        let rejects = verdicts
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|(pointer, reason)| Reject {
                    row: i as u32,
                    reason,
                    pointer: Some(pointer),
                })
            })
            .collect();
        Ok(StageOutput {
            batch: filter_record_batch(&batch, &keep)?,
            origin: None,
            rejects,
        })
    }
}
