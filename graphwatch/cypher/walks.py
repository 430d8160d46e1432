"""The walks of a variable-length relationship, computed before the statement.

A :class:`WalkStep` leaves in the temporary table ``step.name`` one row (s, cur, rids,
nids) per walk of at most ``max_hops`` relationships from each start node, no relationship
twice (Cypher's relationship uniqueness), the empty walk included: ``rids`` in walking
order, ``nids`` the nodes after each step. The statement joins it like a table and keeps
the walks of the right length that end where the pattern says.

With the adjacency index and at most :data:`INDEXED_STARTS` start nodes the walks are
enumerated level by level with array operations over the index (the walks of a level are a
matrix: one row per walk, one column per step); otherwise, or with inline relationship
properties, by the recursive query that scans the relationships each level.
"""

from __future__ import annotations

from dataclasses import dataclass, field


from .implied import carries
from .scope import used_params

#: the most start nodes walked over the index (more go to SQL); the walks' own cap below
#: is what bounds memory, so this only keeps absurd start sets (every node of a huge graph)
#: from being read into memory before the cap is known to be exceeded
INDEXED_STARTS = 5_000_000
#: the most walks kept in memory over the index; past it the SQL search takes over
INDEXED_WALKS = 5_000_000
#: the most rows a start set's lookup (:attr:`WalkStep.lookup`) reads into Python; more: the
#: start set's own statement
LOOKED_UP_ROWS = 1_000


