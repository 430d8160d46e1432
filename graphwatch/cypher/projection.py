"""WITH and RETURN: projection, implicit grouping, ORDER BY / SKIP / LIMIT, and the hidden
binding columns; UNWIND.

A projection becomes a CTE ``projN`` whose columns ``c0, c1 …`` are the items, followed by
hidden sort keys and binding columns. Grouped (an aggregate or DISTINCT), it groups by the
items that do not aggregate, and collects the bindings of every row of a group into one
list of node ids and one of relationship ids, so an aggregated row still knows what it was
built from. A WITH that orders keeps its row order (``row_number()``) for a later
``collect()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import eager, ir
from .checker import outside_aggregates
from .implied import drop_implied_nodes
from .scope import Scope, Var
from .valuetypes import is_list, list_element

if TYPE_CHECKING:
    from .compiler import Compilation


def unwind(cx: Compilation, u: ir.Unwind, sc: Scope) -> Scope:
    s = cx.sql(u.expr, sc)
    a = cx.fresh("u")
    sc.add(f"(SELECT unnest({s}) AS x) AS {a}", kind="lateral", alias=a)
    t = cx.type_of(u.expr)
    assert is_list(t)
    # a list may hold nulls: reading an element's row is a left join
    sc.vars[u.alias] = Var(u.alias, list_element(t), f"{a}.x", nullable=True)
    return sc


def with_(cx: Compilation, p: ir.Projection, sc: Scope) -> Scope:
    """WITH: the projected scope the next clause reads (ordered, limited, filtered)."""
    out, order_keys, tail = _project(cx, p, sc)
    if order_keys or p.limit is not None or p.skip is not None:
        # keep the order for a following collect() / RETURN
        if order_keys:
            out.order_col = f"row_number() OVER (ORDER BY {', '.join(f'{k} {d}' for k, d in order_keys)})"
        out = cx.scope_to_cte(out, tail, extra=_sort_columns(order_keys))
    if p.where is not None:
        out.conds.append(cx.sql(p.where, out))
    return out


def final(cx: Compilation, p: ir.Projection, sc: Scope) -> tuple[str, list[str], list[tuple[str, str, bool]]]:
    """RETURN: the statement's last SELECT, its value columns and its binding columns."""
    out, order_keys, tail = _project(cx, p, sc)
    n = len(cx.checked.names[id(p)])
    sel = [f"{out.vars[name].sql} AS c{i}" for i, name in enumerate(cx.checked.names[id(p)])]
    binds = []
    for j, (s, kind, is_list_) in enumerate(out.binds):
        sel.append(f"{s} AS b{j}")
        binds.append((f"b{j}", kind, is_list_))
    return cx.render(out, sel + _sort_columns(order_keys)) + tail, [f"c{i}" for i in range(n)], binds


def union(cx: Compilation, finals: list[tuple[str, list[str], list]], all_: bool):
    """``UNION [ALL]`` of the queries' final SELECTs (:func:`final`). UNION ALL keeps each
    query's rows in order, one query after the other. With bindings, each query's binding
    columns become four (node ids, relationship ids, matches, truncated); UNION then merges
    the bindings of the rows it makes one."""
    n = len(finals[0][1])
    cols = [f"c{i}" for i in range(n)]
    with_b = cx.opt.bindings is not None
    subs = []
    for k, (text, part_cols, binds) in enumerate(finals):
        sel = [f"u{k}.{c} AS c{i}" for i, c in enumerate(part_cols)]
        if with_b:
            sel += [f"{x} AS b{j}" for j, x in enumerate(_flat_bindings(binds, f"u{k}."))]
        if all_:
            sel += [f"{k} AS _u", "row_number() OVER () AS _r"]
        subs.append(f"SELECT {', '.join(sel)} FROM ({text}) AS u{k}")
    bind_cols = [("b0", "node", True), ("b1", "rel", True), ("b2", "count", False), ("b3", "truncated", False)]
    out = ", ".join(cols + ([b for b, *_ in bind_cols] if with_b else []))
    if all_:
        body = "\nUNION ALL\n".join(subs)
        return f"SELECT {out} FROM ({body}) AS _union ORDER BY _u, _r", cols, bind_cols if with_b else []
    if not with_b:
        return "\nUNION\n".join(f"SELECT {out} FROM ({s})" for s in subs), cols, []
    body = "\nUNION ALL\n".join(subs)
    merged = (", list_distinct(flatten(list(b0))) AS b0, list_distinct(flatten(list(b1))) AS b1, "
              "CAST(sum(b2) AS BIGINT) AS b2, bool_or(b3) AS b3")
    group = ", ".join(str(i + 1) for i in range(n))
    return f"SELECT {', '.join(cols)}{merged} FROM ({body}) AS _union GROUP BY {group}", cols, bind_cols


#: an id list that is always empty (a zero-length hop's nodes between its ends)
EMPTY_IDS = "CAST([] AS BIGINT[])"


