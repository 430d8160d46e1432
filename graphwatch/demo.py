"""The demo as a library call: a synthetic county from files to alerts, rated against the truth.

:func:`run_demo` generates a county, loads it, resolves persons and companies, runs every
supervision model of the library on the embedded engine (their alerts go to the workspace's
alert store, as ``graphwatch run`` would put them) and rates each model against the violations
and near-misses the generator planted (``_truth/ground_truth.csv``) with
:func:`graphwatch.alerts.evaluate.evaluate`. It returns a plain :class:`DemoReport`:
``graphwatch demo`` prints it; notebooks and tests read it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .alerts.evaluate import ModelQuality, evaluate
from .alerts.runner import ModelRun, run_models
from .ingest import load
from .resolve import ResolveReport, resolve
from .store import LoadResult, Workspace
from .synth import GROUND_TRUTH, generate_county

Progress = Callable[[str, int, int], None]


@dataclass
class DemoReport:
    """What :func:`run_demo` did, as plain data."""

    county: Path                   # the generated source files
    workspace: Path
    truth: Path                    # the generator's planted cases
    files: dict[str, int]          # rows written per generated file
    loads: list[LoadResult]        # per-dataset accounting (rows read = loaded + quarantined)
    loaded: dict[str, int]         # nodes, relationships and quarantined rows after the load
    resolution: ResolveReport
    counts: dict[str, dict[str, int]]   # nodes per label, relationships per type after resolve
    runs: list[ModelRun]           # what each model's run stored in the alert store
    quality: list[ModelQuality]    # each model rated against the planted truth

    def totals(self) -> tuple[int, int, int, int]:
        """(planted violations, found, near-misses planted, near-misses reported) over the
        models that have planted cases."""
        rated = [q for q in self.quality if q.status == "calculated"]
        return (sum(q.planted for q in rated), sum(q.found for q in rated),
                sum(q.near_misses for q in rated), sum(q.near_misses_reported for q in rated))


def run_demo(folder: str | Path, *, persons: int = 5_000, seed: int = 1,
             progress: Progress | None = None) -> DemoReport:
    """Generate, load and resolve a county in ``folder``, run every model, rate each.

    ``folder/county`` and ``folder/workspace`` are replaced. ``progress(step, done, total)``
    is called throughout; ``step`` starts with the stage (generate, load, resolve, run, rate).
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
    runs = run_models(ws_dir, progress=_stage(progress, "run"))
    truth = county / GROUND_TRUTH.name
    quality = evaluate(ws_dir, truth, progress=_stage(progress, "rate"))
    return DemoReport(county=county, workspace=ws_dir, truth=truth, files=files, loads=loads, loaded=loaded,
                      resolution=resolution, counts=counts, runs=runs, quality=quality)


def _stage(progress: Progress | None, stage: str) -> Progress | None:
    if progress is None:
        return None
    return lambda step, done, total: progress(f"{stage}: {step}", done, total)
