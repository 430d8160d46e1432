"""How far the compiled SQL of the slowest library models is from the SQL an engineer would
write by hand for the same answer on the same tables (the physical limit of the store).

For each model of ``HAND`` below, in one process on one connection of the workspace:

* **compiled** — what :class:`graphwatch.engines.duckdb.DuckDBEngine` does before it reads the
  returned nodes: compile the model's Cypher with its default parameters, run the steps
  (variable-length walks into temporary tables) and the statement, every raw row fetched.
  ``run`` beside it is the engine's whole ``run`` (the returned nodes and relationships read
  as well), which is what ``bench_library.py`` times.
* **hand SQL** — one statement written for the same answer with the same default parameters,
  bound (``$name``), never formatted in. It reads the same ``node`` and ``rel`` tables and uses
  what the schema guarantees (a relationship type's end labels, as the compiler's
  ``implied.py`` does), nothing the generator happens to make: no county-specific constants.
  With ``same_as_min`` null (the default) a ``SAME_AS*0..1`` step is the node itself, which the
  hand SQL says directly.

The rows must be the same (as multisets of rows, each list compared as a sorted list); a
difference is printed and the script exits 1. Times are medians of ``--runs`` after one
warm-up, compiled and hand SQL alternating.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_library_limit.py benchmarks/work/ws_5m_new [MODEL…] [--runs 3] [--record]

``--record`` appends a dated block (``library-limit``) to ``benchmarks/RESULTS.md`` with the
machine, commit and load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The hand-written SQL, one statement per model, columns in the order of the model's RETURN
# (node columns as node ids, as the compiled statement returns them).

HAND: dict[str, str] = {}

# one person paid by two programmes of one exclusive group for overlapping periods
HAND["duplicate_benefits"] = """
WITH g AS (SELECT nid, name, exclusive_group AS grp FROM node
           WHERE list_contains(labels, 'Programme') AND (exclusive_group <> '' OR $same_programme)),
-- (MATERIALIZED fixes the order: DuckDB joined all 9 M RECEIVES to all 9 M OF_PROGRAMME first)
gb AS MATERIALIZED (SELECT op.src AS b, g.nid AS g, g.grp, g.name
                    FROM g JOIN rel AS op ON op.type = 'OF_PROGRAMME' AND op.dst = g.nid),
pay AS MATERIALIZED (SELECT r.src AS p, gb.b, gb.g, gb.grp, gb.name,
                            b.period_start AS s, coalesce(b.period_end, b.period_start) AS e
                     FROM gb JOIN rel AS r ON r.type = 'RECEIVES' AND r.dst = gb.b
                     JOIN node AS b ON b.nid = gb.b),
-- persons paid by two programmes of one group (or, with $same_programme, twice by one)
two AS (SELECT p FROM pay GROUP BY p, grp
        HAVING min(g) <> max(g) OR ($same_programme AND count(*) > 1)),
cand AS (SELECT * FROM pay WHERE p IN (SELECT p FROM two)),
pairs AS (SELECT x.p, x.b, x.name, greatest(x.s, y.s) AS os, least(x.e, y.e) AS oe
          FROM cand AS x JOIN cand AS y ON x.p = y.p AND x.b <> y.b
               AND ((x.g <> y.g AND x.grp = y.grp AND x.grp <> '') OR ($same_programme AND x.g = y.g))
               AND x.s <= y.e AND y.s <= x.e
          WHERE date_diff('day', greatest(x.s, y.s), least(x.e, y.e)) + 1 >= $min_overlap_days)
SELECT p, list(DISTINCT name ORDER BY name), count(DISTINCT b), min(os), max(oe)
FROM pairs GROUP BY p ORDER BY 4
"""

# a household on a poverty roll has a member who owned a house or a non-exempt vehicle while paid
HAND["poor_with_assets"] = """
WITH asset AS (SELECT o.src AS m, o.dst AS a, o.valid_from, o.valid_to,
                      list_contains(n.labels, 'Vehicle') AS vehicle, n.vehicle_kind, n.plate, n.address,
                      n.certificate_no
               FROM rel AS o JOIN node AS n ON n.nid = o.dst
               WHERE o.type = 'OWNS' AND (list_contains(n.labels, 'RealEstate')
                     OR (list_contains(n.labels, 'Vehicle')
                         AND NOT list_contains($exempt_vehicle_kinds, coalesce(n.vehicle_kind, ''))))),
