//! The tokenizer stage: a Hugging Face `tokenizer.json`. Token ids as `List<UInt32>` (or
//! `FixedSizeList<UInt32, N>` when padded and truncated to N), counts, byte offsets on
//! request, and a chunk mode that splits text into windows of at most N tokens.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, FixedSizeListArray, ListArray, RecordBatch, StringArray, StructArray, UInt32Array,
    UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::take_record_batch;
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use rayon::prelude::*;
use tokenizers::{Encoding, PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::bert_ascii::BertAscii;
use super::{need_text_column, PlanError, Reject, Stage, StageOutput};

/// How a tokenizer stage is set up (catalog options, then the pipeline's stage options).
#[derive(Debug, Clone)]
pub struct TokenizeOptions {
    pub column: String,
    /// Output column of ids; the count goes to `n_tokens`, offsets to `offsets`.
    pub ids: String,
    pub offsets: bool,
    pub special_tokens: bool,
    pub chunk: Option<(usize, usize)>,
}

pub struct TokenizerStage {
    name: String,
    tok: Tokenizer,
    opts: TokenizeOptions,
    /// `Some(n)` when every row has exactly n ids (fixed padding with truncation at n).
    fixed: Option<usize>,
    /// The fast path for ASCII text, where it gives the tokenizer's own result.
    ascii: Option<BertAscii>,
}

/// Text encoded at once (see [`TokenizerStage::groups`]).
const GROUP_BYTES: usize = 256 << 10;

/// What a batch's windows (a row each, or a chunk each) add to it, taken from their
/// encodings as each group is encoded.
#[derive(Default)]
struct Windows<'t> {
    /// The input row of each window.
    origin: Vec<u32>,
    /// Chunk index, start, end and text (chunk mode).
    chunks: (Vec<u32>, Vec<u64>, Vec<u64>, Vec<&'t str>),
    ids: Vec<u32>,
    lens: Vec<usize>,
    n_tokens: Vec<u32>,
    /// Token byte offsets (when asked for).
    starts: Vec<u64>,
    ends: Vec<u64>,
}

impl Windows<'_> {
    fn push(&mut self, row: u32, w: &Encoding, offsets: bool) {
        self.origin.push(row);
        self.ids.extend_from_slice(w.get_ids());
        self.lens.push(w.len());
        self.n_tokens
            .push(w.get_attention_mask().iter().sum::<u32>());
        if offsets {
            for (s, e) in w.get_offsets() {
                self.starts.push(*s as u64);
                self.ends.push(*e as u64);
            }
        }
    }
}

fn err(name: &str, e: impl std::fmt::Display) -> PlanError {
    PlanError::new(name, e.to_string())
}

/// Loads a `tokenizer.json` from its bytes.
pub fn load_tokenizer(name: &str, bytes: &[u8]) -> Result<Tokenizer, PlanError> {
    Tokenizer::from_bytes(bytes).map_err(|e| err(name, format!("cannot load tokenizer.json: {e}")))
}

