"""The CLI is a thin shell: every command has help ending with an example; errors are one clear line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from graphwatch.cli import main

COMMANDS = sorted(main.commands) + sorted(f"{g} {sub}" for g, cmd in main.commands.items()
                                          for sub in getattr(cmd, "commands", {}))


def test_commands_exist():
    assert set(COMMANDS) == {"generate", "load", "stats", "quarantine", "mappings", "query", "resolve", "review",
                             "demo", "neo4j", "neo4j start", "neo4j stop", "neo4j status", "neo4j push",
                             "mappings list", "mappings check", "run", "alerts", "alerts list", "alerts show",
                             "alerts verdict", "alerts precision", "alerts trends", "audit", "patterns",
                             "patterns list", "patterns show", "patterns validate", "patterns test", "watch",
                             "paths", "neighbours", "components", "communities", "centrality", "export", "evaluate",
                             "app"}


def test_doctests():
    import doctest

    import graphwatch.cli.console
    import graphwatch.cli.query
    import graphwatch.demo

    for module in (graphwatch.cli.console, graphwatch.cli.query, graphwatch.demo):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_module_entry_point():
    """Benchmarks and tests run 'python -m graphwatch.cli'; starting it imports no heavy library."""
    import subprocess
    import sys

    code = ("import sys, runpy; sys.argv = ['graphwatch', '--help']\n"
            "try: runpy.run_module('graphwatch.cli', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('duckdb', 'pandas', 'pyarrow', 'splink') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Usage: graphwatch [OPTIONS] COMMAND" in out and "resolve" in out
    assert out.strip().endswith("[]")


@pytest.mark.parametrize("name", [None] + COMMANDS)
def test_help_ends_with_an_example(name):
    args = [*name.split(), "--help"] if name else ["--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Example:" in text
    # the description ends with the example; click lists the options after it
    description = text.split("Options:", 1)[0]
    after = [line.strip() for line in description.split("Example:", 1)[1].splitlines() if line.strip()]
    assert after and all(line.startswith("graphwatch ") for line in after)
    if name:
        assert f"graphwatch {name}" in after[0]


def test_load_prints_accounting_and_stats(tmp_path, mini_county):
    runner = CliRunner()
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["load", str(mini_county), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "rows read = loaded + quarantined" in result.output
    assert "household_registry/household_registry.csv" in result.output and "gb18030" in result.output
    result = runner.invoke(main, ["stats", "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "(:Person)" in result.output and "人员" in result.output and "[:SPOUSE_OF]" in result.output
    assert "Quarantine: empty" in result.output


def test_user_error_is_one_clear_line(tmp_path):
    bad = tmp_path / "household_registry.csv"
    bad.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["load", str(bad), "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "household_registry.csv: empty file" in result.output
    assert "Traceback" not in result.output


def test_quarantine_lists_rows(tmp_path):
    from pathlib import Path
    bad = Path(__file__).parent / "data" / "bad"
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(main, ["load", str(bad / "divisions.csv"), "-w", str(ws)]).exit_code == 0
    assert runner.invoke(main, ["load", str(bad / "household_dates.csv"), "-m", "household_registry", "-w", str(ws)]).exit_code == 0
    result = runner.invoke(main, ["quarantine", "-w", str(ws)])
    assert "household_dates.csv, line 6, column '出生日期': not a date: 19990230" in result.output


def test_progress_bar_ends_cleanly(tmp_path, monkeypatch):
    """With a progress bar (a terminal, or GRAPHWATCH_PROGRESS=1) a load ends with its
    accounting: the bar's live display enters its console with 'with', which the lazy console
    proxy could not stand in for (an internal error after every load on a terminal)."""
    from pathlib import Path

    monkeypatch.setenv("GRAPHWATCH_PROGRESS", "1")
    data = Path(__file__).parent / "data" / "bad" / "divisions.csv"
    result = CliRunner().invoke(main, ["load", str(data), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "load: done" in result.output and "rows read = loaded + quarantined" in result.output


def test_query_table_prints_values_that_look_like_markup_as_they_are(tmp_path):
    """A table cell or header is data: '[bold]x', a list printed '[a, b]', a node whose name
    holds brackets are shown as they are, never read as rich markup."""
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    schema = tmp_path / "schema.yaml"
    schema.write_text("labels:\n  Person:\n    properties: {aliases: string_list}\nrelationships: {}\n",
                      encoding="utf-8")
    with Workspace(tmp_path / "ws", create=True) as ws:
        ws.use_schema(schema)
        write_graph(ws, [{"key": "Person:a", "labels": ["Person"], "name": "[bold]张三[/bold]",
                          "aliases": ["[red]", "老张", "a"]}], [])
    res = CliRunner().invoke(main, ["query", "MATCH (p:Person) RETURN p.name AS `[b]name`, p.aliases AS aliases, "
                                             "p AS node, '[i]' AS lit", "-w", str(tmp_path / "ws")])
    assert res.exit_code == 0, res.output
    assert "[b]name" in res.output
    assert "[bold]张三[/bold]" in res.output
    assert "[[red], 老张, a]" in res.output
    assert "(Person Person:a [bold]张三[/bold])" in res.output
    assert "│ [i]" in res.output
