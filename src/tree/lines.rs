//! Rows and columns of byte offsets, from a table of where the text's rows start: what
//! tree-sitter's `start_position`/`end_position` give, without asking the tree.
//!
//! A tree walk needs both points of every node. Asking tree-sitter costs a foreign call per
//! point that copies the node through the stack and reads it back at an offset the copy did
//! not write in one piece; on the Python standard library (7.5M nodes) `ts_node_start_point`
//! alone was 2.8% of a Parquet run's CPU (perf). Start offsets only grow in pre-order, so the
//! row of a node's start is found from the row of the node before, and its end's row is
//! usually the same.

use super::record::Span;

/// Where each row of a text starts, and the row of the last offset looked up.
pub(crate) struct Lines {
    /// Byte offset of each row's first byte: 0, and one past each `\n`.
    starts: Vec<usize>,
    row: usize,
}

impl Lines {
    pub fn new(text: &[u8]) -> Lines {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        Lines { starts, row: 0 }
    }

    /// The row of `byte` among the rows from `from` on (`starts[from] <= byte`).
    fn row_from(&self, from: usize, byte: usize) -> usize {
        match self.starts.get(from + 1) {
            None => from,
            Some(&next) if byte < next => from,
            Some(_) => from + self.starts[from..].partition_point(|&s| s <= byte) - 1,
        }
    }

    /// The span `[start byte, end byte, start row, start column, end row, end column]` of
    /// the bytes `start..end`, rows counted from 0 at each `\n` and columns in bytes, as
    /// tree-sitter counts them. Fastest when starts come in increasing order.
    pub fn span(&mut self, start: usize, end: usize) -> Span {
        let from = if self.starts[self.row] <= start {
            self.row
        } else {
            0
        };
        let sr = self.row_from(from, start);
        self.row = sr;
        let er = self.row_from(sr, end.max(start));
        [
            start as u64,
            end as u64,
            sr as u64,
            (start - self.starts[sr]) as u64,
            er as u64,
            (end.max(start) - self.starts[er]) as u64,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{detect, parse};
    use crate::tree::units::span_of;

    /// Every node's span from the line table equals tree-sitter's own, for files in every
    /// built-in language (CRLF and lone CR rows, trailing text without a newline, and an
    /// empty file included).
    #[test]
    fn spans_from_the_line_table_are_those_tree_sitter_gives() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
        for dir in ["fixtures/langs", "fixtures/lsp"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if let Ok(b) = std::fs::read(&p) {
                        texts.push((p.display().to_string(), b));
                    }
                }
            }
        }
        texts.push((
            "crlf.py".into(),
            b"def f():\r\n    return 1\r\n\rx = 2".to_vec(),
        ));
        texts.push(("empty.py".into(), Vec::new()));
        let mut checked = 0;
        for (name, bytes) in &texts {
            let Some(lang) = detect(name, bytes) else {
                continue;
            };
            let Ok(tree) = parse(lang, bytes, None) else {
                continue;
            };
            let mut lines = Lines::new(bytes);
            let mut cursor = tree.walk();
            loop {
                let node = cursor.node();
                let got = lines.span(node.start_byte(), node.end_byte());
                assert_eq!(got, span_of(&node), "{name}: {}", node.kind());
                checked += 1;
                if cursor.goto_first_child() {
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break;
                    }
                }
                if cursor.node() == tree.root_node() {
                    break;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} nodes checked");
    }

    #[test]
    fn offsets_out_of_order_still_find_their_rows() {
        let mut lines = Lines::new(b"ab\ncd\n\nef");
        assert_eq!(lines.span(7, 9), [7, 9, 3, 0, 3, 2]);
        assert_eq!(lines.span(1, 4), [1, 4, 0, 1, 1, 1]);
        assert_eq!(lines.span(6, 6), [6, 6, 2, 0, 2, 0]);
        assert_eq!(lines.span(0, 9), [0, 9, 0, 0, 3, 2]);
    }
}
