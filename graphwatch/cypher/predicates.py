"""Pattern predicates (``WHERE (p)-[:RECEIVES]->()``, ``EXISTS { … }``) compiled for speed.

The general form is a correlated ``EXISTS`` subquery. Faster forms, each where it applies:

* a semi-join: the distinct ids the predicate reads from the row start a planned join, and the
  predicate becomes a lookup in its result (:func:`_semi_join`);
* one relationship from a node of the row to an anonymous node, for a few keys: a call of the
  engine's ``gw_has_rel`` over the adjacency index (:func:`_one_hop_by_index`);
* the same on where a variable-length walk ends: a column the walk step computes
  (:func:`_walk_end_flag`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import ir
from .patterns import _pattern_names, add_paths, rel_types
from .planner import _alias_of, single_item_rows
from .scope import Scope, Var, connected_part, sql_string

if TYPE_CHECKING:
    from .compiler import Compilation


def exists_sql(cx: Compilation, e: ir.PatternPred, sc: Scope) -> str:
    """A pattern predicate: a semi-join on the ids it reads from the row (:func:`_semi_join`),
    else a correlated ``EXISTS`` subquery (its variables stay inside)."""
    fast = _semi_join(cx, e, sc)
    if fast is not None:
        return fast
    sub = sc.subquery()
    add_paths(cx, e.paths, sub, where=e.where, bind=False)
    return "EXISTS (SELECT 1" + sub.from_sql() + sub.where_sql() + ")"


def _semi_join(cx: Compilation, e: ir.PatternPred, sc: Scope) -> str | None:
    """The predicate as a lookup in a planned CTE of the ids for which the pattern exists.

    DuckDB decorrelates a correlated ``EXISTS`` by joining the whole subquery first: ``NOT
    (p)-[:RECEIVES]->(:Benefit)-[:OF_PROGRAMME]->(g)`` for twenty thousand persons joined
    every one of 1.8 M benefits to its programme. Here the distinct ids the predicate reads
    from the row (``ex`` CTE: the rows so far, a superset of those it is asked for) start a
    join the planner orders like any MATCH, and the predicate becomes an uncorrelated lookup
    in its result (``exm``). Only for node and relationship variables that cannot be NULL
    (an OPTIONAL MATCH's stay in the correlated form, which tests/test_planner.py holds to
    Neo4j's answer), outside subqueries, and when the planner has statistics."""
    if sc.sub or not sc.froms or not (cx.opt.plan_joins and cx.opt.stats is not None):
        return None
    names = _pattern_names(e)
    keys = [sc.vars[n] for n in sorted(names) if n in sc.vars]
    if not keys or any(v.type not in ("node", "rel") or v.nullable for v in keys):
        return None
    flag = _walk_end_flag(cx, e, sc, keys)
    if flag is not None:
        return flag
    part = connected_part(sc, " ".join(v.sql for v in keys))
    start = cx.fresh("ex")
    # one node item's ids are distinct already (a DISTINCT over every person took 1.2 s at 5 M)
    one_node = len(part.froms) == 1 and (part.froms[0][3] or {}).get("kind") == "node" and len(keys) == 1 \
        and keys[0].sql == f"{(part.froms[0][3] or {}).get('alias') or _alias_of(part.froms[0][1])}.nid"
    cx.add_cte(start, cx.render(part, [f"{v.sql} AS k{i}" for i, v in enumerate(keys)], distinct=not one_node),
               materialized=True)
    est = cx.last_estimate
    if est is None:         # one item: nothing was planned (an unknown estimate would read as 100 rows)
        est = single_item_rows(part.froms, part.conds, cx.opt.stats, cx.estimates)
    if est is not None:
        cx.estimates[start] = est
    call = _one_hop_by_index(cx, e, sc, keys, start, part)
    if call is not None:
        found = cx.fresh("exm")
        cx.add_cte(found, f"SELECT {start}.k0 AS k0 FROM {start} WHERE {call}", materialized=True)
        return f"EXISTS (SELECT 1 FROM {found} WHERE {found}.k0 = {keys[0].sql})"
    inner = Scope()
    inner.add(start, kind="cte")
    for i, v in enumerate(keys):
        inner.vars[v.name] = Var(v.name, v.type, f"{start}.k{i}")
    add_paths(cx, e.paths, inner, where=e.where, bind=False)
    found = cx.fresh("exm")
    cx.add_cte(found, cx.render(inner, [f"{start}.k{i} AS k{i}" for i in range(len(keys))], distinct=True),
               materialized=True)
    on = " AND ".join(f"{found}.k{i} = {v.sql}" for i, v in enumerate(keys))
    return f"EXISTS (SELECT 1 FROM {found} WHERE {on})"


#: the most keys (as the planner expects them) a pattern predicate reads from the adjacency
#: index one by one; for more, the SQL semi-join's one scan of the relationships is quicker
#: (200 k persons at 1 M: 25 ms against 110 ms)
HAS_REL_KEYS = 2_000


def _one_hop_by_index(cx: Compilation, e: ir.PatternPred, sc: Scope, keys: list[Var], start: str,
                      part: Scope) -> str | None:
    """``(k)-[:T]->()`` — one relationship of given types and direction from the row's node
    ``k`` to an anonymous node whose labels the types guarantee, nothing else asked — as a
    call of the engine's ``gw_has_rel`` (:mod:`graphwatch.engines.has_rel`) on the few keys
    of ``start``; None when the predicate has another shape or the engine has no index."""
    est = cx.estimates.get(start)
    if cx.opt.has_rel is None or est is None or est > HAS_REL_KEYS:
        return None
    hop = _one_hop(cx, e, sc, keys)
    if hop is None:
        return None
    types, direction = hop
    name = cx.opt.has_rel()
    if not name:
        return None
    wanted = sql_string("|".join(sorted(types))) if types else "''"
    return f"{name}({start}.k0, {wanted}, {sql_string(direction)})"


def _one_hop(cx: Compilation, e: ir.PatternPred, sc: Scope, keys: list[Var]) -> tuple | None:
    """(types, direction from the key) of ``(k)-[:T]->()``: one relationship from the row's
    node ``k`` to an anonymous node whose labels the types guarantee, nothing else asked."""
    from .implied import guaranteed
    from .varlength import REVERSED

    if len(keys) != 1 or keys[0].type != "node" or e.where is not None or len(e.paths) != 1:
        return None
    path = e.paths[0]
    if path.kind != "plain" or path.var or len(path.rels) != 1 or len(path.nodes) != 2:
        return None
    rp, (a, b), key = path.rels[0], path.nodes, keys[0].name
    if rp.var_length or rp.props or any("|" in t for t in rp.types):
        return None
    if a.var == key and b.var != key:
        near, far, direction = a, b, rp.direction
    elif b.var == key and a.var != key:
        near, far, direction = b, a, REVERSED[rp.direction]
    else:
        return None
    if near.labels or near.props or far.props or (far.var is not None and far.var in sc.vars):
        return None
    types = rel_types(rp)
    end = {"out": "dst", "in": "src"}.get(direction, "_d")
    if not guaranteed(cx.schema, types, end, set(far.labels)):
        return None
    return types, direction


def _walk_end_flag(cx: Compilation, e: ir.PatternPred, sc: Scope, keys: list[Var]) -> str | None:
    """``(f)-[:T]->()`` where ``f`` is where a variable-length walk ends (``… v.cur = f.nid``):
    a column the walk step computes for every walk from the adjacency index (or the SQL
    search), ``v.has0``. Friends of friends who receive no benefit at 1 M persons: the
    statement's two CTEs and its call of ``gw_has_rel`` (1.5 of its 2.5 ms) are gone."""
    from .walks import WalkStep

    hop = _one_hop(cx, e, sc, keys)
    if hop is None:
        return None
    key = keys[0].sql
    for c in sc.conds:
        m = re.fullmatch(r"([A-Za-z_]\w*)\.cur = (.+)", c.strip())
        if m is None or m.group(2) != key:
            continue
        item = next(((s_, meta) for k, s_, _on, meta in sc.froms
                     if k == "cross" and (meta or {}).get("alias") == m.group(1)), None)
        if item is None or item[1].get("kind") != "trav" or "hops" not in item[1]:
            continue
        step = next((st for st in cx.steps if isinstance(st, WalkStep) and item[0] == f"{st.name} AS {m.group(1)}"),
                    None)
        if step is None:
            continue
        return f"{m.group(1)}.{step.flag(*hop)}"
    return None
