"""A hop between two nodes an OPTIONAL MATCH reads from the row, listed from the adjacency
index (graphwatch.cypher.pairs, gw_rels_between) instead of a join against every relationship
of its types: the same rows and bindings (evidence) as the rel join, and as Neo4j, on a graph
with parallel relationships, both directions, self-loops and several types."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import engine_on, graph_workspace

from graphwatch.cypher import pairs
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.rels_between import positions, rels_between
from graphwatch.store import Workspace

NODES = [{"key": f"Person:{k}", "labels": ["Person"] + (["Official"] if k in "ad" else []), "name": k}
         for k in "abcdef"] + [{"key": "Contract:1", "labels": ["Contract"], "contract_no": "1"},
                              {"key": "Contract:2", "labels": ["Contract"], "contract_no": "2"}]
RELS = [["Person:a", "SPOUSE_OF", "Person:b"], ["Person:a", "IN_LAW_OF", "Person:b", {"kin": "x"}],
        ["Person:b", "SPOUSE_OF", "Person:a"],                      # both directions
        ["Person:a", "SIBLING_OF", "Person:b"], ["Person:a", "SIBLING_OF", "Person:b"],     # parallel
        ["Person:c", "SIBLING_OF", "Person:c"], ["Person:c", "PARENT_OF", "Person:c"],      # self-loops
        ["Person:b", "PARENT_OF", "Person:c"], ["Person:d", "PARENT_OF", "Person:b"],
        ["Person:e", "SPOUSE_OF", "Person:f"], ["Person:d", "GRANDPARENT_OF", "Person:e"],
        ["Person:a", "APPROVED", "Contract:1"], ["Person:a", "APPROVED", "Contract:1"],
        ["Person:d", "APPROVED", "Contract:2"], ["Person:a", "APPROVED", "Contract:2"]]

KIN = "SPOUSE_OF|IN_LAW_OF|SIBLING_OF|PARENT_OF"
QUERIES = [
    # undirected, several types, type and start read after it; a self-loop once
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]-(r) WHERE type(k) IN $kin "
    "RETURN o.name, r.name, type(k), startNode(k) = o, endNode(k) = r",
    # directed either way, parallel relationships, a later WITH reading type and ends
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]->(r) "
    "WITH o, r, type(k) AS t, startNode(k) AS s WHERE t IS NOT NULL OR o = r RETURN o.name, r.name, t, s.name",
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)<-[k:{KIN}]-(r) RETURN o.name, r.name, type(k), count(*)",
    # a property of the relationship in the clause (the rel row) and after it
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]-(r) WHERE k.kin IS NULL OR k.kin = 'x' "
    "RETURN o.name, r.name, type(k), k.kin",
    # a property of the relationship after it only; a property of it in a later MATCH
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]-(r) WITH o, r, k WHERE k IS NOT NULL "
    "RETURN o.name, r.name, type(k), k.kin, startNode(k) = o",
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]-(r) WITH o, r, k "
    "MATCH (o)-[k2]-(r) WHERE k2 = k AND coalesce(k2.kin, '') = '' RETURN o.name, r.name, type(k)",
    # one type, a contract, a second optional hop
    "MATCH (o:Official), (ct:Contract) OPTIONAL MATCH (o)-[ap:APPROVED]->(ct) "
    "OPTIONAL MATCH (ct)<-[s:APPROVED]-(o) WHERE ct.contract_no = '2' WITH o, ct, ap, s WHERE ap IS NOT NULL OR s IS NOT NULL "
    "RETURN o.name, ct.contract_no, ap IS NULL, s IS NULL",
    # any type, unnamed, the same node at both ends, a label on an end
    "MATCH (o:Person) OPTIONAL MATCH (o)--(o:Person) RETURN o.name, count(*)",
    "MATCH (o:Person)-[:GRANDPARENT_OF|PARENT_OF]-(r) OPTIONAL MATCH (o)-[x]-(r) RETURN o.name, r.name, type(x)",
    # a hop between the pair and another from one of its ends (uniqueness within the clause)
    f"MATCH (o:Person), (r:Person) OPTIONAL MATCH (o)-[k:{KIN}]-(r)-[j:{KIN}]-(z) "
    "RETURN o.name, r.name, type(k), type(j), z.name",
    # a path through the hop
    "MATCH (o:Official), (ct:Contract) OPTIONAL MATCH p = (o)-[:APPROVED]-(ct) RETURN o.name, ct.contract_no, "
    "length(p)",
]
PARAMS = {"kin": ["SPOUSE_OF", "SIBLING_OF", "PARENT_OF", "IN_LAW_OF"]}


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return graph_workspace(tmp_path_factory, "pairs", NODES, RELS)


@pytest.fixture(scope="module")
def neo4j_engine(request, graph):
    yield from engine_on(request, graph, "neo4j")


@pytest.fixture
def always():
    """Pair hops wherever they apply (the tiny graph is below the size where they pay)."""
    old = pairs.PAIRS_PER_REL, pairs.MIN_RELS
    pairs.PAIRS_PER_REL, pairs.MIN_RELS = float("inf"), 0
    yield
    pairs.PAIRS_PER_REL, pairs.MIN_RELS = old


def _answer(eng, q):
    res = eng.run(q, PARAMS, bindings=True)
    return sorted(zip(map(repr, res.rows), map(repr, res.bindings)))


def _plain(rows):
    return sorted(repr(tuple(row)) for row in rows)


@pytest.mark.parametrize("q", QUERIES)
def test_a_pair_hop_answers_as_the_rel_join_and_as_neo4j(graph, neo4j_engine, always, q):
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        sql = eng.compile(q, PARAMS, bindings=True).sql
        assert "gw_rels_between" in sql
        by_index = _answer(eng, q)
        try:
            pairs.PAIR_HOPS = False
            eng._compiled_for = None            # (compiled queries are kept per engine)
            assert "gw_rels_between" not in eng.compile(q, PARAMS, bindings=True).sql
            joined = _answer(eng, q)
        finally:
            pairs.PAIR_HOPS = True
        ours = _plain(eng.run(q, PARAMS).rows)
    assert by_index == joined
    assert by_index, "every query here has rows"
    assert ours == _plain(neo4j_engine.run(q, PARAMS).rows)


def test_a_writable_workspace_joins_rel(graph, always):
    with Workspace(graph) as ws, DuckDBEngine(ws) as eng:
        assert "gw_rels_between" not in eng.compile(QUERIES[0], PARAMS).sql


def test_many_pairs_against_few_relationships_join_rel(graph):
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        assert "gw_rels_between" not in eng.compile(QUERIES[0], PARAMS).sql


def test_rels_between_lists_what_the_rel_table_has(graph):
    """Every pair of nodes (and unknown ids), each direction and type set, against rel."""
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        adj = eng.adjacency()
        rel = ws.con.execute("SELECT rid, type, src, dst FROM rel").fetchall()
        nids = [n for (n,) in ws.con.execute("SELECT nid FROM node").fetchall()] + [-5, 0, 2**62]
        a = np.array([x for x in nids for _ in nids], dtype=np.int64)
        b = np.array([y for _ in nids for y in nids], dtype=np.int64)
        assert (positions(adj, a) == adj.index_of(a)).all()
        for types in (None, ["SIBLING_OF"], ["SPOUSE_OF", "IN_LAW_OF", "APPROVED"]):
            for direction in ("out", "in", "both"):
                offsets, rid, _, forward = rels_between(adj, a, b, direction, adj.type_mask(types))
                for i in range(len(a)):
                    want = sorted(r for r, t, s, d in rel if (types is None or t in types) and (
                        (direction != "in" and (s, d) == (a[i], b[i]))
                        or (direction != "out" and (d, s) == (a[i], b[i]) and not (direction == "both" and s == d))))
                    got = rid[offsets[i]:offsets[i + 1]].tolist()
                    assert got == want, (a[i], b[i], types, direction)
                    starts = [a[i] if f else b[i] for f in forward[offsets[i]:offsets[i + 1]]]
                    assert starts == [next(s for r2, _, s, _ in rel if r2 == r) for r in got]
