"""Differential test: random small graphs, random valid patterns, DuckDB against a real Neo4j.

Every pattern runs on the embedded engine and on Neo4j; the results must be identical, as
multisets, or in order when ORDER BY is total, and so must each row's bindings (the ids of
the nodes and relationships it was built from). The generator is seeded, so CI runs the
same patterns every time. A mismatch prints the graph seed, the Cypher, the parameters and
both results; every mismatch found so far is fixed in the compiler and kept as a golden
case in ``golden_cypher.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass, field

import pytest

from graphwatch.engines import GNode, GPath, GRel
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.exc import PatternError
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

# more graphs for a longer hunt: GRAPHWATCH_PARITY_GRAPHS=200 pytest tests/test_parity_random.py
GRAPHS = int(os.environ.get("GRAPHWATCH_PARITY_GRAPHS", 16))
PATTERNS_PER_GRAPH = 30
MIN_COMPARED = 300
MIN_NON_EMPTY = 120      # patterns whose result has rows: agreement on empty results proves little

NAMES = ["张伟", "王芳", "李娜", "Ann", "Bob", "刘洋", "陈静", "zed", "张伟 ", ""]
# (type, from labels, to labels, undirected in the schema)
TYPES = [
    ("SPOUSE_OF", "Person", "Person"), ("PARENT_OF", "Person", "Person"), ("SIBLING_OF", "Person", "Person"),
    ("CO_OCCURRED_WITH", "Person", "Person"), ("LEGAL_REP_OF", "Person", "Company"),
    ("SHAREHOLDER_OF", "Person", "Company"), ("RECEIVES", "Person", "Benefit"), ("SERVES_IN", "Person", "Village"),
    ("LOCATED_IN", "Project", "Village"), ("AWARDED_TO", "Contract", "Company"),
    ("FOR_PROJECT", "Contract", "Project"), ("PAID_IN", "Benefit", "Village"),
]
# properties the generator compares: label -> [(property, kind)]
PROPS = {
    "Person": [("name", "str"), ("sex", "str"), ("birth_date", "date")],
    "Company": [("name", "str"), ("registered_capital", "num")],
    "Village": [("name", "str")],
    "Benefit": [("amount", "num"), ("period_start", "date")],
    "Project": [("name", "str"), ("budget", "num")],
    "Contract": [("amount", "num"), ("signed", "date")],
}
LABELS = list(PROPS)


def random_graph(rng: random.Random):
    nodes, rels = [], []
    n = rng.randint(8, 16)
    by_label: dict[str, list[str]] = {la: [] for la in LABELS}
    for i in range(n):
        label = rng.choice(LABELS + ["Person"] * 4 + ["Company"])
        key = f"{label}:n{i}"
        node = {"key": key, "labels": [label]}
        if label == "Person" and rng.random() < 0.3:
            node["labels"].append("Official")
        for prop, kind in PROPS[label]:
            if rng.random() < 0.2:
                continue                        # missing property (null)
            if kind == "str":
                node[prop] = rng.choice(NAMES) if prop == "name" else rng.choice(["男", "女"])
            elif kind == "num":
                node[prop] = rng.choice([100, 300, 250000, 600000, 0, 999999.5])
            else:
                node[prop] = (dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))).isoformat()
        nodes.append(node)
        by_label[label].append(key)
    for _ in range(rng.randint(2 * n, 4 * n)):
        typ, a, b = rng.choice(TYPES)
        if not by_label[a] or not by_label[b]:
            continue
        src, dst = rng.choice(by_label[a]), rng.choice(by_label[b])
        if src == dst and typ != "CO_OCCURRED_WITH":
            continue
        props = {}
        if typ == "SHAREHOLDER_OF" and rng.random() < 0.8:
            props["share"] = rng.choice([10.0, 40.0, 60.0, 33.5])
        if typ == "CO_OCCURRED_WITH" and rng.random() < 0.7:
            props["minutes_apart"] = rng.randint(0, 30)
        rels.append([src, typ, dst, props] if props else [src, typ, dst])
        if rng.random() < 0.1:               # a parallel relationship
            rels.append([src, typ, dst, props] if props else [src, typ, dst])
    return nodes, rels


@dataclass
class Q:
    text: str
    params: dict = field(default_factory=dict)
    ordered: bool = False


class PatternGen:
    """Random patterns that both engines should accept, over the generator's graph shape."""

    def __init__(self, rng: random.Random):
        self.r = rng
        self.k = 0

    def var(self, prefix="v"):
        self.k += 1
        return f"{prefix}{self.k}"

    def hop(self, left_label):
        """A relationship step from a node of left_label: (rel text, right label)."""
        r = self.r
        options = [(t, a, b) for t, a, b in TYPES if left_label in (a, b, None)] if left_label else TYPES
        typ, a, b = r.choice(options)
        if left_label == a or (left_label is None and r.random() < 0.5):
            forward, right = True, b
        else:
            forward, right = False, a
        if a == b and r.random() < 0.5:
            forward = r.random() < 0.5
        types = typ
        if r.random() < 0.2:
            alt = [t for t, x, y in TYPES if (x, y) == (a, b) and t != typ]
            if alt:
                types = f"{typ}|{r.choice(alt)}"
        length = ""
        if a == b and r.random() < 0.3:
            length = r.choice(["*1..2", "*0..2", "*2", "*1..3", "*..2"])
        direction = r.choice(["out", "in", "both"]) if a == b else ("out" if forward else "in")
        if direction == "both" or r.random() < 0.15:
            arrow = ("-", "-")
        elif direction == "out":
            arrow = ("-", "->")
        else:
            arrow = ("<-", "-")
        name = self.var("r") if not length and r.random() < 0.4 else ""
        return f"{arrow[0]}[{name}:{types}{length}]{arrow[1]}", right, name, bool(length)

    def node(self, label, named=True):
        r = self.r
        name = self.var("n") if named else ""
        text_label = ""
        if label and r.random() < 0.85:
            text_label = ":" + label
            if label == "Person" and r.random() < 0.2:
                text_label += ":Official"
        inline = ""
        if label and r.random() < 0.07:
            prop, kind = r.choice(PROPS[label])
            inline = f" {{{prop}: {self.literal(kind)}}}"
        return f"({name}{text_label}{inline})", name

    def literal(self, kind):
        r = self.r
        if kind == "str":
            return repr(r.choice(NAMES + ["男", "女"])).replace('"', "'")
        if kind == "num":
            return str(r.choice([100, 300, 250000, 600000, 0]))
        return f"date('{(dt.date(2018, 1, 1) + dt.timedelta(days=r.randint(0, 2000))).isoformat()}')"

    def path(self, length, start_label=None):
        """A path of `length` hops: text, list of (var, label) of named nodes, rel vars."""
        r = self.r
        label = start_label or r.choice(LABELS)
        text, nv = self.node(label)
        nodes, rels = [(nv, label)], []
        cur = label
        for _ in range(length):
            rel, right, rv, varlen = self.hop(cur)
            if rv:
                rels.append(rv)
            ntext, nv = self.node(right, named=r.random() < 0.8)
            if nv:
                nodes.append((nv, right))
            text += rel + ntext
            cur = right
        return text, nodes, rels

    def predicate(self, nodes, depth=0):
        r = self.r
        v, label = r.choice(nodes)
        prop, kind = r.choice(PROPS[label])
        x = f"{v}.{prop}"
        choice = r.random()
        if choice < 0.15:
            p = f"{x} IS NULL" if r.random() < 0.5 else f"{x} IS NOT NULL"
        elif kind == "str" and choice < 0.35:
            op = r.choice(["STARTS WITH", "CONTAINS", "ENDS WITH"])
            p = f"{x} {op} {r.choice(['张', 'A', '', '伟'])!r}".replace('"', "'")
        elif kind == "str" and choice < 0.5:
            p = f"{x} IN ['张伟', 'Bob', '男']"
        elif choice < 0.6:
            # a parameter instead of a literal
            name = f"p{self.var('')}"
            value = {"str": r.choice(NAMES), "num": r.choice([100, 300000]),
                     "date": dt.date(2019, r.randint(1, 12), 1)}[kind]
            self.params[name] = value
            p = f"{x} {r.choice(['=', '<>', '<', '>='])} ${name}"
        elif choice < 0.7 and label in ("Person", "Company"):
            t = r.choice([t for t, a, b in TYPES if label in (a, b)])
            p = f"{'NOT ' if r.random() < 0.5 else ''}({v})-[:{t}]-()"
        else:
            p = f"{x} {r.choice(['=', '<>', '<', '<=', '>', '>='])} {self.literal(kind)}"
        if depth < 1 and r.random() < 0.3:
            p = f"({p}) {r.choice(['AND', 'OR'])} ({self.predicate(nodes, depth + 1)})"
        if r.random() < 0.1:
            p = f"NOT ({p})"
        return p

    def returns(self, nodes, rels):
        """RETURN items (expression, alias, is entity)."""
        r = self.r
        items = []
        for v, label in r.sample(nodes, k=min(len(nodes), r.randint(1, 3))):
            if r.random() < 0.25:
                items.append((v, f"c{len(items)}"))
            else:
                prop, _ = r.choice(PROPS[label])
                items.append((f"{v}.{prop}", f"c{len(items)}"))
        if rels and r.random() < 0.3:
            rv = r.choice(rels)
            items.append((r.choice([f"type({rv})", rv]), f"c{len(items)}"))
        return items

    def query(self) -> Q:
        r = self.r
        self.params = {}
        kind = r.random()
        text, nodes, rels = self.path(r.choice([0, 1, 1, 1, 2, 2, 2, 3]), r.choice(LABELS + ["Person"] * 3))
        clauses = [f"MATCH {text}"]
        if r.random() < 0.25:
            v, label = r.choice(nodes)
            t2, n2, r2 = self.path(r.randint(1, 2), start_label=label)
            t2 = t2.replace(f"({n2[0][0]}", f"({v}", 1)   # start the second path at a bound node
            clauses[0] += f", {t2}"
            nodes += [x for x in n2[1:]]
            rels += r2
        if r.random() < 0.4:
            clauses.append(f"WHERE {self.predicate(nodes)}")
        if r.random() < 0.2:
            v, label = r.choice(nodes)
            t3, n3, r3 = self.path(1, start_label=label)
            t3 = t3.replace(f"({n3[0][0]}", f"({v}", 1)
            clauses.append(f"OPTIONAL MATCH {t3}")
            nodes += [x for x in n3[1:]]
            rels += r3
        if kind < 0.3:
            # aggregate, with or without a WITH stage
            v, label = r.choice(nodes)
            prop, pk = r.choice(PROPS[label])
            agg = r.choice(["count(*)", f"count({v})", f"count(DISTINCT {v}.{prop})",
                            f"min({v}.{prop})", f"max({v}.{prop})", f"collect(DISTINCT {v}.{prop})"]
                           + ([f"sum({v}.{prop})", f"avg({v}.{prop})"] if pk == "num" else []))
            g, glabel = r.choice(nodes)
            gprop, _ = r.choice(PROPS[glabel])
            if r.random() < 0.5:
                clauses.append(f"WITH {g}.{gprop} AS k, {agg} AS a")
                if r.random() < 0.5 and agg.startswith("count"):
                    clauses.append(f"WHERE a >= {r.randint(1, 2)}")
                clauses.append("RETURN k, a")
            else:
                clauses.append(f"RETURN {g}.{gprop} AS k, {agg} AS a")
            cols = ["k", "a"]
            ordered = False
            if r.random() < 0.4 and not agg.startswith("collect"):
                clauses.append("ORDER BY " + ", ".join(f"{c} {r.choice(['', 'DESC'])}".strip() for c in cols))
                ordered = True
                if r.random() < 0.5:
                    clauses.append(f"LIMIT {r.randint(1, 4)}")
            return Q("\n".join(clauses), dict(self.params), ordered)
        items = self.returns(nodes, rels)
        distinct = "DISTINCT " if r.random() < 0.3 else ""
        clauses.append(f"RETURN {distinct}" + ", ".join(f"{e} AS {a}" for e, a in items))
        ordered = False
        scalar = all("." in e or e.startswith("type(") for e, _ in items)
        if scalar and r.random() < 0.4:
            # ORDER BY every returned column is total: tied rows are equal rows
            clauses.append("ORDER BY " + ", ".join(f"{a}{r.choice(['', ' DESC'])}" for _, a in items))
            ordered = True
            if r.random() < 0.5:
                clauses.append(f"SKIP {r.randint(0, 1)} LIMIT {r.randint(1, 3)}")
        return Q("\n".join(clauses), dict(self.params), ordered)


