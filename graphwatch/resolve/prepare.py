"""Step 1 of resolution, *prepare*: source records become units with comparison columns.

A unit is what one source statement (``node_record`` rows of one dataset, record and key)
says about one person or company. Persons get normalised names (:mod:`.names`), a usable
ID and what it implies (birth date, sex, region); a valid ID shared by records with more
than ``max_names`` different names (a clerk's ID, a placeholder) is *over-shared*: it stays
the identity of its owner (the most authoritative record's name) and says nothing about
the others. Companies get a normalised name and their valid USCC.

Every person unit's prepared row is kept in ``er_person`` (what its statement says, its name
keys, its comparison columns and the sole holder of its name in its village), so a load
prepares only the statements it adds or changes (:mod:`.incremental`). The functions here
work on any table of that shape: the full resolve builds ``_er_person`` (a temporary table,
written to ``er_person`` inside the resolve's transaction); a load updates ``er_person``.

Temporary tables a full :func:`prepare_persons` leaves for the resolver:

``_er_person``       (persons) every unit's ``er_person`` row
``_er_link_input``   (persons) the columns the linking model compares, one row per unit
``_er_unit_person``  (persons) unit facts for ``er_unit``
``_er_rank``         (persons) each dataset's place in the ranking (``er_rank``)
``_er_unit_company`` (companies, :func:`prepare_companies`) unit facts for ``er_unit``
"""

from __future__ import annotations

import pyarrow as pa

from ..store import key_id
from .names import company_name_key, person_keys

#: the table the linking model reads (one row per person unit, splink's ``unique_id``)
LINK_INPUT = "_er_link_input"
#: every person unit's prepared row (a load updates it: :mod:`.incremental`)
PERSON_TABLE = "er_person"

#: what a statement says: a load compares these to find the statements it changed
STATED = ("key", "dataset", "record", "priority", "records", "name", "id_number", "id_status", "stated_sex",
          "stated_birth", "village_code", "phone")
#: the columns the linking model compares, in splink's input order (after ``unique_id``)
LINK_COLUMNS = ("name_norm", "name_pinyin", "name_swap", "birth_date", "sex", "id_clean", "id17", "region",
                "village_code", "township", "county", "phone", "id_usable", "id_label", "overshared")
#: the order units are ranked in: most authoritative source first (lowest mapping priority)
RANK_ORDER = "priority, dataset, lpad(record, 12, '0'), key"


def person_statements(con, out: str, *, where: str = "true", params: dict | None = None,
                      cache: str | None = None) -> None:
    """What each person statement of ``node_record`` (rows matching ``where``) says, with its
    name keys, ID key and cleaned ID, into the temporary table ``out``.

    Names are normalised in Python once per distinct spelling; ``cache`` (a table with
    ``name``, ``name_norm``, ``name_pinyin``, ``name_swap``) saves normalising names seen before.
    """
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_statements AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority,
               list_sort(list_distinct(flatten(list(coalesce(records, [record]))))) AS records,
               max(name) AS name, max(id_number) AS id_number, max(id_status) AS id_status, max(sex) AS stated_sex,
               max(birth_date) AS stated_birth, max(village_code) AS village_code, max(phone) AS phone
        FROM node_record WHERE list_contains(labels, 'Person') AND ({where}) GROUP BY dataset, record, key""",
                params or {})
    con.execute("CREATE OR REPLACE TEMP TABLE _er_name_keys (name VARCHAR, name_norm VARCHAR, name_pinyin VARCHAR, "
                "name_swap VARCHAR)")
    if cache:
        con.execute(f"""INSERT INTO _er_name_keys SELECT DISTINCT ON (name) name, name_norm, name_pinyin, name_swap
            FROM {cache} WHERE name IN (SELECT name FROM _er_statements)""")
    names = [r[0] for r in con.execute("""SELECT DISTINCT name FROM _er_statements WHERE name IS NOT NULL
                                          AND name NOT IN (SELECT name FROM _er_name_keys)""").fetchall()]
    if names:
        keys = [person_keys(n) or (None, None, None, None) for n in names]
        con.register("_er_name_keys_arrow", pa.table({
            "name": names, "name_norm": [k[0] for k in keys], "name_pinyin": [k[1] for k in keys],
            "name_swap": [k[2] for k in keys]}))
        con.execute("INSERT INTO _er_name_keys SELECT * FROM _er_name_keys_arrow")
        con.unregister("_er_name_keys_arrow")
    # identity: a usable ID is valid or a converted 15-digit one (or the load keyed the record by it)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT s.*, n.name_norm, n.name_pinyin, n.name_swap,
               CASE WHEN NOT starts_with(key, 'Person:@') THEN substr(key, 8)
                    WHEN id_status IN ('valid', 'legacy15') THEN id_number END AS id_key,
               CASE WHEN length(id_number) = 18 AND regexp_full_match(id_number, '[0-9]{{17}}[0-9X]')
                    THEN id_number END AS stated_id_clean
        FROM _er_statements s LEFT JOIN _er_name_keys n USING (name)""")
    con.execute("DROP TABLE _er_statements")
    con.execute("DROP TABLE _er_name_keys")


