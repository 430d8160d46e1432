"""Bounded walks from one or two entities: k-hop neighbourhoods and paths.

A walk reads only the adjacency of the vertices it reaches, level by level, with numpy: the
relationship type, direction, dates and the other end's labels are checked on every step,
and a level never looks at the rest of the graph. Paths between two entities grow a ball from
each end, the smaller frontier first, until the balls meet (shortest paths) or their radii add
up to ``max_hops`` (k shortest paths); every path of at most that length lies in the
relationships the two balls crossed, so the paths themselves are found by igraph on that
small graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exc import GraphwatchError
from .graph import Graph, _days

DIRECTIONS = ("both", "out", "in")


class _Step:
    """The per-step filter of a walk: types, direction, dates, labels of the far end."""

    def __init__(self, g: Graph, *, types=None, direction: str = "both", since=None, until=None, labels=None):
        if direction not in DIRECTIONS:
            raise GraphwatchError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        self.g = g
        self.types = g.type_mask(types)
        self.direction = direction
        self.since = None if since is None else _days(since)
        self.until = None if until is None else _days(until)
        self.labels = g.label_mask(labels)

    def expand(self, frontier: np.ndarray, *, reverse: bool = False, within: np.ndarray | None = None):
        """Entries leaving ``frontier``: (from vertex, to vertex, edge) arrays after the filters.
        ``reverse`` walks the relationships backwards (the target side of a directed search);
        ``within`` (a boolean per vertex) keeps only entries ending there, tested before any
        other filter (a hub's entries are read as one contiguous slice)."""
        g = self.g
        frontier = np.asarray(frontier, dtype=np.int64)
        starts = g.offsets[frontier]
        counts = g.offsets[frontier + 1] - starts
        if within is not None:
            hub = counts > HUB
            parts = [self._positions(frontier[~hub], starts[~hub], counts[~hub])]
            for v, a, n in zip(frontier[hub].tolist(), starts[hub].tolist(), counts[hub].tolist()):
                at = np.flatnonzero(within[np.asarray(g.adj_vertex[a:a + n])]) + a
                parts.append((np.full(len(at), v, dtype=np.int64), at))
            origin = np.concatenate([o for o, _ in parts])
            pos = np.concatenate([q for _, q in parts])
            hit = within[np.asarray(g.adj_vertex[pos])]
            origin, pos = origin[hit], pos[hit]
        else:
            origin, pos = self._positions(frontier, starts, counts)
        if not len(pos):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        raw = np.asarray(g.adj_edge[pos])
        edge = np.where(raw >= 0, raw, ~raw).astype(np.int64)
        keep = self.types[g.etype[edge]]
        direction = self.direction
        if reverse and direction != "both":
            direction = "in" if direction == "out" else "out"
        if direction == "out":
            keep &= raw >= 0
        elif direction == "in":
            keep &= raw < 0
        if self.since is not None:
            keep &= g.valid_to[edge] >= self.since
        if self.until is not None:
            keep &= g.valid_from[edge] <= self.until
        other = np.asarray(g.adj_vertex[pos]).astype(np.int64)
        if self.labels:
            keep &= (g.label_bits[other] & self.labels) != 0
        return origin[keep], other[keep], edge[keep]

    @staticmethod
    def _positions(frontier, starts, counts):
        """(from vertex, position in the adjacency arrays) of every entry of ``frontier``."""
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        return np.repeat(frontier, counts), np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)


#: entries above which a vertex's adjacency is read as a slice when only some ends matter
HUB = 4096


