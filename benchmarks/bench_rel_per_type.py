"""Would relationship tables per type make the library faster? Measured before building it.

The idea (issue 15, left open at the last stop): DuckDB estimates ``rel`` filtered by one type
as the table over its number of types, so it may build a hash table on 9 M RECEIVES where it
should build on the few rows so far; with a table per type it would know each type's count
and a typed scan would read only its own rows. This script tries it without changing the
store: it copies each type's relationships of the workspace into its own table of a scratch
database (``benchmarks/work/.rel_per_type_<ws>.duckdb``, kept for reruns), attaches the
workspace read-only beside it, and runs each library model's compiled statement as the engine
writes it and with every ``rel AS rN … rN.type = 'T'`` scan (and ``FROM rel WHERE type = 'T'``)
read from the type's table instead — alternately, in one process, median of ``--runs`` after a
warm-up, the rows compared. Models whose compilation has steps (temporary tables made before
the statement) are left out: their steps read ``rel`` themselves.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_rel_per_type.py benchmarks/work/ws_5m_new [--runs 3] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block  # noqa: E402


def per_type(sql: str) -> str:
    """``sql`` with each scan of one relationship type read from that type's table."""
    sql = re.sub(r"JOIN rel AS (r\d+) ON \1\.type = '(\w+)' AND",
                 lambda m: f'JOIN pertype."rel_{m.group(2)}" AS {m.group(1)} ON', sql)
    return re.sub(r"FROM rel WHERE type = '(\w+)' AND", lambda m: f'FROM pertype."rel_{m.group(1)}" WHERE', sql)


def main(argv=None) -> int:
    import duckdb

    from graphwatch.alerts.library import load_library
    from graphwatch.engines.duckdb import DuckDBEngine, used_params

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args(argv)
    load = os.getloadavg()
    scratch = HERE / "work" / f".rel_per_type_{a.workspace.name}.duckdb"
    compiled = {}
    with DuckDBEngine(a.workspace) as eng:
        types = [t for (t,) in eng.ws.con.execute("SELECT DISTINCT type FROM rel").fetchall()]
        for p in load_library().values():
            if p.kind == "cypher":
                c = eng.compile(p.cypher, p.bind())
                compiled[p.id] = None if c.steps else (c.sql, used_params(c.sql, c.params))
    con = duckdb.connect()
    con.execute("ATTACH ? AS pertype", [str(scratch)])
    have = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'pertype'").fetchall()}
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(a.workspace / "graph.duckdb")])
    for t in sorted({"SAME_AS", *types}):
        if f"rel_{t}" not in have:
            con.execute(f'CREATE TABLE pertype."rel_{t}" AS SELECT * FROM g.rel WHERE type = ?', [t])
    con.execute("CHECKPOINT pertype")
    con.execute("USE g")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET dynamic_or_filter_threshold = 2000")       # as the workspace sets them
    con.execute("SET index_scan_max_count = 20000")
    rows, total = [], [0.0, 0.0]
    for mid, got in compiled.items():
        if got is None:
            rows.append(f"| {mid} | — | — | — | — | (has steps: not compared) |")
            continue
        sql, params = got
        alt = per_type(sql)
        times, answers = ([], []), [None, None]
        for rep in range(a.runs + 1):
            for i, s in enumerate((sql, alt)):
                t = time.perf_counter()
                r = con.execute(s, params).fetchall()
                if rep:
                    times[i].append(time.perf_counter() - t)
                answers[i] = sorted(map(repr, r))
        m = [statistics.median(x) for x in times]
        total[0] += m[0]
        total[1] += m[1]
        same = "yes" if answers[0] == answers[1] else "**no**"
        rows.append(f"| {mid} | {alt.count('pertype.')} | {m[0]:.3f} | {m[1]:.3f} | {m[1] / m[0]:.2f} | {same} |")
        print(rows[-1], flush=True)
    con.close()
    table = "\n".join(["| model | scans read per type | one `rel` table (s) | a table per type (s) | ratio | same rows |",
                       "|---|---:|---:|---:|---:|---|", *rows,
                       f"| **these models** | | {total[0]:.3f} | {total[1]:.3f} | {total[1] / max(total[0], 1e-9):.2f} | |"])
    text = (f"## Relationship tables per type, tried on the library — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
            f"(`benchmarks/bench_rel_per_type.py`)\n\nWorkspace `{a.workspace.name}`. Machine: {machine()}; "
            f"commit {commit()}; load average (1 min) {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. "
            f"Each model's compiled statement (default parameters) as the engine writes it and with its typed "
            f"relationship scans read from per-type copies, alternately, median of {a.runs} after a warm-up.\n\n{table}\n")
    print(text)
    if a.record:
        record_block(f"rel-per-type-{a.workspace.name}", "bench_rel_per_type.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
