//! A BERT encoder for CPU inference on candle tensors (feature `model`), written for speed
//! where candle's general-purpose model loses it (its generic softmax, scaling, masking and
//! GELU are single-threaded passes over the largest tensors; not yet profiled with `perf`):
//!
//! - every projection is one 2-D matrix product over all tokens of the batch (`tokens × hidden`),
//!   and query, key and value are one product (their weights joined at load);
//! - attention's scale is applied to the queries (`tokens × hidden`), not to the scores
//!   (`heads × tokens × tokens`), and masking and softmax are one in-place pass over the scores,
//!   in parallel by row, that skips the padding (right-padded rows need no additive mask);
//! - GELU is applied in place, in parallel;
//! - with `Precision::Int8`, the four projections of every layer (query-key-value, attention
//!   output, intermediate, output: nearly all the multiply-adds) use weights quantized at load
//!   to candle's `Q8_0` (blocks of 32 int8 values with a scale each) and candle's quantized
//!   matrix product, which quantizes the activations the same way and runs integer dot
//!   products (AVX2, or AVX512-VNNI tiles where the shapes allow). Embeddings, layer norms,
//!   attention scores and biases stay f32.
//!
//! The weights are the Hugging Face `BertModel` layout, at the root or under `bert.`.

use candle_core::cpu::erf::erf_f32;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{CpuStorage, DType, InplaceOp1, Layout, Module, Tensor};
use candle_nn::{embedding, layer_norm, Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};
use candle_transformers::quantized_nn;
use rayon::prelude::*;

/// The encoder: token ids in, the last hidden states out.
pub struct Encoder {
    word: Embedding,
    position: Embedding,
    token_type: Tensor,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    act: HiddenAct,
}

struct Layer {
    qkv: Proj,
    out: Proj,
    norm1: LayerNorm,
    up: Proj,
    down: Proj,
    norm2: LayerNorm,
}

/// What the projections compute in (model option `precision`: `"fp32"` or `"int8"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    F32,
    Int8,
}

/// One dense projection, `x · wᵀ + b`, in f32 or with int8 (`Q8_0`) weights.
enum Proj {
    F32(Linear),
    /// The weights' input dimension padded with zero columns up to a multiple of 256, where
    /// candle has tiled AVX512-VNNI kernels (it falls back to one block dot product at a time
    /// otherwise: 4.5x slower on MiniLM's 384-wide projections, `perf`); `pad` zero columns
    /// are added to the activations to match.
    Int8 {
        l: quantized_nn::Linear,
        pad: usize,
    },
}

/// The quantized kernels' preferred input width (candle's `QK_K`).
const INT8_TILE_K: usize = 256;

impl Proj {
    fn new(w: Tensor, b: Tensor, p: Precision) -> candle_core::Result<Proj> {
        Ok(match p {
            Precision::F32 => Proj::F32(Linear::new(w, Some(b))),
            Precision::Int8 => {
                let (out, inp) = w.dims2()?;
                let pad = inp.next_multiple_of(INT8_TILE_K) - inp;
                let w = match pad {
                    0 => w,
                    _ => Tensor::cat(&[&w, &Tensor::zeros((out, pad), w.dtype(), w.device())?], 1)?,
                };
                let q = QTensor::quantize(&w, GgmlDType::Q8_0)?;
                Proj::Int8 {
                    l: quantized_nn::Linear::from_arc(Arc::new(q), Some(b))?,
                    pad,
                }
            }
        })
    }

    /// The `(out, in)` weight and `out` bias at `vb` (`weight`, `bias`).
    fn load(vb: VarBuilder, inp: usize, out: usize, p: Precision) -> candle_core::Result<Proj> {
        Proj::new(vb.get((out, inp), "weight")?, vb.get(out, "bias")?, p)
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Proj::F32(l) => l.forward(x),
            Proj::Int8 { l, pad: 0 } => l.forward(x),
            Proj::Int8 { l, pad } => {
                let (rows, _) = x.dims2()?;
                let zeros = Tensor::zeros((rows, *pad), x.dtype(), x.device())?;
                l.forward(&Tensor::cat(&[x, &zeros], 1)?)
            }
        }
    }
}

