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
    use proptest::prelude::*;

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

    /// A stream of messages, each maybe after a noise line and an extra header, and the
    /// bodies it carries.
    fn framed_stream() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
        // Noise lines hold no `:`, so none can be taken for a Content-Length header.
        let noise = prop::option::of(prop::collection::vec(
            any::<u8>().prop_map(|b| if b == b':' || b == b'\n' { b' ' } else { b }),
            0..40,
        ));
        let message = (
            noise,
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..300),
        );
        prop::collection::vec(message, 0..6).prop_map(|messages| {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for (noise, content_type, body) in messages {
                if let Some(line) = noise {
                    stream.extend_from_slice(&line);
                    stream.push(b'\n');
                }
                if content_type {
                    stream.extend_from_slice(b"Content-Type: x\r\n");
                }
                stream.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                stream.extend_from_slice(&body);
                want.push(body);
            }
            (stream, want)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn fuzz_framed_messages_round_trip_through_any_noise((stream, want) in framed_stream()) {
            let (got, err) = decode_all(&stream, 1 << 20);
            prop_assert_eq!(err, None);
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary bytes, with a header of any length spliced in half the time: no panic,
        /// and no message over the cap (a length over it is refused before allocating).
        #[test]
        fn fuzz_arbitrary_bytes_never_panic_or_overallocate(
            mut bytes in prop::collection::vec(any::<u8>(), 0..200),
            header in prop::option::of((any::<prop::sample::Index>(), 0u64..1_000_000_000_000)),
        ) {
            if let Some((at, len)) = header {
                let at = at.index(bytes.len() + 1);
                let header = format!("Content-Length: {len}\r\n\r\n");
                bytes.splice(at..at, header.into_bytes());
            }
            let (got, _) = decode_all(&bytes, 4096);
            prop_assert!(got.iter().all(|m| m.len() <= 4096));
        }
    }
}
