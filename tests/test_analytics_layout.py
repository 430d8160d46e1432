"""The analytics graph laid out from the workspace's adjacency index is the graph the tables
give; its cache shares the index's arrays and never outlives them; walks through hubs (read
as slices, their relationships found from the ordinary ends) give the answers of plain walks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphwatch import adjacency
from graphwatch.analytics import from_edges, load_graph, neighbours
from graphwatch.analytics import graph as graph_module
from graphwatch.analytics import load as load_module
from graphwatch.analytics import traverse as traverse_module
from graphwatch.analytics.traverse import among, one_hop
from graphwatch.store import Workspace

WHOLE = {"labels": [], "types": [], "since": None, "until": None}
PARTS = [{"labels": [], "types": ["MEMBER_OF", "SPOUSE_OF"], "since": None, "until": None},
         {"labels": ["Person", "Household"], "types": [], "since": None, "until": None},
         {"labels": [], "types": [], "since": "2019-01-01", "until": "2020-12-31"}]


def _edges(g):
    """Every relationship as (rid, start nid, end nid, type, from, to), in rid order."""
    o = np.argsort(np.asarray(g.rid))
    nid = np.asarray(g.nid)
    return [np.asarray(g.rid)[o], nid[np.asarray(g.src)[o]], nid[np.asarray(g.dst)[o]],
            np.array(g.types)[np.asarray(g.etype)[o]], np.asarray(g.valid_from)[o], np.asarray(g.valid_to)[o]]


def _entries(g):
    """Every adjacency entry as (owner nid, rid, outgoing?, other nid, type), sorted."""
    owner = np.repeat(np.arange(g.vcount), np.diff(np.asarray(g.offsets)))
    raw = np.asarray(g.adj_edge).astype(np.int64)
    edge = np.where(raw >= 0, raw, ~raw)
    nid = np.asarray(g.nid)
    key = np.stack([nid[owner], np.asarray(g.rid)[edge], raw >= 0, nid[np.asarray(g.adj_vertex)],
                    np.asarray(g.adj_type)])
    assert np.array_equal(np.asarray(g.adj_type), np.asarray(g.etype)[edge])
    return key[:, np.lexsort(key[::-1])]


def _same(a, b):
    for x, y in zip(_edges(a), _edges(b)):
        assert np.array_equal(x, y)
    assert sorted(np.asarray(a.nid).tolist()) == sorted(np.asarray(b.nid).tolist())
    assert np.array_equal(_entries(a), _entries(b))
    vs = np.arange(a.vcount)
    other = [b.vertex(n) for n in np.asarray(a.nid)]
    pd.testing.assert_frame_equal(a.node_table(vs), b.node_table(other))
    assert a.labels == b.labels
    for lab in a.labels:         # labels per node, through each graph's own bit numbering
        got = (np.asarray(a.label_bits) & np.uint64(1 << a.labels.index(lab))) != 0
        want = (np.asarray(b.label_bits)[other] & np.uint64(1 << b.labels.index(lab))) != 0
        assert np.array_equal(got, want), lab


@pytest.mark.parametrize("chunk", [1 << 20, 7], ids=["one chunk", "entries laid out 7 at a time"])
def test_the_index_layout_is_the_graph_of_the_tables(tmp_path, mini_county, monkeypatch, chunk):
    from graphwatch.analytics import csr
    from graphwatch.ingest import load_into

    monkeypatch.setattr(csr, "_CHUNK", chunk)
    ws = tmp_path / "ws"
    load_into(ws, [mini_county])
    with Workspace(ws, read_only=True) as w:
        index = adjacency.open_index(w.con, ws)
        laid = load_module._build_from_index(w.con, index)
        assert laid.nid_sorted and laid.borrowed["rid"] == "out_rid"
        _same(laid, load_module._build(w.con, WHOLE))
        for spec in PARTS:
            part = load_module._build(w.con, spec)
            assert part.ecount and part.ecount < laid.ecount          # the part is a real cut
            _same(load_module.restrict(laid, spec), part)
            _same(load_graph(ws, **{k: v for k, v in spec.items() if v}), part)
    # the index's own arrays: dates in the outgoing order, each incoming entry's outgoing one
    with Workspace(ws, read_only=True) as w:
        rows = dict((r[0], r[1:]) for r in w.con.execute(
            "SELECT rid, CAST(valid_from - DATE '1970-01-01' AS INTEGER), "
            "CAST(valid_to - DATE '1970-01-01' AS INTEGER) FROM rel").fetchall())
        ends = dict((r[0], r[1:]) for r in w.con.execute("SELECT rid, src, dst FROM rel").fetchall())
    assert sum(v != (None, None) for v in rows.values()) >= 3       # the county has dated relationships
    dates = [(None if f == adjacency.NO_DATE_FROM else f, None if t == adjacency.NO_DATE_TO else t)
             for f, t in zip(index.out_vf.tolist(), index.out_vt.tolist())]
    assert dates == [rows[r] for r in index.out_rid.tolist()]
    # an incoming entry's id (read through in_edge): a relationship from its neighbour to the
    # node it is listed under, each relationship once
    in_rids = index.rids("in", np.arange(len(index.in_nbr)))
    owner = np.repeat(np.arange(len(index.in_off) - 1), np.diff(np.asarray(index.in_off)))
    assert sorted(in_rids.tolist()) == sorted(ends)
    assert [ends[r] for r in in_rids.tolist()] == list(zip(index.nodes[index.in_nbr].tolist(),
                                                            index.nodes[owner].tolist()))
    assert not hasattr(index, "in_rid") and not (ws / adjacency.FOLDER / "in_rid.npy").exists()


def test_the_cache_shares_the_index_arrays_and_never_outlives_them(tmp_path, mini_county):
    from graphwatch.ingest import load_into

    ws = tmp_path / "ws"
    load_into(ws, [mini_county])
    first = load_graph(ws)
    (cached,) = [d for d in (ws / load_module.CACHE_DIR).iterdir()]
    assert (cached / "adj_edge.npy").exists() and not (cached / "rid.npy").exists()   # rid is the index's
    again = load_graph(ws)
    assert isinstance(again.rid, np.memmap) and np.array_equal(again.rid, first.rid)
    # the index removed: the cached graph is not read against nothing; the index is rebuilt
    import shutil

    shutil.rmtree(ws / adjacency.FOLDER)
    third = load_graph(ws)
    assert (ws / adjacency.FOLDER / "stamp.json").exists()
    for x, y in zip(_edges(third), _edges(first)):
        assert np.array_equal(x, y)


def _with_hub(monkeypatch, threshold: int):
    monkeypatch.setattr(graph_module, "HUB", threshold)
    monkeypatch.setattr(traverse_module, "HUB", threshold)


HAND = [("a", "b", "SPOUSE_OF"), ("b", "c", "LEGAL_REP_OF"), ("a", "d", "SIBLING_OF"), ("d", "c", "SHAREHOLDER_OF"),
        ("k", "c", "AWARDED_TO"), ("a", "e", "PARENT_OF"), ("e", "f", "PARENT_OF"), ("b", "c", "SHAREHOLDER_OF"),
        ("c", "g", "MEMBER_OF"), ("g", "h", "MEMBER_OF"), ("c", "h", "MEMBER_OF"), ("h", "c", "MEMBER_OF"),
        ("c", "c", "MEMBER_OF"), ("h", "i", "SPOUSE_OF"), ("a", "h", "MEMBER_OF")]
WALKS = [dict(hops=2), dict(hops=3), dict(hops=2, limit=4), dict(hops=3, limit=6), dict(hops=2, direction="out"),
         dict(hops=2, direction="in"), dict(hops=3, types=["MEMBER_OF", "SPOUSE_OF"]), dict(hops=2, max_degree=3),
         dict(hops=2, labels=["Node"])]


@pytest.mark.parametrize("walk", WALKS, ids=[str(w) for w in WALKS])
def test_hubs_read_as_slices_give_the_plain_answers(monkeypatch, walk):
    """Every vertex with more than one entry a hub (threshold 1), against no hub at all."""
    plain = from_edges(HAND)
    assert not len(plain.hub_edges)
    answers = {}
    for threshold in (10**9, 1):
        _with_hub(monkeypatch, threshold)
        g = from_edges(HAND)
        answers[threshold] = [neighbours(g, s, **walk) for s in range(g.vcount)]
        if threshold == 1:
            assert len(g.hub_edges) >= 5           # c–h, h–c, a–h, c–c, b–c … all between hubs
    for got, want in zip(answers[1], answers[10**9]):
        pd.testing.assert_frame_equal(got, want)
        assert got.attrs == want.attrs
    # the walk found something worth comparing: relationships among the nodes, and a cut
    assert any(len(df.attrs["rels"]) >= 5 for df in answers[1])
    if "limit" in walk:
        assert any(df.attrs["truncated"] for df in answers[1])


def test_one_hop_and_among_read_the_entry_types():
    g = from_edges(HAND)
    c = g.keys.index("c")
    found, more = one_hop(g, c, types=["MEMBER_OF"])
    assert sorted(g.keys[v] for v in found) == ["g", "h"] and more == 0
    inside = [g.keys.index(x) for x in "cgh"]
    assert sorted(g.types[g.etype[e]] for e in among(g, inside)) == ["MEMBER_OF"] * 5
