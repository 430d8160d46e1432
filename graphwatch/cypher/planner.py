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

from .rowreads import IDENT, KEYED_ROWS, index_lookup, join_keys, keyed_by_index, keyed_row


@dataclass
class Stats:
    """Counts the planner estimates with (computed once per engine from the workspace)."""
    total_nodes: int
    labels: dict[str, int]
    types: dict[str, tuple[int, int, int]]     # type -> (count, distinct src, distinct dst)
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, con, labels: dict[str, int] | None = None) -> "Stats":
        """Counted on ``con``; ``labels``: the nodes per label, when the caller has them."""
        total = con.execute("SELECT count(*) FROM node").fetchall()[0][0]
        if labels is None:
            labels = dict(con.execute(
                "SELECT l, count(*) FROM (SELECT unnest(labels) AS l FROM node) GROUP BY l").fetchall())
        types = {t: (c, max(ds, 1), max(dd, 1)) for t, c, ds, dd in con.execute(
            "SELECT type, count(*), approx_count_distinct(src), approx_count_distinct(dst) "
            "FROM rel GROUP BY type").fetchall()}
        from ..lookups import indexed

        return cls(max(total, 1), labels, types, {"indexed": {c for t, c in indexed(con) if t == "node"}})


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
    alias_re = re.compile(r"\b(" + "|".join(re.escape(a) for a in aliases) + r")\.(" + IDENT + r")")
    refs = [{m.group(1) for m in alias_re.finditer(c)} for c in conds]
    item_refs = [{m.group(1) for m in alias_re.finditer(f[1] + " " + (f[2] or ""))} for f in froms]
    keep = {m.group(1) for m in alias_re.finditer(sql)} or set(aliases[:1])
    # parts are connected by joins (equalities) and lateral items only: a start set is a
    # superset, and following ``pr <> o`` to another part would make it a cross product
    joins = [r for c, r in zip(conds, refs) if _EQUI.fullmatch(c.strip())]
    changed = True
    while changed:
        changed = False
        for r in joins + item_refs:
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
                    min_items: int = 3, estimates: dict[str, float] | None = None):
    """Plan a flat join as a chain of CTEs, one joined item per step. Returns (ctes,
    from_item, remaining conds, rewritten select items, estimated rows) or None to keep the
    flat join. ``estimates``: the rows expected from CTEs the join reads (earlier WITH steps)."""
    if stats is None or not froms or froms[0][0] != "cross":
        return None
    # LEFT JOIN items (an optional property row, an OPTIONAL MATCH) are joined after the
    # planned chain: an inner join commutes with a left join whose ON reads only what came
    # before it, and a condition that reads a left item is applied after both
    cross = [f for f in froms if f[0] == "cross"]
    left = [f for f in froms if f[0] == "left"]
    if len(cross) < min_items or len(cross) + len(left) != len(froms):
        return None
    items = []
    for _kind, sql, _on, meta in cross:
        items.append({"sql": sql, "alias": (meta or {}).get("alias") or _alias_of(sql), "meta": meta or {}})
    aliases = [it["alias"] for it in items]
    left_aliases = [_alias_of(sql) for _k, sql, _on, _m in left]
    if len(set(aliases + left_aliases)) != len(aliases) + len(left_aliases):
        return None
    alias_re = re.compile(r"\b(" + "|".join(re.escape(a) for a in aliases) + r")\.(" + IDENT + r")")
    left_re = re.compile(r"\b(" + "|".join(re.escape(a) for a in left_aliases) + r")\.") if left else None

    def refs(text: str) -> set[str]:
        return {m.group(1) for m in alias_re.finditer(text)}

    if left_re is not None and any(left_re.search(it["sql"]) for it in items):
        return None          # a lateral item reads a left item: keep the written order
    late = [left_re is not None and left_re.search(c) is not None for c in conds]
    cond_refs = [set() if lt else refs(c) for c, lt in zip(conds, late)]
    for it in items:
        it["deps"] = refs(it["sql"]) - {it["alias"]}
    # only equality conditions join; others (n0.nid < n2.nid, r1.rid <> r2.rid) filter once
    # their items are present, and must not make a cross product look cheap
    equi = [_EQUI.fullmatch(c.strip()) is not None for c in conds]
    est = {it["alias"]: _estimate(it, conds, cond_refs, stats, estimates or {}) for it in items}
    by_alias = {it["alias"]: it for it in items}
    found = _order(aliases, by_alias, conds, cond_refs, equi, est, stats)
    if found is None:           # unsatisfiable lateral dependencies: keep the flat join
        return None
    order, card, rows_at = found
    rows_before = [1.0] + rows_at[:-1]

    def col(a: str, c: str) -> str:
        return '"' + f"{a}__{c.strip(chr(34))}".replace('"', '""') + '"'

    # which conditions each step applies, then which columns are still needed after it:
    # a step carries only those (a label list read by its own filter is not carried on)
    applied_at: list[list[int]] = []
    applied = [False] * len(conds)
    done: set[str] = set()
    for a in order:
        done.add(a)
        here = [i for i, r in enumerate(cond_refs) if not applied[i] and not late[i] and r <= done]
        for i in here:
            applied[i] = True
        applied_at.append(here)

    def cols_in(text: str) -> set[tuple[str, str]]:
        return {(m.group(1), m.group(2)) for m in alias_re.finditer(text)}

    final_need: set[tuple[str, str]] = set()
    for text in [*(c for i, c in enumerate(conds) if not applied[i]), *select_items,
                 *(f"{sql} {on or ''}" for _k, sql, on, _m in left)]:
        final_need |= cols_in(text)
    need_after: list[set[tuple[str, str]]] = [set() for _ in order]
    acc = set(final_need)
    for k in range(len(order) - 1, -1, -1):
        need_after[k] = set(acc)
        acc |= cols_in(by_alias[order[k]]["sql"])
        for i in applied_at[k]:
            acc |= cols_in(conds[i])

    ctes = []
    prev = None
    done = set()
    carried: list[tuple[str, str]] = []
    for k, a in enumerate(order):
        it = by_alias[a]
        done.add(a)
        name = fresh("st")

        def rewrite(text: str, _prev=prev, _done=frozenset(done - {a})) -> str:
            return alias_re.sub(lambda m: f"{_prev}.{col(m.group(1), m.group(2))}"
                                if m.group(1) in _done else m.group(0), text)

        keep = [x for x in carried if x in need_after[k]]
        own = sorted(x for x in need_after[k] if x[0] == a)
        sel = [f"{prev}.{col(*x)}" for x in keep] + [f"{a}.{c} AS {col(a, c)}" for _a, c in own]
        if not sel:
            sel = [f"1 AS {col(a, '_one')}"]
        carried = keep + own
        src = rewrite(it["sql"]) if prev else it["sql"]
        where = [rewrite(conds[i]) for i in applied_at[k]]
        if it["meta"].get("kind") == "node":
            read, (src, where) = src, index_lookup(a, src, where, stats, fresh, ctes, uses=" ".join(sel))
            if src == read and prev is not None and rows_before[k] <= KEYED_ROWS and est[a] > 10 * rows_before[k]:
                where = keyed_by_index(a, prev, where)       # (a lookup CTE is one row already)
        if prev is None:
            body = f"SELECT {', '.join(sel)} FROM {src}" + (f" WHERE {' AND '.join(where)}" if where else "")
        else:
            if it["meta"].get("kind") in ("rel", "urel") and est[a] >= BUILD_HINT_RATIO * rows_before[k]:
                where = where + _build_hint(a, prev, where)
            on = " AND ".join(where) if where else "true"
            body = f"SELECT {', '.join(sel)} FROM {prev} JOIN {src} ON {on}"
        ctes.append((name, body))
        prev = name
    final_re = alias_re

    def final(text: str) -> str:
        return final_re.sub(lambda m: f"{prev}.{col(m.group(1), m.group(2))}", text)

    rest = [final(c) for i, c in enumerate(conds) if not applied[i]]
    items_out = [final(s) for s in select_items]
    lefts = [(final(sql), final(on)) for _k, sql, on, _m in left]
    from_item = prev
    for i, (sql, on) in enumerate(lefts):
        uses = " ".join([*rest, *items_out, *(o for _s, o in lefts), *(x for j, (x, _o) in enumerate(lefts) if j != i)])
        from_item += f"\n  LEFT JOIN {keyed_row(sql, on, prev, uses)} ON {on}"
    return ctes, from_item, rest, items_out, card


