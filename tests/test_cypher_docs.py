"""Every Cypher example in docs/cypher.md parses and runs on a small graph.

``docs/cypher.md`` is the reference of graphwatch's Cypher subset; its examples are the
promise. This test pulls every fenced block out of it:

* ```` ```cypher ```` — must run on :class:`DuckDBEngine` over the fixture graph
  ``tests/data/cypher_docs_graph.yaml`` and return the columns its RETURN names, and (unless
  told otherwise) at least one row;
* ```` ```cypher-refused ```` — must raise :class:`PatternError`.

HTML comments on the lines right before a block steer the check (they do not render):

``<!-- params: {"id": "…"} -->``   the $parameters, as JSON
``<!-- expect: [[…], …] -->``       exactly these rows, in any order (JSON; see :func:`plain`)
``<!-- expect-ordered: [[…]] -->``  exactly these rows, in this order
``<!-- rows: 0 -->``                exactly this many rows (instead of "at least one")
``<!-- columns: ["a", "b"] -->``    the column names, where the RETURN does not spell them (RETURN *)
``<!-- bindings: none -->``         no row names graph elements (an aggregate over nothing);
                                   otherwise a query with a MATCH must bind some
``<!-- error: text -->``            (refused blocks) the error message contains ``text``

Examples that should work but do not are known bugs: they stay in the document and are
listed in :data:`KNOWN_BUGS` (strict xfail, so a fix makes the test fail until the entry is
removed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from graphwatch.cypher.compiler import FUNCTIONS, Options
from graphwatch.cypher.parser import REFUSED
from graphwatch.engines.compare import comparable
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.exc import PatternError
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cypher.md"
GRAPH = Path(__file__).parent / "data" / "cypher_docs_graph.yaml"

#: example id -> the bug that makes it fail (reported; the example shows the intended behaviour)
KNOWN_BUGS: dict[str, str] = {}

DIRECTIVES = {"params", "expect", "expect-ordered", "rows", "columns", "bindings", "error"}
FENCE = re.compile(r"^```(\S*)\s*$")
COMMENT = re.compile(r"^<!--\s*([\w-]+)\s*:\s*(.*?)\s*-->\s*$")


@dataclass
class Example:
    id: str
    kind: str                    # 'cypher' | 'cypher-refused'
    query: str
    line: int                    # line of the opening fence in docs/cypher.md
    directives: dict = field(default_factory=dict)


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-") or "top"


def read_examples(text: str) -> list[Example]:
    """The ```cypher and ```cypher-refused blocks of the document, with their directives."""
    out: list[Example] = []
    lines = text.splitlines()
    heading, count = "top", {}
    pending: dict = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if line.startswith("#") and not m:
            heading = _slug(line.lstrip("#"))
            pending = {}
        elif COMMENT.match(line):
            key, value = COMMENT.match(line).groups()
            pending[key] = value
        elif m and m.group(1):
            lang, start = m.group(1), i
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if lang.startswith("cypher"):
                assert lang in ("cypher", "cypher-refused"), f"docs/cypher.md:{start + 1}: unknown block {lang!r}"
                count[heading] = count.get(heading, 0) + 1
                out.append(Example(f"{heading}-{count[heading]}", lang, "\n".join(body), start + 1, pending))
            pending = {}
        elif line.strip():
            pending = {}
        i += 1
    return out


EXAMPLES = read_examples(DOC.read_text(encoding="utf-8"))
RUNNABLE = [e for e in EXAMPLES if e.kind == "cypher"]
REFUSED_EXAMPLES = [e for e in EXAMPLES if e.kind == "cypher-refused"]


def _param(e: Example, key: str, default=None):
    raw = e.directives.get(key)
    if raw is None:
        return default
    if key in ("error", "bindings"):
        return raw
    try:
        return json.loads(raw)
    except ValueError as exc:  # pragma: no cover - a typo in the document
        raise AssertionError(f"docs/cypher.md:{e.line}: <!-- {key}: … --> is not JSON: {exc}") from None


def _marks(e: Example):
    if e.id in KNOWN_BUGS:
        return [pytest.mark.xfail(reason=KNOWN_BUGS[e.id], strict=True)]
    return []


# ------------------------------------------------------------------ the graph
@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    graph = yaml.safe_load(GRAPH.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("cypher_docs") / "ws"
    with Workspace(path, create=True) as ws:
        write_graph(ws, graph["nodes"], graph["rels"])
    with DuckDBEngine(path) as eng:
        yield eng


# ------------------------------------------------------------------ helpers
def plain(v):
    """A returned value as the JSON the directives write: a node is its key, a relationship
    its type, a path the list of its node keys, a date or datetime its ISO text."""
    return comparable(v, iso_dates=True)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets, quotes and backquotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _blank_strings(text: str) -> str:
    """The text with the inside of string literals and comments replaced by spaces (same length)."""
    out = re.sub(r"//[^\n]*", lambda m: " " * len(m.group()), text)
    return re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"", lambda m: m.group()[0] + " " * (len(m.group()) - 2)
                  + m.group()[0], out)


def return_columns(query: str) -> list[str] | None:
    """The column names the last RETURN of ``query`` gives, read from the text alone
    (an alias, or the expression as written); None for ``RETURN *``."""
    masked = _blank_strings(query)
    starts = [m.end() for m in re.finditer(r"\bRETURN\b", masked, re.I)]
    assert starts, "no RETURN"
    start = starts[-1]
    end, depth = len(query), 0
    tail = re.compile(r"(ORDER\s+BY|SKIP|LIMIT)\b|;", re.I)
    for i in range(start, len(masked)):
        ch = masked[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (i == start or not (masked[i - 1].isalnum() or masked[i - 1] == "_")) \
                and tail.match(masked, i):
            end = i
            break
    body = query[start:end].strip()
    body = re.sub(r"^DISTINCT\b", "", body, flags=re.I).strip()
    cols = []
    for item in _split_top(body, ","):
        item = item.strip()
        if item == "*":
            return None
        masked_item = _blank_strings(item)
        aliases = list(re.finditer(r"\s+AS\s+", masked_item, re.I))
        if aliases:
            alias = item[aliases[-1].end():].strip()
            cols.append(alias[1:-1] if alias.startswith("`") else alias)
        else:
            cols.append(item)
    return cols


# ------------------------------------------------------------------ the document itself
def test_the_document_has_examples_of_both_kinds():
    text = DOC.read_text(encoding="utf-8")
    assert len(EXAMPLES) == len(re.findall(r"^```cypher", text, re.M))
    assert len(RUNNABLE) >= 60 and len(REFUSED_EXAMPLES) >= 10
    ids = [e.id for e in EXAMPLES]
    assert len(ids) == len(set(ids))


def test_directives_are_known():
    wrong = [(e.line, k) for e in EXAMPLES for k in e.directives if k not in DIRECTIVES]
    assert not wrong, f"unknown <!-- key: … --> before blocks of docs/cypher.md (line, key): {wrong}"
    assert not [e.line for e in RUNNABLE if "error" in e.directives]


def test_known_bugs_name_existing_examples():
    ids = {e.id for e in RUNNABLE}
    assert set(KNOWN_BUGS) <= ids, set(KNOWN_BUGS) - ids


def test_every_function_is_shown_in_an_example():
    """Every function the compiler implements (its f_* methods and the aggregates) is used in
    at least one runnable example."""
    code = "\n".join(_blank_strings(e.query) for e in RUNNABLE).lower()
    missing = [f for f in FUNCTIONS if not re.search(r"(?<![\w.])" + re.escape(f) + r"\s*\(", code)]
    assert not missing, f"functions without an example in docs/cypher.md: {missing}"


def test_every_refused_keyword_is_shown():
    code = "\n".join(e.query for e in REFUSED_EXAMPLES).upper()
    missing = [w for w in REFUSED if not re.search(rf"\b{w}\b", code)]
    assert not missing, f"refused keywords without an example in docs/cypher.md: {missing}"


def test_counts_in_the_document_match_the_tests():
    """The section on Neo4j names how many golden cases and random patterns are compared."""
    from golden_cypher import CASES
    from test_parity_random import DEFAULT_GRAPHS, PATTERNS_PER_GRAPH

    text = DOC.read_text(encoding="utf-8")
    assert f"{len(CASES)} golden cases" in text
    assert f"{DEFAULT_GRAPHS * PATTERNS_PER_GRAPH} seeded random patterns" in text


def test_limits_in_the_document_match_the_compiler():
    text = DOC.read_text(encoding="utf-8")
    assert f"*..{Options().max_var_length}" in text and f"max_var_length` = {Options().max_var_length}" in text
    assert f"max_shortest` = {Options().max_shortest}" in text


# ------------------------------------------------------------------ the examples
@pytest.mark.parametrize("ex", [pytest.param(e, id=e.id, marks=_marks(e)) for e in RUNNABLE])
def test_example_runs(engine, ex: Example):
    params = _param(ex, "params", {})
    res = engine.run(ex.query, params, bindings=True)
    where = f"docs/cypher.md:{ex.line} ({ex.id})"
    want_cols = _param(ex, "columns") or return_columns(ex.query)
    assert want_cols is not None, f"{where}: RETURN * needs a <!-- columns: […] --> line"
    assert res.columns == want_cols, where
    assert len(res.bindings) == len(res.rows), where
    got = [plain(list(r)) for r in res.rows]
    if "expect-ordered" in ex.directives:
        assert got == _param(ex, "expect-ordered"), where
    elif "expect" in ex.directives:
        assert sorted(got, key=repr) == sorted(_param(ex, "expect"), key=repr), where
    elif "rows" in ex.directives:
        assert len(got) == _param(ex, "rows"), where
    else:
        assert got, f"{where}: the example returns no rows on the fixture graph"
    # a row produced by a MATCH names the graph elements behind it
    if ex.directives.get("bindings") == "none":
        assert not any(b.nodes or b.rels for b in res.bindings), where
    elif got and re.search(r"(?<!OPTIONAL )\bMATCH\b", ex.query, re.I):
        assert any(b.nodes for b in res.bindings), f"{where}: rows without bindings"


@pytest.mark.parametrize("ex", [pytest.param(e, id=e.id) for e in REFUSED_EXAMPLES])
def test_refused_example_is_refused(engine, ex: Example):
    params = _param(ex, "params", {})
    with pytest.raises(PatternError) as ei:
        engine.run(ex.query, params)
    word = _param(ex, "error")
    if word:
        assert word in str(ei.value), f"docs/cypher.md:{ex.line}: {ei.value}"


# ------------------------------------------------------------------ the same examples on Neo4j
#: examples whose result differs on Neo4j by design (docs/cypher.md, "Differences from Neo4j");
#: strict xfail: if Neo4j ever agrees, the entry must go
NEO4J_DIFFERENCES: dict[str, str] = {
    "functions-4": "id()/elementId() are graphwatch's stable key-derived ids, not Neo4j's store ids",
    "shortestpath-and-allshortestpaths-6": "pairs include a node with itself: Neo4j fails at run time, "
                                           "graphwatch drops the pair",
}


@pytest.fixture(scope="module")
def neo4j_docs(engine, neo4j_ws):
    """The examples graph pushed into the session's real Neo4j server."""
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    target = Neo4jTarget.resolve(neo4j_ws)
    push(engine.ws.path, target, clear=True)
    with Neo4jEngine(target=target) as eng:
        yield eng


