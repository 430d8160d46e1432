"""What the indexes cost a load: the same county loaded into new workspaces three ways (no
index, the adjacency index alone, every index), in separate processes, in turn.

The indexes are the ART lookup indexes (:mod:`graphwatch.lookups`: node ids, relationship ids
and the schema's ``lookups`` properties, made right after the load's transaction) and the
adjacency index (:mod:`graphwatch.adjacency`, made inside it). Three loads in turn: without
indexes (:func:`graphwatch.lookups.ensure` and :func:`graphwatch.adjacency.refresh` replaced by
no-ops), with the adjacency index alone (``ensure`` a no-op), and with both.
Per load: wall seconds, CPU seconds of the process (all threads), and the workspace's size
(database blocks in use, plus the adjacency files); the figures issue 16 sets goals for are
the ratios (≤ 15 % more load time, ≤ 50 % more workspace size).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_index_cost.py benchmarks/work/county_1000000 [--runs 2] [--record]

``--record`` replaces the block ``index-cost-<county folder>`` (or ``--block NAME``) of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block  # noqa: E402

WORK = HERE / "work"


#: the loads compared: no index, the adjacency index alone (what issue 16 names "the index"),
#: and every index (the adjacency index and the lookup indexes the engine's point queries use)
VARIANTS = ("none", "adjacency", "all")


def child(county: str, ws: str, variant: str) -> None:
    """One load (in its own process) with the indexes of ``variant``, its figures printed as JSON."""
    import resource

    from graphwatch import adjacency, lookups
    from graphwatch.ingest import load_into

    if variant != "all":
        lookups.ensure = lambda con, schema=None: None
    if variant == "none":
        adjacency.refresh = lambda con, path: None
    t = time.perf_counter()
    load_into(ws, [county], skip_unclaimed=True)
    wall = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    import duckdb

    con = duckdb.connect(str(Path(ws) / "graph.duckdb"), read_only=True)
    r = con.execute("PRAGMA database_size").fetchall()[0]
    used = r[3] * r[2]          # used blocks × block size
    con.close()
    adj = Path(ws) / adjacency.FOLDER
    adj_bytes = sum(f.stat().st_size for f in adj.iterdir()) if adj.is_dir() else 0
    print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "db": used, "adjacency": adj_bytes,
                      "rss": ru.ru_maxrss * 1024}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("county", type=Path)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--block", default=None,
                    help="name of the RESULTS.md block to write (default index-cost-COUNTY; an earlier "
                         "block of that name is replaced, so give a new name to keep it)")
    a = ap.parse_args(argv)
    load = os.getloadavg()
    got = {v: [] for v in VARIANTS}
    for rep in range(a.runs):
        for variant in VARIANTS:
            ws = WORK / f".index_cost_{a.county.name}_{variant}"
            shutil.rmtree(ws, ignore_errors=True)
            out = subprocess.run([sys.executable, __file__, "--child", str(a.county), str(ws), variant],
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            got[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
            shutil.rmtree(ws, ignore_errors=True)
            print(f"run {rep + 1}, indexes {variant}: {got[variant][-1]}", flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in got.items()}
    off = med["none"]
    gib = 2**30

    def size(m):
        return m["db"] + m["adjacency"]

    def vs(m, f):
        return f"{m[f] / off[f] - 1:+.0%}"

    def pairs(v, f):        # each run against the load without indexes just before it
        return ", ".join(f"{x[f] / y[f] - 1:+.0%}" for x, y in zip(got[v], got["none"]))

    adj, full = med["adjacency"], med["all"]
    rows = [("wall time of the load (s)", f"{off['wall']:.1f}", f"{adj['wall']:.1f} ({vs(adj, 'wall')}; runs {pairs('adjacency', 'wall')})",
             f"{full['wall']:.1f} ({vs(full, 'wall')}; runs {pairs('all', 'wall')})"),
            ("CPU time of the load (s, all threads)", f"{off['cpu']:.1f}", f"{adj['cpu']:.1f} ({vs(adj, 'cpu')})",
             f"{full['cpu']:.1f} ({vs(full, 'cpu')})"),
            ("database in use (GiB)", f"{off['db'] / gib:.2f}", f"{adj['db'] / gib:.2f} ({vs(adj, 'db')})",
             f"{full['db'] / gib:.2f} ({vs(full, 'db')})"),
            ("adjacency files (GiB)", "0", f"{adj['adjacency'] / gib:.2f}", f"{full['adjacency'] / gib:.2f}"),
            ("workspace (GiB)", f"{size(off) / gib:.2f}", f"{size(adj) / gib:.2f} ({size(adj) / size(off) - 1:+.0%})",
             f"{size(full) / gib:.2f} ({size(full) / size(off) - 1:+.0%})"),
            ("peak RSS (GiB)", f"{off['rss'] / gib:.2f}", f"{adj['rss'] / gib:.2f} ({vs(adj, 'rss')})",
             f"{full['rss'] / gib:.2f} ({vs(full, 'rss')})")]
    table = "\n".join(["| | no index | the adjacency index alone | every index (adjacency + lookups) |",
                       "|---|---:|---:|---:|"] + [f"| {' | '.join(r)} |" for r in rows])
    text = (f"## What the indexes cost a load — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
            f"(`benchmarks/bench_index_cost.py`)\n\n"
            f"County `{a.county.name}` loaded into a new workspace (`--skip-unclaimed`) three ways, in turn, each "
            f"in its own process: without indexes (their functions made no-ops), with the adjacency index "
            f"alone, and with it and the lookup (ART) indexes; median of {a.runs} (in brackets: against no "
            f"index, and each run against the load without indexes before it). Machine: {machine()}; commit "
            f"{commit()}; load average (1 min) {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. "
            f"Issue 16's goals for the index: ≤ 15 % more load time, ≤ 50 % more workspace size.\n\n{table}\n")
    print(text)
    if a.record:
        record_block(a.block or f"index-cost-{a.county.name}", "bench_index_cost.py", text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(main())
