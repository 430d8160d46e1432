"""The value types the checker gives every expression, and how they combine.

A type is a short string: ``'str'``, ``'int'``, ``'float'``, ``'bool'``, ``'date'``,
``'datetime'``, ``'duration'``, ``'map'``, ``'null'`` (the literal null), ``'any'`` (not
known before the query runs: a parameter without a value, an element of a mixed list …),
the graph types ``'node'``, ``'rel'``, ``'path'``, ``'rels'`` (the relationships of a
variable-length hop), and lists ``'list:<element type>'``.
"""

from __future__ import annotations

import datetime

#: schema property type -> expression type
PROP_TYPES = {"string": "str", "integer": "int", "float": "float", "decimal": "float", "boolean": "bool",
              "date": "date", "datetime": "datetime", "string_list": "list:str", "integer_list": "list:int",
              "float_list": "list:float", "boolean_list": "list:bool", "date_list": "list:date"}
#: columns every node / relationship has besides its schema properties
NODE_CORE = {"key": "str", "datasets": "list:str"}
REL_CORE = {"valid_from": "date", "valid_to": "date", "dataset": "str", "record": "str", "records": "list:str",
            "datasets": "list:str"}
ENTITY = ("node", "rel", "path", "rels")
NUMERIC = ("int", "float")


def element(t: str) -> str:
    """The element type of a list type (``'any'`` for anything else)."""
    return t[5:] if t.startswith("list:") else "any"


def is_list(t: str) -> bool:
    """A list, or a value that may be one (``rels`` is a list of relationships)."""
    return t.startswith("list:") or t in ("any", "null", "rels")


def list_element(t: str) -> str:
    """What iterating over a list-like value gives."""
    return "rel" if t == "rels" else element(t)


def compatible(a: str, b: str) -> bool:
    """Whether values of the two types can be compared (or stand in each other's place)."""
    if "any" in (a, b) or "null" in (a, b) or a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    if a.startswith("list:") and b.startswith("list:"):
        return compatible(element(a), element(b))
    return {a, b} <= {"date", "datetime"}


def fit_one_list(a: str, b: str) -> bool:
    """Whether values of the two types can be elements of one DuckDB list, or the results
    of one CASE: the same type. (Not an integer and a float either: DuckDB would make the
    integer a float, where Neo4j keeps each value's own type — ``0`` vs ``0.0`` shows in
    ``toString()`` and in the results.)"""
    if "any" in (a, b) or "null" in (a, b) or a == b:
        return True
    if a.startswith("list:") and b.startswith("list:"):
        return fit_one_list(element(a), element(b))
    return False


def of_python(v) -> str:
    """The type of a ``$parameter`` value."""
    if v is None:
        return "any"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, datetime.datetime):
        return "datetime"
    if isinstance(v, datetime.date):
        return "date"
    if isinstance(v, (list, tuple)):
        inner = {of_python(x) for x in v if x is not None}
        return f"list:{inner.pop()}" if len(inner) == 1 else "list:any"
    if isinstance(v, dict):
        return "map"
    return "any"


def one_of(types) -> str:
    """The type of a value that is one of several (CASE results, coalesce arguments) that
    do not mix (:func:`mixes`): their common type, else ``'any'``."""
    ts = {t for t in types if t != "null"}
    return ts.pop() if len(ts) == 1 else "any"


def mixes(types) -> bool:
    """More than one value type among ``types`` (see :func:`fit_one_list`)."""
    ts = [t for t in types if t != "null"]
    return any(not fit_one_list(a, b) for a in ts for b in ts)


def mixed_types_message(refusal: str, types) -> str:
    """The refusal of values of several types where DuckDB needs one: ``refusal``, the types,
    and for integers with floats how to write them."""
    ts = sorted({kind_name(t) for t in types if t not in ("null", "any")})
    innermost = {t.rsplit(":", 1)[-1] for t in types if t not in ("null", "any")}
    hint = ""
    if innermost == {"int", "float"}:
        hint = ("; Neo4j keeps integers and floats apart (0 is not 0.0 in its results): write the integers "
                "as floats (0.0, toFloat(x))")
    return f"{refusal}: {' and '.join(ts)}{hint}"


def a_kind(t: str) -> str:
    """A type as an error message names it, with its article: "an integer", "a string"."""
    name = kind_name(t)
    return ("an " if name[0] in "aeiou" else "a ") + name


def kind_name(t: str) -> str:
    """A type as an error message names it."""
    return {"node": "node", "rel": "relationship", "rels": "relationship list", "path": "path",
            "str": "string", "int": "integer", "float": "float", "bool": "boolean", "date": "date",
            "datetime": "datetime", "duration": "duration", "map": "map", "null": "null",
            "any": "value"}.get(t) or ("list of " + kind_name(t[5:]) if t.startswith("list:") else t)
