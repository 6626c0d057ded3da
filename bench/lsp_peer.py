#!/usr/bin/env python3
"""The peer of bench/lsp.sh: multilspy (PyPI) asking jedi-language-server what Disco asks it.

For every .py file of a corpus (sorted by relative path): textDocument/documentSymbol, then
textDocument/hover at the selectionRange.start (else range.start) of every symbol it returned,
flattened depth-first the way multilspy's request_document_symbols flattens them. That is what
`disco tree --lsp symbols --lsp-only textDocument/documentSymbol,textDocument/hover` asks.

    lsp_peer.py CORPUS [--server PATH] [--mode sync|async] [--concurrency N] [--reopen] [-o OUT]

prints one JSON object: files, symbols, hovers (answered: non-empty contents, as Disco counts
them), requests, errors, wall_s (inside this process, from before the server starts to after
it is shut down) and versions. -o writes one JSON line per file (symbol names, positions and
whether each hover was answered) for comparing with Disco's records.

  --mode sync    (default) multilspy's SyncLanguageServer: one request at a time, as its README
                 and most users drive it. The file is held open (`with lsp.open_file(...)`)
                 around its requests, so each file is opened (didOpen) and closed once, as Disco
                 does; --reopen drops that and lets each request open and close the file itself
                 (multilspy's behaviour when called without open_file: a didOpen, so a fresh
                 diagnostics pass by the server, per request).
  --mode async   multilspy's asyncio LanguageServer: the hovers of a file are sent together
                 (asyncio.gather) and --concurrency files are in flight at once, which is what
                 Disco does with --jobs. Not the primary peer, only a "best case" for multilspy.

Helpers used by bench/lsp.sh live here too, so that the benchmark is two files:

    lsp_peer.py monitor --json OUT [--stdout FILE] [--stderr FILE] -- CMD...
        runs CMD, polls its process tree every 50 ms (psutil), and writes wall seconds, the
        CPU seconds of CMD itself and of its descendants (the language servers), peak RSS and
        the descendants' command lines.
    lsp_peer.py proxy --count FILE -- SERVER...
        a transparent stdio proxy in front of a language server that counts the client's
        requests and notifications by method (used in one untimed run, never in timed ones).
    lsp_peer.py disco-summary OUT.jsonl [-o PER_FILE.jsonl]
        the same figures as the peer's, read from Disco's records.
    lsp_peer.py report ...
        the table (called by lsp.sh with its collected figures).
"""

import argparse
import json
import os
import statistics
import sys
import time


def hover_text(contents):
    """Disco's rule (src/tree/enrich.rs hover_text): the text of a hover, None when blank."""
    if isinstance(contents, str):
        text = contents
    elif isinstance(contents, dict):
        v = contents.get("value")
        text = v if isinstance(v, str) else ""
    elif isinstance(contents, list):
        text = "\n\n".join(t for t in (hover_text(c) for c in contents) if t)
    else:
        text = ""
    return text if text.strip() else None


def corpus_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in files:
            if f.endswith(".py"):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def symbol_position(sym):
    r = sym.get("selectionRange") or sym.get("range") or (sym.get("location") or {}).get("range")
    start = r["start"]
    return start["line"], start["character"]


# --- the peer ------------------------------------------------------------------------------


