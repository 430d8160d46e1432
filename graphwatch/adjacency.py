"""The adjacency index: the ``rel`` table as compressed sparse rows, memory-mapped.

Every relationship hop of a query that starts from a few nodes needs the relationships of
those nodes only; the ``rel`` table answers that with a scan (a DuckDB ``IN`` list over
several values does not use the table's zone maps: measured 100–270 ms at 10 M rows for
10–1 000 nodes, against microseconds here). So the workspace keeps, beside its database,

* ``adjacency/nodes.npy`` — every node id, sorted (a node's position in it is its index;
  the ends of the relationships when one ends at no node);
* ``out_off.npy`` / ``out_nbr.npy`` / ``out_rid.npy`` / ``out_type.npy`` — each node's
  outgoing relationships (offsets into the other three: neighbour index, relationship id,
  type code), and the same ``in_*`` for incoming ones but their ids, which are read through
  ``in_edge`` (:meth:`Adjacency.rids`: 416 MB less at 5 M persons);
* ``out_vf.npy`` / ``out_vt.npy`` — each outgoing entry's validity (days since 1970-01-01, open
  ends as the int32 extremes), and ``in_edge.npy`` — the outgoing entry of each incoming one:
  what the analytics graph (:mod:`graphwatch.analytics.graph`) is laid out from without sorting
  the relationships again;
* ``stamp.json`` — the relationship types by code and the fingerprint of the ``rel``
  table the arrays were built from.

The index is built inside the write transaction that changes ``rel`` (:meth:`Workspace.
transaction` calls :func:`refresh` before COMMIT and moves the new files in place after it),
and again on first use if a writer bypassed it: a reader compares the fingerprint
(``count(*)`` and an xor of a hash of every relationship's id, type, ends and dates) with the
stamp and never uses a stale index.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

FOLDER = "adjacency"
FORMAT = 3          # 2: dates and in_edge added; 3: no in_rid. An index of another format is rebuilt
ARRAYS = ("nodes", "out_off", "out_nbr", "out_rid", "out_type", "in_off", "in_nbr", "in_type",
          "out_vf", "out_vt", "in_edge")
#: validity of a relationship without dates: open at both ends (days since 1970-01-01)
NO_DATE_FROM, NO_DATE_TO = int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max)


def fingerprint(con) -> list[int]:
    """What identifies the relationships' ids, types, ends and dates (one scan of ``rel``)."""
    n, h = con.execute("SELECT count(*), coalesce(bit_xor(hash(rid, type, src, dst, valid_from, valid_to)), 0) "
                       "FROM rel").fetchone()
    return [int(n), int(h)]


