"""``graphwatch patterns test``: run each model on the tiny graphs its file declares.

Each fixture is written into a scratch workspace (and, for Neo4j, pushed to the server) and
the model must report exactly the (subject key, object key) pairs the fixture expects: the
positive graph its case, the near-miss graph nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .library import Fixture, Pattern
from .match import matches, run_pattern


@dataclass
class FixtureResult:
    model: str
    fixture: str
    engine: str
    expected: frozenset
    got: frozenset

    @property
    def ok(self) -> bool:
        return self.expected == self.got

    def describe(self) -> str:
        if self.ok:
            return f"{self.model} · {self.fixture} · {self.engine}: ok ({len(self.got)} alert(s))"
        missing, extra = sorted(self.expected - self.got, key=str), sorted(self.got - self.expected, key=str)
        return (f"{self.model} · {self.fixture} · {self.engine}: FAILED"
                + (f"; missing {missing}" if missing else "") + (f"; unexpected {extra}" if extra else ""))


def run_fixture(p: Pattern, fx: Fixture, *, engine: str = "duckdb", target=None,
                folder: str | Path | None = None) -> FixtureResult:
    """Run ``p`` on fixture ``fx`` with the embedded engine, or on Neo4j at ``target``."""
    from ..engines.duckdb import DuckDBEngine
    from ..fixtures import write_graph
    from ..store import Workspace

    scratch = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="gw-fixture-"))
    try:
        ws_dir = scratch / f"{p.id}-{fx.name}"
        if ws_dir.exists():
            shutil.rmtree(ws_dir)
        with Workspace(ws_dir, create=True) as ws:
            write_graph(ws, list(fx.nodes), list(fx.rels))
        params = p.bind(fx.params)
        if engine == "duckdb":
            with Workspace(ws_dir, read_only=True) as ws, DuckDBEngine(ws) as eng:
                found = matches(p, run_pattern(p, eng, ws, params))
        else:
            from ..engines.neo4j import Neo4jEngine
            from ..neo4j.push import push

            push(ws_dir, target, clear=True)
            with Workspace(ws_dir, read_only=True) as ws, Neo4jEngine(ws_dir, target=target) as eng:
                found = matches(p, run_pattern(p, eng, ws, params))
        got = frozenset((m.subject.key, m.object.key if m.object is not None else None) for m in found)
        return FixtureResult(p.id, fx.name, engine, fx.expect, got)
    finally:
        if folder is None:
            shutil.rmtree(scratch, ignore_errors=True)


def test_patterns(patterns: list[Pattern], *, engine: str = "duckdb", target=None) -> list[FixtureResult]:
    """Every fixture of every pattern; a pattern without fixtures is reported as a failure."""
    out = []
    for p in patterns:
        if not p.fixtures:
            out.append(FixtureResult(p.id, "(no fixtures)", engine, frozenset({("a fixture", None)}), frozenset()))
        for fx in p.fixtures:
            out.append(run_fixture(p, fx, engine=engine, target=target))
    return out
