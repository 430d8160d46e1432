"""Typed parsing of neo4j-admin cells in SQL: each declared type, its range, and the reason a
cell that does not parse is quarantined with."""

from __future__ import annotations

from ...schema import SQL_TYPES
from ..pipeline import Params
from .header import ARRAY_DELIMITER, INT_RANGES, Column

_INT_RE = r"[+-]?[0-9]+"
_FLOAT_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATETIME_RE = (r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?))?"
                r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?(\[[^\]]+\])?")
_LOCAL_DATETIME_RE = r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?))?"

_REASONS = {
    "byte": "not a byte: {} (expected a whole number from -128 to 127)",
    "short": "not a short: {} (expected a whole number from -32768 to 32767)",
    "int": "not an int: {} (expected a 32-bit whole number)",
    "long": "not a long: {} (expected a whole number)",
    "float": "not a float: {} (expected a number such as 12.5)",
    "double": "not a double: {} (expected a number such as 12.5)",
    "boolean": "not a boolean: {} (expected true or false)",
    "date": "not a date: {} (expected YYYY-MM-DD)",
    "datetime": "not a datetime: {} (expected YYYY-MM-DDTHH:MM:SS with an optional zone)",
    "localdatetime": "not a localdatetime: {} (expected YYYY-MM-DDTHH:MM:SS)",
}


#: (exact type of the declared values, schema type) where the schema's type rounds some of them
_NARROWING = {("DOUBLE", "decimal"), ("HUGEINT", "decimal"), ("HUGEINT", "float"), ("HUGEINT", "float_list")}


# -- typed parsing (SQL) ------------------------------------------------------------------

def _raw(c: Column) -> str:
    """The cell as text, NULL when empty; typed values are trimmed first."""
    cell = f"c{c.index}"
    if c.read_as in ("string", "char", "string[]", "char[]"):
        return f"NULLIF({cell}, '')"
    return f"NULLIF(trim({cell}), '')"


def _parsed(c: Column, r: str, p: Params) -> str:
    """SQL parsing text ``r`` as ``c.read_as``, cast to the schema type (NULL when it does not parse)."""
    t = c.read_as
    if t == "json":
        return f"TRY_CAST(CASE WHEN json_type(TRY_CAST({r} AS JSON)) = 'ARRAY' THEN TRY_CAST({r} AS JSON) END " \
               f"AS {SQL_TYPES[c.schema_type]})"
    if t.endswith("[]"):
        # a ;-separated list: every element parsed as the element type, NULL if one does not parse
        items = _items(r, p)
        if t in ("string[]", "char[]"):
            expr = f"CASE WHEN len({items}) > 0 THEN {items} END"
        else:
            parsed = _list(t, r, p)
            expr = f"CASE WHEN len({items}) > 0 AND list_bool_and(list_transform({parsed}, lambda y: y IS NOT NULL)) " \
                   f"THEN {parsed} END"
        return f"TRY_CAST({expr} AS {SQL_TYPES[c.schema_type]})"
    return f"TRY_CAST({_scalar(t, r, p)} AS {SQL_TYPES[c.schema_type]})"


def _items(r: str, p: Params) -> str:
    return f"list_filter(string_split({r}, {p.bind(ARRAY_DELIMITER)}), lambda x: x <> '')"


def _list(t: str, r: str, p: Params) -> str:
    """SQL parsing ``r`` as a list of the neo4j scalar type ``t[:-2]``, element by element."""
    return f"list_transform({_items(r, p)}, lambda x: {_scalar(t[:-2], 'trim(x)', p)})"


def _narrowing_error(c: Column, r: str, value: str, p: Params) -> str | None:
    """The reason a value that parsed is quarantined when the schema's type holds it only
    approximately — a double's 0.123456 as a decimal (2 places), a long beyond 2^53 as a
    float: loaded, it would be silently rounded. None for a column whose type holds every value."""
    t, st = c.read_as, c.schema_type
    element = t.removesuffix("[]")
    exact = "DOUBLE" if element in ("float", "double") else "HUGEINT" if element in INT_RANGES else None
    if (exact, st) not in _NARROWING:
        return None
    if t.endswith("[]"):   # (a list whose element does not parse has its own reason)
        native, cast, parsed = _list(t, r, p), f"{exact}[]", f"{value} IS NOT NULL"
    else:                  # (a scalar too large for the type has no value: it is rounded away)
        native, cast, parsed = _scalar(t, r, p), exact, "true"
    why = (f"does not fit the schema's decimal {c.name!r} (money to the cent: 2 places, 16 whole digits)"
           if st == "decimal" else f"is a whole number the schema's float {c.name!r} cannot hold exactly (beyond 2^53)")
    return (f"CASE WHEN {native} IS NOT NULL AND {parsed} AND "
            f"CAST({value} AS {cast}) IS DISTINCT FROM CAST({native} AS {cast}) "
            f"THEN {p.bind('would be rounded: ')} || {r} || {p.bind(' ' + why)} END")


