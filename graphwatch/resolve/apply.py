"""Step 4 of resolution, *apply*: rewrite the graph so patterns see one node per entity.

``node`` is rebuilt with one node per entity (properties from the most authoritative
record, other names as ``aliases``); every relationship follows its records to their
entities, and the original endpoints go to ``er_rel_orig`` so an un-merge or a new resolve
can rebuild everything from the records. Review pairs (:func:`review_pairs`) become
``SAME_AS`` relationships with their score; a branch company gets ``BRANCH_OF`` to its parent.

**A fact follows its records.** A relationship is one fact carrying every row of every
dataset that stated it (``rel_record``, :mod:`graphwatch.relfacts`). When the rows of one fact
named records that resolve to different entities — rows of one over-shared ID that are
different people, or records a reviewer split apart — the fact is split: each part joins the
entity its own rows named and carries just those rows, so no row is evidence for a person it
did not name. The part holding the fact's first row keeps its id; the others get ids of their
own (from the fact's id and their first row). Facts that become the same relationship once
their ends are entities (two records of one person each stating that he belongs to one
household, in one dataset or in two) are joined into one carrying all their rows; the one
whose own dataset and record come first keeps its id. Undoing resolution puts every fact back
as the sources stated it.
"""

from __future__ import annotations

import pyarrow as pa

from ..relfacts import STATED, provenance_sql, statements_sql
from ..store import RESOLVE_DATASET, Workspace, insert_nodes, key_id, q, restore_record_endpoints
from .names import branch_parent, company_name_key


def review_pairs(con, review: float) -> int:
    """The review pairs into ``er_review``; returns how many.

    A *review pair* is two entities that a scored pair of their records (at or above the
    review threshold) links, that stayed two, and that the constraints allow to be one:
    they do not hold two different valid IDs, and no "not same" judgement (the latest of its
    pair) stands between their records. One row per pair of entities, named by its most
    likely pair of records. This one definition is what ``resolve`` reports, what
    ``graphwatch review`` lists and what becomes a ``SAME_AS`` relationship. A pair judged
    "unsure" stays one (``judgement``), listed after the unjudged.
    """
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_candidates AS
        SELECT least(ma.entity, mb.entity) AS ea, greatest(ma.entity, mb.entity) AS eb,
               CASE WHEN ma.entity < mb.entity THEN p.a ELSE p.b END AS ua,
               CASE WHEN ma.entity < mb.entity THEN p.b ELSE p.a END AS ub, p.probability, p.status
        FROM er_pair p JOIN er_member ma ON ma.unit = p.a JOIN er_member mb ON mb.unit = p.b
        WHERE p.probability >= $review AND ma.entity <> mb.entity""", {"review": review})
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_judged AS
        SELECT least(ma.entity, mb.entity) AS ea, greatest(ma.entity, mb.entity) AS eb,
               bool_or(j.judgement = 'not_same') AS not_same, bool_or(j.judgement = 'unsure') AS unsure
        FROM (SELECT a, b, arg_max(judgement, judged_at) AS judgement FROM er_judgement GROUP BY a, b) j
        JOIN er_member ma ON ma.unit = j.a JOIN er_member mb ON mb.unit = j.b
        WHERE ma.entity <> mb.entity GROUP BY ALL""")
    con.execute("DELETE FROM er_review")
    n = con.execute("""INSERT INTO er_review
        WITH ids AS (SELECT m.entity, min(u.id_usable) AS id FROM er_member m JOIN er_unit u USING (unit)
                     WHERE u.id_usable IS NOT NULL
                       AND m.entity IN (SELECT ea FROM _er_candidates UNION SELECT eb FROM _er_candidates)
                     GROUP BY m.entity)
        SELECT c.ea, c.eb, c.ua, c.ub, c.probability, c.status, CASE WHEN j.unsure THEN 'unsure' END
        FROM _er_candidates c LEFT JOIN ids ia ON ia.entity = c.ea LEFT JOIN ids ib ON ib.entity = c.eb
        LEFT JOIN _er_judged j ON j.ea = c.ea AND j.eb = c.eb
        WHERE (ia.id IS NULL OR ib.id IS NULL OR ia.id = ib.id) AND NOT coalesce(j.not_same, false)
        QUALIFY row_number() OVER (PARTITION BY c.ea, c.eb ORDER BY c.probability DESC, c.ua, c.ub) = 1""")\
        .fetchone()[0]
    con.execute("DROP TABLE _er_candidates")
    con.execute("DROP TABLE _er_judged")
    return n


