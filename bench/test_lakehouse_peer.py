#!/usr/bin/env python3
"""Tests of bench/lakehouse_peer.py (stdlib unittest; pytest also collects them).

  VENV/bin/python bench/test_lakehouse_peer.py        # VENV: scripts/requirements-pipeline.txt

Makes a small table, copies it, counts both, and checks that the copy holds the same rows, that
the source has the files asked for, and that the source is the same from one run to the next.
"""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PEER = Path(__file__).resolve().parent / "lakehouse_peer.py"


def run(*args) -> dict:
    out = subprocess.run([sys.executable, str(PEER), *map(str, args)], check=True,
                         capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1])


def rows(table: Path) -> list:
    from deltalake import DeltaTable

    return sorted(DeltaTable(str(table)).to_pyarrow_table().to_pylist(), key=lambda r: r["id"])


class LakehousePeer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.made = run("make-table", "--out", cls.dir / "src", "--rows", 5000, "--files", 3)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_source_has_the_rows_and_files_asked_for(self):
        self.assertEqual(self.made["rows"], 5000)
        self.assertEqual(self.made["files"], 3)
        self.assertEqual(self.made["version"], 2)
        got = rows(self.dir / "src")
        self.assertEqual([r["id"] for r in got], list(range(5000)))
        self.assertEqual(sorted(got[0]), ["city", "fare", "id", "name", "ts"])
        again = run("make-table", "--out", self.dir / "src2", "--rows", 5000, "--files", 3)
        self.assertEqual(again["rows"], 5000)
        self.assertEqual(rows(self.dir / "src2"), got)

    def test_copy_writes_every_row_once(self):
        rep = run("copy", "--input", self.dir / "src", "--out", self.dir / "dst", "--batch-size", 1000)
        for key in ("bench", "rows", "seconds", "rows_per_s", "peak_rss_mb"):
            self.assertIn(key, rep)
        self.assertEqual(rep["rows"], 5000)
        self.assertEqual(run("count", "--table", self.dir / "dst")["rows"], 5000)
        self.assertEqual(rows(self.dir / "dst"), rows(self.dir / "src"))


if __name__ == "__main__":
    unittest.main()
