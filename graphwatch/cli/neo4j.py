"""Neo4j: the workspace's own server (start, stop, status), push, and where a server is."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .console import GraphwatchGroup, console, err_console, progress_bar, workspace_option


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


def prompt_password(ask: bool) -> str | None:
    """The hidden password prompt of ``--ask-password`` (None when not asked)."""
    return click.prompt("Neo4j password", hide_input=True, err=True) if ask else None


def _target(workspace, uri, user, ask, database):
    from ..neo4j.connection import Neo4jTarget

    return Neo4jTarget.resolve(workspace, uri=uri, user=user, password=prompt_password(ask), database=database)


@click.group(cls=GraphwatchGroup)
def neo4j():
    """Run graphwatch's own Neo4j server, push a workspace into it (or into yours).

    \b
    Example:
      graphwatch neo4j start --workspace ws && graphwatch neo4j push --workspace ws
    """


@neo4j.command("start")
@workspace_option()
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
    from ..neo4j import server as neo4j_server

    with err_console.status("starting Neo4j (the first start fetches its jars from Maven Central) …"):
        info = neo4j_server.start(workspace, auth=not no_auth, heap=heap, pagecache_mb=pagecache_mb, port=port)
    state = "already running" if info.get("already_running") else "started"
    auth = f"user neo4j, password in {workspace / 'neo4j' / 'password'}" if info.get("auth") else "no auth"
    console.print(f"Neo4j {state} at {info['uri']} (pid {info['pid']}; {auth})", markup=False)


@neo4j.command("stop")
@workspace_option()
def neo4j_stop(workspace: Path):
    """Stop the workspace's Neo4j server (its data stays in WORKSPACE/neo4j/).

    \b
    Example:
      graphwatch neo4j stop --workspace ws
    """
    from ..neo4j import server as neo4j_server

    with err_console.status("stopping Neo4j …"):
        was = neo4j_server.stop(workspace)
    console.print("Neo4j stopped" if was else "no Neo4j server was running for this workspace")


@neo4j.command("status")
@workspace_option()
def neo4j_status(workspace: Path):
    """Is the workspace's Neo4j server running and answering? Exit status 1 if not.

    \b
    Example:
      graphwatch neo4j status --workspace ws
    """
    from ..neo4j import server as neo4j_server

    st = neo4j_server.status(workspace)
    if st["running"] and st.get("answers"):
        console.print(f"running at {st['uri']} (pid {st['pid']}, since {st['started']}, "
                      f"{'auth on' if st.get('auth') else 'no auth'})", markup=False)
        return
    console.print(f"not running: {st.get('reason', 'no answer')}", markup=False)
    sys.exit(1)


@neo4j.command("push")
@workspace_option()
@neo4j_options
@click.option("--online", is_flag=True,
              help="push through the driver into the running server (batched transactions) instead of "
                   "Neo4j's offline importer; the default for --uri, --database or a resumed push")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="rows per transaction of an online push")
@click.option("--clear", is_flag=True, help="online: delete everything in the Neo4j database first")
@click.option("--gzip", "gzip_files", is_flag=True,
              help="bulk: write the CSV files gzipped (a fifth of the disk, slower to write)")
def neo4j_push(workspace: Path, uri, user, ask_password, database, online: bool, batch_size: int, clear: bool,
               gzip_files: bool):
    """Copy the workspace graph into Neo4j, with unique constraints on nid / rid, and check the counts.

    Into the workspace's own server (no --uri) the push uses Neo4j's offline importer: DuckDB
    writes the graph as CSV files, the server is stopped, `neo4j-admin database import full`
    replaces its database, the server starts again (same port and password) and the
    constraints are built; tens of times faster than the driver on a big county. With
    --online (and always with --uri or --database) it sends batched transactions through the
    driver: idempotent (a second push changes nothing) and resumable (a rerun after an
    interruption skips the committed batches). Either way it ends with a check that Neo4j
    holds exactly the workspace's nodes per label and relationships per type. The
    workspace is only read.

    \b
    Example:
      graphwatch neo4j push --workspace ws
      graphwatch neo4j push --workspace ws --online --batch-size 20000
    """
    import os

    from ..neo4j.connection import ENV_DATABASE, ENV_URI
    from ..neo4j.push import PUSH_STATE_FILE, push

    own = not (uri or os.environ.get(ENV_URI)) and (database or os.environ.get(ENV_DATABASE) or "neo4j") == "neo4j"
    if not online and own and not (workspace / PUSH_STATE_FILE).exists():
        from ..neo4j.bulk import bulk_blockers, bulk_push

        blockers = bulk_blockers(workspace)
        if not blockers:
            err_console.print("bulk push: DuckDB → CSV, then Neo4j's offline importer replaces the database of "
                              "the workspace's server (stopped for the import and started again); --online "
                              "pushes through the driver instead")
            with progress_bar("push") as update:
                rep = bulk_push(workspace, progress=update, compress=gzip_files)
            phases = ", ".join(f"{k} {v:.0f} s" for k, v in rep.phases.items())
            console.print(f"pushed {rep.nodes:,} nodes and {rep.rels:,} relationships with Neo4j's importer in "
                          f"{rep.seconds:.1f} s ({rep.rows_per_second:,.0f} rows/s)")
            console.print(f"counts match the workspace ({phases})")
            return
        err_console.print("pushing online: Neo4j's importer cannot make the same graph ("
                          + "; ".join(blockers[:3]) + ")", markup=False)
    target = _target(workspace, uri, user, ask_password, database)
    with progress_bar("push") as update:
        rep = push(workspace, target, batch_size=batch_size, progress=update, clear=clear)
    resumed = f", {rep.skipped_batches} batches already pushed before" if rep.skipped_batches else ""
    console.print(f"pushed {rep.nodes:,} nodes and {rep.rels:,} relationships to {target.uri} in "
                  f"{rep.seconds:.1f} s ({rep.rows_per_second:,.0f} rows/s{resumed}); counts match the workspace",
                  markup=False)
