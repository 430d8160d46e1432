"""Algorithmic models: what Cypher says badly, as small registered Python functions.

A pattern file with ``kind: algorithm`` names one of these by ``function:``; it has the same
metadata, parameters, explanation templates and fixtures as a Cypher model, and the
function returns an engine :class:`~graphwatch.engines.Result` — columns, rows (nodes as
:class:`~graphwatch.engines.GNode`) and per-row bindings — so alerts are built the same way.
Functions take the workspace first and the model's parameters as keywords.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable

from ..engines.base import Binding, Result
from ..engines.duckdb import read_nodes
from ..exc import GraphwatchError

KINSHIP = ("SPOUSE_OF", "PARENT_OF", "SIBLING_OF", "IN_LAW_OF", "GRANDPARENT_OF")
COMPANY_TIES = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF")


@dataclass(frozen=True)
class Algorithm:
    name: str
    columns: tuple[str, ...]      # what the function returns, as a Cypher model's RETURN would
    params: tuple[str, ...]       # the keyword parameters it takes
    run: Callable


ALGORITHMS: dict[str, Algorithm] = {}


def register(name: str, *, columns: tuple[str, ...], params: tuple[str, ...] = ()):
    """Register ``fn(ws, **params) -> Result`` as the algorithm ``name``."""
    def wrap(fn):
        ALGORITHMS[name] = Algorithm(name, columns, params, fn)
        return fn
    return wrap


@register("official_near_winner", columns=("official", "contract", "company", "organisation", "hops", "signed"),
          params=("max_hops", "kinship", "company_ties"))
def official_near_winner(ws, *, max_hops: int = 3, kinship: list | None = None,
                         company_ties: list | None = None) -> Result:
    """Officials within ``max_hops`` of a contract's winner over kinship and company ties,
    where the official held a post in the organisation that let the contract when it was signed.

    One row per (official, contract) with the shortest such path; its bindings are the path's
    nodes and relationships plus the contract, its ISSUED_BY and AWARDED_TO relationships and
    the official's HOLDS_POST. The search is one breadth-first search from every winning
    company at once over the workspace's adjacency index (:func:`graphwatch.adjacency.reach`,
    its last level keeping only steps to holders of a post and each level before it only nodes
    near one): where two shortest paths tie the one through the lower relationship ids is kept,
    and where one official and contract are joined by several posts or lettings, the one with
    the lowest AWARDED_TO, ISSUED_BY and HOLDS_POST ids.

    Only the few (winner, official) pairs the search finds are then joined to the contracts,
    lettings and posts in SQL: joining every contract to every official of its buyer first
    (758 k rows at 5 M persons) and looking each pair up took 0.6 s of 1.2 s; reading
    the index's fingerprint again (a scan of ``rel``) for a read-only workspace another 0.3 s
    (:func:`_index`).
    """
    import numpy as np

    from .. import adjacency

    con = ws.con
    columns = list(ALGORITHMS["official_near_winner"].columns)
    empty = Result(columns, [], [], engine="adjacency", query="official_near_winner")
    types = list(kinship or KINSHIP) + list(company_ties or COMPANY_TIES)
    index = _index(ws)
    # the search's sources: every winner; its last level's targets: every holder of a post
    # (what is a Contract and an Official, and the dates, are checked on the few pairs found)
    sources = _ends(index, "in", "AWARDED_TO")
    targets = _ends(index, "out", "HOLDS_POST")
    if not len(sources) or not len(targets) or max_hops < 1:
        return empty
    is_target, ties = _mask_of(index, "out", "HOLDS_POST"), index.type_mask(types)
    found = adjacency.reach(index, sources, "both", ties, max_hops, last=is_target,
                  near=lambda radius: _near(index, ties, "out", "HOLDS_POST", radius))
    # an official at one step or more from a winner (at none the official is the winner: excluded)
    cand = np.flatnonzero((found.depth >= 1) & is_target[found.node])
    if not len(cand):
        return empty
    lets = con.execute("""
        WITH cand AS (SELECT unnest($company) AS company, unnest($official) AS official, unnest($entry) AS entry)
        SELECT w.src AS contract, w.dst AS company, w.rid AS awarded, i.dst AS org, i.rid AS issued,
               h.src AS official, h.rid AS post, cand.entry
        FROM cand JOIN rel AS w ON w.dst = cand.company AND w.type = 'AWARDED_TO'
        JOIN rel AS h ON h.src = cand.official AND h.type = 'HOLDS_POST'
        JOIN rel AS i ON i.src = w.src AND i.dst = h.dst AND i.type = 'ISSUED_BY'
        JOIN node AS c ON c.nid = w.src
        JOIN node AS o ON o.nid = h.src
        WHERE list_contains(c.labels, 'Contract') AND list_contains(o.labels, 'Official')
          -- the official held the post when the contract was signed (unknown dates do not exclude)
          AND (c.signed IS NULL OR ((h.valid_from IS NULL OR h.valid_from <= c.signed)
                                    AND (h.valid_to IS NULL OR c.signed <= h.valid_to)))""",
                       {"company": index.nodes[sources[found.source[cand]]].tolist(),
                        "official": index.nodes[found.node[cand]].tolist(),
                        "entry": cand.tolist()}).fetchall()
    # the shortest path of each (official, contract), ties to the lowest relationship ids
    lets.sort(key=lambda x: (x[0], x[5], int(found.depth[x[7]]), x[2], x[4], x[6]))
    kept, seen = [], set()
    for x in lets:
        if (x[5], x[0]) not in seen:
            seen.add((x[5], x[0]))
            kept.append(x)
    nodes = read_nodes(con, {v for x in kept for v in (x[5], x[0], x[1], x[3])})
    rows, bindings = [], []
    for contract, company, awarded, org, issued, official, post, entry in kept:
        vpath, epath = found.path(entry)
        rows.append((nodes[official], nodes[contract], nodes[company], nodes[org], len(epath),
                     nodes[contract].properties.get("signed")))
        bn = [int(v) for v in index.nodes[vpath]] + [contract, org]
        bindings.append(Binding(tuple(sorted(set(bn))), tuple(sorted(set(epath + [awarded, issued, post])))))
    return Result(columns, rows, bindings, engine="adjacency", query="official_near_winner")


#: the adjacency index of each read-only workspace open in this process: its relationships
#: cannot change while it is open, so the fingerprint (a scan of ``rel``, 0.3 s at 5 M persons)
#: is read once, as :meth:`graphwatch.engines.duckdb.DuckDBEngine.adjacency` does
_READ_ONLY_INDEX: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _index(ws):
    """The workspace's adjacency index (:func:`graphwatch.adjacency.open_index`)."""
    from .. import adjacency

    index = _READ_ONLY_INDEX.get(ws) if ws.read_only else None
    if index is None:
        index = adjacency.open_index(ws.con, ws.path)
        if index is None:
            raise GraphwatchError(f"{ws.path}: official_near_winner needs the workspace's adjacency index, "
                                  "and it could not be read or built (is the folder writable?)")
        if ws.read_only:
            _READ_ONLY_INDEX[ws] = index
    return index


