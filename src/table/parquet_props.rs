//! How Disco's Parquet files are encoded (plain Parquet outputs and Delta data files alike):
//! zstd at level 1, bounded row groups, and a dictionary only for the columns where one pays.
//!
//! The Parquet writer dictionary-encodes every column until its dictionary outgrows a page
//! (1 MiB), then falls back to plain encoding, once per row group. For a column of nearly
//! unique values (ids, timestamps, names, text) that is all cost and no gain: every value is
//! hashed into a dictionary that is then either thrown away or kept as large as the data. In a
//! Delta copy of 1M rows the interning was a quarter of the CPU (perf). So the first batch a
//! file receives decides: a column whose values are at least 90% distinct there is written
//! without a dictionary. The encoding changes, never the values.
//!
//! Integer columns whose neighbouring values are close (ids, offsets, positions, depths,
//! timestamps in order) go one step further: `DELTA_BINARY_PACKED`, which stores each value's
//! difference to the previous one in a few bits, without hashing anything. On the nodes table
//! of a tree run (7.5M rows, ten integer columns) the dictionaries of those columns were the
//! largest cost of writing (perf: the interner and RLE encoder).

use std::collections::HashSet;
use std::hash::BuildHasher;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

/// Values the judgement needs to be worth anything; fewer keep the dictionary.
const MIN_SAMPLE: usize = 256;
/// Values looked at: at most this many from the start of the first batch.
const MAX_SAMPLE: usize = 16_384;

/// What a row group being written holds. It is closed after 8 MiB of Arrow data (its
/// encoders hold about that much until it closes) or 16 MiB encoded, which bounds a writer's
/// memory whatever the width of the rows.
#[derive(Debug, Default)]
pub struct RowGroupBytes {
    arrow: usize,
}

impl RowGroupBytes {
    /// Counts `b`, just written to `w`; true when the group is full and `w` should flush it.
    pub fn add<W: std::io::Write + Send>(&mut self, b: &RecordBatch, w: &ArrowWriter<W>) -> bool {
        self.arrow += b.get_array_memory_size();
        let full = self.arrow > 8 << 20 || w.in_progress_size() > 16 << 20;
        if full {
            self.arrow = 0;
        }
        full
    }
}

/// The writer properties of a file whose first rows are `first`.
pub fn writer_properties(first: &RecordBatch, row_group_rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        // Level 1, zstd's fast strategy: level 3's was the largest single cost of writing
        // validated rows and of a Delta copy (perf: 17% of the CPU), for files a few percent
        // smaller.
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("1 is a valid zstd level"),
        ))
        .set_max_row_group_row_count(Some(row_group_rows.max(1)));
    for (field, column) in first.schema().fields().iter().zip(first.columns()) {
        let path = || ColumnPath::from(field.name().as_str());
        // An integer column judged by `delta_pays` is not nearly unique when it says no.
        match delta_pays(column.as_ref()) {
            Some(true) => {
                b = b
                    .set_column_dictionary_enabled(path(), false)
                    .set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
            }
            Some(false) => {}
            None => {
                if nearly_unique(column.as_ref()) == Some(true) {
                    b = b.set_column_dictionary_enabled(path(), false);
                }
            }
        }
    }
    b.build()
}

/// Whether an integer column is better stored as differences (`DELTA_BINARY_PACKED`) than
/// with a dictionary: its first values are nearly unique, or the differences between
/// neighbours take fewer bits than a dictionary index would. `None` when that is not judged
/// (not an integer column, or too few values).
pub fn delta_pays(a: &dyn Array) -> Option<bool> {
    let a = a.slice(0, a.len().min(MAX_SAMPLE));
    let values: Vec<i64> = match a.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Date32 => {
            let a = arrow::compute::cast(&a, &DataType::Int32).ok()?;
            a.as_primitive::<Int32Type>()
                .iter()
                .flatten()
                .map(i64::from)
                .collect()
        }
        DataType::Int64
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Time64(_)
        | DataType::Duration(_) => {
            let a = arrow::compute::cast(&a, &DataType::Int64).ok()?;
            a.as_primitive::<Int64Type>().iter().flatten().collect()
        }
        _ => return None,
    };
    if values.len() < MIN_SAMPLE {
        return None;
    }
    let mut distinct: Vec<i64> = values.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() * 10 >= values.len() * 9 {
        return Some(true);
    }
    // The writer packs blocks of 32 differences at the width of the block's widest one.
    let bits = |d: i64| 64 - d.unsigned_abs().leading_zeros() + 1;
    let diffs: Vec<u32> = values
        .windows(2)
        .map(|w| bits(w[1].wrapping_sub(w[0])))
        .collect();
    let packed: u64 = diffs
        .chunks(32)
        .map(|c| u64::from(c.iter().copied().max().unwrap_or(0)) * c.len() as u64)
        .sum();
    let index_bits = u64::from(usize::BITS - (distinct.len().max(2) - 1).leading_zeros());
    Some(packed <= index_bits * diffs.len() as u64)
}

