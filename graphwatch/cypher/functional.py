"""Hops over functional relationships, read from the functional-neighbour table.

A relationship type each node has at most one of on one side (every Benefit one incoming
RECEIVES and one outgoing OF_PROGRAMME) is kept, per node, as the neighbour's id and the
relationship's id in ``node_fn`` (:mod:`graphwatch.functional`). A hop over it joins that
node's ``node_fn`` row — once per node of the scope, however many of its functional hops the
pattern has — instead of the 52 M-row ``rel`` table (5 M persons): the duplicate_benefits
chain ``(p)-[:RECEIVES]->(b)-[:OF_PROGRAMME]->(g)`` took 0.87 s as two ``rel`` joins, 0.315 s
as one ``node_fn`` join.

A hop is read here when the engine found the table up to date (``Options.functional``: the
(type, direction) pairs and their column numbers), the hop names one type, is directed, has
no inline properties, belongs to a MATCH of at least :data:`MIN_HOPS` fixed hops, the node
whose one relationship it is has no property read (or has its row joined already), and its variable (if any) has no property read in this clause or later
(reading one joins the ``rel`` row by id anyway: the ``rel`` join on the ends is then as cheap).
Everything the ``rel`` join gave is kept: the relationship id (uniqueness within the MATCH,
bindings, the variable's value), the ends' ``touch`` list, and a missing relationship is a
missing row (the neighbour column is NULL, and an inner join or ``IS NOT NULL`` drops it).

The item is ``node_fn AS fN`` with planner metadata ``kind='fn'`` and ``cols``: for ``nid``
the (type, end) pairs the node is the functional end of, for each ``nb<k>`` the (type, end)
the neighbour is (``end``: 'src' or 'dst' of that relationship), which the join planner
(:mod:`.planner`) estimates with and the implied-label pass (:mod:`.implied`) reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir
from .scope import NodeRef, Scope, Var

if TYPE_CHECKING:
    from .compiler import Compilation

TABLE = "node_fn"


def fixed_hop(cx: Compilation, rp: ir.RelPattern, left: NodeRef, right: NodeRef, sc: Scope, rels_seen: list,
              bind: bool) -> str | None:
    """The relationship id of this hop read from the functional-neighbour table, or None when
    the hop is a ``rel`` join as usual (see the module for when)."""
    from .patterns import unique_against

    if cx.opt.functional is None or rp.direction not in ("out", "in") or len(rp.types) != 1 or rp.props \
            or rp.var_length or _fixed_hops_beside(cx, rp) < MIN_HOPS:
        return None
    fn = _columns(cx)
    if not fn:
        return None
    if rp.var and (rp.var in cx.props_read or (rp.var in sc.vars and sc.vars[rp.var].type != "rel")):
        return None
    t = rp.types[0]
    src, dst = (left, right) if rp.direction == "out" else (right, left)
    # the node whose one relationship this is: a side whose row is joined already first, then
    # a side that is bound, then the source
    sides = [(src, dst, "out", "src", "dst"), (dst, src, "in", "dst", "src")]
    sides = [s for s in sides if (t, s[2]) in fn and (s[0].sql in sc.fn_rows or not _row_read(cx, s[0]))]
    if not sides:
        return None
    sides.sort(key=lambda s: (s[0].sql is None or s[0].sql not in sc.fn_rows, s[0].sql is None))
    own, other, direction, own_end, other_end = sides[0]
    k = fn[(t, direction)]
    a = fn_row(cx, own, sc)
    meta = _meta(sc, a)
    meta["cols"].setdefault("nid", []).append((t, own_end))
    meta["cols"][f"nb{k}"] = [(t, other_end)]
    nb, rid = f"{a}.nb{k}", f"{a}.rid{k}"
    if other.sql is None:
        other.sql = nb
        sc.conds.append(f"{nb} IS NOT NULL")
    else:
        sc.conds.append(f"{nb} = {other.sql}")
    types = frozenset(rp.types)
    ends = ("src", "dst") if rp.direction == "out" else ("dst", "src")
    left.touch.append((types, ends[0]))
    right.touch.append((types, ends[1]))
    if rp.var:
        old = sc.vars.get(rp.var)
        if old is not None:
            sc.conds.append(f"{rid} = {old.sql}")      # bound by an earlier MATCH: the same one
        else:
            sc.vars[rp.var] = Var(rp.var, "rel", rid)
    unique_against(types, rid, False, rels_seen, sc)
    if bind:
        sc.binds.append((rid, "rel", False))
    return rid


#: the fewest fixed-length hops the MATCH must have for its hops to read the table: a lone hop
#: grouped by one end is quicker as DuckDB's ``rel`` join with the count pushed below it
#: (:mod:`.eager`): at 5 M persons ``(p:Person)-[:RECEIVES]->(b) RETURN p.name, count(b)`` took
#: 0.64 s so and 2.5 s through the table; ``… OF_PROGRAMME … count(b)`` by programme 0.12 against 0.23
MIN_HOPS = 2


def _columns(cx: Compilation) -> dict:
    """{(type, direction): column number} of the table, asked of the engine once per
    compilation (``Options.functional`` is the pairs or a function giving them: the engine
    checks the table against ``rel`` only when a hop could read it)."""
    got = getattr(cx, "_fn_columns", None)
    if got is None:
        f = cx.opt.functional
        got = cx._fn_columns = dict((f() if callable(f) else f) or ())
    return got


def _fixed_hops_beside(cx: Compilation, rp: ir.RelPattern) -> int:
    """The fixed-length hops of the MATCH clause ``rp`` belongs to (0: a pattern predicate's)."""
    counts = getattr(cx, "_fn_hop_counts", None)
    if counts is None:
        counts = {}
        for clauses in cx.checked.query.parts():
            for c in clauses:
                if isinstance(c, ir.Match):
                    hops = [r for p in c.paths if p.kind == "plain" for r in p.rels if not r.var_length]
                    for p in c.paths:
                        for r in p.rels:
                            counts[id(r)] = len(hops)
        cx._fn_hop_counts = counts
    return counts.get(id(rp), 0)


def _row_read(cx: Compilation, ref: NodeRef) -> bool:
    """Whether this clause or a later one reads a property of the node: its ``node`` row is
    then joined anyway, and the hop's ``rel`` join on it costs what a ``node_fn`` join would
    (at 5 M persons, the RECEIVES -> OF_PROGRAMME chain reading the person's key and the
    benefit's dates: 1.27 s through the table, 1.18 s through ``rel``; reading none, 0.02 s
    against 0.40): the table is read only for a node whose row is not."""
    return not ref.hidden and ref.name in cx.props_read


def fn_row(cx: Compilation, ref: NodeRef, sc: Scope) -> str:
    """The alias of the node's ``node_fn`` row in this scope, joined on first use (the node
    keyed by the SQL of its id: two hops at one node share the row)."""
    if ref.sql is not None and ref.sql in sc.fn_rows:
        return sc.fn_rows[ref.sql]
    a = cx.fresh("f")
    sc.add(f"{TABLE} AS {a}", kind="fn", alias=a, cols={})
    if ref.sql is None:
        ref.sql = f"{a}.nid"
    else:
        sc.conds.append(f"{a}.nid = {ref.sql}")
    sc.fn_rows[ref.sql] = a
    return a


def _meta(sc: Scope, alias: str) -> dict:
    return next(m for _k, _s, _on, m in sc.froms if m.get("alias") == alias and m.get("kind") == "fn")


def fn_rels(meta: dict, col: str, stats) -> float:
    """For the join planner (:mod:`.planner`): relationships of the type a functional-neighbour column holds (one per node that has it)."""
    return float(sum(stats.types.get(t, (0, 1, 1))[0] for t, _end in meta.get("cols", {}).get(col, ())) or 1)


def fn_ends(meta: dict, col: str, stats) -> float:
    """Distinct nodes at column ``col`` of a functional-neighbour row: for ``nid`` (the node
    whose one relationship it is) the relationships of its types, for ``nb<k>`` the distinct
    ends of that type on the neighbour's side."""
    if col == "nid":
        return max((float(stats.types.get(t, (0, 1, 1))[0]) for t, _e in meta.get("cols", {}).get("nid", ())),
                   default=float(stats.total_nodes))
    return float(sum(stats.types.get(t, (0, 1, 1))[1 if end == "src" else 2]
                     for t, end in meta.get("cols", {}).get(col, ())) or 1)