#: the most items whose every join order is costed; past it the order is chosen greedily
EXHAUSTIVE_ITEMS = 10


#: a relationship step joined by one end whose type(s) the planner expects to have at least
#: this many times the rows so far gets :func:`_build_hint`
BUILD_HINT_RATIO = 10
#: False: no hint (for comparisons)
BUILD_HINTS = True


def _build_hint(a: str, prev: str, where: list[str]) -> list[str]:
    """``prev.key = prev.key`` for the column of the rows so far that joins relationship ``a``
    by one end (true for every row that joins: the join needs the id): DuckDB estimates a scan
    of ``rel`` filtered by any one type as the table's rows over its number of types (1.7 M at
    5 M persons, for 86 k ON_PAYROLL as for 9 M RECEIVES) and a materialised CTE as its
    definition's estimate, so it may build its hash table on the 9 M relationships rather than
    the rows so far (payroll_on_welfare 0.33 s, 0.10 s the other way). The filter makes the rows
    so far look fewer to it, which breaks such a tie the way the planner's counts say. (``key
    IS NOT NULL`` is dropped by DuckDB where the column's statistics show no nulls:
    relative_beneficiary kept building on 9 M RECEIVES, 0.62 s against 0.45 s with this.)"""
    if not BUILD_HINTS:
        return []
    keys = [f"{prev}.{pc}" for _ac, pc in join_keys(a, prev, where)]
    # (a step joined by both ends closes a cycle: at most one row each, no hint)
    return [f"{keys[0]} = {keys[0]}"] if len(keys) == 1 else []


