//! The visible text of an HTML page, from html5ever's tokenizer (the WHATWG tokenizer, so
//! entities, comments, CDATA and malformed markup are handled as a browser would): `<script>`,
//! `<style>`, `<template>`, `<noscript>`, `<svg>`... skipped, `<title>` captured on its own,
//! block elements on their own lines, runs of whitespace collapsed to one space.
//!
//! The tokenizer alone does not know which elements hold raw text (that is the tree builder's
//! job), so the sink tells it, as the tree builder would: without that, a `<` inside a script
//! would start a tag and the script's text would leak into the page's.
//!
//! The `html` input format ([`Html`]) is one row per page: `path`, `title`, `text`.

use std::cell::RefCell;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::TokenizerResult;

use super::format::{FileFormat, Files};
use super::read::{Batches, Part};
use super::text;

/// Elements whose content is not visible text.
const SKIP: &[&str] = &[
    "script", "style", "template", "noscript", "svg", "iframe", "noembed", "noframes",
];
/// Elements that start a new line.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "blockquote",
    "hr",
    "nav",
    "main",
    "aside",
    "dd",
    "dt",
    "dl",
    "figure",
    "figcaption",
    "form",
    "address",
    "details",
    "summary",
    "textarea",
    "caption",
];

/// Bytes handed to the tokenizer at a time (tendrils are limited to 4 GiB, and smaller pieces
/// keep the copy small).
const CHUNK: usize = 64 * 1024;

#[derive(Default)]
struct State {
    out: String,
    /// A whitespace run seen since the last word, written before the next one.
    space: bool,
    /// The element being skipped and how deeply it nests in itself (`<svg><svg>`).
    skip: Option<(String, usize)>,
    /// `Some` from the first `<title>` on; `in_title` while inside it.
    title: Option<String>,
    in_title: bool,
    /// Inside `<svg>`/`<math>`: the raw-text rules are the HTML namespace's only.
    foreign: usize,
}

impl State {
    fn text(&mut self, s: &str) {
        if self.skip.is_some() {
            return;
        }
        if self.in_title {
            if let Some(t) = self.title.as_mut() {
                t.push_str(s);
            }
            return;
        }
        for c in s.chars() {
            if c.is_whitespace() {
                self.space = true;
                continue;
            }
            if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
                self.out.push(' ');
            }
            self.space = false;
            self.out.push(c);
        }
    }

    fn newline(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.space = false;
    }

    fn tag(&mut self, name: &str, start: bool, self_closing: bool) -> TokenSinkResult<()> {
        // `/>` closes only foreign elements: `<script src=x />` still opens a script.
        let self_closing = self_closing && (self.foreign > 0 || matches!(name, "svg" | "math"));
        if let Some((skipped, depth)) = &mut self.skip {
            if skipped == name {
                if !start {
                    *depth -= 1;
                    if *depth == 0 {
                        self.skip = None;
                        // A skipped `<svg>` or `<math>` counted as foreign content when it
                        // opened: it ends here, or a later `<script>` would not be raw text.
                        if matches!(name, "svg" | "math") {
                            self.foreign = self.foreign.saturating_sub(1);
                        }
                    }
                } else if !self_closing {
                    *depth += 1;
                }
            }
            return TokenSinkResult::Continue;
        }
        if matches!(name, "svg" | "math") && !self_closing {
            if start {
                self.foreign += 1;
            } else {
                self.foreign = self.foreign.saturating_sub(1);
            }
        }
        if name == "title" && self.foreign == 0 {
            self.in_title = false;
            if !start {
                return TokenSinkResult::Continue;
            }
            // The page's title is the first; later ones are not visible text either.
            match self.title {
                None => {
                    self.title = Some(String::new());
                    self.in_title = true;
                }
                Some(_) => self.skip = Some((name.to_string(), 1)),
            }
            return TokenSinkResult::RawData(RawKind::Rcdata);
        }
        if start && !self_closing && SKIP.contains(&name) {
            self.skip = Some((name.to_string(), 1));
            return match name {
                _ if self.foreign > 0 => TokenSinkResult::Continue,
                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                "style" | "noscript" | "iframe" | "noembed" | "noframes" => {
                    TokenSinkResult::RawData(RawKind::Rawtext)
                }
                _ => TokenSinkResult::Continue,
            };
        }
        if BLOCK.contains(&name) {
            self.newline();
        }
        if !start || self_closing || self.foreign > 0 {
            return TokenSinkResult::Continue;
        }
        match name {
            "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "xmp" => TokenSinkResult::RawData(RawKind::Rawtext),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

struct Sink(RefCell<State>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut s = self.0.borrow_mut();
        match token {
            Token::CharacterTokens(t) => s.text(&t),
            Token::TagToken(tag) => {
                return s.tag(&tag.name, tag.kind == TagKind::StartTag, tag.self_closing);
            }
            // Comments, doctypes, NUL characters and parse errors are not text.
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// Inside `<svg>`/`<math>`, `<![CDATA[x]]>` is text `x` (a bogus comment elsewhere).
    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.0.borrow().foreign > 0
    }
}

/// `(title, text)`.
pub fn extract(html: &str) -> (Option<String>, String) {
    let tokenizer = Tokenizer::new(Sink(RefCell::default()), TokenizerOpts::default());
    let queue = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        queue.push_back(StrTendril::from_slice(&rest[..end]));
        rest = &rest[end..];
        // The sink never asks the tokenizer to pause (no scripts run), so one call drains the
        // queue; the loop is for the contract's sake.
        while !queue.is_empty() {
            if let TokenizerResult::Done = tokenizer.feed(&queue) {
                break;
            }
        }
    }
    tokenizer.end();
    let state = tokenizer.sink.0.into_inner();
    let text = state
        .out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let title = state
        .title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    (title, text)
}

/// An HTML page a row: `path`, `title`, `text` (the visible text).
pub struct Html;

impl FileFormat for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["html", "htm"]
    }

    fn per_file(&self) -> bool {
        true
    }

    fn infer(&self, _: &Files<'_>, _: &str) -> anyhow::Result<SchemaRef> {
        Ok(Arc::new(Schema::new(vec![
            Field::new("path", DataType::Utf8, false),
            Field::new("title", DataType::Utf8, true),
            Field::new("text", DataType::Utf8, false),
        ])))
    }

    fn read(&self, files: &Files<'_>, part: &Part, schema: SchemaRef) -> anyhow::Result<Batches> {
        let w = text::whole_files(files, part, |b| {
            text::decoded(files, b).map(|page| extract(&page))
        });
        let (titles, texts): (Vec<_>, Vec<_>) = w.rows.into_iter().unzip();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(w.paths)),
            Arc::new(StringArray::from(titles)),
            Arc::new(StringArray::from(texts)),
        ];
        text::batch(schema, columns, w.rejects)
    }
}