def neighbours(g: Graph, start: int, *, hops: int = 2, types=None, direction: str = "both", since=None,
               until=None, labels=None, limit: int | None = 500, max_degree: int | None = None) -> pd.DataFrame:
    """The nodes within ``hops`` relationships of ``start`` (a dense vertex), nearest first.

    Parameters
    ----------
    g : the graph
    start : dense vertex of the entity (see :func:`graphwatch.analytics.entities.find_entity`)
    hops : how far to walk
    types, direction, since, until, labels : what a step may cross: relationship types, ``both`` /
        ``out`` / ``in``, relationships valid in the date range, nodes with these labels
    limit : at most this many nodes (the start included); the last level is cut in the order
        the walk found it and ``attrs["truncated"]`` says how many were left out
    max_degree : nodes with more relationships than this (a village, a benefit programme) are
        listed but not walked through; ``attrs["not_expanded"]`` names them

    Returns
    -------
    DataFrame with ``id``, ``key``, ``label``, ``labels``, ``name``, ``hops``, ``via`` (the
    relationship type that reached it first) and ``vertex``; ``attrs["rels"]``: the
    relationships among these nodes that a step may cross (workspace ids).

    Examples
    --------
    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("张三", "李四", "SPOUSE_OF"), ("李四", "某公司", "LEGAL_REP_OF"),
    ...                 ("某公司", "王五", "SHAREHOLDER_OF")])
    >>> df = neighbours(g, 0, hops=2)
    >>> df[["key", "hops", "via"]].values.tolist()
    [['张三', 0, None], ['李四', 1, 'SPOUSE_OF'], ['某公司', 2, 'LEGAL_REP_OF']]
    >>> neighbours(g, 0, hops=3, types=["SPOUSE_OF"])["key"].tolist()
    ['张三', '李四']
    """
    step = _Step(g, types=types, direction=direction, since=since, until=until, labels=labels)
    dist = {int(start): 0}
    via: dict[int, int] = {}
    order = [int(start)]
    frontier = np.array([start], dtype=np.int64)
    truncated, not_expanded = 0, []
    for level in range(1, hops + 1):
        if max_degree is not None:
            degree = g.offsets[frontier + 1] - g.offsets[frontier]
            hub = (degree > max_degree) & (frontier != start)
            not_expanded += frontier[hub].tolist()
            frontier = frontier[~hub]
        _, other, edge = step.expand(frontier)
        new = []
        for v, e in zip(other.tolist(), edge.tolist()):
            if v not in dist:
                dist[v] = level
                via[v] = e
                new.append(v)
        if limit is not None and len(order) + len(new) > limit:
            truncated = len(order) + len(new) - limit
            for v in new[limit - len(order):]:
                del dist[v]
            new = new[:limit - len(order)]
            order += new
            break
        order += new
        frontier = np.array(new, dtype=np.int64)
        if not len(frontier):
            break
    df = g.node_table(order)
    df["hops"] = [dist[v] for v in order]
    df["via"] = pd.Series([g.types[g.etype[via[v]]] if v in via else None for v in order], dtype=object)
    df["vertex"] = order
    df.attrs["rels"] = g.rid[_edges_among(step, np.array(order, dtype=np.int64))].tolist()
    df.attrs["truncated"] = truncated
    df.attrs["not_expanded"] = [int(g.nid[v]) for v in not_expanded]
    return df


def _edges_among(step: _Step, vertices: np.ndarray) -> np.ndarray:
    """Edges a step may cross between two of ``vertices``, each once, in edge order."""
    inside = np.zeros(step.g.vcount, dtype=bool)
    inside[vertices] = True
    _, _, edge = step.expand(vertices, within=inside)
    return np.unique(edge)


def relationships(g: Graph, edges) -> pd.DataFrame:
    """``id`` (workspace rid), ``type``, ``start`` and ``end`` (workspace nids) of edges."""
    edges = np.asarray(edges, dtype=np.int64)
    return pd.DataFrame({"id": g.rid[edges], "type": [g.types[t] for t in g.etype[edges]],
                         "start": g.nid[g.src[edges]], "end": g.nid[g.dst[edges]]})


def paths(g: Graph, source: int, target: int, *, max_hops: int = 4, types=None, directed: bool = False,
          k: int | None = None, all_shortest: bool = False, since=None, until=None, labels=None,
          limit: int = 100, max_visit: int = 2_000_000) -> pd.DataFrame:
    """Paths from ``source`` to ``target`` (dense vertices) of at most ``max_hops`` relationships.

    Parameters
    ----------
    g : the graph
    source, target : dense vertices of the two entities
    max_hops : the longest path wanted
    types, since, until, labels : what a step may cross (as for :func:`neighbours`)
    directed : follow relationships only in their direction (source → target)
    k : the ``k`` shortest paths (simple paths, shortest first: Yen's algorithm in igraph)
    all_shortest : every path of the shortest length — paths through different relationships
        between the same nodes count apart, as Cypher's ``allShortestPaths`` counts them
    limit : at most this many paths
    max_visit : refuse a search that would visit more nodes than this (narrow it with types)

    Without ``k`` or ``all_shortest``: one shortest path (the one whose relationship ids come
    first). No path within ``max_hops``: no rows.

    Returns
    -------
    DataFrame, one row per path: ``path`` (1, 2 …), ``hops``, ``nodes`` and ``rels`` (workspace
    ids along the path), ``types``, ``keys``, ``names`` and ``text`` (the path written out).

    Examples
    --------
    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("官员", "妻子", "SPOUSE_OF"), ("妻子", "公司", "LEGAL_REP_OF"),
    ...                 ("官员", "弟弟", "SIBLING_OF"), ("弟弟", "公司", "SHAREHOLDER_OF"),
    ...                 ("公司", "合同", "AWARDED_TO")])
    >>> official, company = g.keys.index("官员"), g.keys.index("公司")
    >>> paths(g, official, company, all_shortest=True)[["hops", "text"]].values.tolist()
    [[2, '官员 -[SPOUSE_OF]-> 妻子 -[LEGAL_REP_OF]-> 公司'], [2, '官员 -[SIBLING_OF]-> 弟弟 -[SHAREHOLDER_OF]-> 公司']]
    >>> paths(g, official, company, types=["SIBLING_OF", "SHAREHOLDER_OF"])["keys"].tolist()
    [['官员', '弟弟', '公司']]
    >>> len(paths(g, official, company, max_hops=1))
    0
    """
    source, target = int(source), int(target)
    if source == target:
        raise GraphwatchError("the two entities are the same node: a path needs two")
    step = _Step(g, types=types, direction="out" if directed else "both", since=since, until=until,
                 labels=labels)
    edges = _meet(g, step, source, target, max_hops=max_hops, exhaustive=k is not None, max_visit=max_visit)
    if edges is None:
        return _path_frame(g, [])
    found = _search(g, edges, source, target, directed=directed, k=k, all_shortest=all_shortest,
                    max_hops=max_hops, limit=limit)
    return _path_frame(g, found, source)


