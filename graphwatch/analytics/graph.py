"""The workspace graph as arrays: dense vertex numbers, one adjacency index for both
directions, relationship types, dates and labels — what every analytic reads.

:func:`~.load.load_graph` reads a workspace (or a chosen part of it: labels, relationship
types, a date range) into a :class:`Graph`: vertex ``i`` is the workspace node ``nid[i]``
(vertices in node id order), edge ``j`` the relationship ``rid[j]`` from ``src[j]`` to
``dst[j]``. The adjacency index (CSR) holds every edge twice, once from each end, with a flag
saying which way it points and the edge's type, so directed and undirected walks read the same
arrays and the relationship behind every step is known at no cost. It is laid out from the
workspace's own adjacency index without sorting the relationships again, and cached in the
workspace (:mod:`.load`).

igraph is used where it is strong — components, Leiden, centralities, k shortest paths —
on the (small or projected) graphs :func:`to_igraph` builds from these arrays; a bounded walk
from one entity never touches the rest of the graph (:mod:`.traverse`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..exc import GraphwatchError
from .csr import build_csr  # noqa: F401  (part of this module's API: community imports it from here)

#: entries above which a vertex is a hub (a village, a benefit programme): read as one slice,
#: and never read just to find the relationships among a few vertices
HUB = 4096
NO_DATE_FROM = np.iinfo(np.int32).min     # an open start: valid since ever
NO_DATE_TO = np.iinfo(np.int32).max       # an open end: still valid


@dataclass
class Graph:
    """A property graph as arrays (see the module's description).

    Attributes
    ----------
    nid : int64[V]            workspace node id of each vertex
    label_bits : uint64[V]    bit ``k`` set when the vertex has ``labels[k]``
    rid, src, dst : [E]        workspace relationship id and its dense ends
    etype : int16[E]          index into ``types``
    valid_from, valid_to : int32[E]  days since 1970-01-01 (open ends as the int32 extremes)
    offsets : int64[V+1]      CSR over both directions: vertex ``v``'s entries are
                              ``offsets[v]:offsets[v+1]``
    adj_vertex : int32[2E]    the vertex at the other end of each entry
    adj_edge : int32[2E]      the edge of each entry, ``~edge`` (negative) when the edge points
                              *into* ``v`` (so an outgoing walk keeps entries >= 0)
    adj_type : [2E]           the type of each entry's edge (``etype[edge]``, laid out with the entries)
    hub_edges : int64[*]      the edges joining two hubs (vertices of more than ``HUB`` entries):
                              the relationships among a set of vertices are read from their
                              ordinary ends, and these, never from a hub's million entries
    row : int32[V] or None    the row of each vertex in the key and name blobs (None: the vertex itself)
    nid_sorted : bool         ``nid`` is ascending (a workspace graph: vertices in node id order)
    borrowed : dict           arrays that are the workspace adjacency index's own files (name → file)
    names, keys : optional per-vertex text, for graphs not backed by a workspace
    key_offsets, key_bytes, name_offsets, name_bytes : every node's key and name as UTF-8 blobs
    workspace : the workspace folder the graph came from
    """

    nid: np.ndarray
    label_bits: np.ndarray
    labels: list[str]
    rid: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    etype: np.ndarray
    types: list[str]
    valid_from: np.ndarray
    valid_to: np.ndarray
    offsets: np.ndarray
    adj_vertex: np.ndarray
    adj_edge: np.ndarray
    key_offsets: np.ndarray | None = None
    key_bytes: np.ndarray | None = None
    name_offsets: np.ndarray | None = None
    name_bytes: np.ndarray | None = None
    workspace: Path | None = None
    names: list | None = None
    keys: list | None = None
    spec: dict = field(default_factory=dict)
    adj_type: np.ndarray | None = None
    hub_edges: np.ndarray | None = None
    row: np.ndarray | None = None
    nid_sorted: bool = False
    borrowed: dict = field(default_factory=dict)
    _index: dict | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.adj_type is None:      # the type of each adjacency entry, read in place of a gather per step
            raw = np.asarray(self.adj_edge)
            self.adj_type = np.asarray(self.etype)[np.where(raw >= 0, raw, ~raw)] if len(raw) else \
                np.zeros(0, dtype=np.int16)
        if self.hub_edges is None:
            big = np.diff(np.asarray(self.offsets)) > HUB
            self.hub_edges = (np.flatnonzero(big[self.src] & big[self.dst]) if big.any()
                              else np.zeros(0, dtype=np.int64))

    @property
    def vcount(self) -> int:
        return len(self.nid)

    @property
    def ecount(self) -> int:
        return len(self.rid)

    def __repr__(self) -> str:
        return f"<Graph {self.vcount:,} nodes, {self.ecount:,} relationships of {len(self.types)} types>"

    def vertex(self, nid: int) -> int:
        """The dense vertex of a workspace node id (``KeyError`` if the graph lacks it)."""
        if self.nid_sorted:
            at = int(np.searchsorted(self.nid, nid))
            if at < self.vcount and int(self.nid[at]) == int(nid):
                return at
            raise KeyError(nid)
        if self._index is None and self.vcount < 1_000_000:
            self._index = {int(n): i for i, n in enumerate(self.nid)}
        if self._index is not None:
            return self._index[int(nid)]
        hit = np.flatnonzero(self.nid == nid)     # large graphs: one vectorised scan, no dict of millions
        if not len(hit):
            raise KeyError(nid)
        return int(hit[0])

    def type_mask(self, types) -> np.ndarray:
        """A boolean per type code: the types asked for (all when ``types`` is empty).
        Unknown names are an error naming the types the graph has."""
        if not types:
            return np.ones(max(len(self.types), 1), dtype=bool)
        unknown = [t for t in types if t not in self.types]
        if unknown:
            from ..schema import did_you_mean

            raise GraphwatchError(f"no relationship type {unknown[0]!r} in this graph"
                                  f"{did_you_mean(unknown[0], self.types)}; it has {', '.join(self.types)}")
        mask = np.zeros(len(self.types), dtype=bool)
        mask[[self.types.index(t) for t in types]] = True
        return mask

    def label_mask(self, labels) -> np.uint64:
        """The label bits of ``labels`` (any of them matches); 0 = no filter."""
        bits = 0
        for lab in labels or ():
            if lab not in self.labels:
                from ..schema import did_you_mean

                raise GraphwatchError(f"no label {lab!r} in this graph{did_you_mean(lab, self.labels)}")
            bits |= 1 << self.labels.index(lab)
        return np.uint64(bits)

    def edge_filter(self, *, types=None, since=None, until=None) -> np.ndarray:
        """A boolean per edge: of the types, and valid at some time in ``[since, until]``."""
        keep = self.type_mask(types)[self.etype]
        if since is not None:
            keep &= self.valid_to >= _days(since)
        if until is not None:
            keep &= self.valid_from <= _days(until)
        return keep

    # -- presenting ---------------------------------------------------------------------
    def node_table(self, vertices, *, with_labels: bool = True):
        """``id`` (workspace nid), ``key``, ``label`` (the most specific), ``labels`` (left out
        unless ``with_labels``) and ``name`` of the given vertices, in their order."""
        import pandas as pd

        vertices = np.asarray(vertices, dtype=np.int64)
        # per distinct label set (a county has a few dozen), never one Python call per node: a
        # community table holds millions of nodes
        which, combos = pd.factorize(np.asarray(self.label_bits)[vertices])
        sets = [self._labels_of_bits(int(b)) for b in combos]
        primary = np.empty(len(sets), dtype=object)
        primary[:] = [primary_label(s) for s in sets]
        if self.key_offsets is not None:
            rows = vertices if self.row is None else np.asarray(self.row)[vertices]
            keys = self._texts(self.key_offsets, self.key_bytes, rows).to_pandas()
            names = self._texts(self.name_offsets, self.name_bytes, rows).to_numpy(zero_copy_only=False)
            names[names == ""] = None
        else:
            keys = [self.keys[v] if self.keys else str(self.nid[v]) for v in vertices]
            names = [self.names[v] if self.names else None for v in vertices]
        out = {"id": np.asarray(self.nid)[vertices], "key": keys, "label": primary[which]}
        if with_labels:
            out["labels"] = [list(sets[i]) for i in which.tolist()]
        out["name"] = pd.Series(names, dtype=object)
        return pd.DataFrame(out)

    @staticmethod
    def _texts(offsets, blob, vertices: np.ndarray):
        """The UTF-8 texts of ``vertices`` (an Arrow array) from an offsets + bytes blob, read
        by Arrow without copying the blob."""
        import pyarrow as pa

        whole = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(np.ascontiguousarray(offsets)),
                                                 pa.py_buffer(np.ascontiguousarray(blob)))
        return whole.take(pa.array(vertices))

    def _labels_of_bits(self, bits: int) -> list[str]:
        return [lab for k, lab in enumerate(self.labels) if bits >> k & 1]


#: the label shown for a node with several: the most specific one first
LABEL_ORDER = ("VillageCadre", "Official", "Person", "Company", "Organisation", "Village", "Township", "County",
               "Household", "Project", "Tender", "Contract", "Programme", "Benefit", "DeathRecord", "Disability",
               "RealEstate", "Vehicle", "PoliceCase")


def primary_label(labels) -> str | None:
    """The most specific label of a node (an official is shown as an official, not a person).

    >>> primary_label(["Official", "Person"]), primary_label(["Person"]), primary_label([])
    ('Official', 'Person', None)
    """
    labels = list(labels or [])
    for lab in LABEL_ORDER:
        if lab in labels:
            return lab
    return sorted(labels)[0] if labels else None


def _days(value) -> int:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - dt.date(1970, 1, 1)).days


def from_edges(edges, *, directed_types=None, names=None, labels=None, types=None) -> Graph:
    """A graph not backed by a workspace, from ``(a, b)`` or ``(a, b, type)`` tuples of
    hashable node names — for tests, notebooks and public reference graphs.

    ``labels`` maps a node name to its labels; every node gets ``Node`` otherwise.

    >>> g = from_edges([("a", "b"), ("b", "c", "KNOWS")])
    >>> g, g.types, g.node_table([2])["key"].tolist()
    (<Graph 3 nodes, 2 relationships of 2 types>, ['KNOWS', 'RELATED'], ['c'])
    """
    order: dict = {}
    for e in edges:
        order.setdefault(e[0], len(order))
        order.setdefault(e[1], len(order))
    for name in names or ():
        order.setdefault(name, len(order))
    kinds = sorted({e[2] if len(e) > 2 else "RELATED" for e in edges} | set(types or ()))
    all_labels = sorted({lab for ls in (labels or {}).values() for lab in ls} | {"Node"})
    n = len(order)
    bits = np.zeros(n, dtype=np.uint64)
    for name, v in order.items():
        for lab in (labels or {}).get(name, ["Node"]):
            bits[v] |= np.uint64(1 << all_labels.index(lab))
    src = np.array([order[e[0]] for e in edges], dtype=np.int32)
    dst = np.array([order[e[1]] for e in edges], dtype=np.int32)
    etype = np.array([kinds.index(e[2] if len(e) > 2 else "RELATED") for e in edges], dtype=np.int16)
    offsets, adj_vertex, adj_edge = build_csr(n, src, dst)
    m = len(src)
    return Graph(nid=np.arange(n, dtype=np.int64), label_bits=bits, labels=all_labels,
                 rid=np.arange(m, dtype=np.int64), src=src, dst=dst, etype=etype, types=kinds,
                 valid_from=np.full(m, NO_DATE_FROM, dtype=np.int32), valid_to=np.full(m, NO_DATE_TO, dtype=np.int32),
                 offsets=offsets, adj_vertex=adj_vertex, adj_edge=adj_edge,
                 names=[str(k) for k in order], keys=[str(k) for k in order])


def from_networkx(graph, *, type_attr: str = "type", label_attr: str | None = None) -> Graph:
    """A :class:`Graph` of a networkx graph (node names become keys and names).

    >>> import networkx as nx
    >>> from_networkx(nx.florentine_families_graph())
    <Graph 15 nodes, 20 relationships of 1 types>
    """
    labels = None
    if label_attr:
        labels = {n: [str(d[label_attr])] for n, d in graph.nodes(data=True) if label_attr in d}
    edges = [(a, b, str(d.get(type_attr, "RELATED"))) for a, b, d in graph.edges(data=True)]
    return from_edges(edges, names=list(graph.nodes), labels=labels)


def to_igraph(g: Graph, *, types=None, labels=None, since=None, until=None, directed: bool = False,
              keep_isolated: bool = False):
    """An igraph graph of the chosen projection: edges of ``types`` valid in the date range
    between nodes with ``labels``; vertices without a chosen edge are left out unless
    ``keep_isolated``. The graph attributes ``v`` and ``e`` (numpy arrays) give the dense
    vertex of ``g`` behind each igraph vertex and the edge of ``g`` behind each igraph edge
    (``graph["v"][i]`` for vertex ``i``): per-element attributes would cost a Python object per
    vertex and edge, seconds on a county's millions.

    >>> import networkx as nx
    >>> ig_graph = to_igraph(from_networkx(nx.karate_club_graph()))
    >>> ig_graph.vcount(), ig_graph.ecount(), ig_graph["v"][:3].tolist(), ig_graph["e"][-1].item()
    (34, 78, [0, 1, 2], 77)
    """
    import igraph as ig

    keep = g.edge_filter(types=types, since=since, until=until)
    want = g.label_mask(labels)
    if want:
        ok = (g.label_bits & want) != 0
        keep &= ok[g.src] & ok[g.dst]
    edges = np.flatnonzero(keep)
    if keep_isolated:
        vertices = np.arange(g.vcount) if not want else np.flatnonzero((g.label_bits & want) != 0)
    else:
        ends = np.zeros(g.vcount, dtype=bool)      # a mark per vertex: linear, where np.unique sorts
        ends[g.src[edges]] = True
        ends[g.dst[edges]] = True
        vertices = np.flatnonzero(ends)
    local = np.full(g.vcount, -1, dtype=np.int64)
    local[vertices] = np.arange(len(vertices))
    pairs = np.empty((len(edges), 2), dtype=np.int64)
    pairs[:, 0] = local[np.asarray(g.src)[edges]]
    pairs[:, 1] = local[np.asarray(g.dst)[edges]]
    out = ig.Graph(n=len(vertices), directed=directed)
    out.add_edges(pairs)        # from a numpy array: no Python tuples; half the constructor's time (igraph 1.0)
    out["v"], out["e"] = vertices.astype(np.int64, copy=False), edges.astype(np.int64, copy=False)
    return out
