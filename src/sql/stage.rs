//! A query evaluated batch by batch, for the `sql` and `filter` pipeline stages: `input` is
//! the stream of the previous stage, and each batch goes through the query on its own. So
//! only row-by-row queries qualify — projections (computed columns, struct access, `* EXCLUDE`,
//! `from_json`...) and `WHERE` — and the planner refuses aggregations, joins, sorts, `LIMIT`
//! and `DISTINCT`, which need every row at once (`disco sql` runs those).
//!
//! The query is planned and type-checked by DataFusion against the input schema at plan
//! time; its projections and filters become physical expressions evaluated on each batch.
//! Rows a `WHERE` drops are reported with the predicate, so the runner sends them to the
//! rejects table: nothing is lost.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::empty::EmptyTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{SetExpr, Statement};

use super::error::{find_operands, plan_error_with, render, SqlError};
use super::{context, names, parse};

/// The table name a stage's query reads.
pub const INPUT: &str = "input";

enum Step {
    Project {
        exprs: Vec<Arc<dyn PhysicalExpr>>,
        schema: SchemaRef,
    },
    Filter {
        predicate: Arc<dyn PhysicalExpr>,
        text: String,
    },
}

/// A row-by-row query, planned for one input schema.
pub struct RowQuery {
    steps: Vec<Step>,
    schema: SchemaRef,
}

impl RowQuery {
    /// Plans `sql` (reading the table `input`) for batches of schema `input`.
    pub fn plan(sql: &str, input: &SchemaRef) -> Result<RowQuery, SqlError> {
        let ctx = context(super::DEFAULT_MEMORY_LIMIT, 1)?;
        ctx.register_table(INPUT, Arc::new(EmptyTable::new(input.clone())))
            .map_err(|e| SqlError::Plan(e.to_string()))?;
        let DFStatement::Statement(mut stmt) = parse(&ctx, sql)? else {
            return Err(SqlError::NotAQuery(sql.to_string()));
        };
        let schemas = |name: &str| (name == INPUT).then(|| input.clone());
        names::rewrite(&mut stmt, &schemas)
            .map_err(|e| SqlError::Syntax(format!("rewriting the query: {e}")))?;
        let where_text = top_where(&stmt);
        let state = ctx.state();
        let original = (*stmt).clone();
        let df_schema = datafusion::common::DFSchema::try_from(input.as_ref().clone())
            .map_err(|e| SqlError::Plan(e.to_string()))?;
        let operands = |l: &str, r: &str| find_operands(&original, &state, &df_schema, l, r);
        let err = |e: DataFusionError| plan_error_with(e, sql, 0, &operands);
        // Planning a query over an in-memory table does no I/O: nothing here waits.
        let plan =
            futures::executor::block_on(state.statement_to_plan(DFStatement::Statement(stmt)))
                .map_err(err)?;
        let plan = state
            .analyzer()
            .execute_and_check(plan, state.config_options(), |_, _| {})
            .map_err(err)?;
        let mut steps = Vec::new();
        let mut filters = 0;
        build(&plan, &state, &mut steps, &mut filters, sql)?;
        if filters == 1 {
            if let (Some(text), Some(Step::Filter { text: t, .. })) = (
                where_text,
                steps.iter_mut().find(|s| matches!(s, Step::Filter { .. })),
            ) {
                *t = text;
            }
        }
        Ok(RowQuery {
            steps,
            schema: Arc::new(plan.schema().as_arrow().clone()),
        })
    }

