"""What the lookup indexes (``graphwatch/lookups.py``) cost and what they buy.

On a loaded county workspace (``bench_load.py`` / ``graphwatch load``), in one run:

* **cost** — a copy of the database without the indexes (``benchmarks/work/<ws>_noidx``), then
  :func:`graphwatch.lookups.ensure` on it inside a transaction, each index timed on its own:
  the time a load's transaction adds, and the database's size with and without them (after a
  CHECKPOINT);
* **gain** — the same queries on both copies, alternately, median of ``--runs`` after a warm-up:
  one person by ``id_number``, the members of their household (a fixed two-hop pattern), their
  2-hop neighbourhood over any type (``*1..2``, counted), shortestPath over any type (``*..6``)
  between two officials, and ``--library``: the whole model library (``Pattern.bind()``).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_lookups.py benchmarks/work/ws_1000000 [--runs 5] [--library] [--record]

``--record`` replaces this benchmark's block of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import commit, machine, record_block  # noqa: E402

QUERIES = [
    ("one person by id_number", "MATCH (p:Person {id_number: $id}) RETURN p.name, p.birth_date"),
    ("their household's members (fixed 2 hops)",
     "MATCH (p:Person {id_number: $id})-[:MEMBER_OF]->(h)<-[:MEMBER_OF]-(q:Person) RETURN q.name"),
    ("their 2-hop neighbourhood, any type (*1..2)",
     "MATCH (p:Person {id_number: $id})-[*1..2]-(q) RETURN count(DISTINCT q)"),
    ("shortestPath between two officials, any type (*..6)",
     "MATCH (a:Official {id_number: $id}), (b:Official {id_number: $id2}) "
     "MATCH p = shortestPath((a)-[*..6]-(b)) RETURN length(p)"),
]


def strip_copy(ws: Path) -> Path:
    """``ws`` copied without its lookup indexes (kept for reruns)."""
    import duckdb

    from graphwatch import lookups

    out = ws.parent / f"{ws.name}_noidx"
    if not (out / "graph.duckdb").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for f in ("graph.duckdb", "workspace.json", "schema.yaml"):
            if (ws / f).exists():
                shutil.copy2(ws / f, out / f)
        if (ws / "adjacency").exists():
            shutil.copytree(ws / "adjacency", out / "adjacency")
    con = duckdb.connect(str(out / "graph.duckdb"))
    lookups.drop_all(con)
    con.execute("CHECKPOINT")
    con.close()
    return out


def cost(plain: Path) -> tuple[list[tuple[str, float]], int, int]:
    """Each index's build time on ``plain`` (then dropped again), and the database's size
    without and with all of them."""
    import duckdb

    from graphwatch import lookups
    from graphwatch.schema import workspace_schema

    db = plain / "graph.duckdb"
    before = db.stat().st_size
    con = duckdb.connect(str(db))
    times = []
    con.execute("BEGIN")
    for table, col in lookups.missing(con, workspace_schema(plain)):
        t = time.perf_counter()
        lookups.create(con, table, col)
        times.append((f"{table}.{col}", time.perf_counter() - t))
    # DuckDB builds and writes the indexes when the transaction commits: the CREATE INDEX
    # statements alone are a fraction of the cost (a load pays both)
    t = time.perf_counter()
    con.execute("COMMIT")
    times.append(("COMMIT", time.perf_counter() - t))
    con.execute("CHECKPOINT")
    after = db.stat().st_size
    lookups.drop_all(con)
    con.execute("CHECKPOINT")
    con.close()
    return times, before, after


def params(eng) -> dict:
    con = eng.ws.con
    (pid,) = con.execute("""SELECT p.id_number FROM node p JOIN rel r ON r.src = p.nid AND r.type = 'MEMBER_OF'
        WHERE list_contains(p.labels, 'Person') AND p.id_number IS NOT NULL ORDER BY p.nid LIMIT 1""").fetchone()
    offs = [x for (x,) in con.execute("""SELECT id_number FROM node WHERE list_contains(labels, 'Official')
        AND id_number IS NOT NULL ORDER BY nid LIMIT 2""").fetchall()]
    return {"id": pid, "id2": offs[1] if len(offs) > 1 else pid, "_official": offs[0] if offs else pid}


def main(argv=None) -> int:
    from graphwatch.engines.duckdb import DuckDBEngine

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--library", action="store_true", help="also time the whole model library on both")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--block", default="lookups",
                    help="with --record: the RESULTS.md block to replace (e.g. lookups-5m beside the 1 M one)")
    a = ap.parse_args(argv)
    load = os.getloadavg()
    plain = strip_copy(a.workspace)
    times, before, after = cost(plain)
    engines = {"without": DuckDBEngine(plain), "with": DuckDBEngine(a.workspace)}
    p = params(engines["with"])
    rows = []
    for title, q in QUERIES:
        qp = {"id": p["_official"], "id2": p["id2"]} if "Official" in q else {"id": p["id"]}
        got = {}
        for name, eng in engines.items():
            eng.run(q, qp)
        samples = {k: [] for k in engines}
        for _ in range(a.runs):
            for name, eng in engines.items():
                t = time.perf_counter()
                got[name] = eng.run(q, qp).rows
                samples[name].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in samples.items()}
        rows.append((title, len(got["with"]), med["without"], med["with"], got["with"] == got["without"]))
        print(f"{title}: without {med['without'] * 1000:.1f} ms, with {med['with'] * 1000:.1f} ms", flush=True)
    if a.library:
        from graphwatch.alerts.library import load_library

        lib = [m for m in load_library().values() if m.kind == "cypher"]
        tot = {k: [] for k in engines}
        for _ in range(max(1, a.runs // 2)):
            for name, eng in engines.items():
                t = time.perf_counter()
                for m in lib:
                    eng.run(m.cypher, m.bind())
                tot[name].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in tot.items()}
        rows.append((f"the model library ({len(lib)} Cypher models)", None, med["without"], med["with"], True))
        print(f"library: without {med['without']:.2f} s, with {med['with']:.2f} s", flush=True)
    load2 = os.getloadavg()
    nodes, rels = engines["with"].ws.con.execute("SELECT (SELECT count(*) FROM node), (SELECT count(*) FROM rel)"
                                                 ).fetchone()
    for eng in engines.values():
        eng.close()
    text = report(a.workspace, nodes, rels, times, before, after, rows, a.runs, load, load2)
    print(text)
    if a.record:
        record_block(a.block, "bench_lookups.py", text)
    return 0


def report(ws, nodes, rels, times, before, after, rows, runs, load, load2) -> str:
    total = sum(t for _n, t in times)
    lines = [f"## Lookup indexes, cost and gain — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
             "(`benchmarks/bench_lookups.py`)", "",
             f"Workspace `{ws.name}`: {nodes:,} nodes, {rels:,} relationships. Machine: {machine()}; "
             f"commit {commit()}; load average (1 min) {load[0]:.1f} at the start, {load2[0]:.1f} at the end.", "",
             "**Cost** (one CREATE INDEX each, in one transaction, as a load's transaction makes them): "
             + ", ".join(f"{n} {t:.1f} s" for n, t in times) + f" — **{total:.1f} s** in all; database "
             f"{before / 2**30:.2f} GiB without, {after / 2**30:.2f} GiB with (+{(after - before) / before:.0%}).", "",
             f"**Gain**, the same query on the copy without indexes and on the workspace, alternately, median of "
             f"{runs} after a warm-up (the library: median of {max(1, runs // 2)} passes):", "",
             "| query | rows | without indexes | with | speed-up | same rows |", "|---|---:|---:|---:|---:|---|"]
    for title, n, w0, w1, same in rows:
        unit = (lambda s: f"{s:.2f} s") if n is None else (lambda s: f"{s * 1000:.1f} ms")
        lines.append(f"| {title} | {'—' if n is None else n} | {unit(w0)} | {unit(w1)} | {w0 / w1:.1f}× | "
                     f"{'yes' if same else '**no**'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
