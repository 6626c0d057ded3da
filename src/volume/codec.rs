//! Transparent decompression, chosen by file extension or by name.

use std::io::{self, Read};

/// A compression format Disco reads transparently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Codec {
    /// The codec a path's last extension names (`x.py.gz` → gzip).
    pub fn from_path(path: &str) -> Option<Codec> {
        let ext = path.rsplit_once('.')?.1;
        Codec::from_name(&ext.to_ascii_lowercase())
    }

    /// A codec by name; `gz` is an alias of `gzip`, `zst` of `zstd`.
    pub fn from_name(name: &str) -> Option<Codec> {
        Some(match name {
            "gz" | "gzip" => Codec::Gzip,
            "zst" | "zstd" => Codec::Zstd,
            "bz2" | "bzip2" => Codec::Bzip2,
            "xz" => Codec::Xz,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }

    /// A reader that decompresses `inner` (multi-member streams included).
    pub fn reader<'a>(self, inner: impl Read + Send + 'a) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(inner)),
            Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(inner)?),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(inner)),
            Codec::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(inner)),
        })
    }
}

/// `path` without a compression extension (`a/x.py.gz` → `a/x.py`), for language detection.
pub fn strip_codec_extension(path: &str) -> &str {
    match Codec::from_path(path) {
        Some(_) => path.rsplit_once('.').map_or(path, |(stem, _)| stem),
        None => path,
    }
}

/// A reader that fails when `inner` holds more than `limit` bytes, where `Read::take` would
/// just stop: a file cut at the limit would pass for a whole one, its last rows silently lost.
/// The error comes once, then the stream ends, so a reader that retries after an error (the
/// CSV reader does) cannot loop on it.
pub struct Limited<R> {
    inner: R,
    left: u64,
    limit: u64,
    failed: bool,
}

impl<R: Read> Limited<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Limited {
            inner,
            left: limit,
            limit,
            failed: false,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the limit: the stream must end here, or it is over it.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.failed = true;
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "more than {} bytes (the read limit): the rest is not read",
                    self.limit
                ),
            ));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Why decompression stopped.
#[derive(Debug)]
pub enum DecompressError {
    /// The output would exceed the limit (a large file, or a decompression bomb).
    TooLarge,
    Corrupt(io::Error),
}

/// Decompresses `data`, refusing to produce more than `limit` bytes.
pub fn decompress(codec: Codec, data: &[u8], limit: u64) -> Result<Vec<u8>, DecompressError> {
    let reader = codec.reader(data).map_err(DecompressError::Corrupt)?;
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(DecompressError::Corrupt)?;
    if out.len() as u64 > limit {
        return Err(DecompressError::TooLarge);
    }
    Ok(out)
}
