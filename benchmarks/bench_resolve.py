"""Benchmark: entity resolution (``graphwatch.resolve.resolve``), in sample and out of sample.

A *workspace spec* names the synthetic counties one workspace holds:
``PERSONS:SEED[:COUNTY]`` for one county (``COUNTY`` a code of the generator's list, else
the seed picks one), several joined with ``+`` for a workspace of several counties, e.g.
``100000:101:411521+100000:102:510722`` (two counties, two provinces, different region codes).

1. every county is generated once (``benchmarks/work/county_<persons>_<seed>[_<code>]``) and
   every workspace loaded once into a pristine copy (``ws_er_<spec>_loaded``);
2. **train** (``--train SPEC``): a copy of that workspace is resolved with ``train=True``;
   the model it saves is the model under test (or ``--model PATH``: test that model);
3. **in sample**: the training workspace resolved with the model (a fresh copy: the speed
   figure of a trained model); **out of sample**: every ``--eval SPEC`` workspace resolved
   with the same model. Each resolve runs in its own process (wall seconds, peak RSS of the
   process tree); the prior is each workspace's own (``graphwatch.resolve.score``);
   ``--fixed-prior`` also resolves every workspace with the model's stored prior unchanged
   (how resolution worked before), for comparison;
4. pairwise precision and recall of same-person record pairs against each county's
   ``_truth/person_records.csv``, for the resolved entities and for the exact-ID baseline
   (the load's own node keys).

Usage::

    .venv/bin/python benchmarks/bench_resolve.py \\
        --train 100000:101:411521+100000:102:510722 \\
        --eval 50000:7 --eval 200000:13 --eval 100000:17:430524 \\
        --eval 100000:21:130633+100000:22:621121          # appends a block to benchmarks/RESULTS.md
    .venv/bin/python benchmarks/bench_resolve.py --model graphwatch/resolve/person_model.json \\
        --eval 50000:7 --no-write                         # test a given model, print only
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_load import PY, RESULTS, WORK, machine, run  # noqa: E402

from graphwatch.synth.spec import PARAMS_FILE  # noqa: E402

GOAL_PRECISION, GOAL_RECALL, GOAL_SPEED = 0.995, 0.98, 40_000
BEGIN, END = "<!-- BEGIN entity-resolution (bench_resolve.py) -->", "<!-- END entity-resolution -->"

GENERATE = r"""
import sys
from graphwatch.synth import generate_county
generate_county(sys.argv[1], persons=int(sys.argv[2]), seed=int(sys.argv[3]), county=sys.argv[4] or None)
"""

# argv: workspace, "train" or a model path, "workspace" or "fixed" prior, output JSON file
RESOLVE = r"""
import json, sys
from graphwatch.store import Workspace
from graphwatch.resolve import resolve
ws = Workspace(sys.argv[1])
fixed = sys.argv[3] == "fixed"
rep = resolve(ws, train=True) if sys.argv[2] == "train" else resolve(ws, model=sys.argv[2], model_prior=fixed)
ws.close()
open(sys.argv[4], "w", encoding="utf-8").write(json.dumps(rep.__dict__, default=str))
"""


@dataclass(frozen=True)
class County:
    persons: int
    seed: int
    code: str = ""

    @property
    def folder(self) -> Path:
        return WORK / f"county_{self.persons}_{self.seed}{'_' + self.code if self.code else ''}"

    def __str__(self) -> str:
        return f"{self.persons:,} persons, seed {self.seed}" + (f", county {self.code}" if self.code else "")


def parse_spec(spec: str) -> tuple[County, ...]:
    counties = []
    for part in spec.split("+"):
        persons, seed, *code = part.split(":")
        counties.append(County(int(persons), int(seed), code[0] if code else ""))
    if len(counties) > 1 and (len({c.code for c in counties}) < len(counties) or not all(c.code for c in counties)):
        raise SystemExit(f"{spec}: counties sharing a workspace need different county codes")
    return tuple(counties)


def spec_name(counties: tuple[County, ...]) -> str:
    return "+".join(f"{c.persons}_{c.seed}{'_' + c.code if c.code else ''}" for c in counties)


def ensure_county(c: County) -> Path:
    params = c.folder / PARAMS_FILE
    p = json.loads(params.read_text(encoding="utf-8")) if params.exists() else {}
    if (p.get("persons"), p.get("seed")) != (c.persons, c.seed) or not (c.folder / "_truth/person_records.csv").exists():
        shutil.rmtree(c.folder, ignore_errors=True)
        print(f"generating {c.folder.name} …", flush=True)
        run([PY, "-c", GENERATE, str(c.folder), str(c.persons), str(c.seed), c.code])
    return c.folder


def ensure_workspace(counties: tuple[County, ...]) -> Path:
    """A pristine (loaded, never resolved) workspace of these counties, loaded if missing or stale."""
    import duckdb
    folders = [ensure_county(c) for c in counties]
    ws = WORK / f"ws_er_{spec_name(counties)}_loaded"
    newest = max((f / PARAMS_FILE).stat().st_mtime for f in folders)
    ok = (ws / "graph.duckdb").exists() and (ws / "graph.duckdb").stat().st_mtime > newest
    if ok:
        con = duckdb.connect(str(ws / "graph.duckdb"), read_only=True)
        tables = {t for t, in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        ok = "load_report" in tables and "er_run" not in tables and not (ws / "resolve").exists()
        con.close()
    if not ok:
        tmp = WORK / f"ws_er_{spec_name(counties)}_loading"   # renamed when complete
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ws, ignore_errors=True)
        print(f"loading {ws.name} …", flush=True)
        run([PY, "-m", "graphwatch.cli", "load", *map(str, folders), "--workspace", str(tmp)])
        tmp.rename(ws)
    return ws


def resolve_copy(pristine: Path, dst: Path, how: str, prior: str = "workspace") -> dict:
    """Resolve a fresh copy of the pristine workspace in a child; its report + wall s + peak GB."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(pristine, dst, ignore=shutil.ignore_patterns(".tmp"))
    out = dst.parent / f"{dst.name}.report.json"
    out.unlink(missing_ok=True)
    print(f"resolving {dst.name} ({'training' if how == 'train' else 'with ' + Path(how).name}, {prior} prior) …",
          flush=True)
    secs, gb = run([PY, "-c", RESOLVE, str(dst), how, prior, str(out)])
    rep = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return dict(rep=rep, wall=secs, gb=gb)


