//! SQL over Disco's tables, through Apache DataFusion (feature `sql`), on the same Arrow
//! batches. A query names tables as the rest of Disco does: catalog tables (files, Delta,
//! Iceberg) and URIs, paths and globs in double quotes (`"pond://trips/*.csv"`).
//!
//! [`SqlSession::query`] parses the query, finds the tables it names, opens only those
//! (a schema from the first file, or a lakehouse table's metadata), registers each as a
//! [`provider::DiscoTable`] over Disco's own readers and plans the query: an unknown table,
//! column or function, a type mismatch or a syntax error is reported here, before any data
//! is read. [`Query::rows`] then streams the result, with DataFusion's memory pool bounded by
//! the session's limit (sorts, joins and aggregations spill to a temporary directory past it).
//!
//! The `sql` and `filter` pipeline stages (`stage.rs`) evaluate a row-by-row query on each
//! batch instead.

mod error;
mod json;
mod names;
mod provider;
mod stage;

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::TableReference;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use futures::{FutureExt, StreamExt};

pub use error::SqlError;
pub use provider::{DiscoTable, RejectSink};
pub use stage::{RowQuery, INPUT};

use crate::catalog::Catalog;
use crate::table::{Input, ReadOptions};

/// The memory DataFusion may hold for a query when not told (sorts and aggregations spill
/// past it).
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// How queries run.
#[derive(Clone)]
pub struct SqlOptions {
    /// How tables are read (batch size, schema overrides...).
    pub read: ReadOptions,
    /// Bytes of memory the query's operators may hold.
    pub memory_limit: usize,
    /// Threads (and parts of a table read at once).
    pub threads: usize,
    /// Where rows that a reader could not decode go (dropped with a count when `None`).
    pub rejects: Option<RejectSink>,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            read: ReadOptions::default(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            rejects: None,
        }
    }
}

/// A DataFusion context with Disco's functions, its memory limit and spans collected for
/// error messages.
pub(crate) fn context(memory_limit: usize, threads: usize) -> Result<SessionContext, SqlError> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(memory_limit, 1.0)
        .build_arc()
        .map_err(|e| SqlError::Plan(e.to_string()))?;
    let config = SessionConfig::new()
        .with_target_partitions(threads.max(1))
        .set_bool("datafusion.sql_parser.collect_spans", true);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    ctx.register_udf(ScalarUDF::new_from_impl(json::FromJson::new()));
    Ok(ctx)
}

/// Parses one statement; a syntax error points at its position.
pub(crate) fn parse(ctx: &SessionContext, sql: &str) -> Result<DFStatement, SqlError> {
    ctx.state()
        .sql_to_statement(sql, &datafusion::config::Dialect::Generic)
        .map_err(|e| error::plan_error(e, sql, 0))
}

/// A session: a DataFusion context and the runtime its queries run on.
pub struct SqlSession {
    ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
    opts: SqlOptions,
}

