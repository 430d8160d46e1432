"""The adjacency index: built with the write transaction, never used stale."""

from __future__ import annotations

import json

import pytest

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


def test_arrays_are_the_sorted_ends_and_each_nodes_relationships_in_id_order(tmp_path):
    """build() sorts without np.unique / np.lexsort (slow in numpy 2.4, minutes at 5 M); the arrays
    must be what those give: every end once, sorted, and each node's relationships by id, both directions."""
    import duckdb
    import numpy as np

    from graphwatch.adjacency import build

    rng = np.random.default_rng(5)
    n = 5000
    src, dst = rng.integers(-50, 50, n) * 10**15, rng.integers(-50, 50, n) * 10**15   # many ties per node
    rid = rng.permutation(n).astype(np.int64) * 7919 - 10**12
    types = np.array(["KNOWS", "OWNS", "SIBLING_OF"])[rng.integers(0, 3, n)]
    con = duckdb.connect()
    con.execute("CREATE TABLE rel (rid BIGINT, type VARCHAR, src BIGINT, dst BIGINT, valid_from DATE, valid_to DATE)")
    con.executemany("INSERT INTO rel VALUES (?, ?, ?, ?, NULL, NULL)",
                    [(int(a), str(t), int(b), int(c)) for a, t, b, c in zip(rid, types, src, dst)])
    got = tmp_path / "adj"
    build(con, got)
    nodes = np.load(got / "nodes.npy")
    assert nodes.tolist() == np.unique(np.concatenate([src, dst])).tolist()
    code = {t: i for i, t in enumerate(sorted(set(types)))}
    for side, a, b in (("out", src, dst), ("in", dst, src)):
        ai, bi = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
        order = np.lexsort((rid, ai))
        ids = np.load(got / "out_rid.npy")
        if side == "in":                 # (an incoming entry's id: that of its outgoing entry)
            ids = ids[np.load(got / "in_edge.npy")]
        assert ids.tolist() == rid[order].tolist()
        assert np.load(got / f"{side}_nbr.npy").tolist() == bi[order].tolist()
        assert np.load(got / f"{side}_type.npy").tolist() == [code[t] for t in types[order]]
        assert np.load(got / f"{side}_off.npy").tolist() == [0] + np.cumsum(np.bincount(ai, minlength=len(nodes))).tolist()
        # the entries per type the stamp keeps (read by Adjacency instead of counting them again)
        assert json.loads((got / "stamp.json").read_text())["type_counts"] == \
            np.bincount(np.load(got / f"{side}_type.npy"), minlength=len(code)).tolist() == \
            [int((types == t).sum()) for t in sorted(code)]


def test_nodes_are_every_nodes_id_or_the_ends_when_one_ends_at_no_node(tmp_path):
    """With a ``node`` table the index numbers every node (one without relationships has empty
    ranges on both sides); a relationship ending at no node makes it number the ends instead.
    Either way each relationship is in the index once per side, between the right ends."""
    import duckdb

    from graphwatch.adjacency import build, open_index

    con = duckdb.connect()
    con.execute("CREATE TABLE rel (rid BIGINT, type VARCHAR, src BIGINT, dst BIGINT, valid_from DATE, valid_to DATE)")
    con.execute("CREATE TABLE node (nid BIGINT)")
    con.execute("INSERT INTO node VALUES (30), (10), (20), (40)")        # 40 ends no relationship
    con.execute("INSERT INTO rel VALUES (1, 'KNOWS', 10, 20, NULL, NULL), (2, 'KNOWS', 30, 10, NULL, NULL)")
    build(con, tmp_path / "adjacency")
    adj = open_index(con, tmp_path)
    assert adj.nodes.tolist() == [10, 20, 30, 40]
    assert adj.index_of([40, 99]).tolist() == [3, -1]
    assert adj.out_off.tolist() == [0, 1, 1, 2, 2] and adj.in_off.tolist() == [0, 1, 2, 2, 2]
    assert adj.nodes[adj.out_nbr].tolist() == [20, 10] and adj.out_rid.tolist() == [1, 2]

    con.execute("INSERT INTO rel VALUES (3, 'KNOWS', 20, 50, NULL, NULL)")   # 50 is no node
    build(con, tmp_path / "dangling" / "adjacency")
    adj = open_index(con, tmp_path / "dangling")
    assert adj.nodes.tolist() == [10, 20, 30, 50]
    assert sorted(adj.out_rid.tolist()) == [1, 2, 3]
    assert adj.nodes[adj.out_nbr].tolist() == [20, 50, 10]


