#!/usr/bin/env python3
"""The multilspy row of bench/lsp_scale.sh: a client built on multilspy (PyPI) that drives
basedpyright-langserver, the server `disco tree --lang python --lsp full` uses, with the
requests Disco's `full` level makes, and counts the references to the project's own symbols
found in its `definition` answers the way bench/lsp_scale.py counts Disco's.

    lsp_scale_peer.py CORPUS [--every-name] [--refs-out FILE] -- PATH/basedpyright-langserver --stdio

multilspy's built-in Python server is jedi-language-server (its JediServer starts
`config.server_binary` but asserts jedi's capabilities after initialize), so this file
subclasses multilspy's LanguageServer with a ProcessLaunchInfo of our own: multilspy's
LanguageServerHandler runs the process and the JSON-RPC, its open_file sends didOpen and
didClose, its request_document_symbols, request_hover and request_definition do those
requests, and the other methods go through its typed request table (`server.send.*`).

For every .py file, in path order (one file at a time; requests of one method for a file are
sent together with asyncio.gather, as Disco sends a batch):
  didOpen; documentSymbol; semanticTokens/full; foldingRange; pull diagnostics
  (textDocument/diagnostic); hover at each symbol's selectionRange.start; definition at each
  identifier occurrence (Python's tokenize NAME tokens that are not keywords; like Disco, not
  at those the semantic tokens mark as a declaration or definition, unless --every-name);
  implementation at classes, methods and interfaces (symbol kinds 5, 6, 11); typeDefinition
  at variables, fields, properties and constants (7, 8, 13, 14); didClose.
A method is asked only when the server announced it (as Disco's client does).

Prints one JSON object (the result column of bench/lsp_scale.py's report): files, symbols,
answered hovers, diagnostics, requests by method, failed requests, implements / type_of
locations, and refs = distinct (file, position) occurrences whose definition lies in the
project and is not the occurrence itself.
"""

import argparse
import ast
import asyncio
import io
import json
import keyword
import os
import pathlib
import sys
import time
import tokenize
from contextlib import asynccontextmanager
from urllib.parse import unquote, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsp_peer import corpus_files, hover_text, symbol_position  # noqa: E402

# The settings Disco's catalog gives basedpyright (src/lsp/registry.rs), answered to
# workspace/configuration by dotted section and sent once with didChangeConfiguration.
SETTINGS = {
    "python": {"analysis": {"diagnosticMode": "openFilesOnly"}},
    "basedpyright": {"analysis": {"diagnosticMode": "openFilesOnly"}},
    "pyright": {},
}

# The client capabilities Disco announces (src/lsp/session.rs), so that the server answers
# both clients alike (LocationLinks, hierarchical symbols, pull diagnostics, UTF-16).
TOKEN_TYPES = ["namespace", "type", "class", "enum", "interface", "struct", "typeParameter", "parameter", "variable",
               "property", "enumMember", "event", "function", "method", "macro", "keyword", "modifier", "comment",
               "string", "number", "regexp", "operator", "decorator"]
TOKEN_MODS = ["declaration", "definition", "readonly", "static", "deprecated", "abstract", "async", "modification",
              "documentation", "defaultLibrary"]
CAPABILITIES = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True, "showMessage": {}, "showDocument": {"support": False}},
    "workspace": {"configuration": True, "workspaceFolders": True, "applyEdit": False,
                  "didChangeConfiguration": {"dynamicRegistration": True},
                  "semanticTokens": {"refreshSupport": True}, "diagnostics": {"refreshSupport": True}},
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "didSave": False},
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True, "symbolKind": {"valueSet": list(range(1, 27))},
                           "labelSupport": True},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "definition": {"linkSupport": True}, "declaration": {"linkSupport": True},
        "typeDefinition": {"linkSupport": True}, "implementation": {"linkSupport": True},
        "references": {}, "foldingRange": {"lineFoldingOnly": False},
        "semanticTokens": {"dynamicRegistration": True, "requests": {"full": True, "range": False},
                           "tokenTypes": TOKEN_TYPES, "tokenModifiers": TOKEN_MODS, "formats": ["relative"],
                           "overlappingTokenSupport": False, "multilineTokenSupport": True},
        "publishDiagnostics": {"relatedInformation": True, "codeDescriptionSupport": True, "dataSupport": False},
        "diagnostic": {"dynamicRegistration": True, "relatedDocumentSupport": False},
    },
}


