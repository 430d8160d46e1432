"""Implicit grouping keys: an aggregating WITH/RETURN item may read, outside its aggregates,
only its grouping keys and properties of key variables (Neo4j 5's rule). ``held + collect(b)``
with ``held`` not projected is a one-line PatternError naming ``held`` (it reached DuckDB as a
Binder Error); ``RETURN a, a.name + count(c)`` runs, as on Neo4j."""

from __future__ import annotations

import pytest
from conftest import engine_on, graph_workspace

from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.exc import PatternError
from graphwatch.store import Workspace

NODES = [{"key": "Programme:p", "labels": ["Programme"], "name": "低保"},
         {"key": "Programme:q", "labels": ["Programme"], "name": "养老金"},
         {"key": "Benefit:1", "labels": ["Benefit"], "record_no": "1", "amount": 10},
         {"key": "Benefit:2", "labels": ["Benefit"], "record_no": "2", "amount": 20},
         {"key": "Benefit:3", "labels": ["Benefit"], "record_no": "3", "amount": 30}]
RELS = [["Benefit:1", "OF_PROGRAMME", "Programme:p"], ["Benefit:2", "OF_PROGRAMME", "Programme:p"],
        ["Benefit:3", "OF_PROGRAMME", "Programme:q"]]

RUNS = [
    ("MATCH (a:Programme)<-[:OF_PROGRAMME]-(c:Benefit) RETURN a.name AS n, a.name + toString(count(c)) AS x",
     [("低保", "低保2"), ("养老金", "养老金1")]),
    ("MATCH (a:Programme)<-[:OF_PROGRAMME]-(c:Benefit) WITH a, a.name + ':' + toString(sum(c.amount)) AS x "
     "RETURN x", [("低保:30.0",), ("养老金:30.0",)]),
    ("MATCH (a:Programme)<-[:OF_PROGRAMME]-(c:Benefit) "
     "RETURN a.name AS n, [x IN collect(c.amount) WHERE x > 15 | x * 2] AS y", [("低保", [40.0]), ("养老金", [60.0])]),
]
REFUSED = [
    ("MATCH (a:Programme)<-[:OF_PROGRAMME]-(b:Benefit) WITH a, collect(b.amount)[0..1] AS held "
     "MATCH (a)<-[:OF_PROGRAMME]-(c:Benefit) WITH a, held + collect(c.amount) AS tied RETURN a.name, tied", "held"),
    ("MATCH (a:Programme)<-[:OF_PROGRAMME]-(c:Benefit) RETURN a.name + toString(count(c)) AS x", "'a'"),
]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return graph_workspace(tmp_path_factory, "grouping", NODES, RELS)


@pytest.fixture(params=["duckdb", "neo4j"])
def engine(request, graph):
    yield from engine_on(request, graph, request.param)


@pytest.mark.parametrize("q, rows", RUNS)
def test_key_properties_beside_an_aggregate(engine, q, rows):
    assert sorted(engine.run(q).rows) == sorted(rows)


@pytest.mark.parametrize("q, name", REFUSED)
def test_an_implicit_grouping_key_is_refused(graph, q, name):
    with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
        with pytest.raises(PatternError) as err:
            eng.run(q)
    assert name in str(err.value) and "not a grouping key" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("q, name", REFUSED)
def test_neo4j_refuses_them_too(graph, request, q, name):
    from graphwatch.exc import EngineError

    neo = next(engine_on(request, graph, "neo4j"))
    with pytest.raises((PatternError, EngineError)) as err:
        neo.run(q)
    assert "grouping" in str(err.value).lower()
