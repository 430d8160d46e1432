"""A small demo workspace with alerts, shared by the explorer's tests (AppTest and browser)."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import time
import urllib.request
from pathlib import Path


def demo_workspace(folder: Path, persons: int = 1000) -> Path:
    """Generate, load and resolve a county of ``persons`` and run every model on it."""
    from graphwatch.alerts.runner import run_models
    from graphwatch.demo import run_demo

    rep = run_demo(folder, persons=persons, seed=3)
    run_models(rep.workspace)
    return rep.workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int, timeout: float = 60) -> bool:
    """Whether the explorer on ``port`` says it is healthy within ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.3)
    return False


def state(ws: Path) -> tuple:
    """What must not change when a page refuses hostile input: the graph file's bytes, the
    alert rows and their statuses, the verdicts and the workspace's own model files."""
    graph = hashlib.sha256((ws / "graph.duckdb").read_bytes()).hexdigest()
    con = sqlite3.connect(ws / "alerts.sqlite")
    try:
        alerts = con.execute("SELECT id, status FROM alert ORDER BY id").fetchall()
        verdicts = con.execute("SELECT count(*) FROM verdict").fetchone()[0]
    finally:
        con.close()
    models = sorted(p.name for p in (ws / "patterns").glob("*")) if (ws / "patterns").exists() else []
    return graph, alerts, verdicts, models


HOSTILE = ["'", '"', "'; DROP TABLE node; --", "张三' OR '1'='1", "x" * 10_240, "王\x00芳", "a\x1b[31mb",
           "MATCH (n) DETACH DELETE n"]
HOSTILE_CYPHER = ["CREATE (n:Person {name: 'x'}) RETURN n", "MATCH (n) DETACH DELETE n RETURN 1",
                  "MATCH (n:Person) SET n.name = 'x' RETURN n", "MATCH (n) WHERE n.name = ''; DROP TABLE node; --' RETURN n",
                  "MATCH (n:Person) RETURN n // " + "x" * 10_240, "MATCH (n:Person)\x00 RETURN n",
                  "MERGE (n:Person {name: 'y'}) RETURN n"]