g AS (SELECT nid, name FROM node WHERE list_contains(labels, 'Programme')
      AND CASE WHEN len($programmes) = 0 THEN poverty_roll ELSE list_contains($programmes, name) END),
gb AS MATERIALIZED (SELECT op.src AS b, g.name
                    FROM g JOIN rel AS op ON op.type = 'OF_PROGRAMME' AND op.dst = g.nid),
paid AS MATERIALIZED (SELECT r.src AS p, gb.b, gb.name, b.period_start AS s,
                             coalesce(b.period_end, b.period_start) AS e, b.record_no
                      FROM gb JOIN rel AS r ON r.type = 'RECEIVES' AND r.dst = gb.b
                      JOIN node AS b ON b.nid = gb.b),
hh AS (SELECT mo.dst AS h, mo.src AS m, mp.src AS p
       FROM rel AS mo JOIN rel AS mp ON mp.type = 'MEMBER_OF' AND mp.dst = mo.dst
       WHERE mo.type = 'MEMBER_OF' AND mo.src IN (SELECT m FROM asset)
         AND mp.src IN (SELECT p FROM paid)),
rows AS (SELECT hh.h, asset.a, hh.p, hh.m, paid.name, paid.b, paid.s, paid.e, paid.record_no, asset.valid_from,
                asset.vehicle, asset.vehicle_kind, asset.plate, asset.address, asset.certificate_no
         FROM hh JOIN asset ON asset.m = hh.m JOIN paid ON paid.p = hh.p
         WHERE (asset.valid_from IS NULL OR asset.valid_from <= paid.e)
           AND (asset.valid_to IS NULL OR paid.s <= asset.valid_to))
SELECT rows.h, a, p, m, list_distinct(list(name ORDER BY s, record_no)), count(DISTINCT b), min(s), max(s), max(e),
       valid_from,
       CASE WHEN vehicle THEN coalesce(vehicle_kind, '机动车') || ' ' || coalesce(plate, '')
            ELSE '不动产 ' || coalesce(address, certificate_no, '') END,
       CASE WHEN vehicle THEN 'vehicle ' || coalesce(plate, '') || ' (' || coalesce(vehicle_kind, '') || ')'
            ELSE 'property ' || coalesce(address, certificate_no, '') END
FROM rows JOIN (SELECT nid, household_no FROM node) AS hn ON hn.nid = rows.h
GROUP BY rows.h, a, p, m, valid_from, vehicle, vehicle_kind, plate, address, certificate_no, household_no
ORDER BY household_no
"""

# an official and a principal of a company the official's organisation regulates, in one gambling
# case or at one place within a window, while the official holds the post
HAND["gambling_with_regulated"] = """
WITH party AS (SELECT pt.src AS person, k.nid AS k, k.occurred_at, k.place, k.case_no
               FROM node AS k JOIN rel AS pt ON pt.type = 'PARTY_TO' AND pt.dst = k.nid
               WHERE list_contains(k.labels, 'PoliceCase') AND list_contains($causes, k.cause)
                 AND NOT list_contains($excluded_party_roles, coalesce(pt.role, ''))),
off AS (SELECT party.* FROM party JOIN node AS o ON o.nid = party.person AND list_contains(o.labels, 'Official')),
princ AS (SELECT party.*, r.dst AS c, r.type AS role
          FROM party JOIN rel AS r ON r.src = party.person
               AND r.type IN ('LEGAL_REP_OF', 'SHAREHOLDER_OF', 'EXECUTIVE_OF') AND list_contains($roles, r.type)),
