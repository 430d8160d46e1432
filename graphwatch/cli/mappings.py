"""mappings list | check: the loader mappings, and which file each would claim."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from .console import GraphwatchGroup, console, err_console, escape, plain


@click.group(cls=GraphwatchGroup, invoke_without_command=True)
@click.pass_context
def mappings(ctx):
    """Loader mappings: list them (the default), or check a folder of your own against some data.

    \b
    Example:
      graphwatch mappings check my-mappings new-county
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_mappings)


@mappings.command("list")
@click.argument("folders", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--no-shipped-mappings", is_flag=True, help="leave out the shipped loaders/")
def list_mappings(folders, no_shipped_mappings: bool):
    """The mappings (shipped, and those in FOLDERS) with the files each claims by name.

    \b
    Example:
      graphwatch mappings list my-mappings
    """
    from ..ingest import available_mappings
    from ..schema import load_schema

    t = Table(title="Loader mappings")
    for col in ("name", "中文", "files", "columns", "file"):
        t.add_column(col)
    for m in available_mappings(load_schema(), folders, shipped=not no_shipped_mappings).values():
        t.add_row(plain(m.name), plain(m.title_zh), plain(", ".join(m.files)), str(len({c.header for c in m.columns})),
                  plain(m.file))
    console.print(t)


@mappings.command("check")
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.argument("data", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--no-shipped-mappings", is_flag=True, help="leave out the shipped loaders/")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a workspace schema the mappings may use (see 'graphwatch load --schema')")
def check(folder: Path, data, no_shipped_mappings: bool, schema_file: Path | None):
    """Check every mapping in FOLDER (each error with file and line) and show which file of
    DATA each mapping would claim, without loading. Exit status 1 when something is wrong.

    \b
    Example:
      graphwatch mappings check my-mappings new-county
    """
    from ..ingest.check import check_mappings
    from ..schema import load_schema, parse_schema

    schema = parse_schema(schema_file, base=load_schema()) if schema_file else load_schema()
    report = check_mappings([folder], data, schema=schema, shipped=not no_shipped_mappings)
    for exc in report.errors:
        err_console.print("[bold red]error:[/] " + escape(str(exc)), soft_wrap=True, highlight=False)
    bad_files = len({exc.file for exc in report.errors})
    console.print(f"{len(report.mappings)} mapping(s) read; {len(report.errors)} error(s) in {bad_files} file(s)")
    if report.plan is not None:
        t = Table(title="Which mapping claims which file")
        for col in ("file", "mapping", "mapping file"):
            t.add_column(col)
        for c in report.plan.claims:
            t.add_row(plain(c.source), plain(c.mapping.name if c.mapping else "(neo4j-admin folder)"),
                      plain(c.mapping.file if c.mapping else ""))
        console.print(t)
        for u in report.plan.unclaimed:
            console.print(("unclaimed: " if u.data else "not data: ") + u.describe(), markup=False)
    if not report.ok:
        sys.exit(1)
