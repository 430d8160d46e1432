"""Benchmark: the own-village pattern compiled from Cypher vs hand-written DuckDB SQL vs Ladybug.

For each county size (persons) given on the command line:

1. generate the synthetic county and load it into a workspace, if not there yet
   (``benchmarks/work/county_N``, ``benchmarks/work/ws_N``);
2. in ONE process on the workspace (read-only, the workspace's own connection and settings:
   ``GRAPHWATCH_MEMORY_LIMIT``, default 3 GB): the hand-written SQL (``HAND_SQL``), the same
   pattern as one flat join (``FLAT_SQL``, for reference: what the planner makes of a naive
   join), and the Cypher (``CYPHER``) through ``graphwatch.engines.duckdb.DuckDBEngine`` —
   one warm-up each, then ``--runs`` timed runs interleaved (hand, flat, compiled, hand, …);
   times are medians, every run fetches all rows into Python;
3. the same Cypher text on Ladybug 0.22 (the maintained Kùzu fork) holding the same graph,
   built by ``ladybug_graph.py`` (Parquet export from the workspace + ``COPY FROM``; how
   multi-label nodes map to Ladybug's one-table-per-node model is described there — the
   Cypher runs unchanged). Load and query each run in their own process;
4. peak memory: each engine's query also runs alone in a fresh process (warm-up + one run)
   and the peak RSS of that process tree is recorded (psutil, sampled every 20 ms), so the
   three figures are comparable; Ladybug's load is measured the same way;
5. every engine must return the same multiset of rows — the six RETURN columns plus, per
   row, the ids of the 6 nodes and 6 relationships it was built from (the compiled engine's
   ``Result.bindings``; the hand SQL returns them as columns; Ladybug through a variant of
   the Cypher that names every relationship and returns ``nid``/``rid``). Any difference
   stops the run with the rows that differ. The hand SQL's rows are also checked against
   the county's ``ground_truth.csv`` (every planted own_village_project violation found, no
   near miss).

Ladybug uses walk semantics (a relationship may repeat within a MATCH) where Cypher/Neo4j
use trail semantics; the pattern's relationship type sets are disjoint, so no row can use a
relationship twice and the semantics coincide here.

Usage::

    .venv/bin/python benchmarks/bench_cypher.py                 # 1 M and 5 M persons
    .venv/bin/python benchmarks/bench_cypher.py 100000 --runs 3
    .venv/bin/python benchmarks/bench_cypher.py --record        # also append to RESULTS.md

Needs ``pip install -e '.[bench]'`` (Ladybug). When the compiled Cypher fails, its column
says why ("engine failed: …") instead of a time.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_load import PY, RESULTS, WORK, machine, run  # noqa: E402

from graphwatch.synth.spec import GROUND_TRUTH  # noqa: E402

CYPHER = """\
MATCH (o:VillageCadre)-[s:SERVES_IN]->(v:Village),
      (o)-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF]-(r:Person),
      (r)-[:LEGAL_REP_OF|SHAREHOLDER_OF]->(c:Company)<-[:AWARDED_TO]-(ct:Contract)-[:FOR_PROJECT]->(p:Project)-[:LOCATED_IN]->(v)
RETURN o.name AS official, r.name AS relative, c.name AS company, ct.contract_no AS contract, p.name AS project, v.name AS village"""

# the same pattern with every relationship named and the ids returned (Ladybug has no bindings)
CYPHER_IDS = """\
MATCH (o:VillageCadre)-[s:SERVES_IN]->(v:Village),
      (o)-[k:SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF]-(r:Person),
      (r)-[h:LEGAL_REP_OF|SHAREHOLDER_OF]->(c:Company)<-[a:AWARDED_TO]-(ct:Contract)-[f:FOR_PROJECT]->(p:Project)-[l:LOCATED_IN]->(v)
