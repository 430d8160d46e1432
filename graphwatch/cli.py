"""``graphwatch`` command line: a thin shell over the library.

Every command's help ends with an example (a test checks it). Errors the user can fix
print one clear line and exit with status 2.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .exc import GraphwatchError

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)

DEFAULT_DEMO_DIR = Path(".graphwatch") / "demo"


@contextmanager
def progress_bar(description: str):
    """A rich progress bar; yields a callback(step, done, total)."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=False,
                  disable=not err_console.is_terminal and not _force_progress()) as bar:
        task = bar.add_task(description, total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{description}: {step}", completed=done, total=total)

        yield update
        bar.update(task, description=f"{description}: done")


def _force_progress() -> bool:
    import os
    return bool(os.environ.get("GRAPHWATCH_PROGRESS"))


class GraphwatchGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GraphwatchError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
            sys.exit(2)


@click.group(cls=GraphwatchGroup)
@click.version_option(package_name="graphwatch")
def main():
    """graphwatch — relationship and conflict-of-interest discovery on a property graph.

    \b
    Example:
      graphwatch demo
    """


def print_accounting(results) -> None:
    table = Table(title="Load accounting (rows read = loaded + quarantined)", show_lines=False)
    for col in ("dataset", "format", "encoding", "read", "loaded", "quarantined", "nodes", "relationships"):
        table.add_column(col, justify="right" if col in ("read", "loaded", "quarantined", "nodes", "relationships") else "left")
    tot = [0, 0, 0, 0, 0]
    for r in results:
        table.add_row(r.dataset, r.format, r.encoding or "-", f"{r.rows_read:,}", f"{r.rows_loaded:,}",
                      f"[red]{r.rows_quarantined:,}[/]" if r.rows_quarantined else "0", f"{r.nodes:,}", f"{r.rels:,}")
        for k, v in enumerate((r.rows_read, r.rows_loaded, r.rows_quarantined, r.nodes, r.rels)):
            tot[k] += v
    table.add_row("[bold]total", "", "", *[f"[bold]{v:,}" for v in tot])
    console.print(table)
    for r in results:
        for note in r.notes:
            console.print(f"  note {r.dataset}: {note}")


@main.command()
@click.option("--persons", type=click.IntRange(min=1000), default=10_000, show_default=True, help="people in the county")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed (same seed, same files)")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="output folder")
def generate(persons: int, seed: int, out: Path):
    """Write a synthetic county: every source file plus ground_truth.csv of planted violations.

    \b
    Example:
      graphwatch generate --persons 100000 --seed 7 --out data/county
    """
    from .synth import generate_county

    with progress_bar("generate") as update:
        counts = generate_county(out, persons=persons, seed=seed, progress=update)
    table = Table(title=f"Synthetic county in {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(str(name), f"{n:,}")
    console.print(table)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="workspace folder (created if missing)")
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
    from .ingest import load as do_load
    from .store import Workspace

    with Workspace(workspace, create=True) as ws, progress_bar("load") as update:
        results = do_load(ws, sources, mapping=mapping, progress=update)
    print_accounting(results)


@main.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
def stats(workspace: Path):
    """Counts per label and relationship type, loaded datasets, and the quarantine summary.

    \b
    Example:
      graphwatch stats --workspace ws
    """
    from .store import Workspace

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
    for r in reports.itertuples():
        d.add_row(r.dataset, r.encoding or "-", f"{r.rows_read:,}", f"{r.rows_loaded:,}", f"{r.rows_quarantined:,}",
                  str(r.loaded_at)[:19])
    console.print(d)
    if len(quarantine):
        qt = Table(title=f"Quarantine: {totals['quarantined_rows']:,} rows (see 'graphwatch quarantine')")
        for col in ("dataset", "column", "reason", "rows"):
            qt.add_column(col)
        for r in quarantine.itertuples():
            qt.add_row(r.dataset, str(r.column), r.reason_kind, f"{r.rows:,}")
        console.print(qt)
    else:
        console.print("Quarantine: empty")


@main.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--dataset", help="only this dataset (e.g. household_registry/household_registry.csv)")
@click.option("--limit", type=int, default=50, show_default=True)
def quarantine(workspace: Path, dataset: str | None, limit: int):
    """List quarantined rows: file, line, column, reason and the raw cells.

    \b
    Example:
      graphwatch quarantine --workspace ws --dataset benefit_rolls/benefit_rolls.csv
    """
    from .store import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rows = ws.con.execute("""SELECT source, line_label, line, "column", reason, raw FROM quarantine
            WHERE $d IS NULL OR dataset = $d ORDER BY dataset, line LIMIT $n""", {"d": dataset, "n": limit}).fetchall()
    for source, label, line, column, reason, raw in rows:
        console.print(f"{source}, {label} {line}, column {column!r}: {reason}\n    {raw}", markup=False)
    if not rows:
        console.print("no quarantined rows")


@main.command()
def mappings():
    """List the loader mappings in loaders/ and the files each one matches.

    \b
    Example:
      graphwatch mappings
    """
    from .ingest.mapping import load_mappings

    t = Table(title="Loader mappings")
    for col in ("name", "中文", "files", "columns"):
        t.add_column(col)
    for m in load_mappings().values():
        t.add_row(m.name, m.title_zh, ", ".join(m.files), str(len({c.header for c in m.columns})))
    console.print(t)


# -- Neo4j ------------------------------------------------------------------------------
def neo4j_options(f):
    """Where a Neo4j server is: flags, else GRAPHWATCH_NEO4J_* variables, else the workspace's own server."""
    f = click.option("--database", envvar="GRAPHWATCH_NEO4J_DATABASE", default=None,
                     help="database name (default: the server's default) [env GRAPHWATCH_NEO4J_DATABASE]")(f)
    f = click.option("--ask-password", is_flag=True,
                     help="prompt for the password (hidden); else GRAPHWATCH_NEO4J_PASSWORD, else the "
                          "password 'graphwatch neo4j start' generated")(f)
    f = click.option("--user", envvar="GRAPHWATCH_NEO4J_USER", default=None,
                     help="Neo4j user (default neo4j) [env GRAPHWATCH_NEO4J_USER]")(f)
    f = click.option("--uri", envvar="GRAPHWATCH_NEO4J_URI", default=None,
                     help="bolt:// or neo4j:// URI of your own server [env GRAPHWATCH_NEO4J_URI]; "
                          "default: the server 'graphwatch neo4j start' runs for the workspace")(f)
    return f


def _target(workspace, uri, user, ask_password, database):
    from .neo4j.connection import Neo4jTarget

    password = click.prompt("Neo4j password", hide_input=True, err=True) if ask_password else None
    return Neo4jTarget.resolve(workspace, uri=uri, user=user, password=password, database=database)


def _param(values: tuple[str, ...]) -> dict:
    """--param k=v: v is read as JSON when it is JSON (numbers, lists, true/false/null), else as text."""
    import json

    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r}: write --param name=value", param_hint="--param")
        k, v = item.split("=", 1)
        # long digit strings (resident IDs, phone numbers) and leading zeros stay text
        if v.isdigit() and (len(v) > 15 or (len(v) > 1 and v.startswith("0"))):
            out[k.strip().lstrip("$")] = v
            continue
        try:
            out[k.strip().lstrip("$")] = json.loads(v)
        except ValueError:
            out[k.strip().lstrip("$")] = v
    return out


