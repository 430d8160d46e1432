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
from .graph import HUB, Graph, _days

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
        other filter. A hub's entries are read as one contiguous slice (views, no index arrays)."""
        g = self.g
        frontier = np.asarray(frontier, dtype=np.int64)
        starts = np.asarray(g.offsets[frontier], dtype=np.int64)
        counts = np.asarray(g.offsets[frontier + 1], dtype=np.int64) - starts
        parts, done = [], 0

        def ordinary(upto: int) -> None:         # the entries of frontier[done:upto], no hub among them
            if upto > done:
                origin, pos = self._positions(frontier[done:upto], starts[done:upto], counts[done:upto])
                parts.append((origin, g.adj_vertex[pos], g.adj_edge[pos], g.adj_type[pos]))

        for i in np.flatnonzero(counts > HUB).tolist():    # in frontier order: the order the walk finds them
            ordinary(i)
            a, n = int(starts[i]), int(counts[i])
            parts.append((None, g.adj_vertex[a:a + n], g.adj_edge[a:a + n], g.adj_type[a:a + n], int(frontier[i])))
            done = i + 1
        ordinary(len(frontier))
        origin, other, raw, kind = _join(parts)
        keep = self.types[kind] if within is None else within[other] & self.types[kind]
        direction = self.direction
        if reverse and direction != "both":
            direction = "in" if direction == "out" else "out"
        if direction == "out":
            keep &= raw >= 0
        elif direction == "in":
            keep &= raw < 0
        origin, other, raw = origin[keep], other[keep].astype(np.int64), raw[keep]
        edge = np.where(raw >= 0, raw, ~raw).astype(np.int64)
        if self.since is not None or self.until is not None or self.labels:
            ok = self.allows_dates(edge)
            if self.labels:
                ok &= (g.label_bits[other] & self.labels) != 0
            origin, other, edge = origin[ok], other[ok], edge[ok]
        return origin, other, edge

    def allows_dates(self, edge: np.ndarray) -> np.ndarray:
        """A boolean per edge: valid at some time in the step's date range."""
        g = self.g
        ok = np.ones(len(edge), dtype=bool)
        if self.since is not None:
            ok &= g.valid_to[edge] >= self.since
        if self.until is not None:
            ok &= g.valid_from[edge] <= self.until
        return ok

    def crossable(self, edge: np.ndarray) -> np.ndarray:
        """A boolean per edge: a step may cross it from one end or the other (type, dates, and
        the far end's labels in a direction the step walks)."""
        g = self.g
        ok = self.types[g.etype[edge]] & self.allows_dates(edge)
        if self.labels:
            far = np.zeros(len(edge), dtype=bool)
            if self.direction in ("both", "out"):
                far |= (g.label_bits[g.dst[edge]] & self.labels) != 0
            if self.direction in ("both", "in"):
                far |= (g.label_bits[g.src[edge]] & self.labels) != 0
            ok &= far
        return ok

    @staticmethod
    def _positions(frontier, starts, counts):
        """(from vertex, position in the adjacency arrays) of every entry of ``frontier``."""
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        return np.repeat(frontier, counts), np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)


def _join(parts):
    """Concatenate (origin, other, raw edge, type) parts; a hub's part gives its vertex instead of
    an origin array."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int32), empty.astype(np.int32), empty.astype(np.int8)
    origin = np.concatenate([p[0] if p[0] is not None else np.full(len(p[1]), p[4], dtype=np.int64) for p in parts])
    return (origin,) + tuple(np.concatenate([np.asarray(p[i]) for p in parts]) for i in (1, 2, 3))


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

    Notes
    -----
    A hub on the walk (a benefit programme: a million and a half relationships at 5 M persons)
    is walked through, as without it: its entries are read as one slice, its far ends counted
    on a mark per vertex (``truncated`` stays exact) and never put through Python one by one;
    the relationships among the found nodes are read from their ordinary ends, with the
    graph's short list of hub–hub relationships (``Graph.hub_edges``), never from a hub's own
    entries. ``max_degree`` is still there to leave hubs out of the walk.

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
    start = int(start)
    seen = np.zeros(g.vcount, dtype=bool)         # one mark per vertex: no Python set of a hub's million ends
    seen[start] = True
    order, levels, via = [np.array([start], dtype=np.int64)], [0], [np.array([-1], dtype=np.int64)]
    found = 1
    frontier = np.array([start], dtype=np.int64)
    truncated, not_expanded = 0, []
    for level in range(1, hops + 1):
        if max_degree is not None:
            degree = g.offsets[frontier + 1] - g.offsets[frontier]
            hub = (degree > max_degree) & (frontier != start)
            not_expanded += frontier[hub].tolist()
            frontier = frontier[~hub]
        _, other, edge = step.expand(frontier)
        fresh = ~seen[other]
        other, edge = other[fresh], edge[fresh]
        room = None if limit is None else limit - found
        new, first, more = _first_seen(other, room, seen)
        order.append(new)
        via.append(edge[first])
        levels.append(level)
        found += len(new)
        if more:
            truncated = more
            break
        seen[new] = True
        frontier = new
        if not len(frontier):
            break
    hops_of = np.concatenate([np.full(len(o), lv, dtype=np.int64) for o, lv in zip(order, levels)])
    via = np.concatenate(via)
    order = np.concatenate(order)
    df = g.node_table(order)
    df["hops"] = hops_of
    df["via"] = pd.Series([g.types[t] if e >= 0 else None
                           for e, t in zip(via.tolist(), np.asarray(g.etype)[np.maximum(via, 0)].tolist())],
                          dtype=object)
    df["vertex"] = order
    df.attrs["rels"] = np.asarray(g.rid)[_edges_among(step, order, start)].tolist()
    df.attrs["truncated"] = truncated
    df.attrs["not_expanded"] = [int(g.nid[v]) for v in not_expanded]
    return df


def _first_seen(other: np.ndarray, room: int | None, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The distinct vertices of ``other`` in the order they first occur — at most ``room`` of
    them —, the index in ``other`` where each first occurs, and how many more distinct ones
    there were (counted on a mark per vertex, so a hub's million ends are never sorted;
    ``seen`` is marked with all of them then)."""
    if room is not None and len(other) > 4 * max(room, 1):
        before = int(np.count_nonzero(seen))
        seen[other] = True
        distinct = int(np.count_nonzero(seen)) - before
        seen[other] = False
        if distinct > room:
            chunk = 4 * max(room, 1)            # the first distinct ones lie in a prefix
            while True:
                found, first = np.unique(other[:chunk], return_index=True)
                if len(found) >= room or chunk >= len(other):
                    break
                chunk *= 4
            keep = np.sort(first)[:room]
            return other[keep], keep, distinct - room
    found, first = np.unique(other, return_index=True)
    first.sort()
    if room is not None and len(first) > room:
        return other[first[:room]], first[:room], len(first) - room
    return other[first], first, 0


