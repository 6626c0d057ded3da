//! Decoding a stream line by line, for the `lines` reader, which never holds a whole file.
//!
//! The encoding is chosen once, from the file's head (the first 64 KiB), by the same rules
//! as a whole file ([`super::choose`]); each line is then decoded on its own, so one bad
//! line is one reject and the rest of the file still reads. A head that is binary, broken
//! UTF-8 or not text leaves the file as UTF-8, checked line by line, as before the decoder
//! existed: a log with a stray NUL is still mostly good lines.
//!
//! ASCII-compatible encodings are split on `\n` bytes and each line decoded. UTF-16 and
//! UTF-32 are not (a `\n` byte may be half of another character), so their stream is
//! transcoded to UTF-8 first; a malformed sequence becomes a 0xFF byte, which never occurs
//! in UTF-8, so the line holding it fails the line's UTF-8 check and is rejected.

use std::borrow::Cow;
use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult};

use super::{choose, not_text, transcode, TextEncoding};

/// Bytes read to choose a stream's encoding.
const HEAD: usize = 64 * 1024;

/// How each line of one stream is decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineDecoder {
    pub encoding: TextEncoding,
    pub confidence: f64,
    /// The encoding was detected from the head, not forced with `--encoding`.
    pub detected: bool,
}

/// A line that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {encoding} at column {column}")]
pub struct LineError {
    pub encoding: String,
    /// 1-based byte column in the line (in its UTF-8 form for UTF-16 and UTF-32).
    pub column: usize,
}

impl LineDecoder {
    /// Reads the head of `input` and chooses; returns the decoder and the whole stream (head
    /// included, BOM removed; transcoded to UTF-8 for the wide encodings) to split on `\n`.
    pub fn open(
        mut input: Box<dyn Read + Send>,
        forced: Option<TextEncoding>,
    ) -> io::Result<(LineDecoder, Box<dyn Read + Send>)> {
        let mut head = Vec::with_capacity(HEAD);
        input.by_ref().take(HEAD as u64).read_to_end(&mut head)?;
        let complete = head.len() < HEAD;
        let utf8 = LineDecoder {
            encoding: TextEncoding::Utf8,
            confidence: 1.0,
            detected: false,
        };
        let choice = match choose(&head, forced, complete) {
            Ok(c) if c.detected => {
                let text = transcode(c.encoding, &head, complete).map(|(t, _)| t);
                match text {
                    Ok(t) if not_text(&t, c.encoding, c.confidence).is_none() => Some(c),
                    _ => None,
                }
            }
            Ok(c) => Some(c),
            Err(_) => None,
        };
        let Some(choice) = choice else {
            return Ok((utf8, Box::new(io::Cursor::new(head).chain(input))));
        };
        head.drain(..choice.bom_len);
        let stream: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(input));
        let decoder = LineDecoder {
            encoding: choice.encoding,
            confidence: choice.confidence,
            detected: choice.detected,
        };
        if !choice.encoding.is_wide() {
            return Ok((decoder, stream));
        }
        Ok((decoder, Box::new(Transcoder::new(stream, choice.encoding))))
    }

    /// One line (without its `\n`) as text.
    pub fn line<'a>(&self, raw: &'a [u8]) -> Result<Cow<'a, str>, LineError> {
        let error = |at: usize| LineError {
            encoding: self.encoding.display_name().into_owned(),
            column: at + 1,
        };
        match self.encoding {
            // Wide encodings were transcoded to UTF-8 (with 0xFF marking bad sequences).
            TextEncoding::Utf8
            | TextEncoding::Utf16Le
            | TextEncoding::Utf16Be
            | TextEncoding::Utf32Le
            | TextEncoding::Utf32Be => std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|e| error(e.valid_up_to())),
            // The head chose a legacy encoding, but a later line that is valid UTF-8 with
            // non-ASCII characters is UTF-8 (a log that changed hands): read as the legacy
            // encoding it would silently become mojibake (`cafÃ©`).
            _ if self.detected && !raw.is_ascii() && std::str::from_utf8(raw).is_ok() => {
                Ok(Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default()))
            }
            enc => transcode(enc, raw, true)
                .map(|(t, _)| Cow::Owned(t))
                .map_err(error),
        }
    }
}

/// UTF-16 or UTF-32 bytes in, UTF-8 out; each malformed sequence becomes one 0xFF byte.
struct Transcoder {
    input: Box<dyn Read + Send>,
    unit: Unit,
    pending: Vec<u8>,
    /// Undecoded input (a UTF-32 unit cut by a read).
    carry: Vec<u8>,
    done: bool,
}

enum Unit {
    Utf16(Decoder),
    Utf32(fn([u8; 4]) -> u32),
}

impl Transcoder {
    fn new(input: Box<dyn Read + Send>, encoding: TextEncoding) -> Transcoder {
        let unit = match encoding {
            TextEncoding::Utf32Le => Unit::Utf32(u32::from_le_bytes),
            TextEncoding::Utf32Be => Unit::Utf32(u32::from_be_bytes),
            TextEncoding::Utf16Be => {
                Unit::Utf16(encoding_rs::UTF_16BE.new_decoder_without_bom_handling())
            }
            _ => Unit::Utf16(encoding_rs::UTF_16LE.new_decoder_without_bom_handling()),
        };
        Transcoder {
            input,
            unit,
            pending: Vec::new(),
            carry: Vec::new(),
            done: false,
        }
    }

    /// Decodes the next chunk of input into `pending`.
    fn refill(&mut self) -> io::Result<()> {
        let mut chunk = vec![0; 64 * 1024];
        let n = self.input.read(&mut chunk)?;
        chunk.truncate(n);
        let last = n == 0;
        self.done = last;
        let mut out = String::new();
        match &mut self.unit {
            Unit::Utf16(decoder) => {
                let mut src = &chunk[..];
                loop {
                    out.reserve(src.len() * 3 / 2 + 16);
                    let (result, read) =
                        decoder.decode_to_string_without_replacement(src, &mut out, last);
                    src = &src[read..];
                    match result {
                        DecoderResult::InputEmpty => break,
                        DecoderResult::OutputFull => {}
                        DecoderResult::Malformed(..) => {
                            self.pending.extend_from_slice(out.as_bytes());
                            self.pending.push(0xFF);
                            out.clear();
                        }
                    }
                }
            }
            Unit::Utf32(unit) => {
                self.carry.extend_from_slice(&chunk);
                let mut units = self.carry.chunks_exact(4);
                for c in units.by_ref() {
                    match char::from_u32(unit([c[0], c[1], c[2], c[3]])) {
                        Some(ch) => out.push(ch),
                        None => {
                            self.pending.extend_from_slice(out.as_bytes());
                            self.pending.push(0xFF);
                            out.clear();
                        }
                    }
                }
                let rest = units.remainder().to_vec();
                self.carry = rest;
                // A unit cut short by the end of the file.
                if last && !self.carry.is_empty() {
                    self.pending.extend_from_slice(out.as_bytes());
                    self.pending.push(0xFF);
                    out.clear();
                    self.carry.clear();
                }
            }
        }
        self.pending.extend_from_slice(out.as_bytes());
        Ok(())
    }
}

impl Read for Transcoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() && !self.done {
            self.refill()?;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}