def _rows(res) -> list[str]:
    return sorted(json.dumps(plain(list(r)), sort_keys=True, ensure_ascii=False) for r in res.rows)


@pytest.mark.parametrize("ex", [pytest.param(e, id=e.id, marks=[pytest.mark.xfail(
    reason=NEO4J_DIFFERENCES[e.id], strict=True)] if e.id in NEO4J_DIFFERENCES else []) for e in RUNNABLE])
def test_example_gives_the_same_rows_on_neo4j(engine, neo4j_docs, ex: Example):
    """Neo4j is the oracle: every runnable example returns the same rows and columns there."""
    params = _param(ex, "params", {}) or {}
    ours = engine.run(ex.query, params)
    theirs = neo4j_docs.run(ex.query, params)            # the example as it is, unchanged
    assert theirs.columns == ours.columns
    assert _rows(theirs) == _rows(ours)
    ours, theirs = engine.run(ex.query, params, bindings=True), neo4j_docs.run(ex.query, params, bindings=True)
    assert _rows(theirs) == _rows(ours)
    assert _bound(theirs) == _bound(ours)


def _bound(res) -> list:
    return sorted((json.dumps(plain(list(r)), sort_keys=True, ensure_ascii=False), b.nodes, b.rels)
                  for r, b in zip(res.rows, res.bindings))


def test_neo4j_differences_name_existing_examples():
    assert set(NEO4J_DIFFERENCES) <= {e.id for e in RUNNABLE}