def _show(v, *, for_json: bool = False):
    """A returned value as text (table/csv) or plain data (json)."""
    import datetime as dt

    from .engines import GNode, GPath, GRel

    if isinstance(v, GNode):
        if for_json:
            return {"id": v.id, "key": v.key, "labels": list(v.labels), "properties": _show(v.properties, for_json=True)}
        name = v.properties.get("name")
        return f"({':'.join(v.labels)} {v.key}{' ' + name if name else ''})"
    if isinstance(v, GRel):
        if for_json:
            return {"id": v.id, "type": v.type, "start": v.start, "end": v.end,
                    "properties": _show(v.properties, for_json=True)}
        return f"[:{v.type}]"
    if isinstance(v, GPath):
        if for_json:
            return {"nodes": [_show(n, for_json=True) for n in v.nodes], "rels": [_show(r, for_json=True) for r in v.rels]}
        parts = [_show(v.nodes[0])]
        for r, n in zip(v.rels, v.nodes[1:]):
            parts += [f"-{_show(r)}-", _show(n)]
        return "".join(parts)
    if isinstance(v, dict):
        return {k: _show(x, for_json=for_json) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        items = [_show(x, for_json=for_json) for x in v]
        return items if for_json else "[" + ", ".join(str(i) for i in items) + "]"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if for_json and not isinstance(v, (str, int, float, bool, type(None))):
        return str(v)
    return v


@main.command()
@click.argument("cypher")
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="a $parameter; VALUE is JSON when it parses as JSON, else text; digit strings "
                   "longer than 15 or with a leading zero (IDs, phones) stay text (repeatable)")
