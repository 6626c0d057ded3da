//! The model stage (feature `model`): BERT-family models on candle. Embeddings are mean-pooled
//! over the attention mask and L2-normalised (sentence-transformers' recipe) into
//! `FixedSizeList<Float32, d>`; classifiers give a label (from `id2label`) and its score.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use candle_core::{Device, Tensor, D};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::Config;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::bert::{Encoder, Precision, DTYPE};
use super::plan::{in_folder, read_resource, Opts};
use super::tokenize::load_tokenizer;
use super::{need_text_column, PlanError, Reject, Stage, StageOutput};
use crate::catalog::{Catalog, ModelDef, ModelKind};

struct Loaded {
    bert: Encoder,
    head: Option<Head>,
}

/// A classifier's head: what it reads, and its `classifier` layer.
enum Head {
    /// Hugging Face's `BertForSequenceClassification`: `tanh(pooler(h[CLS]))`.
    Pooler(Linear, Linear),
    /// The sentence embedding (mean-pooled, L2-normalised), as a head trained on
    /// sentence-transformers embeddings (a logistic regression, SetFit) reads it.
    Mean(Linear),
}

/// What a classifier's head reads (catalog or stage option `pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    Pooler,
    Mean,
}

pub struct ModelStage {
    name: String,
    kind: ModelKind,
    column: String,
    output: String,
    config: Config,
    hidden: usize,
    labels: Vec<String>,
    pooling: Pooling,
    precision: Precision,
    batch: usize,
    weights_uri: String,
    catalog: Catalog,
    tok: Tokenizer,
    loaded: OnceLock<Loaded>,
}

/// Tokens in a sub-batch, counted as if padded to its longest row (the rows are sorted by
/// length, so this is close to the real count). At 2,048, a sub-batch's largest buffer,
/// MiniLM's intermediate activations (2,048 × 1,536 × 4 bytes, 12.6 MB), stays under
/// `HEAP_BLOCK`. At 8,192 (with candle's attention, whose scores were `rows × heads × len²`)
/// the largest were 100 and 50 MB, each a fresh mapping per layer: the page faults were 20% of
/// the process's CPU and its peak RSS 497 MB (235 MB at 2,048, same user time; `perf`).
const MAX_TOKENS: usize = 2048;

/// Blocks up to this size come from the heap once a model stage opens (see `open`).
const HEAP_BLOCK: i32 = 32 << 20;

fn perr(name: &str, e: impl std::fmt::Display) -> PlanError {
    PlanError::new(name, e.to_string())
}