-- the same case, or (disjoint from it) another case at the same place within the window:
-- two equi-joins instead of one join on a disjunction
met AS (SELECT off.person AS o, off.k AS k1, off.occurred_at, off.place, princ.k AS k2, princ.case_no, princ.c,
               princ.person AS pr, princ.role
        FROM off JOIN princ ON princ.k = off.k AND princ.person <> off.person
        UNION ALL
        SELECT off.person, off.k, off.occurred_at, off.place, princ.k, princ.case_no, princ.c, princ.person, princ.role
        FROM off JOIN princ ON princ.place = off.place AND princ.k <> off.k AND princ.person <> off.person
             AND off.occurred_at - to_minutes(CAST($window_minutes AS BIGINT)) <= princ.occurred_at
             AND princ.occurred_at <= off.occurred_at + to_minutes(CAST($window_minutes AS BIGINT)))
SELECT met.o, hp.post, hp.dst, met.c, met.pr, met.role, met.k1, met.k2, met.occurred_at, met.place,
       CASE WHEN met.k1 = met.k2 THEN '同一案件' ELSE '同一地点相近时间的另一案件' || met.case_no END,
       CASE WHEN met.k1 = met.k2 THEN 'the same case' ELSE 'case ' || met.case_no || ' at the same place and time' END
-- from the few meetings to the organisations regulating the company: one organisation may
-- regulate every company of the county, so posts x regulated companies is millions of rows
FROM met JOIN rel AS rg ON rg.type = 'REGULATES' AND rg.dst = met.c
JOIN rel AS hp ON hp.type = 'HOLDS_POST' AND hp.src = met.o AND hp.dst = rg.src
     AND (hp.valid_from IS NULL OR hp.valid_from <= CAST(met.occurred_at AS DATE))
     AND (hp.valid_to IS NULL OR CAST(met.occurred_at AS DATE) <= hp.valid_to)
ORDER BY met.occurred_at
"""

# a village cadre, or a relative, receives a subsidy paid in the village the cadre serves, during the term
HAND["cadre_subsidy"] = """
WITH cadre AS (SELECT sv.src AS o, sv.dst AS v, sv.valid_from, sv.valid_to
               FROM rel AS sv JOIN node AS o ON o.nid = sv.src AND list_contains(o.labels, 'VillageCadre')
               JOIN node AS v ON v.nid = sv.dst AND list_contains(v.labels, 'Village')
               WHERE sv.type = 'SERVES_IN'),
rel_of AS (SELECT DISTINCT o FROM cadre),
-- each kinship relationship at a cadre, from the cadre's side (an undirected step)
kin AS (SELECT src AS o, dst AS r, type, true AS downward FROM rel
        WHERE type IN ('SPOUSE_OF', 'PARENT_OF', 'SIBLING_OF', 'IN_LAW_OF', 'GRANDPARENT_OF') AND src <> dst
          AND src IN (SELECT o FROM rel_of)
        UNION ALL
        SELECT dst, src, type, false FROM rel
        WHERE type IN ('SPOUSE_OF', 'PARENT_OF', 'SIBLING_OF', 'IN_LAW_OF', 'GRANDPARENT_OF') AND src <> dst
          AND dst IN (SELECT o FROM rel_of)),
-- the cadre and each relative: one row per path of the *0..1 walk times each kinship
-- relationship of $kinship between the two
kinfolk AS (SELECT o, o AS r, NULL::VARCHAR AS kt, NULL::BOOLEAN AS downward FROM rel_of
            UNION ALL
            SELECT w.o, w.r, k.type, k.downward
            FROM kin AS w JOIN kin AS k ON k.o = w.o AND k.r = w.r AND list_contains($kinship, k.type)),
-- (MATERIALIZED fixes the order: DuckDB joined all 9 M RECEIVES to all 9 M PAID_IN first)
rb AS MATERIALIZED (SELECT r.src AS p, r.dst AS b FROM rel AS r
                    WHERE r.type = 'RECEIVES' AND r.src IN (SELECT r FROM kinfolk)),