impl TokenizerStage {
    /// `table` holds the merged options: `column`, `ids`, `offsets`, `special_tokens`,
    /// `max_tokens`, `truncate`, `padding` (`"as_configured"`, `"none"`, `"fixed"`,
    /// `"longest"`), `mode` (`"ids"` or `"chunk"`), `overlap`.
    pub fn new(name: &str, mut tok: Tokenizer, table: &toml::Table) -> Result<Self, PlanError> {
        let o = super::plan::Opts::new(name, table);
        o.check_keys(&[
            "column",
            "ids",
            "offsets",
            "special_tokens",
            "max_tokens",
            "truncate",
            "padding",
            "mode",
            "overlap",
        ])?;
        let max_tokens = o.usize("max_tokens")?;
        let mode = o.string("mode")?.unwrap_or_else(|| "ids".into());
        let chunk = match mode.as_str() {
            "ids" => None,
            "chunk" => {
                let n =
                    max_tokens.ok_or_else(|| err(name, "mode = \"chunk\" needs `max_tokens`"))?;
                Some((n, o.usize("overlap")?.unwrap_or(0)))
            }
            m => {
                return Err(err(
                    name,
                    format!("`mode` is \"ids\" or \"chunk\", not {m:?}"),
                ))
            }
        };
        let opts = TokenizeOptions {
            column: o.string("column")?.unwrap_or_else(|| "text".into()),
            ids: o.string("ids")?.unwrap_or_else(|| "ids".into()),
            offsets: o.bool("offsets")?.unwrap_or(false),
            special_tokens: o.bool("special_tokens")?.unwrap_or(true),
            chunk,
        };
        let padding = o
            .string("padding")?
            .unwrap_or_else(|| "as_configured".into());
        if let Some((n, overlap)) = chunk {
            if overlap >= n {
                return Err(err(
                    name,
                    format!("overlap {overlap} must be below max_tokens {n}"),
                ));
            }
            // Windows are cut from the whole text's tokens (see `windows`).
            tok.with_padding(None);
            tok.with_truncation(None).map_err(|e| err(name, e))?;
        } else {
            if o.bool("truncate")? == Some(false) {
                tok.with_truncation(None).map_err(|e| err(name, e))?;
            } else if let Some(n) = max_tokens {
                tok.with_truncation(Some(TruncationParams {
                    max_length: n,
                    ..Default::default()
                }))
                .map_err(|e| err(name, e))?;
            }
            match padding.as_str() {
                "as_configured" => {}
                "none" => {
                    tok.with_padding(None);
                }
                "longest" => {
                    tok.with_padding(Some(PaddingParams::default()));
                }
                "fixed" => {
                    let n = max_tokens
                        .or_else(|| tok.get_truncation().map(|t| t.max_length))
                        .ok_or_else(|| err(name, "padding = \"fixed\" needs `max_tokens`"))?;
                    tok.with_padding(Some(PaddingParams {
                        strategy: PaddingStrategy::Fixed(n),
                        ..Default::default()
                    }));
                }
                p => {
                    return Err(err(
                        name,
                        format!("`padding` is as_configured, none, longest or fixed, not {p:?}"),
                    ))
                }
            }
        }
        let fixed = match (tok.get_padding(), tok.get_truncation()) {
            (Some(p), Some(t)) if chunk.is_none() => match p.strategy {
                PaddingStrategy::Fixed(n) if t.max_length <= n => Some(n),
                _ => None,
            },
            _ => None,
        };
        // Texts encoded apart would be padded to another length than the batch's longest.
        let longest = tok
            .get_padding()
            .is_some_and(|p| matches!(p.strategy, PaddingStrategy::BatchLongest));
        let ascii = if longest { None } else { BertAscii::new(&tok) };
        Ok(TokenizerStage {
            name: name.to_string(),
            tok,
            opts,
            fixed,
            ascii,
        })
    }

    fn ids_field(&self) -> Field {
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        match self.fixed {
            Some(n) => Field::new(
                &self.opts.ids,
                DataType::FixedSizeList(item, n as i32),
                false,
            ),
            None => Field::new(&self.opts.ids, DataType::List(item), false),
        }
    }

    fn offsets_type() -> DataType {
        let pair = Fields::from(vec![
            Field::new("start", DataType::UInt64, false),
            Field::new("end", DataType::UInt64, false),
        ]);
        DataType::List(Arc::new(Field::new("item", DataType::Struct(pair), false)))
    }

    fn encode(&self, texts: Vec<&str>) -> anyhow::Result<Vec<Encoding>> {
        let Some(ascii) = &self.ascii else {
            return self.encode_with(&self.tok, texts);
        };
        // ASCII texts normalized here go to the tokenizer without a normalizer, the others to
        // the tokenizer itself; the encodings are put back in the order of the texts.
        let normalized: Vec<Option<String>> =
            texts.par_iter().map(|t| ascii.normalize(t)).collect();
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for (t, n) in texts.iter().zip(&normalized) {
            match n {
                Some(n) => fast.push(n.as_str()),
                None => slow.push(*t),
            }
        }
        let mut fast = self.encode_with(ascii.tokenizer(), fast)?.into_iter();
        let mut slow = self.encode_with(&self.tok, slow)?.into_iter();
        Ok(normalized
            .iter()
            .filter_map(|n| {
                if n.is_some() {
                    fast.next()
                } else {
                    slow.next()
                }
            })
            .collect())
    }

