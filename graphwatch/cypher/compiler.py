"""IR → DuckDB SQL over the workspace tables ``node`` and ``rel``.

How a query becomes SQL
-----------------------
The compiler walks the clauses keeping a *scope*: FROM items, WHERE conditions and, for
every Cypher variable, the SQL that yields it (a node or relationship is its integer id;
``node``/``rel`` rows are joined only when labels or properties are needed). Consecutive
MATCH clauses extend one flat join that DuckDB's optimiser orders and pushes filters into;
WITH, aggregation and DISTINCT close the scope into a CTE; OPTIONAL MATCH is a
``LEFT JOIN LATERAL``; pattern predicates are correlated ``EXISTS`` subqueries;
variable-length relationships are recursive CTEs that start from the more selective end;
shortestPath is a breadth-first recursive CTE (``USING KEY``) plus a walk back over the
predecessors. Every pattern element, named or not, is carried as a hidden *binding* column
so each result row knows the nodes and relationships that produced it.

Cypher semantics kept: relationship uniqueness within one MATCH, undirected relationships in
both orientations (a self-loop once), three-valued logic, nulls last ascending and first
descending, implicit grouping, ``collect`` skipping nulls, ``sum`` of nothing = 0.

Values are never formatted into SQL: literals and ``$parameters`` become DuckDB named
parameters. Labels, relationship types and property names are checked against the schema
before they appear in SQL, as quoted identifiers or string literals.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from dataclasses import dataclass, field

from ..exc import PatternError
from ..schema import Schema, did_you_mean, load_schema
from ..store import q
from . import ir
from .parser import parse
from .planner import Stats, connected_part_items, stage

#: schema property type -> expression type
PROP_TYPES = {"string": "str", "integer": "int", "float": "float", "decimal": "float", "boolean": "bool",
              "date": "date", "datetime": "datetime", "string_list": "list:str", "integer_list": "list:int",
              "float_list": "list:float", "boolean_list": "list:bool", "date_list": "list:date"}
NODE_CORE = {"key": "str", "datasets": "list:str"}
REL_CORE = {"valid_from": "date", "valid_to": "date", "dataset": "str", "record": "str", "records": "list:str"}
AGGREGATES = {"count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp"}
ENTITY = ("node", "rel", "path", "rels")
NUMERIC = ("int", "float")

#: functions Neo4j has (or had) that graphwatch refuses, and why
REFUSED_FUNCTIONS = {
    "datetime": "datetime() is refused: graphwatch datetimes have no time zone, and in Neo4j a zoned "
                "datetime() never compares equal to a stored one; write localdatetime(…)",
    "rels": "unknown function rels(): Neo4j 5 removed it; write relationships(p)",
}

DEFAULT_MAX_VAR_LENGTH = 10
DEFAULT_MAX_SHORTEST = 15


@dataclass
class Options:
    """Compiler limits. ``max_var_length``: the largest upper bound a variable-length
    relationship may give (an unbounded ``*`` is refused). ``max_shortest``: the cap on an
    unbounded shortestPath / allShortestPaths."""
    max_var_length: int = DEFAULT_MAX_VAR_LENGTH
    max_shortest: int = DEFAULT_MAX_SHORTEST
    stats: Stats | None = None       # graph statistics for join planning (None: DuckDB plans)
    plan_joins: bool = True          # False: leave the join order to DuckDB's optimiser


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


@dataclass
class ShortestStep:
    """A shortest-path search the engine runs before the main statement: it creates the
    temporary table ``name`` (s, t, rids, nids) with one row per shortest path (all of them
    for allShortestPaths) from each start node to each reachable target."""
    name: str
    start_sql: str            # SELECT x: the start node ids
    target_sql: str           # SELECT x: the target node ids
    edges_sql: str            # rid, _s, _d: relationships oriented for the search
    max_hops: int
    min_hops: int
    all_paths: bool

    def describe(self) -> str:
        kind = "allShortestPaths" if self.all_paths else "shortestPath"
        return (f"-- step: {kind} into temporary table {self.name} (breadth-first, at most {self.max_hops} "
                f"levels)\n--   start:   {self.start_sql}\n--   target:  {self.target_sql}\n"
                f"--   edges:   {self.edges_sql}")


@dataclass
class Var:
    name: str
    type: str
    sql: str
    node_alias: str | None = None
    rel_alias: str | None = None
    nullable: bool = False


@dataclass
class Scope:
    froms: list[tuple] = field(default_factory=list)   # (kind, sql, on, planner meta)
    conds: list[str] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)
    binds: list[tuple[str, str, bool]] = field(default_factory=list)
    order_col: str | None = None
    sub: bool = False                # a correlated subquery (EXISTS, OPTIONAL MATCH)

    def add(self, sql: str, **meta) -> None:
        self.froms.append(("cross", sql, None, meta))

    def add_left(self, sql: str, on: str) -> None:
        self.froms.append(("left", sql, on, {}))

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

    def copy_for_sub(self) -> "Scope":
        return Scope(vars=dict(self.vars), sub=True)


@dataclass
class _NodeRef:
    name: str
    pattern: ir.NodePattern
    sql: str | None = None
    alias: str | None = None
    new: bool = True


def compile_query(query: str | ir.Query, *, schema: Schema | None = None, params: dict | None = None,
                  options: Options | None = None) -> Compiled:
    """Compile Cypher text (or a parsed query) to SQL; raises :class:`PatternError`."""
    qy = parse(query) if isinstance(query, str) else query
    return _Compiler(schema or load_schema(), params or {}, options or Options()).run(qy)


def _err(node, message: str) -> PatternError:
    return PatternError(message, line=getattr(node, "line", None) or None,
                        column=getattr(node, "column", None) or None)


def _lit_str(s: str) -> str:
    """A SQL string literal for a schema identifier (label or type name, already checked)."""
    return "'" + s.replace("'", "''") + "'"


def _elem(t: str) -> str:
    return t[5:] if t.startswith("list:") else "any"


class _Compiler:
    def __init__(self, schema: Schema, params: dict, options: Options):
        self.schema = schema
        self.user_params = params
        self.opt = options
        self.params: dict = {}
        self.cypher_params: dict[str, str] = {}
        self.ctes: list[tuple[str, str]] = []
        self.materialized: set[str] = set()
        self.steps: list[ShortestStep] = []
        self.recursive = False
        self._n = itertools.count()
        self.node_props = {**{p: PROP_TYPES[t] for p, t in schema.node_properties.items()}, **NODE_CORE}
        self.rel_props = {**{p: PROP_TYPES[t] for p, t in schema.rel_properties.items()}, **REL_CORE}
        self.node_sql_props = {p for p, t in schema.node_properties.items() if t == "decimal"}
        self.rel_sql_props = {p for p, t in schema.rel_properties.items() if t == "decimal"}

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._n)}"

    # ------------------------------------------------------------------ values
    def bind_value(self, value) -> str:
        name = self.fresh("l")
        self.params[name] = value
        return f"${name}"

    def bind_param(self, p: ir.Param) -> str:
        if p.name not in self.cypher_params:
            name = f"p{len(self.cypher_params)}"
            self.cypher_params[p.name] = name
            if p.name in self.user_params:
                self.params[name] = self.user_params[p.name]
            else:
                self.params[name] = None
                self._missing = getattr(self, "_missing", []) + [p]
        return f"${self.cypher_params[p.name]}"

    # ------------------------------------------------------------------ driver
    def run(self, qy: ir.Query) -> Compiled:
        sc = Scope()
        clauses = qy.clauses
        for c in clauses[:-1]:
            sc = self.clause(c, sc)
        out = self.projection(clauses[-1], sc, final=True)
        missing = getattr(self, "_missing", [])
        if missing:
            p = missing[0]
            raise _err(p, f"parameter ${p.name} has no value; pass it with --param {p.name}=… "
                          "or params={…}")
        with_ = self.with_prefix(self.ctes)
        sql_text, columns, types, sql_cols, binds = out
        sql = with_ + sql_text
        # values compiled for a branch that was then not used must not be passed to DuckDB
        used = set(re.findall(r"\$(\w+)", sql))
        used |= {m for st in self.steps for m in re.findall(r"\$(\w+)", st.start_sql + st.target_sql + st.edges_sql)}
        params = {k: v for k, v in self.params.items() if k in used}
        return Compiled(sql, params, columns, types, sql_cols, binds, list(self.cypher_params), list(self.steps))

    def with_prefix(self, ctes: list[tuple[str, str]]) -> str:
        if not ctes:
            return ""
        return "WITH " + ("RECURSIVE " if self.recursive else "") + ",\n".join(
            f"{name} AS {'MATERIALIZED ' if name in self.materialized else ''}({sql})"
            for name, sql in ctes) + "\n"

    def clause(self, c, sc: Scope) -> Scope:
        if isinstance(c, ir.Match):
            return self.optional_match(c, sc) if c.optional else self.match(c, sc)
        if isinstance(c, ir.Unwind):
            return self.unwind(c, sc)
        if isinstance(c, ir.Projection):
            return self.projection(c, sc, final=False)
        raise _err(c, f"unsupported clause {type(c).__name__}")  # pragma: no cover

    # ------------------------------------------------------------------ scopes
    def close(self, sc: Scope) -> Scope:
        """Materialise the scope as a CTE; return a scope reading it."""
        name = self.fresh("s")
        cols = [f"{v.sql} AS {q('v_' + v.name)}" for v in sc.vars.values()]
        cols += [f"{b[0]} AS _b{i}" for i, b in enumerate(sc.binds)]
        if sc.order_col:
            cols.append(f"{sc.order_col} AS _ord")
        if not cols:
            cols = ["1 AS _one"]
        self.ctes.append((name, self.render(sc, cols)))
        out = Scope()
        out.add(name, kind="cte")
        for v in sc.vars.values():
            out.vars[v.name] = Var(v.name, v.type, f"{name}.{q('v_' + v.name)}", nullable=v.nullable)
        out.binds = [(f"{name}._b{i}", b[1], b[2]) for i, b in enumerate(sc.binds)]
        out.order_col = f"{name}._ord" if sc.order_col else None
        return out

    def render(self, sc: Scope, items: list[str], *, distinct: bool = False) -> str:
        """``SELECT items FROM … WHERE …`` of a scope; with statistics, a planned join chain."""
        head = "SELECT " + ("DISTINCT " if distinct else "")
        planned = None if sc.sub else stage(sc.froms, sc.conds, items, self.opt.stats if self.opt.plan_joins else None, self.fresh)
        if planned is None:
            return head + ", ".join(items) + sc.from_sql() + sc.where_sql()
        ctes, last, rest, items2 = planned
        for name, body in ctes:
            self.ctes.append((name, body))
            self.materialized.add(name)
        where = (" WHERE " + " AND ".join(rest)) if rest else ""
        return head + ", ".join(items2) + f" FROM {last}" + where

    def node_alias(self, v: Var | _NodeRef, sc: Scope, *, nullable: bool = False) -> str:
        """The ``node`` row of a node variable, joined on first use."""
        if v.node_alias if isinstance(v, Var) else v.alias:
            return v.node_alias if isinstance(v, Var) else v.alias
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

    def rel_alias(self, v: Var, sc: Scope) -> str:
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

    # ------------------------------------------------------------------ MATCH
    def match(self, m: ir.Match, sc: Scope) -> Scope:
        self.add_paths(m.paths, sc, where=m.where, bind=True)
        return sc

    def optional_match(self, m: ir.Match, sc: Scope) -> Scope:
        prev = self.close(sc) if (sc.froms or sc.vars) else sc
        if not prev.froms:
            prev.add("(SELECT 1 AS _one) AS _unit", kind="cte")
        sub = prev.copy_for_sub()
        sub.vars = {k: Var(v.name, v.type, v.sql, nullable=v.nullable) for k, v in prev.vars.items()}
        self.add_paths(m.paths, sub, where=m.where, bind=True)
        new_vars = [v for k, v in sub.vars.items() if k not in prev.vars]
        a = self.fresh("o")
        cols = [f"{v.sql} AS {q('v_' + v.name)}" for v in new_vars]
        cols += [f"{b[0]} AS _b{i}" for i, b in enumerate(sub.binds)]
        if not cols:
            cols = ["1 AS _one"]
        subsql = "SELECT " + ", ".join(cols) + sub.from_sql() + sub.where_sql()
        prev.add_left(f"LATERAL ({subsql}) AS {a}", "true")
        for v in new_vars:
            prev.vars[v.name] = Var(v.name, v.type, f"{a}.{q('v_' + v.name)}", nullable=True)
        prev.binds += [(f"{a}._b{i}", b[1], b[2]) for i, b in enumerate(sub.binds)]
        return prev

    def add_paths(self, paths: list[ir.PathPattern], sc: Scope, *, where: ir.Expr | None, bind: bool) -> None:
        """Add the patterns of one MATCH (or one pattern predicate) to the scope."""
        local: dict[str, _NodeRef] = {}
        rels_seen: list[tuple[frozenset | None, str, bool]] = []   # for relationship uniqueness
        deferred = []      # variable-length and shortest-path elements, after the fixed joins
        path_parts = []    # (path pattern, node refs, rel sqls)
        new_rel_vars: set[str] = set()
        for path in paths:
            refs = [self.node_ref(np, sc, local) for np in path.nodes]
            rel_sql: list = [None] * len(path.rels)
            for i, rp in enumerate(path.rels):
                if path.kind != "plain" or rp.var_length:
                    deferred.append((path, i, rp, refs[i], refs[i + 1], rel_sql))
                else:
                    rel_sql[i] = self.fixed_rel(rp, refs[i], refs[i + 1], sc, rels_seen, bind)
                    if rp.var:
                        new_rel_vars.add(rp.var)
            path_parts.append((path, refs, rel_sql))
        # every node needs an id: ones only next to deferred elements read the node table
        for ref in local.values():
            if ref.sql is None:
                self.node_alias(ref, sc)
        for ref in local.values():
            if ref.new and not ref.name.startswith(" "):
                sc.vars[ref.name] = Var(ref.name, "node", ref.sql, node_alias=ref.alias)
        # WHERE conjuncts that do not need the deferred elements filter before they expand
        late_names = {rp.var for _, _, rp, _, _, _ in deferred if rp.var} | {p.var for p in paths if p.var}
        early, late = [], []
        for conj in _conjuncts(where):
            names = {e.name for e in ir.walk(conj) if isinstance(e, ir.Var)}
            (late if names & late_names or _has_pattern(conj) else early).append(conj)
        for conj in early:
            sc.conds.append(self.bool_expr(conj, sc))
        for path, i, rp, left, right, rel_sql in deferred:
            if path.kind == "plain":
                rel_sql[i] = self.var_rel(rp, left, right, sc, rels_seen, bind)
            else:
                rel_sql[i] = self.shortest(path, rp, left, right, sc, bind)
        if bind:
            for ref in local.values():
                if ref.new:
                    sc.binds.append((ref.sql, "node", False))
        for path, refs, rel_sql in path_parts:
            if path.var:
                if path.var in sc.vars:
                    raise _err(path, f"variable {path.var!r} is already bound")
                sc.vars[path.var] = Var(path.var, "path", self.path_value(refs, rel_sql))
        for conj in late:
            sc.conds.append(self.bool_expr(conj, sc))

    def path_value(self, refs: list[_NodeRef], rel_sql: list) -> str:
        nodes = [f"[{refs[0].sql}]"]
        rels = []
        for i, r in enumerate(rel_sql):
            if isinstance(r, tuple):      # (rid list, intermediate node list)
                rels.append(r[0])
                nodes.append(r[1])
                # a zero-length hop ends where it started: the node is listed once
                nodes.append(f"(CASE WHEN len({r[0]}) = 0 THEN CAST([] AS BIGINT[]) ELSE [{refs[i + 1].sql}] END)")
            else:
                rels.append(f"[{r}]")
                nodes.append(f"[{refs[i + 1].sql}]")
        rel_list = " || ".join(rels) if rels else "CAST([] AS BIGINT[])"
        return f"{{'nodes': {' || '.join(nodes)}, 'rels': {rel_list}}}"

    def node_ref(self, np: ir.NodePattern, sc: Scope, local: dict[str, _NodeRef]) -> _NodeRef:
        for lab in np.labels:
            if lab not in self.schema.labels:
                raise _err(np, f"unknown label {lab!r}{did_you_mean(lab, self.schema.labels)}")
        if np.var and np.var in local:
            ref = local[np.var]
        elif np.var and np.var in sc.vars:
            v = sc.vars[np.var]
            if v.type != "node":
                raise _err(np, f"{np.var!r} is a {_kind(v.type)}, not a node")
            ref = _NodeRef(np.var, np, v.sql, v.node_alias, new=False)
            if v.nullable:
                sc.conds.append(f"{v.sql} IS NOT NULL")
            local[np.var] = ref
        else:
            ref = _NodeRef(np.var or f" a{next(self._n)}", np)
            local[ref.name] = ref
        if np.labels or np.props:
            a = self.node_alias(ref, sc)
            for lab in np.labels:
                sc.conds.append(f"list_contains({a}.labels, {_lit_str(lab)})")
            for key, val in np.props.items():
                col, t = self.node_prop_col(a, key, np)
                vs, vt = self.expr(val, sc)
                sc.conds.append(self.compare("=", (col, t), (vs, vt)))
        return ref

    def node_prop_col(self, alias: str, key: str, where) -> tuple[str, str]:
        if key not in self.node_props:
            raise _err(where, f"unknown node property {key!r}{did_you_mean(key, self.node_props)}")
        col = f"{alias}.{q(key)}"
        if key in self.node_sql_props:
            col = f"CAST({col} AS DOUBLE)"
        return col, self.node_props[key]

    def rel_prop_col(self, alias: str, key: str, where) -> tuple[str, str]:
        if key not in self.rel_props:
            raise _err(where, f"unknown relationship property {key!r}{did_you_mean(key, self.rel_props)}")
        col = f"{alias}.{q(key)}"
        if key in self.rel_sql_props:
            col = f"CAST({col} AS DOUBLE)"
        return col, self.rel_props[key]

    def check_types(self, rp: ir.RelPattern) -> frozenset | None:
        for t in rp.types:
            if t not in self.schema.rel_types:
                raise _err(rp, f"unknown relationship type {t!r}{did_you_mean(t, self.schema.rel_types)}")
        return frozenset(rp.types) if rp.types else None

    def type_filter(self, col: str, types: frozenset | None) -> str | None:
        if not types:
            return None
        ts = sorted(types)
        if len(ts) == 1:
            return f"{col} = {_lit_str(ts[0])}"
        return f"{col} IN ({', '.join(_lit_str(t) for t in ts)})"

    def edges_sql(self, types: frozenset | None, direction: str, extra: list[str]) -> str:
        """Relationships oriented for traversal: columns rid, _s (from), _d (to), and all rel columns."""
        tf = self.type_filter("type", types)
        conds = [c for c in [tf, *extra] if c]
        w = (" WHERE " + " AND ".join(conds)) if conds else ""
        if direction == "out":
            return f"SELECT *, src AS _s, dst AS _d FROM rel{w}"
        if direction == "in":
            return f"SELECT *, dst AS _s, src AS _d FROM rel{w}"
        w2 = (w + " AND " if w else " WHERE ") + "src <> dst"
        return f"SELECT *, src AS _s, dst AS _d FROM rel{w} UNION ALL SELECT *, dst AS _s, src AS _d FROM rel{w2}"

    def unique_against(self, types, sql: str, is_list: bool, rels_seen, sc: Scope) -> None:
        for otypes, osql, olist in rels_seen:
            if types is not None and otypes is not None and not (types & otypes):
                continue
            if not is_list and not olist:
                sc.conds.append(f"{sql} <> {osql}")
            elif is_list and olist:
                sc.conds.append(f"NOT list_has_any({sql}, {osql})")
            else:
                lst, one = (sql, osql) if is_list else (osql, sql)
                sc.conds.append(f"NOT list_contains({lst}, {one})")
        rels_seen.append((types, sql, is_list))

    def fixed_rel(self, rp: ir.RelPattern, left: _NodeRef, right: _NodeRef, sc: Scope, rels_seen, bind) -> str:
        types = self.check_types(rp)
        a = self.fresh("r")
        if rp.direction == "both":
            sc.add(f"({self.edges_sql(types, 'both', [])}) AS {a}", kind="urel", alias=a,
                   types=sorted(types) if types else None)
            s_col, d_col = f"{a}._s", f"{a}._d"
        else:
            sc.add(f"rel AS {a}", kind="rel", alias=a, types=sorted(types) if types else None)
            tf = self.type_filter(f"{a}.type", types)
            if tf:
                sc.conds.append(tf)
            s_col, d_col = (f"{a}.src", f"{a}.dst") if rp.direction == "out" else (f"{a}.dst", f"{a}.src")
        for ref, col in ((left, s_col), (right, d_col)):
            if ref.sql is None:
                ref.sql = col
            else:
                sc.conds.append(f"{col} = {ref.sql}")
        for key, val in rp.props.items():
            col, t = self.rel_prop_col(a, key, rp)
            sc.conds.append(self.compare("=", (col, t), self.expr(val, sc)))
        rid = f"{a}.rid"
        if rp.var:
            old = sc.vars.get(rp.var)
            if old is not None:
                if old.type != "rel":
                    raise _err(rp, f"{rp.var!r} is a {_kind(old.type)}, not a relationship")
                sc.conds.append(f"{rid} = {old.sql}")
            else:
                sc.vars[rp.var] = Var(rp.var, "rel", rid, rel_alias=a)
        self.unique_against(types, rid, False, rels_seen, sc)
        if bind:
            sc.binds.append((rid, "rel", False))
        return rid

    def _end_score(self, ref: _NodeRef) -> int:
        if not ref.new:
            return 3
        if ref.pattern.props:
            return 2
        return 1 if ref.pattern.labels else 0

    def start_set(self, ref: _NodeRef, sc: Scope) -> str:
        """SQL listing the node ids a traversal may start from (or end at)."""
        if not sc.sub:
            return self.render(connected_part(sc, ref.sql), [f"{ref.sql} AS x"], distinct=True)
        # inside a correlated subquery the start set cannot see the outer row: use the
        # node's own constraints (the outer join then picks the right rows)
        inner = Scope()
        r2 = _NodeRef(" start", ir.NodePattern(None, ref.pattern.labels, ref.pattern.props,
                                               line=ref.pattern.line, column=ref.pattern.column))
        self.node_ref(r2.pattern, inner, {" start": r2})
        if r2.sql is None:
            self.node_alias(r2, inner)
        return f"SELECT DISTINCT {r2.sql} AS x" + inner.from_sql() + inner.where_sql()

    def rel_props_conds(self, rp: ir.RelPattern) -> list[str]:
        """Inline properties of a variable-length relationship, on every hop (values only)."""
        out = []
        for key, val in rp.props.items():
            col, t = self.rel_prop_col("rel", key, rp)
            if _refs_vars(val):
                raise _err(val, "properties of a variable-length relationship must be values or $parameters")
            out.append(self.compare("=", (col, t), self.expr(val, Scope())))
        return out

    def var_rel(self, rp: ir.RelPattern, left: _NodeRef, right: _NodeRef, sc: Scope, rels_seen, bind):
        types = self.check_types(rp)
        if rp.max_hops is None:
            raise _err(rp, "a variable-length relationship needs an upper bound, e.g. *1..4 "
                           f"(at most *..{self.opt.max_var_length}); unbounded * is refused because it "
                           "can expand to the whole graph")
        if rp.max_hops > self.opt.max_var_length:
            raise _err(rp, f"variable length *..{rp.max_hops} is above the limit "
                           f"{self.opt.max_var_length} (Options.max_var_length)")
        reverse = self._end_score(right) > self._end_score(left)
        start, end = (right, left) if reverse else (left, right)
        direction = {"out": "in", "in": "out", "both": "both"}[rp.direction] if reverse else rp.direction
        edges = self.edges_sql(types, direction, self.rel_props_conds(rp))
        name = self.fresh("vl")
        self.recursive = True
        self.ctes.append((name, f"""SELECT x AS s, x AS cur, CAST([] AS BIGINT[]) AS rids, CAST([] AS BIGINT[]) AS nids
  FROM ({self.start_set(start, sc)}) st
  UNION ALL
  SELECT p.s, e._d, list_append(p.rids, e.rid), list_append(p.nids, e._d)
  FROM {name} p JOIN ({edges}) e ON e._s = p.cur
  WHERE len(p.rids) < {int(rp.max_hops)} AND NOT list_contains(p.rids, e.rid)"""))
        a = self.fresh("v")
        sc.add(f"{name} AS {a}", kind="trav", alias=a)
        sc.conds.append(f"{a}.s = {start.sql}")
        sc.conds.append(f"{a}.cur = {end.sql}")
        if rp.min_hops > 0:
            sc.conds.append(f"len({a}.rids) >= {int(rp.min_hops)}")
        inner = f"list_slice({a}.nids, 1, len({a}.nids) - 1)"
        rids, nids = (f"list_reverse({a}.rids)", f"list_reverse({inner})") if reverse else (f"{a}.rids", inner)
        if rp.var:
            if rp.var in sc.vars:
                raise _err(rp, f"variable {rp.var!r} is already bound")
            sc.vars[rp.var] = Var(rp.var, "rels", rids)
        self.unique_against(types, rids, True, rels_seen, sc)
        if bind:
            sc.binds.append((rids, "rel", True))
            sc.binds.append((nids, "node", True))
        return (rids, nids)

    def shortest(self, path: ir.PathPattern, rp: ir.RelPattern, left: _NodeRef, right: _NodeRef, sc: Scope, bind):
        types = self.check_types(rp)
        fn = "shortestPath" if path.kind == "shortest" else "allShortestPaths"
        if rp.min_hops not in (0, 1):
            raise _err(rp, f"{fn} supports a lower bound of 0 or 1 (*..n or *0..n), not {rp.min_hops}")
        max_hops = rp.max_hops if rp.max_hops is not None else self.opt.max_shortest
        if not rp.var_length:
            max_hops = 1
        if max_hops > self.opt.max_shortest:
            raise _err(rp, f"{fn} length *..{max_hops} is above the limit {self.opt.max_shortest} "
                           "(Options.max_shortest)")
        if sc.sub:
            raise _err(path, f"{fn} inside OPTIONAL MATCH or a pattern predicate is not supported")
        reverse = self._end_score(right) > self._end_score(left)
        start, end = (right, left) if reverse else (left, right)
        direction = {"out": "in", "in": "out", "both": "both"}[rp.direction] if reverse else rp.direction
        edges = self.edges_sql(types, direction, self.rel_props_conds(rp))
        src_set, dst_set = self.start_set(start, sc), self.start_set(end, sc)
        res = self.fresh("sp")
        # breadth-first search runs as engine steps, level by level on temporary tables
        # (inside one recursive CTE every level re-hashed all relationships: 17 s at 1 M)
        prefix = self.with_prefix(list(self.ctes))
        self.steps.append(ShortestStep(res, prefix + src_set, prefix + dst_set, edges, int(max_hops),
                                       int(rp.min_hops), path.kind == "all_shortest"))
        a = self.fresh("sp")
        sc.add(f"{res} AS {a}", kind="trav", alias=a)
        sc.conds.append(f"{a}.s = {start.sql}")
        sc.conds.append(f"{a}.t = {end.sql}")
        inner = f"list_slice({a}.nids, 2, len({a}.nids) - 1)"
        rids, nids = (f"list_reverse({a}.rids)", f"list_reverse({inner})") if reverse else (f"{a}.rids", inner)
        if rp.var:
            if rp.var in sc.vars:
                raise _err(rp, f"variable {rp.var!r} is already bound")
            sc.vars[rp.var] = Var(rp.var, "rels" if rp.var_length else "rel",
                                  rids if rp.var_length else f"{rids}[1]")
        if bind:
            sc.binds.append((rids, "rel", True))
            sc.binds.append((nids, "node", True))
        return (rids, nids)

    # ------------------------------------------------------------------ UNWIND
    def unwind(self, u: ir.Unwind, sc: Scope) -> Scope:
        if u.alias in sc.vars:
            raise _err(u, f"variable {u.alias!r} is already bound")
        sql, t = self.expr(u.expr, sc)
        if not (t.startswith("list:") or t in ("any", "null", "rels")):
            raise _err(u.expr, f"UNWIND needs a list, not a {_kind(t)}")
        a = self.fresh("u")
        sc.add(f"(SELECT unnest({sql}) AS x) AS {a}", kind="lateral", alias=a)
        et = "rel" if t == "rels" else _elem(t)
        sc.vars[u.alias] = Var(u.alias, et, f"{a}.x")
        return sc

    # ------------------------------------------------------------------ WITH / RETURN
    def projection(self, p: ir.Projection, sc: Scope, *, final: bool):
        items = list(p.items)
        if p.star:
            names = sorted(n for n in sc.vars if not n.startswith(" "))
            if not names:
                raise _err(p, f"{p.kind} * with no variables in scope")
            items = [ir.ProjItem(ir.Var(n, line=p.line, column=p.column), None, n,
                                 line=p.line, column=p.column) for n in names] + items
        compiled, names = [], []
        for it in items:
            if it.alias is None and p.kind == "WITH" and not isinstance(it.expr, ir.Var):
                raise _err(it, f"WITH {it.text!r} needs an alias: WITH {it.text} AS name")
            name = it.alias or (it.expr.name if isinstance(it.expr, ir.Var) else it.text)
            if name in names:
                raise _err(it, f"column {name!r} appears twice in {p.kind}")
            names.append(name)
            self._agg_seen = False
            sql, t = self.expr(it.expr, sc, agg_ok=True)
            compiled.append((name, sql, t, self._agg_seen))
        grouped = p.distinct or any(c[3] for c in compiled)
        cols = []
        for i, (name, sql, t, _) in enumerate(compiled):
            cols.append(f"{sql} AS c{i}")
        # hidden sort keys that are not projected (allowed without aggregation/DISTINCT)
        sort_cols: list[tuple[str, bool]] = []       # (sql over the projection, descending)
        pending_sorts = []
        for si in p.order:
            if not _refs_vars(si.expr):
                continue
            hit = next((i for i, (name, _s, _t, _a) in enumerate(compiled)
                        if si.text == name or si.text == items[i].text), None)
            if hit is not None:
                sort_cols.append((f"c{hit}", si.descending))
                continue
            if grouped:
                pending_sorts.append(si)
                continue
            aug = Scope(froms=sc.froms, conds=sc.conds, vars=dict(sc.vars), binds=sc.binds, sub=sc.sub)
            for i, (name, sqlx, t, _) in enumerate(compiled):
                aug.vars[name] = Var(name, t, sqlx)
            s_sql, _t = self.expr(si.expr, aug)
            k = len(cols)
            cols.append(f"{s_sql} AS c{k}")
            sort_cols.append((f"c{k}", si.descending))
        bind_out: list[tuple[str, str, bool]] = []
        group_by = ""
        if grouped:
            # by position: an alias such as c1 could also name a column of the input
            keys = [str(i + 1) for i, c in enumerate(compiled) if not c[3]]
            for kind in ("node", "rel"):
                # an OPTIONAL MATCH that matched nothing leaves its lists NULL, and
                # list || NULL is NULL: it would wipe the group's other bindings
                parts = [(f"coalesce({s}, [])" if is_list else f"[{s}]") for s, k, is_list in sc.binds
                         if k == kind]
                if parts:
                    k = len(cols)
                    cols.append(f"list_distinct(flatten(list({' || '.join(parts)}))) AS c{k}")
                    bind_out.append((f"c{k}", kind, True))
            if keys:
                group_by = " GROUP BY " + ", ".join(keys)
        else:
            for s, kind, is_list in sc.binds:
                k = len(cols)
                cols.append(f"{s} AS c{k}")
                bind_out.append((f"c{k}", kind, is_list))
            if sc.order_col and not p.order:
                k = len(cols)
                cols.append(f"{sc.order_col} AS c{k}")
                sort_cols.append((f"c{k}", False))
        proj_sql = self.render(sc, cols) + group_by
        pname = self.fresh("proj")
        self.ctes.append((pname, proj_sql))
        out = Scope()
        out.add(pname, kind="cte")
        for i, (name, sql, t, _) in enumerate(compiled):
            # a variable an OPTIONAL MATCH left null stays nullable: later reads of it join leftwards
            src = sc.vars.get(items[i].expr.name) if isinstance(items[i].expr, ir.Var) else None
            out.vars[name] = Var(name, t, f"{pname}.c{i}", nullable=src.nullable if src is not None else True)
        out.binds = [(f"{pname}.{c}", k, lst) for c, k, lst in bind_out]
        order_keys = []      # (sql over the projection, direction)
        for c, desc in sort_cols:
            order_keys.append((f"{pname}.{c}", 'DESC NULLS FIRST' if desc else 'ASC NULLS LAST'))
        for si in pending_sorts:
            s_sql, _t = self.expr(si.expr, out)
            order_keys.append((s_sql, 'DESC NULLS FIRST' if si.descending else 'ASC NULLS LAST'))
        order_sql = [f"{s} {d}" for s, d in order_keys]
        # the sort keys are selected (as _o0 …) and sorted by name: a planned join chain
        # renames the tables they read, which an ORDER BY outside the select list cannot follow
        order_cols = [f"{s} AS _o{j}" for j, (s, _d) in enumerate(order_keys)]
        tail = ""
        if order_keys:
            tail += " ORDER BY " + ", ".join(f"_o{j} {d}" for j, (_s, d) in enumerate(order_keys))
        if p.limit is not None:
            tail += f" LIMIT {self.count_expr(p.limit, 'LIMIT')}"
        if p.skip is not None:
            tail += f" OFFSET {self.count_expr(p.skip, 'SKIP')}"
        if final:
            sel = [f"{pname}.c{i} AS c{i}" if True else "" for i in range(len(compiled))]
            sel_cols = [f"c{i}" for i in range(len(compiled))]
            bcols = []
            for j, (s, kind, lst) in enumerate(out.binds):
                sel.append(f"{s} AS b{j}")
                bcols.append((f"b{j}", kind, lst))
            sql = self.render(out, sel + order_cols) + tail
            return sql, [c[0] for c in compiled], [c[2] for c in compiled], sel_cols, bcols
        # WITH: keep the order for a following collect() / RETURN, then apply WHERE
        if order_sql or p.limit is not None or p.skip is not None:
            if order_sql:
                out.order_col = f"row_number() OVER (ORDER BY {', '.join(order_sql)})"
            name = self.fresh("w")
            vcols = [f"{v.sql} AS {q('v_' + v.name)}" for v in out.vars.values()]
            vcols += [f"{b[0]} AS _b{i}" for i, b in enumerate(out.binds)]
            if out.order_col:
                vcols.append(f"{out.order_col} AS _ord")
            self.ctes.append((name, self.render(out, vcols + order_cols) + tail))
            nxt = Scope()
            nxt.add(name, kind="cte")
            for v in out.vars.values():
                nxt.vars[v.name] = Var(v.name, v.type, f"{name}.{q('v_' + v.name)}", nullable=v.nullable)
            nxt.binds = [(f"{name}._b{i}", b[1], b[2]) for i, b in enumerate(out.binds)]
            nxt.order_col = f"{name}._ord" if out.order_col else None
            out = nxt
        if p.where is not None:
            out.conds.append(self.bool_expr(p.where, out))
        return out

    def count_expr(self, e: ir.Expr, what: str) -> str:
        if isinstance(e, ir.Literal):
            if not isinstance(e.value, int) or isinstance(e.value, bool) or e.value < 0:
                raise _err(e, f"{what} needs a non-negative integer, not {e.value!r}")
            return self.bind_value(e.value)
        if isinstance(e, ir.Param):
            return f"CAST({self.bind_param(e)} AS BIGINT)"
        raise _err(e, f"{what} takes an integer or a $parameter")

    # ------------------------------------------------------------------ expressions
    def bool_expr(self, e: ir.Expr, sc: Scope) -> str:
        sql, t = self.expr(e, sc)
        if t not in ("bool", "any", "null"):
            raise _err(e, f"WHERE needs a true/false condition, not a {_kind(t)}")
        return sql

    def expr(self, e: ir.Expr, sc: Scope, *, agg_ok: bool = False) -> tuple[str, str]:
        m = getattr(self, "x_" + type(e).__name__)
        return m(e, sc, agg_ok)

    def x_Literal(self, e, sc, agg_ok):
        v = e.value
        if v is None:
            return "NULL", "null"
        if isinstance(v, bool):
            return ("true" if v else "false"), "bool"
        if isinstance(v, int):
            return f"CAST({self.bind_value(v)} AS BIGINT)", "int"
        if isinstance(v, float):
            return f"CAST({self.bind_value(v)} AS DOUBLE)", "float"
        return f"CAST({self.bind_value(v)} AS VARCHAR)", "str"

    def x_Param(self, e, sc, agg_ok):
        sql = self.bind_param(e)
        v = self.user_params.get(e.name)
        t = _py_type(v)
        if t == "str":
            return f"CAST({sql} AS VARCHAR)", t
        if t == "int":
            return f"CAST({sql} AS BIGINT)", t
        if t == "float":
            return f"CAST({sql} AS DOUBLE)", t
        return sql, t

    def x_Var(self, e, sc, agg_ok):
        v = sc.vars.get(e.name)
        if v is None:
            names = [n for n in sc.vars if not n.startswith(" ")]
            raise _err(e, f"unknown variable {e.name!r}{did_you_mean(e.name, names)}")
        return v.sql, v.type

    def x_Prop(self, e, sc, agg_ok):
        if isinstance(e.subject, ir.Var) and e.subject.name in sc.vars:
            v = sc.vars[e.subject.name]
            if v.type == "node":
                return self.node_prop_col(self.node_alias(v, sc, nullable=v.nullable), e.key, e)
            if v.type == "rel":
                return self.rel_prop_col(self.rel_alias(v, sc), e.key, e)
        sql, t = self.expr(e.subject, sc, agg_ok=agg_ok)
        if t in ("node", "rel"):
            raise _err(e, f"property of a computed {_kind(t)} is not supported; bind it to a variable first")
        if t in ("date", "datetime"):
            # Neo4j's field names, spelled as Neo4j spells them
            parts = {"year": "year", "month": "month", "day": "day", "quarter": "quarter", "week": "week",
                     "dayOfWeek": "isodow", "weekDay": "isodow", "ordinalDay": "dayofyear"}
            if t == "datetime":
                parts.update({"hour": "hour", "minute": "minute", "second": "second"})
            if e.key not in parts:
                hint = " (the day of the year is .ordinalDay)" if e.key.lower() == "dayofyear" else ""
                raise _err(e, f"a {t} has no field {e.key!r}{hint}{did_you_mean(e.key, parts)}")
            return f"CAST(date_part('{parts[e.key]}', {sql}) AS BIGINT)", "int"
        if t == "duration":
            # Neo4j's totals per group: months (with years), days, seconds (with hours, minutes)
            y, mo = f"date_part('year', {sql})", f"date_part('month', {sql})"
            h, mi, se = f"date_part('hour', {sql})", f"date_part('minute', {sql})", f"date_part('second', {sql})"
            parts = {"years": y, "months": f"({y} * 12 + {mo})", "days": f"date_part('day', {sql})",
                     "hours": h, "minutes": f"({h} * 60 + {mi})", "seconds": f"(({h} * 60 + {mi}) * 60 + {se})"}
            if e.key not in parts:
                raise _err(e, f"a duration has no field {e.key!r}{did_you_mean(e.key, parts)}")
            return f"CAST({parts[e.key]} AS BIGINT)", "int"
        if t in ("map", "any"):
            return f"({sql})[{self.bind_value(e.key)}]", "any"
        if t == "null":
            return "NULL", "null"
        raise _err(e, f"a {_kind(t)} has no property {e.key!r}")

    def x_HasLabels(self, e, sc, agg_ok):
        for lab in e.labels:
            if lab not in self.schema.labels:
                raise _err(e, f"unknown label {lab!r}{did_you_mean(lab, self.schema.labels)}")
        if not (isinstance(e.subject, ir.Var) and e.subject.name in sc.vars
                and sc.vars[e.subject.name].type == "node"):
            raise _err(e, "a label test needs a node variable, e.g. WHERE p:Official")
        v = sc.vars[e.subject.name]
        a = self.node_alias(v, sc, nullable=v.nullable)
        return "(" + " AND ".join(f"list_contains({a}.labels, {_lit_str(lab)})" for lab in e.labels) + ")", "bool"

    def x_Index(self, e, sc, agg_ok):
        s, t = self.expr(e.subject, sc, agg_ok=agg_ok)
        i, it = self.expr(e.index, sc, agg_ok=agg_ok)
        if t == "path" or t in ("node", "rel"):
            raise _err(e, f"cannot index a {_kind(t)}")
        if it == "str" or t == "map":
            return f"({s})[{i}]", "any"
        if it not in ("int", "any", "null"):
            raise _err(e.index, f"a list index must be an integer, not a {_kind(it)}")
        et = "rel" if t == "rels" else _elem(t)
        return f"list_extract({s}, CASE WHEN {i} >= 0 THEN {i} + 1 ELSE {i} END)", et

    def x_Slice(self, e, sc, agg_ok):
        s, t = self.expr(e.subject, sc, agg_ok=agg_ok)
        if not (t.startswith("list:") or t in ("any", "rels", "null")):
            raise _err(e, f"cannot slice a {_kind(t)}")
        n = f"len({s})"
        lo = self.expr(e.start, sc)[0] if e.start is not None else "0"
        hi = self.expr(e.stop, sc)[0] if e.stop is not None else n
        lo1 = f"(CASE WHEN {lo} < 0 THEN greatest({n} + {lo}, 0) ELSE {lo} END)"
        hi1 = f"(CASE WHEN {hi} < 0 THEN {n} + {hi} ELSE {hi} END)"
        out_t = "list:rel" if t == "rels" else t
        return f"list_slice({s}, {lo1} + 1, {hi1})", out_t

    def x_Unary(self, e, sc, agg_ok):
        s, t = self.expr(e.operand, sc, agg_ok=agg_ok)
        if e.op == "NOT":
            if t not in ("bool", "any", "null"):
                raise _err(e, f"NOT needs a true/false value, not a {_kind(t)}")
            return f"(NOT {s})", "bool"
        if t not in NUMERIC + ("any", "null"):
            raise _err(e, f"cannot negate a {_kind(t)}")
        return f"(- {s})", t

    def x_IsNull(self, e, sc, agg_ok):
        s, t = self.expr(e.operand, sc, agg_ok=agg_ok)
        return f"({s} IS {'NOT ' if e.negated else ''}NULL)", "bool"

    def x_Binary(self, e, sc, agg_ok):
        op = e.op
        left = self.expr(e.left, sc, agg_ok=agg_ok)
        right = self.expr(e.right, sc, agg_ok=agg_ok)
        (ls, lt), (rs, rt) = left, right
        if op in ("AND", "OR", "XOR"):
            for side, t in ((e.left, lt), (e.right, rt)):
                if t not in ("bool", "any", "null"):
                    raise _err(side, f"{op} needs true/false values, not a {_kind(t)}")
            if op == "XOR":
                return f"(({ls}) <> ({rs}))", "bool"
            return f"({ls} {op} {rs})", "bool"
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return self.compare(op, left, right), "bool"
        if op == "IN":
            return self.in_list(e, left, right), "bool"
        if op in ("STARTS", "ENDS", "CONTAINS", "=~"):
            if not _compatible(lt, "str") or not _compatible(rt, "str"):
                return "CAST(NULL AS BOOLEAN)", "bool"
            fn = {"STARTS": "starts_with", "ENDS": "ends_with", "CONTAINS": "contains",
                  "=~": "regexp_full_match"}[op]
            return f"{fn}({ls}, {rs})", "bool"
        return self.arith(e, op, left, right)

    def compare(self, op: str, left, right) -> str:
        (ls, lt), (rs, rt) = left, right
        if "null" in (lt, rt):
            return "CAST(NULL AS BOOLEAN)"
        if lt in ENTITY or rt in ENTITY:
            if lt != rt and "any" not in (lt, rt):
                return "CAST(NULL AS BOOLEAN)" if op not in ("=", "<>") else \
                    f"(CASE WHEN {ls} IS NULL OR {rs} IS NULL THEN NULL ELSE {'false' if op == '=' else 'true'} END)"
            if op not in ("=", "<>"):
                return "CAST(NULL AS BOOLEAN)"
        elif not _compatible(lt, rt):
            if op in ("=", "<>"):
                return f"(CASE WHEN {ls} IS NULL OR {rs} IS NULL THEN NULL ELSE {'false' if op == '=' else 'true'} END)"
            return "CAST(NULL AS BOOLEAN)"
        return f"({ls} {op} {rs})"

    def in_list(self, e, left, right) -> str:
        (ls, lt), (rs, rt) = left, right
        if isinstance(e.right, ir.ListLit):
            if not e.right.items:
                return "false"
            if not any(_refs_vars(i) for i in e.right.items):
                items = [self.expr(i, Scope()) for i in e.right.items]
                if all(_compatible(lt, t) for _, t in items):
                    return f"({ls} IN ({', '.join(s for s, _ in items)}))"
        if not (rt.startswith("list:") or rt in ("any", "null", "rels")):
            raise _err(e.right, f"IN needs a list on the right, not a {_kind(rt)}")
        return (f"(CASE WHEN {rs} IS NULL THEN NULL WHEN len({rs}) = 0 THEN false WHEN {ls} IS NULL THEN NULL "
                f"WHEN list_contains({rs}, {ls}) THEN true WHEN list_count({rs}) < len({rs}) THEN NULL "
                f"ELSE false END)")

    def arith(self, e, op, left, right):
        (ls, lt), (rs, rt) = left, right
        if "null" in (lt, rt):
            return "NULL", "null"
        if op == "+":
            if lt.startswith("list:") or rt.startswith("list:") or "rels" in (lt, rt):
                if (lt.startswith("list:") or lt == "rels") and (rt.startswith("list:") or rt == "rels"):
                    return f"({ls} || {rs})", lt if lt != "rels" else "list:rel"
                if lt.startswith("list:"):
                    return f"list_append({ls}, {rs})", lt
                return f"list_prepend({ls}, {rs})", rt
            if lt == "str" or rt == "str":
                return f"({_to_str(ls, lt)} || {_to_str(rs, rt)})", "str"
            if lt in ("date", "datetime") and rt in ("duration", "any"):
                return (f"CAST({ls} + {rs} AS DATE)" if lt == "date" else f"({ls} + {rs})"), lt
            if rt in ("date", "datetime") and lt in ("duration", "any"):
                return (f"CAST({rs} + {ls} AS DATE)" if rt == "date" else f"({ls} + {rs})"), rt
        if op == "-" and lt in ("date", "datetime"):
            if rt not in ("duration", "any"):
                raise _err(e, "subtract a duration from a date; for the days between two dates use "
                              "duration.inDays(a, b).days")
            return (f"CAST({ls} - {rs} AS DATE)" if lt == "date" else f"({ls} - {rs})"), lt
        for side, t in ((e.left, lt), (e.right, rt)):
            if t not in NUMERIC + ("any",):
                raise _err(side, f"'{op}' needs numbers, not a {_kind(t)}")
        out = "float" if "float" in (lt, rt) else ("int" if lt == rt == "int" else "any")
        if op == "/":
            if out == "int":
                return f"({ls} // {rs})", "int"
            return f"(CAST({ls} AS DOUBLE) / {rs})", "float" if out != "any" else "any"
        if op == "^":
            return f"pow({ls}, {rs})", "float"
        if op == "%":
            return f"({ls} % {rs})", out
        return f"({ls} {op} {rs})", out

    def x_CountStar(self, e, sc, agg_ok):
        if not agg_ok:
            raise _err(e, "count(*) is an aggregate: use it in WITH or RETURN")
        if getattr(self, "_in_agg", False):
            raise _err(e, "aggregates cannot be nested")
        self._agg_seen = True
        return "count(*)", "int"

    def x_ListLit(self, e, sc, agg_ok):
        if not e.items:
            return "[]", "list:any"
        parts = [self.expr(i, sc, agg_ok=agg_ok) for i in e.items]
        types = {t for _, t in parts if t != "null"}
        et = types.pop() if len(types) == 1 else "any"
        if len({t for _, t in parts if t != "null"}) > 1 and not {t for _, t in parts} <= {"int", "float", "null"}:
            raise _err(e, "lists mixing value types are not supported (DuckDB lists hold one type)")
        return "[" + ", ".join(s for s, _ in parts) + "]", f"list:{et}"

    def x_MapLit(self, e, sc, agg_ok):
        if not e.items:
            raise _err(e, "an empty map is not supported here")
        parts = [f"{q(k)} := {self.expr(v, sc, agg_ok=agg_ok)[0]}" for k, v in e.items.items()]
        return f"struct_pack({', '.join(parts)})", "map"

    def x_ListComp(self, e, sc, agg_ok):
        src, t = self.expr(e.source, sc, agg_ok=agg_ok)
        if not (t.startswith("list:") or t in ("any", "rels", "null")):
            raise _err(e.source, f"a list comprehension needs a list, not a {_kind(t)}")
        lv = self.fresh("_lv")
        inner = Scope(froms=[], conds=[], vars=dict(sc.vars), sub=True)
        et = "rel" if t == "rels" else _elem(t)
        inner.vars[e.var] = Var(e.var, et, lv)
        out, ot = src, t
        if e.where is not None:
            w = self.bool_expr(e.where, inner)
            out = f"list_filter({out}, lambda {lv}: {w})"
        if e.projection is not None:
            p, pt = self.expr(e.projection, inner)
            out = f"list_transform({out}, lambda {lv}: {p})"
            ot = f"list:{pt}"
        if inner.froms:
            raise _err(e, "inside a list comprehension, properties and labels of nodes or relationships "
                          "are not available; UNWIND the list and MATCH instead")
        return out, ot

    def x_Case(self, e, sc, agg_ok):
        parts, types = [], set()
        subj = self.expr(e.subject, sc, agg_ok=agg_ok) if e.subject is not None else None
        for cond, val in e.whens:
            if subj is not None:
                c = self.compare("=", subj, self.expr(cond, sc, agg_ok=agg_ok))
            else:
                c = self.bool_expr(cond, sc) if not agg_ok else self.expr(cond, sc, agg_ok=True)[0]
            v, vt = self.expr(val, sc, agg_ok=agg_ok)
            types.add(vt)
            parts.append(f"WHEN {c} THEN {v}")
        if e.default is not None:
            d, dt = self.expr(e.default, sc, agg_ok=agg_ok)
            types.add(dt)
            parts.append(f"ELSE {d}")
        types.discard("null")
        t = types.pop() if len(types) == 1 else ("float" if types <= {"int", "float"} and types else "any")
        return "(CASE " + " ".join(parts) + " END)", t

    def x_PatternPred(self, e, sc, agg_ok):
        sub = sc.copy_for_sub()
        sub.vars = {k: Var(v.name, v.type, v.sql, v.node_alias, v.rel_alias, v.nullable) for k, v in sc.vars.items()}
        self.add_paths(e.paths, sub, where=e.where, bind=False)
        return "EXISTS (SELECT 1" + sub.from_sql() + sub.where_sql() + ")", "bool"

    def x_Func(self, e, sc, agg_ok):
        name = e.name
        if name in AGGREGATES:
            return self.aggregate(e, sc, agg_ok)
        if e.distinct:
            raise _err(e, f"DISTINCT is only for aggregates, not {name}()")
        if name in REFUSED_FUNCTIONS:
            raise _err(e, REFUSED_FUNCTIONS[name])
        fn = getattr(self, "f_" + name.replace(".", "_"), None)
        if fn is None:
            raise _err(e, f"unknown or unsupported function {name}(){did_you_mean(name, FUNCTIONS)}")
        return fn(e, sc, agg_ok)

    def args(self, e, sc, agg_ok, n: int | tuple) -> list[tuple[str, str]]:
        ns = n if isinstance(n, tuple) else (n,)
        if len(e.args) not in ns:
            want = " or ".join(str(x) for x in ns)
            raise _err(e, f"{e.name}() takes {want} argument{'s' if ns != (1,) else ''}, got {len(e.args)}")
        return [self.expr(a, sc, agg_ok=agg_ok) for a in e.args]

    def aggregate(self, e, sc, agg_ok):
        if not agg_ok:
            raise _err(e, f"{e.name}() is an aggregate: use it in WITH or RETURN, not here")
        if getattr(self, "_in_agg", False):
            raise _err(e, "aggregates cannot be nested")
        self._in_agg = True
        try:
            (a, t), = self.args(e, sc, agg_ok, 1)
        finally:
            self._in_agg = False
        self._agg_seen = True
        d = "DISTINCT " if e.distinct else ""
        n = e.name
        if n == "count":
            return f"count({d}{a})", "int"
        if n == "collect":
            order = f" ORDER BY {sc.order_col}" if sc.order_col and not e.distinct else ""
            et = "rel" if t == "rels" else t
            lt = "list:list:rel" if t == "rels" else f"list:{et}"
            return f"coalesce(list({d}{a}{order}) FILTER (WHERE {a} IS NOT NULL), [])", lt
        if n in ("sum", "avg", "stdev", "stdevp"):
            if t not in NUMERIC + ("any", "null"):
                raise _err(e, f"{n}() needs numbers, not a {_kind(t)}")
            if n == "sum":
                return (f"coalesce(CAST(sum({d}{a}) AS BIGINT), 0)" if t == "int"
                        else f"coalesce(sum({d}{a}), 0)"), t if t != "null" else "int"
            fn = {"avg": "avg", "stdev": "stddev_samp", "stdevp": "stddev_pop"}[n]
            return f"{fn}({d}{a})", "float"
        if t in ENTITY:
            raise _err(e, f"{n}() of a {_kind(t)} is not supported; use one of its properties")
        return f"{n}({d}{a})", t

    # -- scalar functions --------------------------------------------------------
    def f_id(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t not in ("node", "rel", "any", "null"):
            raise _err(e, f"id() needs a node or relationship, not a {_kind(t)}")
        return a, "int"

    def f_elementid(self, e, sc, agg_ok):
        a, _ = self.f_id(e, sc, agg_ok)
        return f"CAST({a} AS VARCHAR)", "str"

    def _entity_var(self, e, sc, kind):
        if len(e.args) != 1 or not isinstance(e.args[0], ir.Var) or e.args[0].name not in sc.vars \
                or sc.vars[e.args[0].name].type != kind:
            raise _err(e, f"{e.name}() needs a {_kind(kind)} variable")
        return sc.vars[e.args[0].name]

    def f_labels(self, e, sc, agg_ok):
        v = self._entity_var(e, sc, "node")
        return f"list_sort({self.node_alias(v, sc, nullable=v.nullable)}.labels)", "list:str"

    def f_type(self, e, sc, agg_ok):
        v = self._entity_var(e, sc, "rel")
        return f"{self.rel_alias(v, sc)}.type", "str"

    def f_startnode(self, e, sc, agg_ok):
        v = self._entity_var(e, sc, "rel")
        return f"{self.rel_alias(v, sc)}.src", "node"

    def f_endnode(self, e, sc, agg_ok):
        v = self._entity_var(e, sc, "rel")
        return f"{self.rel_alias(v, sc)}.dst", "node"

    def _path_arg(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t not in ("path", "null"):
            raise _err(e, f"{e.name}() needs a path, not a {_kind(t)}")
        return a

    def f_nodes(self, e, sc, agg_ok):
        return f"({self._path_arg(e, sc, agg_ok)}).nodes", "list:node"

    def f_relationships(self, e, sc, agg_ok):
        return f"({self._path_arg(e, sc, agg_ok)}).rels", "list:rel"


    def f_length(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t == "path":
            return f"len(({a}).rels)", "int"
        if t == "str":
            return f"length({a})", "int"
        raise _err(e, "length() takes a path; use size() for lists and strings")

    def f_size(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t == "str":
            return f"length({a})", "int"
        if t.startswith("list:") or t in ("rels", "any", "null"):
            return f"len({a})", "int"
        raise _err(e, f"size() takes a list or a string, not a {_kind(t)}")

    def f_coalesce(self, e, sc, agg_ok):
        if not e.args:
            raise _err(e, "coalesce() needs at least one argument")
        parts = [self.expr(a, sc, agg_ok=agg_ok) for a in e.args]
        types = {t for _, t in parts if t != "null"}
        t = types.pop() if len(types) == 1 else ("float" if types and types <= {"int", "float"} else "any")
        if len({tt for _, tt in parts if tt != "null"}) > 1 and not {tt for _, tt in parts} <= {"int", "float", "null"}:
            raise _err(e, "coalesce() of different value types is not supported")
        return f"coalesce({', '.join(s for s, _ in parts)})", t

    def _str1(self, e, sc, agg_ok, fn):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if not _compatible(t, "str"):
            raise _err(e, f"{e.name}() needs a string, not a {_kind(t)}")
        return f"{fn}({a})", "str"

    def f_tolower(self, e, sc, agg_ok):
        return self._str1(e, sc, agg_ok, "lower")

    def f_toupper(self, e, sc, agg_ok):
        return self._str1(e, sc, agg_ok, "upper")

    f_lower, f_upper = f_tolower, f_toupper

    def _trim(self, e, sc, agg_ok, fn):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if not _compatible(t, "str"):
            raise _err(e, f"{e.name}() needs a string, not a {_kind(t)}")
        return f"{fn}({a}, CAST({self.bind_value(' ' + chr(9) + chr(10) + chr(13))} AS VARCHAR))", "str"

    def f_trim(self, e, sc, agg_ok):
        return self._trim(e, sc, agg_ok, "trim")

    def f_ltrim(self, e, sc, agg_ok):
        return self._trim(e, sc, agg_ok, "ltrim")

    def f_rtrim(self, e, sc, agg_ok):
        return self._trim(e, sc, agg_ok, "rtrim")

    def f_reverse(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t.startswith("list:") or t == "rels":
            return f"list_reverse({a})", t
        return f"reverse({a})", "str"

    def f_replace(self, e, sc, agg_ok):
        (a, _), (b, _), (c, _) = self.args(e, sc, agg_ok, 3)
        return f"replace({a}, {b}, {c})", "str"

    def f_substring(self, e, sc, agg_ok):
        args = self.args(e, sc, agg_ok, (2, 3))
        self._ints(e, args, 1)
        if len(args) == 2:
            return f"substring({args[0][0]}, {args[1][0]} + 1)", "str"
        return f"substring({args[0][0]}, {args[1][0]} + 1, {args[2][0]})", "str"

    def f_left(self, e, sc, agg_ok):
        args = self.args(e, sc, agg_ok, 2)
        self._ints(e, args, 1)
        (a, _), (n, _) = args
        return f"left({a}, {n})", "str"

    def f_right(self, e, sc, agg_ok):
        args = self.args(e, sc, agg_ok, 2)
        self._ints(e, args, 1)
        (a, _), (n, _) = args
        return f"right({a}, {n})", "str"

    def f_split(self, e, sc, agg_ok):
        (a, _), (b, _) = self.args(e, sc, agg_ok, 2)
        return f"string_split({a}, {b})", "list:str"

    def f_tostring(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t in ENTITY or t.startswith("list:"):
            raise _err(e, f"toString() of a {_kind(t)} is not supported")
        return _to_str(a, t), "str"

    def f_tointeger(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t == "int":
            return a, "int"
        if t == "float":
            return f"CAST(trunc({a}) AS BIGINT)", "int"
        if t == "bool":
            return f"CAST({a} AS BIGINT)", "int"
        # exact for long digit strings (18-digit IDs lose digits through DOUBLE)
        return f"coalesce(TRY_CAST({a} AS BIGINT), TRY_CAST(trunc(TRY_CAST({a} AS DOUBLE)) AS BIGINT))", "int"

    def f_tofloat(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        return f"TRY_CAST({a} AS DOUBLE)", "float"

    def f_toboolean(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t == "bool":
            return a, "bool"
        return (f"(CASE lower(CAST({a} AS VARCHAR)) WHEN 'true' THEN true WHEN 'false' THEN false END)"), "bool"

    def _num1(self, e, sc, agg_ok, fn, out=None):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t not in NUMERIC + ("any", "null"):
            raise _err(e, f"{e.name}() needs a number, not a {_kind(t)}")
        return f"{fn}({a})", out or t

    def f_abs(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "abs")

    def f_round(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "round", "float")

    def f_floor(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "floor", "float")

    def f_ceil(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "ceil", "float")

    def f_sqrt(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "sqrt", "float")

    def f_sign(self, e, sc, agg_ok):
        return self._num1(e, sc, agg_ok, "sign", "int")

    def f_head(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        return f"list_extract({a}, 1)", "rel" if t == "rels" else _elem(t)

    def f_last(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        return f"list_extract({a}, -1)", "rel" if t == "rels" else _elem(t)

    def f_tail(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        return f"list_slice({a}, 2, len({a}))", "list:rel" if t == "rels" else t

    def _ints(self, e, args, first: int = 0):
        for a, (_s, t) in list(zip(e.args, args))[first:]:
            if t not in ("int", "any", "null"):
                raise _err(a, f"{e.name}() needs integer arguments, not a {_kind(t)}")

    def f_range(self, e, sc, agg_ok):
        args = self.args(e, sc, agg_ok, (2, 3))
        self._ints(e, args)
        step = args[2][0] if len(args) == 3 else "1"
        return f"generate_series({args[0][0]}, {args[1][0]}, {step})", "list:int"

    def f_exists(self, e, sc, agg_ok):
        (a, t), = self.args(e, sc, agg_ok, 1)
        if isinstance(e.args[0], ir.PatternPred):
            return a, "bool"
        return f"({a} IS NOT NULL)", "bool"

    def f_date(self, e, sc, agg_ok):
        if not e.args:
            return "current_date", "date"
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t == "map":
            m = e.args[0].items
            if set(m) - {"year", "month", "day"} or "year" not in m:
                raise _err(e, "date({…}) takes year, month, day")
            y, mo, d = (self.expr(m.get(k, ir.Literal(1)), sc)[0] for k in ("year", "month", "day"))
            return f"make_date(CAST({y} AS BIGINT), CAST({mo} AS BIGINT), CAST({d} AS BIGINT))", "date"
        if t in ("date", "datetime", "str", "any", "null"):
            if t == "str" and isinstance(e.args[0], ir.Literal):
                _check_iso(e.args[0], "date")
            return f"CAST({a} AS DATE)", "date"
        raise _err(e, f"date() takes a string, a map or a datetime, not a {_kind(t)}")

    def f_localdatetime(self, e, sc, agg_ok):
        if not e.args:
            return "CAST(current_timestamp AS TIMESTAMP)", "datetime"
        (a, t), = self.args(e, sc, agg_ok, 1)
        if t in ("date", "datetime", "str", "any", "null"):
            return f"CAST({a} AS TIMESTAMP)", "datetime"
        raise _err(e, f"localdatetime() takes a string or a date, not a {_kind(t)}")

    def f_duration(self, e, sc, agg_ok):
        if len(e.args) != 1:
            raise _err(e, "duration() takes one argument: a map such as {days: 90} or an ISO string 'P90D'")
        arg = e.args[0]
        if isinstance(arg, ir.Literal) and isinstance(arg.value, str):
            arg = ir.MapLit({k: ir.Literal(v) for k, v in _iso_duration(arg).items()},
                            line=arg.line, column=arg.column)
        if not isinstance(arg, ir.MapLit):
            raise _err(e, "duration() takes a map such as {days: 90} or an ISO string 'P90D'")
        fns = {"years": "to_years", "months": "to_months", "weeks": "to_weeks", "days": "to_days",
               "hours": "to_hours", "minutes": "to_minutes", "seconds": "to_seconds"}
        parts = []
        for k, v in arg.items.items():
            if k not in fns:
                raise _err(arg, f"duration field {k!r} is not supported{did_you_mean(k, fns)}")
            s, t = self.expr(v, sc)
            cast = "DOUBLE" if k == "seconds" else "INTEGER"
            parts.append(f"{fns[k]}(CAST({s} AS {cast}))")
        return "(" + " + ".join(parts) + ")" if parts else "INTERVAL 0 DAY", "duration"

    def f_duration_indays(self, e, sc, agg_ok):
        (a, at), (b, bt) = self.args(e, sc, agg_ok, 2)
        if "datetime" in (at, bt):
            # whole days between two instants, truncated toward zero as Neo4j does
            return (f"to_days(CAST(trunc((epoch(CAST({b} AS TIMESTAMP)) - epoch(CAST({a} AS TIMESTAMP))) / 86400) "
                    f"AS INTEGER))"), "duration"
        return f"to_days(CAST(date_diff('day', CAST({a} AS DATE), CAST({b} AS DATE)) AS INTEGER))", "duration"


FUNCTIONS = sorted({n[2:].replace("_", ".") for n in dir(_Compiler) if n.startswith("f_")} | AGGREGATES)


def connected_part(sc: Scope, sql: str) -> Scope:
    """The part of a scope joined to the item that ``sql`` reads from: a traversal's start
    set must not include pattern parts only the traversal itself connects (that would be a
    cross product)."""
    froms, conds = connected_part_items(sc.froms, sc.conds, sql)
    return Scope(froms=froms, conds=conds, vars=sc.vars, sub=sc.sub)


def _conjuncts(e):
    if e is None:
        return []
    if isinstance(e, ir.Binary) and e.op == "AND":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _has_pattern(e) -> bool:
    return any(isinstance(x, ir.PatternPred) for x in ir.walk(e)) or \
        any(isinstance(x, ir.Func) and any(isinstance(a, ir.PatternPred) for a in x.args) for x in ir.walk(e))


def _refs_vars(e) -> bool:
    return any(isinstance(x, (ir.Var, ir.PatternPred, ir.CountStar)) or
               (isinstance(x, ir.Func) and x.name in AGGREGATES) for x in ir.walk(e))


def _compatible(a: str, b: str) -> bool:
    if "any" in (a, b) or "null" in (a, b) or a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    if a.startswith("list:") and b.startswith("list:"):
        return _compatible(_elem(a), _elem(b))
    return {a, b} <= {"date", "datetime"}


def _to_str(sql: str, t: str) -> str:
    if t == "str":
        return sql
    if t == "bool":
        return f"(CASE WHEN {sql} THEN 'true' WHEN NOT {sql} THEN 'false' END)"
    if t == "float":
        return f"CAST({sql} AS VARCHAR)"
    return f"CAST({sql} AS VARCHAR)"


def _py_type(v) -> str:
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
    if isinstance(v, _dt.datetime):
        return "datetime"
    if isinstance(v, _dt.date):
        return "date"
    if isinstance(v, (list, tuple)):
        inner = {_py_type(x) for x in v if x is not None}
        return f"list:{inner.pop()}" if len(inner) == 1 else "list:any"
    return "any"


def _kind(t: str) -> str:
    return {"node": "node", "rel": "relationship", "rels": "relationship list", "path": "path",
            "str": "string", "int": "integer", "float": "float", "bool": "boolean", "date": "date",
            "datetime": "datetime", "duration": "duration", "map": "map", "null": "null",
            "any": "value"}.get(t, t.replace("list:", "list of "))


def _check_iso(lit: ir.Literal, what: str) -> None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", lit.value):
        raise _err(lit, f"{what}({lit.value!r}): write the date as YYYY-MM-DD")
    try:
        _dt.date.fromisoformat(lit.value)
    except ValueError:
        raise _err(lit, f"{what}({lit.value!r}) is not a real date") from None


def _iso_duration(lit: ir.Literal) -> dict:
    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?",
                     lit.value)
    if not m or lit.value in ("P", "PT"):
        raise _err(lit, f"duration({lit.value!r}) is not an ISO 8601 duration such as 'P90D' or 'PT2H'")
    keys = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
    return {k: (float(v) if k == "seconds" else int(v)) for k, v in zip(keys, m.groups()) if v is not None}
