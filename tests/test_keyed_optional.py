"""OPTIONAL MATCH as a keyed left join (patterns.keyed_optional_match): planned from the
distinct ids it reads from the row instead of a lateral subquery DuckDB decorrelates by
matching its pattern for every node. The same rows and the same bindings (evidence) as the
lateral form, which the Neo4j differential tests hold to Neo4j; and the keyed form is what
the compiler writes when it applies."""

from __future__ import annotations

import pytest
from conftest import graph_workspace

from graphwatch.cypher import patterns
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.store import Workspace

NODES = [{"key": "Person:a", "labels": ["Person", "Official"], "name": "甲"},
         {"key": "Person:b", "labels": ["Person"], "name": "乙"},
         {"key": "Person:c", "labels": ["Person"], "name": "丙"},
         {"key": "Benefit:1", "labels": ["Benefit"], "record_no": "1", "amount": 10},
         {"key": "Benefit:2", "labels": ["Benefit"], "record_no": "2", "amount": 20},
         {"key": "Benefit:3", "labels": ["Benefit"], "record_no": "3", "amount": 30},
         {"key": "Programme:p", "labels": ["Programme"], "name": "低保"},
         {"key": "Programme:q", "labels": ["Programme"], "name": "养老金"}]
RELS = [["Person:a", "SPOUSE_OF", "Person:b"], ["Person:a", "IN_LAW_OF", "Person:b"],
        ["Person:b", "SIBLING_OF", "Person:c"],
        ["Person:b", "RECEIVES", "Benefit:1"], ["Person:b", "RECEIVES", "Benefit:2"],
        ["Person:c", "RECEIVES", "Benefit:3"],
        ["Benefit:1", "OF_PROGRAMME", "Programme:p"], ["Benefit:1", "OF_PROGRAMME", "Programme:q"],
        ["Benefit:2", "OF_PROGRAMME", "Programme:q"]]

QUERIES = [
    # a node of the row; a second match of one node; none (a row of nulls)
    "MATCH (p:Person)-[:RECEIVES]->(b:Benefit) OPTIONAL MATCH (b)-[:OF_PROGRAMME]->(g:Programme) "
    "RETURN p.name, b.record_no, g.name",
    # two nodes of the row, an undirected relationship of several types and a WHERE on it
    "MATCH (o:Person)-[:SPOUSE_OF|IN_LAW_OF|SIBLING_OF]-(r:Person) "
    "OPTIONAL MATCH (o)-[k:SPOUSE_OF|IN_LAW_OF|SIBLING_OF]-(r) WHERE type(k) IN $kin "
    "RETURN o.name, r.name, type(k), startNode(k) = o",
    # a WHERE reading a property of a node of the row, and the new node's own label
    "MATCH (p:Person) OPTIONAL MATCH (p)-[:RECEIVES]->(b:Benefit) WHERE b.amount > 15 AND p.name <> '丙' "
    "RETURN p.name, b.record_no",
    # after an aggregation, and a count over the optional part
    "MATCH (p:Person)-[:RECEIVES]->(b:Benefit) WITH p, count(b) AS n "
    "OPTIONAL MATCH (p)-[:RECEIVES]->(:Benefit)-[:OF_PROGRAMME]->(g:Programme) "
    "RETURN p.name, n, count(g), collect(DISTINCT g.name)",
    # a relationship of the row
    "MATCH (p:Person)-[r:RECEIVES]->(b:Benefit) OPTIONAL MATCH (p)-[r]->(x) RETURN p.name, b.record_no, x.record_no",
]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return graph_workspace(tmp_path_factory, "keyed", NODES, RELS)


def _answer(eng, q, params):
    res = eng.run(q, params, bindings=True)
    return sorted(zip(map(repr, res.rows), map(repr, res.bindings)))


@pytest.mark.parametrize("q", QUERIES)
def test_keyed_optional_match_answers_as_the_lateral_one(graph, q):
    params = {"kin": ["SPOUSE_OF", "SIBLING_OF"]}
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        assert "LATERAL" not in eng.compile(q, params).sql
        keyed = _answer(eng, q, params)
        try:
            patterns.KEYED_OPTIONAL = False
            eng._compiled_for = None            # (compiled queries are kept per engine)
            assert "LATERAL" in eng.compile(q, params).sql
            lateral = _answer(eng, q, params)
        finally:
            patterns.KEYED_OPTIONAL = True
    assert keyed == lateral


def test_an_optional_match_reading_a_value_or_a_walk_stays_lateral(graph):
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        value = "MATCH (p:Person) WITH p, p.name AS n OPTIONAL MATCH (p)-[:RECEIVES]->(b) WHERE n <> '乙' RETURN n, b"
        walk = "MATCH (p:Person) OPTIONAL MATCH (p)-[:SIBLING_OF*0..1]-(q) RETURN p.name, q.name"
        assert "LATERAL" in eng.compile(value).sql and "LATERAL" in eng.compile(walk).sql
