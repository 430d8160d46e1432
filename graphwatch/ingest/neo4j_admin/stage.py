"""Staging a neo4j-admin folder: node and relationship files become batches, checked against
each other (duplicate ids, end nodes' labels) before the store commits them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ...exc import SourceError
from ...schema import REL_CORE, SQL_TYPES, Schema, did_you_mean
from ...store import Batch, Workspace, q, quarantine_rows, quarantine_table
from ..pipeline import Params
from .header import (ARRAY_DELIMITER, FORMAT, GLOBAL_SPACE, MAPPING_NAME, PRIORITY, FileSpec, _counter, _plan,
                     node_key_prefix)
from .rows import _read_rows, _Rows
from .values import _DATETIME_RE, _err_struct, _parse_error, _parsed, _raw

@dataclass
class _Staged:
    spec: FileSpec
    rows: _Rows
    raw_table: str
    stg_table: str


def _stage_nodes(con, st: _Staged, schema: Schema) -> None:
    spec, p = st.spec, Params()
    idc = spec.col("id")
    labels_of = {}   # property -> labels declaring it
    for lab in schema.labels.values():
        for prop in lab.properties:
            labels_of.setdefault(prop, []).append(lab.name)
    label_cols = spec.cols("label")
    if label_cols:
        parts = [f"list_transform(string_split(coalesce(c{c.index}, ''), {p.bind(ARRAY_DELIMITER)}), lambda x: trim(x))"
                 for c in label_cols]
        labels = f"list_sort(list_distinct(list_filter(flatten([{', '.join(parts)}]), lambda x: x <> '')))"
    else:
        labels = f"CAST({p.bind([spec.label_from_name])} AS VARCHAR[])"
    selects = ["_line", f"NULLIF(c{idc.index}, '') AS _id",
               f"{p.bind(node_key_prefix(idc.space))} || NULLIF(c{idc.index}, '') AS _key", f"{labels} AS _labels"]
    errs = [(idc.header.strip(), f"CASE WHEN _id IS NULL THEN {p.bind('missing id')} END")]
    if label_cols:
        errs.append((label_cols[0].header.strip(),
                     f"CASE WHEN len(_labels) = 0 THEN {p.bind('node has no label')} END"))
    for c in spec.columns:
        if c.schema_type is None:
            continue
        r = f"_r{c.index}"
        if c.kind == "id":   # a named id: its text, read as the property's type
            selects.append(f"NULLIF(c{c.index}, '') AS {r}")
        else:
            selects.append(f"{_raw(c)} AS {r}")
        value = _parsed(c, r, p)
        selects.append(f"{value} AS _v{c.index}")
        err = _parse_error(c, r, f"_v{c.index}", p)
        if err:
            errs.append((c.header.strip(), err))
        errs.append((c.header.strip(),
                     f"CASE WHEN _v{c.index} IS NOT NULL AND len(_labels) > 0 AND "
                     f"NOT list_has_any(_labels, CAST({p.bind(labels_of.get(c.name, []))} AS VARCHAR[])) "
                     f"THEN {p.bind(f'property {c.name!r} is not declared for label(s) ')} || "
                     f"array_to_string(_labels, ';') END"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {st.stg_table} AS
        WITH s AS (SELECT {', '.join(selects)} FROM {st.raw_table})
        SELECT *, {_err_struct(errs, p)} AS _err FROM s""", p.values)
    # labels come from the data, but an unknown one means the file does not fit the schema
    for label, line in con.execute(f"""SELECT l, min(_line) FROM (
                                          SELECT _line, unnest(_labels) AS l FROM {st.stg_table})
                                      GROUP BY l ORDER BY min(_line)""").fetchall():
        if label not in schema.labels:
            raise SourceError(f"unknown label {label!r}{did_you_mean(label, schema.labels)}",
                              file=str(spec.data), line=line, column=label_cols[0].header.strip())


