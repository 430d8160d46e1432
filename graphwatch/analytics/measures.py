"""Who sits at the centre: degree, betweenness, PageRank and triangles per node of a projection.

Degree counts relationships (two relationships to the same company count twice: a person who
is both legal representative and shareholder); the other measures read the simple graph
(one tie per pair of nodes), as the published figures for the reference graphs do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exc import GraphwatchError
from .graph import Graph, to_igraph

MEASURES = ("degree", "neighbours", "betweenness", "pagerank", "triangles")


def centrality(g: Graph, *, types=None, labels=None, since=None, until=None,
               measures=("degree", "betweenness", "pagerank", "triangles"), directed: bool = False,
               normalized: bool = True, cutoff: int | None = None, damping: float = 0.85,
               top: int | None = None) -> pd.DataFrame:
    """Centrality of every node of the projection, the most central first.

    Parameters
    ----------
    g : the graph
    types, labels, since, until : the projection (relationship types, node labels, date range)
    measures : any of ``degree`` (relationships), ``neighbours`` (distinct adjacent nodes),
        ``betweenness``, ``pagerank``, ``triangles``; rows are ordered by the first
    directed : betweenness and PageRank follow relationship directions
    normalized : betweenness as a fraction of the pairs of other nodes (networkx's convention)
    cutoff : betweenness over paths of at most this many hops only (what makes it affordable on
        a county-sized projection; ``None`` is exact)
    damping : PageRank's damping factor
    top : only the first ``top`` rows

    Returns
    -------
    DataFrame with ``id``, ``key``, ``label``, ``name`` and one column per measure.

    Examples
    --------
    The Medici's brokerage among the Florentine families (Padgett), as networkx has it:

    >>> import networkx as nx
    >>> from graphwatch.analytics.graph import from_networkx
    >>> df = centrality(from_networkx(nx.florentine_families_graph()), measures=["betweenness", "degree"])
    >>> df[["key", "betweenness", "degree"]].head(3).round(3).values.tolist()
    [['Medici', 0.522, 6], ['Guadagni', 0.255, 4], ['Albizzi', 0.212, 3]]
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise GraphwatchError(f"unknown measure {unknown[0] if unknown else '(none)'}; choose from {', '.join(MEASURES)}")
    multi = to_igraph(g, types=types, labels=labels, since=since, until=until, directed=directed)
    simple = multi.copy()
    simple.simplify(multiple=True, loops=True)
    n = multi.vcount()
    values: dict[str, np.ndarray] = {}
    for m in measures:
        if m == "degree":
            values[m] = np.asarray(multi.degree(mode="all", loops=False) if n else [], dtype=np.int64)
        elif m == "neighbours":
            values[m] = np.asarray(simple.as_undirected().simplify().degree() if n else [], dtype=np.int64)
        elif m == "betweenness":
            b = np.asarray(simple.betweenness(directed=directed, cutoff=cutoff) if n else [], dtype=float)
            if normalized and n > 2:
                b = b * ((1.0 if directed else 2.0) / ((n - 1) * (n - 2)))
            values[m] = b
        elif m == "pagerank":
            values[m] = np.asarray(simple.pagerank(directed=directed, damping=damping) if n else [], dtype=float)
        elif m == "triangles":
            values[m] = triangle_counts(simple)
    vertices = multi["v"]
    first = values[measures[0]]
    nids = g.nid[vertices]
    order = np.lexsort((nids, -first))
    if top is not None:
        order = order[:top]
    info = g.node_table(vertices[order], with_labels=False).reset_index(drop=True)
    for m in measures:
        info[m] = values[m][order]
    return info


def triangle_counts(graph) -> np.ndarray:
    """Triangles through each vertex of an igraph graph (directions and repeated ties ignored).

    >>> import igraph as ig
    >>> triangle_counts(ig.Graph.Full(4)).tolist()
    [3, 3, 3, 3]
    """
    simple = graph.as_undirected()
    simple.simplify()
    counts = np.zeros(simple.vcount(), dtype=np.int64)
    tri = simple.list_triangles()
    if tri:
        np.add.at(counts, np.asarray(tri).ravel(), 1)
    return counts