impl ModelStage {
    /// Options: `column` (text in, default `text`), `output` (default `embedding`, or
    /// `label`/`score` for classifiers), `max_tokens` (default: the model's
    /// `sentence_bert_config.json`, else its position limit), `batch_size` (default 32), and
    /// for classifiers `pooling`: `"pooler"` (default, Hugging Face's sequence classifiers) or
    /// `"mean"` (a head on the sentence embedding); `precision`: `"fp32"` (default) or `"int8"`
    /// (the encoder's projections with int8 weights, quantized at load; see `bert.rs`).
    pub fn build(
        catalog: &Catalog,
        def: &ModelDef,
        table: &toml::Table,
    ) -> Result<Self, PlanError> {
        let name = def.name.as_str();
        let o = Opts::new(name, table);
        o.check_keys(&[
            "column",
            "output",
            "max_tokens",
            "batch_size",
            "pooling",
            "precision",
        ])?;
        let pooling = match o.string("pooling")?.as_deref() {
            None | Some("pooler") => Pooling::Pooler,
            Some("mean") => Pooling::Mean,
            Some(other) => {
                return Err(perr(
                    name,
                    format!("`pooling` is \"pooler\" or \"mean\", not {other:?}"),
                ))
            }
        };
        let precision = match o.string("precision")?.as_deref() {
            None | Some("fp32") | Some("f32") => Precision::F32,
            Some("int8") => Precision::Int8,
            Some(other) => {
                return Err(perr(
                    name,
                    format!("`precision` is \"fp32\" or \"int8\", not {other:?}"),
                ))
            }
        };
        let config_json = read_resource(catalog, name, &in_folder(&def.url, "config.json"))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&config_json).map_err(|e| perr(name, e))?;
        let config: Config = serde_json::from_value(raw.clone())
            .map_err(|e| perr(name, format!("config.json is not a BERT config: {e}")))?;
        let hidden = raw["hidden_size"].as_u64().unwrap_or(0) as usize;
        // int8 weights are quantized in blocks of 32 along each projection's input.
        let inner = raw["intermediate_size"].as_u64().unwrap_or(0) as usize;
        if precision == Precision::Int8 && (hidden % 32 != 0 || inner % 32 != 0) {
            return Err(perr(
                name,
                format!(
                    "`precision = \"int8\"` needs hidden_size and intermediate_size that are \
                     multiples of 32 (this model has {hidden} and {inner})"
                ),
            ));
        }
        let positions = raw["max_position_embeddings"].as_u64().unwrap_or(512) as usize;
        let mut labels: Vec<(usize, String)> = raw["id2label"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        if def.kind == ModelKind::Classifier && labels.is_empty() {
            return Err(perr(name, "a classifier's config.json needs `id2label`"));
        }
        let max_tokens = match o.usize("max_tokens")? {
            Some(n) => n,
            None => read_resource(
                catalog,
                name,
                &in_folder(&def.url, "sentence_bert_config.json"),
            )
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["max_seq_length"].as_u64())
            .map(|n| n as usize)
            .unwrap_or(positions),
        };
        let tok_uri = match &def.tokenizer {
            Some(t) => {
                let tdef = catalog.tokenizers.get(t).ok_or_else(|| {
                    perr(
                        name,
                        format!("no tokenizer named `{t}` in {}", catalog.origin()),
                    )
                })?;
                in_folder(&tdef.url, "tokenizer.json")
            }
            None => in_folder(&def.url, "tokenizer.json"),
        };
        let mut tok = load_tokenizer(name, &read_resource(catalog, name, &tok_uri)?)?;
        // The model's own limit; sub-batches are padded here (see `process`).
        tok.with_truncation(Some(TruncationParams {
            max_length: max_tokens.min(positions),
            ..Default::default()
        }))
        .map_err(|e| perr(name, e))?;
        tok.with_padding(None);
        let default_out = match def.kind {
            ModelKind::Embedding => "embedding",
            ModelKind::Classifier => "label",
        };
        Ok(ModelStage {
            name: name.to_string(),
            kind: def.kind,
            column: o.string("column")?.unwrap_or_else(|| "text".into()),
            output: o.string("output")?.unwrap_or_else(|| default_out.into()),
            config,
            hidden,
            labels: labels.into_iter().map(|(_, l)| l).collect(),
            pooling,
            precision,
            batch: o.usize("batch_size")?.unwrap_or(32).max(1),
            weights_uri: in_folder(&def.url, "model.safetensors"),
            catalog: catalog.clone(),
            tok,
            loaded: OnceLock::new(),
        })
    }

    fn model(&self) -> anyhow::Result<&Loaded> {
        if let Some(m) = self.loaded.get() {
            return Ok(m);
        }
        let bytes = read_resource(&self.catalog, &self.name, &self.weights_uri)?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DTYPE, &Device::Cpu)
            .with_context(|| format!("{}: reading {}", self.name, self.weights_uri))?;
        let bert = Encoder::load(vb.clone(), &self.config, self.precision)
            .with_context(|| format!("{}: loading BERT weights", self.name))?;
        let head = match self.kind {
            ModelKind::Embedding => None,
            ModelKind::Classifier => {
                let h = self.hidden;
                let classifier = candle_nn::linear(h, self.labels.len(), vb.pp("classifier"))
                    .with_context(|| format!("{}: loading the `classifier` head", self.name))?;
                Some(match self.pooling {
                    Pooling::Mean => Head::Mean(classifier),
                    Pooling::Pooler => {
                        let pooler = candle_nn::linear(h, h, vb.pp("bert.pooler.dense"))
                            .or_else(|_| candle_nn::linear(h, h, vb.pp("pooler.dense")))
                            .with_context(|| format!("{}: loading the pooler", self.name))?;
                        Head::Pooler(pooler, classifier)
                    }
                })
            }
        };
        let _ = self.loaded.set(Loaded { bert, head });
        Ok(self.loaded.get().expect("just set"))
    }

    /// One sub-batch of encodings (unpadded) → embeddings or class probabilities, row-major.
    fn forward(&self, encs: &[&Encoding]) -> anyhow::Result<Vec<Vec<f32>>> {
        let m = self.model()?;
        let h = m.bert.hidden();
        // The rows' tokens one after the other; a row without tokens is one padding token.
        let lens: Vec<usize> = encs.iter().map(|e| e.len().max(1)).collect();
        let mut ids = Vec::with_capacity(lens.iter().sum());
        for e in encs {
            match e.get_ids() {
                [] => ids.push(0),
                row => ids.extend_from_slice(row),
            }
        }
        let hidden = m.bert.forward(&ids, &lens)?;
        // Per row: the first token's state for a pooler, else the mean over the row's tokens,
        // L2-normalised.
        let pooler = matches!(m.head, Some(Head::Pooler(..)));
        let mut start = 0;
        let mut pooled = Vec::with_capacity(encs.len() * h);
        for &n in &lens {
            let rows = &hidden[start * h..(start + n) * h];
            start += n;
            if pooler {
                pooled.extend_from_slice(&rows[..h]);
                continue;
            }
            let mut sum = vec![0f32; h];
            for row in rows.chunks_exact(h) {
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            let norm = sum
                .iter()
                .map(|v| (v / n as f32).powi(2))
                .sum::<f32>()
                .sqrt();
            pooled.extend(sum.iter().map(|v| v / n as f32 / norm));
        }
        let out = match &m.head {
            None => return Ok(pooled.chunks_exact(h).map(<[f32]>::to_vec).collect()),
            Some(head) => {
                let pooled = Tensor::from_vec(pooled, (encs.len(), h), &Device::Cpu)?;
                let logits = match head {
                    Head::Mean(classifier) => classifier.forward(&pooled)?,
                    Head::Pooler(pooler, classifier) => {
                        classifier.forward(&pooler.forward(&pooled)?.tanh()?)?
                    }
                };
                candle_nn::ops::softmax(&logits, D::Minus1)?
            }
        };
        Ok(out.to_vec2()?)
    }
}

