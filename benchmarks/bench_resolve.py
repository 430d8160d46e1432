"""Benchmark: entity resolution (``graphwatch.resolve.resolve``) on ~1 M person records.

1. generate the synthetic county (``benchmarks/work/county_N``, default 330,000 persons, seed 7
   ⇒ ~1.01 M person records) and load it into a pristine workspace
   (``benchmarks/work/ws_er_N_loaded``), each only if not there yet (``--fresh`` redoes both);
2. copy the pristine workspace to ``ws_er_N_train`` and resolve there with ``train=True``
   (fits the model and saves ``<ws>/resolve/person_model.json``);
3. copy it again to ``ws_er_N_model`` and resolve with that trained model (no training):
   the "speed with a trained model" figure. Records/s = person records covered / wall
   seconds of the whole child process (Python start-up, opening the workspace, commit) and
   / the resolver's own ``seconds['total']`` (measured before the commit);
4. pairwise precision and recall against ``<county>/_truth/person_records.csv`` of the
   resolved entities and of the exact-ID baseline (the load's own node keys).

Each resolve runs in its own process; its peak RSS (process tree, psutil every 20 ms) is
reported. DuckDB is capped by ``GRAPHWATCH_MEMORY_LIMIT`` (default 3GB) as in any run.

Usage::

    .venv/bin/python benchmarks/bench_resolve.py               # appends to benchmarks/RESULTS.md
    .venv/bin/python benchmarks/bench_resolve.py --no-write    # print only
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

GOAL_PRECISION, GOAL_RECALL, GOAL_SPEED = 0.995, 0.98, 40_000

# argv: workspace, "train" or a model path, output JSON file (run() discards the child's stdout)
CHILD = r"""
import json, sys
from graphwatch.store import Workspace
from graphwatch.resolve import resolve
ws = Workspace(sys.argv[1])
rep = resolve(ws, train=True) if sys.argv[2] == "train" else resolve(ws, model=sys.argv[2])
ws.close()
line = json.dumps(rep.__dict__, default=str)
open(sys.argv[3], "w", encoding="utf-8").write(line)
print(line)
"""


def ensure_inputs(persons: int, seed: int, fresh: bool) -> tuple[Path, Path]:
    """The county and a pristine (loaded, never resolved) workspace, made if missing or stale."""
    import duckdb
    county, ws = WORK / f"county_{persons}", WORK / f"ws_er_{persons}_loaded"
    gw = [PY, "-m", "graphwatch.cli"]
    params = county / "generator_params.json"
    p = json.loads(params.read_text(encoding="utf-8")) if params.exists() else {}
    if fresh or (p.get("persons"), p.get("seed")) != (persons, seed) or not (county / "_truth/person_records.csv").exists():
        shutil.rmtree(county, ignore_errors=True)
        print(f"generating {county} …", flush=True)
        run(gw + ["generate", "--persons", str(persons), "--seed", str(seed), "--out", str(county)])
    ok = (ws / "graph.duckdb").exists() and (ws / "graph.duckdb").stat().st_mtime > params.stat().st_mtime
    if ok and not fresh:
        con = duckdb.connect(str(ws / "graph.duckdb"), read_only=True)
        tables = {t for t, in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        ok = "load_report" in tables and "er_run" not in tables and not (ws / "resolve").exists()
        con.close()
    if fresh or not ok:
        tmp = WORK / f"ws_er_{persons}_loading"   # renamed when complete: never a half-loaded "pristine" one
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ws, ignore_errors=True)
        print(f"loading {ws} …", flush=True)
        run(gw + ["load", str(county), "--workspace", str(tmp)])
        tmp.rename(ws)
    return county, ws


def resolve_copy(pristine: Path, dst: Path, how: str) -> dict:
    """Resolve a fresh copy of the pristine workspace in a child; its report + wall s + peak GB."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(pristine, dst, ignore=shutil.ignore_patterns(".tmp"))
    out = dst.parent / f"{dst.name}.report.json"
    out.unlink(missing_ok=True)
    print(f"resolving {dst.name} ({'training' if how == 'train' else 'trained model'}) …", flush=True)
    secs, gb = run([PY, "-c", CHILD, str(dst), how, str(out)])
    rep = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return dict(rep=rep, wall=secs, gb=gb)