impl Encoder {
    pub fn load(vb: VarBuilder, c: &Config, p: Precision) -> candle_core::Result<Encoder> {
        let vb = match vb.contains_tensor("embeddings.word_embeddings.weight") {
            true => vb,
            false => vb.pp("bert"),
        };
        let h = c.hidden_size;
        let e = vb.pp("embeddings");
        let ln = |vb: VarBuilder<'_>| layer_norm(h, c.layer_norm_eps, vb);
        // Inputs have one segment: only the first token-type row is ever added.
        let token_type = e
            .get((c.type_vocab_size, h), "token_type_embeddings.weight")?
            .get(0)?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let a = l.pp("attention");
                let s = a.pp("self");
                let part = |name: &str| -> candle_core::Result<(Tensor, Tensor)> {
                    Ok((
                        s.get((h, h), &format!("{name}.weight"))?,
                        s.get(h, &format!("{name}.bias"))?,
                    ))
                };
                let (q, k, v) = (part("query")?, part("key")?, part("value")?);
                let qkv = Proj::new(
                    Tensor::cat(&[q.0, k.0, v.0], 0)?,
                    Tensor::cat(&[q.1, k.1, v.1], 0)?,
                    p,
                )?;
                let i = c.intermediate_size;
                Ok(Layer {
                    qkv,
                    out: Proj::load(a.pp("output.dense"), h, h, p)?,
                    norm1: ln(a.pp("output.LayerNorm"))?,
                    up: Proj::load(l.pp("intermediate.dense"), h, i, p)?,
                    down: Proj::load(l.pp("output.dense"), i, h, p)?,
                    norm2: ln(l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Encoder {
            word: embedding(c.vocab_size, h, e.pp("word_embeddings"))?,
            position: embedding(c.max_position_embeddings, h, e.pp("position_embeddings"))?,
            token_type,
            norm: ln(e.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
            act: c.hidden_act,
        })
    }

    /// `ids` is `(batch, seq)`, right-padded; `lens` the real length of each row. Returns
    /// `(batch, seq, hidden)`.
    pub fn forward(&self, ids: &Tensor, lens: &[usize]) -> candle_core::Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let dev = ids.device();
        let positions = Tensor::arange(0u32, s as u32, dev)?;
        let x = self
            .word
            .forward(ids)?
            .broadcast_add(&self.position.forward(&positions)?)?
            .broadcast_add(&self.token_type)?;
        let h = x.dim(2)?;
        let mut x = self.norm.forward(&x)?.reshape((b * s, h))?;
        let d = h / self.heads;
        let softmax = MaskedSoftmax {
            lens: lens.to_vec(),
            rows_per_item: self.heads * s,
        };
        for l in &self.layers {
            let qkv = l
                .qkv
                .forward(&x)?
                .reshape((b, s, 3, self.heads, d))?
                .permute((2, 0, 3, 1, 4))?;
            let q = (qkv.get(0)? * (1.0 / (d as f64).sqrt()))?.contiguous()?;
            let k = qkv.get(1)?.contiguous()?;
            let v = qkv.get(2)?.contiguous()?;
            let scores = q.matmul(&k.t()?)?.contiguous()?;
            scores.inplace_op1(&softmax)?;
            let ctx = scores
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b * s, h))?;
            x = l.norm1.forward(&(l.out.forward(&ctx)? + &x)?)?;
            let up = l.up.forward(&x)?.contiguous()?;
            match self.act {
                HiddenAct::Gelu => up.inplace_op1(&Gelu)?,
                HiddenAct::GeluApproximate => up.inplace_op1(&GeluTanh)?,
                HiddenAct::Relu => up.inplace_op1(&Relu)?,
            }
            x = l.norm2.forward(&(l.down.forward(&up)? + &x)?)?;
        }
        x.reshape((b, s, h))
    }
}

/// The f32 values of a contiguous CPU tensor, or an error naming the op.
fn values<'a>(name: &str, s: &'a mut CpuStorage, l: &Layout) -> candle_core::Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((start, end))) => Ok(&mut v[start..end]),
        _ => candle_core::bail!("{name}: needs a contiguous f32 tensor"),
    }
}

/// Softmax over each row of `(batch, heads, seq, seq)` scores, in place, over the first
/// `lens[item]` columns; the padding columns become 0 (what adding `-inf` would give).
struct MaskedSoftmax {
    lens: Vec<usize>,
    rows_per_item: usize,
}

impl InplaceOp1 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "masked-softmax"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        let seq = l.dims().last().copied().unwrap_or(0);
        let v = values(self.name(), s, l)?;
        if seq == 0 {
            return Ok(());
        }
        v.par_chunks_mut(seq).enumerate().for_each(|(r, row)| {
            let n = self
                .lens
                .get(r / self.rows_per_item.max(1))
                .copied()
                .unwrap_or(seq)
                .clamp(1, seq);
            let (live, pad) = row.split_at_mut(n);
            let max = live.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f32;
            for x in live.iter_mut() {
                *x = (*x - max).exp();
                sum += *x;
            }
            let inv = 1.0 / sum;
            live.iter_mut().for_each(|x| *x *= inv);
            pad.fill(0.0);
        });
        Ok(())
    }
}

/// Applies `f` to every value, in parallel.
fn map_in_place(
    name: &str,
    s: &mut CpuStorage,
    l: &Layout,
    f: impl Fn(f32) -> f32 + Sync,
) -> candle_core::Result<()> {
    values(name, s, l)?
        .par_chunks_mut(4096)
        .for_each(|c| c.iter_mut().for_each(|x| *x = f(*x)));
    Ok(())
}

/// GELU with the error function (BERT's `gelu`).
struct Gelu;

impl InplaceOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        map_in_place(self.name(), s, l, |x| {
            0.5 * x * (1.0 + erf_f32(x * std::f32::consts::FRAC_1_SQRT_2))
        })
    }
}

/// GELU's tanh approximation (`gelu_new`).
struct GeluTanh;

impl InplaceOp1 for GeluTanh {
    fn name(&self) -> &'static str {
        "gelu-tanh"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        const C: f32 = 0.797_884_6; // sqrt(2 / pi)
        map_in_place(self.name(), s, l, |x| {
            0.5 * x * (1.0 + (C * (x + 0.044715 * x * x * x)).tanh())
        })
    }
}

struct Relu;

impl InplaceOp1 for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        map_in_place(self.name(), s, l, |x| x.max(0.0))
    }
}

/// The dtype the encoder computes in.
pub const DTYPE: DType = DType::F32;
