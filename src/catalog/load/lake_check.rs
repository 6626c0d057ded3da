//! Checking `[catalogs.NAME]` (Iceberg catalogs) and the tables that name one.

use super::*;

impl Checker<'_> {
    /// `[catalogs.NAME]`: `type` (sql, the default, or rest), `uri`, `warehouse`.
    pub(super) fn table_catalog(
        &self,
        name: String,
        c: RawTableCatalog,
        line: usize,
    ) -> Result<CatalogDef, CatalogError> {
        let key = format!("catalogs.{name}");
        let kind = match c
            .kind
            .as_ref()
            .map(|k| (k.get_ref().as_str(), self.line(k)))
        {
            None | Some(("sql", _)) => CatalogType::Sql,
            Some(("rest", _)) => CatalogType::Rest,
            Some((other, l)) => {
                return Err(self.invalid(
                    l,
                    format!("{key}.type"),
                    format!("unknown catalog type `{other}` (use sql or rest)"),
                ))
            }
        };
        let uri_line = self.line(&c.uri);
        self.interp(c.uri.get_ref(), uri_line, || format!("{key}.uri"))?;
        let scheme = split_scheme(c.uri.get_ref())
            .map(|(s, _)| s)
            .or_else(|| c.uri.get_ref().strip_prefix("sqlite:").map(|_| "sqlite"));
        let want: &[&str] = match kind {
            CatalogType::Sql => &["sqlite"],
            CatalogType::Rest => &["http", "https"],
        };
        if !scheme.is_some_and(|s| want.contains(&s)) {
            let example = match kind {
                CatalogType::Sql => "sqlite:///abs/catalog.db or sqlite://relative/catalog.db",
                CatalogType::Rest => "http://host:port",
            };
            return Err(self.invalid(
                uri_line,
                format!("{key}.uri"),
                format!("a {} catalog's uri looks like {example}", kind.as_str()),
            ));
        }
        if let Some(w) = &c.warehouse {
            self.interp(w.get_ref(), self.line(w), || format!("{key}.warehouse"))?;
        } else if kind == CatalogType::Sql {
            return Err(self.invalid(
                line,
                format!("{key}.warehouse"),
                "missing `warehouse` (a folder or file:// URL where new tables go)",
            ));
        }
        let options = self.options(&key, c.options)?;
        Ok(CatalogDef {
            name,
            kind,
            uri: c.uri.into_inner(),
            warehouse: c.warehouse.map(Spanned::into_inner),
            catalog_name: c.catalog_name,
            options,
            line,
        })
    }

    /// A table's `catalog` and `table` keys: both for an Iceberg table, neither otherwise.
    pub(super) fn table_catalog_ref(
        &self,
        cat: &Catalog,
        key: &str,
        format: TableFormat,
        t: &RawTable,
        line: usize,
    ) -> Result<(Option<String>, Option<String>), CatalogError> {
        if format != TableFormat::Iceberg {
            if let Some(c) = t.catalog.as_ref().or(t.table.as_ref()) {
                return Err(self.invalid(
                    self.line(c),
                    key.to_string(),
                    format!(
                        "`catalog` and `table` name an Iceberg table, not a {} one",
                        format.as_str()
                    ),
                ));
            }
            return Ok((None, None));
        }
        if let Some(u) = &t.url {
            return Err(self.invalid(
                self.line(u),
                format!("{key}.url"),
                "an Iceberg table is named by `catalog` and `table`, not `url`",
            ));
        }
        let Some(c) = &t.catalog else {
            return Err(self.invalid(
                line,
                format!("{key}.catalog"),
                "missing `catalog` (the [catalogs.NAME] entry that holds this Iceberg table)",
            ));
        };
        if !cat.catalogs.contains_key(c.get_ref()) {
            let known: Vec<&str> = cat.catalogs.keys().map(String::as_str).collect();
            return Err(self.invalid(
                self.line(c),
                format!("{key}.catalog"),
                format!(
                    "no catalog named `{}` (known: {})",
                    c.get_ref(),
                    list(&known)
                ),
            ));
        }
        let Some(id) = &t.table else {
            return Err(self.invalid(
                line,
                format!("{key}.table"),
                "missing `table` (the Iceberg identifier, `namespace.table`)",
            ));
        };
        let parts: Vec<&str> = id.get_ref().split('.').collect();
        if parts.len() < 2 || parts.iter().any(|p| p.trim().is_empty()) {
            return Err(self.invalid(
                self.line(id),
                format!("{key}.table"),
                format!(
                    "`{}` is not `namespace.table` (e.g. `db.events`)",
                    id.get_ref()
                ),
            ));
        }
        Ok((Some(c.get_ref().clone()), Some(id.get_ref().clone())))
    }
}