    fn encode_with(&self, tok: &Tokenizer, texts: Vec<&str>) -> anyhow::Result<Vec<Encoding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // Chunks get their special tokens per window.
        let special = self.opts.special_tokens && self.opts.chunk.is_none();
        let r = if self.opts.offsets || self.opts.chunk.is_some() {
            tok.encode_batch(texts, special)
        } else {
            tok.encode_batch_fast(texts, special)
        };
        r.map_err(|e| anyhow::anyhow!("{}: {e}", self.name))
    }
}

impl Stage for TokenizerStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        need_text_column(&self.name, input, &self.opts.column)?;
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut add = |f: Field| -> Result<(), PlanError> {
            if input.index_of(f.name()).is_ok() {
                return Err(PlanError::new(
                    &self.name,
                    format!("its output column `{}` is already in the input", f.name()),
                ));
            }
            fields.push(f);
            Ok(())
        };
        if self.opts.chunk.is_some() {
            add(Field::new("chunk", DataType::UInt32, false))?;
            add(Field::new("chunk_start", DataType::UInt64, false))?;
            add(Field::new("chunk_end", DataType::UInt64, false))?;
            add(Field::new("chunk_text", DataType::Utf8, false))?;
        }
        add(self.ids_field())?;
        add(Field::new("n_tokens", DataType::UInt32, false))?;
        if self.opts.offsets {
            add(Field::new("offsets", Self::offsets_type(), false))?;
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let col = batch.schema().index_of(&self.opts.column)?;
        let texts = super::text_values(batch.column(col));
        let mut rejects = Vec::new();
        let mut rows: Vec<u32> = Vec::with_capacity(texts.len());
        let mut inputs: Vec<&str> = Vec::with_capacity(texts.len());
        for (i, t) in texts.iter().enumerate() {
            match t {
                Some(t) => {
                    rows.push(i as u32);
                    inputs.push(t);
                }
                None => rejects.push(Reject {
                    row: i as u32,
                    reason: format!("column `{}` is null: nothing to tokenize", self.opts.column),
                    pointer: Some(format!("/{}", self.opts.column)),
                }),
            }
        }
        // Encoded a group at a time, each group's encodings dropped once its ids are taken.
        let mut out = Windows::default();
        for group in self.groups(&inputs) {
            let encodings = self.encode(inputs[group.clone()].to_vec())?;
            for (k, enc) in group.zip(encodings) {
                let (row, text) = (rows[k], inputs[k]);
                match self.opts.chunk {
                    Some((n, overlap)) => {
                        for (c, w) in self.windows(enc, n, overlap)?.iter().enumerate() {
                            let (s, e) = span(w, text.len());
                            out.chunks.0.push(c as u32);
                            out.chunks.1.push(s as u64);
                            out.chunks.2.push(e as u64);
                            out.chunks.3.push(text.get(s..e).unwrap_or(""));
                            out.push(row, w, self.opts.offsets);
                        }
                    }
                    None => out.push(row, &enc, self.opts.offsets),
                }
            }
        }
        let identity = self.opts.chunk.is_none() && rejects.is_empty();
        let base = if identity {
            batch.clone()
        } else {
            take_record_batch(&batch, &UInt32Array::from(out.origin.clone()))?
        };
        let mut columns: Vec<ArrayRef> = base.columns().to_vec();
        if self.opts.chunk.is_some() {
            let (c, s, e, t) = std::mem::take(&mut out.chunks);
            columns.push(Arc::new(UInt32Array::from(c)));
            columns.push(Arc::new(UInt64Array::from(s)));
            columns.push(Arc::new(UInt64Array::from(e)));
            columns.push(Arc::new(StringArray::from(t)));
        }
        columns.push(self.ids_array(std::mem::take(&mut out.ids), &out.lens)?);
        columns.push(Arc::new(UInt32Array::from(std::mem::take(
            &mut out.n_tokens,
        ))));
        if self.opts.offsets {
            columns.push(offsets_array(
                std::mem::take(&mut out.starts),
                std::mem::take(&mut out.ends),
                &out.lens,
            )?);
        }
        let schema = self.plan(&batch.schema())?;
        Ok(StageOutput {
            batch: RecordBatch::try_new(schema, columns)?,
            origin: (!identity).then_some(out.origin),
            rejects,
        })
    }
}