benefit AS MATERIALIZED (SELECT rb.p, rb.b, pi.dst AS v, b.period_start AS s,
                                coalesce(b.period_end, b.period_start) AS e, b.record_no, b.amount
                         FROM rb JOIN rel AS pi ON pi.type = 'PAID_IN' AND pi.src = rb.b
                         JOIN node AS b ON b.nid = rb.b),
rows0 AS MATERIALIZED (SELECT kinfolk.o, cadre.v, kinfolk.r, kinfolk.kt, kinfolk.downward, benefit.b, benefit.s,
                              benefit.record_no, benefit.amount
                       FROM kinfolk JOIN cadre ON cadre.o = kinfolk.o
                       JOIN benefit ON benefit.p = kinfolk.r AND benefit.v = cadre.v
                            AND (cadre.valid_from IS NULL OR cadre.valid_from <= benefit.e)
                            AND (cadre.valid_to IS NULL OR benefit.s <= cadre.valid_to)),
rows AS (SELECT rows0.*, g.name FROM rows0
         LEFT JOIN (SELECT op.src AS b, n.name FROM rel AS op JOIN node AS n ON n.nid = op.dst
                    WHERE op.type = 'OF_PROGRAMME' AND op.src IN (SELECT b FROM rows0)) AS g ON g.b = rows0.b
         WHERE NOT list_contains($exclude_programmes, coalesce(g.name, ''))),
out AS (SELECT o, v, r,
               CASE WHEN r = o THEN '本人' WHEN kt = 'PARENT_OF' AND downward THEN '子女' WHEN kt = 'PARENT_OF' THEN '父母'
                    WHEN kt = 'GRANDPARENT_OF' AND downward THEN '孙子女' WHEN kt = 'GRANDPARENT_OF' THEN '祖父母'
                    ELSE kt END AS kin_zh,
               CASE WHEN r = o THEN 'the cadre' WHEN kt = 'PARENT_OF' AND downward THEN 'child'
                    WHEN kt = 'PARENT_OF' THEN 'parent' WHEN kt = 'GRANDPARENT_OF' AND downward THEN 'grandchild'
                    WHEN kt = 'GRANDPARENT_OF' THEN 'grandparent' ELSE kt END AS kin_en,
               list_distinct(list(coalesce(name, '') ORDER BY s, record_no)) AS programmes, count(b) AS payments,
               sum(amount) AS total, min(s) AS first_period, max(s) AS last_period
        FROM rows GROUP BY ALL)
SELECT out.* FROM out JOIN node AS cn ON cn.nid = out.o JOIN node AS rn ON rn.nid = out.r
ORDER BY cn.name, CASE WHEN out.r = out.o THEN 0 ELSE 1 END, rn.name
"""

# two bidders on one tender share a legal rep or shareholder, own one another or are a branch,
# or share a phone or address
HAND["related_bidders"] = """
WITH co AS (SELECT nid, key, name, phone, address FROM node WHERE list_contains(labels, 'Company')),
holder AS (SELECT src AS x, dst AS c FROM rel
           WHERE type IN ('LEGAL_REP_OF', 'SHAREHOLDER_OF', 'EXECUTIVE_OF') AND list_contains($roles, type)),
shared AS (SELECT ha.c AS a, hb.c AS b, list(DISTINCT xn.name) FILTER (WHERE xn.name IS NOT NULL) AS names
           FROM holder AS ha JOIN holder AS hb ON ha.x = hb.x AND ha.c <> hb.c
           JOIN node AS xn ON xn.nid = ha.x
           GROUP BY ALL),
owned AS (SELECT a, b, count(*) AS n FROM (
            SELECT src AS a, dst AS b FROM rel WHERE type IN ('SHAREHOLDER_OF', 'BRANCH_OF') AND src <> dst
            UNION ALL SELECT dst, src FROM rel WHERE type IN ('SHAREHOLDER_OF', 'BRANCH_OF') AND src <> dst)
          GROUP BY ALL),
