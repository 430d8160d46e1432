"""The whole model library on a loaded county: time per model on DuckDB and on raw Neo4j.

For each workspace (made by ``bench_load.py`` or ``graphwatch generate`` + ``load`` +
``resolve``; kept in ``benchmarks/work/``):

* **DuckDB** — every model of :func:`graphwatch.alerts.library.load_library`, with its
  default parameters (``Pattern.bind()``): a Cypher model through
  :class:`graphwatch.engines.duckdb.DuckDBEngine` ``.run`` (compile + execute + rows to Python),
  a ``kind: algorithm`` model through :mod:`graphwatch.alerts.algorithms` (a search of the adjacency index of the
  workspace). The first run (cold: compile, caches) is shown, then the median of ``--runs``.
  The alert grouping and storing of ``graphwatch run`` is not included (it is the same for both
  engines). With ``--jobs N`` (default 2) the whole library is also timed with N models at once,
  as ``graphwatch run`` runs them (its own scheduler; an engine per thread, kept across passes).
* **Neo4j** (``--neo4j``) — graphwatch's own server for the workspace
  (``graphwatch neo4j start -w WS --heap … --pagecache …``; ``graphwatch neo4j push -w WS`` unless
  the database already holds the current graph), then the **same Cypher text, unchanged**, sent
  by the official ``neo4j`` Python driver with the same bound parameters (through
  ``graphwatch.neo4j.values.to_neo4j``: decimals as floats, tuples as lists), every record
  fetched. One warm-up run, then the median of ``--runs`` (a warm-up over 30 s is followed by a
  single timed run). Each query is capped by a transaction timeout (``--timeout``, default 120 s);
  a query cancelled by it is recorded as a timeout. Indexes a Neo4j user would create besides
  the push's unique constraints on ``nid`` per label and ``rid`` per relationship type:
  ``INDEXES`` below (the node keys of every label, Person.id_number, Company.uscc,
  Contract.amount / signed / award_method, PoliceCase.cause), built and awaited before timing.
  An algorithm model has no Cypher: it is not run on Neo4j. The server is stopped at the end.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_library.py benchmarks/work/ws_1000000 [--neo4j] [--runs 3] [--record]

``--record`` replaces this benchmark's block of ``benchmarks/RESULTS.md``. Goal (issue 15):
the whole library ≤ 5 s at 5 M persons on DuckDB on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402
from common import capped, commit, timed  # noqa: E402
RESULTS = HERE / "RESULTS.md"
INDEXES = [("Person", "id_number"), ("Company", "uscc"), ("Contract", "amount"), ("Contract", "signed"),
           ("Contract", "award_method"), ("PoliceCase", "cause")]       # + (label, "key") for every label


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    return subprocess.run([sys.executable, "-m", "graphwatch.cli", *args], env=env, capture_output=True,
                          text=True, check=check)


def machine() -> str:
    return f"{common.machine()} (GRAPHWATCH_MEMORY_LIMIT {os.environ.get('GRAPHWATCH_MEMORY_LIMIT', 'default 3GB')})"


def graph_info(ws_path: Path, library) -> tuple[dict, dict]:
    """For ``--skip-duckdb``: the graph's size, and every model "not timed" on DuckDB (or why it
    cannot run: no data, an algorithm) so that Neo4j runs the Cypher ones."""
    from graphwatch.alerts.runner import missing_data
    from graphwatch.store import Workspace

    with Workspace(ws_path, read_only=True) as ws:
        con = ws.con
        info = {"persons": con.execute("SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchone()[0],
                "nodes": con.execute("SELECT count(*) FROM node").fetchone()[0],
                "rels": con.execute("SELECT count(*) FROM rel").fetchone()[0]}
        counts = ws.counts()
    out = {}
    for p in library.values():
        gone = missing_data(p, counts)
        out[p.id] = ({"status": "insufficient data: no " + ", ".join(gone)} if gone
                     else {"status": "not timed", "kind": p.kind})
    return out, info


def bench_duckdb(ws_path: Path, library, runs: int, timeout: float, log) -> tuple[dict, dict]:
    from graphwatch.alerts.algorithms import ALGORITHMS
    from graphwatch.alerts.runner import missing_data
    from graphwatch.engines.duckdb import DuckDBEngine

    out, info = {}, {}
    with DuckDBEngine(ws_path) as eng:
        con = eng.ws.con
        info["persons"] = con.execute("SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchone()[0]
        info["nodes"] = con.execute("SELECT count(*) FROM node").fetchone()[0]
        info["rels"] = con.execute("SELECT count(*) FROM rel").fetchone()[0]
        counts = eng.ws.counts()
        for p in library.values():
            params = p.bind()
            gone = missing_data(p, counts)
            if gone:
                out[p.id] = {"status": "insufficient data: no " + ", ".join(gone)}
                continue
            if p.kind == "algorithm":
                fn = lambda p=p, params=params: ALGORITHMS[p.function].run(eng.ws, **params)  # noqa: E731
            else:
                # the records a previous run read are not kept (the compiled query is, as Neo4j keeps its plan)
                fn = lambda p=p, params=params: (eng.forget_records(), eng.run(p.cypher, params))[1]  # noqa: E731
            first, res = capped(con, timeout, fn)
            if res is None:
                out[p.id] = {"status": "timeout", "kind": p.kind}
                log(f"  duckdb {p.id}: timeout after {timeout:.0f} s")
                continue
            times = [capped(con, timeout, fn)[0] for _ in range(runs if first <= 30 else 1)]
            out[p.id] = {"status": "ok", "kind": p.kind, "rows": len(res.rows), "first": first,
                         "median": statistics.median(times), "runs": len(times)}
            log(f"  duckdb {p.id}: {len(res.rows)} rows, first {first:.3f} s, median {out[p.id]['median']:.3f} s")
    return out, info


def bench_at_once(ws_path: Path, library, jobs: int, runs: int, last: dict, log) -> list[float]:
    """The whole library's queries (as :func:`bench_duckdb` runs each, records not kept), ``jobs``
    models at a time, as ``graphwatch run --jobs`` runs them (:func:`graphwatch.alerts.runner.
    _found_at_once`: each thread on its own connection, the longest first by ``last``, seconds
    per model): the wall seconds of ``runs`` passes after a warm-up."""
    import threading

    from graphwatch.alerts.algorithms import ALGORITHMS
    from graphwatch.alerts.runner import _found_at_once, missing_data
    from graphwatch.engines.duckdb import DuckDBEngine
    from graphwatch.store import Workspace

    engines: dict = {}      # one per thread slot, kept across passes (as bench_duckdb keeps its engine)

    def find(p, values, eng, ws, counts, same_as):
        name = threading.current_thread().name
        if name not in engines:
            engines[name] = DuckDBEngine(main.reader())
        eng = engines[name]
        if p.kind == "algorithm":
            return len(ALGORITHMS[p.function].run(eng.ws, **values).rows)
        eng.forget_records()
        return len(eng.run(p.cypher, values).rows)

    with Workspace(ws_path, read_only=True) as main:
        counts = main.counts()
        chosen = [p for p in library.values() if not missing_data(p, counts)]
        bound = {p.id: p.bind() for p in chosen}
        walls = []
        for rep in range(runs + 1):
            t = time.perf_counter()
            rows = list(_found_at_once(chosen, bound, main, counts, {}, jobs, lambda p: None, last, find=find))
            walls.append(time.perf_counter() - t)
            log(f"  duckdb, {jobs} models at once: {walls[-1]:.2f} s ({sum(rows)} rows)")
        for eng in engines.values():
            eng.ws.close()
    return walls[1:]


def neo4j_up(ws_path: Path, heap: str, pagecache: int, log) -> dict:
    """Start the workspace's server and push the workspace unless the database holds it already."""
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import require_pushed
    from graphwatch.exc import EngineError

    cli("neo4j", "stop", "-w", str(ws_path), check=False)
    t, r = timed(lambda: cli("neo4j", "start", "-w", str(ws_path), "--heap", heap, "--pagecache", str(pagecache)))
    log(f"  neo4j started in {t:.1f} s: {r.stdout.strip()[-200:]}")
    target = Neo4jTarget.resolve(ws_path)
    driver = target.driver()
    try:
        try:
            require_pushed(ws_path, target, driver)
            return {"push": "already pushed (current graph)", "target": target}
        except EngineError as exc:
            log(f"  pushing: {exc}")
    finally:
        driver.close()
    t, r = timed(lambda: cli("neo4j", "push", "-w", str(ws_path)))
    log(f"  pushed in {t:.0f} s")
    return {"push": f"{t:.0f} s (`graphwatch neo4j push`)", "target": target}


