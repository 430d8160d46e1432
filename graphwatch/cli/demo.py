"""demo: the library's :func:`graphwatch.demo.run_demo`, printed."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .console import console, plain, progress_bar
from .ingest import print_accounting
from .resolve import print_resolve_report

DEFAULT_DEMO_DIR = Path(".graphwatch") / "demo"


@click.command()
@click.option("--persons", type=click.IntRange(min=1000), default=5_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DEMO_DIR,
              show_default=True, help="where the county files and the workspace go")
def demo(persons: int, seed: int, folder: Path):
    """Generate a synthetic county, load and resolve it, run every supervision model and rate
    each against the violations the generator planted.

    \b
    Example:
      graphwatch demo --persons 20000
    """
    from ..alerts.library import load_library
    from ..alerts.store import AlertStore
    from ..demo import run_demo
    from ..masking import mask_text

    with progress_bar("demo") as update:
        rep = run_demo(folder, persons=persons, seed=seed, progress=update)
    console.print(f"county files in {rep.county}", markup=False)
    print_accounting(rep.loads)
    console.print(f"workspace {rep.workspace}: {rep.loaded['nodes']:,} nodes, {rep.loaded['relationships']:,} "
                  f"relationships, {rep.loaded['quarantined_rows']:,} quarantined rows", markup=False)
    print_resolve_report(rep.resolution)
    console.print("labels: " + ", ".join(f"{k} {v:,}" for k, v in rep.counts["labels"].items()), markup=False)
    console.print("types:  " + ", ".join(f"{k} {v:,}" for k, v in rep.counts["types"].items()), markup=False)
    library = load_library()
    stored = {r.model: r for r in rep.runs}
    t = Table(title="监督模型 · supervision models — alerts stored, rated against the planted truth")
    for i, c in enumerate(("model", "模型", "alerts", "planted", "found", "recall", "precision", "near-misses")):
        t.add_column(c, justify="left" if i < 2 else "right")
    for q in rep.quality:
        run = stored.get(q.model)
        alerts = "—" if run is None or run.status != "ok" else f"{run.found:,}"
        if q.status == "insufficient_data":
            rated = ["—", "insufficient data", "—", "—"]
        elif q.status == "no_truth":
            rated = ["—", "no truth", "—", "—"]
        else:
            rated = [f"{q.found}", "—" if q.recall is None else f"{q.recall:.2f}",
                     "—" if q.precision is None else f"{q.precision:.2f}", f"{q.near_misses_reported} / {q.near_misses}"]
        t.add_row(plain(q.model), plain(library[q.model].title_zh if q.model in library else ""), alerts,
                  str(q.planted) if q.status != "no_truth" else "—", *rated)
    console.print(t)
    planted, found, near, reported = rep.totals()
    console.print(f"the generator planted {planted} violation(s): {found} found, "
                  f"{reported} of {near} near-misses reported")
    for q in rep.quality:
        if q.missed:
            console.print(f"{q.model}: missed {', '.join(q.missed)}", markup=False)
        if q.reported_near_misses:
            console.print(f"{q.model}: near-misses reported {', '.join(q.reported_near_misses)}", markup=False)
    with AlertStore(rep.workspace) as store:
        top = store.list(order="rank", limit=3, matching=True)
    if top:
        console.print("highest-ranked alerts (ID numbers masked):")
        for a in top:
            console.print(f"  {a['id']}  {mask_text(a['explain_zh'] or '')}", markup=False)
    console.print(f"next: graphwatch alerts list --workspace {rep.workspace}", markup=False)
    console.print(f"      graphwatch alerts show {top[0]['id'] if top else 'ALERT_ID'} --workspace {rep.workspace}",
                  markup=False)
    console.print(f"open it in the explorer: graphwatch app --workspace {rep.workspace}", markup=False,
                  soft_wrap=True)      # one line to copy
