"""shortestPath and allShortestPaths: compiled into a search step, run before the statement.

Inside one recursive CTE every level of a breadth-first search re-hashed all
relationships (17 s at 1 M persons), so the search runs as a :class:`ShortestStep`: the
engine calls :meth:`ShortestStep.run` before the main statement, which searches level by
level on temporary tables and leaves one row per shortest path (all of them for
allShortestPaths) from each start node to each reachable target in the temporary table
``step.name`` (s, t, rids, nids). The main statement joins that table like a
variable-length hop.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

from . import ir, patterns
from .checker import shortest_max_hops
from .implied import carries, looked_up, walked_from
from .scope import NodeRef, Scope, Var, used_params
from .varlength import REVERSED
from .walks import drop_relation, temp_table

if TYPE_CHECKING:
    from .compiler import Compilation


@dataclass
class ShortestStep:
    """A shortest-path search to run before the main statement (see the module doc)."""
    name: str
    start_sql: str            # SELECT x: the start node ids
    target_sql: str           # SELECT x: the target node ids
    edges_sql: str            # rid, _s, _d: relationships oriented for the search
    max_hops: int
    min_hops: int
    all_paths: bool
    types: frozenset | None = None      # for the indexed search (:mod:`.bfs`): the types allowed,
    direction: str = "both"             # the direction from start to target,
    indexable: bool = False             # and whether the index can answer (no hop properties)
    ends_sql: str = ""                  # side (0 start, 1 target), x: both ends in one statement, at
                                        # most INDEXED_PAIRS + 1 of each (for the indexed search)
    ends_lookup: tuple | None = None    # both ends as one node's lookup each: (SELECT side, labels,
                                        # nid, the labels of each side) (:func:`.implied.looked_up`)
    in_sql: bool = True                 # (set by run) the search ran in SQL: it has work tables
    registered: bool | None = None      # (set by run) the index's paths: registered Arrow (True) or copied

    def describe(self) -> str:
        kind = "allShortestPaths" if self.all_paths else "shortestPath"
        return (f"-- step: {kind} into temporary table {self.name} (breadth-first, at most {self.max_hops} "
                f"levels)\n--   start:   {self.start_sql}\n--   target:  {self.target_sql}\n"
                f"--   edges:   {self.edges_sql}")

    @property
    def work_tables(self) -> dict[str, str]:
        """The temporary tables of the search, by role."""
        n = self.name
        return {"targets": f"{n}_targets", "reached": f"{n}_reached", "frontier": f"{n}_frontier",
                "next": f"{n}_next"}

    def run(self, con, params: dict, adjacency=None) -> None:
        """The search: over the adjacency index when there is one and the start and target
        sets are small (:meth:`run_indexed`), else :meth:`run_sql`."""
        self.in_sql = False
        if adjacency is not None and self.indexable and self.run_indexed(con, params, adjacency):
            return
        self.in_sql = True
        self.run_sql(con, params)

    def run_indexed(self, con, params: dict, adj) -> bool:
        import numpy as np       # here: numpy takes ~0.1 s to import, and most queries need none

        """A bidirectional search (:mod:`.bfs`) per (start, target) pair, when there are at
        most :data:`INDEXED_PAIRS` pairs; returns False (nothing done) otherwise."""
        from .bfs import PairSearch

        # both ends in one statement (each is a millisecond of DuckDB's start-up at least)
        ends = self._looked_up(con, params) if self.ends_lookup is not None else None
        if ends is None:
            ends = ([], [])
            for side, x in con.execute(self.ends_sql, used_params(self.ends_sql, params)).fetchall():
                if x is not None:
                    ends[side].append(x)
        starts, targets = ends
        if len(starts) * len(targets) > INDEXED_PAIRS or max(len(starts), len(targets)) > INDEXED_PAIRS:
            return False
        s_pos, t_pos = adj.index_of(starts).tolist(), adj.index_of(targets).tolist()
        blocks = []        # (s, t, rids matrix, nids matrix): every path of a block has one length
        with PairSearch(adj, self.direction, self.types, self.max_hops, self.min_hops, self.all_paths) as search:
            for s, sp in zip(starts, s_pos):
                for t, tp in zip(targets, t_pos):
                    if s == t:
                        if self.min_hops == 0:
                            blocks.append((s, t, np.empty((1, 0), np.int64), np.array([[s]], np.int64)))
                        continue
                    for rids, path in search.paths(sp, tp):
                        blocks.append((s, t, rids, adj.nodes[path]))
        self.registered = _write(con, self.name, blocks)
        return True

    def _looked_up(self, con, params: dict) -> tuple[list, list] | None:
        """Both ends by :attr:`ends_lookup` (each once, in the order found); None when a side
        read more than :data:`INDEXED_PAIRS` rows (its labels not yet tested: the ends
        statement decides then)."""
        sql, need = self.ends_lookup
        rows = con.execute(sql, used_params(sql, params)).fetchall()
        if max(sum(1 for r in rows if r[0] == side) for side in (0, 1)) > INDEXED_PAIRS:
            return None
        ends: tuple[dict, dict] = ({}, {})
        for side, labels, x in rows:
            if carries(labels, need[side]):
                ends[side].setdefault(x, None)
        return list(ends[0]), list(ends[1])

    def run_sql(self, con, params: dict) -> None:
        """Breadth-first search, one statement per level, on temporary tables.

        ``_reached`` holds every (start, node) reached with its depth and the relationships
        that reached it first (all of them at that depth: allShortestPaths needs them); the
        search stops at ``max_hops`` levels, when nothing new is reached, or once every
        target is reached from every start. Then a walk back over those predecessors writes
        the paths to ``name``.
        """
        w = self.work_tables
        targets, reached, frontier, nxt = w["targets"], w["reached"], w["frontier"], w["next"]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {targets} AS SELECT DISTINCT x FROM ({self.target_sql}) tt",
                    used_params(self.target_sql, params))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {reached} AS SELECT DISTINCT x AS s, x AS cur, 0 AS depth,
            CAST([] AS STRUCT(r BIGINT, n BIGINT)[]) AS preds FROM ({self.start_sql}) ss""",
                    used_params(self.start_sql, params))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {frontier} AS SELECT s, cur FROM {reached}")
        starts = con.execute(f"SELECT count(*) FROM {frontier}").fetchall()[0][0]
        n_targets = con.execute(f"SELECT count(*) FROM {targets}").fetchall()[0][0]
        edge_params = used_params(self.edges_sql, params)
        for depth in range(1, self.max_hops + 1):
            if not starts or not n_targets:
                break
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {nxt} AS
                SELECT f.s, e._d AS cur, {depth} AS depth, list_sort(list({{'r': e.rid, 'n': f.cur}})) AS preds
                FROM {frontier} f JOIN ({self.edges_sql}) e ON e._s = f.cur
                WHERE NOT EXISTS (SELECT 1 FROM {reached} v WHERE v.s = f.s AND v.cur = e._d)
                GROUP BY f.s, e._d""", edge_params)
            if not con.execute(f"SELECT count(*) FROM {nxt}").fetchall()[0][0]:
                break
            con.execute(f"INSERT INTO {reached} SELECT * FROM {nxt}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {frontier} AS SELECT s, cur FROM {nxt}")
            missing = con.execute(f"""SELECT count(*) FROM (SELECT DISTINCT s FROM {reached}) a, {targets} t
                WHERE NOT EXISTS (SELECT 1 FROM {reached} v WHERE v.s = a.s AND v.cur = t.x)""").fetchall()[0][0]
            if not missing:
                break
        preds = "b.preds" if self.all_paths else "b.preds[1:1]"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {self.name} AS WITH RECURSIVE walk AS (
              SELECT b.s, b.cur AS t, b.cur AS node, CAST([] AS BIGINT[]) AS rids, [b.cur] AS nids
              FROM {reached} b JOIN {targets} tt ON tt.x = b.cur WHERE b.depth >= {int(self.min_hops)}
              UNION ALL
              SELECT w.s, w.t, u.pr.n, list_prepend(u.pr.r, w.rids), list_prepend(u.pr.n, w.nids)
              FROM walk w JOIN {reached} b ON b.s = w.s AND b.cur = w.node
              CROSS JOIN (SELECT unnest({preds}) AS pr) u
              WHERE w.node <> w.s)
            SELECT s, t, rids, nids FROM walk WHERE node = s""")

    def drop(self, con) -> None:
        """Remove the step's temporary tables (after the statement ran, or failed)."""
        drop_relation(con, self.name, self.registered)      # None after the SQL search: a table
        self.registered = None
        if self.in_sql:
            for table in self.work_tables.values():
                con.execute(f"DROP TABLE IF EXISTS {table}")


