"""Relationship facts: one ``rel`` row per relationship, however many rows of however many
datasets state it.

A *fact* is a relationship's type, its two ends, its validity (``valid_from``, ``valid_to``)
and its properties. Rows that state the same fact — in one file or in several, under one
mapping or several — are one relationship carrying every record; rows whose properties differ
(a shareholding stated with two different shares) are two facts.

``rel``         the fact (``rid``, ``type``, ``src``, ``dst``, validity, properties) and its
                provenance: ``dataset`` the fact's own dataset (the first that stated it, kept
                while it still does), ``record`` that dataset's first record, ``records`` every
                record — the own dataset's as they are (``'12'``), another dataset's as
                ``dataset#record`` (``'roster/roster.csv#7'``) — and ``datasets`` every dataset
                that states it, sorted. A fact one dataset states looks as it always did (and
                derived relationships, ``derived:*``, have no ``records`` or ``datasets``);
                :func:`record_refs` turns ``records`` into references.
``rel_record``  what each dataset says about a fact *several datasets state*: one row per
                (fact, dataset), ``record`` its first row, ``records`` all of them. A fact one
                dataset states has none: ``rel`` holds its one statement (nearly every fact; a
                row for every fact cost a 100 k-person county's load 15 % more CPU and its
                database 13 % more space).
                Always the facts as the sources stated them, on their record keys' nodes, also
                while entity resolution has moved ``rel``.

A load replaces what its datasets said and nothing else (:func:`forget`, then
:func:`write_facts`): a fact another dataset still states stays, with its ``rid``; a fact
whose last record goes is deleted. A fact keeps its ``rid`` as long as anything states it;
a new fact takes the id of its first row's key (of the first dataset by name, when one load
brings it from several). Entity resolution moves facts onto entities — splitting a fact whose
rows named different people, joining facts that became the same — and
:func:`restore_record_endpoints` puts them back (:mod:`graphwatch.resolve.apply`).
"""

from __future__ import annotations

#: a relationship some dataset stated (not one a derivation or resolution made)
STATED = "NOT starts_with({p}dataset, 'derived:')"

REL_RECORD_DDL = """CREATE TABLE IF NOT EXISTS rel_record (rid BIGINT NOT NULL, dataset VARCHAR NOT NULL,
    record VARCHAR NOT NULL, records VARCHAR[] NOT NULL)"""


def _columns(con, table: str) -> set[str]:
    return {c for c, in con.execute("""SELECT column_name FROM duckdb_columns() WHERE table_name = ?
        AND schema_name = 'main' AND database_name <> 'temp'""", [table]).fetchall()}


def ensure_tables(con) -> None:
    """``rel_record`` and ``rel.datasets``. A workspace made before facts spanned datasets has
    one dataset's statement in each fact; those that several datasets state become one at the
    next load of one of those datasets."""
    if "datasets" not in _columns(con, "rel"):
        con.execute("ALTER TABLE rel ADD COLUMN datasets VARCHAR[]")
        con.execute(f"UPDATE rel SET datasets = [dataset] WHERE {STATED.format(p='')}")
    con.execute(REL_RECORD_DDL)


def statements_sql(rids: str) -> str:
    """A SELECT of ``rid, dataset, record, records`` — what each dataset says — of the stated
    facts whose ids ``rids`` (a subquery) gives, as ``rel`` holds them before resolution."""
    return f"""SELECT rid, dataset, record, records FROM rel_record WHERE rid IN ({rids})
        UNION ALL SELECT rid, dataset, record, coalesce(records, [record]) FROM rel
        WHERE rid IN ({rids}) AND rid NOT IN (SELECT rid FROM rel_record)"""


def provenance_sql(sources: str) -> str:
    """A SELECT of ``rid, dataset, record, records, datasets`` for the facts in ``sources`` (a
    table or subquery: ``rid, dataset, record, records, prefer`` — one row per fact and dataset;
    ``prefer`` the dataset to keep as the fact's own while it still states it, else the first by
    name). The own dataset's records come first and as they are, the others' as
    ``dataset#record``, by dataset."""
    return f"""WITH s AS (SELECT * FROM {sources}),
        p AS (SELECT rid, arg_min(dataset, (dataset IS DISTINCT FROM prefer, dataset)) AS own FROM s GROUP BY rid)
        SELECT s.rid, p.own AS dataset, any_value(s.record) FILTER (WHERE s.dataset = p.own) AS record,
            flatten(list(CASE WHEN s.dataset = p.own THEN s.records
                              ELSE list_transform(s.records, lambda x: s.dataset || '#' || x) END
                         ORDER BY s.dataset <> p.own, s.dataset)) AS records,
            list(s.dataset ORDER BY s.dataset) AS datasets
        FROM s JOIN p USING (rid) GROUP BY s.rid, p.own"""


