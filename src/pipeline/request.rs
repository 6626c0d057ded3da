//! One run request. The CLI (`disco run`), the Rust API (`Disco::run`, `run_pipeline`,
//! `Dataset::write`) and the editor (`disco.runPipeline`) all describe a run with these types,
//! and one function ([`crate::Dataset::execute`]) turns them into a run, so the defaults —
//! rejects beside the output, the job name used for resuming, the output format — are the
//! same wherever a run starts.

use crate::catalog::{PipelineDef, StageRef};
use crate::table::{OutputFormat, ReadOptions, WriteOptions};

use super::RunOptions;

/// Where rejected rows go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RejectsTo {
    /// Beside the output ([`crate::default_rejects`]: `out.parquet` → `out.rejects.parquet`,
    /// `out/` → `out.rejects/`); nowhere for stdout, and the summary says so.
    #[default]
    Beside,
    /// This table (a catalog name or URI).
    At(String),
    /// Not kept: rejected rows are only counted (the summary says they were not kept).
    Nowhere,
}

impl RejectsTo {
    /// The rejects URI for an output, if rows are kept.
    pub fn resolve(&self, output: &str) -> Option<String> {
        match self {
            RejectsTo::Beside => crate::default_rejects(output),
            RejectsTo::At(uri) => Some(uri.clone()),
            RejectsTo::Nowhere => None,
        }
    }
}

/// Where a run's rows go.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The output table: a catalog name, a URI, a path, or `-` for stdout.
    pub output: String,
    pub rejects: RejectsTo,
    pub write: WriteOptions,
}

impl Destination {
    pub fn new(output: &str) -> Destination {
        Destination {
            output: output.to_string(),
            rejects: RejectsTo::Beside,
            write: WriteOptions::default(),
        }
    }
}

/// A whole run: what to read, through which stages, where to, and how.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The input table: a catalog name, `name://path`, a URI, a path or a glob.
    pub input: String,
    pub read: ReadOptions,
    pub stages: Vec<StageRef>,
    pub destination: Destination,
    pub run: RunOptions,
}

/// A request that cannot be run as given.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("pipeline `{0}` has no `output`; give one")]
    NoOutput(String),
}

impl RunRequest {
    /// A run of `input` into `output` with no stages and every default.
    pub fn new(input: &str, output: &str) -> RunRequest {
        RunRequest {
            input: input.to_string(),
            read: ReadOptions::default(),
            stages: Vec::new(),
            destination: Destination::new(output),
            run: RunOptions::default(),
        }
    }

    /// The run a catalog pipeline describes: its input, stages, output, rejects (beside the
    /// output unless it names a table), format and batch size; the job is named after the
    /// pipeline, so a rerun resumes it from any entry point.
    pub fn from_def(def: &PipelineDef) -> Result<RunRequest, RequestError> {
        let output = def
            .output
            .clone()
            .ok_or_else(|| RequestError::NoOutput(def.name.clone()))?;
        let mut req = RunRequest::new(&def.input, &output);
        req.stages = def.stages.clone();
        if let Some(n) = def.batch_size {
            req.read.batch_size = n.max(1);
        }
        if let Some(r) = &def.rejects {
            req.destination.rejects = RejectsTo::At(r.clone());
        }
        req.destination.write.format = def.format.and_then(|f| OutputFormat::parse(f.as_str()));
        req.run.job = def.name.clone();
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_default_to_beside_the_output_everywhere() {
        assert_eq!(
            RejectsTo::Beside.resolve("pond://out/t.parquet").as_deref(),
            Some("pond://out/t.rejects.parquet")
        );
        assert_eq!(RejectsTo::Beside.resolve("-"), None);
        assert_eq!(RejectsTo::Nowhere.resolve("out/"), None);
        let def = PipelineDef {
            name: "trips".into(),
            input: "pond://in.csv".into(),
            stages: Vec::new(),
            output: Some("pond://out/".into()),
            rejects: None,
            format: None,
            batch_size: Some(10),
            line: 0,
        };
        let req = RunRequest::from_def(&def).unwrap();
        assert_eq!(req.destination.rejects, RejectsTo::Beside);
        assert_eq!(req.run.job, "trips");
        assert_eq!(req.read.batch_size, 10);
    }
}