class Adjacency:
    """The arrays of one workspace's index (memory-mapped, read-only)."""

    def __init__(self, folder: Path, stamp: dict):
        self.folder = folder
        self.types: list[str] = stamp["types"]
        self.fingerprint = stamp["fingerprint"]
        for name in ARRAYS:
            # plain arrays over the mapped files: indexing a np.memmap goes through its Python
            # __getitem__ and __array_finalize__ (1 ms of a 9 ms shortest path, 200 slices)
            setattr(self, name, np.load(folder / f"{name}.npy", mmap_mode="r").view(np.ndarray))
        self.type_code = {t: i for i, t in enumerate(self.types)}
        self._scratch: list = []        # per-node work arrays searches borrow (see :meth:`borrow`)
        # side -> entries per type code: each relationship is one entry on either side, so both
        # sides have the counts the build wrote down (an index built before they were: counted
        # on first use, 1 s at 5 M persons for a cold process)
        counts = stamp.get("type_counts")
        self._type_counts: dict = ({side: np.asarray(counts, dtype=np.int64) for side in ("out", "in")}
                                   if counts is not None else {})
        self._typed: dict = {}          # (side, type code) -> its entries by node (:meth:`_entries_of`)

    def borrow(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Three per-node work arrays for one search — two distances (int32, all -1) and a flag
        (all False) — to be given back with :meth:`give_back` in that state. Allocating them
        for every shortestPath (3.3 M nodes at 1 M persons: 30 MB) took 2 ms of a 13 ms query.
        Each borrower gets arrays of its own (threads of the explorer search at once)."""
        try:
            return self._scratch.pop()
        except IndexError:
            n = len(self.nodes)
            return np.full(n, -1, dtype=np.int32), np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=bool)

    def give_back(self, arrays) -> None:
        """Return arrays from :meth:`borrow`, reset by the borrower (at most two are kept)."""
        if len(self._scratch) < 2:
            self._scratch.append(arrays)

    def index_of(self, nids, *, ordered: bool = False) -> np.ndarray:
        """Positions of node ids (-1 for an id the index does not hold: no node, or no relationship
        where the index numbers the ends of the relationships only); ``ordered``: the
        ids are sorted already."""
        nids = np.asarray(nids, dtype=np.int64)
        if len(nids) > 64 and not ordered:
            # needles in order walk the sorted ids once: 76 k random ids at 1 M persons took
            # 50 ms unsorted (a cache miss per probe), 14 ms with the sort
            order = np.argsort(nids, kind="stable")
            pos = np.empty(len(nids), dtype=np.int64)
            pos[order] = np.searchsorted(self.nodes, nids[order])
        else:
            pos = np.searchsorted(self.nodes, nids)
        pos = np.minimum(pos, len(self.nodes) - 1) if len(self.nodes) else np.zeros_like(nids)
        ok = (self.nodes[pos] == nids) if len(self.nodes) else np.zeros(len(nids), dtype=bool)
        return np.where(ok, pos, -1)

    def rids(self, side: str, entries: np.ndarray) -> np.ndarray:
        """The relationship ids of ``side``'s entries ('out' or 'in'): an incoming entry's id is
        that of its outgoing entry (``in_edge``)."""
        return self.out_rid[entries] if side == "out" else self.out_rid[self.in_edge[entries]]

    def type_mask(self, types) -> np.ndarray | None:
        """Allowed type codes as a boolean mask (None: every type)."""
        if types is None:
            return None
        mask = np.zeros(max(len(self.types), 1), dtype=bool)
        for t in types:
            if t in self.type_code:
                mask[self.type_code[t]] = True
        return mask

    def degree(self, frontier: np.ndarray, direction: str) -> int:
        """How many relationships (of any type) leave ``frontier`` in ``direction``: what
        expanding it reads."""
        frontier = np.asarray(frontier, dtype=np.int64)
        total = 0
        for side in (("out",) if direction == "out" else ("in",) if direction == "in" else ("out", "in")):
            off = getattr(self, f"{side}_off")
            total += int((off[frontier + 1] - off[frontier]).sum())
        return total

    def _rare(self, side: str, mask, total: int) -> bool:
        """Whether the types of ``mask`` have fewer entries on ``side`` than ``total``."""
        counts = self._type_counts.get(side)
        if counts is None:
            counts = self._type_counts[side] = np.bincount(getattr(self, f"{side}_type"),
                                                           minlength=len(mask)).astype(np.int64)
        return int(counts[: len(mask)][mask].sum()) < total

    def _typed_entries(self, side: str, mask, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into ``frontier``, entry) of every entry of a type in ``mask`` leaving a
        frontier node, ordered as :meth:`steps` reads them: each type's entries are listed once
        per process, by node (SAME_AS*0..1 from 250 k persons read 2.5 M entries of every type
        to keep 3 k: 120 ms)."""
        ats, idxs = [], []
        for code in np.flatnonzero(mask).tolist():
            node_t, idx_t = self._entries_of(side, code)
            a = np.searchsorted(node_t, frontier, side="left")
            c = np.searchsorted(node_t, frontier, side="right") - a
            k = int(c.sum())
            if not k:
                continue
            ats.append(np.repeat(np.arange(len(frontier)), c))
            idxs.append(idx_t[np.repeat(a - np.concatenate(([0], np.cumsum(c)[:-1])), c) + np.arange(k)])
        if not ats:
            e = np.empty(0, dtype=np.int64)
            return e, e
        at, idx = np.concatenate(ats), np.concatenate(idxs)
        if len(ats) > 1:          # entries of a node are in relationship id order: the entry order
            order = np.lexsort((idx, at))
            at, idx = at[order], idx[order]
        return at, idx

    def _entries_of(self, side: str, code: int) -> tuple[np.ndarray, np.ndarray]:
        """(node position, entry) of the entries of one type on ``side``, in entry order."""
        key = (side, code)
        got = self._typed.get(key)
        if got is None:
            idx = np.flatnonzero(getattr(self, f"{side}_type") == code)
            node = np.searchsorted(getattr(self, f"{side}_off"), idx, side="right") - 1
            got = self._typed[key] = (node.astype(np.int64), idx)
        return got

    def has_any(self, nids, direction: str, mask) -> np.ndarray:
        """Whether each node id has at least one relationship of a type in ``mask`` (None: any
        type) in ``direction`` ('out', 'in' or 'both'; a self-loop counts): a node's entries of
        one type are found in that type's own list (:meth:`_entries_of`), never by reading
        every entry of the node (a benefit programme has a million)."""
        pos = self.index_of(nids)
        known = pos >= 0
        p = pos[known]
        hit = np.zeros(len(p), dtype=bool)
        for side in (("out",) if direction == "out" else ("in",) if direction == "in" else ("out", "in")):
            if mask is None:
                off = getattr(self, f"{side}_off")
                hit |= off[p + 1] > off[p]
                continue
            for code in np.flatnonzero(mask).tolist():
                node_t = self._entries_of(side, code)[0]
                hit |= np.searchsorted(node_t, p, side="right") > np.searchsorted(node_t, p, side="left")
        out = np.zeros(len(pos), dtype=bool)
        out[known] = hit
        return out

    def expand(self, frontier: np.ndarray, direction: str, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The relationships leaving ``frontier`` (node positions) in ``direction`` ('out',
        'in' or 'both'), self-loops left out (they are on no shortest path): arrays of
        (from position, to position, relationship id)."""
        at, dst, rid = self.steps(frontier, direction, mask, loops=False)
        return frontier[at], dst, rid

    def steps(self, frontier: np.ndarray, direction: str, mask, *, loops: bool = True, typed: bool | None = None):
        """Every relationship leaving each node of ``frontier`` in ``direction``: arrays of
        (index into ``frontier``, position of the node it leads to, relationship id), by
        frontier index and then relationship id. With ``loops``, a self-loop is one step
        (undirected too: it is read from the 'out' side only, as a relationship is matched once
        in each orientation but a self-loop has one). When the types in ``mask`` have fewer
        entries in the whole graph than the frontier's nodes have in all, they are found from
        the types' own lists (:meth:`_typed_entries`) rather than by reading every entry of
        the frontier (``typed`` forces either way; the answer is the same)."""
        frontier = np.asarray(frontier, dtype=np.int64)
        parts = []
        for side in (("out",) if direction == "out" else ("in",) if direction == "in" else ("out", "in")):
            off, nbr, typ = (getattr(self, f"{side}_{x}") for x in ("off", "nbr", "type"))
            lo, hi = off[frontier], off[frontier + 1]
            counts = (hi - lo).astype(np.int64)
            total = int(counts.sum())
            if not total:
                continue
            if mask is not None and (typed if typed is not None else self._rare(side, mask, total)):
                at, idx = self._typed_entries(side, mask, frontier)
                dst, r = nbr[idx].astype(np.int64), self.rids(side, idx)
                keep = np.ones(len(idx), dtype=bool)
            else:
                at = np.repeat(np.arange(len(frontier)), counts)
                idx = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(total)
                dst, r = nbr[idx].astype(np.int64), self.rids(side, idx)
                keep = np.ones(total, dtype=bool) if mask is None else mask[typ[idx]]
            if not loops or (side == "in" and direction == "both"):
                keep &= dst != frontier[at]
            parts.append((at[keep], dst[keep], r[keep]))
        if not parts:
            e = np.empty(0, dtype=np.int64)
            return e, e, e
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


class Reach:
    """What :func:`reach` found: one entry per (source, node) pair, the sources themselves
    first. ``source`` indexes the sources given, ``node`` is a node position, ``depth`` the
    fewest steps from the source, and ``parent`` / ``rid`` the entry and relationship it was
    first reached through (-1 for a source)."""

    def __init__(self, n: int, source, node, depth, parent, rid):
        self.n, self.source, self.node, self.depth, self.parent, self.rid = n, source, node, depth, parent, rid
        keys = source * n + node
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    def find(self, source: np.ndarray, node: np.ndarray) -> np.ndarray:
        """The entry of each (source index, node position) pair, -1 where it was not reached."""
        keys = np.asarray(source, dtype=np.int64) * self.n + np.asarray(node, dtype=np.int64)
        if not len(self._sorted):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        return np.where((self._sorted[at] == keys) & (np.asarray(node) >= 0), self._order[at], -1)

    def path(self, entry: int) -> tuple[list[int], list[int]]:
        """(node positions from the source to the entry's node, relationship ids between them)."""
        nodes, rids = [], []
        while entry >= 0:
            nodes.append(int(self.node[entry]))
            if self.rid[entry] >= 0:
                rids.append(int(self.rid[entry]))
            entry = int(self.parent[entry])
        return nodes[::-1], rids[::-1]


def reach(adj: Adjacency, sources: np.ndarray, direction: str, mask, hops: int, *,
          last: np.ndarray | None = None, near=None) -> Reach:
    """Every node within ``hops`` steps of each source (node positions) over the types of
    ``mask`` in ``direction``, by one breadth-first search of all sources at once: a level
    expands each distinct node once (a node near many sources is read once) and keeps the
    (source, node) pairs not seen before, taking each node's steps in relationship id order —
    so the path kept to a node is always the same shortest one.

    A search for a few targets may prune: ``last`` (a boolean mask over node positions) keeps
    only the steps to those at the last level, and ``near(k)`` (a mask of the nodes within
    ``k`` steps of a target) each level ``d`` before it to the nodes ``near(hops - d)`` holds.
    The entries found for the targets stay the same: every node on a shortest path to a target
    is near enough to be kept, and a node left out is too far at any later level as well
    (official_near_winner at 5 M persons: of 56 k entries at one step 1 k remain)."""
    sources = np.asarray(sources, dtype=np.int64)
    n = max(len(adj.nodes), 1)
    src = [np.arange(len(sources), dtype=np.int64)]
    node, depth = [sources], [np.zeros(len(sources), dtype=np.int64)]
    parent, rid = [np.full(len(sources), -1, dtype=np.int64)], [np.full(len(sources), -1, dtype=np.int64)]
    seen = [np.unique(src[0] * n + sources)]                  # each level's (source, node) keys, sorted
    base = 0                                                  # the entry the last level starts at
    for d in range(1, hops + 1):
        at_nodes, at_src = node[-1], src[-1]
        if not len(at_nodes):
            break
        distinct, which = np.unique(at_nodes, return_inverse=True)
        step_at, step_to, step_rid = adj.steps(distinct, direction, mask, loops=False)
        if d == hops and last is not None:
            keep = last[step_to]
            step_at, step_to, step_rid = step_at[keep], step_to[keep], step_rid[keep]
        order = np.lexsort((step_rid, step_at))               # by node, then relationship id
        step_at, step_to, step_rid = step_at[order], step_to[order], step_rid[order]
        counts = np.bincount(step_at, minlength=len(distinct))
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        per = counts[which]                                   # steps from each entry of the level
        from_entry = np.repeat(np.arange(len(at_nodes)), per)
        step = np.repeat(first[which] - np.concatenate(([0], np.cumsum(per)[:-1])), per) + np.arange(int(per.sum()))
        s, v = at_src[from_entry], step_to[step]
        uniq, keep = np.unique(s * n + v, return_index=True)  # the first way to each pair
        new = np.ones(len(uniq), dtype=bool)
        for old in seen:
            at = np.minimum(np.searchsorted(old, uniq), len(old) - 1)
            new &= old[at] != uniq
        if d < hops and near is not None:
            new &= near(hops - d)[v[keep]]
        seen.append(uniq[new])
        keep = np.sort(keep[new])
        src.append(s[keep])
        node.append(v[keep])
        depth.append(np.full(len(keep), d, dtype=np.int64))
        parent.append(base + from_entry[keep])
        rid.append(np.asarray(step_rid[step[keep]], dtype=np.int64))
        base += len(at_nodes)
    return Reach(n, *(np.concatenate(x) for x in (src, node, depth, parent, rid)))


def build(con, folder: Path, fp: list[int] | None = None) -> None:
    """Write the index of the ``rel`` table ``con`` sees into ``folder`` (a new folder)."""
    from .analytics.csr import small_pages

    with small_pages():
        _build(con, folder, fp)


#: what building the index holds in DuckDB's memory per relationship (its numbered ends and
#: the rows read into numpy), besides :data:`graphwatch.lookups.INDEX_MARGIN`
BUILD_BYTES_PER_REL = 64


def _build(con, folder: Path, fp: list[int] | None) -> None:
    from .lookups import INDEX_MARGIN, raise_limit

    fp = fp or fingerprint(con)
    folder.mkdir(parents=True, exist_ok=True)
    # (the caller sets the limit back: a write transaction when it ends, an engine that builds a
    # missing index on a read-only workspace keeps the raised one, as for the indexes it reads)
    raise_limit(con, fp[0] * BUILD_BYTES_PER_REL + INDEX_MARGIN)
    types = [t for (t,) in con.execute("SELECT DISTINCT type FROM rel ORDER BY type").fetchall()]
    nodes, rel = _numbered(con, fp[0])
    rid = np.asarray(rel.pop("rid"), dtype=np.int64)
    # the smallest integer types that hold the values: the index costs ~13 bytes per
    # relationship and direction, a third of the database's size
    code = np.asarray(rel.pop("code"), dtype=np.int8 if len(types) < 128 else np.int16)
    pos_type, off_type = _index_dtype(len(nodes)), _index_dtype(len(rid))
    si, di = np.asarray(rel.pop("si")).astype(pos_type), np.asarray(rel.pop("di")).astype(pos_type)
    dates = {"out_vf": np.asarray(rel.pop("vf"), dtype=np.int32), "out_vt": np.asarray(rel.pop("vt"), dtype=np.int32)}
    # each side's order by (node, rid): one sort of the (unique) ids, then a stable radix sort
    # of the node positions in that order (two 16-bit passes, linear)
    by_rid = np.argsort(rid)

    def side(name: str, a: np.ndarray, b: np.ndarray, by_rid: np.ndarray) -> tuple[np.ndarray, dict]:
        order = by_rid[_position_order(a[by_rid])]
        got = {f"{name}_off": np.concatenate(([0], np.cumsum(np.bincount(a, minlength=len(nodes))))).astype(off_type),
               f"{name}_nbr": b[order], f"{name}_type": code[order]}
        if name == "out":
            got["out_rid"] = rid[order]
            got.update((k, v[order]) for k, v in dates.items())
        return order, got

    # the two sides in two threads (numpy's sorts and gathers let go of the GIL): 1.1 against
    # 2.1 s at 1 M persons; the files written two at a time as well
    with ThreadPoolExecutor(2) as pool:
        (out_order, outs), (in_order, ins) = pool.map(side, ("out", "in"), (si, di), (di, si), (by_rid, by_rid))
        del by_rid
        entry = np.empty(len(rid), dtype=off_type)           # relationship row -> its outgoing entry
        entry[out_order] = np.arange(len(rid), dtype=off_type)
        arrays = {"nodes": nodes, **outs, **ins, "in_edge": entry[in_order]}
        list(pool.map(lambda item: np.save(folder / f"{item[0]}.npy", item[1]), arrays.items()))
    (folder / "stamp.json").write_text(json.dumps({"fingerprint": fp, "types": types, "format": FORMAT,
                                                   "type_counts": np.bincount(code, minlength=len(types)).tolist()}))


def _numbered(con, count: int) -> tuple[np.ndarray, dict]:
    """(node ids in order, the relationships with their ends' positions in it, type codes and
    dates as numpy columns). The ids are those of every node, read and sorted in numpy, and
    DuckDB joins every end to its position (in parallel; numpy's searchsorted over 10⁸ ends
    took minutes at 5 M persons): 0.1 s at 1 M persons where numbering the ends of the
    relationships in SQL (a UNION of both ends, then a window) took 1 s. A relationship whose
    end is no node (``count`` not reached), or a connection without a ``node`` table, has the
    ends numbered instead."""
    rel = None
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'node' AND NOT temporary").fetchone()[0]:
        nodes = _distinct(con.execute("SELECT nid FROM node").fetchnumpy()["nid"])
        rel = _joined(con, nodes)
    if rel is None or len(rel["rid"]) != count:
        ends = con.execute("SELECT src FROM rel UNION SELECT dst FROM rel").fetchnumpy()
        nodes = _distinct(ends[next(iter(ends))])
        rel = _joined(con, nodes)
    return nodes, rel


def _index_dtype(n: int):
    """The integer type of positions into ``n`` things: 32 bits while they fit."""
    return np.int32 if n < 2**31 else np.int64


def _distinct(ids) -> np.ndarray:
    """The ids sorted, each once (np.unique took 3 s for 3.3 M ids, a sort 0.04 s)."""
    ids = np.sort(np.asarray(ids, dtype=np.int64))
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))] if len(ids) > 1 else ids


