"""Join planning: the order in which a pattern's tables are joined.

DuckDB's own join-order optimiser mis-estimates ``list_contains(labels, …)`` filters and
cyclic patterns: on the own-village pattern at 1 M persons it chose an order 15× slower
than a hand-written plan (benchmarks/RESULTS.md). So when the compiler has graph
statistics, a flat join (one SELECT over ``node``/``rel`` items and conditions) is
rewritten as a chain of MATERIALIZED CTEs in an order chosen here:

* start from the item with the fewest rows after its own filters (label counts, a property
  equality, a relationship type's count);
* then repeatedly add the connected item that keeps the intermediate smallest: a node
  looked up by id from a bound end filters (fan-out ≤ 1); a relationship expands by its
  type's average degree on the bound side; one whose both ends are bound closes a cycle and
  filters; lateral items (UNWIND) and traversal CTEs wait for what they reference.

Each step carries only the columns later steps and the final SELECT reference
(``alias.col`` becomes ``step."alias__col"``). Without statistics the flat join is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Counts the planner estimates with (computed once per engine from the workspace)."""
    total_nodes: int
    labels: dict[str, int]
    types: dict[str, tuple[int, int, int]]     # type -> (count, distinct src, distinct dst)
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, con) -> "Stats":
        total = con.execute("SELECT count(*) FROM node").fetchall()[0][0]
        labels = dict(con.execute(
            "SELECT l, count(*) FROM (SELECT unnest(labels) AS l FROM node) GROUP BY l").fetchall())
        types = {t: (c, max(ds, 1), max(dd, 1)) for t, c, ds, dd in con.execute(
            "SELECT type, count(*), approx_count_distinct(src), approx_count_distinct(dst) "
            "FROM rel GROUP BY type").fetchall()}
        return cls(max(total, 1), labels, types)


_IDENT = r'"(?:[^"]|"")+"|[A-Za-z_]\w*'
_COL = r'[A-Za-z_]\w*\.(?:"(?:[^"]|"")+"|[A-Za-z_]\w*)'
_EQUI = re.compile(r"\(?\s*" + _COL + r"\s*=\s*" + _COL + r"\s*\)?")


def _alias_of(sql: str) -> str:
    m = re.search(r"\bAS\s+([A-Za-z_]\w*)\s*$", sql)
    return m.group(1) if m else sql.strip()


def connected_part_items(froms, conds: list[str], sql: str):
    """The FROM items (and their conditions) connected by conditions to the item ``sql`` reads."""
    aliases = [(meta or {}).get("alias") or _alias_of(f_sql) for _k, f_sql, _on, meta in froms]
    if not aliases:
        return froms, conds
    alias_re = re.compile(r"\b(" + "|".join(re.escape(a) for a in aliases) + r")\.(" + _IDENT + r")")
    refs = [{m.group(1) for m in alias_re.finditer(c)} for c in conds]
    item_refs = [{m.group(1) for m in alias_re.finditer(f[1] + " " + (f[2] or ""))} for f in froms]
    keep = {m.group(1) for m in alias_re.finditer(sql)} or set(aliases[:1])
    changed = True
    while changed:
        changed = False
        for r in refs + item_refs:
            if r & keep and not r <= keep:
                keep |= r
                changed = True
    if len(keep) == len(aliases):
        return froms, conds
    out_froms = [f for f, a in zip(froms, aliases) if a in keep]
    if not out_froms or out_froms[0][0] != "cross":
        return froms, conds
    out_conds = [c for c, r in zip(conds, refs) if r <= keep]
    return out_froms, out_conds


