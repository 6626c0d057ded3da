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

/// A corpus of several repositories: the language-server fixtures, one per language, and
/// two folders of Disco's own sources. Returns the workspace and the corpus's paths.
fn corpus() -> (tempfile::TempDir, Vec<String>) {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    let mut paths = Vec::new();
    let lsp = repo_root().join("fixtures/lsp");
    for lang in ["bash", "c", "go", "python", "rust", "typescript"] {
        copy_repo(
            &lsp.join(lang),
            &dir.join("corpus").join(lang),
            &format!("{lang}/"),
            &mut paths,
        );
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
    (ws, paths)
}

/// Submits `command` (a Disco command line) as `sbatch --array=0-3`; task 2 hangs at part
/// `hang` (its data files written, not committed) until `scancel` kills it; once requeued it
/// runs normally. Then `table` (a Delta table of the workspace) must hold every path of the
/// corpus exactly once.
fn killed_and_requeued(
    conf: &Path,
    ws: &Path,
    paths: &[String],
    command: &str,
    hang: usize,
    table: &str,
) {
    let script = format!(
        "#!/bin/bash\n\
         cd '{dir}'\n\
         export DISCO_CATALOG='{dir}/disco.toml'\n\
         if [ \"$SLURM_ARRAY_TASK_ID\" = 2 ] && [ ! -e '{dir}/requeued' ]; then\n\
         \x20 export DISCO_HANG_AT_PART={hang}\n\
         fi\n\
         exec '{disco}' {command}\n",
        dir = ws.display(),
        disco = env!("CARGO_BIN_EXE_disco"),
    );
    std::fs::write(ws.join("job.sbatch"), script).unwrap();
    let job = slurm_cmd(
        conf,
        "sbatch",
        &[
            "--parsable",
            "--requeue",
            "--array=0-3",
            "--job-name=disco-trees",
            &format!("--chdir={}", ws.display()),
            &format!("--output={}/task-%a.log", ws.display()),
            &ws.join("job.sbatch").to_string_lossy(),
        ],
    );
    let job = job.split(';').next().unwrap().to_string();
    let log = ws.join("task-2.log");
    let task_log =
        |t: usize| std::fs::read_to_string(ws.join(format!("task-{t}.log"))).unwrap_or_default();
    wait_for(
        "task 2 to reach its hanging part",
        Duration::from_secs(300),
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("DISCO_HANG_AT_PART")),
    );
    // Killed mid-run by the scheduler.
    slurm_cmd(conf, "scancel", &[&format!("{job}_2")]);
    let finished = |s: &str| !matches!(s, "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING");
    wait_for("the tasks to end", Duration::from_secs(600), || {
        (0..4).all(|t| finished(&task_state(conf, &job, t)))
    });
    assert_eq!(task_state(conf, &job, 2), "CANCELLED");
    for t in [0, 1, 3] {
        assert_eq!(task_state(conf, &job, t), "COMPLETED", "{}", task_log(t));
    }
    let partial = paths_in_table(&ws.join(table));
    assert!(
        partial.len() < paths.len(),
        "task 2 was killed before its shard was done"
    );
    // Requeued, it keeps its array index and count (a fresh `sbatch --array=2` would not),
    // skips what it committed and redoes the rest.
    std::fs::write(ws.join("requeued"), "").unwrap();
    slurm_cmd(conf, "scontrol", &["requeue", &format!("{job}_2")]);
    // Slurm holds a requeued job for a while before it is eligible again.
    slurm_cmd(
        conf,
        "scontrol",
        &["update", &format!("jobid={job}_2"), "starttime=now"],
    );
    wait_for("the requeued task", Duration::from_secs(600), || {
        let s = task_state(conf, &job, 2);
        finished(&s) && s != "CANCELLED"
    });
    assert_eq!(task_state(conf, &job, 2), "COMPLETED", "{}", task_log(2));
    let table = paths_in_table(&ws.join(table));
    let once: Vec<&String> = table.keys().collect();
    assert_eq!(
        once,
        paths.iter().collect::<Vec<_>>(),
        "every file is in the table"
    );
    let twice: Vec<_> = table.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "files written more than once: {twice:?}");
}

#[test]
fn an_array_job_with_a_killed_and_requeued_task_writes_every_file_exactly_once() {
    let Some(conf) = slurm() else { return };
    if crate::pipeline::python().is_none() {
        return;
    }
    // The tree stage of a pipeline, in parts of 2 files: each task commits several parts,
    // and task 2 is killed in its second (part 6), after its first was committed.
    let (ws, paths) = corpus();
    killed_and_requeued(
        &conf,
        ws.path(),
        &paths,
        "run --input file://corpus --input-format blob --batch-size 2 \\\n\x20 --stage tree --output trees --format delta --quiet",
        6,
        "trees",
    );
}

#[test]
fn a_disco_tree_array_job_with_a_killed_and_requeued_task_fills_the_files_table_once() {
    let Some(conf) = slurm() else { return };
    if crate::pipeline::python().is_none() {
        return;
    }
    // `disco tree` into the Delta tree tables: a shard commits its tables at the end, the
    // files table last; task 2 is killed at its first commit, with its data files written.
    let (ws, paths) = corpus();
    killed_and_requeued(
        &conf,
        ws.path(),
        &paths,
        "tree corpus --lsp none --format delta -o ws://out --quiet",
        2,
        "out/files",
    );
}
