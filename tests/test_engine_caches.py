"""What the DuckDB engine keeps between runs on a read-only workspace — compiled queries, node
and relationship records, label counts — never changes an answer: the same rows as an engine
that keeps nothing (a writable workspace, which never caches), for the same and for other
parameter values."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import graph_workspace

from graphwatch.engines.compare import comparable
from graphwatch.engines.counts import Counted
from graphwatch.engines.duckdb import DuckDBEngine, _frozen, _Unkeyable
from graphwatch.store import Workspace

from golden_cypher import CASES, NODES, RELS


@pytest.fixture(scope="module")
def golden_ws(tmp_path_factory):
    return graph_workspace(tmp_path_factory, "caches", NODES, RELS)


@pytest.fixture
def engine(golden_ws):
    with DuckDBEngine(golden_ws) as eng:
        yield eng


@pytest.fixture
def plain(golden_ws, tmp_path):
    """An engine that keeps nothing: on a writable copy of the workspace (compiled afresh
    every run; DuckDB opens one file either read-only or writable within a process)."""
    import shutil

    shutil.copytree(golden_ws, tmp_path / "plain")
    with Workspace(tmp_path / "plain") as ws:
        yield DuckDBEngine(ws)


def _rows(res):
    return sorted(repr(tuple(comparable(v) for v in r)) for r in res.rows)


def test_every_golden_case_twice_gives_the_rows_of_an_engine_without_caches(engine, plain):
    for c in CASES:
        query, params = c["query"], c["params"]
        first = engine.run(query, params)
        again = engine.run(query, params)
        fresh = plain.run(query, params)
        assert _rows(first) == _rows(again) == _rows(fresh), query
    assert engine._compiled and not getattr(plain, "_compiled", None)


def test_a_folded_parameter_is_part_of_the_key(engine, plain):
    # the compiler folds `$since IS NULL` into the SQL: a cached compilation for one value
    # must not answer for another
    q = "MATCH (p:Person) WHERE $since IS NULL OR p.birth_date >= $since RETURN p.name ORDER BY p.name"
    for since in (None, dt.date(1990, 1, 1), None, dt.date(1971, 1, 1), dt.date(1990, 1, 1)):
        assert engine.run(q, {"since": since}).rows == plain.run(q, {"since": since}).rows
    q = "MATCH (p:Person) WHERE size($names) = 0 OR p.name IN $names RETURN count(p)"
    for names in ([], ["Ann"], [], ["Ann", "Bob"]):
        assert engine.run(q, {"names": names}).rows == plain.run(q, {"names": names}).rows


def test_values_that_compare_equal_in_python_are_different_keys():
    assert len({_frozen(1), _frozen(1.0), _frozen(True)}) == 3
    assert _frozen([1, "a"]) != _frozen((1, "a")) and _frozen({"a": 1}) == _frozen({"a": 1})
    assert _frozen(dt.date(2020, 1, 1)) != _frozen(dt.datetime(2020, 1, 1))
    with pytest.raises(_Unkeyable):
        _frozen(object())


def test_a_parameter_that_cannot_be_keyed_is_compiled_afresh(engine):
    class Name(str):
        pass

    q = "MATCH (p:Person) WHERE p.name = $n RETURN p.name"
    before = len(engine._compiled) if engine._compiled_for is not None else 0
    assert engine.run(q, {"n": Name("Ann")}).rows == [("Ann",)]
    assert len(engine._compiled) == before


def test_steps_of_a_cached_walk_are_not_shared_between_runs(engine, plain):
    q = "MATCH (a:Person {name: 'Ann'})-[:SPOUSE_OF|PARENT_OF|SIBLING_OF*1..2]-(f:Person) RETURN f.name ORDER BY f.name"
    one, two = engine.compile(q), engine.compile(q)
    assert one.steps and all(a is not b for a, b in zip(one.steps, two.steps))
    for _ in range(3):
        assert engine.run(q).rows == plain.run(q).rows
    q = "MATCH p = shortestPath((a:Person {name: 'Ann'})-[*..6]-(b:Person {name: 'Dan'})) RETURN length(p)"
    assert engine.run(q).rows == engine.run(q).rows == plain.run(q).rows


def test_a_label_count_is_answered_without_a_statement_once_counted(engine):
    q = "MATCH (p:Person) RETURN count(p) AS n"
    scanned = engine.run(q).rows
    assert engine.options.stats.labels["Person"] == 5      # counted (as the join planner counts them)
    c = engine.compile(q)
    assert isinstance(c, Counted)
    assert engine.run(q).rows == scanned == [(5,)]
    assert engine.run(q).columns == ["n"]
    # with bindings asked for, the statement runs (a count has evidence then)
    assert engine.run(q, bindings=True).rows == [(5,)]


def test_returned_records_are_the_stored_ones_and_a_callers_change_stays_its_own(engine, plain):
    q = "MATCH (p:Person)-[r:SHAREHOLDER_OF]->(c:Company) RETURN p, r, c ORDER BY p.name"
    first = engine.run(q).rows
    p, r, c = first[0]
    p.properties["name"] = "changed"
    r.properties["share"] = -1
    again = engine.run(q).rows
    fresh = plain.run(q).rows
    for a, b in zip(again, fresh):
        for x, y in zip(a, b):
            assert (x.id, x.properties) == (y.id, y.properties)
    assert again[0][0]["name"] == "Cat" and again[0][1]["share"] == 60.0


def test_a_writable_workspace_is_never_served_from_a_cache(golden_ws, tmp_path):
    import shutil

    path = tmp_path / "ws"
    shutil.copytree(golden_ws, path)
    with Workspace(path) as ws:
        eng = DuckDBEngine(ws)
        q = "MATCH (c:Company) RETURN c ORDER BY c.name"
        assert [n["name"] for (n,) in eng.run(q).rows] == ["Xco", "Yco"]
        ws.con.execute("UPDATE node SET name = 'Zco' WHERE key = 'Company:yco'")
        assert [n["name"] for (n,) in eng.run(q).rows] == ["Xco", "Zco"]
        assert eng.run("MATCH (c:Company) RETURN count(c)").rows == [(2,)]


def test_forget_records_drops_the_records_not_the_compiled_queries(engine, plain):
    query = "MATCH (n)-[r]->(m) RETURN n, r, m"
    first = engine.run(query)
    assert engine._node_cache and engine._rel_cache and engine._compiled
    engine.forget_records()
    assert engine._node_cache is None and engine._rel_cache is None and engine._compiled
    again = engine.run(query)                       # read again, kept again
    assert engine._node_cache and engine._rel_cache
    assert _rows(first) == _rows(again) == _rows(plain.run(query))


def test_counts_and_planner_statistics_are_counted_once_for_a_read_only_workspace_and_its_readers(
        golden_ws, tmp_path):
    """A read-only workspace's counts, planner statistics and relationship fingerprint are
    computed once and shared by its readers (graphwatch run --jobs' threads); they are what
    a writable copy counts, and a writable workspace counts again after a change."""
    import shutil

    from graphwatch.cypher.planner import Stats

    with Workspace(golden_ws, read_only=True) as ws, ws.reader() as r:
        ws.counts()                    # (as graphwatch run does first: the planner then takes its labels)
        eng, other = DuckDBEngine(ws), DuckDBEngine(r)
        for e in (eng, other):
            e.run("MATCH (a:Person)-[:SPOUSE_OF]-(b) RETURN count(*)")
            assert e.options.stats.labels         # (what the join planner reads)
        assert {"counts", "planner_stats"} <= set(ws._memo)
        assert r.counts() is ws.counts() and other.options.stats.labels is eng.options.stats.labels
        shared = ws._memo["planner_stats"]
        path = tmp_path / "ws"
        shutil.copytree(golden_ws, path)
        with Workspace(path) as w:
            fresh = Stats.of(w.con)
            assert (shared.labels, shared.types, shared.total_nodes) == (fresh.labels, fresh.types, fresh.total_nodes)
            assert ws.counts() == w.counts()
            before = w.counts()["labels"].get("Company", 0)
            w.con.execute("UPDATE node SET labels = list_append(labels, 'Company') WHERE key = 'Person:bob'")
            assert w.counts()["labels"]["Company"] == before + 1 and not w._memo