#: the most (start, target) pairs searched one by one over the index; more go to SQL
INDEXED_PAIRS = 2_000


def _write(con, name: str, blocks: list[tuple]) -> bool:
    """The paths as the relation ``name`` (s, t, rids, nids), through Arrow (an INSERT per
    row took minutes for the 500 000 paths of one allShortestPaths); whether it was
    registered (:func:`.walks.temp_table`)."""
    import numpy as np
    import pyarrow as pa

    def lists(m):
        n, k = m.shape
        return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * k),
                                        pa.array(m.reshape(-1).astype(np.int64)))

    tables = [pa.table({"s": pa.array(np.full(len(r), s, np.int64)), "t": pa.array(np.full(len(r), t, np.int64)),
                        "rids": lists(r), "nids": lists(n)}) for s, t, r, n in blocks]
    schema = pa.schema([("s", pa.int64()), ("t", pa.int64()), ("rids", pa.list_(pa.int64())),
                        ("nids", pa.list_(pa.int64()))])
    table = pa.concat_tables([t.cast(schema) for t in tables]) if tables else schema.empty_table()
    return temp_table(con, name, table)


def _ends_lookup(walked: dict) -> tuple | None:
    """Both ends of a search as one statement of two index lookups, when each is one node's
    lookup (:func:`.implied.looked_up`): (SQL of side, labels, nid; the labels of each side)."""
    found = [looked_up(walked[k]) for k in ("s", "t")]
    if None in found:
        return None
    sql = " UNION ALL ".join(f"(SELECT {side} AS side, labels, nid FROM node WHERE {where} LIMIT {INDEXED_PAIRS + 1})"
                             for side, (where, _need) in enumerate(found))
    return sql, tuple(need for _where, need in found)


