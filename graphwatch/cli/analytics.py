"""paths, neighbours, components, communities, centrality: graph analytics on a workspace.

Entities are given by workspace id, key, ID number, USCC or name; an ambiguous name lists
the candidates. Tables show ID numbers masked (``--unmask`` shows them, audited); ``--format
json|csv`` prints the rows for other programs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from .console import console, err_console, plain, workspace_option

TYPES_HELP = "relationship types to follow, comma-separated or repeated (default: all)"


def _types(values) -> list[str] | None:
    out = [t.strip() for v in values for t in v.split(",") if t.strip()]
    return out or None


def _common(f):
    f = click.option("--who", help="who is looking (recorded with --unmask)")(f)
    f = click.option("--unmask", is_flag=True, help="show ID and phone numbers in full (recorded in the audit)")(f)
    f = click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
                     show_default=True)(f)
    f = click.option("--until", metavar="DATE", help="only relationships valid on or before this date")(f)
    f = click.option("--since", metavar="DATE", help="only relationships valid on or after this date")(f)
    f = click.option("--types", "-t", "types", multiple=True, help=TYPES_HELP)(f)
    return workspace_option()(f)


def _graph(workspace: Path):
    from ..analytics import load_graph

    with err_console.status("reading the graph (cached after the first time) …", spinner="dots"):
        return load_graph(workspace)


def _mask_frame(df, unmask: bool, workspace: Path, what: str, who):
    from ..masking import mask_key, mask_text

    if unmask:
        from ..alerts.store import AlertStore

        with AlertStore(workspace) as store:
            store.audit("unmask", who=who, what=what, format="cli", masked=False)
        return df
    df = df.copy()
    for col in df.columns:
        if col in ("key", "keys"):
            df[col] = [[mask_key(k) for k in v] if isinstance(v, list) else mask_key(v) for v in df[col]]
        elif col in ("text",):
            df[col] = [mask_text(v) for v in df[col]]
    return df


def _print(df, fmt: str, title: str, columns: list[str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(json.loads(df.to_json(orient="records", force_ascii=False)), ensure_ascii=False,
                              indent=1))
        return
    if fmt == "csv":
        out = df.copy()
        for col in out.columns:
            if out[col].map(lambda v: isinstance(v, list)).any():
                out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
        out.to_csv(sys.stdout, index=False)
        return
    t = Table(title=title)
    for c in columns:
        t.add_column(plain(c), overflow="fold")
    for row in df[columns].astype(object).itertuples(index=False):
        t.add_row(*[plain("" if v is None or v != v else (f"{v:.4g}" if isinstance(v, float) else v)) for v in row])
    console.print(t)


@click.command()
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@_common
@click.option("--max-hops", type=click.IntRange(1, 12), default=4, show_default=True)
@click.option("--k", type=click.IntRange(min=1), help="the k shortest paths (default: every shortest path)")
@click.option("--directed", is_flag=True, help="follow relationships only in their direction")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="at most this many paths")
def paths(source, target, workspace: Path, types, since, until, fmt, unmask, who, max_hops: int, k, directed: bool,
          limit: int):
    """Paths between two entities: every shortest path (or the k shortest) of at most
    --max-hops relationships. FROM and TO are a workspace id, key, ID number, USCC or name.

    \b
    Example:
      graphwatch paths 张建国 91140105MA0ABC1234 --max-hops 4 --types SPOUSE_OF,PARENT_OF,LEGAL_REP_OF -w ws
      graphwatch paths 张建国 东村建筑有限公司 --k 5 -w ws
    """
    from ..analytics import find_entity
    from ..analytics import paths as find_paths

    g = _graph(workspace)
    a, b = find_entity(g, source, unmask=unmask), find_entity(g, target, unmask=unmask)
    df = find_paths(g, a, b, max_hops=max_hops, types=_types(types), k=k, all_shortest=k is None, directed=directed,
                    since=since, until=until, limit=limit)
    if df.empty and fmt == "table":
        console.print(f"no path of at most {max_hops} hops", markup=False)
        return
    df = _mask_frame(df, unmask, workspace, f"paths {source} → {target}", who)
    _print(df, fmt, f"路径 · {len(df)} path(s)", ["path", "hops", "text"])


@click.command()
@click.argument("entity")
@_common
@click.option("--hops", type=click.IntRange(1, 6), default=2, show_default=True)
@click.option("--direction", type=click.Choice(["both", "out", "in"]), default="both", show_default=True)
@click.option("--label", "labels", multiple=True, help="only step onto nodes with this label (repeatable)")
@click.option("--limit", type=click.IntRange(min=1), default=500, show_default=True,
              help="at most this many nodes (nearest first)")
@click.option("--max-degree", type=click.IntRange(min=1), default=1000, show_default=True,
              help="list but do not walk through nodes with more relationships (a village, a programme)")
def neighbours(entity, workspace: Path, types, since, until, fmt, unmask, who, hops: int, direction: str, labels,
               limit: int, max_degree: int):
    """The neighbourhood of an entity: every node within --hops relationships, nearest first.

    \b
    Example:
      graphwatch neighbours 张建国 --hops 2 --types SPOUSE_OF,PARENT_OF,SIBLING_OF,LEGAL_REP_OF --limit 500 -w ws
    """
    from ..analytics import find_entity
    from ..analytics import neighbours as walk

    g = _graph(workspace)
    v = find_entity(g, entity, unmask=unmask)
    df = walk(g, v, hops=hops, types=_types(types), direction=direction, since=since, until=until,
              labels=list(labels) or None, limit=limit, max_degree=max_degree)
    notes = []
    if df.attrs.get("truncated"):
        notes.append(f"{df.attrs['truncated']:,} more not shown (--limit {limit})")
    if df.attrs.get("not_expanded"):
        notes.append(f"{len(df.attrs['not_expanded'])} node(s) with more than {max_degree} relationships "
                     "listed but not walked through (--max-degree)")
    df = _mask_frame(df.drop(columns=["vertex", "labels"]), unmask, workspace, f"neighbours {entity}", who)
    _print(df, fmt, f"关系网络 · {len(df) - 1} node(s) within {hops} hop(s)", ["hops", "label", "name", "key", "via", "id"])
    for n in notes:
        err_console.print(n, markup=False)


@click.command()
@_common
@click.option("--label", "labels", multiple=True, help="only nodes with this label (repeatable)")
@click.option("--min-size", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="list this many groups")
def components(workspace: Path, types, since, until, fmt, unmask, who, labels, min_size: int, top: int):
    """Connected components over chosen relationship types: company clusters sharing
    principals, families, co-offending rings — the largest first.

    \b
    Example:
      graphwatch components --types LEGAL_REP_OF,SHAREHOLDER_OF,EXECUTIVE_OF --min-size 3 -w ws
    """
    from ..analytics import components as find

    df = find(_graph(workspace), types=_types(types), labels=list(labels) or None, since=since, until=until,
              min_size=min_size)
    _groups(df, "component", top, fmt, unmask, workspace, who, "连通分量 · components")


@click.command()
@_common
@click.option("--label", "labels", multiple=True, help="only nodes with this label (repeatable)")
@click.option("--seed", type=int, default=0, show_default=True, help="the same seed gives the same communities")
@click.option("--resolution", type=float, default=1.0, show_default=True, help="higher: more, smaller communities")
@click.option("--min-size", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="list this many communities")
def communities(workspace: Path, types, since, until, fmt, unmask, who, labels, seed: int, resolution: float,
                min_size: int, top: int):
    """Leiden communities (modularity, seeded) over chosen relationship types, the largest first.

    \b
    Example:
      graphwatch communities --types CO_OCCURRED_WITH,SPOUSE_OF,SIBLING_OF --seed 7 -w ws
    """
    from ..analytics import communities as find

    df = find(_graph(workspace), types=_types(types), labels=list(labels) or None, since=since, until=until,
              seed=seed, resolution=resolution, min_size=min_size)
    if fmt == "table":
        err_console.print(f"modularity {df.attrs.get('modularity', 0):.4f}, seed {seed}", markup=False)
    _groups(df, "community", top, fmt, unmask, workspace, who, "社区 · communities")


def _groups(df, column: str, top: int, fmt: str, unmask: bool, workspace: Path, who, title: str) -> None:
    df = df[df[column] <= top]
    df = _mask_frame(df, unmask, workspace, f"{column}s", who)
    if fmt != "table":
        _print(df, fmt, title, list(df.columns))
        return
    t = Table(title=title)
    for c in (column, "size", "members"):
        t.add_column(c, overflow="fold")
    for gid, part in df.groupby(column, sort=True):
        shown = [f"{r.name or r.key} ({r.label})" for r in part.head(12).itertuples()]
        more = f" … +{len(part) - 12}" if len(part) > 12 else ""
        t.add_row(plain(gid), str(int(part["size"].iloc[0])), plain("、".join(shown) + more))
    console.print(t)


@click.command()
@_common
@click.option("--label", "labels", multiple=True, help="only nodes with this label (repeatable)")
@click.option("--measure", "measures", multiple=True,
              type=click.Choice(["degree", "neighbours", "betweenness", "pagerank", "triangles"]),
              help="measures to compute, the first orders the rows (default: degree, betweenness, pagerank, triangles)")
@click.option("--cutoff", type=click.IntRange(min=1), help="betweenness over paths of at most this many hops")
@click.option("--directed", is_flag=True, help="betweenness and PageRank follow relationship directions")
@click.option("--top", type=click.IntRange(min=1), default=30, show_default=True)
def centrality(workspace: Path, types, since, until, fmt, unmask, who, labels, measures, cutoff, directed: bool,
               top: int):
    """Who sits at the centre of a projection: degree, betweenness, PageRank, triangles.

    \b
    Example:
      graphwatch centrality --types CO_OCCURRED_WITH --measure betweenness --measure degree --top 20 -w ws
    """
    from ..analytics import centrality as measure

    chosen = list(measures) or ["degree", "betweenness", "pagerank", "triangles"]
    df = measure(_graph(workspace), types=_types(types), labels=list(labels) or None, since=since, until=until,
                 measures=chosen, cutoff=cutoff, directed=directed, top=top)
    df = _mask_frame(df, unmask, workspace, "centrality", who)
    _print(df, fmt, "中心性 · centrality", ["label", "name", "key", *chosen])
