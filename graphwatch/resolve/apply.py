"""Step 4 of resolution, *apply*: rewrite the graph so patterns see one node per entity.

``node`` is rebuilt with one node per entity (properties from the most authoritative
record, other names as ``aliases``); every relationship follows its own record to its
entity, and the original endpoints go to ``er_rel_orig`` so a load or an un-merge can
rebuild everything from the records. Pairs left in the review band become ``SAME_AS``
relationships with their score; a branch company gets ``BRANCH_OF`` to its parent.
"""

from __future__ import annotations

import pyarrow as pa

from ..store import RESOLVE_DATASET, Workspace, insert_nodes, key_id, restore_record_endpoints
from .names import branch_parent, company_name_key


def apply_entities(con, ws: Workspace, review: float) -> int:
    """Nodes per entity, relationships moved, ``SAME_AS`` for the review band; returns the
    number of ``SAME_AS`` relationships."""
    props = list(ws.schema.node_properties)
    restore_record_endpoints(con)   # a previous resolve is undone first
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_members AS
        SELECT u.unit, u.key, u.dataset, u.record, u.records, u.rank, m.entity
        FROM er_unit u JOIN er_member m USING (unit)""")
    # nodes: one per entity, from all its records
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_entity_records AS
        SELECT nr.* REPLACE (m.entity AS key) FROM node_record nr
        JOIN _er_members m ON m.dataset = nr.dataset AND m.record = nr.record AND m.key = nr.key""")
    con.execute("DELETE FROM node WHERE starts_with(key, 'Person:') OR starts_with(key, 'Company:')")
    insert_nodes(con, props, "_er_entity_records")
    con.execute("""UPDATE node SET aliases = a.names FROM (
            SELECT r.key, list_sort(list_distinct(list(r.name))) AS names FROM _er_entity_records r GROUP BY r.key) a
        WHERE node.key = a.key AND len(list_filter(a.names, lambda x: x <> node.name)) > 0""")
    con.execute("UPDATE node SET aliases = list_filter(aliases, lambda x: x <> name) WHERE aliases IS NOT NULL")
    # relationships: each old node id → its entity; where one old key went to several entities,
    # each relationship row follows its own record (the row that named the person)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_key_moves AS
        SELECT {key_id('key')} AS old, {key_id('arg_min(entity, rank)')} AS new FROM _er_members GROUP BY key
        HAVING arg_min(entity, rank) <> key OR count(DISTINCT entity) > 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_record_moves AS
        SELECT old, dataset, record, min(new) AS new FROM (
            SELECT {key_id('key')} AS old, dataset, unnest(records) AS record, {key_id('entity')} AS new
            FROM _er_members
            WHERE key IN (SELECT key FROM _er_members GROUP BY key HAVING count(DISTINCT entity) > 1))
        GROUP BY ALL""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_rel_moves AS
        SELECT r.rid, r.src AS old_src, r.dst AS old_dst,
               coalesce(rs.new, ks.new, r.src) AS new_src, coalesce(rd.new, kd.new, r.dst) AS new_dst
        FROM rel r
        LEFT JOIN _er_record_moves rs ON rs.old = r.src AND rs.dataset = r.dataset AND rs.record = r.record
        LEFT JOIN _er_key_moves ks ON ks.old = r.src
        LEFT JOIN _er_record_moves rd ON rd.old = r.dst AND rd.dataset = r.dataset AND rd.record = r.record
        LEFT JOIN _er_key_moves kd ON kd.old = r.dst
        WHERE r.src IN (SELECT old FROM _er_key_moves) OR r.dst IN (SELECT old FROM _er_key_moves)""")
    con.execute("DELETE FROM _er_rel_moves WHERE new_src = old_src AND new_dst = old_dst")
    con.execute("INSERT INTO er_rel_orig SELECT rid, old_src, old_dst FROM _er_rel_moves")
    con.execute("UPDATE rel SET src = m.new_src, dst = m.new_dst FROM _er_rel_moves m WHERE rel.rid = m.rid")
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
    for t in ("_er_members", "_er_entity_records", "_er_key_moves", "_er_record_moves", "_er_rel_moves"):
        con.execute(f"DROP TABLE {t}")
    return n_same


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
