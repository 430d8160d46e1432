"""Rows a planned join reads through the workspace's ART indexes (:mod:`graphwatch.lookups`)
instead of scanning ``node`` or ``rel``: a node with an indexed equality from a lookup CTE, a
node joined by id to a few rows with its own filters kept in the join, and a nullable row an
outer join reads by the ids the rows so far hold. The join planner (:mod:`.planner`) decides
where; each function here writes one such read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .planner import Stats

IDENT = r'"(?:[^"]|"")+"|[A-Za-z_]\w*'


def keyed_row(sql: str, on: str, base: str, uses: str) -> str:
    """A row read for a nullable node or relationship (``LEFT JOIN node AS a ON a.nid = base.c``:
    an OPTIONAL MATCH's node, whose properties the RETURN reads) as the rows of the ids
    ``base`` (a materialised CTE) holds: DuckDB builds an outer join's hash table on the whole
    table (17 M nodes at 5 M persons: ~70 ms for any number of rows, three times in
    relative_beneficiary), where the ids' own rows are read through the index (~10 ms for 1.4 k).
    ``uses``: the text that reads the row (for the columns it needs)."""
    m = _KEYED_ROW.fullmatch(sql.strip())
    k = _KEYED_ON.fullmatch(on.strip())
    if not KEYED_ROWS_FROM_BASE or m is None or k is None or k.group(1) != m.group(2) \
            or k.group(2) != {"node": "nid", "rel": "rid"}[m.group(1)] or k.group(3) != base:
        return sql
    table, a = m.group(1), m.group(2)
    key = k.group(2)
    cols = _columns_read(a, uses)
    if cols != "*" and key not in cols.split(", "):
        cols = ", ".join(sorted([*cols.split(", "), key]))
    return f"(SELECT {cols} FROM {table} WHERE {key} IN (SELECT {base}.{k.group(4)} FROM {base})) AS {a}"


#: False: an outer join reads the whole table (for comparisons)
KEYED_ROWS_FROM_BASE = True
_KEYED_ROW = re.compile(r"(node|rel) AS ([A-Za-z_]\w*)")
_KEYED_ON = re.compile(r'([A-Za-z_]\w*)\.(nid|rid) = ([A-Za-z_]\w*)\.("(?:[^"]|"")+"|[A-Za-z_]\w*)')


def index_lookup(a: str, src: str, where: list[str], stats: Stats, fresh, ctes: list, uses: str | None = None):
    """A step that reads ``node`` with an equality on an indexed property reads it from a CTE
    of that one filter: DuckDB answers a scan from an ART index only when the equality is the
    scan's sole filter (:mod:`graphwatch.lookups`). ``uses``: the text of everything that
    reads the node's row besides ``where``; the CTE then reads only the columns named there
    (a materialised ``SELECT *`` reads every column of the row: 1.9 against 0.8 ms at 1 M
    persons, and a shortest path looks its two ends up three times)."""
    for i, c in enumerate(where):
        m = _LOOKUP.fullmatch(c.strip())
        if not m or m.group(1) != a or m.group(3) not in stats.extra.get("indexed", ()):
            continue
        rest = where[:i] + where[i + 1:]
        cols = "*" if uses is None else _columns_read(a, " ".join([uses, *rest]))
        name = fresh("lk")
        ctes.append((name, f'SELECT {cols} FROM node WHERE "{m.group(3)}" = {m.group(4)}'))
        return f"{name} AS {a}", rest
    return src, where


def _columns_read(a: str, text: str) -> str:
    """The select list of the ``node`` columns ``text`` reads through alias ``a`` (``*`` when
    it reads the row as a whole)."""
    if re.search(r"\b" + re.escape(a) + r"\b(?!\.(?:\"|\w))", text):
        return "*"
    cols = sorted({m.group(1) for m in re.finditer(r"\b" + re.escape(a) + r"\.(" + IDENT + r")", text)})
    return ", ".join(cols) if cols else "nid"


#: estimated rows before a node step joined by id, at most which the step leaves the node's
#: own filters to the join (:func:`keyed_by_index`) — when the node's own filters leave
#: many more rows than that (six Programme nodes are better read whole, by their label, and
#: joined: missing_coverage took 2.5× as long through the index); DuckDB's
#: ``dynamic_or_filter_threshold``
KEYED_ROWS = 2000


def keyed_by_index(a: str, prev: str, where: list[str]) -> list[str]:
    """A node joined by ``nid`` to a few earlier rows is read through the ART index on ``nid``
    (DuckDB turns the join's few keys into an IN filter on the scan), but only when that is
    the scan's sole filter: a label test pushed into the scan makes it read every row group
    (6 ms a join at 1 M persons, where the index takes 0.1). So the node's own filters are
    kept in the join: ``(f OR key IS NULL)`` reads the earlier step, is not pushed down, and
    is ``f`` for every joined row (the key equals a node's id, so is not null)."""
    key = next((f"{prev}.{pc}" for ac, pc in join_keys(a, prev, where) if ac == "nid"), None)
    if key is None:
        return where
    own = re.compile(r"\b([A-Za-z_]\w*)\.")
    return [f"({c} OR {key} IS NULL)" if {x for x in own.findall(c)} == {a} else c for c in where]


_NID_JOIN = re.compile(r"\(?([A-Za-z_]\w*)\.(\"[^\"]+\"|\w+) = ([A-Za-z_]\w*)\.(\"[^\"]+\"|\w+)\)?")


def join_keys(a: str, prev: str, where: list[str]) -> list[tuple[str, str]]:
    """(column of ``a``, column of ``prev``) of each equality in ``where`` joining the two."""
    out = []
    for c in where:
        m = _NID_JOIN.fullmatch(c.strip())
        if m is None:
            continue
        (x, xc), (y, yc) = m.group(1, 2), m.group(3, 4)
        if x == a and y == prev:
            out.append((xc, yc))
        elif y == a and x == prev:
            out.append((yc, xc))
    return out


def index_lookups(froms, conds: list[str], stats: Stats | None, fresh, uses: str | None = None):
    """An unplanned join's ``node`` items with an indexed equality, each read from its own
    lookup CTE (see :func:`index_lookup`): (froms, conds, new CTEs). ``uses``: the text of
    the rest of the statement (its select list …), for the columns each lookup reads."""
    ctes: list = []
    nodes = {(m or {}).get("alias") for kind, _s, _on, m in froms if kind == "cross" and (m or {}).get("kind") == "node"}
    # (statistics are counted on first use: a query with no such equality must not ask for them)
    if stats is None or not any((m := _LOOKUP.fullmatch(c.strip())) and m.group(1) in nodes for c in conds) \
            or not stats.extra.get("indexed"):
        return froms, conds, ctes
    froms, conds = list(froms), list(conds)
    for k, (kind, sql, on, meta) in enumerate(froms):
        if kind != "cross" or (meta or {}).get("kind") != "node":
            continue
        a = meta["alias"]
        others = " ".join(f"{f_sql} {f_on or ''}" for j, (_k, f_sql, f_on, _m) in enumerate(froms) if j != k)
        src, rest = index_lookup(a, sql, conds, stats, fresh, ctes,
                                  uses=None if uses is None else f"{uses} {others}")
        if src != sql:
            froms[k] = (kind, src, on, meta)
            conds = rest
    return froms, conds, ctes


_LOOKUP = re.compile(r'\(?([A-Za-z_]\w*)\.("?)(\w+)\2 = (CAST\(\$\w+ AS [A-Z]+\)|\$\w+|\'(?:[^\']|\'\')*\'|-?\d+)\)?')
