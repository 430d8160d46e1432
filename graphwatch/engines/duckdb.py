"""The embedded engine: Cypher compiled to SQL and run by DuckDB on the workspace."""

from __future__ import annotations

import dataclasses
import os
import re

import duckdb

from ..cypher.compiler import Compiled, Options, compile_query
from ..cypher.parser import parse
from ..cypher.planner import Stats
from ..exc import EngineError, PatternError
from ..store import Workspace
from .base import Binding, Engine, GNode, GPath, GRel, Result

_NODE_META = {"nid", "key", "labels", "datasets"}
_REL_META = {"rid", "type", "src", "dst"}


class DuckDBEngine(Engine):
    """Run Cypher on a workspace.

    Parameters
    ----------
    workspace : a :class:`~graphwatch.store.Workspace` or the path of one (opened read-only)
    options : compiler limits (variable-length and shortest-path caps)
    """

    name = "duckdb"

    def __init__(self, workspace: Workspace | str | os.PathLike, *, options: Options | None = None):
        self._own = not isinstance(workspace, Workspace)
        self.ws = Workspace(workspace, read_only=True) if self._own else workspace
        self.options = options or Options()

    def close(self) -> None:
        if self._own:
            self.ws.close()

    def compile(self, cypher: str, params: dict | None = None) -> Compiled:
        if self.options.plan_joins and self.options.stats is None:
            # label and relationship-type counts for the join planner, once per engine
            self.options = dataclasses.replace(self.options, stats=Stats.of(self.ws.con))
        return compile_query(parse(cypher), schema=self.ws.schema, params=params or {}, options=self.options)

    def explain(self, cypher: str, params: dict | None = None) -> str:
        c = self.compile(cypher, params)
        shown = {k: v for k, v in c.params.items()}
        steps = "".join(st.describe() + "\n" for st in c.steps)
        return steps + c.sql + "\n-- parameters: " + repr(shown)

    def run(self, cypher: str, params: dict | None = None) -> Result:
        c = self.compile(cypher, params)
        con = self.ws.con
        try:
            for step in c.steps:
                self._shortest(step, c.params)
            raw = con.execute(c.sql, _used(c.sql, c.params)).fetchall()
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB could not run the compiled query: {exc}".strip()) from None
        finally:
            for step in c.steps:
                for t in (step.name, f"{step.name}_v", f"{step.name}_f", f"{step.name}_n", f"{step.name}_t"):
                    con.execute(f"DROP TABLE IF EXISTS {t}")
        ncols = len(c.columns)
        bind_idx = [(ncols + j, kind, is_list) for j, (_, kind, is_list) in enumerate(c.bind_columns)]
        # every node / relationship id the returned values mention, fetched once
        node_ids, rel_ids = set(), set()
        for row in raw:
            for i, t in enumerate(c.types):
                _collect_ids(row[i], t, node_ids, rel_ids)
        nodes = self._nodes(node_ids)
        rels = self._rels(rel_ids)
        rows, bindings = [], []
        for row in raw:
            rows.append(tuple(_convert(row[i], t, nodes, rels) for i, t in enumerate(c.types)))
            bn, br = set(), set()
            for i, kind, is_list in bind_idx:
                v = row[i]
                target = bn if kind == "node" else br
                if v is None:
                    continue
                if is_list:
                    target.update(x for x in v if x is not None)
                else:
                    target.add(v)
            bindings.append(Binding(tuple(sorted(bn)), tuple(sorted(br))))
        return Result(c.columns, rows, bindings, engine=self.name, query=cypher, statement=c.sql)

    def _shortest(self, st, params: dict) -> None:
        """Breadth-first search, one statement per level, on temporary tables.

        ``{name}_v`` holds every (start, node) reached with its depth and the relationships
        that reached it first (all of them at that depth: allShortestPaths needs them);
        the search stops at ``max_hops`` levels, when nothing new is reached, or once every
        target is reached from every start. Then a walk back over those predecessors writes
        the paths to ``{name}``.
        """
        con, n = self.ws.con, st.name
        con.execute(f"CREATE OR REPLACE TEMP TABLE {n}_t AS SELECT DISTINCT x FROM ({st.target_sql}) tt",
                    _used(st.target_sql, params))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {n}_v AS SELECT DISTINCT x AS s, x AS cur, 0 AS depth,
            CAST([] AS STRUCT(r BIGINT, n BIGINT)[]) AS preds FROM ({st.start_sql}) ss""", _used(st.start_sql, params))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {n}_f AS SELECT s, cur FROM {n}_v")
        starts = con.execute(f"SELECT count(*) FROM {n}_f").fetchall()[0][0]
        targets = con.execute(f"SELECT count(*) FROM {n}_t").fetchall()[0][0]
        edge_params = _used(st.edges_sql, params)
        for depth in range(1, st.max_hops + 1):
            if not starts or not targets:
                break
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {n}_n AS
                SELECT f.s, e._d AS cur, {depth} AS depth, list_sort(list({{'r': e.rid, 'n': f.cur}})) AS preds
                FROM {n}_f f JOIN ({st.edges_sql}) e ON e._s = f.cur
                WHERE NOT EXISTS (SELECT 1 FROM {n}_v v WHERE v.s = f.s AND v.cur = e._d)
                GROUP BY f.s, e._d""", edge_params)
            if not con.execute(f"SELECT count(*) FROM {n}_n").fetchall()[0][0]:
                break
            con.execute(f"INSERT INTO {n}_v SELECT * FROM {n}_n")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {n}_f AS SELECT s, cur FROM {n}_n")
            missing = con.execute(f"""SELECT count(*) FROM (SELECT DISTINCT s FROM {n}_v) a, {n}_t t
                WHERE NOT EXISTS (SELECT 1 FROM {n}_v v WHERE v.s = a.s AND v.cur = t.x)""").fetchall()[0][0]
            if not missing:
                break
        preds = "b.preds" if st.all_paths else "b.preds[1:1]"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {n} AS WITH RECURSIVE walk AS (
              SELECT b.s, b.cur AS t, b.cur AS node, CAST([] AS BIGINT[]) AS rids, [b.cur] AS nids
              FROM {n}_v b JOIN {n}_t tt ON tt.x = b.cur WHERE b.depth >= {int(st.min_hops)}
              UNION ALL
              SELECT w.s, w.t, u.pr.n, list_prepend(u.pr.r, w.rids), list_prepend(u.pr.n, w.nids)
              FROM walk w JOIN {n}_v b ON b.s = w.s AND b.cur = w.node
              CROSS JOIN (SELECT unnest({preds}) AS pr) u
              WHERE w.node <> w.s)
            SELECT s, t, rids, nids FROM walk WHERE node = s""")

    def _nodes(self, ids: set) -> dict:
        if not ids:
            return {}
        cur = self.ws.con.execute("SELECT * FROM node WHERE nid IN (SELECT unnest($ids))", {"ids": list(ids)})
        cols = [d[0] for d in cur.description]
        out = {}
        for r in cur.fetchall():
            rec = dict(zip(cols, r))
            props = {k: v for k, v in rec.items() if k not in _NODE_META and v is not None}
            out[rec["nid"]] = GNode(rec["nid"], rec["key"], tuple(sorted(rec["labels"])), props)
        return out

    def _rels(self, ids: set) -> dict:
        if not ids:
            return {}
        cur = self.ws.con.execute("SELECT * FROM rel WHERE rid IN (SELECT unnest($ids))", {"ids": list(ids)})
        cols = [d[0] for d in cur.description]
        out = {}
        for r in cur.fetchall():
            rec = dict(zip(cols, r))
            props = {k: v for k, v in rec.items() if k not in _REL_META and v is not None}
            out[rec["rid"]] = GRel(rec["rid"], rec["type"], rec["src"], rec["dst"], props)
        return out


def _used(sql: str, params: dict) -> dict:
    """The parameters one statement uses (DuckDB refuses unused named parameters)."""
    names = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in params.items() if k in names}


def _collect_ids(v, t: str, nodes: set, rels: set) -> None:
    if v is None:
        return
    if t == "node":
        nodes.add(v)
    elif t == "rel":
        rels.add(v)
    elif t == "path":
        nodes.update(v["nodes"])
        rels.update(v["rels"])
    elif t == "rels" or t == "list:rel":
        rels.update(x for x in v if x is not None)
    elif t.startswith("list:"):
        for x in v:
            _collect_ids(x, t[5:], nodes, rels)


def _convert(v, t: str, nodes: dict, rels: dict):
    if v is None:
        return None
    if t == "node":
        return nodes[v]
    if t == "rel":
        return rels[v]
    if t == "path":
        return GPath(tuple(nodes[n] for n in v["nodes"]), tuple(rels[r] for r in v["rels"]))
    if t == "rels":
        return [rels[x] for x in v]
    if t.startswith("list:"):
        return [_convert(x, t[5:], nodes, rels) for x in v]
    return v


__all__ = ["DuckDBEngine", "PatternError"]