def _order(aliases, by_alias, conds, cond_refs, equi, est, stats):
    """The join order with the smallest sum of estimated intermediate rows: (order, rows of
    the result, estimated rows after each step) or None. Exhaustive over subsets (dynamic programming) up to
    :data:`EXHAUSTIVE_ITEMS` items, greedy (smallest next intermediate) past it. Starting from
    the smallest item alone is not enough: six programmes fan out to every benefit, where the
    few thousand deceased persons of an earlier step reach a few payments each."""
    cache: dict = {}

    def step(a: str, bound: frozenset, card: float) -> float | None:
        """Rows after joining ``a`` to ``bound`` (None: a lateral item waits)."""
        it = by_alias[a]
        if not it["deps"] <= bound:
            return None
        if not bound:
            return est[a]
        key = (a, bound)
        if key not in cache:
            linking = [c for c, r, eq in zip(conds, cond_refs, equi) if eq and a in r and (r - {a}) and r - {a} <= bound]
            if linking or it["deps"]:
                cache[key] = _fanout(it, linking, stats, est[a], by_alias)
            else:
                cache[key] = est[a] * 1e6       # a cross product: last resort
        return card * cache[key]

    if len(aliases) <= EXHAUSTIVE_ITEMS:
        # best[subset] = (sum of intermediate rows, rows, order, rows after each step)
        best: dict[frozenset, tuple[float, float, list[str], list[float]]] = {frozenset(): (0.0, 1.0, [], [])}
        for _size in range(len(aliases)):
            nxt: dict[frozenset, tuple[float, float, list[str], list[float]]] = {}
            for bound, (cost, card, order, at) in best.items():
                for a in aliases:
                    if a in bound:
                        continue
                    rows = step(a, bound, card)
                    if rows is None:
                        continue
                    rows = max(rows, 1.0)
                    key = bound | {a}
                    cand = (cost + rows, rows, order + [a], at + [rows])
                    if key not in nxt or cand[0] < nxt[key][0]:
                        nxt[key] = cand
            best = nxt
            if not best:
                return None
        (_cost, card, order, at), = best.values()
        return order, card, at
    order: list[str] = []
    at: list[float] = []
    card = 1.0
    remaining = set(aliases)
    while remaining:
        choice = None
        for a in sorted(remaining):
            rows = step(a, frozenset(order), card)
            if rows is not None and (choice is None or rows < choice[1]):
                choice = (a, rows)
        if choice is None:
            return None
        order.append(choice[0])
        remaining.discard(choice[0])
        card = max(choice[1], 1.0)
        at.append(card)
    return order, card, at


def _estimate(it, conds, cond_refs, stats: Stats, estimates: dict[str, float]) -> float:
    a, meta = it["alias"], it["meta"]
    own = [c for c, r in zip(conds, cond_refs) if r == {a}]
    kind = meta.get("kind")
    if kind == "node":
        n = float(stats.total_nodes)
        for c in own:
            m = re.search(r"list_contains\(" + re.escape(a) + r"\.labels, '([^']+)'\)", c)
            if m:
                n = min(n, stats.labels.get(m.group(1), 0))
            elif (m := re.search(re.escape(a) + r'\."([^"]+)" = ', c)):
                # an identifying property (one with a lookup index) picks one node
                n = min(n, 1.0 if m.group(1) in stats.extra.get("indexed", ()) else 10.0)
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
        return max(float(estimates.get(a, 100.0)), 1.0)
    starts = {side: _walked_estimate(end, stats, estimates) for side, end in (meta.get("ends") or {}).items()}
    if kind == "trav" and "hops" in meta:
        return starts.get("s", stats.total_nodes) * _walks_per_start(meta, stats)
    if kind == "trav" and len(starts) == 2:       # shortest paths between two known sets
        return max(starts["s"] * starts["t"], 1.0)
    return 1e7          # traversal CTEs, lateral items: after what they need


