"""The bad-input corpus: each file gives its expected clear error or quarantined rows,
and the accounting always balances (rows read = loaded + quarantined)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graphwatch.exc import InvalidMapping, SourceError
from graphwatch.ingest import load
from graphwatch.ingest.mapping import parse_mapping
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))
REFERENCE = ["divisions.csv", "organisations.csv", "programmes.csv", "projects.csv"]


def test_corpus_is_large_enough():
    assert len(EXPECTED) >= 45
    assert all((BAD / name).exists() for name in EXPECTED)


def _mapping(spec: str) -> str:
    """A shipped mapping's name, or a mapping file of the corpus (``mappings/…``)."""
    return str(BAD / spec) if spec.endswith(".yaml") else spec


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if "mapping_error" in EXPECTED[n]))
def test_bad_mapping(name):
    exp = EXPECTED[name]
    with pytest.raises(InvalidMapping) as info:
        parse_mapping(BAD / name)
    assert exp["mapping_error"] in str(info.value)
    assert Path(info.value.file).name == Path(name).name
    assert info.value.line == exp["line"]


@pytest.fixture
def ws(tmp_path):
    w = Workspace(tmp_path / "ws", create=True)
    load(w, [str(BAD / f) for f in REFERENCE])
    yield w
    w.close()


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if "mapping_error" not in EXPECTED[n]))
def test_bad_input(ws, name):
    exp = EXPECTED[name]
    for f in exp.get("after", []):
        load(ws, [str(BAD / f)])
    source = f"sqlite:///{BAD / name}#{exp['url']}" if exp.get("url") else str(BAD / name)
    before = ws.totals()
    if "error" in exp:
        with pytest.raises(SourceError) as info:
            load(ws, [source], mapping=_mapping(exp["mapping"]))
        assert exp["error"] in str(info.value)
        assert Path(info.value.file).name == name
        if "line" in exp:
            assert info.value.line == exp["line"]
        assert ws.totals() == before, "a whole-file error must write nothing"
        return
    (result,) = load(ws, [source], mapping=_mapping(exp["mapping"]))
    assert result.rows_read == exp["read"]
    assert result.rows_loaded == exp["loaded"]
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    if "encoding" in exp:
        assert result.encoding == exp["encoding"]
    rows = ws.con.execute('SELECT line, "column", reason FROM quarantine WHERE dataset = ? ORDER BY line',
                          [result.dataset]).fetchall()
    want = exp.get("quarantine", [])
    assert len(rows) == len(want) == result.rows_quarantined
    for (line, column, reason), (wline, wcol, wreason) in zip(rows, want):
        assert (line, column) == (wline, wcol)
        assert wreason in reason
    # the stored report agrees with the returned one
    stored = ws.con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM load_report WHERE dataset = ?",
                            [result.dataset]).fetchone()
    assert stored == (result.rows_read, result.rows_loaded, result.rows_quarantined)
    if "id_status" in exp:
        got = ws.con.execute("""SELECT n.id_status FROM node_record n WHERE n.dataset = ? AND list_contains(n.labels, 'Person')
                                AND n.id_status IS NOT NULL ORDER BY CAST(n.record AS INTEGER)""", [result.dataset]).fetchall()
        assert [g[0] for g in got] == exp["id_status"]
    if "persons" in exp:
        n, = ws.con.execute("""SELECT count(DISTINCT key) FROM node_record WHERE dataset = ?
                               AND list_contains(labels, 'Person')""", [result.dataset]).fetchone()
        assert n == exp["persons"]
    if "amounts" in exp:
        got = ws.con.execute("""SELECT amount FROM node_record WHERE dataset = ? AND amount IS NOT NULL
                                ORDER BY record""", [result.dataset]).fetchall()
        assert [float(a[0]) for a in got] == exp["amounts"]
    for note in exp.get("notes", []):
        assert any(note in n for n in result.notes), (note, result.notes)
    if "check" in exp:
        got = ws.con.execute(exp["check"]["sql"], {"dataset": result.dataset}).fetchall()
        assert [list(r) for r in got] == exp["check"]["rows"]
