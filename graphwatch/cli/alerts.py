"""run, alerts list | show | verdict | precision | trends, audit: the investigator's queue.

ID and phone numbers are masked by default; ``--unmask`` shows them and is recorded in the
workspace's audit table with who asked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from .console import GraphwatchGroup, console, escape, plain, progress_bar, workspace_option
from .neo4j import neo4j_options, prompt_password

STATUS_CHOICES = click.Choice(["new", "in_review", "confirmed", "dismissed"])


def _patterns_options(f):
    f = click.option("--no-shipped-patterns", is_flag=True, help="use only the models in --patterns folders")(f)
    return click.option("--patterns", "pattern_dirs", multiple=True, metavar="DIR",
                        type=click.Path(exists=True, path_type=Path),
                        help="a folder (or file) of a county's own models, beside the shipped ones (repeatable)")(f)


@click.command()
@click.argument("models", nargs=-1)
@workspace_option()
@click.option("--engine", type=click.Choice(["duckdb", "neo4j"]), default="duckdb", show_default=True)
@click.option("--param", "-p", "params", multiple=True, metavar="MODEL.NAME=VALUE",
              help="a model's parameter (VALUE as JSON when it parses, else text); repeatable")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True,
              help="models the embedded engine runs at once, each on its own connection (with "
                   "--engine neo4j they run one after another)")
@_patterns_options
@neo4j_options
def run(models, workspace: Path, engine: str, params, jobs: int, pattern_dirs, no_shipped_patterns: bool,
        uri, user, ask_password, database):
    """Run supervision models (all by default) and keep their alerts in the workspace.

    A re-run keeps every verdict, adds only new alerts and marks those that no longer match.
    A model whose data is not loaded is reported as insufficient data, never as zero alerts.

    \b
    Example:
      graphwatch run --workspace ws
      graphwatch run split_contracts --param split_contracts.window_days=60 --workspace ws
    """
    from ..alerts.runner import parse_params, run_models

    connection = {"uri": uri, "user": user, "password": prompt_password(ask_password), "database": database}
    with progress_bar("run") as update:
        runs = run_models(workspace, models or None, engine=engine, params=parse_params(params),
                          pattern_dirs=pattern_dirs, shipped=not no_shipped_patterns, connection=connection,
                          progress=update, jobs=jobs)
    t = Table(title=f"模型运行 · models run on {engine}")
    for col in ("model", "title", "status", "alerts", "new", "still", "no longer", "s"):
        t.add_column(col, justify="right" if col in ("alerts", "new", "still", "no longer", "s") else "left")
    for r in runs:
        status = "ok" if r.status == "ok" else f"[yellow]insufficient data[/]: {escape(r.message)}"
        t.add_row(plain(r.model), plain(r.title), status, f"{r.found:,}", f"{r.new:,}", f"{r.still:,}",
                  f"{r.gone:,}", f"{r.seconds:.2f}")
    console.print(t)
    console.print(f"{sum(r.new for r in runs):,} new alert(s); 'graphwatch alerts list --workspace {workspace}'",
                  markup=False)


@click.group(cls=GraphwatchGroup)
def alerts():
    """The alert queue (预警列表): list, show, record verdicts, precision and trends.

    \b
    Example:
      graphwatch alerts list --workspace ws --status new
    """


def _masked(alert: dict, unmask: bool) -> dict:
    from ..masking import mask_alert

    return alert if unmask else mask_alert(alert)


def _audit_unmask(store, unmask: bool, what: str, who: str | None) -> None:
    if unmask:
        store.audit("unmask", who=who, what=what, format="cli", masked=False)


@alerts.command("list")
@workspace_option()
@click.option("--model", "model", multiple=True, help="only these models (repeatable)")
@click.option("--status", type=STATUS_CHOICES)
@click.option("--severity", type=click.Choice(["high", "medium", "low"]))
@click.option("--township")
@click.option("--village")
@click.option("--since", metavar="DATE", help="alerts dated on or after (YYYY-MM-DD)")
@click.option("--until", metavar="DATE", help="alerts dated on or before")
@click.option("--all", "all_", is_flag=True, help="also alerts that no longer match")
@click.option("--order", type=click.Choice(["rank", "date", "model", "first_seen"]), default="rank",
              show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--unmask", is_flag=True, help="show ID and phone numbers in full (recorded in the audit)")
@click.option("--who", help="who is looking (default: the login name)")
def list_alerts(workspace: Path, model, status, severity, township, village, since, until, all_: bool, order: str,
                limit: int, offset: int, fmt: str, lang: str, unmask: bool, who):
    """List alerts, highest rank first, with filters; page with --limit and --offset.

    \b
    Example:
      graphwatch alerts list --workspace ws --model own_village_project --status new
    """
    from ..alerts.store import STATUS_ZH, AlertStore

    filters = dict(model=list(model) or None, status=status, severity=severity, township=township,
                   village=village, since=since, until=until, matching=None if all_ else True)
    with AlertStore(workspace) as store:
        total = store.count(**filters)
        rows = [_masked(a, unmask) for a in store.list(**filters, order=order, limit=limit, offset=offset)]
        _audit_unmask(store, unmask, f"alerts list ({len(rows)} alerts)", who)
    keys = ("id", "model", "severity", "status", "subject_name", "subject_ident", "object_ident", "township",
            "village", "event_date", "certainty", f"explain_{lang}")
    if fmt == "json":
        click.echo(json.dumps([{k: a[k] for k in keys} for a in rows], ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(keys)
        for a in rows:
            w.writerow(["" if a[k] is None else a[k] for k in keys])
        return
    t = Table(title=f"预警 · alerts {offset + 1}–{offset + len(rows)} of {total:,}")
    t.add_column("id", no_wrap=True)
    for col in ("severity", "status", "subject", "object", "place", "date", "explanation"):
        t.add_column(col)
    for a in rows:
        place = "/".join(x for x in (a["township"], a["village"]) if x)
        sure = "" if a["certainty"] >= 1 else f" (identity {a['certainty']:.2f})"
        t.add_row(*map(plain, (a["id"], a["severity"], f"{a['status']} {STATUS_ZH[a['status']]}",
                               f"{a['subject_name'] or ''} {a['subject_ident'] or ''}".strip(), a["object_ident"],
                               place, a["event_date"], (a[f"explain_{lang}"] or "") + sure)))
    console.print(t)


@alerts.command("show")
@click.argument("alert_id")
@workspace_option()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--unmask", is_flag=True, help="show ID and phone numbers in full (recorded in the audit)")
@click.option("--who", help="who is looking (default: the login name)")
def show_alert(alert_id: str, workspace: Path, fmt: str, lang: str, unmask: bool, who):
    """One alert: its explanation, evidence (every node and relationship with its source
    records) and verdict history.

    \b
    Example:
      graphwatch alerts show own_village_project-e421a8680bc0 --workspace ws
    """
    from ..alerts.store import STATUS_ZH, AlertStore
    from ..export.evidence import records_of

    with AlertStore(workspace) as store:
        a = _masked(store.get(alert_id), unmask)
        history = store.history(alert_id)
        _audit_unmask(store, unmask, alert_id, who)
    if fmt == "json":
        click.echo(json.dumps({**a, "history": history}, ensure_ascii=False, indent=1, default=str))
        return
    console.print(f"[bold]{escape(a['id'])}[/]  {a['severity']}  {a['status']} {STATUS_ZH[a['status']]}"
                  f"{'' if a['matching'] else '  (no longer matches)'}")
    console.print(a[f"explain_{lang}"] or "", markup=False)
    if a["same_as"]:
        console.print(f"rests on an uncertain identity: SAME_AS score {a['certainty']:.3f}", markup=False)
    console.print(f"subject {a['subject_label']} {a['subject_name'] or ''} {a['subject_ident'] or ''} "
                  f"({a['subject_key']}); object {a['object_label'] or '-'} {a['object_ident'] or ''} "
                  f"({a['object_key'] or '-'}); first seen {a['first_seen']}, last seen {a['last_seen']}",
                  markup=False)
    nodes = Table(title="证据 · evidence: nodes")
    for col in ("label", "key", "properties", "source records"):
        nodes.add_column(col)
    for n in a["evidence"]["nodes"]:
        props = ", ".join(f"{k}={v}" for k, v in n["properties"].items() if k not in ("aliases",))
        records = "; ".join(n["records"][:4]) + (f" (+{len(n['records']) - 4})" if len(n["records"]) > 4 else "")
        nodes.add_row(*map(plain, ("/".join(n["labels"]), n["key"], props, records)))
    console.print(nodes)
    rels = Table(title="relationships")
    for col in ("type", "from", "to", "dates", "properties", "source records"):
        rels.add_column(col)
    for r in a["evidence"]["rels"]:
        dates = " – ".join(x for x in (r["valid_from"], r["valid_to"]) if x)
        rels.add_row(plain(r["type"]), plain(r["start_key"]), plain(r["end_key"]), plain(dates),
                     plain(", ".join(f"{k}={v}" for k, v in r["properties"].items())),
                     plain("; ".join(records_of(r)[:3]) + (f" (+{len(r['records']) - 3})" if len(r["records"]) > 3 else "")))
    console.print(rels)
    if history:
        h = Table(title="核查记录 · verdict history")
        for col in ("at", "who", "from", "to", "note"):
            h.add_column(col)
        for v in history:
            h.add_row(*map(plain, (v["at"], v["who"], v["previous"], v["status"], v["note"])))
        console.print(h)


@alerts.command("verdict")
@click.argument("alert_id")
@workspace_option()
@click.option("--status", type=STATUS_CHOICES, required=True,
              help="in_review (核查中), confirmed (查实) or dismissed (排除); new reopens it")
@click.option("--who", help="who decides (default: the login name)")
@click.option("--note", default="", help="why, as it should stand in the case file")
def verdict(alert_id: str, workspace: Path, status: str, who, note: str):
    """Record a verdict; every change is kept in the alert's history.

    \b
    Example:
      graphwatch alerts verdict own_village_project-e421a8680bc0 --status confirmed --who 李四 --note "核实属实" --workspace ws
    """
    from ..alerts.store import STATUS_ZH, AlertStore

    with AlertStore(workspace) as store:
        a = store.verdict(alert_id, status, who=who, note=note)
    console.print(f"{alert_id}: {a['status']} {STATUS_ZH[a['status']]}", markup=False)


@alerts.command("precision")
@workspace_option()
def precision(workspace: Path):
    """Precision per model (查实率 = confirmed / (confirmed + dismissed)) with its counts and
    status: calculated, no verdicts yet, insufficient data, or not run.

    \b
    Example:
      graphwatch alerts precision --workspace ws
    """
    from ..alerts.library import load_library
    from ..alerts.store import AlertStore
    from ..schema import workspace_schema

    with AlertStore(workspace) as store:
        figures = store.precision()
    library = load_library(schema=workspace_schema(workspace))
    t = Table(title="查实率 · precision per model")
    for col in ("model", "alerts", "matching", "confirmed", "dismissed", "in review", "new", "precision", "status"):
        t.add_column(col, justify="left" if col in ("model", "status") else "right")
    for model in sorted(set(library) | set(figures)):
        d = figures.get(model)
        if d is None:
            t.add_row(plain(model), "", "", "", "", "", "", "", "not run")
            continue
        p = "" if d["precision"] is None else f"{d['precision']:.1%}"
        t.add_row(plain(model), str(d["alerts"]), str(d["matching"]), str(d["confirmed"]), str(d["dismissed"]),
                  str(d["in_review"]), str(d["new"]), p, plain(d["status"]))
    console.print(t)


@alerts.command("trends")
@workspace_option()
@click.option("--by", "period", type=click.Choice(["month", "year"]), default="year", show_default=True)
def trends(workspace: Path, period: str):
    """Alerts per model per month or year, confirmed and dismissed beside them.

    \b
    Example:
      graphwatch alerts trends --workspace ws --by year
    """
    from ..alerts.store import AlertStore

    with AlertStore(workspace) as store:
        rows = store.per_period(period)
    t = Table(title=f"预警趋势 · alerts per model per {period}")
    for col in ("model", period, "alerts", "confirmed", "dismissed"):
        t.add_column(col)
    for r in rows:
        t.add_row(plain(r["model"]), plain(r["period"]), str(r["alerts"]), str(r["confirmed"]), str(r["dismissed"]))
    console.print(t if rows else "no alerts yet: 'graphwatch run' first")


@click.command()
@workspace_option()
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
def audit(workspace: Path, limit: int):
    """The audit trail: every unmasked view and export, with who, when, what and how.

    \b
    Example:
      graphwatch audit --workspace ws
    """
    from ..alerts.store import AlertStore

    with AlertStore(workspace) as store:
        rows = store.audit_log(limit)
    t = Table(title="审计 · audit")
    for col in ("at", "who", "action", "what", "format", "masked"):
        t.add_column(col)
    for r in rows:
        t.add_row(*map(plain, (r["at"], r["who"], r["action"], r["what"], r["format"])),
                  "yes" if r["masked"] else "no")
    console.print(t if rows else "nothing recorded yet")


@click.command()
@click.argument("drop", type=click.Path(exists=True, file_okay=False, path_type=Path))
@workspace_option(help="workspace folder (created on the first file)")
@click.option("--mappings", "mapping_dirs", multiple=True, metavar="DIR", type=click.Path(exists=True, path_type=Path),
              help="a folder of your own mappings for the files that arrive (repeatable)")
@click.option("--model", "models", multiple=True, help="only these models (default: all)")
@click.option("--param", "-p", "params", multiple=True, metavar="MODEL.NAME=VALUE")
@_patterns_options
@click.option("--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="seconds between two looks at the folder")
@click.option("--once", is_flag=True, help="load what is there now, run, report, and stop")
def watch(drop: Path, workspace: Path, mapping_dirs, models, params, pattern_dirs, no_shipped_patterns: bool,
          interval: float, once: bool):
    """Watch a drop folder (全天候自动预警): load new or changed files as they arrive, run the
    models and print only the new alerts. Stop it at any time: the next start carries on and
    nothing is loaded twice.

    \b
    Example:
      graphwatch watch incoming/ --workspace ws --mappings my-mappings
    """
    from ..alerts.runner import parse_params
    from ..alerts.watch import Watcher

    w = Watcher(workspace, drop, models=models, mappings=mapping_dirs, pattern_dirs=pattern_dirs,
                params=parse_params(params))

    def report(rnd) -> None:
        for f, msg in rnd.failed:
            console.print(f"[red]not loaded[/] {escape(f.name)}: {escape(msg)}", highlight=False)
        for r in rnd.loaded:
            if r.format in ("skipped", "not data"):
                console.print(f"skipped {r.source}: {r.notes[0]}", markup=False)
            elif r.format != "schema":
                console.print(f"loaded {r.dataset}: {r.rows_loaded:,} of {r.rows_read:,} rows "
                              f"({r.rows_quarantined:,} quarantined)", markup=False)
        for a in rnd.new_alerts:
            from ..masking import mask_alert

            a = mask_alert(a)
            console.print(f"[bold]new[/] {escape(a['id'])} {a['severity']}: {escape(a['explain_zh'] or '')}",
                          highlight=False)

    if once:
        report(w.look(settle=False))
        return
    console.print(f"watching {drop} every {interval:g} s (Ctrl-C to stop; a restart carries on)", markup=False)
    try:
        w.run(interval=interval, report=report)
    except KeyboardInterrupt:
        console.print("stopped")
