//! `disco servers list|check|install`: the language servers Disco knows, which are
//! installed (with versions), and installing missing ones into Disco's own directory from the
//! package registries (npm, PyPI, rustup or crates.io, Debian) — never from anywhere else.

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
    /// Install servers (npm, PyPI, rustup or crates.io, Debian) into Disco's tools directory.
    Install {
        /// Server names; `--missing` installs every missing or broken one.
        names: Vec<String>,
        #[arg(long)]
        missing: bool,
    },
}

fn install_text(i: &Option<Install>) -> String {
    match i {
        Some(Install::Npm(p)) => format!("npm {}", p.join(" ")),
        Some(Install::Pypi(p)) => format!("pypi {}", p.join(" ")),
        Some(Install::Rustup {
            component,
            or_cargo,
        }) => format!(
            "rustup component {component}, else crates.io {}",
            or_cargo.join(" ")
        ),
        Some(Install::Cargo(args)) => format!("crates.io {}", args.join(" ")),
        Some(Install::Apt(p)) => format!("debian {}", p.join(" ")),
        None => "(catalog)".into(),
    }
}

/// Installed and answering its version command (a rustup proxy without its component is
/// found on PATH but is not usable).
fn usable(s: &KnownServer) -> bool {
    find_program(&s.def.command[0]).is_some() && version(&s.version_command).is_ok()
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
                servers.iter().filter(|s| !usable(s)).collect()
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
    let ok = match &s.install {
        Some(Install::Npm(pkgs)) => {
            let prefix = tools.join("npm");
            std::fs::create_dir_all(&prefix)?;
            installer(
                Command::new("npm")
                    .arg("install")
                    .arg("--prefix")
                    .arg(&prefix)
                    .args(["--no-audit", "--no-fund", "--loglevel=error"])
                    .args(*pkgs),
            )?
        }
        Some(Install::Pypi(pkgs)) => {
            let venv = tools.join("venv");
            if !venv.join("bin/pip").exists()
                && !installer(Command::new("python3").args(["-m", "venv"]).arg(&venv))?
            {
                bail!("python3 -m venv failed");
            }
            installer(
                Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .args(*pkgs),
            )?
        }
        Some(Install::Rustup {
            component,
            or_cargo,
        }) => match rustup_component(component, &tools) {
            Ok(()) => true,
            Err(why) => {
                eprintln!(
                    "disco: {}: rustup component {component}: {why}; building from crates.io instead",
                    s.def.name
                );
                cargo_install(or_cargo, &tools)?
            }
        },
        Some(Install::Cargo(args)) => cargo_install(args, &tools)?,
        Some(Install::Apt(pkgs)) => {
            let root = std::env::var("USER").is_ok_and(|u| u == "root")
                || Command::new("id")
                    .arg("-u")
                    .output()
                    .is_ok_and(|o| o.stdout.starts_with(b"0"));
            let mut cmd = if root {
                Command::new("apt-get")
            } else if find_program("sudo").is_some() {
                let mut c = Command::new("sudo");
                c.arg("apt-get");
                c
            } else {
                bail!(
                    "Debian packages {} need root (apt-get install), and sudo is missing",
                    pkgs.join(" ")
                );
            };
            cmd.env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(*pkgs);
            installer(&mut cmd).context("cannot run apt-get")?
        }
        None => bail!("a catalog server: install `{}` yourself", s.def.command[0]),
    };
    if !ok {
        bail!("the installer failed (its output is above)");
    }
    if find_program(&s.def.command[0]).is_none() {
        bail!("installed, but `{}` is still not found", s.def.command[0]);
    }
    if let Err(e) = version(&s.version_command) {
        bail!("installed, but `{}` does not run: {e}", s.def.command[0]);
    }
    Ok(())
}

/// Runs an installer with its output on stderr; whether it succeeded.
fn installer(cmd: &mut Command) -> anyhow::Result<bool> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    Ok(cmd
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .with_context(|| format!("cannot run {program}"))?
        .success())
}

/// `rustup component add`, then a link to the component's binary in Disco's tools
/// directory, ahead of rustup's proxy on PATH (which fails when the component is missing).
fn rustup_component(component: &str, tools: &std::path::Path) -> Result<(), String> {
    if find_program("rustup").is_none() {
        return Err("rustup is not installed".into());
    }
    let added = Command::new("rustup")
        .args(["component", "add", component])
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| e.to_string())?;
    if !added.success() {
        return Err(format!("`rustup component add` failed ({added})"));
    }
    let which = Command::new("rustup")
        .args(["which", component])
        .output()
        .map_err(|e| e.to_string())?;
    if !which.status.success() {
        return Err(String::from_utf8_lossy(&which.stderr).trim().to_string());
    }
    let binary = std::path::PathBuf::from(String::from_utf8_lossy(&which.stdout).trim());
    let bin = tools.join("cargo/bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let link = bin.join(component);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&binary, &link).map_err(|e| format!("{}: {e}", link.display()))
}

/// `cargo install ARGS --root <tools>/cargo`: a crates.io build, into Disco's directory.
fn cargo_install(args: &[&str], tools: &std::path::Path) -> anyhow::Result<bool> {
    if find_program("cargo").is_none() {
        bail!(
            "cargo is not installed (https://rustup.rs), so {} cannot be built",
            args[0]
        );
    }
    eprintln!(
        "disco: building {} from crates.io (minutes)",
        args.join(" ")
    );
    installer(
        Command::new("cargo")
            .arg("install")
            .args(args)
            .arg("--root")
            .arg(tools.join("cargo")),
    )
}
