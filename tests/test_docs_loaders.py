"""docs/loaders.md's worked example, run as a new user would: its files and mapping written
from the document, checked, loaded, the accounting and the query as the document states."""

from __future__ import annotations

from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.ingest import load_into
from graphwatch.ingest.check import check_mappings
from graphwatch.schema import load_schema
from graphwatch.store import Workspace

from docblocks import blocks, write_files

DOC = "docs/loaders.md"


def test_the_worked_example_loads_as_documented(tmp_path):
    written = write_files(DOC, tmp_path)
    assert {p.name for p in written} == {"区划.csv", "低保发放台账_2024.csv", "dibao_ledger.yaml"}
    report = check_mappings([tmp_path / "my-mappings"], [tmp_path / "new-county"], schema=load_schema())
    assert report.ok, [str(e) for e in report.errors]
    claims = {c.source.rsplit("/", 1)[1]: c.mapping.name for c in report.plan.claims}
    assert claims == {"区划.csv": "divisions", "低保发放台账_2024.csv": "dibao_ledger"}

    results = load_into(tmp_path / "ws-new", [tmp_path / "new-county"], mappings=[tmp_path / "my-mappings"])
    acc = {r.source.rsplit("/", 1)[1]: (r.rows_read, r.rows_loaded, r.rows_quarantined, r.encoding) for r in results}
    assert acc == {"区划.csv": (5, 5, 0, "utf-8"), "低保发放台账_2024.csv": (6, 4, 2, "gb18030")}
    shown = next(b.text for b in blocks(DOC) if b.lang == "text" and "unknown village 北村" in b.text)
    with Workspace(tmp_path / "ws-new", read_only=True) as ws:
        rows = ws.con.execute("""SELECT source, line_label, line, "column", reason FROM quarantine ORDER BY line""").fetchall()
    got = [f"{s.rsplit('/', 1)[1]}, {lab} {line}, column {col!r}: {reason}" for s, lab, line, col, reason in rows]
    assert got == shown.strip().splitlines()
    with DuckDBEngine(tmp_path / "ws-new") as eng:
        res = eng.run("MATCH (:Benefit)-[:PAID_IN]->(v:Village)-[:PART_OF]->(t:Township) RETURN t.name AS township, "
                      "v.name AS village, count(*) AS payments ORDER BY township, village")
        assert res.rows == [("城关镇", "东村", 2), ("城关镇", "西村", 1), ("河西乡", "东村", 1)]
        amounts = eng.run("MATCH (b:Benefit) RETURN b.record_no AS no, b.amount AS amount, b.period_end AS last "
                          "ORDER BY no").rows
    assert [(n, float(a), str(d)) for n, a, d in amounts] == [
        ("DB-1", 12000.0, "2024-01-31"), ("DB-2", 560.0, "2024-02-29"), ("DB-3", 1050.0, "2024-01-31"),
        ("DB-4", 480.0, "2024-01-31")]
