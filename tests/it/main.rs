//! Disco's integration tests: one binary, one module per area. They run the real `disco`
//! binary, real grammars, real files, and a real S3-compatible server (moto) on loopback.

mod bad_input;
mod catalog;
mod classifier;
mod editor;
mod encodings;
mod fuzz;
#[cfg(feature = "iceberg")]
mod iceberg;
mod lakehouse;
mod lakehouse_write;
mod lsp_faults;
mod lsp_plan;
mod lsp_rpc;
mod lsp_scale;
mod lsp_servers;
mod models;
mod part_failures;
mod pipeline;
mod s3;
mod schema;
mod scip;
mod slurm;
#[cfg(feature = "sql")]
mod sql;
mod support;
mod syntax;
mod tree_cli;
mod tree_tables;
mod type_fidelity;
mod volume;
