"""What the indexes cost a load: the same county loaded twice into new workspaces, with and
without them, in separate processes, alternately.

The indexes are the ART lookup indexes (:mod:`graphwatch.lookups`: node ids, relationship ids
and the schema's ``lookups`` properties) and the adjacency index (:mod:`graphwatch.adjacency`),
both made inside the load's transaction. "Without" is the same load with
:func:`graphwatch.lookups.ensure` and :func:`graphwatch.adjacency.refresh` replaced by no-ops.
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


def child(county: str, ws: str, indexes: bool) -> None:
    """One load (in its own process), its figures printed as JSON."""
    import resource

    from graphwatch import adjacency, lookups
    from graphwatch.ingest import load_into

    if not indexes:
        lookups.ensure = lambda con, schema=None: None
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
    got = {True: [], False: []}
    for rep in range(a.runs):
        for indexes in (True, False):
            ws = WORK / f".index_cost_{a.county.name}_{int(indexes)}"
            shutil.rmtree(ws, ignore_errors=True)
            out = subprocess.run([sys.executable, __file__, "--child", str(a.county), str(ws), str(int(indexes))],
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            got[indexes].append(json.loads(out.stdout.strip().splitlines()[-1]))
            shutil.rmtree(ws, ignore_errors=True)
            print(f"run {rep + 1}, indexes {'on' if indexes else 'off'}: {got[indexes][-1]}", flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in got.items()}
    on, off = med[True], med[False]
    gib = 2**30
    size_on, size_off = on["db"] + on["adjacency"], off["db"] + off["adjacency"]
    rows = [("wall time of the load (s)", f"{off['wall']:.1f}", f"{on['wall']:.1f}", f"{on['wall'] / off['wall'] - 1:+.0%}"),
            ("CPU time of the load (s, all threads)", f"{off['cpu']:.1f}", f"{on['cpu']:.1f}",
             f"{on['cpu'] / off['cpu'] - 1:+.0%}"),
            ("database in use (GiB)", f"{off['db'] / gib:.2f}", f"{on['db'] / gib:.2f}", f"{on['db'] / off['db'] - 1:+.0%}"),
            ("adjacency files (GiB)", "0", f"{on['adjacency'] / gib:.2f}", ""),
            ("workspace (GiB)", f"{size_off / gib:.2f}", f"{size_on / gib:.2f}", f"{size_on / size_off - 1:+.0%}"),
            ("peak RSS (GiB)", f"{off['rss'] / gib:.2f}", f"{on['rss'] / gib:.2f}", f"{on['rss'] / off['rss'] - 1:+.0%}")]
    table = "\n".join(["| | without the indexes | with them | difference |", "|---|---:|---:|---:|"]
                      + [f"| {' | '.join(r)} |" for r in rows])
    text = (f"## What the indexes cost a load — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
            f"(`benchmarks/bench_index_cost.py`)\n\n"
            f"County `{a.county.name}` loaded into a new workspace (`--skip-unclaimed`), with the lookup and "
            f"adjacency indexes and without them (their functions made no-ops), alternately, each in its own "
            f"process; median of {a.runs}. Machine: {machine()}; commit {commit()}; load average (1 min) "
            f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. Issue 16's goals: ≤ 15 % more "
            f"load time, ≤ 50 % more workspace size.\n\n{table}\n")
    print(text)
    if a.record:
        record_block(a.block or f"index-cost-{a.county.name}", "bench_index_cost.py", text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] == "1")
    else:
        sys.exit(main())
