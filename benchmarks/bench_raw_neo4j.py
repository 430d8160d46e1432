"""graphwatch's embedded engine against RAW Neo4j (issue 16's anchor), in the same run.

Raw Neo4j means: the user's Cypher, unchanged, sent through the official Python driver
(``session.run(q, params)``, every record fetched), to a warm server (one warm-up run
first), with the indexes a Neo4j user would create for these lookups — ``Person(id_number)``,
``Person(name)``, ``Company(name)`` — besides the uniqueness constraints on the workspace
ids that ``graphwatch neo4j push`` creates. graphwatch runs the same Cypher with
``DuckDBEngine.run`` (no bindings, as a caller that does not ask for evidence), once with
the adjacency index and once without it (``GRAPHWATCH_ADJACENCY=0``: the SQL searches).
Both engines must return the same rows (compared as multisets; for shortestPath the length).

Usage::

    .venv/bin/python -u benchmarks/bench_raw_neo4j.py benchmarks/work/ws_100000 [--runs 5] [--record]

Also reports what the index costs: the time to build it and its size beside the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import duckdb
import psutil

from bench_engines import WORK, canon
from bench_patterns import _OWN, PATTERNS
from common import cpu, median_timed
from graphwatch import adjacency
from graphwatch.alerts.library import load_library
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.neo4j import server as neo4j_server
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.neo4j.values import to_neo4j
from graphwatch.store import Workspace

INDEXES = ["CREATE INDEX bench_person_id IF NOT EXISTS FOR (p:Person) ON (p.id_number)",
           "CREATE INDEX bench_person_name IF NOT EXISTS FOR (p:Person) ON (p.name)",
           "CREATE INDEX bench_company_name IF NOT EXISTS FOR (c:Company) ON (c.name)"]

EXTRA = {
    "2-hop neighbourhood of one person":
        "MATCH (a:Person {id_number: $a})-[*1..2]-(x) RETURN count(DISTINCT x)",
    "allShortestPaths between two officials (*..6)":
        "MATCH p = allShortestPaths((a:Person {id_number: $a})-[*..6]-(b:Person {id_number: $b})) RETURN count(p)",
    "friends of friends with a pattern predicate":
        "MATCH (a:Person {id_number: $a})-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF*1..2]-(f:Person) "
        "WHERE f <> a AND NOT (f)-[:RECEIVES]->(:Benefit) RETURN count(DISTINCT f)",
    "count all persons": "MATCH (p:Person) RETURN count(p)",
    "benefits per programme":
        "MATCH (b:Benefit)-[:OF_PROGRAMME]->(g:Programme) RETURN g.name, count(b) AS n ORDER BY n DESC",
}


def raw(driver, database: str, q: str, params: dict):
    """The Cypher as it is, through the driver; every record fetched."""
    def run():
        with driver.session(database=database) as s:
            return [tuple(r.values()) for r in s.run(q, to_neo4j(params))]
    return run


def plain(v):
    """A driver value as bench_engines.norm reduces graphwatch's (nodes by key, relationships
    by type and workspace id, paths by their nodes' keys, temporal values native)."""
    import neo4j.graph

    if isinstance(v, neo4j.graph.Node):
        return v.get("key")
    if isinstance(v, neo4j.graph.Relationship):
        return (v.type, v.get("rid"))
    if isinstance(v, neo4j.graph.Path):
        return [n.get("key") for n in v.nodes]
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if hasattr(v, "to_native"):
        return v.to_native()
    return v


def plain_rows(rows):
    return sorted((tuple(plain(v) for v in r) for r in rows), key=repr)


