//! Base-protocol framing: `Content-Length: N\r\n\r\n` + N bytes of JSON.
//!
//! The decoder is forgiving where servers are sloppy and strict where they are dangerous:
//! header names are case-insensitive, extra headers (`Content-Type`) are ignored, lines of
//! garbage before a header (a server printing a banner to stdout) are skipped, and a length
//! over the cap is refused without allocating it.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest message accepted by default (64 MiB).
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 20;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("message of {0} bytes is over the {1}-byte limit")]
    TooLarge(usize, usize),
    #[error("bad Content-Length header `{0}`")]
    BadLength(String),
    #[error("stream ended inside a message")]
    Truncated,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one message body. `Ok(None)` at a clean end of stream.
pub async fn read_message<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut length: Option<usize> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Header lines are short; a garbage "line" of megabytes is cut off at the cap.
        let n = (&mut *reader)
            .take(max as u64 + 64)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return if length.is_none() {
                Ok(None)
            } else {
                Err(FrameError::Truncated)
            };
        }
        let text = String::from_utf8_lossy(&line);
        let trimmed = text.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            if let Some(len) = length {
                if len > max {
                    return Err(FrameError::TooLarge(len, max));
                }
                let mut body = vec![0; len];
                reader
                    .read_exact(&mut body)
                    .await
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
                        _ => FrameError::Io(e),
                    })?;
                return Ok(Some(body));
            }
            continue;
        }
        match trimmed.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                let v = value.trim();
                let len: usize = v
                    .parse()
                    .map_err(|_| FrameError::BadLength(v.chars().take(40).collect()))?;
                if len > max {
                    // Refuse before allocating; the stream cannot be resynchronised after this.
                    return Err(FrameError::TooLarge(len, max));
                }
                length = Some(len);
            }
            // Other headers are ignored; a line that is no header before any length is noise.
            _ => {}
        }
    }
}

/// Writes one message.
pub async fn write_message<W: AsyncWrite + Unpin>(
    writer: &mut W,
    body: &[u8],
) -> std::io::Result<()> {
    writer
        .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await?;
    writer.write_all(body).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], max: usize) -> (Vec<Vec<u8>>, Option<String>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut r = tokio::io::BufReader::new(bytes);
            let mut out = Vec::new();
            loop {
                match read_message(&mut r, max).await {
                    Ok(Some(m)) => out.push(m),
                    Ok(None) => return (out, None),
                    Err(e) => return (out, Some(e.to_string())),
                }
            }
        })
    }

    #[test]
    fn tolerates_extra_headers_case_and_garbage() {
        let input = b"banner from a chatty server\nContent-Type: application/vscode-jsonrpc\r\ncontent-length: 2\r\n\r\n{}Content-Length:3\r\n\r\n[1]";
        let (msgs, err) = decode_all(input, 1024);
        assert_eq!(msgs, vec![b"{}".to_vec(), b"[1]".to_vec()]);
        assert_eq!(err, None);
    }

    #[test]
    fn refuses_absurd_lengths_and_truncation() {
        let (_, err) = decode_all(b"Content-Length: 99999999999\r\n\r\n{}", 1024);
        assert!(err.unwrap().contains("over the 1024-byte limit"));
        let (_, err) = decode_all(b"Content-Length: 10\r\n\r\n{}", 1024);
        assert_eq!(err.unwrap(), "stream ended inside a message");
        let (_, err) = decode_all(b"Content-Length: ten\r\n\r\n", 1024);
        assert!(err.unwrap().contains("bad Content-Length"));
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn property_framed_messages_round_trip_through_any_noise() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let count = (rng.next() % 6) as usize;
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for _ in 0..count {
                if rng.next() % 3 == 0 {
                    // Noise lines that contain no colon-separated content-length.
                    stream.extend_from_slice(b"noise line\n");
                }
                let len = (rng.next() % 300) as usize;
                let body: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
                if rng.next() % 2 == 0 {
                    stream.extend_from_slice(b"Content-Type: x\r\n");
                }
                stream.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
                stream.extend_from_slice(&body);
                want.push(body);
            }
            let (got, err) = decode_all(&stream, 1 << 20);
            assert_eq!(err, None);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn property_arbitrary_bytes_never_panic_or_overallocate() {
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let len = (rng.next() % 200) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
            if rng.next() % 2 == 0 {
                let at = (rng.next() as usize) % (bytes.len() + 1);
                let header = format!("Content-Length: {}\r\n\r\n", rng.next() % 1_000_000_000_000);
                bytes.splice(at..at, header.into_bytes());
            }
            let _ = decode_all(&bytes, 4096);
        }
    }
}