def norm(v):
    if isinstance(v, GNode):
        return ("node", v.key)
    if isinstance(v, GRel):
        return ("rel", v.type, v.id)
    if isinstance(v, GPath):
        return ("path", tuple(n.key for n in v.nodes))
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, list):
        return ("list", tuple(sorted((norm(x) for x in v), key=repr)))
    return v


def canon(rows, ordered):
    out = [tuple(norm(v) for v in r) for r in rows]
    return out if ordered else sorted(out, key=repr)


def with_bindings(res):
    """Rows paired with the ids each was built from, as a multiset."""
    return sorted((repr(tuple(norm(v) for v in r)), b.nodes, b.rels) for r, b in zip(res.rows, res.bindings))


@pytest.fixture(scope="module")
def target(neo4j_ws):
    return Neo4jTarget.resolve(neo4j_ws)


@pytest.mark.parametrize("seed", range(GRAPHS))
def test_random_patterns_agree(seed, tmp_path, target, compared):
    rng = random.Random(1000 + seed)
    nodes, rels = random_graph(rng)
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, nodes, rels)
    push(ws, target, clear=True)
    gen = PatternGen(rng)
    failures = []
    with DuckDBEngine(ws) as duck, Neo4jEngine(target=target) as neo:
        for i in range(PATTERNS_PER_GRAPH):
            q = gen.query()
            try:
                d = duck.run(q.text, q.params)
            except PatternError:
                compared["refused"] += 1
                continue
            try:
                n = neo.run(q.text, q.params)
                # after SKIP/LIMIT, tied rows may come from different matches: values only
                same = canon(d.rows, q.ordered) == canon(n.rows, q.ordered) and d.columns == n.columns \
                    and ("LIMIT" in q.text or with_bindings(d) == with_bindings(n))
                detail = (f"duckdb {canon(d.rows, q.ordered)}\nneo4j  {canon(n.rows, q.ordered)}\n"
                          f"bindings duckdb {with_bindings(d)}\nbindings neo4j  {with_bindings(n)}")
            except Exception as exc:   # noqa: BLE001 - Neo4j refusing what DuckDB ran is a mismatch
                same, detail = False, f"neo4j raised {exc}"
            compared["n"] += 1
            compared["non_empty"] += bool(d.rows)
            if not same:
                failures.append(f"graph seed {1000 + seed}, pattern {i}:\n{q.text}\nparams {q.params}\n{detail}")
    assert not failures, "\n\n".join(failures[:5])


@pytest.fixture(scope="module")
def compared():
    return {"n": 0, "refused": 0, "non_empty": 0}


def test_enough_patterns_were_compared(compared):
    """Runs after the graphs above (pytest keeps file order): the test cannot shrink silently."""
    assert compared["n"] >= MIN_COMPARED and compared["non_empty"] >= MIN_NON_EMPTY, compared
