"""Algorithmic models: what Cypher says badly, as small registered Python functions.

A pattern file with ``kind: algorithm`` names one of these by ``function:``; it has the same
metadata, parameters, explanation templates and fixtures as a Cypher model, and the
function returns an engine :class:`~graphwatch.engines.Result` — columns, rows (nodes as
:class:`~graphwatch.engines.GNode`) and per-row bindings — so alerts are built the same way.
Functions take the workspace first and the model's parameters as keywords.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..engines.base import Binding, Result
from ..engines.duckdb import read_nodes

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
    the official's HOLDS_POST.
    """
    import igraph as ig
    import numpy as np
    import pandas as pd

    con = ws.con
    types = list(kinship or KINSHIP) + list(company_ties or COMPANY_TIES)
    cols = con.execute("""SELECT rid, src, dst FROM rel WHERE type IN (SELECT unnest($t))
        AND src <> dst""", {"t": types}).fetchnumpy()
    rid, src, dst = (np.asarray(cols[c], dtype=np.int64) for c in ("rid", "src", "dst"))
    lets = con.execute("""
        SELECT c.nid AS contract, w.dst AS company, w.rid AS awarded, i.dst AS org, i.rid AS issued,
               h.src AS official, h.rid AS post
        FROM node c JOIN rel w ON w.src = c.nid AND w.type = 'AWARDED_TO'
        JOIN rel i ON i.src = c.nid AND i.type = 'ISSUED_BY'
        JOIN rel h ON h.dst = i.dst AND h.type = 'HOLDS_POST'
        JOIN node o ON o.nid = h.src
        WHERE list_contains(c.labels, 'Contract') AND list_contains(o.labels, 'Official')
          -- the official held the post when the contract was signed (unknown dates do not exclude)
          AND (c.signed IS NULL OR ((h.valid_from IS NULL OR h.valid_from <= c.signed)
                                    AND (h.valid_to IS NULL OR c.signed <= h.valid_to)))""").fetchall()
    columns = list(ALGORITHMS["official_near_winner"].columns)
    if not len(rid) or not lets:
        return Result(columns, [], [], engine="igraph", query="official_near_winner")
    # the graph of the chosen ties in numpy (a Python dict and tuple per edge took 4 of 5 s at
    # 1 M persons): vertex i is node ids[i], found by a hash index (pandas), not a sort
    ends, ids = pd.factorize(np.concatenate([src, dst]))
    g = ig.Graph(n=len(ids), directed=False)
    g.add_edges(ends.reshape(2, -1).T)
    lookup = pd.Index(ids)
    cvs = lookup.get_indexer(np.array([r[1] for r in lets], dtype=np.int64)).tolist()
    ovs = lookup.get_indexer(np.array([r[5] for r in lets], dtype=np.int64)).tolist()

    found = []
    # one breadth-first search per winning company, bounded by max_hops, shared by its contracts
    by_company: dict[int, list] = {}
    for row, cv, ov in zip(lets, cvs, ovs):
        by_company.setdefault(row[1], []).append((row, cv, ov))
    for company, entries in sorted(by_company.items()):
        cv = entries[0][1]
        if cv < 0:
            continue
        rows = [row for row, _, _ in entries]
        targets = {ov for _, _, ov in entries if ov >= 0}
        if not targets:
            continue
        reach = set(g.neighborhood(cv, order=max_hops))
        near = [t for t in targets if t in reach]
        if not near:
            continue
        paths = g.get_shortest_paths(cv, to=near, output="epath")
        vpaths = g.get_shortest_paths(cv, to=near, output="vpath")
        by_official = {int(ids[t]): (ep, vp) for t, ep, vp in zip(near, paths, vpaths)}
        for contract, _, awarded, org, issued, official, post in rows:
            if official not in by_official or official == company:
                continue
            ep, vp = by_official[official]
            found.append((official, contract, company, org, len(ep),
                          [int(ids[v]) for v in vp] + [contract, org],
                          [int(rid[e]) for e in ep] + [awarded, issued, post]))
    nodes = read_nodes(con, {x for f in found for x in (f[0], f[1], f[2], f[3])})
    seen, rows, bindings = set(), [], []
    for official, contract, company, org, hops, bn, br in sorted(found, key=lambda f: (f[1], f[0], f[4])):
        if (official, contract) in seen:
            continue
        seen.add((official, contract))
        rows.append((nodes[official], nodes[contract], nodes[company], nodes[org], hops,
                     nodes[contract].properties.get("signed")))
        bindings.append(Binding(tuple(sorted(set(bn))), tuple(sorted(set(br)))))
    return Result(columns, rows, bindings, engine="igraph", query="official_near_winner")
