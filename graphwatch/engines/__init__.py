"""Engines that run graphwatch's Cypher: the embedded DuckDB engine (default) and Neo4j.

``open_engine(name, workspace)`` is the one place that maps an engine name to a class.
"""

from __future__ import annotations

from ..exc import GraphwatchError
from .base import Binding, Engine, GNode, GPath, GRel, Result

ENGINES = ("duckdb", "neo4j")


def open_engine(name: str, workspace, *, connection: dict | None = None, **options) -> Engine:
    """An engine by name. ``connection`` (uri, user, password, database) is where a server
    engine finds its server; unset values fall back to the environment and the workspace's
    own server. The embedded engine reads the workspace and ignores it."""
    if name == "duckdb":
        from .duckdb import DuckDBEngine

        return DuckDBEngine(workspace, **options)
    if name == "neo4j":
        from .neo4j import Neo4jEngine

        return Neo4jEngine(workspace, **{k: v for k, v in (connection or {}).items() if v is not None}, **options)
    raise GraphwatchError(f"unknown engine {name!r}; available: {', '.join(ENGINES)}")


__all__ = ["Binding", "Engine", "GNode", "GPath", "GRel", "Result", "open_engine", "ENGINES"]
