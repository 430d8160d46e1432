"""The two-direction adjacency index (CSR) of an edge list, built with numpy's radix sort."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..exc import GraphwatchError


def build_csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two-direction CSR of ``n`` vertices and the edges ``src → dst``.

    >>> off, v, e = build_csr(3, np.array([0, 1]), np.array([1, 2]))
    >>> off.tolist(), v.tolist(), e.tolist()
    ([0, 1, 3, 4], [1, 2, 0, 1], [0, 1, -1, -2])
    """
    m = len(src)
    if 2 * m >= 2**31:
        raise GraphwatchError(f"{m:,} relationships: the analytics graph holds fewer than 2³⁰")
    # vertex numbers are never negative: their int32 bits read as uint32 without a copy
    keys = np.concatenate([np.asarray(src, dtype=np.int32).view(np.uint32),
                           np.asarray(dst, dtype=np.int32).view(np.uint32)])
    order = radix_argsort(keys)
    counts = np.bincount(keys, minlength=n)
    del keys
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    other = np.concatenate([dst, src]).astype(np.int32, copy=False)[order]
    # the edge of entry k: order[k] itself (a source end) or ~(order[k] - m) (a target end),
    # computed in place instead of gathering from a second concatenated array
    edge = order.astype(np.int32)
    into = edge >= m
    edge[into] = ~(edge[into] - m)
    return offsets, other, edge


