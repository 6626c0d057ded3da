#!/usr/bin/env python3
# Dev tool: checks grammars/<lang>/tags.scm against fixtures/langs/<lang>/ with
# Python's tree-sitter bindings, and prints/compares fixtures/langs/<lang>/expect.toml.
#
# Needs Python >= 3.11 (tomllib) and these PyPI packages (same versions as the
# grammar crates in Cargo.lock; only the core differs: crate tree-sitter 0.27.1):
#   pip install tree-sitter==0.26.1 \
#     tree-sitter-rust==0.24.2 tree-sitter-python==0.25.0 \
#     tree-sitter-javascript==0.25.0 tree-sitter-typescript==0.23.2 \
#     tree-sitter-go==0.25.0 tree-sitter-java==0.23.5 tree-sitter-c==0.24.2 \
#     tree-sitter-cpp==0.23.4 tree-sitter-c-sharp==0.23.5 tree-sitter-ruby==0.23.1 \
#     tree-sitter-bash==0.25.1 tree-sitter-json==0.24.8 tree-sitter-html==0.23.2 \
#     tree-sitter-css==0.25.0 tree-sitter-toml==0.7.0 tree-sitter-yaml==0.7.2 \
#     tree-sitter-markdown==0.5.4
# (PyPI tree-sitter-toml 0.7.0 is the toml-ng grammar; PyPI tree-sitter-markdown
# 0.5.4 is the tree-sitter-md grammar, whose `language()` is the block grammar.)
#
# Usage:
#   python grammars/check_queries.py            # check every language, print results
#   python grammars/check_queries.py rust go    # only these languages
#   python grammars/check_queries.py --write    # (re)write expect.toml from the query
#                                               # results, keeping the [doc] name
#   python grammars/check_queries.py -v         # also list references
#
# Exit status is non-zero if a query fails to compile, a fixture has error or
# missing nodes, a node is captured as two different definition kinds, or an
# expect.toml disagrees with what the query finds.
#
# Conventions checked here (the Rust side relies on the same):
#   * a definition pattern captures the whole node as @definition.<kind> and
#     its name node as @name; a reference pattern captures @reference.<kind>
#     plus @name.
#   * every match has exactly one @name node.
#   * no node is captured under two different definition kinds (the queries
#     are written so that kinds are exclusive).
#   * definitions are listed in document order: by start byte of the
#     @definition node, outer (longer) node first on ties; one entry per
#     (definition node, kind), the earliest @name winning (as the Rust side's
#     TagsQuery::tags does). So a node with several names (Go `X, Y int`,
#     C `int x, y;`) is listed once, under its first name.
#   * doc text: python docstring (first string statement of the body) if
#     `docstring = true`, else the contiguous comments (kinds from
#     `comment_kinds`) directly above the definition node, each ending at most
#     one line above the next. Rust attribute_item siblings in between are
#     skipped. When the node has no such comment and its parent is a wrapper
#     (WRAPPERS below: decorated_definition, export_statement, Go
#     type_declaration, ...), the comments above the wrapper are used.
#     Comment markers (// /// //! # /* /** */ and a leading * on block
#     comment lines) and docstring quotes are stripped, lines trimmed, empty
#     leading/trailing lines dropped, joined with "\n".

import importlib
import json
import re
import sys
import tomllib
from pathlib import Path

from tree_sitter import Language, Parser, Query, QueryCursor

ROOT = Path(__file__).resolve().parent.parent
GRAMMARS = ROOT / "grammars"
FIXTURES = ROOT / "fixtures" / "langs"

# folder -> (python module, function returning the language pointer)
MODULES = {
    "rust": ("tree_sitter_rust", "language"),
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "bash": ("tree_sitter_bash", "language"),
    "json": ("tree_sitter_json", "language"),
    "html": ("tree_sitter_html", "language"),
    "css": ("tree_sitter_css", "language"),
    "toml": ("tree_sitter_toml", "language"),
    "yaml": ("tree_sitter_yaml", "language"),
    "markdown": ("tree_sitter_markdown", "language"),
}

LANGUAGE_KEYS = [
    "name", "display_name", "grammar", "extensions", "filenames", "shebangs",
    "servers", "comment_kinds", "docstring", "body_fields",
]

DEF_KINDS = {
    "function", "method", "class", "struct", "enum", "interface", "trait",
    "module", "type", "constant", "variable", "field", "macro", "impl", "key",
    "table", "section", "selector", "element",
}
REF_KINDS = {"call", "type", "class", "implementation"}

# Parents that wrap a definition node without being the definition itself;
# the doc comment sits above the wrapper.
WRAPPERS = {
    "decorated_definition", "export_statement", "template_declaration",
    "ambient_declaration", "type_declaration", "const_declaration",
    "var_declaration", "var_spec_list",
}

