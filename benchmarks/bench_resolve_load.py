"""Benchmark: a load that keeps the workspace resolved, against a full resolve.

On a generated county (default 100 000 persons, seed 7), loaded once (``bench_resolve``'s
pristine workspace), each step runs in its own process on a fresh copy (wall seconds, peak
RSS of the process tree):

1. **full resolve** of the loaded workspace (what ``graphwatch resolve`` costs);
2. on the resolved copy, **reload the benefit roll unchanged** (the file with most ID-less
   records), and the same reload into the unresolved workspace (the load alone);
3. on the resolved copy, **load a new roll** of ``--new`` payments to existing persons (half
   with their ID, half ID-less by name and village where the name is theirs alone in the
   village) and 1 % new persons; and the old way: the same load into the unresolved workspace
   followed by a full resolve.

For the loads into the resolved workspace the resolution's own seconds come from the load's
accounting; the new records' entities are checked against the persons they were written for.

Usage::

    .venv/bin/python benchmarks/bench_resolve_load.py                # appends a block to RESULTS.md
    .venv/bin/python benchmarks/bench_resolve_load.py --persons 20000 --no-write
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_load import PY, RESULTS, WORK, machine, run  # noqa: E402
from bench_resolve import County, ensure_workspace  # noqa: E402

BEGIN, END = "<!-- BEGIN resolve-on-load (bench_resolve_load.py) -->", "<!-- END resolve-on-load -->"

RESOLVE = r"""
import json, sys
from graphwatch.store import Workspace
from graphwatch.resolve import resolve
with Workspace(sys.argv[1]) as ws:
    rep = resolve(ws)
open(sys.argv[2], "w").write(json.dumps({"seconds": rep.seconds, "entities": rep.entities,
                                         "records": rep.records, "review_pairs": rep.review_pairs}))
"""

LOAD = r"""
import json, sys
from graphwatch.store import Workspace
from graphwatch.ingest import load
with Workspace(sys.argv[1]) as ws:
    res = load(ws, sys.argv[3:])
    out = {"resolution": None}
    for r in res:
        if r.format == "resolution":
            out["resolution"] = {k: v for k, v in r.resolution.__dict__.items() if k != "by_dataset"}
    if sys.argv[2].endswith(".check.json"):
        out["entities"] = dict(ws.con.execute(
            "SELECT u.record, m.entity FROM er_unit u JOIN er_member m USING (unit) WHERE u.dataset = ?",
            ["benefit_rolls/benefit_rolls_new.csv"]).fetchall())
