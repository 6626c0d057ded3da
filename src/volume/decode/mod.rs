//! Turning a file's bytes into text: the one decoder behind `disco tree`, the `tree` stage, the
//! `text`/`html`/`lines` readers and `disco lsp`, so they all agree on what a file is.
//!
//! The order of decisions (each later step runs only when the earlier ones did not decide):
//! 1. a byte-order mark (UTF-8, UTF-32LE/BE, UTF-16LE/BE) decides, whatever was asked;
//! 2. an encoding the user forced (`--encoding`) decides;
//! 3. a NUL byte in the first 8000 bytes means binary (as git decides);
//! 4. strict UTF-8;
//! 5. text that is UTF-8 but for a few bad bytes is broken UTF-8, not another encoding;
//! 6. otherwise `chardetng` guesses a legacy encoding and `encoding_rs` decodes it, and the
//!    result must look like text (see [`not_text`]).
//!
//! Decoding never replaces: a malformed sequence is an error with its byte offset.

mod lines;
mod names;

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{DecoderResult, Encoding};

pub use lines::{LineDecoder, LineError};
pub use names::UnknownEncoding;

/// How many leading bytes are searched for a NUL (as git does) to call a file binary.
pub const BINARY_SNIFF: usize = 8000;

/// At most this many bytes are fed to the detector: plenty to decide, and bounded cost.
const DETECT_WINDOW: usize = 1 << 20;

/// An encoding Disco can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// UTF-32 is not a WHATWG encoding; it is decoded here, by hand.
    Utf32Le,
    Utf32Be,
    /// Any other WHATWG encoding (windows-1252, Shift_JIS, GBK, ...), via `encoding_rs`.
    Legacy(&'static Encoding),
}

/// Decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text, without its byte-order mark.
    pub text: String,
    pub encoding: TextEncoding,
    /// How sure the decoder is of `encoding`, from 0 to 1: 1 when a BOM, the user or valid
    /// UTF-8 decided; for a detected encoding, the share of the detector's regional
    /// expectations under which it still makes the same guess (see [`detect`]).
    pub confidence: f64,
    /// Whether a byte-order mark was seen (and removed).
    pub bom: bool,
}

impl Decoded {
    /// The file record's `encoding`: the encoding's name, `utf-8-bom` for UTF-8 with a BOM.
    pub fn label(&self) -> &'static str {
        if self.bom && self.encoding == TextEncoding::Utf8 {
            "utf-8-bom"
        } else {
            self.encoding.name()
        }
    }
}

/// Why bytes are not text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("binary content (NUL byte at offset {offset})")]
    Binary { offset: usize },
    /// A sequence that is not valid in the encoding (the BOM's, the forced or the detected one).
    #[error("invalid {} at byte {offset}", .encoding.display_name())]
    Malformed {
        encoding: TextEncoding,
        offset: usize,
    },
    /// The detector's best guess decodes, but into control characters, not text.
    #[error(
        "not text in any known encoding: {} was the best guess (confidence {confidence:.2}), \
         but {controls} of its {chars} characters are control characters",
        .encoding.display_name()
    )]
    NotText {
        encoding: TextEncoding,
        confidence: f64,
        controls: usize,
        chars: usize,
    },
}

/// Decodes a whole file (see the module comment for the order of decisions). `forced` is the
/// user's `--encoding`; a BOM still overrides it, as it does in browsers.
pub fn decode(mut bytes: Vec<u8>, forced: Option<TextEncoding>) -> Result<Decoded, DecodeError> {
    let choice = choose(&bytes, forced, true)?;
    bytes.drain(..choice.bom_len);
    let text = match choice.encoding {
        // The common case moves the bytes instead of copying them.
        TextEncoding::Utf8 => String::from_utf8(bytes).map_err(|e| DecodeError::Malformed {
            encoding: TextEncoding::Utf8,
            offset: choice.bom_len + e.utf8_error().valid_up_to(),
        })?,
        enc => transcode(enc, &bytes, true)
            .map(|(text, _)| text)
            .map_err(|offset| DecodeError::Malformed {
                encoding: enc,
                offset: choice.bom_len + offset,
            })?,
    };
    if choice.detected {
        if let Some(e) = not_text(&text, choice.encoding, choice.confidence) {
            return Err(e);
        }
    }
    Ok(Decoded {
        text,
        encoding: choice.encoding,
        confidence: choice.confidence,
        bom: choice.bom_len > 0,
    })
}

