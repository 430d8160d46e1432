"""demo: the library's :func:`graphwatch.demo.run_demo`, printed."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .console import cell, console, progress_bar
from .ingest import print_accounting
from .resolve import print_resolve_report

DEFAULT_DEMO_DIR = Path(".graphwatch") / "demo"


@click.command()
@click.option("--persons", type=click.IntRange(min=1000), default=5_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DEMO_DIR,
              show_default=True, help="where the county files and the workspace go")
def demo(persons: int, seed: int, folder: Path):
    """Generate a small synthetic county, load and resolve it, run one supervision model.

    \b
    Example:
      graphwatch demo --persons 20000
    """
    from ..demo import run_demo

    with progress_bar("demo") as update:
        rep = run_demo(folder, persons=persons, seed=seed, progress=update)
    console.print(f"county files in {rep.county}")
    print_accounting(rep.loads)
    console.print(f"workspace {rep.workspace}: {rep.loaded['nodes']:,} nodes, {rep.loaded['relationships']:,} "
                  f"relationships, {rep.loaded['quarantined_rows']:,} quarantined rows")
    print_resolve_report(rep.resolution)
    console.print("labels: " + ", ".join(f"{k} {v:,}" for k, v in rep.counts["labels"].items()))
    console.print("types:  " + ", ".join(f"{k} {v:,}" for k, v in rep.counts["types"].items()))
    t = Table(title=f"{rep.pattern.title_zh} · {rep.pattern.title_en} ({rep.pattern.id})")
    for c in rep.columns:
        t.add_column(c)
    for row in rep.rows[:10]:
        t.add_row(*[cell(v) for v in row])
    console.print(t)
    truth = rep.truth
    console.print(f"{len(rep.rows)} alert row(s); the generator planted {truth.planted} violation(s): "
                  f"{truth.found} found, {truth.near_misses_reported} of {truth.near_misses} near-misses reported")
    if truth.missed:
        console.print("missed: " + ", ".join(truth.missed))
    if truth.false_alarms:
        console.print("near-misses reported: " + ", ".join(truth.false_alarms))
    console.print(f"next: graphwatch query \"MATCH (o:Official) RETURN count(*)\" --workspace {rep.workspace}")
    console.print(f"open it in the explorer: graphwatch run --workspace {rep.workspace} && "
                  f"graphwatch app --workspace {rep.workspace}", markup=False, soft_wrap=True)   # one line to copy
