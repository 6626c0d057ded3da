#!/usr/bin/env python3
"""Counting helpers of bench/lsp_scale.sh (standard library only).

  lsp_scale.py scip INDEX.scip        definitions and references to the project's own symbols
                                      in a SCIP index (decoded here from the protobuf wire format)
  lsp_scale.py disco RECORDS.jsonl    the same figures from `disco tree --lsp full` records
                                      (bench/lsp_scale_peer.py prints its own, counted alike)
  lsp_scale.py report RUNS.jsonl      the table, ratios and goals

A reference to a project symbol is an occurrence that is not a definition and whose symbol is
defined in the project: for SCIP, a global symbol with a definition occurrence in some document
(or a `local N` symbol with one in the same document); for Disco, the start node of a
`references` or `defines` edge whose other end is a node inside the project (not the definition
itself). Both are counted as distinct (file, position) pairs.
"""

import json
import sys


# --- a minimal protobuf reader: only what SCIP's Index/Document/Occurrence need -------------


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf):
    """(field number, wire type, value) of a message; value is bytes for length-delimited."""
    i, n = 0, len(buf)
    while i < n:
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i : i + 8], i + 8
        elif wt == 2:
            size, i = varint(buf, i)
            v, i = buf[i : i + size], i + size
        elif wt == 5:
            v, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, v


def packed(v, wt):
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def scip_main(path):
    # Index.documents = 2; Document.relative_path = 1, occurrences = 2;
    # Occurrence.range = 1 (packed int32), symbol = 2, symbol_roles = 3 (Definition = 1).
    docs = []
    with open(path, "rb") as f:
        data = f.read()
    for num, _, v in fields(data):
        if num != 2:
            continue
        rel, occs = "", []
        for dn, _, dv in fields(v):
            if dn == 1:
                rel = dv.decode()
            elif dn == 2:
                rng, sym, roles = [], "", 0
                for on, owt, ov in fields(dv):
                    if on == 1:
                        rng += packed(ov, owt)
                    elif on == 2:
                        sym = ov.decode()
                    elif on == 3:
                        roles = ov
                occs.append((tuple(rng[:2]), sym, roles))
        docs.append((rel, occs))
    defined = set()
    for rel, occs in docs:
        for _, sym, roles in occs:
            if roles & 1 and sym:
                defined.add((rel, sym) if sym.startswith("local ") else sym)
    definitions = refs = refs_global = 0
    positions = set()
    for rel, occs in docs:
        for pos, sym, roles in occs:
            if roles & 1:
                definitions += 1
                continue
            key = (rel, sym) if sym.startswith("local ") else sym
            if sym and key in defined:
                refs += 1
                refs_global += not sym.startswith("local ")
                positions.add((rel, pos))
    print(json.dumps({"documents": len(docs), "definitions": definitions, "refs": len(positions),
                      "ref_occurrences": refs, "ref_occurrences_global": refs_global}))


