"""Benchmark: graph analytics and evidence diagrams on generated counties, with references.

For each workspace (loaded by ``bench_load.py`` or ``graphwatch load``; kept in
``benchmarks/work/``):

- conversion: the workspace → cached adjacency arrays (cache cleared first), reading them back
  from the cache in a fresh process, and the kinship + company projection → igraph;
- a 4-hop path query (every shortest path) between persons: pairs at a known distance of 3–4
  hops and random pairs (mostly no path within 4 hops: both 2-hop balls are explored), over
  all types and over kinship + company types;
- a 2-hop neighbourhood of random persons (limit 500, as the CLI; hubs walked through unless
  ``--max-degree``);
- Leiden over kinship + company types (seed 0, until stable);
- an evidence diagram (SVG and PNG) of an alert, warm and as a fresh ``graphwatch export`` process.

References in the same run: the 2-hop neighbourhood as a DuckDB SQL self-join, and the
Cypher engine's ``shortestPath`` for the same pairs (capped). Goals (issue 17, 5 M persons on
2 cores): conversion ≤ 20 s, path ≤ 200 ms, 2-hop ≤ 100 ms, Leiden ≤ 60 s, diagram ≤ 1 s.

Usage::

    .venv/bin/python benchmarks/bench_analytics.py benchmarks/work/ws_1000000 benchmarks/work/ws_5000000 [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from common import commit, record_block, timed  # noqa: E402

HERE = Path(__file__).resolve().parent
KINSHIP = ["SPOUSE_OF", "PARENT_OF", "SIBLING_OF", "IN_LAW_OF", "GRANDPARENT_OF"]
COMPANY = ["LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF"]


class Peak(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.proc, self.peak, self.stop = psutil.Process(), 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self.stop.wait(0.05)


def cpu_timed(fn):
    """(wall seconds, CPU seconds of this process — every thread, DuckDB's too — , result): on a
    shared machine the CPU time says what the work costs, the wall time what it took that day."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def ms(values) -> str:
    values = sorted(values)
    if not values:
        return "—"
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"{statistics.median(values) * 1000:.1f} / {p90 * 1000:.1f}"


def persons_of(g) -> np.ndarray:
    bit = np.uint64(1 << g.labels.index("Person"))
    return np.flatnonzero((g.label_bits & bit) != 0)


def pairs_at_distance(g, rng, n: int, types=None) -> list[tuple[int, int, int]]:
    """(a, b, d): persons a and b whose distance is 3 or 4 hops (found by walking from a)."""
    from graphwatch.analytics import neighbours

    out, persons = [], persons_of(g)
    person_set = set(persons.tolist())
    tries = 0
    while len(out) < n and tries < 40 * n:
        tries += 1
        a = int(rng.choice(persons))
        df = neighbours(g, a, hops=4, types=types, limit=20000, max_degree=200)
        far = df[(df.hops >= 3) & df.vertex.isin(person_set)]
        if len(far):
            row = far.iloc[int(rng.integers(len(far)))]
            out.append((a, int(row.vertex), int(row.hops)))
    return out


def bench(ws: Path, runs: int, seed: int, cypher_cap: float) -> dict:
    from graphwatch.analytics import clear_cache, communities, load_graph, neighbours, paths, to_igraph
    from graphwatch.store import Workspace

    r: dict = {"workspace": ws.name}
    with Workspace(ws, read_only=True) as w:
        r["persons"] = w.con.execute("SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchone()[0]
        tot = w.totals()
        r["nodes"], r["rels"] = tot["nodes"], tot["relationships"]
    clear_cache(ws)
    peak = Peak()
    peak.start()
    r["load_start"] = os.getloadavg()[0]
    r["convert_s"], r["convert_cpu_s"], g = cpu_timed(lambda: load_graph(ws))
    peak.stop.set()
    r["convert_peak_gb"] = peak.peak / 1e9
    code = ("import time,sys; t=time.perf_counter(); c=time.process_time(); from graphwatch.analytics import load_graph; "
            f"g=load_graph({str(ws)!r}); print(time.perf_counter()-t, time.process_time()-c)")
    r["cached_s"], r["cached_cpu_s"] = map(float, subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)}).stdout.split()[-2:])
    r["igraph_s"], r["igraph_cpu_s"], proj = cpu_timed(lambda: to_igraph(g, types=KINSHIP + COMPANY))
    r["proj_edges"] = proj.ecount()
    del proj
    rng = np.random.default_rng(seed)
    persons = persons_of(g)
    # paths
    near_all = pairs_at_distance(g, rng, runs)
    near_kc = pairs_at_distance(g, rng, runs, types=KINSHIP + COMPANY)
    rand = [tuple(int(x) for x in rng.choice(persons, 2, replace=False)) for _ in range(runs)]
    for name, pairs, types in (("path_near_all", near_all, None), ("path_near_kc", near_kc, KINSHIP + COMPANY),
                               ("path_random_all", [(a, b, 0) for a, b in rand], None),
                               ("path_random_kc", [(a, b, 0) for a, b in rand], KINSHIP + COMPANY)):
        paths(g, pairs[0][0], pairs[0][1], max_hops=4, types=types, all_shortest=True)   # warm
        times, cpus, found = [], [], 0
        for a, b, _ in pairs:
            t, c, df = cpu_timed(lambda: paths(g, a, b, max_hops=4, types=types, all_shortest=True))
            times.append(t)
            cpus.append(c)
            found += not df.empty
        r[name] = ms(times)
        r[name + "_cpu"] = ms(cpus)
        r[name + "_found"] = f"{found}/{len(pairs)}"
    # 2-hop neighbourhoods
    starts = [int(x) for x in rng.choice(persons, runs, replace=False)]
    neighbours(g, starts[0], hops=2)
    for name, kw in (("nbh2", {}), ("nbh2_hubs", {"max_degree": 1000})):
        times, cpus, sizes = [], [], []
        for s in starts:
            t, c, df = cpu_timed(lambda: neighbours(g, s, hops=2, limit=500, **kw))
            times.append(t)
            cpus.append(c)
            sizes.append(len(df))
        r[name] = ms(times)
        r[name + "_cpu"] = ms(cpus)
        r[name + "_size"] = int(statistics.median(sizes))
    # reference: the same 2-hop set by SQL on the workspace
    with Workspace(ws, read_only=True) as w:
        # equi-joins only: a join ON src = v OR dst = v is a nested loop (over 10 minutes for five
        # of these at 5 M persons on 2026-12-06)
        sql = """WITH a AS (SELECT dst AS v FROM rel WHERE src = $n UNION ALL SELECT src FROM rel WHERE dst = $n),
                 b AS (SELECT r.dst AS v FROM rel r JOIN a ON r.src = a.v
                       UNION ALL SELECT r.src FROM rel r JOIN a ON r.dst = a.v)
                 SELECT count(*) FROM (SELECT v FROM a UNION SELECT v FROM b)"""
        times = []
        for s in starts[:max(3, runs // 4)]:
            t, _ = timed(lambda: w.con.execute(sql, {"n": int(g.nid[s])}).fetchone())
            times.append(t)
        r["nbh2_sql"] = ms(times)
    # reference: the Cypher engine's shortestPath for a few of the same pairs, in a process of
    # its own that is stopped at the cap (one pair took 319 s at 1 M on 2026-12-06)
    q = ("MATCH (a) WHERE id(a) = $a MATCH (b) WHERE id(b) = $b "
         "MATCH p = shortestPath((a)-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF|GRANDPARENT_OF|LEGAL_REP_OF|"
         "SHAREHOLDER_OF|EXECUTIVE_OF*..4]-(b)) RETURN length(p)")
    r["path_cypher_kc"] = cypher_reference(ws, q, [(int(g.nid[a]), int(g.nid[b])) for a, b, _ in near_kc[:3]],
                                           cap=cypher_cap)
    # Leiden over kinship + company types
    peak = Peak()
    peak.start()
    r["leiden_s"], r["leiden_cpu_s"], df = cpu_timed(lambda: communities(g, types=KINSHIP + COMPANY, seed=0, min_size=2))
    peak.stop.set()
    r["leiden_peak_gb"] = peak.peak / 1e9
    r["leiden_communities"] = int(df["community"].nunique()) if len(df) else 0
    r["modularity"] = df.attrs.get("modularity", 0.0)
    r.update(diagram(ws))
    r["load_end"] = os.getloadavg()[0]
    import resource

    r["max_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return r


def cypher_reference(ws: Path, query: str, pairs: list[tuple[int, int]], *, cap: float) -> str:
    """Median / p90 ms of the DuckDB engine running ``query`` for each pair, in a fresh process
    stopped after ``cap`` seconds (the queries finished by then are reported)."""
    import json

    code = ("import json, sys, time\n"
            "from graphwatch.engines.duckdb import DuckDBEngine\n"
            "with DuckDBEngine(sys.argv[3]) as eng:\n"
            "    for a, b in json.loads(sys.argv[2]):\n"
            "        t = time.perf_counter(); eng.run(sys.argv[1], {'a': a, 'b': b})\n"
            "        print('took', time.perf_counter() - t, flush=True)\n")
    cmd = [sys.executable, "-c", code, query, json.dumps(pairs), str(ws)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=cap, env=env)
        out, note = done.stdout, "" if done.returncode == 0 else f" (failed: {done.stderr.strip().splitlines()[-1:]})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        note = f" (stopped at the {cap:.0f} s cap)"
    times = [float(line.split()[1]) for line in out.splitlines() if line.startswith("took ")]   # not progress bars
    return f"{ms(times) if times else '—'} ({len(times)} of {len(pairs)} pairs){note}"


def diagram(ws: Path) -> dict:
    from graphwatch.alerts.runner import run_models
    from graphwatch.alerts.store import AlertStore
    from graphwatch.export import evidence, export

    out = {}
    with AlertStore(ws) as s:
        have = s.list(model="own_village_project", limit=1)
    if not have:
        out["run_s"], _ = timed(lambda: run_models(ws, ["own_village_project"]))
    with AlertStore(ws) as s:
        alerts = s.list(model="own_village_project")
    if not alerts:
        return {"diagram": "no alert"}
    a = max(alerts, key=lambda a: len(a["evidence"]["nodes"]))
    tmp = HERE / "work" / "diagram"
    tmp.mkdir(parents=True, exist_ok=True)
    export(ws, evidence.from_alert(ws, a["id"]), "svg", tmp / "warm.svg", who="bench")
    for fmt in ("svg", "png"):
        runs = [cpu_timed(lambda: export(ws, evidence.from_alert(ws, a["id"]), fmt, tmp / f"a.{fmt}", who="bench"))
                for _ in range(3)]
        out[f"diagram_{fmt}"] = ms([w for w, _, _ in runs])
        out[f"diagram_{fmt}_cpu"] = ms([c for _, c, _ in runs])    # Graphviz's own process not counted
    cmd = [sys.executable, "-m", "graphwatch.cli", "export", a["id"], "--format", "png", "-o", str(tmp / "cli.png"),
           "-w", str(ws), "--who", "bench"]
    t, _ = timed(lambda: subprocess.run(cmd, check=True, capture_output=True,
                                        env={**os.environ, "PYTHONPATH": str(HERE.parent)}))
    out["diagram_cli_s"] = t
    out["diagram_nodes"] = len(a["evidence"]["nodes"])
    return out


def table(results: list[dict]) -> str:
    rows = [
        ("persons · nodes · relationships", lambda r: f"{r['persons']:,} · {r['nodes']:,} · {r['rels']:,}", ""),
        ("load average (1 min) at the start → end of this column", lambda r: f"{r['load_start']:.1f} → {r['load_end']:.1f}", ""),
        ("workspace → adjacency arrays (cold, s: wall, CPU)", lambda r: f"{r['convert_s']:.1f}, CPU {r['convert_cpu_s']:.1f} (peak {r['convert_peak_gb']:.1f} GB)", "≤ 20 s"),
        ("arrays from the cache, fresh process (s: wall, CPU)", lambda r: f"{r['cached_s']:.2f}, CPU {r['cached_cpu_s']:.2f}", ""),
        ("kinship + company projection → igraph (s: wall, CPU)", lambda r: f"{r['igraph_s']:.1f}, CPU {r['igraph_cpu_s']:.1f} ({r['proj_edges']:,} edges)", ""),
        ("4-hop paths, pairs 3–4 hops apart, all types (ms, median / p90; CPU median / p90)", lambda r: f"{r['path_near_all']}; CPU {r['path_near_all_cpu']} ({r['path_near_all_found']} found)", "≤ 200 ms"),
        ("4-hop paths, pairs 3–4 hops apart, kinship + company", lambda r: f"{r['path_near_kc']}; CPU {r['path_near_kc_cpu']} ({r['path_near_kc_found']} found)", "≤ 200 ms"),
        ("4-hop paths, random pairs, all types", lambda r: f"{r['path_random_all']}; CPU {r['path_random_all_cpu']} ({r['path_random_all_found']} found)", "≤ 200 ms"),
        ("4-hop paths, random pairs, kinship + company", lambda r: f"{r['path_random_kc']}; CPU {r['path_random_kc_cpu']} ({r['path_random_kc_found']} found)", "≤ 200 ms"),
        ("reference: Cypher shortestPath on DuckDB, kinship + company (ms)", lambda r: r["path_cypher_kc"], ""),
        ("2-hop neighbourhood, limit 500 (ms; CPU)", lambda r: f"{r['nbh2']}; CPU {r['nbh2_cpu']} (median {r['nbh2_size']} nodes)", "≤ 100 ms"),
        ("2-hop neighbourhood, limit 500, --max-degree 1000 (ms; CPU)", lambda r: f"{r['nbh2_hubs']}; CPU {r['nbh2_hubs_cpu']} (median {r['nbh2_hubs_size']} nodes)", "≤ 100 ms"),
        ("reference: 2-hop set by a DuckDB SQL self-join (ms)", lambda r: r["nbh2_sql"], ""),
        ("Leiden communities, kinship + company, seed 0, until stable (s: wall, CPU)", lambda r: f"{r['leiden_s']:.1f}, CPU {r['leiden_cpu_s']:.1f} ({r['leiden_communities']:,} communities, Q {r['modularity']:.3f}, peak {r['leiden_peak_gb']:.1f} GB)", "≤ 60 s"),
        ("evidence diagram of an alert, SVG, warm (ms; CPU of this process)", lambda r: f"{r.get('diagram_svg', '—')}; CPU {r.get('diagram_svg_cpu', '—')} ({r.get('diagram_nodes', '?')} nodes)", "≤ 1 s"),
        ("evidence diagram of an alert, PNG, warm (ms; CPU of this process)", lambda r: f"{r.get('diagram_png', '—')}; CPU {r.get('diagram_png_cpu', '—')}", "≤ 1 s"),
        ("`graphwatch export ALERT --format png`, fresh process (s)", lambda r: f"{r.get('diagram_cli_s', 0):.2f}", ""),
        ("own_village_project run first, for an alert to draw (s)", lambda r: f"{r['run_s']:.1f}" if "run_s" in r else "(alerts there)", ""),
        ("peak resident memory of the benchmark process (GB)", lambda r: f"{r['max_rss_gb']:.1f}", ""),
    ]
    head = "| measure | " + " | ".join(r["workspace"] for r in results) + " | goal (5 M) |"
    out = [head, "|---|" + "---:|" * len(results) + "---|"]
    for name, fmt, goal in rows:
        out.append(f"| {name} | " + " | ".join(fmt(r) for r in results) + f" | {goal} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspaces", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cypher-cap", type=float, default=180.0,
                    help="seconds the Cypher shortestPath reference may take in all (default 180)")
    ap.add_argument("--record", action="store_true", help="write the block in benchmarks/RESULTS.md")
    args = ap.parse_args()
    load_start, rev = os.getloadavg()[0], commit()
    results = []
    for ws in args.workspaces:
        print(f"== {ws}", flush=True)
        r = bench(ws, args.runs, args.seed, args.cypher_cap)
        print(r, flush=True)
        results.append(r)
    load = os.getloadavg()[0]
    import duckdb
    import igraph

    text = (f"## Graph analytics and evidence diagrams — {dt.date.today().isoformat()} (`benchmarks/bench_analytics.py`)\n\n"
            f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}, "
            f"DuckDB {duckdb.__version__}, igraph {igraph.__version__}; load average {load_start:.1f} at the start, "
            f"{load:.1f} at the end (other work was not stopped). Commit {rev}. {args.runs} queries per row, median / p90.\n\n" + table(results))
    print(text)
    if args.record:
        record_block("analytics", "bench_analytics.py", text)


if __name__ == "__main__":
    main()