def apply_entities(con, ws: Workspace, review: float) -> int:
    """Nodes per entity, relationships moved (facts split where their records part),
    ``SAME_AS`` for the review pairs; returns the number of review pairs."""
    restore_record_endpoints(con)   # a previous resolve is undone first
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_members AS
        SELECT u.unit, u.key, u.dataset, u.record, u.records, u.rank, m.entity
        FROM er_unit u JOIN er_member m USING (unit)""")
    # nodes: one per entity, from all its records (only the properties person and company
    # records have: copying the other labels' empty columns dominated this step)
    every = list(ws.schema.node_properties)
    have = con.execute("SELECT " + ", ".join(f"count({q(c)}) > 0" for c in every) + """ FROM node_record
        WHERE list_contains(labels, 'Person') OR list_contains(labels, 'Company')""").fetchone()
    props = [c for c, present in zip(every, have) if present or c == "aliases"]
    cols = "".join(", nr." + q(c) for c in props)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_entity_records AS
        SELECT m.entity AS key, nr.dataset, nr.record, nr.labels, nr.priority{cols}, nr.records FROM node_record nr
        JOIN _er_members m ON m.dataset = nr.dataset AND m.record = nr.record AND m.key = nr.key""")
    con.execute("DELETE FROM node WHERE starts_with(key, 'Person:') OR starts_with(key, 'Company:')")
    insert_nodes(con, props, "_er_entity_records")
    con.execute("""UPDATE node SET aliases = a.names FROM (
            SELECT r.key, list_sort(list_distinct(list(r.name))) AS names FROM _er_entity_records r GROUP BY r.key) a
        WHERE node.key = a.key AND len(list_filter(a.names, lambda x: x <> node.name)) > 0""")
    con.execute("UPDATE node SET aliases = list_filter(aliases, lambda x: x <> name) WHERE aliases IS NOT NULL")
    _move_relationships(con, [p for p in ws.schema.rel_properties])
    n_review = review_pairs(con, review)
    con.execute(f"""INSERT INTO rel (rid, type, src, dst, dataset, record, score, evidence)
        SELECT {key_id("$ds || '#SAME_AS#' || r.entity_a || '#' || r.entity_b")}, 'SAME_AS', {key_id('r.entity_a')},
               {key_id('r.entity_b')}, $ds, ua.ref || ' ~ ' || ub.ref, r.probability, r.status
        FROM er_review r JOIN er_unit ua ON ua.unit = r.a JOIN er_unit ub ON ub.unit = r.b""",
                {"ds": RESOLVE_DATASET})
    for t in ("_er_members", "_er_entity_records"):
        con.execute(f"DROP TABLE {t}")
    return n_review