def single_item_rows(froms, conds: list[str], stats: Stats | None, estimates: dict[str, float]) -> float | None:
    """The rows a join of one item (not planned: nothing to order) is expected to give."""
    if stats is None or len(froms) != 1 or froms[0][0] != "cross":
        return None
    _k, sql, _on, meta = froms[0]
    a = (meta or {}).get("alias") or _alias_of(sql)
    mention = re.compile(rf"\b{re.escape(a)}\.")
    refs = [{a} if mention.search(c) else set() for c in conds]
    return _estimate({"sql": sql, "alias": a, "meta": meta or {}}, conds, refs, stats, estimates)


def _walked_estimate(end: dict, stats: Stats, estimates: dict[str, float]) -> float:
    """The nodes a step started from when they were one node's own filters
    (:func:`graphwatch.cypher.implied.walked_from`): estimated as that node would be."""
    a, conds = end["alias"], sorted(end["conds"])
    return _estimate({"alias": a, "meta": {"kind": "node"}}, conds, [{a}] * len(conds), stats, estimates)


def _label_selectivity(a: str, text: str, est: float, stats: Stats, by_alias) -> float:
    """The share of nodes reached through ``text`` that pass the node item's own filters
    (``est`` of them in the graph). Reached from a relationship's end: against the distinct
    nodes at that end of its types (every OF_PROGRAMME ends at one of six programmes: a
    Programme label passes them all, where a random node would pass 6 in 3 M); from an id a
    query carried over (a CTE's column): every one."""
    for m in re.finditer(r"\b([A-Za-z_]\w*)\.(src|dst|_s|_d)\b", text):
        other = by_alias.get(m.group(1))
        if other is None or other["meta"].get("kind") not in ("rel", "urel"):
            continue
        types = other["meta"].get("types") or list(stats.types)
        if other["meta"]["kind"] == "urel":
            ends = sum(stats.types.get(t, (0, 1, 1))[1] + stats.types.get(t, (0, 1, 1))[2] for t in types)
        else:
            side = 1 if m.group(2) == "src" else 2
            ends = sum(stats.types.get(t, (0, 1, 1))[side] for t in types)
        return min(est / max(ends, 1), 1.0)
    if any(by_alias.get(m.group(1), {}).get("meta", {}).get("kind") == "cte"
           for m in re.finditer(r"\b([A-Za-z_]\w*)\.", text) if m.group(1) != a):
        return 1.0
    return min(est / stats.total_nodes, 1.0)


def _fanout(it, linking: list[str], stats: Stats, est: float, by_alias=None) -> float:
    a, meta = it["alias"], it["meta"]
    kind = meta.get("kind")
    text = " ".join(linking)
    if kind == "node":
        if re.search(re.escape(a) + r"\.nid\b", text):
            return _label_selectivity(a, text, est, stats, by_alias)
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
        # joined on an id: about one row per bound row; joined only on property values
        # (``g2.exclusive_group = grp``), which repeat, a tenth of its rows per value
        if re.search(r"\.(nid|rid|src|dst|_s|_d)\b", text) or not re.search(r'\."[^"]+"', text):
            return 1.0
        return max(est / 10.0, 1.0)
    if kind == "trav" and "hops" in meta:
        if re.search(re.escape(a) + r"\.s\b", text) and re.search(re.escape(a) + r"\.cur\b", text):
            return 1.0          # both ends bound: the walks from a node to one node (to itself: the empty one)
        return _walks_per_start(meta, stats)
    return 1e3


def _walks_per_start(meta: dict, stats: Stats) -> float:
    """Walks of at most ``hops`` relationships from one node (the empty one included): the
    average degree among nodes that have such relationships, to the power of each length."""
    types = meta.get("types") or list(stats.types)
    cnt = sum(stats.types.get(t, (0, 1, 1))[0] for t in types)
    ds = sum(stats.types.get(t, (0, 1, 1))[1] for t in types) or 1
    dd = sum(stats.types.get(t, (0, 1, 1))[2] for t in types) or 1
    deg = 2 * cnt / (ds + dd) if meta.get("direction") == "both" else cnt / min(ds, dd)
    return 1.0 + sum(deg ** k for k in range(1, int(meta["hops"]) + 1))
