"""The intermediate representation of a parsed Cypher query.

Plain frozen-free dataclasses: the parser builds them, the checker/compiler reads them.
Every node carries ``line``/``column`` (1-based) so errors can point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    line: int = field(default=0, kw_only=True, compare=False, repr=False)
    column: int = field(default=0, kw_only=True, compare=False, repr=False)
    src_start: int = field(default=-1, kw_only=True, compare=False, repr=False)   # span in the query text
    src_end: int = field(default=-1, kw_only=True, compare=False, repr=False)


# ------------------------------------------------------------------ expressions
@dataclass
class Expr(Node):
    pass


@dataclass
class Literal(Expr):
    value: Any


@dataclass
class Param(Expr):
    name: str


@dataclass
class Var(Expr):
    name: str


@dataclass
class Prop(Expr):
    subject: Expr
    key: str


@dataclass
class Index(Expr):
    subject: Expr
    index: Expr


@dataclass
class Slice(Expr):
    subject: Expr
    start: Expr | None
    stop: Expr | None


@dataclass
class HasLabels(Expr):
    subject: Expr
    labels: list[str]


@dataclass
class Unary(Expr):
    op: str            # '-', '+', 'NOT'
    operand: Expr


@dataclass
class Binary(Expr):
    op: str            # + - * / % ^ = <> < > <= >= AND OR XOR IN STARTS ENDS CONTAINS =~
    left: Expr
    right: Expr


@dataclass
class IsNull(Expr):
    operand: Expr
    negated: bool


@dataclass
class Func(Expr):
    name: str          # lower-case, dotted for namespaces: 'duration.indays'
    args: list[Expr]
    distinct: bool = False


@dataclass
class CountStar(Expr):
    pass


@dataclass
class ListLit(Expr):
    items: list[Expr]


@dataclass
class MapLit(Expr):
    items: dict[str, Expr]


@dataclass
class ListComp(Expr):
    var: str
    source: Expr
    where: Expr | None
    projection: Expr | None


@dataclass
class Reduce(Expr):
    """``reduce(acc = init, x IN source | expr)``."""
    acc: str
    init: Expr
    var: str
    source: Expr
    expr: Expr


@dataclass
class Case(Expr):
    subject: Expr | None
    whens: list[tuple[Expr, Expr]]
    default: Expr | None


@dataclass
class PatternPred(Expr):
    """A pattern used as a predicate: ``WHERE (a)-[:R]->(:B)`` or ``EXISTS { … }``."""
    paths: list["PathPattern"]
    where: Expr | None = None


# ------------------------------------------------------------------ patterns
@dataclass
class NodePattern(Node):
    var: str | None
    labels: list[str]
    props: dict[str, Expr]


@dataclass
class RelPattern(Node):
    var: str | None
    types: list[str]           # empty: any type
    direction: str             # 'out' (->), 'in' (<-), 'both' (undirected)
    props: dict[str, Expr]
    var_length: bool = False
    min_hops: int = 1
    max_hops: int | None = 1   # None: unbounded (refused or capped by the compiler)


@dataclass
class PathPattern(Node):
    var: str | None
    kind: str                  # 'plain', 'shortest', 'all_shortest'
    nodes: list[NodePattern]
    rels: list[RelPattern]


# ------------------------------------------------------------------ clauses
@dataclass
class Match(Node):
    optional: bool
    paths: list[PathPattern]
    where: Expr | None


@dataclass
class Unwind(Node):
    expr: Expr
    alias: str


@dataclass
class ProjItem(Node):
    expr: Expr
    alias: str | None
    text: str                  # the expression as written: the column name without an alias


@dataclass
class SortItem(Node):
    expr: Expr
    descending: bool
    text: str


@dataclass
class Projection(Node):
    kind: str                  # 'WITH' or 'RETURN'
    distinct: bool
    star: bool
    items: list[ProjItem]
    order: list[SortItem]
    skip: Expr | None
    limit: Expr | None
    where: Expr | None = None  # WITH … WHERE


@dataclass
class UnionPart(Node):
    """``UNION [ALL]`` and the query after it."""
    all: bool
    clauses: list[Node]


@dataclass
class Query(Node):
    clauses: list[Node]                # the (first) query's clauses
    text: str = ""
    unions: list[UnionPart] = field(default_factory=list)

    def parts(self) -> list[list[Node]]:
        """The clauses of every query the UNIONs join, in order."""
        return [self.clauses] + [u.clauses for u in self.unions]


def walk(expr):
    """Yield ``expr`` and every expression nested in it (not descending into patterns)."""
    if expr is None:
        return
    yield expr
    if isinstance(expr, (Prop, HasLabels)):
        yield from walk(expr.subject)
    elif isinstance(expr, Index):
        yield from walk(expr.subject)
        yield from walk(expr.index)
    elif isinstance(expr, Slice):
        yield from walk(expr.subject)
        yield from walk(expr.start)
        yield from walk(expr.stop)
    elif isinstance(expr, Unary):
        yield from walk(expr.operand)
    elif isinstance(expr, IsNull):
        yield from walk(expr.operand)
    elif isinstance(expr, Binary):
        yield from walk(expr.left)
        yield from walk(expr.right)
    elif isinstance(expr, Func):
        for a in expr.args:
            yield from walk(a)
    elif isinstance(expr, ListLit):
        for a in expr.items:
            yield from walk(a)
    elif isinstance(expr, MapLit):
        for a in expr.items.values():
            yield from walk(a)
    elif isinstance(expr, ListComp):
        yield from walk(expr.source)
        yield from walk(expr.where)
        yield from walk(expr.projection)
    elif isinstance(expr, Reduce):
        yield from walk(expr.init)
        yield from walk(expr.source)
        yield from walk(expr.expr)
    elif isinstance(expr, Case):
        yield from walk(expr.subject)
        for c, v in expr.whens:
            yield from walk(c)
            yield from walk(v)
        yield from walk(expr.default)