def record_refs(dataset: str | None, datasets, records) -> list[str]:
    """``dataset#record`` of every record of a relationship from its ``dataset``, ``datasets`` and
    ``records`` as ``rel`` holds them (see the module): an entry of another dataset is one already."""
    others = tuple(d + "#" for d in (datasets or ()) if d != dataset)
    return [r if others and r.startswith(others) else f"{dataset}#{r}" for r in (records or ())]


def forget(con) -> None:
    """Before a load writes its datasets (temp table ``_reload``) again: the facts they stated
    are noted for :func:`write_facts` (``_rtouched``), and their records leave ``rel_record``."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rtouched AS
        SELECT rid FROM rel WHERE dataset IN (SELECT dataset FROM _reload) AND {STATED.format(p='')}
        UNION SELECT rid FROM rel_record WHERE dataset IN (SELECT dataset FROM _reload)""")
    con.execute("DELETE FROM rel_record WHERE dataset IN (SELECT dataset FROM _reload)")


def write_facts(con, batches, props: list[str], good: str) -> dict[str, tuple[int, int, int]]:
    """Write the relationships the batches state, after :func:`forget`; returns per dataset
    ``(facts, rows, shared)``: the facts it states, the rows stating them, and how many of
    those facts other datasets state too.

    Each batch's ``rel_table`` rows (those ``good`` keeps: a condition on ``$ds``, the
    batch's dataset) are grouped into statements per dataset, and the statements into facts
    across datasets. A fact that is in ``rel`` already (stated by another dataset, or by these
    before the load) keeps its ``rid``; a new one takes its first row's key's id (another when
    a fact that stays holds that id). Facts no record states any more are deleted.
    """
    from .store import key_id, q

    cols = "".join(", " + q(p) for p in props)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rst AS SELECT type, src, dst, valid_from, valid_to{cols},
        dataset, record, records, rid AS cand, CAST(0 AS BIGINT) AS line FROM rel LIMIT 0""")
    for b in batches:
        if not b.rel_table:
            continue
        have = {r[0] for r in con.execute(f"DESCRIBE {b.rel_table}").fetchall()}
        c = "".join(", " + q(p) for p in props if p in have)
        # one statement per distinct relationship of the dataset: the rows of a registry that
        # each say a household lies in its village are one LOCATED_IN with all their records
        con.execute(f"""INSERT INTO _rst BY NAME
            SELECT type, {key_id('src_key')} AS src, {key_id('dst_key')} AS dst, valid_from, valid_to{c}, dataset,
                   arg_min(record, line) AS record, list(record ORDER BY line) AS records,
                   {key_id('arg_min(key, line)')} AS cand, min(line) AS line
            FROM {b.rel_table} WHERE {good}
            GROUP BY type, src_key, dst_key, valid_from, valid_to{c}, dataset""", {"ds": b.dataset})
    # (a schema without relationship properties: nothing to count — ``SELECT 0 FROM _rst`` of an
    # empty table is no row)
    counts = con.execute("SELECT " + ", ".join(f"count({q(p)})" for p in props) + " FROM _rst").fetchone() \
        if props else ()
    used = [p for p, n in zip(props, counts) if n]
    ident = ", ".join(q(c) for c in ["type", "src", "dst", "valid_from", "valid_to", *used])
    # the facts: a statement is one unless other datasets' statements say the same. Only ends
    # that several datasets name are grouped across them (most facts have one statement: the
    # grouping of all of them cost a 100 k-person county's load 1 s of CPU). A fact is known
    # by ``cand``, its first row's key's id (each row key is in one fact)
    con.execute("""CREATE OR REPLACE TEMP TABLE _rmulti AS SELECT type, src, dst FROM _rst
        GROUP BY type, src, dst HAVING min(dataset) <> max(dataset)""")
    multi = "EXISTS (SELECT 1 FROM _rmulti m WHERE m.type = s.type AND m.src = s.src AND m.dst = s.dst)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rfact AS
        SELECT {ident}, cand, dataset, record, records, [dataset] AS datasets,
               NULL::STRUCT(dataset VARCHAR, record VARCHAR, records VARCHAR[])[] AS sources
        FROM _rst s WHERE NOT {multi}
        UNION ALL
        SELECT {ident}, cand, sources[1].dataset, sources[1].record,
               flatten([sources[1].records] || list_transform(sources[2:], lambda x: list_transform(
                   x.records, lambda r: x.dataset || '#' || r))),
               list_transform(sources, lambda x: x.dataset), sources
        FROM (SELECT {ident}, arg_min(cand, (dataset, line)) AS cand,
                     list({{'dataset': dataset, 'record': record, 'records': records}} ORDER BY dataset) AS sources
              FROM _rst s WHERE {multi} GROUP BY {ident})""")
    same = " AND ".join([f"r.{q(c)} IS NOT DISTINCT FROM f.{q(c)}" for c in ["valid_from", "valid_to", *used]]
                        + [f"r.{q(p)} IS NULL" for p in props if p not in used])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rmatch AS
        SELECT f.cand, r.rid, r.dataset, r.record FROM _rfact f
        JOIN rel r ON r.type = f.type AND r.src = f.src AND r.dst = f.dst AND {same}
        WHERE {STATED.format(p='r.')}""")
    # a fact already in rel keeps its id (two of them — a workspace from before facts spanned
    # datasets — become one: the first by dataset and record keeps its id)
    con.execute("""CREATE OR REPLACE TEMP TABLE _rkeep AS
        SELECT cand, arg_min(rid, (dataset, lpad(record, 12, '0'), rid)) AS rid FROM _rmatch GROUP BY cand""")
    # a fact another dataset states alone so far: its statement goes to rel_record, as this
    # load's will (a fact of the reloaded datasets: what they said before is void)
    con.execute("""INSERT INTO rel_record SELECT k.rid, r.dataset, r.record, coalesce(r.records, [r.record])
        FROM _rmatch m JOIN _rkeep k USING (cand) JOIN rel r ON r.rid = m.rid
        WHERE m.rid NOT IN (SELECT rid FROM rel_record) AND r.dataset NOT IN (SELECT dataset FROM _reload)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _rjoined AS
        SELECT m.rid AS old, k.rid FROM _rmatch m JOIN _rkeep k USING (cand) WHERE m.rid <> k.rid""")
    con.execute("UPDATE rel_record SET rid = j.rid FROM _rjoined j WHERE rel_record.rid = j.old")
    con.execute("DELETE FROM rel WHERE rid IN (SELECT old FROM _rjoined)")
    # facts nothing states any more go
    con.execute("""DELETE FROM rel WHERE rid IN (SELECT rid FROM _rtouched)
        AND rid NOT IN (SELECT rid FROM rel_record) AND rid NOT IN (SELECT rid FROM _rkeep)""")
    # a new fact whose first row's id a fact that stays holds (the row said something else
    # before) takes another
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rid AS
        SELECT cand, rid FROM _rkeep
        UNION ALL
        SELECT cand, {key_id(f"CAST(cand AS VARCHAR) || '#' || CAST(hash({ident}) AS VARCHAR)")} FROM _rfact
        WHERE cand IN (SELECT rid FROM rel) AND cand NOT IN (SELECT cand FROM _rkeep)""")
    # this load's statements of facts several datasets state
    con.execute("""CREATE OR REPLACE TEMP TABLE _rshared AS
        SELECT cand, coalesce(i.rid, f.cand) AS rid FROM _rfact f LEFT JOIN _rid i USING (cand)
        WHERE len(f.sources) > 1 OR i.rid IN (SELECT rid FROM rel_record)""")
    con.execute("""INSERT INTO rel_record
        SELECT s.rid, f.dataset, f.record, f.records FROM _rfact f JOIN _rshared s USING (cand)
        WHERE f.sources IS NULL
        UNION ALL
        SELECT s.rid, f.dataset, f.record, f.records
        FROM (SELECT cand, unnest(sources, recursive := true) FROM _rfact WHERE sources IS NOT NULL) f
        JOIN _rshared s USING (cand)""")
    cols_f = "".join(", f." + q(p) for p in used)
    # written in type order: a dataset's types then lie in runs of row groups whose zone maps
    # let a scan for one type skip the rest (measured at 1 M persons: rows a model scans
    # fell by 40-60 % with ``rel`` ordered by type)
    con.execute(f"""INSERT INTO rel (rid, type, src, dst, valid_from, valid_to{''.join(', ' + q(p) for p in used)},
            dataset, record, records, datasets)
        SELECT coalesce(i.rid, f.cand), f.type, f.src, f.dst, f.valid_from, f.valid_to{cols_f},
               f.dataset, f.record, f.records, f.datasets
        FROM _rfact f LEFT JOIN _rid i USING (cand) WHERE f.cand NOT IN (SELECT cand FROM _rkeep)
        ORDER BY f.type, f.src""")
    # the provenance of facts that were there: from every dataset's records where several
    # state it, else from the one statement left (this load's, or another dataset's)
    con.execute("""CREATE OR REPLACE TEMP TABLE _raff AS
        SELECT rid FROM rel_record WHERE rid IN (SELECT rid FROM _rkeep UNION SELECT rid FROM _rtouched)
        GROUP BY rid""")
    con.execute("CREATE OR REPLACE TEMP TABLE _rprov AS " + provenance_sql(
        """(SELECT rr.*, r.dataset AS prefer FROM rel_record rr JOIN rel r USING (rid)
            WHERE rr.rid IN (SELECT rid FROM _raff))""") + """
        UNION ALL SELECT k.rid, f.dataset, f.record, f.records, f.datasets FROM _rkeep k JOIN _rfact f USING (cand)
        WHERE k.rid NOT IN (SELECT rid FROM _raff)""")
    con.execute("""UPDATE rel SET dataset = p.dataset, record = p.record, records = p.records, datasets = p.datasets
        FROM _rprov p WHERE rel.rid = p.rid AND (rel.dataset <> p.dataset OR rel.record <> p.record
            OR rel.records IS DISTINCT FROM p.records OR rel.datasets IS DISTINCT FROM p.datasets)""")
    # a fact one dataset states holds its statement itself
    con.execute("""DELETE FROM rel_record WHERE rid IN (SELECT rid FROM rel_record WHERE rid IN (SELECT rid FROM _raff)
        GROUP BY rid HAVING count(*) = 1)""")
    shared = dict(con.execute("""SELECT dataset, count(*) FROM rel_record
        WHERE dataset IN (SELECT dataset FROM _reload) GROUP BY dataset""").fetchall())
    out = {ds: (int(n), int(rows), int(shared.get(ds, 0))) for ds, n, rows in con.execute(
        "SELECT dataset, count(*), sum(len(records)) FROM _rst GROUP BY dataset").fetchall()}
    for t in ("_rst", "_rmulti", "_rfact", "_rmatch", "_rkeep", "_rjoined", "_rid", "_rshared", "_raff", "_rprov",
              "_rtouched"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return out


def restore_record_endpoints(con) -> None:
    """Relationships back as the sources stated them, on their record keys' nodes
    (``er_rel_orig``): a fact resolution split is one again (its parts removed, its records
    back), facts resolution joined are apart again, and resolution's own relationships
    (SAME_AS, BRANCH_OF) are removed."""
    from .store import RESOLVE_DATASET

    have = _columns(con, "er_rel_orig")
    for col, typ in (("record", "VARCHAR"), ("records", "VARCHAR[]"), ("split", "BOOLEAN"), ("part_of", "BIGINT"),
                     ("dataset", "VARCHAR"), ("datasets", "VARCHAR[]"), ("merged_into", "BIGINT")):
        if col not in have:   # workspaces resolved before facts could be split or joined
            con.execute(f"ALTER TABLE er_rel_orig ADD COLUMN {col} {typ}")
    # a fact joined into another comes back as a copy of it (the same type, validity and
    # properties: that is why they were joined) with its own id, ends and records
    con.execute("""INSERT INTO rel BY NAME SELECT k.* REPLACE (o.rid AS rid) FROM er_rel_orig o
        JOIN rel k ON k.rid = o.merged_into WHERE o.part_of IS NULL""")
    con.execute("DELETE FROM rel WHERE rid IN (SELECT rid FROM er_rel_orig WHERE part_of IS NOT NULL)")
    con.execute("""UPDATE rel SET src = o.src, dst = o.dst,
            dataset = CASE WHEN o.split THEN coalesce(o.dataset, rel.dataset) ELSE rel.dataset END,
            record = CASE WHEN o.split THEN o.record ELSE rel.record END,
            records = CASE WHEN o.split THEN o.records ELSE rel.records END,
            datasets = CASE WHEN o.split THEN coalesce(o.datasets, rel.datasets) ELSE rel.datasets END
        FROM er_rel_orig o WHERE rel.rid = o.rid AND o.part_of IS NULL""")
    con.execute("DELETE FROM er_rel_orig")
    con.execute("DELETE FROM rel WHERE dataset = ?", [RESOLVE_DATASET])
