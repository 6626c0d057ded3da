#!/usr/bin/env python3
"""Tests of bench/pipeline_peers.py (stdlib unittest; pytest also collects them).

  VENV/bin/python bench/test_pipeline_peers.py        # VENV: scripts/requirements-pipeline.txt

Runs every subcommand on a small corpus in a scratch folder and checks its output: the JSON
report, rows in = valid + invalid, the parquet schemas, ids equal to HF tokenizers', unit-norm
embeddings close to the fp32 reference.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "pipeline_peers.py"
REF = HERE.parents[1] / "shared" / "reference" / "minilm.json"


def run(*args) -> dict:
    out = subprocess.run([sys.executable, str(PEERS), *map(str, args)], check=True,
                         capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1])


class PipelinePeers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.manifest = run("make-corpus", "--out", cls.dir / "c", "--mb", "0.25")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_report(self, rep, rows):
        for key in ("bench", "rows", "seconds", "rows_per_s", "peak_rss_mb"):
            self.assertIn(key, rep)
        self.assertEqual(rep["rows"], rows)
        self.assertGreater(rep["peak_rss_mb"], 1)

    def test_corpus_is_deterministic_and_complete(self):
        import pyarrow.parquet as pq

        again = run("make-corpus", "--out", self.dir / "c2", "--mb", "0.25")
        self.assertEqual(again["files"], self.manifest["files"])
        self.assertGreaterEqual(self.manifest["text_bytes"], 0.25 * 1024 * 1024)
        t = pq.read_table(self.dir / "c" / "corpus.parquet")
        self.assertEqual(t.schema.names, ["id", "path", "text", "record"])
        self.assertEqual(str(t.schema.field("id").type), "int64")
        self.assertEqual(str(t.schema.field("text").type), "string")
        self.assertTrue(str(t.schema.field("record").type).startswith("struct<"))
        nd = (self.dir / "c" / "corpus.ndjson").read_text().splitlines()
        self.assertEqual(len(nd), t.num_rows)
        self.assertEqual(self.manifest["rows"], t.num_rows)
        first = json.loads(nd[0])
        self.assertEqual(first["text"], t.column("text")[0].as_py())
        self.assertEqual(t.column("id").to_pylist(), list(range(t.num_rows)))

    def test_validators_agree(self):
        nd = self.dir / "c" / "corpus.ndjson"
        a = run("validate-jsonschema", "--input", nd, "--rejects", self.dir / "a.ndjson")
        b = run("validate-fastjsonschema", "--input", nd, "--rejects", self.dir / "b.ndjson")
        rows = self.manifest["rows"]
        for rep in (a, b):
            self.check_report(rep, rows)
            self.assertEqual(rep["valid"] + rep["invalid"], rows)
        self.assertEqual((a["valid"], a["invalid"]), (b["valid"], b["invalid"]))
        self.assertGreater(a["invalid"], 0, "the schema is meant to reject some rows")
        self.assertGreater(a["valid"], a["invalid"])
        ids = lambda p: [json.loads(x)["id"] for x in p.read_text().splitlines()]  # noqa: E731
        self.assertEqual(ids(self.dir / "a.ndjson"), ids(self.dir / "b.ndjson"))
        self.assertEqual(a["first_error_pointers"], b["first_error_pointers"])

    def test_tokenize(self):
        import pyarrow.parquet as pq
        from tokenizers import Tokenizer

        sys.path.insert(0, str(HERE))
        from pipeline_peers import model_paths

        out = self.dir / "tok.parquet"
        rep = run("tokenize", "--input", self.dir / "c" / "corpus.parquet", "--out", out,
                  "--batch-size", "100")
        self.check_report(rep, self.manifest["rows"])
        t = pq.read_table(out)
        self.assertEqual(str(t.schema.field("ids").type), "list<element: uint32>")
        tok = Tokenizer.from_file(str(model_paths()["tokenizer"]))
        tok.no_padding()
        tok.no_truncation()
        texts = pq.read_table(self.dir / "c" / "corpus.parquet").column("text").to_pylist()
        got = t.column("ids").to_pylist()
        for i in (0, 1, len(texts) // 2, len(texts) - 1):
            self.assertEqual(got[i], tok.encode(texts[i]).ids)
        self.assertEqual(rep["tokens"], sum(len(x) for x in got))
        self.assertEqual(t.column("n_tokens").to_pylist(), [len(x) for x in got])

    def test_embed_onnx(self):
        import numpy as np
        import pyarrow.parquet as pq

        out = self.dir / "emb.parquet"
        rep = run("embed-onnx", "--input", self.dir / "c" / "corpus.parquet", "--out", out,
                  "--limit", "40", "--batch-size", "16")
        self.check_report(rep, 40)
        t = pq.read_table(out)
        self.assertEqual(str(t.schema.field("embedding").type), "fixed_size_list<element: float>[384]")
        e = np.asarray(t.column("embedding").to_pylist(), dtype=np.float64)
        np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
        self.assertEqual(t.column("id").to_pylist(), list(range(40)))

    @unittest.skipUnless(REF.exists(), "no ../shared/reference/minilm.json")
    def test_embedder_close_to_fp32_reference(self):
        import numpy as np

        sys.path.insert(0, str(HERE))
        from pipeline_peers import OnnxEmbedder

        ref = json.loads(REF.read_text())
        e = OnnxEmbedder(max_length=ref["max_seq_length"]).embed([it["text"] for it in ref["items"]])
        r = np.asarray([it["embedding"] for it in ref["items"]])
        cos = (e * r).sum(axis=1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(r, axis=1))
        self.assertGreater(cos.min(), 0.99)  # int8 weights: ~0.996-0.9997, not the 1e-4 of fp32


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    unittest.main(verbosity=2)
