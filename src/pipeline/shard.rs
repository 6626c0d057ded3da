//! Shards: which slice of the input parts this process does, from `--shard i/n` or the
//! environment of an array job (Slurm, Kubernetes indexed jobs).

use anyhow::{anyhow, bail, Result};

/// Which slice of the parts this process does: parts `k` with `k % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// `i/n`, 0-based.
    pub fn parse(s: &str) -> Result<Shard> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| anyhow!("a shard is `i/n` (0-based), not `{s}`"))?;
        Shard::new(i.trim().parse()?, n.trim().parse()?)
    }

    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            bail!("shard {index}/{count}: need 0 <= i < n");
        }
        Ok(Shard { index, count })
    }

    /// From the environment of an array job: `SLURM_ARRAY_TASK_ID` with
    /// `SLURM_ARRAY_TASK_COUNT`, or `JOB_COMPLETION_INDEX` (Kubernetes indexed jobs) with
    /// `DISCO_WORLD_SIZE`.
    pub fn from_env() -> Result<Option<Shard>> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pair = if let Some(i) = get("SLURM_ARRAY_TASK_ID") {
            let n = get("SLURM_ARRAY_TASK_COUNT").ok_or_else(|| {
                anyhow!("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            })?;
            let min = get("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
            let (i, min) = (i.parse::<usize>()?, min.parse::<usize>()?);
            let i = i.checked_sub(min).ok_or_else(|| {
                anyhow!("SLURM_ARRAY_TASK_ID {i} is below SLURM_ARRAY_TASK_MIN {min}")
            })?;
            Some((i, n.parse()?))
        } else if let Some(i) = get("JOB_COMPLETION_INDEX") {
            let n = get("DISCO_WORLD_SIZE").ok_or_else(|| {
                anyhow!("JOB_COMPLETION_INDEX is set: give the world size in DISCO_WORLD_SIZE")
            })?;
            Some((i.parse()?, n.parse()?))
        } else {
            None
        };
        pair.map(|(i, n)| Shard::new(i, n)).transpose()
    }

    /// Whether item `part` (a part, a listed file) is this shard's.
    pub fn mine(&self, part: usize) -> bool {
        part % self.count == self.index
    }
}
