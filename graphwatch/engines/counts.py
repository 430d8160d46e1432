"""Counts the engine already holds: ``MATCH (n:Label) RETURN count(n)`` answered like Neo4j's
count store answers it, without scanning the labels of every node.

A read-only workspace cannot change under its engine, and the join planner's statistics
(:class:`graphwatch.cypher.planner.Stats`) hold the exact number of nodes of each label once a
query has needed them. Until then the query is compiled and scanned as any other (counting
the statistics would cost a first query half a second at 1 M persons; the scan takes 5 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cypher import ir
from ..cypher.checker import CheckedQuery
from ..cypher.compiler import Compiled


@dataclass
class Counted(Compiled):
    """A compiled count the engine answers itself: ``value`` is the one row's one value (the
    SQL, a SELECT of it, is what ``explain`` shows; running it was a DuckDB statement of a
    quarter of a millisecond, a third of the whole query)."""
    value: int = 0


def counted_label(checked: CheckedQuery) -> str | None:
    """The label L when the query is exactly ``MATCH (n:L) RETURN count(n)`` (or ``count(*)``,
    ``count(DISTINCT n)``, an alias, ``RETURN DISTINCT``); else None."""
    q = checked.query
    if q.unions or len(q.clauses) != 2:
        return None
    m, r = q.clauses
    if not (isinstance(m, ir.Match) and not m.optional and m.where is None and len(m.paths) == 1):
        return None
    path = m.paths[0]
    if path.kind != "plain" or path.var or path.rels or len(path.nodes) != 1:
        return None
    node = path.nodes[0]
    if len(node.labels) != 1 or node.props:
        return None
    if not (isinstance(r, ir.Projection) and r.kind == "RETURN" and not r.star and len(r.items) == 1
            and not r.order and r.skip is None and r.limit is None and r.where is None):
        return None
    e = r.items[0].expr
    if isinstance(e, ir.CountStar) or (isinstance(e, ir.Func) and e.name == "count" and len(e.args) == 1
                                       and isinstance(e.args[0], ir.Var) and node.var == e.args[0].name):
        return node.labels[0]
    return None
