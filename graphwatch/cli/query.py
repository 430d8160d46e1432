"""query: run a Cypher pattern on a workspace and print its rows as a table, JSON or CSV."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from .console import cell, console, err_console, plain, show_value, workspace_option
from .neo4j import neo4j_options, prompt_password


def parse_params(values: tuple[str, ...]) -> dict:
    """--param k=v: v is read as JSON when it is JSON (numbers, lists, true/false/null), else as text.

    >>> parse_params(("n=3", "id=110105194912310025", "code=0731", "$who=张三"))
    {'n': 3, 'id': '110105194912310025', 'code': '0731', 'who': '张三'}
    """
    import json

    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r}: write --param name=value", param_hint="--param")
        k, v = item.split("=", 1)
        name = k.strip().lstrip("$")
        # long digit strings (resident IDs, phone numbers) and leading zeros stay text
        if v.isdigit() and (len(v) > 15 or (len(v) > 1 and v.startswith("0"))):
            out[name] = v
            continue
        try:
            out[name] = json.loads(v)
        except ValueError:
            out[name] = v
    return out


def csv_cell(v) -> str:
    """A returned value as a CSV cell: text as is, null empty, lists / maps / nodes / paths as JSON
    (so a spreadsheet or another program reads them back; keys sorted, so both engines write
    the same cell), dates ISO.

    >>> [csv_cell(v) for v in ("张三", None, 3, [[None, None]], {"a": [1, "x"]})]
    ['张三', '', '3', '[[null, null]]', '{"a": [1, "x"]}']
    """
    import json

    if v is None:
        return ""
    plain = show_value(v, for_json=True)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)
    return "true" if plain is True else "false" if plain is False else str(plain)


@click.command()
@click.argument("cypher")
@workspace_option()
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="a $parameter; VALUE is JSON when it parses as JSON, else text; digit strings "
                   "longer than 15 or with a leading zero (IDs, phones) stay text (repeatable)")
@click.option("--explain", is_flag=True, help="print the generated SQL instead of running it")
@click.option("--bindings", "with_bindings", is_flag=True,
              help="also compute each row's evidence: the ids of the nodes and relationships it was built "
                   "from (--format json prints them as _bindings; an aggregated row keeps the ids of its "
                   "first --bindings-per-group matches and says how many it had)")
@click.option("--bindings-per-group", type=click.IntRange(1), default=None, metavar="N",
              help="with --bindings: the matches per aggregated row whose ids are kept [default: 100]")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--engine", type=click.Choice(["duckdb", "neo4j"]), default="duckdb", show_default=True,
              help="engine to run on: the embedded DuckDB, or Neo4j (see 'graphwatch neo4j')")
@neo4j_options
def query(cypher: str, workspace: Path, params: tuple[str, ...], explain: bool, with_bindings: bool,
          bindings_per_group: int | None, fmt: str, engine: str, uri, user, ask_password, database):
    """Run a Cypher pattern (graphwatch's subset, docs/cypher.md) on a workspace.

    CYPHER is the query text, or @FILE to read it from a file.

    \b
    Example:
      graphwatch query "MATCH (o:Official)-[:SPOUSE_OF]-(s:Person) RETURN o.name, s.name LIMIT 5" -w ws
    """
    import csv
    import json

    from ..engines import open_engine

    text = Path(cypher[1:]).read_text(encoding="utf-8") if cypher.startswith("@") else cypher
    values = parse_params(params)
    connection = {"uri": uri, "user": user, "password": prompt_password(ask_password), "database": database}
    asked = (bindings_per_group or True) if with_bindings or bindings_per_group else False
    with open_engine(engine, workspace, connection=connection) as eng:
        if explain:
            shown = eng.explain(text, values, bindings=asked) if engine == "duckdb" else eng.explain(text, values)
            console.print(shown, markup=False, soft_wrap=True)
            return
        # the spinner only where someone watches (rich's live display costs ~10 ms to import)
        with err_console.status("running the pattern …", spinner="dots") if sys.stderr.isatty() else nullcontext():
            res = eng.run(text, values, bindings=asked)
    if fmt == "json":
        out = []
        for i, row in enumerate(res.rows):
            item = {c: show_value(v, for_json=True) for c, v in zip(res.columns, row)}
            if res.has_bindings:
                b = res.bindings[i]
                item["_bindings"] = {"nodes": list(b.nodes), "rels": list(b.rels), "matches": b.matches,
                                     "truncated": b.truncated}
            out.append(item)
        click.echo(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True))
    elif fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(res.columns)
        for row in res.rows:
            w.writerow([csv_cell(v) for v in row])
    else:
        from rich.table import Table

        # every header and cell plain: a value such as [bold]x, or a list printed [a, b], is
        # data, never rich markup
        t = Table(title=f"{len(res)} row{'s' if len(res) != 1 else ''}")
        for c in res.columns:
            t.add_column(plain(c))
        for row in res.rows:
            t.add_row(*[plain(cell(v)) for v in row])
        console.print(t)
