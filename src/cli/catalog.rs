//! `disco catalog list|show` and `disco languages`.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use disco::catalog::{Catalog, ResourceKind, SchemaSource};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// One line per resource: kind, name, and where it lives.
    List,
    /// A resource's definition, as written (`${VAR}`s unexpanded, secrets hidden).
    Show { name: String },
}

/// Option keys whose literal values are never printed.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "token",
        "key",
        "credential",
        "sas",
        "signature",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn shown(key: &str, value: &str) -> String {
    if secret_key(key) && !value.trim_start().starts_with("${") {
        "***".to_string()
    } else {
        value.to_string()
    }
}

pub fn run(cat: &Catalog, command: &CatalogCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        CatalogCommand::List => {
            writeln!(out, "# {}", cat.origin())?;
            for (kind, name, _) in cat.resources() {
                writeln!(
                    out,
                    "{:<10} {:<20} {}",
                    kind.noun(),
                    name,
                    cat.detail(kind, name)
                )?;
            }
        }
        CatalogCommand::Show { name } => {
            let kinds = cat.kinds_of(name);
            if kinds.is_empty() {
                anyhow::bail!("no resource named `{name}` in {}", cat.origin());
            }
            let mut unreadable = Vec::new();
            for kind in kinds {
                show(&mut out, cat, kind, name, &mut unreadable)?;
            }
            out.flush()?;
            if let Some(e) = unreadable.into_iter().next() {
                anyhow::bail!("{e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a resource's entry; what could not be read (a table's metadata) goes to
/// `unreadable`, so that `show` prints everything it can and still fails.
fn show(
    out: &mut impl Write,
    cat: &Catalog,
    kind: ResourceKind,
    name: &str,
    unreadable: &mut Vec<String>,
) -> std::io::Result<()> {
    let origin = cat
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let line = cat
        .resources()
        .into_iter()
        .find(|(k, n, _)| *k == kind && *n == name)
        .map_or(0, |r| r.2);
    writeln!(out, "[{}.{}]  # {}:{}", kind.section(), name, origin, line)?;
    let kv = |out: &mut dyn Write, k: &str, v: &dyn std::fmt::Debug| writeln!(out, "{k} = {v:?}");
    match kind {
        ResourceKind::Volume => {
            let v = &cat.volumes[name];
            kv(out, "url", &v.url)?;
            for (k, val) in &v.options {
                kv(out, &format!("options.{k}"), &shown(k, val))?;
            }
            if !v.include.is_empty() {
                kv(out, "include", &v.include)?;
            }
            if !v.exclude.is_empty() {
                kv(out, "exclude", &v.exclude)?;
            }
        }
        ResourceKind::Catalog => {
            let c = &cat.catalogs[name];
            kv(out, "type", &c.kind.as_str())?;
            kv(out, "uri", &disco::catalog::redact_url(&c.uri))?;
            if let Some(w) = &c.warehouse {
                kv(out, "warehouse", w)?;
            }
            if let Some(n) = &c.catalog_name {
                kv(out, "catalog_name", n)?;
            }
            for (k, val) in &c.options {
                kv(out, &format!("options.{k}"), &shown(k, val))?;
            }
        }
        ResourceKind::Table => {
            let t = &cat.tables[name];
            if let (Some(c), Some(id)) = (&t.catalog, &t.table) {
                kv(out, "catalog", c)?;
                kv(out, "table", id)?;
            } else {
                kv(out, "url", &t.url)?;
            }
            kv(out, "format", &t.format.as_str())?;
            if !t.partition_by.is_empty() {
                kv(out, "partition_by", &t.partition_by)?;
            }
            for (k, val) in &t.options {
                kv(out, &format!("options.{k}"), &shown(k, val))?;
            }
            if let Err(e) = lake_metadata(out, cat, name)? {
                unreadable.push(e);
            }
        }
        ResourceKind::Tokenizer => {
            let t = &cat.tokenizers[name];
            kv(out, "url", &t.url)?;
            for (k, v) in &t.options {
                writeln!(out, "{k} = {v}")?;
            }
        }
        ResourceKind::Model => {
            let m = &cat.models[name];
            kv(out, "url", &m.url)?;
            kv(out, "kind", &format!("{:?}", m.kind).to_lowercase())?;
            if let Some(t) = &m.tokenizer {
                kv(out, "tokenizer", t)?;
            }
        }
        ResourceKind::Validator => match &cat.validators[name].schema {
            SchemaSource::Uri(u) => kv(out, "schema", u)?,
            SchemaSource::Inline(v) => writeln!(out, "schema = {v}")?,
        },
        ResourceKind::Server => {
            let s = &cat.servers[name];
            kv(out, "command", &s.command)?;
            kv(out, "languages", &s.languages)?;
            if !s.root_markers.is_empty() {
                kv(out, "root_markers", &s.root_markers)?;
            }
            for k in s.env.keys() {
                kv(out, &format!("env.{k}"), &shown(k, &s.env[k]))?;
            }
        }
        ResourceKind::Pipeline => {
            let p = &cat.pipelines[name];
            kv(out, "input", &p.input)?;
            let stages: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
            kv(out, "stages", &stages)?;
            if let Some(o) = &p.output {
                kv(out, "output", o)?;
            }
            if let Some(r) = &p.rejects {
                kv(out, "rejects", r)?;
            }
        }
    }
    writeln!(out)
}

/// What a lakehouse table's own metadata says (its log, checkpoint or manifests; no data is
/// read), as comment-free lines after its catalog entry. A table that does not exist yet says
/// so; one that cannot be read says so on one line and is the `Err` (the command then fails).
fn lake_metadata(
    out: &mut impl Write,
    cat: &Catalog,
    name: &str,
) -> std::io::Result<Result<(), String>> {
    use disco::table::lake::Described;
    let info = match disco::table::lake::describe(cat, name) {
        Ok(Described::Table(i)) => i,
        Ok(Described::NotLake) => return Ok(Ok(())),
        Ok(Described::Missing) => {
            writeln!(
                out,
                "# metadata: none: the table does not exist yet (a run writing to it creates it)"
            )?;
            return Ok(Ok(()));
        }
        Err(e) => {
            writeln!(out, "# metadata: cannot be read: {e:#}")?;
            return Ok(Err(format!("table `{name}`: cannot be read: {e:#}")));
        }
    };
    writeln!(out, "# from the table's {} metadata:", info.format)?;
    writeln!(out, "version: {}", info.version)?;
    match info.rows {
        Some(r) => writeln!(out, "rows: {r}")?,
        None => writeln!(out, "rows: unknown (files without statistics)")?,
    }
    writeln!(out, "files: {}", info.files)?;
    writeln!(out, "partitioned by: {}", info.partition_by.join(", "))?;
    writeln!(out, "schema:")?;
    for f in info.schema.fields() {
        let null = if f.is_nullable() { "" } else { " not null" };
        writeln!(out, "  {}: {}{null}", f.name(), f.data_type())?;
    }
    for (k, v) in &info.details {
        writeln!(out, "{k}: {v}")?;
    }
    Ok(Ok(()))
}

/// `disco languages`.
pub fn languages() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let header = ["language", "grammar", "extensions / names / #!", "servers"];
    writeln!(
        out,
        "{:<12} {:<24} {:<34} {}",
        header[0], header[1], header[2], header[3]
    )?;
    for l in disco::syntax::languages() {
        let mut detect: Vec<String> = l.extensions.iter().map(|e| format!(".{e}")).collect();
        detect.extend(l.filenames.iter().cloned());
        detect.extend(l.shebangs.iter().map(|s| format!("#!{s}")));
        let grammar = format!("{} {}", l.grammar, l.grammar_version().unwrap_or_default());
        writeln!(
            out,
            "{:<12} {:<24} {:<34} {}",
            l.name,
            grammar.trim(),
            detect.join(" "),
            l.servers.join(", ")
        )?;
    }
    Ok(())
}
