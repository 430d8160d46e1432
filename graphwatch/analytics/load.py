"""Reading a workspace into a :class:`~.graph.Graph`, and keeping it in the workspace.

The whole graph is laid out from the workspace's adjacency index (``<workspace>/adjacency``,
built by every load inside its transaction: the relationships already sorted by node, see
:mod:`graphwatch.adjacency`) in linear passes — offsets, ``np.repeat`` of them, scatters — and
one DuckDB scan of the nodes; a part of it (labels, relationship types, a date range) is cut
from the whole graph, again linearly. A workspace without an index (a read-only folder that
never had one) is read from its tables and sorted (:func:`.csr.build_csr`). The arrays are
kept in ``<workspace>/.cache/analytics/`` and memory-mapped by the next process; the cache is
keyed by a fingerprint that every load, reload and resolve changes, so a stale graph is never
read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ..exc import GraphwatchError
from .csr import build_csr, small_pages
from .graph import NO_DATE_FROM, NO_DATE_TO, Graph

CACHE_DIR = Path(".cache") / "analytics"
CACHE_FORMAT = 2          # 2: laid out from the adjacency index (vertices in node id order, adj_type, row)
_ARRAYS = ("nid", "label_bits", "rid", "src", "dst", "etype", "valid_from", "valid_to", "offsets", "adj_vertex",
           "adj_edge", "adj_type", "hub_edges", "key_offsets", "key_bytes", "name_offsets", "name_bytes")


def fingerprint(con) -> str:
    """What every load, reload and resolve changes: the load report, the resolve runs, an XOR
    over every node id, and the adjacency index's fingerprint of the relationships (ids, types,
    ends and dates: a resolve moves ends)."""
    from .. import adjacency

    return _fingerprint(con, adjacency.fingerprint(con))


def _fingerprint(con, rels: list[int]) -> str:
    parts = [con.execute("SELECT dataset, sha256, CAST(loaded_at AS VARCHAR), nodes, rels FROM load_report "
                         "ORDER BY dataset").fetchall()]
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'er_run' AND schema_name = 'main'"
                   ).fetchone()[0]:
        parts.append(con.execute("SELECT CAST(ran_at AS VARCHAR), applied FROM er_run ORDER BY ran_at").fetchall())
    parts.append(con.execute("SELECT count(*), bit_xor(nid) FROM node").fetchone())
    parts.append(rels)
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
    from .. import adjacency
    from ..store import Workspace

    spec = {"labels": sorted(labels or []), "types": sorted(types or []),
            "since": str(since) if since else None, "until": str(until) if until else None}
    folder = Path(workspace)
    with Workspace(folder, read_only=True) as ws:
        con = ws.con
        rels = adjacency.fingerprint(con)
        fp = _fingerprint(con, rels)

        def where(part: dict) -> Path:
            return folder / CACHE_DIR / hashlib.sha256(json.dumps([CACHE_FORMAT, fp, part]).encode()).hexdigest()[:16]

        if cache and (where(spec) / "meta.json").exists():
            g = _read(where(spec), folder, spec, rels)
            if g is not None:
                return g
        whole = {"labels": [], "types": [], "since": None, "until": None}
        g = None
        if cache and spec != whole and (where(whole) / "meta.json").exists():
            g = _read(where(whole), folder, whole, rels)
        if g is None:
            index = adjacency.open_index(con, folder, fp=rels)
            tmp = _fresh(where(whole), folder / CACHE_DIR) if cache and index is not None else None
            with small_pages():
                g = _build_from_index(con, index, tmp) if index is not None else None
                if g is None:          # no index (a read-only folder without one), or dangling relationships
                    g = _build(con, spec)
            g.workspace = folder
            if tmp is not None and g.spec != whole:
                shutil.rmtree(tmp, ignore_errors=True)        # the index could not be used
            elif cache and g.spec == whole:
                _write(g, where(whole), folder / CACHE_DIR, tmp)
                if spec == whole:
                    return g
    if g.spec != spec:
        with small_pages():
            g = restrict(g, spec)
    g.workspace = folder
    if cache:
        _write(g, where(spec), folder / CACHE_DIR)
    return g


def _build_from_index(con, index, into: Path | None = None) -> Graph | None:
    """The whole graph laid out from the workspace's adjacency index (see :func:`.csr.from_index`):
    one scan of the nodes, then linear passes over the index's arrays. Vertices are numbered in
    node id order, the index's order; the key and name blobs stay in scan order (``row``).
    ``into``: a fresh cache folder the large arrays are laid out in (memory-mapped files)."""
    from .csr import from_index

    def alloc(name, size, dtype):
        return np.lib.format.open_memmap(into / f"{name}.npy", mode="w+", dtype=dtype, shape=(size,))

    nid, label_bits, labels, nodes = _scan_nodes(con, {"labels": []})
    row = np.argsort(nid).astype(np.int32)
    nid, label_bits = nid[row], label_bits[row]
    arrays = from_index(index, nid, alloc if into is not None else None)
    if arrays is None:
        return None
    key_offsets, key_bytes = _blob(nodes["key"])
    name_offsets, name_bytes = _blob(nodes["name"])
    borrowed = arrays.pop("borrowed")
    return Graph(nid=nid, label_bits=label_bits, labels=labels, types=list(index.types), key_offsets=key_offsets,
                 key_bytes=key_bytes, name_offsets=name_offsets, name_bytes=name_bytes, row=row, nid_sorted=True,
                 spec={"labels": [], "types": [], "since": None, "until": None}, borrowed=borrowed, **arrays)


def restrict(g: Graph, spec: dict) -> Graph:
    """The part of ``g`` a spec of :func:`load_graph` asks for (labels, types, date range), in
    linear passes over ``g``'s arrays (the order of vertices and entries is kept)."""
    keep = g.edge_filter(types=spec.get("types"), since=spec.get("since"), until=spec.get("until"))
    want = g.label_mask(spec.get("labels"))
    vertices = None
    if want:
        ok = (g.label_bits & want) != 0
        keep &= ok[g.src] & ok[g.dst]
        vertices = np.flatnonzero(ok)
    from .csr import restrict as restrict_csr

    part = restrict_csr(g.offsets, g.adj_vertex, g.adj_edge, keep, vertices)
    edges, entries = part.pop("edges"), part.pop("entries")
    src, dst = np.asarray(g.src)[edges], np.asarray(g.dst)[edges]
    if vertices is not None:
        local = np.full(g.vcount, -1, dtype=np.int32)
        local[vertices] = np.arange(len(vertices), dtype=np.int32)
        src, dst = local[src], local[dst]
    pick = (lambda a: np.asarray(a)[vertices]) if vertices is not None else (lambda a: a)
    row = g.row if g.row is not None else (np.arange(g.vcount, dtype=np.int32) if g.key_offsets is not None else None)
    labels, label_bits = g.labels, pick(g.label_bits)
    if vertices is not None:              # the labels the part's nodes have, as a graph read with them has
        labels, label_bits = _only_labels_present(labels, label_bits)
    return Graph(nid=pick(g.nid), label_bits=label_bits, labels=labels, rid=np.asarray(g.rid)[edges],
                 src=src, dst=dst, etype=np.asarray(g.etype)[edges], types=g.types,
                 valid_from=np.asarray(g.valid_from)[edges], valid_to=np.asarray(g.valid_to)[edges],
                 adj_type=np.asarray(g.adj_type)[entries], key_offsets=g.key_offsets, key_bytes=g.key_bytes,
                 name_offsets=g.name_offsets, name_bytes=g.name_bytes, workspace=g.workspace,
                 names=[g.names[v] for v in pick(np.arange(g.vcount))] if g.names else None,
                 keys=[g.keys[v] for v in pick(np.arange(g.vcount))] if g.keys else None,
                 row=None if row is None else pick(row), nid_sorted=g.nid_sorted, spec=dict(spec), **part)


