"""The hand-written SQL of ``benchmarks/bench_library_limit.py`` answers what the compiled
models answer, on every fixture graph of those models (the benchmark checks the same at 5 M
persons): a limit measured on other rows would mean nothing.

The hand SQL is written for ``same_as_min`` null (a ``SAME_AS*0..1`` step is the node
itself), so fixtures that set it are left out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graphwatch.alerts.library import load_library
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_library_limit as limit  # noqa: E402

LIB = load_library()
CASES = [(mid, fx) for mid in limit.HAND for fx in LIB[mid].fixtures
         if (fx.params or {}).get("same_as_min") is None]


def test_every_hand_model_has_fixtures():
    assert {mid for mid, _fx in CASES} == set(limit.HAND)


@pytest.mark.parametrize("mid,fx", CASES, ids=[f"{m}-{fx.name}" for m, fx in CASES])
def test_hand_sql_gives_the_rows_of_the_compiled_model(tmp_path, mid, fx):
    p = LIB[mid]
    with Workspace(tmp_path / "ws", create=True) as ws:
        write_graph(ws, list(fx.nodes), list(fx.rels))
    params = p.bind(fx.params)
    with Workspace(tmp_path / "ws", read_only=True) as ws, DuckDBEngine(ws) as eng:
        rows, ncols = limit.compiled_rows(eng, p.cypher, params)
        hand = ws.con.execute(limit.HAND[mid], limit.bound(limit.HAND[mid], params)).fetchall()
    assert limit.normal(hand, ncols) == limit.normal(rows, ncols)
