"""Derived relationships, rebuilt in SQL after every load (inside the load's transaction).

``kinship``: the household registry says how each member relates to the household head
(与户主关系), as a word (配偶, 长子, 儿媳 …) or as a GB/T 4761-2008 family-relationship code
(two-digit 01-99, or the one-digit 0-8 when a dataset uses only those); spouse,
parent/child, sibling, in-law and grandparent links follow from that, then across
households by composition (a spouse's parent is an in-law, a parent's parent a
grandparent). Values that derive nothing — unknown words or codes, and known ones the
derivation deliberately does not link (其他, 非亲属, uncles, cousins …) — are counted per
dataset: :func:`run_derivations` returns them as notes for the load's accounting.
``co_occurrence``: people in the same police case, and — as investigators
do — people in different cases at the same place within a time window.

Each derived relationship is stored under dataset ``derived:<name>`` and its ``record``
names the source records it came from, so evidence stays traceable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ..store import key_id, q

# 与户主关系 → role. Unknown words derive nothing (never guess kinship) and are reported;
# UNLINKED marks relations we know but do not link (other or more distant relatives).
UNLINKED = "unlinked"
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
    "其他": UNLINKED,
}

# GB/T 4761-2008 家庭关系代码 (Codes for family relationship), section 4, two-digit codes:
# code -> (the standard's name, role). Each code says how the member relates to the 户主.
# 98 is not assigned. The standard's names are accepted as words too.
GBT_4761 = {
    "01": ("本人", "head"), "02": ("户主", "head"),
    "10": ("配偶", "spouse"), "11": ("夫", "spouse"), "12": ("妻", "spouse"),
    "20": ("子", "son"), "21": ("独生子", "son"), "22": ("长子", "son"), "23": ("次子", "son"),
    "24": ("三子", "son"), "25": ("四子", "son"), "26": ("五子", "son"), "27": ("养子或继子", "son"),
    "28": ("女婿", "son_in_law"), "29": ("其他儿子", "son"),
    "30": ("女", "daughter"), "31": ("独生女", "daughter"), "32": ("长女", "daughter"), "33": ("次女", "daughter"),
    "34": ("三女", "daughter"), "35": ("四女", "daughter"), "36": ("五女", "daughter"),
    "37": ("养女或继女", "daughter"), "38": ("儿媳", "daughter_in_law"), "39": ("其他女儿", "daughter"),
    "40": ("孙子、孙女、外孙子、外孙女", "grandchild_either"), "41": ("孙子", "grandchild"),
    "42": ("孙女", "grandchild"), "43": ("外孙子", "grandchild_d"), "44": ("外孙女", "grandchild_d"),
    "45": ("孙媳妇或外孙媳妇", UNLINKED), "46": ("孙女婿或外孙女婿", UNLINKED), "47": ("曾孙子或外曾孙子", UNLINKED),
    "48": ("曾孙女或外曾孙女", UNLINKED), "49": ("其他孙子、孙女、外孙子、外孙女", "grandchild_either"),
    "50": ("父母", "parent"), "51": ("父亲", "father"), "52": ("母亲", "mother"), "53": ("公公", "spouse_parent"),
    "54": ("婆婆", "spouse_parent"), "55": ("岳父", "spouse_parent"), "56": ("岳母", "spouse_parent"),
    "57": ("继父或养父", "father"), "58": ("继母或养母", "mother"), "59": ("其他父母关系", UNLINKED),
    "60": ("祖父母、外祖父母", "grandparent"), "61": ("祖父", "grandparent"), "62": ("祖母", "grandparent"),
    "63": ("外祖父", "grandparent"), "64": ("外祖母", "grandparent"), "65": ("配偶的祖父母或外祖父母", UNLINKED),
    "66": ("曾祖父", UNLINKED), "67": ("曾祖母", UNLINKED), "68": ("配偶的曾祖父母或外曾祖父母", UNLINKED),
    "69": ("其他祖父母或外祖父母关系", UNLINKED),
    "70": ("兄、弟、姐、妹", "sibling"), "71": ("兄", "sibling"), "72": ("嫂", "sibling_spouse"),
    "73": ("弟", "sibling"), "74": ("弟媳", "sibling_spouse"), "75": ("姐姐", "sibling"),
    "76": ("姐夫", "sibling_spouse"), "77": ("妹妹", "sibling"), "78": ("妹夫", "sibling_spouse"),
    "79": ("其他兄弟姐妹", "sibling"),
    "80": ("其他", UNLINKED), "81": ("伯父", UNLINKED), "82": ("伯母", UNLINKED), "83": ("叔父", UNLINKED),
    "84": ("婶母", UNLINKED), "85": ("舅父", UNLINKED), "86": ("舅母", UNLINKED), "87": ("姨父", UNLINKED),
    "88": ("姨母", UNLINKED), "89": ("姑父", UNLINKED), "90": ("姑母", UNLINKED),
    "91": ("堂兄弟、堂姐妹", UNLINKED), "92": ("表兄弟、表姐妹", UNLINKED), "93": ("侄子", UNLINKED),
    "94": ("侄女", UNLINKED), "95": ("外甥", UNLINKED), "96": ("外甥女", UNLINKED), "97": ("其他亲属", UNLINKED),
    "99": ("非亲属", UNLINKED),
}
# the standard's one-digit codes, used only by a dataset whose values have no two-digit code
# (in a two-digit dataset a lone 1 or 2 is 01 or 02 whose leading zero a spreadsheet dropped)
GBT_4761_ONE_DIGIT = {"0": "head", "1": "spouse", "2": "son", "3": "daughter", "4": "grandchild_either",
                      "5": "parent", "6": "grandparent", "7": "sibling", "8": UNLINKED}

#: every word and two-digit code the derivation understands -> role
RELATION_ROLES = {**{name: role for name, role in GBT_4761.values()}, **ROLES,
                  **{code: role for code, (_name, role) in GBT_4761.items()}}

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
    # roles only the GB/T 4761 codes (and their names) give
    ("parent", "head", "PARENT_OF", "父母子女", None),                     # 50 父母: sex not said
    ("parent", "sibling", "PARENT_OF", "父母子女", None),
    ("spouse", "parent", "IN_LAW_OF", "翁婿/婆媳", "spouse_parents"),
    ("head", "grandchild_either", "GRANDPARENT_OF", "祖孙", None),          # 40 孙子女/外孙子女: side not said
    ("spouse", "grandchild_either", "GRANDPARENT_OF", "祖孙", None),
    ("spouse_parent", "spouse", "PARENT_OF", "父母子女", "only_spouse"),    # 公公 婆婆 岳父 岳母
    ("head", "spouse_parent", "IN_LAW_OF", "翁婿/婆媳", None),
    ("head", "sibling_spouse", "IN_LAW_OF", "兄弟姐妹的配偶", None),         # 嫂 弟媳 姐夫 妹夫
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


def _relation_roles(con: duckdb.DuckDBPyConnection) -> None:
    """``_members``: every MEMBER_OF with the role its 与户主关系 value gives (``unknown`` if none)."""
    words = list(RELATION_ROLES)
    one_digit = list(GBT_4761_ONE_DIGIT)
    # the value as written, full-width digits folded and a spreadsheet's "10.0" read as 10
    con.execute("""CREATE OR REPLACE TEMP TABLE _relation_values AS
        SELECT r.src AS person, r.dst AS household, r.record, r.dataset, r.relation AS written,
               regexp_replace(translate(trim(coalesce(r.relation, '')), '０１２３４５６７８９', '0123456789'),
                              '^([0-9]+)\\.0$', '\\1') AS value
        FROM rel r WHERE r.type = 'MEMBER_OF'""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _members AS
        WITH two AS (SELECT dataset, bool_or(regexp_full_match(value, '[1-9][0-9]')) AS two_digit
                     FROM _relation_values GROUP BY dataset)
        SELECT v.person, v.household, v.record, v.dataset, v.written,
               coalesce($roles[list_position($words, CASE WHEN t.two_digit AND regexp_full_match(v.value, '[0-9]')
                                                         THEN '0' || v.value ELSE v.value END)],
                        CASE WHEN NOT t.two_digit THEN $one_roles[list_position($one_digit, v.value)] END,
                        'unknown') AS role
        FROM _relation_values v JOIN two t USING (dataset)""",
                {"roles": [RELATION_ROLES[w] for w in words], "words": words,
                 "one_roles": [GBT_4761_ONE_DIGIT[c] for c in one_digit], "one_digit": one_digit})
    con.execute("DROP TABLE _relation_values")


def derive_kinship(con: duckdb.DuckDBPyConnection, rel_props: list[str]) -> int:
    _relation_roles(con)
    con.execute("""CREATE OR REPLACE TEMP TABLE _hh AS
        SELECT household, count(*) FILTER (role = 'son') AS sons, count(*) FILTER (role = 'daughter') AS daughters,
               count(*) FILTER (role = 'father') AS fathers, count(*) FILTER (role = 'mother') AS mothers,
               count(*) FILTER (role = 'spouse') AS spouses
        FROM _members GROUP BY household""")
    cond_sql = {
        None: "true",
        "pair": "a.person < b.person",
        "one_each": "h.fathers = 1 AND h.mothers = 1",
        "only_son": "h.sons = 1",
        "only_daughter": "h.daughters = 1",
        "only_spouse": "h.spouses = 1",
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


def underived_relations(con: duckdb.DuckDBPyConnection, *, top: int = 8) -> dict[str, list[str]]:
    """Notes per dataset on the 与户主关系 values that derived no kinship (after
    :func:`derive_kinship`): unknown values, and known ones not linked by design."""
    rows = con.execute("""SELECT dataset, role = 'unknown' AS unknown, coalesce(written, '') AS written, count(*) AS n
        FROM _members WHERE role IN ('unknown', $unlinked) GROUP BY ALL
        ORDER BY dataset, unknown DESC, n DESC, written""", {"unlinked": UNLINKED}).fetchall()
    by_dataset: dict[str, dict[bool, list[tuple[str, int]]]] = {}
    for dataset, unknown, written, n in rows:
        by_dataset.setdefault(dataset, {}).setdefault(unknown, []).append((written, n))
    notes: dict[str, list[str]] = {}
    for dataset, kinds in by_dataset.items():
        for unknown, values in sorted(kinds.items(), reverse=True):
            total = sum(n for _, n in values)
            rows = f"{total:,} member row{'s' if total != 1 else ''}"
            shown = ", ".join(f"{w or '(blank)'!r} ×{n:,}" for w, n in values[:top])
            more = f" and {len(values) - top} more values" if len(values) > top else ""
            if unknown:
                notes.setdefault(dataset, []).append(
                    f"kinship: {rows} derived no kinship — their 与户主关系 value is not a relation "
                    f"word or GB/T 4761 code the derivation knows: {shown}{more}")
            else:
                notes.setdefault(dataset, []).append(
                    f"kinship: {rows} derived no kinship — other or more distant relatives the "
                    f"derivation does not link: {shown}{more}")
    return notes


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


@dataclass
class Derived:
    """What :func:`run_derivations` did: relationships per derivation, and notes per dataset
    (the load's accounting carries them: ``LoadResult.notes``)."""
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)


def run_derivations(con: duckdb.DuckDBPyConnection, specs: dict[str, dict], rel_props: list[str]) -> Derived:
    """Rebuild every derivation in ``specs`` (name → params from the mappings)."""
    out = Derived()
    for name, params in sorted(specs.items()):
        out.counts[name] = DERIVATIONS[name](con, rel_props, **params)
        if name == "kinship":
            for dataset, notes in underived_relations(con).items():
                out.notes.setdefault(dataset, []).extend(notes)
    return out