@click.option("--explain", is_flag=True, help="print the generated SQL instead of running it")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--engine", type=click.Choice(["duckdb", "neo4j"]), default="duckdb", show_default=True,
              help="engine to run on: the embedded DuckDB, or Neo4j (see 'graphwatch neo4j')")
@neo4j_options
def query(cypher: str, workspace: Path, params: tuple[str, ...], explain: bool, fmt: str, engine: str,
          uri, user, ask_password, database):
    """Run a Cypher pattern (graphwatch's subset, docs/cypher.md) on a workspace.

    CYPHER is the query text, or @FILE to read it from a file.

    \b
    Example:
      graphwatch query "MATCH (o:Official)-[:SPOUSE_OF]-(s:Person) RETURN o.name, s.name LIMIT 5" -w ws
    """
    import csv
    import json

    from .engines import open_engine

    text = Path(cypher[1:]).read_text(encoding="utf-8") if cypher.startswith("@") else cypher
    values = _param(params)
    password = click.prompt("Neo4j password", hide_input=True, err=True) if ask_password else None
    connection = {"uri": uri, "user": user, "password": password, "database": database}
    with open_engine(engine, workspace, connection=connection) as eng:
        if explain:
            console.print(eng.explain(text, values), markup=False, soft_wrap=True)
            return
        with err_console.status("running the pattern …", spinner="dots"):
            res = eng.run(text, values)
    if fmt == "json":
        out = [{**{c: _show(v, for_json=True) for c, v in zip(res.columns, row)},
                "_bindings": {"nodes": list(b.nodes), "rels": list(b.rels)}}
               for row, b in zip(res.rows, res.bindings)]
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
    elif fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(res.columns)
        for row in res.rows:
            w.writerow([_show(v) for v in row])
    else:
        t = Table(title=f"{len(res)} row{'s' if len(res) != 1 else ''}")
        for c in res.columns:
            t.add_column(c)
        for row in res.rows:
            t.add_row(*["" if v is None else str(_show(v)) for v in row])
        console.print(t)


@main.group(cls=GraphwatchGroup)
def neo4j():
    """Run graphwatch's own Neo4j server, push a workspace into it (or into yours).

    \b
    Example:
      graphwatch neo4j start --workspace ws && graphwatch neo4j push --workspace ws
    """


_WS = click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)


@neo4j.command("start")
@_WS
@click.option("--no-auth", is_flag=True, help="no password (for tests on a private machine)")
@click.option("--heap", default="1g", show_default=True, help="Java heap of the server")
@click.option("--pagecache", "pagecache_mb", type=int, default=512, show_default=True, help="page cache, MB")
@click.option("--port", type=int, default=None, help="Bolt port on 127.0.0.1 (default: a free one)")
def neo4j_start(workspace: Path, no_auth: bool, heap: str, pagecache_mb: int, port: int | None):
    """Start Neo4j Community (Maven Central jars, built on first use) on 127.0.0.1 for a workspace.

    Data goes to WORKSPACE/neo4j/; the URI to WORKSPACE/neo4j/server.json, a generated
    password to WORKSPACE/neo4j/password (readable by you only, never printed).

    \b
    Example:
      graphwatch neo4j start --workspace ws
    """
    from .neo4j import server as neo4j_server

    with err_console.status("starting Neo4j (the first start fetches its jars from Maven Central) …"):
        info = neo4j_server.start(workspace, auth=not no_auth, heap=heap, pagecache_mb=pagecache_mb, port=port)
    state = "already running" if info.get("already_running") else "started"
    auth = f"user neo4j, password in {workspace / 'neo4j' / 'password'}" if info.get("auth") else "no auth"
    console.print(f"Neo4j {state} at {info['uri']} (pid {info['pid']}; {auth})")