-- the few pairs of companies with any tie, before the hundreds of thousands of pairs of bidders
tied AS (SELECT a, b FROM shared UNION SELECT a, b FROM owned
         UNION SELECT x.nid, y.nid FROM co AS x JOIN co AS y ON x.phone = y.phone AND x.phone <> '' AND x.nid <> y.nid
         UNION SELECT x.nid, y.nid FROM co AS x JOIN co AS y ON x.address = y.address AND x.address <> ''
                                                              AND x.nid <> y.nid),
bid AS (SELECT DISTINCT bo.dst AS t, bo.src AS c FROM rel AS bo WHERE bo.type = 'BID_ON'),
pair AS (SELECT DISTINCT x.t, tied.a, tied.b
         FROM tied JOIN bid AS x ON x.c = tied.a JOIN bid AS y ON y.c = tied.b AND y.t = x.t),
flags AS (SELECT pair.t, pair.a, pair.b, coalesce(shared.names, []) AS shared, coalesce(owned.n, 0) AS owned,
                 coalesce(an.phone = bn.phone AND an.phone <> '', false) AS same_phone,
                 coalesce(an.address = bn.address AND an.address <> '', false) AS same_address,
                 an.name AS a_name, bn.name AS b_name
          FROM pair JOIN co AS an ON an.nid = pair.a JOIN co AS bn ON bn.nid = pair.b AND an.key < bn.key
          LEFT JOIN shared ON shared.a = pair.a AND shared.b = pair.b
          LEFT JOIN owned ON owned.a = pair.a AND owned.b = pair.b)
SELECT flags.t, a, b, shared,
       list_filter([CASE WHEN len(shared) > 0 THEN '同一法定代表人或股东' END, CASE WHEN owned > 0 THEN '股权或分支关系' END,
                    CASE WHEN same_phone THEN '同一联系电话' END, CASE WHEN same_address THEN '同一注册地址' END],
                   lambda s: s IS NOT NULL),
       list_filter([CASE WHEN len(shared) > 0 THEN 'a shared legal representative or shareholder' END,
                    CASE WHEN owned > 0 THEN 'one owns or is a branch of the other' END,
                    CASE WHEN same_phone THEN 'the same phone number' END,
                    CASE WHEN same_address THEN 'the same registered address' END], lambda s: s IS NOT NULL),
       tn.announced
FROM flags JOIN (SELECT nid, tender_no, announced FROM node WHERE list_contains(labels, 'Tender')) AS tn
     ON tn.nid = flags.t
