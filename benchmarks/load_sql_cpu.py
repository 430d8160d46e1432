"""CPU seconds of one ``graphwatch load``, per DuckDB statement (by the graphwatch function and line
that ran it) and per phase, all threads counted (``time.process_time``): where a load's CPU goes.

    PYTHONPATH=<checkout> python benchmarks/load_sql_cpu.py OUT.json load COUNTY --workspace WS

Works on old and new layouts (``graphwatch/cli.py`` or the ``cli/`` package). A SELECT's cost may
land in the Python between statements (DuckDB runs it when fetched), so ``python`` there is an
upper bound. Summarise runs with ``load_phases.py``.
"""

from __future__ import annotations

import collections
import functools
import importlib
import json
import sys
import time

import duckdb

PHASES = [("graphwatch.adjacency", "refresh"), ("graphwatch.ingest.pipeline", "_conflicts"),
          ("graphwatch.store", "commit"), ("graphwatch.store", "_materialise_nodes")]


def main() -> None:
    out = sys.argv[1]
    sys.argv = ["graphwatch"] + sys.argv[2:]
    stats: dict = collections.defaultdict(lambda: [0, 0.0, ""])     # calls, CPU s, statement head
    phases: dict = {}

    def caller() -> str:
        f = sys._getframe(3)
        while f and "graphwatch" not in f.f_code.co_filename:
            f = f.f_back
        return f"{f.f_code.co_filename.split('graphwatch/', 1)[-1]}:{f.f_code.co_name}:{f.f_lineno}" if f else "?"

    class Timed:
        """The connection, with its statements timed."""

        def __init__(self, con):
            object.__setattr__(self, "_con", con)

        def __getattr__(self, name):
            return getattr(self._con, name)

        def _run(self, method, sql, *args, **kw):
            t = time.process_time()
            res = getattr(self._con, method)(sql, *args, **kw)
            st = stats[caller()]
            st[0] += 1
            st[1] += time.process_time() - t
            st[2] = st[2] or " ".join(str(sql).split())[:110]
            return res

        def execute(self, sql, *a, **kw):
            return self._run("execute", sql, *a, **kw)

        def executemany(self, sql, *a, **kw):
            return self._run("executemany", sql, *a, **kw)

        def close(self):
            t = time.process_time()
            self._con.close()
            stats["close (checkpoint)"][0] += 1
            stats["close (checkpoint)"][1] += time.process_time() - t

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

    connect = duckdb.connect
    duckdb.connect = lambda *a, **kw: Timed(connect(*a, **kw))
    for mod_name, name in PHASES:
        try:
            mod = importlib.import_module(mod_name)
            fn = getattr(mod, name)
        except (ImportError, AttributeError):
            continue                      # not at this commit

        def timed(*a, _fn=fn, _key=f"{mod_name}.{name}", **kw):
            t = time.process_time()
            try:
                return _fn(*a, **kw)
            finally:
                p = phases.setdefault(_key, [0, 0.0])
                p[0] += 1
                p[1] += time.process_time() - t
        setattr(mod, name, functools.wraps(fn)(timed))
    try:
        from graphwatch.cli import main as cli
    except ImportError:
        import graphwatch.cli as cli_module
        cli = cli_module.main
    t0 = time.process_time()
    try:
        cli(standalone_mode=False)
    finally:
        json.dump({"total": time.process_time() - t0, "sql": dict(stats), "phases": phases}, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
