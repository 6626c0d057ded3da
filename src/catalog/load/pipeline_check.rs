//! Checking `[pipelines.NAME]`: input, stages, output and rejects against the catalog.

use super::*;

impl Checker<'_> {
    pub(super) fn pipeline(
        &self,
        cat: &Catalog,
        name: String,
        p: RawPipeline,
        line: usize,
    ) -> Result<PipelineDef, CatalogError> {
        let key = format!("pipelines.{name}");
        let table_or_uri = |s: &Spanned<String>, field: &str| -> Result<(), CatalogError> {
            if cat.tables.contains_key(s.get_ref()) {
                Ok(())
            } else if split_scheme(s.get_ref()).is_some() {
                self.uri(cat, s, || format!("{key}.{field}"))
            } else {
                let known: Vec<&str> = cat.tables.keys().map(String::as_str).collect();
                Err(self.invalid(
                    self.line(s),
                    format!("{key}.{field}"),
                    format!(
                        "`{}` is neither a table of this catalog (known: {}) nor a URI",
                        s.get_ref(),
                        list(&known)
                    ),
                ))
            }
        };
        table_or_uri(&p.input, "input")?;
        if let Some(o) = &p.output {
            table_or_uri(o, "output")?;
        }
        if let Some(r) = &p.rejects {
            table_or_uri(r, "rejects")?;
        }
        let stages_line = self.line(&p.stages);
        let mut stages = Vec::new();
        for (i, v) in p.stages.into_inner().into_iter().enumerate() {
            let skey = format!("{key}.stages[{i}]");
            let stage = match v {
                toml::Value::String(s) => StageRef {
                    name: s,
                    options: toml::Table::new(),
                },
                toml::Value::Table(mut t) => match t.remove("use") {
                    Some(toml::Value::String(s)) => StageRef {
                        name: s,
                        options: t,
                    },
                    _ => {
                        return Err(self.invalid(
                            stages_line,
                            skey,
                            "a stage is a name or a table with `use = \"name\"` and options",
                        ))
                    }
                },
                _ => {
                    return Err(self.invalid(
                        stages_line,
                        skey,
                        "a stage is a name or a table with `use = \"name\"` and options",
                    ))
                }
            };
            let mut kinds: Vec<&str> = Vec::new();
            if cat.validators.contains_key(&stage.name) {
                kinds.push("validator");
            }
            if cat.tokenizers.contains_key(&stage.name) {
                kinds.push("tokenizer");
            }
            if cat.models.contains_key(&stage.name) {
                kinds.push("model");
            }
            if BUILTIN_STAGES.contains(&stage.name.as_str()) {
                kinds.push("built-in stage");
            }
            match kinds.len() {
                1 => {}
                0 => {
                    return Err(self.invalid(
                        stages_line,
                        skey,
                        format!(
                            "no validator, tokenizer, model or built-in stage named `{}`",
                            stage.name
                        ),
                    ))
                }
                _ => {
                    return Err(self.invalid(
                        stages_line,
                        skey,
                        format!(
                            "`{}` is ambiguous: it names a {}",
                            stage.name,
                            kinds.join(" and a ")
                        ),
                    ))
                }
            }
            stages.push(stage);
        }
        let format = match &p.format {
            None => None,
            Some(f) => Some(TableFormat::parse(f.get_ref()).ok_or_else(|| {
                self.invalid(
                    self.line(f),
                    format!("{key}.format"),
                    format!("unknown format `{}`", f.get_ref()),
                )
            })?),
        };
        Ok(PipelineDef {
            name,
            input: p.input.into_inner(),
            stages,
            output: p.output.map(Spanned::into_inner),
            rejects: p.rejects.map(Spanned::into_inner),
            format,
            batch_size: p.batch_size,
            line,
        })
    }
}
