"""The workspace graph as arrays: dense vertex numbers, one adjacency index for both
directions, relationship types, dates and labels — what every analytic reads.

:func:`load_graph` reads a workspace (or a chosen part of it: labels, relationship types,
a date range) into a :class:`Graph`: vertex ``i`` is the workspace node ``nid[i]``, edge
``j`` the relationship ``rid[j]`` from ``src[j]`` to ``dst[j]``. The adjacency index (CSR)
holds every edge twice, once from each end, with a flag saying which way it points, so
directed and undirected walks read the same arrays and the relationship behind every step
is known at no cost. Building it costs one pass of DuckDB (dense ids by a hash join) and two
16-bit radix passes of numpy (no comparison sort); the arrays are kept in
``<workspace>/.cache/analytics/`` and memory-mapped by the next process. The cache is keyed
by a fingerprint that every load, reload and resolve changes (the load report, the resolve
runs, and an XOR over every node and relationship id and end), so a stale graph is never read.

igraph is used where it is strong — components, Leiden, centralities, k shortest paths —
on the (small or projected) graphs :func:`to_igraph` builds from these arrays; a bounded walk
from one entity never touches the rest of the graph (:mod:`.traverse`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..exc import GraphwatchError
from .csr import build_csr  # noqa: F401  (part of this module's API: community imports it from here)

CACHE_DIR = Path(".cache") / "analytics"
CACHE_FORMAT = 1
NO_DATE_FROM = np.iinfo(np.int32).min     # an open start: valid since ever
NO_DATE_TO = np.iinfo(np.int32).max       # an open end: still valid
_ARRAYS = ("nid", "label_bits", "rid", "src", "dst", "etype", "valid_from", "valid_to", "offsets", "adj_vertex",
           "adj_edge", "key_offsets", "key_bytes", "name_offsets", "name_bytes")


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
    _index: dict | None = field(default=None, repr=False)

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
            keys = self._texts(self.key_offsets, self.key_bytes, vertices).to_pandas()
            names = self._texts(self.name_offsets, self.name_bytes, vertices).to_numpy(zero_copy_only=False)
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


# -- building ------------------------------------------------------------------------------
def fingerprint(con) -> str:
    """What every load, reload and resolve changes: the load report, the resolve runs, and an
    XOR over every node id and every relationship's id and ends (a resolve moves ends)."""
    parts = [con.execute("SELECT dataset, sha256, CAST(loaded_at AS VARCHAR), nodes, rels FROM load_report "
                         "ORDER BY dataset").fetchall()]
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'er_run' AND schema_name = 'main'"
                   ).fetchone()[0]:
        parts.append(con.execute("SELECT CAST(ran_at AS VARCHAR), applied FROM er_run ORDER BY ran_at").fetchall())
    parts.append(con.execute("SELECT count(*), bit_xor(nid) FROM node").fetchone())
    parts.append(con.execute("SELECT count(*), bit_xor(xor(xor(rid, src >> 1), dst >> 2)) FROM rel").fetchone())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def load_graph(workspace, *, labels=None, types=None, since=None, until=None, cache: bool = True) -> Graph:
    """The workspace's graph, or the part of it asked for, as a :class:`Graph`.

    Parameters
    ----------
    workspace : path of a workspace folder (opened read-only)
    labels : keep only nodes with one of these labels (and relationships between them)
    types : keep only relationships of these types (nodes stay, so ids never disappear)
    since, until : keep only relationships valid at some time in this range (dates or ISO text;
        a relationship with no dates is always valid)
    cache : read and write the arrays under ``<workspace>/.cache/analytics`` (memory-mapped)

    Examples
    --------
    >>> import tempfile
    >>> from graphwatch.store import Workspace
    >>> from graphwatch.fixtures import write_graph
    >>> folder = tempfile.mkdtemp()
    >>> with Workspace(folder, create=True) as ws:
    ...     write_graph(ws, [{"key": "Person:a", "labels": ["Person"], "name": "张三"},
    ...                      {"key": "Company:c", "labels": ["Company"], "name": "某某公司"}],
    ...                 [["Person:a", "LEGAL_REP_OF", "Company:c"]])
    >>> g = load_graph(folder)
    >>> g
    <Graph 2 nodes, 1 relationships of 1 types>
    >>> sorted(g.node_table([0, 1])[["key", "label", "name"]].values.tolist())
    [['Company:c', 'Company', '某某公司'], ['Person:a', 'Person', '张三']]
    >>> bool((load_graph(folder).rid == g.rid).all())   # the second time from the cache
    True
    """
    from ..store import Workspace

    spec = {"labels": sorted(labels or []), "types": sorted(types or []),
            "since": str(since) if since else None, "until": str(until) if until else None}
    folder = Path(workspace)
    with Workspace(folder, read_only=True) as ws:
        con = ws.con
        fp = fingerprint(con)
        tag = hashlib.sha256(json.dumps([CACHE_FORMAT, fp, spec]).encode()).hexdigest()[:16]
        where = folder / CACHE_DIR / tag
        if cache and (where / "meta.json").exists():
            return _read(where, folder, spec)
        g = _build(con, spec)
    g.workspace = folder
    if cache:
        _write(g, where, folder / CACHE_DIR)
    return g