def _edges_among(step: _Step, vertices: np.ndarray, start: int | None = None) -> np.ndarray:
    """Edges a step may cross between two of ``vertices``, each once, in edge order. A
    relationship with an ordinary end is read from that end, and the relationships between two
    hubs come from the graph's list of them: a hub's own entries are never read (``start`` is
    read whatever its size: it may lack the labels the others were walked by)."""
    g = step.g
    inside = np.zeros(g.vcount, dtype=bool)
    inside[vertices] = True
    vertices = np.asarray(vertices, dtype=np.int64)
    degree = np.asarray(g.offsets[vertices + 1], dtype=np.int64) - np.asarray(g.offsets[vertices], dtype=np.int64)
    read = vertices[(degree <= HUB) | (vertices == (-1 if start is None else start))]
    starts = np.asarray(g.offsets[read], dtype=np.int64)
    counts = np.asarray(g.offsets[read + 1], dtype=np.int64) - starts
    parts = []
    if len(read):
        _, pos = _Step._positions(read, starts, counts)
        pos = pos[inside[g.adj_vertex[pos]]]
        raw = np.asarray(g.adj_edge[pos], dtype=np.int64)
        parts.append(np.where(raw >= 0, raw, ~raw))
    hubs = np.asarray(g.hub_edges)
    if len(hubs):
        parts.append(hubs[inside[g.src[hubs]] & inside[g.dst[hubs]]])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    edge = np.unique(np.concatenate(parts))
    return edge[step.crossable(edge)]


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
    seen = [np.zeros(g.vcount, dtype=bool), np.zeros(g.vcount, dtype=bool)]     # a mark per vertex and side
    seen[0][source], seen[1][target] = True, True
    visited = 2
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
        mine, theirs = seen[side], seen[1 - side]
        new = np.unique(other)
        new = new[~mine[new]]
        mine[new] = True
        met = met or bool(theirs[new].any())
        visited += len(new)
        if visited > max_visit:
            raise GraphwatchError(f"the path search reached {max_visit:,} nodes before {max_hops} hops; "
                                  "choose relationship types (--types) or fewer hops")
        frontier[side] = new
        if not len(new):
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

    a_end, b_end = np.asarray(g.src)[edges].astype(np.int64), np.asarray(g.dst)[edges].astype(np.int64)
    vertices = np.unique(np.concatenate([a_end, b_end, [source, target]]))
    la, lb = np.searchsorted(vertices, a_end), np.searchsorted(vertices, b_end)
    small = ig.Graph(n=len(vertices), directed=True)
    small.add_edges(np.stack([la, lb], axis=1))        # numpy, no tuples: a hub crossed is a million edges
    mode = "out" if directed else "all"
    s, t = int(np.searchsorted(vertices, source)), int(np.searchsorted(vertices, target))
    if k is not None:
        found = [[int(edges[e]) for e in p] for p in small.get_k_shortest_paths(s, to=t, k=k, mode=mode, output="epath")]
        return [p for p in found if 0 < len(p) <= max_hops][:limit]
    vpaths = {tuple(p) for p in small.get_all_shortest_paths(s, to=t, mode=mode)}
    # the relationships between consecutive nodes of those paths (only these pairs: the crossed
    # edges can be millions)
    n = len(vertices)
    wanted = np.array(sorted({a * n + b for vp in vpaths for a, b in zip(vp, vp[1:])}), dtype=np.int64)
    between: dict[tuple[int, int], list[int]] = {}
    for x, y in ((la, lb), (lb, la)) if not directed else ((la, lb),):
        hit = np.flatnonzero(np.isin(x * n + y, wanted))
        for i in hit.tolist():
            pair = (int(x[i]), int(y[i]))
            if directed or x[i] != y[i] or (x is la):
                between.setdefault(pair, []).append(int(edges[i]))
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
            found.append(np.where(raw >= 0, raw, ~raw)[mask[g.adj_type[a + hit]]])
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
    other = np.asarray(g.adj_vertex[a:b], dtype=np.int64)
    other = other[g.type_mask(types)[g.adj_type[a:b]] & (other != vertex)]
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