def _joined(con, nodes: np.ndarray) -> dict:
    import pyarrow as pa

    con.register("_gw_adj_pos", pa.table({"nid": nodes, "pos": np.arange(len(nodes), dtype=_index_dtype(len(nodes)))}))
    try:
        return con.execute(f"""SELECT r.rid, a.pos AS si, b.pos AS di, t.code,
                coalesce(CAST(r.valid_from - DATE '1970-01-01' AS INTEGER), {NO_DATE_FROM}) AS vf,
                coalesce(CAST(r.valid_to - DATE '1970-01-01' AS INTEGER), {NO_DATE_TO}) AS vt FROM rel r
            JOIN _gw_adj_pos a ON a.nid = r.src JOIN _gw_adj_pos b ON b.nid = r.dst
            JOIN (SELECT type, CAST(row_number() OVER (ORDER BY type) - 1 AS SMALLINT) AS code
                  FROM (SELECT DISTINCT type FROM rel)) t USING (type)""").fetchnumpy()
    finally:
        con.unregister("_gw_adj_pos")


def _position_order(pos: np.ndarray) -> np.ndarray:
    """A stable argsort of node positions (radix passes when they fit 32 bits)."""
    if pos.dtype == np.int32:
        from .analytics.csr import radix_argsort

        return radix_argsort(pos.view(np.uint32))
    return np.argsort(pos, kind="stable")