def section(name):
    v = SETTINGS
    for part in (name or "").split("."):
        if not part:
            continue
        if not isinstance(v, dict) or part not in v:
            return SETTINGS.get(name)
        v = v[part]
    return v


def command_server(cmd, root):
    """A multilspy LanguageServer that starts `cmd` (any stdio server) at `root`."""
    from multilspy.language_server import LanguageServer
    from multilspy.lsp_protocol_handler.server import ProcessLaunchInfo
    from multilspy.multilspy_config import Language, MultilspyConfig
    from multilspy.multilspy_logger import MultilspyLogger

    class CommandServer(LanguageServer):
        def __init__(self):
            config = MultilspyConfig(code_language=Language.PYTHON, server_binary=cmd[0])
            super().__init__(config, MultilspyLogger(), root, ProcessLaunchInfo(cmd=cmd, cwd=root), "python")
            self.capabilities = {}
            self.registrations = {}
            self.server_info = {}
            self.last_heard = time.monotonic()

        @asynccontextmanager
        async def start_server(self):
            async def configuration(params):
                self.last_heard = time.monotonic()
                return [section(i.get("section")) for i in (params or {}).get("items", [])]

            async def register(params):
                self.last_heard = time.monotonic()
                for r in (params or {}).get("registrations", []):
                    self.registrations[r.get("method")] = r.get("registerOptions") or {}

            async def heard(_params):  # answered with null (requests), or only noted
                self.last_heard = time.monotonic()

            self.server.on_request("workspace/configuration", configuration)
            self.server.on_request("client/registerCapability", register)
            for m in ("client/unregisterCapability", "window/workDoneProgress/create", "workspace/semanticTokens/refresh",
                      "workspace/diagnostic/refresh", "window/showMessageRequest"):
                self.server.on_request(m, heard)
            self.server.on_request("workspace/workspaceFolders", lambda _p: self._folders())
            for m in ("window/logMessage", "window/showMessage", "$/progress", "textDocument/publishDiagnostics",
                      "telemetry/event", "$/logTrace"):
                self.server.on_notification(m, heard)
            async with super().start_server():
                await self.server.start()
                uri = pathlib.Path(root).as_uri()
                init = await self.server.send.initialize({
                    "processId": os.getpid(), "clientInfo": {"name": "multilspy"}, "rootUri": uri, "rootPath": root,
                    "workspaceFolders": [{"uri": uri, "name": os.path.basename(root)}],
                    "capabilities": CAPABILITIES, "initializationOptions": None, "trace": "off",
                })
                self.capabilities = init.get("capabilities") or {}
                self.server_info = init.get("serverInfo") or {}
                self.server.notify.initialized({})
                self.server.notify.workspace_did_change_configuration({"settings": SETTINGS})
                await self.settle()
                try:
                    yield self
                finally:
                    await self.server.shutdown()
                    await self.server.stop()

        async def settle(self, quiet=0.5, most=60.0):
            """Wait until the server has sent nothing and used (nearly) no CPU for `quiet`
            seconds. basedpyright sets its workspace up after the configuration, silently
            (it runs a Python to find the search paths): a document opened meanwhile can get
            `Cannot read properties of undefined (reading 'isStubFile')` on a later request.
            Disco waits for the server to be quiet too before its first request."""
            import psutil

            proc = psutil.Process(self.server.process.pid)

            def cpu():
                total = 0.0
                try:
                    procs = [proc, *proc.children(recursive=True)]
                except psutil.Error:
                    return total
                for p in procs:
                    try:
                        t = p.cpu_times()
                        total += t.user + t.system
                    except psutil.Error:
                        pass
                return total

            deadline = time.monotonic() + most
            samples = [(time.monotonic(), cpu())]
            while time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                now, c = time.monotonic(), cpu()
                samples.append((now, c))
                old = [x for x in samples if now - x[0] >= quiet]
                if old and now - self.last_heard >= quiet and c - old[-1][1] < 0.05 * quiet:
                    return

        async def _folders(self):
            uri = pathlib.Path(root).as_uri()
            return [{"uri": uri, "name": os.path.basename(root)}]

        def supports(self, capability, method):
            return bool(self.capabilities.get(capability)) or method in self.registrations

    return CommandServer()


