"""The adjacency index: built with the write transaction, never used stale."""

from __future__ import annotations

import json

from golden_cypher import NODES, RELS
from graphwatch.adjacency import FOLDER, fingerprint
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

SHORTEST = ("MATCH p = shortestPath((a:Person {name: 'Ann'})-[*..6]-(d:Person {name: 'Dan'})) "
            "RETURN length(p)")


def test_built_in_the_write_transaction(tmp_path):
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
        fp = fingerprint(w.con)
    assert json.loads((ws / FOLDER / "stamp.json").read_text())["fingerprint"] == fp
    with Workspace(ws) as w:
        with w.transaction() as con:       # a transaction that does not touch rel keeps it
            con.execute("UPDATE node SET name = 'Ann2' WHERE name = 'Ann'")
    assert json.loads((ws / FOLDER / "stamp.json").read_text())["fingerprint"] == fp


def test_a_write_that_bypasses_it_is_seen(tmp_path):
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
    with DuckDBEngine(ws) as eng:
        assert eng.run(SHORTEST).rows == [(2,)]
    with Workspace(ws) as w:                # no transaction(): the kept index is now stale
        w.con.execute("DELETE FROM rel WHERE type = 'SIBLING_OF'")
    with DuckDBEngine(ws) as eng:
        assert eng.adjacency().fingerprint == fingerprint(eng.ws.con)
        assert eng.run(SHORTEST).rows == [(3,)]     # Ann - Cat - Xco - Dan
    with Workspace(ws) as w:                # a writable engine checks before every search
        eng = DuckDBEngine(w)
        assert eng.run(SHORTEST).rows == [(3,)]     # Ann - Cat - Xco - Dan
        w.con.execute("INSERT INTO rel (rid, type, src, dst, dataset, record) SELECT 1, 'SIBLING_OF', "
                      "(SELECT nid FROM node WHERE name = 'Cat'), (SELECT nid FROM node WHERE name = 'Dan'), 'x', 'x'")
        assert eng.run(SHORTEST).rows == [(2,)]