@neo4j.command("stop")
@_WS
def neo4j_stop(workspace: Path):
    """Stop the workspace's Neo4j server (its data stays in WORKSPACE/neo4j/).

    \b
    Example:
      graphwatch neo4j stop --workspace ws
    """
    from .neo4j import server as neo4j_server

    with err_console.status("stopping Neo4j …"):
        was = neo4j_server.stop(workspace)
    console.print("Neo4j stopped" if was else "no Neo4j server was running for this workspace")


@neo4j.command("status")
@_WS
def neo4j_status(workspace: Path):
    """Is the workspace's Neo4j server running and answering? Exit status 1 if not.

    \b
    Example:
      graphwatch neo4j status --workspace ws
    """
    from .neo4j import server as neo4j_server

    st = neo4j_server.status(workspace)
    if st["running"] and st.get("answers"):
        console.print(f"running at {st['uri']} (pid {st['pid']}, since {st['started']}, "
                      f"{'auth on' if st.get('auth') else 'no auth'})")
        return
    console.print(f"not running: {st.get('reason', 'no answer')}")
    sys.exit(1)


@neo4j.command("push")
@_WS
@neo4j_options
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--clear", is_flag=True, help="delete everything in the Neo4j database first")
def neo4j_push(workspace: Path, uri, user, ask_password, database, batch_size: int, clear: bool):
    """Copy the workspace graph into Neo4j: constraints, then nodes and relationships in batches.

    Idempotent (a second push changes nothing) and resumable (a rerun after an interruption
    skips the committed batches); ends with a check that Neo4j holds exactly the workspace's
    nodes per label and relationships per type. The workspace is only read.

    \b
    Example:
      graphwatch neo4j push --workspace ws
    """
    from .neo4j.push import push

    target = _target(workspace, uri, user, ask_password, database)
    with progress_bar("push") as update:
        rep = push(workspace, target, batch_size=batch_size, progress=update, clear=clear)
    resumed = f", {rep.skipped_batches} batches already pushed before" if rep.skipped_batches else ""
    console.print(f"pushed {rep.nodes:,} nodes and {rep.rels:,} relationships to {target.uri} in "
                  f"{rep.seconds:.1f} s ({rep.rows_per_second:,.0f} rows/s{resumed}); counts match the workspace")


def print_resolve_report(rep) -> None:
    t = Table(title=f"实体消解 · entity resolution: {rep.records:,} person records → {rep.entities:,} persons")
    t.add_column("step")
    t.add_column("count", justify="right")
    for label, n in (("source statements (units)", rep.units),
                     ("merged on a valid ID · 身份证号一致", rep.merged_by_id),
                     ("merged as sole holder of the name in the village · 同村唯一同名", rep.merged_by_village),
                     ("merged by the model · 模型判定", rep.merged_by_model),
                     ("review queue (SAME_AS) · 待人工复核", rep.review_pairs),
                     ("ambiguous (matches two ID holders) · 多人可对应", rep.ambiguous),
                     ("merges blocked by different IDs · 身份证号冲突", rep.blocked_by_ids),
                     ("merges blocked by judgements · 人工判定不同", rep.blocked_by_judgement),
                     ("companies · 企业", rep.companies),
                     ("company records merged", rep.company_merges),
                     ("branches (BRANCH_OF) · 分支机构", rep.branches)):
        t.add_row(label, f"{n:,}")
    console.print(t)
    for o in rep.overshared_ids[:10]:
        console.print(f"over-shared ID {o['id']}: {o['records']:,} records under {o['names']} names — "
                      "used only for its owner, never to merge the others")
    secs = rep.seconds.get("total", 0.0)
    rate = f", {rep.records / secs:,.0f} records/s" if secs else ""
    console.print(f"model: {rep.model}{' (trained now)' if rep.trained else ''}; {secs:.1f} s{rate}")


@main.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--train", is_flag=True, help="fit the model on this workspace first (saved in it for later runs)")
@click.option("--model", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="a model JSON (default: the workspace's trained model, else the packaged one)")
@click.option("--merge", "merge_threshold", type=click.FloatRange(0, 1), default=0.99, show_default=True,
              help="merge pairs at or above this probability")
