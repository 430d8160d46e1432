"""Graph analytics on the workspace: paths between entities, neighbourhoods, components,
Leiden communities and centralities (numpy adjacency arrays for walks, igraph for the rest).

Every function takes the graph first and its options as keywords, and returns a pandas
DataFrame whose ``id`` columns are workspace node ids::

    from graphwatch.analytics import load_graph, find_entity, paths
    g = load_graph("ws")                                   # cached under ws/.cache/analytics
    a, b = find_entity(g, "张建国"), find_entity(g, "91140105MA0ABC1234")
    paths(g, a, b, max_hops=4, types=["SPOUSE_OF", "LEGAL_REP_OF"], k=5)
"""

from __future__ import annotations

import importlib

# the names below, imported on first use: 'graphwatch export' draws with primary_label and
# need not pay for pandas and the algorithms it does not run
_WHERE = {"centrality": "measures", "triangle_counts": "measures", "communities": "community",
          "components": "community", "project": "community", "AmbiguousEntity": "entities",
          "find_entity": "entities", "Graph": "graph", "clear_cache": "load", "from_edges": "graph",
          "from_networkx": "graph", "load_graph": "load", "to_igraph": "graph", "neighbours": "traverse",
          "paths": "traverse", "relationships": "traverse"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