/// The decoder's choice for some bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub encoding: TextEncoding,
    pub confidence: f64,
    /// Length of the byte-order mark to skip.
    pub bom_len: usize,
    /// Whether the detector chose (so the result must pass the not-text rule).
    pub detected: bool,
}

/// Chooses the encoding of `bytes`, the whole file (`complete`) or only its head (the
/// `lines` reader streams the rest). On a head, a multi-byte sequence cut at the end is
/// not an error.
pub fn choose(
    bytes: &[u8],
    forced: Option<TextEncoding>,
    complete: bool,
) -> Result<Choice, DecodeError> {
    let certain = |encoding, bom_len| Choice {
        encoding,
        confidence: 1.0,
        bom_len,
        detected: false,
    };
    // UTF-32LE's BOM begins with UTF-16LE's, so it is tried first.
    const BOMS: [(&[u8], TextEncoding); 5] = [
        (&[0xEF, 0xBB, 0xBF], TextEncoding::Utf8),
        (&[0xFF, 0xFE, 0, 0], TextEncoding::Utf32Le),
        (&[0, 0, 0xFE, 0xFF], TextEncoding::Utf32Be),
        (&[0xFF, 0xFE], TextEncoding::Utf16Le),
        (&[0xFE, 0xFF], TextEncoding::Utf16Be),
    ];
    if let Some((bom, enc)) = BOMS.iter().find(|(bom, _)| bytes.starts_with(bom)) {
        return Ok(certain(*enc, bom.len()));
    }
    // Wide encodings are full of NULs, so the binary sniff would refuse them.
    if let Some(enc) = forced.filter(|e| e.is_wide()) {
        return Ok(certain(enc, 0));
    }
    if let Some(offset) = bytes[..bytes.len().min(BINARY_SNIFF)]
        .iter()
        .position(|&b| b == 0)
    {
        return Err(DecodeError::Binary { offset });
    }
    if let Some(enc) = forced {
        return Ok(certain(enc, 0));
    }
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(_) => None,
        // A head may end inside a character.
        Err(e) if !complete && e.error_len().is_none() => None,
        Err(e) => Some(e.valid_up_to()),
    };
    let Some(first_bad) = utf8_error else {
        return Ok(certain(TextEncoding::Utf8, 0));
    };
    if mostly_utf8(bytes) {
        return Err(DecodeError::Malformed {
            encoding: TextEncoding::Utf8,
            offset: first_bad,
        });
    }
    let (encoding, confidence) = detect(bytes, complete);
    Ok(Choice {
        encoding: TextEncoding::from_encoding(encoding),
        confidence,
        bom_len: 0,
        detected: true,
    })
}

/// Whether bytes that are not valid UTF-8 are still UTF-8 with a few bad bytes: they hold
/// more than twice as many well-formed multi-byte characters as malformed sequences. Text
/// in a legacy encoding forms well-formed UTF-8 sequences only by accident (a Latin-1 `Ã©`,
/// a GBK pair now and then), far less often than it breaks them.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    good > 2 * bad
}

