"""Entity resolution: which source records are one person (or one company).

The unit is a *source record*: what one row of one dataset says about one person
(``node_record`` rows grouped by dataset, record and key). Resolution runs in four steps,
all inside the workspace's DuckDB:

1. **prepare** — names normalised (:mod:`.names`), IDs split into birth date, sex and
   region; a valid ID shared by records with more than ``max_names_per_id`` different
   names (a clerk's ID, a placeholder) is *over-shared*: it stays the identity of its owner
   (the most authoritative record's name) and is only evidence for the others;
2. **score** — splink predicts candidate pairs (:mod:`.model`) and keeps those at or above
   the review threshold in ``er_pair``, each with its per-field weights;
3. **cluster** — union-find over, in this order, "same" judgements, shared valid IDs, then
   model pairs at or above the merge threshold from the most to the least likely. Two
   clusters never join if they hold different valid IDs or any "not same" judgement
   between their records, so a chain A~B~C cannot join A and C that way. A record without
   a valid ID that matches records of two different ID holders is ambiguous: its pairs go
   to review instead;
4. **apply** — ``node`` is rebuilt with one node per cluster (properties from the most
   authoritative record, other names as ``aliases``), relationships follow their own
   record to its cluster, pairs left in the review band become ``SAME_AS`` relationships
   with their score and evidence. Original endpoints are kept in ``er_rel_orig`` so a load
   or an un-merge can rebuild everything from the records.

Judgements (``er_judgement``) are never touched by loads or resolves; the latest judgement
of a pair wins. Entity keys are stable: ``Person:<ID>`` for the owner of a valid ID, else
``Person:@<first record>``, the key the load gave that record.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..exc import GraphwatchError
from ..store import RESOLVE_DATASET, Workspace, insert_nodes, key_id, q, restore_record_endpoints
from . import model as M
from .names import branch_parent, company_name_key, person_keys

__all__ = ["ResolveError", "ResolveReport", "resolve", "judge", "review_queue", "unmerge", "explain_pair",
           "entity_members", "entity_provenance", "JUDGEMENTS"]

JUDGEMENTS = ("same", "not_same", "unsure")
MERGE_THRESHOLD = 0.99
REVIEW_THRESHOLD = 0.5
MAX_NAMES_PER_ID = 3


class ResolveError(GraphwatchError):
    """Resolution cannot run or a reference names no record."""


@dataclass
class ResolveReport:
    records: int = 0            # person source rows (lines) covered
    units: int = 0              # person source records (distinct statements)
    entities: int = 0
    merged_by_id: int = 0
    merged_by_village: int = 0   # sole holder of the name in the village
    merged_by_model: int = 0
    review_pairs: int = 0
    ambiguous: int = 0
    overshared_ids: list = field(default_factory=list)
    blocked_by_judgement: int = 0
    blocked_by_ids: int = 0
    companies: int = 0
    company_merges: int = 0
    branches: int = 0
    model: str = ""
    trained: bool = False
    seconds: dict = field(default_factory=dict)


# -- persistent tables --------------------------------------------------------------------------

def _ensure_tables(con) -> None:
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'er_run' AND NOT temporary").fetchone()[0]:
        return
    con.complete()
    try:
        _create_tables(con)
    except duckdb.InvalidInputException:   # a read-only workspace that was never resolved
        raise ResolveError("this workspace has not been resolved: run 'graphwatch resolve --workspace …' first") from None


def _create_tables(con) -> None:
    con.execute("""
        CREATE TABLE IF NOT EXISTS er_judgement (a BIGINT NOT NULL, b BIGINT NOT NULL, a_ref VARCHAR, b_ref VARCHAR,
            judgement VARCHAR NOT NULL, who VARCHAR, judged_at TIMESTAMP NOT NULL, why VARCHAR);
        CREATE TABLE IF NOT EXISTS er_unit (unit BIGINT, ref VARCHAR, key VARCHAR, dataset VARCHAR, record VARCHAR,
            label VARCHAR, name VARCHAR, id_usable VARCHAR, overshared BOOLEAN, rank BIGINT, records VARCHAR[],
            sole_in_village VARCHAR);
        CREATE TABLE IF NOT EXISTS er_pair (a BIGINT, b BIGINT, probability DOUBLE, weight DOUBLE,
            weights DOUBLE[], status VARCHAR);
        CREATE TABLE IF NOT EXISTS er_member (unit BIGINT, entity VARCHAR);
        CREATE TABLE IF NOT EXISTS er_rel_orig (rid BIGINT, src BIGINT, dst BIGINT);
        CREATE TABLE IF NOT EXISTS er_run (ran_at TIMESTAMP, model VARCHAR, merge_threshold DOUBLE,
            review_threshold DOUBLE, applied BOOLEAN, report VARCHAR);
    """)


def _model_path(ws: Workspace) -> Path:
    return ws.path / "resolve" / "person_model.json"


# -- 1. prepare -------------------------------------------------------------------------------

def _prepare(con, max_names: int) -> dict:
    """Person units with comparison columns in ``_er_in``; unit facts in ``er_unit``."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _u AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority, list_distinct(flatten(list(records))) AS records,
               max(name) AS name, max(id_number) AS id_number, max(id_status) AS id_status, max(sex) AS sex,
               max(birth_date) AS birth_date, max(village_code) AS village_code, max(phone) AS phone
        FROM node_record WHERE list_contains(labels, 'Person') GROUP BY dataset, record, key""")
    # names: normalised once per distinct spelling, in Python (opencc, pypinyin)
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM _u WHERE name IS NOT NULL").fetchall()]
    keys = [person_keys(n) or (None, None, None, None) for n in names]
    nk = pa.table({"name": names, "name_norm": [k[0] for k in keys], "name_pinyin": [k[1] for k in keys],
                   "name_swap": [k[2] for k in keys]})
    con.register("_nk_arrow", nk)
    con.execute("CREATE OR REPLACE TEMP TABLE _nk AS SELECT * FROM _nk_arrow")
    con.unregister("_nk_arrow")
    # identity: a usable ID is valid or a converted 15-digit one (or the load keyed the record by it)
    con.execute("""CREATE OR REPLACE TEMP TABLE _u2 AS
        SELECT u.*, n.name_norm, n.name_pinyin, n.name_swap,
               CASE WHEN NOT starts_with(key, 'Person:@') THEN substr(key, 8)
                    WHEN id_status IN ('valid', 'legacy15') THEN id_number END AS id_key,
               CASE WHEN length(id_number) = 18 AND regexp_full_match(id_number, '[0-9]{17}[0-9X]')
                    THEN id_number END AS id_clean,
               row_number() OVER (ORDER BY priority, dataset, lpad(record, 12, '0'), key) AS rank
        FROM _u u LEFT JOIN _nk n USING (name)""")
    # over-shared IDs: more different names (by pinyin) than one person plausibly has
    con.execute("""CREATE OR REPLACE TEMP TABLE _over AS
        SELECT id_key, count(DISTINCT name_pinyin) AS names, count(*) AS records,
               arg_min(name_pinyin, rank) AS owner_pinyin
        FROM _u2 WHERE id_key IS NOT NULL GROUP BY id_key HAVING count(DISTINCT name_pinyin) > $m""",
                {"m": max_names})
    # an over-shared ID is not the record's own unless the name is its owner's: then the ID and
    # what it implies (birth date, sex, region) say nothing about the person
    con.execute("""CREATE OR REPLACE TEMP TABLE _u3 AS
        SELECT u.*, o.id_key IS NOT NULL AS overshared,
               o.id_key IS NULL OR u.name_pinyin = o.owner_pinyin AS own_id
        FROM _u2 u LEFT JOIN _over o USING (id_key)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_in AS
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
        FROM _u3""")
    # the sole holder of a name in a village: a record with no ID of its own (or one a typo away
    # from the holder's) and that name in that village is that person
    con.execute("""CREATE OR REPLACE TEMP TABLE _sole AS
        SELECT name_norm, village_code, min(id_label) AS holder FROM _er_in
        WHERE id_label IS NOT NULL AND name_norm IS NOT NULL AND village_code IS NOT NULL
        GROUP BY ALL HAVING count(DISTINCT id_label) = 1""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _unit_person AS
        SELECT u.unit, u.dataset || '#' || u.record AS ref, u.key, u.dataset, u.record, 'Person' AS label, u.name,
               i.id_label AS id_usable, i.overshared, u.rank, u.records,
               CASE WHEN i.id_label IS NULL AND (i.id_clean IS NULL OR
                         (length(i.id_clean) = 18 AND hamming(i.id_clean, s.holder) <= 1)) THEN s.holder END
                   AS sole_in_village
        FROM _u3 u JOIN _er_in i ON i.unique_id = u.unit
        LEFT JOIN _sole s ON s.name_norm = i.name_norm AND s.village_code = i.village_code""")
    units, records = con.execute("SELECT count(*), coalesce(sum(len(records)), 0) FROM _u").fetchone()
    over = con.execute("SELECT id_key, names, records FROM _over ORDER BY records DESC").fetchall()
    for t in ("_u", "_u2", "_u3", "_nk", "_sole"):
        con.execute(f"DROP TABLE {t}")
    return {"units": units, "records": int(records), "overshared": over}


def _prior(con) -> float:
    """Share of random record pairs that share a usable ID (the model's prior)."""
    n, same = con.execute("""SELECT (SELECT count(*) FROM _er_in),
        (SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM (SELECT count(*) AS c FROM _er_in
         WHERE id_label IS NOT NULL GROUP BY id_label))""").fetchone()
    return max(float(same) / max(n * (n - 1) / 2, 1), 1e-9)


# -- 2. score ---------------------------------------------------------------------------------

def _score(con, model: dict, review: float) -> None:
    """Candidate pairs at or above ``review`` into ``_pairs`` (``er_pair``'s columns)."""
    if con.execute("SELECT count(*) < 2 FROM _er_in").fetchone()[0]:
        con.execute("CREATE OR REPLACE TEMP TABLE _pairs AS SELECT * FROM er_pair LIMIT 0")
        return
    lk = M.linker(con, "_er_in", model)
    pred = lk.inference.predict(threshold_match_probability=review)
    weights = ", ".join(f"mw_{c}" for c in M.COMPARISONS)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _pairs AS SELECT least(unique_id_l, unique_id_r) AS a,
            greatest(unique_id_l, unique_id_r) AS b, match_probability AS probability, match_weight AS weight,
            [{weights}]::DOUBLE[] AS weights, 'model' AS status
        FROM {pred.physical_name}""")
    pred.drop_table_from_database_and_remove_from_cache()


# -- 3. cluster -------------------------------------------------------------------------------

class _Clusters:
    """Union-find over groups with cannot-link constraints (different valid IDs, "not same").

    Only groups that take part in a union are stored; a group is its own root otherwise.
    """

    def __init__(self, forbid: dict[int, set[int]]):
        self.parent: dict[int, int] = {}
        self.ids: dict[int, set] = {}
        self.forbid = forbid   # root -> groups it must never join

    def find(self, g: int) -> int:
        p = self.parent
        root = g
        while root in p:
            root = p[root]
        while g in p and p[g] != root:   # path compression
            p[g], g = root, p[g]
        return root

    def union(self, a: int, b: int, ida=None, idb=None) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return "same"
        ia = self.ids.setdefault(ra, {ida} if ida else set())
        ib = self.ids.setdefault(rb, {idb} if idb else set())
        if ia and ib and ia != ib:
            return "ids"
        fa, fb = self.forbid.get(ra, ()), self.forbid.get(rb, ())
        if any(self.find(x) == rb for x in fa) or any(self.find(x) == ra for x in fb):
            return "judgement"
        self.parent[rb] = ra
        self.ids[ra] = ia | ib
        del self.ids[rb]
        if fb:
            self.forbid[ra] = set(fa) | set(self.forbid.pop(rb))
        return "merged"


def _latest_judgements(con, label: str):
    return con.execute("""SELECT j.a, j.b, arg_max(j.judgement, j.judged_at) FROM er_judgement j
        JOIN er_unit ua ON ua.unit = j.a JOIN er_unit ub ON ub.unit = j.b
        WHERE ua.label = $l AND ub.label = $l GROUP BY j.a, j.b ORDER BY max(j.judged_at), j.a, j.b""",
                       {"l": label}).fetchall()


def _cluster(con, label: str, merge: float, report: ResolveReport) -> None:
    """Assign every unit of ``label`` to an entity (``er_member``)."""
    judged = _latest_judgements(con, label)
    nots = sorted({u for a, b, j in judged if j == "not_same" for u in (a, b)})
    # groups: units sharing a valid ID are one group (its first holder by rank), except the
    # holders of an ID some holder of which was judged "not same": those go through union-find
    con.execute("""CREATE OR REPLACE TEMP TABLE _g0 AS
        SELECT unit, rank, key, ref, id_usable,
               id_usable IN (SELECT id_usable FROM er_unit WHERE unit IN (SELECT unnest($nots))) AS excl
        FROM er_unit WHERE label = $l""", {"l": label, "nots": nots})
    con.execute("""CREATE OR REPLACE TEMP TABLE _g AS
        SELECT unit, rank, key, ref, id_usable, excl,
               CASE WHEN id_usable IS NOT NULL AND NOT coalesce(excl, false)
                    THEN arg_min(unit, rank) OVER (PARTITION BY id_usable, excl) ELSE unit END AS grp
        FROM _g0""")
    con.execute("DROP TABLE _g0")
    report_ids = con.execute("SELECT count(*) FROM _g WHERE grp <> unit").fetchone()[0]
    forbid: dict[int, set[int]] = {}
    for a, b, j in judged:
        if j == "not_same":
            forbid.setdefault(a, set()).add(b)
            forbid.setdefault(b, set()).add(a)
    cl = _Clusters(forbid)
    def unions(sql: str, params=None) -> list[tuple[str, int, int]]:
        out = []
        for a, b, ga, gb, ia, ib in con.execute(sql, params or {}).fetchall():
            out.append((cl.union(ga, gb, ia, ib), a, b))
        return out

    edge = """SELECT e.a, e.b, ga.grp, gb.grp, ga.id_usable, gb.id_usable FROM ({}) e
              JOIN _g ga ON ga.unit = e.a JOIN _g gb ON gb.unit = e.b ORDER BY e.ord"""
    if judged:   # "same" wins over the model, but not over two different valid IDs
        con.complete()
        same = [(a, b) for a, b, j in judged if j == "same"]   # in the order they were made
        con.register("_jd", pa.table({"a": [a for a, _ in same], "b": [b for _, b in same],
                                      "ord": list(range(len(same)))},
                                     schema=pa.schema([("a", pa.int64()), ("b", pa.int64()), ("ord", pa.int64())])))
        report.blocked_by_ids += sum(r == "ids" for r, *_ in unions(edge.format("SELECT a, b, ord FROM _jd")))
        con.unregister("_jd")
    # holders of an ID with a "not same" among them: each joins the ID's first holder if allowed
    for r, *_ in unions(edge.format("""SELECT arg_min(unit, rank) OVER (PARTITION BY id_usable) AS a, unit AS b,
                                              rank AS ord FROM _g WHERE excl QUALIFY a <> b""")):
        report_ids += r == "merged"
        report.blocked_by_judgement += r == "judgement"
    report.merged_by_id += report_ids
    if label == "Person":
        # the sole holder of the name in the village: join the holder's first record
        for r, *_ in unions(edge.format("""SELECT o.owner AS a, u.unit AS b, u.rank AS ord FROM er_unit u
                JOIN (SELECT id_usable, arg_min(unit, rank) AS owner FROM _g WHERE id_usable IS NOT NULL
                      GROUP BY ALL) o ON o.id_usable = u.sole_in_village
                WHERE u.label = 'Person'""")):
            report.merged_by_village += r == "merged"
            report.blocked_by_judgement += r == "judgement"
        # ambiguous: a record without a valid ID that matches holders of two different IDs
        con.execute("UPDATE er_pair SET status = 'model' WHERE status <> 'model'")
        report.ambiguous = con.execute("""
            WITH e AS (SELECT p.a, p.b, ua.id_usable AS ia, ub.id_usable AS ib FROM er_pair p
                       JOIN er_unit ua ON ua.unit = p.a JOIN er_unit ub ON ub.unit = p.b
                       WHERE p.probability >= $m AND ua.label = 'Person' AND ub.label = 'Person'),
                 side AS (SELECT a AS u, ib AS other FROM e WHERE ia IS NULL AND ib IS NOT NULL
                          UNION ALL SELECT b, ia FROM e WHERE ib IS NULL AND ia IS NOT NULL),
                 amb AS (SELECT u FROM side GROUP BY u HAVING count(DISTINCT other) > 1)
            UPDATE er_pair SET status = 'ambiguous'
            WHERE probability >= $m AND (a IN (SELECT u FROM amb) OR b IN (SELECT u FROM amb))""",
                                    {"m": merge}).fetchone()[0]
        blocked = []
        for r, a, b in unions(edge.format("""SELECT a, b, row_number() OVER (ORDER BY probability DESC, a, b) AS ord
                                             FROM er_pair WHERE probability >= $m AND status = 'model'"""),
                              {"m": merge}):
            report.merged_by_model += r == "merged"
            report.blocked_by_ids += r == "ids"
            report.blocked_by_judgement += r == "judgement"
            if r in ("ids", "judgement"):
                blocked.append((a, b))
        if blocked:
            con.execute("UPDATE er_pair SET status = 'blocked' WHERE (a, b) IN (SELECT unnest(?), unnest(?))",
                        [[a for a, _ in blocked], [b for _, b in blocked]])
    # entity keys: the cluster holding an ID's first holder is Person:<ID>; others take their
    # first '@' record key (or one made from their first record); a clash gets ~2, ~3 …
    touched = list(cl.parent)
    con.complete()
    con.register("_roots", pa.table({"grp": pa.array(touched, pa.int64()),
                                     "root": pa.array([cl.find(g) for g in touched], pa.int64())}))
    prefix = label + ":"
    con.execute("DELETE FROM er_member WHERE unit IN (SELECT unit FROM er_unit WHERE label = ?)", [label])
    con.execute("""INSERT INTO er_member
        WITH e AS (SELECT g.*, coalesce(r.root, g.grp) AS root FROM _g g LEFT JOIN _roots r USING (grp)),
             own AS (SELECT arg_min(unit, rank) AS owner FROM e WHERE id_usable IS NOT NULL GROUP BY id_usable),
             k AS (SELECT root, min(rank) AS first,
                          coalesce(max(CASE WHEN unit IN (SELECT owner FROM own) THEN $p || id_usable END),
                                   min(CASE WHEN starts_with(key, $p || '@') THEN key END),
                                   $p || '@' || min(ref)) AS base
                   FROM e GROUP BY root),
             n AS (SELECT root, CASE WHEN row_number() OVER w = 1 THEN base
                                     ELSE base || '~' || row_number() OVER w END AS entity
                   FROM k WINDOW w AS (PARTITION BY base ORDER BY first))
        SELECT e.unit, n.entity FROM e JOIN n USING (root)""", {"p": prefix})
    con.unregister("_roots")
    entities = con.execute("""SELECT count(DISTINCT entity) FROM er_member
                              WHERE unit IN (SELECT unit FROM _g)""").fetchone()[0]
    con.execute("DROP TABLE _g")
    if label == "Person":
        report.entities = entities
    else:
        report.companies = entities


# -- companies ---------------------------------------------------------------------------------

def _prepare_companies(con) -> None:
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _cu AS
        SELECT {key_id("dataset || '#' || record || '#' || key")} AS unit, key, dataset, record,
               min(priority) AS priority, list_distinct(flatten(list(records))) AS records, max(name) AS name,
               max(uscc) AS uscc, bool_or(uscc_valid) AS uscc_valid
        FROM node_record WHERE list_contains(labels, 'Company') GROUP BY dataset, record, key""")
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM _cu WHERE name IS NOT NULL").fetchall()]
    con.register("_cn_arrow", pa.table({"name": names, "name_key": [company_name_key(n) for n in names]}))
    con.execute("""CREATE OR REPLACE TEMP TABLE _cu2 AS
        SELECT u.*, n.name_key, row_number() OVER (ORDER BY priority, dataset, lpad(record, 12, '0'), key) AS rank
        FROM _cu u LEFT JOIN _cn_arrow n USING (name)""")
    con.unregister("_cn_arrow")
    # the identity of a company is a valid USCC (its load key); a record whose USCC is invalid
    # joins the one valid-USCC company with the same normalised name, if there is exactly one
    con.execute("""CREATE OR REPLACE TEMP TABLE _cvalid AS
        SELECT name_key, min(substr(key, 9)) AS uscc FROM _cu2
        WHERE coalesce(uscc_valid, true) AND NOT starts_with(key, 'Company:@') AND name_key IS NOT NULL
        GROUP BY name_key HAVING count(DISTINCT key) = 1""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _unit_company AS SELECT u.unit, u.dataset || '#' || u.record, u.key, u.dataset, u.record,
            'Company', u.name,
            CASE WHEN coalesce(u.uscc_valid, true) AND NOT starts_with(u.key, 'Company:@') THEN substr(u.key, 9)
                 ELSE v.uscc END, false, u.rank, u.records, NULL
        FROM _cu2 u LEFT JOIN _cvalid v USING (name_key)""")
    con.execute("DROP TABLE _cu; DROP TABLE _cu2; DROP TABLE _cvalid")


