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
        let tree = parser.parse_with_options(&mut input, None, Some(options));
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