impl Stage for ModelStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn plan(&self, input: &SchemaRef) -> Result<SchemaRef, PlanError> {
        need_text_column(&self.name, input, &self.column)?;
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        let new = match self.kind {
            ModelKind::Embedding => vec![Field::new(
                &self.output,
                DataType::FixedSizeList(
                    Arc::new(Field::new("item", DataType::Float32, false)),
                    self.hidden as i32,
                ),
                false,
            )],
            ModelKind::Classifier => vec![
                Field::new(&self.output, DataType::Utf8, false),
                Field::new("score", DataType::Float32, false),
            ],
        };
        for f in new {
            if input.index_of(f.name()).is_ok() {
                return Err(PlanError::new(
                    &self.name,
                    format!("its output column `{}` is already in the input", f.name()),
                ));
            }
            fields.push(f);
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    fn open(&self) -> anyhow::Result<()> {
        // `disco` keeps glibc's mmap threshold at 256 KiB so that a long stream of batches
        // does not fragment the heap. A model's tensors are allocated and freed several times
        // per layer, each a fresh zeroed mapping at that threshold; from the heap they are
        // reused (embedding 128 rows: wall -13%, `perf`). Their sizes are bounded by
        // MAX_TOKENS, so the heap stays bounded too.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only sets allocator parameters; glibc serialises it with allocation.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, HEAP_BLOCK);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 4 * HEAP_BLOCK);
        }
        self.model().map(drop)
    }

    fn process(&self, batch: RecordBatch) -> anyhow::Result<StageOutput> {
        let schema = self.plan(&batch.schema())?;
        let texts = super::text_values(batch.column(batch.schema().index_of(&self.column)?));
        let mut rejects = Vec::new();
        let mut rows: Vec<(usize, &str)> = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            match t {
                Some(t) => rows.push((i, t)),
                None => rejects.push(Reject {
                    row: i as u32,
                    reason: format!(
                        "column `{}` is null: nothing to run the model on",
                        self.column
                    ),
                    pointer: Some(format!("/{}", self.column)),
                }),
            }
        }
        // Tokenized at once (in parallel), then run in sub-batches of similar token counts; a
        // sub-batch holds at most `batch_size` rows and `MAX_TOKENS` tokens (see there).
        let texts: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let encs = self
            .tok
            .encode_batch(texts, true)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))?;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&k| encs[k].len());
        let mut results: Vec<Vec<f32>> = vec![Vec::new(); rows.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len()
                && end - start < self.batch
                && (end - start + 1) * encs[order[end]].len() <= MAX_TOKENS
            {
                end += 1;
            }
            let chunk = &order[start..end];
            let sub: Vec<&Encoding> = chunk.iter().map(|&k| &encs[k]).collect();
            for (k, v) in chunk.iter().zip(self.forward(&sub)?) {
                results[*k] = v;
            }
            start = end;
        }
        let kept: Vec<u32> = rows.iter().map(|(i, _)| *i as u32).collect();
        let base = if rejects.is_empty() {
            batch
        } else {
            arrow::compute::take_record_batch(
                &batch,
                &arrow::array::UInt32Array::from(kept.clone()),
            )?
        };
        let mut columns: Vec<ArrayRef> = base.columns().to_vec();
        match self.kind {
            ModelKind::Embedding => {
                let values = Float32Array::from(results.concat());
                columns.push(Arc::new(FixedSizeListArray::try_new(
                    Arc::new(Field::new("item", DataType::Float32, false)),
                    self.hidden as i32,
                    Arc::new(values),
                    None,
                )?));
            }
            ModelKind::Classifier => {
                let best: Vec<(usize, f32)> = results
                    .iter()
                    .map(|p| {
                        p.iter()
                            .copied()
                            .enumerate()
                            .fold((0, f32::MIN), |a, (i, s)| if s > a.1 { (i, s) } else { a })
                    })
                    .collect();
                columns.push(Arc::new(StringArray::from_iter_values(
                    best.iter().map(|(i, _)| self.labels[*i].as_str()),
                )));
                columns.push(Arc::new(Float32Array::from_iter_values(
                    best.iter().map(|b| b.1),
                )));
            }
        }
        Ok(StageOutput {
            batch: RecordBatch::try_new(schema, columns)?,
            origin: None,
            rejects,
        })
    }
}
