"""Step 1 of resolution, *prepare*: source records become units with comparison columns.

A unit is what one source statement (``node_record`` rows of one dataset, record and key)
says about one person or company. Persons get normalised names (:mod:`.names`), a usable
ID and what it implies (birth date, sex, region); a valid ID shared by records with more
than ``max_names`` different names (a clerk's ID, a placeholder) is *over-shared*: it stays
the identity of its owner (the most authoritative record's name) and says nothing about
the others. Companies get a normalised name and their valid USCC.

Everything here reads the graph and writes temporary tables only:

``_er_link_input``   (persons) the columns the linking model compares, one row per unit
``_er_unit_person``  (persons) unit facts for ``er_unit``
``_er_unit_company`` (companies) unit facts for ``er_unit``
"""

from __future__ import annotations

import pyarrow as pa

from ..store import key_id
from .names import company_name_key, person_keys

#: the table the linking model reads (one row per person unit, splink's ``unique_id``)
LINK_INPUT = "_er_link_input"


def prepare_persons(con, max_names: int) -> dict:
    """Person units into ``_er_link_input`` and ``_er_unit_person``; counts and over-shared IDs."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_person_statements AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority, list_distinct(flatten(list(records))) AS records,
               max(name) AS name, max(id_number) AS id_number, max(id_status) AS id_status, max(sex) AS sex,
               max(birth_date) AS birth_date, max(village_code) AS village_code, max(phone) AS phone
        FROM node_record WHERE list_contains(labels, 'Person') GROUP BY dataset, record, key""")
    # names: normalised once per distinct spelling, in Python (opencc, pypinyin)
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM _er_person_statements WHERE name IS NOT NULL")
             .fetchall()]
    keys = [person_keys(n) or (None, None, None, None) for n in names]
    name_keys = pa.table({"name": names, "name_norm": [k[0] for k in keys], "name_pinyin": [k[1] for k in keys],
                          "name_swap": [k[2] for k in keys]})
    con.register("_er_name_keys_arrow", name_keys)
    con.execute("CREATE OR REPLACE TEMP TABLE _er_name_keys AS SELECT * FROM _er_name_keys_arrow")
    con.unregister("_er_name_keys_arrow")
    # identity: a usable ID is valid or a converted 15-digit one (or the load keyed the record by it)
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_person_identity AS
        SELECT s.*, n.name_norm, n.name_pinyin, n.name_swap,
               CASE WHEN NOT starts_with(key, 'Person:@') THEN substr(key, 8)
                    WHEN id_status IN ('valid', 'legacy15') THEN id_number END AS id_key,
               CASE WHEN length(id_number) = 18 AND regexp_full_match(id_number, '[0-9]{17}[0-9X]')
                    THEN id_number END AS id_clean,
               row_number() OVER (ORDER BY priority, dataset, lpad(record, 12, '0'), key) AS rank
        FROM _er_person_statements s LEFT JOIN _er_name_keys n USING (name)""")
    # over-shared IDs: more different names (by pinyin) than one person plausibly has
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_overshared_ids AS
        SELECT id_key, count(DISTINCT name_pinyin) AS names, count(*) AS records,
               arg_min(name_pinyin, rank) AS owner_pinyin
        FROM _er_person_identity WHERE id_key IS NOT NULL GROUP BY id_key
        HAVING count(DISTINCT name_pinyin) > $m""", {"m": max_names})
    # an over-shared ID is not the record's own unless the name is its owner's: then the ID and
    # what it implies (birth date, sex, region) say nothing about the person
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_person_units AS
        SELECT i.*, o.id_key IS NOT NULL AS overshared,
               o.id_key IS NULL OR i.name_pinyin = o.owner_pinyin AS own_id
        FROM _er_person_identity i LEFT JOIN _er_overshared_ids o USING (id_key)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {LINK_INPUT} AS
        SELECT unit AS unique_id, name_norm, name_pinyin, name_swap,
               coalesce(birth_date, CASE WHEN own_id THEN try_strptime(substr(id_clean, 7, 8), '%Y%m%d')::DATE END)
                   AS birth_date,
               coalesce(sex, CASE WHEN id_clean IS NULL OR NOT own_id THEN NULL
                                  WHEN substr(id_clean, 17, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END) AS sex,
               CASE WHEN own_id THEN coalesce(id_clean, id_number) END AS id_clean,
               CASE WHEN own_id THEN left(id_clean, 17) END AS id17,
               CASE WHEN own_id THEN left(id_clean, 6) END AS region,
               village_code, left(village_code, 9) AS township, left(village_code, 6) AS county, phone,
               id_key IS NOT NULL AND own_id AS id_usable,
               CASE WHEN own_id THEN id_key END AS id_label, overshared
        FROM _er_person_units""")
    # the sole holder of a name in a village: a record with no ID of its own (or one a typo away
    # from the holder's) and that name in that village is that person
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_sole_holders AS
        SELECT name_norm, village_code, min(id_label) AS holder FROM {LINK_INPUT}
        WHERE id_label IS NOT NULL AND name_norm IS NOT NULL AND village_code IS NOT NULL
        GROUP BY ALL HAVING count(DISTINCT id_label) = 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_unit_person AS
        SELECT u.unit, u.dataset || '#' || u.record AS ref, u.key, u.dataset, u.record, 'Person' AS label, u.name,
               i.id_label AS id_usable, i.overshared, u.rank, u.records,
               CASE WHEN i.id_label IS NULL AND (i.id_clean IS NULL OR
                         (length(i.id_clean) = 18 AND hamming(i.id_clean, s.holder) <= 1)) THEN s.holder END
                   AS sole_in_village
        FROM _er_person_units u JOIN {LINK_INPUT} i ON i.unique_id = u.unit
        LEFT JOIN _er_sole_holders s ON s.name_norm = i.name_norm AND s.village_code = i.village_code""")
    units, records = con.execute("SELECT count(*), coalesce(sum(len(records)), 0) FROM _er_person_statements")\
        .fetchone()
    over = con.execute("SELECT id_key, names, records FROM _er_overshared_ids ORDER BY records DESC").fetchall()
    for t in ("_er_person_statements", "_er_person_identity", "_er_person_units", "_er_name_keys",
              "_er_sole_holders"):
        con.execute(f"DROP TABLE {t}")
    return {"units": units, "records": int(records), "overshared": over}


def prepare_companies(con) -> None:
    """Company units into ``_er_unit_company``: identity is a valid USCC (the load's key)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_company_statements AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority, list_distinct(flatten(list(records))) AS records, max(name) AS name,
               max(uscc) AS uscc, bool_or(uscc_valid) AS uscc_valid
        FROM node_record WHERE list_contains(labels, 'Company') GROUP BY dataset, record, key""")
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM _er_company_statements WHERE name IS NOT NULL")
             .fetchall()]
    con.register("_er_company_name_keys", pa.table({"name": names, "name_key": [company_name_key(n) for n in names]}))
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_company_named AS
        SELECT s.*, n.name_key, row_number() OVER (ORDER BY priority, dataset, lpad(record, 12, '0'), key) AS rank
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
