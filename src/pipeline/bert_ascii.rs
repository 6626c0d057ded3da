//! BERT's text normalization for ASCII text, without the tokenizer's per-character
//! bookkeeping.
//!
//! `perf` on the tokenize benchmark (MiniLM's `tokenizer.json`, code of the Python standard
//! library) put a third of the tokenizer's time in its `BertNormalizer`: every character of
//! a `NormalizedString` carries an alignment, and every character is looked up in Unicode's
//! category tables (17% of the time in `unicode_categories::table_binary_search`), although
//! nearly all of it is ASCII. For ASCII text the normalizer's result is known byte for byte:
//! cleaning turns `\t`, `\n` and `\r` into spaces and removes the other control characters;
//! lowercasing lowers `A`–`Z`; Chinese characters and accents do not occur.
//!
//! So a text is normalized here, and encoded by a copy of the tokenizer without a normalizer,
//! only when that gives exactly the tokenizer's own result:
//! - the tokenizer's normalizer is a `BertNormalizer`;
//! - the text is ASCII and holds no character that cleaning removes, so each byte stays one
//!   byte in place and token offsets are the same as the tokenizer's;
//! - no added token (`[CLS]`, `[MASK]`...) occurs in it, neither in the raw text (tokens
//!   matched before normalization) nor in the normalized text (tokens matched after it);
//! - the batch is not padded to its longest row (a text encoded apart from the others would be
//!   padded to another length).
//!
//! Any other text goes through the tokenizer as before. Tests compare the stage's ids with
//! Hugging Face's Python `tokenizers` on texts of both kinds.

use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::Tokenizer;

pub(super) struct BertAscii {
    /// The stage's tokenizer without its normalizer.
    tok: Tokenizer,
    clean: bool,
    lower: bool,
    /// Added tokens' contents matched in the raw text.
    raw: Vec<String>,
    /// Added tokens' normalized contents matched in the normalized text.
    normalized: Vec<String>,
}

impl BertAscii {
    /// The fast path of `tok`, when its normalizer is one this module reproduces.
    pub fn new(tok: &Tokenizer) -> Option<BertAscii> {
        let Some(NormalizerWrapper::BertNormalizer(b)) = tok.get_normalizer() else {
            return None;
        };
        let mut fast = BertAscii {
            tok: tok.clone(),
            clean: b.clean_text,
            lower: b.lowercase,
            raw: Vec::new(),
            normalized: Vec::new(),
        };
        for t in tok.get_added_tokens_decoder().into_values() {
            if t.content.is_empty() {
                return None;
            }
            if t.normalized {
                // A non-ASCII token could normalize into ASCII (`É` into `e`): not reproduced.
                fast.normalized.push(fast.clean_and_lower(&t.content)?);
            } else {
                fast.raw.push(t.content);
            }
        }
        fast.tok.with_normalizer(None::<NormalizerWrapper>).ok()?;
        Some(fast)
    }

    /// The tokenizer that encodes what [`Self::normalize`] returns.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tok
    }

    /// `text` as the normalizer would leave it, when the fast path gives the same encoding.
    pub fn normalize(&self, text: &str) -> Option<String> {
        let s = self.clean_and_lower(text)?;
        let added = self.raw.iter().any(|t| text.contains(t.as_str()))
            || self.normalized.iter().any(|t| s.contains(t.as_str()));
        (!added).then_some(s)
    }

    fn clean_and_lower(&self, text: &str) -> Option<String> {
        if !text.is_ascii() {
            return None;
        }
        let mut out = Vec::with_capacity(text.len());
        for &b in text.as_bytes() {
            out.push(match b {
                b'\t' | b'\n' | b'\r' if self.clean => b' ',
                0..=0x1f | 0x7f if self.clean => return None,
                b'A'..=b'Z' if self.lower => b.to_ascii_lowercase(),
                _ => b,
            });
        }
        String::from_utf8(out).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small BERT tokenizer: normalizer, pre-tokenizer, WordPiece and two added tokens.
    fn tokenizer() -> Tokenizer {
        let vocab: Vec<String> = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "a", "b", "##b", ",", "\t",
        ]
        .iter()
        .map(|t| format!("{t:?}"))
        .collect();
        let vocab: Vec<String> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t}: {i}"))
            .collect();
        let json = format!(
            r###"{{"version": "1.0", "truncation": null, "padding": null,
            "added_tokens": [
              {{"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}},
              {{"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}}],
            "normalizer": {{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}},
            "pre_tokenizer": {{"type": "BertPreTokenizer"}},
            "post_processor": null, "decoder": null,
            "model": {{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": {{{}}}}}}}"###,
            vocab.join(", ")
        );
        Tokenizer::from_bytes(json.as_bytes()).unwrap()
    }

    /// The fast path takes ASCII text (cases, tabs, line ends) and leaves the rest to the
    /// tokenizer; where it takes a text, ids and offsets are the tokenizer's own.
    #[test]
    fn ascii_text_normalized_here_encodes_as_the_tokenizer_does() {
        let tok = tokenizer();
        let fast = BertAscii::new(&tok).expect("a BertNormalizer");
        let taken = ["Hello\tWorld", "A,b\r\nAB HELLO", "", "  \n "];
        for text in taken {
            let n = fast.normalize(text).unwrap_or_else(|| panic!("{text:?}"));
            let want = tok.encode(text, true).unwrap();
            let got = fast.tokenizer().encode(n.as_str(), true).unwrap();
            assert_eq!(got.get_ids(), want.get_ids(), "{text:?}");
            assert_eq!(got.get_offsets(), want.get_offsets(), "{text:?}");
        }
        assert_eq!(fast.normalize("Hello\tWorld").unwrap(), "hello world");
        for left in [
            "a [CLS] b",
            "x[SEP]",
            "ctrl\u{1}",
            "del\u{7f}",
            "nul\0",
            "é",
            "中",
        ] {
            assert_eq!(fast.normalize(left), None, "{left:?}");
        }
    }
}