def plan_join_chain(froms, conds: list[str], select_items: list[str], stats: Stats | None, fresh,
                    min_items: int = 3):
    """Plan a flat join as a chain of CTEs, one joined item per step. Returns (ctes,
    from_item, remaining conds, rewritten select items) or None to keep the flat join."""
    if stats is None or len(froms) < min_items or any(k != "cross" for k, *_ in froms):
        return None
    items = []
    for _kind, sql, _on, meta in froms:
        items.append({"sql": sql, "alias": (meta or {}).get("alias") or _alias_of(sql), "meta": meta or {}})
    aliases = [it["alias"] for it in items]
    if len(set(aliases)) != len(aliases):
        return None
    alias_re = re.compile(r"\b(" + "|".join(re.escape(a) for a in aliases) + r")\.(" + _IDENT + r")")

    def refs(text: str) -> set[str]:
        return {m.group(1) for m in alias_re.finditer(text)}

    cond_refs = [refs(c) for c in conds]
    for it in items:
        it["deps"] = refs(it["sql"]) - {it["alias"]}
    # columns used outside each item's own FROM text
    used: dict[str, set[str]] = {a: set() for a in aliases}
    for text in [*conds, *select_items, *(it["sql"] for it in items)]:
        for m in alias_re.finditer(text):
            used[m.group(1)].add(m.group(2))

    # only equality conditions join; others (n0.nid < n2.nid, r1.rid <> r2.rid) filter once
    # their items are present, and must not make a cross product look cheap
    equi = [_EQUI.fullmatch(c.strip()) is not None for c in conds]
    est = {it["alias"]: _estimate(it, conds, cond_refs, stats) for it in items}
    by_alias = {it["alias"]: it for it in items}
    order: list[str] = []
    card = 1.0
    remaining = set(aliases)
    while remaining:
        best, best_cost = None, None
        for a in sorted(remaining):
            it = by_alias[a]
            if not it["deps"] <= set(order):
                continue
            if not order:
                cost = est[a]
            else:
                linking = [c for c, r, eq in zip(conds, cond_refs, equi) if eq and a in r and (r - {a})
                           and r - {a} <= set(order)]
                if linking or it["deps"]:
                    cost = card * _fanout(it, linking, stats, est[a])
                else:
                    cost = card * est[a] * 1e6       # a cross product: last resort
            if best_cost is None or cost < best_cost:
                best, best_cost = a, cost
        if best is None:         # unsatisfiable lateral dependencies: keep the flat join
            return None
        order.append(best)
        remaining.discard(best)
        card = max(best_cost, 1.0)

    def col(a: str, c: str) -> str:
        return '"' + f"{a}__{c.strip(chr(34))}".replace('"', '""') + '"'

    ctes = []
    applied = [False] * len(conds)
    prev = None
    done: set[str] = set()
    for a in order:
        it = by_alias[a]
        done.add(a)
        here = [i for i, r in enumerate(cond_refs) if not applied[i] and r <= done]
        name = fresh("st")

        def rewrite(text: str, _prev=prev, _done=frozenset(done - {a})) -> str:
            return alias_re.sub(lambda m: f"{_prev}.{col(m.group(1), m.group(2))}"
                                if m.group(1) in _done else m.group(0), text)

        own = [f"{a}.{c} AS {col(a, c)}" for c in sorted(used[a])] or [f"1 AS {col(a, '_one')}"]
        sel = ([f"{prev}.*"] if prev else []) + own
        src = rewrite(it["sql"]) if prev else it["sql"]
        where = [rewrite(conds[i]) for i in here]
        for i in here:
            applied[i] = True
        if prev is None:
            body = f"SELECT {', '.join(sel)} FROM {src}" + (f" WHERE {' AND '.join(where)}" if where else "")
        else:
            on = " AND ".join(where) if where else "true"
            body = f"SELECT {', '.join(sel)} FROM {prev} JOIN {src} ON {on}"
        ctes.append((name, body))
        prev = name
    final_re = alias_re

    def final(text: str) -> str:
        return final_re.sub(lambda m: f"{prev}.{col(m.group(1), m.group(2))}", text)

    rest = [final(c) for i, c in enumerate(conds) if not applied[i]]
    return ctes, prev, rest, [final(s) for s in select_items]


def _estimate(it, conds, cond_refs, stats: Stats) -> float:
    a, meta = it["alias"], it["meta"]
    own = [c for c, r in zip(conds, cond_refs) if r == {a}]
    kind = meta.get("kind")
    if kind == "node":
        n = float(stats.total_nodes)
        for c in own:
            m = re.search(r"list_contains\(" + re.escape(a) + r"\.labels, '([^']+)'\)", c)
            if m:
                n = min(n, stats.labels.get(m.group(1), 0))
            elif re.search(re.escape(a) + r'\."[^"]+" = ', c):
                n = min(n, 10.0)
        return max(n, 1.0)
    if kind in ("rel", "urel"):
        types = meta.get("types")
        if types:
            n = sum(stats.types.get(t, (0, 1, 1))[0] for t in types)
        else:
            n = sum(v[0] for v in stats.types.values())
        if any(re.search(re.escape(a) + r'\."[^"]+" = ', c) for c in own):
            n = min(n, 10.0)
        return max(float(n) * (2 if kind == "urel" else 1), 1.0)
    if kind == "cte":
        return 100.0
    return 1e7          # traversal CTEs, lateral items: after what they need


def _fanout(it, linking: list[str], stats: Stats, est: float) -> float:
    a, meta = it["alias"], it["meta"]
    kind = meta.get("kind")
    text = " ".join(linking)
    if kind == "node":
        if re.search(re.escape(a) + r"\.nid\b", text):
            return min(est / stats.total_nodes, 1.0)
        return est
    if kind in ("rel", "urel"):
        types = meta.get("types") or list(stats.types)
        cnt = sum(stats.types.get(t, (0, 1, 1))[0] for t in types) or 1
        ds = sum(stats.types.get(t, (0, 1, 1))[1] for t in types) or 1
        dd = sum(stats.types.get(t, (0, 1, 1))[2] for t in types) or 1
        s_col, d_col = ("_s", "_d") if kind == "urel" else ("src", "dst")
        has_s = re.search(re.escape(a) + r"\." + s_col + r"\b", text) is not None
        has_d = re.search(re.escape(a) + r"\." + d_col + r"\b", text) is not None
        if kind == "urel":
            deg = 2 * cnt / (ds + dd)
            if has_s and has_d:
                return deg / max(ds + dd, 1)
            return deg if (has_s or has_d) else est
        if has_s and has_d:
            return (cnt / ds) / dd
        if has_s:
            return cnt / ds
        if has_d:
            return cnt / dd
        if re.search(re.escape(a) + r"\.rid\b", text):
            return 1.0
        return est
    if kind == "cte":
        return 1.0
    return 1e3
