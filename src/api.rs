//! The Rust API: resources by name.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let disco = disco::Disco::open()?;
//! let summary = disco
//!     .read("pond://yellow.parquet")?
//!     .pipeline(["my_validator", "my_tokenizer", "my_model"])?
//!     .write("pond://embedded/")?;
//! println!("{}", summary.line());
//! # Ok(()) }
//! ```

use std::path::Path;

use anyhow::{anyhow, Result};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::{Catalog, StageRef};
use crate::pipeline::{
    build_stages, Destination, RejectsTo, RunOptions, RunRequest, RunSummary, Stage, StageRc,
    StageRegistry,
};
use crate::table::{Input, Output, ReadOptions, WriteOptions};

/// A catalog and the stages registered from Rust.
#[derive(Clone)]
pub struct Disco {
    catalog: Catalog,
    registry: StageRegistry,
}

impl Disco {
    /// The catalog found from the current directory (or `DISCO_CATALOG`).
    pub fn open() -> Result<Disco> {
        let explicit = std::env::var_os("DISCO_CATALOG").map(std::path::PathBuf::from);
        let cwd = std::env::current_dir()?;
        Ok(Disco::with_catalog(Catalog::discover(
            explicit.as_deref(),
            &cwd,
        )?))
    }

    /// A given catalog file.
    pub fn from_file(path: &Path) -> Result<Disco> {
        Ok(Disco::with_catalog(Catalog::load(path)?))
    }

    pub fn with_catalog(catalog: Catalog) -> Disco {
        Disco {
            catalog,
            registry: StageRegistry::default(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Makes a custom stage usable by its name.
    pub fn register(&mut self, stage: impl Stage + 'static) -> &mut Self {
        self.registry.register(stage);
        self
    }

    /// Opens a table (catalog name, `name://path`, glob or path) with default options.
    pub fn read(&self, uri: &str) -> Result<Dataset<'_>> {
        self.read_with(uri, ReadOptions::default())
    }

    pub fn read_with(&self, uri: &str, opts: ReadOptions) -> Result<Dataset<'_>> {
        Ok(Dataset {
            disco: self,
            input: Input::open(&self.catalog, uri, opts)?,
            stages: Vec::new(),
            refs: Vec::new(),
        })
    }

    /// Builds stages from references (names with options).
    pub fn stages(&self, refs: &[StageRef]) -> Result<Vec<StageRc>> {
        Ok(build_stages(&self.catalog, &self.registry, refs)?)
    }

    /// Runs `[pipelines.NAME]` of the catalog: rejects beside the output unless the
    /// pipeline names a table for them, and the job named after the pipeline (for resuming).
    /// `run` gives the shard, progress and `fresh`; an empty `run.job` keeps the default.
    pub fn run_pipeline(&self, name: &str, run: &RunOptions) -> Result<RunSummary> {
        let def = self.catalog.pipelines.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.catalog.pipelines.keys().map(String::as_str).collect();
            anyhow!(
                "no pipeline named `{name}` in {} (known: {})",
                self.catalog.origin(),
                known.join(", ")
            )
        })?;
        let mut req = RunRequest::from_def(def)?;
        let job = std::mem::take(&mut req.run.job);
        req.run = run.clone();
        if req.run.job.is_empty() {
            req.run.job = job;
        }
        self.run(&req)
    }

    /// Runs a request: the one path every run takes (CLI, editor, Rust).
    pub fn run(&self, req: &RunRequest) -> Result<RunSummary> {
        self.read_with(&req.input, req.read.clone())?
            .stages_from(&req.stages)?
            .execute(&req.destination, &req.run)
    }
}

/// A table being read, with the stages it goes through.
pub struct Dataset<'a> {
    disco: &'a Disco,
    input: Input,
    stages: Vec<StageRc>,
    refs: Vec<String>,
}

