"""Node rows a pattern does not need: labels its relationships already guarantee.

``(p:Person)-[:ON_PAYROLL]->(o:Organisation)`` joins ``node`` twice only to read two labels,
yet the schema lets ``ON_PAYROLL`` start at a Person only and end at an Organisation only,
and every loader refuses a relationship whose ends do not carry the labels its type allows
(the mapping check in :mod:`graphwatch.ingest.mapping`, the label check of the neo4j-admin
loader). Each such join is a hash join against a scan of the whole ``node`` table (3 M rows
at 1 M persons), where Neo4j reads a label from the node record it already holds. So before
a SELECT is planned, a ``node`` item whose only uses are

* ``list_contains(nX.labels, 'L')`` for labels every relationship of the linked type must
  carry at that end (the type's allowed labels there are exactly ``{L}``; an undirected type
  counts both ends; no type given: nothing is implied), and
* its id ``nX.nid``, equal to that relationship's end (or to a walk's start or end, when no
  label is asked: ``(p)-[*1..2]-(q) RETURN count(DISTINCT q)``),

is dropped, and ``nX.nid`` is read from the relationship's end instead. A relationship's
ends always exist in ``node`` (the store keeps them together), so no match is lost or
added; a node whose properties are read keeps its row.

The same holds for the node a variable-length walk or a shortest-path search started from
(or, for a search, ended at) when its start set was that node's own row and filters alone
(:func:`walked_from`: ``(a:Person {id_number: $a})-[*1..2]-(x)``): every ``s`` of the step's
table passed those filters, once per path, so the filters and the join go and ``nX.nid`` is
read from ``s`` (``t``). A 2-hop count from one person at 1 M persons: the statement no longer
reads the person's lookup again (1.9 → 1.0 ms); a shortestPath between two: neither end.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^list_contains\(([A-Za-z_]\w*)\.labels, '((?:[^']|'')+)'\)$")
_EQUI = re.compile(r"^\(?([A-Za-z_]\w*)\.(nid|src|dst|_s|_d|s|cur|t) = ([A-Za-z_]\w*)\.(nid|src|dst|_s|_d|s|cur|t)\)?$")
_ENDS = {"rel": ("src", "dst"), "urel": ("_s", "_d"), "trav": ("s", "cur", "t")}


def _allowed(schema, types, col: str) -> set[str] | None:
    """The labels a node at end ``col`` of a relationship of ``types`` may carry (None: any)."""
    if not types or col in ("s", "cur", "t"):
        return None           # a walk's ends: some node (its labels are not known here)
    out: set[str] = set()
    for t in types:
        rt = schema.rel_types.get(t)
        if rt is None:
            return None
        if col in ("_s", "_d") or rt.undirected:
            out |= set(rt.from_labels) | set(rt.to_labels)
        else:
            out |= set(rt.from_labels if col == "src" else rt.to_labels)
    return out


def walked_from(sc, ref) -> dict | None:
    """For a traversal step starting (or ending) at ``ref``: the node item and the conditions
    its start set was computed from, when that set is ``ref``'s own node row and filters alone
    (``(a:Person {id_number: $a})-[*1..2]-(x)``). The step's ``s`` (or ``t``) then holds only
    such nodes, each once per path, so the statement need not join ``ref``'s row again to
    check them (:func:`drop_implied_nodes`)."""
    from .scope import connected_part

    m = re.fullmatch(r"([A-Za-z_]\w*)\.nid", ref.sql or "")
    if m is None or sc.sub:
        return None
    part = connected_part(sc, ref.sql)
    if [(meta.get("kind"), meta.get("alias")) for _k, _s, _on, meta in part.froms] != [("node", m.group(1))]:
        return None
    mention = re.compile(rf"\b{m.group(1)}\.")
    return {"alias": m.group(1), "conds": frozenset(c for c in part.conds if mention.search(c))}


def looked_up(walked: dict | None) -> tuple[str, tuple[str, ...]] | None:
    """For a start set :func:`walked_from` found to be one node's own row and filters, when
    those are one equality on a property and labels (``(a:Person {id_number: $a})``): that
    equality (``"id_number" = …``, for a plain ``SELECT labels, nid FROM node WHERE`` it) and
    the labels, which the step then tests on the row or two it returns. The start set's own
    statement (the node's lookup CTE, its label test, a DISTINCT) took 0.9 ms at 1 M persons,
    this one 0.4 ms; a shortest path's two ends in one statement 1.2 against 0.55 ms. None:
    another filter."""
    from .rowreads import _LOOKUP

    if walked is None:
        return None
    labels, equality = [], None
    for c in sorted(walked["conds"]):
        m = _LABEL.match(c.strip())
        if m and m.group(1) == walked["alias"]:
            labels.append(m.group(2).replace("''", "'"))
            continue
        m = _LOOKUP.fullmatch(c.strip())
        if m is None or m.group(1) != walked["alias"] or equality is not None:
            return None
        equality = f'"{m.group(3)}" = {m.group(4)}'
    if equality is None:
        return None
    return equality, tuple(labels)


def carries(labels, need) -> bool:
    """Whether a node with ``labels`` (a row's list) has every label of ``need``."""
    return set(need) <= set(labels or ())


def drop_implied_nodes(froms: list, conds: list[str], items: list[str], schema):
    """``(froms, conds, items)`` without the ``node`` items the relationships make redundant
    (new lists; the arguments are not changed). A node a traversal step started from, with the
    filters its start set already applied (:func:`walked_from`), is one of them too."""
    if schema is None:
        return froms, conds, items
    rels = {m["alias"]: m for kind, _s, _on, m in froms if kind == "cross" and m.get("kind") in _ENDS}
    nodes = [m["alias"] for kind, _s, _on, m in froms if kind == "cross" and m.get("kind") == "node"]
    if not rels or not nodes:
        return froms, conds, items
    froms, conds, items = list(froms), list(conds), list(items)
    for a in nodes:
        labels, equis = [], []
        for i, c in enumerate(conds):
            m = _LABEL.match(c)
            if m and m.group(1) == a:
                labels.append((i, m.group(2).replace("''", "'")))
                continue
            m = _EQUI.match(c)
            if m:
                x, xc, y, yc = m.groups()
                if x == a and xc == "nid" and y in rels and yc in _ENDS[rels[y]["kind"]]:
                    equis.append((i, f"{y}.{yc}", rels[y], yc))
                elif y == a and yc == "nid" and x in rels and xc in _ENDS[rels[x]["kind"]]:
                    equis.append((i, f"{x}.{xc}", rels[x], xc))
        walked = next((e for e in equis if (e[2].get("ends") or {}).get(e[3], {}).get("alias") == a), None)
        if walked is not None:
            own = walked[2]["ends"][walked[3]]["conds"]
            pick, gone = walked, {i for i, c in enumerate(conds) if c in own} | {walked[0]}
        else:
            need = {lab for _i, lab in labels}
            pick = next((e for e in equis if _end_guaranteed(schema, e[2], e[3], need)), None)
            if pick is None:
                continue
            gone = {i for i, _lab in labels} | {pick[0]}
        rest = [c for i, c in enumerate(conds) if i not in gone]
        others = [s for k, s, _on, m in froms if m.get("alias") != a] + [on for _k, _s, on, _m in froms if on]
        if any(set(re.findall(rf"\b{a}\.(\"(?:[^\"]|\"\")+\"|\w+)", text)) - {"nid"}
               for text in rest + items + others):
            continue          # a property (or the labels list itself) is read: the row stays
        nid = re.compile(rf"\b{a}\.nid\b")
        conds = [nid.sub(pick[1], c) for c in rest]
        items = [nid.sub(pick[1], s) for s in items]
        froms = [(k, nid.sub(pick[1], s), nid.sub(pick[1], on) if on else on, m)
                 for k, s, on, m in froms if m.get("alias") != a]
    return froms, conds, items


def _end_guaranteed(schema, meta: dict, col: str, need: set[str]) -> bool:
    """:func:`guaranteed` for the end ``col`` of a relationship or traversal item (``meta``).
    A walk of at least one relationship (``(a)-[:SPOUSE_OF|PARENT_OF*1..2]-(f:Person)``) ends
    where its last relationship does: at the end of that type the walk's direction reaches."""
    if need and meta.get("kind") == "trav" and col == "cur" and "hops" in meta:
        if meta.get("min_hops", 0) < 1 or not meta.get("types"):
            return False
        col = {"out": "dst", "in": "src"}.get(meta.get("direction"), "_d")
    return guaranteed(schema, meta.get("types"), col, need)


def guaranteed(schema, types, col: str, need: set[str]) -> bool:
    """Whether every node at end ``col`` of a relationship of ``types`` carries the labels
    ``need`` (the types allow exactly one label there, and it is the one asked)."""
    if not need:
        return True           # only the id is read: the relationship's end is that node
    allowed = _allowed(schema, types, col)
    return allowed is not None and len(allowed) == 1 and need <= allowed
