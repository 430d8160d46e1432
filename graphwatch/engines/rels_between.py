"""``gw_rels_between(a, b, types, direction)``: the relationships of given types and direction
between two nodes a statement has found already, read from the adjacency index.

``OPTIONAL MATCH (o)-[ap:APPROVED]->(ct)`` with ``o`` and ``ct`` bound by earlier clauses was
a join of the 200 k (o, ct) pairs against all 9.1 M APPROVED relationships at 5 M persons (an
undirected kinship hop: both orientations of 5.6 M); the index lists the relationships of
the pairs' nodes instead. The compiler (:mod:`graphwatch.cypher.pairs`) writes such a hop as
an ``unnest`` of this function's list when the engine registered it (with ``gw_has_rel``:
:func:`graphwatch.engines.has_rel.register`, a read-only workspace only).

Each list holds, in relationship id order, one ``{rid, type, src, dst}`` per relationship
that matches the hop once oriented from ``a`` to ``b``: ``out`` a→b, ``in`` b→a, ``both``
either (a self-loop once, as the SQL join of both orientations of ``rel`` has it).
"""

from __future__ import annotations

import numpy as np

from ..exc import EngineError

NAME = "gw_rels_between"


def rels_between(adj, a, b, direction: str, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, rid, type code, from-a flag) of the relationships between each pair (a[i],
    b[i]) of node ids: pair i's are entries offsets[i]:offsets[i+1], by relationship id; the
    flag says the relationship goes from a[i] to b[i] (else from b[i] to a[i]). Each pair
    reads the entries of its end with fewer (an official's approvals, not a programme's
    million payments) and keeps those leading to the other end."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = len(a)
    pa, pb = positions(adj, a), positions(adj, b)
    ok = np.flatnonzero((pa >= 0) & (pb >= 0))
    orients = {"out": [(pa, pb, True)], "in": [(pb, pa, False)]}.get(direction, [(pa, pb, True), (pb, pa, False)])
    pairs, rids, codes, fwd = [], [], [], []
    for x, y, forward in orients:
        sel = ok if forward or direction != "both" else ok[pa[ok] != pb[ok]]     # a self-loop once
        if not len(sel):
            continue
        xs, ys = x[sel], y[sel]
        lo_x, lo_y = adj.out_off[xs].astype(np.int64), adj.in_off[ys].astype(np.int64)
        n_x, n_y = adj.out_off[xs + 1] - lo_x, adj.in_off[ys + 1] - lo_y
        from_x = n_x <= n_y
        for side, far, pick, los, ns in (("out", ys, from_x, lo_x, n_x), ("in", xs, ~from_x, lo_y, n_y)):
            w = np.flatnonzero(pick)
            if not len(w):
                continue
            nbr, typ = (getattr(adj, f"{side}_{c}") for c in ("nbr", "type"))
            lo, cnt = los[w], ns[w]
            total = int(cnt.sum())
            if not total:
                continue
            which = np.repeat(w, cnt)
            idx = np.repeat(lo - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt) + np.arange(total)
            keep = nbr[idx] == far[which]
            if mask is not None:
                keep &= mask[typ[idx]]
            idx = idx[keep]
            pairs.append(sel[which[keep]])
            rids.append(np.asarray(adj.rids(side, idx), dtype=np.int64))
            codes.append(np.asarray(typ[idx], dtype=np.int64))
            fwd.append(np.full(len(idx), forward))
    if not pairs:
        e = np.empty(0, dtype=np.int64)
        return np.zeros(n + 1, dtype=np.int64), e, e, np.empty(0, dtype=bool)
    pair, rid, code, forward = (np.concatenate(x) for x in (pairs, rids, codes, fwd))
    if len(pairs) > 1:
        order = np.lexsort((rid, pair))
        pair, rid, code, forward = pair[order], rid[order], code[order], forward[order]
    offsets = np.concatenate(([0], np.cumsum(np.bincount(pair, minlength=n)))).astype(np.int64)
    return offsets, rid, code, forward