def radix_argsort(keys: np.ndarray) -> np.ndarray:
    """A stable argsort of 32-bit keys in two 16-bit passes: numpy sorts 16-bit integers with
    a radix sort, linear in the length (a comparison sort of 10⁸ keys takes several times longer)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint32)
    halves = keys.view(np.uint16)                 # little-endian: low half first
    low, high = (halves[0::2], halves[1::2]) if np.little_endian else (halves[1::2], halves[0::2])
    first = np.argsort(low, kind="stable")
    if not len(keys) or not high.any():
        return first
    second = np.argsort(high[first], kind="stable")
    return first[second]


#: entries laid out at a time by :func:`from_index`
_CHUNK = 1 << 20


def from_index(adj, nid: np.ndarray, alloc=None) -> dict | None:
    """The graph's arrays laid out from the workspace's adjacency index (:mod:`graphwatch.
    adjacency`), whose entries are already sorted by node: vertex ``i`` is the node ``nid[i]``
    (``nid`` ascending), edge ``j`` the ``j``-th outgoing entry of the index. Every step is a
    linear pass (offsets, ``np.repeat`` of them, scatters) — no sort of the relationships.
    None when a relationship ends at a node missing from ``nid``. ``alloc(name, size, dtype)``
    gives the arrays the layout is written into (memory-mapped cache files: the layout is then
    the cache, with no copy of it to write afterwards; measured at 5 M: 2.5 s against 11.3 s).
    """
    def new(name, size, dtype):
        return np.empty(size, dtype=dtype) if alloc is None else alloc(name, size, dtype)

    nodes = np.asarray(adj.nodes)
    n = len(nid)
    pos = np.searchsorted(nid, nodes)
    if len(nodes) and (int(pos[-1]) >= n or not np.array_equal(nid[pos], nodes)):
        return None
    same = len(nodes) == n                       # the index numbers every node: its positions are the vertices
    out_off = np.asarray(adj.out_off, dtype=np.int64)
    in_off = np.asarray(adj.in_off, dtype=np.int64)
    out_n, in_n = np.diff(out_off), np.diff(in_off)
    m = int(out_off[-1]) if len(out_off) else 0
    if 2 * m >= 2**31:
        raise GraphwatchError(f"{m:,} relationships: the analytics graph holds fewer than 2³⁰")
    degree = out_n + in_n
    if not same:
        degree = np.zeros(n, dtype=np.int64)
        degree[pos] = out_n + in_n
    offsets = new("offsets", n + 1, np.int64)
    offsets[0] = 0
    np.cumsum(degree, out=offsets[1:])
    del degree
    start = offsets[:-1] if same else offsets[pos]
    vertex_of = None if same else pos.astype(np.int32)
    out_nbr, in_nbr, in_edge = adj.out_nbr, adj.in_nbr, adj.in_edge
    out_type = np.asarray(adj.out_type)
    in_type = np.asarray(adj.in_type)
    src = new("src", m, np.int32)
    adj_vertex = new("adj_vertex", 2 * m, np.int32)
    adj_edge = new("adj_edge", 2 * m, np.int32)
    adj_type = new("adj_type", 2 * m, out_type.dtype)
    # a vertex's entries: its outgoing ones, then its incoming ones, each in the index's order.
    # Written a few million entries at a time: the temporaries stay small and are reused (fresh
    # memory is what costs most on a machine whose memory is full of page cache)
    for side, off, counts, shift in (("out", out_off, out_n, start - out_off[:-1]),
                                     ("in", in_off, in_n, start + out_n - in_off[:-1])):
        bounds = np.unique(np.concatenate([np.searchsorted(off, np.arange(0, m, _CHUNK), side="right") - 1,
                                           [len(off) - 1]]))
        for v0, v1 in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            e0, e1 = int(off[v0]), int(off[v1])
            if e0 == e1:
                continue
            into = np.repeat(shift[v0:v1], counts[v0:v1])
            into += np.arange(e0, e1, dtype=np.int64)
            other = np.asarray((out_nbr if side == "out" else in_nbr)[e0:e1])
            adj_vertex[into] = other if same else vertex_of[other]
            if side == "out":
                adj_edge[into] = np.arange(e0, e1, dtype=np.int32)
                adj_type[into] = out_type[e0:e1]
                src[e0:e1] = np.repeat(np.arange(v0, v1, dtype=np.int32) if same else vertex_of[v0:v1], counts[v0:v1])
            else:
                adj_edge[into] = ~np.asarray(in_edge[e0:e1], dtype=np.int32)
                adj_type[into] = in_type[e0:e1]
    del start
    dst = np.asarray(out_nbr, dtype=np.int32) if same else vertex_of[np.asarray(out_nbr)]
    # the edges' own columns are the index's arrays themselves (memory-mapped, never copied):
    # ``borrowed`` names them, so a cache of this graph need not write them again
    borrowed = {"rid": "out_rid", "valid_from": "out_vf", "valid_to": "out_vt", "etype": "out_type"}
    if same:
        borrowed["dst"] = "out_nbr"
    return {"offsets": offsets, "adj_vertex": adj_vertex, "adj_edge": adj_edge, "adj_type": adj_type,
            "src": src, "dst": dst, "rid": adj.out_rid, "etype": adj.out_type, "valid_from": adj.out_vf,
            "valid_to": adj.out_vt, "borrowed": borrowed}


def restrict(offsets: np.ndarray, adj_vertex: np.ndarray, adj_edge: np.ndarray, keep: np.ndarray,
             vertices: np.ndarray | None) -> dict:
    """The CSR of the edges ``keep`` (a boolean per edge) among ``vertices`` (ascending; None:
    all), renumbered densely in the same order — linear, no sort. Every kept edge must join
    two of ``vertices``.

    >>> off, v, e = build_csr(3, np.array([0, 1]), np.array([1, 2]))
    >>> out = restrict(off, v, e, np.array([False, True]), np.array([1, 2]))
    >>> out["offsets"].tolist(), out["adj_vertex"].tolist(), out["adj_edge"].tolist(), out["edges"].tolist()
    ([0, 1, 2], [1, 0], [0, -1], [1])
    """
    raw = np.asarray(adj_edge)
    entry = keep[np.where(raw >= 0, raw, ~raw)]
    before = np.zeros(len(entry) + 1, dtype=np.int64)
    np.cumsum(entry, out=before[1:])
    at = before[np.asarray(offsets)]                 # kept entries before each vertex
    del before
    new_edge = np.cumsum(keep) - 1
    raw = raw[entry]
    edge = new_edge[np.where(raw >= 0, raw, ~raw)].astype(np.int32)
    other = np.asarray(adj_vertex)[entry]
    if vertices is not None:
        local = np.full(len(offsets) - 1, -1, dtype=np.int32)
        local[vertices] = np.arange(len(vertices), dtype=np.int32)
        other = local[other]
        at = np.concatenate([at[vertices], at[-1:]])
    return {"offsets": at, "adj_vertex": other, "adj_edge": np.where(raw >= 0, edge, ~edge),
            "entries": entry, "edges": np.flatnonzero(keep)}


@contextmanager
def small_pages():
    """Large numpy arrays made inside are not given transparent huge pages. numpy asks for them
    (``madvise``); with the kernel's usual ``defrag=madvise`` setting a machine whose memory is
    full of page cache then compacts memory on every fault — measured on the 2-core benchmark
    machine: 5.8 CPU s instead of 1.3 to lay out the 1 M county's graph, and most of the
    adjacency index's 75 s of system time at 5 M. Building these arrays writes each page
    once or twice, so small pages lose nothing."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    was = switch(False)
    try:
        yield
    finally:
        switch(was)