def _branches(con) -> int:
    """BRANCH_OF from a branch company to the one company whose name is the branch's prefix."""
    rows = con.execute("""SELECT nid, name FROM node WHERE list_contains(labels, 'Company') AND name IS NOT NULL""").fetchall()
    by_key: dict[str, set[int]] = {}
    for nid, name in rows:
        by_key.setdefault(company_name_key(name), set()).add(nid)
    pairs = []
    for nid, name in rows:
        parent = branch_parent(company_name_key(name))
        if parent and len(by_key.get(parent, ())) == 1:
            (p,) = by_key[parent]
            if p != nid:
                pairs.append((nid, p))
    if pairs:
        con.register("_br_arrow", pa.table({"src": [a for a, _ in pairs], "dst": [b for _, b in pairs]}))
        con.execute(f"""INSERT INTO rel (rid, type, src, dst, dataset, record)
            SELECT {key_id("$ds || '#BRANCH_OF#' || src || '#' || dst")}, 'BRANCH_OF', src, dst, $ds,
                   'name: ' || (SELECT name FROM node WHERE nid = src)
            FROM _br_arrow""", {"ds": RESOLVE_DATASET})
        con.unregister("_br_arrow")
    return len(pairs)


# -- 4. apply ----------------------------------------------------------------------------------

