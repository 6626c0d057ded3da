//! LSP positions ↔ byte offsets. Positions count characters in the negotiated encoding
//! (UTF-8 bytes, UTF-16 code units or code points); Disco's canonical positions are bytes.

/// A negotiated `positionEncoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The encoding a server announced in `capabilities.positionEncoding` (UTF-16 when
    /// absent, as the protocol says).
    pub fn from_lsp(s: Option<&str>) -> Encoding {
        match s {
            Some("utf-8") => Encoding::Utf8,
            Some("utf-32") => Encoding::Utf32,
            _ => Encoding::Utf16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Utf32 => "utf-32",
        }
    }
}

/// Line starts of a text, for converting positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The byte offset of an LSP position; a character past the line's end clamps to it
    /// (servers use that for "end of line"), a line past the end clamps to the text's end.
    pub fn offset(&self, text: &str, line: u32, character: u32, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return self.len;
        };
        let end = self.starts.get(line as usize + 1).map_or(self.len, |&e| e);
        let line_text = &text[start..end];
        let line_text = line_text.strip_suffix('\n').unwrap_or(line_text);
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let want = character as usize;
        match enc {
            Encoding::Utf8 => start + want.min(line_text.len()),
            Encoding::Utf16 | Encoding::Utf32 => {
                let mut units = 0;
                for (i, c) in line_text.char_indices() {
                    if units >= want {
                        return start + i;
                    }
                    units += if enc == Encoding::Utf16 {
                        c.len_utf16()
                    } else {
                        1
                    };
                }
                start + line_text.len()
            }
        }
    }

    /// The LSP position of a byte offset (rounded down to a character boundary).
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> (u32, u32) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let piece = &text[start..end];
        let character = match enc {
            Encoding::Utf8 => piece.len(),
            Encoding::Utf16 => piece.chars().map(char::len_utf16).sum(),
            Encoding::Utf32 => piece.chars().count(),
        };
        (line as u32, character as u32)
    }

    /// The 0-based row and byte column of an offset.
    pub fn row_col(&self, offset: usize) -> (usize, usize) {
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        (line, offset - self.starts[line])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf8_columns_with_emoji() {
        let text = "a = \"é🎉\"; b = f(a)\nnext\r\nz";
        let idx = LineIndex::new(text);
        // Before `b`: 8 ASCII characters, `é` (2 UTF-8 bytes, 1 UTF-16 unit) and 🎉 (4 bytes,
        // 2 units): 10 code points, 11 UTF-16 units, 14 bytes.
        let b = text.find("b =").unwrap();
        assert_eq!(idx.position(text, b, Encoding::Utf16), (0, 11));
        assert_eq!(idx.position(text, b, Encoding::Utf8), (0, 14));
        assert_eq!(idx.position(text, b, Encoding::Utf32), (0, 10));
        assert_eq!(idx.offset(text, 0, 11, Encoding::Utf16), b);
        assert_eq!(idx.offset(text, 0, 14, Encoding::Utf8), b);
        assert_eq!(idx.offset(text, 0, 10, Encoding::Utf32), b);
        assert_eq!(
            idx.offset(text, 1, 99, Encoding::Utf16),
            text.find("\r\n").unwrap()
        );
        assert_eq!(idx.offset(text, 2, 0, Encoding::Utf8), text.len() - 1);
        assert_eq!(idx.offset(text, 9, 0, Encoding::Utf8), text.len());
    }
}
