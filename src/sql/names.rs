//! Rewrites of a parsed query before DataFusion plans it, for what the seed asked of column
//! expressions that SQL engines spell differently:
//!
//! - `s.*` on a struct column `s` (not a table) expands to one column per field, named after
//!   the field (`s['user'] AS user, ...`); DataFusion reads `x.*` as a table's wildcard only.
//! - Unaliased output columns get the name the query spells them with: `count(*)` is
//!   `count`, `fare * 2` is `fare * 2`, `s.user` is `user` (DataFusion would say `count(*)`,
//!   `t.fare * Int64(2)`, `t.s[user]`).

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, Ident, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, Statement, TableFactor,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// The schema of a table by the name the query uses for it.
pub(super) type Schemas<'a> = &'a dyn Fn(&str) -> Option<SchemaRef>;

/// Rewrites `stmt` in place (a query; other statements are left alone).
pub(super) fn rewrite(stmt: &mut Statement, schemas: Schemas<'_>) -> Result<(), ParserError> {
    if let Statement::Query(q) = stmt {
        query(q, true, schemas)?;
    }
    Ok(())
}

fn query(q: &mut Query, top: bool, schemas: Schemas<'_>) -> Result<(), ParserError> {
    if let Some(with) = &mut q.with {
        for cte in &mut with.cte_tables {
            query(&mut cte.query, false, schemas)?;
        }
    }
    set_expr(&mut q.body, top, schemas)
}

fn set_expr(s: &mut SetExpr, top: bool, schemas: Schemas<'_>) -> Result<(), ParserError> {
    match s {
        SetExpr::Select(sel) => select(sel, top, schemas),
        SetExpr::Query(q) => query(q, top, schemas),
        // The left-most select names a set operation's columns.
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left, top, schemas)?;
            set_expr(right, false, schemas)
        }
        _ => Ok(()),
    }
}

fn select(sel: &mut Select, top: bool, schemas: Schemas<'_>) -> Result<(), ParserError> {
    // The relations this select reads: the names they are visible under, and the schemas
    // of the named tables among them.
    let mut visible: Vec<String> = Vec::new();
    let mut tables: Vec<SchemaRef> = Vec::new();
    for twj in &mut sel.from {
        let joined =
            std::iter::once(&mut twj.relation).chain(twj.joins.iter_mut().map(|j| &mut j.relation));
        for rel in joined {
            match rel {
                TableFactor::Table { name, alias, .. } => {
                    let full = name
                        .0
                        .iter()
                        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
                        .collect::<Vec<_>>()
                        .join(".");
                    if let Some(s) = schemas(&full) {
                        tables.push(s);
                    }
                    visible.push(match alias {
                        Some(a) => a.name.value.clone(),
                        None => full,
                    });
                }
                TableFactor::Derived {
                    subquery, alias, ..
                } => {
                    query(subquery, false, schemas)?;
                    if let Some(a) = alias {
                        visible.push(a.name.value.clone());
                    }
                }
                _ => {}
            }
        }
    }
    let mut items = Vec::with_capacity(sel.projection.len());
    for item in std::mem::take(&mut sel.projection) {
        match item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), opts) => {
                let column = match n.0.as_slice() {
                    [part] => part.as_ident().cloned(),
                    _ => None,
                };
                match column.filter(|c| !visible.contains(&c.value)) {
                    Some(c) => match struct_fields(&tables, &c) {
                        Some(fields) => items.extend(expand(&c, &fields)?),
                        None => items.push(SelectItem::QualifiedWildcard(
                            SelectItemQualifiedWildcardKind::ObjectName(n),
                            opts,
                        )),
                    },
                    None => items.push(SelectItem::QualifiedWildcard(
                        SelectItemQualifiedWildcardKind::ObjectName(n),
                        opts,
                    )),
                }
            }
            SelectItem::UnnamedExpr(e) if top => match default_name(&e, &visible) {
                Some(name) => items.push(SelectItem::ExprWithAlias {
                    expr: e,
                    alias: Ident::with_quote('"', name),
                }),
                None => items.push(SelectItem::UnnamedExpr(e)),
            },
            other => items.push(other),
        }
    }
    sel.projection = items;
    Ok(())
}

/// The fields of struct column `c` in one of `tables`.
fn struct_fields(tables: &[SchemaRef], c: &Ident) -> Option<Vec<String>> {
    let wanted = match c.quote_style {
        Some(_) => c.value.clone(),
        None => c.value.to_lowercase(),
    };
    tables.iter().find_map(|s| {
        let f = s
            .fields()
            .iter()
            .find(|f| f.name() == &wanted || (c.quote_style.is_none() && f.name() == &c.value))?;
        match f.data_type() {
            DataType::Struct(fields) => Some(fields.iter().map(|f| f.name().clone()).collect()),
            _ => None,
        }
    })
}

/// `c['f'] AS "f"` for each field.
fn expand(c: &Ident, fields: &[String]) -> Result<Vec<SelectItem>, ParserError> {
    fields
        .iter()
        .map(|f| {
            let text = format!(
                "{c}['{}'] AS \"{}\"",
                f.replace('\'', "''"),
                f.replace('"', "\"\"")
            );
            Parser::new(&GenericDialect {})
                .try_with_sql(&text)?
                .parse_select_item()
        })
        .collect()
}

/// The name an unaliased output column gets, when DataFusion's would be worse.
fn default_name(e: &Expr, visible: &[String]) -> Option<String> {
    match e {
        Expr::Identifier(_) => None,
        // `t.col` is already `col`; `s.user` on a struct column becomes `user`.
        Expr::CompoundIdentifier(parts) => match parts.first() {
            Some(first) if visible.contains(&first.value) && parts.len() == 2 => None,
            _ => parts.last().map(|p| p.value.clone()),
        },
        Expr::Function(f)
            if f.name.to_string().eq_ignore_ascii_case("count")
                && matches!(&f.args, FunctionArguments::List(l)
                    if l.args.len() == 1 && l.args[0].to_string() == "*") =>
        {
            Some("count".to_string())
        }
        other => Some(other.to_string()),
    }
}
