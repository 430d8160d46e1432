"""Lookup indexes: DuckDB ART indexes on the ids and the identifying properties.

A pattern that starts from one person (``{id_number: $id}``) or reads the properties of a
few nodes found by a search otherwise scans the whole ``node`` table for each: ~60 ms at
1 M persons, where Neo4j answers from its index in about one. DuckDB answers from an ART
index instead of scanning in two cases (measured at 1 M persons, DuckDB 2.0):

* a scan whose only filter is an equality on the indexed column (0.5 ms against 35–75 ms;
  with any second filter on the same scan — a label — it scans again): the compiler's join
  planner therefore reads such a node, wherever it is in the join, from its own small CTE
  of the columns the statement reads (:mod:`graphwatch.cypher.planner`);
* a hash join whose build side is small (≤ 2,000 keys) probes the index of the other side's
  join column (1.3–2.8 ms for 50 node ids against 40–67 ms) — again only when the scan has
  no filter of its own, so the planner keeps a node's label test in the join when it joins
  the node by id to a few rows (0.1 against 6 ms at 1 M persons).

So every write transaction (:meth:`graphwatch.store.Workspace.transaction`) is followed by
making sure these exist (the ids, and the properties the schema's ``lookups`` list names:
``id_number`` and ``uscc`` in the packaged schema, the named ``:ID`` columns of a neo4j-admin
import in its inferred one), in a transaction of its own after the COMMIT, over the committed
tables (made inside the transaction that wrote a first load's rows, DuckDB built them at COMMIT
entry by entry, three times slower); DuckDB keeps them up to date from then on. Measured cost and gain:
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

from collections import Counter

#: ids read per statement by :func:`rows_by_ids`: DuckDB answers a join whose build side has at
#: most this many keys by probing the ART index of the other side's join column, where a
#: ``list_contains`` filter or a semi join reads the whole table (measured at 5 M persons,
#: ``SELECT *`` of random nodes: 10 ids 33 → 5 ms, 200 ids 228 → 43 ms, 3,000 ids 1.6 → 0.44 s
#: in chunks of 2,000; 1.1 s in one statement)
INDEX_JOIN_KEYS = 2000


def rows_by_ids(con, table: str, column: str, ids, columns: str = "t.*", where: str = "") -> tuple[list, list]:
    """(column names, rows) of ``table`` (aliased ``t``) whose ``column`` is one of ``ids``,
    each row once, in no particular order: the ids are joined a chunk of
    :data:`INDEX_JOIN_KEYS` at a time, so each statement reads the rows through the index.
    ``where``: a further condition on ``t`` (applied after the join)."""
    ids = list(ids)
    names, rows = [], []
    for k in range(0, len(ids), INDEX_JOIN_KEYS):
        cur = con.execute(f"""SELECT * FROM (SELECT {columns} FROM (SELECT unnest($ids) AS _id) AS _w
                                JOIN {table} AS t ON t.{column} = _w._id){' WHERE ' + where if where else ''}""",
                          {"ids": ids[k:k + INDEX_JOIN_KEYS]})
        names = [d[0] for d in cur.description]
        rows += cur.fetchall()
    return names, rows


#: from this many relationships on, :func:`rel_rows` may read them by row id
CLUSTERED_FROM = 200
#: the rows DuckDB scans a column by (a vector)
VECTOR_ROWS = 2048
#: node rows sharing a vector from which :func:`node_rows` reads them by a scan of it (a node row has
#: ~55 columns: a vector of them costs ~0.2 ms to scan at 5 M persons, a row through the index ~50 µs)
NODES_TOGETHER_FROM = 4


def rel_rows(con, ids) -> tuple[list, list]:
    """(column names, rows) of the relationships with these ids: :func:`rows_near`. DuckDB
    fetches a row through the index a column at a time, and a list column at up to 0.7 ms a
    row (2,000 relationships of direct_award_ratio's evidence at 5 M persons: 1.33 of 1.39 s on
    ``records``, lists of one entry); the relationships of one type lie together (``rel`` is
    ordered by type): the evidence of the whole library at 5 M persons in 2.9 s against 4.5 s
    through the index, direct_award_ratio's 0.55 against 6.3 s."""
    return rows_near(con, "rel", "rid", ids)


