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

use std::collections::HashSet;
use std::hash::BuildHasher;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
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
        if nearly_unique(column.as_ref()) == Some(true) {
            b = b.set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
        }
    }
    b.build()
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