/// Whether at least 90% of the column's first non-null values are distinct; `None` when that
/// is not judged (nested, boolean or dictionary columns, or too few values).
pub fn nearly_unique(a: &dyn Array) -> Option<bool> {
    let a = a.slice(0, a.len().min(MAX_SAMPLE));
    // Hashes of the values seen (a collision, at 1 in 2^64, only undercounts by one).
    let hasher = foldhash::fast::FixedState::default();
    let mut seen: HashSet<u64> = HashSet::with_capacity(a.len());
    let mut values = 0usize;
    let mut add = |v: &[u8]| {
        values += 1;
        seen.insert(hasher.hash_one(v));
    };
    // Keeps the sliced data alive while its bytes are borrowed.
    let data;
    match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .flatten()
            .for_each(|s| add(s.as_bytes())),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .flatten()
            .for_each(|s| add(s.as_bytes())),
        DataType::Utf8View => a
            .as_string_view()
            .iter()
            .flatten()
            .for_each(|s| add(s.as_bytes())),
        DataType::Binary => a.as_binary::<i32>().iter().flatten().for_each(&mut add),
        DataType::LargeBinary => a.as_binary::<i64>().iter().flatten().for_each(&mut add),
        DataType::BinaryView => a.as_binary_view().iter().flatten().for_each(&mut add),
        DataType::FixedSizeBinary(_) => {
            a.as_fixed_size_binary().iter().flatten().for_each(&mut add)
        }
        t if t.is_primitive() => {
            let width = t.primitive_width()?;
            data = a.to_data();
            let bytes = data.buffers().first()?.as_slice();
            let start = data.offset() * width;
            for i in (0..a.len()).filter(|&i| a.is_valid(i)) {
                let at = start + i * width;
                add(bytes.get(at..at + width)?);
            }
        }
        _ => return None,
    }
    if values < MIN_SAMPLE {
        return None;
    }
    Some(seen.len() * 10 >= values * 9)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn nearly_unique_columns_lose_their_dictionary_and_repetitive_ones_keep_it() {
        let n = 8192i64;
        let b = batch(vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            (
                "fare",
                Arc::new(Float64Array::from_iter_values(
                    (0..n).map(|i| (i % 4000) as f64),
                )),
            ),
            (
                "name",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("r-{i}")),
                )),
            ),
            (
                "city",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| ["a", "b"][i as usize % 2]),
                )),
            ),
        ]);
        let first = b.slice(0, 10);
        let props = writer_properties(&b, 1000);
        let on = |c: &str| props.dictionary_enabled(&ColumnPath::from(c));
        assert!(!on("id") && !on("name"));
        assert!(on("fare") && on("city"));
        // Ten rows judge nothing.
        let props = writer_properties(&first, 1000);
        assert!(on_all(&props, &["id", "name", "fare", "city"]));
    }

    #[test]
    fn integers_close_to_their_neighbours_are_stored_as_differences() {
        let n = 4096i64;
        let depth = (0..n).map(|i| 3 + (i % 7) - (i % 3));
        // A category code in no order: neighbours are far apart, a dictionary is smaller.
        let code = (0..n).map(|i| (i * 7919) % 101 * 1_000_003);
        let b = batch(vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            ("depth", Arc::new(Int64Array::from_iter_values(depth))),
            ("code", Arc::new(Int64Array::from_iter_values(code))),
            (
                "name",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("r-{i}")),
                )),
            ),
        ]);
        let props = writer_properties(&b, 1000);
        let enc = |c: &str| props.encoding(&ColumnPath::from(c));
        let on = |c: &str| props.dictionary_enabled(&ColumnPath::from(c));
        assert_eq!(enc("id"), Some(Encoding::DELTA_BINARY_PACKED));
        assert_eq!(enc("depth"), Some(Encoding::DELTA_BINARY_PACKED));
        assert!(!on("id") && !on("depth"));
        assert_eq!(enc("code"), None);
        assert!(on("code"));
        // Text has no difference encoding: nearly unique names are plain.
        assert_eq!(enc("name"), None);
        assert!(!on("name"));
        assert_eq!(delta_pays(&StringArray::from(vec!["a"; 300])), None);

        // What is written reads back the same.
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, b.schema(), Some(props)).unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        let back: Vec<RecordBatch> =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                bytes::Bytes::from(out),
                1 << 20,
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, vec![b]);
    }

    fn on_all(p: &WriterProperties, cols: &[&str]) -> bool {
        cols.iter()
            .all(|c| p.dictionary_enabled(&ColumnPath::from(*c)))
    }

    #[test]
    fn nulls_and_offsets_are_judged_on_the_values_present() {
        let v: Vec<Option<i64>> = (0..4000).map(|i| (i % 2 == 0).then_some(i % 7)).collect();
        let a = Int64Array::from(v);
        assert_eq!(nearly_unique(&a), Some(false));
        let u = Int64Array::from_iter_values(0..4000);
        assert_eq!(nearly_unique(&u.slice(1000, 2000)), Some(true));
    }
}