def _scalar(t: str, r: str, p: Params) -> str:
    """SQL parsing text ``r`` as the neo4j scalar type ``t`` (NULL when it does not parse)."""
    if t in ("string", "char"):
        expr = r
    elif t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        expr = (f"CASE WHEN regexp_full_match({r}, {p.bind(_INT_RE)}) AND TRY_CAST({r} AS HUGEINT) "
                f"BETWEEN CAST({p.bind(str(lo))} AS HUGEINT) AND CAST({p.bind(str(hi))} AS HUGEINT) "
                f"THEN CAST({r} AS BIGINT) END")
    elif t in ("float", "double"):
        expr = f"CASE WHEN regexp_full_match({r}, {p.bind(_FLOAT_RE)}) THEN TRY_CAST({r} AS DOUBLE) END"
    elif t == "boolean":
        expr = (f"CASE lower({r}) WHEN {p.bind('true')} THEN true WHEN {p.bind('false')} THEN false END")
    elif t == "date":
        expr = (f"CASE WHEN regexp_full_match({r}, {p.bind('[0-9]{4}-[0-9]{2}-[0-9]{2}')}) THEN TRY_CAST({r} AS DATE) "
                f"WHEN regexp_full_match({r}, {p.bind('[0-9]{8}')}) "
                f"THEN CAST(try_strptime({r}, {p.bind('%Y%m%d')}) AS DATE) END")
    elif t in ("datetime", "localdatetime"):
        rx = p.bind(_DATETIME_RE if t == "datetime" else _LOCAL_DATETIME_RE)
        expr = (f"CASE WHEN regexp_full_match({r}, {rx}) THEN TRY_CAST(regexp_extract({r}, {rx}, 1) || ' ' || "
                f"coalesce(NULLIF(regexp_extract({r}, {rx}, 2), ''), {p.bind('00:00:00')}) AS TIMESTAMP) END")
    else:  # pragma: no cover - excluded by _check_columns
        raise AssertionError(t)
    return expr


def _parse_error(c: Column, r: str, value: str, p: Params) -> str | None:
    """The reason a cell is quarantined: it does not parse as its type, or would be rounded."""
    unparsed, narrowed = _unparsed_error(c, r, value, p), _narrowing_error(c, r, value, p)
    return f"coalesce({narrowed}, {unparsed})" if narrowed and unparsed else unparsed


def _unparsed_error(c: Column, r: str, value: str, p: Params) -> str | None:
    if c.read_as in ("string", "char", "string[]", "char[]"):
        return None
    if c.read_as == "json":
        return (f"CASE WHEN {r} IS NOT NULL AND {value} IS NULL THEN {p.bind('not a list: ')} || {r} || "
                f"{p.bind(' (expected a JSON list such as [1,2] of ' + c.schema_type.removesuffix('_list') + 's, or a typed header name:type[])')} END")
    if c.read_as.endswith("[]"):
        element = _REASONS[c.read_as[:-2]].partition(":")[0]
        return (f"CASE WHEN {r} IS NOT NULL AND {value} IS NULL THEN {p.bind(element + ' in the list: ')} || {r} "
                f"|| {p.bind(' (every ' + repr(ARRAY_DELIMITER)[1:-1] + '-separated element must be one)')} END")
    before, _, after = _REASONS[c.read_as].partition("{}")
    return f"CASE WHEN {r} IS NOT NULL AND {value} IS NULL THEN {p.bind(before)} || {r} || {p.bind(after)} END"


def _err_struct(errs: list[tuple[str, str]], p: Params) -> str:
    """The first error of a row as STRUCT(column, reason); ``errs`` = [(column header, reason SQL)]."""
    if not errs:
        return "CAST(NULL AS STRUCT(\"column\" VARCHAR, reason VARCHAR))"
    case = "CASE " + " ".join(f"WHEN ({e}) IS NOT NULL THEN {{'column': {p.bind(h)}, 'reason': ({e})}}"
                              for h, e in errs) + " END"
    return f"CAST({case} AS STRUCT(\"column\" VARCHAR, reason VARCHAR))"


