"""Variable-length relationships (``-[:T*1..3]-``): walks computed before the statement.

The walk starts from the more selective end of the pattern (a node bound before, then one
matched on a property, then one with a label) and only from the start nodes the rest of
the pattern allows; each step appends one relationship not yet on the walk (relationship
uniqueness inside the hop) until the upper bound. The walks are a :class:`~.walks.WalkStep`
(over the adjacency index, or a recursive query) whose table the statement joins. The hop's value is its list of
relationship ids (in the pattern's direction) plus the list of intermediate node ids, both
carried as bindings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir, patterns
from .implied import looked_up, walked_from
from .scope import NodeRef, Scope, Var
from .walks import TableStep, WalkStep

if TYPE_CHECKING:
    from .compiler import Compilation

REVERSED = {"out": "in", "in": "out", "both": "both"}


def var_length_rel(cx: Compilation, rp: ir.RelPattern, left: NodeRef, right: NodeRef, sc: Scope, rels_seen,
                   bind: bool) -> tuple[str, str]:
    """Join the hop between ``left`` and ``right``; returns (relationship ids, inner node ids)."""
    types = patterns.rel_types(rp)
    reverse = patterns.end_score(right) > patterns.end_score(left)
    start, end = (right, left) if reverse else (left, right)
    direction = REVERSED[rp.direction] if reverse else rp.direction
    edges = patterns.edges_sql(types, direction, patterns.hop_property_conds(cx, rp))
    name = cx.fresh("vl")
    if _keep_rows_so_far(cx, sc):
        # the start set reads the rows so far: compute them once, as tables both statements read
        cx.steps.append(TableStep(list(cx.ctes)))
        cx.ctes = []
    walked = walked_from(sc, start)
    start_sql = patterns.start_set(cx, start, sc)        # may add the CTEs it reads
    cx.steps.append(WalkStep(name, cx.statement(list(cx.ctes), start_sql), edges, int(rp.max_hops), types, direction,
                             indexable=not rp.props, lookup=looked_up(walked)))
    a = cx.fresh("v")
    sc.add(f"{name} AS {a}", kind="trav", alias=a, types=sorted(types) if types else None,
           hops=int(rp.max_hops), min_hops=int(rp.min_hops), direction=direction,
           ends={"s": walked} if walked else {})
    sc.conds.append(f"{a}.s = {start.sql}")
    sc.conds.append(f"{a}.cur = {end.sql}")
    if rp.min_hops > 0:
        sc.conds.append(f"len({a}.rids) >= {int(rp.min_hops)}")
    inner = f"list_slice({a}.nids, 1, len({a}.nids) - 1)"
    rids, nids = (f"list_reverse({a}.rids)", f"list_reverse({inner})") if reverse else (f"{a}.rids", inner)
    if rp.var:
        sc.vars[rp.var] = Var(rp.var, "rels", rids)
    patterns.unique_against(types, rids, True, rels_seen, sc)
    if bind:
        sc.binds.append((rids, "rel", True))
        sc.binds.append((nids, "node", True))
    return (rids, nids)


#: answer a hop of :func:`closes` without a walk (a switch for the tests comparing both forms)
CLOSED_HOPS = True


def _short(rp: ir.RelPattern) -> bool:
    """A variable-length hop of at most one relationship (``*0..1``, ``*1..1``)."""
    return CLOSED_HOPS and rp.var_length and rp.max_hops == 1 and rp.min_hops <= 1


def _names_equated(c: ir.Expr) -> frozenset | None:
    """The two variable names of a conjunct ``a = b``, else None."""
    if isinstance(c, ir.Binary) and c.op == "=" and isinstance(c.left, ir.Var) and isinstance(c.right, ir.Var):
        return frozenset((c.left.name, c.right.name))
    return None


def closes(rp: ir.RelPattern, left: NodeRef, right: NodeRef, where: list[ir.Expr]) -> bool:
    """Whether the hop is at most one relationship long and its two ends are one node (the
    same variable, or a WHERE conjunct ``a = b`` between them; ``where``: the conjuncts with
    the flags decided): ``(p)-[:SAME_AS*0..1]-(p2) WHERE p2 = p OR EXISTS {…}`` once the
    EXISTS folded away (its parameter left null)."""
    if not _short(rp):
        return False
    return left is right or frozenset((left.name, right.name)) in {_names_equated(c) for c in where}


def closed_ends(paths: list[ir.PathPattern], where: list[ir.Expr], sc: Scope) -> dict:
    """The new end nodes of this MATCH's closed hops (:func:`closes`) that are a node bound
    before, by id of their node pattern: ``MATCH (p)-[:SAME_AS*0..1]-(p2:Person) WHERE p2 = p``
    with ``p`` matched as a Person. Such an end needs no row of its own (its labels are the bound
    node's, its id the bound node's): at 5 M persons the row was a scan of every Person to join
    the 1.85 M payments of duplicate_benefits. The end must be named once in the MATCH, with
    labels only, and the WHERE (its conjuncts, flags decided) must equate the two."""
    eqs = {_names_equated(c) for c in where}
    named = [np.var for p in paths for np in p.nodes if np.var]
    out = {}
    for path in paths:
        if path.kind != "plain":
            continue
        for i, rp in enumerate(path.rels):
            if not _short(rp):
                continue
            for bound, new in ((path.nodes[i], path.nodes[i + 1]), (path.nodes[i + 1], path.nodes[i])):
                v = sc.vars.get(bound.var) if bound.var else None
                if (v is not None and v.type == "node" and new.var and new.var not in sc.vars
                        and named.count(new.var) == 1 and not new.props and set(new.labels) <= set(v.labels)
                        and frozenset((bound.var, new.var)) in eqs):
                    out[id(new)] = v
    return out


def same_node(conj: ir.Expr, sc: Scope) -> bool:
    """``p2 = p`` where both are one node's id (a closed hop's end, :func:`closed_ends`): true,
    and left out — DuckDB took ``x = x`` for a filter it could not push (at 5 M persons
    relative_beneficiary's kinship join 0.05 -> 0.37 s)."""
    if _names_equated(conj) is None:
        return False
    a, b = sc.vars.get(conj.left.name), sc.vars.get(conj.right.name)
    return a is not None and b is not None and a.type == b.type == "node" and a.sql == b.sql and not a.nullable


def closed_hop(cx: Compilation, rp: ir.RelPattern, left: NodeRef, right: NodeRef, sc: Scope, rels_seen,
               bind: bool) -> tuple[str, str]:
    """A hop of :func:`closes`: no walk. What it can match is the zero-length path (with
    ``*0..``) and each self-loop of its types at the node (one relationship whose two ends are
    that node; an undirected pattern reads a self-loop once, as :func:`patterns.edges_sql`
    does), so the rows so far are joined to the self-loops: a left join to the loops plus one
    row with no relationship per node that has any — a node without loops keeps its one row
    (the zero-length path) and computes no start set. Returns (relationship ids, inner node
    ids) as :func:`var_length_rel` does."""
    types = patterns.type_filter("type", patterns.rel_types(rp))
    conds = " AND ".join(c for c in [types, "src = dst", *patterns.hop_property_conds(cx, rp)] if c)
    loops = f"SELECT src AS at, rid FROM rel WHERE {conds}"
    a = cx.fresh("lp")
    if rp.min_hops == 0:
        table = f"({loops} UNION ALL SELECT DISTINCT src, CAST(NULL AS BIGINT) FROM rel WHERE {conds}) AS {a}"
        sc.add_left(table, f"{a}.at = {left.sql}", kind="loops")
        rids = f"(CASE WHEN {a}.rid IS NULL THEN CAST([] AS BIGINT[]) ELSE [{a}.rid] END)"
    else:
        sc.add(f"({loops}) AS {a}", kind="loops", alias=a)
        sc.conds.append(f"{a}.at = {left.sql}")
        rids = f"[{a}.rid]"
    if left is not right and left.sql != right.sql:
        sc.conds.append(f"{left.sql} = {right.sql}")
    nids = "CAST([] AS BIGINT[])"
    if rp.var:
        sc.vars[rp.var] = Var(rp.var, "rels", rids)
    patterns.unique_against(patterns.rel_types(rp), rids, True, rels_seen, sc)
    if bind:
        sc.binds.append((rids, "rel", True))
        sc.binds.append((nids, "node", True))
    return (rids, nids)


#: keep the rows so far as tables when the planner expects at most this many of them
KEEP_ROWS = 50_000


def _keep_rows_so_far(cx: Compilation, sc: Scope) -> bool:
    """Whether the walk's start set and the statement should read the query's CTEs from
    temporary tables instead of each computing them. Measured over the model library at 1 M
    persons, the tables pay when the rows so far are few (cadre_subsidy and own_village_project:
    cadres and their relatives, 16 k expected, 1.13x and 1.08x faster) and cost when they are
    many (poor_with_assets, 160 k: 0.63x) or unknown (the planner estimated none: DuckDB
    inlines and filters the CTEs; gambling_with_regulated 0.86x)."""
    if not cx.ctes or cx.recursive or sc.sub:
        return False
    known = [cx.estimates[name] for name, _body in cx.ctes if name in cx.estimates]
    return bool(known) and max(known) <= KEEP_ROWS