open(sys.argv[2], "w").write(json.dumps(out, default=str))
"""


def copy(src: Path, name: str) -> Path:
    dst = WORK / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".tmp"))
    return dst


def child(script: str, ws: Path, *args, check: bool = False) -> tuple[float, float, dict]:
    """Run ``script`` on workspace ``ws`` in a child; (wall s, peak GB, what it wrote). The
    child's CPU seconds (user + system, all its threads) go into what it wrote as ``cpu``:
    on 2 cores shared with other work, wall seconds vary with the load, CPU seconds less."""
    import resource

    out = WORK / f"_child_{os.getpid()}{'.check' if check else ''}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    secs, gb = run([PY, "-c", script, str(ws), str(out), *map(str, args)])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(out.read_text(encoding="utf-8"))
    data["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out.unlink()
    return secs, gb, data


def new_roll(resolved: Path, county: Path, n: int) -> tuple[Path, dict]:
    """A roll of ``n`` payments: 99 % to existing persons, 1 % to new ones."""
    import duckdb
    con = duckdb.connect(str(resolved / "graph.duckdb"), read_only=True)
    people = con.execute("""SELECT name, id_label, village_code FROM er_person
        WHERE dataset LIKE 'household_registry/%' AND id_label IS NOT NULL
          AND (name_norm, village_code) IN (SELECT (name_norm, village_code) FROM er_person
                                           WHERE id_label IS NOT NULL GROUP BY ALL HAVING count(DISTINCT id_label) = 1)
        ORDER BY hash(unit) LIMIT ?""", [n - n // 100]).fetchall()
    con.close()
    with open(county / "benefit_rolls.csv", encoding="gb18030", newline="") as f:
        header, first = list(csv.reader(f))[:2]
    rows, expect = [], {}
    for k, (name, pid, village) in enumerate(people):
        rows.append([f"NEW{k:07d}", name, pid if k % 2 == 0 else "", village, *first[4:]])
        expect[f"NEW{k:07d}"] = f"Person:{pid}"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉"
    for k in range(n - len(people)):
        rec = f"NEW9{k:06d}"
        rows.append([rec, "欧阳" + given[k % len(given)] + given[(k // len(given)) % len(given)], "", people[0][2],
                     *first[4:]])
        expect[rec] = None
    folder = WORK / "new_roll"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "benefit_rolls_new.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path, expect


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--new", type=int, default=2_000, help="payments in the new roll")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    load_avg = os.getloadavg()[0]
    c = County(args.persons, args.seed)
    pristine = ensure_workspace((c,))
    county = c.folder
    roll = county / "benefit_rolls.csv"
    rows = []

    def note(step: str, secs: float, cpu: float, gb: float, extra: str = "") -> None:
        rows.append((step, secs, cpu, gb, extra))
        print(f"{step}: {secs:.1f} s wall, {cpu:.1f} s CPU, {gb:.2f} GB {extra}", flush=True)

    resolved = copy(pristine, "ws_rl_resolved")
    secs, gb, rep = child(RESOLVE, resolved)
    s = rep["seconds"]
    note("full resolve (graphwatch resolve)", secs, rep["cpu"], gb,
         f"prepare {s['prepare']:.1f} · score {s['score']:.1f} · cluster {s['cluster']:.1f} · apply {s['apply']:.1f}; "
         f"{rep['records']:,} person records → {rep['entities']:,} persons")
    persons = rep["entities"]
    secs, gb, out = child(LOAD, copy(pristine, "ws_rl_plain"), roll)
    note("reload the roll unchanged, workspace never resolved (load only)", secs, out["cpu"], gb)
    secs, gb, out = child(LOAD, copy(resolved, "ws_rl_reload"), roll)
    r = out["resolution"]
    note("reload the roll unchanged, resolved workspace (stays resolved)", secs, out["cpu"], gb,
         f"of which resolution {r['seconds']['total']:.1f} s, {r['seconds']['cpu']:.1f} s CPU (prepare "
         f"{r['seconds']['prepare']:.1f} · score {r['seconds']['score']:.1f} · cluster {r['seconds']['cluster']:.1f} · "
         f"apply {r['seconds']['apply']:.1f}); {r['touched_units']} statements scored, persons {r['entities_before']:,} → {r['entities']:,}")
    path, expect = new_roll(resolved, county, args.new)
    secs, gb, out = child(LOAD, copy(resolved, "ws_rl_new"), path, check=True)
    r = out["resolution"]
    got = out["entities"]
    right = sum(got.get(rec) == (want or f"Person:@benefit_rolls/benefit_rolls_new.csv#{rec}")
                for rec, want in expect.items())
    note(f"load a new roll of {args.new:,} payments, resolved workspace (incremental)", secs, out["cpu"], gb,
         f"of which resolution {r['seconds']['total']:.1f} s, {r['seconds']['cpu']:.1f} s CPU (prepare "
         f"{r['seconds']['prepare']:.1f} · score {r['seconds']['score']:.1f} · cluster {r['seconds']['cluster']:.1f} · "
         f"apply {r['seconds']['apply']:.1f}); {r['records']:,} records: {r['merged']:,} joined, {r['review']:,} review, {r['apart']:,} apart; "
         f"{r['touched_units']:,} statements scored ({r['pairs']:,} pairs), {r['clustered']:,} clustered again; "
         f"{right:,} of {len(expect):,} in the right entity")
    plain = copy(pristine, "ws_rl_new_plain")
    secs_l, gb_l, out = child(LOAD, plain, path)
    secs_r, gb_r, rep = child(RESOLVE, plain)
    note("the same roll, the old way: load into the unresolved workspace + full resolve", secs_l + secs_r,
         out["cpu"] + rep["cpu"], max(gb_l, gb_r),
         f"load {secs_l:.1f} s ({out['cpu']:.1f} s CPU) + resolve {secs_r:.1f} s ({rep['cpu']:.1f} s CPU)")
    text = report(args, c, persons, rows, load_avg)
    print(text)
    if not args.no_write:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write("\n" + text)
        print(f"appended to {RESULTS}")


def report(args, c: County, persons: int, rows: list, load_avg: float) -> str:
    lines = [BEGIN, "", f"## Resolution kept by loads — {dt.date.today().isoformat()} (`benchmarks/bench_resolve_load.py`)",
             "", f"Machine: {machine()}; DuckDB memory limit {os.environ.get('GRAPHWATCH_MEMORY_LIMIT', '3GB')}; "
             f"load average (1 min) at start {load_avg:.1f} (2 cores shared with other work). County: {c} "
             f"({persons:,} resolved persons), packaged model. Each step in its own process on a fresh copy.", "",
             "| step | wall s | CPU s | peak GB | detail |", "|---|---:|---:|---:|---|"]
    for step, secs, cpu, gb, extra in rows:
        lines.append(f"| {step} | {secs:.1f} | {cpu:.1f} | {gb:.2f} | {extra} |")
    lines += ["", END, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
