"""The functional-neighbour table (graphwatch.functional) and the hops that read it
(graphwatch.cypher.functional): built in the write transaction, refreshed when a write makes
a type non-functional, and the same rows and bindings as the ``rel`` joins."""

from __future__ import annotations

import os
import re

import pytest

from graphwatch import functional
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace


NODES = [
    {"key": "Person:a", "labels": ["Person"], "name": "A"},
    {"key": "Person:b", "labels": ["Person"], "name": "B"},
    {"key": "Person:c", "labels": ["Person"], "name": "C"},
    {"key": "Benefit:x", "labels": ["Benefit"], "record_no": "x"},
    {"key": "Benefit:y", "labels": ["Benefit"], "record_no": "y"},
    {"key": "Benefit:z", "labels": ["Benefit"], "record_no": "z"},
    {"key": "Programme:g", "labels": ["Programme"], "name": "G"},
    {"key": "Programme:h", "labels": ["Programme"], "name": "H"},
]
RELS = [
    ["Person:a", "RECEIVES", "Benefit:x"], ["Person:a", "RECEIVES", "Benefit:y"],
    ["Person:b", "RECEIVES", "Benefit:z"],
    ["Benefit:x", "OF_PROGRAMME", "Programme:g"], ["Benefit:y", "OF_PROGRAMME", "Programme:g"],
    ["Benefit:z", "OF_PROGRAMME", "Programme:h"],
    ["Person:a", "SPOUSE_OF", "Person:b"],
]

CHAIN = ("MATCH (p:Person)-[:RECEIVES]->(b:Benefit)-[:OF_PROGRAMME]->(g:Programme) "
         "RETURN p.name AS p, id(b) AS b, g.name AS g ORDER BY b")


def _rows_and_bindings(ws_path, query, params=None, *, table: bool):
    old = os.environ.get("GRAPHWATCH_FUNCTIONAL")
    os.environ["GRAPHWATCH_FUNCTIONAL"] = "1" if table else "0"
    try:
        with Workspace(ws_path, read_only=True) as ws, DuckDBEngine(ws) as eng:
            res = eng.run(query, params or {}, bindings=True)
            sql = eng.compile(query, params or {}, bindings=True).sql
            return sorted(map(repr, res.rows)), sorted(map(repr, res.bindings)), sql
    finally:
        if old is None:
            os.environ.pop("GRAPHWATCH_FUNCTIONAL", None)
        else:
            os.environ["GRAPHWATCH_FUNCTIONAL"] = old


@pytest.fixture
def graph(tmp_path):
    path = tmp_path / "ws"
    with Workspace(path, create=True) as ws:
        write_graph(ws, NODES, RELS)
    return path


def _pairs(path) -> set[tuple[str, str]]:
    with Workspace(path, read_only=True) as ws:
        from graphwatch.adjacency import fingerprint

        return set(functional.columns(ws.con, fingerprint(ws.con)) or {})


def test_the_write_transaction_builds_the_table_with_the_functional_types(graph):
    pairs = _pairs(graph)
    # each benefit has one RECEIVES in and one OF_PROGRAMME out; person a receives two
    assert {("RECEIVES", "in"), ("OF_PROGRAMME", "out"), ("SPOUSE_OF", "out"), ("SPOUSE_OF", "in")} <= pairs
    assert ("RECEIVES", "out") not in pairs and ("OF_PROGRAMME", "in") not in pairs
    with Workspace(graph, read_only=True) as ws:
        k = dict(functional.columns(ws.con, functional.stored_stamp(ws.con)))[("RECEIVES", "in")]
        got = dict(ws.con.execute(f"""SELECT b.key, p.key FROM node_fn f JOIN node b ON b.nid = f.nid
                                     JOIN node p ON p.nid = f.nb{k}""").fetchall())
    assert got == {"Benefit:x": "Person:a", "Benefit:y": "Person:a", "Benefit:z": "Person:b"}


def test_chain_reads_the_table_once_per_node_and_answers_as_rel_joins(graph):
    with_rows, with_binds, sql = _rows_and_bindings(graph, CHAIN, table=True)
    rows, binds, plain = _rows_and_bindings(graph, CHAIN, table=False)
    assert (with_rows, with_binds) == (rows, binds)
    assert len(rows) == 3
    # both hops of the benefit from its one node_fn row; no rel join
    assert len(re.findall(r"node_fn AS f\d+", sql)) == 1, sql
    assert not re.search(r"\brel AS", sql), sql
    assert "node_fn" not in plain and re.search(r"\brel AS", plain)


def test_a_node_whose_row_is_read_keeps_its_rel_joins(graph):
    """The benefit's dates are read: its node row is joined anyway, and a rel join on it
    costs what the table's join would (graphwatch.cypher.functional._row_read)."""
    query = CHAIN.replace("id(b) AS b", "b.record_no AS b")
    got = _rows_and_bindings(graph, query, table=True)
    assert got[:2] == _rows_and_bindings(graph, query, table=False)[:2]
    assert "node_fn" not in got[2] and re.search(r"\brel AS", got[2])


