"""Groups of entities: connected components, Leiden communities and one-mode projections.

Each works on a *projection* of the graph — the relationship types, labels and date range
asked for — so a co-offending ring is read from police cases alone and a company cluster from
legal representatives and shareholders alone, not from the whole county.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np
import pandas as pd

from .graph import NO_DATE_FROM, NO_DATE_TO, Graph, build_csr, to_igraph


def components(g: Graph, *, types=None, labels=None, since=None, until=None, min_size: int = 2) -> pd.DataFrame:
    """Connected components of the projection (relationships taken both ways).

    Returns
    -------
    DataFrame, one row per node in a component of at least ``min_size`` nodes: ``component``
    (1 = the largest; ties by smallest node id), ``size``, then ``id``, ``key``, ``label``,
    ``name``; ordered by component and node id.

    Examples
    --------
    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("a", "b", "SHAREHOLDER_OF"), ("b", "c", "LEGAL_REP_OF"),
    ...                 ("x", "y", "SHAREHOLDER_OF"), ("c", "x", "SPOUSE_OF")])
    >>> components(g, types=["SHAREHOLDER_OF", "LEGAL_REP_OF"])[["component", "size", "key"]].values.tolist()
    [[1, 3, 'a'], [1, 3, 'b'], [1, 3, 'c'], [2, 2, 'x'], [2, 2, 'y']]
    """
    small = to_igraph(g, types=types, labels=labels, since=since, until=until)
    membership = np.asarray(small.connected_components(mode="weak").membership, dtype=np.int64)
    return _groups(g, small, membership, min_size=min_size, column="component")


def communities(g: Graph, *, types=None, labels=None, since=None, until=None, seed: int = 0,
                resolution: float = 1.0, iterations: int = -1, min_size: int = 2) -> pd.DataFrame:
    """Leiden communities (modularity) of the projection, reproducible with ``seed``.

    Parameters
    ----------
    resolution : higher gives more, smaller communities
    iterations : Leiden passes; -1 runs until no node moves
    seed : the random seed; the same seed on the same graph gives the same communities

    Components too small to split with gain are taken whole, without running Leiden on them
    (exact: see :func:`leiden`).

    Returns
    -------
    DataFrame, one row per node of a community of at least ``min_size`` nodes: ``community``
    (1 = the largest), ``size``, ``id``, ``key``, ``label``, ``name``; ``attrs["modularity"]`` is
    the modularity of the whole partition.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphwatch.analytics.graph import from_networkx
    >>> df = communities(from_networkx(nx.karate_club_graph()), seed=1)
    >>> df["community"].nunique(), round(df.attrs["modularity"], 3)
    (4, 0.42)
    """
    small = to_igraph(g, types=types, labels=labels, since=since, until=until)
    membership = leiden(small, seed=seed, resolution=resolution, iterations=iterations)
    df = _groups(g, small, membership, min_size=min_size, column="community")
    df.attrs["modularity"] = small.modularity(membership.tolist(), resolution=resolution) if small.ecount() else 0.0
    return df


def leiden(small, *, seed: int = 0, resolution: float = 1.0, iterations: int = -1) -> np.ndarray:
    """The membership of each vertex of the igraph graph ``small`` in the Leiden communities
    of its modularity, with Leiden run only where it can change the answer.

    A connected component whose degrees add up to ``K`` with ``resolution · K² < 8m`` (``m``
    the relationships of the whole graph) is one community in every partition of maximal
    modularity: any split of it has two parts ``A`` and ``B`` joined by a relationship, and
    merging them changes modularity by ``e_AB/m − resolution · K_A · K_B / 2m²``, which is
    positive since ``K_A · K_B ≤ K²/4``. A county's kinship and company projection is a
    million such components of a few dozen nodes (they are its communities); Leiden runs on
    the other components only, optimising the same quality — CPM with the degrees as node
    weights and resolution ``resolution / 2m`` is the whole graph's modularity, times ``2m``,
    on those components.

    >>> import igraph as ig
    >>> two_triangles = ig.Graph([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
    >>> leiden(two_triangles).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    n, m = small.vcount(), small.ecount()
    if not m:
        return np.arange(n, dtype=np.int64)
    component = np.asarray(small.connected_components(mode="weak").membership, dtype=np.int64)
    degree = np.asarray(small.degree(), dtype=np.float64)
    total = np.bincount(component, weights=degree)
    rest = np.flatnonzero(resolution * total[component] ** 2 >= 8.0 * m)
    membership = component.copy()
    if len(rest):
        sub = small if len(rest) == n else small.induced_subgraph(rest.tolist())
        with seeded(seed):
            part = sub.community_leiden(objective_function="CPM", node_weights=degree[rest].tolist(),
                                        resolution=resolution / (2.0 * m), n_iterations=iterations)
        membership[rest] = component.max() + 1 + np.asarray(part.membership, dtype=np.int64)
    return np.unique(membership, return_inverse=True)[1].astype(np.int64)


@contextmanager
def seeded(seed: int):
    """igraph's random numbers from ``random.Random(seed)`` for the duration (igraph draws from
    Python's ``random`` module by default, which anything else may also advance)."""
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def _groups(g: Graph, small, membership: np.ndarray, *, min_size: int, column: str) -> pd.DataFrame:
    cols = [column, "size", "id", "key", "label", "name"]
    vertices = small["v"]
    if not len(vertices):
        return pd.DataFrame({c: [] for c in cols})
    sizes = np.bincount(membership)
    nids = g.nid[vertices]
    # number groups by size (largest first), ties by their smallest node id: stable across runs
    smallest = np.full(len(sizes), np.iinfo(np.int64).max)
    np.minimum.at(smallest, membership, nids)
    rank_of = np.empty(len(sizes), dtype=np.int64)
    rank_of[np.lexsort((smallest, -sizes))] = np.arange(1, len(sizes) + 1)
    keep = sizes[membership] >= min_size
    vertices, membership, nids = vertices[keep], membership[keep], nids[keep]
    order = np.lexsort((nids, rank_of[membership]))
    vertices, membership = vertices[order], membership[order]
    info = g.node_table(vertices, with_labels=False)
    out = pd.DataFrame({column: rank_of[membership], "size": sizes[membership]})
    return pd.concat([out, info[["id", "key", "label", "name"]].reset_index(drop=True)], axis=1)


def project(g: Graph, *, keep, via, types=None, since=None, until=None) -> Graph:
    """The one-mode projection: nodes with a ``keep`` label, joined once for every ``via`` node
    they share (persons sharing a police case; companies sharing a principal).

    An edge of the projection has the type ``SHARED_<via label>`` and no workspace id (-1):
    the degree of a node counts shared ``via`` nodes, its distinct neighbours the others it
    shares them with.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphwatch.analytics.graph import from_networkx
    >>> davis = from_networkx(nx.davis_southern_women_graph(), label_attr="bipartite")
    >>> women = project(davis, keep=["0"], via=["1"])
    >>> women
    <Graph 18 nodes, 322 relationships of 1 types>
    """
    keep_bits, via_bits = g.label_mask(keep), g.label_mask(via)
    usable = g.edge_filter(types=types, since=since, until=until)
    is_keep = (g.label_bits & keep_bits) != 0
    is_via = (g.label_bits & via_bits) != 0
    edges = np.flatnonzero(usable & ((is_keep[g.src] & is_via[g.dst]) | (is_via[g.src] & is_keep[g.dst])))
    member = np.where(is_keep[g.src[edges]], g.src[edges], g.dst[edges])
    hub = np.where(is_keep[g.src[edges]], g.dst[edges], g.src[edges])
    pairs = set()
    order = np.lexsort((member, hub))
    member, hub = member[order], hub[order]
    bounds = np.flatnonzero(np.diff(hub)) + 1
    for group, h in zip(np.split(member, bounds), np.split(hub, bounds)):
        group = np.unique(group)
        if not len(h):
            continue
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                pairs.add((int(group[i]), int(group[j]), int(h[0])))
    vertices = np.flatnonzero(is_keep)
    local = np.full(g.vcount, -1, dtype=np.int64)
    local[vertices] = np.arange(len(vertices))
    triples = sorted(pairs)
    src = np.array([local[a] for a, _, _ in triples], dtype=np.int32)
    dst = np.array([local[b] for _, b, _ in triples], dtype=np.int32)
    offsets, adj_vertex, adj_edge = build_csr(len(vertices), src, dst)
    m = len(triples)
    name = "SHARED_" + "_".join(via)
    return Graph(nid=g.nid[vertices], label_bits=g.label_bits[vertices], labels=g.labels,
                 rid=np.full(m, -1, dtype=np.int64), src=src, dst=dst, etype=np.zeros(m, dtype=np.int16),
                 types=[name], valid_from=np.full(m, NO_DATE_FROM, dtype=np.int32),
                 valid_to=np.full(m, NO_DATE_TO, dtype=np.int32), offsets=offsets, adj_vertex=adj_vertex,
                 adj_edge=adj_edge, workspace=g.workspace,
                 names=[g.names[v] for v in vertices] if g.names else None,
                 keys=[g.keys[v] for v in vertices] if g.keys else None,
                 spec={"projection": {"keep": list(keep), "via": list(via), "types": list(types or [])}})