impl<'a> Dataset<'a> {
    /// Adds stages by name (registered stages, catalog resources, built-ins).
    pub fn pipeline<I, S>(self, names: I) -> Result<Dataset<'a>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let refs: Vec<StageRef> = names
            .into_iter()
            .map(|n| StageRef {
                name: n.as_ref().to_string(),
                options: toml::Table::new(),
            })
            .collect();
        self.stages_from(&refs)
    }

    /// Adds one stage with options (`filter` with `where`, a tokenizer with `column`...).
    pub fn stage(self, name: &str, options: toml::Table) -> Result<Dataset<'a>> {
        self.stages_from(&[StageRef {
            name: name.to_string(),
            options,
        }])
    }

    /// Adds stages from references; the plan so far is checked at once.
    pub fn stages_from(mut self, refs: &[StageRef]) -> Result<Dataset<'a>> {
        let new = self.disco.stages(refs)?;
        self.refs.extend(refs.iter().map(|r| r.name.clone()));
        self.stages.extend(new);
        self.schema()?;
        Ok(self)
    }

    /// The schema the rows will have after every stage (the plan check).
    pub fn schema(&self) -> Result<SchemaRef> {
        let mut schema = self.input.schema.clone();
        for s in &self.stages {
            schema = s.plan(&schema)?;
        }
        Ok(schema)
    }

    pub fn input(&self) -> &Input {
        &self.input
    }

    /// Writes to `uri` with rejects beside it (`<uri>.rejects…`).
    pub fn write(self, uri: &str) -> Result<RunSummary> {
        self.execute(&Destination::new(uri), &RunOptions::default())
    }

    /// Writes with options; `rejects: None` keeps rejected rows nowhere (only counted).
    pub fn write_with(
        self,
        uri: &str,
        write: WriteOptions,
        rejects: Option<&str>,
        run: &RunOptions,
    ) -> Result<RunSummary> {
        let dest = Destination {
            output: uri.to_string(),
            rejects: rejects.map_or(RejectsTo::Nowhere, |r| RejectsTo::At(r.to_string())),
            write,
        };
        self.execute(&dest, run)
    }

    /// Runs the stages into a destination. Every run goes through here, so the defaults are
    /// applied in one place: rejects beside the output, a Delta rejects table beside a Delta
    /// output, and a job name derived from input, stages and output when none is given.
    pub fn execute(self, dest: &Destination, run: &RunOptions) -> Result<RunSummary> {
        let catalog = &self.disco.catalog;
        let output = Output::open(catalog, &dest.output, dest.write.clone())?;
        let rejects = match dest.rejects.resolve(&dest.output) {
            Some(r) => {
                let mut w = WriteOptions {
                    overwrite: dest.write.overwrite,
                    ..WriteOptions::default()
                };
                // Delta rejects beside a Delta table; beside a catalog's Iceberg table, a
                // folder of Parquet parts (the rejects have no catalog entry of their own).
                if output.format == crate::table::OutputFormat::Lake("delta")
                    && !r.ends_with(".parquet")
                    && !r.ends_with(".ndjson")
                {
                    w.format = Some(crate::table::OutputFormat::Lake("delta"));
                }
                Some(Output::open(catalog, &r, w)?)
            }
            None => None,
        };
        let mut run = run.clone();
        if run.job.is_empty() {
            run.job = format!("{}>{}>{}", self.input.uri, self.refs.join(","), dest.output);
        }
        crate::pipeline::run(&self.input, &self.stages, &output, rejects.as_ref(), &run)
    }

    /// Runs the stages and returns the rows (rejected rows dropped): for small inputs.
    pub fn collect(self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for s in &self.stages {
            s.open()?;
        }
        for part in &self.input.parts {
            for rb in self.input.read_part(part)? {
                let mut batch = rb?.batch;
                for s in &self.stages {
                    batch = s.process(batch)?.batch;
                }
                out.push(batch);
            }
        }
        Ok(out)
    }
}

/// Where rejects go by default: beside the output (`out.parquet` → `out.rejects.parquet`,
/// `out/` → `out.rejects/`); none for stdout.
pub fn default_rejects(uri: &str) -> Option<String> {
    if uri == "-" {
        return None;
    }
    let t = uri.trim_end_matches('/');
    if let Some((stem, ext)) = t.rsplit_once('.') {
        if let Some(f) = crate::table::format::by_extension(ext).filter(|f| f.writes()) {
            // Beside a flat format, rejects go to NDJSON (their columns may not fit one).
            let ext = if f.flat() { "ndjson" } else { ext };
            return Some(format!("{stem}.rejects.{ext}"));
        }
    }
    (!t.is_empty()).then(|| format!("{t}.rejects"))
}