def disco_main(path):
    files = symbols = hovers = diagnostics = errors = 0
    edges, positions, status = {}, set(), {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "file" not in rec:
                continue
            files += 1
            syms = rec.get("symbols") or {}
            symbols += len(syms)
            hovers += sum(1 for s in syms.values() if s.get("hover"))
            diagnostics += len(rec.get("diagnostics") or [])
            errors += len(rec.get("errors") or [])
            for s in rec.get("producers", {}).get("servers", []):
                status[s["status"]] = status.get(s["status"], 0) + 1
            for e in rec.get("edges") or []:
                edges[e["kind"]] = edges.get(e["kind"], 0) + 1
                if e["kind"] not in ("references", "defines"):
                    continue
                a, b = e["from"], e["to"]
                if a.get("external") or b.get("external") or a.get("node") is None or b.get("node") is None:
                    continue
                if (a["path"], a["node"]) == (b["path"], b["node"]):
                    continue
                positions.add((a["path"], a["node"]))
    print(json.dumps({"files": files, "symbols": symbols, "hovers": hovers, "diagnostics": diagnostics,
                      "errors": errors, "edges": edges, "refs": len(positions), "server_status": status}))


def report_main(path):
    runs = [json.loads(line) for line in open(path)]
    by = {}
    for r in runs:
        by.setdefault(r["row"], []).append(r)

    def med(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else float("nan")

    fig = {}
    print(f"{'run':<28} {'wall s':>8} {'srv cpu':>8} {'cli cpu':>8} {'peak MB':>8} {'refs':>7}  details")
    for row, rs in by.items():
        wall = med([r["monitor"]["wall_s"] for r in rs])
        mb = med([(r["monitor"]["client_peak_rss"] + r["monitor"]["server_peak_rss"]) / 1e6 for r in rs])
        res = rs[-1]["result"]
        fig[row] = (wall, mb, res.get("refs"))
        detail = {k: v for k, v in res.items() if k not in ("refs",) and v != []}
        refs = res.get("refs")
        srv = med([r["monitor"]["server_cpu_s"] for r in rs])
        cli = med([r["monitor"]["client_cpu_s"] for r in rs])
        print(f"{row:<28} {wall:>8.2f} {srv:>8.1f} {cli:>8.1f} {mb:>8.0f} {refs if refs is not None else '-':>7}  {json.dumps(detail)}")
    print()

    def ratio(a, b):
        return a / b if b else float("nan")

    goals = []
    # The same comparisons against the other peers: printed as checks, not as issue 10's
    # goals (which name scip-python).
    checks = []
    if "disco_full" in fig and "scip_python" in fig:
        (dw, dm, dr), (sw, _, sr) = fig["disco_full"], fig["scip_python"]
        goals.append(("full wall <= scip-python wall", f"{dw:.2f} s vs {sw:.2f} s ({ratio(dw, sw):.2f}x)", dw <= sw))
        goals.append(("full refs >= scip-python refs", f"{dr} vs {sr} ({ratio(dr or 0, sr):.2f}x)", (dr or 0) >= (sr or 0)))
        goals.append(("full peak RSS < 500 MB", f"{dm:.0f} MB", dm < 500))
    if "disco_full_capped" in fig and "disco_full" in fig:
        (cw, cm, cr), (dw, _, dr) = fig["disco_full_capped"], fig["disco_full"]
        checks.append(("full peak RSS < 500 MB with basedpyright's heap capped (catalog env)", f"{cm:.0f} MB, {cw:.2f} s ({ratio(cw, dw):.2f}x the uncapped wall)", cm < 500))
        checks.append(("capped refs == uncapped refs", f"{cr} vs {dr}", cr == dr))
    if "disco_full" in fig and "scip_typescript" in fig:
        (dw, _, dr), (sw, _, sr) = fig["disco_full"], fig["scip_typescript"]
        checks.append(("full wall <= scip-typescript wall", f"{dw:.2f} s vs {sw:.2f} s ({ratio(dw, sw):.2f}x)", dw <= sw))
        checks.append(("full refs >= scip-typescript refs", f"{dr} vs {sr} ({ratio(dr or 0, sr):.2f}x)", (dr or 0) >= (sr or 0)))
    if "disco_full" in fig and "multilspy_full" in fig:
        (dw, _, dr), (mw, _, mr) = fig["disco_full"], fig["multilspy_full"]
        checks.append(("full wall <= multilspy wall (same server, same requests)", f"{dw:.2f} s vs {mw:.2f} s ({ratio(dw, mw):.2f}x)", dw <= mw))
        checks.append(("full refs >= multilspy refs", f"{dr} vs {mr} ({ratio(dr or 0, mr):.2f}x)", (dr or 0) >= (mr or 0)))
    if "disco_symbols" in fig and "baseline_symbols" in fig:
        w, b = fig["disco_symbols"][0], fig["baseline_symbols"][0]
        goals.append(("symbols >= 2x faster than the baseline", f"{w:.2f} s vs {b:.2f} s ({ratio(b, w):.2f}x faster)", b >= 2 * w))
    if "disco_full" in fig and "baseline_full" in fig:
        w, b = fig["disco_full"][0], fig["baseline_full"][0]
        print(f"full vs the baseline binary: {w:.2f} s vs {b:.2f} s ({ratio(b, w):.2f}x faster)")
    for name, value, ok in goals:
        print(f"goal {'MET ' if ok else 'MISS'}  {name}: {value}")
    for name, value, ok in checks:
        print(f"check {'MET ' if ok else 'MISS'} {name}: {value}")


def line_main(_):
    r = json.loads(sys.stdin.read())
    m = r["monitor"]
    mb = (m["client_peak_rss"] + m["server_peak_rss"]) / 1e6
    print(f"{m['wall_s']:.2f} s, {mb:.0f} MB, refs {r['result'].get('refs')}")


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    {"scip": scip_main, "disco": disco_main, "report": report_main, "line": line_main}[cmd](arg)