def evaluate(db_path: Path, counties: tuple[County, ...]) -> dict:
    """Pairwise precision/recall of the resolved entities and of the load's own keys.

    Each truth line (file, line, true person) is matched to the person record (dataset file,
    record) it became; TP = Σ C(n,2) over (cluster, true person) cells, predicted = Σ C(n,2)
    over clusters, true = Σ C(n,2) over true persons."""
    import duckdb
    import pyarrow as pa
    # benefit rolls are keyed by their record number (first column), every other file by line
    files, lines, recs, truths = [], [], [], []
    for c in counties:
        for roll in sorted(c.folder.glob("benefit_rolls*.csv")):
            with open(roll, encoding="gb18030", newline="") as f:
                rows = csv.reader(f)
                next(rows)
                for i, row in enumerate(rows, start=2):   # line 1 is the header
                    files.append(roll.name)
                    lines.append(str(i))
                    recs.append(row[0])
        truths.append(str(c.folder / "_truth" / "person_records.csv"))
    bmap = pa.table({"file": files, "line": lines, "rec": recs})
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.register("bmap", bmap)
        con.execute("""CREATE TEMP TABLE tl AS
            SELECT t.file, t.line, coalesce(b.rec, t.line) AS record, t.true_person_id AS truth
            FROM read_csv(?, all_varchar = true) t LEFT JOIN bmap b ON b.file = t.file AND b.line = t.line""",
                    [truths])
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


def check(name: str, ev: dict, rep: dict) -> None:
    """Sanity: every truth line maps to exactly one record; the resolver covered them all."""
    if not ev["matched_lines"] == ev["joined_rows"] == ev["truth_lines"]:
        print(f"WARNING {name}: {ev['truth_lines']:,} truth lines, {ev['matched_lines']:,} matched to a record, "
              f"{ev['joined_rows']:,} joined rows", file=sys.stderr)
    if rep["records"] != ev["record_lines"]:   # a line naming two persons is counted once for each
        print(f"note {name}: the resolver reports {rep['records']:,} records, {ev['record_lines']:,} distinct "
              "person-record lines (a line naming two persons counts twice)", file=sys.stderr)


def run_one(counties: tuple[County, ...], how: str, tag: str, prior: str = "workspace") -> dict:
    pristine = ensure_workspace(counties)
    dst = WORK / f"ws_er_{spec_name(counties)}_{tag}"
    r = resolve_copy(pristine, dst, how, prior)
    r["eval"] = evaluate(dst / "graph.duckdb", counties)
    check(dst.name, r["eval"], r["rep"])
    r["counties"] = counties
    r["prior_mode"] = prior
    return r


def describe(counties: tuple[County, ...]) -> str:
    return " + ".join(map(str, counties)) + (f" ({len(counties)} counties)" if len(counties) > 1 else "")