RETURN o.name AS official, r.name AS relative, c.name AS company, ct.contract_no AS contract, p.name AS project, v.name AS village,
       o.nid, v.nid, r.nid, c.nid, ct.nid, p.nid, s.rid, k.rid, h.rid, a.rid, f.rid, l.rid"""

KIN = "('SPOUSE_OF', 'PARENT_OF', 'SIBLING_OF', 'IN_LAW_OF')"

# Hand-written: the two selective halves of the pattern — cadre → village + cadre → relative
# → company, and company ← contract → project → village — each built once (MATERIALIZED),
# then met on (company, village). Undirected kinship = both orientations (a self-loop once).
HAND_SQL = f"""\
WITH cadre_side AS MATERIALIZED (
    SELECT o.nid AS o_id, o.name AS official, v.nid AS v_id, v.name AS village, s.rid AS s_id,
           k.rid AS k_id, r.nid AS r_id, r.name AS relative, h.rid AS h_id, h.dst AS c_id
    FROM rel s
    JOIN node o ON o.nid = s.src AND list_contains(o.labels, 'VillageCadre')
    JOIN node v ON v.nid = s.dst AND list_contains(v.labels, 'Village')
    JOIN (SELECT rid, src AS a, dst AS b FROM rel WHERE type IN {KIN}
          UNION ALL
          SELECT rid, dst AS a, src AS b FROM rel WHERE type IN {KIN} AND src <> dst) k ON k.a = o.nid
    JOIN node r ON r.nid = k.b AND list_contains(r.labels, 'Person')
    JOIN rel h ON h.src = r.nid AND h.type IN ('LEGAL_REP_OF', 'SHAREHOLDER_OF')
    WHERE s.type = 'SERVES_IN'
), contract_side AS MATERIALIZED (
    SELECT a.dst AS c_id, a.rid AS a_id, ct.nid AS ct_id, ct.contract_no AS contract, f.rid AS f_id,
           p.nid AS p_id, p.name AS project, l.rid AS l_id, l.dst AS v_id
    FROM rel a
    JOIN node ct ON ct.nid = a.src AND list_contains(ct.labels, 'Contract')
    JOIN rel f ON f.src = ct.nid AND f.type = 'FOR_PROJECT'
    JOIN node p ON p.nid = f.dst AND list_contains(p.labels, 'Project')
    JOIN rel l ON l.src = p.nid AND l.type = 'LOCATED_IN'
    WHERE a.type = 'AWARDED_TO'
)
SELECT x.official, x.relative, c.name AS company, y.contract, y.project, x.village,
       x.o_id, x.v_id, x.r_id, c.nid AS c_id, y.ct_id, y.p_id,
       x.s_id, x.k_id, x.h_id, y.a_id, y.f_id, y.l_id
FROM cadre_side x
JOIN contract_side y ON y.c_id = x.c_id AND y.v_id = x.v_id
JOIN node c ON c.nid = x.c_id AND list_contains(c.labels, 'Company')"""

# The same pattern as one flat join, left to DuckDB's join-order optimiser (reference only).
FLAT_SQL = f"""\
SELECT o.name AS official, r.name AS relative, c.name AS company, ct.contract_no AS contract,
       p.name AS project, v.name AS village,
       o.nid, v.nid, r.nid, c.nid, ct.nid, p.nid, s.rid, k.rid, h.rid, a.rid, f.rid, l.rid
FROM rel s
JOIN node o  ON o.nid = s.src AND list_contains(o.labels, 'VillageCadre')
JOIN node v  ON v.nid = s.dst AND list_contains(v.labels, 'Village')
JOIN (SELECT rid, src AS a, dst AS b FROM rel WHERE type IN {KIN}
      UNION ALL
      SELECT rid, dst AS a, src AS b FROM rel WHERE type IN {KIN} AND src <> dst) k ON k.a = o.nid