def peer_main(argv):
    ap = argparse.ArgumentParser(prog="lsp_peer.py", description="multilspy peer of disco tree --lsp")
    ap.add_argument("corpus")
    ap.add_argument("--server", help="jedi-language-server executable (default: the one next to this Python)")
    ap.add_argument("--mode", choices=("sync", "async"), default="sync")
    ap.add_argument("--concurrency", type=int, default=4, help="files in flight in --mode async")
    ap.add_argument("--reopen", action="store_true", help="do not hold files open around their requests")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one request may take")
    ap.add_argument("-o", "--output", help="per-file JSON lines")
    a = ap.parse_args(argv)

    t_start = time.perf_counter()
    from importlib.metadata import version

    from multilspy import LanguageServer, SyncLanguageServer
    from multilspy.multilspy_config import Language, MultilspyConfig
    from multilspy.multilspy_logger import MultilspyLogger

    t_imported = time.perf_counter()
    root = os.path.abspath(a.corpus)
    server = a.server or os.path.join(os.path.dirname(sys.executable), "jedi-language-server")
    files = corpus_files(root)
    config = MultilspyConfig(code_language=Language.PYTHON, server_binary=server)
    logger = MultilspyLogger()
    per_file = []
    stats = {"requests": 0, "document_symbol_requests": 0, "hover_requests": 0, "errors": 0, "error_samples": []}

    def error(rel, what, e):
        stats["errors"] += 1
        if len(stats["error_samples"]) < 5:
            stats["error_samples"].append(f"{rel}: {what}: {type(e).__name__}: {e}")

    def file_record(rel, syms, answers):
        rec = {"path": rel, "symbols": [], "hovers": 0}
        for s, h in zip(syms, answers):
            line, col = symbol_position(s)
            rec["symbols"].append([s.get("name"), line, col, h])
            rec["hovers"] += bool(h)
        return rec

    if a.mode == "sync":
        lsp = SyncLanguageServer.create(config, logger, root, timeout=a.timeout)
        t0 = time.perf_counter()
        with lsp.start_server():
            t_ready = time.perf_counter()
            for rel in files:
                import contextlib

                hold = contextlib.nullcontext() if a.reopen else lsp.open_file(rel)
                with hold:
                    stats["requests"] += 1
                    stats["document_symbol_requests"] += 1
                    try:
                        syms, _tree = lsp.request_document_symbols(rel)
                    except Exception as e:  # noqa: BLE001 - counted, reported
                        error(rel, "documentSymbol", e)
                        syms = []
                    answers = []
                    for s in syms:
                        line, col = symbol_position(s)
                        stats["requests"] += 1
                        stats["hover_requests"] += 1
                        try:
                            h = lsp.request_hover(rel, line, col)
                        except Exception as e:  # noqa: BLE001
                            error(rel, "hover", e)
                            h = None
                        answers.append(bool(h and hover_text(h.get("contents"))))
                per_file.append(file_record(rel, syms, answers))
            t_done = time.perf_counter()
        t_end = time.perf_counter()
    else:
        import asyncio

        async def run():
            nonlocal t0, t_ready, t_done
            lsp = LanguageServer.create(config, logger, root)
            sem = asyncio.Semaphore(max(1, a.concurrency))
            results = {}

            async def one(rel):
                async with sem:
                    import contextlib

                    hold = contextlib.nullcontext() if a.reopen else lsp.open_file(rel)
                    with hold:
                        stats["requests"] += 1
                        stats["document_symbol_requests"] += 1
                        try:
                            syms, _ = await asyncio.wait_for(lsp.request_document_symbols(rel), a.timeout)
                        except Exception as e:  # noqa: BLE001
                            error(rel, "documentSymbol", e)
                            syms = []
                        stats["requests"] += len(syms)
                        stats["hover_requests"] += len(syms)

                        async def hover(s):
                            line, col = symbol_position(s)
                            try:
                                h = await asyncio.wait_for(lsp.request_hover(rel, line, col), a.timeout)
                            except Exception as e:  # noqa: BLE001
                                error(rel, "hover", e)
                                return False
                            return bool(h and hover_text(h.get("contents")))

                        answers = await asyncio.gather(*(hover(s) for s in syms))
                    results[rel] = file_record(rel, syms, answers)

            t0 = time.perf_counter()
            async with lsp.start_server():
                t_ready = time.perf_counter()
                await asyncio.gather(*(one(rel) for rel in files))
                t_done = time.perf_counter()
            per_file.extend(results[rel] for rel in files)

        t0 = t_ready = t_done = 0.0
        asyncio.run(run())
        t_end = time.perf_counter()

    if a.output:
        with open(a.output, "w") as f:
            for rec in per_file:
                f.write(json.dumps(rec) + "\n")
    out = {
        "client": f"multilspy {a.mode}" + (" --reopen" if a.reopen else ""),
        "files": len(files),
        "symbols": sum(len(r["symbols"]) for r in per_file),
        "hovers": sum(r["hovers"] for r in per_file),
        **stats,
        "wall_s": round(t_end - t_start, 4),
        "import_s": round(t_imported - t_start, 4),
        "startup_s": round(t_ready - t0, 4),
        "requests_s": round(t_done - t_ready, 4),
        "shutdown_s": round(t_end - t_done, 4),
        "server": server,
        "versions": {p: version(p) for p in ("multilspy", "jedi-language-server", "jedi", "pygls")},
    }
    print(json.dumps(out))
    return 1 if stats["errors"] and not per_file else 0


# --- monitor: wall and CPU of a command and of its process tree ---------------------------