def _flat_bindings(binds: list[tuple[str, str, bool]], prefix: str) -> list[str]:
    """A row's binding columns as four: node ids, relationship ids, matches, truncated."""
    def ids(kind: str) -> str:
        parts = [(f"coalesce({prefix}{c}, [])" if is_list_ else f"[{prefix}{c}]")
                 for c, k, is_list_ in binds if k == kind]
        if not parts:
            return EMPTY_IDS
        return f"list_filter({' || '.join(parts)}, lambda _x: _x IS NOT NULL)"

    count = next((f"{prefix}{c}" for c, k, _ in binds if k == "count"), "CAST(1 AS BIGINT)")
    truncated = next((f"{prefix}{c}" for c, k, _ in binds if k == "truncated"), "false")
    return [ids("node"), ids("rel"), count, truncated]


def _sort_columns(order_keys: list[tuple[str, str]]) -> list[str]:
    """The sort keys selected by name (_o0 …): a planned join chain renames the tables the
    keys read, which an ORDER BY outside the select list could not follow."""
    return [f"{k} AS _o{j}" for j, (k, _d) in enumerate(order_keys)]


def _project(cx: Compilation, p: ir.Projection, sc: Scope) -> tuple[Scope, list[tuple[str, str]], str]:
    """The projection CTE; returns a scope reading it, the sort keys (SQL over that scope,
    direction) and the ORDER BY / LIMIT / OFFSET tail, which sorts by the keys' names
    (:func:`_sort_columns` selects them)."""
    checked = cx.checked
    items, names = checked.items[id(p)], checked.names[id(p)]
    grouped = checked.is_grouped(p)
    compiled = [(name, cx.sql(it.expr, sc), cx.type_of(it.expr), id(it) in checked.aggregating)
                for name, it in zip(names, items)]
    nullable = [_may_be_null(it.expr, sc) for it in items]
    cols = [f"{s} AS c{i}" for i, (_name, s, _t, _agg) in enumerate(compiled)]
    sort_cols: list[tuple[str, bool]] = []        # (column of the projection, descending)
    after = []                                    # keys over the projected columns (grouped)
    for si in p.order:
        how = checked.sort_keys[id(si)]
        if how[0] == "constant":
            continue
        if how[0] == "column":
            sort_cols.append((f"c{how[1]}", si.descending))
        elif how[0] == "output":
            after.append(si)
        else:
            # a hidden sort key over the input and the new names (no aggregation, no DISTINCT)
            both = Scope(froms=sc.froms, conds=sc.conds, vars=dict(sc.vars), binds=sc.binds, sub=sc.sub)
            for (name, s, t, _agg), null, it in zip(compiled, nullable, items):
                same = _passed_on(it, sc)
                # a variable passed on unchanged keeps its joined row (a key reading its property
                # must not join the row again)
                both.vars[name] = same if same is not None else Var(name, t, s, nullable=null)
            k = len(cols)
            cols.append(f"{cx.sql(si.expr, both)} AS c{k}")
            sort_cols.append((f"c{k}", si.descending))
    bind_out: list[tuple[str, str, bool]] = []
    group_by = ""
    if grouped:
        # by position: an alias such as c1 could also name a column of the input
        keys = [str(i + 1) for i, c in enumerate(compiled) if not c[3]]
        if cx.opt.bindings is not None:
            bind_out = _group_bindings(cx, sc, cols)
        # a key node's property read beside an aggregate (RETURN a, a.name + count(c)): the
        # node's id decides it, but DuckDB must be told it is a key too (a hidden column)
        key_vars = {it.expr.name for it, c in zip(items, compiled) if not c[3] and isinstance(it.expr, ir.Var)}
        for prop in sorted({cx.sql(x, sc) for it, c in zip(items, compiled) if c[3]
                            for x, _local in outside_aggregates(it.expr) if isinstance(x, ir.Prop)
                            and isinstance(x.subject, ir.Var) and x.subject.name in key_vars}):
            keys.append(str(len(cols) + 1))
            cols.append(f"{prop} AS c{len(cols)}")
        if keys:
            group_by = " GROUP BY " + ", ".join(keys)
    else:
        # a binding that is a column already (a variable's id: RETURN r passes on r's id twice)
        # is that column, and one that is always empty is left out: every column here is
        # carried through each later step (poor_with_assets' 1.5 M rows carried three ids twice
        # and two lists, one always empty)
        same = {c.rsplit(" AS ", 1)[0]: c.rsplit(" AS ", 1)[1] for c in cols}
        for s, kind, is_list_ in sc.binds:
            if s == EMPTY_IDS:
                continue
            if s not in same:
                same[s] = f"c{len(cols)}"
                cols.append(f"{s} AS {same[s]}")
            bind_out.append((same[s], kind, is_list_))
        if sc.order_col and not p.order:
            k = len(cols)
            cols.append(f"{sc.order_col} AS c{k}")
            sort_cols.append((f"c{k}", False))
    # the properties later clauses read from a node or relationship passed on unchanged
    carried: dict[str, list[tuple[str, str]]] = {}
    for (col_name, _s, _t, _agg), it in zip(compiled, items):
        same = _passed_on(it, sc)
        for key, s in (cx.carried(same, col_name) if same is not None else []):
            carried.setdefault(col_name, []).append((key, f"c{len(cols)}"))
            cols.append(f"{f'any_value({s})' if grouped else s} AS c{len(cols)}")
    name = cx.fresh("proj")
    body = None
    if grouped and cx.opt.eager_aggregation and cx.opt.bindings is None and not sc.sub:
        froms, conds, cols2 = sc.froms, sc.conds, cols
        if cx.opt.implied_labels:
            froms, conds, cols2 = drop_implied_nodes(froms, conds, cols, cx.schema)
        body = eager.pushdown(froms, conds, cols2, [c[3] for c in compiled], group_by,
                               cx.opt.stats if cx.opt.plan_joins else None)
        if body is not None:
            cx.last_estimate = None
    cx.add_cte(name, body if body is not None else cx.render(sc, cols) + group_by)
    if cx.last_estimate is not None:
        cx.estimates[name] = cx.last_estimate
    out = Scope()
    out.add(name, kind="cte")
    for i, (col_name, _s, t, _agg) in enumerate(compiled):
        same = _passed_on(items[i], sc)
        out.vars[col_name] = Var(col_name, t, f"{name}.c{i}", nullable=nullable[i],
                                 props={key: f"{name}.{c}" for key, c in carried.get(col_name, [])},
                                 labels=same.labels if same is not None else ())
    out.binds = [(c.format(col=f"{name}.") if "{col}" in c else f"{name}.{c}", k, lst) for c, k, lst in bind_out]
    order_keys = [(f"{name}.{c}", _direction(desc)) for c, desc in sort_cols]
    order_keys += [(cx.sql(si.expr, out), _direction(si.descending)) for si in after]
    tail = ""
    if order_keys:
        tail += " ORDER BY " + ", ".join(f"_o{j} {d}" for j, (_k, d) in enumerate(order_keys))
    if p.limit is not None:
        tail += f" LIMIT {_row_count(cx, p.limit)}"
    if p.skip is not None:
        tail += f" OFFSET {_row_count(cx, p.skip)}"
    return out, order_keys, tail


