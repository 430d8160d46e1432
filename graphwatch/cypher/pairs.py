"""A fixed relationship between two nodes an OPTIONAL MATCH reads from the row, read from
the adjacency index (``gw_rels_between``: :mod:`graphwatch.engines.rels_between`).

:func:`.patterns.keyed_optional_match` starts the clause from the distinct ids it reads
(``ex``). When a hop of the clause joins two of them — ``OPTIONAL MATCH (o)-[ap:APPROVED]->(ct)``
after the official and the contract were found — the ``rel`` join compares the pairs with
every relationship of the hop's types (9.1 M APPROVED at 5 M persons; both orientations of
5.6 M kinship relationships for an undirected hop). Here ``ex`` is expanded instead into one
row per relationship between its pair (``exr``: the ids and ``_rid``, ``type``, ``src``,
``dst`` of the relationship), which the index lists from the pair's nodes' own entries.

Only when the engine has the index (a read-only workspace: ``Options.has_rel`` registers
both functions), for a hop whose ends are both ids of ``ex``, without inline properties and
whose variable is not bound already, and when the pairs are few against the relationships
of the hop's types, and these are many (:data:`PAIRS_PER_REL`, :data:`MIN_RELS`, measured at
5 M persons). The relationship's properties, when the clause reads them, come from a ``rel`` row joined on its id and type.
Rows, bindings and the variable's value (the relationship id) are those of the ``rel`` join.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir
from .scope import NodeRef, Scope, Var, sql_string

if TYPE_CHECKING:
    from .compiler import Compilation

#: the index answers when the expected pairs are fewer than this share of the relationships
#: of the hop's types. Measured at 5 M persons (the engine's statement, warm, medians): from
#: the index ~0.5 us a pair one way, ~0.8 us undirected; the join ~0.1 s for 9.1 M APPROVED,
#: ~0.15 s for both orientations of 7 M kinship relationships, plus a little a pair. Even at
#: about 2.5 % (230 k pairs against APPROVED: 0.2 s either way; 558 k against kinship: 0.43 s
#: from the index, 0.25 s joined). The pairs' estimate can be 5x low (cadre_subsidy's 440 k
#: kinship pairs were expected as 92 k, and took 0.3 s more from the index): a fifth of that.
#: own_village_project's 247 pairs (expected as 1) against kinship: ~0.2 s less.
PAIRS_PER_REL = 0.005

#: … and the types have at least this many relationships: below, the join takes milliseconds
#: and a wrong estimate makes the index the slow side (related_bidders' SHAREHOLDER_OF|BRANCH_OF
#: hop between two bidders, 95 k relationships: 409 k pairs expected as 100 took 0.49 s there)
MIN_RELS = 1_000_000

#: False: never (the ``rel`` join always; for comparisons)
PAIR_HOPS = True


def pair_hop(cx: Compilation, m: ir.Match, keys: list[Var], est: int | None) -> tuple | None:
    """(relationship pattern, key index of its left node, of its right node, whether the
    clause reads its properties) of the hop of ``m`` to read from the index, or None."""
    if not PAIR_HOPS or cx.opt.has_rel is None or est is None:
        return None
    index = {v.name: i for i, v in enumerate(keys) if v.type == "node"}
    bound = {v.name for v in keys}
    for path in m.paths:
        if path.kind != "plain":
            continue
        for i, rp in enumerate(path.rels):
            a, b = path.nodes[i].var, path.nodes[i + 1].var
            if rp.var_length or rp.props or a not in index or b not in index or (rp.var and rp.var in bound):
                continue
            if not _pays(cx, rp, est):
                return None
            if not cx.opt.has_rel():
                return None
            from .compiler import props_read

            # the rel row only for properties this clause reads (the keyed join passes on the
            # id, type and ends: a later clause reading a property joins the row itself)
            return rp, index[a], index[b], bool(rp.var and props_read([m]).get(rp.var))
    return None


def _pays(cx: Compilation, rp: ir.RelPattern, est: int) -> bool:
    stats = cx.opt.stats
    if stats is None:
        return False
    types = rp.types or list(stats.types)
    size = sum(stats.types.get(t, (0, 0, 0))[0] for t in types)
    return size >= MIN_RELS and est < PAIRS_PER_REL * size


def expand(cx: Compilation, start: str, hop: tuple) -> str:
    """A CTE of ``start``'s rows, each once per relationship of the hop between its pair."""
    rp, ia, ib, _ = hop
    types = sql_string("|".join(sorted(rp.types))) if rp.types else "''"
    call = f"gw_rels_between(k{ia}, k{ib}, {types}, {sql_string(rp.direction)})"
    name = cx.fresh("exr")
    cx.add_cte(name, f"SELECT * EXCLUDE (_x), _x.rid AS _rid, _x.type AS type, _x.src AS src, _x.dst AS dst "
                     f"FROM (SELECT *, unnest({call}) AS _x FROM {start})", materialized=True)
    if start in cx.estimates:
        cx.estimates[name] = cx.estimates[start]
    return name


def pair_rel(cx: Compilation, hop: tuple, left: NodeRef, right: NodeRef, sc: Scope, rels_seen,
             bind: bool, base: str) -> str:
    """The hop's relationship: the ``exr`` row's (see :func:`expand`); as
    :func:`.patterns.fixed_rel` does for a ``rel`` join, otherwise."""
    from .patterns import rel_types, type_filter, unique_against

    rp, _, _, needs_row = hop
    types = rel_types(rp)
    ends = {"out": ("src", "dst"), "in": ("dst", "src")}.get(rp.direction, ("either", "either"))
    left.touch.append((types, ends[0]))
    right.touch.append((types, ends[1]))
    rid = f"{base}._rid"
    if rp.var:
        alias = base
        if needs_row:        # its properties: the rel row, of its types only
            alias = cx.fresh("r")
            sc.add(f"rel AS {alias}", kind="rel", alias=alias, types=sorted(types) if types else None)
            sc.conds += [c for c in (type_filter(f"{alias}.type", types), f"{alias}.rid = {rid}") if c]
        sc.vars[rp.var] = Var(rp.var, "rel", rid, rel_alias=alias)
    unique_against(types, rid, False, rels_seen, sc)
    if bind:
        sc.binds.append((rid, "rel", False))
    return rid
