//! A BERT encoder for CPU inference (feature `model`), on plain `f32` buffers and the `gemm`
//! crate (candle's matrix-product engine, called directly), with candle only for loading the
//! weights and for the int8 products. Written for speed where a general tensor library loses
//! it (measured with `perf` on all-MiniLM-L6-v2, 128 rows of code):
//!
//! - **No padding.** The tokens of a sub-batch are one ragged `tokens × hidden` matrix: every
//!   projection is one matrix product over the real tokens only, and attention runs per row.
//! - **Bias and residual inside the product.** The output buffer starts as `bias (+ residual)`
//!   and the product accumulates into it (`gemm`'s `dst := dst + x · wᵀ`): no zeroing pass, and
//!   no separate addition passes, which candle ran on one thread.
//! - **Attention per (row, head) in parallel**, each a pair of single-threaded products that
//!   read queries, keys and values in place from the joined `qkv` projection and write the
//!   context straight into its columns: no permutes, copies or `rows × heads × len²` tensor.
//!   The scale goes into the first product; softmax and GELU are vectorized (`vecmath`).
//! - **Layer norm in parallel by token**, in place.
//! - With `Precision::Int8`, the four projections of every layer (query-key-value, attention
//!   output, intermediate, output: nearly all the multiply-adds) use weights quantized at load
//!   to candle's `Q8_0` (blocks of 32 int8 values with a scale each) and candle's quantized
//!   matrix product, which quantizes the activations the same way and runs integer dot
//!   products (AVX2, or AVX512-VNNI tiles where the shapes allow). Embeddings, layer norms,
//!   attention and biases stay f32.
//!
//! The weights are the Hugging Face `BertModel` layout, at the root or under `bert.`.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct};
use candle_transformers::quantized_nn;
use rayon::prelude::*;

use super::vecmath;

/// The encoder: token ids in, the last hidden states out.
pub struct Encoder {
    /// `vocab × hidden`, `positions × hidden`, and the first token-type row (inputs have one
    /// segment).
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    act: HiddenAct,
}

struct Layer {
    qkv: Proj,
    out: Proj,
    norm1: Norm,
    up: Proj,
    down: Proj,
    norm2: Norm,
}

/// What the projections compute in (model option `precision`: `"fp32"` or `"int8"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    F32,
    Int8,
}

/// One dense projection, `x · wᵀ + b` from `inp` to `out` features.
struct Proj {
    inp: usize,
    out: usize,
    bias: Vec<f32>,
    weights: Weights,
}

enum Weights {
    /// `out × inp`, row-major (Hugging Face's layout).
    F32(Vec<f32>),
    /// Quantized; the input dimension padded with zero columns up to a multiple of 256, where
    /// candle has tiled AVX512-VNNI kernels (it falls back to one block dot product at a time
    /// otherwise: 4.5x slower on MiniLM's 384-wide projections, `perf`); `pad` zero columns
    /// are added to the activations to match.
    Int8 { l: quantized_nn::Linear, pad: usize },
}

/// The quantized kernels' preferred input width (candle's `QK_K`).
const INT8_TILE_K: usize = 256;

/// Layer normalisation's scale and shift.
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

