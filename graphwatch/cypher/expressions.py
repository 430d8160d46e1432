"""Expressions → DuckDB SQL, with Cypher's semantics.

One function per IR expression class; the type of every expression comes from the
checker's annotations (``cx.type_of``). Kept here: three-valued logic (a comparison of
values of different types is null — or false/true for ``=``/``<>`` — as in Cypher, never a
DuckDB error), ``IN`` with nulls in the list, integer division truncating toward zero,
``+`` on lists, strings and dates, list indexes and slices counted from 0 with negative
indexes from the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store import q as quote_identifier
from . import ir, predicates
from .checker import refers_to_variables
from .expression_types import DATE_FIELDS, DATETIME_FIELDS
from .functions import INT32_MAX, REGISTRY, failure, to_string_sql
from .scope import Scope, Var, sql_string
from .valuetypes import ENTITY, compatible, list_element

if TYPE_CHECKING:
    from .compiler import Compilation


def sql(cx: Compilation, e: ir.Expr, sc: Scope) -> str:
    return _SQL[type(e)](cx, e, sc)


def _literal(cx, e, sc):
    v = e.value
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"CAST({cx.bind_value(v)} AS BIGINT)"
    if isinstance(v, float):
        return f"CAST({cx.bind_value(v)} AS DOUBLE)"
    return f"CAST({cx.bind_value(v)} AS VARCHAR)"


_PARAM_CASTS = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE"}


def _param(cx, e, sc):
    s = cx.bind_param(e)
    cast = _PARAM_CASTS.get(cx.type_of(e))
    return f"CAST({s} AS {cast})" if cast else s


def _var(cx, e, sc):
    return sc.vars[e.name].sql


def _prop(cx, e, sc):
    if isinstance(e.subject, ir.Var) and e.subject.name in sc.vars:
        v = sc.vars[e.subject.name]
        if e.key in v.props:
            return v.props[e.key]
        if v.type == "node":
            return cx.node_property(cx.node_row(v, sc, nullable=v.nullable), e.key)
        if v.type == "rel":
            return cx.rel_property(cx.rel_row(v, sc), e.key)
    s = sql(cx, e.subject, sc)
    t = cx.type_of(e.subject)
    if t in ("date", "datetime"):
        part = (DATETIME_FIELDS if t == "datetime" else DATE_FIELDS)[e.key]
        return f"CAST(date_part('{part}', {s}) AS BIGINT)"
    if t == "duration":
        # Neo4j's totals per group: months (with years), days, seconds (with hours, minutes)
        y, mo = f"date_part('year', {s})", f"date_part('month', {s})"
        h, mi, se = f"date_part('hour', {s})", f"date_part('minute', {s})", f"date_part('second', {s})"
        parts = {"years": y, "months": f"({y} * 12 + {mo})", "days": f"date_part('day', {s})",
                 "hours": h, "minutes": f"({h} * 60 + {mi})", "seconds": f"(({h} * 60 + {mi}) * 60 + {se})"}
        return f"CAST({parts[e.key]} AS BIGINT)"
    if t == "null":
        return "NULL"
    return f"({s})[{cx.bind_value(e.key)}]"          # a map (or a value that may be one)


def _has_labels(cx, e, sc):
    v = sc.vars[e.subject.name]
    a = cx.node_row(v, sc, nullable=v.nullable)
    return "(" + " AND ".join(f"list_contains({a}.labels, {sql_string(lab)})" for lab in e.labels) + ")"


def _index(cx, e, sc):
    s, i = sql(cx, e.subject, sc), sql(cx, e.index, sc)
    if cx.type_of(e.index) == "str" or cx.type_of(e.subject) == "map":
        return f"({s})[{i}]"
    # 0-based in Cypher; an index past the end is null (clamped first: i + 1 cannot overflow)
    return f"list_extract({s}, CASE WHEN {i} >= 0 THEN least({i}, coalesce(len({s}), 0)) + 1 ELSE {i} END)"


def _slice(cx, e, sc):
    s = sql(cx, e.subject, sc)
    n = f"len({s})"
    lo = sql(cx, e.start, sc) if e.start is not None else "0"
    hi = sql(cx, e.stop, sc) if e.stop is not None else n
    lo1 = f"(CASE WHEN {lo} < 0 THEN greatest({n} + {lo}, 0) ELSE {lo} END)"
    hi1 = f"(CASE WHEN {hi} < 0 THEN {n} + {hi} ELSE {hi} END)"
    bounds = [b for b, given in ((lo, e.start), (hi, e.stop)) if given is not None]
    body = f"list_slice({s}, {lo1} + 1, {hi1})"
    if not bounds:
        return body
    # Neo4j fails on slice bounds beyond 32 bits
    bad = " OR ".join(f"{b} NOT BETWEEN {-INT32_MAX - 1} AND {INT32_MAX}" for b in bounds)
    fail = failure(cx, f"a list slice needs bounds between {-INT32_MAX - 1} and {INT32_MAX}")
    return f"(CASE WHEN {bad} THEN list_slice({s}, {fail}, 0) ELSE {body} END)"


def _unary(cx, e, sc):
    s = sql(cx, e.operand, sc)
    if e.op == "NOT":
        return f"(NOT {s})"
    # an integer is negated as 0 - x: DuckDB's own negation of the least 64-bit integer widens it
    # to a 128-bit 9223372036854775808 where Neo4j fails with an overflow (so does 0 - x)
    return f"(0 - {s})" if cx.type_of(e.operand) == "int" else f"(- {s})"


def _is_null(cx, e, sc):
    return f"({sql(cx, e.operand, sc)} IS {'NOT ' if e.negated else ''}NULL)"


_STRING_FUNCTIONS = {"STARTS": "starts_with", "ENDS": "ends_with", "CONTAINS": "contains", "=~": "regexp_full_match"}


def _binary(cx, e, sc):
    op = e.op
    left = (sql(cx, e.left, sc), cx.type_of(e.left))
    right = (sql(cx, e.right, sc), cx.type_of(e.right))
    (ls, lt), (rs, rt) = left, right
    if op == "XOR":
        return f"(({ls}) <> ({rs}))"
    if op in ("AND", "OR"):
        return f"({ls} {op} {rs})"
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return compare(op, left, right)
    if op == "IN":
        return _in_list(cx, e, left, right)
    if op in _STRING_FUNCTIONS:
        if not compatible(lt, "str") or not compatible(rt, "str"):
            return "CAST(NULL AS BOOLEAN)"
        return f"{_STRING_FUNCTIONS[op]}({ls}, {rs})"
    return _arithmetic(op, left, right, cx.type_of(e))


def compare(op: str, left: tuple[str, str], right: tuple[str, str]) -> str:
    """A comparison of two (sql, type) values: null when the types cannot be compared."""
    (ls, lt), (rs, rt) = left, right
    if "null" in (lt, rt):
        return "CAST(NULL AS BOOLEAN)"
    if lt in ENTITY or rt in ENTITY:
        if lt != rt and "any" not in (lt, rt):
            return "CAST(NULL AS BOOLEAN)" if op not in ("=", "<>") else \
                f"(CASE WHEN {ls} IS NULL OR {rs} IS NULL THEN NULL ELSE {'false' if op == '=' else 'true'} END)"
        if op not in ("=", "<>"):
            return "CAST(NULL AS BOOLEAN)"
    elif not compatible(lt, rt):
        if op in ("=", "<>"):
            return f"(CASE WHEN {ls} IS NULL OR {rs} IS NULL THEN NULL ELSE {'false' if op == '=' else 'true'} END)"
        return "CAST(NULL AS BOOLEAN)"
    return f"({ls} {op} {rs})"


def _in_list(cx, e, left, right) -> str:
    (ls, lt), (rs, rt) = left, right
    if not compatible(lt, list_element(rt)):
        # no element can equal the value: false, or null if the list holds a null
        return (f"(CASE WHEN {rs} IS NULL THEN NULL WHEN len({rs}) = 0 THEN false WHEN {ls} IS NULL THEN NULL "
                f"WHEN list_count({rs}) < len({rs}) THEN NULL ELSE false END)")
    if isinstance(e.right, ir.ListLit):
        if not e.right.items:
            return "false"
        if not any(refers_to_variables(i) for i in e.right.items):
            items = [(sql(cx, i, Scope()), cx.type_of(i)) for i in e.right.items]
            if all(compatible(lt, t) for _, t in items):
                return f"({ls} IN ({', '.join(s for s, _ in items)}))"
    return (f"(CASE WHEN {rs} IS NULL THEN NULL WHEN len({rs}) = 0 THEN false WHEN {ls} IS NULL THEN NULL "
            f"WHEN list_contains({rs}, {ls}) THEN true WHEN list_count({rs}) < len({rs}) THEN NULL "
            f"ELSE false END)")


def _arithmetic(op, left, right, out: str) -> str:
    (ls, lt), (rs, rt) = left, right
    if "null" in (lt, rt):
        return "NULL"
    if op == "+":
        if lt.startswith("list:") or rt.startswith("list:") or "rels" in (lt, rt):
            if (lt.startswith("list:") or lt == "rels") and (rt.startswith("list:") or rt == "rels"):
                return f"({ls} || {rs})"
            if lt.startswith("list:"):
                return f"list_append({ls}, {rs})"
            return f"list_prepend({ls}, {rs})"
        if lt == "str" or rt == "str":
            return f"({to_string_sql(ls, lt)} || {to_string_sql(rs, rt)})"
        if lt in ("date", "datetime") and rt in ("duration", "any"):
            return f"CAST({ls} + {rs} AS DATE)" if lt == "date" else f"({ls} + {rs})"
        if rt in ("date", "datetime") and lt in ("duration", "any"):
            return f"CAST({rs} + {ls} AS DATE)" if rt == "date" else f"({ls} + {rs})"
    if op == "-" and lt in ("date", "datetime"):
        return f"CAST({ls} - {rs} AS DATE)" if lt == "date" else f"({ls} - {rs})"
    if op == "/":
        if out == "int":
            return f"({ls} // {rs})"
        return f"(CAST({ls} AS DOUBLE) / {rs})"
    if op == "^":
        return f"pow({ls}, {rs})"
    return f"({ls} {op} {rs})"


def _count_star(cx, e, sc):
    return "count(*)"


def _list(cx, e, sc):
    if not e.items:
        return "[]"
    return "[" + ", ".join(sql(cx, i, sc) for i in e.items) + "]"


def _map(cx, e, sc):
    return f"struct_pack({', '.join(f'{quote_identifier(k)} := {sql(cx, v, sc)}' for k, v in e.items.items())})"


def _list_comprehension(cx, e, sc):
    """``[x IN list WHERE … | …]`` as DuckDB lambdas. Rows that outer variables need are
    joined in the enclosing scope (the checker refuses reading rows of ``x`` itself)."""
    out = sql(cx, e.source, sc)
    lv = cx.fresh("_lv")
    inner = Scope(froms=sc.froms, conds=sc.conds, vars=dict(sc.vars), binds=sc.binds, order_col=sc.order_col,
                  sub=sc.sub)
    inner.vars[e.var] = Var(e.var, list_element(cx.type_of(e.source)), lv)
    if e.where is not None:
        out = f"list_filter({out}, lambda {lv}: {sql(cx, e.where, inner)})"
    if e.projection is not None:
        out = f"list_transform({out}, lambda {lv}: {sql(cx, e.projection, inner)})"
    return out


def _reduce(cx, e, sc):
    """``reduce(acc = init, x IN list | expr)`` as DuckDB's ``list_reduce`` with an initial
    value (a null list gives null, an empty one the initial value, as in Cypher)."""
    acc, lv = cx.fresh("_la"), cx.fresh("_lv")
    inner = Scope(froms=sc.froms, conds=sc.conds, vars=dict(sc.vars), binds=sc.binds, order_col=sc.order_col,
                  sub=sc.sub)
    inner.vars[e.acc] = Var(e.acc, cx.type_of(e.init), acc)
    inner.vars[e.var] = Var(e.var, list_element(cx.type_of(e.source)), lv)
    return (f"list_reduce({sql(cx, e.source, sc)}, lambda {acc}, {lv}: {sql(cx, e.expr, inner)}, "
            f"{sql(cx, e.init, sc)})")


def _case(cx, e, sc):
    parts = []
    subject = (sql(cx, e.subject, sc), cx.type_of(e.subject)) if e.subject is not None else None
    for cond, val in e.whens:
        c = sql(cx, cond, sc)
        if subject is not None:
            c = compare("=", subject, (c, cx.type_of(cond)))
        parts.append(f"WHEN {c} THEN {sql(cx, val, sc)}")
    if e.default is not None:
        parts.append(f"ELSE {sql(cx, e.default, sc)}")
    return "(CASE " + " ".join(parts) + " END)"


def _func(cx, e, sc):
    return REGISTRY[e.name].sql(cx, e, sc)


_SQL = {ir.Literal: _literal, ir.Param: _param, ir.Var: _var, ir.Prop: _prop, ir.HasLabels: _has_labels,
        ir.Index: _index, ir.Slice: _slice, ir.Unary: _unary, ir.IsNull: _is_null, ir.Binary: _binary,
        ir.CountStar: _count_star, ir.ListLit: _list, ir.MapLit: _map, ir.ListComp: _list_comprehension,
        ir.Reduce: _reduce,        ir.Case: _case, ir.PatternPred: lambda cx, e, sc: predicates.exists_sql(cx, e, sc), ir.Func: _func}
