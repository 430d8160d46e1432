"""app: start the Streamlit explorer (the ``graphwatch_app`` package) on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from .console import console


@click.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--port", type=click.IntRange(1024, 65535), default=8501, show_default=True)
@click.option("--neo4j", "neo4j_uri", metavar="URI", envvar="GRAPHWATCH_NEO4J_URI",
              help="a Neo4j server the model workbench may run queries on (bolt://…) [env GRAPHWATCH_NEO4J_URI]")
def app(workspace: Path, port: int, neo4j_uri):
    """Start the explorer — alert queue, evidence graphs, search, entity pages, paths, model
    workbench, trends, data — on http://127.0.0.1:PORT (local only; no usage statistics).
    Reviewers type their name in its sidebar: there is no login.

    \b
    Example:
      graphwatch app --workspace ws --port 8501
    """
    from ..exc import GraphwatchError
    from ..store import WORKSPACE_MARK

    if not (workspace / WORKSPACE_MARK).exists():
        raise GraphwatchError(f"{workspace}: not a graphwatch workspace (no {WORKSPACE_MARK})")
    try:
        import importlib

        importlib.import_module("streamlit")
        from graphwatch_app import ENV_NEO4J, ENV_WORKSPACE, streamlit_args
    except ImportError as exc:
        raise GraphwatchError(f"the explorer is not installed ({exc}); install graphwatch with its dependencies") from None
    env = {**os.environ, ENV_WORKSPACE: str(workspace.resolve())}
    if neo4j_uri:
        env[ENV_NEO4J] = neo4j_uri
    root = str(Path(__import__("graphwatch_app").__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    console.print(f"graphwatch explorer: http://127.0.0.1:{port}  (workspace {workspace}; Ctrl-C stops it)", markup=False)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", *streamlit_args(port)], env=env)

    def stop(*_):                 # SIGTERM to this command stops the server too (no orphaned streamlit)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        sys.exit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:      # a server with open sessions may not stop on SIGTERM
            proc.kill()
            proc.wait()
