//! The decoder's decisions, one `check` per kind of input.

use std::io::{BufRead, BufReader, Cursor};

use super::*;

fn ok(bytes: &[u8]) -> Decoded {
    decode(bytes.to_vec(), None).unwrap_or_else(|e| panic!("{e}"))
}

fn err(bytes: &[u8]) -> String {
    decode(bytes.to_vec(), None).unwrap_err().to_string()
}

/// Deterministic bytes that are no text (and hold no NUL).
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_F491;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8 | 1
        })
        .collect()
}

#[test]
fn boms_decide_and_are_removed() {
    let d = ok(b"\xEF\xBB\xBFx");
    assert_eq!(
        (d.text.as_str(), d.label(), d.bom),
        ("x", "utf-8-bom", true)
    );
    assert_eq!(ok(&[0xFF, 0xFE, b'h', 0, b'i', 0]).text, "hi");
    assert_eq!(ok(&[0xFE, 0xFF, 0, b'h', 0, b'i']).label(), "utf-16be");
    // UTF-32LE's BOM starts like UTF-16LE's.
    let d = ok(&[0xFF, 0xFE, 0, 0, b'h', 0, 0, 0, 0x3B, 0x30, 0, 0]);
    assert_eq!((d.text.as_str(), d.label()), ("h\u{303B}", "utf-32le"));
    let d = ok(&[0, 0, 0xFE, 0xFF, 0, 0, 0, b'h']);
    assert_eq!((d.text.as_str(), d.label()), ("h", "utf-32be"));
    // An unpaired surrogate: malformed, with the byte offset in the file.
    assert_eq!(
        err(&[0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0]),
        "invalid UTF-16LE at byte 4"
    );
    assert_eq!(
        err(&[0xFF, 0xFE, 0, 0, 0, 0, 0x11, 0]),
        "invalid UTF-32LE at byte 4"
    );
}

#[test]
fn nul_early_is_binary_and_late_is_not() {
    assert_eq!(err(b"a\0b"), "binary content (NUL byte at offset 1)");
    let mut late = b"x".repeat(BINARY_SNIFF);
    late.push(0);
    assert_eq!(ok(&late).encoding, TextEncoding::Utf8);
}

#[test]
fn utf8_is_certain_and_broken_utf8_stays_broken() {
    let d = ok("café ☕".as_bytes());
    assert_eq!((d.label(), d.confidence, d.bom), ("utf-8", 1.0, false));
    // Mostly UTF-8 with one bad byte is not reinterpreted as Latin-1 mojibake.
    let mut bytes = "é à ü ☕ 日本 ".repeat(3).into_bytes();
    let at = bytes.len();
    bytes.push(0xFF);
    assert_eq!(err(&bytes), format!("invalid UTF-8 at byte {at}"));
}

#[test]
fn latin1_is_detected_as_windows_1252() {
    let d = ok(b"x = \"caf\xe9\"\n");
    assert_eq!(
        (d.text.as_str(), d.label()),
        ("x = \"café\"\n", "windows-1252")
    );
    assert!(
        d.confidence > 0.0 && d.confidence <= 1.0,
        "{}",
        d.confidence
    );
    let d = ok(b"print(\"\x93quoted\x94 \x96 it\x92s\")\n");
    assert_eq!(
        d.text,
        "print(\"\u{201C}quoted\u{201D} \u{2013} it\u{2019}s\")\n"
    );
}

#[test]
fn cjk_legacy_encodings_are_detected() {
    // "Japanese text in Shift_JIS", "Chinese text in GBK", long enough to be sure.
    let sjis =
        "日本語のテキストです。これはシフトJISで書かれたファイルで、漢字と仮名が混ざっています。";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(sjis);
    let d = ok(&bytes);
    assert_eq!((d.text.as_str(), d.label()), (sjis, "shift_jis"));
    let gbk = "这是一个用国标扩展编码写的中文文件，里面有一些汉字和标点符号。";
    let (bytes, _, _) = encoding_rs::GBK.encode(gbk);
    let d = ok(&bytes);
    assert_eq!((d.text.as_str(), d.label()), (gbk, "gbk"));
}

