"""One compiler switch off and on, on the whole model library, in the same run.

Each Cypher model of the library (default parameters, ``Pattern.bind()``) runs through
:class:`graphwatch.engines.duckdb.DuckDBEngine` with the :class:`graphwatch.cypher.options.Options`
field ``--option`` set to False, then True, alternately, ``--runs`` times (median; the first
pair is a warm-up); the rows must be equal. For a rewrite that must not change answers and is
meant to save time (``implied_labels``: node rows read only for labels the relationship types
guarantee; ``plan_joins``: the join planner).

``--switch MODULE.NAME`` flips a module's boolean instead, each one kept for such comparisons
(``graphwatch.cypher.planner.BUILD_HINTS``, ``graphwatch.cypher.rowreads.KEYED_ROWS_FROM_BASE``,
``graphwatch.cypher.compiler.CARRY_ONLY_BEFORE_LAST``, ``graphwatch.cypher.statement.RENAMED_CTES``,
``graphwatch.cypher.varlength.CLOSED_HOPS`` …); the engine compiles afresh after each flip.
``--bindings`` compares each row's evidence too.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_option_ab.py WS --option implied_labels [--runs 3] [--record]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_option_ab.py WS --switch graphwatch.cypher.planner.BUILD_HINTS
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block  # noqa: E402


def main(argv=None) -> int:
    from graphwatch.alerts.library import load_library
    from graphwatch.engines.duckdb import DuckDBEngine

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--option")
    which.add_argument("--switch", help="MODULE.NAME of a module-level boolean")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bindings", action="store_true", help="compare each row's evidence too")
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args(argv)
    load = os.getloadavg()
    eng = DuckDBEngine(a.workspace)
    if a.option and a.option not in {f.name for f in dataclasses.fields(eng.options)}:
        ap.error(f"--option: no Options field {a.option!r}")
    module = None
    if a.switch:
        mod_name, _, name = a.switch.rpartition(".")
        try:
            module = importlib.import_module(mod_name)
        except ImportError:
            ap.error(f"--switch: no module {mod_name!r}")
        if not isinstance(getattr(module, name, None), bool):
            ap.error(f"--switch: {a.switch} is not a module-level boolean")
        original = getattr(module, name)

    def flip(v: bool) -> None:
        if module is None:
            eng.options = dataclasses.replace(eng.options, **{a.option: v})
        else:
            setattr(module, name, v)
            eng._compiled_for = None          # compiled queries are kept per options: compile afresh

    def answer(r):
        return sorted(map(repr, r.rows)), (sorted(map(repr, r.bindings)) if a.bindings else None)
    rows = []
    for m in (m for m in load_library().values() if m.kind == "cypher"):
        times = {False: [], True: []}
        got = {}
        for rep in range(a.runs + 1):
            for v in (False, True):
                flip(v)
                eng.forget_records()
                t = time.perf_counter()
                got[v] = answer(eng.run(m.cypher, m.bind(), bindings=a.bindings))
                if rep:
                    times[v].append(time.perf_counter() - t)
        off, on = statistics.median(times[False]), statistics.median(times[True])
        rows.append((m.id, len(got[True][0]), off, on, got[True] == got[False]))
        print(f"{m.id}: off {off:.3f} s, on {on:.3f} s", flush=True)
    if module is not None:
        setattr(module, name, original)
    load2 = os.getloadavg()
    nodes, rels = eng.ws.con.execute("SELECT (SELECT count(*) FROM node), (SELECT count(*) FROM rel)").fetchone()
    eng.close()
    off_t, on_t = sum(r[2] for r in rows), sum(r[3] for r in rows)
    what = a.option or a.switch
    lines = [f"## Compiler switch `{what}` off and on — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
             "(`benchmarks/bench_option_ab.py`)", "",
             f"Workspace `{a.workspace.name}`: {nodes:,} nodes, {rels:,} relationships. Machine: {machine()}; "
             f"commit {commit()}; load average (1 min) {load[0]:.1f} at the start, {load2[0]:.1f} at the end. "
             f"Median of {a.runs} alternating pairs after a warm-up pair"
             + ("; rows and their evidence compared." if a.bindings else ".") , "",
             "| model | rows | off s | on s | off / on | same rows |", "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {i} | {n} | {f:.3f} | {o:.3f} | {f / o:.2f}× | {'yes' if s else '**no**'} |" for i, n, f, o, s in rows]
    lines.append(f"| **all {len(rows)}** | | **{off_t:.2f}** | **{on_t:.2f}** | **{off_t / on_t:.2f}×** | |")
    text = "\n".join(lines)
    print(text)
    if a.record:
        record_block(f"option-{what.rpartition('.')[2]}", "bench_option_ab.py", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