def _build(con, spec: dict) -> Graph:
    import pyarrow as pa
    import pyarrow.compute as pc

    params: dict = {}
    node_where = "true"
    if spec["labels"]:
        node_where = "list_has_any(labels, $want)"
        params["want"] = spec["labels"]
    has_name = bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'node' "
                                "AND column_name = 'name'").fetchone()[0])
    # one scan: the dense number of a node is its row in this result
    with warnings.catch_warnings():      # "an extra copy": still far cheaper than Python strings
        warnings.simplefilter("ignore", UserWarning)
        nodes = con.execute(f"""SELECT nid, key, {'name' if has_name else 'NULL::VARCHAR'} AS name,
            array_to_string(list_sort(labels), ',') AS labels FROM node WHERE {node_where}""",
                            params).to_arrow_table()
    nid = nodes["nid"].to_numpy().astype(np.int64)
    combos = pc.dictionary_encode(nodes["labels"].combine_chunks())
    names_of_combo = [str(x).split(",") if x else [] for x in combos.dictionary.to_pylist()]
    labels = sorted({lab for combo in names_of_combo for lab in combo})
    if len(labels) > 64:
        raise GraphwatchError(f"the workspace has {len(labels)} labels; the analytics graph holds at most 64")
    combo_bits = np.array([sum(1 << labels.index(lab) for lab in combo) for combo in names_of_combo] or [0],
                          dtype=np.uint64)
    label_bits = combo_bits[combos.indices.to_numpy(zero_copy_only=False)]
    dense = pa.table({"nid": nid, "i": np.arange(len(nid), dtype=np.int32)})
    con.register("_gw_dense", dense)
    types = [r[0] for r in con.execute("SELECT DISTINCT type FROM rel ORDER BY type").fetchall()]
    where, p = ["true"], {"types": types}
    if spec["types"]:
        where.append("r.type IN (SELECT unnest($want_types))")
        p["want_types"] = spec["types"]
    if spec["since"]:
        where.append("coalesce(r.valid_to, DATE '9999-12-31') >= CAST($since AS DATE)")
        p["since"] = spec["since"]
    if spec["until"]:
        where.append("coalesce(r.valid_from, DATE '0001-01-01') <= CAST($until AS DATE)")
        p["until"] = spec["until"]
    edges = con.execute(f"""SELECT r.rid, a.i AS s, b.i AS d, (list_position($types, r.type) - 1)::SMALLINT AS t,
            coalesce(CAST(r.valid_from - DATE '1970-01-01' AS INTEGER), {int(NO_DATE_FROM)}) AS vf,
            coalesce(CAST(r.valid_to - DATE '1970-01-01' AS INTEGER), {int(NO_DATE_TO)}) AS vt
        FROM rel r JOIN _gw_dense a ON a.nid = r.src JOIN _gw_dense b ON b.nid = r.dst
        WHERE {' AND '.join(where)}""", p).fetchnumpy()
    con.unregister("_gw_dense")
    def column(name, dtype):          # DuckDB's numpy arrays already have these types: no copy
        return np.asarray(edges.pop(name), dtype=dtype)

    src, dst = column("s", np.int32), column("d", np.int32)
    rid, etype, valid_from, valid_to = (column("rid", np.int64), column("t", np.int16), column("vf", np.int32),
                                        column("vt", np.int32))
    offsets, adj_vertex, adj_edge = build_csr(len(nid), src, dst)
    key_offsets, key_bytes = _blob(nodes["key"])
    name_offsets, name_bytes = _blob(nodes["name"])
    return Graph(nid=nid, label_bits=label_bits, labels=labels, rid=rid, src=src, dst=dst,
                 etype=etype, types=types, valid_from=valid_from,
                 valid_to=valid_to, offsets=offsets, adj_vertex=adj_vertex, adj_edge=adj_edge,
                 key_offsets=key_offsets, key_bytes=key_bytes, name_offsets=name_offsets, name_bytes=name_bytes,
                 spec=spec)