/// `chardetng`'s guess, with a confidence. The detector gives no score, but its guess
/// depends on a regional expectation (the top-level domain a page came from), which tips
/// close calls: the confidence is the share of regional expectations, one per region the
/// detector knows, under which the text reads the same (the same guess, or another
/// encoding that decodes these bytes to the same text, as windows-1250 and windows-1252
/// do for curly quotes). Western text usually reads the same everywhere (1.0); CJK text
/// loses the regions that expect another script (about 0.7); random bytes read the same
/// almost nowhere (about 0.1).
fn detect(bytes: &[u8], complete: bool) -> (&'static Encoding, f64) {
    const REGIONS: [&[u8]; 16] = [
        b"com", b"fr", b"cz", b"pl", b"ru", b"gr", b"tr", b"il", b"eg", b"lt", b"vn", b"th", b"cn",
        b"tw", b"jp", b"kr",
    ];
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let window = &bytes[..bytes.len().min(DETECT_WINDOW)];
    detector.feed(window, complete && window.len() == bytes.len());
    let guess = detector.guess(None, Utf8Detection::Deny);
    let text = guess.decode_without_bom_handling(window).0;
    // Each other encoding is decoded once, however many regions name it.
    let mut reads_same: Vec<(&'static Encoding, bool)> = vec![(guess, true)];
    let same = REGIONS
        .iter()
        .filter(|&&tld| {
            let other = detector.guess(Some(tld), Utf8Detection::Deny);
            if let Some((_, same)) = reads_same.iter().find(|(e, _)| *e == other) {
                return *same;
            }
            let same = other.decode_without_bom_handling(window).0 == text;
            reads_same.push((other, same));
            same
        })
        .count();
    (guess, round2(same as f64 / REGIONS.len() as f64))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The not-text rule for a detected encoding. Real text in any encoding holds almost no
/// control characters (Unicode's Cc: C0 other than tab, newline, carriage return, form feed
/// and escape; DEL; C1), while random bytes decoded as a single-byte encoding are about 13% control
/// characters. So: more than 5% is not text whatever the detector thinks; more than 0.5%
/// is not text when the detector was unsure (confidence under 0.5). A stray DOS end-of-file
/// mark or a form feed in a real file stays far below either line.
fn not_text(text: &str, encoding: TextEncoding, confidence: f64) -> Option<DecodeError> {
    let is_control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C' | '\x1B');
    let (mut controls, mut chars) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        controls += usize::from(is_control(c));
    }
    let share = controls as f64 / chars.max(1) as f64;
    (share > 0.05 || (share > 0.005 && confidence < 0.5)).then_some(DecodeError::NotText {
        encoding,
        confidence,
        controls,
        chars,
    })
}

/// Decodes `bytes` (no BOM) strictly. `last`: the input ends here (otherwise a sequence cut
/// at the end is left undecoded). Returns the text and how many bytes it used, or the offset
/// of the first malformed sequence.
pub fn transcode(enc: TextEncoding, bytes: &[u8], last: bool) -> Result<(String, usize), usize> {
    let encoding = match enc {
        TextEncoding::Utf32Le => return utf32(bytes, u32::from_le_bytes, last),
        TextEncoding::Utf32Be => return utf32(bytes, u32::from_be_bytes, last),
        TextEncoding::Utf8 => encoding_rs::UTF_8,
        TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
        TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
        TextEncoding::Legacy(e) => e,
    };
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len()),
    );
    let mut read = 0;
    loop {
        let (result, n) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut text, last);
        read += n;
        match result {
            DecoderResult::InputEmpty => return Ok((text, bytes.len())),
            DecoderResult::OutputFull => text.reserve(bytes.len() - read + 16),
            DecoderResult::Malformed(bad, after) => {
                return Err(read - usize::from(after) - usize::from(bad))
            }
        }
    }
}

fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32, last: bool) -> Result<(String, usize), usize> {
    let mut text = String::with_capacity(bytes.len() / 4);
    let mut units = bytes.chunks_exact(4);
    for (i, c) in units.by_ref().enumerate() {
        let u = unit([c[0], c[1], c[2], c[3]]);
        text.push(char::from_u32(u).ok_or(i * 4)?);
    }
    let used = bytes.len() - units.remainder().len();
    if last && used < bytes.len() {
        return Err(used);
    }
    Ok((text, used))
}

impl TextEncoding {
    fn from_encoding(e: &'static Encoding) -> TextEncoding {
        if e == encoding_rs::UTF_8 {
            TextEncoding::Utf8
        } else if e == encoding_rs::UTF_16LE {
            TextEncoding::Utf16Le
        } else if e == encoding_rs::UTF_16BE {
            TextEncoding::Utf16Be
        } else {
            TextEncoding::Legacy(e)
        }
    }

    /// UTF-16 and UTF-32: not ASCII-compatible, NUL bytes everywhere.
    pub fn is_wide(self) -> bool {
        matches!(
            self,
            Self::Utf16Le | Self::Utf16Be | Self::Utf32Le | Self::Utf32Be
        )
    }

    /// The name in messages: WHATWG's canonical spelling (`UTF-8`, `Shift_JIS`).
    pub fn display_name(self) -> Cow<'static, str> {
        match self {
            Self::Utf32Le => "UTF-32LE".into(),
            Self::Utf32Be => "UTF-32BE".into(),
            Self::Utf8 => "UTF-8".into(),
            Self::Utf16Le => "UTF-16LE".into(),
            Self::Utf16Be => "UTF-16BE".into(),
            Self::Legacy(e) => e.name().into(),
        }
    }
}

#[cfg(test)]
mod tests;