def refresh(con, ws_path: Path) -> Path | None:
    """Inside a write transaction: build the index of the ``rel`` table as the transaction
    leaves it into a new folder, unless the kept one already matches. Returns the new
    folder (for :func:`install` after COMMIT), or None."""
    fp = fingerprint(con)
    if _stamp(ws_path / FOLDER) == fp:
        return None
    new = ws_path / f".{FOLDER}.new.{os.getpid()}"
    shutil.rmtree(new, ignore_errors=True)
    build(con, new, fp)
    return new


def install(new: Path, ws_path: Path) -> None:
    """Put a folder :func:`refresh` built in place of the kept index."""
    final = ws_path / FOLDER
    old = ws_path / f".{FOLDER}.old.{os.getpid()}"
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _stamp(folder: Path) -> list[int] | None:
    try:
        stamp = json.loads((folder / "stamp.json").read_text())
        return stamp["fingerprint"] if stamp.get("format") == FORMAT else None
    except (OSError, ValueError, KeyError):
        return None


def open_index(con, ws_path: Path, *, fp: list[int] | None = None) -> Adjacency | None:
    """The workspace's index if it matches ``rel`` (building it when it is missing or stale
    and the folder is writable), else None (the engine then searches with SQL)."""
    fp = fp or fingerprint(con)
    folder = ws_path / FOLDER
    if _stamp(folder) != fp:
        try:
            new = ws_path / f".{FOLDER}.new.{os.getpid()}"
            shutil.rmtree(new, ignore_errors=True)
            build(con, new, fp)
            install(new, ws_path)
        except OSError:
            return None
    key = (str(folder.resolve()), tuple(fp))
    if key in _OPENED:
        return _OPENED[key]
    try:
        index = Adjacency(folder, json.loads((folder / "stamp.json").read_text()))
    except (OSError, ValueError, KeyError):
        return None
    _OPENED[key] = index
    while len(_OPENED) > 2:
        _OPENED.pop(next(iter(_OPENED)))
    return index


#: the indexes this process opened, by folder and fingerprint: the arrays an index works out on
#: first use (entries per type, each type's own list) are then worked out once per process, not
#: once per caller (at 5 M persons the per-type counts alone take 0.3 s). Files of an index are
#: never changed in place (a new index is a new folder), so a kept one stays right for its fingerprint.
_OPENED: dict[tuple, Adjacency] = {}
