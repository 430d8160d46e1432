"""Results in a comparable form: what the golden cases, the documentation's examples, the
differential test and the engine benchmarks compare between engines and with expectations.

A node becomes its key, a relationship its type (with its id when asked), a path the list of
its node keys. Everything else stays as the engine returned it, unless asked: dates as ISO
text, floats rounded, lists sorted (for results whose list order Cypher leaves open),
decimals and Neo4j's temporal types as plain Python values.
"""

from __future__ import annotations

import datetime as dt
import decimal

from .base import GNode, GPath, GRel


def comparable(v, *, rel_ids: bool = False, iso_dates: bool = False, digits: int | None = None,
               sort_lists: bool = False):
    """One returned value in comparable form.

    >>> comparable(GNode(1, "Person:a", ("Person",))), comparable(GRel(7, "KNOWS", 1, 2), rel_ids=True)
    ('Person:a', ('KNOWS', 7))
    >>> comparable([2.0000001, dt.date(2024, 1, 31)], digits=6, iso_dates=True)
    [2.0, '2024-01-31']
    """
    kw = dict(rel_ids=rel_ids, iso_dates=iso_dates, digits=digits, sort_lists=sort_lists)
    if isinstance(v, GNode):
        return v.key
    if isinstance(v, GRel):
        return (v.type, v.id) if rel_ids else v.type
    if isinstance(v, GPath):
        return [n.key for n in v.nodes]
    if hasattr(v, "to_native"):          # the Neo4j driver's dates and times
        v = v.to_native()
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, (dt.date, dt.datetime)) and iso_dates:
        return v.isoformat()
    if isinstance(v, float) and digits is not None:
        return round(v, digits)
    if isinstance(v, (list, tuple)):
        items = [comparable(x, **kw) for x in v]
        return sorted(items, key=repr) if sort_lists else items
    if isinstance(v, dict):
        return {k: comparable(x, **kw) for k, x in v.items()}
    return v


def comparable_rows(rows, *, ordered: bool = False, **options) -> list[tuple]:
    """Rows in comparable form; sorted (by ``repr``) unless their order is part of the answer."""
    out = [tuple(comparable(v, **options) for v in r) for r in rows]
    return out if ordered else sorted(out, key=repr)
