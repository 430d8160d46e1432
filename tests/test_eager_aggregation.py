"""Eager aggregation (graphwatch.cypher.eager): a one-hop count grouped by the node at one
end aggregates the relationships by that end before joining the node row. The same rows as
the plain join (the compiler with ``eager_aggregation=False``) and as Neo4j; and the shape
is written only where it is safe."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import engine_on, graph_workspace

from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.store import Workspace

NODES = [{"key": "Person:a", "labels": ["Person"], "name": "甲"},
         {"key": "Person:b", "labels": ["Person"], "name": "乙"},
         {"key": "Benefit:1", "labels": ["Benefit"], "record_no": "1", "amount": 10},
         {"key": "Benefit:2", "labels": ["Benefit"], "record_no": "2", "amount": 20},
         {"key": "Benefit:3", "labels": ["Benefit"], "record_no": "3", "amount": 30},
         {"key": "Benefit:4", "labels": ["Benefit"], "record_no": "4"},
         {"key": "Programme:p", "labels": ["Programme"], "name": "低保", "poverty_roll": True},
         {"key": "Programme:q", "labels": ["Programme"], "name": "养老金", "poverty_roll": False},
         # a second programme of the same name: grouping by the name merges the two
         {"key": "Programme:q2", "labels": ["Programme"], "name": "养老金", "poverty_roll": True},
         {"key": "Programme:r", "labels": ["Programme"], "name": "空"}]
RELS = [["Person:a", "RECEIVES", "Benefit:1"], ["Person:a", "RECEIVES", "Benefit:2"],
        ["Person:b", "RECEIVES", "Benefit:3"], ["Person:b", "RECEIVES", "Benefit:4"],
        ["Benefit:1", "OF_PROGRAMME", "Programme:p"], ["Benefit:2", "OF_PROGRAMME", "Programme:q"],
        ["Benefit:3", "OF_PROGRAMME", "Programme:q2"], ["Benefit:4", "OF_PROGRAMME", "Programme:p"]]

EAGER = [
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, count(b) AS n ORDER BY n DESC, g.name",
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, count(*) AS n",
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) WHERE g.poverty_roll RETURN g.name, count(b)",
    "MATCH (g:Programme)<-[r:OF_PROGRAMME]-(b) RETURN g.name, g.poverty_roll, count(r), count(b)",
    "MATCH (p:Person)-[:RECEIVES]->(b:Benefit) RETURN p.name, count(b) AS n",
    "MATCH (p:Person)-[:RECEIVES]->(b:Benefit) RETURN b.record_no, count(p)",
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) WITH g, count(b) AS n WHERE n > 1 RETURN g.name, n",
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) WHERE g.poverty_roll RETURN count(b)",
    # no row at all: a count of nothing is 0, not the sum of no partial counts
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) WHERE g.name = '无' RETURN count(b), count(*)",
]
PLAIN = [
    # the far side's property, DISTINCT, collect: left as they are
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, sum(b.amount)",
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, count(DISTINCT b)",
    "MATCH (b)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, collect(b)",
    # no node row to join (both labels implied)
    "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN count(b)",
]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return graph_workspace(tmp_path_factory, "eager", NODES, RELS)


@pytest.fixture(scope="module", params=["neo4j"])
def neo4j(request, graph):
    yield from engine_on(request, graph, request.param)


def _value(x):
    if isinstance(x, list):          # collect() keeps no order without ORDER BY
        return sorted(map(repr, map(_value, x)))
    x = getattr(x, "key", x)
    return float(x) if isinstance(x, int) and not isinstance(x, bool) else x


def _rows(res):
    return sorted((tuple(map(_value, r)) for r in res.rows), key=repr)


@pytest.mark.parametrize("q", EAGER + PLAIN)
def test_eager_aggregation_answers_as_the_plain_join_and_neo4j(graph, neo4j, q):
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        sql = eng.compile(q).sql
        assert ("AS _e JOIN node" in sql) == (q in EAGER), sql
        eager = eng.run(q)
        eng.options = dataclasses.replace(eng.options, eager_aggregation=False)
        assert "AS _e JOIN" not in eng.compile(q).sql
        plain = eng.run(q)
    if "ORDER BY" in q:
        assert eager.rows == plain.rows
    assert _rows(eager) == _rows(plain)
    assert _rows(eager) == _rows(neo4j.run(q))


def test_bindings_keep_the_plain_join(graph):
    q = EAGER[0]
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        res = eng.run(q, bindings=True)
        assert "AS _e JOIN" not in res.statement
        assert all(b is not None for b in res.bindings)


def test_many_small_groups_keep_the_plain_join():
    from graphwatch.cypher.eager import _worth_it
    from graphwatch.cypher.planner import Stats

    stats = Stats(3_000_000, {}, {"RECEIVES": (1_817_497, 106_223, 1_779_092), "OF_PROGRAMME": (1_817_497, 1_779_092, 6)})
    assert _worth_it(stats, {"types": ["OF_PROGRAMME"]}, "dst")
    assert _worth_it(stats, {"types": ["RECEIVES"]}, "src")
    assert not _worth_it(stats, {"types": ["RECEIVES"]}, "dst")      # one benefit each