def utf16(line, col):
    """A code-point column of `line` in UTF-16 units (the server's default encoding)."""
    return col + sum(1 for ch in line[:col] if ord(ch) > 0xFFFF)


def identifiers(text):
    """(line, utf-16 start, utf-16 end) of every NAME token that is not a keyword, including
    those inside f-string replacement fields (one STRING token before Python 3.12)."""
    lines = text.splitlines(keepends=True)
    found = set()

    def scan(src, row0, col0):  # src starts at line row0, code-point column col0 of text
        try:
            for tok in tokenize.generate_tokens(io.StringIO(src).readline):
                if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                    (r, c), (_, e) = tok.start, tok.end
                    shift = col0 if r == 1 else 0
                    found.add((row0 + r - 1, c + shift, e + shift))
        except (tokenize.TokenError, SyntaxError):
            pass  # the names before the error are kept

    scan(text, 0, 0)
    if sys.version_info < (3, 12):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.FormattedValue):
                v = node.value
                seg = ast.get_source_segment(text, v)
                if seg:  # ast columns are UTF-8 byte offsets
                    line = lines[v.lineno - 1]
                    col = len(line.encode()[: v.col_offset].decode(errors="ignore"))
                    scan(seg, v.lineno - 1, col)
    return [(r, utf16(lines[r], c), utf16(lines[r], e)) for r, c, e in sorted(found) if r < len(lines)]


def declared(tokens, legend):
    """(line, start, end) of the semantic tokens marked as a declaration or definition."""
    mods = (legend or {}).get("tokenModifiers") or []
    bits = sum(1 << i for i, m in enumerate(mods) if m in ("declaration", "definition"))
    data = (tokens or {}).get("data") or []
    out, line, start = set(), 0, 0
    for i in range(0, len(data) - 4, 5):
        dl, ds, length, _kind, m = data[i : i + 5]
        line, start = line + dl, (start + ds if dl == 0 else ds)
        if m & bits:
            out.add((line, start, start + length))
    return out


def locations(v):
    """Location, Location[], LocationLink[] or null, as [(path, (line, char), (line, char))]."""
    items = v if isinstance(v, list) else ([v] if isinstance(v, dict) else [])
    out = []
    for it in items:
        uri = it.get("uri") or it.get("targetUri")
        r = it.get("targetSelectionRange") or it.get("range") or it.get("targetRange")
        if not uri or not r or not uri.startswith("file://"):
            continue
        path = os.path.normpath(unquote(urlparse(uri).path))
        out.append((path, (r["start"]["line"], r["start"]["character"]), (r["end"]["line"], r["end"]["character"])))
    return out