def test_a_rare_type_is_read_from_its_own_list_with_the_same_answer(tmp_path):
    """steps() reads a mask's types from their own entry lists when they have fewer entries
    than the frontier's nodes in all: the same (frontier index, neighbour, rid) in the same
    order as reading every entry, for every direction, with and without self-loops, with
    repeated and missing frontier nodes, and chosen on its own when the types are rare."""
    import duckdb
    import numpy as np

    from graphwatch.adjacency import build, open_index

    rng = np.random.default_rng(11)
    n = 6000
    src, dst = rng.integers(0, 300, n), rng.integers(0, 300, n)
    types = np.array(["KNOWS", "OWNS", "SAME_AS"])[rng.choice(3, n, p=[0.6, 0.37, 0.03])]
    con = duckdb.connect()
    con.execute("CREATE TABLE rel (rid BIGINT, type VARCHAR, src BIGINT, dst BIGINT, valid_from DATE, valid_to DATE)")
    con.executemany("INSERT INTO rel VALUES (?, ?, ?, ?, NULL, NULL)",
                    [(int(r), str(t), int(a), int(b)) for r, (t, a, b) in enumerate(zip(types, src, dst))])
    build(con, tmp_path / "adjacency")
    adj = open_index(con, tmp_path)
    frontier = np.concatenate([rng.integers(0, len(adj.nodes), 400), [3, 3, 3]])
    for kinds in (["SAME_AS"], ["KNOWS", "SAME_AS"], ["OWNS"], ["KNOWS", "OWNS", "SAME_AS"]):
        mask = adj.type_mask(kinds)
        for direction in ("out", "in", "both"):
            for loops in (True, False):
                every = adj.steps(frontier, direction, mask, loops=loops, typed=False)
                own = adj.steps(frontier, direction, mask, loops=loops, typed=True)
                assert len(every[0]) and all(np.array_equal(a, b) for a, b in zip(every, own))
                assert all(np.array_equal(a, b) for a, b in zip(every, adj.steps(frontier, direction, mask, loops=loops)))
    mask = adj.type_mask(["SAME_AS"])
    assert adj._rare("out", mask, 1_000) and not adj._rare("out", adj.type_mask(["KNOWS"]), 1_000)