class _Buckets:
    """Node ids to index positions: the sorted ids cut by value into buckets of about
    :data:`PER_BUCKET` (the ids are hashes, spread evenly), a binary search only within the
    needle's bucket. ``index_of``'s search over 17 M ids took 0.9 us an id at 5 M persons (a
    cache miss at every level): 0.2 s of a hop between 230 k pairs, 0.03 s here. Made from a
    search of the bucket bounds (tens of ms), not a pass over every id."""

    def __init__(self, nodes: np.ndarray):
        self.nodes = nodes
        keys = self._key(nodes[[0, -1]])
        self.lo, self.hi = int(keys[0]), int(keys[1])
        bits = max(int(np.ceil(np.log2(max(len(nodes) / PER_BUCKET, 1)))), 0)
        self.shift = max((self.hi - self.lo).bit_length() - bits, 0)
        count = ((self.hi - self.lo) >> self.shift) + 1
        bounds = (np.uint64(self.lo) + (np.arange(count + 1, dtype=np.uint64) << np.uint64(self.shift)))
        bounds = (bounds ^ np.uint64(1 << 63)).view(np.int64)
        bounds[-1] = np.iinfo(np.int64).max        # (the last bound may wrap past the largest id)
        self.start = np.searchsorted(nodes, bounds).astype(np.int64)
        self.start[-1] = len(nodes)
        self.depth = int(np.diff(self.start).max(initial=0)).bit_length() + 1

    @staticmethod
    def _key(ids: np.ndarray) -> np.ndarray:
        return np.asarray(ids, dtype=np.int64).view(np.uint64) ^ np.uint64(1 << 63)      # order kept

    def find(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        key = np.minimum(np.maximum(self._key(ids), np.uint64(self.lo)), np.uint64(self.hi))
        b = ((key - np.uint64(self.lo)) >> np.uint64(self.shift)).astype(np.int64)
        lo, hi = self.start[b], self.start[b + 1]          # the first id >= the needle, in [lo, hi]
        last = len(self.nodes) - 1
        for _ in range(self.depth):
            mid = (lo + hi) >> 1
            go = (mid < hi) & (self.nodes[np.minimum(mid, last)] < ids)
            lo = np.where(go, mid + 1, lo)
            hi = np.where(go, hi, mid)
        pos = np.minimum(lo, last)
        return np.where((lo < self.start[b + 1]) & (self.nodes[pos] == ids), pos, -1)


#: ids a bucket of :class:`_Buckets` holds on average
PER_BUCKET = 64


def positions(adj, ids) -> np.ndarray:
    """``adj.index_of(ids)`` through :class:`_Buckets` (made once per index)."""
    if not len(adj.nodes):
        return np.full(len(ids), -1, dtype=np.int64)
    got = getattr(adj, "_gw_buckets", None)
    if got is None:
        got = adj._gw_buckets = _Buckets(adj.nodes)
    return got.find(ids)


def register(con, adjacency_of) -> str | None:
    """Register :data:`NAME` on ``con`` (a connection with no unfinished result), answering
    from ``adjacency_of()``; the name, or None when DuckDB refused."""
    import duckdb
    import pyarrow as pa
    from duckdb.sqltypes import BIGINT, VARCHAR

    struct = pa.struct([("rid", pa.int64()), ("type", pa.string()), ("src", pa.int64()), ("dst", pa.int64())])

    def between(left, right, types, direction):
        adj = adjacency_of()
        if adj is None:
            raise EngineError("the adjacency index is not available")
        a = left.fill_null(-1).to_numpy(zero_copy_only=False)
        b = right.fill_null(-1).to_numpy(zero_copy_only=False)
        wanted = types[0].as_py() if len(types) else ""
        mask = adj.type_mask(wanted.split("|")) if wanted else None
        offsets, rid, codes, forward = rels_between(adj, a, b, direction[0].as_py() if len(direction) else "both",
                                                    mask)
        at = np.repeat(np.arange(len(a)), np.diff(offsets))
        src = np.where(forward, a[at], b[at])
        dst = np.where(forward, b[at], a[at])
        names = pa.array(adj.types, pa.string()).take(pa.array(codes)) if len(codes) else pa.array([], pa.string())
        values = pa.StructArray.from_arrays([pa.array(rid, pa.int64()), names, pa.array(src, pa.int64()),
                                             pa.array(dst, pa.int64())], fields=list(struct))
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)

    try:
        con.execute("SELECT 1").fetchall()
        try:
            con.remove_function(NAME)
        except duckdb.Error:
            pass
        ret = duckdb.list_type(duckdb.struct_type({"rid": BIGINT, "type": VARCHAR, "src": BIGINT, "dst": BIGINT}))
        con.create_function(NAME, between, [BIGINT, BIGINT, VARCHAR, VARCHAR], ret, type="arrow", side_effects=False)
    except duckdb.Error:
        return None
    return NAME