impl TokenizerStage {
    /// Splits a (special-token-free) encoding into windows of at most `n` tokens once the
    /// template's special tokens are added, consecutive windows sharing `overlap` tokens.
    fn windows(&self, full: Encoding, n: usize, overlap: usize) -> anyhow::Result<Vec<Encoding>> {
        use tokenizers::PostProcessor;
        let added = self
            .tok
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        let cap = n.saturating_sub(added).max(1);
        let overlap = overlap.min(cap - 1);
        let mut first = full;
        first.truncate(cap, overlap, tokenizers::TruncationDirection::Right);
        let rest = first.take_overflowing();
        std::iter::once(first)
            .chain(rest)
            .map(|w| {
                self.tok
                    .post_process(w, None, self.opts.special_tokens)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))
            })
            .collect()
    }

    fn ids_array(&self, ids: Vec<u32>, lens: &[usize]) -> anyhow::Result<ArrayRef> {
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        let values = Arc::new(UInt32Array::from(ids));
        Ok(match self.fixed {
            Some(n) => Arc::new(FixedSizeListArray::try_new(item, n as i32, values, None)?),
            None => {
                let offsets = OffsetBuffer::from_lengths(lens.iter().copied());
                Arc::new(ListArray::try_new(item, offsets, values, None)?)
            }
        })
    }

    /// The inputs in groups of about [`GROUP_BYTES`] of text (at least one row each), or in
    /// one group when padding goes to the longest row of the batch. A group's encodings
    /// (every token's id, type, string, offsets and masks) take about 30 times its text, so
    /// encoding a 2 MiB batch at once made tens of megabytes live at a time and left the
    /// heap fragmented.
    fn groups(&self, inputs: &[&str]) -> Vec<std::ops::Range<usize>> {
        let whole = self
            .tok
            .get_padding()
            .is_some_and(|p| matches!(p.strategy, PaddingStrategy::BatchLongest));
        if whole {
            return std::iter::once(0..inputs.len()).collect();
        }
        let mut groups = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, t) in inputs.iter().enumerate() {
            if i > start && bytes + t.len() > GROUP_BYTES {
                groups.push(start..i);
                (start, bytes) = (i, 0);
            }
            bytes += t.len();
        }
        if start < inputs.len() {
            groups.push(start..inputs.len());
        }
        groups
    }
}

/// A window's byte span in the text: its first to its last non-special token.
fn span(w: &Encoding, len: usize) -> (usize, usize) {
    let mut pairs = w
        .get_offsets()
        .iter()
        .zip(w.get_special_tokens_mask())
        .filter(|(_, special)| **special == 0)
        .map(|(o, _)| *o);
    match pairs.next() {
        None => (0, 0),
        Some(first) => {
            let last = pairs.next_back().unwrap_or(first);
            (first.0.min(len), last.1.min(len))
        }
    }
}

fn offsets_array(starts: Vec<u64>, ends: Vec<u64>, lens: &[usize]) -> anyhow::Result<ArrayRef> {
    let DataType::List(item) = TokenizerStage::offsets_type() else {
        unreachable!("offsets are a list")
    };
    let DataType::Struct(fields) = item.data_type().clone() else {
        unreachable!("of structs")
    };
    let pairs = StructArray::try_new(
        fields,
        vec![
            Arc::new(UInt64Array::from(starts)),
            Arc::new(UInt64Array::from(ends)),
        ],
        None,
    )?;
    let offsets = OffsetBuffer::from_lengths(lens.iter().copied());
    Ok(Arc::new(ListArray::try_new(
        item,
        offsets,
        Arc::new(pairs),
        None,
    )?))
}
