#!/usr/bin/env python3
"""The Python peer of `disco tree --lsp none`, for bench/tree.sh.

It does what a careful Python user would write to get the same thing with the official
bindings (PyPI `tree-sitter` + `tree-sitter-python`): list every regular `*.py` file under a
directory (symlinks are not followed), sorted by relative path, read and parse each one, walk
every node with a TreeCursor (iteratively, no recursion), build the nested concrete syntax tree
as dicts (kind, field name, named/error/missing/extra flags,
[start_byte, end_byte, start_row, start_col, end_row, end_col], leaf text) and write one JSON
line per file, in path order, with the path, size and sha256 of the file.

It is meant to be a fair opponent, not a straw man: one parser per process, files fanned out
to a `multiprocessing` pool with ordered `imap` (no pool at all for `--jobs 1`), records
serialised in the workers so the parent only writes bytes, compact JSON, and the cyclic
garbage collector switched off while trees are built (the records hold no cycles, so reference
counting frees them; leaving the collector on makes it rescan every live node dict and costs
more than the walk itself).

    tree_peer.py DIR [--jobs N] [-o FILE] [--parse-only]

`--parse-only` lists, reads and parses the same files and builds/serialises nothing: the
limit of this peer. A summary goes to stderr.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import os
import sys
import time

import tree_sitter as ts
import tree_sitter_python as tspython

SCHEMA = "disco.tree/1"

# Set per process by `_init`.
_PARSER: ts.Parser | None = None
_ROOT = ""
_ENCODE = None


def list_files(root: str) -> list[str]:
    """Every regular file ending in `.py` under `root`, relative and `/`-separated, sorted
    by the path string (the order `disco` writes). Symlinks, to files or folders, are not
    followed; hidden files and folders are included."""
    found: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as it:
            for entry in it:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                    found.append(rel)
    found.sort()
    return found


def _init(root: str) -> None:
    global _PARSER, _ROOT, _ENCODE
    _PARSER = ts.Parser(ts.Language(tspython.language()))
    _ROOT = root
    _ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    # Deeply nested expressions make deeply nested records; the C encoder counts its
    # recursion against this limit.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    gc.disable()


def _node(n: ts.Node, field: str | None) -> dict:
    sp = n.start_point
    ep = n.end_point
    return {
        "kind": n.type,
        "field": field,
        "named": n.is_named,
        "error": n.is_error,
        "missing": n.is_missing,
        "extra": n.is_extra,
        "span": [n.start_byte, n.end_byte, sp[0], sp[1], ep[0], ep[1]],
    }


def build_tree(tree: ts.Tree, src: bytes) -> dict:
    """The nested record of every node of `tree`, walked in pre-order with one cursor."""
    cursor = tree.walk()
    root = _node(cursor.node, None)
    stack = [root]
    push = stack.append
    pop = stack.pop
    while True:
        if cursor.goto_first_child():
            child = _node(cursor.node, cursor.field_name)
            stack[-1]["children"] = [child]
            push(child)
            continue
        # A leaf: its text, then on to the next sibling, climbing as far as needed.
        leaf = stack[-1]
        span = leaf["span"]
        leaf["text"] = src[span[0] : span[1]].decode("utf-8", "replace")
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return root
            pop()
        pop()
        child = _node(cursor.node, cursor.field_name)
        stack[-1]["children"].append(child)
        push(child)


def _record(rel: str, src: bytes, status: str, reason: str | None, tree: dict | None) -> dict:
    return {
        "schema": SCHEMA,
        "file": {
            "path": rel,
            "language": "python",
            "bytes": len(src),
            "sha256": hashlib.sha256(src).hexdigest(),
        },
        "status": status,
        "reason": reason,
        "tree": tree,
    }


def process(rel: str) -> bytes:
    """One file's JSON line."""
    try:
        with open(os.path.join(_ROOT, rel), "rb") as f:
            src = f.read()
    except OSError as e:
        return (_ENCODE(_record(rel, b"", "error", f"cannot read: {e.strerror}", None)) + "\n").encode()
    try:
        src.decode("utf-8")
    except UnicodeDecodeError as e:
        rec = _record(rel, src, "skipped", f"invalid utf-8 at byte {e.start}", None)
        return (_ENCODE(rec) + "\n").encode()
    tree = _PARSER.parse(src)
    rec = _record(rel, src, "ok", None, build_tree(tree, src))
    del tree
    try:
        line = _ENCODE(rec)
    except RecursionError:
        rec["tree"] = None
        rec["status"] = "error"
        rec["reason"] = "tree too deep to serialise"
        line = _ENCODE(rec)
    return (line + "\n").encode()


def parse_only(rel: str) -> int:
    """Read, check and parse one file; build and serialise nothing. Returns its size."""
    try:
        with open(os.path.join(_ROOT, rel), "rb") as f:
            src = f.read()
    except OSError:
        return 0
    try:
        src.decode("utf-8")
    except UnicodeDecodeError:
        return len(src)
    _PARSER.parse(src)
    return len(src)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-o", "--output", help="write the JSON lines here (default: stdout)")
    ap.add_argument("--parse-only", action="store_true", help="parse, build and write nothing")
    args = ap.parse_args()

    t0 = time.perf_counter()
    root = os.path.abspath(args.dir)
    files = list_files(root)
    jobs = max(1, args.jobs)
    work = parse_only if args.parse_only else process

    if args.parse_only:
        out = None
    elif args.output:
        out = open(args.output, "wb", buffering=1 << 20)
    else:
        out = sys.stdout.buffer

    if jobs == 1:
        _init(root)
        results = map(work, files)
        pool = None
    else:
        # Ordered imap; chunks small enough to balance files of very different sizes,
        # large enough that the per-task overhead stays in the noise.
        chunksize = max(1, min(16, len(files) // (jobs * 8)))
        pool = multiprocessing.get_context("fork").Pool(jobs, _init, (root,))
        results = pool.imap(work, files, chunksize)

    written = 0
    for r in results:
        if out is not None:
            out.write(r)
            written += len(r)
    if pool is not None:
        pool.close()
        pool.join()
    if out is not None and out is not sys.stdout.buffer:
        out.close()
    elif out is not None:
        out.flush()

    dt = time.perf_counter() - t0
    mode = "parse-only" if args.parse_only else "tree"
    print(
        f"tree_peer: {mode}, {len(files)} files, jobs {jobs}, {written} bytes written, {dt:.2f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