def _meet(g: Graph, step: _Step, source: int, target: int, *, max_hops: int, exhaustive: bool,
          max_visit: int) -> np.ndarray | None:
    """The edges crossed by a ball from each end, the smaller frontier grown first, until the
    balls meet (or, ``exhaustive``, until their radii add up to ``max_hops``). ``None``: no path."""
    seen = [{source: 0}, {target: 0}]
    frontier = [np.array([source], dtype=np.int64), np.array([target], dtype=np.int64)]
    radius = [0, 0]
    crossed: list[np.ndarray] = []
    met = False
    while radius[0] + radius[1] < max_hops:
        sizes = [int((g.offsets[f + 1] - g.offsets[f]).sum()) if len(f) else -1 for f in frontier]
        live = [s for s in (0, 1) if sizes[s] >= 0]
        if not live:
            break
        side = min(live, key=lambda s: sizes[s])
        _, other, edge = step.expand(frontier[side], reverse=side == 1)
        crossed.append(edge)
        radius[side] += 1
        new = []
        mine, theirs = seen[side], seen[1 - side]
        for v in np.unique(other).tolist():
            if v not in mine:
                mine[v] = radius[side]
                new.append(v)
                if v in theirs:
                    met = True
        if len(seen[0]) + len(seen[1]) > max_visit:
            raise GraphwatchError(f"the path search reached {max_visit:,} nodes before {max_hops} hops; "
                                  "choose relationship types (--types) or fewer hops")
        frontier[side] = np.array(new, dtype=np.int64)
        if not len(new):
            frontier[side] = np.zeros(0, dtype=np.int64)
            if not exhaustive:
                # one side can reach nothing more: the paths are whatever has met already
                if not met:
                    return None
        if met and not exhaustive:
            break
    if not met or not crossed:     # balls whose radii add up to max_hops never met: no such path
        return None
    return np.unique(np.concatenate(crossed))


def _search(g: Graph, edges: np.ndarray, source: int, target: int, *, directed: bool, k, all_shortest: bool,
            max_hops: int, limit: int) -> list[list[int]]:
    """Edge paths (lists of edges of ``g``) found by igraph on the crossed edges."""
    import igraph as ig

    vertices = np.unique(np.concatenate([g.src[edges], g.dst[edges], [source, target]]))
    local = {int(v): i for i, v in enumerate(vertices)}
    small = ig.Graph(n=len(vertices), edges=[(local[int(a)], local[int(b)]) for a, b in zip(g.src[edges], g.dst[edges])],
                     directed=True)
    mode = "out" if directed else "all"
    s, t = local[source], local[target]
    if k is not None:
        found = [[int(edges[e]) for e in p] for p in small.get_k_shortest_paths(s, to=t, k=k, mode=mode, output="epath")]
        return [p for p in found if 0 < len(p) <= max_hops][:limit]
    vpaths = {tuple(p) for p in small.get_all_shortest_paths(s, to=t, mode=mode)}
    between: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(zip(g.src[edges], g.dst[edges])):
        la, lb = local[int(a)], local[int(b)]
        between.setdefault((la, lb), []).append(int(edges[i]))
        if not directed and la != lb:
            between.setdefault((lb, la), []).append(int(edges[i]))
    out: list[list[int]] = []
    for vp in sorted(vpaths):
        if not 0 < len(vp) - 1 <= max_hops:
            continue
        partial = [[]]
        for a, b in zip(vp, vp[1:]):
            partial = [p + [e] for p in partial for e in sorted(between[(a, b)])]
        out += partial
    out.sort(key=lambda p: [int(g.rid[e]) for e in p])
    return out if all_shortest else out[:1]


