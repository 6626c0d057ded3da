//! Building stages from names: custom stages registered in Rust, catalog resources
//! (validators, tokenizers, models) and the built-in stages; option checking.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::{Catalog, SchemaSource, StageRef};

use super::columns::{ExplodeStage, RenameStage, SelectStage};
use super::tokenize::{load_tokenizer, TokenizerStage};
use super::tree_stage::TreeStage;
use super::validate::ValidatorStage;
use super::{PlanError, Stage, StageRc};

/// Largest resource file (schema, tokenizer, weights) read whole.
const RESOURCE_LIMIT: u64 = 4 << 30;

/// Stages registered by name from Rust (`disco.register(MyStage)`).
#[derive(Clone, Default)]
pub struct StageRegistry {
    stages: BTreeMap<String, StageRc>,
}

impl StageRegistry {
    pub fn register(&mut self, stage: impl Stage + 'static) {
        self.stages
            .insert(stage.name().to_string(), Arc::new(stage));
    }

    pub fn get(&self, name: &str) -> Option<StageRc> {
        self.stages.get(name).cloned()
    }
}

/// Typed access to a stage's options, with errors that name the stage and the key.
pub(crate) struct Opts<'a> {
    stage: &'a str,
    table: &'a toml::Table,
}

impl<'a> Opts<'a> {
    pub fn new(stage: &'a str, table: &'a toml::Table) -> Self {
        Opts { stage, table }
    }

    fn bad(&self, key: &str, want: &str) -> PlanError {
        PlanError::new(self.stage, format!("option `{key}` must be {want}"))
    }

    pub fn check_keys(&self, known: &[&str]) -> Result<(), PlanError> {
        for k in self.table.keys() {
            if !known.contains(&k.as_str()) {
                return Err(PlanError::new(
                    self.stage,
                    format!("unknown option `{k}` (known: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, PlanError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad(key, "a string")),
        }
    }

    pub fn usize(&self, key: &str) -> Result<Option<usize>, PlanError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n >= 0 => Ok(Some(*n as usize)),
            Some(_) => Err(self.bad(key, "a non-negative integer")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, PlanError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.bad(key, "true or false")),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, PlanError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.bad(key, "a list of strings")),
            Some(_) => Err(self.bad(key, "a list of strings")),
        }
    }

    pub fn string_map(&self, key: &str) -> Result<Option<Vec<(String, String)>>, PlanError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => t
                .iter()
                .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.bad(key, "a table of strings")),
            Some(_) => Err(self.bad(key, "a table of strings")),
        }
    }
}

/// Reads a resource file named by a URI (through the catalog's volumes).
pub(crate) fn read_resource(
    catalog: &Catalog,
    stage: &str,
    uri: &str,
) -> Result<Vec<u8>, PlanError> {
    let loc = catalog
        .resolve(uri)
        .map_err(|e| PlanError::new(stage, e.to_string()))?;
    let volume = crate::volume::Volume::open(&loc.volume)
        .map_err(|e| PlanError::new(stage, e.to_string()))?;
    volume
        .read(&loc.path, RESOURCE_LIMIT)
        .map(|b| b.bytes)
        .map_err(|e| PlanError::new(stage, format!("cannot read {uri}: {e}")))
}

/// `uri` itself when it names a `.json` file, else `uri/file`.
pub(crate) fn in_folder(uri: &str, file: &str) -> String {
    if uri.ends_with(".json") {
        uri.to_string()
    } else if uri.ends_with("://") {
        format!("{uri}{file}")
    } else {
        format!("{}/{file}", uri.trim_end_matches('/'))
    }
}

/// A resource's options (also accepted nested as `options = { ... }`), then the stage's.
fn merged(base: &toml::Table, over: &toml::Table) -> toml::Table {
    let mut t = base.clone();
    if let Some(toml::Value::Table(nested)) = t.remove("options") {
        t.extend(nested);
    }
    for (k, v) in over {
        t.insert(k.clone(), v.clone());
    }
    t
}

/// Builds the stages of a pipeline, in order. Names are looked up among registered stages,
/// then the catalog's validators, tokenizers and models, then the built-in stages.
pub fn build_stages(
    catalog: &Catalog,
    registry: &StageRegistry,
    refs: &[StageRef],
) -> Result<Vec<StageRc>, PlanError> {
    refs.iter()
        .map(|r| build_stage(catalog, registry, r))
        .collect()
}

fn build_stage(
    catalog: &Catalog,
    registry: &StageRegistry,
    r: &StageRef,
) -> Result<StageRc, PlanError> {
    let name = r.name.as_str();
    if let Some(stage) = registry.get(name) {
        if !r.options.is_empty() {
            return Err(PlanError::new(name, "a registered stage takes no options"));
        }
        return Ok(stage);
    }
    if let Some(def) = catalog.validators.get(name) {
        let schema = match &def.schema {
            SchemaSource::Inline(v) => v.clone(),
            SchemaSource::Uri(uri) => {
                let bytes = read_resource(catalog, name, uri)?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| PlanError::new(name, format!("{uri} is not a JSON Schema: {e}")))?
            }
        };
        return Ok(Arc::new(ValidatorStage::new(name, &schema)?));
    }
    if let Some(def) = catalog.tokenizers.get(name) {
        let bytes = read_resource(catalog, name, &in_folder(&def.url, "tokenizer.json"))?;
        let tok = load_tokenizer(name, &bytes)?;
        let opts = merged(&def.options, &r.options);
        return Ok(Arc::new(TokenizerStage::new(name, tok, &opts)?));
    }
    if let Some(def) = catalog.models.get(name) {
        return model_stage(catalog, def, &r.options);
    }
    let opts = Opts::new(name, &r.options);
    match name {
        "select" => Ok(Arc::new(SelectStage::new(&opts)?)),
        "rename" => Ok(Arc::new(RenameStage::new(&opts)?)),
        "filter" | "sql" => sql_stage(&opts, name),
        "explode" => Ok(Arc::new(ExplodeStage::new(&opts)?)),
        "tree" => Ok(Arc::new(TreeStage::new(catalog, &opts)?)),
        _ => Err(PlanError::new(
            name,
            format!(
                "no registered stage, validator, tokenizer, model or built-in stage of that name \
                 (built-in: {}; catalog: {})",
                crate::catalog::BUILTIN_STAGES.join(", "),
                catalog.origin()
            ),
        )),
    }
}

#[cfg(feature = "sql")]
fn sql_stage(opts: &Opts, name: &str) -> Result<StageRc, PlanError> {
    Ok(Arc::new(match name {
        "filter" => super::sql_stage::SqlStage::filter(opts)?,
        _ => super::sql_stage::SqlStage::sql(opts)?,
    }))
}

#[cfg(not(feature = "sql"))]
fn sql_stage(_opts: &Opts, name: &str) -> Result<StageRc, PlanError> {
    Err(PlanError::new(
        name,
        "this disco was built without the `sql` feature (cargo build --features sql)",
    ))
}

#[cfg(feature = "model")]
fn model_stage(
    catalog: &Catalog,
    def: &crate::catalog::ModelDef,
    options: &toml::Table,
) -> Result<StageRc, PlanError> {
    super::model::ModelStage::build(catalog, def, &merged(&def.options, options))
        .map(|s| Arc::new(s) as StageRc)
}

#[cfg(not(feature = "model"))]
fn model_stage(
    _catalog: &Catalog,
    def: &crate::catalog::ModelDef,
    _options: &toml::Table,
) -> Result<StageRc, PlanError> {
    Err(PlanError::new(
        &def.name,
        "this disco was built without the `model` feature (cargo build --features model)",
    ))
}
