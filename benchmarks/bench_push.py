"""Push a workspace into graphwatch's own Neo4j server: online (driver) vs bulk (offline importer).

For each workspace and each mode (``--modes``, default both, in that order):

* **online** — ``graphwatch.neo4j.push.push``: the server started (``--heap``, ``--pagecache``) on
  a fresh database, batched ``UNWIND … CREATE`` transactions of ``--batch-size`` rows through
  the driver, constraints first, a count check and a checkpoint at the end;
* **bulk** — ``graphwatch.neo4j.bulk.bulk_push``: DuckDB ``COPY … TO`` CSV, Neo4j's
  ``neo4j-admin database import full`` (offline; the server stopped), the server started, the
  constraints built, the count check.

Both make the same graph (``tests/test_neo4j_bulk.py`` compares them value by value and type by
type). Measured: wall time of the whole push (server start included for bulk, as a user waits
for it; for online the server is already running), rows (nodes + relationships) per second,
and the disk of ``WS/neo4j/dbms/data`` after it: the store and the transaction logs.

A fresh database for the online mode means deleting ``WS/neo4j/dbms``: allowed only for a
workspace under ``benchmarks/work/`` of this checkout (copy one there). Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_push.py benchmarks/work/ws100k [--modes online,bulk] [--record]

``--record`` replaces this benchmark's block of ``benchmarks/RESULTS.md``; ``--append`` adds
the run to it (a 1 M bulk run after the 100 k comparison).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block, timed  # noqa: E402


def disk(path: Path) -> int:
    """Bytes on disk under ``path`` (allocated blocks, as ``du``)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def run(ws: Path, mode: str, a, log) -> dict:
    from graphwatch.neo4j import server
    from graphwatch.neo4j.bulk import bulk_push
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    data = ws / "neo4j" / "dbms" / "data"
    server.stop(ws)
    load = os.getloadavg()[0]
    last = [None]

    def progress(step, done, total):
        if step != last[0]:
            last[0] = step
            log(f"  {mode}: {step}")
    if mode == "online":
        if not ws.resolve().is_relative_to((HERE / "work").resolve()):
            raise SystemExit(f"{ws}: the online mode deletes WS/neo4j/dbms; copy the workspace under {HERE / 'work'}")
        shutil.rmtree(ws / "neo4j" / "dbms", ignore_errors=True)
        server.start(ws, heap=a.heap, pagecache_mb=a.pagecache)
        try:
            t, rep = timed(lambda: push(ws, Neo4jTarget.resolve(ws), batch_size=a.batch_size, progress=progress))
        finally:
            server.stop(ws)
    else:
        t, rep = timed(lambda: bulk_push(ws, progress=progress, compress=a.gzip))
    out = {"mode": mode + (" (gzip)" if mode == "bulk" and a.gzip else ""), "seconds": t, "rows": rep.nodes + rep.rels, "nodes": rep.nodes, "rels": rep.rels,
           "phases": rep.phases, "store": disk(data / "databases"), "logs": disk(data / "transactions"),
           "load": load, "load_end": os.getloadavg()[0]}
    log(f"  {mode}: {t:.0f} s, {out['rows'] / t:,.0f} rows/s, store {out['store'] / 2**30:.2f} GiB, "
        f"logs {out['logs'] / 2**30:.3f} GiB, phases {rep.phases}")
    return out


def table(ws: Path, results: list[dict]) -> str:
    r0 = results[0]
    lines = [f"\n### {ws.name} — {r0['nodes']:,} nodes, {r0['rels']:,} relationships\n",
             "| push | time (s) | rows/s | phases (s) | store after (GiB) | transaction logs after (GiB) | load avg start → end |",
             "|---|---:|---:|---|---:|---:|---|"]
    for r in results:
        phases = ", ".join(f"{k} {v:.0f}" for k, v in r["phases"].items()) or "—"
        lines.append(f"| {r['mode']} | {r['seconds']:.0f} | {r['rows'] / r['seconds']:,.0f} | {phases} | "
                     f"{r['store'] / 2**30:.2f} | {r['logs'] / 2**30:.3f} | {r['load']:.1f} → {r['load_end']:.1f} |")
    by = {r["mode"].split()[0]: r for r in results}
    if {"online", "bulk"} <= by.keys():
        lines.append(f"\nBulk is **{by['online']['seconds'] / by['bulk']['seconds']:.1f}×** faster than online "
                     "in this run.")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspaces", nargs="+", type=Path)
    ap.add_argument("--modes", default="online,bulk", help="comma-separated: online, bulk")
    ap.add_argument("--batch-size", type=int, default=10_000, help="online: rows per transaction")
    ap.add_argument("--heap", default="2g", help="online: the server's heap")
    ap.add_argument("--pagecache", type=int, default=1024, help="online: the server's page cache, MB")
    ap.add_argument("--gzip", action="store_true", help="bulk: gzipped CSV files")
    ap.add_argument("--record", action="store_true", help="replace this benchmark's block of RESULTS.md")
    ap.add_argument("--append", action="store_true", help="add this run to this benchmark's block of RESULTS.md")
    a = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    started, where, rev = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(), commit()
    sections = []
    for ws in a.workspaces:
        log(f"== {ws}")
        sections.append(table(ws, [run(ws, m.strip(), a, log) for m in a.modes.split(",")]))
    text = (f"## Push into Neo4j, online vs bulk — {started} (`benchmarks/bench_push.py`)\n\n"
            f"Machine: {where} (shared: the load average is given per push). Commit {rev}. Online: batches of "
            f"{a.batch_size:,} rows through the driver into a fresh database (server heap {a.heap}, page cache "
            f"{a.pagecache} MB, already running); bulk: DuckDB → CSV, Neo4j's offline importer, server start, "
            "constraints, count check (all in the time). Disk: `WS/neo4j/dbms/data` after the push (graphwatch's "
            "server keeps only the newest transaction log; a push ends with a checkpoint).\n"
            + "\n".join(sections))
    print(text)
    if a.record or a.append:
        record_block("push", "bench_push.py", text, append=a.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
