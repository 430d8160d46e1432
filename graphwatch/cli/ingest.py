"""Getting data in and looking at it: generate, load, stats, quarantine, mappings."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .console import console, escape, frame_rows, plain, progress_bar, workspace_option


def print_accounting(results) -> None:
    """Per-dataset load accounting: rows read = loaded + quarantined; files not loaded listed after."""
    table = Table(title="Load accounting (rows read = loaded + quarantined)", show_lines=False)
    numeric = ("read", "loaded", "quarantined", "nodes", "relationships")
    for col in ("dataset", "format", "encoding", *numeric):
        table.add_column(col, justify="right" if col in numeric else "left")
    totals = [0, 0, 0, 0, 0]
    loaded = [r for r in results if r.format not in NOT_LOADED]
    for r in loaded:
        table.add_row(plain(r.dataset), plain(r.format), plain(r.encoding or "-"), f"{r.rows_read:,}",
                      f"{r.rows_loaded:,}",
                      f"[red]{r.rows_quarantined:,}[/]" if r.rows_quarantined else "0", f"{r.nodes:,}", f"{r.rels:,}")
        for k, v in enumerate((r.rows_read, r.rows_loaded, r.rows_quarantined, r.nodes, r.rels)):
            totals[k] += v
    table.add_row("[bold]total", "", "", *[f"[bold]{v:,}" for v in totals])
    console.print(table)
    for r in loaded:
        for note in r.notes:
            console.print(f"  note {r.dataset}: {note}", markup=False)
    for r in results:
        if r.format == "schema":
            console.print(f"workspace schema from {r.source}:", markup=False)
            for note in r.notes:
                console.print(f"  {note}", markup=False)
        elif r.format == "resolution":
            console.print("entity resolution kept · 实体消解已更新:", markup=False)
            for note in r.notes:
                console.print(f"  {note}", markup=False)
    skipped = [r for r in results if r.format in ("skipped", "not data")]
    if skipped:
        console.print(f"not loaded ({len(skipped)}):")
        for r in skipped:
            console.print(f"  {r.format}: {r.notes[0]}", markup=False)


#: accounting entries for files that were not loaded (and the inferred schema, and resolution)
NOT_LOADED = ("skipped", "not data", "schema", "resolution")


@click.command()
@click.option("--persons", type=click.IntRange(min=1000), default=10_000, show_default=True, help="people in the county")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed (same seed, same files)")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="output folder: new or empty (another county's files are never overwritten)")
@click.option("--county", metavar="CODE", default=None,
              help="the county's 6-digit division code (default: the seed picks one); counties of different "
                   "codes load into one workspace side by side")
def generate(persons: int, seed: int, out: Path, county: str | None):
    """Write a synthetic county: every source file, and in _truth/ the planted violations (ground_truth.csv).

    --out must be a new or empty folder: one that holds files is refused, so a county is never
    written over another (or over the user's files).

    \b
    Example:
      graphwatch generate --persons 100000 --seed 7 --out data/county
      graphwatch generate --persons 50000 --seed 8 --county 510722 --out data/county2
    """
    from ..synth import generate_county

    with progress_bar("generate") as update:
        counts = generate_county(out, persons=persons, seed=seed, county=county, progress=update)
    table = Table(title=f"Synthetic county in {escape(out)}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(plain(name), f"{n:,}")
    console.print(table)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@workspace_option(help="workspace folder (created if missing; a failed load leaves no new one behind)")
@click.option("--mappings", "mapping_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True, path_type=Path),
              help="a folder (or YAML file) of your own mappings, used beside the shipped ones (repeatable)")
@click.option("--no-shipped-mappings", is_flag=True, help="use only the mappings given with --mappings")
@click.option("--mapping", "-m", "named", multiple=True, metavar="NAME|FILE",
              help="only these mappings may claim the files (repeatable); one loads every file given")
@click.option("--skip-unclaimed", is_flag=True,
              help="load what mappings claim and list the files none claims (default: stop before loading)")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the workspace's own additions to the schema (kept in WORKSPACE/schema.yaml)")
@click.option("--infer-schema", is_flag=True,
              help="take labels, types and typed properties from the neo4j-admin folders loaded")
def load(sources, workspace: Path, mapping_dirs, no_shipped_mappings: bool, named, skip_unclaimed: bool,
         schema_file: Path | None, infer_schema: bool):
    """Load source files, folders or database URLs into a workspace (one transaction).

    Each file is claimed by one mapping — your --mappings folders and the shipped loaders/ —
    by its file name and header; files no mapping claims are listed (with the closest
    mapping and the columns that differ) before anything is written. A folder in the
    neo4j-admin import format is read from its headers. Rows that cannot load are
    quarantined with file, line, column and reason; the accounting is printed.

    \b
    Example:
      graphwatch load data/county --workspace ws
      graphwatch load new-county --mappings my-mappings --workspace ws
      graphwatch load neo4j-export --infer-schema --workspace ws-export
      graphwatch load "sqlite:///county.db#roll" --mapping benefit_rolls --workspace ws
    """
    from ..ingest import load_into

    with progress_bar("load") as update:
        results = load_into(workspace, sources, mapping=list(named), mappings=mapping_dirs,
                            shipped=not no_shipped_mappings, skip_unclaimed=skip_unclaimed,
                            schema=schema_file, infer_schema=infer_schema, progress=update)
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
    t = Table(title=f"Workspace {escape(workspace)}: {totals['nodes']:,} nodes, "
                    f"{totals['relationships']:,} relationships")
    t.add_column("label / type")
    t.add_column("中文")
    t.add_column("count", justify="right")
    t.add_column("source records", justify="right")
    for label, n in counts["labels"].items():
        zh = schema.labels[label].title_zh if label in schema.labels else ""
        t.add_row(plain(f"(:{label})"), plain(zh), f"{n:,}", "")
    for typ, n in counts["types"].items():
        zh = schema.rel_types[typ].title_zh if typ in schema.rel_types else ""
        t.add_row(plain(f"[:{typ}]"), plain(zh), f"{n:,}", f"{counts['type_records'][typ]:,}")
    console.print(t)
    d = Table(title="Datasets")
    for col in ("dataset", "encoding", "read", "loaded", "quarantined", "loaded_at"):
        d.add_column(col)
    # an Excel dataset has no encoding: next to a CSV one, pandas 3 makes that NaN (frame_rows)
    for r in frame_rows(reports):
        d.add_row(plain(r.dataset), plain(r.encoding or "-"), f"{r.rows_read:,}", f"{r.rows_loaded:,}",
                  f"{r.rows_quarantined:,}", plain(str(r.loaded_at)[:19]))
    console.print(d)
    if len(quarantine):
        qt = Table(title=f"Quarantine: {totals['quarantined_rows']:,} rows (see 'graphwatch quarantine')")
        for col in ("dataset", "column", "reason", "rows"):
            qt.add_column(col)
        for r in frame_rows(quarantine):
            qt.add_row(plain(r.dataset), plain("-" if r.column is None else r.column), plain(r.reason_kind),
                       f"{r.rows:,}")
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
