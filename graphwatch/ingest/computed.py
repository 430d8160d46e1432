"""Computed fields: templates over fields, constants, and divisions named in words.

Real departmental files rarely carry a village's division code: they say ``城关镇`` and
``东村``. A ``lookup`` finds the division of that name among the divisions already in the
workspace or loaded earlier in the same load, narrowed by the enclosing division's name
when the mapping gives one (``within``). A name that matches no division, or several, is a
quarantined row whose reason names the candidates — never a silent guess.
"""

from __future__ import annotations

from ..store import q
from .mapping import _TEMPLATE_FIELD, LOOKUP_LEVELS, Mapping

#: words that trail an official name but not the name people write: 东村村民委员会, 东村村委会
#: and 东村委会 are all 东村; 城关镇人民政府 is 城关镇
VILLAGE_BODY = "村?(村民委员会|村委会)$"
OTHER_SUFFIXES = ("居民委员会", "居委会", "人民政府", "办事处")
DIVISIONS_TABLE = "_division_names"


def norm_division_sql(expr: str) -> str:
    """SQL of a division name as compared: no spaces, no trailing 村委会 / 人民政府 …"""
    bare = f"regexp_replace(trim({expr}), '\\s+', '', 'g')"
    return (f"regexp_replace(regexp_replace({bare}, '{VILLAGE_BODY}', '村'), "
            f"'({'|'.join(OTHER_SUFFIXES)})$', '')")


def division_names(con, staged: list) -> str:
    """Build the table lookups search: every division (workspace ∪ batches staged so far) with
    its level, name, code (the key after ``Division:``) and its parent's name.

    ``staged`` holds :class:`~graphwatch.store.Batch` objects of this load.
    """
    labels = list(LOOKUP_LEVELS.values())
    node_parts = ["SELECT key, labels, name, 1 AS fresh FROM node WHERE list_has_any(labels, $labels)"]
    rel_parts = ["SELECT src_key, dst_key FROM rel_with_keys WHERE type = 'PART_OF'"]
    for b in staged:
        if b.node_table and "name" in {r[0] for r in con.execute(f"DESCRIBE {b.node_table}").fetchall()}:
            node_parts.append(f"SELECT key, labels, name, 0 AS fresh FROM {b.node_table} "
                              "WHERE list_has_any(labels, $labels)")
        if b.rel_table:
            rel_parts.append(f"SELECT src_key, dst_key FROM {b.rel_table} WHERE type = 'PART_OF'")
    level = "CASE " + " ".join(f"WHEN list_contains(n.labels, '{lab}') THEN '{lvl}'"
                               for lvl, lab in LOOKUP_LEVELS.items()) + " END"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {DIVISIONS_TABLE} AS
        WITH nodes AS (SELECT key, arg_min(labels, fresh) AS labels, arg_min(name, fresh) AS name
                       FROM ({' UNION ALL '.join(node_parts)}) GROUP BY key),
             parents AS (SELECT DISTINCT src_key, dst_key FROM ({' UNION ALL '.join(rel_parts)}))
        SELECT n.key, substr(n.key, strpos(n.key, ':') + 1) AS code, {level} AS level, n.name,
               {norm_division_sql('n.name')} AS norm_name, pn.name AS parent_name,
               {norm_division_sql('pn.name')} AS parent_norm
        FROM nodes n LEFT JOIN parents pr ON pr.src_key = n.key LEFT JOIN nodes pn ON pn.key = pr.dst_key
        WHERE n.name IS NOT NULL""", {"labels": labels})
    return DIVISIONS_TABLE


def add_computed(con, stg_t: str, mapping: Mapping, divisions: str | None, mark) -> None:
    """Add the mapping's computed fields as columns of the staged table, in declaration order.

    ``mark(where, column, reason, params)`` quarantines the rows ``where`` selects.
    """
    for comp in mapping.computed:
        col = q(comp.field)
        con.execute(f"ALTER TABLE {stg_t} ADD COLUMN {col} VARCHAR")
        if comp.template is not None:
            params, parts, pos = {}, [], 0
            for m in _TEMPLATE_FIELD.finditer(comp.template):
                if m.start() > pos:
                    params[f"t{len(params)}"] = comp.template[pos:m.start()]
                    parts.append(f"$t{len(params) - 1}")
                parts.append(f"CAST({q(m.group(1))} AS VARCHAR)")
                pos = m.end()
            if pos < len(comp.template):
                params[f"t{len(params)}"] = comp.template[pos:]
                parts.append(f"$t{len(params) - 1}")
            # NULL when any field is empty: || propagates NULL, as node keys do
            con.execute(f"UPDATE {stg_t} SET {col} = {' || '.join(parts)}", params)
        elif comp.lookup is None:
            con.execute(f"UPDATE {stg_t} SET {col} = $v", {"v": None if comp.const is None else str(comp.const)})
        else:
            _lookup(con, stg_t, mapping, comp, divisions, mark)


def _lookup(con, stg_t: str, mapping: Mapping, comp, divisions: str | None, mark) -> None:
    if divisions is None:
        raise AssertionError("a lookup needs the divisions table (ingest.load builds it)")
    name = q(comp.name)
    within = f"s.{q(comp.within)}" if comp.within else "NULL"
    found = f"_found_{comp.field}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {q(found)} AS
        SELECT s._line, list(d.code ORDER BY d.code) AS codes,
               list(d.code || ' ' || d.name || coalesce(' (' || d.parent_name || ')', '') ORDER BY d.code) AS shown
        FROM {stg_t} s JOIN {divisions} d ON d.level = $level AND d.norm_name = {norm_division_sql('s.' + name)}
             AND ({within} IS NULL OR d.parent_norm = {norm_division_sql(within)})
        WHERE s._err IS NULL AND s.{name} IS NOT NULL
        GROUP BY s._line""", {"level": comp.lookup})
    con.execute(f"UPDATE {stg_t} s SET {q(comp.field)} = f.codes[1] FROM {q(found)} f "
                "WHERE s._line = f._line AND len(f.codes) = 1")
    column = mapping.column_for(comp.name)
    outer_within = f"{stg_t}.{q(comp.within)}" if comp.within else "NULL"
    where_in = f"' in ' || {q(comp.within)}" if comp.within else "''"
    mark(f"{name} IS NOT NULL AND _line IN (SELECT _line FROM {q(found)} WHERE len(codes) > 1)", "$c",
         f"'ambiguous ' || $level || ' ' || {name} || {where_in} || ': candidates ' || "
         f"array_to_string((SELECT shown FROM {q(found)} f WHERE f._line = {stg_t}._line), '; ')",
         {"c": column, "level": comp.lookup})
    mark(f"{name} IS NOT NULL AND {q(comp.field)} IS NULL", "$c",
         f"'unknown ' || $level || ' ' || {name} || {where_in} || ' (no division of that name in the workspace'"
         f" || coalesce('; ' || $level || 's there: ' || (SELECT array_to_string(list(DISTINCT d.name ORDER BY d.name)[1:8], ', ') "
         f"FROM {divisions} d WHERE d.level = $level AND ({outer_within} IS NULL OR d.parent_norm = "
         f"{norm_division_sql(outer_within)})), '') || ')'",
         {"c": column, "level": comp.lookup})
    con.execute(f"DROP TABLE {q(found)}")
