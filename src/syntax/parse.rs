//! Parsing with a per-thread parser and a deadline.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tree_sitter as ts;

use super::Language;

/// Why a parse produced no tree.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ParseError {
    #[error("parsing took longer than {0:?}")]
    Timeout(Duration),
    #[error("the grammar could not be loaded: {0}")]
    Grammar(String),
}

thread_local! {
    static PARSER: RefCell<ts::Parser> = RefCell::new(ts::Parser::new());
}

/// Parses `text`. The tree carries ERROR/MISSING nodes for text that does not fit the
/// grammar; `Err` only when the deadline passes or the grammar cannot be loaded.
pub fn parse(
    lang: &Language,
    text: &[u8],
    timeout: Option<Duration>,
) -> Result<ts::Tree, ParseError> {
    reparse(lang, text, None, timeout)
}

/// Parses `text` again after edits, reusing the unchanged parts of `old` (which must have
/// been `edit`ed to match).
pub fn reparse(
    lang: &Language,
    text: &[u8],
    old: Option<&ts::Tree>,
    timeout: Option<Duration>,
) -> Result<ts::Tree, ParseError> {
    PARSER.with_borrow_mut(|parser| {
        parser
            .set_language(lang.ts())
            .map_err(|e| ParseError::Grammar(e.to_string()))?;
        let deadline = timeout.map(|t| (Instant::now() + t, t));
        let mut timed_out = false;
        let mut progress = |_: &ts::ParseState| match deadline {
            Some((at, _)) if Instant::now() > at => {
                timed_out = true;
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        };
        let options = ts::ParseOptions::new().progress_callback(&mut progress);
        let mut input = |offset: usize, _: ts::Point| text.get(offset..).unwrap_or(&[]);
        let tree = parser.parse_with_options(&mut input, old, Some(options));
        match tree {
            Some(tree) => Ok(tree),
            None => {
                parser.reset();
                let limit = deadline.map_or(Duration::ZERO, |(_, t)| t);
                Err(if timed_out {
                    ParseError::Timeout(limit)
                } else {
                    ParseError::Grammar("the parser stopped".into())
                })
            }
        }
    })
}

/// The pre-order index of `node` in `tree` (the `n` of records).
pub fn node_index(tree: &ts::Tree, node: ts::Node) -> Option<u32> {
    let mut cursor = tree.walk();
    loop {
        if cursor.node().id() == node.id() {
            return Some(cursor.descendant_index() as u32);
        }
        if !cursor.goto_first_child() {
            return None;
        }
        loop {
            let c = cursor.node();
            if c.start_byte() <= node.start_byte()
                && node.end_byte() <= c.end_byte()
                && (c.id() == node.id() || c.child_count() > 0)
            {
                break;
            }
            if !cursor.goto_next_sibling() {
                return None;
            }
        }
    }
}
