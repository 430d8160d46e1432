"""`graphwatch query "RETURN 1"` imports only what it needs (issue 16: start-up). Timings live
in benchmarks/; this checks the modules, which is what makes the difference: the other
commands' modules, numpy and pandas (~0.1 s each), rich's progress bars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from golden_cypher import NODES, RELS
from graphwatch.fixtures import write_graph
from graphwatch.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "pyarrow", "igraph", "splink", "rich.progress", "graphwatch.cli.alerts",
         "graphwatch.cli.resolve", "graphwatch.cli.ingest", "graphwatch.resolve", "graphwatch.analytics")


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
