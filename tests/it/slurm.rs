//! Corpus-scale trees under a real scheduler: a single-node Slurm on 127.0.0.1 (Debian's
//! slurmctld, slurmd and munge, started by `scripts/slurm.sh start`). An `sbatch --array=0-3`
//! job runs the tree stage over a corpus of several repositories into one Delta table, each
//! task taking its shard from Slurm's variables; one task is killed by `scancel` while a part
//! is written but not committed, then requeued; the table must end with every file exactly
//! once. `make test` starts Slurm and requires it (DISCO_REQUIRE_SLURM=1); a bare
//! `cargo test` without it says so and skips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::pipeline::py;
use crate::support::repo_root;

/// The Slurm configuration, when its daemons answer.
fn slurm() -> Option<PathBuf> {
    let conf = std::env::var_os("SLURM_CONF")
        .map(PathBuf::from)
        .or_else(|| dirs_home().map(|h| h.join(".cache/disco/slurm/slurm.conf")))
        .filter(|c| c.is_file());
    let up = conf.as_ref().is_some_and(|c| {
        Command::new("sinfo")
            .args(["-h", "-o", "%t"])
            .env("SLURM_CONF", c)
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    });
    if up {
        return conf;
    }
    if std::env::var("DISCO_REQUIRE_SLURM").is_ok_and(|v| v == "1") {
        panic!("Slurm is not running (scripts/slurm.sh start)");
    }
    eprintln!("skipping: Slurm is not running (scripts/slurm.sh start)");
    None
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn slurm_cmd(conf: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("SLURM_CONF", conf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Copies every file under `from` (no symlinks) into `to`; returns their paths under `to`.
fn copy_repo(from: &Path, to: &Path, prefix: &str, paths: &mut Vec<String>) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_repo(
                &e.path(),
                &to.join(&name),
                &format!("{prefix}{name}/"),
                paths,
            );
        } else if t.is_file() {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
            paths.push(format!("{prefix}{name}"));
        }
    }
}

/// A task's state (`PENDING`, `RUNNING`, `COMPLETED`, `CANCELLED`...), from `scontrol`.
fn task_state(conf: &Path, job: &str, task: usize) -> String {
    let out = slurm_cmd(conf, "scontrol", &["show", "job", &format!("{job}_{task}")]);
    out.split_whitespace()
        .find_map(|w| w.strip_prefix("JobState="))
        .unwrap_or("?")
        .to_string()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The table's rows per path, read by the real deltalake library.
fn paths_in_table(table: &Path) -> BTreeMap<String, u64> {
    let got = py(
        "import sys, json, deltalake\n\
         t = deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table(columns=['path', 'status'])\n\
         counts = {}\n\
         for p in t.column('path').to_pylist():\n    counts[p] = counts.get(p, 0) + 1\n\
         print(json.dumps(counts))",
        &[table.to_str().unwrap()],
    );
    serde_json::from_value(got).unwrap()
}

#[test]
fn an_array_job_with_a_killed_and_requeued_task_writes_every_file_exactly_once() {
    let Some(conf) = slurm() else { return };
    if crate::pipeline::python().is_none() {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    // Several repositories: the language-server fixtures, one per language, and Disco's own
    // sources.
    let mut paths = Vec::new();
    let lsp = repo_root().join("fixtures/lsp");
    for lang in ["bash", "c", "go", "python", "rust", "typescript"] {
        if lsp.join(lang).is_dir() {
            copy_repo(
                &lsp.join(lang),
                &dir.join("corpus").join(lang),
                &format!("{lang}/"),
                &mut paths,
            );
        }
    }
    for src in ["pipeline", "tree"] {
        copy_repo(
            &repo_root().join("src").join(src),
            &dir.join("corpus/disco").join(src),
            &format!("disco/{src}/"),
            &mut paths,
        );
    }
    paths.sort();
    assert!(paths.len() >= 30, "a corpus of {} files", paths.len());
    std::fs::write(
        dir.join("disco.toml"),
        format!(
            "[volumes.ws]\nurl = \"{}\"\n[tables.trees]\nurl = \"ws://trees\"\nformat = \"delta\"\n",
            dir.display()
        ),
    )
    .unwrap();
    // Parts of 2 files: each of the 4 tasks commits several parts. Task 2's second part
    // (index 6) hangs after its data files are written and before its commit, until the
    // scheduler kills it; once requeued it runs normally.
    let disco = env!("CARGO_BIN_EXE_disco");
    let script = format!(
        "#!/bin/bash\n\
         cd '{dir}'\n\
         export DISCO_CATALOG='{dir}/disco.toml'\n\
         if [ \"$SLURM_ARRAY_TASK_ID\" = 2 ] && [ ! -e '{dir}/requeued' ]; then\n\
         \x20 export DISCO_HANG_AT_PART=6\n\
         fi\n\
         exec '{disco}' run --input file://corpus --input-format blob --batch-size 2 \\\n\
         \x20 --stage tree --output trees --format delta --quiet\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("tree.sbatch"), script).unwrap();
    let job = slurm_cmd(
        &conf,
        "sbatch",
        &[
            "--parsable",
            "--requeue",
            "--array=0-3",
            "--job-name=disco-trees",
            &format!("--chdir={}", dir.display()),
            &format!("--output={}/task-%a.log", dir.display()),
            &dir.join("tree.sbatch").to_string_lossy(),
        ],
    );
    let job = job.split(';').next().unwrap().to_string();
    let log = dir.join("task-2.log");
    wait_for(
        "task 2 to reach its hanging part",
        Duration::from_secs(300),
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("DISCO_HANG_AT_PART")),
    );
    // Killed mid-run: its first part is committed, its second written but not committed.
    slurm_cmd(&conf, "scancel", &[&format!("{job}_2")]);
    let finished = |s: &str| !matches!(s, "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING");
    wait_for("the tasks to end", Duration::from_secs(600), || {
        (0..4).all(|t| finished(&task_state(&conf, &job, t)))
    });
    assert_eq!(task_state(&conf, &job, 2), "CANCELLED");
    for t in [0, 1, 3] {
        assert_eq!(
            task_state(&conf, &job, t),
            "COMPLETED",
            "{}",
            std::fs::read_to_string(dir.join(format!("task-{t}.log"))).unwrap_or_default()
        );
    }
    let partial = paths_in_table(&dir.join("trees"));
    assert!(
        partial.len() < paths.len(),
        "task 2 was killed before its shard was done"
    );
    // Requeued, it keeps its array index and count (a fresh `sbatch --array=2` would not),
    // skips the part it committed and redoes the one it was killed in.
    std::fs::write(dir.join("requeued"), "").unwrap();
    slurm_cmd(&conf, "scontrol", &["requeue", &format!("{job}_2")]);
    // Slurm holds a requeued job for a while before it is eligible again.
    slurm_cmd(
        &conf,
        "scontrol",
        &["update", &format!("jobid={job}_2"), "starttime=now"],
    );
    wait_for("the requeued task", Duration::from_secs(600), || {
        let s = task_state(&conf, &job, 2);
        finished(&s) && s != "CANCELLED"
    });
    let log2 = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(task_state(&conf, &job, 2), "COMPLETED", "{log2}");
    let table = paths_in_table(&dir.join("trees"));
    let once: Vec<&String> = table.keys().collect();
    assert_eq!(
        once,
        paths.iter().collect::<Vec<_>>(),
        "every file is in the table"
    );
    let twice: Vec<_> = table.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "files written more than once: {twice:?}");
}