def bench_neo4j(target, library, duck: dict, runs: int, timeout: float, log) -> dict:
    import neo4j

    from graphwatch.neo4j.values import to_neo4j

    auth = (target.user, target.password) if target.password else None
    out = {}
    with neo4j.GraphDatabase.driver(target.uri, auth=auth) as driver:
        with driver.session(database=target.database) as s:
            labels = [r[0] for r in s.run("CALL db.labels()")]
            t0 = time.perf_counter()
            for label, prop in [(lab, "key") for lab in sorted(labels)] + INDEXES:
                if label in labels:
                    s.run(f"CREATE INDEX `bench_{label}_{prop}` IF NOT EXISTS FOR (n:`{label}`) ON (n.`{prop}`)").consume()
            s.run("CALL db.awaitIndexes(1800)").consume()
            out["_indexes_s"] = time.perf_counter() - t0
            log(f"  indexes ready in {out['_indexes_s']:.0f} s")
        for p in library.values():
            d = duck.get(p.id, {})
            if p.kind == "algorithm" or d.get("status") not in ("ok", "timeout", "not timed"):
                out[p.id] = {"status": "not run (an algorithm: no Cypher)" if p.kind == "algorithm"
                             else d.get("status", "not run")}
                continue
            q = neo4j.Query(p.cypher, timeout=timeout)
            params = to_neo4j(p.bind())

            def run():
                with driver.session(database=target.database) as s:
                    return list(s.run(q, params))
            try:
                warm, rows = timed(run)
                times = [timed(run)[0] for _ in range(runs if warm <= 30 else 1)]
                out[p.id] = {"status": "ok", "rows": len(rows), "warm": warm, "median": statistics.median(times)}
                log(f"  neo4j {p.id}: {len(rows)} rows, warm-up {warm:.3f} s, median {out[p.id]['median']:.3f} s")
            except neo4j.exceptions.Neo4jError as exc:
                code = exc.code or ""
                if "TransactionTimedOut" in code or "Terminated" in code or "timeout" in str(exc).lower():
                    out[p.id] = {"status": "timeout"}
                    log(f"  neo4j {p.id}: timeout after {timeout:.0f} s")
                else:
                    out[p.id] = {"status": f"error {code}"}
                    log(f"  neo4j {p.id}: error {code}: {str(exc)[:200]}")
    return out


