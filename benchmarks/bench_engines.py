"""The embedded DuckDB engine against Neo4j 5.26 on the same county, in the same run.

For each workspace: start graphwatch's own Neo4j server on a fresh database, push the workspace into it
(throughput in rows/s, the server's peak RSS), then run the representative patterns of
``bench_patterns.py`` on both engines — the same Cypher, the same parameters — check that
both return the same rows, and time them (median of ``--runs`` after a warm-up).

Usage::

    .venv/bin/python -u benchmarks/bench_engines.py benchmarks/work/ws_100000 [--runs 3] [--record]

The server gets ``--heap`` and ``--pagecache`` (defaults 4g / 4096 MB); its data goes to
``benchmarks/work/neo4j_<workspace name>``. A Neo4j query is cancelled after ``--timeout``
seconds and reported as "> N s".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil

from bench_patterns import _OWN, PATTERNS
from common import cpu, median_timed
from graphwatch.neo4j import server as neo4j_server
from graphwatch.engines.compare import comparable_rows
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.exc import EngineError
from graphwatch.store import Workspace

WORK = Path(__file__).with_name("work")


def canon(rows):
    return comparable_rows(rows, rel_ids=True, digits=6)


class PeakRSS(threading.Thread):
    """Samples a process's RSS every half second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self.stop.wait(0.5)


def bench(ws_path: Path, a) -> str:
    server_ws = WORK / f"neo4j_{ws_path.name}"
    if not (server_ws / "workspace.json").exists():
        Workspace(server_ws, create=True).close()
    neo4j_server.stop(server_ws)
    # a fresh database each run: the push then measures loading, not clearing an old copy
    shutil.rmtree(server_ws / "neo4j" / "dbms", ignore_errors=True)
    info = neo4j_server.start(server_ws, auth=True, heap=a.heap, pagecache_mb=a.pagecache)
    target = Neo4jTarget.resolve(server_ws)
    rss = PeakRSS(info["pid"])
    rss.start()
    try:
        last = [0.0]

        def progress(step, done, total):
            if time.monotonic() - last[0] > 15:
                last[0] = time.monotonic()
                print(f"  push {done:,}/{total:,} {step}", flush=True)

        print(f"{ws_path.name}: pushing into {info['uri']} …", flush=True)
        rep = push(ws_path, target, batch_size=a.batch_size, progress=progress)
        push_rss = rss.peak
        print(f"  pushed {rep.nodes:,} nodes + {rep.rels:,} relationships in {rep.seconds:.1f} s "
              f"({rep.rows_per_second:,.0f} rows/s, {rep.skipped_batches} batches skipped), server peak RSS {push_rss / 2**30:.2f} GB", flush=True)
        with Neo4jEngine(target=target) as setup:
            # the shortestPath patterns look people up by id_number: an index is fair to give Neo4j
            with setup._driver.session() as s:
                s.run("CREATE INDEX gw_person_id_number IF NOT EXISTS FOR (p:Person) ON (p.id_number)").consume()
                s.run("CALL db.awaitIndexes(600)").consume()
        duck = DuckDBEngine(ws_path)
        neo = Neo4jEngine(target=target, timeout=a.timeout)
        ids = [r[0] for r in duck.ws.con.execute(
            "SELECT id_number FROM node WHERE list_contains(labels, 'Official') AND id_number IS NOT NULL "
            "ORDER BY nid LIMIT 2").fetchall()]
        params = {"a": ids[0], "b": ids[1], **_OWN.bind()}     # the own-village model's defaults
        persons = duck.ws.con.execute(
            "SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchall()[0][0]
        rows = []
        for name, q in PATTERNS.items():
            td, rd = median_timed(lambda: duck.run(q, params), a.runs, once_over=30)
            try:
                tn, rn = median_timed(lambda: neo.run(q, params), a.runs, once_over=min(30, a.timeout / 2))
                same = canon(rd.rows) == canon(rn.rows)
            except EngineError as exc:
                if "imeout" not in str(exc) and "terminated" not in str(exc).lower():
                    raise
                tn, same = None, None
            rows.append((name, len(rd.rows), td, tn, same))
            shown = f"{tn:.3f} s" if tn is not None else f"> {a.timeout:.0f} s"
            print(f"  {name}: {len(rd.rows)} rows; DuckDB {td:.3f} s, Neo4j {shown}, same rows: {same}", flush=True)
        duck.close()
        neo.close()
    finally:
        rss.stop.set()
        neo4j_server.stop(server_ws)
    lines = [
        f"\n## DuckDB vs Neo4j — {ws_path.name} ({persons:,} persons) — {dt.date.today().isoformat()}\n",
        f"Machine: {cpu()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB. "
        f"DuckDB {duckdb.__version__} (embedded, GRAPHWATCH_MEMORY_LIMIT "
        f"{os.environ.get('GRAPHWATCH_MEMORY_LIMIT', '3GB')}); Neo4j Community 5.26.30 on Java 17 "
        f"(heap {a.heap}, page cache {a.pagecache} MB), Python driver with neo4j-rust-ext, same machine. "
        f"Median of {a.runs} runs after a warm-up (a run over 30 s is timed once); "
        f"Neo4j queries cancelled after {a.timeout:.0f} s. Script: benchmarks/bench_engines.py.\n",
        f"Push: {rep.nodes:,} nodes + {rep.rels:,} relationships in {rep.seconds:.0f} s = "
        f"**{rep.rows_per_second:,.0f} rows/s** into a fresh database (batches of {a.batch_size:,}, "
        f"constraints first, UNWIND … CREATE — a rerun into a non-empty database MERGEs on the workspace "
        f"ids — and a count check at the end); Neo4j server peak RSS "
        f"{push_rss / 2**30:.2f} GB. An index on Person.id_number was added for the shortestPath lookups.\n",
        "| pattern | rows | DuckDB | Neo4j | Neo4j / DuckDB | same rows | ≥ 10× |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, n, td, tn, same in rows:
        if tn is None:
            lines.append(f"| {name} | {n:,} | {td:.3f} s | > {a.timeout:.0f} s | > {a.timeout / td:.0f}× | — | yes |")
        else:
            ratio = tn / td
            lines.append(f"| {name} | {n:,} | {td:.3f} s | {tn:.3f} s | {ratio:.2g}× | "
                         f"{'yes' if same else '**NO**'} | {'yes' if ratio >= 10 else 'no'} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspaces", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", type=int, default=4096)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    for ws in a.workspaces:
        text = bench(ws, a)
        print(text, flush=True)
        if a.record:
            with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as f:
                f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
