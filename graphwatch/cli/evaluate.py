"""evaluate: rate the model library's alerts on a workspace against a planted truth."""

from __future__ import annotations

from pathlib import Path

import click

from .console import console, err_console, escape, plain, progress_bar, workspace_option
from .neo4j import neo4j_options, prompt_password


@click.command()
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the planted truth: a generated county's _truth/ground_truth.csv (model_id, violation_id, "
                   "kind, entity_kind, entity_key, note)")
@workspace_option()
@click.option("--model", "-m", "models", multiple=True, metavar="MODEL",
              help="rate only this model (repeatable; default: every model of the library)")
@click.option("--param", "params", multiple=True, metavar="MODEL.NAME=VALUE",
              help="a model parameter, as for 'graphwatch run' (VALUE is JSON when it parses, else text; repeatable)")
@click.option("--patterns", "pattern_dirs", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="a folder of the county's own pattern files, read beside the shipped ones (repeatable)")
@click.option("--engine", type=click.Choice(["duckdb", "neo4j"]), default="duckdb", show_default=True,
              help="engine the Cypher models run on")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@neo4j_options
def evaluate(truth: Path, workspace: Path, models: tuple[str, ...], params: tuple[str, ...],
             pattern_dirs: tuple[Path, ...], engine: str, fmt: str, uri, user, ask_password, database):
    """Recall and precision of each supervision model against planted violations.

    Runs the models as 'graphwatch run' would — nothing is stored — and compares their alerts
    with the truth: a planted violation is found when an alert's evidence holds all its
    entities (payment records aside); an alert is true when it finds one; a near-miss is
    reported when an alert finds it or is about its entities (goal: 0). The definitions are in
    graphwatch/alerts/evaluate.py. A model whose data is not loaded says "insufficient data".

    \b
    Example:
      graphwatch evaluate --truth county/_truth/ground_truth.csv --workspace ws
    """
    import json

    from rich.table import Table

    from ..alerts.evaluate import TABLE_HEADER, evaluate as run_evaluation, table_rows
    from ..alerts.runner import parse_params

    connection = {"uri": uri, "user": user, "password": prompt_password(ask_password), "database": database}
    with progress_bar("evaluating") as progress:
        results = run_evaluation(workspace, truth, models=models or None, pattern_dirs=pattern_dirs,
                                 params=parse_params(params), engine=engine, connection=connection,
                                 progress=progress)
    if fmt == "json":
        click.echo(json.dumps([q.as_dict() for q in results], ensure_ascii=False, indent=1, default=str))
        return
    t = Table(title=f"detection quality — {escape(workspace)} against {escape(truth)}")
    for i, c in enumerate(TABLE_HEADER):
        t.add_column(c, justify="left" if i == 0 else "right")
    for row in table_rows(results):
        t.add_row(*map(plain, row))
    console.print(t)
    for q in results:
        if q.status == "insufficient_data":
            err_console.print(f"{q.model}: insufficient data — {q.message}", markup=False)
        if q.missed:
            console.print(f"{q.model}: missed {', '.join(q.missed)}", markup=False)
        for a in q.false_alerts:
            console.print(f"{q.model}: false alert {a['id']} ({a['subject']}"
                          f"{' → ' + a['object'] if a['object'] else ''}): {a['explain']}", markup=False)
        if q.reported_near_misses:
            console.print(f"{q.model}: near-misses reported {', '.join(q.reported_near_misses)}", markup=False)
        if q.status == "no_truth" and q.alerts:
            console.print(f"{q.model}: no planted cases; {q.other_models_cases} of {q.alerts} alerts are about "
                          f"cases planted for other models", markup=False)
