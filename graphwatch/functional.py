"""The functional-neighbour table: for relationships a node has at most one of, the
neighbour's id kept beside the node.

Many relationship types are *functional* on one side: every Benefit has exactly one incoming
RECEIVES and one outgoing OF_PROGRAMME and PAID_IN, every person one MEMBER_OF. A Cypher hop
over such a type (``(p)-[:RECEIVES]->(b)``) is a hash join against the whole ``rel`` table (52 M
rows at 5 M persons) on its end; the same hop read from a table holding, per node, the one
neighbour and relationship id is a join against a narrow table whose columns for the other
hops of that node come with the same join (measured at 5 M persons on the duplicate_benefits
model: 0.87 s with ``rel`` joins, 0.315 s with this table joined once per node).

Layout (in ``graph.duckdb``):

``node_fn``        ``nid`` plus, per functional (type, direction) number *k*, ``nb<k>`` the
                   neighbour's id and ``rid<k>`` the relationship's id — one row per node that
                   has at least one such relationship (NULL where it has none of that one)
``node_fn_col``    ``k``, ``type``, ``direction`` ('out': the node is the relationship's
                   source, 'in': its target), ``rels``: which (type, direction) each column pair is
``node_fn_stamp``  the adjacency fingerprint (:func:`graphwatch.adjacency.fingerprint`) of the
                   ``rel`` table the table was built from

Which pairs are functional is read from the data: (T, out) when no node is the source of two
T relationships (two facts of a type between the same nodes — different dates, say — count
twice, so the type is then not functional). Types are not declared functional in the schema
because a load may break it: the table is rebuilt inside every write transaction that changes
``rel`` (:meth:`graphwatch.store.Workspace.transaction`, after the adjacency index, from whose
arrays it is written and whose fingerprint tells whether ``rel`` changed), and built there
when missing. A workspace made
before this table gets it on its next load or resolve, or now with
``python -m graphwatch.functional WORKSPACE``. A reader (:func:`columns`) uses it only if its
stamp matches the ``rel`` table it sees, so a writer that bypassed the transaction cannot make
a query read a stale neighbour.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TABLE = "node_fn"
COLUMNS = "node_fn_col"
STAMP = "node_fn_stamp"


def _exists(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
                            [table]).fetchone()[0])


def stored_stamp(con) -> list[int] | None:
    """The fingerprint the kept table was built from (None: no table)."""
    if not (_exists(con, TABLE) and _exists(con, COLUMNS) and _exists(con, STAMP)):
        return None
    row = con.execute(f"SELECT rels, hash FROM {STAMP}").fetchone()
    return None if row is None else [int(row[0]), int(row[1])]


def detect(adj) -> list[tuple[str, str, int]]:
    """The functional (type, direction, relationships) pairs of an adjacency index
    (:class:`graphwatch.adjacency.Adjacency`, which lists each node's entries in order): a type
    is functional on a side when no node holds two of its entries there."""
    out = []
    for direction in ("out", "in"):
        for code, t in enumerate(adj.types):
            node, _idx = adj._entries_of(direction, code)
            if len(node) and not bool(np.any(node[1:] == node[:-1])):
                out.append((t, direction, int(len(node))))
    out.sort(key=lambda p: (p[0], p[1] == "in"))
    return out


#: nodes per record batch the table is written in (memory: one batch of every column)
BATCH = 1 << 20


def build(con, folder: Path) -> list[tuple[str, str, int]]:
    """(Re)make the three tables from the adjacency index in ``folder`` (the one this
    transaction leaves: built from the same ``rel``); returns the pairs.

    Written from the index's arrays, grouped by the pairs each node has, a batch at a time, as Arrow
    record batches DuckDB reads as a stream: a SQL ``GROUP BY nid`` pivot of the 52 M
    relationships at 5 M persons held 45 columns of aggregate state for 17 M nodes and spilled
    over 20 GB before it failed."""
    import pyarrow as pa

    from .adjacency import Adjacency

    stamp = json.loads((folder / "stamp.json").read_text())
    adj = Adjacency(folder, stamp)
    pairs = detect(adj)
    con.execute(f"CREATE OR REPLACE TABLE {COLUMNS} (k INTEGER NOT NULL, type VARCHAR NOT NULL, "
                "direction VARCHAR NOT NULL, rels BIGINT NOT NULL)")
    if pairs:
        con.executemany(f"INSERT INTO {COLUMNS} VALUES (?, ?, ?, ?)",
                        [(k, t, d, n) for k, (t, d, n) in enumerate(pairs)])
    nodes = np.asarray(adj.nodes)
    cols = []                                   # per pair: (node positions, neighbour ids, rids)
    sig = np.zeros(len(nodes), dtype=np.int64)      # which pairs each node has, as bits
    for k, (t, d, _n) in enumerate(pairs):
        pos, idx = adj._entries_of(d, adj.type_code[t])
        nbr, rid = getattr(adj, f"{d}_nbr"), getattr(adj, f"{d}_rid")
        cols.append((pos, nodes[nbr[idx]], np.asarray(rid[idx], dtype=np.int64)))
        sig[pos] |= np.int64(1) << np.int64(k % 63)
    # the nodes with a row, those with the same pairs together (benefits, persons …), in id
    # order within: a scan for one column's rows (``nb3 IS NOT NULL``, a join on it) then
    # skips the row groups of other kinds of node by their statistics
    keep = np.flatnonzero(sig)
    keep = keep[np.lexsort((keep, sig[keep]))]
    names = ["nid"] + [f"{x}{k}" for k in range(len(pairs)) for x in ("nb", "rid")]
    schema = pa.schema([(n, pa.int64()) for n in names])

    def batches():
        for lo in range(0, len(keep), BATCH):
            at = keep[lo:lo + BATCH]
            arrays = [pa.array(nodes[at])]
            for pos, nb, rid in cols:
                # where each kept node is in this pair's sorted positions, if it is there
                j = np.minimum(np.searchsorted(pos, at), max(len(pos) - 1, 0))
                ok = (pos[j] == at) if len(pos) else np.zeros(len(at), dtype=bool)
                arrays.append(pa.array(np.where(ok, nb[j] if len(pos) else 0, 0), mask=~ok))
                arrays.append(pa.array(np.where(ok, rid[j] if len(pos) else 0, 0), mask=~ok))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    con.register("_gw_fn_stream", reader)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM _gw_fn_stream")
    finally:
        con.unregister("_gw_fn_stream")
    fp = stamp["fingerprint"]
    con.execute(f"CREATE OR REPLACE TABLE {STAMP} (rels BIGINT NOT NULL, hash UBIGINT NOT NULL)")
    con.execute(f"INSERT INTO {STAMP} VALUES (?, ?)", [int(fp[0]), int(fp[1])])
    return pairs


def adjacency_folder(ws_path: Path, new: Path | None) -> Path:
    """The adjacency index this transaction leaves: the folder
    :func:`graphwatch.adjacency.refresh` just built (``new``), else the kept one (it matched)."""
    from .adjacency import FOLDER

    return new or ws_path / FOLDER


def refresh(con, folder: Path) -> bool:
    """Inside a write transaction, after the adjacency index was refreshed (``folder``, built
    from the ``rel`` table as the transaction leaves it): rebuild the table when it was built
    from another ``rel`` or is missing. True if rebuilt."""
    fp = json.loads((folder / "stamp.json").read_text())["fingerprint"]
    if stored_stamp(con) == [int(x) for x in fp]:
        return False
    build(con, folder)
    return True


def columns(con, fp: list[int] | None) -> dict[tuple[str, str], int] | None:
    """For a reader: {(type, direction): k} of the kept table, or None when there is none or
    it was built from another ``rel`` than the one ``fp`` (its fingerprint) describes."""
    stamp = stored_stamp(con)
    if stamp is None or fp is None or stamp != [int(x) for x in fp]:
        return None
    return {(t, d): int(k) for k, t, d in con.execute(f"SELECT k, type, direction FROM {COLUMNS} ORDER BY k").fetchall()}


def drop(con) -> None:
    """Remove the table (a benchmark's copy without it; the next write transaction makes it)."""
    for t in (TABLE, COLUMNS, STAMP):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def main(argv: list[str] | None = None) -> int:
    """``python -m graphwatch.functional WORKSPACE``: build the table on a workspace made
    before it (one write transaction; nothing else changes)."""
    import sys
    import time

    from .store import Workspace

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m graphwatch.functional WORKSPACE", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    with Workspace(args[0]) as ws:
        with ws.transaction():
            pass              # the transaction refreshes the table (and the indexes) before COMMIT
        cols = columns(ws.con, stored_stamp(ws.con))
        rows = ws.con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    print(f"{TABLE}: {rows:,} nodes, {len(cols or {})} functional (type, direction) pairs: "
          + ", ".join(f"{t} {d}" for t, d in sorted(cols or {})) + f" ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