@dataclass
class WalkStep:
    name: str
    start_sql: str            # SELECT x: the start node ids
    edges_sql: str            # rid, _s, _d: relationships oriented for the walk
    max_hops: int
    types: frozenset | None
    direction: str
    indexable: bool           # no inline relationship properties
    target_sql: str = ""      # (a shortest-path step's field; a walk has no target set)
    # the start set as one node's lookup: (equality on a property, the labels it must carry)
    # (:func:`.implied.looked_up`), read through the index instead of ``start_sql``
    lookup: tuple | None = None
    # pattern predicates on where each walk ends, (types, direction) each, as columns has0, has1 …
    # (:func:`.predicates._walk_end_flag`): whether ``cur`` has such a relationship
    flags: list = field(default_factory=list)
    # (set by run) None: the SQL search ran (its starts table too); else whether the index's
    # walks are a registered Arrow table (True) or were copied into a temporary one (False)
    registered: bool | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        flags = "".join(f"\n--   has{i}:    a {'|'.join(sorted(t)) if t else 'any'} relationship ({d}) at the walk's end"
                        for i, (t, d) in enumerate(self.flags))
        return (f"-- step: variable-length walks into temporary table {self.name} (at most {self.max_hops} "
                f"relationships)\n--   start:   {self.start_sql}\n--   edges:   {self.edges_sql}{flags}")

    def flag(self, types, direction: str) -> str:
        """The column telling whether a walk's end has a relationship of ``types`` (None: any)
        in ``direction``, added to what the step computes."""
        key = (frozenset(types) if types else None, direction)
        if key not in self.flags:
            self.flags.append(key)
        return f"has{self.flags.index(key)}"

    def _flags_sql(self) -> str:
        """The flags as SQL columns of the recursive search's walks ``w``."""
        from .patterns import type_filter      # (patterns imports this module)

        out = []
        for i, (types, direction) in enumerate(self.flags):
            of = type_filter("r.type", types) or "true"
            at = {"out": "r.src = w.cur", "in": "r.dst = w.cur"}.get(direction, "(r.src = w.cur OR r.dst = w.cur)")
            out.append(f", EXISTS (SELECT 1 FROM rel AS r WHERE {of} AND {at}) AS has{i}")
        return "".join(out)

    def run(self, con, params: dict, adjacency=None) -> None:
        starts = f"{self.name}_starts"
        select = f"SELECT DISTINCT x FROM ({self.start_sql}) st WHERE x IS NOT NULL"
        if adjacency is not None and self.indexable:
            # the start ids straight into numpy: a temporary table of them, its count and its
            # read were three statements (2 ms of a 7 ms two-hop query at 1 M persons); the
            # start set's own SELECT, its NULLs and repeats left out here rather than by a
            # DISTINCT around it (0.1 ms of a 1 ms lookup of one person; the walk sorts the ids)
            import numpy as np

            found = None
            if self.lookup is not None:
                # (a property many nodes share, {sex: '男'}: the start set's own statement reads
                # them into numpy faster than rows into Python)
                where, need = self.lookup
                sql = f"SELECT labels, nid FROM node WHERE {where} LIMIT {LOOKED_UP_ROWS + 1}"
                found = con.execute(sql, used_params(sql, params)).fetchall()
                if len(found) > LOOKED_UP_ROWS:
                    found = None
            if found is not None:
                ids = np.array([nid for labels, nid in found if carries(labels, need)], dtype=np.int64)
            else:
                got = con.execute(self.start_sql, used_params(self.start_sql, params)).fetchnumpy()["x"]
                ids = np.asarray(got.compressed() if np.ma.isMaskedArray(got) else got, dtype=np.int64)
            if self.run_indexed(con, adjacency, ids):
                return
            import pyarrow as pa

            _copy(con, starts, pa.table({"x": ids[np.sort(np.unique(ids, return_index=True)[1])]}))
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {starts} AS {select}", used_params(self.start_sql, params))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {self.name} AS WITH RECURSIVE w AS (
              SELECT x AS s, x AS cur, CAST([] AS BIGINT[]) AS rids, CAST([] AS BIGINT[]) AS nids FROM {starts}
              UNION ALL
              SELECT p.s, e._d, list_append(p.rids, e.rid), list_append(p.nids, e._d)
              FROM w p JOIN ({self.edges_sql}) e ON e._s = p.cur
              WHERE len(p.rids) < {int(self.max_hops)} AND NOT list_contains(p.rids, e.rid))
            SELECT w.*{self._flags_sql()} FROM w""", used_params(self.edges_sql, params))

    def run_indexed(self, con, adj, starts) -> bool:
        """The walks from ``starts`` (node ids, each walked from once) over the index; False
        (nothing done) when there are too many starts or walks."""
        import numpy as np       # here: numpy takes ~0.1 s to import, and most queries need none
        import pyarrow as pa

        if len(starts) > INDEXED_STARTS:
            return False
        mask = adj.type_mask(self.types)
        # walked in index order, each level reads the index's arrays front to back (gathers in
        # the order DISTINCT left the starts miss the cache: 19 ms of 54 for 76 k starts): the
        # starts without relationships first, as they came, then the others by position — the
        # order a stable sort of the positions gives, from one sort of the ids (the positions
        # of sorted ids are sorted; a second sort took 5 ms of a 32 ms walk from 76 k starts).
        # A start given twice is walked from once (its first place counts).
        by_id = np.argsort(starts, kind="stable")
        if len(by_id) > 1:
            ordered = starts[by_id]
            by_id = by_id[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        pos = adj.index_of(starts[by_id], ordered=True)
        known = pos >= 0
        order = np.concatenate((np.sort(by_id[~known]), by_id[known]))
        starts = starts[order]
        pos = np.concatenate((np.full(int((~known).sum()), -1, dtype=pos.dtype), pos[known]))
        tables = [_level(starts, starts, np.empty((len(starts), 0), np.int64), np.empty((len(starts), 0), np.int64))]
        walk_start = starts[pos >= 0]
        cur = pos[pos >= 0]
        rids = np.empty((len(cur), 0), dtype=np.int64)
        nodes = np.empty((len(cur), 0), dtype=np.int64)
        kept = len(starts)
        for _ in range(self.max_hops):
            if not len(cur):
                break
            at, dst, rid = adj.steps(cur, self.direction, mask)
            prev = rids[at]
            fresh = (prev != rid[:, None]).all(axis=1) if prev.shape[1] else np.ones(len(rid), dtype=bool)
            at, dst, rid = at[fresh], dst[fresh], rid[fresh]
            kept += len(at)
            if kept > INDEXED_WALKS:
                return False
            walk_start, cur = walk_start[at], dst
            rids = np.hstack([rids[at], rid[:, None]])
            nodes = np.hstack([nodes[at], dst[:, None]])
            tables.append(_level(walk_start, adj.nodes[cur], rids, adj.nodes[nodes]))
        table = pa.concat_tables(tables)
        if self.flags:
            ends = table.column("cur").to_numpy()
            for i, (types, direction) in enumerate(self.flags):
                table = table.append_column(f"has{i}", pa.array(adj.has_any(ends, direction, adj.type_mask(types))))
        self.registered = temp_table(con, self.name, table)
        return True

    def drop(self, con) -> None:
        """Remove what :meth:`run` made (an indexed walk made no table of its starts; every
        DROP is a statement, a fifth of a millisecond)."""
        registered, self.registered = self.registered, None
        drop_relation(con, self.name, registered)
        if registered is None:
            con.execute(f"DROP TABLE IF EXISTS {self.name}_starts")


@dataclass
class TableStep:
    """The query's common table expressions so far, kept as temporary tables of the same
    names: a walk's start set is the rows matched so far, and computing them once for the
    start set and again inside the statement cost cadre_subsidy 170 ms of 500 at 1 M persons.
    Run before the walk whose start set reads them; the statement reads the tables."""
    tables: list[tuple[str, str]]     # (name, SELECT …) in order: each may read the ones before
    start_sql: str = ""
    target_sql: str = ""
    edges_sql: str = ""
    indexable: bool = False

    def __post_init__(self):
        self.start_sql = "\n".join(body for _name, body in self.tables)   # (for the parameters it uses)

    def describe(self) -> str:
        return "".join(f"-- step: temporary table {name} AS {body}\n" for name, body in self.tables).rstrip("\n")

    def run(self, con, params: dict, adjacency=None) -> None:
        for name, body in self.tables:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {body}", used_params(body, params))

    def drop(self, con) -> None:
        for name, _body in reversed(self.tables):
            con.execute(f"DROP TABLE IF EXISTS {name}")


#: up to this many rows a step's result is read from the Arrow table itself; more are copied
#: into a temporary table (DuckDB scans and plans a larger one better: duplicate_benefits'
#: walks read from Arrow took 1.8 s against 1.1 s at 1 M persons)
REGISTER_ROWS = 10_000


def temp_table(con, name: str, table) -> bool:
    """The Arrow ``table`` as the relation ``name`` the statement reads (what a search step
    leaves): a small one registered with the connection as it is — the copy into a temporary
    table and its DROP cost 4-5 ms of a 20 ms shortest-path query — a larger one copied.
    Returns whether it was registered; :func:`drop_relation` removes either."""
    if table.num_rows <= REGISTER_ROWS:
        con.register(name, table)
        return True
    _copy(con, name, table)
    return False


def _copy(con, name: str, table) -> None:
    """The Arrow ``table`` copied into the temporary table ``name``."""
    view = f"{name}_arrow"
    con.register(view, table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)


def drop_relation(con, name: str, registered: bool | None = None) -> None:
    """Remove a step's relation: an Arrow table :func:`temp_table` registered (``registered``
    True), a temporary table (False), or whichever there is (None: a step that failed before
    it knew)."""
    if registered is not False:
        con.unregister(name)
    if registered is not True:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _level(s, cur, rids, nids):
    """The walks of one length as an Arrow table (s, cur, rids, nids): numpy arrays, the
    lists as matrices (one row per walk)."""
    import numpy as np
    import pyarrow as pa

    n, k = rids.shape
    offsets = pa.array(np.arange(0, n * k + 1, k if k else 1)[: n + 1] if k else np.zeros(n + 1, np.int32),
                       type=pa.int32())

    def lists(m):
        return pa.ListArray.from_arrays(offsets, pa.array(m.reshape(-1).astype(np.int64), type=pa.int64()))

    return pa.table({"s": pa.array(s.astype(np.int64)), "cur": pa.array(np.asarray(cur).astype(np.int64)),
                     "rids": lists(rids), "nids": lists(nids)})