def test_reach_finds_every_node_within_the_hops_at_its_distance_with_a_real_path(tmp_path):
    """reach() from many sources at once (repeated sources, a hub, cycles, self-loops and
    parallel relationships): for every source the nodes within ``hops`` and their distances
    are igraph's, each kept path is a walk of that length over relationships of the chosen
    types, and a second search gives the same paths."""
    import duckdb
    import igraph as ig
    import numpy as np

    from graphwatch.adjacency import build, open_index, reach

    rng = np.random.default_rng(5)
    n = 3000
    src, dst = rng.integers(0, 800, n), rng.integers(0, 800, n)
    src[:200] = 7                                          # a hub
    dst[200:210] = src[200:210]                            # self-loops
    src[210:230], dst[210:230] = src[230:250], dst[230:250]  # parallel relationships
    types = np.array(["KNOWS", "OWNS", "SAME_AS"])[rng.choice(3, n, p=[0.5, 0.4, 0.1])]
    con = duckdb.connect()
    con.execute("CREATE TABLE rel (rid BIGINT, type VARCHAR, src BIGINT, dst BIGINT, valid_from DATE, valid_to DATE)")
    con.executemany("INSERT INTO rel VALUES (?, ?, ?, ?, NULL, NULL)",
                    [(int(r) * 10 + 3, str(t), int(a), int(b)) for r, (t, a, b) in enumerate(zip(types, src, dst))])
    build(con, tmp_path / "adjacency")
    adj = open_index(con, tmp_path)
    ends = {int(r) * 10 + 3: (int(a), int(b), str(t)) for r, (t, a, b) in enumerate(zip(types, src, dst))}
    sources = np.concatenate([rng.integers(0, len(adj.nodes), 40), [adj.index_of([7])[0]] * 2])
    for kinds, direction in ((["KNOWS", "OWNS"], "both"), (["OWNS"], "out"), (["KNOWS", "SAME_AS"], "in")):
        keep = np.isin(types, kinds) & (src != dst)
        pos = adj.index_of(np.concatenate([src, dst]))
        g = ig.Graph(n=len(adj.nodes), edges=list(zip(pos[:n][keep].tolist(), pos[n:][keep].tolist())), directed=True)
        mode = {"both": "all", "out": "out", "in": "in"}[direction]
        found = reach(adj, sources, direction, adj.type_mask(kinds), 3)
        again = reach(adj, sources, direction, adj.type_mask(kinds), 3)
        assert np.array_equal(found.rid, again.rid) and np.array_equal(found.parent, again.parent)
        for i, s in enumerate(sources.tolist()):
            dist = g.distances(source=[s], mode=mode)[0]
            want = {v for v, d in enumerate(dist) if d <= 3}
            mine = found.node[found.source == i]
            assert set(mine.tolist()) == want and len(mine) == len(want)
            for v in list(want)[:25]:
                entry = int(found.find([i], [v])[0])
                assert found.depth[entry] == dist[v]
                nodes, rids = found.path(entry)
                assert nodes[0] == s and nodes[-1] == v and len(rids) == dist[v] == len(nodes) - 1
                for a, b, r in zip(nodes, nodes[1:], rids):
                    ra, rb, t = ends[r]
                    ra, rb = adj.index_of([ra])[0], adj.index_of([rb])[0]
                    allowed = {"out": [(a, b)], "in": [(b, a)], "both": [(a, b), (b, a)]}[direction]
                    assert t in kinds and (ra, rb) in allowed
        assert found.find([0], [-1])[0] == -1

def test_lookup_indexes_get_the_memory_they_need_and_the_limit_is_put_back(tmp_path, monkeypatch):
    """DuckDB cannot spill an ART index it builds: at 5 M persons the rid index of 52 M
    relationships ran out of the workspace's 3 GB. Here 2 M relationships under a 24 MB
    limit: the transaction raises the limit while it makes the indexes, then sets it back."""
    from graphwatch import lookups

    monkeypatch.setenv("GRAPHWATCH_MEMORY_LIMIT", "24MB")
    with Workspace(tmp_path / "ws", create=True) as w:
        w.con.execute("INSERT INTO rel (rid, type, src, dst, dataset, record) "
                      "SELECT i * 7919, 'KNOWS', i, i + 1, 'x', 'x' FROM range(2000000) t(i)")
        w.con.execute("DROP INDEX IF EXISTS gw_rel_rid")
        assert ("rel", "rid") in lookups.missing(w.con)
        with w.transaction():
            pass
        assert ("rel", "rid") not in lookups.missing(w.con)
    # the index just made stays resident for that connection (its limit stays raised); a new
    # one has the configured limit for its work plus what the indexes hold once read (DuckDB
    # does not evict them: 2.4 of 3 GiB at 5 M persons, and a model ran out of memory)
    beside = 24 * 10**6 + 2_000_000 * lookups.RESIDENT_BYTES_PER_REL
    with Workspace(tmp_path / "ws") as w:
        assert lookups.resident_bytes(w.con) == 2_000_000 * lookups.RESIDENT_BYTES_PER_REL
        assert w.memory_limit == f"{-(-beside // 2**20)}MiB"
        assert lookups._bytes(w.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]) \
            == pytest.approx(beside, rel=0.01)
        assert w.con.execute("SELECT count(*) FROM rel WHERE rid = 7919 * 12345").fetchone()[0] == 1
    with Workspace(tmp_path / "ws", read_only=True) as w:       # a reader too
        assert w.memory_limit == f"{-(-beside // 2**20)}MiB"
    monkeypatch.setenv("GRAPHWATCH_MEMORY_LIMIT", "3GB")
    with Workspace(tmp_path / "ws") as w:       # a limit that holds them is left alone
        w.con.execute("DROP INDEX gw_rel_rid")
        set_at = w.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert w.memory_limit == f"{-(-(3 * 10**9 + 2_000_000 * lookups.RESIDENT_BYTES_PER_REL) // 2**20)}MiB"
        assert lookups._bytes(set_at) == pytest.approx(3.08e9, rel=0.03)      # (shown to 0.1 GiB)
        with w.transaction():
            assert lookups.missing(w.con) == [("rel", "rid")]
        assert w.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == set_at


