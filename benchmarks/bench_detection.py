"""Detection quality of the supervision-model library on generated counties.

For each seed: generate a county of ``--persons`` persons with its dirt (``_truth/`` holds the
planted violations and near-misses), then build three workspaces and rate every model on
each with :func:`graphwatch.alerts.evaluate.evaluate` (definitions in its docstring):

* **baseline** — a naive load that links persons only on the exact raw ID text: the shipped
  mappings, rewritten so that every person (and death record) is keyed ``Person:<ID as
  written>`` — no full-width folding, no lower-case x, no 15→18 conversion, no check of the
  check digit; a row without an ID makes no person at all — and no entity resolution. The
  rewritten mappings are written to ``<work>/baseline_mappings/`` (from the shipped ones, so
  they follow every change to them). To compare its alerts with the truth, its node keys are
  read through the ID cleaning (``Person:６２…x`` is compared as ``Person:62…X``): the
  evaluation may recognise a person, only the graph may not link them.
* **loaded** — the shipped mappings (IDs cleaned and validated), not resolved;
* **resolved** — the same, after ``graphwatch resolve`` (the packaged model).

The first seed is the one the models were tuned on (in sample), the others are out of
sample. ``--results`` rewrites this benchmark's block of ``benchmarks/RESULTS.md``.

    PYTHONPATH=. python benchmarks/bench_detection.py --persons 100000 --seed 7 --seed 11 --seed 17 \
        --seed 19 --seed 23 --results
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402
from common import commit  # noqa: E402

from graphwatch.alerts.evaluate import TABLE_HEADER, evaluate, table_rows  # noqa: E402

VARIANTS = ("baseline", "loaded", "resolved")


# -- the naive baseline ------------------------------------------------------------------
def baseline_mappings(dest: Path) -> Path:
    """The shipped mappings with every resident-ID key replaced by the raw ID text."""
    import yaml

    from graphwatch.resources import shipped_dir

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for path in sorted(shipped_dir("loaders").glob("*.yaml")):
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw_of = {}
        for header, spec in list(d["columns"].items()):
            specs = spec if isinstance(spec, list) else [spec]
            out = []
            for s in specs:
                out.append(s)
                if isinstance(s, dict) and s.get("type") == "resident_id":
                    raw_of[s["field"]] = s["field"] + "_raw"
                    out.append({"field": s["field"] + "_raw"})      # the text as written
            d["columns"][header] = out if len(out) > 1 else out[0]
        for node in d["nodes"].values():
            key = node.get("key")
            if isinstance(key, dict) and "resident_id" in key:
                label = node.get("label") or node["labels"][0]
                # NULL (no node) when the row has no ID: a naive join cannot link it to anyone
                node["key"] = f"{label}:{{{raw_of[key['resident_id']]}}}"
        (dest / path.name).write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def canonical_key(key: str) -> str:
    """A baseline node key read through the ID cleaning, to compare it with the truth."""
    from graphwatch.resolve.ids import clean_resident_id

    label, sep, rest = key.partition(":")
    if sep and label in ("Person", "DeathRecord") and not rest.startswith("@"):
        clean, status = clean_resident_id(rest)
        if clean and status == "valid":
            return f"{label}:{clean}"
    return key


# -- building the workspaces -------------------------------------------------------------
def build(work: Path, persons: int, seed: int, log) -> dict[str, Path]:
    from graphwatch.ingest import load_into
    from graphwatch.resolve import resolve
    from graphwatch.store import Workspace
    from graphwatch.synth import generate_county

    county = work / f"county_{persons}_{seed}"
    if not (county / "_truth" / "ground_truth.csv").exists():
        t = time.perf_counter()
        generate_county(county, persons=persons, seed=seed)
        log(f"generated {county} in {time.perf_counter() - t:.1f} s")
    out = {"county": county}
    for variant in VARIANTS:
        ws = work / f"ws_{persons}_{seed}_{variant}"
        out[variant] = ws
        if (ws / "graph.duckdb").exists():
            continue
        t = time.perf_counter()
        if variant == "baseline":
            load_into(ws, [county], mappings=[baseline_mappings(work / "baseline_mappings")], shipped=False)
        else:
            load_into(ws, [county])
        if variant == "resolved":
            with Workspace(ws) as w:
                resolve(w)
        log(f"built {ws} in {time.perf_counter() - t:.1f} s")
    return out


def machine() -> str:
    load = f"; load average at start {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return common.machine() + load


def markdown(rows: list[list[str]]) -> str:
    head = "| " + " | ".join(TABLE_HEADER) + " |\n|" + "|".join(["---"] + ["---:"] * (len(TABLE_HEADER) - 1)) + "|\n"
    return head + "".join("| " + " | ".join(r) + " |\n" for r in rows)


def details(results) -> list[str]:
    out = []
    for q in results:
        bits = []
        if q.missed:
            bits.append("missed " + ", ".join(q.missed))
        if q.false_alerts:
            bits.append(f"{len(q.false_alerts)} false alert(s), e.g. {q.false_alerts[0]['explain']}")
        if q.reported_near_misses:
            bits.append("near-misses reported " + ", ".join(q.reported_near_misses))
        if q.status == "no_truth":
            bits.append(f"no planted cases; {q.other_models_cases} of {q.alerts} alerts point at cases planted "
                        f"for other models")
        if q.status == "insufficient_data":
            bits.append(q.message)
        if bits:
            out.append(f"- `{q.model}`: " + "; ".join(bits))
    return out


def pooled_section(pooled: dict, seeds: list[int], persons: int) -> str:
    """Out of sample, all seeds together: per model and variant, the sums."""
    from graphwatch.alerts.evaluate import ModelQuality

    out = [f"\n### Out of sample, seeds {', '.join(map(str, seeds))} together ({len(seeds)} counties of "
           f"{persons:,} persons)\n"]
    for variant in VARIANTS:
        rows = []
        for model, qs in sorted(pooled[variant].items()):
            calc = [q for q in qs if q.status == "calculated"]
            s = ModelQuality(model, "calculated" if calc else qs[0].status,
                             planted=sum(q.planted for q in calc), found=sum(q.found for q in calc),
                             alerts=sum(q.alerts for q in qs), true_alerts=sum(q.true_alerts for q in calc),
                             near_misses=sum(q.near_misses for q in calc),
                             near_misses_reported=sum(q.near_misses_reported for q in calc),
                             seconds=sum(q.seconds for q in qs))
            rows.append(table_rows([s])[0])
        title = {"baseline": "naive baseline", "loaded": "loaded, not resolved", "resolved": "after resolve"}[variant]
        out.append(f"\n**{title}**\n\n" + markdown(rows))
    return "".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, action="append", help="first: the tuning seed (in sample); then out of sample")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--results", action="store_true", help="rewrite this benchmark's block of benchmarks/RESULTS.md")
    ap.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = ap.parse_args(argv)
    seeds = args.seed or [7, 11, 17, 19, 23]
    args.work.mkdir(parents=True, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    started = dt.date.today().isoformat()
    where = machine()
    rev = commit()
    sections, dump = [], {}
    pooled: dict[str, dict[str, list]] = {v: {} for v in VARIANTS}    # out of sample, per model
    for i, seed in enumerate(seeds):
        paths = build(args.work, args.persons, seed, log)
        params = json.loads((paths["county"] / "_truth" / "generator_params.json").read_text(encoding="utf-8"))
        truth = paths["county"] / "_truth" / "ground_truth.csv"
        sample = "in sample (tuning seed)" if i == 0 else "out of sample"
        sections.append(f"\n### {args.persons:,} persons, seed {seed} — {params['county_name']} "
                        f"({params['county_code']}) — {sample}\n")
        for variant in VARIANTS:
            t = time.perf_counter()
            res = evaluate(paths[variant], truth, key_map=canonical_key if variant == "baseline" else None)
            log(f"seed {seed} {variant}: evaluated in {time.perf_counter() - t:.1f} s")
            rows = table_rows(res)
            calc = [q for q in res if q.status == "calculated"]
            totals = (sum(q.planted for q in calc), sum(q.found for q in calc), sum(q.alerts for q in calc),
                      sum(q.true_alerts for q in calc), sum(q.near_misses_reported for q in calc),
                      sum(q.near_misses for q in calc))
            title = {"baseline": "naive baseline (exact raw ID text, no cleaning, no resolution)",
                     "loaded": "loaded (IDs cleaned), not resolved", "resolved": "after resolve"}[variant]
            sections.append(f"\n**{title}** — all rated models: {totals[1]} of {totals[0]} planted violations found, "
                            f"{totals[3]} of {totals[2]} alerts true, {totals[4]} of {totals[5]} near-misses "
                            f"reported\n\n" + markdown(rows))
            more = details(res)
            if more:
                sections.append("\n" + "\n".join(more) + "\n")
            dump[f"{seed}/{variant}"] = [q.as_dict() for q in res]
            if i > 0:
                for q in res:
                    pooled[variant].setdefault(q.model, []).append(q)
    if len(seeds) > 1:
        sections.insert(0, pooled_section(pooled, seeds[1:], args.persons))
    text = (f"\n## Detection quality of the model library — {started} (`benchmarks/bench_detection.py`)\n\n"
            f"Machine: {where}. Commit {rev}. Command: `PYTHONPATH=. python benchmarks/bench_detection.py --persons "
            f"{args.persons} " + " ".join(f"--seed {s}" for s in seeds) + " --results`. Definitions of *found*, "
            "*true alert* and *near-miss reported*: `graphwatch/alerts/evaluate.py`. Times are the model runs plus "
            "evaluation on DuckDB, on a shared machine.\n" + "".join(sections))
    print(text)
    if args.json:
        args.json.write_text(json.dumps(dump, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if args.results:
        common.record_block("detection", "bench_detection.py", text, keep_notes=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
