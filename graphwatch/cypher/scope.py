"""What the compiler knows at a point of the query: the FROM items and conditions joined so
far, and for every variable the SQL that yields it.

A node or relationship variable is its integer id (``n3.nid``, ``r5.rid``, a column of a
CTE …); its ``node`` / ``rel`` row is joined only when a property, label or type is read
(:meth:`Compilation.node_row <graphwatch.cypher.compiler.Compilation.node_row>`). Every
pattern element, named or not, is also a hidden *binding* column, so each result row knows
the nodes and relationships it was built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ir
from .planner import connected_part_items


@dataclass
class Var:
    """A variable in scope: its type and the SQL of its value."""
    name: str
    type: str
    sql: str
    node_alias: str | None = None    # the joined ``node`` row, if any
    rel_alias: str | None = None     # the joined ``rel`` row, if any
    nullable: bool = False           # bound by OPTIONAL MATCH: may be NULL
    # properties an earlier SELECT read from the row and passed on (key -> SQL): a later clause
    # reads them there instead of joining the row again (Compilation.carried)
    props: dict[str, str] = field(default_factory=dict)
    # labels the node was matched with (it keeps them wherever it is passed on unchanged):
    # a closed hop's end is then the start itself (varlength.closed_ends)
    labels: tuple[str, ...] = ()


@dataclass
class NodeRef:
    """A node of the pattern being compiled (named or anonymous)."""
    name: str                        # anonymous nodes get a name starting with a space
    pattern: ir.NodePattern
    sql: str | None = None           # its id, once something yields it
    alias: str | None = None         # its joined ``node`` row
    new: bool = True                 # False: a variable bound by an earlier clause
    # fixed relationships of the pattern at this node: (types, 'src' | 'dst' | 'either')
    touch: list = field(default_factory=list)
    labels: tuple[str, ...] = ()     # a new node that is a bound one: that node's labels

    @property
    def hidden(self) -> bool:
        return self.name.startswith(" ")


@dataclass
class Scope:
    """FROM items, WHERE conditions, variables and binding columns of one SELECT."""
    froms: list[tuple] = field(default_factory=list)   # (kind, sql, on, planner meta)
    conds: list[str] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)
    # (sql, kind, is a list): kind 'node' / 'rel' — ids of the row's evidence; 'count' — how many
    # matches an aggregated row stands for; 'truncated' — whether some of their ids were left out
    binds: list[tuple[str, str, bool]] = field(default_factory=list)
    order_col: str | None = None     # the row order a WITH … ORDER BY left (for collect())
    sub: bool = False                # a correlated subquery (EXISTS, OPTIONAL MATCH)

    def add(self, sql: str, **meta) -> None:
        self.froms.append(("cross", sql, None, meta))

    def add_left(self, sql: str, on: str, **meta) -> None:
        self.froms.append(("left", sql, on, meta))

    def from_sql(self) -> str:
        if not self.froms:
            return ""
        parts = []
        for i, (kind, sql, on, _meta) in enumerate(self.froms):
            if i == 0:
                parts.append(sql)
            elif kind == "left":
                parts.append(f"LEFT JOIN {sql} ON {on}")
            else:
                parts.append(f"CROSS JOIN {sql}")
        return " FROM " + "\n  ".join(parts)

    def where_sql(self) -> str:
        return (" WHERE " + "\n  AND ".join(self.conds)) if self.conds else ""

    def subquery(self) -> "Scope":
        """A correlated subquery's scope: the same variables (copies: what it joins for
        them stays inside it), nothing joined yet."""
        return Scope(vars={k: Var(v.name, v.type, v.sql, v.node_alias, v.rel_alias, v.nullable, dict(v.props), v.labels)
                           for k, v in self.vars.items()}, sub=True)


def sql_string(s: str) -> str:
    """A SQL string literal for a schema identifier (label or type name, already checked)."""
    return "'" + s.replace("'", "''") + "'"


def connected_part(sc: Scope, sql: str) -> Scope:
    """The part of a scope joined to the item that ``sql`` reads from: a traversal's start
    set must not include pattern parts only the traversal itself connects (that would be a
    cross product)."""
    froms, conds = connected_part_items(sc.froms, sc.conds, sql)
    return Scope(froms=froms, conds=conds, vars=sc.vars, sub=sc.sub)


def used_params(sql: str, params: dict) -> dict:
    """The parameters one statement uses (DuckDB refuses unused named parameters)."""
    import re

    names = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in params.items() if k in names}
