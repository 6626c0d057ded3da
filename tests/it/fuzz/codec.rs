//! The codecs (gzip, zstd, bzip2, xz) on arbitrary, valid, multi-member, truncated and
//! corrupted streams, always with an output limit: never a panic or a hang, never more than
//! the limit, and a stream that decodes gives back exactly what was compressed.

use std::io::Write;

use disco::volume::{decompress, Codec, DecompressError};
use proptest::prelude::*;

use super::within;

const CODECS: [Codec; 4] = [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz];

fn codec() -> impl Strategy<Value = Codec> {
    prop::sample::select(CODECS.to_vec())
}

/// A compressed stream, with each format's integrity check on (zstd's is optional and off
/// by default; without it a corrupted zstd stream can decode to other bytes undetected).
fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match codec {
        Codec::Gzip => {
            let mut w = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        Codec::Zstd => {
            let mut w = zstd::stream::write::Encoder::new(&mut out, 1).unwrap();
            w.include_checksum(true).unwrap();
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        Codec::Bzip2 => {
            let mut w = bzip2::write::BzEncoder::new(&mut out, bzip2::Compression::fast());
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
        Codec::Xz => {
            let mut w = liblzma::write::XzEncoder::new(&mut out, 1);
            w.write_all(data).unwrap();
            w.finish().unwrap();
        }
    }
    out
}

/// The first bytes of a stream, so arbitrary bytes after them reach the decoder proper.
fn magic(codec: Codec) -> &'static [u8] {
    match codec {
        Codec::Gzip => b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
        Codec::Zstd => b"\x28\xb5\x2f\xfd",
        Codec::Bzip2 => b"BZh9",
        Codec::Xz => b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46",
    }
}

/// Payloads: random bytes, text, and long runs (a small stream that expands a lot).
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..3000),
        "[a-z ,\n]{0,3000}".prop_map(String::into_bytes),
        (any::<u8>(), 0usize..300_000).prop_map(|(b, n)| vec![b; n]),
    ]
}

fn run(codec: Codec, data: Vec<u8>, limit: u64) -> Result<Vec<u8>, DecompressError> {
    within(codec.name(), move || decompress(codec, &data, limit))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fuzz_codec_arbitrary_bytes_never_panic_or_pass_the_limit(
        codec in codec(),
        with_magic in any::<bool>(),
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        limit in 0u64..100_000,
    ) {
        let mut data = if with_magic { magic(codec).to_vec() } else { Vec::new() };
        data.extend(bytes);
        if let Ok(out) = run(codec, data, limit) {
            prop_assert!(out.len() as u64 <= limit);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// One or more members (a concatenation of streams) decode to their concatenation, or
    /// to `TooLarge` when that is over the limit.
    #[test]
    fn fuzz_codec_streams_round_trip_within_the_limit(
        codec in codec(),
        members in prop::collection::vec(payload(), 1..3),
        slack in -10i64..10,
        unlimited in any::<bool>(),
    ) {
        let data: Vec<u8> = members.iter().flat_map(|m| compress(codec, m)).collect();
        let want: Vec<u8> = members.concat();
        let limit = if unlimited { u64::MAX } else { (want.len() as i64 + slack).max(0) as u64 };
        match run(codec, data, limit) {
            Ok(out) => {
                prop_assert!(want.len() as u64 <= limit, "{} bytes let through a limit of {limit}", out.len());
                prop_assert!(out == want, "decoded {} bytes, not the {} compressed", out.len(), want.len());
            }
            Err(DecompressError::TooLarge) => prop_assert!(want.len() as u64 > limit),
            Err(DecompressError::Corrupt(e)) => prop_assert!(false, "a valid stream is corrupt: {e}"),
        }
    }

    /// A stream cut short is an error, never a shorter file passed off as whole.
    #[test]
    fn fuzz_codec_truncated_stream_is_an_error(
        codec in codec(),
        data in payload(),
        cut in any::<prop::sample::Index>(),
    ) {
        let stream = compress(codec, &data);
        let at = 1 + cut.index(stream.len() - 1);
        match run(codec, stream[..at].to_vec(), u64::MAX) {
            Ok(out) => prop_assert!(false, "{} of {} stream bytes decoded to {} of {} bytes without an error",
                at, stream.len(), out.len(), data.len()),
            Err(DecompressError::Corrupt(_)) => {}
            Err(DecompressError::TooLarge) => prop_assert!(false, "no limit, yet too large"),
        }
    }

    /// A corrupted stream is an error, or (when the damage is where no byte of the payload
    /// depends on it, like a gzip timestamp) the payload itself.
    #[test]
    fn fuzz_codec_corrupted_stream_is_an_error_or_the_payload(
        codec in codec(),
        data in payload(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        limit in prop_oneof![Just(u64::MAX), 0u64..400_000],
    ) {
        let mut stream = compress(codec, &data);
        for (at, mask) in &flips {
            let i = at.index(stream.len());
            stream[i] ^= mask;
        }
        if let Ok(out) = run(codec, stream, limit) {
            prop_assert!(out.len() as u64 <= limit);
            prop_assert!(
                out == data,
                "corruption went unnoticed: {} bytes out, {} in",
                out.len(),
                data.len()
            );
        }
    }
}
