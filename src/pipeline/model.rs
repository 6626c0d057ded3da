//! The model stage (feature `model`): BERT-family models on candle. Embeddings are mean-pooled
//! over the attention mask and L2-normalised (sentence-transformers' recipe) into
//! `FixedSizeList<Float32, d>`; classifiers give a label (from `id2label`) and its score.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use super::plan::{in_folder, read_resource, Opts};
use super::tokenize::load_tokenizer;
use super::{need_text_column, PlanError, Reject, Stage, StageOutput};
use crate::catalog::{Catalog, ModelDef, ModelKind};

struct Loaded {
    bert: BertModel,
    head: Option<(Linear, Linear)>,
}

pub struct ModelStage {
    name: String,
    kind: ModelKind,
    column: String,
    output: String,
    config: Config,
    hidden: usize,
    labels: Vec<String>,
    batch: usize,
    weights_uri: String,
    catalog: Catalog,
    tok: Tokenizer,
    loaded: OnceLock<Loaded>,
}

fn perr(name: &str, e: impl std::fmt::Display) -> PlanError {
    PlanError::new(name, e.to_string())
}

impl ModelStage {
    /// Options: `column` (text in, default `text`), `output` (default `embedding`, or
    /// `label`/`score` for classifiers), `max_tokens` (default: the model's
    /// `sentence_bert_config.json`, else its position limit), `batch_size` (default 32).
    pub fn build(
        catalog: &Catalog,
        def: &ModelDef,
        table: &toml::Table,
    ) -> Result<Self, PlanError> {
        let name = def.name.as_str();
        let o = Opts::new(name, table);
        o.check_keys(&["column", "output", "max_tokens", "batch_size"])?;
        let config_json = read_resource(catalog, name, &in_folder(&def.url, "config.json"))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&config_json).map_err(|e| perr(name, e))?;
        let config: Config = serde_json::from_value(raw.clone())
            .map_err(|e| perr(name, format!("config.json is not a BERT config: {e}")))?;
        let hidden = raw["hidden_size"].as_u64().unwrap_or(0) as usize;
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
        // The model's own limit, and padding to the longest row of each sub-batch only.
        tok.with_truncation(Some(TruncationParams {
            max_length: max_tokens.min(positions),
            ..Default::default()
        }))
        .map_err(|e| perr(name, e))?;
        tok.with_padding(Some(PaddingParams::default()));
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
        let bert = BertModel::load(vb.clone(), &self.config)
            .with_context(|| format!("{}: loading BERT weights", self.name))?;
        let head = match self.kind {
            ModelKind::Embedding => None,
            ModelKind::Classifier => {
                let h = self.hidden;
                let pooler = candle_nn::linear(h, h, vb.pp("bert.pooler.dense"))
                    .or_else(|_| candle_nn::linear(h, h, vb.pp("pooler.dense")))?;
                let classifier = candle_nn::linear(h, self.labels.len(), vb.pp("classifier"))?;
                Some((pooler, classifier))
            }
        };
        let _ = self.loaded.set(Loaded { bert, head });
        Ok(self.loaded.get().expect("just set"))
    }

    /// One sub-batch of texts → (embeddings or logits), row-major.
    fn forward(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let m = self.model()?;
        let encs = self
            .tok
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))?;
        let (n, len) = (encs.len(), encs.first().map_or(0, |e| e.len()));
        let ids: Vec<u32> = encs.iter().flat_map(|e| e.get_ids().to_vec()).collect();
        let mask: Vec<u32> = encs
            .iter()
            .flat_map(|e| e.get_attention_mask().to_vec())
            .collect();
        let dev = Device::Cpu;
        let ids = Tensor::from_vec(ids, (n, len), &dev)?;
        let mask = Tensor::from_vec(mask, (n, len), &dev)?;
        let types = ids.zeros_like()?;
        let hidden = m.bert.forward(&ids, &types, Some(&mask))?;
        let out = match &m.head {
            None => {
                let mf = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let mean = hidden
                    .broadcast_mul(&mf)?
                    .sum(1)?
                    .broadcast_div(&mf.sum(1)?)?;
                let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
                mean.broadcast_div(&norm)?
            }
            Some((pooler, classifier)) => {
                let first = hidden.narrow(1, 0, 1)?.squeeze(1)?;
                let pooled = pooler.forward(&first)?.tanh()?;
                candle_nn::ops::softmax(&classifier.forward(&pooled)?, D::Minus1)?
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
        // Sub-batches of similar length waste little on padding.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&k| rows[k].1.len());
        let mut results: Vec<Vec<f32>> = vec![Vec::new(); rows.len()];
        for chunk in order.chunks(self.batch) {
            let texts: Vec<&str> = chunk.iter().map(|&k| rows[k].1).collect();
            for (k, v) in chunk.iter().zip(self.forward(&texts)?) {
                results[*k] = v;
            }
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