#[cfg(test)]
mod tests {
    use super::extract;

    #[test]
    fn keeps_visible_text_only() {
        let (title, text) = extract(
            "<html><head><title>T &amp; U</title><style>p{}</style></head>\
             <body><p>Hello <b>world</b></p><script>x()</script><!-- c --><p>caf&#233; &lt;3</p></body></html>",
        );
        assert_eq!(title.as_deref(), Some("T & U"));
        assert_eq!(text, "Hello world\ncafé <3");
    }

    #[test]
    fn stray_ampersand_before_multibyte_text_is_kept() {
        let (_, text) = extract("<p>&東京東京東京東京東京</p>");
        assert_eq!(text, "&東京東京東京東京東京");
    }

    #[test]
    fn inline_tags_without_spaces_do_not_split_words() {
        assert_eq!(
            extract("<p><b>W</b>orld &amp; <i>co</i></p>").1,
            "World & co"
        );
    }

    #[test]
    fn script_never_closed_hides_the_rest() {
        let (_, text) = extract("<p>before</p><script>if (a < b) { x('</p>') }<p>after");
        assert_eq!(text, "before");
    }

    #[test]
    fn a_closed_svg_does_not_leave_the_page_in_foreign_content() {
        let (title, text) = extract(
            "<svg><text>x</text></svg><script>document.write('<script src=x><\\/script>')</script>\
             <title>T</title><p>Hello",
        );
        assert_eq!((title.as_deref(), text.as_str()), (Some("T"), "Hello"));
    }

    #[test]
    fn self_closing_script_still_opens_but_self_closing_svg_does_not() {
        let (_, text) = extract("<script src=x /><p>hidden</p></script><svg/><p>shown");
        assert_eq!(text, "shown");
    }

    #[test]
    fn script_with_tags_inside_does_not_leak() {
        let (_, text) = extract("<p>a</p><script>document.write('<p>no</p>')</script><p>b</p>");
        assert_eq!(text, "a\nb");
    }

    #[test]
    fn unclosed_tags_and_nested_skips() {
        let html = "<div><p>one<p>two <svg><svg><text>x</text></svg><title>t</title></svg> three\
                    <template><p>hidden<template>deeper</template>still</template><li>four";
        let (title, text) = extract(html);
        assert_eq!(title, None, "an svg <title> is not the page's");
        assert_eq!(text, "one\ntwo three\nfour");
    }

    #[test]
    fn numeric_entities_out_of_range_become_replacement_characters() {
        let (_, text) = extract("<p>&#x110000; &#0; &#xD800; &#65; &#x1F600; &bogus; &amp</p>");
        assert_eq!(text, "\u{FFFD} \u{FFFD} \u{FFFD} A 😀 &bogus; &");
    }

    #[test]
    fn comments_nested_or_unclosed_and_cdata() {
        let (_, text) = extract("<p>a<!-- x <!-- y --> b --> c</p><![CDATA[d]]><p>e<!-- never");
        // A comment ends at the first `-->`; CDATA in HTML is a bogus comment.
        assert_eq!(text, "a b --> c\ne");
        let (_, text) = extract("<math><mi><![CDATA[x<y]]></mi></math>");
        assert_eq!(text, "x<y");
    }

    #[test]
    fn title_rcdata_and_only_the_first() {
        let (title, text) = extract("<title>a <b>&lt;c</title><title>second</title><p>x");
        assert_eq!(title.as_deref(), Some("a <b><c"));
        assert_eq!(text, "x");
    }

    #[test]
    fn empty_and_text_only() {
        assert_eq!(extract(""), (None, String::new()));
        assert_eq!(extract("  plain\n\n text  ").1, "plain text");
    }

    #[test]
    fn long_input_split_across_chunks() {
        let word = "東京&amp;";
        let html = format!("<p>{}</p>", word.repeat(super::CHUNK / 3));
        let (_, text) = extract(&html);
        assert_eq!(text, "東京&".repeat(super::CHUNK / 3));
    }
}