#: per adjacency index (its files never change: a new index is a new object), the positions of
#: the nodes at an end of a relationship type, and the same as a mask over every position
_ENDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _ends(index, side: str, rtype: str):
    """Sorted positions of the nodes with a relationship of ``rtype`` on ``side`` ('out': its
    start, 'in': its end), worked out once per index (a scan of the type codes: 40 ms at 5 M persons)."""
    import numpy as np

    got = _ENDS.setdefault(index, {})
    if (side, rtype) not in got:
        code = index.type_code.get(rtype)
        if code is None:
            got[side, rtype] = np.empty(0, dtype=np.int64)
        else:
            entries = np.flatnonzero(getattr(index, f"{side}_type") == code)
            got[side, rtype] = np.unique(np.searchsorted(getattr(index, f"{side}_off"), entries, side="right") - 1)
    return got[side, rtype]


def _mask_of(index, side: str, rtype: str):
    """:func:`_ends` as a boolean mask over the index's node positions."""
    import numpy as np

    got = _ENDS.setdefault(index, {})
    if ("mask", side, rtype) not in got:
        mask = np.zeros(len(index.nodes), dtype=bool)
        mask[_ends(index, side, rtype)] = True
        got["mask", side, rtype] = mask
    return got["mask", side, rtype]


def _near(index, mask, side: str, rtype: str, radius: int = 1):
    """The nodes within ``radius`` steps (of a type in ``mask``, either way) of one of
    :func:`_mask_of` (radius 0: those nodes), as a boolean mask over node positions, worked
    out once per index, types and radius (at 5 M persons: 155 k holders of a post, 537 k
    nodes within one step, 584 k within two; 0.2 s each)."""
    got = _ENDS.setdefault(index, {})
    key = ("near", side, rtype, mask.tobytes(), radius)
    if key not in got:
        if radius <= 0:
            return _mask_of(index, side, rtype)
        import numpy as np

        inner = _near(index, mask, side, rtype, radius - 1)
        near = inner.copy()
        near[index.steps(np.flatnonzero(inner), "both", mask, loops=False)[1]] = True
        got[key] = near
    return got[key]
