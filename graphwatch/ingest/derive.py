"""Derived relationships, rebuilt in SQL after every load (inside the load's transaction).

``kinship``: the household registry says how each member relates to the household head
(与户主关系); spouse, parent/child, sibling, in-law and grandparent links follow from that,
then across households by composition (a spouse's parent is an in-law, a parent's parent a
grandparent). ``co_occurrence``: people in the same police case, and — as investigators
do — people in different cases at the same place within a time window.

Each derived relationship is stored under dataset ``derived:<name>`` and its ``record``
names the source records it came from, so evidence stays traceable.
"""

from __future__ import annotations

import duckdb

from ..store import key_id, q

# 与户主关系 → role. Unknown words map to 'other' and derive nothing (never guess kinship).
ROLES = {
    "户主": "head", "本人": "head",
    "配偶": "spouse", "妻": "spouse", "妻子": "spouse", "夫": "spouse", "丈夫": "spouse",
    "子": "son", "儿子": "son", "长子": "son", "次子": "son", "三子": "son", "养子": "son",
    "女": "daughter", "女儿": "daughter", "长女": "daughter", "次女": "daughter", "三女": "daughter", "养女": "daughter",
    "父亲": "father", "父": "father", "母亲": "mother", "母": "mother",
    "兄弟": "sibling", "兄": "sibling", "弟": "sibling", "哥哥": "sibling", "弟弟": "sibling",
    "姐妹": "sibling", "姐": "sibling", "妹": "sibling", "姐姐": "sibling", "妹妹": "sibling",
    "儿媳": "daughter_in_law", "女婿": "son_in_law",
    "孙子": "grandchild", "孙女": "grandchild", "外孙子": "grandchild_d", "外孙女": "grandchild_d",
    "祖父": "grandparent", "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
}

# (role a, role b, type, kin label, condition on the household) — a → b for directed types
RULES = [
    ("head", "spouse", "SPOUSE_OF", "夫妻", None),
    ("head", "son", "PARENT_OF", "父母子女", None),
    ("head", "daughter", "PARENT_OF", "父母子女", None),
    ("spouse", "son", "PARENT_OF", "父母子女", None),
    ("spouse", "daughter", "PARENT_OF", "父母子女", None),
    ("father", "head", "PARENT_OF", "父母子女", None),
    ("mother", "head", "PARENT_OF", "父母子女", None),
    ("father", "mother", "SPOUSE_OF", "夫妻", "one_each"),
    ("father", "sibling", "PARENT_OF", "父母子女", None),
    ("mother", "sibling", "PARENT_OF", "父母子女", None),
    ("head", "sibling", "SIBLING_OF", "兄弟姐妹", None),
    ("son", "son", "SIBLING_OF", "兄弟姐妹", "pair"),
    ("son", "daughter", "SIBLING_OF", "兄弟姐妹", None),
    ("daughter", "daughter", "SIBLING_OF", "兄弟姐妹", "pair"),
    ("sibling", "sibling", "SIBLING_OF", "兄弟姐妹", "pair"),
    ("head", "daughter_in_law", "IN_LAW_OF", "公婆-儿媳", None),
    ("spouse", "daughter_in_law", "IN_LAW_OF", "公婆-儿媳", None),
    ("head", "son_in_law", "IN_LAW_OF", "岳父母-女婿", None),
    ("spouse", "son_in_law", "IN_LAW_OF", "岳父母-女婿", None),
    ("son", "daughter_in_law", "SPOUSE_OF", "夫妻", "only_son"),
    ("daughter", "son_in_law", "SPOUSE_OF", "夫妻", "only_daughter"),
    ("head", "grandchild", "GRANDPARENT_OF", "祖孙", None),
    ("spouse", "grandchild", "GRANDPARENT_OF", "祖孙", None),
    ("head", "grandchild_d", "GRANDPARENT_OF", "祖孙", None),
    ("spouse", "grandchild_d", "GRANDPARENT_OF", "祖孙", None),
    ("son", "grandchild", "PARENT_OF", "父母子女", "only_son"),          # 孙子/孙女: a son's child
    ("daughter", "grandchild_d", "PARENT_OF", "父母子女", "only_daughter"),  # 外孙: a daughter's child
    ("grandparent", "head", "GRANDPARENT_OF", "祖孙", None),
    ("spouse", "father", "IN_LAW_OF", "翁婿/婆媳", "spouse_parents"),
    ("spouse", "mother", "IN_LAW_OF", "翁婿/婆媳", "spouse_parents"),
]

