"""Eager aggregation: count one hop's far side per relationship end before joining the
group's node row.

``MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, count(b)`` is, once the
implied ``Benefit`` row is gone (:mod:`.implied`), ``rel ⋈ node GROUP BY g.name``: DuckDB
joins all 1.8 M relationships to their programme row and then groups 1.8 M joined rows.
Grouping the relationships by their end first (``GROUP BY r.dst``: 6 groups) and joining the
six programme rows afterwards gives the same rows (73 → 22 ms at 1 M persons by hand).

Only where that is the same query:

* the SELECT joins exactly one ``rel`` item and one ``node`` item, by one equality of the
  node's id to an end of the relationship (the one hop), nothing else (no left join, no
  correlated subquery, no bindings to collect);
* every other condition reads the relationship alone or the node alone;
* every column that does not aggregate reads the node alone (the group keys, carried
  properties under ``any_value``);
* every aggregate reads the relationship alone and is one that splits exactly:
  ``count(x)`` (partial counts summed), ``min`` / ``max``, and an integer ``sum`` (no
  DISTINCT: a value counted in two partial groups would be counted twice; no float sum: the
  order of additions could change its last bits).

An inner join keeps only ends that have a relationship, so every node row the outer join
reads stands for at least one relationship row, as in the plain join.
"""

from __future__ import annotations

import re

from .statement import top_level

_ALIAS = re.compile(r"\b([A-Za-z_]\w*)\.")
_EQ = re.compile(r"^\(?([A-Za-z_]\w*)\.(\w+) = ([A-Za-z_]\w*)\.(\w+)\)?$")
_COUNT = re.compile(r"^count\((?!DISTINCT )(.+)\)$", re.S)
_MINMAX = re.compile(r"^(min|max)\((?!DISTINCT )(.+)\)$", re.S)
_ISUM = re.compile(r"^coalesce\(CAST\(sum\((?!DISTINCT )(.+)\) AS BIGINT\), 0\)$", re.S)


def _aliases(sql: str) -> set[str]:
    # string literals may hold dots; drop them before looking for "alias."
    return set(_ALIAS.findall(re.sub(r"'(?:[^']|'')*'", "''", sql)))


def _one_argument(inner: str) -> bool:
    """Whether ``inner`` is one argument (its parentheses balance): ``count(a) + count(b)``
    matches ``count(…)`` textually with ``a) + count(b`` as the argument."""
    return top_level(inner) is not None


def _split(expr: str, rel: str) -> tuple[str, str] | None:
    """(partial aggregate over the relationship, how the partials combine) — or None."""
    for rx, part, comb in ((_COUNT, "count({})", "coalesce(CAST(sum({}) AS BIGINT), 0)"),
                           (_ISUM, "CAST(sum({}) AS BIGINT)", "coalesce(CAST(sum({}) AS BIGINT), 0)")):
        m = rx.match(expr)
        if m and _one_argument(m.group(1)) and _aliases(m.group(1)) <= {rel}:
            if m.group(1).strip() == "*":
                return "count(*)", comb
            return part.format(m.group(1)), comb
    m = _MINMAX.match(expr)
    if m and _one_argument(m.group(2)) and _aliases(m.group(2)) <= {rel}:
        return f"{m.group(1)}({m.group(2)})", f"{m.group(1)}({{}})"
    return None


def _rel_meta(froms: list) -> dict:
    return next(m for _k, _s, _on, m in froms if m.get("kind") == "rel")


def _worth_it(stats, meta: dict, end: str) -> bool:
    """Whether grouping first shrinks the rows: with statistics, the relationships of the
    hop's types average at least two per end node there, or have few end nodes (then joining
    them is cheap whatever the rest); without statistics (or types), apply. At 1 M persons
    RECEIVES grouped by the benefit (one each) took as long either way; by the person (17
    each) 130 ms instead of 185-285; OF_PROGRAMME by programme (6 ends) 22 ms instead of 46."""
    types = meta.get("types")
    if stats is None or not types or any(t not in stats.types for t in types):
        return True
    count = sum(stats.types[t][0] for t in types)
    ends = sum(stats.types[t][1 if end == "src" else 2] for t in types)
    return ends <= 10_000 or count >= 2 * ends


def pushdown(froms: list, conds: list[str], cols: list[str], aggregating: list[bool],
             group_by: str, stats=None) -> str | None:
    """The grouped SELECT with the relationship aggregated by its end first, or None when the
    rewrite does not apply (see the module). ``cols`` are ``expr AS cN``; ``aggregating[i]``
    says whether column i is an aggregate (columns past its end read the node: carried
    properties)."""
    if len(froms) != 2 or any(k != "cross" or on for k, _s, on, _m in froms):
        return None
    kinds = {m.get("kind"): (s, m.get("alias")) for _k, s, _on, m in froms}
    if set(kinds) != {"rel", "node"}:
        return None
    (rel_sql, r), (node_sql, n) = kinds["rel"], kinds["node"]
    if rel_sql != f"rel AS {r}" or node_sql != f"node AS {n}":
        return None
    key, r_conds, n_conds = None, [], []
    for c in conds:
        a = _aliases(c)
        m = _EQ.match(c)
        if m and key is None and {m.group(1), m.group(3)} == {r, n}:
            x, xc, _y, yc = m.groups()
            rc, nc = (xc, yc) if x == r else (yc, xc)
            if nc == "nid" and rc in ("src", "dst"):
                key = f"{r}.{rc}"
                continue
        if a <= {r}:
            r_conds.append(c)
        elif a <= {n}:
            n_conds.append(c)
        else:
            return None
    if key is None or not _worth_it(stats, _rel_meta(froms), key.rpartition(".")[2]):
        return None
    inner, outer = [f"{key} AS _k"], []
    for i, col in enumerate(cols):
        expr, _as, name = col.rpartition(" AS ")
        if not _as:
            return None
        if i < len(aggregating) and aggregating[i]:
            sp = _split(expr, r)
            if sp is None:
                return None
            inner.append(f"{sp[0]} AS _a{i}")
            outer.append(f"{sp[1].format(f'_e._a{i}')} AS {name}")
        else:
            if not _aliases(expr) <= {n}:
                return None
            outer.append(col)
    if len(inner) == 1:
        return None           # nothing to aggregate: DISTINCT keys only, no gain worth the risk
    where = (" WHERE " + " AND ".join(r_conds)) if r_conds else ""
    sub = f"(SELECT {', '.join(inner)} FROM {rel_sql}{where} GROUP BY 1) AS _e"
    nwhere = "".join(f" AND {c}" for c in n_conds)
    return (f"SELECT {', '.join(outer)} FROM {sub} JOIN {node_sql} ON {n}.nid = _e._k{nwhere}"
            f"{group_by}")