def _apply(con, ws: Workspace, merge: float, review: float) -> int:
    props = list(ws.schema.node_properties)
    restore_record_endpoints(con)   # a previous resolve is undone first
    con.execute("""CREATE OR REPLACE TEMP TABLE _m AS
        SELECT u.unit, u.key, u.dataset, u.record, u.records, u.rank, m.entity
        FROM er_unit u JOIN er_member m USING (unit)""")
    # nodes: one per entity, from all its records
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_rec AS
        SELECT nr.* REPLACE (m.entity AS key) FROM node_record nr
        JOIN _m m ON m.dataset = nr.dataset AND m.record = nr.record AND m.key = nr.key""")
    con.execute("DELETE FROM node WHERE starts_with(key, 'Person:') OR starts_with(key, 'Company:')")
    insert_nodes(con, props, "_er_rec")
    con.execute("""UPDATE node SET aliases = a.names FROM (
            SELECT r.key, list_sort(list_distinct(list(r.name))) AS names FROM _er_rec r GROUP BY r.key) a
        WHERE node.key = a.key AND len(list_filter(a.names, lambda x: x <> node.name)) > 0""")
    con.execute("UPDATE node SET aliases = list_filter(aliases, lambda x: x <> name) WHERE aliases IS NOT NULL")
    # relationships: each old node id → its entity; where one old key went to several entities,
    # each relationship row follows its own record (the row that named the person)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kmap AS
        SELECT {key_id('key')} AS old, {key_id('arg_min(entity, rank)')} AS new FROM _m GROUP BY key
        HAVING arg_min(entity, rank) <> key OR count(DISTINCT entity) > 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _split AS
        SELECT old, dataset, record, min(new) AS new FROM (
            SELECT {key_id('key')} AS old, dataset, unnest(records) AS record, {key_id('entity')} AS new
            FROM _m WHERE key IN (SELECT key FROM _m GROUP BY key HAVING count(DISTINCT entity) > 1))
        GROUP BY ALL""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _relmap AS
        SELECT r.rid, r.src AS osrc, r.dst AS odst,
               coalesce(s1.new, k1.new, r.src) AS nsrc, coalesce(s2.new, k2.new, r.dst) AS ndst
        FROM rel r
        LEFT JOIN _split s1 ON s1.old = r.src AND s1.dataset = r.dataset AND s1.record = r.record
        LEFT JOIN _kmap k1 ON k1.old = r.src
        LEFT JOIN _split s2 ON s2.old = r.dst AND s2.dataset = r.dataset AND s2.record = r.record
        LEFT JOIN _kmap k2 ON k2.old = r.dst
        WHERE r.src IN (SELECT old FROM _kmap) OR r.dst IN (SELECT old FROM _kmap)""")
    con.execute("DELETE FROM _relmap WHERE nsrc = osrc AND ndst = odst")
    con.execute("INSERT INTO er_rel_orig SELECT rid, osrc, odst FROM _relmap")
    con.execute("UPDATE rel SET src = m.nsrc, dst = m.ndst FROM _relmap m WHERE rel.rid = m.rid")
    # the review band in the graph: SAME_AS between entities, score = the best pair's probability
    n_same = con.execute(f"""INSERT INTO rel (rid, type, src, dst, dataset, record, score, evidence)
        SELECT {key_id("$ds || '#SAME_AS#' || ea || '#' || eb")}, 'SAME_AS', {key_id('ea')}, {key_id('eb')}, $ds,
               ra || ' ~ ' || rb, probability, status
        FROM (SELECT least(ma.entity, mb.entity) AS ea, greatest(ma.entity, mb.entity) AS eb,
                     arg_max(ua.ref, p.probability) AS ra, arg_max(ub.ref, p.probability) AS rb,
                     max(p.probability) AS probability, arg_max(p.status, p.probability) AS status
              FROM er_pair p JOIN er_member ma ON ma.unit = p.a JOIN er_member mb ON mb.unit = p.b
              JOIN er_unit ua ON ua.unit = p.a JOIN er_unit ub ON ub.unit = p.b
              WHERE p.probability >= $review AND ma.entity <> mb.entity AND p.status <> 'not_same'
                AND NOT EXISTS (SELECT 1 FROM er_member x JOIN er_member y ON true
                                JOIN er_judgement j ON j.a = least(x.unit, y.unit) AND j.b = greatest(x.unit, y.unit)
                                WHERE x.entity = ma.entity AND y.entity = mb.entity AND j.judgement = 'not_same')
              GROUP BY ALL)""", {"ds": RESOLVE_DATASET, "review": review}).fetchone()[0]
    for t in ("_m", "_er_rec", "_kmap", "_split", "_relmap"):
        con.execute(f"DROP TABLE {t}")
    return n_same


