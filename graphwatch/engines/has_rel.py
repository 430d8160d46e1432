"""``gw_has_rel(nid, types, direction)``: a pattern predicate of one relationship, answered
from the adjacency index inside a DuckDB statement.

``NOT (f)-[:RECEIVES]->(:Benefit)`` for three friends found by a walk was a semi-join that
scanned every RECEIVES relationship (3 ms at 1 M persons, 60 ms at 5 M) to learn which of
three nodes has one; Neo4j reads the three nodes' own relationship chains. The compiler
(:func:`graphwatch.cypher.predicates._semi_join`) writes such a predicate — one relationship of
given types and direction from a node of the row to an anonymous node whose labels the types
guarantee, a few keys expected — as a call of this function when the engine registered it: a
vectorised (Arrow) Python function over :meth:`graphwatch.adjacency.Adjacency.has_any`.

Only for a workspace opened read-only, whose index cannot change under the statement; the
function is registered once per connection and reads the engine's index when called.
"""

from __future__ import annotations

from ..exc import EngineError
from . import rels_between

NAME = "gw_has_rel"


def register(con, adjacency_of) -> str | None:
    """Register :data:`NAME` on ``con``, answering from ``adjacency_of()`` (an
    :class:`~graphwatch.adjacency.Adjacency`); returns the name, or None when DuckDB refused
    (the compiler then writes the SQL semi-join)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    from duckdb.sqltypes import BIGINT, BOOLEAN, VARCHAR

    def has_rel(nids, types, direction):
        adj = adjacency_of()
        if adj is None:       # cannot happen on a read-only workspace once compiled for it
            raise EngineError("the adjacency index is not available")
        keys = pc.fill_null(nids, -1).to_numpy(zero_copy_only=False)     # (never NULL: a row's node ids)
        wanted = types[0].as_py() if len(types) else ""
        mask = adj.type_mask(wanted.split("|")) if wanted else None
        out = adj.has_any(keys, direction[0].as_py() if len(direction) else "both", mask)
        return pa.array(out)

    try:
        con.execute("SELECT 1").fetchall()     # DuckDB refuses to register beside an unfinished result
        try:
            con.remove_function(NAME)
        except duckdb.Error:
            pass
        con.create_function(NAME, has_rel, [BIGINT, VARCHAR, VARCHAR], BOOLEAN, type="arrow", side_effects=False)
    except duckdb.Error:
        return None
    # its sibling for a hop between two bound nodes (the compiler writes it when this is registered)
    if rels_between.register(con, adjacency_of) is None:
        return None
    return NAME