def _move_relationships(con, props: list[str]) -> None:
    """Every relationship onto its records' entities; the original ends (and facts) to ``er_rel_orig``.

    Each old node id goes to its entity; where one old key went to several entities (its
    records are different people), each row of a fact follows its own record, and a fact
    whose rows go to different entities is split. Facts that are then the same are joined.
    """
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_key_moves AS
        SELECT {key_id('key')} AS old, {key_id('arg_min(entity, rank)')} AS new,
               count(DISTINCT entity) > 1 AS split
        FROM _er_members GROUP BY key HAVING arg_min(entity, rank) <> key OR count(DISTINCT entity) > 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_record_moves AS
        SELECT old, dataset, record, min(new) AS new FROM (
            SELECT {key_id('key')} AS old, dataset, unnest(records) AS record, {key_id('entity')} AS new
            FROM _er_members
            WHERE key IN (SELECT key FROM _er_members GROUP BY key HAVING count(DISTINCT entity) > 1))
        GROUP BY ALL""")
    # relationships at a key whose records went apart: each row of the fact on its own, with
    # its own dataset (a relationship no dataset stated: its own record); the fact's own
    # dataset's rows first, as ``rel.records`` lists them
    split = """SELECT rid FROM rel WHERE src IN (SELECT old FROM _er_key_moves WHERE split)
        OR dst IN (SELECT old FROM _er_key_moves WHERE split)"""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_fact_rows AS
        WITH f AS (SELECT rid, src, dst, dataset AS own FROM rel WHERE rid IN ({split})),
             e AS (SELECT f.*, s.dataset, unnest(s.records) AS rec, generate_subscripts(s.records, 1) AS k
                   FROM f JOIN ({statements_sql(split)}) s USING (rid))
        SELECT e.rid, e.own, e.dataset, e.rec,
               CASE WHEN e.dataset = e.own THEN e.rec ELSE e.dataset || '#' || e.rec END AS ref,
               row_number() OVER (PARTITION BY e.rid ORDER BY e.dataset <> e.own, e.dataset, e.k) AS pos,
               coalesce(rs.new, ks.new, e.src) AS new_src, coalesce(rd.new, kd.new, e.dst) AS new_dst
        FROM e
        LEFT JOIN _er_record_moves rs ON rs.old = e.src AND rs.dataset = e.dataset AND rs.record = e.rec
        LEFT JOIN _er_key_moves ks ON ks.old = e.src
        LEFT JOIN _er_record_moves rd ON rd.old = e.dst AND rd.dataset = e.dataset AND rd.record = e.rec
        LEFT JOIN _er_key_moves kd ON kd.old = e.dst""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_parts AS
        SELECT rid, new_src, new_dst, min(pos) = 1 AS keeps_id, count(*) OVER (PARTITION BY rid) > 1 AS split,
               CASE WHEN min(pos) = 1 THEN rid ELSE {key_id("CAST(rid AS VARCHAR) || '#part#' || arg_min(ref, pos)")}
               END AS part_rid
        FROM _er_fact_rows GROUP BY rid, new_src, new_dst""")
    # the records of each part of a split fact, per dataset
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_part_src AS
        SELECT p.part_rid AS rid, e.dataset, arg_min(e.rec, e.pos) AS record, list(e.rec ORDER BY e.pos) AS records,
               any_value(e.own) AS prefer
        FROM _er_fact_rows e JOIN _er_parts p USING (rid, new_src, new_dst) WHERE p.split
        GROUP BY p.part_rid, e.dataset""")
    # every other relationship touching a moved key moves whole
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_rel_moves AS
        SELECT r.rid, r.src AS old_src, r.dst AS old_dst, coalesce(ks.new, r.src) AS new_src,
               coalesce(kd.new, r.dst) AS new_dst
        FROM rel r LEFT JOIN _er_key_moves ks ON ks.old = r.src LEFT JOIN _er_key_moves kd ON kd.old = r.dst
        WHERE (r.src IN (SELECT old FROM _er_key_moves) OR r.dst IN (SELECT old FROM _er_key_moves))
          AND r.rid NOT IN (SELECT rid FROM _er_parts)
        UNION ALL
        SELECT p.rid, r.src, r.dst, p.new_src, p.new_dst FROM _er_parts p JOIN rel r USING (rid)
        WHERE NOT p.split""")
    con.execute("DELETE FROM _er_rel_moves WHERE new_src = old_src AND new_dst = old_dst")
    con.execute("""INSERT INTO er_rel_orig (rid, src, dst, split)
                   SELECT rid, old_src, old_dst, false FROM _er_rel_moves""")
    con.execute("UPDATE rel SET src = m.new_src, dst = m.new_dst FROM _er_rel_moves m WHERE rel.rid = m.rid")
    if con.execute("SELECT count(*) FROM _er_parts WHERE split").fetchone()[0]:
        _split_facts(con)
    _join_facts(con, props)
    for t in ("_er_key_moves", "_er_record_moves", "_er_fact_rows", "_er_parts", "_er_part_src", "_er_rel_moves"):
        con.execute(f"DROP TABLE {t}")


def _split_facts(con) -> None:
    """Facts whose rows went to different entities become one relationship per entity pair."""
    clash = con.execute("""SELECT part_rid FROM _er_parts WHERE split AND NOT keeps_id
        AND part_rid IN (SELECT rid FROM rel) LIMIT 1""").fetchone()
    if clash:   # 2^-63 per pair, as for every id
        from ..exc import ResolveError
        raise ResolveError(f"id collision on {clash[0]}; resolution was rolled back")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_part_prov AS " + provenance_sql("_er_part_src"))
    con.execute("""INSERT INTO er_rel_orig (rid, src, dst, record, records, dataset, datasets, split)
        SELECT r.rid, r.src, r.dst, r.record, r.records, r.dataset, r.datasets, true FROM rel r
        WHERE r.rid IN (SELECT rid FROM _er_parts WHERE split)""")
    con.execute("""INSERT INTO er_rel_orig (rid, split, part_of)
        SELECT part_rid, true, rid FROM _er_parts WHERE split AND NOT keeps_id""")
    # a derived relationship (no datasets) keeps none
    con.execute("""INSERT INTO rel BY NAME
        SELECT r.* REPLACE (p.part_rid AS rid, p.new_src AS src, p.new_dst AS dst, v.dataset AS dataset,
                            v.record AS record, v.records AS records,
                            CASE WHEN r.datasets IS NOT NULL THEN v.datasets END AS datasets)
        FROM rel r JOIN _er_parts p USING (rid) JOIN _er_part_prov v ON v.rid = p.part_rid
        WHERE p.split AND NOT p.keeps_id""")
    con.execute("""UPDATE rel SET src = p.new_src, dst = p.new_dst, dataset = v.dataset, record = v.record,
            records = v.records, datasets = CASE WHEN rel.datasets IS NOT NULL THEN v.datasets END
        FROM _er_parts p JOIN _er_part_prov v ON v.rid = p.part_rid
        WHERE rel.rid = p.rid AND p.split AND p.keeps_id""")
    con.execute("DROP TABLE _er_part_prov")


