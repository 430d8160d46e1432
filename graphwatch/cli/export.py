"""export: an alert, a path, a neighbourhood or a pattern's matches as a case-file document."""

from __future__ import annotations

from pathlib import Path

import click

from .console import console, workspace_option
from .query import parse_params

FORMATS = ["svg", "png", "pdf", "dossier", "graphml", "gexf", "json", "csv", "anx"]


@click.command()
@click.argument("alert_id", required=False)
@workspace_option()
@click.option("--path", "path_ends", nargs=2, metavar="FROM TO", help="the paths between two entities")
@click.option("--entity", help="an entity's neighbourhood (with --hops)")
@click.option("--cypher", help="every node and relationship a Cypher pattern's rows were built from")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="a $parameter of --cypher")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="svg/png/pdf: the diagram; dossier: the case dossier PDF; graphml/gexf/json/csv/anx: data")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the file to write (csv: FILE.nodes.csv and FILE.edges.csv)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--hops", type=click.IntRange(1, 4), default=2, show_default=True, help="with --entity")
@click.option("--max-hops", type=click.IntRange(1, 12), default=4, show_default=True, help="with --path")
@click.option("--types", "-t", multiple=True, help="relationship types for --path / --entity (comma-separated)")
@click.option("--k", type=click.IntRange(min=1), help="with --path: the k shortest paths")
@click.option("--limit", type=click.IntRange(min=2), default=60, show_default=True,
              help="with --entity: at most this many nodes")
@click.option("--unmask", is_flag=True, help="ID and phone numbers in full (recorded in the audit)")
@click.option("--who", help="who exports (default: the login name); recorded in the audit and on the document")
def export(alert_id, workspace: Path, path_ends, entity, cypher, params, fmt: str, output: Path, lang: str, hops: int,
           max_hops: int, types, k, limit: int, unmask: bool, who):
    """Export evidence for a case file: an alert (ALERT_ID), the paths between two entities
    (--path), a neighbourhood (--entity) or a pattern's matches (--cypher). Masked by
    default; every export is recorded in the audit table ('graphwatch audit').

    \b
    Example:
      graphwatch export own_village_project-e421a8680bc0 --format dossier -o case.pdf --who 李四 -w ws
      graphwatch export --path 张建国 东村建筑有限公司 --format svg -o path.svg -w ws
      graphwatch export --entity 张建国 --hops 2 --format anx -o zhang.anx -w ws
    """
    from ..exc import GraphwatchError
    from ..export import evidence
    from ..export import export as write

    chosen = [x for x in (alert_id, path_ends, entity, cypher) if x]
    if len(chosen) != 1:
        raise GraphwatchError("export one thing: an ALERT_ID, or --path FROM TO, or --entity ID, or --cypher QUERY")
    kinds = [t.strip() for v in types for t in v.split(",") if t.strip()] or None
    if alert_id:
        ev = evidence.from_alert(workspace, alert_id)
    elif path_ends:
        ev = evidence.from_paths(workspace, path_ends[0], path_ends[1], max_hops=max_hops, types=kinds, k=k)
    elif entity:
        ev = evidence.from_entity(workspace, entity, hops=hops, types=kinds, limit=limit)
    else:
        text = Path(cypher[1:]).read_text(encoding="utf-8") if cypher.startswith("@") else cypher
        ev = evidence.from_cypher(workspace, text, parse_params(params))
    files = write(workspace, ev, fmt, output, lang=lang, unmask=unmask, who=who)
    state = "UNMASKED (recorded in the audit)" if unmask else "ID and phone numbers masked"
    for f in files:
        console.print(f"wrote {f} ({fmt}, {len(ev.nodes)} nodes, {len(ev.rels)} relationships; {state})",
                      markup=False)