def overshared_ids(con, src: str, max_names: int, out: str, *, ids: str | None = None) -> None:
    """IDs of ``src`` carried by more different names (by pinyin) than one person plausibly
    has, each with its owner's name (the most authoritative record's), into ``out``;
    only the IDs in table ``ids`` (column ``id_key``) when given."""
    only = f"AND id_key IN (SELECT id_key FROM {ids})" if ids else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT id_key, count(DISTINCT name_pinyin) AS names, count(*) AS records,
               arg_min(name_pinyin, ({RANK_ORDER})) AS owner_pinyin
        FROM {src} WHERE id_key IS NOT NULL {only} GROUP BY id_key
        HAVING count(DISTINCT name_pinyin) > $m""", {"m": max_names})


def derived_sql(src: str, overshared: str) -> str:
    """A SELECT of ``er_person`` rows from statements ``src`` (:func:`person_statements`' columns)
    and over-shared IDs ``overshared``; ``sole_in_village`` is left NULL (:func:`set_sole_holders`).

    An over-shared ID is not the record's own unless the name is its owner's: then the ID and
    what it implies (birth date, sex, region) say nothing about the person.
    """
    stated = ", ".join(f"s.{c}" for c in STATED)
    return f"""SELECT unit, {stated}, name_norm, name_pinyin, name_swap, id_key, stated_id_clean,
            overshared, own_id,
            coalesce(stated_birth, CASE WHEN own_id THEN try_strptime(substr(stated_id_clean, 7, 8), '%Y%m%d')::DATE
                                   END) AS birth_date,
            coalesce(stated_sex, CASE WHEN stated_id_clean IS NULL OR NOT own_id THEN NULL
                                      WHEN substr(stated_id_clean, 17, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END)
                AS sex,
            CASE WHEN own_id THEN coalesce(stated_id_clean, id_number) END AS id_clean,
            CASE WHEN own_id THEN left(stated_id_clean, 17) END AS id17,
            CASE WHEN own_id THEN left(stated_id_clean, 6) END AS region,
            left(village_code, 9) AS township, left(village_code, 6) AS county,
            id_key IS NOT NULL AND own_id AS id_usable, CASE WHEN own_id THEN id_key END AS id_label,
            NULL::VARCHAR AS sole_in_village
        FROM (SELECT s.*, o.id_key IS NOT NULL AS overshared,
                     o.id_key IS NULL OR s.name_pinyin = o.owner_pinyin AS own_id
              FROM {src} s LEFT JOIN {overshared} o USING (id_key)) s"""


def sole_holders_sql(table: str, *, combos: str | None = None) -> str:
    """A SELECT of ``(unit, sole_in_village)`` for the units of ``table`` (``er_person``'s
    columns) — of the ``(name_norm, village_code)`` pairs in table ``combos`` only, if given.

    The sole holder of a name in a village: a record with no ID of its own (or one a typo away
    from the holder's) and that name in that village is that person.
    """
    within = f"IN (SELECT (name_norm, village_code) FROM {combos})" if combos else ""
    only_h = f"AND (name_norm, village_code) {within}" if combos else ""
    only_p = f"WHERE (p.name_norm, p.village_code) {within}" if combos else ""
    return f"""WITH h AS (SELECT name_norm, village_code, min(id_label) AS holder FROM {table}
                          WHERE id_label IS NOT NULL AND name_norm IS NOT NULL AND village_code IS NOT NULL {only_h}
                          GROUP BY ALL HAVING count(DISTINCT id_label) = 1)
        SELECT p.unit, CASE WHEN p.id_label IS NULL AND (p.id_clean IS NULL OR
                                 (length(p.id_clean) = 18 AND hamming(p.id_clean, h.holder) <= 1)) THEN h.holder END
                           AS sole_in_village
        FROM {table} p LEFT JOIN h ON h.name_norm = p.name_norm AND h.village_code = p.village_code {only_p}"""


def link_input(con, table: str, out: str = LINK_INPUT, *, where: str = "true") -> None:
    """splink's input table ``out`` from the ``er_person``-shaped ``table`` (rows matching ``where``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT unit AS unique_id, {', '.join(LINK_COLUMNS)} "
                f"FROM {table} WHERE {where}")


#: a person unit's rank is its dataset's place (``er_rank``) above its place within the dataset
RANK_BITS = 32
#: room left between the places of two datasets for datasets loaded later
PLACE_SPACING = 1024


def place_datasets(con, table: str, places: str) -> bool:
    """Give every ``(priority, dataset)`` of ``table`` a place in ``places`` (priority, dataset,
    place) ordered as :data:`RANK_ORDER` orders datasets, so a load can rank its own units
    without renumbering the others. A new dataset takes the middle of the gap it falls in;
    ``False`` when there is no gap (or no places yet): all are placed again and every unit
    must be ranked again."""
    known = {(p, d): pl for p, d, pl in con.execute(f"SELECT priority, dataset, place FROM {places}").fetchall()}
    keys = sorted(set(known) | {tuple(r) for r in con.execute(f"SELECT DISTINCT priority, dataset FROM {table}")
                                .fetchall()})
    placed, kept = dict(known), bool(known)
    for i, k in enumerate(keys):
        if k not in placed and kept:
            prev = max((placed[j] for j in keys[:i] if j in placed), default=0)
            after = [placed[j] for j in keys[i + 1:] if j in placed]
            if after and min(after) - prev < 2:
                kept = False
            else:
                placed[k] = (prev + min(after)) // 2 if after else prev + PLACE_SPACING
    if not kept:
        placed = {k: (i + 1) * PLACE_SPACING for i, k in enumerate(keys)}
    if placed != known:
        con.execute(f"DELETE FROM {places}")
        con.executemany(f"INSERT INTO {places} VALUES (?, ?, ?)", [(p, d, pl) for (p, d), pl in placed.items()])
    return kept


def person_unit_rows_sql(table: str, places: str, *, where: str = "true") -> str:
    """A SELECT of ``er_unit`` rows for the person units of ``table`` (whole datasets matching
    ``where``), ranked: most authoritative first (:data:`RANK_ORDER`)."""
    return f"""SELECT p.unit, p.dataset || '#' || p.record AS ref, p.key, p.dataset, p.record, 'Person' AS label, p.name,
               p.id_label AS id_usable, p.overshared,
               (r.place << {RANK_BITS}) + row_number() OVER (PARTITION BY p.dataset ORDER BY lpad(p.record, 12, '0'), p.key)
                   AS rank,
               p.records, p.sole_in_village
        FROM {table} p JOIN {places} r USING (priority, dataset) WHERE {where}"""


def prepare_persons(con, max_names: int) -> dict:
    """Every person unit into ``_er_person``, ``_er_link_input`` and ``_er_unit_person``;
    counts and over-shared IDs."""
    person_statements(con, "_er_person_statements")
    overshared_ids(con, "_er_person_statements", max_names, "_er_overshared_ids")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_person AS "
                + derived_sql("_er_person_statements", "_er_overshared_ids"))
    con.execute(f"""UPDATE _er_person SET sole_in_village = s.sole_in_village
        FROM ({sole_holders_sql('_er_person')}) s WHERE s.unit = _er_person.unit AND s.sole_in_village IS NOT NULL""")
    link_input(con, "_er_person")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_rank (priority INTEGER, dataset VARCHAR, place BIGINT)")
    place_datasets(con, "_er_person", "_er_rank")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_unit_person AS " + person_unit_rows_sql("_er_person", "_er_rank"))
    units, records = con.execute("SELECT count(*), coalesce(sum(len(records)), 0) FROM _er_person").fetchone()
    over = con.execute("SELECT id_key, names, records FROM _er_overshared_ids ORDER BY records DESC").fetchall()
    for t in ("_er_person_statements", "_er_overshared_ids"):
        con.execute(f"DROP TABLE {t}")
    return {"units": units, "records": int(records), "overshared": over}


def prepare_companies(con) -> None:
    """Company units into ``_er_unit_company``: identity is a valid USCC (the load's key)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_company_statements AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority,
               list_sort(list_distinct(flatten(list(coalesce(records, [record]))))) AS records,
               max(name) AS name, max(uscc) AS uscc, bool_or(uscc_valid) AS uscc_valid
        FROM node_record WHERE list_contains(labels, 'Company') GROUP BY dataset, record, key""")
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM _er_company_statements WHERE name IS NOT NULL")
             .fetchall()]
    con.register("_er_company_name_keys", pa.table({"name": pa.array(names, pa.string()),
                                                    "name_key": pa.array([company_name_key(n) for n in names],
                                                                         pa.string())}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_company_named AS
        SELECT s.*, n.name_key, row_number() OVER (ORDER BY {RANK_ORDER}) AS rank
        FROM _er_company_statements s LEFT JOIN _er_company_name_keys n USING (name)""")
    con.unregister("_er_company_name_keys")
    # a record whose USCC is invalid joins the one valid-USCC company with the same normalised
    # name, if there is exactly one
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_company_valid_names AS
        SELECT name_key, min(substr(key, 9)) AS uscc FROM _er_company_named
        WHERE coalesce(uscc_valid, true) AND NOT starts_with(key, 'Company:@') AND name_key IS NOT NULL
        GROUP BY name_key HAVING count(DISTINCT key) = 1""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_unit_company AS
        SELECT c.unit, c.dataset || '#' || c.record, c.key, c.dataset, c.record, 'Company', c.name,
               CASE WHEN coalesce(c.uscc_valid, true) AND NOT starts_with(c.key, 'Company:@') THEN substr(c.key, 9)
                    ELSE v.uscc END, false, c.rank, c.records, NULL
        FROM _er_company_named c LEFT JOIN _er_company_valid_names v USING (name_key)""")
    for t in ("_er_company_statements", "_er_company_named", "_er_company_valid_names"):
        con.execute(f"DROP TABLE {t}")