#[test]
fn random_bytes_are_not_text() {
    let e = err(&garbage(4000));
    assert!(e.starts_with("not text in any known encoding"), "{e}");
}

#[test]
fn a_forced_encoding_wins_over_detection_but_not_over_a_bom() {
    let koi8 = TextEncoding::for_label("KOI8-R").unwrap();
    let d = decode(b"caf\xe9".to_vec(), Some(koi8)).unwrap();
    assert_eq!(
        (d.text.as_str(), d.label(), d.confidence),
        ("cafИ", "koi8-r", 1.0)
    );
    let le = TextEncoding::for_label("utf-16le").unwrap();
    assert_eq!(decode(vec![b'h', 0], Some(le)).unwrap().text, "h");
    let bom = decode(b"\xEF\xBB\xBFh".to_vec(), Some(le)).unwrap();
    assert_eq!(bom.label(), "utf-8-bom");
    let sjis = TextEncoding::for_label("shift_jis").unwrap();
    assert_eq!(
        decode(b"ab\x82".to_vec(), Some(sjis))
            .unwrap_err()
            .to_string(),
        "invalid Shift_JIS at byte 2"
    );
    assert_eq!(
        TextEncoding::for_label("latin1").unwrap().name(),
        "windows-1252"
    );
    assert!(TextEncoding::for_label("klingon")
        .unwrap_err()
        .to_string()
        .contains("windows-1252"));
    assert!(TextEncoding::for_label("replacement").is_err());
}

fn lines(bytes: &[u8]) -> (LineDecoder, Vec<Result<String, LineError>>) {
    let (dec, stream) = LineDecoder::open(Box::new(Cursor::new(bytes.to_vec())), None).unwrap();
    let out = BufReader::new(stream)
        .split(b'\n')
        .map(|l| dec.line(&l.unwrap()).map(|c| c.into_owned()))
        .collect();
    (dec, out)
}

#[test]
fn lines_decode_with_the_encoding_of_the_head() {
    let (d, out) = lines(b"caf\xe9\nna\xefve\n");
    assert_eq!(d.encoding.name(), "windows-1252");
    assert_eq!(out, [Ok("café".into()), Ok("naïve".into())]);
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "a\nb\u{20AC}\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    utf16.extend([0x00, 0xD8, b'\n', 0, b'c', 0]);
    let (d, out) = lines(&utf16);
    assert_eq!(d.encoding, TextEncoding::Utf16Le);
    assert_eq!(out[..2], [Ok("a".into()), Ok("b€".into())]);
    assert!(out[2].is_err() && out[3] == Ok("c".into()), "{out:?}");
    // A binary head leaves the file to the per-line UTF-8 check.
    let (d, out) = lines(b"a\0\n\xff\n");
    assert_eq!(d.encoding, TextEncoding::Utf8);
    assert_eq!(out[0], Ok("a\0".into()));
    assert_eq!(
        out[1].as_ref().unwrap_err().to_string(),
        "invalid UTF-8 at column 1"
    );
}

#[test]
fn a_utf8_line_after_a_legacy_head_is_not_turned_into_mojibake() {
    let mut bytes = b"caf\xe9 au lait, cr\xe8me\nna\xefve fa\xe7ade\nd\xe9j\xe0\n".to_vec();
    bytes.extend("déjà vu\n".as_bytes());
    let (d, out) = lines(&bytes);
    assert_eq!(d.encoding.name(), "windows-1252");
    assert_eq!(out[0], Ok("café au lait, crème".into()));
    assert_eq!(out[3], Ok("déjà vu".into()), "not `dÃ©jÃ  vu`");
}