def evaluate(db_path: Path, county: Path) -> dict:
    """Pairwise precision/recall of the resolved entities and of the load's own keys.

    Each truth line (file, line, true person) is matched to the person record (dataset file,
    record) it became; TP = Σ C(n,2) over (cluster, true person) cells, predicted = Σ C(n,2)
    over clusters, true = Σ C(n,2) over true persons."""
    import duckdb
    import pyarrow as pa
    # benefit rolls are keyed by their record number (first column), every other file by line
    lines, recs = [], []
    with open(county / "benefit_rolls.csv", encoding="gb18030", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for i, row in enumerate(rows, start=2):   # line 1 is the header
            lines.append(str(i))
            recs.append(row[0])
    bmap = pa.table({"line": lines, "rec": recs})
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.register("bmap", bmap)
        con.execute("""CREATE TEMP TABLE tl AS
            SELECT t.file, t.line, coalesce(b.rec, t.line) AS record, t.true_person_id AS truth
            FROM read_csv(?, all_varchar = true) t
            LEFT JOIN bmap b ON t.file = 'benefit_rolls.csv' AND b.line = t.line""",
                    [str(county / "_truth" / "person_records.csv")])
        # every person record → its load key (exact-ID baseline) and its resolved entity
        con.execute("""CREATE TEMP TABLE rl AS
            SELECT DISTINCT regexp_extract(u.dataset, '[^/]+$') AS file, unnest(u.records) AS record, u.key, m.entity
            FROM er_unit u JOIN er_member m USING (unit) WHERE u.label = 'Person'""")
        con.execute("CREATE TEMP TABLE j AS SELECT tl.*, rl.key, rl.entity FROM tl JOIN rl USING (file, record)")
        truth_lines, matched, joined, record_lines, persons = con.execute("""SELECT
            (SELECT count(*) FROM tl), (SELECT count(DISTINCT (file, line)) FROM j), (SELECT count(*) FROM j),
            (SELECT count(*) FROM rl), (SELECT count(DISTINCT truth) FROM tl)""").fetchone()

        def pairs(col: str) -> dict:
            tp, pred, true, n = con.execute(f"""SELECT
                (SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM j GROUP BY {col}, truth)),
                (SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM j GROUP BY {col})),
                (SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM j GROUP BY truth)),
                (SELECT count(DISTINCT {col}) FROM j)""").fetchone()
            return dict(precision=tp / pred, recall=tp / true, tp=int(tp), predicted=int(pred), true=int(true),
                        entities=n)

        return dict(truth_lines=truth_lines, matched_lines=matched, joined_rows=joined, record_lines=record_lines,
                    persons=persons, exact_id=pairs("key"), resolved=pairs("entity"))
    finally:
        con.close()


def report(args, county_params: dict, ev: dict, runs: dict, load: float) -> str:
    met = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731
    b = runs["model"]
    speed = b["rep"]["records"] / b["wall"]
    steps = ("prepare", "train", "score", "cluster", "apply")
    lines = [f"\n## Entity resolution — {dt.date.today().isoformat()} (`benchmarks/bench_resolve.py`)\n",
             f"Machine: {machine()}; DuckDB memory limit {os.environ.get('GRAPHWATCH_MEMORY_LIMIT', '3GB')} "
             f"(`GRAPHWATCH_MEMORY_LIMIT`); load average (1 min) at start {load:.1f}.\n",
             f"County: {args.persons:,} persons (seed {args.seed}), "
             f"{county_params.get('counts', {}).get('_truth/person_records.csv', ev['truth_lines']):,} person records "
             f"(truth lines; {ev['matched_lines']:,} matched to a loaded record); the resolver covered "
             f"{b['rep']['records']:,} records in {b['rep']['units']:,} source statements. Pairs are same-person "
             f"record pairs; the exact-ID baseline is the load's own node keys.\n",
             "| method | precision | recall | entities | true persons | pairs right / predicted / true |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, key in (("exact-ID baseline (load keys)", "exact_id"), ("resolved (trained model)", "resolved")):
        m = ev[key]
        lines.append(f"| {name} | {m['precision']:.5f} | {m['recall']:.5f} | {m['entities']:,} | {ev['persons']:,} | "
                     f"{m['tp']:,} / {m['predicted']:,} / {m['true']:,} |")
    lines += ["", "| run | wall s | resolver total s | records/s (wall) | records/s (resolver) | peak RSS GB | "
              + " | ".join(f"{s} s" for s in steps) + " |",
              "|---|---:|---:|---:|---:|---:|" + "---:|" * len(steps)]
    for name, key in (("train + resolve (copy A)", "train"), ("resolve with the trained model (copy B)", "model")):
        r = runs[key]
        rec, sec = r["rep"]["records"], r["rep"]["seconds"]
        lines.append(f"| {name} | {r['wall']:.1f} | {sec['total']:.1f} | {rec / r['wall']:,.0f} | "
                     f"{rec / sec['total']:,.0f} | {r['gb']:.2f} | "
                     + " | ".join(f"{sec[s]:.1f}" if s in sec else "—" for s in steps) + " |")
    rb = b["rep"]
    lines += ["", f"Run B: {rb['entities']:,} person entities; merged by ID {rb['merged_by_id']:,}, by village "
              f"{rb['merged_by_village']:,}, by model {rb['merged_by_model']:,}; {rb['review_pairs']:,} review pairs, "
              f"{rb['ambiguous']:,} ambiguous.\n",
              f"Goals: precision ≥ {GOAL_PRECISION} {met(ev['resolved']['precision'] >= GOAL_PRECISION)} "
              f"({ev['resolved']['precision']:.5f}); recall ≥ {GOAL_RECALL} "
              f"{met(ev['resolved']['recall'] >= GOAL_RECALL)} ({ev['resolved']['recall']:.5f}); "
              f"≥ {GOAL_SPEED:,} records/s with a trained model, end to end on {os.cpu_count()} cores "
              f"{met(speed >= GOAL_SPEED)} ({speed:,.0f}).\n"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=330_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fresh", action="store_true", help="regenerate the county and reload the pristine workspace")
    ap.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    county, pristine = ensure_inputs(args.persons, args.seed, args.fresh)
    runs = {"train": resolve_copy(pristine, WORK / f"ws_er_{args.persons}_train", "train")}
    model = WORK / f"ws_er_{args.persons}_train" / "resolve" / "person_model.json"
    runs["model"] = resolve_copy(pristine, WORK / f"ws_er_{args.persons}_model", str(model))
    if runs["model"]["rep"]["model"] != str(model) or runs["model"]["rep"]["trained"]:
        print(f"WARNING: run B used model {runs['model']['rep']['model']!r}, not {model}", file=sys.stderr)
    print("evaluating …", flush=True)
    ev = evaluate(WORK / f"ws_er_{args.persons}_model" / "graph.duckdb", county)
    ev_a = evaluate(WORK / f"ws_er_{args.persons}_train" / "graph.duckdb", county)
    print(json.dumps({"runs": runs, "eval": ev, "eval_train_run": ev_a}, default=str), flush=True)
    # sanity checks: every truth line maps to exactly one record; A and B (same model) agree
    if not ev["matched_lines"] == ev["joined_rows"] == ev["truth_lines"]:
        print(f"WARNING: {ev['truth_lines']:,} truth lines, {ev['matched_lines']:,} matched to a record, "
              f"{ev['joined_rows']:,} joined rows", file=sys.stderr)
    if runs["model"]["rep"]["records"] != ev["record_lines"]:   # rep.records counts a line once per listing
        print(f"WARNING: the resolver reports {runs['model']['rep']['records']:,} records but they are "
              f"{ev['record_lines']:,} distinct person-record lines", file=sys.stderr)
    if ev_a["resolved"] != ev["resolved"]:
        print(f"WARNING: the training run resolved differently: {ev_a['resolved']} vs {ev['resolved']}", file=sys.stderr)
    params = json.loads((county / "generator_params.json").read_text(encoding="utf-8"))
    text = report(args, params, ev, runs, load)
    print(text)
    if not args.no_write:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(text)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