DERIVED_PREFIX = "derived:"


def _insert_derived(con: duckdb.DuckDBPyConnection, name: str, table: str, rel_props: list[str]) -> int:
    """Insert rows of ``table`` (type, src, dst, record, + props) as relationships of ``derived:name``."""
    dataset = DERIVED_PREFIX + name
    con.execute("DELETE FROM rel WHERE dataset = ?", [dataset])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _drv AS
        SELECT d.*, $ds || '#' || d.type || '#' || a.key || '#' || b.key AS key
        FROM {table} d JOIN node a ON a.nid = d.src JOIN node b ON b.nid = d.dst""", {"ds": dataset})
    have = {r[0] for r in con.execute("DESCRIBE _drv").fetchall()}
    props = [p for p in rel_props if p in have]
    cols = ", ".join(q(p) for p in props)
    n = con.execute(f"""INSERT INTO rel (rid, type, src, dst, dataset, record{', ' + cols if cols else ''})
        SELECT {key_id('d.key')}, d.type, d.src, d.dst, $ds, d.record{', ' + ', '.join('d.' + q(p) for p in props) if props else ''}
        FROM _drv d""", {"ds": dataset}).fetchone()[0]
    return n


def derive_kinship(con: duckdb.DuckDBPyConnection, rel_props: list[str]) -> int:
    words = list(ROLES)
    roles = [ROLES[w] for w in words]
    con.execute("""CREATE OR REPLACE TEMP TABLE _members AS
        SELECT r.src AS person, r.dst AS household, r.record AS record, r.dataset AS dataset,
               coalesce($roles[list_position($words, trim(r.relation))], 'other') AS role
        FROM rel r WHERE r.type = 'MEMBER_OF'""", {"roles": roles, "words": words})
    con.execute("""CREATE OR REPLACE TEMP TABLE _hh AS
        SELECT household, count(*) FILTER (role = 'son') AS sons, count(*) FILTER (role = 'daughter') AS daughters,
               count(*) FILTER (role = 'father') AS fathers, count(*) FILTER (role = 'mother') AS mothers
        FROM _members GROUP BY household""")
    cond_sql = {
        None: "true",
        "pair": "a.person < b.person",
        "one_each": "h.fathers = 1 AND h.mothers = 1",
        "only_son": "h.sons = 1",
        "only_daughter": "h.daughters = 1",
        "spouse_parents": "true",    # father/mother are the head's, so the head's spouse's in-laws
    }
    parts = []
    params = {}
    for k, (ra, rb, typ, kin, cond) in enumerate(RULES):
        params.update({f"a{k}": ra, f"b{k}": rb, f"t{k}": typ, f"k{k}": kin})
        parts.append(f"""SELECT $t{k} AS type, a.person AS src, b.person AS dst, $k{k} AS kin,
                a.dataset || '#' || a.record || '|' || b.record AS record
            FROM _members a JOIN _members b ON a.household = b.household AND a.person <> b.person
            JOIN _hh h ON h.household = a.household
            WHERE a.role = $a{k} AND b.role = $b{k} AND {cond_sql[cond]}""")
    con.execute("CREATE OR REPLACE TEMP TABLE _kin AS " + " UNION ALL ".join(parts), params)
    # across households by composition; undirected types are read both ways
    con.execute("""CREATE OR REPLACE TEMP TABLE _k_all AS
        SELECT type, src, dst, record FROM rel WHERE type IN ('SPOUSE_OF', 'PARENT_OF', 'SIBLING_OF')
              AND dataset NOT LIKE 'derived:%'
        UNION ALL SELECT type, src, dst, record FROM _kin WHERE type IN ('SPOUSE_OF', 'PARENT_OF', 'SIBLING_OF')""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _k_both AS
        SELECT type, src, dst, record FROM _k_all
        UNION ALL SELECT type, dst, src, record FROM _k_all WHERE type <> 'PARENT_OF'""")
    con.execute("""INSERT INTO _kin
        SELECT 'GRANDPARENT_OF', a.src, b.dst, '祖孙', 'via ' || a.record || ' + ' || b.record
        FROM _k_both a JOIN _k_both b ON a.dst = b.src
        WHERE a.type = 'PARENT_OF' AND b.type = 'PARENT_OF' AND a.src <> b.dst
        UNION ALL
        SELECT 'IN_LAW_OF', a.src, b.dst, '配偶的父母', 'via ' || a.record || ' + ' || b.record
        FROM _k_both a JOIN _k_both b ON a.dst = b.src
        WHERE a.type = 'PARENT_OF' AND b.type = 'SPOUSE_OF' AND a.src <> b.dst
        UNION ALL
        SELECT 'IN_LAW_OF', a.src, b.dst, '配偶的兄弟姐妹', 'via ' || a.record || ' + ' || b.record
        FROM _k_both a JOIN _k_both b ON a.dst = b.src
        WHERE a.type = 'SPOUSE_OF' AND b.type = 'SIBLING_OF' AND a.src <> b.dst AND a.src < b.dst""")
    # one relationship per (type, unordered pair for undirected / ordered for directed)
    con.execute("""CREATE OR REPLACE TEMP TABLE _kin_final AS
        SELECT type, src, dst, min(kin) AS kin, min(record) AS record FROM (
            SELECT type, CASE WHEN type IN ('PARENT_OF', 'GRANDPARENT_OF') OR src < dst THEN src ELSE dst END AS src,
                         CASE WHEN type IN ('PARENT_OF', 'GRANDPARENT_OF') OR src < dst THEN dst ELSE src END AS dst,
                   kin, record FROM _kin) k
        WHERE NOT EXISTS (SELECT 1 FROM rel r WHERE r.type = k.type AND r.dataset NOT LIKE 'derived:%'
                          AND ((r.src = k.src AND r.dst = k.dst) OR (k.type NOT IN ('PARENT_OF', 'GRANDPARENT_OF')
                               AND r.src = k.dst AND r.dst = k.src)))
        GROUP BY ALL""")
    return _insert_derived(con, "kinship", "_kin_final", rel_props)


def derive_co_occurrence(con: duckdb.DuckDBPyConnection, rel_props: list[str], *, window_minutes: int = 120) -> int:
    con.execute("""CREATE OR REPLACE TEMP TABLE _parties AS
        SELECT r.src AS person, r.dst AS pcase, c.case_no, c.occurred_at,
               regexp_replace(lower(c.place), '\\s+', '', 'g') AS place
        FROM rel r JOIN node c ON c.nid = r.dst WHERE r.type = 'PARTY_TO'""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _co AS
        SELECT 'CO_OCCURRED_WITH' AS type, a.person AS src, b.person AS dst, 'same_case' AS basis,
               a.case_no AS case_nos, 0 AS minutes_apart, 'case ' || a.case_no AS record
        FROM _parties a JOIN _parties b ON a.pcase = b.pcase AND a.person < b.person
        UNION ALL
        SELECT 'CO_OCCURRED_WITH', least(a.person, b.person), greatest(a.person, b.person), 'same_place_window',
               a.case_no || '|' || b.case_no,
               CAST(abs(epoch(a.occurred_at) - epoch(b.occurred_at)) / 60 AS INTEGER),
               'cases ' || a.case_no || ' + ' || b.case_no
        FROM _parties a JOIN _parties b ON a.place = b.place AND a.pcase < b.pcase AND a.person <> b.person
        WHERE abs(epoch(a.occurred_at) - epoch(b.occurred_at)) <= $w * 60""", {"w": int(window_minutes)})
    con.execute("""CREATE OR REPLACE TEMP TABLE _co_final AS
        SELECT type, src, dst, arg_min(basis, minutes_apart) AS basis, string_agg(DISTINCT case_nos, ';') AS case_nos,
               min(minutes_apart) AS minutes_apart, string_agg(DISTINCT record, '; ') AS record
        FROM _co GROUP BY type, src, dst""")
    return _insert_derived(con, "co_occurrence", "_co_final", rel_props)


DERIVATIONS = {"kinship": derive_kinship, "co_occurrence": derive_co_occurrence}


def run_derivations(con: duckdb.DuckDBPyConnection, specs: dict[str, dict], rel_props: list[str]) -> dict[str, int]:
    """Rebuild every derivation in ``specs`` (name → params from the mappings)."""
    return {name: DERIVATIONS[name](con, rel_props, **params) for name, params in sorted(specs.items())}
