"""``graphwatch run`` of the whole library with models one after another and at once.

What an investigator waits for: :func:`graphwatch.alerts.runner.run_models` on a workspace —
every model of the library, its rows with their evidence (bindings), the evidence subgraphs
read, the alerts stored — with ``--jobs`` 1, 2, … alternately, in one process, median of
``--runs`` after a warm-up run of each. The workspace's alert store is written (the alerts of
each run replace the last ones'; verdicts are kept, as always).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_run_jobs.py benchmarks/work/ws_5m_new [--jobs 1 2] [--runs 3] [--record [--block NAME]]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block  # noqa: E402


def main(argv=None) -> int:
    from graphwatch.alerts.runner import run_models

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--block", default=None,
                    help="name of the RESULTS.md block to write (default run-jobs-WORKSPACE; an earlier "
                         "block of that name is replaced, so give a new name to keep it)")
    a = ap.parse_args(argv)
    load = os.getloadavg()
    wall: dict[int, list[float]] = {j: [] for j in a.jobs}
    found: dict[int, list] = {}
    for rep in range(a.runs + 1):
        for j in a.jobs:
            t = time.perf_counter()
            runs = run_models(a.workspace, jobs=j)
            d = time.perf_counter() - t
            found[j] = [(r.model, r.status, r.found) for r in runs]
            if rep:
                wall[j].append(d)
            print(f"run {rep}, jobs {j}: {d:.2f} s", flush=True)
    same = all(found[j] == found[a.jobs[0]] for j in a.jobs)
    base = statistics.median(wall[a.jobs[0]])
    rows = [f"| {j} | {statistics.median(wall[j]):.2f} | {min(wall[j]):.2f}–{max(wall[j]):.2f} | "
            f"{base / statistics.median(wall[j]):.2f}× |" for j in a.jobs]
    n_alerts = sum(f for _m, _s, f in found[a.jobs[0]])
    text = (f"## `graphwatch run`, the whole library, models at once — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
            f"(`benchmarks/bench_run_jobs.py`)\n\nWorkspace `{a.workspace.name}`; {len(found[a.jobs[0]])} models, "
            f"{n_alerts} alerts (the same models, statuses and alert counts for every `--jobs`: {'yes' if same else '**no**'}). "
            f"Machine: {machine()}; commit {commit()}; load average (1 min) {load[0]:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end. `run_models` as `graphwatch run` calls it (rows with their evidence, "
            f"evidence subgraphs read, alerts stored), the `--jobs` values alternately, median of {a.runs} after a "
            f"warm-up.\n\n| --jobs | wall (s), median | min–max | speed-up against {a.jobs[0]} |\n|---:|---:|---:|---:|\n"
            + "\n".join(rows) + "\n")
    print(text)
    if a.record:
        record_block(a.block or f"run-jobs-{a.workspace.name}", "bench_run_jobs.py", text)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