QUERIES = [
    # the functional side is the right end (RECEIVES: one per benefit) or the left (OF_PROGRAMME)
    ("MATCH (p:Person)-[r:RECEIVES]->(b:Benefit)-[:OF_PROGRAMME]->(g) RETURN p.name, r, g.name", {}),
    ("MATCH (g:Programme)<-[o:OF_PROGRAMME]-(b)<-[:RECEIVES]-(p) RETURN g.name, id(o), p.name", {}),
    # two hops of one type: uniqueness (b and c are one benefit's only RECEIVES: never two)
    ("MATCH (p)-[r1:RECEIVES]->(b:Benefit)<-[r2:RECEIVES]-(q) RETURN p.name, q.name", {}),
    ("MATCH (p:Person)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g)<-[:OF_PROGRAMME]-(c)<-[:RECEIVES]-(q) "
     "RETURN p.name, id(b), id(c), q.name", {}),
    # a node bound before, a relationship variable bound before, a path, type() and properties
    ("MATCH (p:Person {name: $n}) MATCH (p)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g) RETURN id(b), g.name",
     {"n": "A"}),
    ("MATCH (b:Benefit)-[r:OF_PROGRAMME]->(g) MATCH (p)-[:RECEIVES]->(b)-[r]->(h) RETURN p.name, h.name", {}),
    ("MATCH w = (p)-[:RECEIVES]->(b)-[x:OF_PROGRAMME]->(g) RETURN length(w), type(x), nodes(w)", {}),
    ("MATCH (p)-[s:SPOUSE_OF]->(q)-[:RECEIVES]->(b) RETURN p.name, q.name, id(b), s.valid_from", {}),
    # OPTIONAL MATCH and aggregation over the chain
    ("MATCH (p:Person) OPTIONAL MATCH (p)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g) RETURN p.name, count(g)", {}),
    ("MATCH (p)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g) WITH g, count(DISTINCT p) AS n RETURN g.name, n", {}),
    ("MATCH (p:Person)-[:SPOUSE_OF]-(q)-[:RECEIVES]->(b) RETURN p.name, q.name, id(b)", {}),
]


@pytest.mark.parametrize("query,params", QUERIES)
def test_same_rows_and_bindings_with_and_without_the_table(graph, query, params):
    got = _rows_and_bindings(graph, query, params, table=True)
    want = _rows_and_bindings(graph, query, params, table=False)
    assert got[:2] == want[:2]
    assert "node_fn" in got[2] and "node_fn" not in want[2]


def test_a_load_that_makes_a_type_non_functional_refreshes_the_table(graph):
    before = _rows_and_bindings(graph, CHAIN, table=True)
    assert "node_fn" in before[2]
    # benefit x now also has a second programme: OF_PROGRAMME is no longer functional out
    with Workspace(graph) as ws:
        write_graph(ws, NODES, RELS + [["Benefit:x", "OF_PROGRAMME", "Programme:h"]])
    pairs = _pairs(graph)
    assert ("OF_PROGRAMME", "out") not in pairs and ("RECEIVES", "in") in pairs
    rows, binds, sql = _rows_and_bindings(graph, CHAIN, table=True)
    want = _rows_and_bindings(graph, CHAIN, table=False)
    assert (rows, binds) == want[:2]
    assert len(rows) == 4 and "'OF_PROGRAMME'" in sql      # that hop joins rel again


def test_a_stale_table_is_not_read(graph):
    """A writer that changed ``rel`` outside the transaction: the stamp no longer matches."""
    with Workspace(graph) as ws:
        ws.con.execute("DELETE FROM rel WHERE type = 'OF_PROGRAMME'")
    rows, _b, sql = _rows_and_bindings(graph, CHAIN, table=True)
    assert rows == [] and "node_fn" not in sql
    with Workspace(graph) as ws:         # the next write transaction builds it again
        with ws.transaction():
            pass
        assert functional.stored_stamp(ws.con) is not None
    assert ("OF_PROGRAMME", "out") not in _pairs(graph) and ("RECEIVES", "in") in _pairs(graph)


def test_the_maintenance_command_builds_it_on_an_older_workspace(graph, capsys):
    with Workspace(graph) as ws:
        functional.drop(ws.con)
    assert not _pairs(graph)
    assert functional.main([str(graph)]) == 0
    assert "RECEIVES in" in capsys.readouterr().out
    assert ("RECEIVES", "in") in _pairs(graph)


def test_loads_resolve_and_reloads_keep_the_table_up_to_date(tmp_path, mini_county):
    """Every way rel changes goes through the write transaction: a load, a resolve, a reload
    of one source into the resolved workspace (incremental resolution)."""
    from graphwatch.adjacency import fingerprint
    from graphwatch.ingest import load
    from graphwatch.resolve import resolve

    path = tmp_path / "loaded"
    query = "MATCH (p)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g) RETURN p.name, g.name"

    def check():
        with Workspace(path, read_only=True) as ws:
            assert functional.columns(ws.con, fingerprint(ws.con)), "the table is missing or stale"
        got = _rows_and_bindings(path, query, table=True)
        assert got[:2] == _rows_and_bindings(path, query, table=False)[:2] and got[0]
        assert "node_fn" in got[2]

    with Workspace(path, create=True) as ws:
        load(ws, [str(mini_county)])
    check()
    with Workspace(path) as ws:
        resolve(ws)
    check()
    with Workspace(path) as ws:            # the benefit roll again, with one payment more
        roll = mini_county / "benefit_rolls.csv"
        roll.write_text(roll.read_text(encoding="utf-8") + "B3,王芳,,140105001001,DB,100,2022-01-01,2022-12-31,ORG1\n",
                        encoding="utf-8")
        load(ws, [str(roll)])
    check()
