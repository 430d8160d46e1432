"""MATCH patterns as joins: nodes, fixed-length relationships, relationship uniqueness,
path values; OPTIONAL MATCH (pattern predicates: :mod:`.predicates`).

A fixed relationship is a ``rel`` row joined on its ends (an undirected one reads both
orientations of ``rel``: a self-loop once). Nodes are ids: a node's ``node`` row is joined
only for labels and properties. Within one MATCH no relationship is used twice (Cypher's
relationship uniqueness): every pair of relationship items whose types may overlap gets a
``<>`` condition (``list_contains`` for the lists of variable-length hops).
Variable-length and shortest-path relationships are added after the fixed joins
(:mod:`.varlength`, :mod:`.shortest`), once WHERE conditions that do not need them have
filtered their start set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store import q as quote_identifier
from . import ir, pairs, shortest, varlength
from .checker import conjuncts, fold_flags, has_pattern
from .scope import NodeRef, Scope, Var, connected_part, sql_string
from .planner import single_item_rows

if TYPE_CHECKING:
    from .compiler import Compilation

Types = frozenset | None          # relationship types a pattern allows (None: any)


def match(cx: Compilation, m: ir.Match, sc: Scope) -> Scope:
    add_paths(cx, m.paths, sc, where=m.where, bind=cx.opt.bindings is not None)
    return sc


def optional_match(cx: Compilation, m: ir.Match, sc: Scope) -> Scope:
    """A ``LEFT JOIN LATERAL`` of the pattern onto the rows so far."""
    prev = cx.scope_to_cte(sc) if (sc.froms or sc.vars) else sc
    if not prev.froms:
        prev.add("(SELECT 1 AS _one) AS _unit", kind="cte")
    if keyed_optional_match(cx, m, prev):
        return prev
    sub = prev.subquery()
    add_paths(cx, m.paths, sub, where=m.where, bind=cx.opt.bindings is not None)
    new_vars = [v for k, v in sub.vars.items() if k not in prev.vars]
    a = cx.fresh("o")
    cols = [f"{v.sql} AS {_column(v)}" for v in new_vars]
    cols += [f"{b[0]} AS _b{i}" for i, b in enumerate(sub.binds)]
    if not cols:
        cols = ["1 AS _one"]
    subsql = "SELECT " + ", ".join(cols) + sub.from_sql() + sub.where_sql()
    prev.add_left(f"LATERAL ({subsql}) AS {a}", "true")
    for v in new_vars:
        prev.vars[v.name] = Var(v.name, v.type, f"{a}.{_column(v)}", nullable=True)
    prev.binds += [(f"{a}._b{i}", b[1], b[2]) for i, b in enumerate(sub.binds)]
    return prev


def keyed_optional_match(cx: Compilation, m: ir.Match, prev: Scope) -> bool:
    """An OPTIONAL MATCH as a planned join from the distinct ids it reads from the row, left
    joined to the rows on them; False (nothing done) when it does not apply.

    As a ``LEFT JOIN LATERAL`` DuckDB decorrelates the subquery by joining its pattern for
    every node first: ``OPTIONAL MATCH (b)-[:OF_PROGRAMME]->(g:Programme)`` after a thousand
    subsidies of cadre_subsidy joined all 9 M benefits of a 5 M-person county to their
    programme. Here the distinct ids (``ex`` CTE) start a join the planner orders like any
    MATCH (as :func:`.predicates._semi_join` does for a pattern predicate), and its rows (``opt``, one per
    match, with the ids) are left joined on the ids: each row gets the matches of its own
    nodes, or one row of nulls. Only when every variable the clause reads from the row is a
    node or relationship that cannot be NULL (an id equal to itself), outside subqueries, with
    statistics, and for fixed-length patterns."""
    if prev.sub or not (cx.opt.plan_joins and cx.opt.stats is not None) or not KEYED_OPTIONAL:
        return False
    if any(path.kind != "plain" or any(rp.var_length for rp in path.rels) for path in m.paths):
        return False          # (a walk inside would start from every row's ids: related_bidders 1.2x slower)
    names = _pattern_names(ir.PatternPred(m.paths, m.where))
    keys = [prev.vars[n] for n in sorted(names) if n in prev.vars]
    if not keys or any(v.type not in ("node", "rel") or v.nullable for v in keys):
        return False
    start = cx.fresh("ex")
    part = connected_part(prev, " ".join(v.sql for v in keys))
    cx.add_cte(start, cx.render(part, [f"{v.sql} AS k{i}" for i, v in enumerate(keys)], distinct=True),
               materialized=True)
    est = cx.last_estimate
    if est is None:
        est = single_item_rows(part.froms, part.conds, cx.opt.stats, cx.estimates)
    if est is not None:
        cx.estimates[start] = est
    hop = pairs.pair_hop(cx, m, keys, cx.estimates.get(start))    # a hop between two ids: the index
    base = pairs.expand(cx, start, hop) if hop else start
    inner = Scope()
    inner.add(base, kind="cte")
    for i, v in enumerate(keys):
        inner.vars[v.name] = Var(v.name, v.type, f"{base}.k{i}")
    add_paths(cx, m.paths, inner, where=m.where, bind=cx.opt.bindings is not None,
              pair=(hop, base) if hop else None)
    new_vars = [v for k, v in inner.vars.items() if k not in prev.vars]
    cols = [f"{base}.k{i} AS k{i}" for i in range(len(keys))]
    cols += [f"{v.sql} AS {_column(v)}" for v in new_vars]
    cols += [f"{b[0]} AS _b{i}" for i, b in enumerate(inner.binds)]
    # a relationship keeps its type and ends beside it (type(k), startNode(k) after the clause
    # read them there, not from a rel row joined again on the id), unless a later clause reads
    # a property of it (the keyed rows do not have those: it joins the row); one relationship
    row = [v for v in new_vars if v.type == "rel" and v.rel_alias and not cx.props_read.get(v.name)
           and _row_function_of(cx, v.name)][:KEYED_REL_ROW]
    cols += [f"{row[0].rel_alias}.{c} AS {c}" for c in ("type", "src", "dst")] if row else []
    row = [v.name for v in row]
    found = cx.fresh("opt")
    cx.add_cte(found, cx.render(inner, cols), materialized=True)
    a = cx.fresh("o")
    prev.add_left(f"{found} AS {a}", " AND ".join(f"{a}.k{i} = {v.sql}" for i, v in enumerate(keys)))
    for v in new_vars:
        prev.vars[v.name] = Var(v.name, v.type, f"{a}.{_column(v)}", nullable=True,
                                rel_alias=a if v.name in row else None)
    prev.binds += [(f"{a}._b{i}", b[1], b[2]) for i, b in enumerate(inner.binds)]
    return True


#: OPTIONAL MATCH as a keyed left join (:func:`keyed_optional_match`); False: always the
#: lateral subquery (for comparisons)
KEYED_OPTIONAL = True
#: how many relationships of a keyed OPTIONAL MATCH keep their type and ends (1; 0: none, for
#: comparisons)
KEYED_REL_ROW = 1


def _row_function_of(cx: Compilation, name: str) -> bool:
    """Whether the query calls type(), startNode() or endNode() of a variable ``name``."""
    import dataclasses

    def visit(x) -> bool:
        if isinstance(x, ir.Func) and x.name in ("type", "startnode", "endnode") and x.args \
                and isinstance(x.args[0], ir.Var) and x.args[0].name == name:
            return True
        if isinstance(x, ir.Node):
            return any(visit(getattr(x, f.name)) for f in dataclasses.fields(x) if f.compare)
        if isinstance(x, (list, tuple)):
            return any(visit(y) for y in x)
        if isinstance(x, dict):
            return any(visit(y) for y in x.values())
        return False

    return visit(cx.checked.query)


def _pattern_names(e: ir.PatternPred) -> set[str]:
    """Every variable name a pattern predicate mentions (its own and the row's)."""
    names: set[str] = set()

    def expr(x) -> None:
        for sub in ir.walk(x):
            if isinstance(sub, ir.Var):
                names.add(sub.name)
            elif isinstance(sub, ir.PatternPred):
                pred(sub)

    def pred(p: ir.PatternPred) -> None:
        for path in p.paths:
            names.update(x.var for x in [path, *path.nodes, *path.rels] if x.var)
            for x in [*path.nodes, *path.rels]:
                for v in x.props.values():
                    expr(v)
        expr(p.where)

    pred(e)
    return names


def _column(v: Var) -> str:
    return quote_identifier("v_" + v.name)


def add_paths(cx: Compilation, paths: list[ir.PathPattern], sc: Scope, *, where: ir.Expr | None,
              bind: bool, pair: tuple | None = None) -> None:
    """Add the patterns of one MATCH (or one pattern predicate) to the scope; ``pair``: (a
    hop of :func:`.pairs.pair_hop`, the CTE that lists its relationships)."""
    local: dict[str, NodeRef] = {}
    rels_seen: list[tuple[Types, str, bool]] = []     # for relationship uniqueness
    deferred = []      # variable-length and shortest-path elements, after the fixed joins
    path_parts = []    # (path pattern, node refs, rel sqls)
    # the WHERE with its flags decided (a conjunct that cannot hold: no rows)
    kept, never = [], False
    for conj in conjuncts(where):
        folded = fold_flags(conj, cx.user_params)
        if folded is False:
            never = True
        elif folded is not True:
            kept += conjuncts(folded)
    same_as = varlength.closed_ends(paths, kept, sc)
    for path in paths:
        refs = [node_ref(cx, np, sc, local, same_as.get(id(np))) for np in path.nodes]
        rel_sql: list = [None] * len(path.rels)
        for i, rp in enumerate(path.rels):
            if path.kind != "plain" or rp.var_length:
                deferred.append((path, i, rp, refs[i], refs[i + 1], rel_sql))
            elif pair is not None and rp is pair[0][0]:
                rel_sql[i] = pairs.pair_rel(cx, pair[0], refs[i], refs[i + 1], sc, rels_seen, bind, pair[1])
            else:
                rel_sql[i] = fixed_rel(cx, rp, refs[i], refs[i + 1], sc, rels_seen, bind)
        path_parts.append((path, refs, rel_sql))
    # every node needs an id: ones only next to deferred elements read the node table
    for ref in local.values():
        if ref.sql is None:
            cx.node_row(ref, sc)
    for ref in local.values():
        if ref.new and not ref.hidden:
            sc.vars[ref.name] = Var(ref.name, "node", ref.sql, node_alias=ref.alias,
                                    labels=tuple(ref.pattern.labels) or ref.labels)
    # WHERE conjuncts that do not need the deferred elements filter before they expand
    late_names = {rp.var for _, _, rp, _, _, _ in deferred if rp.var} | {p.var for p in paths if p.var}
    early, late = [], []
    if never:
        sc.conds.append("false")
    for conj in kept:
        names = {e.name for e in ir.walk(conj) if isinstance(e, ir.Var)}
        (late if names & late_names or has_pattern(conj) else early).append(conj)
    for conj in early:
        if not varlength.same_node(conj, sc):
            sc.conds.append(cx.sql(conj, sc))
    for path, i, rp, left, right, rel_sql in deferred:
        if path.kind == "plain" and varlength.closes(rp, left, right, kept):
            rel_sql[i] = varlength.closed_hop(cx, rp, left, right, sc, rels_seen, bind)
        elif path.kind == "plain":
            rel_sql[i] = varlength.var_length_rel(cx, rp, left, right, sc, rels_seen, bind)
        else:
            rel_sql[i] = shortest.shortest_rel(cx, path, rp, left, right, sc, bind)
    if bind:
        for ref in local.values():
            if ref.new:
                sc.binds.append((ref.sql, "node", False))
    for path, refs, rel_sql in path_parts:
        if path.var:
            sc.vars[path.var] = Var(path.var, "path", path_value(refs, rel_sql))
    for conj in late:
        sc.conds.append(cx.sql(conj, sc))


def path_value(refs: list[NodeRef], rel_sql: list) -> str:
    """A path as a struct of node ids and relationship ids."""
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


def node_ref(cx: Compilation, np: ir.NodePattern, sc: Scope, local: dict[str, NodeRef],
             same_as: Var | None = None) -> NodeRef:
    """A node of the pattern: a variable bound before, one this pattern named already, or new
    (``same_as``: a new one that is that bound node, whose labels it has: no row, no test)."""
    if np.var and np.var in local:
        ref = local[np.var]
    elif same_as is not None:
        ref = NodeRef(np.var, np, same_as.sql, same_as.node_alias, labels=same_as.labels)
        local[np.var] = ref
        return ref
    elif np.var and np.var in sc.vars:
        v = sc.vars[np.var]
        ref = NodeRef(np.var, np, v.sql, v.node_alias, new=False)
        if v.nullable:
            sc.conds.append(f"{v.sql} IS NOT NULL")
        local[np.var] = ref
    else:
        ref = NodeRef(np.var or f" a{cx.fresh('')}", np)
        local[ref.name] = ref
    if np.labels or np.props:
        a = cx.node_row(ref, sc)
        for lab in np.labels:
            sc.conds.append(f"list_contains({a}.labels, {sql_string(lab)})")
        for key, val in np.props.items():
            col = (cx.node_property(a, key), cx.property_type("node", key))
            sc.conds.append(cx.compare("=", col, (cx.sql(val, sc), cx.type_of(val))))
    return ref


def type_filter(col: str, types: Types) -> str | None:
    if not types:
        return None
    ts = sorted(types)
    if len(ts) == 1:
        return f"{col} = {sql_string(ts[0])}"
    return f"{col} IN ({', '.join(sql_string(t) for t in ts)})"


def edges_sql(types: Types, direction: str, extra: list[str]) -> str:
    """Relationships oriented for traversal: columns rid, _s (from), _d (to), and all rel columns."""
    tf = type_filter("type", types)
    conds = [c for c in [tf, *extra] if c]
    w = (" WHERE " + " AND ".join(conds)) if conds else ""
    if direction == "out":
        return f"SELECT *, src AS _s, dst AS _d FROM rel{w}"
    if direction == "in":
        return f"SELECT *, dst AS _s, src AS _d FROM rel{w}"
    w2 = (w + " AND " if w else " WHERE ") + "src <> dst"
    return f"SELECT *, src AS _s, dst AS _d FROM rel{w} UNION ALL SELECT *, dst AS _s, src AS _d FROM rel{w2}"


def rel_types(rp: ir.RelPattern) -> Types:
    return frozenset(rp.types) if rp.types else None


def unique_against(types: Types, sql: str, is_list: bool, rels_seen: list, sc: Scope) -> None:
    """Relationship uniqueness: this relationship (or list of them) is none of those before
    it in the same MATCH whose types may overlap."""
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


def fixed_rel(cx: Compilation, rp: ir.RelPattern, left: NodeRef, right: NodeRef, sc: Scope, rels_seen,
              bind: bool) -> str:
    """One relationship between two nodes: a ``rel`` row joined on its ends."""
    types = rel_types(rp)
    a = cx.fresh("r")
    if rp.direction == "both":
        sc.add(f"({edges_sql(types, 'both', [])}) AS {a}", kind="urel", alias=a,
               types=sorted(types) if types else None)
        s_col, d_col = f"{a}._s", f"{a}._d"
    else:
        sc.add(f"rel AS {a}", kind="rel", alias=a, types=sorted(types) if types else None)
        tf = type_filter(f"{a}.type", types)
        if tf:
            sc.conds.append(tf)
        s_col, d_col = (f"{a}.src", f"{a}.dst") if rp.direction == "out" else (f"{a}.dst", f"{a}.src")
    ends = {"out": ("src", "dst"), "in": ("dst", "src")}.get(rp.direction, ("either", "either"))
    left.touch.append((types, ends[0]))
    right.touch.append((types, ends[1]))
    for ref, col in ((left, s_col), (right, d_col)):
        if ref.sql is None:
            ref.sql = col
        else:
            sc.conds.append(f"{col} = {ref.sql}")
    for key, val in rp.props.items():
        col = (cx.rel_property(a, key), cx.property_type("rel", key))
        sc.conds.append(cx.compare("=", col, (cx.sql(val, sc), cx.type_of(val))))
    rid = f"{a}.rid"
    if rp.var:
        old = sc.vars.get(rp.var)
        if old is not None:
            sc.conds.append(f"{rid} = {old.sql}")     # bound by an earlier MATCH: the same one
        else:
            sc.vars[rp.var] = Var(rp.var, "rel", rid, rel_alias=a)
    unique_against(types, rid, False, rels_seen, sc)
    if bind:
        sc.binds.append((rid, "rel", False))
    return rid


def end_score(ref: NodeRef) -> int:
    """How selective a traversal's end is: bound before > property match > label > nothing."""
    if not ref.new:
        return 3
    if ref.pattern.props:
        return 2
    return 1 if ref.pattern.labels else 0


def start_set(cx: Compilation, ref: NodeRef, sc: Scope) -> str:
    """SQL listing the node ids a traversal may start from (or end at)."""
    if not sc.sub:
        return cx.render(connected_part(sc, ref.sql), [f"{ref.sql} AS x"], distinct=True)
    # inside a correlated subquery the start set cannot see the outer row: use the
    # node's own constraints (the outer join then picks the right rows)
    inner = Scope()
    start = node_ref(cx, ir.NodePattern(None, ref.pattern.labels, ref.pattern.props, line=ref.pattern.line,
                                        column=ref.pattern.column), inner, {})
    if start.sql is None:
        cx.node_row(start, inner)
    # … and the pattern's fixed relationships at the node: a walk in an OPTIONAL MATCH from
    # an unlabelled (x) next to -[:LEGAL_REP_OF]-> starts only at nodes that have one
    for types, side in ref.touch:
        if types:
            of = f"FROM rel WHERE type IN ({', '.join(sql_string(t) for t in sorted(types))})"
            ends = f"SELECT {side} {of}" if side != "either" else f"SELECT src {of} UNION ALL SELECT dst {of}"
            inner.conds.append(f"{start.sql} IN ({ends})")
    return f"SELECT DISTINCT {start.sql} AS x" + inner.from_sql() + inner.where_sql()


def hop_property_conds(cx: Compilation, rp: ir.RelPattern) -> list[str]:
    """Inline properties of a variable-length relationship, on every hop (values only)."""
    return [cx.compare("=", (cx.rel_property("rel", key), cx.property_type("rel", key)),
                       (cx.sql(val, Scope()), cx.type_of(val)))
            for key, val in rp.props.items()]
