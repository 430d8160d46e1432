"""Shortest paths by bidirectional breadth-first search over the adjacency index.

For one start and one target: expand, a whole level at a time, the smaller of the two
frontiers — the one whose nodes have fewer relationships to read — (from the start along
the pattern's direction, from the target against it) until a level reaches a node the
other side has reached. With total depth ``D = Lf + Lb``
at that moment, no path is shorter (it would have met a level earlier) and every shortest
path crosses the forward level ``Lf`` at a node of the backward level ``Lb``: the meeting
nodes. allShortestPaths is every path start → meeting node over the forward levels times
every path meeting node → target over the backward levels, each relationship of a pair
of parallel ones giving its own path, as Neo4j enumerates them; shortestPath is one of them
(the smallest relationship id at each step, walking back from the target). A hub never
changes the answer: it is only expanded when its side is the smaller one.
"""

from __future__ import annotations

import numpy as np

REVERSED = {"out": "in", "in": "out", "both": "both"}


class PairSearch:
    """Searches from one start to one target at a time, reusing its distance arrays."""

    def __init__(self, adj, direction: str, types, max_hops: int, min_hops: int, all_paths: bool):
        self.adj, self.direction, self.back = adj, direction, REVERSED[direction]
        self.mask = adj.type_mask(types)
        self.max_hops, self.min_hops, self.all_paths = max_hops, min_hops, all_paths
        self._arrays = adj.borrow()
        self.df, self.db, self._mark = self._arrays   # distances from each side; scratch for _distinct
        self._levels: dict = {}                       # 'start' / 'target' -> that side's levels

    def close(self, *, reset: bool = True) -> None:
        """Give the work arrays back to the index: every search that ends leaves them reset;
        one stopped by an exception may not (``reset=False``), and its arrays are dropped."""
        if self._arrays is not None and reset:
            self.adj.give_back(self._arrays)
        self._arrays = None

    def __enter__(self) -> "PairSearch":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(reset=exc_type is None)

    def paths(self, s: int, t: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The shortest paths from position s to t (s ≠ t) as blocks: a matrix of relationship
        ids and one of node positions, one row per path."""
        if s == t:
            raise ValueError("a search from a node to itself")
        if s < 0 or t < 0 or self.max_hops < 1:
            return []
        df, db = self.df, self.db
        lf, lb = [np.array([s])], [np.array([t])]
        df[s], db[t] = 0, 0
        try:
            while (len(lf) - 1) + (len(lb) - 1) < self.max_hops:
                # the side whose next level reads fewer relationships (not the one with fewer
                # nodes: 265 nodes next to the county's hub are 3 M relationships)
                forward = self.adj.degree(lf[-1], self.direction) <= self.adj.degree(lb[-1], self.back)
                layers, dist, other, direction = (lf, df, db, self.direction) if forward else (lb, db, df, self.back)
                _, reached, _ = self.adj.expand(layers[-1], direction, self.mask)
                new = self._distinct(reached[dist[reached] < 0])
                if not len(new):
                    return []
                dist[new] = len(layers)
                layers.append(new)
                meet = new[other[new] >= 0]
                if len(meet):
                    self._levels = {"start": lf, "target": lb}
                    return self._assemble(s, t, np.sort(meet), len(lf) - 1, len(lb) - 1)
            return []
        finally:
            for layer in lf:
                df[layer] = -1
            for layer in lb:
                db[layer] = -1

    def _distinct(self, xs: np.ndarray) -> np.ndarray:
        """``xs`` without repeats, in order. A frontier a hub makes (millions of positions):
        marked in a flag per node and read back in order, linear in the graph's size (a sort
        took 90 of 280 ms of a six-hop search at 1 M persons); a small one sorted."""
        if len(xs) * 32 < len(self._mark):
            return np.unique(xs)
        mark = self._mark
        mark[xs] = True
        out = np.flatnonzero(mark)
        mark[out] = False
        return out

    def _links(self, v: int, direction: str, level: np.ndarray) -> list[tuple[int, int]]:
        """(relationship id, neighbour) of v along ``direction`` to the nodes of ``level`` (a
        sorted array), by relationship id. Read from v's relationships, or — when v is a hub
        and the level is small — from the relationships of the level's nodes that lead to v
        (a hub of 400 k relationships took 17 ms a step)."""
        if self.adj.degree(level, REVERSED[direction]) < self.adj.degree(np.array([v]), direction):
            frm, nbr, rid = self.adj.expand(level, REVERSED[direction], self.mask)
            keep = nbr == v
            return sorted(zip(rid[keep].tolist(), frm[keep].tolist()))
        _, nbr, rid = self.adj.expand(np.array([v]), direction, self.mask)
        keep = _member(nbr, level)
        return sorted(zip(rid[keep].tolist(), nbr[keep].tolist()))

    def _steps(self, v: int, toward: str, want: int) -> list[tuple[int, int]]:
        """(relationship id, neighbour) of v one step closer to the ``toward`` end: to the
        start's level ``want`` against the pattern's direction, or the target's along it."""
        if toward == "start":
            return self._links(v, self.back, self._levels["start"][want])
        return self._links(v, self.direction, self._levels["target"][want])

    def _one_path(self, t: int, meet, kf: int, kb: int):
        """shortestPath: the path the level-by-level search picks too — walking back from
        the target, the predecessor by the smallest relationship id at each step. A node at
        position k ≤ kf is a predecessor when the start reached it at level k; beyond the
        meeting level, when it is on a shortest path: reached forward from the meeting nodes
        through the target's levels. Each level is found from whichever side reads fewer
        relationships (from the meeting nodes forward, or from the target's level back), so
        a hub on the way is not read whole (that took 1 s at 1 M persons)."""
        total = kf + kb
        lf, lb = self._levels["start"], self._levels["target"]
        on_path = {kf: meet}
        layer = meet
        for k in range(kf, total - 1):
            ahead = lb[total - k - 1]           # the nodes total - k - 1 steps from the target
            if self.adj.degree(layer, self.direction) <= self.adj.degree(ahead, self.back):
                _, nbr, _ = self.adj.expand(layer, self.direction, self.mask)
                layer = np.unique(nbr[self.db[nbr] == total - k - 1])
            else:
                frm, nbr, _ = self.adj.expand(ahead, self.back, self.mask)
                layer = np.unique(frm[_member(nbr, layer)])
            on_path[k + 1] = layer
        rids, nodes, v = [], [t], t
        for k in range(total, 0, -1):
            r, v = self._links(v, self.back, lf[k - 1] if k - 1 <= kf else on_path[k - 1])[0]
            rids.append(r)
            nodes.append(v)
        return [(rids[::-1], nodes[::-1])]

    def _assemble(self, s: int, t: int, meet, kf: int, kb: int):
        """The paths as blocks (rids matrix, node positions matrix), one row per path."""
        if not self.all_paths:
            rids, nodes = self._one_path(t, meet, kf, kb)[0]
            return [(np.array([rids], dtype=np.int64).reshape(1, -1), np.array([nodes], dtype=np.int64))]
        memo_f: dict = {}
        memo_b: dict = {}

        def to_start(v: int, d: int):
            """Paths start → v as matrices (rids: d columns, nodes: d + 1), v at forward distance d."""
            if d == 0:
                return np.empty((1, 0), np.int64), np.array([[v]], np.int64)
            if v not in memo_f:
                rs, ns = [], []
                for r, u in self._steps(v, "start", d - 1):
                    pr, pn = to_start(u, d - 1)
                    rs.append(np.hstack([pr, np.full((len(pr), 1), r, np.int64)]))
                    ns.append(np.hstack([pn, np.full((len(pn), 1), v, np.int64)]))
                memo_f[v] = (np.vstack(rs), np.vstack(ns))
            return memo_f[v]

        def to_target(v: int, d: int):
            """Paths v → target as matrices (rids: d columns, nodes after v: d), v at backward distance d."""
            if d == 0:
                return np.empty((1, 0), np.int64), np.empty((1, 0), np.int64)
            if v not in memo_b:
                rs, ns = [], []
                for r, w in self._steps(v, "target", d - 1):
                    sr, sn = to_target(w, d - 1)
                    rs.append(np.hstack([np.full((len(sr), 1), r, np.int64), sr]))
                    ns.append(np.hstack([np.full((len(sn), 1), w, np.int64), sn]))
                memo_b[v] = (np.vstack(rs), np.vstack(ns))
            return memo_b[v]

        blocks = []
        for m in meet.tolist():
            (fr, fn), (br, bn) = to_start(m, kf), to_target(m, kb)
            nf, nb = len(fr), len(br)
            blocks.append((np.hstack([np.repeat(fr, nb, axis=0), np.tile(br, (nf, 1))]),
                           np.hstack([np.repeat(fn, nb, axis=0), np.tile(bn, (nf, 1))])))
        return blocks


def _member(xs: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Which of ``xs`` are in ``level`` (a sorted array)."""
    if not len(level):
        return np.zeros(len(xs), dtype=bool)
    pos = np.minimum(np.searchsorted(level, xs), len(level) - 1)
    return level[pos] == xs
