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
    with seeded(seed):
        part = small.community_leiden(objective_function="modularity", resolution=resolution,
                                      n_iterations=iterations)
    membership = np.asarray(part.membership, dtype=np.int64)
    df = _groups(g, small, membership, min_size=min_size, column="community")
    df.attrs["modularity"] = small.modularity(part.membership, resolution=resolution) if small.ecount() else 0.0
    return df


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
    vertices = np.asarray(small.vs["v"], dtype=np.int64) if small.vcount() else np.zeros(0, dtype=np.int64)
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
    info = g.node_table(vertices)
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