def test_a_load_raises_the_memory_limit_for_grouping_facts_and_sets_it_back(tmp_path, monkeypatch):
    """Grouping a load's relationship rows into facts keeps each fact's records in row order,
    which DuckDB cannot spill (the 5 M county ran out of the default 3GB there): the load raises
    the limit to what its staged rows need while it writes the facts, and sets it back after."""
    from graphwatch import lookups, relfacts, store
    from graphwatch.ingest import load_into
    from graphwatch.synth import generate_county

    generate_county(tmp_path / "c", persons=1000, seed=3)
    seen = []
    real = relfacts.write_facts

    def watched(con, *args, **kw):
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return real(con, *args, **kw)

    monkeypatch.setattr(relfacts, "write_facts", watched)
    monkeypatch.setattr(store, "FACT_BYTES_PER_ROW", 50_000)      # as if each row needed far more
    monkeypatch.setenv("GRAPHWATCH_MEMORY_LIMIT", "256MB")
    load_into(tmp_path / "ws", [tmp_path / "c"], skip_unclaimed=True)
    assert len(seen) == 1 and seen[0].endswith("GiB") and float(seen[0].split()[0]) > 1.0
    with Workspace(tmp_path / "ws") as w:
        shown = w.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]      # set back
        assert lookups.resident_bytes(w.con) < lookups.SMALL_INDEXES and shown == "244.1 MiB"   # (the configured)

        assert w.con.execute("SELECT count(*) FROM rel").fetchone()[0] > 1000


def test_lookup_indexes_are_made_over_the_committed_rows_and_a_failure_there_keeps_the_data(tmp_path, monkeypatch):
    """The lookup indexes are made after the transaction that wrote the rows commits (DuckDB
    builds an index made inside it entry by entry at COMMIT: three times slower for a first
    load). If making them fails, the written data stays, the error says so, and the next write
    makes them."""
    import duckdb

    from graphwatch import lookups
    from graphwatch.exc import WorkspaceError

    made_in = []
    real = lookups.ensure

    def ensure(con, schema=None):
        made_in.append(con.execute("SELECT count(*) FROM rel").fetchone()[0])
        raise duckdb.OutOfMemoryException("no room for the index (a test)")

    with Workspace(tmp_path / "ws", create=True) as w:
        monkeypatch.setattr(lookups, "ensure", ensure)
        with pytest.raises(WorkspaceError, match="the data is written, but its lookup indexes could not be made"):
            with w.transaction() as con:
                con.execute("INSERT INTO rel (rid, type, src, dst, dataset, record) "
                            "SELECT i, 'KNOWS', i, i + 1, 'x', 'x' FROM range(1000) t(i)")
        assert made_in == [1000]                      # after the rows were written
        assert w.con.execute("SELECT count(*) FROM rel").fetchone()[0] == 1000
        assert ("rel", "rid") in lookups.missing(w.con)
        monkeypatch.setattr(lookups, "ensure", real)
        with w.transaction():
            pass
        assert lookups.missing(w.con) == []