@contextmanager
def raw_neo4j(ws_path: Path, indexes: list[str], a, fresh: bool = True):
    """A Neo4j server of its own (``WORK/neo4j_<workspace>``) holding ``ws_path``'s graph,
    pushed as ``graphwatch neo4j push`` does, with ``indexes`` created and online; yields
    (driver, database, push report) and stops the server afterwards. ``fresh=False`` keeps the
    database of an earlier run: push then skips the batches it committed (same workspace)."""
    if getattr(a, "own_server", False):
        yield from _own_server(ws_path, indexes, a)
        return
    server_ws = WORK / f"neo4j_{ws_path.name}"
    if not (server_ws / "workspace.json").exists():
        Workspace(server_ws, create=True).close()
    neo4j_server.stop(server_ws)
    if fresh:
        shutil.rmtree(server_ws / "neo4j" / "dbms", ignore_errors=True)
    info = neo4j_server.start(server_ws, auth=True, heap=a.heap, pagecache_mb=a.pagecache,
                             timeout=getattr(a, "start_timeout", 180))
    target = Neo4jTarget.resolve(server_ws)
    try:
        print(f"{ws_path.name}: pushing into {info['uri']} …", flush=True)
        t = time.perf_counter()
        rep = push(ws_path, target)
        print(f"  pushed in {time.perf_counter() - t:.0f} s", flush=True)
        driver = target.driver()
        try:
            with driver.session(database=target.database) as s:
                for stmt in indexes:
                    s.run(stmt).consume()
                s.run("CALL db.awaitIndexes(600)").consume()
            yield driver, target.database, rep
        finally:
            driver.close()
    finally:
        neo4j_server.stop(server_ws)


def _own_server(ws_path: Path, indexes: list[str], a):
    """The workspace's own server (``<ws>/neo4j``, as ``graphwatch neo4j start`` runs it), which
    must already hold the current graph (``graphwatch neo4j push``): a 1 M push takes most of an
    hour, a second copy of it 4 GB. Same indexes; the server is stopped afterwards."""
    from graphwatch.neo4j.push import require_pushed

    neo4j_server.stop(ws_path)
    neo4j_server.start(ws_path, heap=a.heap, pagecache_mb=a.pagecache,
                       timeout=getattr(a, "start_timeout", 180))
    target = Neo4jTarget.resolve(ws_path)
    try:
        driver = target.driver()
        try:
            require_pushed(ws_path, target, driver)
            with driver.session(database=target.database) as s:
                for stmt in indexes:
                    s.run(stmt).consume()
                s.run("CALL db.awaitIndexes(600)").consume()
                n = s.run("MATCH (n) RETURN count(n)").single()[0]
                r = s.run("MATCH ()-[r]->() RETURN count(r)").single()[0]
            yield driver, target.database, SimpleNamespace(nodes=n, rels=r)
        finally:
            driver.close()
    finally:
        neo4j_server.stop(ws_path)


def fresh(duck: DuckDBEngine) -> DuckDBEngine:
    """``duck`` without the records its earlier runs read (see :func:`against_raw`)."""
    duck.forget_records()
    return duck


def against_raw(duck: DuckDBEngine, driver, database: str, q: str, ps: dict, runs: int):
    """(graphwatch's rows, its median time, raw Neo4j's median time, whether both gave the same
    rows) for one query; both warm (timed runs a warm-up first). graphwatch keeps its compiled
    query between runs (as Neo4j keeps its plan) but not the records it read: each run reads
    the nodes and relationships it returns again."""
    t_idx, rd = median_timed(lambda: fresh(duck).run(q, ps), runs)
    t_neo, rn = median_timed(raw(driver, database, q, ps), runs)
    return rd, t_idx, t_neo, canon(rd.rows) == plain_rows(rn)


