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
from collections import Counter
from dataclasses import dataclass, field

import pytest

from graphwatch.engines.compare import comparable, comparable_rows
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.exc import PatternError
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

# more graphs for a longer hunt: GRAPHWATCH_PARITY_GRAPHS=200 pytest tests/test_parity_random.py
#: bindings of a whole group: an aggregate's evidence is bounded (the first N matches), and
#: which N matches each engine keeps may differ; compared in full, the evidence must agree
EVERY_MATCH = 1_000_000
DEFAULT_GRAPHS = 16
GRAPHS = int(os.environ.get("GRAPHWATCH_PARITY_GRAPHS", DEFAULT_GRAPHS))
PATTERNS_PER_GRAPH = 36
MIN_COMPARED = 300
MIN_NON_EMPTY = 120      # patterns whose result has rows: agreement on empty results proves little
MAX_REFUSED = 5          # patterns Neo4j runs but the subset refuses (each one listed on failure)
MAX_REFUSED_BY_BOTH = 5  # patterns both refuse: the generator wrote invalid Cypher

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
    exact_bindings: bool = True     # False where Neo4j may pick another of equally good matches
    features: set = field(default_factory=set)
    float_sum_column: int | None = None   # a sum() of floats: over no values 0 in Neo4j, 0.0 here


def known_difference(q: Q, rows: list) -> tuple[list, bool]:
    """Neo4j's rows with the one documented difference the generator can meet undone
    (docs/cypher.md, "Differences from Neo4j": sum() of floats over no values is the integer
    0 there, 0.0 here); and whether it was met."""
    i = q.float_sum_column
    if i is None:
        return rows, False
    met = any(type(r[i]) is int and r[i] == 0 for r in rows)
    return [tuple(0.0 if j == i and type(v) is int and v == 0 else v for j, v in enumerate(r)) for r in rows], met


#: constructs the generator writes, each compared at least MIN_PER_FEATURE times
FEATURES = ("var_length", "optional", "aggregate", "with", "unwind", "case", "comprehension", "shortest",
            "all_shortest", "exists", "pattern_predicate", "distinct", "order")
MIN_PER_FEATURE = 12


