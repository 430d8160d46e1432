"""How graphwatch's values and ids travel to Neo4j.

Workspace ids travel as the properties ``nid`` (nodes) and ``rid`` (relationships); a
node's workspace key is its ``key`` property and its provenance ``datasets``, a
relationship's ``dataset`` and ``record``, as in the workspace itself.

:func:`to_neo4j` is the one Python → Neo4j converter, used for query parameters and for
the values a push writes. The other direction (driver values in query results back to
graphwatch's) belongs to the engine, :mod:`graphwatch.engines.neo4j`.
"""

from __future__ import annotations

import decimal

NODE_ID, REL_ID = "nid", "rid"


def to_neo4j(value):
    """A value as the driver sends it: decimals as floats (as the workspace reads them),
    tuples as lists, inside lists and maps too. Dates, numbers and text pass unchanged.

    >>> to_neo4j({"amount": decimal.Decimal("12.50"), "ids": (1, [decimal.Decimal("2")])})
    {'amount': 12.5, 'ids': [1, [2.0]]}
    """
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [to_neo4j(x) for x in value]
    if isinstance(value, dict):
        return {k: to_neo4j(x) for k, x in value.items()}
    return value


__all__ = ["NODE_ID", "REL_ID", "to_neo4j"]
