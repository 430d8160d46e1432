"""No traceback from any command on bad input: a user's mistake is one line naming the file
(and line and column where there is one) with exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from graphwatch.cli import main

BAD = Path(__file__).parent / "data" / "bad"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli-errors") / "ws"
    res = CliRunner().invoke(main, ["load", str(BAD / "divisions.csv"), str(BAD / "organisations.csv"),
                                    str(BAD / "programmes.csv"), "--workspace", str(path)])
    assert res.exit_code == 0, res.output
    return path


def cases(ws: Path, tmp: Path) -> list[tuple[list, str]]:
    (tmp / "not-a-workspace").mkdir(exist_ok=True)
    (tmp / "query.cypher").write_text("MATCH (n:Persn) RETURN n", encoding="utf-8")
    (tmp / "bad-schema.yaml").write_text("labels:\n  Garage: {properties: {size: huge}}\n", encoding="utf-8")
    (tmp / "bad-mapping.yaml").write_text("name: x\ntitle: {zh: x, en: x}\ncolumns: {甲: a}\n"
                                          "nodes: {n: {label: Person, key: 'Person:{b}'}}\n", encoding="utf-8")
    w = str(ws)
    return [
        (["stats", "-w", str(tmp / "nowhere")], "not a graphwatch workspace"),
        (["stats", "-w", str(tmp / "not-a-workspace")], "not a graphwatch workspace"),
        (["quarantine", "-w", str(tmp / "nowhere")], "not a graphwatch workspace"),
        (["load", str(tmp / "missing.csv"), "-w", w], "missing.csv: file not found"),
        (["load", str(BAD / "household_missing_column.csv"), "-m", "household_registry", "-w", w],
         "household_missing_column.csv, line 1: missing column(s) ['联系电话']"),
        (["load", str(BAD / "household_semicolon.csv"), "-m", "household_registry", "-w", w], "wrong delimiter"),
        (["load", str(BAD / "household_undecodable.csv"), "-m", "household_registry", "-w", w],
         "line 2: unreadable encoding"),
        (["load", str(BAD / "divisions.csv"), "-m", "no_such_mapping", "-w", w], "unknown mapping 'no_such_mapping'"),
        (["load", str(BAD / "divisions.csv"), "-m", str(tmp / "bad-mapping.yaml"), "-w", w],
         "bad-mapping.yaml, line 4: node 'n': key uses unknown field 'b'"),
        (["load", str(BAD / "divisions.csv"), "--schema", str(tmp / "bad-schema.yaml"), "-w", w],
         "bad-schema.yaml, line 2: title must be a mapping with 'zh' and 'en'"),
        (["load", str(BAD / "divisions.csv"), "--infer-schema", "-w", w], "--infer-schema reads neo4j-admin"),
        (["load", "sqlite:///" + str(tmp / "none.db") + "#roll", "-m", "benefit_rolls", "-w", w], "database query failed"),
        (["query", "MATCH (n:Persn) RETURN n", "-w", w], "line 1, column 7: unknown label 'Persn' (did you mean 'Person'?)"),
        (["query", "@" + str(tmp / "query.cypher"), "-w", w], "unknown label 'Persn'"),
        (["query", "@" + str(tmp / "no-such.cypher"), "-w", w], "no-such.cypher: No such file or directory"),
        (["query", "MATCH (n) DETACH DELETE n", "-w", w], "line 1, column 11"),
        (["query", "MATCH (n) RETURN n.x + $p", "-w", w, "-p", "p=1"], "line 1, column 18: unknown node property 'x'"),
        (["query", "RETURN $missing", "-w", w], "missing"),
        (["query", "MATCH (n:Person) RETURN n", "-w", w, "--engine", "neo4j"], "Neo4j"),
        (["review", "-w", w, "--explain", "a#1", "b#2"], "not resolved yet: run 'graphwatch resolve"),
        (["review", "-w", w, "--show", "Person:nobody"], "not resolved yet: run 'graphwatch resolve"),
        (["neo4j", "status", "-w", str(tmp / "nowhere")], "not running"),
        # the bulk push starts the workspace's own server itself; the online one needs it running
        (["neo4j", "push", "--online", "-w", w], "Neo4j"),
    ]


def test_no_command_prints_a_traceback(ws, tmp_path):
    wrong = []
    for args, expected in cases(ws, tmp_path):
        res = CliRunner().invoke(main, args)
        text = res.output
        status = 1 if args[:2] == ["neo4j", "status"] else 2      # status answers "not running" with 1
        clean = isinstance(res.exception, SystemExit) and "Traceback" not in text
        # one line per error (a file with several independent mistakes lists each on its own line)
        one_line = bool([line for line in text.splitlines() if line.startswith("error:")]) == (status == 2)
        if not (clean and res.exit_code == status and expected in text and one_line):
            wrong.append((args, res.exit_code, text, res.exception))
    assert not wrong, "\n".join(map(repr, wrong))


def test_an_unexpected_failure_is_one_line_and_says_how_to_see_more(ws, monkeypatch):
    from graphwatch import store

    def broken(self):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(store.Workspace, "totals", broken)
    res = CliRunner().invoke(main, ["stats", "-w", str(ws)])
    assert res.exit_code == 1
    assert "internal error, please report it: ZeroDivisionError: boom" in res.output
    assert "GRAPHWATCH_DEBUG=1" in res.output and "Traceback" not in res.output


def test_running_out_of_duckdbs_memory_says_how_to_raise_the_limit(tmp_path, monkeypatch):
    """A load that DuckDB cannot fit in its memory limit (here a tiny one) is one line naming the
    limit and the setting that raises it, exit status 2, and no workspace is left behind."""
    res = CliRunner().invoke(main, ["generate", "--persons", "1000", "--seed", "4", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    monkeypatch.setenv("GRAPHWATCH_MEMORY_LIMIT", "8MB")
    res = CliRunner().invoke(main, ["load", str(tmp_path / "c"), "--skip-unclaimed", "-w", str(tmp_path / "ws")])
    assert res.exit_code == 2, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "DuckDB ran out of memory within its limit of 8MB" in errors[0]
    assert "GRAPHWATCH_MEMORY_LIMIT=" in errors[0] and "Traceback" not in res.output
    assert not (tmp_path / "ws").exists()
