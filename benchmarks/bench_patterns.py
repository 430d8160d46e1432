"""Representative patterns on a loaded county: the compiler's join planner vs DuckDB's own
join ordering, and variable-length hops as one recursive CTE vs a union of fixed lengths.

Usage (a workspace made by bench_load.py or bench_cypher.py)::

    .venv/bin/python benchmarks/bench_patterns.py benchmarks/work/ws_1000000 [--runs 3] [--record]

Every pattern runs on the same engine in the same process; the figure is the median of
``--runs`` timed runs after one warm-up. ``--record`` appends a section to RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import duckdb
import psutil

from common import capped, cpu, median_timed
from graphwatch.alerts.library import load_pattern
from graphwatch.cypher.compiler import Options
from graphwatch.engines.duckdb import DuckDBEngine

_OWN = load_pattern("own_village_project")
OWN_VILLAGE = _OWN.cypher
KIN = "SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF"
PATTERNS = {
    "own-village project with a kinship hop": OWN_VILLAGE,
    "relative of an official receives a benefit (var-length *1..2)":
        f"MATCH (o:Official)-[:{KIN}*1..2]-(r:Person)-[:RECEIVES]->(b:Benefit) RETURN count(*)",
    "benefit paid after death (+90 days)":
        "MATCH (p:Person)-[:HAS_DEATH_RECORD]->(d:DeathRecord), (p)-[:RECEIVES]->(b:Benefit) "
        "WHERE b.period_start > d.death_date + duration({days: 90}) RETURN count(*)",
    "bidders sharing a principal":
        "MATCH (c1:Company)-[:BID_ON]->(t:Tender)<-[:BID_ON]-(c2:Company), "
        "(p:Person)-[:LEGAL_REP_OF|SHAREHOLDER_OF]->(c1), (p)-[:LEGAL_REP_OF|SHAREHOLDER_OF]->(c2) "
        "WHERE id(c1) < id(c2) RETURN t.tender_no, count(DISTINCT p) AS n",
    "aggregate with WITH (officials' relatives' benefits)":
        "MATCH (o:Official)-[:SPOUSE_OF|PARENT_OF]-(r:Person)-[:RECEIVES]->(b:Benefit) "
        "WITH o, count(b) AS n, sum(b.amount) AS total WHERE n >= 3 RETURN o.name, n, total "
        "ORDER BY total DESC LIMIT 10",
    "shortestPath between two officials, kinship + company types (*..8)":
        f"MATCH p = shortestPath((a:Person {{id_number: $a}})-[:{KIN}|LEGAL_REP_OF|SHAREHOLDER_OF*..8]-"
        "(b:Person {id_number: $b})) RETURN length(p)",
    "shortestPath between two officials, any type (*..6)":
        "MATCH p = shortestPath((a:Person {id_number: $a})-[*..6]-(b:Person {id_number: $b})) RETURN length(p)",
}
# the same relatives-with-benefits question as fixed lengths, for the union comparison
UNION_PARTS = [
    f"MATCH (o:Official)-[:{KIN}]-(r:Person)-[:RECEIVES]->(b:Benefit) RETURN count(*)",
    f"MATCH (o:Official)-[:{KIN}]-()-[:{KIN}]-(r:Person)-[:RECEIVES]->(b:Benefit) RETURN count(*)",
]


CAP = 120.0     # seconds: DuckDB's own join order can take far longer; it is interrupted


def median_capped(fn, con, runs: int):
    """Like ``median_timed``, but a first run over CAP seconds is interrupted (None, None) and
    one over 10 s is timed once."""
    first, out = capped(con, CAP, fn)
    if out is None:
        return None, None
    if first > 10:
        return first, out
    return median_timed(fn, runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--skip-unplanned", action="store_true", help="do not time DuckDB's own join order")
    a = ap.parse_args()
    planned = DuckDBEngine(a.workspace)
    unplanned = DuckDBEngine(planned.ws, options=Options(plan_joins=False))
    ids = [r[0] for r in planned.ws.con.execute(
        "SELECT id_number FROM node WHERE list_contains(labels, 'Official') AND id_number IS NOT NULL "
        "ORDER BY nid LIMIT 2").fetchall()]
    params = {"a": ids[0], "b": ids[1], **_OWN.bind()}     # the own-village model's defaults
    persons = planned.ws.con.execute("SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchall()[0][0]
    rows = []
    for name, q in PATTERNS.items():
        tp, res = median_timed(lambda: planned.run(q, params), a.runs)
        tu = None
        if not a.skip_unplanned and "shortestPath" not in name:
            tu, res2 = median_capped(lambda: unplanned.run(q, params), planned.ws.con, a.runs)
            if res2 is not None:
                assert sorted(map(repr, res.rows)) == sorted(map(repr, res2.rows)), name
            else:
                tu = float("inf")
        rows.append((name, len(res), tp, tu))
        print(f"{name}: {len(res)} rows, planned {tp:.3f} s" + (f", DuckDB order {tu:.3f} s" if tu else ""),
              flush=True)
    tr, r1 = median_timed(lambda: planned.run(list(PATTERNS.values())[1]), a.runs)
    tf, parts = median_timed(lambda: [planned.run(q).rows[0][0] for q in UNION_PARTS], a.runs)
    assert r1.rows[0][0] == sum(parts), (r1.rows, parts)
    print(f"var-length *1..2: recursive CTE {tr:.3f} s, union of fixed lengths {tf:.3f} s")
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20     # KiB on Linux -> GiB
    lines = [
        f"\n## Cypher patterns on DuckDB — {dt.date.today().isoformat()}\n",
        f"Machine: {cpu()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; DuckDB {duckdb.__version__}; "
        f"workspace {Path(a.workspace).name} ({persons:,} persons); median of {a.runs} runs after a warm-up; "
        f"process peak RSS {rss:.2f} GB. Script: benchmarks/bench_patterns.py.\n",
        "| pattern | rows | compiler's join plan | DuckDB's join order | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, n, tp, tu in rows:
        if tu == float("inf"):
            shown, ratio = f"> {CAP:.0f} s (interrupted)", f"> {CAP / tp:.0f}×"
        elif tu:
            shown, ratio = f"{tu:.3f} s", f"{tu / tp:.1f}×"
        else:
            shown, ratio = "—", "—"
        lines.append(f"| {name} | {n:,} | {tp:.3f} s | {shown} | {ratio} |")
    lines.append(f"\nVariable length `*1..2` (same rows): one recursive CTE {tr:.3f} s; the union of the "
                 f"`*1` and `*2` fixed patterns {tf:.3f} s. The compiler uses the recursive CTE.\n")
    text = "\n".join(lines)
    print(text)
    if a.record:
        with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
