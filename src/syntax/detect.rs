//! Language detection: by exact file name, then extension, then `#!` line.

use super::language::{languages, Language};
use crate::volume::strip_codec_extension;

/// The language of a file, from its path (a compression extension is looked through) and
/// its first bytes (for a shebang).
pub fn detect(path: &str, head: &[u8]) -> Option<&'static Language> {
    let path = strip_codec_extension(path);
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if let Some(lang) = languages()
        .iter()
        .find(|l| l.filenames.iter().any(|f| f == file_name))
    {
        return Some(lang);
    }
    if let Some((_, ext)) = file_name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if let Some(lang) = languages().iter().find(|l| l.extensions.contains(&ext)) {
            return Some(lang);
        }
    }
    let interp = shebang_interpreter(head)?;
    languages()
        .iter()
        .find(|l| l.shebangs.iter().any(|s| interpreter_matches(s, interp)))
}

/// `python3.11` matches `python3` and `python`; `bash` matches `bash` only.
fn interpreter_matches(known: &str, found: &str) -> bool {
    found
        .strip_prefix(known)
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The interpreter a `#!` line names: `#!/bin/sh` → `sh`, `#!/usr/bin/env -S python3 -u` →
/// `python3`.
pub fn shebang_interpreter(head: &[u8]) -> Option<&str> {
    let rest = head.strip_prefix(b"#!")?;
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    let program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        words
            .find(|w| !w.starts_with('-') && !w.contains('='))?
            .rsplit('/')
            .next()
    } else {
        Some(program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(
            shebang_interpreter(b"#!/usr/bin/env -S python3 -u\n"),
            Some("python3")
        );
        assert_eq!(shebang_interpreter(b"#!/bin/bash"), Some("bash"));
        assert_eq!(shebang_interpreter(b"print(1)"), None);
        assert!(interpreter_matches("python", "python3.11"));
        assert!(!interpreter_matches("python", "pythonista"));
    }
}
