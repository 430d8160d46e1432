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
              "date": "date", "datetime": "datetime", "string_list": "list:str"}
#: columns every node / relationship has besides its schema properties
NODE_CORE = {"key": "str", "datasets": "list:str"}
REL_CORE = {"valid_from": "date", "valid_to": "date", "dataset": "str", "record": "str"}
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
    return "any"


def one_of(types) -> str:
    """The type of a value that is one of several (CASE branches, coalesce arguments):
    the common type, float for a mix of numbers, else ``'any'``."""
    ts = {t for t in types if t != "null"}
    if len(ts) == 1:
        return ts.pop()
    return "float" if ts and ts <= set(NUMERIC) else "any"


def mixes(types) -> bool:
    """More than one value type (integers and floats mix)."""
    ts = {t for t in types if t != "null"}
    return len(ts) > 1 and not ts <= set(NUMERIC)


def kind_name(t: str) -> str:
    """A type as an error message names it."""
    return {"node": "node", "rel": "relationship", "rels": "relationship list", "path": "path",
            "str": "string", "int": "integer", "float": "float", "bool": "boolean", "date": "date",
            "datetime": "datetime", "duration": "duration", "map": "map", "null": "null",
            "any": "value"}.get(t, t.replace("list:", "list of "))