def table(name: str, info: dict, duck: dict, neo: dict | None, timeout: float) -> str:
    """Per model: rows and times on both engines; a query stopped by the cap counts as the cap in the
    sums, which are then lower bounds (≥)."""
    lines = [f"\n### {name} — {info['persons']:,} persons, {info['nodes']:,} nodes, {info['rels']:,} relationships\n",
             "| model | kind | rows | DuckDB first run (s) | DuckDB warm, median (s) | Neo4j rows | Neo4j warm, median (s) "
             "| Neo4j / DuckDB (warm) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    cap = f"timeout (> {timeout:.0f})"
    sums = {"d_first": 0.0, "d": 0.0, "d_cy": 0.0, "n": 0.0}
    capped_d = capped_n = False
    for model, d in duck.items():
        if d.get("status") == "not timed":      # --skip-duckdb: the Neo4j column only
            n = (neo or {}).get(model, {"status": "not measured"})
            nr, nt = (f"{n['rows']:,}", f"{n['median']:.3f}") if n["status"] == "ok" else ("—", n["status"])
            if n["status"] in ("ok", "timeout"):
                sums["n"] += n["median"] if n["status"] == "ok" else timeout
                capped_n = capped_n or n["status"] == "timeout"
            lines.append(f"| {model} | {d['kind']} | | not timed | not timed | {nr} | "
                         f"{cap if n['status'] == 'timeout' else nt} | — |")
            continue
        if d.get("status") not in ("ok", "timeout"):
            lines.append(f"| {model} | | {d['status']} | | | | | |")
            continue
        if d["status"] == "ok":
            dr, df, dm, dsec = f"{d['rows']:,}", f"{d['first']:.3f}", f"{d['median']:.3f}", d["median"]
            sums["d_first"] += d["first"]
        else:
            dr, df, dm, dsec, capped_d = "—", cap, cap, timeout, True
            sums["d_first"] += timeout
        sums["d"] += dsec
        n = (neo or {}).get(model)
        if neo is None:
            nr, nt, ratio = "not measured", "not measured", "—"
        elif n["status"] in ("ok", "timeout"):
            sums["d_cy"] += dsec
            if n["status"] == "ok":
                sums["n"] += n["median"]
                same = d["status"] != "ok" or n["rows"] == d["rows"]
                nr, nt = f"{n['rows']:,}" + ("" if same else " (**differs**)"), f"{n['median']:.3f}"
                ratio = f"{n['median'] / dsec:.2g}×" if d["status"] == "ok" else f"< {n['median'] / dsec:.2g}×"
            else:
                sums["n"] += timeout
                capped_n = True
                nr, nt = "—", cap
                ratio = f"> {timeout / dsec:.2g}×" if d["status"] == "ok" else "both capped"
        else:
            nr, nt, ratio = "—", n["status"], "—"
        lines.append(f"| {model} | {d['kind']} | {dr} | {df} | {dm} | {nr} | {nt} | {ratio} |")
    ge_d = "≥ " if capped_d else ""
    ge_n = "≥ " if capped_n else ""
    if all(d.get("status") == "not timed" for d in duck.values() if "kind" in d):   # --skip-duckdb
        lines.append(f"| **whole library** | | | not timed | not timed | | {ge_n}{sums['n']:.2f} (Cypher models) | — |")
        return "\n".join(lines)
    lines.append(f"| **whole library** | | | {ge_d}{sums['d_first']:.2f} | **{ge_d}{sums['d']:.2f}** | | "
                 + (f"{ge_n}{sums['n']:.2f} (Cypher models; DuckDB on them: {ge_d}{sums['d_cy']:.2f})"
                    if neo is not None else "not measured")
                 + " | " + (f"{'≤ ' if capped_d and not capped_n else '≥ ' if capped_n and not capped_d else ''}"
                            f"{sums['n'] / sums['d_cy']:.2g}× (Cypher models{', caps counted as the cap' if capped_d or capped_n else ''})"
                            if neo is not None and sums["d_cy"] else "—")
                 + " |")
    return "\n".join(lines)


def record(text: str, block: str = "") -> None:
    """Replace the block (``library`` or ``library-<block>``, e.g. a 5 M run beside the 1 M one)."""
    common.record_block(f"library-{block}" if block else "library", "bench_library.py", text)


def main(argv=None) -> int:
    from graphwatch.alerts.library import load_library

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspaces", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--neo4j", action="store_true", help="also time the raw Cypher on graphwatch's Neo4j server")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="cap per query (s): a Neo4j transaction timeout, a DuckDB interrupt")
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", type=int, default=2048, help="Neo4j page cache, MB")
    ap.add_argument("--record", action="store_true", help="replace this benchmark's block of benchmarks/RESULTS.md")
    ap.add_argument("--block", default="", help="with --record: the block library-BLOCK instead of library "
                                                "(e.g. 5m, so a 5 M run does not replace the 1 M one)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="also time the whole library with this many models at once, as `graphwatch run` "
                         "runs them (1: not)")
    ap.add_argument("--skip-duckdb", action="store_true",
                    help="time Neo4j only (the DuckDB column is left 'not timed')")
    a = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    started, where, rev = dt.datetime.now().strftime("%Y-%m-%d %H:%M UTC"), machine(), commit()
    load_start = os.getloadavg()[0]
    library = load_library()
    sections = []
    for ws in a.workspaces:
        log(f"== {ws}")
        duck, info = graph_info(ws, library) if a.skip_duckdb else bench_duckdb(ws, library, a.runs, a.timeout, log)
        neo, push = None, None
        if a.neo4j:
            try:
                up = neo4j_up(ws, a.heap, a.pagecache, log)
                push = up["push"]
                neo = bench_neo4j(up["target"], library, duck, a.runs, a.timeout, log)
            finally:
                cli("neo4j", "stop", "-w", str(ws), check=False)
                log("  neo4j stopped")
        text = table(ws.name, info, duck, neo, a.timeout)
        if not a.skip_duckdb and a.jobs > 1:
            walls = bench_at_once(ws, library, a.jobs, a.runs,
                                  {m: d["median"] for m, d in duck.items() if d.get("status") == "ok"}, log)
            text += (f"\n| **whole library, {a.jobs} models at once** (wall; as `graphwatch run` runs them) | | | | "
                     f"**{statistics.median(walls):.2f}** ({min(walls):.2f}–{max(walls):.2f}) | | | |")
        if neo is not None:
            text += (f"\n\nNeo4j: push {push}; the user's indexes ({', '.join(f'{l}.{p}' for l, p in INDEXES)} and "
                     f"`key` on every label) built in {neo['_indexes_s']:.0f} s before timing.")
        sections.append(text)
    neo_line = ("Neo4j Community 5.26 (graphwatch's server, same machine, heap "
                f"{a.heap}, page cache {a.pagecache} MB), official Python driver, same Cypher text and parameters, "
                f"warm-up then median of {a.runs} (one run after a warm-up over 30 s), each query capped at "
                f"{a.timeout:.0f} s (transaction timeout)." if a.neo4j else "Neo4j not measured in this run.")
    text = (f"## Model library, time per model — {started} (`benchmarks/bench_library.py`)\n\n"
            f"Machine: {where}; load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end "
            f"(shared machine, other work not stopped). Commit {rev}. "
            + ("DuckDB not timed in this run (`--skip-duckdb`). " if a.skip_duckdb else "")
            + f"DuckDB: first run, then median of {a.runs}; "
            f"Cypher models through the DuckDB engine's `run` (compile, execute, rows to Python), the algorithm "
            f"model through `graphwatch.alerts.algorithms` (a search of the adjacency index). {neo_line} Default parameters of every "
            f"model. Goal (issue 15): the whole library ≤ 5 s at 5 M persons on DuckDB.\n"
            + "\n".join(sections))
    print(text)
    if a.record:
        record(text, a.block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