async def run(a):
    root = os.path.abspath(a.corpus)
    cmd = a.server
    files = corpus_files(root)
    lsp = command_server(cmd, root)
    stats = {"files": len(files), "symbols": 0, "hovers": 0, "diagnostics": 0, "definition_names": 0,
             "implements": 0, "type_of": 0, "requests": {}, "failed": 0, "error_samples": []}
    refs = set()

    async def ask(rel, method, coro):
        stats["requests"][method] = stats["requests"].get(method, 0) + 1
        try:
            return await asyncio.wait_for(coro, a.timeout)
        except Exception as e:  # noqa: BLE001 - counted and sampled in the output
            stats["failed"] += 1
            if len(stats["error_samples"]) < 5:
                stats["error_samples"].append(f"{rel}: {method}: {type(e).__name__}: {e}")
            return None

    t0 = time.perf_counter()
    async with lsp.start_server():
        t_ready = time.perf_counter()
        send = lsp.server.send
        legend = (lsp.capabilities.get("semanticTokensProvider") or {}).get("legend") or (
            lsp.registrations.get("textDocument/semanticTokens") or {}).get("legend")
        for rel in files:
            path = os.path.join(root, rel)
            uri = pathlib.Path(path).as_uri()
            doc = {"textDocument": {"uri": uri}}
            at = lambda line, col: {**doc, "position": {"line": line, "character": col}}  # noqa: E731
            with lsp.open_file(rel):
                text = lsp.get_open_file_text(rel)
                syms = []
                if lsp.supports("documentSymbolProvider", "textDocument/documentSymbol"):
                    got = await ask(rel, "documentSymbol", lsp.request_document_symbols(rel))
                    syms = got[0] if got else []
                stats["symbols"] += len(syms)
                tokens = None
                if lsp.supports("semanticTokensProvider", "textDocument/semanticTokens"):
                    tokens = await ask(rel, "semanticTokens/full", send.semantic_tokens_full(doc))
                if lsp.supports("foldingRangeProvider", "textDocument/foldingRange"):
                    await ask(rel, "foldingRange", send.folding_range(doc))
                if lsp.supports("diagnosticProvider", "textDocument/diagnostic"):
                    d = await ask(rel, "diagnostic", send.text_document_diagnostic(doc))
                    stats["diagnostics"] += len((d or {}).get("items") or [])
                if lsp.supports("hoverProvider", "textDocument/hover"):
                    hs = await asyncio.gather(*(ask(rel, "hover", lsp.request_hover(rel, *symbol_position(s))) for s in syms))
                    stats["hovers"] += sum(1 for h in hs if h and hover_text(h.get("contents")))
                if lsp.supports("definitionProvider", "textDocument/definition"):
                    skip = set() if a.every_name else declared(tokens, legend)
                    names = [n for n in identifiers(text) if n not in skip]
                    stats["definition_names"] += len(names)
                    # multilspy's request_definition turns LocationLinks into Locations at
                    # their targetSelectionRange, as Disco reads them.
                    answers = await asyncio.gather(*(ask(rel, "definition", lsp.request_definition(rel, ln, c)) for ln, c, _ in names))
                    for (ln, c, end), ans in zip(names, answers):
                        for tpath, ts, te in locations(ans or []):
                            if not tpath.startswith(root + os.sep):
                                continue
                            if os.path.normpath(path) == tpath and ts <= (ln, c) and (ln, end) <= te:
                                continue  # the occurrence is its own definition
                            refs.add((rel, ln, c))
                for cap, method, kinds, key, call in (
                    ("implementationProvider", "textDocument/implementation", (5, 6, 11), "implements", send.implementation),
                    ("typeDefinitionProvider", "textDocument/typeDefinition", (7, 8, 13, 14), "type_of", send.type_definition),
                ):
                    if not lsp.supports(cap, method):
                        continue
                    wanted = [s for s in syms if s.get("kind") in kinds]
                    got = await asyncio.gather(*(ask(rel, method.split("/")[1], call(at(*symbol_position(s)))) for s in wanted))
                    stats[key] += sum(len(locations(g)) for g in got if g)
        t_done = time.perf_counter()
    from importlib.metadata import version

    if a.refs_out:
        with open(a.refs_out, "w") as f:
            for r in sorted(refs):
                f.write(json.dumps(r) + "\n")
    stats.update({
        "refs": len(refs),
        "startup_s": round(t_ready - t0, 2),
        "requests_s": round(t_done - t_ready, 2),
        "server": f"{lsp.server_info.get('name', cmd[0])} {lsp.server_info.get('version', '')}".strip(),
        "multilspy": version("multilspy"),
    })
    return stats


def main():
    ap = argparse.ArgumentParser(prog="lsp_scale_peer.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--every-name", action="store_true", help="ask definition at declarations too")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take")
    ap.add_argument("--refs-out", help="write the counted reference positions here (JSON lines: path, line, utf-16 column)")
    # The server's command line follows `--` (split here: argparse's REMAINDER after a
    # positional would also swallow the options).
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    a.server = argv[cut + 1 :]
    if not a.server:
        ap.error("no server command after --")
    stats = asyncio.run(run(a))
    print(json.dumps(stats))
    return 0 if stats["files"] else 1


if __name__ == "__main__":
    sys.exit(main())
