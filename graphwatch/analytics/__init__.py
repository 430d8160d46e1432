"""Graph analytics on the workspace: paths between entities, neighbourhoods, components,
Leiden communities and centralities (numpy adjacency arrays for walks, igraph for the rest).

Every function takes the graph first and its options as keywords, and returns a pandas
DataFrame whose ``id`` columns are workspace node ids::

    from graphwatch.analytics import load_graph, find_entity, paths
    g = load_graph("ws")                                   # cached under ws/.cache/analytics
    a, b = find_entity(g, "张建国"), find_entity(g, "91140105MA0ABC1234")
    paths(g, a, b, max_hops=4, types=["SPOUSE_OF", "LEGAL_REP_OF"], k=5)
"""

from .centrality import centrality, triangle_counts
from .community import communities, components, project
from .entities import AmbiguousEntity, find_entity
from .graph import Graph, clear_cache, from_edges, from_networkx, load_graph, to_igraph
from .traverse import neighbours, paths, relationships

__all__ = ["Graph", "load_graph", "clear_cache", "from_edges", "from_networkx", "to_igraph", "find_entity",
           "AmbiguousEntity", "neighbours", "paths", "relationships", "components", "communities", "project",
           "centrality", "triangle_counts"]
