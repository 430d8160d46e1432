"""Every Streamlit cache of the explorer, and how pages open the stores.

The graph database (DuckDB) is opened read-only for one request and closed at its end
(:func:`graph_db`), so a ``graphwatch load`` or ``resolve`` in another process can take its
write lock between requests; while one holds it, pages say so and the alert pages — which
read only ``alerts.sqlite`` — keep working. Alerts, verdicts and the audit live in SQLite
(WAL, ``BEGIN IMMEDIATE``): every request opens its own connection (:func:`alerts`), so
two sessions recording verdicts at once are serialised for a moment and both are kept.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from graphwatch.exc import WorkspaceError

from . import ENV_NEO4J, ENV_WORKSPACE, EXPAND_EVENT


class Busy(Exception):
    """Another process holds the workspace's write lock (a load or resolve is running)."""


def workspace() -> Path:
    """The workspace this explorer shows (``graphwatch app --workspace``)."""
    value = os.environ.get(ENV_WORKSPACE)
    if not value:
        st.error("未指定工作区：用 graphwatch app --workspace WS 启动 / no workspace: start with "
                 "'graphwatch app --workspace WS'")
        st.stop()
    return Path(value)


def neo4j_uri() -> str | None:
    return os.environ.get(ENV_NEO4J) or None


@contextmanager
def graph_db():
    """The workspace opened read-only for this request (closed at its end)."""
    from graphwatch.store import Workspace

    try:
        ws = Workspace(workspace(), read_only=True)
    except WorkspaceError as exc:
        if "cannot open" in str(exc):
            raise Busy(str(exc)) from None
        raise
    try:
        yield ws
    finally:
        ws.close()


@contextmanager
def alerts():
    """The alert store, one SQLite connection per request."""
    from graphwatch.alerts.store import AlertStore

    store = AlertStore(workspace())
    try:
        yield store
    finally:
        store.close()


def _stamp(folder: Path) -> tuple:
    """The database files' sizes and change times: a load or resolve changes them, a read does not."""
    out = []
    for name in ("graph.duckdb", "graph.duckdb.wal"):
        try:
            st_ = (folder / name).stat()
            out.append((st_.st_size, st_.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


@st.cache_data(max_entries=8, show_spinner=False)
def _fingerprint(folder: str, stamp: tuple) -> str:
    from graphwatch.analytics.load import fingerprint as fp

    with graph_db() as ws:
        return fp(ws.con)


def fingerprint() -> str:
    """What changes with every load and resolve (the analytics cache's key); computed again
    only when the database files change (it scans every node and relationship id)."""
    folder = workspace()
    return _fingerprint(str(folder), _stamp(folder))


@st.cache_data(max_entries=64, show_spinner=False)
def entity_page(folder: str, fp: str, nid: int) -> tuple:
    """An entity's properties with sources, timeline and SAME_AS candidates (per graph version)."""
    from .services import entity, same_as, timeline

    with graph_db() as ws:
        return entity(ws.con, nid), timeline(ws.con, nid), same_as(ws.con, nid)


@st.cache_resource(max_entries=2, show_spinner="读取图谱 / reading the graph…")
def _graph(folder: str, fp: str):
    from graphwatch.analytics import load_graph

    return load_graph(folder)


_last_graph: dict = {}


def graph():
    """The workspace's graph as arrays (memory-mapped from the analytics cache). While a load
    holds the database, the last graph read stays in use."""
    folder = str(workspace())
    try:
        g = _graph(folder, fingerprint())
    except Busy:
        if folder in _last_graph:
            return _last_graph[folder]
        raise
    _last_graph[folder] = g
    return g


@st.cache_data(max_entries=2, show_spinner="建立姓名索引 / indexing names…")
def names(folder: str, fp: str):
    from graphwatch.store import Workspace

    from .services import name_index

    with Workspace(folder, read_only=True) as ws:
        return name_index(ws.con)


def library(folder: str) -> tuple[dict, dict]:
    """The pattern library (see :func:`_library`), parsed again only when a file changes."""
    from graphwatch.alerts.library import patterns_dir

    from .services import model_folder

    files = [f for place in (patterns_dir(), model_folder(folder)) if Path(place).is_dir()
             for f in sorted(Path(place).glob("*.yaml"))]
    return _library(folder, tuple((str(f), f.stat().st_mtime_ns) for f in files))


library.clear = lambda: _library.clear()


@st.cache_data(max_entries=4, show_spinner=False)
def _library(folder: str, files: tuple) -> tuple[dict, dict]:
    """Pattern id → (title zh, title en, file, cypher, params) and id → error for files that do not parse.
    Files are parsed one by one, so one broken file never hides the rest."""
    from graphwatch.alerts.library import parse_pattern, patterns_dir
    from graphwatch.exc import GraphwatchError
    from graphwatch.schema import workspace_schema

    from .services import model_folder

    schema = workspace_schema(folder)
    good, bad = {}, {}
    for place in (patterns_dir(), model_folder(folder)):
        for f in sorted(Path(place).glob("*.yaml")) if Path(place).is_dir() else []:
            try:
                p = parse_pattern(f, schema=schema)
            except GraphwatchError as exc:
                bad[f.stem] = str(exc)
                continue
            good[p.id] = {"zh": p.title_zh, "en": p.title_en, "file": str(f), "cypher": p.cypher or "",
                          "params": {k: v for k, v in p.defaults().items()}, "kind": p.kind}
    return good, bad


def schema_titles(folder: str):
    """The workspace's schema (its own ``schema.yaml`` when it has one), read again when that file changes."""
    from graphwatch.schema import WORKSPACE_SCHEMA

    own = Path(folder) / WORKSPACE_SCHEMA
    return _schema(folder, own.stat().st_mtime_ns if own.exists() else None)


@st.cache_resource(max_entries=4, show_spinner=False)
def _schema(folder: str, stamp):
    from graphwatch.schema import workspace_schema

    return workspace_schema(folder)


def clicked(value) -> dict | None:
    """The node or relationship a graph component's click names, with its properties and source
    records (``{"nodes": [...], "rels": [...]}`` as :func:`graphwatch.alerts.evidence.subgraph`
    gives them), or ``None`` when the value names none. Drawings read from the graph's arrays
    carry names only; the rest is read here, for the one element clicked."""
    if not isinstance(value, dict) or value.get("action") == EXPAND_EVENT:      # an expansion, not a click
        return None
    target = str((value.get("data") or {}).get("target_id", ""))
    rel = value.get("action") == "clicked_edge" or target.startswith("r")
    number = target[1:] if rel else target
    if not number.lstrip("-").isdigit():
        return None
    return _element(str(workspace()), fingerprint(), "rel" if rel else "node", int(number))


@st.cache_data(max_entries=256, show_spinner=False)
def _element(folder: str, fp: str, kind: str, number: int) -> dict:
    from graphwatch.alerts.evidence import subgraph

    with graph_db() as ws:
        return subgraph(ws.con, [number], []) if kind == "node" else subgraph(ws.con, [], [number])