def _commit() -> str:
    """The checkout's commit, and whether the code differs from it (what a block was run with)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "graphwatch", "patterns"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {head}" + (" with uncommitted changes to graphwatch/ or patterns/" if dirty else "")


def bench(ws_path: Path, a) -> str:
    started = dt.datetime.now(dt.timezone.utc)
    load_start = os.getloadavg()[0]
    # what the index costs: build time and size (the workspace's own copy is rebuilt elsewhere)
    with Workspace(ws_path, read_only=True) as w:
        scratch = WORK / f".adjacency_cost_{ws_path.name}"
        shutil.rmtree(scratch, ignore_errors=True)
        t = time.perf_counter()
        adjacency.build(w.con, scratch)
        build_s = time.perf_counter() - t
        index_mb = sum(f.stat().st_size for f in scratch.iterdir()) / 2**20
        shutil.rmtree(scratch, ignore_errors=True)
    db_mb = sum(f.stat().st_size for f in ws_path.glob("graph.duckdb*")) / 2**20
    with raw_neo4j(ws_path, INDEXES, a) as (driver, database, rep):
        duck = DuckDBEngine(ws_path)
        ids = [r[0] for r in duck.ws.con.execute(
            "SELECT id_number FROM node WHERE list_contains(labels, 'Official') AND id_number IS NOT NULL "
            "ORDER BY nid LIMIT 2").fetchall()]
        params = {"a": ids[0], "b": ids[1], **_OWN.bind()}     # the own-village model's defaults
        persons = duck.ws.con.execute(
            "SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchall()[0][0]
        work = [(f"bench_engines: {k}", q, params) for k, q in PATTERNS.items()]
        work += [(k, q, params) for k, q in EXTRA.items()]
        work += [(f"library: {p.id}", p.cypher, p.bind()) for p in load_library().values() if p.cypher]
        rows = []
        for name, q, ps in work:
            t_sql = float("nan")
            if not a.no_sql_searches:
                os.environ["GRAPHWATCH_ADJACENCY"] = "0"
                t_sql, _ = median_timed(lambda: fresh(duck).run(q, ps), a.runs)
                os.environ.pop("GRAPHWATCH_ADJACENCY")
            rd, t_idx, t_neo, same = against_raw(duck, driver, database, q, ps, a.runs)
            rows.append((name, len(rd.rows), t_idx, t_sql, t_neo, same))
            print(f"  {name}: {len(rd.rows)} rows; graphwatch {t_idx:.4f} s (SQL searches {t_sql:.4f} s), "
                  f"raw Neo4j {t_neo:.4f} s, same: {same}", flush=True)
        duck.close()
    total_idx = sum(r[2] for r in rows)
    total_neo = sum(r[4] for r in rows)
    lines = [
        f"\n## graphwatch vs raw Neo4j — {ws_path.name} ({persons:,} persons) — "
        f"{started:%Y-%m-%d %H:%M} UTC, {_commit()} (`benchmarks/bench_raw_neo4j.py`)\n",
        f"Machine: {cpu()}, {os.cpu_count()} cores (shared with other work while it ran: load average (1 min) "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB. DuckDB {duckdb.__version__}; Neo4j Community 5.26 "
        f"(heap {a.heap}, page cache {a.pagecache} MB) on the same machine, queried through the official "
        f"Python driver with the Cypher unchanged, warm; indexes: Person(id_number), Person(name), "
        f"Company(name), plus push's uniqueness constraints on the workspace ids. Median of {a.runs} runs "
        f"after a warm-up. {rep.nodes:,} nodes, {rep.rels:,} relationships.\n",
        f"Adjacency index: built in {build_s:.2f} s, {index_mb:.0f} MB beside a {db_mb:.0f} MB database "
        f"({100 * index_mb / max(db_mb, 1e-9):.0f} %).\n",
        "| work | rows | graphwatch | graphwatch, SQL searches | raw Neo4j | Neo4j / graphwatch | same |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, n, ti, ts, tn, same in rows:
        lines.append(f"| {name} | {n:,} | {ti * 1000:.1f} ms | {ts * 1000:.1f} ms | {tn * 1000:.1f} ms | "
                     f"{tn / ti:.2g}× | {'yes' if same else '**NO**'} |")
    lines.append(f"| **total** | | {total_idx * 1000:.0f} ms | {sum(r[3] for r in rows) * 1000:.0f} ms | "
                 f"{total_neo * 1000:.0f} ms | {total_neo / total_idx:.2g}× | |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspaces", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", type=int, default=1024)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--own-server", action="store_true",
                    help="use the workspace's own Neo4j server, already pushed (graphwatch neo4j push), "
                         "instead of pushing into a server of the benchmark's own")
    ap.add_argument("--no-sql-searches", action="store_true",
                    help="skip the column timed with the adjacency index off")
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
