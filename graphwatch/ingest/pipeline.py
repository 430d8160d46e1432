"""Stage one source: text cells → typed fields → node/relationship records, in DuckDB.

All parsing is vectorised SQL over the whole table (so a million-row registry stages in
seconds). Every literal taken from a mapping is bound as a parameter, never formatted in.
A row with any problem is quarantined whole, with the column and the reason.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb


from ..schema import SQL_TYPES, Schema
from ..store import Batch, q, quarantine_rows, quarantine_table
from .computed import add_computed
from .fieldtypes import month_last_sql, parse_sql, type_error
from .mapping import _TEMPLATE_FIELD, Mapping, NodeSpec, When, norm_header
from .sources import RawSource

_counter = itertools.count()


class Params:
    """Collects bound parameters: ``p.bind(value)`` returns the placeholder."""

    def __init__(self):
        self.values: dict[str, object] = {}

    def bind(self, value) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def dataset_name(mapping: Mapping, source: str) -> str:
    if "://" in source:
        tail = source.partition("#")[2] or mapping.sql.get("table") or "query"
        return f"{mapping.name}/{Path(source.partition('#')[0].split('://', 1)[1]).name}#{tail}"
    tail = Path(source).name
    return f"{mapping.name}/{tail}"


def _when_sql(when: When | None, p: Params) -> str:
    if when is None:
        return "true"
    f = q(when.field)
    if when.equals:   # typed values (mapping.py): a boolean field compares with booleans
        return f"({f} IS NOT NULL AND list_contains({p.bind(list(when.equals))}, {f}))"
    return f"({f} IS NOT NULL)"


def _key_sql(spec: NodeSpec, p: Params, dataset: str) -> str:
    if spec.resident_key or "{@record}" in spec.key:
        record = f"({p.bind(dataset)} || '#' || _record)"
    if spec.resident_key:
        f = spec.resident_key
        return (f"CASE WHEN {q(f + '_valid')} THEN {p.bind(spec.labels[0] + ':')} || {q(f)} "
                f"ELSE {p.bind(spec.labels[0] + ':@')} || {record} END")
    parts = []
    pos = 0
    for m in _TEMPLATE_FIELD.finditer(spec.key):
        if m.start() > pos:
            parts.append(p.bind(spec.key[pos:m.start()]))
        name = m.group(1)
        parts.append(record if name == "@record" else f"CAST({q(name)} AS VARCHAR)")
        pos = m.end()
    if pos < len(spec.key):
        parts.append(p.bind(spec.key[pos:]))
    # NULL when any field is NULL: || propagates NULL
    return "(" + " || ".join(parts) + ")"


def _value_sql(value, p: Params, sql_type: str) -> str:
    if isinstance(value, dict):
        return f"CAST({p.bind(value['const'])} AS {sql_type})"
    return f"CAST({q(value)} AS {sql_type})"


def stage(con: duckdb.DuckDBPyConnection, raw: RawSource, mapping: Mapping, schema: Schema, *,
          divisions: str | None = None) -> Batch:
    """Stage ``raw`` into temp tables on ``con``; returns the :class:`Batch` to commit.

    ``divisions`` names a table of divisions (:func:`.computed.division_names`) for mappings
    whose computed fields look divisions up by name.
    """
    from ..resolve.ids import register_sql_macros

    register_sql_macros(con)
    i = next(_counter)
    dataset = dataset_name(mapping, raw.source)
    raw_t, stg_t = f"_raw{i}", f"_stg{i}"
    con.register(f"_arrow{i}", raw.table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw_t} AS SELECT * FROM _arrow{i}")
    con.unregister(f"_arrow{i}")

    p = Params()
    pos = {norm_header(h): k for k, h in enumerate(raw.headers)}
    # 1. raw text per field
    selects = ["_line"]
    for c in mapping.columns:
        k = pos.get(norm_header(c.header))
        selects.append(f"NULLIF(trim(c{k}), '') AS {q('r_' + c.field)}" if k is not None
                       else f"CAST(NULL AS VARCHAR) AS {q('r_' + c.field)}")
    # 2. typed fields and per-field errors
    typed, errs = ["_line"], []
    for c in mapping.columns:
        r = q("r_" + c.field)
        if c.values:
            keys = p.bind(list(c.values))
            vals = p.bind([c.values[k] for k in c.values])
            mapped = f"CASE WHEN list_position({keys}, {r}) > 0 THEN {vals}[list_position({keys}, {r})] " \
                     f"ELSE {'NULL' if c.strict_values else r} END"
            if c.strict_values:
                errs.append((c, f"CASE WHEN {r} IS NOT NULL AND coalesce(list_position({keys}, {r}), 0) = 0 THEN "
                                f"'value not allowed: ' || {r} || ' (allowed: ' || array_to_string({keys}, ', ') || ')' END"))
        else:
            mapped = r
        if c.type in ("resident_id", "uscc"):
            fn = "gw_clean_resident_id" if c.type == "resident_id" else "gw_clean_uscc"
            typed += [f"{fn}({mapped}) AS {q('_s_' + c.field)}"]
        else:
            expr = parse_sql(mapped, c.type, p.bind, date_format=c.date_format, scale=c.scale)
            typed.append(f"{expr} AS {q(c.field)}")
            if c.type != "string":   # the typed column is computed once, in s2
                errs.append((c, f"CASE WHEN {mapped} IS NOT NULL AND {q(c.field)} IS NULL THEN "
                                f"{p.bind(type_error(c.type, date_format=c.date_format))} || {r} END"))
        if c.required:
            errs.append((c, f"CASE WHEN {r} IS NULL THEN 'missing required value' END"))
        typed.append(r)
    unpack = ["*"]
    for c in mapping.columns:
        if c.type in ("resident_id", "uscc"):
            s = q("_s_" + c.field)
            unpack += [f"{s}.id AS {q(c.field)}", f"{s}.status AS {q(c.field + '_status')}",
                       f"{s}.status IN ('valid', 'legacy15') AS {q(c.field + '_valid')}"]
        elif c.type == "month":
            unpack.append(f"{month_last_sql(q(c.field))} AS {q(c.field + '_last')}")
    if errs:
        err_case = "CASE " + " ".join(
            f"WHEN ({e}) IS NOT NULL THEN {{'column': {p.bind(c.header)}, 'reason': ({e})}}" for c, e in errs) + " END"
    else:
        err_case = "NULL"
    err_case = f"CAST({err_case} AS STRUCT(\"column\" VARCHAR, reason VARCHAR))"
    computed_id = any(c.field == mapping.record_id for c in mapping.computed)
    record = f"CAST({q(mapping.record_id)} AS VARCHAR)" if mapping.record_id and not computed_id \
        else "CAST(_line AS VARCHAR)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stg_t} AS
        WITH s1 AS (SELECT {', '.join(selects)} FROM {raw_t}),
             s2 AS (SELECT {', '.join(typed)} FROM s1),
             s3 AS (SELECT {', '.join(unpack)} FROM s2)
        SELECT *, {record} AS _record, {err_case} AS _err FROM s3
    """, p.values)

    def mark(where_sql: str, column_sql: str, reason_sql: str, params: dict):
        con.execute(f"""UPDATE {stg_t} SET _err = {{'column': {column_sql}, 'reason': {reason_sql}}}
                        WHERE _err IS NULL AND ({where_sql})""", params)

    # computed fields (templates, constants, divisions named in words)
    add_computed(con, stg_t, mapping, divisions, mark)
    if mapping.record_id and any(c.field == mapping.record_id for c in mapping.computed):
        con.execute(f"UPDATE {stg_t} SET _record = CAST({q(mapping.record_id)} AS VARCHAR)")

    if mapping.record_id:
        mark("_record IS NULL", "$c", "'missing record id'", {"c": mapping.column_for(mapping.record_id)})
        mark(f"_line IN (SELECT _line FROM (SELECT _line, row_number() OVER (PARTITION BY _record ORDER BY _line) AS n "
             f"FROM {stg_t} WHERE _err IS NULL) WHERE n > 1)", "$c", "'duplicate record id ' || _record",
             {"c": mapping.column_for(mapping.record_id)})

    # 3. rows that disagree with an earlier row about the same node (mapping's on_conflict)
    conflict_notes, dropped = _conflicts(con, stg_t, mapping, dataset, i)

    # 4. records
    node_props = schema.node_properties
    batch = Batch(dataset=dataset, mapping=mapping.name, source=raw.source, format=raw.format,
                  encoding=raw.encoding, sha256=raw.sha256, rows_read=raw.rows_read, line_label=raw.line_label,
                  notes=list(raw.notes) + conflict_notes)
    p = Params()
    ds = p.bind(dataset)
    node_selects = []
    for spec in mapping.nodes:
        if spec.ref:
            continue
        cols = [f"{ds} AS dataset", f"{_key_sql(spec, p, dataset)} AS key", "_record AS record", f"CAST({p.bind(list(spec.labels))} AS VARCHAR[]) AS labels",
                f"CAST({p.bind(mapping.priority)} AS INTEGER) AS priority", "_line AS line"]
        # only the properties the mapping sets: the store fills the rest with NULL
        for prop in spec.properties:
            cols.append(_value_sql(spec.properties[prop], p, SQL_TYPES[node_props[prop]]) + f" AS {q(prop)}")
        keep = f" AND _line NOT IN (SELECT _line FROM {dropped[spec.name]})" if spec.name in dropped else ""
        node_selects.append(f"SELECT {', '.join(cols)} FROM {stg_t} WHERE _err IS NULL AND "
                            f"{_when_sql(spec.when, p)} AND {_key_sql(spec, p, dataset)} IS NOT NULL{keep}")
    if node_selects:
        batch.node_table = f"_nodes{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.node_table} AS "
                    + " UNION ALL BY NAME ".join(node_selects), p.values)

    nodes = {n.name: n for n in mapping.nodes}
    rel_props = schema.rel_properties
    p = Params()
    ds = p.bind(dataset)
    rel_selects = []
    for idx, rel in enumerate(mapping.rels):
        a, b = nodes[rel.source], nodes[rel.target]
        ka, kb = _key_sql(a, p, dataset), _key_sql(b, p, dataset)
        cols = [f"{ds} AS dataset", f"{ds} || '#' || _record || '#' || {p.bind(str(idx))} AS key", f"{p.bind(rel.type)} AS type",
                f"{ka} AS src_key", f"{kb} AS dst_key", "_record AS record", "_line AS line",
                (f"CAST({q(rel.valid_from)} AS DATE)" if rel.valid_from else "CAST(NULL AS DATE)") + " AS valid_from",
                (f"CAST({q(rel.valid_to)} AS DATE)" if rel.valid_to else "CAST(NULL AS DATE)") + " AS valid_to"]
        for prop in rel.properties:
            cols.append(_value_sql(rel.properties[prop], p, SQL_TYPES[rel_props[prop]]) + f" AS {q(prop)}")
        cond = " AND ".join([_when_sql(rel.when, p), _when_sql(a.when, p), _when_sql(b.when, p),
                             f"{ka} IS NOT NULL", f"{kb} IS NOT NULL"])
        rel_selects.append(f"SELECT {', '.join(cols)} FROM {stg_t} WHERE _err IS NULL AND {cond}")
    if rel_selects:
        batch.rel_table = f"_rels{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.rel_table} AS "
                    + " UNION ALL BY NAME ".join(rel_selects), p.values)

    p = Params()
    ds = p.bind(dataset)
    ref_selects = []
    for spec in mapping.nodes:
        if not spec.ref:
            continue
        fields = [f for f in _TEMPLATE_FIELD.findall(spec.key) if f != "@record"] or [spec.resident_key]
        col = mapping.column_for(fields[0])
        ref_selects.append(f"SELECT {ds} AS dataset, {_key_sql(spec, p, dataset)} AS key, _line AS line, {p.bind(col)} AS \"column\" "
                           f"FROM {stg_t} WHERE _err IS NULL AND {_when_sql(spec.when, p)} AND {_key_sql(spec, p, dataset)} IS NOT NULL")
    if ref_selects:
        batch.ref_table = f"_refs{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.ref_table} AS " + " UNION ALL ".join(ref_selects), p.values)

    # 5. quarantine: read errors + field errors, with the raw cells as JSON
    batch.quarantine_table = f"_quar{i}"
    quarantine_table(con, batch.quarantine_table, raw.errors)
    quarantine_rows(con, batch.quarantine_table,
                    f'(SELECT _line AS line, _err."column" AS "column", _err.reason AS reason FROM {stg_t} '
                    f'WHERE _err IS NOT NULL)', raw_t, raw.headers)
    con.execute(f"DROP TABLE {stg_t}")
    for table in dropped.values():
        con.execute(f"DROP TABLE IF EXISTS {table}")
    # the raw table stays until commit: dangling references found then also need their cells
    batch.raw_table = raw_t
    batch.raw_headers = list(raw.headers)
    return batch