impl SqlSession {
    pub fn new(opts: SqlOptions) -> Result<SqlSession, SqlError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.threads.max(1))
            .thread_name("disco-sql")
            .enable_all()
            .build()
            .map_err(|e| SqlError::Plan(format!("cannot start the query runtime: {e}")))?;
        Ok(SqlSession {
            ctx: context(opts.memory_limit, opts.threads)?,
            runtime,
            opts,
        })
    }

    /// Plans `sql` over the tables of `catalog` it names. Reads only what schemas need.
    pub fn query(&self, catalog: &Catalog, sql: &str) -> Result<Query<'_>, SqlError> {
        let limit = self.opts.memory_limit;
        let DFStatement::Statement(mut stmt) = parse(&self.ctx, sql)? else {
            return Err(SqlError::NotAQuery(first_word(sql)));
        };
        if !matches!(*stmt, datafusion::sql::sqlparser::ast::Statement::Query(_)) {
            return Err(SqlError::NotAQuery(first_word(sql)));
        }
        let state = self.ctx.state();
        let refs = state
            .resolve_table_references(&DFStatement::Statement(stmt.clone()))
            .map_err(|e| error::plan_error(e, sql, limit))?;
        let mut names = BTreeSet::new();
        for r in refs {
            let name = table_name(&r);
            if names.insert(name.clone()) {
                self.register(catalog, &name)?;
            }
        }
        let schemas = |name: &str| {
            self.ctx
                .table_provider(TableReference::bare(name))
                .now_or_never()
                .and_then(Result::ok)
                .map(|t| t.schema())
        };
        let original = (*stmt).clone();
        names::rewrite(&mut stmt, &schemas)
            .map_err(|e| SqlError::Syntax(format!("rewriting the query: {e}")))?;
        let plan = self.runtime.block_on(async {
            let logical = state
                .statement_to_plan(DFStatement::Statement(stmt))
                .await?;
            let df = self.ctx.execute_logical_plan(logical).await?;
            df.create_physical_plan().await
        });
        let plan = plan.map_err(|e| {
            let schema = self.schema_of(&names);
            let operands =
                |l: &str, r: &str| error::find_operands(&original, &state, &schema, l, r);
            error::plan_error_with(e, sql, limit, &operands)
        })?;
        Ok(Query {
            session: self,
            schema: plan.schema(),
            plan,
        })
    }

    /// The columns of tables `names` together (unqualified; the first of a name wins), to
    /// type parts of the query alone.
    fn schema_of(&self, names: &BTreeSet<String>) -> datafusion::common::DFSchema {
        let mut fields: Vec<arrow::datatypes::FieldRef> = Vec::new();
        for n in names {
            let provider = self
                .ctx
                .table_provider(TableReference::bare(n.as_str()))
                .now_or_never()
                .and_then(Result::ok);
            for f in provider
                .map(|p| p.schema().fields().to_vec())
                .unwrap_or_default()
            {
                if !fields.iter().any(|g| g.name() == f.name()) {
                    fields.push(f);
                }
            }
        }
        datafusion::common::DFSchema::try_from(arrow::datatypes::Schema::new(fields))
            .unwrap_or_else(|_| datafusion::common::DFSchema::empty())
    }

    /// Opens table `name` and registers it under that name.
    fn register(&self, catalog: &Catalog, name: &str) -> Result<(), SqlError> {
        let is_uri = name.contains(['/', '.', '*', '?', ':']);
        if !catalog.tables.contains_key(name) && !is_uri {
            return Err(SqlError::UnknownTable {
                name: name.to_string(),
                origin: catalog.origin(),
                known: match catalog.tables.keys().cloned().collect::<Vec<_>>() {
                    k if k.is_empty() => "none".to_string(),
                    k => k.join(", "),
                },
            });
        }
        let input =
            Input::open(catalog, name, self.opts.read.clone()).map_err(|e| SqlError::Open {
                name: name.to_string(),
                message: format!("{e:#}"),
            })?;
        let rejects = self
            .opts
            .rejects
            .clone()
            .unwrap_or_else(|| Arc::new(|_| {}));
        let table = DiscoTable::new(input, self.opts.threads, rejects);
        self.ctx
            .register_table(TableReference::bare(name), Arc::new(table))
            .map_err(|e| SqlError::Plan(e.to_string()))?;
        Ok(())
    }
}

/// The name a table reference gives: `a.b` unquoted is the table `a.b` too.
fn table_name(r: &TableReference) -> String {
    match r {
        TableReference::Bare { table } => table.to_string(),
        other => other.to_string(),
    }
}

fn first_word(sql: &str) -> String {
    sql.split_whitespace().next().unwrap_or("").to_string()
}

/// A planned query.
pub struct Query<'s> {
    session: &'s SqlSession,
    plan: Arc<dyn ExecutionPlan>,
    /// The schema of its rows, known before anything is read.
    pub schema: SchemaRef,
}

impl<'s> Query<'s> {
    /// Runs it: its rows, batch by batch.
    pub fn rows(self) -> Result<Rows<'s>, SqlError> {
        let s = self.session;
        let task = s.ctx.task_ctx();
        let stream = s
            .runtime
            .block_on(async { datafusion::physical_plan::execute_stream(self.plan, task) })
            .map_err(|e| error::run_error(e, s.opts.memory_limit))?;
        Ok(Rows { session: s, stream })
    }
}

/// A running query's batches.
pub struct Rows<'s> {
    session: &'s SqlSession,
    stream: SendableRecordBatchStream,
}

impl Iterator for Rows<'_> {
    type Item = Result<RecordBatch, SqlError>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.session;
        s.runtime
            .block_on(self.stream.next())
            .map(|r| r.map_err(|e| error::run_error(e, s.opts.memory_limit)))
    }
}
