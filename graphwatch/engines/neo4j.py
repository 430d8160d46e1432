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
from .base import Binding, Engine, GNode, GPath, GRel, Result

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

    def run(self, cypher: str, params: dict | None = None) -> Result:
        params = params or {}
        statement, hidden = _with_bindings(self._check(cypher, params))

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
        last = max(int(k[len(BIND_NODES):]) for k in keys if k.startswith(BIND_NODES))
        bn_i, br_i = keys.index(f"{BIND_NODES}{last}"), keys.index(f"{BIND_RELS}{last}")
        columns = [keys[i] for i in shown]
        rows, bindings = [], []
        for r in raw:
            conv = _Convert(nids)
            rows.append(tuple(conv(r[i]) for i in shown))
            bn = conv.nodes | {x for x in r[bn_i] or [] if x is not None}
            br = conv.rels | {x for x in r[br_i] or [] if x is not None}
            bindings.append(Binding(tuple(sorted(bn)), tuple(sorted(br))))
        return Result(columns, rows, bindings, engine=self.name, query=cypher, statement=statement)


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


BIND_NODES, BIND_RELS = "__gw_bind_nodes", "__gw_bind_rels"


def _with_bindings(checked) -> tuple[str, set[str]]:
    """The query text with every pattern element named and two hidden columns added to each
    WITH / RETURN: the workspace ids of the nodes and relationships the row was built from,
    carried through WITH stages and collected over a group where a projection aggregates
    or is DISTINCT (the embedded engine's bindings, computed by Neo4j). Pattern predicates
    are left alone: they bind nothing, as on the embedded engine. Returns the statement and
    the names it added (hidden from the result)."""
    from ..cypher import ir

    text = checked.query.text
    edits: list[tuple[int, int, str]] = []      # (start, end, replacement) on the original text
    added: set[str] = set()

    def quoted(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def fresh(kind: str) -> str:
        name = f"_gw_{kind}{len(added) + 1}"
        added.add(name)
        return name

    carried = 0                  # the stage whose binding columns are in scope (0: none)
    singles_n: list[str] = []
    singles_r: list[str] = []
    lists_r: list[str] = []      # relationship lists (variable length, shortest paths)
    for clause in checked.query.clauses:
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
            parts_n = [f"{BIND_NODES}{carried}"] if carried else []
            parts_r = [f"{BIND_RELS}{carried}"] if carried else []
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
            if checked.is_grouped(clause):
                en = f"reduce(a = [], b IN collect({en}) | a + b)"
                er = f"reduce(a = [], b IN collect({er}) | a + b)"
            added |= {f"{BIND_NODES}{carried + 1}", f"{BIND_RELS}{carried + 1}"}
            extra = f"{en} AS {BIND_NODES}{carried + 1}, {er} AS {BIND_RELS}{carried + 1}"
            if clause.items:
                at = clause.items[-1].src_end
            else:                                   # WITH * / RETURN * alone: after the star
                at = text.index("*", clause.src_start) + 1
            edits.append((at, at, ", " + extra))
            carried += 1
            singles_n, singles_r, lists_r = [], [], []
    out = text
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + repl + out[end:]
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
