"""graphwatch against RAW Neo4j on a second graph shape: a social / crime-style graph
(``graphwatch.synth.social``: persons who know each other with heavy-tailed degrees, crimes
they are party to, locations), with the queries a crime analyst writes
(``graphwatch.synth.social.QUERIES``: friends-of-friends with pattern predicates,
co-offenders, shared locations, shortestPath / allShortestPaths, 2-hop neighbourhoods of a
hub and of an ordinary person, an aggregate over all acquaintances).

The graph is written as a neo4j-admin import folder and loaded unchanged with
``graphwatch load FOLDER --infer-schema -w WS`` (the load is timed); Neo4j gets the same graph
by ``graphwatch neo4j push`` into a server of its own (``bench_raw_neo4j.raw_neo4j``), with
the indexes a Neo4j user would create for these lookups: ``Person(pid)``, ``Crime(cid)``,
``Location(lid)`` (besides push's uniqueness constraints on the workspace ids). Each query
runs unchanged on graphwatch (``DuckDBEngine.run``, no bindings) and through the official
driver (every record fetched), warm, median of ``--runs``; the rows must be equal.

Usage::

    .venv/bin/python -u benchmarks/bench_social.py --persons 100000 [--seed 7] [--runs 5] [--record]
    .venv/bin/python -u benchmarks/bench_social.py --persons 1000000 --heap 4g --pagecache 2048 --record

The folder and workspace stay in ``benchmarks/work/`` (``social_<n>_<seed>``,
``ws_social_<n>_<seed>``) and are reused; ``--keep-neo4j`` keeps the Neo4j database of the
previous run (push then skips what it committed), which saves a 1 M push.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench_engines import WORK
from bench_raw_neo4j import against_raw, raw_neo4j
from common import commit, machine
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.synth.social import QUERIES, generate_social, pick_params

INDEXES = ["CREATE INDEX bench_person_pid IF NOT EXISTS FOR (p:Person) ON (p.pid)",
           "CREATE INDEX bench_crime_cid IF NOT EXISTS FOR (c:Crime) ON (c.cid)",
           "CREATE INDEX bench_location_lid IF NOT EXISTS FOR (l:Location) ON (l.lid)"]


def prepare(persons: int, seed: int) -> tuple[Path, str]:
    """The folder and the loaded workspace (made when missing); what making them took."""
    folder, ws = WORK / f"social_{persons}_{seed}", WORK / f"ws_social_{persons}_{seed}"
    notes = []
    if not folder.exists():
        t = time.perf_counter()
        counts = generate_social(folder, persons, seed)
        notes.append(f"generated in {time.perf_counter() - t:.0f} s ({', '.join(f'{k} {v:,}' for k, v in counts.items())})")
    if not (ws / "workspace.json").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "graphwatch.cli", "load", str(folder), "--infer-schema", "-w", str(ws)],
                       check=True, stdout=subprocess.DEVNULL)
        notes.append(f"`graphwatch load --infer-schema` in {time.perf_counter() - t:.0f} s "
                     f"(load average {os.getloadavg()[0]:.1f})")
    return ws, "; ".join(notes) or "folder and workspace from an earlier run"


def bench(a) -> str:
    ws, made = prepare(a.persons, a.seed)
    print(f"{ws.name}: {made}", flush=True)
    rows = []
    with raw_neo4j(ws, INDEXES, a, fresh=not a.keep_neo4j) as (driver, database, rep):
        with DuckDBEngine(ws) as duck:
            params = pick_params(lambda q: duck.run(q).rows)
            print(f"  parameters {params}", flush=True)
            load = [os.getloadavg()[0]]
            for name, q in QUERIES.items():
                rd, t_duck, t_neo, same = against_raw(duck, driver, database, q, params, a.runs)
                load.append(os.getloadavg()[0])
                first = rd.rows[0] if rd.rows else ()
                rows.append((name, len(rd.rows), first, t_duck, t_neo, same))
                print(f"  {name}: {len(rd.rows)} rows {first}; graphwatch {t_duck:.4f} s, raw Neo4j {t_neo:.4f} s, "
                      f"same: {same}", flush=True)
    t_duck, t_neo = sum(r[3] for r in rows), sum(r[4] for r in rows)
    slower = [r[0] for r in rows if r[3] > r[4]]
    lines = [
        f"\n## Social / crime graph: graphwatch vs raw Neo4j — {a.persons:,} persons, seed {a.seed} — "
        f"{dt.date.today().isoformat()} (`benchmarks/bench_social.py`)\n",
        f"Machine: {machine()}; commit {commit()}; load average {min(load):.1f}–{max(load):.1f} while the "
        f"queries ran (shared with other work). Neo4j Community 5.26 (heap {a.heap}, page cache {a.pagecache} MB) "
        "on the same machine, the Cypher unchanged through the official Python driver, warm; indexes "
        "Person(pid), Crime(cid), Location(lid), plus push's uniqueness constraints on the workspace ids. "
        f"Median of {a.runs} runs after a warm-up. {rep.nodes:,} nodes, {rep.rels:,} relationships; {made}. "
        f"Parameters: a = {params['a']}, b = {params['b']}, hub = {params['hub']}.\n",
        "| query | rows | first row | graphwatch | raw Neo4j | Neo4j / graphwatch | same |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for name, n, first, td, tn, same in rows:
        lines.append(f"| {name} | {n:,} | {first} | {td * 1000:.1f} ms | {tn * 1000:.1f} ms | {tn / td:.2g}× | "
                     f"{'yes' if same else '**NO**'} |")
    lines.append(f"| **total** | | | {t_duck * 1000:.0f} ms | {t_neo * 1000:.0f} ms | {t_neo / t_duck:.2g}× | |")
    lines.append(f"\ngraphwatch slower than raw Neo4j on {len(slower)} of {len(rows)} queries"
                 + (f": {'; '.join(slower)}." if slower else "."))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", type=int, default=1024)
    ap.add_argument("--keep-neo4j", action="store_true",
                    help="keep the Neo4j database of the previous run (push skips what it committed)")
    ap.add_argument("--start-timeout", type=float, default=180,
                    help="seconds the server may take to start (recovery after a crash takes longer)")
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    print(f"machine: {machine()}; {psutil.virtual_memory().available / 2**30:.1f} GiB available", flush=True)
    text = bench(a)
    print(text, flush=True)
    if a.record:
        with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