class PatternGen:
    """Random patterns that both engines should accept, over the generator's graph shape."""

    def __init__(self, rng: random.Random):
        self.r = rng
        self.k = 0
        self.params: dict = {}
        self.features: set = set()

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
            self.features.add("var_length")
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
        if kind == "num":       # the numeric properties are decimals: floats, as Neo4j holds them
            return str(float(r.choice([100, 300, 250000, 600000, 0])))
        if kind == "int":
            return str(r.choice([0, 1, 2, 5]))
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

    def value(self, nodes, scalars, kind=None):
        """A property of a node in scope (or a scalar alias), optionally of one kind: (text, kind)."""
        r = self.r
        options = [(f"{v}.{p}", k) for v, label in nodes for p, k in PROPS[label] if kind in (None, k)]
        options += [(a, k) for a, k in scalars if kind in (None, k)]
        return r.choice(options) if options else (self.literal(kind or "num"), kind or "num")

    def predicate(self, nodes, depth=0, scalars=()):
        r = self.r
        v, label = r.choice(nodes)
        prop, kind = r.choice(PROPS[label])
        x = f"{v}.{prop}"
        choice = r.random()
        if choice < 0.12:
            p = f"{x} IS NULL" if r.random() < 0.5 else f"{x} IS NOT NULL"
        elif kind == "str" and choice < 0.3:
            op = r.choice(["STARTS WITH", "CONTAINS", "ENDS WITH"])
            p = f"{x} {op} {r.choice(['张', 'A', '', '伟'])!r}".replace('"', "'")
        elif kind == "str" and choice < 0.42:
            p = f"{x} IN ['张伟', 'Bob', '男']"
        elif choice < 0.52:
            # a parameter instead of a literal
            name = f"p{self.var('')}"
            value = {"str": r.choice(NAMES), "num": float(r.choice([100, 300000])),
                     "date": dt.date(2019, r.randint(1, 12), 1)}[kind]
            self.params[name] = value
            p = f"{x} {r.choice(['=', '<>', '<', '>='])} ${name}"
        elif choice < 0.66 and any(label in (a, b) for _, a, b in TYPES):
            t = r.choice([t for t, a, b in TYPES if label in (a, b)])
            p = f"{'NOT ' if r.random() < 0.5 else ''}({v})-[:{t}]-()"
            self.features.add("pattern_predicate")
        elif choice < 0.76:
            p = self.exists(v, label)
        elif choice < 0.84:
            # CASE as a condition
            self.features.add("case")
            p = (f"CASE WHEN {x} IS NULL THEN {r.choice(['true', 'false'])} "
                 f"ELSE {x} {r.choice(['<', '>=', '='])} {self.literal(kind)} END")
        else:
            p = f"{x} {r.choice(['=', '<>', '<', '<=', '>', '>='])} {self.literal(kind)}"
        if depth < 1 and r.random() < 0.3:
            p = f"({p}) {r.choice(['AND', 'OR'])} ({self.predicate(nodes, depth + 1)})"
        if r.random() < 0.1:
            p = f"NOT ({p})"
        return p

    def exists(self, v, label):
        """EXISTS { … } from a bound node, with or without MATCH and an inner WHERE."""
        r = self.r
        self.features.add("exists")
        options = [(t, a, b) for t, a, b in TYPES if label in (a, b)]
        if not options:
            return f"{v}.{PROPS[label][0][0]} IS NOT NULL"
        typ, a, b = r.choice(options)
        other = b if label == a else a
        arrow = ("-", "->") if label == a else ("<-", "-")
        x = self.var("x")
        body = f"({v}){arrow[0]}[:{typ}]{arrow[1]}({x}:{other})"
        if r.random() < 0.5:
            prop, kind = r.choice(PROPS[other])
            body = f"MATCH {body} WHERE {x}.{prop} {r.choice(['=', '<>', '<', '>='])} {self.literal(kind)}"
        elif r.random() < 0.5:
            body = "MATCH " + body
        return f"{'NOT ' if r.random() < 0.3 else ''}EXISTS {{ {body} }}"

    def case_item(self, nodes, scalars):
        r = self.r
        self.features.add("case")
        x, kind = self.value(nodes, scalars)
        if r.random() < 0.5:
            # simple CASE
            whens = " ".join(f"WHEN {self.literal(kind)} THEN {r.randint(0, 9)}" for _ in range(r.randint(1, 2)))
            default = f" ELSE {r.randint(10, 20)}" if r.random() < 0.7 else ""
            return f"CASE {x} {whens}{default} END"
        v, label = r.choice(nodes) if nodes else (None, None)
        cond = self.predicate(nodes) if nodes else f"{x} IS NULL"
        default = f" ELSE {self.literal(kind)}" if r.random() < 0.7 else ""
        return f"CASE WHEN {cond} THEN {x}{default} END"

    def comprehension_item(self, nodes, scalars, path=None):
        r = self.r
        self.features.add("comprehension")
        choice = r.random()
        if path and choice < 0.3:
            return r.choice([f"[n IN nodes({path}) WHERE n IS NOT NULL]", f"size([n IN nodes({path}) | 1])",
                             f"[r IN relationships({path}) | r]"])
        if choice < 0.7:
            kind = r.choice(["str", "num", "date"])
            a, _ = self.value(nodes, scalars, kind)
            b, _ = self.value(nodes, scalars, kind)
            if kind == "num" and r.random() < 0.5:
                return f"[x IN [{a}, {b}] WHERE x IS NOT NULL | x * 2]"
            return f"[x IN [{a}, {b}] WHERE x IS NOT NULL]"
        return f"[x IN range(0, {r.randint(1, 4)}) WHERE x % 2 = 0 | x * 10]"

    def returns(self, nodes, rels, scalars=(), path=None):
        """RETURN items (expression, alias)."""
        r = self.r
        items = []
        for v, label in r.sample(nodes, k=min(len(nodes), r.randint(1, 3))):
            roll = r.random()
            if roll < 0.2:
                items.append((v, f"c{len(items)}"))
            elif roll < 0.3:
                items.append((self.case_item(nodes, scalars), f"c{len(items)}"))
            elif roll < 0.38:
                items.append((self.comprehension_item(nodes, scalars, path), f"c{len(items)}"))
            else:
                prop, _ = r.choice(PROPS[label])
                items.append((f"{v}.{prop}", f"c{len(items)}"))
        for a, _kind in scalars:
            if r.random() < 0.6:
                items.append((a, f"c{len(items)}"))
        if rels and r.random() < 0.3:
            rv = r.choice(rels)
            items.append((r.choice([f"type({rv})", rv]), f"c{len(items)}"))
        if path and r.random() < 0.4:
            items.append((r.choice([path, f"length({path})", f"nodes({path})"]), f"c{len(items)}"))
        if not items:
            items.append(("1", "c0"))
        return items

    def shortest(self) -> Q:
        """shortestPath / allShortestPaths between two nodes that cannot be the same one
        (Neo4j fails on a search from a node to itself)."""
        r = self.r
        kind = "shortestPath" if r.random() < 0.5 else "allShortestPaths"
        self.features.add("shortest" if kind == "shortestPath" else "all_shortest")
        la, lb = r.choice(LABELS), r.choice(LABELS)
        types = r.choice(["", ":" + r.choice(TYPES)[0], ":" + "|".join(t for t, _, _ in r.sample(TYPES, 3))])
        arrow = r.choice([("-", "-"), ("-", "->"), ("<-", "-"), ("-", "-")])
        hops = r.choice(["*..3", "*..4", "*1..5", "*"])
        a, b = self.var("a"), self.var("b")
        pv = self.var("p")
        inline = ""
        if r.random() < 0.5:
            prop, kind_ = r.choice(PROPS[la])
            inline = f" {{{prop}: {self.literal(kind_)}}}"
        clauses = []
        if la == lb:
            clauses.append(f"MATCH ({a}:{la}{inline}), ({b}:{lb}) WHERE {a} <> {b}")
            clauses.append(f"MATCH {pv} = {kind}(({a}){arrow[0]}[{types}{hops}]{arrow[1]}({b}))")
        else:
            clauses.append(f"MATCH {pv} = {kind}(({a}:{la}{inline}){arrow[0]}[{types}{hops}]{arrow[1]}({b}:{lb}))")
        pa, _ = r.choice(PROPS[la])
        pb, _ = r.choice(PROPS[lb])
        if kind == "shortestPath":
            # one of several equally short paths: Neo4j may pick another one, so compare
            # what every choice shares, not the path itself
            clauses.append(f"RETURN {a}.{pa} AS c0, {b}.{pb} AS c1, length({pv}) AS c2")
            return Q("\n".join(clauses), dict(self.params), exact_bindings=False, features=set(self.features))
        clauses.append(f"RETURN {a}.{pa} AS c0, {b}.{pb} AS c1, {r.choice([pv, f'length({pv})', f'nodes({pv})'])} AS c2")
        return Q("\n".join(clauses), dict(self.params), features=set(self.features))

    def query(self) -> Q:
        r = self.r
        self.params = {}
        self.features = set()
        if r.random() < 0.08:
            return self.shortest()
        kind = r.random()
        clauses, scalars = [], []
        if r.random() < 0.08:
            self.features.add("unwind")
            u = self.var("u")
            if r.random() < 0.5:
                clauses.append(f"UNWIND range(1, {r.randint(1, 2)}) AS {u}")
                scalars.append((u, "int"))
            else:
                self.params["names"] = r.sample(NAMES, 3)
                clauses.append(f"UNWIND $names AS {u}")
                scalars.append((u, "str"))
        text, nodes, rels = self.path(r.choice([0, 1, 1, 1, 2, 2, 2, 3]), r.choice(LABELS + ["Person"] * 3))
        path = None
        if r.random() < 0.1:
            path = self.var("p")
            text = f"{path} = {text}"
        clauses.append(f"MATCH {text}")
        if r.random() < 0.25:
            v, label = r.choice(nodes)
            t2, n2, r2 = self.path(r.randint(1, 2), start_label=label)
            t2 = t2.replace(f"({n2[0][0]}", f"({v}", 1)   # start the second path at a bound node
            clauses[-1] += f", {t2}"
            nodes += [x for x in n2[1:]]
            rels += r2
        if r.random() < 0.45:
            clauses.append(f"WHERE {self.predicate(nodes, scalars=scalars)}")
        if r.random() < 0.2:
            self.features.add("optional")
            v, label = r.choice(nodes)
            t3, n3, r3 = self.path(1, start_label=label)
            t3 = t3.replace(f"({n3[0][0]}", f"({v}", 1)
            clauses.append(f"OPTIONAL MATCH {t3}")
            nodes += [x for x in n3[1:]]
            rels += r3
        if r.random() < 0.15:
            # WITH without aggregation: some variables go on, a value is named, WHERE filters
            self.features.add("with")
            keep = r.sample(nodes, k=min(len(nodes), r.randint(1, 2)))
            x, xk = self.value(nodes, [])
            w = self.var("w")
            distinct = "DISTINCT " if r.random() < 0.2 else ""
            clauses.append(f"WITH {distinct}{', '.join(v for v, _ in keep)}, {x} AS {w}"
                           + (f", {path}" if path and not distinct else ""))
            if distinct:
                path = None
            nodes, rels, scalars = keep, [], [(w, xk)]
            if r.random() < 0.5:
                clauses.append(f"WHERE {w} IS NOT NULL" if r.random() < 0.5 else f"WHERE {self.predicate(nodes)}")
        if r.random() < 0.1:
            self.features.add("unwind")
            u = self.var("u")
            kind_u = r.choice(["str", "num", "date"])
            a, _ = self.value(nodes, scalars, kind_u)
            b, _ = self.value(nodes, scalars, kind_u)
            clauses.append(f"UNWIND [{a}, {b}] AS {u}")
            scalars.append((u, kind_u))
        if kind < 0.3:
            # aggregate, with or without a WITH stage
            self.features.add("aggregate")
            v, label = r.choice(nodes)
            prop, pk = r.choice(PROPS[label])
            agg = r.choice(["count(*)", f"count({v})", f"count(DISTINCT {v}.{prop})",
                            f"min({v}.{prop})", f"max({v}.{prop})", f"collect(DISTINCT {v}.{prop})",
                            f"size(collect(DISTINCT {v}.{prop}))",
                            f"[x IN collect({v}.{prop}) WHERE x IS NOT NULL]"]
                           + ([f"sum({v}.{prop})", f"avg({v}.{prop})"] if pk == "num" else []))
            if agg.startswith("[x IN"):
                self.features.add("comprehension")
            g, gk = self.value(nodes, scalars)
            cols = ["k", "a"]
            if r.random() < 0.2 and not agg.startswith(("collect", "[")):
                # collect, then UNWIND the collected values
                self.features.add("unwind")
                clauses.append(f"WITH {g} AS k, collect(DISTINCT {v}.{prop}) AS xs")
                clauses.append("UNWIND xs AS a")
                clauses.append("RETURN k, a")
            elif r.random() < 0.5:
                clauses.append(f"WITH {g} AS k, {agg} AS a")
                if r.random() < 0.5 and agg.startswith("count"):
                    clauses.append(f"WHERE a >= {r.randint(1, 2)}")
                clauses.append("RETURN k, a")
            else:
                clauses.append(f"RETURN {g} AS k, {agg} AS a")
            ordered = False
            if r.random() < 0.4 and not agg.startswith(("collect", "[")) and "xs" not in clauses[-2]:
                self.features.add("order")
                clauses.append("ORDER BY " + ", ".join(f"{c} {r.choice(['', 'DESC'])}".strip() for c in cols))
                ordered = True
                if r.random() < 0.5:
                    clauses.append(f"LIMIT {r.randint(1, 4)}")
            return Q("\n".join(clauses), dict(self.params), ordered, "LIMIT" not in clauses[-1],
                     set(self.features), 1 if agg.startswith("sum(") else None)
        items = self.returns(nodes, rels, scalars, path)
        distinct = ""
        if r.random() < 0.3:
            distinct = "DISTINCT "
            self.features.add("distinct")
        clauses.append(f"RETURN {distinct}" + ", ".join(f"{e} AS {a}" for e, a in items))
        ordered, limited = False, False
        scalar = all(("." in e or e.startswith("type(")) and "[" not in e and not e.startswith("CASE")
                     for e, _ in items)
        if scalar and r.random() < 0.4:
            # ORDER BY every returned column is total: tied rows are equal rows
            self.features.add("order")
            clauses.append("ORDER BY " + ", ".join(f"{a}{r.choice(['', ' DESC'])}" for _, a in items))
            ordered = True
            if r.random() < 0.5:
                clauses.append(f"SKIP {r.randint(0, 1)} LIMIT {r.randint(1, 3)}")
                limited = True
        # after SKIP/LIMIT, tied rows may come from different matches: values only
        return Q("\n".join(clauses), dict(self.params), ordered, not limited, set(self.features))