WHERE len(shared) > 0 OR owned > 0 OR same_phone OR same_address
ORDER BY tn.tender_no, a_name, b_name
"""

_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def bound(sql: str, params: dict) -> dict:
    """The parameters the statement names (DuckDB refuses unused ones)."""
    return {k: params[k] for k in set(_PARAM.findall(sql))}


def normal(rows, ncols: int) -> list:
    """Rows as a sorted list of tuples of their first ``ncols`` values, lists sorted, decimals
    as floats (an order inside a list is not compared: ties in the ORDER BY of a collect)."""
    def v(x):
        if isinstance(x, list):
            return tuple(sorted((v(y) for y in x), key=repr))
        if hasattr(x, "as_integer_ratio") and not isinstance(x, (int, bool)):
            return round(float(x), 6)
        return x
    return sorted((tuple(v(x) for x in r[:ncols]) for r in rows), key=repr)


def compiled_rows(eng, cypher: str, params: dict):
    """Compile, run the steps and the statement, fetch every raw row (what ``run`` does before
    it reads the returned nodes)."""
    from graphwatch.cypher.shortest import used_params

    c = eng.compile(cypher, params)
    con = eng.ws.con
    adjacency = eng.adjacency() if any(st.indexable for st in c.steps) else None
    try:
        for st in c.steps:
            st.run(con, c.params, adjacency)
        return con.execute(c.sql, used_params(c.sql, c.params)).fetchall(), len(c.columns)
    finally:
        for st in c.steps:
            st.drop(con)


def bench(ws_path: Path, models: list[str], runs: int, log) -> tuple[list[dict], bool]:
    from graphwatch.alerts.library import load_library
    from graphwatch.engines.duckdb import DuckDBEngine

    lib = load_library()
    out, same_all = [], True
    with DuckDBEngine(ws_path) as eng:
        con = eng.ws.con
        for mid in models:
            p = lib[mid]
            params = p.bind()
            sql = HAND[mid]
            comp = lambda: compiled_rows(eng, p.cypher, params)  # noqa: E731
            hand = lambda: con.execute(sql, bound(sql, params)).fetchall()  # noqa: E731
            full = lambda: (eng.forget_records(), eng.run(p.cypher, params))[1]  # noqa: E731 (records read afresh)
            (crow, ncols), hrow = comp(), hand()          # warm-up, and the rows compared
            same = normal(crow, ncols) == normal(hrow, ncols)
            if not same:
                same_all = False
                a, b = set(normal(crow, ncols)), set(normal(hrow, ncols))
                log(f"  {mid}: ROWS DIFFER: compiled {len(crow)}, hand {len(hrow)}; "
                    f"only compiled {sorted(a - b, key=repr)[:3]}; only hand {sorted(b - a, key=repr)[:3]}")
            tc, th, tr = [], [], []
            for _ in range(runs):
                tc.append(common.timed(comp)[0])
                th.append(common.timed(hand)[0])
                tr.append(common.timed(full)[0])
            row = {"model": mid, "rows": len(crow), "hand_rows": len(hrow), "same": same,
                   "compiled": statistics.median(tc), "hand": statistics.median(th), "run": statistics.median(tr)}
            out.append(row)
            log(f"  {mid}: {len(crow)} rows ({'same' if same else 'DIFFERENT'}), compiled {row['compiled']:.3f} s, "
                f"hand {row['hand']:.3f} s, run {row['run']:.3f} s  (compiled {['%.2f' % t for t in tc]}, "
                f"hand {['%.2f' % t for t in th]})")
    return out, same_all


def table(rows: list[dict]) -> str:
    lines = ["| model | rows | compiled (s) | hand SQL (s) | ratio | engine run (s) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['rows']:,}{'' if r['same'] else ' (**differs**: hand ' + format(r['hand_rows'], ',') + ')'} "
                     f"| {r['compiled']:.3f} | {r['hand']:.3f} | {r['compiled'] / r['hand']:.1f}× | {r['run']:.3f} |")
    c, h, u = (sum(r[k] for r in rows) for k in ("compiled", "hand", "run"))
    lines.append(f"| **these {len(rows)} models** | | **{c:.2f}** | **{h:.2f}** | {c / h:.1f}× | {u:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("models", nargs="*", help=f"default: {', '.join(HAND)}")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="append a dated block to benchmarks/RESULTS.md")
    a = ap.parse_args(argv)
    models = a.models or list(HAND)
    unknown = [m for m in models if m not in HAND]
    if unknown:
        ap.error(f"no hand SQL for {', '.join(unknown)} (have: {', '.join(HAND)})")
    load0 = os.getloadavg()[0]
    started = dt.datetime.now(dt.timezone.utc)
    rows, same = bench(a.workspace, models, a.runs, lambda s: print(s, flush=True))
    load1 = os.getloadavg()[0]
    text = table(rows)
    print(text)
    if a.record:
        block = (f"## Library models against hand-written SQL — {started:%Y-%m-%d %H:%M} UTC "
                 f"(`benchmarks/bench_library_limit.py`)\n\n"
                 f"Machine: {common.machine()}; load average {load0:.1f} at the start and {load1:.1f} at the end "
                 f"(shared machine). Commit {common.commit()}. Workspace `{a.workspace.name}`. Default parameters; "
                 f"medians of {a.runs} after a warm-up, compiled and hand SQL alternating in one process. "
                 "compiled = compile + steps + statement, raw rows; engine run = the engine's whole `run` "
                 "(returned nodes read too).\n\n" + text)
        common.record_block("library-limit", "bench_library_limit.py", block, append=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
