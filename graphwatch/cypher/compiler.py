"""A checked query → one DuckDB SQL statement over the workspace tables ``node`` and ``rel``.

How a query becomes SQL
-----------------------
The compiler walks the clauses keeping a *scope* (:mod:`.scope`): FROM items, WHERE
conditions and, for every Cypher variable, the SQL that yields it. Consecutive MATCH
clauses extend one flat join that the planner (:mod:`.planner`) or DuckDB's optimiser
orders; WITH, aggregation and DISTINCT materialise the scope as a CTE. Each part has its
module:

* :mod:`.patterns` — MATCH: node and relationship joins, relationship uniqueness, path
  values; OPTIONAL MATCH (a ``LEFT JOIN LATERAL``); pattern predicates (``EXISTS``);
* :mod:`.varlength` — variable-length relationships (recursive CTEs from the more
  selective end);
* :mod:`.shortest` — shortestPath / allShortestPaths (a breadth-first search the engine
  runs as steps before the statement, then a walk back over the predecessors);
* :mod:`.projection` — WITH / RETURN: aggregation, ORDER BY / SKIP / LIMIT, the hidden
  binding columns; UNWIND;
* :mod:`.expressions` and :mod:`.functions` — expressions and functions;
* :mod:`.eager` — a one-hop count grouped by the node at one end: the relationships grouped
  by that end before the node row is joined;
* :mod:`.statement` — the statement's CTEs: each distinct one once, one that only adds
  conditions to an earlier one read as a filter of its rows.

Types and every refusal come from the checker (:mod:`.checker`), which runs first: the
compiler reads the type of each expression from its annotations and refuses nothing.

Cypher semantics kept: relationship uniqueness within one MATCH, undirected relationships in
both orientations (a self-loop once), three-valued logic, nulls last ascending and first
descending, implicit grouping, ``collect`` skipping nulls, ``sum`` of nothing = 0.

Values are never formatted into SQL: literals and ``$parameters`` become DuckDB named
parameters. Labels, relationship types and property names are checked against the schema
before they appear in SQL, as quoted identifiers or string literals.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field

from ..schema import Schema, load_schema
from ..store import q as quote_identifier
from . import expressions, ir, patterns, projection
from .checker import CheckedQuery, check
from .functions import AGGREGATES, FUNCTIONS, REFUSED_FUNCTIONS
from .options import DEFAULT_MAX_SHORTEST, DEFAULT_MAX_VAR_LENGTH, Options
from .parser import parse
from .statement import render as render_statement
from .implied import drop_implied_nodes
from .planner import plan_join_chain, single_item_rows
from .rowreads import index_lookups
from .scope import NodeRef, Scope, Var
from .shortest import ShortestStep
from .valuetypes import NODE_CORE, PROP_TYPES, REL_CORE


@dataclass
class Compiled:
    """A query compiled to one SQL statement."""
    sql: str
    params: dict                     # DuckDB named parameters (without '$')
    columns: list[str]               # result column names, as Cypher names them
    types: list[str]                 # 'node', 'rel', 'path', 'rels', 'list:node', … or a value type
    sql_columns: list[str]           # the SQL column of each result column
    bind_columns: list[tuple[str, str, bool]]   # (sql column, 'node'|'rel', is a list)
    cypher_params: list[str]         # the $parameters the query uses
    steps: list[ShortestStep] = field(default_factory=list)   # run before ``sql``, in order


def compile_query(query: str | ir.Query | CheckedQuery, *, schema: Schema | None = None,
                  params: dict | None = None, options: Options | None = None) -> Compiled:
    """Compile Cypher text (or a parsed or checked query) to SQL; raises :class:`PatternError`."""
    schema = schema or load_schema()
    options = options or Options()
    params = params or {}
    if not isinstance(query, CheckedQuery):
        query = check(parse(query) if isinstance(query, str) else query, schema=schema, params=params,
                      options=options)
    return Compilation(query, schema, params, options).run()


class Compilation:
    """The state of compiling one query: bound values, CTEs, shortest-path steps, fresh
    names, and the helpers every part of the compiler shares."""

    def __init__(self, checked: CheckedQuery, schema: Schema, params: dict, options: Options):
        self.checked = checked
        self.schema = schema
        self.user_params = params
        self.opt = options
        self.params: dict = {}
        self.cypher_params: dict[str, str] = {}
        self.ctes: list[tuple[str, str]] = []
        self.materialized: set[str] = set()
        self.estimates: dict[str, float] = {}       # CTE name -> rows the planner expects
        self.last_estimate: float | None = None     # of the last planned join (render)
        self.steps: list[ShortestStep] = []
        self.recursive = False
        self._n = itertools.count()
        self.decimal_node_props = {p for p, t in schema.node_properties.items() if t == "decimal"}
        self.decimal_rel_props = {p for p, t in schema.rel_properties.items() if t == "decimal"}
        self.props_read: dict[str, set[str]] = {}    # of the clause being compiled and those after it
        self.carry_read: dict[str, set[str]] = {}    # … and those after it but the last (carried)
        self._literals: dict[tuple, str] = {}         # (type, value) -> its parameter (bind_value)

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._n)}"

    def type_of(self, e: ir.Expr) -> str:
        return self.checked.type_of(e)

    # ------------------------------------------------------------------ values
    def bind_value(self, value) -> str:
        """A literal as a bound parameter; an equal one (same type and value) as the same
        parameter, so two clauses that test alike read alike (:mod:`.statement` merges
        their CTEs)."""
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._literals:
            return f"${self._literals[key]}"
        name = self.fresh("l")
        self.params[name] = value
        if key is not None:
            self._literals[key] = name
        return f"${name}"

    def bind_param(self, p: ir.Param) -> str:
        if p.name not in self.cypher_params:
            name = f"p{len(self.cypher_params)}"
            self.cypher_params[p.name] = name
            self.params[name] = self.user_params.get(p.name)
        return f"${self.cypher_params[p.name]}"

    # ------------------------------------------------------------------ driver
    def run(self) -> Compiled:
        finals = []
        for clauses in self.checked.query.parts():
            sc = Scope()
            reads = _reads_from_each_clause_on(clauses)
            carry = _carried_reads(clauses, reads) if CARRY_ONLY_BEFORE_LAST else reads
            for c, read, passed in zip(clauses[:-1], reads, carry):
                self.props_read, self.carry_read = read, passed
                sc = self.clause(c, sc)
            self.props_read = self.carry_read = reads[-1]
            finals.append(projection.final(self, clauses[-1], sc))
        if len(finals) == 1:
            sql_text, sql_cols, binds = finals[0]
        else:
            sql_text, sql_cols, binds = projection.union(self, finals, self.checked.query.unions[0].all)
        sql = self.statement(self.ctes, sql_text)
        # values compiled for a branch that was then not used must not be passed to DuckDB
        used = set(re.findall(r"\$(\w+)", sql))
        used |= {m for st in self.steps for m in re.findall(r"\$(\w+)", st.start_sql + st.target_sql + st.edges_sql)}
        params = {k: v for k, v in self.params.items() if k in used}
        return Compiled(sql, params, list(self.checked.columns), list(self.checked.types), sql_cols, binds,
                        list(self.cypher_params), list(self.steps))

    def clause(self, c, sc: Scope) -> Scope:
        if isinstance(c, ir.Match):
            return patterns.optional_match(self, c, sc) if c.optional else patterns.match(self, c, sc)
        if isinstance(c, ir.Unwind):
            return projection.unwind(self, c, sc)
        return projection.with_(self, c, sc)

    # ------------------------------------------------------------------ CTEs
    def add_cte(self, name: str, sql: str, *, materialized: bool = False) -> None:
        self.ctes.append((name, sql))
        if materialized:
            self.materialized.add(name)

    def statement(self, ctes: list[tuple[str, str]], tail: str) -> str:
        """``WITH ctes tail``, each distinct CTE once and only those ``tail`` reads
        (:mod:`.statement`)."""
        return render_statement(ctes, tail, materialized=self.materialized, recursive=self.recursive)

    def scope_to_cte(self, sc: Scope, tail: str = "", extra: list[str] | None = None) -> Scope:
        """Materialise the scope (its variables, bindings and row order) as a CTE; return a
        scope reading it. ``tail`` (ORDER BY / LIMIT …) applies to the CTE's SELECT, which
        also selects the ``extra`` columns the tail may name."""
        name = self.fresh("s")
        cols = [f"{v.sql} AS {quote_identifier('v_' + v.name)}" for v in sc.vars.values()]
        carried = {v.name: self.carried(v, v.name) for v in sc.vars.values()}
        for vname, props in carried.items():
            cols += [f"{s} AS {quote_identifier(f'p_{vname}.{key}')}" for key, s in props]
        cols += [f"{b[0]} AS _b{i}" for i, b in enumerate(sc.binds)]
        if sc.order_col:
            cols.append(f"{sc.order_col} AS _ord")
        if not cols:
            cols = ["1 AS _one"]
        self.add_cte(name, self.render(sc, cols + (extra or [])) + tail)
        if self.last_estimate is not None:
            self.estimates[name] = self.last_estimate
        out = Scope()
        out.add(name, kind="cte")
        for v in sc.vars.values():
            out.vars[v.name] = Var(v.name, v.type, f"{name}.{quote_identifier('v_' + v.name)}", nullable=v.nullable,
                                   props={key: f"{name}.{quote_identifier(f'p_{v.name}.{key}')}"
                                          for key, _s in carried[v.name]}, labels=v.labels)
        out.binds = [(f"{name}._b{i}", b[1], b[2]) for i, b in enumerate(sc.binds)]
        out.order_col = f"{name}._ord" if sc.order_col else None
        return out

    def render(self, sc: Scope, items: list[str], *, distinct: bool = False) -> str:
        """``SELECT items FROM … WHERE …`` of a scope; with statistics, a planned join chain."""
        head = "SELECT " + ("DISTINCT " if distinct else "")
        stats = self.opt.stats if self.opt.plan_joins else None
        if self.opt.implied_labels:
            froms, conds, items = drop_implied_nodes(sc.froms, sc.conds, items, self.schema)
            sc = Scope(froms=froms, conds=conds, vars=sc.vars, sub=sc.sub)
        # a step's table joined to one node row is planned too: the node is read by its
        # index from the step's few rows (a flat join scans every node for its label); so is
        # the rows so far joined to one node and its self-loops (varlength.closed_hop), which
        # the next clause's plan needs the estimate of
        trav = any(meta.get("kind") in ("trav", "loops") for _k, _s, _on, meta in sc.froms)
        planned = None if sc.sub else plan_join_chain(sc.froms, sc.conds, items, stats, self.fresh,
                                                      min_items=2 if trav else 3, estimates=self.estimates)
        self.last_estimate = None if planned is None else planned[4]
        if planned is None and not sc.sub:
            # the rows so far and a closed hop's self-loops only (its end is the start node):
            # as many rows as before, which the next clause's plan needs
            cross = [f for f in sc.froms if f[0] == "cross"]
            left = [m.get("kind") for k, _s, _on, m in sc.froms if k == "left"]
            # … and a step's table alone, once the nodes at its ends went (implied): the walks
            # of friends of friends, whose pattern predicate reads the index for so few rows
            if len(cross) == 1 and (set(left) == {"loops"} if left else cross[0][3].get("kind") == "trav"):
                self.last_estimate = single_item_rows(cross, sc.conds, stats, self.estimates)
        if planned is None:
            froms, conds, lookups = index_lookups(sc.froms, sc.conds, stats, self.fresh, uses=" ".join(items))
            for name, body in lookups:
                self.add_cte(name, body, materialized=True)
            sc = Scope(froms=froms, conds=conds, vars=sc.vars, sub=sc.sub)
            return head + ", ".join(items) + sc.from_sql() + sc.where_sql()
        ctes, last, rest, items2, _rows = planned
        for name, body in ctes:
            self.add_cte(name, body, materialized=True)
        where = (" WHERE " + " AND ".join(rest)) if rest else ""
        return head + ", ".join(items2) + f" FROM {last}" + where

    # ------------------------------------------------------------------ rows of variables
    def node_row(self, v: Var | NodeRef, sc: Scope, *, nullable: bool = False) -> str:
        """The alias of a node variable's ``node`` row, joined on first use."""
        alias = v.node_alias if isinstance(v, Var) else v.alias
        if alias:
            return alias
        a = self.fresh("n")
        if v.sql is None:
            sc.add(f"node AS {a}", kind="node", alias=a)
            v.sql = f"{a}.nid"
        elif nullable:
            sc.add_left(f"node AS {a}", f"{a}.nid = {v.sql}")
        else:
            sc.add(f"node AS {a}", kind="node", alias=a)
            sc.conds.append(f"{a}.nid = {v.sql}")
        if isinstance(v, Var):
            v.node_alias = a
        else:
            v.alias = a
        return a

    def rel_row(self, v: Var, sc: Scope) -> str:
        """The alias of a relationship variable's ``rel`` row, joined on first use."""
        if v.rel_alias:
            return v.rel_alias
        a = self.fresh("r")
        if v.nullable:
            sc.add_left(f"rel AS {a}", f"{a}.rid = {v.sql}")
        else:
            sc.add(f"rel AS {a}", kind="rel", alias=a)
            sc.conds.append(f"{a}.rid = {v.sql}")
        v.rel_alias = a
        return a

    def carried(self, v: Var, name: str) -> list[tuple[str, str]]:
        """(key, SQL) of the properties of node or relationship ``v`` that some clause reads
        under ``name`` and that are at hand here without a join: read from its joined row, or
        passed on by an earlier SELECT. A SELECT that ends a scope (WITH, ORDER BY, a pattern
        predicate's start) selects them, so that the clauses after it do not join the 3 M-row
        ``node`` table again for a property its row already gave (split_contracts joined it
        four times for this)."""
        if v.type == "node":
            alias, known, prop = v.node_alias, self.schema.node_properties.keys() | NODE_CORE, self.node_property
        elif v.type == "rel":
            alias, known, prop = v.rel_alias, self.schema.rel_properties.keys() | REL_CORE, self.rel_property
        else:
            return []
        out = []
        # (a relationship's, read again, would be a join of every relationship by id: kept)
        for key in sorted((self.carry_read if v.type == "node" else self.props_read).get(name, ())):
            if key in v.props:
                out.append((key, v.props[key]))
            elif alias and key in known:
                out.append((key, prop(alias, key)))
        return out

    def node_property(self, alias: str, key: str) -> str:
        col = f"{alias}.{quote_identifier(key)}"
        return f"CAST({col} AS DOUBLE)" if key in self.decimal_node_props else col

    def rel_property(self, alias: str, key: str) -> str:
        col = f"{alias}.{quote_identifier(key)}"
        return f"CAST({col} AS DOUBLE)" if key in self.decimal_rel_props else col

    def property_type(self, kind: str, key: str) -> str:
        """The value type of a node (``kind='node'``) or relationship property."""
        if kind == "node":
            return NODE_CORE.get(key) or PROP_TYPES[self.schema.node_properties[key]]
        return REL_CORE.get(key) or PROP_TYPES[self.schema.rel_properties[key]]

    # ------------------------------------------------------------------ expressions
    def sql(self, e: ir.Expr, sc: Scope) -> str:
        return expressions.sql(self, e, sc)

    def args_sql(self, e: ir.Func, sc: Scope) -> list[str]:
        return [expressions.sql(self, a, sc) for a in e.args]

    def compare(self, op: str, left: tuple[str, str], right: tuple[str, str]) -> str:
        return expressions.compare(op, left, right)


