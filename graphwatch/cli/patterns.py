"""patterns list | show | validate | test: the model builder's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from .alerts import _patterns_options
from .console import GraphwatchGroup, console, err_console, escape, plain


@click.group(cls=GraphwatchGroup)
def patterns():
    """The supervision models (监督模型): list, show, validate and test pattern files.

    \b
    Example:
      graphwatch patterns test own_village_project
    """


def _library(pattern_dirs, no_shipped: bool):
    from ..alerts.library import load_library

    return load_library(pattern_dirs, shipped=not no_shipped)


@patterns.command("list")
@_patterns_options
def list_patterns(pattern_dirs, no_shipped_patterns: bool):
    """Every model with its title, severity, domains and parameters.

    \b
    Example:
      graphwatch patterns list --patterns my-models
    """
    t = Table(title="监督模型 · supervision models")
    for col in ("id", "中文", "title", "severity", "tags", "parameters", "fixtures"):
        t.add_column(col)
    for p in _library(pattern_dirs, no_shipped_patterns).values():
        t.add_row(*map(plain, (p.id, p.title_zh, p.title_en, p.severity, ", ".join(p.tags),
                               ", ".join(f"{q.name}={q.default}" for q in p.params))), str(len(p.fixtures)))
    console.print(t)


@patterns.command("show")
@click.argument("pattern_id")
@_patterns_options
def show_pattern(pattern_id: str, pattern_dirs, no_shipped_patterns: bool):
    """One model: what it finds, why it signals risk, its parameters, Cypher and file.

    \b
    Example:
      graphwatch patterns show own_village_project
    """
    from ..alerts.runner import select

    p, = select(_library(pattern_dirs, no_shipped_patterns), [pattern_id])
    console.print(f"[bold]{escape(p.id)}[/]  "
                  + escape(f"{p.title_zh} · {p.title_en}  ({p.severity}; {', '.join(p.tags)})"))
    for text in (p.description_zh, p.description_en, p.why_zh, p.why_en):
        if text:
            console.print(text, markup=False)
    console.print(f"subject: {p.subject}; object: {p.object or '-'}; file: {p.file}", markup=False)
    for q in p.params:
        console.print(f"param {q.name} ({q.type}) = {q.default!r}  {q.doc}", markup=False)
    console.print(p.cypher if p.kind == "cypher" else f"algorithm: {p.function}", markup=False)


@patterns.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a workspace schema the models may use")
def validate(files, schema_file: Path | None):
    """Check pattern files (every file of the shipped library by default): each problem with
    its file and line. Exit status 1 when one is wrong.

    \b
    Example:
      graphwatch patterns validate my-models/*.yaml
    """
    from ..alerts.library import parse_pattern, patterns_dir
    from ..exc import GraphwatchError
    from ..schema import load_schema, parse_schema

    schema = parse_schema(schema_file, base=load_schema()) if schema_file else load_schema()
    paths = []
    for f in files or [patterns_dir()]:
        paths += sorted(Path(f).glob("*.yaml")) if Path(f).is_dir() else [Path(f)]
    bad = 0
    for path in paths:
        try:
            p = parse_pattern(path, schema=schema)
            console.print(f"ok  {path}: {p.id} ({len(p.fixtures)} fixtures)", markup=False)
        except GraphwatchError as exc:
            bad += 1
            err_console.print("[bold red]error:[/] " + escape(str(exc)), soft_wrap=True)
    console.print(f"{len(paths) - bad} of {len(paths)} pattern file(s) valid")
    if bad:
        sys.exit(1)


@patterns.command("test")
@click.argument("pattern_ids", nargs=-1)
@click.option("--engine", type=click.Choice(["duckdb", "neo4j"]), default="duckdb", show_default=True,
              help="neo4j: the fixtures are pushed to the server of --workspace (or --uri) and run there")
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              help="with --engine neo4j: the workspace whose server to use")
@_patterns_options
def test(pattern_ids, engine: str, workspace, pattern_dirs, no_shipped_patterns: bool):
    """Run each model on its fixtures: the positive graph must give exactly its expected
    alerts, the near-miss none. Exit status 1 when one fails.

    \b
    Example:
      graphwatch patterns test own_village_project split_contracts
    """
    from ..alerts.fixtures import test_patterns
    from ..alerts.runner import select

    chosen = select(_library(pattern_dirs, no_shipped_patterns), pattern_ids or None)
    target = None
    if engine == "neo4j":
        from ..neo4j.connection import Neo4jTarget

        target = Neo4jTarget.resolve(workspace)
    results = test_patterns(chosen, engine=engine, target=target)
    for r in results:
        console.print(("[green]ok[/] " if r.ok else "[red]FAILED[/] ") + escape(r.describe()))
    failed = [r for r in results if not r.ok]
    console.print(f"{len(results) - len(failed)} of {len(results)} fixture run(s) passed")
    if failed:
        sys.exit(1)