def _join_facts(con, props: list[str]) -> None:
    """Stated facts that moved onto the ends of another with the same type, validity and
    properties become one, carrying the records of all (the first by own dataset and record
    keeps its id); ``er_rel_orig`` keeps what each was, for :func:`restore_record_endpoints`."""
    ident = ", ".join(q(c) for c in ["type", "src", "dst", "valid_from", "valid_to", *props])
    n = con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_join AS
        SELECT rids[1] AS keeper, unnest(rids) AS rid, generate_subscripts(rids, 1) AS rank FROM (
            SELECT list(rid ORDER BY dataset, lpad(record, 12, '0'), rid) AS rids FROM rel r
            WHERE {STATED.format(p='r.')} AND EXISTS (SELECT 1 FROM rel m JOIN er_rel_orig o USING (rid)
                                                      WHERE m.type = r.type AND m.src = r.src AND m.dst = r.dst)
            GROUP BY {ident} HAVING count(*) > 1)""").fetchone()[0]
    if not n:
        con.execute("DROP TABLE _er_join")
        return
    # each fact's records as they are now (a part of a split fact: its own), then all of a group's
    whole = "SELECT rid FROM _er_join WHERE rid NOT IN (SELECT rid FROM _er_part_src)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_join_src AS
        WITH s AS (SELECT rid, dataset, records FROM _er_part_src
                   UNION ALL SELECT rid, dataset, records FROM ({statements_sql(whole)})),
             e AS (SELECT j.keeper, j.rank, s.dataset, unnest(s.records) AS rec, generate_subscripts(s.records, 1) AS k
                   FROM s JOIN _er_join j USING (rid)),
             d AS (SELECT keeper, dataset, rec, min(rank * 4294967296 + k) AS o FROM e GROUP BY ALL)
        SELECT d.keeper AS rid, d.dataset, arg_min(d.rec, d.o) AS record, list(d.rec ORDER BY d.o) AS records,
               any_value(r.dataset) AS prefer
        FROM d JOIN rel r ON r.rid = d.keeper GROUP BY d.keeper, d.dataset""")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_join_prov AS " + provenance_sql("_er_join_src"))
    # what each was: its ends (if it did not move) and its records as the sources stated them
    # (a split fact's are kept already)
    con.execute("""INSERT INTO er_rel_orig (rid, src, dst, split)
        SELECT rid, src, dst, false FROM rel WHERE rid IN (SELECT rid FROM _er_join)
          AND rid NOT IN (SELECT rid FROM er_rel_orig)""")
    con.execute("""UPDATE er_rel_orig SET split = true, record = r.record, records = r.records, dataset = r.dataset,
            datasets = r.datasets
        FROM rel r WHERE er_rel_orig.rid = r.rid AND r.rid IN (SELECT rid FROM _er_join) AND NOT er_rel_orig.split""")
    con.execute("""UPDATE er_rel_orig SET merged_into = j.keeper FROM _er_join j
        WHERE er_rel_orig.rid = j.rid AND j.rank > 1""")
    con.execute("DELETE FROM rel WHERE rid IN (SELECT rid FROM _er_join WHERE rank > 1)")
    con.execute("""UPDATE rel SET dataset = v.dataset, record = v.record, records = v.records, datasets = v.datasets
        FROM _er_join_prov v WHERE rel.rid = v.rid""")
    for t in ("_er_join", "_er_join_src", "_er_join_prov"):
        con.execute(f"DROP TABLE {t}")


def add_branches(con) -> int:
    """BRANCH_OF from a branch company to the one company whose name is the branch's prefix."""
    rows = con.execute("SELECT nid, name FROM node WHERE list_contains(labels, 'Company') AND name IS NOT NULL")\
        .fetchall()
    by_key: dict[str, set[int]] = {}
    for nid, name in rows:
        by_key.setdefault(company_name_key(name), set()).add(nid)
    pairs = []
    for nid, name in rows:
        parent_key = branch_parent(company_name_key(name))
        if parent_key and len(by_key.get(parent_key, ())) == 1:
            (parent,) = by_key[parent_key]
            if parent != nid:
                pairs.append((nid, parent))
    if pairs:
        con.register("_er_branch_pairs", pa.table({"src": [a for a, _ in pairs], "dst": [b for _, b in pairs]}))
        con.execute(f"""INSERT INTO rel (rid, type, src, dst, dataset, record)
            SELECT {key_id("$ds || '#BRANCH_OF#' || src || '#' || dst")}, 'BRANCH_OF', src, dst, $ds,
                   'name: ' || (SELECT name FROM node WHERE nid = src)
            FROM _er_branch_pairs""", {"ds": RESOLVE_DATASET})
        con.unregister("_er_branch_pairs")
    return len(pairs)
