#!/usr/bin/env python3
"""The Python peer of `disco tree --lsp none`, for bench/tree.sh.

It does what a careful Python user would write to get the same thing with the official
bindings (PyPI `tree-sitter` + `tree-sitter-python`): list every regular `*.py` file under a
directory (symlinks are not followed), sorted by relative path, read and parse each one, walk
every node with a TreeCursor (iteratively, no recursion), build the nested concrete syntax tree
as dicts and write one JSON line per file, in path order, with the path, size and sha256 of the
file. Nodes have the shape `disco tree` writes, so that both write about the same bytes:
pre-order index `n`, kind, field name (when any), named, extra/error/missing (when true),
span [start_byte, end_byte, start_row, start_col, end_row, end_col], `last` (pre-order index of
the last descendant, inner nodes), and leaf text (UTF-8, errors replaced). File statuses follow
disco's names: ok, syntax_errors, invalid_encoding, unreadable, too_deep (a UTF-8 BOM is dropped
before parsing, as disco does).

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
# Deeper trees get status `too_deep`, as with `disco tree`'s default `--max-depth`.
MAX_DEPTH = 1000
BOM = b"\xef\xbb\xbf"

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
    # The C encoder counts its recursion (two levels per tree level) against this limit.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * MAX_DEPTH + 100))
    gc.disable()


class TooDeep(Exception):
    pass


# ERROR and MISSING nodes seen by `_node` (a tree can hold an ERROR leaf while its root's
# `has_error` is false, so the status is taken from the nodes themselves).
_FLAWS = [0]


def _node(node: ts.Node, field: str | None, n: int) -> dict:
    """One node's record, in the shape `disco tree` writes: `n` (pre-order index), kind,
    field (when there is one), named, extra/error/missing (only when true), span, and
    `last` (pre-order index of the last descendant, for inner nodes)."""
    d = {"n": n, "kind": node.type}
    if field is not None:
        d["field"] = field
    d["named"] = node.is_named
    if node.is_extra:
        d["extra"] = True
    if node.is_error:
        d["error"] = True
        _FLAWS[0] += 1
    if node.is_missing:
        d["missing"] = True
        _FLAWS[0] += 1
    sp = node.start_point
    ep = node.end_point
    d["span"] = [node.start_byte, node.end_byte, sp[0], sp[1], ep[0], ep[1]]
    last = n + node.descendant_count - 1
    if last != n:
        d["last"] = last
    return d


def build_tree(tree: ts.Tree, src: bytes) -> dict:
    """The nested record of every node of `tree`, walked in pre-order with one cursor."""
    cursor = tree.walk()
    n = 0
    root = _node(cursor.node, None, n)
    stack = [root]
    push = stack.append
    pop = stack.pop
    while True:
        if cursor.goto_first_child():
            n += 1
            child = _node(cursor.node, cursor.field_name, n)
            stack[-1]["children"] = [child]
            push(child)
            if len(stack) > MAX_DEPTH + 1:
                raise TooDeep
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
        n += 1
        child = _node(cursor.node, cursor.field_name, n)
        stack[-1]["children"].append(child)
        push(child)


def _record(rel: str, src: bytes, encoding: str | None, status: str, reason: str | None,
            tree: dict | None) -> dict:
    return {
        "schema": SCHEMA,
        "file": {
            "path": rel,
            "language": "python",
            "bytes": len(src),
            "sha256": hashlib.sha256(src).hexdigest(),
            "encoding": encoding,
        },
        "status": status,
        "reason": reason,
        "tree": tree,
    }


def _read(rel: str) -> tuple[bytes, bytes | None, str | None, str | None]:
    """(content, text to parse or None, encoding, reason it cannot be parsed)."""
    with open(os.path.join(_ROOT, rel), "rb") as f:
        src = f.read()
    text, encoding = (src[3:], "utf-8-bom") if src.startswith(BOM) else (src, "utf-8")
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as e:
        return src, None, None, f"not valid utf-8 at byte {e.start}"
    return src, text, encoding, None


def process(rel: str) -> bytes:
    """One file's JSON line."""
    try:
        src, text, encoding, reason = _read(rel)
    except OSError as e:
        rec = _record(rel, b"", None, "unreadable", f"cannot read: {e.strerror}", None)
        return (_ENCODE(rec) + "\n").encode()
    if text is None:
        return (_ENCODE(_record(rel, src, encoding, "invalid_encoding", reason, None)) + "\n").encode()
    tree = _PARSER.parse(text)
    _FLAWS[0] = 0
    try:
        nested = build_tree(tree, text)
        status = "syntax_errors" if _FLAWS[0] else "ok"
        rec = _record(rel, src, encoding, status, None, nested)
    except TooDeep:
        rec = _record(rel, src, encoding, "too_deep", f"deeper than {MAX_DEPTH}", None)
    return (_ENCODE(rec) + "\n").encode()


def parse_only(rel: str) -> int:
    """Read, check and parse one file; build and serialise nothing. Returns its size."""
    try:
        src, text, _, _ = _read(rel)
    except OSError:
        return 0
    if text is not None:
        _PARSER.parse(text)
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