def _mark_duplicates(con, staged: list[_Staged], run: str) -> None:
    """A second row with an id already used in its ID space is quarantined (neo4j-admin refuses it too)."""
    if not staged:
        return
    parts, p = [], Params()
    for fi, st in enumerate(staged):
        parts.append(f"SELECT {p.bind(fi)} AS fi, {p.bind(st.spec.data.name)} AS fname, _line, _id, _key "
                     f"FROM {st.stg_table} WHERE _err IS NULL AND _key IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _n4dup{run} AS
        SELECT fi, _line, _id, first_name, first_line FROM (
            SELECT fi, _line, _id, first_value(fname) OVER w AS first_name, first_value(_line) OVER w AS first_line,
                   row_number() OVER w AS n
            FROM ({' UNION ALL '.join(parts)}) WINDOW w AS (PARTITION BY _key ORDER BY fi, _line)) WHERE n > 1""",
                p.values)
    for fi, st in enumerate(staged):
        idc = st.spec.col("id")
        space = idc.space or f"the global ID space ({GLOBAL_SPACE})"
        con.execute(f"""UPDATE {st.stg_table} s SET _err = {{'column': $col,
                            'reason': 'duplicate id ''' || d._id || ''' in ID space ' || $space || ': first at ' ||
                                      d.first_name || ' line ' || d.first_line}}
                        FROM _n4dup{run} d WHERE d.fi = $fi AND d._line = s._line AND s._err IS NULL""",
                    {"col": idc.header.strip(), "space": space, "fi": fi})
    con.execute(f"DROP TABLE _n4dup{run}")


def _stage_rels(con, st: _Staged, schema: Schema, labels_table: str, types_table: str) -> None:
    spec, p = st.spec, Params()
    sc, ec, tc = spec.col("start_id"), spec.col("end_id"), spec.col("type")
    types_of: dict[str, list[str]] = {}
    for rt in schema.rel_types.values():
        for prop in rt.properties:
            types_of.setdefault(prop, []).append(rt.name)
    type_sql = f"NULLIF(trim(c{tc.index}), '')" if tc else p.bind(spec.type_from_name)
    selects = ["_line", f"NULLIF(c{sc.index}, '') AS _src", f"NULLIF(c{ec.index}, '') AS _dst",
               f"{p.bind(node_key_prefix(sc.space))} || NULLIF(c{sc.index}, '') AS _src_key",
               f"{p.bind(node_key_prefix(ec.space))} || NULLIF(c{ec.index}, '') AS _dst_key",
               f"CAST({type_sql} AS VARCHAR) AS _type"]
    errs = [(sc.header.strip(), f"CASE WHEN _src IS NULL THEN {p.bind('missing start id')} END"),
            (ec.header.strip(), f"CASE WHEN _dst IS NULL THEN {p.bind('missing end id')} END")]
    if tc:
        errs.append((tc.header.strip(), f"CASE WHEN _type IS NULL THEN {p.bind('missing relationship type')} END"))
    for c in spec.columns:
        if c.schema_type is None:
            continue
        r = f"_r{c.index}"
        selects.append(f"{_raw(c)} AS {r}")
        value = _parsed(c, r, p)
        selects.append(f"{value} AS _v{c.index}")
        err = _parse_error(c, r, f"_v{c.index}", p)
        if err:
            errs.append((c.header.strip(), err))
        if c.name not in REL_CORE:
            errs.append((c.header.strip(),
                         f"CASE WHEN _v{c.index} IS NOT NULL AND _type IS NOT NULL AND "
                         f"NOT list_contains(CAST({p.bind(types_of.get(c.name, []))} AS VARCHAR[]), _type) "
                         f"THEN {p.bind(f'property {c.name!r} is not declared for ')} || _type END"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {st.stg_table} AS
        WITH s AS (SELECT {', '.join(selects)} FROM {st.raw_table})
        SELECT *, {_err_struct(errs, p)} AS _err FROM s""", p.values)
    for typ, line in con.execute(f"""SELECT _type, min(_line) FROM {st.stg_table} WHERE _type IS NOT NULL
                                     GROUP BY _type ORDER BY min(_line)""").fetchall():
        if typ not in schema.rel_types:
            raise SourceError(f"unknown relationship type {typ!r}{did_you_mean(typ, schema.rel_types)}",
                              file=str(spec.data), line=line, column=tc.header.strip() if tc else None)
    # the type must join the end nodes' labels (when they are known: in the folder or the workspace)
    con.execute(f"""UPDATE {st.stg_table} s SET _err = CASE WHEN NOT x.src_ok THEN
                {{'column': $sh, 'reason': s._type || ' cannot start at a ' || array_to_string(x.sl, ';') ||
                  ' node (the schema allows ' || array_to_string(x.fl, ', ') || ')'}}
            ELSE {{'column': $eh, 'reason': s._type || ' cannot end at a ' || array_to_string(x.dl, ';') ||
                  ' node (the schema allows ' || array_to_string(x.tl, ', ') || ')'}} END
        FROM (SELECT r._line, a.labels AS sl, b.labels AS dl, t.from_labels AS fl, t.to_labels AS tl,
                     (a.labels IS NULL OR list_has_any(a.labels, t.from_labels)) AS src_ok,
                     (b.labels IS NULL OR list_has_any(b.labels, t.to_labels)) AS dst_ok,
                     t.undirected AND (a.labels IS NULL OR list_has_any(a.labels, t.to_labels))
                                  AND (b.labels IS NULL OR list_has_any(b.labels, t.from_labels)) AS rev_ok
              FROM {st.stg_table} r JOIN {types_table} t ON t.type = r._type
              LEFT JOIN {labels_table} a ON a.key = r._src_key LEFT JOIN {labels_table} b ON b.key = r._dst_key
              WHERE r._err IS NULL) x
        WHERE s._line = x._line AND s._err IS NULL AND NOT ((x.src_ok AND x.dst_ok) OR x.rev_ok)""",
                {"sh": sc.header.strip(), "eh": ec.header.strip()})


def _finish(con, st: _Staged, schema: Schema) -> Batch:
    """Node/relationship/reference/quarantine tables of one staged file, in the pipeline's layout."""
    spec, rows, i = st.spec, st.rows, st.stg_table.removeprefix("_n4stg")
    batch = Batch(dataset=spec.dataset, mapping=MAPPING_NAME, source=str(spec.data), format=FORMAT,
                  encoding=rows.encoding, sha256=rows.sha256, rows_read=rows.rows_read, line_label="line",
                  notes=list(rows.notes), raw_table=st.raw_table, raw_headers=list(spec.headers))
    by_name = {c.name: c for c in spec.columns if c.schema_type is not None}
    p = Params()
    ds = p.bind(spec.dataset)
    if spec.kind == "node":
        cols = [f"{ds} AS dataset", "_key AS key", "CAST(_line AS VARCHAR) AS record", "_labels AS labels",
                f"CAST({p.bind(PRIORITY)} AS INTEGER) AS priority", "_line AS line"]
        for prop, typ in schema.node_properties.items():
            c = by_name.get(prop)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::{SQL_TYPES[typ]} AS {q(prop)}")
        batch.node_table = f"_n4nodes{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.node_table} AS SELECT {', '.join(cols)} "
                    f"FROM {st.stg_table} WHERE _err IS NULL", p.values)
    else:
        sc, ec = spec.col("start_id"), spec.col("end_id")
        cols = [f"{ds} AS dataset", f"{ds} || '#' || CAST(_line AS VARCHAR) AS key", "_type AS type",
                "_src_key AS src_key", "_dst_key AS dst_key", "CAST(_line AS VARCHAR) AS record", "_line AS line"]
        for core in REL_CORE:
            c = by_name.get(core)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::DATE AS {q(core)}")
        for prop, typ in schema.rel_properties.items():
            c = by_name.get(prop)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::{SQL_TYPES[typ]} AS {q(prop)}")
        batch.rel_table = f"_n4rels{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.rel_table} AS SELECT {', '.join(cols)} "
                    f"FROM {st.stg_table} WHERE _err IS NULL", p.values)
        # both ends must exist (checked at commit, against this load and the workspace)
        batch.ref_table = f"_n4refs{i}"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {batch.ref_table} AS
            SELECT {ds} AS dataset, _src_key AS key, _line AS line, {p.bind(sc.header.strip())} AS "column"
            FROM {st.stg_table} WHERE _err IS NULL
            UNION ALL
            SELECT {ds} AS dataset, _dst_key AS key, _line AS line, {p.bind(ec.header.strip())} AS "column"
            FROM {st.stg_table} WHERE _err IS NULL""", p.values)
    batch.quarantine_table = f"_n4quar{i}"
    quarantine_table(con, batch.quarantine_table, rows.errors)
    quarantine_rows(con, batch.quarantine_table,
                    f'(SELECT _line AS line, _err."column" AS "column", _err.reason AS reason FROM {st.stg_table} '
                    f'WHERE _err IS NOT NULL)', st.raw_table, spec.headers)
    # datetimes with a zone keep their wall-clock time
    for c in spec.columns:
        if c.read_as == "datetime":
            n, = con.execute(f"SELECT count(*) FROM {st.stg_table} WHERE _err IS NULL AND "
                             f"regexp_extract(_r{c.index}, $rx, 3) || regexp_extract(_r{c.index}, $rx, 4) <> ''",
                             {"rx": _DATETIME_RE}).fetchone()
            if n:
                batch.notes.append(f"{c.header.strip()}: {n} value(s) carried a time zone; "
                                   "their wall-clock time was kept and the zone dropped")
    return batch


def stage_neo4j_admin(ws: Workspace, path: str | Path) -> list[Batch]:
    """Stage every data file of a neo4j-admin import folder; one :class:`Batch` per file."""
    folder = Path(path)
    con, schema = ws.con, ws.schema
    specs = _plan(folder, schema)
    run = str(next(_counter))
    staged: list[_Staged] = []
    made: list[str] = []
    try:
        for k, spec in enumerate(specs):
            rows = _read_rows(spec)
            st = _Staged(spec, rows, f"_n4raw{run}_{k}", f"_n4stg{run}_{k}")
            name = f"_n4arrow{run}_{k}"
            con.register(name, rows.table)
            made.append(st.raw_table)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {st.raw_table} AS SELECT * FROM {name}")
            con.unregister(name)
            staged.append(st)
        nodes = [st for st in staged if st.spec.kind == "node"]
        rels = [st for st in staged if st.spec.kind == "rel"]
        for st in nodes:
            made.append(st.stg_table)
            _stage_nodes(con, st, schema)
        _mark_duplicates(con, nodes, run)

        labels_table, types_table = f"_n4labels{run}", f"_n4types{run}"
        made += [labels_table, types_table]
        parts = [f"SELECT _key AS key, _labels AS labels FROM {st.stg_table} WHERE _err IS NULL" for st in nodes]
        parts.append("SELECT key, labels FROM node_record WHERE dataset NOT IN (SELECT unnest($ds))")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {labels_table} AS
            SELECT key, list_distinct(flatten(list(labels))) AS labels FROM ({' UNION ALL '.join(parts)})
            GROUP BY key""", {"ds": [s.dataset for s in specs]})
        rts = list(schema.rel_types.values())
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {types_table} AS
            SELECT unnest($names) AS type, unnest($froms) AS from_labels, unnest($tos) AS to_labels,
                   unnest($und) AS undirected""",
                    {"names": [t.name for t in rts], "froms": [list(t.from_labels) for t in rts],
                     "tos": [list(t.to_labels) for t in rts], "und": [t.undirected for t in rts]})
        for st in rels:
            made.append(st.stg_table)
            _stage_rels(con, st, schema, labels_table, types_table)

        batches = []
        for st in staged:
            batch = _finish(con, st, schema)
            made += [t for t in (batch.node_table, batch.rel_table, batch.ref_table, batch.quarantine_table) if t]
            batches.append(batch)
        for t in (labels_table, types_table, *(st.stg_table for st in staged)):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        return batches
    except BaseException:
        for t in made:
            try:
                con.execute(f"DROP TABLE IF EXISTS {t}")
            except duckdb.Error:  # pragma: no cover - best effort clean-up
                pass
        raise