def _path_frame(g: Graph, found: list[list[int]], source: int = -1) -> pd.DataFrame:
    cols = ["path", "hops", "nodes", "rels", "types", "keys", "names", "text"]
    if not found:
        return pd.DataFrame({c: [] for c in cols})
    rows, chains = [], []
    for p in found:
        chain = [source]
        for e in p:
            a, b = int(g.src[e]), int(g.dst[e])
            chain.append(b if chain[-1] == a else a)
        chains.append(chain)
    table = g.node_table(sorted({v for c in chains for v in c}))
    info = {int(r.id): r for r in table.itertuples()}
    for i, (p, chain) in enumerate(zip(found, chains), start=1):
        nodes = [int(g.nid[v]) for v in chain]
        text = _show(info[nodes[0]])
        for e, prev, v in zip(p, chain, chain[1:]):
            arrow = (f" -[{g.types[g.etype[e]]}]-> " if int(g.src[e]) == prev else f" <-[{g.types[g.etype[e]]}]- ")
            text += arrow + _show(info[int(g.nid[v])])
        rows.append({"path": i, "hops": len(p), "nodes": nodes, "rels": [int(g.rid[e]) for e in p],
                     "types": [g.types[g.etype[e]] for e in p], "keys": [info[n].key for n in nodes],
                     "names": [info[n].name for n in nodes], "text": text})
    return pd.DataFrame(rows, columns=cols)


def _show(r) -> str:
    return r.name if r.name else r.key



def among(g: Graph, vertices, *, types=None) -> np.ndarray:
    """The edges (dense indices, each once) of ``types`` joining two of ``vertices``: the
    subgraph those vertices induce. Each vertex's adjacency is read as one contiguous slice and
    only its entries that end inside the set are looked at further, so a hub in the set (a
    village, a benefit programme) costs one pass over its slice, not a filtered walk of it.

    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("a", "b", "KNOWS"), ("b", "c", "KNOWS"), ("a", "c", "OWNS"), ("c", "d", "KNOWS")])
    >>> among(g, [0, 1, 2], types=["KNOWS"]).tolist(), among(g, [0, 1, 2]).tolist()
    ([0, 1], [0, 1, 2])
    """
    vs = np.unique(np.asarray(list(vertices), dtype=np.int64))
    mask = g.type_mask(types)
    inside = np.zeros(g.vcount, dtype=bool)
    inside[vs] = True
    found = []
    for v in vs.tolist():
        a, b = int(g.offsets[v]), int(g.offsets[v + 1])
        hit = np.flatnonzero(inside[g.adj_vertex[a:b]])
        if len(hit):
            raw = np.asarray(g.adj_edge[a + hit], dtype=np.int64)
            edge = np.where(raw >= 0, raw, ~raw)
            found.append(edge[mask[g.etype[edge]]])
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def one_hop(g: Graph, vertex: int, *, types=None, limit: int | None = None) -> tuple[np.ndarray, int]:
    """The vertices one relationship of ``types`` away from ``vertex`` (either direction), in
    the order of its adjacency, at most ``limit`` of them; and how many more there were.
    Vectorised over the vertex's adjacency slice: expanding a hub of a million relationships
    takes milliseconds (:func:`neighbours` walks levels and keeps distances, for more hops).

    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("a", "b", "KNOWS"), ("a", "c", "OWNS"), ("d", "a", "KNOWS"), ("a", "b", "OWNS")])
    >>> [x.tolist() if hasattr(x, "tolist") else x for x in one_hop(g, 0, limit=2)]
    [[1, 2], 1]
    >>> one_hop(g, 0, types=["KNOWS"])[0].tolist()
    [1, 3]
    """
    a, b = int(g.offsets[vertex]), int(g.offsets[vertex + 1])
    raw = np.asarray(g.adj_edge[a:b], dtype=np.int64)
    other = np.asarray(g.adj_vertex[a:b], dtype=np.int64)
    other = other[g.type_mask(types)[g.etype[np.where(raw >= 0, raw, ~raw)]] & (other != vertex)]
    chunk = len(other) if limit is None else 4 * limit        # the first distinct ones lie in a prefix
    while True:
        found, first = np.unique(other[:chunk], return_index=True)
        if chunk >= len(other) or len(found) >= limit:
            break
        chunk *= 4
    found = found[np.argsort(first, kind="stable")]
    if limit is None or len(found) <= limit:
        return found, 0
    if chunk >= len(other):
        total = len(found)
    else:                                                       # counted without sorting a hub's million entries
        seen = np.zeros(g.vcount, dtype=bool)
        seen[other] = True
        total = int(np.count_nonzero(seen))
    return found[:limit], total - limit