#: False: a scope's end passes on every property a later clause reads (:func:`_carried_reads`)
CARRY_ONLY_BEFORE_LAST = True


def _carried_reads(clauses, reads: list[dict[str, set[str]]]) -> list[dict[str, set[str]]]:
    """What a scope's end in each clause but the last passes on of a node: what a later clause
    reads, but not what only the last one reads when a MATCH lies between — the last one joins
    the node rows it reads for its own, fewer, rows (passing on four strings of each asset through the
    six joins of 1.3 M rows of poor_with_assets' later MATCH clauses took 1.72 s at 5 M
    persons, 1.13 s without; split_contracts' contracts, passed through WITH only, keep theirs)."""
    before_last = _reads_from_each_clause_on(clauses[:-1])
    out = []
    for i, passed in enumerate(before_last):
        if any(isinstance(c, ir.Match) and not c.optional for c in clauses[i + 1:-1]):
            out.append(passed)
        else:
            out.append(reads[i])
    return out


def _reads_from_each_clause_on(clauses) -> list[dict[str, set[str]]]:
    """:func:`props_read` of ``clauses[i:]`` for every i (each clause walked once)."""
    out: list[dict[str, set[str]]] = []
    acc: dict[str, set[str]] = {}
    for c in reversed(clauses):
        acc = {k: set(v) for k, v in acc.items()}
        for name, keys in props_read([c]).items():
            acc.setdefault(name, set()).update(keys)
        out.append(acc)
    return out[::-1]


def props_read(clauses) -> dict[str, set[str]]:
    """For every variable name, the property keys these clauses read from it (``name.key``),
    wherever in them; names are not scoped, so a name used twice gets the keys of both (a
    carried column too many costs little, one too few only a join)."""
    out: dict[str, set[str]] = {}

    def visit(x) -> None:
        if isinstance(x, ir.Prop) and isinstance(x.subject, ir.Var):
            out.setdefault(x.subject.name, set()).add(x.key)
        if isinstance(x, ir.Node):
            for f in dataclasses.fields(x):
                if f.compare:
                    visit(getattr(x, f.name))
        elif isinstance(x, (list, tuple)):
            for y in x:
                visit(y)
        elif isinstance(x, dict):
            for y in x.values():
                visit(y)

    visit(clauses)
    return out


__all__ = ["AGGREGATES", "Compilation", "Compiled", "DEFAULT_MAX_SHORTEST", "DEFAULT_MAX_VAR_LENGTH",
           "FUNCTIONS", "Options", "REFUSED_FUNCTIONS", "ShortestStep", "compile_query"]
