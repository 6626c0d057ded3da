//! `disco servers list|check|install`: the language servers Disco knows, which are
//! installed (with versions), and installing missing ones into Disco's own directory from
//! npm or PyPI — never from anywhere else.

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Subcommand;
use disco::catalog::Catalog;
use disco::lsp::{find_program, known, tools_dir, Install, KnownServer};

#[derive(Subcommand)]
pub enum ServersCommand {
    /// The known servers: built-in and from the catalog.
    List,
    /// Which servers are installed, where, and their versions.
    Check,
    /// Install servers (npm or PyPI) into Disco's tools directory.
    Install {
        /// Server names; `--missing` installs every missing one that can be.
        names: Vec<String>,
        #[arg(long)]
        missing: bool,
    },
}

fn install_text(i: &Option<Install>) -> String {
    match i {
        Some(Install::Npm(p)) => format!("npm {}", p.join(" ")),
        Some(Install::Pypi(p)) => format!("pypi {}", p.join(" ")),
        Some(Install::Manual(how)) => format!("manual: {how}"),
        None => "(catalog)".into(),
    }
}

/// The first line a version command prints, within 15 s; `Err` when it fails (a rustup
/// proxy without the component, a broken install).
fn version(command: &[String]) -> Result<Option<String>, String> {
    let Some(program) = command.first().and_then(|p| find_program(p)) else {
        return Ok(None);
    };
    let mut child = Command::new(program)
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(if out.stdout.is_empty() {
                &out.stderr
            } else {
                &out.stdout
            })
            .into_owned();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string());
            return if status.success() {
                Ok(first)
            } else {
                Err(first.unwrap_or_else(|| status.to_string()))
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    Err("the version command did not finish in 15 s".into())
}

pub fn run(catalog: &Catalog, command: &ServersCommand) -> anyhow::Result<ExitCode> {
    let servers = known(catalog);
    let mut out = std::io::stdout().lock();
    match command {
        ServersCommand::List => {
            for s in &servers {
                writeln!(
                    out,
                    "{:<28} {:<28} {:<48} {}",
                    s.def.name,
                    s.def.languages.join(","),
                    s.def.command.join(" "),
                    install_text(&s.install)
                )?;
            }
        }
        ServersCommand::Check => {
            let mut missing = 0;
            for s in &servers {
                match find_program(&s.def.command[0]) {
                    Some(p) => match version(&s.version_command) {
                        Ok(v) => writeln!(
                            out,
                            "{:<28} ok       {:<60} {}",
                            s.def.name,
                            p.display(),
                            v.unwrap_or_default()
                        )?,
                        Err(e) => {
                            missing += 1;
                            writeln!(out, "{:<28} broken   {:<60} {e}", s.def.name, p.display())?;
                        }
                    },
                    None => {
                        missing += 1;
                        writeln!(
                            out,
                            "{:<28} missing  {}",
                            s.def.name,
                            install_text(&s.install)
                        )?;
                    }
                }
            }
            writeln!(
                out,
                "# {} of {} usable; Disco's tools directory: {}",
                servers.len() - missing,
                servers.len(),
                tools_dir().display()
            )?;
        }
        ServersCommand::Install { names, missing } => {
            let chosen: Vec<&KnownServer> = if *missing {
                servers
                    .iter()
                    .filter(|s| find_program(&s.def.command[0]).is_none())
                    .collect()
            } else {
                let mut v = Vec::new();
                for n in names {
                    v.push(servers.iter().find(|s| &s.def.name == n).with_context(|| {
                        format!("no server named `{n}` (see `disco servers list`)")
                    })?);
                }
                v
            };
            if chosen.is_empty() {
                bail!("name servers to install, or pass --missing");
            }
            let mut failed = Vec::new();
            for s in chosen {
                if let Err(e) = install(s) {
                    eprintln!("disco: {}: {e:#}", s.def.name);
                    failed.push(s.def.name.clone());
                } else {
                    writeln!(out, "installed {}", s.def.name)?;
                }
            }
            if !failed.is_empty() {
                bail!("not installed: {}", failed.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn install(s: &KnownServer) -> anyhow::Result<()> {
    let tools = tools_dir();
    let status = match &s.install {
        Some(Install::Npm(pkgs)) => {
            let prefix = tools.join("npm");
            std::fs::create_dir_all(&prefix)?;
            Command::new("npm")
                .arg("install")
                .arg("--prefix")
                .arg(&prefix)
                .args(["--no-audit", "--no-fund", "--loglevel=error"])
                .args(*pkgs)
                .status()
                .context("cannot run npm")?
        }
        Some(Install::Pypi(pkgs)) => {
            let venv = tools.join("venv");
            if !venv.join("bin/pip").exists() {
                let ok = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .context("cannot run python3")?;
                if !ok.success() {
                    bail!("python3 -m venv failed");
                }
            }
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(*pkgs)
                .status()
                .context("cannot run pip")?
        }
        Some(Install::Manual(how)) => bail!("not on npm or PyPI; install it with: {how}"),
        None => bail!("a catalog server: install `{}` yourself", s.def.command[0]),
    };
    if !status.success() {
        bail!("the installer failed ({status})");
    }
    if find_program(&s.def.command[0]).is_none() {
        bail!("installed, but `{}` is still not found", s.def.command[0]);
    }
    Ok(())
}