def canon(rows, ordered):
    """Rows of either engine as compared: relationships by type and id, floats to 6 digits,
    lists in any order (Cypher leaves collect()'s order open)."""
    return comparable_rows(rows, ordered=ordered, rel_ids=True, digits=6, sort_lists=True)


def with_bindings(res):
    """Rows paired with the ids each was built from, as a multiset."""
    return sorted((repr(tuple(comparable(v, rel_ids=True, digits=6, sort_lists=True) for v in r)), b.nodes, b.rels) for r, b in zip(res.rows, res.bindings))


@pytest.fixture(scope="module")
def target(neo4j_ws):
    return Neo4jTarget.resolve(neo4j_ws)


def neo4j_fails(driver, target, q: Q) -> bool:
    """Whether Neo4j itself fails on the pattern, sent as it is (no checker in between)."""
    try:
        with target.session(driver) as s:
            s.run(q.text, q.params).consume()
        return False
    except Exception:   # noqa: BLE001 - any failure of the server's
        return True


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
    driver = target.driver()
    with DuckDBEngine(ws) as duck, Neo4jEngine(target=target) as neo:
        for i in range(PATTERNS_PER_GRAPH):
            q = gen.query()
            where = f"graph seed {1000 + seed}, pattern {i}:\n{q.text}\nparams {q.params}"
            try:
                d = duck.run(q.text, q.params, bindings=EVERY_MATCH)
                plain = duck.run(q.text, q.params)         # without bindings: the same rows
            except PatternError as exc:
                # refused by the subset: counted; bounded below unless Neo4j fails on it too
                both = neo4j_fails(driver, target, q)
                compared["refused_by_both" if both else "refused"] += 1
                compared["refusals"].append(f"{where}\n-> {exc}" + (" (Neo4j fails too)" if both else ""))
                continue
            try:
                n = neo.run(q.text, q.params, bindings=EVERY_MATCH)
                n.rows, met = known_difference(q, n.rows)
                compared["known_difference"] += met
                same = canon(d.rows, q.ordered) == canon(n.rows, q.ordered) and d.columns == n.columns \
                    and canon(plain.rows, q.ordered) == canon(n.rows, q.ordered) \
                    and (not q.exact_bindings or with_bindings(d) == with_bindings(n))
                detail = (f"columns duckdb {d.columns} neo4j {n.columns}\n"
                          f"duckdb {canon(d.rows, q.ordered)}\nneo4j  {canon(n.rows, q.ordered)}\n"
                          f"bindings duckdb {with_bindings(d)}\nbindings neo4j  {with_bindings(n)}")
            except Exception as exc:   # noqa: BLE001 - Neo4j refusing what DuckDB ran is a mismatch
                same, detail = False, f"neo4j raised {exc}"
            compared["n"] += 1
            compared["non_empty"] += bool(d.rows)
            for f in q.features:
                compared["features"][f] += 1
            if not same:
                failures.append(f"{where}\n{detail}")
    driver.close()
    assert not failures, "\n\n".join(failures[:5])


