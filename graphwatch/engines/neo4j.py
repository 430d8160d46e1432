"""The Neo4j engine: graphwatch's Cypher on a real Neo4j server.

:class:`Neo4jEngine` runs graphwatch's Cypher subset (checked by the same parser and schema
as the embedded engine, so a write clause never reaches the server) in read transactions
and returns the :class:`~graphwatch.engines.base.Result` shape, with nodes and
relationships mapped back to workspace ids (``nid`` / ``rid``, written by
:func:`graphwatch.neo4j.push.push`). Where the server is and how to reach it is
:class:`graphwatch.neo4j.connection.Neo4jTarget`; parameters go to the driver through
:func:`graphwatch.neo4j.values.to_neo4j`, results come back through :class:`_Convert`.
"""

from __future__ import annotations

from pathlib import Path

from ..exc import EngineError
from ..neo4j.connection import Neo4jTarget
from ..neo4j.values import NODE_ID, REL_ID, to_neo4j
from .base import Binding, Engine, GNode, GPath, GRel, Result, bindings_per_group

try:  # the driver is an optional dependency: pip install 'graphwatch[neo4j]'
    import neo4j
except ImportError:  # pragma: no cover - exercised only without the extra
    neo4j = None

_NODE_HIDDEN = {NODE_ID, "key", "datasets"}
_REL_HIDDEN = {REL_ID}


class Neo4jEngine(Engine):
    """Run graphwatch Cypher on Neo4j.

    Parameters
    ----------
    workspace : the workspace whose server (``graphwatch neo4j start``) to use, or None
    target : an explicit :class:`Neo4jTarget` (else resolved from flags/environment/workspace)
    """

    name = "neo4j"

    def __init__(self, workspace=None, *, target: Neo4jTarget | None = None, options=None,
                 timeout: float | None = None, schema=None, **connect):
        from ..neo4j.push import require_pushed
        from ..schema import load_schema, workspace_schema

        self.timeout = timeout          # seconds per query; the server cancels it after that
        self.target = target or Neo4jTarget.resolve(workspace, **connect)
        # queries are checked against the workspace's schema (its own labels too)
        self.schema = schema or (workspace_schema(workspace) if workspace is not None else load_schema())
        self.options = options
        self._driver = self.target.driver()
        if workspace is not None:
            try:
                require_pushed(Path(workspace), self.target, self._driver)
            except BaseException:
                self._driver.close()
                raise

    def close(self) -> None:
        self._driver.close()

    def _check(self, cypher: str, params: dict):
        """The same parse and check the embedded engine runs (:func:`graphwatch.cypher.check`):
        unsupported Cypher and every write clause are refused before anything reaches the server."""
        from ..cypher import check, parse

        return check(parse(cypher), schema=self.schema, params=params, options=self.options)

    def explain(self, cypher: str, params: dict | None = None) -> str:
        params = params or {}
        self._check(cypher, params)
        try:
            with self.target.session(self._driver, default_access_mode=neo4j.READ_ACCESS) as s:
                summary = s.run("EXPLAIN " + cypher, to_neo4j(params)).consume()
        except BaseException as exc:
            raise self.target.error(exc, "explaining a query") from None
        return cypher + "\n-- Neo4j plan:\n" + _plan_text(summary.plan)

    def run(self, cypher: str, params: dict | None = None, *, bindings: bool | int = False) -> Result:
        params = params or {}
        per_group = bindings_per_group(bindings)
        checked = self._check(cypher, params)
        if per_group is None:
            statement, hidden = cypher, set()        # the user's Cypher, unchanged
        else:
            statement, hidden = _with_bindings(checked, per_group)

        @neo4j.unit_of_work(timeout=self.timeout)
        def work(tx):
            res = tx.run(statement, to_neo4j(params))
            keys, raw = res.keys(), [tuple(r.values()) for r in res]
            # a relationship returned alone carries its end nodes' element ids only
            ends = {n.element_id for r in _walk_rels(raw) for n in (r.start_node, r.end_node)
                    if n is not None and NODE_ID not in n}
            nids = {}
            if ends:
                nids = dict(tx.run("MATCH (n) WHERE elementId(n) IN $ids RETURN elementId(n), n.nid",
                                   {"ids": sorted(ends)}).values())
            return keys, raw, nids

        try:
            with self.target.session(self._driver, default_access_mode=neo4j.READ_ACCESS) as s:
                keys, raw, nids = s.execute_read(work)
        except BaseException as exc:
            raise self.target.error(exc, "running a query") from None
        # the columns are Neo4j's, as Neo4j names and orders them, without the hidden binding
        # columns (and, after RETURN *, the names given to anonymous elements)
        shown = [i for i, k in enumerate(keys) if k not in hidden]
        columns = [keys[i] for i in shown]
        rows, out = [], None
        if per_group is None:
            for r in raw:
                conv = _Convert(nids)
                rows.append(tuple(conv(r[i]) for i in shown))
        else:
            out = []
            at = {k: keys.index(k) for k in (BIND_NODES, BIND_RELS, BIND_COUNT, BIND_TRUNC)}
            for r in raw:
                conv = _Convert(nids)
                rows.append(tuple(conv(r[i]) for i in shown))
                bn = conv.nodes | {x for x in r[at[BIND_NODES]] or [] if x is not None}
                br = conv.rels | {x for x in r[at[BIND_RELS]] or [] if x is not None}
                out.append(Binding(tuple(sorted(bn)), tuple(sorted(br)), int(r[at[BIND_COUNT]]),
                                   bool(r[at[BIND_TRUNC]])))
        return Result(columns, rows, out, engine=self.name, query=cypher, statement=statement)