def shortest_rel(cx: Compilation, path: ir.PathPattern, rp: ir.RelPattern, left: NodeRef, right: NodeRef,
                 sc: Scope, bind: bool) -> tuple[str, str]:
    """Add a search step and join its result table; returns (relationship ids, inner node ids)."""
    types = patterns.rel_types(rp)
    reverse = patterns.end_score(right) > patterns.end_score(left)
    start, end = (right, left) if reverse else (left, right)
    direction = REVERSED[rp.direction] if reverse else rp.direction
    edges = patterns.edges_sql(types, direction, patterns.hop_property_conds(cx, rp))
    walked = {"s": walked_from(sc, start), "t": walked_from(sc, end)}
    src_set, dst_set = patterns.start_set(cx, start, sc), patterns.start_set(cx, end, sc)
    res = cx.fresh("sp")
    ctes = list(cx.ctes)
    ends = (f"(SELECT 0 AS side, x FROM (SELECT DISTINCT x FROM ({src_set}) ss) LIMIT {INDEXED_PAIRS + 1}) "
            f"UNION ALL (SELECT 1 AS side, x FROM (SELECT DISTINCT x FROM ({dst_set}) tt) LIMIT {INDEXED_PAIRS + 1})")
    cx.steps.append(ShortestStep(res, cx.statement(ctes, src_set), cx.statement(ctes, dst_set), edges,
                                 int(shortest_max_hops(rp, cx.opt)), int(rp.min_hops), path.kind == "all_shortest",
                                 types=types, direction=direction, indexable=not rp.props,
                                 ends_sql=cx.statement(ctes, ends), ends_lookup=_ends_lookup(walked)))
    a = cx.fresh("sp")
    sc.add(f"{res} AS {a}", kind="trav", alias=a, ends={k: v for k, v in walked.items() if v})
    sc.conds.append(f"{a}.s = {start.sql}")
    sc.conds.append(f"{a}.t = {end.sql}")
    inner = f"list_slice({a}.nids, 2, len({a}.nids) - 1)"
    rids, nids = (f"list_reverse({a}.rids)", f"list_reverse({inner})") if reverse else (f"{a}.rids", inner)
    if rp.var:
        sc.vars[rp.var] = Var(rp.var, "rels" if rp.var_length else "rel", rids if rp.var_length else f"{rids}[1]")
    if bind:
        sc.binds.append((rids, "rel", True))
        sc.binds.append((nids, "node", True))
    return (rids, nids)
