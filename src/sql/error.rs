//! SQL errors: what went wrong, said against the query. A syntax error points at its line
//! and column, an unknown column lists the columns there are, a type error (DataFusion's
//! diagnostics, with spans collected) names both sides and their types.

use datafusion::common::{Diagnostic, SchemaError};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// Why a query could not be planned or run.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error(
        "no table `{name}` in {origin} (tables: {known}); a file or a glob is queried by its URI \
         in double quotes: SELECT * FROM \"pond://trips/*.csv\""
    )]
    UnknownTable {
        name: String,
        origin: String,
        known: String,
    },
    #[error("table `{name}`: {message}")]
    Open { name: String, message: String },
    #[error("only queries run here (SELECT, WITH, VALUES), not `{0}`")]
    NotAQuery(String),
    #[error("{0}")]
    Plan(String),
    #[error(
        "the query needs more memory than the limit ({limit} bytes; raise --memory-limit) and \
         could not spill: {message}"
    )]
    Memory { limit: usize, message: String },
    #[error("{0}")]
    Run(String),
}

/// Names the operands of a binary operation whose sides have types (`lhs`, `rhs`), when
/// DataFusion's diagnostic lost their spans (it does in `WHERE`).
pub(super) type Operands<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

/// A planning error of `sql`, said against it.
pub(super) fn plan_error(e: DataFusionError, sql: &str, limit: usize) -> SqlError {
    plan_error_with(e, sql, limit, &|_, _| None)
}

/// [`plan_error`], with a way to name the operands of a type error.
pub(super) fn plan_error_with(
    e: DataFusionError,
    sql: &str,
    limit: usize,
    operands: Operands<'_>,
) -> SqlError {
    match e.find_root() {
        DataFusionError::SQL(p, _) => return SqlError::Syntax(parser_error(p, sql)),
        DataFusionError::ResourcesExhausted(m) => {
            return SqlError::Memory {
                limit,
                message: m.clone(),
            }
        }
        _ => {}
    }
    SqlError::Plan(render_with(&e, sql, operands))
}

/// The first binary operation of `stmt` whose sides have types `lhs` and `rhs`, typed by
/// planning each side alone against `schema`: "`a` is Utf8 and `1` is Int64 in `a + 1`".
pub(super) fn find_operands(
    stmt: &datafusion::sql::sqlparser::ast::Statement,
    state: &datafusion::execution::SessionState,
    schema: &datafusion::common::DFSchema,
    lhs: &str,
    rhs: &str,
) -> Option<String> {
    use datafusion::logical_expr::ExprSchemable;
    use datafusion::sql::sqlparser::ast::{visit_expressions, Expr};
    use std::ops::ControlFlow;
    let ty = |x: &Expr| {
        let e = state.create_logical_expr(&x.to_string(), schema).ok()?;
        e.get_type(schema).ok().map(|t| t.to_string())
    };
    let mut found = None;
    let _ = visit_expressions(stmt, |e| {
        if let Expr::BinaryOp { left, right, .. } = e {
            if ty(left).as_deref() == Some(lhs) && ty(right).as_deref() == Some(rhs) {
                found = Some(format!("`{left}` is {lhs} and `{right}` is {rhs} in `{e}`"));
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

/// An error while running: out of memory, or what DataFusion or a reader said.
pub(super) fn run_error(e: DataFusionError, limit: usize) -> SqlError {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(m) => SqlError::Memory {
            limit,
            message: m.clone(),
        },
        root => SqlError::Run(root.strip_backtrace()),
    }
}

/// `e` with its diagnostic (the span it points at, its notes) or its root cause.
pub(super) fn render(e: &DataFusionError, sql: &str) -> String {
    render_with(e, sql, &|_, _| None)
}

fn render_with(e: &DataFusionError, sql: &str, operands: Operands<'_>) -> String {
    if let DataFusionError::SchemaError(s, _) = e.find_root() {
        if let SchemaError::FieldNotFound {
            field,
            valid_fields,
        } = s.as_ref()
        {
            let mut names: Vec<&str> = valid_fields.iter().map(|c| c.name.as_str()).collect();
            names.dedup();
            return format!(
                "no column `{}` (columns: {})",
                field.name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
    }
    let root = e.find_root().strip_backtrace();
    match e.diagnostic() {
        Some(d) => diagnostic(d, sql, &root, operands),
        None => root,
    }
}

fn diagnostic(d: &Diagnostic, sql: &str, root: &str, operands: Operands<'_>) -> String {
    let mut out = d.message.clone();
    // Both operands' types, when the notes do not point at them.
    let types: Vec<&str> = d
        .notes
        .iter()
        .filter(|n| n.span.is_none())
        .filter_map(|n| n.message.strip_prefix("has type "))
        .collect();
    if let [lhs, rhs] = types.as_slice() {
        if let Some(named) = operands(lhs, rhs) {
            return format!("{out}: {named} ({root})");
        }
    }
    let notes: Vec<String> = d
        .notes
        .iter()
        .map(|n| match n.span.and_then(|s| excerpt(sql, s)) {
            Some(text) => format!("`{text}` {}", n.message),
            None => n.message.clone(),
        })
        .collect();
    if !notes.is_empty() {
        out = format!("{out}: {}", notes.join(", "));
    }
    out = format!("{out} ({root})");
    if let Some(s) = d.span {
        out.push('\n');
        out.push_str(&pointer(sql, s.start.line, s.start.column, span_len(s)));
    }
    out
}

fn span_len(s: datafusion::common::Span) -> u64 {
    if s.end.line == s.start.line && s.end.column > s.start.column {
        s.end.column - s.start.column
    } else {
        1
    }
}

/// The text of `sql` under a one-line span.
fn excerpt(sql: &str, s: datafusion::common::Span) -> Option<String> {
    if s.start.line != s.end.line || s.start.line == 0 {
        return None;
    }
    let line = sql.lines().nth(s.start.line as usize - 1)?;
    let chars: Vec<char> = line.chars().collect();
    let from = (s.start.column as usize).checked_sub(1)?;
    let to = (s.end.column as usize).checked_sub(1)?.min(chars.len());
    (from < to).then(|| chars[from..to].iter().collect())
}

/// A parser error with the query line and a caret under `Line: L, Column: C`.
fn parser_error(p: &ParserError, sql: &str) -> String {
    let msg = p.to_string();
    let at = msg.rfind("Line: ").and_then(|i| {
        let rest = &msg[i + 6..];
        let (line, rest) = rest.split_once(", Column: ")?;
        let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((line.parse::<u64>().ok()?, col.parse::<u64>().ok()?))
    });
    match at {
        Some((line, col)) => format!("{msg}\n{}", pointer(sql, line, col, 1)),
        None => msg,
    }
}

/// The query's line `line` and a caret under column `col` (both 1-based).
fn pointer(sql: &str, line: u64, col: u64, len: u64) -> String {
    let text = sql
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("");
    format!(
        "  {text}\n  {}{}",
        " ".repeat(col.saturating_sub(1) as usize),
        "^".repeat(len.max(1) as usize)
    )
}