/// The values of a tensor, flattened.
fn flat(t: &Tensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

impl Proj {
    fn new(w: Tensor, bias: Tensor, p: Precision) -> candle_core::Result<Proj> {
        let (out, inp) = w.dims2()?;
        let weights = match p {
            Precision::F32 => Weights::F32(flat(&w)?),
            Precision::Int8 => {
                let pad = inp.next_multiple_of(INT8_TILE_K) - inp;
                let w = match pad {
                    0 => w,
                    _ => Tensor::cat(&[&w, &Tensor::zeros((out, pad), w.dtype(), w.device())?], 1)?,
                };
                let q = QTensor::quantize(&w, GgmlDType::Q8_0)?;
                Weights::Int8 {
                    // The bias is added by `forward`, as for f32.
                    l: quantized_nn::Linear::from_arc(Arc::new(q), None)?,
                    pad,
                }
            }
        };
        Ok(Proj {
            inp,
            out,
            bias: flat(&bias)?,
            weights,
        })
    }

    /// The `(out, in)` weight and `out` bias at `vb` (`weight`, `bias`).
    fn load(vb: VarBuilder, inp: usize, out: usize, p: Precision) -> candle_core::Result<Proj> {
        Proj::new(vb.get((out, inp), "weight")?, vb.get(out, "bias")?, p)
    }

    /// `x · wᵀ + b (+ residual)` for the `rows × inp` matrix `x`; `residual` is `rows × out`.
    fn forward(&self, x: &[f32], residual: Option<&[f32]>) -> candle_core::Result<Vec<f32>> {
        let rows = x.len() / self.inp.max(1);
        if x.len() != rows * self.inp || residual.is_some_and(|r| r.len() != rows * self.out) {
            candle_core::bail!(
                "projection: input of {} values is not rows of {}",
                x.len(),
                self.inp
            );
        }
        let out = self.out;
        // The starting values: the bias, plus the residual where there is one.
        let mut dst: Vec<f32> = Vec::with_capacity(rows * out);
        dst.spare_capacity_mut()[..rows * out]
            .par_chunks_mut(out)
            .enumerate()
            .for_each(|(r, row)| match residual {
                Some(res) => {
                    for ((d, b), x) in row.iter_mut().zip(&self.bias).zip(&res[r * out..][..out]) {
                        d.write(b + x);
                    }
                }
                None => {
                    for (d, b) in row.iter_mut().zip(&self.bias) {
                        d.write(*b);
                    }
                }
            });
        // SAFETY: every one of the `rows × out` values was written just above.
        unsafe { dst.set_len(rows * out) };
        match &self.weights {
            Weights::F32(w) => {
                // SAFETY: `dst` is `rows × out`, `x` is `rows × inp` and `w` is `out × inp`
                // (checked at load and above), all row-major; `wᵀ` is `w` read by columns.
                unsafe {
                    gemm::gemm(
                        rows,
                        out,
                        self.inp,
                        dst.as_mut_ptr(),
                        1,
                        out as isize,
                        true,
                        x.as_ptr(),
                        1,
                        self.inp as isize,
                        w.as_ptr(),
                        self.inp as isize,
                        1,
                        1.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::Rayon(rayon::current_num_threads()),
                    )
                }
            }
            Weights::Int8 { l, pad } => {
                let mut t = Tensor::from_slice(x, (rows, self.inp), &Device::Cpu)?;
                if *pad > 0 {
                    let zeros = Tensor::zeros((rows, *pad), DType::F32, &Device::Cpu)?;
                    t = Tensor::cat(&[&t, &zeros], 1)?;
                }
                let y = flat(&l.forward(&t)?)?;
                dst.par_iter_mut()
                    .zip(y.par_iter())
                    .for_each(|(d, y)| *d += y);
            }
        }
        Ok(dst)
    }
}

impl Norm {
    fn load(vb: VarBuilder, h: usize, eps: f64) -> candle_core::Result<Norm> {
        Ok(Norm {
            gamma: flat(&vb.get(h, "weight")?)?,
            beta: flat(&vb.get(h, "bias")?)?,
            eps: eps as f32,
        })
    }

    /// Normalises every row of `x` (rows of `gamma.len()` values) in place.
    fn apply(&self, x: &mut [f32]) {
        let h = self.gamma.len();
        x.par_chunks_mut(h).for_each(|row| {
            let mean = row.iter().sum::<f32>() / h as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        });
    }
}

/// A raw pointer that rayon tasks may share, each writing its own disjoint part.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: the tasks that share it write disjoint elements (see `attention`).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// The element at `offset`. (A method, so that closures capture the whole `SharedOut`
    /// rather than its pointer field, which is not `Send`.)
    fn at(&self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// Self-attention of every row's tokens, `heads` heads of width `d`: `qkv` is `tokens × 3h`
/// (queries, keys, values, each `heads × d`), rows of `lens` tokens one after the other.
/// Returns the context, `tokens × h`.
fn attention(qkv: &[f32], lens: &[usize], heads: usize, d: usize) -> Vec<f32> {
    let h = heads * d;
    let w = 3 * h;
    let tokens: usize = lens.iter().sum();
    // The unsafe products below rely on it.
    assert_eq!(qkv.len(), tokens * w, "attention: qkv is not tokens × 3h");
    let starts: Vec<usize> = lens
        .iter()
        .scan(0, |acc, n| {
            let s = *acc;
            *acc += n;
            Some(s)
        })
        .collect();
    let mut ctx = vec![0f32; tokens * h];
    let out = SharedOut(ctx.as_mut_ptr());
    let scale = 1.0 / (d as f32).sqrt();
    (0..lens.len() * heads).into_par_iter().for_each_init(
        Vec::new,
        |scores: &mut Vec<f32>, task| {
            let (row, head) = (task / heads, task % heads);
            let (n, t0) = (lens[row], starts[row]);
            if n == 0 {
                return;
            }
            scores.resize(n * n, 0.0);
            let q = qkv[t0 * w + head * d..].as_ptr();
            // SAFETY: the row's `n` tokens are rows `t0..t0 + n` of `qkv` (`tokens × w`), its
            // head's query, key and value columns `head·d`, `h + head·d` and `2h + head·d`, each
            // `d` wide; `scores` is `n × n`. This task alone writes the context's rows
            // `t0..t0 + n`, columns `head·d..head·d + d` (the tasks' (row, head) are distinct).
            unsafe {
                let (k, v) = (q.add(h), q.add(2 * h));
                // scores = scale · q kᵀ
                gemm::gemm(
                    n,
                    n,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    q,
                    1,
                    w as isize,
                    k,
                    w as isize,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
                scores
                    .chunks_exact_mut(n)
                    .for_each(vecmath::softmax_in_place);
                // context = softmax(scores) · v
                gemm::gemm(
                    n,
                    d,
                    n,
                    out.at(t0 * h + head * d),
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    n as isize,
                    v,
                    1,
                    w as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        },
    );
    ctx
}

impl Encoder {
    pub fn load(vb: VarBuilder, c: &Config, p: Precision) -> candle_core::Result<Encoder> {
        let vb = match vb.contains_tensor("embeddings.word_embeddings.weight") {
            true => vb,
            false => vb.pp("bert"),
        };
        let h = c.hidden_size;
        if c.num_attention_heads == 0 || h % c.num_attention_heads != 0 {
            candle_core::bail!(
                "hidden size {h} is not a multiple of {} heads",
                c.num_attention_heads
            );
        }
        let e = vb.pp("embeddings");
        let norm = |vb: VarBuilder<'_>| Norm::load(vb, h, c.layer_norm_eps);
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
                    norm1: norm(a.pp("output.LayerNorm"))?,
                    up: Proj::load(l.pp("intermediate.dense"), h, i, p)?,
                    down: Proj::load(l.pp("output.dense"), i, h, p)?,
                    norm2: norm(l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Encoder {
            word: flat(&e.get((c.vocab_size, h), "word_embeddings.weight")?)?,
            position: flat(&e.get((c.max_position_embeddings, h), "position_embeddings.weight")?)?,
            token_type: flat(
                &e.get((c.type_vocab_size, h), "token_type_embeddings.weight")?
                    .get(0)?,
            )?,
            norm: norm(e.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
            hidden: h,
            act: c.hidden_act,
        })
    }

    /// The width of a hidden state.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// `ids` holds the tokens of every row one after the other, `lens[i]` of them for row `i`.
    /// Returns the last hidden states, `ids.len() × hidden`, in the same order.
    pub fn forward(&self, ids: &[u32], lens: &[usize]) -> candle_core::Result<Vec<f32>> {
        let h = self.hidden;
        if lens.iter().sum::<usize>() != ids.len() {
            candle_core::bail!("{} token ids for rows of {lens:?} tokens", ids.len());
        }
        let max_pos = self.position.len() / h;
        if let Some(n) = lens.iter().find(|&&n| n > max_pos) {
            candle_core::bail!(
                "a row of {n} tokens is longer than the model's {max_pos} positions"
            );
        }
        let vocab = self.word.len() / h;
        if let Some(id) = ids.iter().find(|&&id| id as usize >= vocab) {
            candle_core::bail!("token id {id} is outside the model's vocabulary of {vocab}");
        }
        let positions: Vec<usize> = lens.iter().flat_map(|&n| 0..n).collect();
        let mut x = vec![0f32; ids.len() * h];
        x.par_chunks_mut(h)
            .zip(ids.par_iter().zip(positions.par_iter()))
            .for_each(|(row, (&id, &pos))| {
                let word = &self.word[id as usize * h..][..h];
                let position = &self.position[pos * h..][..h];
                for (((v, a), b), c) in row.iter_mut().zip(word).zip(position).zip(&self.token_type)
                {
                    *v = a + b + c;
                }
            });
        self.norm.apply(&mut x);
        let d = h / self.heads;
        for l in &self.layers {
            let ctx = attention(&l.qkv.forward(&x, None)?, lens, self.heads, d);
            x = l.out.forward(&ctx, Some(&x))?;
            l.norm1.apply(&mut x);
            let mut up = l.up.forward(&x, None)?;
            let act: fn(&mut [f32]) = match self.act {
                HiddenAct::Gelu => vecmath::gelu_in_place,
                HiddenAct::GeluApproximate => gelu_tanh,
                HiddenAct::Relu => |v| v.iter_mut().for_each(|x| *x = x.max(0.0)),
            };
            up.par_chunks_mut(4096).for_each(act);
            x = l.down.forward(&up, Some(&x))?;
            l.norm2.apply(&mut x);
        }
        Ok(x)
    }
}

/// GELU's tanh approximation (`gelu_new`), in place.
fn gelu_tanh(v: &mut [f32]) {
    const C: f32 = 0.797_884_6; // sqrt(2 / pi)
    for x in v.iter_mut() {
        *x = 0.5 * *x * (1.0 + (C * (*x + 0.044715 * *x * *x * *x)).tanh());
    }
}

/// The dtype the encoder computes in.
pub const DTYPE: DType = DType::F32;
