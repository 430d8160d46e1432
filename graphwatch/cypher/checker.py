"""The checker: a parsed query against the schema, its variables and value types.

Both engines run it before anything else, so a query is refused (a
:class:`~graphwatch.exc.PatternError` naming line and column) the same way whichever engine
would run it. It walks the clauses in order, keeping the variables in scope with their
types, and checks

* labels, relationship types and property names against the schema (with did-you-mean);
* variables: unknown, bound twice, used as the wrong kind (a relationship as a node);
* value types: WHERE needs true/false, arithmetic needs numbers, every function's
  arguments (the rules live in :mod:`.functions`);
* aggregates only in WITH / RETURN, never nested; the bounds of variable-length
  relationships and shortest paths (:class:`~.options.Options`); LIMIT / SKIP values;
* that every ``$parameter`` has a value.

The result, a :class:`CheckedQuery`, carries what the engines need besides the IR: the
result column names and types, the type of every expression, the items of each WITH /
RETURN (``*`` expanded), which of them aggregate, and how each ORDER BY key is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exc import PatternError
from ..schema import Schema, did_you_mean
from . import ir
from .expression_types import ExpressionTypes
from .functions import AGGREGATES
from .options import Options
from .valuetypes import (NODE_CORE, PROP_TYPES, REL_CORE, a_kind, is_list, list_element, mixed_types_message, mixes,
                         one_of)


def error(node, message: str) -> PatternError:
    """A PatternError at the place ``node`` was written."""
    return PatternError(message, line=getattr(node, "line", None) or None,
                        column=getattr(node, "column", None) or None)


@dataclass
class VarInfo:
    type: str
    in_comprehension: bool = False     # bound by a list comprehension: a value, no row to read


@dataclass
class CheckScope:
    vars: dict[str, VarInfo] = field(default_factory=dict)
    sub: bool = False                  # inside OPTIONAL MATCH or a pattern predicate

    def copy(self, *, sub: bool | None = None) -> "CheckScope":
        return CheckScope(dict(self.vars), self.sub if sub is None else sub)


@dataclass
class CheckedQuery:
    """A query that passed the checker, with what the compiler and the engines read."""
    query: ir.Query
    columns: list[str]                 # result column names, as Cypher names them
    types: list[str]                   # the value type of each column
    parameters: list[str]              # the $parameters used, in order of first use
    expr_types: dict[int, str]         # id(expression) -> value type
    items: dict[int, list[ir.ProjItem]]     # id(WITH/RETURN) -> items, RETURN * expanded
    names: dict[int, list[str]]        # id(WITH/RETURN) -> column names
    aggregating: set[int]              # id(ProjItem) of items that aggregate
    grouped: set[int]                  # id(WITH/RETURN) that aggregate or are DISTINCT
    sort_keys: dict[int, tuple]        # id(SortItem) -> ('constant',) | ('column', i) | ('input',) | ('output',)
    synthesized: list = field(default_factory=list, repr=False)   # IR made here (keeps the ids valid)

    def type_of(self, e: ir.Node) -> str:
        return self.expr_types[id(e)]

    def is_grouped(self, p: ir.Projection) -> bool:
        return id(p) in self.grouped


def check(query: ir.Query, *, schema: Schema, params: dict | None = None,
          options: Options | None = None) -> CheckedQuery:
    """Check a parsed query; raises :class:`PatternError`."""
    return _Checker(schema, params or {}, options or Options()).run(query)


class _Checker(ExpressionTypes):
    def __init__(self, schema: Schema, params: dict, options: Options):
        self.schema = schema
        self.user_params = params
        self.opt = options
        self.node_props = {**{p: PROP_TYPES[t] for p, t in schema.node_properties.items()}, **NODE_CORE}
        self.rel_props = {**{p: PROP_TYPES[t] for p, t in schema.rel_properties.items()}, **REL_CORE}
        self.expr_types: dict[int, str] = {}
        self.parameters: list[str] = []
        self.missing: list[ir.Param] = []
        self.items: dict[int, list] = {}
        self.names: dict[int, list[str]] = {}
        self.aggregating: set[int] = set()
        self.grouped: set[int] = set()
        self.sort_keys: dict[int, tuple] = {}
        self.synthesized: list = []
        self.in_aggregate = False
        self.aggregate_seen = False

    err = staticmethod(error)

    def run(self, q: ir.Query) -> CheckedQuery:
        columns, types = self.single(q.clauses)
        for u in q.unions:
            # UNION [ALL]: every query returns the same column names, in the same order;
            # a column's values have one type (DuckDB's UNION has one type per column)
            cols, ts = self.single(u.clauses)
            if cols != columns:
                raise error(u, f"all queries of a UNION must return the same column names, in the same order: "
                               f"{', '.join(columns)} vs {', '.join(cols)}")
            for name, a, b in zip(columns, types, ts):
                if mixes([a, b]):
                    raise error(u, mixed_types_message(f"UNION column {name!r} has values of different types",
                                                       [a, b]))
            types = [one_of([a, b]) if "null" in (a, b) else (a if a == b else "any") for a, b in zip(types, ts)]
        if self.missing:
            p = self.missing[0]
            raise error(p, f"parameter ${p.name} has no value; pass it with --param {p.name}=… or params={{…}}")
        return CheckedQuery(q, columns, types, self.parameters, self.expr_types, self.items, self.names,
                            self.aggregating, self.grouped, self.sort_keys, self.synthesized)

    def single(self, clauses: list) -> tuple[list[str], list[str]]:
        """One query (of a UNION): its column names and types."""
        scope = CheckScope()
        for c in clauses[:-1]:
            scope = self.clause(c, scope)
        return self.projection(clauses[-1], scope, final=True)

    def clause(self, c, scope: CheckScope) -> CheckScope:
        if isinstance(c, ir.Match):
            if not c.optional:
                self.patterns(c.paths, scope, where=c.where)
                return scope
            outer = scope.copy(sub=False)
            inner = outer.copy(sub=True)
            self.patterns(c.paths, inner, where=c.where)
            for name, v in inner.vars.items():
                outer.vars.setdefault(name, v)
            return outer
        if isinstance(c, ir.Unwind):
            if c.alias in scope.vars:
                raise error(c, f"variable {c.alias!r} is already bound")
            t = self.type(c.expr, scope)
            if not is_list(t):
                raise error(c.expr, f"UNWIND needs a list, not {a_kind(t)}")
            scope.vars[c.alias] = VarInfo(list_element(t))
            return scope
        if isinstance(c, ir.Projection):
            return self.projection(c, scope, final=False)
        raise error(c, f"unsupported clause {type(c).__name__}")  # pragma: no cover

    # ------------------------------------------------------------------ patterns
    def patterns(self, paths: list[ir.PathPattern], scope: CheckScope, *, where: ir.Expr | None) -> None:
        """The paths of one MATCH (or one pattern predicate), in the compiler's order: node
        patterns and fixed relationships, WHERE conjuncts that do not need what comes next,
        variable-length and shortest-path relationships, path variables, the rest of WHERE."""
        local: set[str] = set()           # node variables this pattern binds or reuses
        new_nodes: list[str] = []
        deferred = []
        for path in paths:
            for np in path.nodes:
                self.node_pattern(np, scope, local, new_nodes)
            for rp in path.rels:
                if path.kind != "plain" or rp.var_length:
                    deferred.append((path, rp))
                else:
                    self.fixed_rel(rp, scope, local)
        for name in new_nodes:
            scope.vars[name] = VarInfo("node")
        late_names = {rp.var for _, rp in deferred if rp.var} | {p.var for p in paths if p.var}
        early, late = [], []
        for conj in conjuncts(where):
            names = {e.name for e in ir.walk(conj) if isinstance(e, ir.Var)}
            (late if names & late_names or has_pattern(conj) else early).append(conj)
        for conj in early:
            self.condition(conj, scope)
        for path, rp in deferred:
            if path.kind == "plain":
                self.var_length_rel(rp, scope)
            else:
                self.shortest_rel(path, rp, scope)
        for path in paths:
            if path.var:
                if path.var in scope.vars:
                    raise error(path, f"variable {path.var!r} is already bound")
                scope.vars[path.var] = VarInfo("path")
        for conj in late:
            self.condition(conj, scope)

    def node_pattern(self, np: ir.NodePattern, scope: CheckScope, local: set, new_nodes: list) -> None:
        for lab in np.labels:
            if lab not in self.schema.labels:
                raise error(np, f"unknown label {lab!r}{did_you_mean(lab, self.schema.labels)}")
        if np.var and np.var not in local:
            if np.var in scope.vars:
                v = scope.vars[np.var]
                if v.type != "node":
                    raise error(np, f"{np.var!r} is {a_kind(v.type)}, not a node")
            else:
                new_nodes.append(np.var)
            local.add(np.var)
        for key, val in np.props.items():
            self.node_property(key, np)
            self.type(val, scope)

    def node_property(self, key: str, where) -> str:
        if key not in self.node_props:
            raise error(where, f"unknown node property {key!r}{did_you_mean(key, self.node_props)}")
        return self.node_props[key]

    def rel_property(self, key: str, where) -> str:
        if key not in self.rel_props:
            raise error(where, f"unknown relationship property {key!r}{did_you_mean(key, self.rel_props)}")
        return self.rel_props[key]

    def rel_types(self, rp: ir.RelPattern) -> None:
        for t in rp.types:
            if t not in self.schema.rel_types:
                raise error(rp, f"unknown relationship type {t!r}{did_you_mean(t, self.schema.rel_types)}")

    def fixed_rel(self, rp: ir.RelPattern, scope: CheckScope, local: set) -> None:
        self.rel_types(rp)
        for key, val in rp.props.items():
            self.rel_property(key, rp)
            self.type(val, scope)
        if rp.var:
            if rp.var in local:
                raise error(rp, f"{rp.var!r} is a node, not a relationship")
            old = scope.vars.get(rp.var)
            if old is not None and old.type != "rel":
                raise error(rp, f"{rp.var!r} is {a_kind(old.type)}, not a relationship")
            scope.vars[rp.var] = VarInfo("rel")

    def deferred_rel_props(self, rp: ir.RelPattern) -> None:
        """Inline properties of a variable-length relationship apply to every hop: values only."""
        for key, val in rp.props.items():
            self.rel_property(key, rp)
            if refers_to_variables(val):
                raise error(val, "properties of a variable-length relationship must be values or $parameters")
            self.type(val, CheckScope())

    def var_length_rel(self, rp: ir.RelPattern, scope: CheckScope) -> None:
        self.rel_types(rp)
        if rp.max_hops is None:
            raise error(rp, "a variable-length relationship needs an upper bound, e.g. *1..4 "
                            f"(at most *..{self.opt.max_var_length}); unbounded * is refused because it "
                            "can expand to the whole graph")
        if rp.max_hops > self.opt.max_var_length:
            raise error(rp, f"variable length *..{rp.max_hops} is above the limit "
                            f"{self.opt.max_var_length} (Options.max_var_length)")
        self.deferred_rel_props(rp)
        if rp.var:
            if rp.var in scope.vars:
                raise error(rp, f"variable {rp.var!r} is already bound")
            scope.vars[rp.var] = VarInfo("rels")

    def shortest_rel(self, path: ir.PathPattern, rp: ir.RelPattern, scope: CheckScope) -> None:
        self.rel_types(rp)
        fn = "shortestPath" if path.kind == "shortest" else "allShortestPaths"
        if rp.min_hops not in (0, 1):
            raise error(rp, f"{fn} supports a lower bound of 0 or 1 (*..n or *0..n), not {rp.min_hops}")
        max_hops = shortest_max_hops(rp, self.opt)
        if max_hops > self.opt.max_shortest:
            raise error(rp, f"{fn} length *..{max_hops} is above the limit {self.opt.max_shortest} "
                            "(Options.max_shortest)")
        if scope.sub:
            raise error(path, f"{fn} inside OPTIONAL MATCH or a pattern predicate is not supported")
        ends = [n.var for n in path.nodes]
        if ends[0] is not None and ends[0] == ends[-1]:
            raise error(path, f"{fn} from a node to itself: Neo4j refuses it (\"The shortest path algorithm "
                              "does not work when the start and end nodes are the same\")")
        self.deferred_rel_props(rp)
        if rp.var:
            if rp.var in scope.vars:
                raise error(rp, f"variable {rp.var!r} is already bound")
            scope.vars[rp.var] = VarInfo("rels" if rp.var_length else "rel")

    # ------------------------------------------------------------------ WITH / RETURN
    def projection(self, p: ir.Projection, scope: CheckScope, *, final: bool):
        items = list(p.items)
        if p.star:
            names = sorted(scope.vars)
            if not names:
                raise error(p, f"{p.kind} * with no variables in scope")
            star = [ir.ProjItem(ir.Var(n, line=p.line, column=p.column), None, n, line=p.line, column=p.column)
                    for n in names]
            self.synthesized.extend(star)
            items = star + items
        names, types, aggregates = [], [], []
        for it in items:
            if it.alias is None and p.kind == "WITH" and not isinstance(it.expr, ir.Var):
                raise error(it, f"WITH {it.text!r} needs an alias: WITH {it.text} AS name")
            name = it.alias or (it.expr.name if isinstance(it.expr, ir.Var) else it.text)
            if name in names:
                raise error(it, f"column {name!r} appears twice in {p.kind}")
            names.append(name)
            self.aggregate_seen = False
            types.append(self.type(it.expr, scope, agg_ok=True))
            aggregates.append(self.aggregate_seen)
            if self.aggregate_seen:
                self.aggregating.add(id(it))
        self.items[id(p)], self.names[id(p)] = items, names
        keys = [it.expr for it, agg in zip(items, aggregates) if not agg]
        for it, agg in zip(items, aggregates):
            loose = _implicit_keys(it.expr, keys) if agg else []
            if loose:
                # Neo4j 5 refuses it too; DuckDB would fail at run time with a Binder Error
                raise error(loose[0], f"{p.kind} item {it.text!r} mixes an aggregate with {loose[0].name!r}, "
                                      f"which is not a grouping key: add {loose[0].name} to the {p.kind} "
                                      f"(WITH {loose[0].name}, …) or compute it in a WITH before")
        grouped = p.distinct or any(aggregates)
        if grouped:
            self.grouped.add(id(p))
        after = []
        for si in p.order:
            if not refers_to_variables(si.expr):
                self.sort_keys[id(si)] = ("constant",)     # orders nothing
                continue
            hit = next((i for i, name in enumerate(names) if si.text in (name, items[i].text)), None)
            if hit is not None:
                self.sort_keys[id(si)] = ("column", hit)
            elif grouped:
                self.sort_keys[id(si)] = ("output",)       # over the projected columns
                after.append(si)
            else:
                self.sort_keys[id(si)] = ("input",)        # the input's variables and the new names
                both = scope.copy()
                both.vars.update({n: VarInfo(t) for n, t in zip(names, types)})
                self.type(si.expr, both)
        out = CheckScope({n: VarInfo(t) for n, t in zip(names, types)})
        for si in after:
            self.type(si.expr, out)
        if p.limit is not None:
            self.row_count(p.limit, "LIMIT")
        if p.skip is not None:
            self.row_count(p.skip, "SKIP")
        if final:
            return names, types
        if p.where is not None:
            self.condition(p.where, out)
        return out

    def row_count(self, e: ir.Expr, what: str) -> None:
        if isinstance(e, ir.Literal):
            if not isinstance(e.value, int) or isinstance(e.value, bool) or e.value < 0:
                raise error(e, f"{what} needs a non-negative integer, not {e.value!r}")
            self.expr_types[id(e)] = "int"
        elif isinstance(e, ir.Param):
            self.type(e, CheckScope())
        else:
            raise error(e, f"{what} takes an integer or a $parameter")


def conjuncts(e: ir.Expr | None) -> list[ir.Expr]:
    """``a AND b AND c`` as [a, b, c]."""
    if e is None:
        return []
    if isinstance(e, ir.Binary) and e.op == "AND":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


def fold_flags(e: ir.Expr | None, params: dict) -> ir.Expr | bool | None:
    """``e`` with its boolean parameters decided: ``x OR ($flag AND y)`` with ``$flag`` false
    is ``x``. Returns True / False when the whole condition is decided, else an expression
    made of ``e``'s own nodes. Only AND, OR and NOT around boolean parameters fold (three-
    valued logic agrees: ``false AND null`` is false, ``x OR false`` is x), and a pattern
    predicate whose WHERE a parameter decides is false; the value is
    never written into the SQL, it only chooses which part of the condition is compiled —
    so a join condition hidden behind an option (``$same_programme OR g1 = g2``) can join."""
    if e is None:
        return None
    if isinstance(e, ir.Param) and type(params.get(e.name)) is bool:
        return params[e.name]
    if isinstance(e, ir.PatternPred) and e.where is not None:
        # a pattern whose WHERE cannot hold matches nothing: ``EXISTS { … WHERE x.score >=
        # $min }`` with $min null (an option left off) is false, and ``r2 = r OR EXISTS {…}``
        # is ``r2 = r`` — no search for the pattern at all
        if any(fold_flags(c, params) is False or _null_comparison(c, params) for c in conjuncts(e.where)):
            return False
        return e
    if isinstance(e, ir.Unary) and e.op == "NOT":
        inner = fold_flags(e.operand, params)
        return (not inner) if isinstance(inner, bool) else e
    if isinstance(e, ir.Binary) and e.op in ("AND", "OR"):
        left, right = fold_flags(e.left, params), fold_flags(e.right, params)
        absorbing = e.op == "OR"           # true decides an OR, false an AND
        if left is absorbing or right is absorbing:
            return absorbing
        if left is (not absorbing):
            return right
        if right is (not absorbing):
            return left
        return e        # both sides still open: compiled as written
    return e


def _null_comparison(e: ir.Expr, params: dict) -> bool:
    """A comparison with a parameter given as null: null whatever the other side is."""
    return isinstance(e, ir.Binary) and e.op in ("=", "<>", "<", "<=", ">", ">=") and any(
        isinstance(x, ir.Param) and x.name in params and params[x.name] is None for x in (e.left, e.right))


def outside_aggregates(e: ir.Expr | None, stop=lambda x: False, local: frozenset = frozenset()):
    """Yield (sub-expression, comprehension variables in scope) for ``e`` and what it nests,
    not descending into aggregate calls, patterns, or expressions ``stop`` accepts."""
    if e is None or isinstance(e, ir.PatternPred) or (isinstance(e, ir.Func) and e.name in AGGREGATES):
        return
    yield e, local
    if stop(e):
        return
    if isinstance(e, ir.ListComp):
        inner = local | {e.var}
        yield from outside_aggregates(e.source, stop, local)
        yield from outside_aggregates(e.where, stop, inner)
        yield from outside_aggregates(e.projection, stop, inner)
        return
    if isinstance(e, ir.Reduce):
        inner = local | {e.var, e.acc}
        yield from outside_aggregates(e.init, stop, local)
        yield from outside_aggregates(e.source, stop, local)
        yield from outside_aggregates(e.expr, stop, inner)
        return
    for child in ir.walk(e):
        if child is not e and _direct_child(e, child):
            yield from outside_aggregates(child, stop, local)


def _implicit_keys(e: ir.Expr, keys: list[ir.Expr]) -> list[ir.Var]:
    """The variables of an aggregating projection item read outside its aggregates and outside
    its grouping keys (``held + collect(b)`` with ``held`` not projected: an implicit grouping
    key). A grouping key's own expression (``a.name`` beside ``a.name``) and properties of a key
    variable are fine; patterns and subqueries are not looked into."""
    return [x for x, local in outside_aggregates(e, lambda x: x in keys)
            if isinstance(x, ir.Var) and x not in keys and x.name not in local]


def _direct_child(parent: ir.Expr, child: ir.Expr) -> bool:
    """Whether ``child`` is one of ``parent``'s own operands (not nested deeper)."""
    return any(v is child or (isinstance(v, (list, tuple)) and any(
        x is child or (isinstance(x, tuple) and any(y is child for y in x)) for x in v))
        or (isinstance(v, dict) and any(x is child for x in v.values()))
        for v in vars(parent).values())


def has_pattern(e: ir.Expr) -> bool:
    return any(isinstance(x, ir.PatternPred) for x in ir.walk(e))


def refers_to_variables(e: ir.Expr) -> bool:
    """Whether the value depends on the row (a variable, a pattern, an aggregate)."""
    return any(isinstance(x, (ir.Var, ir.PatternPred, ir.CountStar)) or
               (isinstance(x, ir.Func) and x.name in AGGREGATES) for x in ir.walk(e))


def shortest_max_hops(rp: ir.RelPattern, options: Options) -> int:
    """The depth a shortest-path search goes to: its upper bound, else the configured cap."""
    if not rp.var_length:
        return 1
    return rp.max_hops if rp.max_hops is not None else options.max_shortest


__all__ = ["CheckedQuery", "check", "conjuncts", "error", "has_pattern", "refers_to_variables"]