def monitor_main(argv):
    import ctypes
    import subprocess
    import threading

    import psutil

    ap = argparse.ArgumentParser(prog="lsp_peer.py monitor")
    ap.add_argument("--json", required=True, help="write the figures here")
    ap.add_argument("--stdout", default=os.devnull)
    ap.add_argument("--stderr", default=os.devnull)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")

    # Orphaned descendants (a server its client did not wait for) are re-parented to us, so
    # that we can still see them, reap them and count their CPU time.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:  # noqa: BLE001 - only a refinement
        pass
    me = psutil.Process()
    seen = {}  # (pid, create_time) -> {"cpu": s, "rss": bytes, "cmd": [...], "root": bool}
    peak = {"client_rss": 0, "server_rss": 0}
    stop = threading.Event()
    lock = threading.Lock()

    def poll(root_pid):
        server_rss = 0
        for p in me.children(recursive=True):
            try:
                with p.oneshot():
                    key = (p.pid, p.create_time())
                    t = p.cpu_times()
                    rss = p.memory_info().rss
                    info = seen.get(key)
                    if info is None:
                        try:
                            c = p.cmdline()
                        except psutil.Error:
                            c = []
                        info = seen[key] = {"cpu": 0.0, "cmd": c, "root": p.pid == root_pid}
                    info["cpu"] = max(info["cpu"], t.user + t.system)
            except psutil.Error:
                continue
            if info["root"]:
                peak["client_rss"] = max(peak["client_rss"], rss)
            else:
                server_rss += rss
        peak["server_rss"] = max(peak["server_rss"], server_rss)

    with open(a.stdout, "wb") as out, open(a.stderr, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

        def poller():
            while not stop.is_set():
                with lock:
                    poll(proc.pid)
                stop.wait(a.interval)

        th = threading.Thread(target=poller, daemon=True)
        th.start()
        # Reap the command ourselves (wait4 gives its rusage, which includes the descendants
        # it waited for); never through Popen, which would race with us.
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        with lock:
            poll(-1)
        total = ru.ru_utime + ru.ru_stime
        client_polled = next((i["cpu"] for i in seen.values() if i["root"]), 0.0)
        # Descendants still running: wait up to 5 s for them to leave (a client should have
        # shut its servers down), then kill and count them as leaked.
        leaked = []
        deadline = time.monotonic() + 5.0
        orphans_cpu = 0.0
        while True:
            with lock:
                poll(-1)
            kids = me.children()
            try:
                while True:
                    pid, st, r = os.wait4(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    orphans_cpu += r.ru_utime + r.ru_stime
                    for k, i in seen.items():
                        if k[0] == pid and not i["root"]:
                            i["cpu"] = max(i["cpu"], r.ru_utime + r.ru_stime)
            except ChildProcessError:
                pass
            kids = [k for k in me.children() if k.status() != psutil.STATUS_ZOMBIE]
            if not kids:
                break
            if time.monotonic() > deadline:
                for k in me.children(recursive=True):
                    try:
                        leaked.append(" ".join(k.cmdline()))
                        k.kill()
                    except psutil.Error:
                        pass
                deadline = float("inf")
            time.sleep(0.05)
        stop.set()
        th.join()
    total += orphans_cpu
    server_cpu = sum(i["cpu"] for i in seen.values() if not i["root"])
    res = {
        "returncode": proc.returncode,
        "wall_s": wall,
        "tree_cpu_s": total,
        "server_cpu_s": server_cpu,
        # Exact total (rusage) minus the descendants as last polled: the client's own time.
        "client_cpu_s": max(0.0, total - server_cpu),
        "client_cpu_polled_s": client_polled,
        "client_peak_rss": peak["client_rss"],
        "server_peak_rss": peak["server_rss"],
        "descendants": sorted({" ".join(i["cmd"]) for i in seen.values() if not i["root"]}),
        "leaked": leaked,
    }
    with open(a.json, "w") as f:
        json.dump(res, f)
    return proc.returncode


# --- proxy: counts what a client sends to a server ----------------------------------------


def proxy_main(argv):
    import subprocess
    import threading

    ap = argparse.ArgumentParser(prog="lsp_peer.py proxy")
    ap.add_argument("--count", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    counts = {}
    sigs = []
    lock = threading.RLock()

    def save():
        with lock:
            tmp = a.count + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"counts": counts, "requests": sorted(sigs)}, f, sort_keys=True)
            os.replace(tmp, a.count)

    def signature(msg):
        """What identifies a document message or request: method, document, position (or text hash)."""
        import hashlib

        p = msg.get("params") or {}
        td = p.get("textDocument") or {}
        sig = [msg.get("method", ""), td.get("uri", "")]
        if "text" in td:
            sig += [td.get("languageId"), hashlib.sha256(td["text"].encode()).hexdigest()[:16]]
        if "position" in p:
            sig.append(f"{p['position'].get('line')}:{p['position'].get('character')}")
        return " ".join(str(x) for x in sig)

    def up():  # client -> server, parsed and counted
        src = sys.stdin.buffer
        dst = proc.stdin
        try:
            while True:
                headers = b""
                while not headers.endswith(b"\r\n\r\n"):
                    ch = src.read(1)
                    if not ch:
                        return
                    headers += ch
                n = 0
                for h in headers.split(b"\r\n"):
                    if h.lower().startswith(b"content-length:"):
                        n = int(h.split(b":", 1)[1])
                body = src.read(n)
                try:
                    msg = json.loads(body)
                    kind = "request" if "id" in msg and "method" in msg else ("notification" if "method" in msg else "response")
                    key = f"{kind} {msg.get('method', '')}".strip()
                    with lock:
                        counts[key] = counts.get(key, 0) + 1
                        if str(msg.get("method", "")).startswith("textDocument/"):
                            sigs.append(signature(msg))
                    if msg.get("method") in ("shutdown", "exit"):
                        save()
                except ValueError:
                    pass
                dst.write(headers + body)
                dst.flush()
        except (BrokenPipeError, OSError):
            return
        finally:
            try:
                dst.close()
            except OSError:
                pass

    def down():  # server -> client, copied as is
        while True:
            b = proc.stdout.read1(65536)
            if not b:
                break
            sys.stdout.buffer.write(b)
            sys.stdout.buffer.flush()

    import signal

    def on_signal(signum, _frame):
        save()
        try:
            proc.send_signal(signum)
        except OSError:
            pass
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    t = threading.Thread(target=up, daemon=True)
    t.start()
    try:
        down()
    except (BrokenPipeError, OSError):
        pass
    rc = proc.wait()
    save()
    return rc


# --- Disco's records, in the peer's terms -------------------------------------------------


def disco_summary_main(argv):
    ap = argparse.ArgumentParser(prog="lsp_peer.py disco-summary")
    ap.add_argument("records")
    ap.add_argument("--root", help="the corpus root (to make absolute paths relative)")
    ap.add_argument("-o", "--output", help="per-file JSON lines")
    a = ap.parse_args(argv)
    files = symbols = hovers = 0
    status = {}
    errors = {}
    per_file = []
    versions = set()
    with open(a.records) as f:
        for line in f:
            rec = json.loads(line)
            if "file" not in rec:  # flat records: only file lines carry symbols
                continue
            files += 1
            path = rec["file"]["path"]
            if a.root and os.path.isabs(path):
                path = os.path.relpath(path, a.root)
            syms = rec.get("symbols") or {}
            syms = list(syms.values()) if isinstance(syms, dict) else list(syms)
            answered = [s for s in syms if s.get("hover")]
            symbols += len(syms)
            hovers += len(answered)
            for s in rec.get("producers", {}).get("servers", []):
                k = f"{s.get('name')}:{s.get('status')}"
                status[k] = status.get(k, 0) + 1
                if s.get("version"):
                    versions.add(f"{s.get('name')} {s['version']}")
            for e in rec.get("errors") or []:
                k = str(e.get("request") or e.get("method") or e)[:80] if isinstance(e, dict) else str(e)[:80]
                errors[k] = errors.get(k, 0) + 1
            per_file.append(
                {"path": path, "symbols": [[s.get("name"), None, None, bool(s.get("hover"))] for s in syms], "hovers": len(answered)}
            )
    if a.output:
        with open(a.output, "w") as f:
            for rec in sorted(per_file, key=lambda r: r["path"]):
                f.write(json.dumps(rec) + "\n")
    print(json.dumps({"client": "disco", "files": files, "symbols": symbols, "hovers": hovers, "server_status": status, "errors": errors, "server_versions": sorted(versions)}))
    return 0


# --- the report ---------------------------------------------------------------------------


def compare(disco_pf, peer_pf, limit=6):
    """Lines explaining where Disco's and the peer's per-file symbols and hovers differ."""
    load = lambda fn: {r["path"]: r for r in map(json.loads, open(fn))}  # noqa: E731
    d, p = load(disco_pf), load(peer_pf)
    lines = []
    only_d, only_p = sorted(set(d) - set(p)), sorted(set(p) - set(d))
    if only_d:
        lines.append(f"files only disco wrote: {len(only_d)} (e.g. {only_d[:3]})")
    if only_p:
        lines.append(f"files only the peer asked about: {len(only_p)} (e.g. {only_p[:3]})")
    from collections import Counter

    sym_diff = hov_diff = 0
    missing = Counter()
    extra = Counter()
    hov_lost = Counter()
    hov_gained = Counter()
    for path in sorted(set(d) & set(p)):
        dn = Counter(s[0] for s in d[path]["symbols"])
        pn = Counter(s[0] for s in p[path]["symbols"])
        if dn != pn:
            sym_diff += 1
            for k, v in (pn - dn).items():
                missing[(path, k)] += v
            for k, v in (dn - pn).items():
                extra[(path, k)] += v
        dh = Counter(s[0] for s in d[path]["symbols"] if s[3])
        ph = Counter(s[0] for s in p[path]["symbols"] if s[3])
        if dh != ph:
            hov_diff += 1
            for k, v in (ph - dh).items():
                hov_lost[(path, k)] += v
            for k, v in (dh - ph).items():
                hov_gained[(path, k)] += v
    if sym_diff:
        lines.append(
            f"symbols differ in {sym_diff} files: {sum(missing.values())} symbols the peer got are not in disco's records,"
            f" {sum(extra.values())} in disco's records are not among the peer's"
        )
        for (path, name), n in list(missing.items())[:limit]:
            lines.append(f"  not in disco's record: {path}: {name!r}" + (f" x{n}" if n > 1 else ""))
        for (path, name), n in list(extra.items())[:limit]:
            lines.append(f"  only in disco's record: {path}: {name!r}" + (f" x{n}" if n > 1 else ""))
    if hov_diff:
        lines.append(
            f"answered hovers differ in {hov_diff} files: {sum(hov_lost.values())} answered for the peer only,"
            f" {sum(hov_gained.values())} for disco only"
        )
        for (path, name), n in list(hov_lost.items())[:limit]:
            lines.append(f"  hover for the peer only: {path}: {name!r}" + (f" x{n}" if n > 1 else ""))
        for (path, name), n in list(hov_gained.items())[:limit]:
            lines.append(f"  hover for disco only: {path}: {name!r}" + (f" x{n}" if n > 1 else ""))
    return lines


def report_main(argv):
    ap = argparse.ArgumentParser(prog="lsp_peer.py report")
    ap.add_argument("--runs", required=True, help="JSON lines: {row, rep, monitor: {...}, result: {...}}")
    ap.add_argument("--rows", required=True, help="JSON list of [row key, label]")
    ap.add_argument("--counts", help="JSON {row key: {method: n}} from the counting run")
    ap.add_argument("--compare", nargs=2, metavar=("DISCO_PER_FILE", "PEER_PER_FILE"))
    ap.add_argument("--primary", nargs=2, default=["disco", "peer_sync"], metavar=("DISCO_ROW", "PEER_ROW"))
    ap.add_argument("--header", action="append", default=[])
    a = ap.parse_args(argv)
    rows = json.load(open(a.rows))
    runs = [json.loads(line) for line in open(a.runs)]
    counts_raw = json.load(open(a.counts)) if a.counts else {}
    counts = {k: v.get("counts", {}) for k, v in counts_raw.items()}
    med = {}
    for key, label in rows:
        rs = [r for r in runs if r["row"] == key]
        if not rs:
            continue
        m = lambda f: statistics.median(f(r) for r in rs)  # noqa: E731
        wall = m(lambda r: r["monitor"]["wall_s"])
        res = rs[-1]["result"]
        c = counts.get(key, {})
        issued = c.get("request textDocument/documentSymbol", 0) + c.get("request textDocument/hover", 0)
        if not issued:
            issued = res.get("requests") or (res.get("files", 0) + res.get("symbols", 0))
        med[key] = {
            "label": label,
            "n": len(rs),
            "wall": wall,
            "wall_min": min(r["monitor"]["wall_s"] for r in rs),
            "wall_max": max(r["monitor"]["wall_s"] for r in rs),
            "server_cpu": m(lambda r: r["monitor"]["server_cpu_s"]),
            "client_cpu": m(lambda r: r["monitor"]["client_cpu_s"]),
            "busy": m(lambda r: r["monitor"]["server_cpu_s"] / r["monitor"]["wall_s"]),
            "own_pct": m(lambda r: 100 * r["monitor"]["client_cpu_s"] / max(r["monitor"]["server_cpu_s"], 1e-9)),
            "client_rss": m(lambda r: r["monitor"]["client_peak_rss"]) / 2**20,
            "server_rss": m(lambda r: r["monitor"]["server_peak_rss"]) / 2**20,
            "issued": issued,
            "res": res,
        }
    for h in a.header:
        print(h)
    print()
    hdr = (
        f"  {'client':<34} {'wall s':>7} {'min':>6} {'max':>6} {'req':>5} {'req/s':>6} {'files':>5} {'syms':>5} {'hovers':>6}"
        f" {'srv cpu s':>9} {'srv busy':>8} {'cli cpu s':>9} {'cli/srv cpu':>11} {'cli MB':>6} {'srv MB':>6}"
    )
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    for key, _ in rows:
        if key not in med:
            continue
        x = med[key]
        r = x["res"]
        lsp = x["server_cpu"] > 0
        dash = lambda w: f"{'-':>{w}}"  # noqa: E731
        print(
            f"  {x['label']:<34} {x['wall']:7.2f} {x['wall_min']:6.2f} {x['wall_max']:6.2f}"
            + (f" {x['issued']:5d} {x['issued'] / x['wall']:6.1f}" if lsp else f" {dash(5)} {dash(6)}")
            + f" {r.get('files', 0):5d} {r.get('symbols', 0):5d} {r.get('hovers', 0):6d}"
            + (f" {x['server_cpu']:9.2f} {100 * x['busy']:7.1f}%" if lsp else f" {dash(9)} {dash(8)}")
            + f" {x['client_cpu']:9.2f}"
            + (f" {x['own_pct']:10.1f}%" if lsp else f" {dash(11)}")
            + f" {x['client_rss']:6.0f}"
            + (f" {x['server_rss']:6.0f}" if lsp else f" {dash(6)}")
        )
    print()
    dk, pk = a.primary
    if dk in med and pk in med:
        d, p = med[dk], med[pk]
        print(f"  multilspy_wall / disco_wall = {p['wall']:.2f} / {d['wall']:.2f} = {p['wall'] / d['wall']:.2f}x")
        for key, x in med.items():
            if key not in (dk, pk) and key.startswith("peer"):
                print(f"  ({x['label']}: {x['wall'] / d['wall']:.2f}x disco's wall)")
        print()
        same = d["res"].get("symbols") == p["res"].get("symbols") and d["res"].get("hovers") == p["res"].get("hovers")
        dc, pc = counts.get(dk, {}), counts.get(pk, {})
        if dc and pc:
            keys = sorted(k for k in set(dc) | set(pc) if k.startswith("request") or "didOpen" in k or "didClose" in k)
            print("  messages sent to the server, counted by a proxy in one untimed run:")
            for k in keys:
                print(f"    {k:<40} disco {dc.get(k, 0):6d}   multilspy {pc.get(k, 0):6d}")
            dr, pr = counts_raw[dk].get("requests", []), counts_raw[pk].get("requests", [])
            if dr == pr:
                print(f"    the {len(dr)} textDocument/* messages are the same on both sides"
                      " (method, document, text hash, position), in a different order")
            else:
                from collections import Counter

                only_d, only_p = Counter(dr) - Counter(pr), Counter(pr) - Counter(dr)
                print(f"    textDocument/* messages differ: {sum(only_d.values())} only disco sent,"
                      f" {sum(only_p.values())} only multilspy sent, e.g.")
                for x in list(only_d)[:3]:
                    print(f"      disco only: {x}")
                for x in list(only_p)[:3]:
                    print(f"      multilspy only: {x}")
            print()
        if same:
            print("  symbols and answered hovers: identical totals on both sides")
        else:
            print(
                f"  symbols: disco {d['res'].get('symbols')} vs multilspy {p['res'].get('symbols')};"
                f" answered hovers: disco {d['res'].get('hovers')} vs multilspy {p['res'].get('hovers')}"
            )
        if a.compare:
            lines = compare(*a.compare)
            for line in lines:
                print("  " + line)
            if not same and not lines:
                print("  (per-file names agree; the difference is in counting only)")
    return 0


def main():
    cmds = {"monitor": monitor_main, "proxy": proxy_main, "disco-summary": disco_summary_main, "report": report_main}
    if len(sys.argv) > 1 and sys.argv[1] in cmds:
        return cmds[sys.argv[1]](sys.argv[2:])
    return peer_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