def _only_labels_present(labels: list[str], bits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The labels some node has, and each node's bits renumbered over them (per distinct set)."""
    import pandas as pd

    which, combos = pd.factorize(bits)
    present = int(np.bitwise_or.reduce(np.asarray(combos, dtype=np.uint64))) if len(combos) else 0
    kept = [k for k in range(len(labels)) if present >> k & 1]
    renumber = np.array([sum(1 << j for j, k in enumerate(kept) if int(c) >> k & 1) for c in combos] or [0],
                        dtype=np.uint64)
    return [labels[k] for k in kept], renumber[which]


def _scan_nodes(con, spec: dict):
    """(nid, label bits, label names, Arrow table with key and name) of the nodes of ``spec``, one scan."""
    import pyarrow.compute as pc

    params: dict = {}
    node_where = "true"
    if spec["labels"]:
        node_where = "list_has_any(labels, $want)"
        params["want"] = spec["labels"]
    has_name = bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'node' "
                                "AND column_name = 'name'").fetchone()[0])
    # one scan: the dense number of a node is its row in this result
    # text as Arrow large strings, missing as empty: the key and name blobs are then Arrow's own
    # buffers, with no cast or fill pass over millions of strings
    large = con.execute("SELECT current_setting('arrow_large_buffer_size')").fetchone()[0]
    con.execute("SET arrow_large_buffer_size = true")
    try:
        with warnings.catch_warnings():      # "an extra copy": still far cheaper than Python strings
            warnings.simplefilter("ignore", UserWarning)
            nodes = con.execute(f"""SELECT nid, coalesce(key, '') AS key,
                coalesce({'name' if has_name else 'NULL::VARCHAR'}, '') AS name,
                array_to_string(list_sort(labels), ',') AS labels FROM node WHERE {node_where}""",
                                params).to_arrow_table()
    finally:
        con.execute(f"SET arrow_large_buffer_size = {'true' if large else 'false'}")
    nid = nodes["nid"].to_numpy().astype(np.int64, copy=False)
    combos = pc.dictionary_encode(nodes["labels"].combine_chunks())
    names_of_combo = [str(x).split(",") if x else [] for x in combos.dictionary.to_pylist()]
    labels = sorted({lab for combo in names_of_combo for lab in combo})
    if len(labels) > 64:
        raise GraphwatchError(f"the workspace has {len(labels)} labels; the analytics graph holds at most 64")
    combo_bits = np.array([sum(1 << labels.index(lab) for lab in combo) for combo in names_of_combo] or [0],
                          dtype=np.uint64)
    label_bits = combo_bits[combos.indices.to_numpy(zero_copy_only=False)]
    return nid, label_bits, labels, nodes


