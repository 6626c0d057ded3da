//! The HTML reader: tag soup with entities and multibyte text, arbitrary text, and files
//! through `Input` (one row or one reject per file). No panic, no hang.

use disco::catalog::Catalog;
use disco::table::{html_text, Input, InputFormat, ReadOptions};
use proptest::prelude::*;

use super::within;

/// Pieces of HTML, well-formed or not, that an extractor meets: tags that open skipped or
/// block content, comments, entities (named, numeric, out of range, unterminated, followed
/// by multibyte text), and text in several scripts.
fn soup_piece() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "<p>",
        "</p>",
        "<div class=\"a&amp;b\">",
        "</div>",
        "<br/>",
        "<br>",
        "<li>",
        "<title>",
        "</title>",
        "<script>",
        "</script>",
        "<style>",
        "</style>",
        "<svg/>",
        "<svg>",
        "</svg>",
        "<math>",
        "</math>",
        "<template>",
        "</template>",
        "<!--",
        "-->",
        "<!-- c -->",
        "<!DOCTYPE html>",
        "<",
        ">",
        "</",
        "<>",
        "&amp;",
        "&lt;",
        "&gt;",
        "&nbsp;",
        "&eacute;",
        "&#233;",
        "&#x1F600;",
        "&#xFFFFFFFF;",
        "&#55296;",
        "&#0;",
        "&",
        "&;",
        "&#",
        "&#x;",
        "&amp",
        "&東京東京東京東京東京",
        "&é",
        "東京",
        "é",
        "😀",
        "\u{0}",
        "\r\n",
        " ",
        "\t",
        "word",
    ]);
    prop_oneof![
        4 => fixed.prop_map(str::to_string),
        1 => "[a-z<>&#;/ =\"'!\\-é東😀]{0,12}",
        1 => "<[a-zA-Z]{1,8}( [a-z]{1,4}(=\"[^\"]{0,6}\")?)?/?>",
    ]
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(soup_piece(), 0..60).prop_map(|v| v.concat())
}

fn extract(html: String) -> (Option<String>, String) {
    within("html_text", move || html_text(&html))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fuzz_html_tag_soup_never_panics(html in soup()) {
        extract(html);
    }

    #[test]
    fn fuzz_html_arbitrary_text_never_panics(html in any::<String>()) {
        extract(html);
    }

    /// Whatever the extractor does with markup, words in paragraphs are visible text.
    #[test]
    fn fuzz_html_paragraph_words_survive(
        paragraphs in prop::collection::vec(prop::collection::vec("[a-z]{1,8}|東京|café", 1..6), 0..8),
    ) {
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>", p.join(" <b>x</b> ")))
            .collect();
        let (_, text) = extract(format!("<html><head><title>t</title></head><body>{body}</body></html>"));
        for word in paragraphs.iter().flatten() {
            prop_assert!(text.contains(word.as_str()), "`{}` lost from {:?}", word, text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Through the public path: every file is one row or one reject with a reason.
    #[test]
    fn fuzz_html_files_are_rows_or_rejects(
        files in prop::collection::vec(
            prop_oneof![
                3 => soup().prop_map(String::into_bytes),
                1 => prop::collection::vec(any::<u8>(), 0..200),
            ],
            1..5,
        ),
        batch_size in 1usize..4,
    ) {
        let n = files.len();
        let (rows, rejects) = within("html files", move || {
            let dir = tempfile::tempdir().expect("temp dir");
            for (i, f) in files.iter().enumerate() {
                std::fs::write(dir.path().join(format!("{i}.html")), f).expect("write");
            }
            let opts = ReadOptions {
                format: Some(InputFormat::parse("html").unwrap()),
                batch_size,
                ..ReadOptions::default()
            };
            let input = Input::open(&Catalog::default(), dir.path().to_str().unwrap(), opts)
                .expect("open");
            let (mut rows, mut rejects) = (0, Vec::new());
            for part in &input.parts {
                for b in input.read_part(part).expect("part") {
                    let b = b.expect("batch");
                    rows += b.batch.num_rows();
                    rejects.extend(b.rejects);
                }
            }
            (rows, rejects)
        });
        prop_assert!(rejects.iter().all(|r| !r.reason.is_empty()));
        prop_assert_eq!(rows + rejects.len(), n);
    }
}
