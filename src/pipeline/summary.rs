//! What a run did: parts written, skipped and failed, and the row accounting
//! `rows in = rows passed + rows rejected` over the parts that were written.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;

/// A part that failed (a reader or stage error, a panic, a write that did not commit). Its
/// rows are in no output: the part stays uncommitted, and a rerun tries it again.
#[derive(Debug, Clone)]
pub struct PartFailure {
    pub index: usize,
    /// The part's file (or first..last file).
    pub file: String,
    /// What went wrong, with its causes.
    pub error: String,
    /// Rows of this part already written to a single-file output when it failed. A single
    /// file (or stdout) cannot take rows back; directories of parts and Delta tables can,
    /// so there this is always 0.
    pub rows_written: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub parts: usize,
    pub parts_skipped: usize,
    pub parts_written: usize,
    /// Parts that failed, in order; the run went on with the others.
    pub failures: Vec<PartFailure>,
    pub rows_in: u64,
    /// Input rows that reached the output (as one row or several).
    pub rows_passed: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
    pub rejected_by: BTreeMap<String, u64>,
    pub rejects_kept: bool,
    pub schema: Option<SchemaRef>,
}

impl RunSummary {
    /// One line for a terminal or an editor: parts, the accounting, rejects by stage, and
    /// the failed parts with their errors.
    pub fn line(&self) -> String {
        let by: Vec<String> = self
            .rejected_by
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let failed = match self.failures.len() {
            0 => String::new(),
            n => format!(", {n} failed"),
        };
        let mut line = format!(
            "{} parts ({} written, {} already done{failed}); rows in {} = {} passed + {} rejected{}; rows out {}{}",
            self.parts,
            self.parts_written,
            self.parts_skipped,
            self.rows_in,
            self.rows_passed,
            self.rows_rejected,
            if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) },
            self.rows_out,
            if self.rows_rejected > 0 && !self.rejects_kept { " — rejected rows NOT kept (no rejects table)" } else { "" }
        );
        if !self.failures.is_empty() {
            let n = self.failures.len();
            line.push_str(&format!(
                "\n{n} part{} failed (not committed; a rerun retries {}):",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ));
            for f in &self.failures {
                line.push_str(&format!("\n  part {} ({}): {}", f.index, f.file, f.error));
                if f.rows_written > 0 {
                    line.push_str(&format!(
                        " [{} of its rows were already in the single-file output, which cannot \
                         take them back; write to a directory or a Delta table for parts that \
                         appear whole or not at all]",
                        f.rows_written
                    ));
                }
            }
        }
        line
    }
}