JOIN node r  ON r.nid = k.b AND list_contains(r.labels, 'Person')
JOIN rel h   ON h.src = r.nid AND h.type IN ('LEGAL_REP_OF', 'SHAREHOLDER_OF')
JOIN node c  ON c.nid = h.dst AND list_contains(c.labels, 'Company')
JOIN rel a   ON a.dst = c.nid AND a.type = 'AWARDED_TO'
JOIN node ct ON ct.nid = a.src AND list_contains(ct.labels, 'Contract')
JOIN rel f   ON f.src = ct.nid AND f.type = 'FOR_PROJECT'
JOIN node p  ON p.nid = f.dst AND list_contains(p.labels, 'Project')
JOIN rel l   ON l.src = p.nid AND l.dst = v.nid AND l.type = 'LOCATED_IN'
WHERE s.type = 'SERVES_IN'"""

NODE_COLS = slice(6, 12)
REL_COLS = slice(12, 18)


def _parse_size(s: str) -> int:
    s = s.strip().upper().replace("IB", "B")
    for unit, mult in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if s.endswith(unit):
            return int(float(s[:-len(unit)]) * mult)
    return int(s)


def id_row(row) -> list:
    """The six values, then the sorted distinct node ids, then the sorted distinct rel ids:
    what every engine must agree on (the compiled engine's ``Binding`` has the same shape)."""
    row = list(row)
    return row[:6] + [sorted(set(row[NODE_COLS])), sorted(set(row[REL_COLS]))]


# ---------------------------------------------------------------------------------- children
# Each child runs in its own process and writes a JSON file; the parent samples its RSS.

def child_duckdb(ws_path: str, runs: int, out: str) -> None:
    """Same-run timings: hand SQL, flat SQL and the compiled Cypher, interleaved."""
    from graphwatch.store import Workspace

    ws = Workspace(ws_path, read_only=True)
    res: dict = {"engine_error": None}
    from graphwatch.engines.duckdb import DuckDBEngine
    engine = DuckDBEngine(ws)

    def hand():
        return ws.con.execute(HAND_SQL).fetchall()

    def flat():
        return ws.con.execute(FLAT_SQL).fetchall()

    def compiled():
        return engine.run(CYPHER, params={}, bindings=True)     # compared with the hand SQL's evidence

    jobs = {"hand": hand, "flat": flat}
    if engine is not None:
        jobs["compiled"] = compiled
    out_rows: dict = {}
    raw: dict = {}
    for name, fn in list(jobs.items()):      # warm-up, and the rows to compare
        try:
            raw[name] = r = fn()
        except Exception as exc:             # the engine is being written: report, do not crash
            if name != "compiled":
                raise
            res["engine_error"] = f"engine failed: {type(exc).__name__}: {exc}"
            del jobs[name]
            continue
        if name == "compiled":
            out_rows[name] = [[list(row), list(b.nodes), list(b.rels)] for row, b in zip(r.rows, r.bindings)]
            res["compiled_sql"] = r.statement
        else:
            out_rows[name] = [id_row(row) for row in r]
    times = {name: [] for name in jobs}
    for _ in range(runs):
        for name, fn in jobs.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    if "compiled" in jobs and hasattr(engine, "compile"):   # parse + compile alone, no DuckDB
        times["compile"] = []
        for _ in range(runs):
            t = time.perf_counter()
            engine.compile(CYPHER, {})
            times["compile"].append(time.perf_counter() - t)
    res["times"] = times
    res["rows"] = out_rows
    # ground truth: node keys of the hand rows
    ids = sorted({i for row in raw["hand"] for i in row[NODE_COLS]})
    keys = dict(ws.con.execute("SELECT nid, key FROM node WHERE nid IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall())
    res["hand_keys"] = sorted({tuple(keys[i] for i in row[NODE_COLS]) for row in raw["hand"]})
    res["nodes"], = ws.con.execute("SELECT count(*) FROM node").fetchone()
    res["rels"], = ws.con.execute("SELECT count(*) FROM rel").fetchone()
    import duckdb
    res["duckdb"] = duckdb.__version__
    Path(out).write_text(json.dumps(res, default=str), encoding="utf-8")


def child_memory(which: str, ws_path: str, out: str) -> None:
    """One engine alone: warm-up + one run, for a clean peak RSS."""
    from graphwatch.store import Workspace

    ws = Workspace(ws_path, read_only=True)
    if which == "hand":
        fn = lambda: ws.con.execute(HAND_SQL).fetchall()  # noqa: E731
    elif which == "flat":
        fn = lambda: ws.con.execute(FLAT_SQL).fetchall()  # noqa: E731
    else:
        from graphwatch.engines.duckdb import DuckDBEngine
        eng = DuckDBEngine(ws)
        fn = lambda: eng.run(CYPHER, params={})  # noqa: E731
    fn()
    t = time.perf_counter()
    fn()
    Path(out).write_text(json.dumps({"s": time.perf_counter() - t}), encoding="utf-8")


def child_ladybug_load(ws_path: str, lb_path: str, pq_dir: str, out: str) -> None:
    import ladybug_graph as lg

    t = time.perf_counter()
    plan = lg.export_parquet(Path(ws_path) / "graph.duckdb", Path(pq_dir),
                             memory_limit=os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB"))
    export_s = time.perf_counter() - t
    st = lg.load_ladybug(plan, Path(lb_path), buffer_pool_bytes=_parse_size(os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB")))
    st["export_s"] = export_s
    Path(out).write_text(json.dumps(st), encoding="utf-8")


def child_ladybug_query(lb_path: str, runs: int, out: str) -> None:
    import ladybug

    db = ladybug.Database(lb_path, read_only=True,
                          buffer_pool_size=_parse_size(os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB")))
    con = ladybug.Connection(db)
    res: dict = {"version": getattr(ladybug, "__version__", "?")}
    rows = con.execute(CYPHER).get_all()        # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(CYPHER).get_all()
        times.append(time.perf_counter() - t)
    res["times"] = times
    res["rows"] = [list(r) for r in rows]
    res["id_rows"] = [id_row(r) for r in con.execute(CYPHER_IDS).get_all()]
    Path(out).write_text(json.dumps(res, default=str), encoding="utf-8")


def child_ladybug_memory(lb_path: str, out: str) -> None:
    import ladybug

    db = ladybug.Database(lb_path, read_only=True,
                          buffer_pool_size=_parse_size(os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB")))
    con = ladybug.Connection(db)
    con.execute(CYPHER).get_all()
    t = time.perf_counter()
    con.execute(CYPHER).get_all()
    Path(out).write_text(json.dumps({"s": time.perf_counter() - t}), encoding="utf-8")


# ---------------------------------------------------------------------------------- parent

def in_child(*args: str) -> tuple[dict, float, float]:
    """Run this script as a child; returns (its JSON, seconds, peak RSS GB of its tree)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        secs, gb = run([PY, __file__, "--child", *args, out])
        return json.loads(Path(out).read_text(encoding="utf-8")), secs, gb
    finally:
        Path(out).unlink(missing_ok=True)


def ensure_workspace(persons: int, seed: int) -> tuple[Path, Path, dict]:
    county = WORK / f"county_{persons}"
    ws = WORK / f"ws_{persons}"
    prep: dict = {}
    gw = [PY, "-m", "graphwatch.cli"]
    if not (county / GROUND_TRUTH.name).exists():
        shutil.rmtree(county, ignore_errors=True)
        print(f"generating {county} …", flush=True)
        prep["generate_s"], prep["generate_gb"] = run(gw + ["generate", "--persons", str(persons), "--seed", str(seed),
                                                            "--out", str(county)])
    if not _loaded(ws):
        shutil.rmtree(ws, ignore_errors=True)
        print(f"loading {ws} …", flush=True)
        prep["load_s"], prep["load_gb"] = run(gw + ["load", str(county), "--workspace", str(ws)])
    return county, ws, prep


def _loaded(ws: Path) -> bool:
    import duckdb
    if not (ws / "workspace.json").exists() or not (ws / "graph.duckdb").exists():
        return False
    try:
        con = duckdb.connect(str(ws / "graph.duckdb"), read_only=True)
    except duckdb.Error as exc:
        raise SystemExit(f"{ws}: cannot open the workspace ({exc}); is a load still running?")
    try:
        n, = con.execute("SELECT count(*) FROM load_report").fetchone()
    except duckdb.Error:
        n = 0
    con.close()
    return n > 0


def ground_truth(county: Path, found_keys: list) -> tuple[int, int, int, int]:
    """(planted found, planted, near misses found, near misses) for own_village_project."""
    import csv
    groups: dict = {}
    with open(county / GROUND_TRUTH.name, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["model_id"] == "own_village_project":
                groups.setdefault((row["kind"], row["violation_id"]), []).append((row["entity_kind"], row["entity_key"]))
    found = {tuple(k) for k in found_keys}
    out = []
    for kind in ("violation", "near_miss"):
        tuples = []
        for (k, _), ents in groups.items():
            if k != kind:
                continue
            persons = [e for t, e in ents if t == "Person"]
            d = {t: e for t, e in ents if t != "Person"}
            # found keys are (cadre, village, relative, company, contract, project)
            tuples.append((persons[0], d["Village"], persons[1], d["Company"], d["Contract"], d["Project"]))
        out += [sum(t in found for t in tuples), len(tuples)]
    return tuple(out)


def compare(name: str, want: collections.Counter, got: collections.Counter) -> None:
    if want == got:
        return
    missing = want - got
    extra = got - want
    lines = [f"RESULT MISMATCH: {name} differs from the hand-written SQL "
             f"({sum(want.values())} rows expected, {sum(got.values())} returned; "
             f"{sum(missing.values())} missing, {sum(extra.values())} extra)"]
    for label, c in (("missing", missing), ("extra", extra)):
        for k, n in list(c.items())[:10]:
            lines.append(f"  {label} ×{n}: {k}")
    raise SystemExit("\n".join(lines))


def _counter(rows) -> collections.Counter:
    return collections.Counter(json.dumps(r, ensure_ascii=False, default=str) for r in rows)


def bench(persons: int, args) -> dict:
    county, ws, prep = ensure_workspace(persons, args.seed)
    r: dict = {"persons": persons, **prep, "loadavg": os.getloadavg()[0]}
    print(f"[{persons:,}] DuckDB: hand SQL, flat SQL, compiled Cypher ({args.runs} runs each) …", flush=True)
    d, _, r["duckdb_proc_gb"] = in_child("duckdb", str(ws), str(args.runs))
    r.update(nodes=d["nodes"], rels=d["rels"], duckdb=d["duckdb"], engine_error=d["engine_error"])
    if d.get("compiled_sql"):
        (WORK / f"compiled_{persons}.sql").write_text(d["compiled_sql"] + "\n", encoding="utf-8")
    hand_rows = d["rows"]["hand"]
    r["rows"] = len(hand_rows)
    want = _counter(hand_rows)
    want6 = _counter([row[:6] for row in hand_rows])
    compare("flat SQL", want, _counter(d["rows"]["flat"]))
    if "compiled" in d["rows"]:
        compare("compiled Cypher (rows + bindings)", want,
                _counter([row + [nodes, rels] for row, nodes, rels in d["rows"]["compiled"]]))
    r["gt"] = ground_truth(county, d["hand_keys"])
    for name, ts in d["times"].items():
        r[f"{name}_s"] = statistics.median(ts)
        r[f"{name}_range"] = (min(ts), max(ts))
    for which in ["hand", "compiled"] if "compiled_s" in r else ["hand"]:
        _, _, r[f"{which}_gb"] = in_child("memory", which, str(ws))

    if not args.skip_ladybug:
        lb = WORK / f"ladybug_{persons}.lbug"
        meta = WORK / f"ladybug_{persons}.json"
        if args.reuse_ladybug and lb.exists() and meta.exists():
            st = json.loads(meta.read_text())
        else:
            print(f"[{persons:,}] Ladybug: export + COPY …", flush=True)
            pq = WORK / f"ladybug_{persons}_parquet"
            shutil.rmtree(pq, ignore_errors=True)
            st, secs, gb = in_child("ladybug-load", str(ws), str(lb), str(pq))
            st.update(load_s=secs, load_gb=gb)
            meta.write_text(json.dumps(st))
            shutil.rmtree(pq, ignore_errors=True)
        r.update({f"lb_{k}": v for k, v in st.items()})
        print(f"[{persons:,}] Ladybug: query ({args.runs} runs) …", flush=True)
        q, _, _ = in_child("ladybug-query", str(lb), str(args.runs))
        r["ladybug"] = q["version"]
        compare("Ladybug (RETURN columns)", want6, _counter(q["rows"]))
        compare("Ladybug (rows + ids)", want, _counter(q["id_rows"]))
        r["lb_s"] = statistics.median(q["times"])
        r["lb_range"] = (min(q["times"]), max(q["times"]))
        _, _, r["lb_gb"] = in_child("ladybug-memory", str(lb))
    return r


def fmt_s(r: dict, name: str) -> str:
    if f"{name}_s" not in r:
        return "—"
    lo, hi = r[f"{name}_range"]
    return f"{r[f'{name}_s']:.3f} ({lo:.3f}–{hi:.3f})"


def report(rows: list[dict], runs: int) -> str:
    try:
        import ladybug
        lbv = ladybug.__version__
    except ImportError:
        lbv = "not installed"
    lines = [f"\n## {dt.date.today().isoformat()} — own-village pattern: compiled Cypher vs hand SQL vs Ladybug "
             f"(`benchmarks/bench_cypher.py`)\n",
             f"Machine: {machine()}, Ladybug {lbv}. "
             f"Times: median of {runs} runs after one warm-up (min–max), all rows fetched. "
             f"Peak GB: RSS of a fresh process running only that query (warm-up + one run); memory capped at "
             f"{os.environ.get('GRAPHWATCH_MEMORY_LIMIT', '3GB')} for DuckDB (`GRAPHWATCH_MEMORY_LIMIT`) and Ladybug's "
             f"buffer pool alike. Load average (1 min) when each size started: "
             + ", ".join(f"{r['persons']:,}: {r['loadavg']:.1f}" for r in rows) + " (2 cores; other work was not stopped).\n",
             "| persons | nodes | relationships | rows (planted found, near misses found) | hand SQL s | compiled Cypher s "
             "| of which parse + compile s | compiled / hand | Ladybug s | Ladybug / compiled | peak GB hand · compiled · Ladybug | "
             "Ladybug load s (export + COPY) | Ladybug load peak GB | flat-join SQL s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        comp = fmt_s(r, "compiled") if "compiled_s" in r else (r.get("engine_error") or "—")
        ratio = f"{r['compiled_s'] / r['hand_s']:.2f}×" if "compiled_s" in r else "—"
        lbr = f"{r['lb_s'] / r['compiled_s']:.1f}×" if "compiled_s" in r and "lb_s" in r else "—"
        gbs = " · ".join(f"{r[k]:.2f}" if k in r else "—" for k in ("hand_gb", "compiled_gb", "lb_gb"))
        load = f"{r['lb_load_s']:.1f} ({r['lb_export_s']:.1f} + {r['lb_copy_s']:.1f})" if "lb_load_s" in r else "—"
        load_gb = f"{r['lb_load_gb']:.2f}" if "lb_load_gb" in r else "—"
        lines.append(f"| {r['persons']:,} | {r['nodes']:,} | {r['rels']:,} | {r['rows']} ({r['gt'][0]}/{r['gt'][1]}, "
                     f"{r['gt'][2]}/{r['gt'][3]}) | {fmt_s(r, 'hand')} | {comp} | {fmt_s(r, 'compile')} | {ratio} | {fmt_s(r, 'lb')} | {lbr} | "
                     f"{gbs} | {load} | {load_gb} | {fmt_s(r, 'flat')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "duckdb":
            child_duckdb(rest[0], int(rest[1]), rest[2])
        elif kind == "memory":
            child_memory(rest[0], rest[1], rest[2])
        elif kind == "ladybug-load":
            child_ladybug_load(*rest)
        elif kind == "ladybug-query":
            child_ladybug_query(rest[0], int(rest[1]), rest[2])
        elif kind == "ladybug-memory":
            child_ladybug_memory(rest[0], rest[1])
        else:
            raise SystemExit(f"unknown child {kind}")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("persons", type=int, nargs="*", default=[1_000_000, 5_000_000])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per engine after one warm-up (default 5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", action="store_true", help="append the section to benchmarks/RESULTS.md")
    ap.add_argument("--skip-ladybug", action="store_true")
    ap.add_argument("--reuse-ladybug", action="store_true",
                    help="use an existing benchmarks/work/ladybug_N.lbug (and its recorded load figures)")
    args = ap.parse_args()
    if not args.skip_ladybug:
        import importlib.util
        if importlib.util.find_spec("ladybug") is None:
            raise SystemExit("Ladybug is not installed: .venv/bin/pip install -e '.[bench]' (or --skip-ladybug)")
    WORK.mkdir(exist_ok=True)
    rows = []
    for n in args.persons:
        r = bench(n, args)
        rows.append(r)
        print({k: v for k, v in r.items()}, flush=True)
    text = report(rows, args.runs)
    print(text)
    if args.record:
        if any("compiled_s" not in r for r in rows):
            raise SystemExit("not recorded: the compiled engine did not run")
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(text)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
