"""Shortest paths by bidirectional breadth-first search over the adjacency index.

For one start and one target: expand, a whole level at a time, the smaller of the two
frontiers (from the start along the pattern's direction, from the target against it)
until a level reaches a node the other side has reached. With total depth ``D = Lf + Lb``
at that moment, no path is shorter (it would have met a level earlier) and every shortest
path crosses the forward level ``Lf`` at a node of the backward level ``Lb``: the meeting
nodes. allShortestPaths is every path start → meeting node over the forward levels times
every path meeting node → target over the backward levels, each relationship of a pair
of parallel ones giving its own path, as Neo4j enumerates them; shortestPath is one of them
(the smallest relationship id at each step). A hub never changes the answer: it is only
expanded when its side is the smaller one.
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
        n = len(adj.nodes)
        self.df = np.full(n, -1, dtype=np.int32)
        self.db = np.full(n, -1, dtype=np.int32)
        self._slot = np.zeros(n, dtype=np.int64)      # scratch for _distinct

    def paths(self, s: int, t: int) -> list[tuple[list[int], list[int]]]:
        """(relationship ids, node positions) of the shortest paths from position s to t."""
        if s == t:
            return [([], [s])] if self.min_hops == 0 else []
        if s < 0 or t < 0 or self.max_hops < 1:
            return []
        df, db = self.df, self.db
        lf, lb = [np.array([s])], [np.array([t])]
        df[s], db[t] = 0, 0
        try:
            while (len(lf) - 1) + (len(lb) - 1) < self.max_hops:
                forward = len(lf[-1]) <= len(lb[-1])
                layers, dist, other, direction = (lf, df, db, self.direction) if forward else (lb, db, df, self.back)
                _, reached, _ = self.adj.expand(layers[-1], direction, self.mask)
                new = self._distinct(reached[dist[reached] < 0])
                if not len(new):
                    return []
                dist[new] = len(layers)
                layers.append(new)
                meet = new[other[new] >= 0]
                if len(meet):
                    return self._assemble(s, t, np.sort(meet), len(lf) - 1, len(lb) - 1)
            return []
        finally:
            for layer in lf:
                df[layer] = -1
            for layer in lb:
                db[layer] = -1

    def _distinct(self, xs: np.ndarray) -> np.ndarray:
        """``xs`` without repeats, in linear time (np.unique sorts or hashes: 10x slower
        on the frontiers a hub makes)."""
        slot = self._slot
        slot[xs] = np.arange(len(xs))
        return np.sort(xs[slot[xs] == np.arange(len(xs))])

    def _steps(self, v: int, direction: str, dist, want: int) -> list[tuple[int, int]]:
        """(relationship id, neighbour) of v along ``direction`` to nodes at distance ``want``."""
        _, nbr, rid = self.adj.expand(np.array([v]), direction, self.mask)
        keep = dist[nbr] == want
        return sorted(zip(rid[keep].tolist(), nbr[keep].tolist()))

    def _one_path(self, t: int, meet, kf: int, kb: int):
        """shortestPath: the path the level-by-level search picks too — walking back from
        the target, the predecessor by the smallest relationship id at each step. A node at
        position k ≤ kf is a predecessor when the start reached it at level k; beyond the
        meeting level, when it is on a shortest path: reached forward from the meeting nodes
        through the target's levels."""
        total = kf + kb
        on_path = {kf: set(meet.tolist())}
        layer = meet
        for k in range(kf, total - 1):
            _, nbr, _ = self.adj.expand(layer, self.direction, self.mask)
            layer = np.unique(nbr[self.db[nbr] == total - k - 1])
            on_path[k + 1] = set(layer.tolist())
        rids, nodes, v = [], [t], t
        for k in range(total, 0, -1):
            if k - 1 <= kf:
                r, u = self._steps(v, self.back, self.df, k - 1)[0]
            else:
                _, nbr, rid = self.adj.expand(np.array([v]), self.back, self.mask)
                r, u = min((r, u) for r, u in zip(rid.tolist(), nbr.tolist()) if u in on_path[k - 1])
            rids.append(r)
            nodes.append(u)
            v = u
        return [(rids[::-1], nodes[::-1])]

    def _assemble(self, s: int, t: int, meet, kf: int, kb: int):
        if not self.all_paths:
            return self._one_path(t, meet, kf, kb)
        memo_f: dict = {}
        memo_b: dict = {}

        def to_start(v: int, d: int):
            """Paths start → v as (rids, nodes), v at forward distance d."""
            if d == 0:
                return [([], [v])]
            if v not in memo_f:
                out = []
                for r, u in self._steps(v, self.back, self.df, d - 1):
                    for rids, nodes in to_start(u, d - 1):
                        out.append((rids + [r], nodes + [v]))
                        if not self.all_paths:
                            break
                    if out and not self.all_paths:
                        break
                memo_f[v] = out
            return memo_f[v]

        def to_target(v: int, d: int):
            """Paths v → target as (rids, nodes after v), v at backward distance d."""
            if d == 0:
                return [([], [])]
            if v not in memo_b:
                out = []
                for r, w in self._steps(v, self.direction, self.db, d - 1):
                    for rids, nodes in to_target(w, d - 1):
                        out.append(([r] + rids, [w] + nodes))
                        if not self.all_paths:
                            break
                    if out and not self.all_paths:
                        break
                memo_b[v] = out
            return memo_b[v]

        found = []
        for m in meet.tolist():
            for r1, n1 in to_start(m, kf):
                for r2, n2 in to_target(m, kb):
                    found.append((r1 + r2, n1 + n2))
                    if not self.all_paths:
                        return found
        return found