def report(args, model_desc: str, train_run: dict | None, rows: list[tuple[str, dict]], load: float) -> str:
    met = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731
    lines = [BEGIN, "", f"## Entity resolution, in and out of sample — {dt.date.today().isoformat()} "
             "(`benchmarks/bench_resolve.py`)", "",
             f"Machine: {machine()}; DuckDB memory limit {os.environ.get('GRAPHWATCH_MEMORY_LIMIT', '3GB')}; "
             f"load average (1 min) at start {load:.1f} (2 cores shared with other work).", "",
             f"Model: {model_desc}. Pairs are same-person record pairs (each county's "
             "`_truth/person_records.csv`); the exact-ID baseline is the load's own node keys. Every workspace is "
             "scored with its own prior (share of random pairs of its ID-holding records that share the ID) unless "
             "the row says *fixed prior* (the model's stored prior, as resolution worked before).", "",
             "| sample | workspace | person records | prior | exact-ID recall | precision | recall | wrong pairs "
             "| missed pairs | entities / true persons | review pairs | ambiguous | wall s | records/s | peak GB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sample, r in rows:
        ev, rep, res = r["eval"], r["rep"], r["eval"]["resolved"]
        prior = rep.get("prior", {}).get("prior")
        prior_s = f"{prior:.3g}" + (" (fixed)" if r["prior_mode"] == "fixed" else "") if prior else "—"
        lines.append(
            f"| {sample} | {describe(r['counties'])} | {ev['truth_lines']:,} | {prior_s} | "
            f"{ev['exact_id']['recall']:.4f} | {res['precision']:.5f} | {res['recall']:.5f} | "
            f"{res['predicted'] - res['tp']:,} of {res['predicted']:,} | {res['true'] - res['tp']:,} of {res['true']:,} | "
            f"{res['entities']:,} / {ev['persons']:,} | {rep['review_pairs']:,} | {rep['ambiguous']:,} | "
            f"{r['wall']:.1f} | {rep['records'] / r['wall']:,.0f} | {r['gb']:.2f} |")
    ours = [(s, r) for s, r in rows if r["prior_mode"] == "workspace"]
    worst_p = min(r["eval"]["resolved"]["precision"] for _, r in ours)
    worst_r = min(r["eval"]["resolved"]["recall"] for _, r in ours)
    oos = [r for s, r in ours if s.startswith("out")]
    lines.append("")
    if train_run:
        tr = train_run["rep"]
        lines += [f"Training run (train + resolve on a copy of the training workspace): {train_run['wall']:.1f} s wall, "
                  f"train {tr['seconds'].get('train', 0):.1f} s, peak {train_run['gb']:.2f} GB.", ""]
    lines += [f"Goals (workspace prior): precision ≥ {GOAL_PRECISION} {met(worst_p >= GOAL_PRECISION)} "
              f"(worst {worst_p:.5f}); recall ≥ {GOAL_RECALL} {met(worst_r >= GOAL_RECALL)} (worst {worst_r:.5f})"
              + (f"; out of sample alone: precision ≥ {min(r['eval']['resolved']['precision'] for r in oos):.5f}, "
                 f"recall ≥ {min(r['eval']['resolved']['recall'] for r in oos):.5f}" if oos else "") + ".", "", END, ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", metavar="SPEC", help="train on this workspace (in-sample figures on it)")
    ap.add_argument("--model", type=Path, help="test this model instead of training one")
    ap.add_argument("--eval", metavar="SPEC", action="append", default=[], help="out-of-sample workspace (repeatable)")
    ap.add_argument("--in-sample", metavar="SPEC", help="with --model: the workspace it was trained on")
    ap.add_argument("--fixed-prior", action="store_true", help="also resolve with the model's stored prior")
    ap.add_argument("--save-model", type=Path, help="copy the trained model here (e.g. the packaged one)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    if bool(args.train) == bool(args.model):
        ap.error("give --train SPEC or --model PATH")
    WORK.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    train_run = None
    rows: list[tuple[str, dict]] = []
    if args.train:
        counties = parse_spec(args.train)
        train_run = resolve_copy(ensure_workspace(counties), WORK / f"ws_er_{spec_name(counties)}_train", "train")
        model = WORK / f"ws_er_{spec_name(counties)}_train" / "resolve" / "person_model.json"
        model_desc = (f"trained now on {describe(counties)}: {train_run['rep']['records']:,} person records, "
                      f"{train_run['rep']['units']:,} source statements; train {train_run['rep']['seconds']['train']:.1f} s")
        in_sample = counties
        if args.save_model:   # say what it was trained on, in the model itself
            saved = json.loads(model.read_text(encoding="utf-8"))
            saved["graphwatch"]["trained_on"] = (
                f"synthetic counties of graphwatch.synth, {describe(counties)}: "
                f"{train_run['rep']['records']:,} person records in {train_run['rep']['units']:,} source statements "
                f"(benchmarks/bench_resolve.py --train {args.train}, {dt.date.today().isoformat()})")
            args.save_model.write_text(json.dumps(saved, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    else:
        model = args.model.resolve()
        about = json.loads(model.read_text(encoding="utf-8")).get("graphwatch", {})
        model_desc = f"`{args.model}`" + (f", trained on {about['trained_on']}" if about.get("trained_on") else "")
        in_sample = parse_spec(args.in_sample) if args.in_sample else None
    todo = ([("in sample", in_sample)] if in_sample else []) + [("out of sample", parse_spec(s)) for s in args.eval]
    for sample, counties in todo:
        rows.append((sample, run_one(counties, str(model), "model")))
        if args.fixed_prior:
            rows.append((sample, run_one(counties, str(model), "model_fixed", "fixed")))
    print(json.dumps({"train": train_run, "rows": rows}, default=str), flush=True)
    text = report(args, model_desc, train_run, rows, load)
    print(text)
    if not args.no_write:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write("\n" + text)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
