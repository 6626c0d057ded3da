//! Encoding names: the lower-case WHATWG names records carry, and `--encoding` labels.

use encoding_rs::Encoding;

use super::TextEncoding;

/// An `--encoding` value that names no encoding Disco can decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown encoding {0:?}: give a WHATWG label such as utf-8, windows-1252, latin1, \
     shift_jis, gbk, big5, euc-kr, koi8-r, utf-16le, or utf-32le"
)]
pub struct UnknownEncoding(pub String);

impl TextEncoding {
    /// An encoding by label, as `--encoding` takes it: any WHATWG label (case-insensitive;
    /// `latin1` is windows-1252, as in browsers), or `utf-32le`/`utf-32be`. The
    /// `replacement` encoding is refused: it decodes every file to one U+FFFD.
    pub fn for_label(label: &str) -> Result<TextEncoding, UnknownEncoding> {
        let unknown = || UnknownEncoding(label.to_string());
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-32le" => return Ok(Self::Utf32Le),
            "utf-32be" => return Ok(Self::Utf32Be),
            _ => {}
        }
        let e = Encoding::for_label(label.as_bytes()).ok_or_else(unknown)?;
        if e == encoding_rs::REPLACEMENT {
            return Err(unknown());
        }
        Ok(Self::from_encoding(e))
    }

    /// The name records carry: WHATWG's name in lower case (`utf-8`, `windows-1252`,
    /// `shift_jis`), which is also one of its labels, so it reads back with
    /// [`TextEncoding::for_label`].
    pub fn name(self) -> &'static str {
        let e = match self {
            Self::Utf8 => return "utf-8",
            Self::Utf16Le => return "utf-16le",
            Self::Utf16Be => return "utf-16be",
            Self::Utf32Le => return "utf-32le",
            Self::Utf32Be => return "utf-32be",
            Self::Legacy(e) => e,
        };
        // Every encoding encoding_rs has besides the UTF ones above.
        match e.name() {
            "Big5" => "big5",
            "EUC-JP" => "euc-jp",
            "EUC-KR" => "euc-kr",
            "GBK" => "gbk",
            "gb18030" => "gb18030",
            "IBM866" => "ibm866",
            "ISO-2022-JP" => "iso-2022-jp",
            "ISO-8859-2" => "iso-8859-2",
            "ISO-8859-3" => "iso-8859-3",
            "ISO-8859-4" => "iso-8859-4",
            "ISO-8859-5" => "iso-8859-5",
            "ISO-8859-6" => "iso-8859-6",
            "ISO-8859-7" => "iso-8859-7",
            "ISO-8859-8" => "iso-8859-8",
            "ISO-8859-8-I" => "iso-8859-8-i",
            "ISO-8859-10" => "iso-8859-10",
            "ISO-8859-13" => "iso-8859-13",
            "ISO-8859-14" => "iso-8859-14",
            "ISO-8859-15" => "iso-8859-15",
            "ISO-8859-16" => "iso-8859-16",
            "KOI8-R" => "koi8-r",
            "KOI8-U" => "koi8-u",
            "macintosh" => "macintosh",
            "Shift_JIS" => "shift_jis",
            "windows-874" => "windows-874",
            "windows-1250" => "windows-1250",
            "windows-1251" => "windows-1251",
            "windows-1252" => "windows-1252",
            "windows-1253" => "windows-1253",
            "windows-1254" => "windows-1254",
            "windows-1255" => "windows-1255",
            "windows-1256" => "windows-1256",
            "windows-1257" => "windows-1257",
            "windows-1258" => "windows-1258",
            "x-mac-cyrillic" => "x-mac-cyrillic",
            "x-user-defined" => "x-user-defined",
            // A future encoding_rs encoding: its canonical name is still a WHATWG label.
            other => other,
        }
    }
}