@pytest.fixture(scope="module")
def compared():
    return {"n": 0, "refused": 0, "refused_by_both": 0, "non_empty": 0, "known_difference": 0,
            "features": Counter(), "refusals": []}


def test_enough_patterns_were_compared(compared, target, capsys):
    """Runs after the graphs above (pytest keeps file order): the test cannot shrink
    silently, every construct is exercised, and refusals stay rare. Needs Neo4j like the
    test above (skipped with it outside CI, never under CI)."""
    summary = (f"differential test: {compared['n']} patterns compared on DuckDB and Neo4j "
               f"({compared['non_empty']} with rows); refused by the subset: {compared['refused']} "
               f"(at most {MAX_REFUSED}); refused by both engines: {compared['refused_by_both']} "
               f"(at most {MAX_REFUSED_BY_BOTH}); the documented sum() difference met "
               f"{compared['known_difference']} times; per construct: {dict(sorted(compared['features'].items()))}")
    with capsys.disabled():
        print("\n" + summary)
    assert compared["n"] >= MIN_COMPARED and compared["non_empty"] >= MIN_NON_EMPTY, summary
    thin = {f: compared["features"][f] for f in FEATURES if compared["features"][f] < MIN_PER_FEATURE}
    assert not thin, f"constructs compared fewer than {MIN_PER_FEATURE} times: {thin}\n{summary}"
    refusals = "\n\n".join(compared["refusals"][:10])
    assert compared["refused"] <= MAX_REFUSED, f"{summary}\n\n{refusals}"
    assert compared["refused_by_both"] <= MAX_REFUSED_BY_BOTH, f"{summary}\n\n{refusals}"
