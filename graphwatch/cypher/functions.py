"""Every function of the subset, as one table: its type rule (used by the checker) and its
SQL (used by the compiler).

A :class:`Function` row holds two callables:

``result(checker, call, scope, agg_ok) -> type``
    checks the arguments (count, value types) and returns the result type, raising
    :class:`~graphwatch.exc.PatternError` with the call's line and column;
``sql(compilation, call, scope) -> str``
    the DuckDB expression, for a call the checker accepted (argument types are read from
    the checker's annotations with ``compilation.type_of``).

Families of functions that differ only in the SQL function they call (``toLower`` →
``lower``, ``abs``, ``round`` …) are rows built from small tables below, not one wrapper
each. Names are lower case, as the parser spells them (``duration.indays``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ir
from .temporal import TEMPORAL
from .valuetypes import (ENTITY, NUMERIC, a_kind, compatible, is_list, list_element, mixed_types_message, mixes,
                         one_of)


@dataclass(frozen=True)
class Function:
    name: str
    result: Callable
    sql: Callable
    aggregate: bool = False


#: functions Neo4j has (or had) that graphwatch refuses, and why
REFUSED_FUNCTIONS = {
    "datetime": "datetime() is refused: graphwatch datetimes have no time zone, and in Neo4j a zoned "
                "datetime() never compares equal to a stored one; write localdatetime(…)",
    "rels": "unknown function rels(): Neo4j 5 removed it; write relationships(p)",
}

REGISTRY: dict[str, Function] = {}


def _register(name: str, result: Callable, sql: Callable, *, aggregate: bool = False) -> None:
    REGISTRY[name] = Function(name, result, sql, aggregate)


def _call(fn: str) -> Callable:
    """SQL: the DuckDB function ``fn`` applied to the arguments as they are."""
    return lambda cx, e, sc: f"{fn}({', '.join(cx.args_sql(e, sc))})"


def _returns(t: str, n: int | tuple) -> Callable:
    """A type rule that only counts arguments."""
    def result(ck, e, scope, agg_ok):
        ck.arg_types(e, scope, agg_ok, n)
        return t
    return result


def _integer_args(ck, e, types, first: int = 0) -> None:
    for arg, t in list(zip(e.args, types))[first:]:
        if t not in ("int", "any", "null"):
            raise ck.err(arg, f"{e.name}() needs integer arguments, not {a_kind(t)}")


# -- strings --------------------------------------------------------------------------------
def _string_arg(ck, e, scope, agg_ok) -> str:
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if not compatible(t, "str"):
        raise ck.err(e, f"{e.name}() needs a string, not {a_kind(t)}")
    return "str"


for _name, _fn in {"tolower": "lower", "lower": "lower", "toupper": "upper", "upper": "upper"}.items():
    _register(_name, _string_arg, _call(_fn))

_WHITESPACE = " \t\n\r"      # what Neo4j's trim removes (DuckDB's trim alone: spaces only)
for _name in ("trim", "ltrim", "rtrim"):
    _register(_name, _string_arg, lambda cx, e, sc, fn=_name:
              f"{fn}({cx.args_sql(e, sc)[0]}, CAST({cx.bind_value(_WHITESPACE)} AS VARCHAR))")


def _reverse_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t.startswith("list:") or t == "rels":
        return t
    if not compatible(t, "str"):
        raise ck.err(e, f"reverse() needs a string or a list, not {a_kind(t)}")
    return "str"


def _reverse_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    t = cx.type_of(e.args[0])
    return f"list_reverse({a})" if t.startswith("list:") or t == "rels" else f"reverse({a})"


_register("reverse", _reverse_type, _reverse_sql)
def _strings(n: int, out: str) -> Callable:
    def result(ck, e, scope, agg_ok):
        _string_args(ck, e, ck.arg_types(e, scope, agg_ok, n))
        return out
    return result


_register("replace", _strings(3, "str"), _call("replace"))
_register("split", _strings(2, "list:str"), _call("string_split"))


INT32_MAX = 2 ** 31 - 1


def _string_args(ck, e, types, *positions) -> None:
    for i in positions or range(len(types)):
        if not compatible(types[i], "str"):
            raise ck.err(e.args[i], f"{e.name}() needs a string, not {a_kind(types[i])}")


def _substring_type(ck, e, scope, agg_ok):
    types = ck.arg_types(e, scope, agg_ok, (2, 3))
    _string_args(ck, e, types, 0)
    _integer_args(ck, e, types, 1)
    _literal_bounds(ck, e, 1, INT32_MAX)
    return "str"


def _literal_bounds(ck, e, first: int, top: int | None) -> None:
    """Neo4j fails at run time on a negative start or length (and, for substring, on one
    beyond 32 bits): written as a literal, that is refused here."""
    for arg in e.args[first:]:
        if isinstance(arg, ir.Literal) and isinstance(arg.value, int) and not isinstance(arg.value, bool) \
                and (arg.value < 0 or (top is not None and arg.value > top)):
            limit = f"between 0 and {top}" if top is not None else "0 or more"
            raise ck.err(arg, f"{e.name}() needs {limit} here, not {arg.value} (Neo4j fails on it too)")


#: the messages :func:`failure` was given (a few fixed sentences): DuckDB reports a deliberate
#: failure as a failed conversion of one of them, which the engine tells apart by them
FAILURE_MESSAGES: set[str] = set()


def failure(cx, message: str) -> str:
    """An INTEGER expression that fails with ``message`` when DuckDB evaluates it: a run-time
    error where Neo4j raises one (on values known only when the query runs). DuckDB's
    error() is volatile, which window ORDER BYs refuse; a failing cast is not, and inside a
    CASE branch it is evaluated only for the rows that reach it."""
    FAILURE_MESSAGES.add(message)
    return f"CAST(CAST({cx.bind_value(message)} AS VARCHAR) AS INTEGER)"


def is_failure(duckdb_message: str) -> bool:
    """Whether DuckDB's error text is one of :func:`failure`'s (``Could not convert string
    '<message>' to INT32``)."""
    return any(f"'{m}'" in duckdb_message for m in FAILURE_MESSAGES)


def fails_unless(cx, bad: str, message: str, body: str) -> str:
    """The string ``body``, or a run-time error where ``bad`` holds."""
    return f"(CASE WHEN {bad} THEN CAST({failure(cx, message)} AS VARCHAR) ELSE {body} END)"


def _substring_sql(cx, e, sc):
    s, start, *length = cx.args_sql(e, sc)
    bad = " OR ".join(f"{x} < 0 OR {x} > {INT32_MAX}" for x in [start, *length])
    # Cypher counts from 0, DuckDB from 1 (start is below 2^31 here: adding one cannot overflow)
    body = f"substring({s}, {start} + 1, {length[0]})" if length else f"substring({s}, {start} + 1)"
    return fails_unless(cx, bad, f"substring() needs a start and a length between 0 and {INT32_MAX}", body)


_register("substring", _substring_type, _substring_sql)


def _left_right_type(ck, e, scope, agg_ok):
    types = ck.arg_types(e, scope, agg_ok, 2)
    _string_args(ck, e, types, 0)
    _integer_args(ck, e, types, 1)
    _literal_bounds(ck, e, 1, None)
    return "str"


def _left_right(fn: str) -> Callable:
    def sql(cx, e, sc):
        s, n = cx.args_sql(e, sc)
        # DuckDB refuses a length beyond 2^32; the whole string is what Neo4j gives
        body = f"(CASE WHEN {n} > length({s}) THEN {s} ELSE {fn}({s}, {n}) END)"
        return fails_unless(cx, f"{n} < 0", f"{fn}() needs a length of 0 or more", body)
    return sql


_register("left", _left_right_type, _left_right("left"))
_register("right", _left_right_type, _left_right("right"))


# -- conversions ----------------------------------------------------------------------------
def to_string_sql(sql: str, t: str) -> str:
    """A value as text, booleans spelled as Cypher spells them."""
    if t == "str":
        return sql
    if t == "bool":
        return f"(CASE WHEN {sql} THEN 'true' WHEN NOT {sql} THEN 'false' END)"
    return f"CAST({sql} AS VARCHAR)"


def _tostring_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t in ENTITY or t.startswith("list:"):
        raise ck.err(e, f"toString() of {a_kind(t)} is not supported")
    return "str"


def _tointeger_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    t = cx.type_of(e.args[0])
    if t == "int":
        return a
    if t == "float":
        return f"CAST(trunc({a}) AS BIGINT)"
    if t == "bool":
        return f"CAST({a} AS BIGINT)"
    # exact for long digit strings (18-digit IDs lose digits through DOUBLE)
    return f"coalesce(TRY_CAST({a} AS BIGINT), TRY_CAST(trunc(TRY_CAST({a} AS DOUBLE)) AS BIGINT))"


def _toboolean_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    if cx.type_of(e.args[0]) == "bool":
        return a
    return f"(CASE lower(CAST({a} AS VARCHAR)) WHEN 'true' THEN true WHEN 'false' THEN false END)"


_register("tostring", _tostring_type, lambda cx, e, sc: to_string_sql(cx.args_sql(e, sc)[0], cx.type_of(e.args[0])))
_register("tointeger", _returns("int", 1), _tointeger_sql)
_register("tofloat", _returns("float", 1), lambda cx, e, sc: f"TRY_CAST({cx.args_sql(e, sc)[0]} AS DOUBLE)")
_register("toboolean", _returns("bool", 1), _toboolean_sql)


# -- numbers: name -> (DuckDB function, result type; None: the argument's) ------------------
def _number_arg(out: str | None) -> Callable:
    def result(ck, e, scope, agg_ok):
        t, = ck.arg_types(e, scope, agg_ok, 1)
        if t not in NUMERIC + ("any", "null"):
            raise ck.err(e, f"{e.name}() needs a number, not {a_kind(t)}")
        return out or t
    return result


def _round_sql(cx, e, sc):
    x = f"CAST({cx.args_sql(e, sc)[0]} AS DOUBLE)"
    # Neo4j rounds halves up (round(-2.5) is -2.0; DuckDB: away from zero) and never
    # gives -0.0 (adding 0.0 turns DuckDB's round(-0.4) = -0.0 into 0.0)
    return f"((CASE WHEN {x} - floor({x}) = 0.5 THEN ceil({x}) ELSE round({x}) END) + 0.0)"


for _name, (_fn, _out) in {"abs": ("abs", None), "sign": ("sign", "int")}.items():
    _register(_name, _number_arg(_out), _call(_fn))
for _name in ("floor", "ceil", "sqrt"):         # floats in Neo4j, also of an integer
    _register(_name, _number_arg("float"), lambda cx, e, sc, fn=_name: f"{fn}(CAST({cx.args_sql(e, sc)[0]} AS DOUBLE))")
_register("round", _number_arg("float"), _round_sql)


def _range_type(ck, e, scope, agg_ok):
    _integer_args(ck, e, ck.arg_types(e, scope, agg_ok, (2, 3)))
    return "list:int"


def _range_sql(cx, e, sc):
    start, stop, *step = cx.args_sql(e, sc)
    return f"generate_series({start}, {stop}, {step[0] if step else '1'})"


_register("range", _range_type, _range_sql)


# -- lists and sizes ------------------------------------------------------------------------
def _size_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t != "str" and not is_list(t):
        raise ck.err(e, f"size() takes a list or a string, not {a_kind(t)}")
    return "int"


def _size_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    return f"length({a})" if cx.type_of(e.args[0]) == "str" else f"len({a})"


def _length_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t not in ("path", "str"):
        raise ck.err(e, "length() takes a path; use size() for lists and strings")
    return "int"


def _length_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    return f"len(({a}).rels)" if cx.type_of(e.args[0]) == "path" else f"length({a})"


def _element_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    return list_element(t)


def _tail_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    return "list:rel" if t == "rels" else t


_register("size", _size_type, _size_sql)
_register("length", _length_type, _length_sql)
_register("head", _element_type, lambda cx, e, sc: f"list_extract({cx.args_sql(e, sc)[0]}, 1)")
_register("last", _element_type, lambda cx, e, sc: f"list_extract({cx.args_sql(e, sc)[0]}, -1)")
_register("tail", _tail_type, lambda cx, e, sc: "list_slice({0}, 2, len({0}))".format(cx.args_sql(e, sc)[0]))


def _coalesce_type(ck, e, scope, agg_ok):
    if not e.args:
        raise ck.err(e, "coalesce() needs at least one argument")
    types = [ck.type(a, scope, agg_ok=agg_ok) for a in e.args]
    if mixes(types):
        raise ck.err(e, mixed_types_message("coalesce() of different value types is not supported", types))
    return one_of(types)


_register("coalesce", _coalesce_type, _call("coalesce"))


# -- graph elements -------------------------------------------------------------------------
def _id_type(ck, e, scope, agg_ok):
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t not in ("node", "rel", "any", "null"):
        raise ck.err(e, f"id() needs a node or relationship, not {a_kind(t)}")
    return "int"


def _element_id_type(ck, e, scope, agg_ok):
    _id_type(ck, e, scope, agg_ok)
    return "str"


_register("id", _id_type, lambda cx, e, sc: cx.args_sql(e, sc)[0])
_register("elementid", _element_id_type, lambda cx, e, sc: f"CAST({cx.args_sql(e, sc)[0]} AS VARCHAR)")


def _of_variable(kind: str, out: str) -> Callable:
    """labels(n), type(r), startNode(r), endNode(r): a variable, whose row is read."""
    def result(ck, e, scope, agg_ok):
        ck.entity_variable(e, scope, kind)
        return out
    return result


def _node_column(column: str) -> Callable:
    def sql(cx, e, sc):
        v = sc.vars[e.args[0].name]
        return column.format(cx.node_row(v, sc, nullable=v.nullable))
    return sql


def _rel_column(column: str) -> Callable:
    def sql(cx, e, sc):
        return column.format(cx.rel_row(sc.vars[e.args[0].name], sc))
    return sql


_register("labels", _of_variable("node", "list:str"), _node_column("list_sort({}.labels)"))
_register("type", _of_variable("rel", "str"), _rel_column("{}.type"))
_register("startnode", _of_variable("rel", "node"), _rel_column("{}.src"))
_register("endnode", _of_variable("rel", "node"), _rel_column("{}.dst"))


def _of_path(out: str) -> Callable:
    def result(ck, e, scope, agg_ok):
        t, = ck.arg_types(e, scope, agg_ok, 1)
        if t not in ("path", "null"):
            raise ck.err(e, f"{e.name}() needs a path, not {a_kind(t)}")
        return out
    return result


_register("nodes", _of_path("list:node"), lambda cx, e, sc: f"({cx.args_sql(e, sc)[0]}).nodes")
_register("relationships", _of_path("list:rel"), lambda cx, e, sc: f"({cx.args_sql(e, sc)[0]}).rels")


def _exists_sql(cx, e, sc):
    a, = cx.args_sql(e, sc)
    return a if isinstance(e.args[0], ir.PatternPred) else f"({a} IS NOT NULL)"


_register("exists", _returns("bool", 1), _exists_sql)


# -- temporal (date, localdatetime, duration, duration.inDays: their own module) ------------
for _name, (_result, _sql) in TEMPORAL.items():
    _register(_name, _result, _sql)


# -- aggregates (the checker allows them only in WITH / RETURN, never nested) -------------------
def _numbers_type(ck, e, t: str) -> None:
    if t not in NUMERIC + ("any", "null"):
        raise ck.err(e, f"{e.name}() needs numbers, not {a_kind(t)}")


def _aggregate(result: Callable, sql: Callable) -> tuple[Callable, Callable]:
    def typed(ck, e, scope, agg_ok):
        t, = ck.arg_types(e, scope, agg_ok, 1)
        return result(ck, e, t)

    def compiled(cx, e, sc):
        a, = cx.args_sql(e, sc)
        return sql(cx, e, sc, a, "DISTINCT " if e.distinct else "")
    return typed, compiled


def _sum_type(ck, e, t):
    _numbers_type(ck, e, t)
    return t if t != "null" else "int"


def _sum_sql(cx, e, sc, a, d):
    if cx.type_of(e.args[0]) == "int":
        return f"coalesce(CAST(sum({d}{a}) AS BIGINT), 0)"
    return f"coalesce(sum({d}{a}), 0)"


def _float_stat(fn: str) -> tuple[Callable, Callable]:
    def result(ck, e, t):
        _numbers_type(ck, e, t)
        return "float"
    return _aggregate(result, lambda cx, e, sc, a, d: f"{fn}({d}{a})")


def _min_max(fn: str) -> tuple[Callable, Callable]:
    def result(ck, e, t):
        if t in ENTITY:
            raise ck.err(e, f"{fn}() of {a_kind(t)} is not supported; use one of its properties")
        return t
    return _aggregate(result, lambda cx, e, sc, a, d: f"{fn}({d}{a})")


def _collect_sql(cx, e, sc, a, d):
    if sc.order_col and e.distinct:
        # Neo4j keeps a DISTINCT collect() in the order a WITH … ORDER BY left; DuckDB's
        # DISTINCT aggregates cannot be ordered: collect in order, keep each value's first place
        listed = f"list({a} ORDER BY {sc.order_col}) FILTER (WHERE {a} IS NOT NULL)"
        return f"coalesce(list_filter({listed}, lambda _v, _i: list_position({listed}, _v) = _i), [])"
    order = f" ORDER BY {sc.order_col}" if sc.order_col else ""
    return f"coalesce(list({d}{a}{order}) FILTER (WHERE {a} IS NOT NULL), [])"


for _name, (_result, _sql) in {
    "count": _aggregate(lambda ck, e, t: "int", lambda cx, e, sc, a, d: f"count({d}{a})"),
    "collect": _aggregate(lambda ck, e, t: "list:list:rel" if t == "rels" else f"list:{t}", _collect_sql),
    "sum": _aggregate(_sum_type, _sum_sql),
    "avg": _float_stat("avg"), "stdev": _float_stat("stddev_samp"), "stdevp": _float_stat("stddev_pop"),
    "min": _min_max("min"), "max": _min_max("max"),
}.items():
    _register(_name, _result, _sql, aggregate=True)

AGGREGATES = frozenset(n for n, f in REGISTRY.items() if f.aggregate)
#: every function name, as the documentation spells them in lower case (dotted namespaces)
FUNCTIONS = sorted(REGISTRY)

__all__ = ["AGGREGATES", "FUNCTIONS", "INT32_MAX", "REFUSED_FUNCTIONS", "REGISTRY", "Function", "failure",
           "fails_unless", "to_string_sql"]