def _build(con, spec: dict) -> Graph:
    """The graph of ``spec`` straight from the tables (a workspace without an adjacency index):
    dense ids by a hash join, the CSR by radix sort."""
    import pyarrow as pa

    nid, label_bits, labels, nodes = _scan_nodes(con, spec)
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

    arr = column.combine_chunks()
    if arr.type != pa.large_string() or arr.null_count:
        arr = pc.fill_null(arr.cast(pa.large_string()), "")
    arr = pa.concat_arrays([arr]) if arr.offset else arr
    _, off, data = arr.buffers()
    # numpy arrays over Arrow's buffers (they keep them alive): no copy of a county's texts
    offsets = np.frombuffer(off, dtype=np.int64, count=len(arr) + 1)
    blob = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets, blob


def _fresh(where: Path, root: Path) -> Path | None:
    """A new, empty folder to write the graph of ``where`` into (None: the workspace folder is read-only)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{where.name}.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        return tmp
    except OSError:
        return None


def _write(g: Graph, where: Path, root: Path, tmp: Path | None = None) -> None:
    """Write the arrays to a fresh folder (``tmp``: one already holding some of them, laid out
    there) and rename it into place (readers never see half a graph); older graphs of the
    workspace are removed (they belong to a graph that changed)."""
    try:
        tmp = tmp or _fresh(where, root)
        if tmp is None:
            return
        for name in _ARRAYS + (("row",) if g.row is not None else ()):
            if name not in g.borrowed and not (tmp / f"{name}.npy").exists():
                np.save(tmp / f"{name}.npy", getattr(g, name))
        (tmp / "meta.json").write_text(json.dumps({"labels": g.labels, "types": g.types, "spec": g.spec,
                                                   "nid_sorted": g.nid_sorted, "fingerprint": where.name,
                                                   "borrowed": g.borrowed}, ensure_ascii=False))
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


def _read(where: Path, folder: Path, spec: dict, rels: list[int]) -> Graph | None:
    """The cached graph; None when arrays it shares with the adjacency index are not those of
    the relationships ``rels`` identifies (the index was removed or is being rebuilt)."""
    from .. import adjacency

    meta = json.loads((where / "meta.json").read_text())
    borrowed = meta.get("borrowed") or {}
    arrays = {}
    if borrowed:
        index = folder / adjacency.FOLDER
        try:
            arrays = {name: np.load(index / f"{file}.npy", mmap_mode="r") for name, file in borrowed.items()}
        except OSError:                            # no index (removed, or being replaced)
            return None
        if adjacency._stamp(index) != rels:        # checked after opening: a newer index would have another stamp
            return None
    arrays.update({name: np.load(where / f"{name}.npy", mmap_mode="r") for name in _ARRAYS if name not in borrowed})
    if (where / "row.npy").exists():
        arrays["row"] = np.load(where / "row.npy", mmap_mode="r")
    return Graph(**arrays, labels=meta["labels"], types=meta["types"], workspace=folder, spec=spec,
                 nid_sorted=meta.get("nid_sorted", False), borrowed=borrowed)


def clear_cache(workspace) -> int:
    """Remove every cached graph of a workspace; returns how many there were."""
    root = Path(workspace) / CACHE_DIR
    found = [d for d in root.iterdir() if d.is_dir()] if root.exists() else []
    for d in found:
        shutil.rmtree(d, ignore_errors=True)
    return len(found)
