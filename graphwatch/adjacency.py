"""The adjacency index: the ``rel`` table as compressed sparse rows, memory-mapped.

Every relationship hop of a query that starts from a few nodes needs the relationships of
those nodes only; the ``rel`` table answers that with a scan (a DuckDB ``IN`` list over
several values does not use the table's zone maps: measured 100–270 ms at 10 M rows for
10–1 000 nodes, against microseconds here). So the workspace keeps, beside its database,

* ``adjacency/nodes.npy`` — every node id that ends a relationship, sorted (a node's
  position in it is its index);
* ``out_off.npy`` / ``out_nbr.npy`` / ``out_rid.npy`` / ``out_type.npy`` — each node's
  outgoing relationships (offsets into the other three: neighbour index, relationship id,
  type code), and the same ``in_*`` for incoming ones;
* ``stamp.json`` — the relationship types by code and the fingerprint of the ``rel``
  table the arrays were built from.

The index is built inside the write transaction that changes ``rel`` (:meth:`Workspace.
transaction` calls :func:`refresh` before COMMIT and moves the new files in place after it),
and again on first use if a writer bypassed it: a reader compares the fingerprint
(``count(*)`` and an xor of a hash of every relationship's id, type and ends) with the
stamp and never uses a stale index.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

FOLDER = "adjacency"
ARRAYS = ("nodes", "out_off", "out_nbr", "out_rid", "out_type", "in_off", "in_nbr", "in_rid", "in_type")


def fingerprint(con) -> list[int]:
    """What identifies the relationships' ids, types and ends (one scan of ``rel``)."""
    n, h = con.execute("SELECT count(*), coalesce(bit_xor(hash(rid, type, src, dst)), 0) FROM rel").fetchone()
    return [int(n), int(h)]


class Adjacency:
    """The arrays of one workspace's index (memory-mapped, read-only)."""

    def __init__(self, folder: Path, stamp: dict):
        self.folder = folder
        self.types: list[str] = stamp["types"]
        self.fingerprint = stamp["fingerprint"]
        for name in ARRAYS:
            setattr(self, name, np.load(folder / f"{name}.npy", mmap_mode="r"))
        self.type_code = {t: i for i, t in enumerate(self.types)}

    def index_of(self, nids) -> np.ndarray:
        """Positions of node ids (-1 for a node without relationships)."""
        nids = np.asarray(nids, dtype=np.int64)
        pos = np.searchsorted(self.nodes, nids)
        pos = np.minimum(pos, len(self.nodes) - 1) if len(self.nodes) else np.zeros_like(nids)
        ok = (self.nodes[pos] == nids) if len(self.nodes) else np.zeros(len(nids), dtype=bool)
        return np.where(ok, pos, -1)

    def type_mask(self, types) -> np.ndarray | None:
        """Allowed type codes as a boolean mask (None: every type)."""
        if types is None:
            return None
        mask = np.zeros(max(len(self.types), 1), dtype=bool)
        for t in types:
            if t in self.type_code:
                mask[self.type_code[t]] = True
        return mask

    def expand(self, frontier: np.ndarray, direction: str, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The relationships leaving ``frontier`` (node positions) in ``direction`` ('out',
        'in' or 'both'), self-loops left out (they are on no shortest path): arrays of
        (from position, to position, relationship id)."""
        at, dst, rid = self.steps(frontier, direction, mask, loops=False)
        return frontier[at], dst, rid

    def steps(self, frontier: np.ndarray, direction: str, mask, *, loops: bool = True):
        """Every relationship leaving each node of ``frontier`` in ``direction``: arrays of
        (index into ``frontier``, position of the node it leads to, relationship id). With
        ``loops``, a self-loop is one step (undirected too: it is read from the 'out' side
        only, as a relationship is matched once in each orientation but a self-loop has one)."""
        frontier = np.asarray(frontier, dtype=np.int64)
        parts = []
        for side in (("out",) if direction == "out" else ("in",) if direction == "in" else ("out", "in")):
            off, nbr, rid, typ = (getattr(self, f"{side}_{x}") for x in ("off", "nbr", "rid", "type"))
            lo, hi = off[frontier], off[frontier + 1]
            counts = (hi - lo).astype(np.int64)
            total = int(counts.sum())
            if not total:
                continue
            at = np.repeat(np.arange(len(frontier)), counts)
            idx = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(total)
            dst, r = nbr[idx].astype(np.int64), rid[idx]
            keep = np.ones(total, dtype=bool) if mask is None else mask[typ[idx]]
            if not loops or (side == "in" and direction == "both"):
                keep &= dst != frontier[at]
            parts.append((at[keep], dst[keep], r[keep]))
        if not parts:
            e = np.empty(0, dtype=np.int64)
            return e, e, e
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def build(con, folder: Path, fp: list[int] | None = None) -> None:
    """Write the index of the ``rel`` table ``con`` sees into ``folder`` (a new folder)."""
    fp = fp or fingerprint(con)
    folder.mkdir(parents=True, exist_ok=True)
    types = [t for (t,) in con.execute("SELECT DISTINCT type FROM rel ORDER BY type").fetchall()]
    rel = con.execute("""SELECT r.rid, r.src, r.dst, t.code FROM rel r
        JOIN (SELECT type, CAST(row_number() OVER (ORDER BY type) - 1 AS SMALLINT) AS code
              FROM (SELECT DISTINCT type FROM rel)) t USING (type)""").fetchnumpy()
    rid = np.asarray(rel["rid"], dtype=np.int64)
    src = np.asarray(rel["src"], dtype=np.int64)
    dst = np.asarray(rel["dst"], dtype=np.int64)
    # the smallest integer types that hold the values: the index costs ~13 bytes per
    # relationship and direction, a third of the database's size
    code = np.asarray(rel["code"], dtype=np.int8 if len(types) < 128 else np.int16)
    nodes = _sorted_distinct(np.concatenate([src, dst]))
    pos_type = np.int32 if len(nodes) < 2**31 else np.int64
    off_type = np.int32 if len(rid) < 2**31 else np.int64
    si, di = np.searchsorted(nodes, src).astype(pos_type), np.searchsorted(nodes, dst).astype(pos_type)
    arrays = {"nodes": nodes}
    # each node's relationships in id order: sort by id once, then stably by node per side
    # (the order np.lexsort((rid, a)) gives, with one sort of the ids instead of two)
    by_rid = np.argsort(rid, kind="stable")
    for side, a, b in (("out", si, di), ("in", di, si)):
        order = by_rid[np.argsort(a[by_rid], kind="stable")]
        arrays[f"{side}_off"] = np.concatenate(([0], np.cumsum(np.bincount(a, minlength=len(nodes))))).astype(off_type)
        arrays[f"{side}_nbr"] = b[order]
        arrays[f"{side}_rid"] = rid[order]
        arrays[f"{side}_type"] = code[order]
    for name, arr in arrays.items():
        np.save(folder / f"{name}.npy", arr)
    (folder / "stamp.json").write_text(json.dumps({"fingerprint": fp, "types": types}))


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: what ``np.unique`` returns, by a sort and a mask (numpy 2.4's
    ``np.unique`` took 0.5-0.6 CPU s for the 2 M ends of a 100 k-person county, this 0.1 s)."""
    values = np.sort(values, kind="stable")
    if not len(values):
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


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
        return json.loads((folder / "stamp.json").read_text())["fingerprint"]
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
    try:
        return Adjacency(folder, json.loads((folder / "stamp.json").read_text()))
    except (OSError, ValueError, KeyError):
        return None