def _load_model(ws: Workspace, model: str | Path | dict | None) -> tuple[dict, str]:
    if isinstance(model, dict):
        return model, "given"
    path = Path(model) if model else (_model_path(ws) if _model_path(ws).exists() else M.DEFAULT_MODEL)
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except (OSError, ValueError) as exc:
        raise ResolveError(f"{path}: cannot read the linking model ({exc})") from None


def resolve(ws: Workspace, *, train: bool = False, model: str | Path | dict | None = None,
            merge_threshold: float = MERGE_THRESHOLD, review_threshold: float = REVIEW_THRESHOLD,
            max_names_per_id: int = MAX_NAMES_PER_ID, rescore: bool = True, progress=None) -> ResolveReport:
    """Resolve persons and companies in ``ws`` and rewrite its graph (one transaction).

    ``train`` fits the model on this workspace and saves it as ``<ws>/resolve/person_model.json``
    (later runs use it); otherwise that file, else ``model``, else the packaged default.
    ``rescore=False`` re-clusters stored pairs only (after a judgement or an un-merge).
    """
    if ws.read_only:
        raise ResolveError(f"{ws.path}: opened read-only; resolution rewrites the graph")
    if not 0 < review_threshold <= merge_threshold <= 1:
        raise ResolveError(f"thresholds must satisfy 0 < review ({review_threshold}) <= merge ({merge_threshold}) <= 1")
    con = ws.con
    rep = ResolveReport()
    step = progress or (lambda *a: None)
    t0 = time.perf_counter()
    _ensure_tables(con)
    # prepare, train and score read the graph and write temporary tables only; splink probes
    # tables by failing queries, which would abort an open transaction, so they run before it
    step("prepare", 0, 4)
    t = time.perf_counter()
    info = _prepare(con, max_names_per_id)
    rep.units, rep.records = info["units"], info["records"]
    rep.overshared_ids = [{"id": i, "names": n, "records": r} for i, n, r in info["overshared"]]
    _prepare_companies(con)
    rep.seconds["prepare"] = time.perf_counter() - t
    rescore = rescore or not con.execute("SELECT count(*) FROM er_pair").fetchone()[0]
    if rescore:
        if train:
            step("train", 1, 4)
            t = time.perf_counter()
            m = M.train(con, "_er_in", _prior(con))
            _model_path(ws).parent.mkdir(exist_ok=True)
            _model_path(ws).write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")
            rep.model, rep.trained = str(_model_path(ws)), True
            rep.seconds["train"] = time.perf_counter() - t
        else:
            m, rep.model = _load_model(ws, model)
        step("score", 1, 4)
        t = time.perf_counter()
        _score(con, m, review_threshold)
        rep.seconds["score"] = time.perf_counter() - t
    else:
        rep.model = "stored pairs"
    with ws.transaction():
        con.execute("DELETE FROM er_unit")
        con.execute("INSERT INTO er_unit SELECT * FROM _unit_person UNION ALL SELECT * FROM _unit_company")
        if rescore:
            con.execute("DELETE FROM er_pair")
            con.execute("INSERT INTO er_pair SELECT * FROM _pairs")
        step("cluster", 2, 4)
        t = time.perf_counter()
        _cluster(con, "Person", merge_threshold, rep)
        _cluster(con, "Company", merge_threshold, rep)
        rep.company_merges = con.execute("""SELECT count(*) - count(DISTINCT m.entity) FROM er_member m
            JOIN er_unit u USING (unit) WHERE u.label = 'Company' AND u.key <> m.entity""").fetchone()[0]
        rep.seconds["cluster"] = time.perf_counter() - t
        step("apply", 3, 4)
        t = time.perf_counter()
        rep.review_pairs = _apply(con, ws, merge_threshold, review_threshold)
        rep.branches = _branches(con)
        rep.seconds["apply"] = time.perf_counter() - t
        clash = con.execute("SELECT nid FROM node GROUP BY nid HAVING count(*) > 1 LIMIT 1").fetchone()
        if clash:
            raise ResolveError(f"id collision on {clash[0]}; resolution was rolled back")
        rep.seconds["total"] = time.perf_counter() - t0
        con.execute("UPDATE er_run SET applied = false")
        con.execute("INSERT INTO er_run VALUES (now(), ?, ?, ?, true, ?)",
                    [rep.model, merge_threshold, review_threshold, json.dumps(rep.__dict__, default=str)])
        step("done", 4, 4)
    for t in ("_er_in", "_unit_person", "_unit_company", "_pairs"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return rep


# -- judgements and review --------------------------------------------------------------------

def _unit_of(con, ref) -> tuple[int, str]:
    """A unit from its id, ``dataset#record`` or ``dataset#record#key``."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
        row = con.execute("SELECT unit, ref, key FROM er_unit WHERE unit = ?", [int(ref)]).fetchall()
    else:
        row = con.execute("""SELECT unit, ref, key FROM er_unit WHERE ref = $r OR ref || '#' || key = $r
                             ORDER BY label, key""", {"r": str(ref)}).fetchall()
    if not row:
        raise ResolveError(f"no source record {ref!r}: give a record as 'dataset#record' (see 'graphwatch review') "
                           "or its number; run 'graphwatch resolve' first")
    if len(row) > 1:
        raise ResolveError(f"{ref!r} names {len(row)} records; add the key: "
                           + ", ".join(f"{r}#{k}" for _, r, k in row[:5]))
    return row[0][0], row[0][1]


def judge(ws: Workspace, a, b, judgement: str, *, who: str | None = None, why: str = "",
          apply: bool = True) -> None:
    """Record that records ``a`` and ``b`` are the same / not the same / unsure; re-cluster.

    Judgements override the model and survive every re-run and reload; the latest wins.
    """
    if judgement not in JUDGEMENTS:
        raise ResolveError(f"judgement must be one of {', '.join(JUDGEMENTS)}, not {judgement!r}")
    con = ws.con
    _ensure_tables(con)
    (ua, ra), (ub, rb) = _unit_of(con, a), _unit_of(con, b)
    if ua == ub:
        raise ResolveError(f"{ra}: a record cannot be judged against itself")
    if ua > ub:
        ua, ub, ra, rb = ub, ua, rb, ra
    con.execute("INSERT INTO er_judgement VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [ua, ub, ra, rb, judgement, who or getpass.getuser(), _dt.datetime.now(), why])
    if apply:
        resolve(ws, rescore=False, **_last_thresholds(con))


def _last_thresholds(con) -> dict:
    row = con.execute("SELECT merge_threshold, review_threshold FROM er_run ORDER BY ran_at DESC LIMIT 1").fetchone()
    return {"merge_threshold": row[0], "review_threshold": row[1]} if row else {}


def unmerge(ws: Workspace, entity: str, *, who: str | None = None, why: str = "un-merge") -> int:
    """Split a resolved entity into its source records ("not same" between every two of them).

    Returns the number of records; each becomes its own node again, with its own properties
    and relationships, and stays apart in later runs until a "same" judgement joins them.
    """
    con = ws.con
    _ensure_tables(con)
    units = [r[0] for r in con.execute("""SELECT m.unit FROM er_member m JOIN er_unit u USING (unit)
                                         WHERE m.entity = ? ORDER BY u.rank""", [entity]).fetchall()]
    if not units:
        raise ResolveError(f"no resolved entity {entity!r} (entity keys look like 'Person:<ID>' or 'Person:@…')")
    if len(units) == 1:
        raise ResolveError(f"{entity} has one source record: nothing to un-merge")
    now, who = _dt.datetime.now(), who or getpass.getuser()
    refs = dict(con.execute("SELECT unit, ref || '#' || key FROM er_unit WHERE unit IN (SELECT unnest(?))",
                            [units]).fetchall())
    rows = [(min(a, b), max(a, b), refs[min(a, b)], refs[max(a, b)], "not_same", who, now, why)
            for i, a in enumerate(units) for b in units[i + 1:]]
    con.executemany("INSERT INTO er_judgement VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    resolve(ws, rescore=False, **_last_thresholds(con))
    return len(units)


def explain_pair(ws: Workspace, a, b) -> dict:
    """Why two records scored as they did: each field's level and weight, the prior, the total."""
    con = ws.con
    (ua, ra), (ub, rb) = _unit_of(con, a), _unit_of(con, b)
    ua, ub = min(ua, ub), max(ua, ub)
    row = con.execute("SELECT probability, weight, weights, status FROM er_pair WHERE a = ? AND b = ?",
                      [ua, ub]).fetchone()
    model, _ = _load_model(ws, None)
    levels = M.level_weights(model)
    out = {"a": ra, "b": rb, "scored": row is not None}
    if row:
        p, w, weights, status = row
        out.update(probability=p, match_weight=w, status=status,
                   fields=[{"field": c, "level": M.level_of(levels[c], wt), "weight": round(wt, 2)}
                           for c, wt in zip(M.COMPARISONS, weights)],
                   prior_weight=round(w - sum(weights), 2))
    j = con.execute("SELECT judgement, who, judged_at, why FROM er_judgement WHERE a = ? AND b = ? ORDER BY judged_at DESC LIMIT 1",
                    [ua, ub]).fetchone()
    if j:
        out["judgement"] = {"judgement": j[0], "who": j[1], "at": str(j[2]), "why": j[3]}
    return out


def review_queue(ws: Workspace, *, limit: int | None = 50):
    """Pairs in the review band that ended in two entities and nobody has judged, most likely first."""
    con = ws.con
    _ensure_tables(con)
    review = _last_thresholds(con).get("review_threshold", REVIEW_THRESHOLD)
    return con.execute("""SELECT p.probability, ua.ref AS a, ua.name AS a_name, ub.ref AS b, ub.name AS b_name,
               ma.entity AS a_entity, mb.entity AS b_entity, p.status, p.a AS a_unit, p.b AS b_unit
        FROM er_pair p JOIN er_unit ua ON ua.unit = p.a JOIN er_unit ub ON ub.unit = p.b
        JOIN er_member ma ON ma.unit = p.a JOIN er_member mb ON mb.unit = p.b
        WHERE p.probability >= $review AND ma.entity <> mb.entity
          AND NOT EXISTS (SELECT 1 FROM er_judgement j WHERE j.a = p.a AND j.b = p.b)
        ORDER BY p.probability DESC, a, b""" + (" LIMIT $n" if limit else ""),
                       {"review": review, **({"n": limit} if limit else {})}).df()


def entity_members(ws: Workspace, entity: str):
    """The source records of a resolved entity, most authoritative first."""
    return ws.con.execute("""SELECT u.ref, u.key, u.name, u.id_usable AS id_number, u.overshared, u.records
        FROM er_member m JOIN er_unit u USING (unit) WHERE m.entity = ? ORDER BY u.rank""", [entity]).df()


def entity_provenance(ws: Workspace, entity: str) -> dict[str, list[dict]]:
    """Every property of an entity with each value and the record that said it (winner first)."""
    con = ws.con
    props = [p for p in ws.schema.node_properties if p != "aliases"]
    recs = con.execute(f"""SELECT nr.dataset, nr.record, {', '.join("nr." + q(p) for p in props)}
        FROM node_record nr JOIN er_unit u ON u.dataset = nr.dataset AND u.record = nr.record AND u.key = nr.key
        JOIN er_member m USING (unit) WHERE m.entity = ?
        ORDER BY nr.priority, nr.dataset, lpad(nr.record, 12, '0')""", [entity]).fetchall()
    if not recs:
        raise ResolveError(f"no resolved entity {entity!r}")
    out: dict[str, list[dict]] = {}
    for ds, rec, *vals in recs:
        for p, v in zip(props, vals):
            if v is not None:
                out.setdefault(p, []).append({"value": v, "dataset": ds, "record": rec})
    return out