# Siblings skipped when walking up from a definition to its comments
# (Rust `#[derive(..)]` between a doc comment and the item).
SKIPPED_SIBLINGS = {"attribute_item"}


def load_language(folder):
    mod_name, func = MODULES[folder]
    mod = importlib.import_module(mod_name)
    return Language(getattr(mod, func)())


def text(src, node):
    return src[node.start_byte:node.end_byte].decode("utf-8")


def bad_nodes(node, out):
    if node.is_error or node.is_missing:
        out.append(node)
    for child in node.children:
        bad_nodes(child, out)
    return out


def strip_comment(raw):
    """Comment text without markers; lines trimmed, joined with \n."""
    s = raw.strip()
    lines = []
    if s.startswith("/*"):
        s = re.sub(r"^/\*+!?", "", s)
        s = re.sub(r"\*+/$", "", s)
        for line in s.split("\n"):
            line = line.strip()
            line = re.sub(r"^\*+ ?", "", line)
            lines.append(line.strip())
    elif s.startswith("<!--"):
        s = s[4:]
        if s.endswith("-->"):
            s = s[:-3]
        lines = [line.strip() for line in s.split("\n")]
    else:
        for line in s.split("\n"):
            line = line.strip()
            line = re.sub(r"^(//[/!]?|#+|--|;+)", "", line)
            lines.append(line.strip())
    return lines


def trim_lines(lines):
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def docstring_of(src, node, cfg):
    for field in cfg["body_fields"]:
        body = node.child_by_field_name(field)
        if body is None:
            continue
        first = next((c for c in body.named_children if c.type != "comment"), None)
        if first is None or first.type != "expression_statement":
            return None
        if first.named_child_count != 1 or first.named_children[0].type != "string":
            return None
        raw = text(src, first.named_children[0])
        raw = re.sub(r"^[rRuUbBfF]*", "", raw)
        for q in ('"""', "'''", '"', "'"):
            if raw.startswith(q) and raw.endswith(q) and len(raw) >= 2 * len(q):
                raw = raw[len(q):-len(q)]
                break
        return "\n".join(trim_lines([line.strip() for line in raw.split("\n")]))
    return None


def comments_above(src, node, cfg):
    kinds = set(cfg["comment_kinds"])
    while True:
        comments = []
        cur = node
        prev = cur.prev_sibling
        while prev is not None and prev.end_point[0] >= cur.start_point[0] - 1:
            if prev.type in kinds:
                comments.insert(0, prev)
            elif prev.type not in SKIPPED_SIBLINGS:
                break
            cur = prev
            prev = cur.prev_sibling
        if comments or node.parent is None or node.parent.type not in WRAPPERS:
            break
        node = node.parent
    lines = []
    for c in comments:
        lines.extend(strip_comment(text(src, c)))
    return "\n".join(trim_lines(lines))


def doc_of(src, node, cfg):
    if cfg["docstring"]:
        d = docstring_of(src, node, cfg)
        if d:
            return d
    return comments_above(src, node, cfg)