def rows_near(con, table: str, column: str, ids, columns: str = "t.*", together_from: int = 2) -> tuple[list, list]:
    """(column names, rows) of ``table`` (aliased ``t``) whose ``column`` is one of ``ids``, as
    :func:`rows_by_ids` reads them; but from :data:`CLUSTERED_FROM` ids on, their row ids are read
    through the index first, and the rows that share a 2,048-row vector with ``together_from - 1``
    others or more are read by a scan of just those vectors, the others through the index (a
    vector of relationships costs about what one through the index costs; a vector of node
    rows, ~55 columns, about four: :data:`NODES_TOGETHER_FROM`). The 2,122 contracts
    direct_award_ratio returns at 5 M persons (43 vectors): 118 → 40 ms; 2,166 persons in 1,467
    vectors: the same as through the index."""
    ids = list(ids)
    if len(ids) < CLUSTERED_FROM:
        return rows_by_ids(con, table, column, ids, columns)
    found = rows_by_ids(con, table, column, ids, f"t.rowid, t.{column}")[1]
    per_vector = Counter(r // VECTOR_ROWS for r, _i in found)
    together = [r for r, _i in found if per_vector[r // VECTOR_ROWS] >= together_from]
    alone = [i for r, i in found if per_vector[r // VECTOR_ROWS] < together_from]
    if not together:
        return rows_by_ids(con, table, column, alone, columns)
    cur = con.execute(f"SELECT {columns} FROM {table} AS t WHERE t.rowid IN (SELECT unnest($r))", {"r": together})
    names, rows = [d[0] for d in cur.description], cur.fetchall()
    if alone:
        rows += rows_by_ids(con, table, column, alone, columns)[1]
    return names, rows


def _close_together(rowids) -> bool:
    """Whether rows lie at least two to a vector: then a scan of just their vectors by row id
    reads them faster than DuckDB's fetch through an index, column by column (see
    :func:`rows_near`)."""
    return 2 * len({r // VECTOR_ROWS for r in rowids}) <= len(rowids)


def sparse_list_columns(con) -> list[str]:
    """The list-typed property columns of ``node`` (not its labels and datasets): a catalog
    query (~1 ms), so a caller reading nodes often keeps the answer (columns are only added)."""
    return [c for (c,) in con.execute(
        """SELECT column_name FROM duckdb_columns() WHERE table_name = 'node' AND schema_name = 'main'
           AND data_type LIKE '%[]' AND column_name NOT IN ('labels', 'datasets') ORDER BY column_index""").fetchall()]


def node_rows(con, ids, sparse: list[str] | None = None) -> list[dict]:
    """The ``node`` rows with these ids, as dicts of every column. ``sparse``: the list
    columns most nodes lack (:func:`sparse_list_columns`, looked up when not given), read
    apart where set: selected beside the others, ``aliases`` cost 15 ms for 50 companies at
    1 M persons (DuckDB fetches a list column row by row through the index), where a filter
    on it being set, by the rows' row ids (one statement for every sparse column), took
    1.5 ms against 2.9 ms for that column through the index again. Many scattered rows (an
    evidence's thousands of persons at 5 M) read them through the index still: a vector
    scanned for each row costs more there. The other columns: :func:`rows_near` (by a scan
    of the vectors holding :data:`NODES_TOGETHER_FROM` rows or more, else through the index)."""
    from .store import q

    ids = list(set(ids))
    if not ids:
        return []
    sparse = sparse_list_columns(con) if sparse is None else sparse
    if not sparse:
        cols, rows = rows_near(con, "node", "nid", ids, together_from=NODES_TOGETHER_FROM)
        return [dict(zip(cols, r)) for r in rows]
    listed = [q(c) for c in sparse]
    cols, rows = rows_near(con, "node", "nid", ids, f"t.rowid AS _gw_row, t.* EXCLUDE ({', '.join(listed)})",
                           NODES_TOGETHER_FROM)
    at = cols.index("_gw_row")
    recs = {r[at]: {c: v for c, v in zip(cols, r) if c != "_gw_row"} for r in rows}
    set_ = " OR ".join(c + " IS NOT NULL" for c in listed)
    if len(recs) < CLUSTERED_FROM or _close_together(recs):
        got = con.execute(f"SELECT rowid, {', '.join(listed)} FROM node WHERE rowid = ANY($r) AND ({set_})",
                          {"r": list(recs)}).fetchall()
    else:      # many scattered rows: a vector scanned for each costs more than the index's fetch
        got = rows_by_ids(con, "node", "nid", ids, f"t.rowid, {', '.join('t.' + c for c in listed)}", set_)[1]
    for row, *values in got:
        recs[row].update(zip(sparse, values))
    for rec in recs.values():
        for c in sparse:
            rec.setdefault(c, None)
    return list(recs.values())


#: (table, column) pairs always kept indexed; besides them, the schema's ``lookups``
INDEXED = (("node", "nid"), ("rel", "rid"))

#: lookup indexes earlier versions made and a write transaction now drops. ``node.key``: a
#: node's id is a function of its key (:func:`graphwatch.store.key_id`), so a key is found
#: through the id's index (:func:`graphwatch.store.node_by_key`); its own index cost 0.71 GiB
#: and 7.4 s of a load at 5 M persons (``benchmarks/RESULTS.md``)
OBSOLETE = (("node", "key"),)


def ensure(con, schema=None) -> None:
    """Create the missing lookup indexes (inside the caller's transaction): the ids and the
    node properties the schema lists under ``lookups`` (where the column exists); drop the
    :data:`OBSOLETE` ones.
    :func:`make_room` may raise the memory limit for them; the caller sets it back after its
    COMMIT (:func:`restore_limit`)."""
    have = indexed(con)
    for table, col in OBSOLETE:
        if (table, col) in have:
            con.execute(f"DROP INDEX IF EXISTS gw_{table}_{col}")
    todo = missing(con, schema, have)
    if not todo:
        return
    make_room(con, [t for t, _c in todo])
    for table, col in todo:
        create(con, table, col)


#: what DuckDB's ART index takes while it is built, per row, besides a fixed margin (measured
#: at 5 M persons: the rid index of 52 M relationships ran out of the 3 GB workspace limit; the
#: process peaked at 5.8 GB building every index with the limit raised)
INDEX_BYTES_PER_ROW = 96
INDEX_MARGIN = 2**30


def make_room(con, tables: list[str]) -> None:
    """DuckDB builds an ART index in memory and cannot spill it: before the indexes of
    ``tables`` are made, the connection's memory limit is raised to what the largest needs
    (:data:`INDEX_BYTES_PER_ROW` per row plus a margin), at most 80 % of the memory the
    machine has free (left alone when it is enough — a county of 1 M persons builds its
    indexes within the default 3 GB). It can only be set back once the new index
    is no longer held in memory (after the transaction, and maybe not before the connection
    closes): :func:`restore_limit`."""
    rows = max(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in set(tables))
    raise_limit(con, rows * INDEX_BYTES_PER_ROW + INDEX_MARGIN)


def raise_limit(con, need: int) -> str | None:
    """Raise the connection's memory limit to ``need`` bytes, at most 80 % of the memory the
    machine has free (left alone when it is already enough; :func:`restore_limit` sets it back).
    Returns the new limit as set, or None when it was left alone."""
    import psutil

    (current,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    have = _bytes(current)
    mib = -(-int(min(need, 0.8 * psutil.virtual_memory().available)) // 2**20)      # (rounded up)
    if have is not None and mib * 2**20 > have:
        con.execute("SET memory_limit = ?", [f"{mib}MiB"])
        return f"{mib}MiB"
    return None


#: what the lookup indexes hold in memory once read, per relationship and per node (an ART
#: index is not evicted by DuckDB: at 5 M persons, after ``graphwatch run`` had read the
#: evidence of ten models, 2.4 GiB of the 3 GB limit were index — 52 M relationship ids, 17 M
#: node ids — and the next model ran out of memory; on disk: 37 and 47 bytes a row)
RESIDENT_BYTES_PER_REL = 40
RESIDENT_BYTES_PER_NODE = 50


def resident_bytes(con) -> int:
    """What the lookup indexes of the workspace's tables may come to hold in memory."""
    rows = dict(con.execute("SELECT table_name, estimated_size FROM duckdb_tables() "
                            "WHERE schema_name = 'main' AND table_name IN ('node', 'rel')").fetchall())
    return int(rows.get("rel", 0) * RESIDENT_BYTES_PER_REL + rows.get("node", 0) * RESIDENT_BYTES_PER_NODE)


def limit_beside_indexes(con, limit: str) -> str:
    """The memory limit for work of ``limit`` beside the indexes (:func:`resident_bytes`),
    set on ``con``: raised by what they may hold, within 80 % of the free memory."""
    base, extra = _bytes(limit), resident_bytes(con)
    if base is None or extra < SMALL_INDEXES:
        return limit
    return raise_limit(con, base + extra) or limit


#: indexes this small fit the limit's margin (and a small workspace opens without psutil)
SMALL_INDEXES = 64 * 2**20


def restore_limit(con, limit: str) -> bool:
    """Set the memory limit back (outside a transaction); False when DuckDB cannot yet free
    enough memory for it (the indexes just made are still resident: the raised limit then
    stays for this connection)."""
    import duckdb

    try:
        con.execute("SET memory_limit = ?", [limit])
        return True
    except duckdb.OutOfMemoryException:
        return False


def _bytes(setting: str) -> int | None:
    """A memory size as DuckDB shows it (``2.7 GiB``, ``953.6 MiB``) or as it is set
    (``3GB``, ``24MB``, a number of bytes) in bytes; None when it is neither."""
    import re

    units = {"": 1, "b": 1, "bytes": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
             "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", str(setting))
    if m is None or m.group(2).lower() not in units:
        return None
    return int(float(m.group(1)) * units[m.group(2).lower()])


def missing(con, schema=None, have: set | None = None) -> list[tuple[str, str]]:
    """The (table, column) pairs :func:`ensure` would index, in order (``have``: what
    :func:`indexed` says, when the caller asked already)."""
    have = indexed(con) if have is None else have
    cols = _columns(con)
    wanted = list(INDEXED) + [("node", p) for p in (schema.lookups if schema is not None else ())]
    return [(t, c) for t, c in wanted if (t, c) not in have and c in cols.get(t, ())]


def create(con, table: str, col: str) -> None:
    con.execute(f'CREATE INDEX IF NOT EXISTS gw_{table}_{col} ON {table} ("{col}")')


def drop_all(con) -> None:
    """Drop the lookup indexes (a benchmark's copy without them)."""
    for (name,) in con.execute("SELECT index_name FROM duckdb_indexes() WHERE index_name LIKE 'gw\\_%' "
                               "ESCAPE '\\'").fetchall():
        con.execute(f"DROP INDEX {name}")


def indexed(con) -> set[tuple[str, str]]:
    """The (table, column) pairs with a single-column index in the main schema."""
    out = set()
    for table, exprs in con.execute(
            "SELECT table_name, expressions FROM duckdb_indexes() WHERE schema_name = 'main'").fetchall():
        cols = [e.strip().strip("'").strip('"') for e in str(exprs).strip("[]").split(",")]
        if len(cols) == 1:
            out.add((table, cols[0]))
    return out


def _columns(con) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, col in con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                  "WHERE schema_name = 'main' AND table_name IN ('node', 'rel')").fetchall():
        out.setdefault(table, set()).add(col)
    return out
