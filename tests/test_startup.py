"""`graphwatch query "RETURN 1"` imports only what it needs (issue 16: start-up). Timings live
in benchmarks/; this checks the modules, which is what makes the difference: the other
commands' modules, numpy and pandas (~0.1 s each), rich's progress bars and live display,
YAML (the schema comes from the user's cache), the drivers and libraries of other commands —
and the planner's statistics, counted only when a pattern needs them (they scan the graph)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from golden_cypher import NODES, RELS
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "pyarrow", "igraph", "networkx", "splink", "streamlit", "neo4j", "graphviz",
         "weasyprint", "openpyxl", "python_calamine", "sqlalchemy", "rapidfuzz", "psutil", "opencc", "pypinyin",
         "yaml", "rich.progress", "rich.live", "rich.status", "rich._emoji_codes", "graphwatch_app",
         "graphwatch.cli.alerts", "graphwatch.cli.resolve", "graphwatch.cli.ingest", "graphwatch.cli.analytics",
         "graphwatch.cli.export", "graphwatch.cli.demo", "graphwatch.cli.app", "graphwatch.cli.patterns",
         "graphwatch.resolve", "graphwatch.analytics", "graphwatch.adjacency", "graphwatch.ingest",
         "graphwatch.alerts", "graphwatch.export", "graphwatch.synth", "graphwatch.engines.neo4j")


def test_query_return_1_imports_nothing_heavy(tmp_path):
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
    code = ("import sys; from graphwatch.cli import main\n"
            "try:\n    main(['query', 'RETURN 1', '-w', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True, env=env, timeout=120)
    assert "1 row" in res.stdout, res.stdout + res.stderr
    loaded = set(res.stderr.split())
    assert "duckdb" in loaded and "graphwatch.cli.query" in loaded      # the check sees the imports
    assert not [m for m in HEAVY if m in loaded]


def test_planner_statistics_counted_only_when_a_pattern_needs_them(tmp_path):
    from graphwatch.engines.duckdb import DuckDBEngine

    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
    with DuckDBEngine(ws) as eng:
        assert eng.run("RETURN 1 AS one").rows == [(1,)]
        counted = lambda: "total_nodes" in vars(eng.options.stats)      # noqa: E731
        assert eng.options.stats is not None and not counted()
        # (c's name keeps its node row: three items to plan)
        n = eng.run("MATCH (a:Person)-[:SPOUSE_OF]-(b:Person)-[:SPOUSE_OF]-(c:Person) "
                    "RETURN count(*) AS n, min(c.name) AS m").rows
        assert counted() and eng.options.stats.total_nodes == len(NODES)
    with DuckDBEngine(ws, options=dataclasses.replace(eng.options, plan_joins=False, stats=None)) as flat:
        assert n == flat.run("MATCH (a:Person)-[:SPOUSE_OF]-(b:Person)-[:SPOUSE_OF]-(c:Person) "
                             "RETURN count(*) AS n, min(c.name) AS m").rows