def _walk_rels(values):
    from neo4j.graph import Path as NPath, Relationship

    for v in values:
        if isinstance(v, Relationship):
            yield v
        elif isinstance(v, NPath):
            yield from v.relationships
        elif isinstance(v, (list, tuple)):
            yield from _walk_rels(v)
        elif isinstance(v, dict):
            yield from _walk_rels(list(v.values()))


BIND_NODES, BIND_RELS, BIND_COUNT, BIND_TRUNC = "__gw_bind_nodes", "__gw_bind_rels", "__gw_bind_count", \
    "__gw_bind_trunc"


def _with_bindings(checked, per_group: int) -> tuple[str, set[str]]:
    """The query text with every pattern element named and hidden columns added to each
    WITH / RETURN: the workspace ids of the nodes and relationships the row was built from,
    carried through WITH stages; where a projection aggregates or is DISTINCT, the ids of at
    most ``per_group`` of the group's matches, how many matches it has and whether some were
    left out (the embedded engine's bindings, computed by Neo4j). Pattern predicates are left
    alone: they bind nothing, as on the embedded engine. The last stage's columns are named
    without a number (UNION needs the same names in every query). Returns the statement and
    the names it added (hidden from the result)."""
    from ..cypher import ir

    text = checked.query.text
    edits: list[tuple[int, int, str]] = []      # (start, end, replacement) on the original text
    added: set[str] = {BIND_NODES, BIND_RELS, BIND_COUNT, BIND_TRUNC}

    def quoted(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def fresh(kind: str) -> str:
        name = f"_gw_{kind}{len(added) + 1}"
        added.add(name)
        return name

    for part in checked.query.parts():
        carried = 0                  # the stage whose binding columns are in scope (0: none)
        singles_n: list[str] = []
        singles_r: list[str] = []
        lists_r: list[str] = []      # relationship lists (variable length, shortest paths)
        for clause in part:
            if isinstance(clause, ir.Match):
                for path in clause.paths:
                    for n in path.nodes:
                        if n.var is None:
                            v = fresh("n")
                            edits.append((n.src_start + 1, n.src_start + 1, v))
                        else:
                            v = n.var
                        singles_n.append(v)
                    for r in path.rels:
                        is_list = r.var_length or path.kind != "plain"
                        if r.var is None:
                            v = fresh("r")
                            span = text[r.src_start:r.src_end]
                            if "[" in span:
                                at = r.src_start + span.index("[") + 1
                                edits.append((at, at, v))
                            else:
                                arrow = {"in": f"<-[{v}]-", "out": f"-[{v}]->", "both": f"-[{v}]-"}[r.direction]
                                edits.append((r.src_start, r.src_end, arrow))
                        else:
                            v = r.var
                        (lists_r if is_list else singles_r).append(v)
            elif isinstance(clause, ir.Projection):
                # each stage names its own columns: WITH * keeps the previous ones in scope
                prev = (lambda base: f"{base}{carried}") if carried else None
                parts_n = [prev(BIND_NODES)] if prev else []
                parts_r = [prev(BIND_RELS)] if prev else []
                if singles_n:
                    parts_n.append(f"[x IN [{', '.join(map(quoted, singles_n))}] WHERE x IS NOT NULL | x.nid]")
                if singles_r:
                    parts_r.append(f"[x IN [{', '.join(map(quoted, singles_r))}] WHERE x IS NOT NULL | x.rid]")
                for lr in map(quoted, lists_r):
                    parts_r.append(f"[x IN coalesce({lr}, []) | x.rid]")
                    parts_n.append(f"[x IN coalesce({lr}, []) | startNode(x).nid] + "
                                   f"[x IN coalesce({lr}, []) | endNode(x).nid]")
                en = " + ".join(parts_n) or "[]"
                er = " + ".join(parts_r) or "[]"
                count = prev(BIND_COUNT) if prev else "1"
                trunc = prev(BIND_TRUNC) if prev else "false"
                if checked.is_grouped(clause):
                    en = f"reduce(a = [], b IN collect({en})[..{int(per_group)}] | a + b)"
                    er = f"reduce(a = [], b IN collect({er})[..{int(per_group)}] | a + b)"
                    over = f"count(*) > {int(per_group)}"
                    if prev:
                        over += f" OR any(t IN collect({trunc}) WHERE t)"
                    count, trunc = (f"sum({count})" if prev else "count(*)"), f"({over})"
                last = clause is part[-1]
                names = [b if last else f"{b}{carried + 1}" for b in (BIND_NODES, BIND_RELS, BIND_COUNT, BIND_TRUNC)]
                added.update(names)
                extra = ", ".join(f"{v} AS {k}" for v, k in zip((en, er, count, trunc), names))
                if clause.items:
                    at = clause.items[-1].src_end
                else:                                   # WITH * / RETURN * alone: after the star
                    at = text.index("*", clause.src_start) + 1
                edits.append((at, at, ", " + extra))
                carried += 1
                singles_n, singles_r, lists_r = [], [], []
    distinct_union = bool(checked.query.unions) and not checked.query.unions[0].all
    if distinct_union:
        # UNION would keep rows that differ only in their bindings apart: the queries are
        # joined with UNION ALL in a subquery, and rows equal in their values made one
        for u in checked.query.unions:
            edits.append((u.src_start, u.src_end, "UNION ALL"))
    out = text
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + repl + out[end:]
    if distinct_union:
        body = out.rstrip().rstrip(";")
        keys = ", ".join(quoted(c) for c in checked.columns)
        out = (f"CALL {{\n{body}\n}}\nRETURN {keys}, "
               f"reduce(a = [], b IN collect({BIND_NODES}) | a + b) AS {BIND_NODES}, "
               f"reduce(a = [], b IN collect({BIND_RELS}) | a + b) AS {BIND_RELS}, "
               f"sum({BIND_COUNT}) AS {BIND_COUNT}, any(t IN collect({BIND_TRUNC}) WHERE t) AS {BIND_TRUNC}")
    return out, added


def _plan_text(plan, depth: int = 0) -> str:
    if not plan:
        return ""
    line = "  " * depth + plan.get("operatorType", "?") + "\n"
    return line + "".join(_plan_text(c, depth + 1) for c in plan.get("children", []))


class _Convert:
    """Driver values to graphwatch values; remembers the workspace ids it met (the bindings)."""

    def __init__(self, nids: dict):
        self.nids = nids            # element id -> nid, for relationships' end nodes
        self.nodes: set = set()
        self.rels: set = set()

    def __call__(self, v):
        from neo4j.graph import Node, Path as NPath, Relationship

        if v is None:
            return None
        if isinstance(v, Node):
            return self.node(v)
        if isinstance(v, Relationship):
            return self.rel(v)
        if isinstance(v, NPath):
            return GPath(tuple(self.node(n) for n in v.nodes), tuple(self.rel(r) for r in v.relationships))
        if isinstance(v, list):
            return [self(x) for x in v]
        if isinstance(v, dict):
            return {k: self(x) for k, x in v.items()}
        if isinstance(v, neo4j.time.Duration):
            return v
        if hasattr(v, "to_native"):
            return v.to_native()
        return v

    def node(self, n) -> GNode:
        props = dict(n.items())
        nid = props.get(NODE_ID)
        if nid is None:
            raise EngineError("Neo4j returned a node without a graphwatch id (nid): the database holds data "
                              "that 'graphwatch neo4j push' did not write")
        self.nodes.add(nid)
        return GNode(nid, props.get("key"), tuple(sorted(n.labels)),
                     {k: _Convert.plain(v) for k, v in props.items() if k not in _NODE_HIDDEN})

    def end(self, n):
        if n is None:
            return None
        return n.get(NODE_ID) if NODE_ID in n else self.nids.get(n.element_id)

    def rel(self, r) -> GRel:
        props = dict(r.items())
        rid = props.get(REL_ID)
        if rid is None:
            raise EngineError("Neo4j returned a relationship without a graphwatch id (rid)")
        self.rels.add(rid)
        return GRel(rid, r.type, self.end(r.start_node), self.end(r.end_node),
                    {k: _Convert.plain(v) for k, v in props.items() if k not in _REL_HIDDEN})

    @staticmethod
    def plain(v):
        if isinstance(v, list):
            return [_Convert.plain(x) for x in v]
        if hasattr(v, "to_native") and not isinstance(v, neo4j.time.Duration):
            return v.to_native()
        return v


__all__ = ["Neo4jEngine"]