@click.option("--review", "review_threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="pairs between this and --merge go to the review queue as SAME_AS")
def resolve(workspace: Path, train: bool, model: Path | None, merge_threshold: float, review_threshold: float):
    """Decide which person and company records are one entity, and rewrite the graph.

    Valid resident IDs and USCCs link first (over-shared and placeholder IDs never merge);
    splink scores the rest on names (simplified, pinyin), birth date, sex, region, village
    and phone. Judgements from 'graphwatch review' always win. Re-running is safe; a load
    undoes resolution until the next resolve.

    \b
    Example:
      graphwatch resolve --workspace ws --train
    """
    from .resolve import resolve as do_resolve
    from .store import Workspace

    with Workspace(workspace) as ws, progress_bar("resolve") as update:
        rep = do_resolve(ws, train=train, model=model, merge_threshold=merge_threshold,
                         review_threshold=review_threshold, progress=update)
    print_resolve_report(rep)


@main.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--same", "same", nargs=2, metavar="A B", help="record A and record B are the same entity")
@click.option("--not-same", "not_same", nargs=2, metavar="A B", help="they are not (blocks the merge for good)")
@click.option("--unsure", nargs=2, metavar="A B", help="looked at, cannot tell (leaves it to the model)")
@click.option("--why", default="", help="reason kept with the judgement")
@click.option("--who", default=None, help="who judged (default: the login name)")
@click.option("--explain", nargs=2, metavar="A B", help="each field's level and weight for a pair")
@click.option("--unmerge", metavar="ENTITY", help="split an entity into its source records")
@click.option("--show", metavar="ENTITY", help="an entity's source records and where each property came from")
@click.option("--limit", type=int, default=30, show_default=True)
def review(workspace: Path, same, not_same, unsure, why: str, who: str | None, explain, unmerge, show, limit: int):
    """The review queue (人工复核): uncertain pairs; record judgements, un-merge, explain.

    Records are named 'dataset#record' as the queue prints them. A judgement re-clusters at
    once and survives every later resolve and load; the latest judgement of a pair wins.

    \b
    Example:
      graphwatch review --workspace ws
      graphwatch review --workspace ws --not-same household_registry/household_registry.csv#12 benefit_rolls/benefit_rolls.csv#FF0000000031 --why "different fathers"
    """
    from . import resolve as R
    from .store import Workspace

    given = [(j, pair) for j, pair in (("same", same), ("not_same", not_same), ("unsure", unsure)) if pair]
    if len(given) + bool(explain) + bool(unmerge) + bool(show) > 1:
        raise click.UsageError("give one of --same, --not-same, --unsure, --explain, --unmerge, --show")
    with Workspace(workspace, read_only=not (given or unmerge)) as ws:
        if given:
            (j, (a, b)), = given
            R.judge(ws, a, b, j, who=who, why=why)
            console.print(f"recorded: {a} {'≡' if j == 'same' else '≢' if j == 'not_same' else '?'} {b} ({j}); "
                          "re-clustered")
        elif unmerge:
            n = R.unmerge(ws, unmerge, who=who, why=why or "un-merge")
            console.print(f"{unmerge}: split into its {n} source records (kept apart in later runs)")
        elif explain:
            e = R.explain_pair(ws, *explain)
            if not e["scored"]:
                console.print(f"{e['a']} and {e['b']} were not compared (no shared blocking key) or scored below "
                              "the review threshold")
            else:
                t = Table(title=f"{e['a']} ~ {e['b']}: probability {e['probability']:.4f}, "
                                f"match weight {e['match_weight']:.1f} ({e['status']})")
                for col in ("field", "level", "weight (bits)"):
                    t.add_column(col)
                t.add_row("prior", "two random records", f"{e['prior_weight']:+.1f}")
                for f in e["fields"]:
                    t.add_row(f["field"], f["level"], f"{f['weight']:+.1f}")
                console.print(t)
            if "judgement" in e:
                jd = e["judgement"]
                console.print(f"judged {jd['judgement']} by {jd['who']} at {jd['at'][:19]}: {jd['why']}")
        elif show:
            members = R.entity_members(ws, show)
            if not len(members):
                raise R.ResolveError(f"no resolved entity {show!r}")
            t = Table(title=f"{show}: {len(members)} source record(s)")
            for col in ("record", "name", "ID", "rows"):
                t.add_column(col)
            for m in members.astype(object).where(members.notna(), None).itertuples():
                t.add_row(m.ref, m.name or "", m.id_number or "", str(len(m.records)))
            console.print(t)
            for prop, values in R.entity_provenance(ws, show).items():
                distinct = {str(v["value"]) for v in values}
                if len(distinct) > 1:
                    console.print(f"{prop}: " + "; ".join(f"{v['value']} ({v['dataset']}#{v['record']})"
                                                          for v in values[:6]))
        else:
            q = R.review_queue(ws, limit=limit)
            t = Table(title=f"待复核 · review queue (first {limit}; 'graphwatch review --explain A B' for why)")
            for col in ("p", "record A", "name", "record B", "name"):
                t.add_column(col)
            for r in q.astype(object).where(q.notna(), None).itertuples():
                t.add_row(f"{r.probability:.3f}", r.a, r.a_name or "", r.b, r.b_name or "")
            console.print(t if len(q) else "review queue is empty")


@main.command()
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
    import shutil

    from .ingest import load as do_load
    from .store import Workspace
    from .synth import generate_county

    county, ws_dir = folder / "county", folder / "workspace"
    for d in (county, ws_dir):
        if d.exists():
            shutil.rmtree(d)
    with progress_bar("generate") as update:
        generate_county(county, persons=persons, seed=seed, progress=update)
    console.print(f"county files in {county}")
    with Workspace(ws_dir, create=True) as ws:
        with progress_bar("load") as update:
            results = do_load(ws, [county], progress=update)
        print_accounting(results)
        totals = ws.totals()
        counts = ws.counts()
    console.print(f"workspace {ws_dir}: {totals['nodes']:,} nodes, {totals['relationships']:,} relationships, "
                  f"{totals['quarantined_rows']:,} quarantined rows")
    from .resolve import resolve as do_resolve

    with Workspace(ws_dir) as ws, progress_bar("resolve") as update:
        rep = do_resolve(ws, progress=update)
        counts = ws.counts()
    print_resolve_report(rep)
    console.print("labels: " + ", ".join(f"{k} {v:,}" for k, v in counts["labels"].items()))
    console.print("types:  " + ", ".join(f"{k} {v:,}" for k, v in counts["types"].items()))
    # the embedded engine on one supervision model, checked against the planted truth
    from .engines.duckdb import DuckDBEngine

    with DuckDBEngine(ws_dir) as eng, err_console.status("running the own-village pattern …"):
        res = eng.run(OWN_VILLAGE)
    planted = _planted(county / "ground_truth.csv", "own_village_project")
    t = Table(title="村干部亲属中标本村项目 · cadre's relative wins a project in the cadre's village")
    for c in res.columns:
        t.add_column(c)
    for row in res.rows[:10]:
        t.add_row(*["" if v is None else str(_show(v)) for v in row])
    console.print(t)
    console.print(f"{len(res)} alert row(s); the generator planted {planted} violation(s)")
    console.print(f"next: graphwatch query \"MATCH (o:Official) RETURN count(*)\" --workspace {ws_dir}")


#: the demo's pattern: a village cadre's relative runs or owns the company that won a
#: contract for a project in the village the cadre serves
OWN_VILLAGE = """
MATCH (o:VillageCadre)-[:SERVES_IN]->(v:Village),
      (o)-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|IN_LAW_OF]-(r:Person),
      (r)-[:LEGAL_REP_OF|SHAREHOLDER_OF]->(c:Company)<-[:AWARDED_TO]-(ct:Contract)-[:FOR_PROJECT]->(p:Project)-[:LOCATED_IN]->(v)
RETURN DISTINCT o.name AS cadre, r.name AS relative, c.name AS company, ct.contract_no AS contract,
       p.name AS project, v.name AS village
ORDER BY village, cadre, contract
"""


def _planted(path: Path, model: str) -> int:
    import csv

    with open(path, encoding="utf-8") as f:
        return len({r["violation_id"] for r in csv.DictReader(f)
                    if r.get("model_id") == model and r.get("kind") == "violation"})


if __name__ == "__main__":  # pragma: no cover
    main()