def _blob(column) -> tuple[np.ndarray, np.ndarray]:
    """A text column as (offsets int64[n+1], UTF-8 bytes): Arrow's own layout, so no string is
    made in Python; a missing value is empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.fill_null(column.combine_chunks().cast(pa.large_string()), "")
    arr = pa.concat_arrays([arr]) if arr.offset else arr
    _, off, data = arr.buffers()
    offsets = np.frombuffer(off, dtype=np.int64, count=len(arr) + 1).copy()
    blob = np.frombuffer(data, dtype=np.uint8).copy() if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets, blob


def _write(g: Graph, where: Path, root: Path) -> None:
    """Write the arrays to a fresh folder and rename it into place (readers never see half a
    graph); older graphs of the workspace are removed (they belong to a graph that changed)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{where.name}.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(g, name))
        (tmp / "meta.json").write_text(json.dumps({"labels": g.labels, "types": g.types, "spec": g.spec,
                                                   "fingerprint": where.name}, ensure_ascii=False))
        if where.exists():
            shutil.rmtree(tmp, ignore_errors=True)
            return
        tmp.rename(where)
        for other in root.iterdir():     # the same part of an older graph: never read again
            meta = other / "meta.json"
            if other != where and meta.exists() and json.loads(meta.read_text()).get("spec") == g.spec:
                shutil.rmtree(other, ignore_errors=True)
    except OSError:
        return      # a read-only workspace folder: the graph is still returned, just not kept


def _read(where: Path, folder: Path, spec: dict) -> Graph:
    meta = json.loads((where / "meta.json").read_text())
    arrays = {name: np.load(where / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    return Graph(**arrays, labels=meta["labels"], types=meta["types"], workspace=folder, spec=spec)


def clear_cache(workspace) -> int:
    """Remove every cached graph of a workspace; returns how many there were."""
    root = Path(workspace) / CACHE_DIR
    found = [d for d in root.iterdir() if d.is_dir()] if root.exists() else []
    for d in found:
        shutil.rmtree(d, ignore_errors=True)
    return len(found)


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
    pairs = np.stack([local[g.src[edges]], local[g.dst[edges]]], axis=1)
    out = ig.Graph(n=len(vertices), edges=pairs, directed=directed)      # a numpy array: no Python tuples
    out["v"], out["e"] = vertices.astype(np.int64, copy=False), edges.astype(np.int64, copy=False)
    return out
