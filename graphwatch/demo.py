"""The demo as a library call: a synthetic county from files to alerts, checked against the truth.

:func:`run_demo` generates a county, loads it, resolves persons and companies, runs the
own-village model from the pattern library on the embedded engine and compares its rows with
the violations and near-misses the generator planted (``ground_truth.csv``). It returns a
plain :class:`DemoReport`: ``graphwatch demo`` prints it; notebooks and tests read it.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .alerts.library import Pattern, load_pattern
from .engines import Result, open_engine
from .ingest import load
from .resolve import ResolveReport, resolve
from .store import LoadResult, Workspace
from .synth import GROUND_TRUTH, generate_county

#: the model the demo runs
DEMO_PATTERN = "own_village_project"

Progress = Callable[[str, int, int], None]


@dataclass
class TruthComparison:
    """A pattern's rows against the cases the generator planted for its model.

    A planted case is *matched* when one row's bound nodes include every entity the truth
    names for it (cadre, relative, company, contract, project, village).
    """

    model: str
    planted: int                   # planted violations
    found: int                     # of them, matched by a row
    near_misses: int               # planted look-alikes that must not match
    near_misses_reported: int      # of them, matched by a row (goal: 0)
    missed: list[str] = field(default_factory=list)        # ids of violations no row matched
    false_alarms: list[str] = field(default_factory=list)  # ids of near-misses a row matched


@dataclass
class DemoReport:
    """What :func:`run_demo` did, as plain data."""

    county: Path                   # the generated source files
    workspace: Path
    files: dict[str, int]          # rows written per generated file
    loads: list[LoadResult]        # per-dataset accounting (rows read = loaded + quarantined)
    loaded: dict[str, int]         # nodes, relationships and quarantined rows after the load
    resolution: ResolveReport
    counts: dict[str, dict[str, int]]   # nodes per label, relationships per type after resolve
    pattern: Pattern
    columns: list[str]             # the pattern's rows
    rows: list[tuple]
    truth: TruthComparison


def run_demo(folder: str | Path, *, persons: int = 5_000, seed: int = 1,
             progress: Progress | None = None) -> DemoReport:
    """Generate, load and resolve a county in ``folder``, run the own-village model, check it.

    ``folder/county`` and ``folder/workspace`` are replaced. ``progress(step, done, total)``
    is called throughout; ``step`` starts with the stage (generate, load, resolve, run).
    """
    folder = Path(folder)
    county, ws_dir = folder / "county", folder / "workspace"
    for d in (county, ws_dir):
        if d.exists():
            shutil.rmtree(d)
    files = generate_county(county, persons=persons, seed=seed, progress=_stage(progress, "generate"))
    with Workspace(ws_dir, create=True) as ws:
        loads = load(ws, [county], progress=_stage(progress, "load"))
        loaded = ws.totals()
    with Workspace(ws_dir) as ws:
        resolution = resolve(ws, progress=_stage(progress, "resolve"))
        counts = ws.counts()
    pattern = load_pattern(DEMO_PATTERN)
    if progress:
        progress(f"run: {pattern.id}", 0, 1)
    with open_engine("duckdb", ws_dir) as eng:
        res = eng.run(pattern.cypher, pattern.bind(), bindings=True)   # with the evidence of each row
    truth = compare_with_truth(row_keys(ws_dir, res), county / GROUND_TRUTH.name, pattern.id)
    if progress:
        progress(f"run: {pattern.id}", 1, 1)
    return DemoReport(county=county, workspace=ws_dir, files=files, loads=loads, loaded=loaded,
                      resolution=resolution, counts=counts, pattern=pattern, columns=list(res.columns),
                      rows=list(res.rows), truth=truth)


def row_keys(workspace: str | Path, result: Result) -> list[set[str]]:
    """For each row of ``result``, the keys of the nodes it was built from."""
    ids = sorted({nid for b in result.bindings for nid in b.nodes})
    with Workspace(workspace, read_only=True) as ws:
        key = dict(ws.con.execute("SELECT nid, key FROM node WHERE list_contains($ids, nid)",
                                  {"ids": ids}).fetchall()) if ids else {}
    return [{key[n] for n in b.nodes if n in key} for b in result.bindings]


def compare_with_truth(rows: list[set[str]], truth_csv: str | Path, model: str) -> TruthComparison:
    """Which planted cases of ``model`` in the generator's ``ground_truth.csv`` the rows match.

    ``rows`` holds, per result row, the keys of its bound nodes (:func:`row_keys`).

    >>> import tempfile, pathlib
    >>> truth = pathlib.Path(tempfile.mkdtemp()) / "ground_truth.csv"
    >>> _ = truth.write_text("model_id,violation_id,kind,entity_kind,entity_key,note\\n"
    ...     "m,V1,violation,Person,Person:a,\\nm,V1,violation,Contract,Contract:1,\\n"
    ...     "m,V2,violation,Contract,Contract:2,\\nm,N1,near_miss,Contract,Contract:3,\\n", encoding="utf-8")
    >>> c = compare_with_truth([{"Person:a", "Contract:1", "Company:x"}], truth, "m")
    >>> (c.planted, c.found, c.missed, c.near_misses, c.near_misses_reported)
    (2, 1, ['V2'], 1, 0)
    """
    cases: dict[tuple[str, str], set[str]] = {}
    with open(truth_csv, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["model_id"] == model:
                cases.setdefault((r["kind"], r["violation_id"]), set()).add(r["entity_key"])

    def matched(keys: set[str]) -> bool:
        return any(keys <= row for row in rows)

    violations = sorted(v for (kind, v) in cases if kind == "violation")
    near = sorted(v for (kind, v) in cases if kind == "near_miss")
    missed = [v for v in violations if not matched(cases["violation", v])]
    false_alarms = [v for v in near if matched(cases["near_miss", v])]
    return TruthComparison(model=model, planted=len(violations), found=len(violations) - len(missed),
                           near_misses=len(near), near_misses_reported=len(false_alarms), missed=missed,
                           false_alarms=false_alarms)


def _stage(progress: Progress | None, stage: str) -> Progress | None:
    if progress is None:
        return None
    return lambda step, done, total: progress(f"{stage}: {step}", done, total)