_CONFLICT_EFFECT = {
    "quarantine": "quarantined (on_conflict: quarantine)",
    "first": "the first row's values kept, the later values dropped (on_conflict: first)",
    "priority": "every statement kept; the node takes the most authoritative value (on_conflict: priority)",
}


def _conflicts(con, stg_t: str, mapping: Mapping, dataset: str, i: int) -> tuple[list[str], dict[str, str]]:
    """Find rows that give a node other values than the first row with the same key.

    Returns the accounting notes (always, whatever the mapping chose) and, for nodes with
    ``on_conflict: first``, a table of the rows whose statement about that node is dropped.
    With ``quarantine`` the rows are marked bad here (the column that disagrees is named).
    """
    notes, dropped = [], {}
    for spec in mapping.nodes:
        if spec.ref or not spec.properties:
            continue
        p = Params()
        key = _key_sql(spec, p, dataset)
        values = list(spec.properties.values())
        props = [_value_sql(v, p, "VARCHAR") for v in values]
        cols = [mapping.column_for(v) if isinstance(v, str) else None for v in values]
        table = f"_conflict{i}_{len(dropped) + len(notes)}"
        # the first row of each key that has more than one (a hash aggregate: a window sorted
        # every staged row by key, for each node of every mapping), then the rows that differ
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            WITH t AS MATERIALIZED (
                SELECT _line, {key} AS k, [{', '.join(props)}] AS vals
                FROM {stg_t} WHERE _err IS NULL AND {_when_sql(spec.when, p)} AND {key} IS NOT NULL),
            f AS (SELECT k, min(_line) AS first_line, arg_min(vals, _line) AS first_vals
                  FROM t GROUP BY k HAVING count(*) > 1)
            SELECT t._line, t.k, f.first_line, f.first_vals, t.vals FROM t JOIN f ON t.k = f.k
            WHERE t.vals IS DISTINCT FROM f.first_vals
        """, p.values)
        rows, nodes = con.execute(f"SELECT count(*), count(DISTINCT k) FROM {table}").fetchone()
        if rows:
            notes.append(f"{rows:,} row(s) disagree with an earlier row about the same {spec.labels[0]} "
                         f"({nodes:,} node(s), node {spec.name!r}): {_CONFLICT_EFFECT[spec.on_conflict]}")
        if rows and spec.on_conflict == "quarantine":
            # name the first column that disagrees
            con.execute(f"""UPDATE {stg_t} s SET _err = {{
                    'column': $cols[list_position(list_transform(range(1, len(d.vals) + 1),
                               lambda x: d.vals[x] IS DISTINCT FROM d.first_vals[x]), true)],
                    'reason': 'duplicate key with conflicting values: line ' || d.first_line ||
                              ' has the same ' || $what || ' with different values'}}
                FROM {table} d WHERE s._line = d._line AND s._err IS NULL""",
                        {"cols": cols, "what": spec.labels[0]})
        if rows and spec.on_conflict == "first":
            dropped[spec.name] = table
        else:
            con.execute(f"DROP TABLE {table}")
    return notes, dropped