def run(folder, write=False, verbose=False):
    errors = []
    gdir = GRAMMARS / folder
    fdir = FIXTURES / folder
    cfg = tomllib.loads((gdir / "language.toml").read_text(encoding="utf-8"))
    missing = [k for k in LANGUAGE_KEYS if k not in cfg]
    extra = [k for k in cfg if k not in LANGUAGE_KEYS]
    if missing or extra:
        errors.append(f"language.toml keys: missing {missing}, unexpected {extra}")
    if cfg.get("name") != folder:
        errors.append(f"language.toml name {cfg.get('name')!r} != folder {folder!r}")

    lang = load_language(folder)
    try:
        query = Query(lang, (gdir / "tags.scm").read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        return [f"tags.scm does not compile: {e}"], None

    for i in range(query.capture_count):
        cap = query.capture_name(i)
        # `@_x` captures are predicate helpers (html `@_attr`); consumers ignore them.
        ok = cap == "name" or cap.startswith("_") or (
            cap.startswith("definition.") and cap.split(".", 1)[1] in DEF_KINDS
        ) or (cap.startswith("reference.") and cap.split(".", 1)[1] in REF_KINDS)
        if not ok:
            errors.append(f"unexpected capture @{cap}")

    expect_path = fdir / "expect.toml"
    expect = tomllib.loads(expect_path.read_text(encoding="utf-8")) if expect_path.exists() else {}
    if expect.get("file"):
        fixture = fdir / expect["file"]
    else:
        files = [p for p in fdir.iterdir() if p.name != "expect.toml"]
        fixture = files[0]
    src = fixture.read_bytes()
    parser = Parser(lang)
    tree = parser.parse(src)
    bad = bad_nodes(tree.root_node, [])
    for n in bad:
        errors.append(
            f"{fixture.name}:{n.start_point[0] + 1}:{n.start_point[1] + 1}: "
            f"{'MISSING' if n.is_missing else 'ERROR'} {n.type}"
        )

    defs = {}   # (start, end) -> {kind: (node, name)}
    refs = []
    for _, caps in QueryCursor(query).matches(tree.root_node):
        names = caps.get("name", [])
        if len(names) > 1:
            errors.append(f"a match has {len(names)} @name nodes: {[text(src, n) for n in names]}")
        for cap, nodes in caps.items():
            if cap == "name" or cap.startswith("_"):
                continue
            group, kind = cap.split(".", 1)
            for node in nodes:
                if not names:
                    errors.append(f"pattern with @{cap} has no @name")
                    continue
                name = text(src, names[0])
                if group == "definition":
                    slot = defs.setdefault((node.start_byte, -node.end_byte), {})
                    prev = slot.get(kind)
                    # one entry per (node, kind): the name that starts first wins
                    if prev is None or names[0].start_byte < prev[1]:
                        slot[kind] = (node, names[0].start_byte, name)
                else:
                    refs.append((node.start_byte, kind, name))

    definitions = []
    doc_by_name = {}
    for key in sorted(defs):
        slot = defs[key]
        if len(slot) > 1:
            errors.append(f"node at byte {key[0]} captured as several kinds: {sorted(slot)}")
        for kind, (node, _, name) in slot.items():
            definitions.append(f"{kind} {name}")
            doc = doc_of(src, node, cfg)
            if doc and name not in doc_by_name:
                doc_by_name[name] = doc

    out = [f'file = "{fixture.name}"', f'language = "{folder}"', "definitions = ["]
    out += [f"  {json.dumps(d, ensure_ascii=False)}," for d in definitions]
    out.append("]")
    doc_name = expect.get("doc", {}).get("name")
    if doc_name is not None:
        out += ["", "[doc]", f"name = {json.dumps(doc_name, ensure_ascii=False)}",
                f"text = {json.dumps(doc_by_name.get(doc_name, ''), ensure_ascii=False)}"]
    rendered = "\n".join(out) + "\n"

    if write:
        expect_path.write_text(rendered, encoding="utf-8")
        expect = tomllib.loads(rendered)

    if expect.get("definitions") != definitions:
        errors.append("expect.toml definitions differ from query results")
    if expect.get("language") != folder:
        errors.append("expect.toml language mismatch")
    if "doc" in expect:
        got = doc_by_name.get(expect["doc"]["name"])
        if not got:
            errors.append(f"no doc found for {expect['doc']['name']!r}")
        elif got != expect["doc"]["text"]:
            errors.append(f"doc mismatch for {expect['doc']['name']!r}: {got!r}")

    print(f"# ---- {folder} ({fixture.relative_to(ROOT)})")
    print(rendered, end="")
    if verbose:
        for _, kind, name in sorted(refs):
            print(f"# reference.{kind} {name}")
    print(f"# {len(definitions)} definitions, {len(refs)} references, docs on: {sorted(doc_by_name)}")
    return errors, definitions


# Detection fixtures without expect.toml: (path under fixtures/langs, grammar).
DETECTION_FIXTURES = [("shebang/run", "python"), ("filename/Rakefile", "ruby")]


def check_detection_fixture(rel, folder):
    src = (FIXTURES / rel).read_bytes()
    tree = Parser(load_language(folder)).parse(src)
    bad = bad_nodes(tree.root_node, [])
    return [f"{rel}: {'MISSING' if n.is_missing else 'ERROR'} at line {n.start_point[0] + 1}" for n in bad]


def main(argv):
    write = "--write" in argv
    verbose = "-v" in argv
    named = [a for a in argv if not a.startswith("-")]
    wanted = named or sorted(
        p.name for p in GRAMMARS.iterdir() if (p / "tags.scm").exists()
    )
    failed = 0
    for folder in wanted:
        errors, _ = run(folder, write=write, verbose=verbose)
        for e in errors:
            print(f"FAIL {folder}: {e}")
        failed += bool(errors)
    if not named:
        for rel, folder in DETECTION_FIXTURES:
            errors = check_detection_fixture(rel, folder)
            for e in errors:
                print(f"FAIL {rel}: {e}")
            print(f"# ---- {rel} parses as {folder}: {'ok' if not errors else 'errors'}")
            wanted.append(rel)
            failed += bool(errors)
    print(f"{len(wanted) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