    /// The schema of the rows it gives.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Runs it on one batch: the rows that pass, and each dropped row's index in `batch`
    /// with the predicate that dropped it.
    pub fn run(&self, batch: &RecordBatch) -> Result<(RecordBatch, Vec<(u32, String)>), SqlError> {
        let mut rows: Vec<u32> = (0..batch.num_rows() as u32).collect();
        let mut dropped = Vec::new();
        let mut b = batch.clone();
        let fail = |e: DataFusionError| SqlError::Run(e.find_root().strip_backtrace());
        for step in &self.steps {
            match step {
                Step::Project { exprs, schema } => {
                    let n = b.num_rows();
                    let columns = exprs
                        .iter()
                        .map(|e| e.evaluate(&b).and_then(|v| v.into_array(n)))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(fail)?;
                    let opts = RecordBatchOptions::new().with_row_count(Some(n));
                    b = RecordBatch::try_new_with_options(schema.clone(), columns, &opts)
                        .map_err(|e| SqlError::Run(e.to_string()))?;
                }
                Step::Filter { predicate, text } => {
                    let n = b.num_rows();
                    let verdict = predicate
                        .evaluate(&b)
                        .and_then(|v| v.into_array(n))
                        .map_err(fail)?;
                    let verdict = verdict.as_boolean();
                    // SQL: a NULL verdict drops the row too.
                    let keep: BooleanArray = (0..n)
                        .map(|i| Some(verdict.is_valid(i) && verdict.value(i)))
                        .collect();
                    let mut kept = Vec::with_capacity(n);
                    for (i, &row) in rows.iter().enumerate() {
                        if keep.value(i) {
                            kept.push(row);
                        } else {
                            dropped.push((row, format!("filtered out: not ({text})")));
                        }
                    }
                    rows = kept;
                    b = filter_record_batch(&b, &keep).map_err(|e| SqlError::Run(e.to_string()))?;
                }
            }
        }
        dropped.sort_by_key(|(r, _)| *r);
        Ok((b, dropped))
    }
}

/// The text of the outer query's `WHERE`, as written (the rejects' reason).
fn top_where(stmt: &Statement) -> Option<String> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    match q.body.as_ref() {
        SetExpr::Select(s) => s.selection.as_ref().map(|e| e.to_string()),
        _ => None,
    }
}

/// The steps of `plan`, from the scan of `input` up.
fn build(
    plan: &LogicalPlan,
    state: &datafusion::execution::SessionState,
    steps: &mut Vec<Step>,
    filters: &mut usize,
    sql: &str,
) -> Result<(), SqlError> {
    let err = |e: DataFusionError| SqlError::Plan(render(&e, sql));
    match plan {
        LogicalPlan::TableScan(scan) if scan.table_name.table() == INPUT => {
            if let Some(p) = &scan.projection {
                let input = scan.source.schema();
                let df =
                    datafusion::common::DFSchema::try_from(input.as_ref().clone()).map_err(err)?;
                let exprs = p
                    .iter()
                    .map(|&i| {
                        let col = datafusion::prelude::col(datafusion::common::Column::from_name(
                            input.field(i).name(),
                        ));
                        state.create_physical_expr(col, &df)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(err)?;
                steps.push(Step::Project {
                    exprs,
                    schema: Arc::new(
                        input
                            .project(p)
                            .map_err(|e| SqlError::Plan(e.to_string()))?,
                    ),
                });
            }
            if !scan.filters.is_empty() || scan.fetch.is_some() {
                return Err(not_row_wise("a filter or limit pushed into the scan"));
            }
            Ok(())
        }
        LogicalPlan::SubqueryAlias(a) => build(&a.input, state, steps, filters, sql),
        LogicalPlan::Projection(p) => {
            build(&p.input, state, steps, filters, sql)?;
            let exprs = p
                .expr
                .iter()
                .map(|e| state.create_physical_expr(e.clone(), p.input.schema()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            steps.push(Step::Project {
                exprs,
                schema: Arc::new(p.schema.as_arrow().clone()),
            });
            Ok(())
        }
        LogicalPlan::Filter(f) => {
            build(&f.input, state, steps, filters, sql)?;
            *filters += 1;
            steps.push(Step::Filter {
                predicate: state
                    .create_physical_expr(f.predicate.clone(), f.input.schema())
                    .map_err(err)?,
                text: f.predicate.human_display().to_string(),
            });
            Ok(())
        }
        LogicalPlan::TableScan(scan) => Err(SqlError::Plan(format!(
            "a stage's query reads its input as `{INPUT}`, not `{}`",
            scan.table_name
        ))),
        other => Err(not_row_wise(&other.display().to_string())),
    }
}

fn not_row_wise(what: &str) -> SqlError {
    SqlError::Plan(format!(
        "a stage's query runs on each batch, row by row (columns, expressions, WHERE); `{what}` \
         needs every row at once: run it with `disco sql` over the pipeline's output"
    ))
}