def _group_bindings(cx: Compilation, sc: Scope, cols: list[str]) -> list[tuple[str, str, bool]]:
    """The binding columns of a grouped projection: the ids of the group's first N matches
    (N = ``Options.bindings``; the smallest by their ids, so a run picks the same ones every
    time), how many matches the group has, and whether some were left out."""
    def ids(kind: str) -> str:
        # an OPTIONAL MATCH that matched nothing leaves its lists NULL, and
        # list || NULL is NULL: it would wipe the group's other bindings
        parts = [(f"coalesce({s}, [])" if is_list_ else f"[{s}]") for s, k, is_list_ in sc.binds if k == kind]
        return " || ".join(parts) if parts else EMPTY_IDS

    count = next((s for s, k, _ in sc.binds if k == "count"), None)
    truncated = next((s for s, k, _ in sc.binds if k == "truncated"), None)
    n = int(cx.opt.bindings)
    match = f"{{'n': {ids('node')}, 'r': {ids('rel')}}}"
    k = len(cols)
    if n < 1_000_000:       # DuckDB's min_by keeps at most 999 999
        cols.append(f"min_by({match}, {match}, {n}) AS c{k}")
    else:
        cols.append(f"list({match} ORDER BY {match})[1:{n}] AS c{k}")
    cols.append(f"{'count(*)' if count is None else f'sum({count})'} AS c{k + 1}")
    over = f"count(*) > {n}" + (f" OR bool_or({truncated})" if truncated else "")
    cols.append(f"({over}) AS c{k + 2}")
    return [(f"list_distinct(flatten(list_transform({{col}}c{k}, lambda _m: _m.n)))", "node", True),
            (f"list_distinct(flatten(list_transform({{col}}c{k}, lambda _m: _m.r)))", "rel", True),
            (f"{{col}}c{k + 1}", "count", False), (f"{{col}}c{k + 2}", "truncated", False)]


def _passed_on(it: ir.ProjItem, sc: Scope) -> Var | None:
    """The input variable a projection item passes on unchanged (``WITH p`` / ``WITH p AS q``)."""
    if isinstance(it.expr, ir.Var) and it.expr.name in sc.vars:
        return sc.vars[it.expr.name]
    return None


def _may_be_null(e: ir.Expr, sc: Scope) -> bool:
    """Whether a projected node or relationship may be null (then reading its row is a left
    join): a variable only if OPTIONAL MATCH bound it, anything computed always."""
    if isinstance(e, ir.Var):
        return sc.vars[e.name].nullable
    return True


def _direction(descending: bool) -> str:
    """Cypher sorts nulls last ascending, first descending."""
    return "DESC NULLS FIRST" if descending else "ASC NULLS LAST"


def _row_count(cx: Compilation, e: ir.Expr) -> str:
    if isinstance(e, ir.Literal):
        return cx.bind_value(e.value)
    return f"CAST({cx.bind_param(e)} AS BIGINT)"
