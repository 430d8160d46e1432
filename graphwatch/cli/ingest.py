"""Getting data in and looking at it: generate, load, stats, quarantine, mappings."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .console import console, frame_rows, progress_bar, workspace_option


def print_accounting(results) -> None:
    """Per-dataset load accounting: rows read = loaded + quarantined."""
    table = Table(title="Load accounting (rows read = loaded + quarantined)", show_lines=False)
    numeric = ("read", "loaded", "quarantined", "nodes", "relationships")
    for col in ("dataset", "format", "encoding", *numeric):
        table.add_column(col, justify="right" if col in numeric else "left")
    totals = [0, 0, 0, 0, 0]
    for r in results:
        table.add_row(r.dataset, r.format, r.encoding or "-", f"{r.rows_read:,}", f"{r.rows_loaded:,}",
                      f"[red]{r.rows_quarantined:,}[/]" if r.rows_quarantined else "0", f"{r.nodes:,}", f"{r.rels:,}")
        for k, v in enumerate((r.rows_read, r.rows_loaded, r.rows_quarantined, r.nodes, r.rels)):
            totals[k] += v
    table.add_row("[bold]total", "", "", *[f"[bold]{v:,}" for v in totals])
    console.print(table)
    for r in results:
        for note in r.notes:
            console.print(f"  note {r.dataset}: {note}")


@click.command()
@click.option("--persons", type=click.IntRange(min=1000), default=10_000, show_default=True, help="people in the county")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed (same seed, same files)")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="output folder")
@click.option("--county", metavar="CODE", default=None,
              help="the county's 6-digit division code (default: the seed picks one); counties of different "
                   "codes load into one workspace side by side")
def generate(persons: int, seed: int, out: Path, county: str | None):
    """Write a synthetic county: every source file, and in _truth/ the planted violations (ground_truth.csv).

    \b
    Example:
      graphwatch generate --persons 100000 --seed 7 --out data/county
      graphwatch generate --persons 50000 --seed 8 --county 510722 --out data/county2
    """
    from ..synth import generate_county

    with progress_bar("generate") as update:
        counts = generate_county(out, persons=persons, seed=seed, county=county, progress=update)
    table = Table(title=f"Synthetic county in {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(str(name), f"{n:,}")
    console.print(table)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@workspace_option(help="workspace folder (created if missing)")
@click.option("--mapping", "-m", help="mapping name in loaders/ or a YAML path (default: matched per file)")
def load(sources, workspace: Path, mapping: str | None):
    """Load source files, folders or database URLs into a workspace (one transaction).

    Each file is matched to a mapping in loaders/ by its name or header; a folder in the
    neo4j-admin import format is detected from its headers. Rows that cannot load are
    quarantined with file, line, column and reason; the accounting is printed.

    \b
    Example:
      graphwatch load data/county --workspace ws
      graphwatch load "sqlite:///county.db#roll" --mapping benefit_rolls --workspace ws
    """
    from ..ingest import load as load_sources
    from ..store import Workspace

    with Workspace(workspace, create=True) as ws, progress_bar("load") as update:
        results = load_sources(ws, sources, mapping=mapping, progress=update)
    print_accounting(results)


@click.command()
@workspace_option()
def stats(workspace: Path):
    """Counts per label and relationship type, loaded datasets, and the quarantine summary.

    \b
    Example:
      graphwatch stats --workspace ws
    """
    from ..store import Workspace

    with Workspace(workspace, read_only=True) as ws:
        counts = ws.counts()
        totals = ws.totals()
        reports = ws.load_reports()
        quarantine = ws.quarantine_summary()
    schema = ws.schema
    t = Table(title=f"Workspace {workspace}: {totals['nodes']:,} nodes, {totals['relationships']:,} relationships")
    t.add_column("label / type")
    t.add_column("中文")
    t.add_column("count", justify="right")
    for label, n in counts["labels"].items():
        zh = schema.labels[label].title_zh if label in schema.labels else ""
        t.add_row(f"(:{label})", zh, f"{n:,}")
    for typ, n in counts["types"].items():
        zh = schema.rel_types[typ].title_zh if typ in schema.rel_types else ""
        t.add_row(f"[:{typ}]", zh, f"{n:,}")
    console.print(t)
    d = Table(title="Datasets")
    for col in ("dataset", "encoding", "read", "loaded", "quarantined", "loaded_at"):
        d.add_column(col)
    # an Excel dataset has no encoding: next to a CSV one, pandas 3 makes that NaN (frame_rows)
    for r in frame_rows(reports):
        d.add_row(r.dataset, r.encoding or "-", f"{r.rows_read:,}", f"{r.rows_loaded:,}", f"{r.rows_quarantined:,}",
                  str(r.loaded_at)[:19])
    console.print(d)
    if len(quarantine):
        qt = Table(title=f"Quarantine: {totals['quarantined_rows']:,} rows (see 'graphwatch quarantine')")
        for col in ("dataset", "column", "reason", "rows"):
            qt.add_column(col)
        for r in frame_rows(quarantine):
            qt.add_row(r.dataset, "-" if r.column is None else str(r.column), r.reason_kind or "", f"{r.rows:,}")
        console.print(qt)
    else:
        console.print("Quarantine: empty")


@click.command()
@workspace_option()
@click.option("--dataset", help="only this dataset (e.g. household_registry/household_registry.csv)")
@click.option("--limit", type=int, default=50, show_default=True)
def quarantine(workspace: Path, dataset: str | None, limit: int):
    """List quarantined rows: file, line, column, reason and the raw cells.

    \b
    Example:
      graphwatch quarantine --workspace ws --dataset benefit_rolls/benefit_rolls.csv
    """
    from ..store import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rows = ws.con.execute("""SELECT source, line_label, line, "column", reason, raw FROM quarantine
            WHERE $d IS NULL OR dataset = $d ORDER BY dataset, line LIMIT $n""", {"d": dataset, "n": limit}).fetchall()
    for source, label, line, column, reason, raw in rows:
        console.print(f"{source}, {label} {line}, column {column!r}: {reason}\n    {raw}", markup=False)
    if not rows:
        console.print("no quarantined rows")


@click.command()
def mappings():
    """List the loader mappings in loaders/ and the files each one matches.

    \b
    Example:
      graphwatch mappings
    """
    from ..ingest.mapping import load_mappings

    t = Table(title="Loader mappings")
    for col in ("name", "中文", "files", "columns"):
        t.add_column(col)
    for m in load_mappings().values():
        t.add_row(m.name, m.title_zh, ", ".join(m.files), str(len({c.header for c in m.columns})))
    console.print(t)
