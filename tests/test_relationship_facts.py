"""One relationship per fact across files (issue 14 §3): rows of any dataset, under any
mapping, that state the same relationship (type, ends, properties, validity) are one
relationship carrying every record; a reload replaces only its own dataset's records; entity
resolution joins facts that become the same; DuckDB, Neo4j and the evidence agree."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from test_resolve import V1, county, pid

from graphwatch.ingest import load
from graphwatch.resolve import resolve
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"
DIV = "divisions/divisions.csv"

# a county's own roster naming each person's village and township: every row says again that
# the village lies in the township
ROSTER = """\
name: roster_{k}
title: {{zh: 花名册{k}, en: Roster {k}}}
files: ["roster_{k}*"]
columns:
  姓名: {{field: name, required: true}}
  村代码: {{field: village_code, required: true}}
  乡镇代码: {{field: township_code, required: true}}
nodes:
  household: {{label: Household, key: "Household:{k}{{@record}}", properties: {{household_no: name}}}}
  village: {{label: Village, key: "Division:{{village_code}}", ref: true}}
  township: {{label: Township, key: "Division:{{township_code}}", ref: true}}
relationships:
  - {{type: PART_OF, from: village, to: township}}
  - {{type: LOCATED_IN, from: household, to: village}}
"""

HOLDINGS = """\
name: holdings_{k}
title: {{zh: 股东{k}, en: Holdings {k}}}
files: ["holdings_{k}*"]
columns:
  统一社会信用代码: {{field: uscc, type: uscc, required: true}}
  股东姓名: {{field: name, required: true}}
  持股比例: {{field: share, type: percent}}
nodes:
  company: {{label: Company, key: "Company:{{uscc}}", properties: {{uscc: uscc}}}}
  holder: {{label: Person, key: "Person:@{{name}}", properties: {{name: name}}}}
relationships:
  - {{type: SHAREHOLDER_OF, from: holder, to: company, properties: {{share: share}}}}
"""


def audit_county(root: Path, rows: dict[str, int]) -> tuple[Path, list[Path]]:
    """divisions.csv, and per folder ``k`` a roster of ``rows[k]`` people of 东村 (140105001001)
    in 城关镇 with its own mapping folder ``maps_k``."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(BAD / "divisions.csv", data / "divisions.csv")
    maps = []
    for k, n in rows.items():
        m = root / f"maps_{k}"
        m.mkdir(exist_ok=True)
        (m / f"roster_{k}.yaml").write_text(ROSTER.format(k=k), encoding="utf-8")
        (data / f"roster_{k}.csv").write_text("姓名,村代码,乡镇代码\n" + "".join(
            f"人{i},140105001001,140105001\n" for i in range(n)), encoding="utf-8")
        maps.append(m)
    return data, maps


def part_of(ws: Workspace) -> list[tuple]:
    return ws.con.execute("""SELECT rid, dataset, record, records, datasets FROM rel_with_keys
        WHERE type = 'PART_OF' AND src_key = 'Division:140105001001'""").fetchall()


def test_two_mapping_folders_and_the_divisions_state_one_part_of(tmp_path):
    """The audit's case: two user mappings each stating 东村 -[:PART_OF]-> 城关镇, and the
    divisions file: one relationship with all seven records; stats count facts and records."""
    from click.testing import CliRunner

    from graphwatch.cli import main
    from graphwatch.engines.duckdb import DuckDBEngine

    data, maps = audit_county(tmp_path, {"a": 3, "b": 3})
    with Workspace(tmp_path / "ws", create=True) as ws:
        results = load(ws, [data], mappings=maps)
        assert all(r.rows_read == r.rows_loaded + r.rows_quarantined for r in results)
        by = {r.dataset: r for r in results}
        assert by["roster_a/roster_a.csv"].rels == 4        # it states 4 facts: one PART_OF, 3 LOCATED_IN
        assert any("1 of its 4 relationships other datasets state too" in n for n in by["roster_a/roster_a.csv"].notes)
        ((rid, *provenance),) = part_of(ws)
        assert provenance == [DIV, "3", ["3", "roster_a/roster_a.csv#2", "roster_a/roster_a.csv#3",
                                         "roster_a/roster_a.csv#4", "roster_b/roster_b.csv#2",
                                         "roster_b/roster_b.csv#3", "roster_b/roster_b.csv#4"],
                              [DIV, "roster_a/roster_a.csv", "roster_b/roster_b.csv"]]
        assert ws.con.execute("SELECT dataset, records FROM rel_record WHERE rid = ? ORDER BY dataset",
                              [rid]).fetchall() == [(DIV, ["3"]), ("roster_a/roster_a.csv", ["2", "3", "4"]),
                                                    ("roster_b/roster_b.csv", ["2", "3", "4"])]
        counts = ws.counts()
        assert (counts["types"]["PART_OF"], counts["type_records"]["PART_OF"]) == (2, 8)   # 西村's own too
    with DuckDBEngine(tmp_path / "ws") as duck:
        rows = duck.run("""MATCH (v:Village {name: '东村'})-[r:PART_OF]->(t:Township)
                           RETURN count(r) AS n, collect(size(r.records)) AS records, collect(r.dataset) AS ds""").rows
    assert rows == [(1, [7], [DIV])]
    out = CliRunner().invoke(main, ["stats", "--workspace", str(tmp_path / "ws")])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "[:PART_OF]" in x)
    assert [c.strip() for c in line.split("│") if c.strip()][-2:] == ["2", "8"], line   # facts, records


def test_properties_that_differ_are_two_facts_across_files(tmp_path):
    """A shareholding stated with two different shares stays two; the same share in two files is one."""
    data, maps = tmp_path / "data", []
    data.mkdir()
    for k, shares in (("a", ["30%"]), ("b", ["0.3", "45%"])):
        m = tmp_path / f"maps_{k}"
        m.mkdir()
        (m / "holdings.yaml").write_text(HOLDINGS.format(k=k), encoding="utf-8")
        (data / f"holdings_{k}.csv").write_text("统一社会信用代码,股东姓名,持股比例\n" + "".join(
            f"91140105MA0ABC1232,甲,{s}\n" for s in shares), encoding="utf-8")
        maps.append(m)
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [data], mappings=maps, shipped=False)
        shares = ws.con.execute("""SELECT share, dataset, records, datasets FROM rel WHERE type = 'SHAREHOLDER_OF'
            ORDER BY share""").fetchall()
    assert shares == [(0.3, "holdings_a/holdings_a.csv", ["2", "holdings_b/holdings_b.csv#2"],
                       ["holdings_a/holdings_a.csv", "holdings_b/holdings_b.csv"]),
                      (0.45, "holdings_b/holdings_b.csv", ["3"], ["holdings_b/holdings_b.csv"])]


def test_a_reload_replaces_only_its_own_records_and_the_fact_keeps_its_id(tmp_path):
    data, maps = audit_county(tmp_path, {"a": 2, "b": 2})
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [data], mappings=maps)
        ((rid, *_),) = part_of(ws)
        # roster_a reloaded with one row: its records are one, the others' stay
        (data / "roster_a.csv").write_text("姓名,村代码,乡镇代码\n人9,140105001001,140105001\n", encoding="utf-8")
        (res,) = load(ws, [data / "roster_a.csv"], mappings=maps)
        assert res.rows_read == res.rows_loaded + res.rows_quarantined == 1
        assert part_of(ws) == [(rid, DIV, "3", ["3", "roster_a/roster_a.csv#2", "roster_b/roster_b.csv#2",
                                                "roster_b/roster_b.csv#3"],
                                [DIV, "roster_a/roster_a.csv", "roster_b/roster_b.csv"])]
        # the dataset whose row gave the fact its id stops stating it: the fact stays, with that id,
        # and the first remaining dataset is its own
        (data / "divisions.csv").write_text("区划代码,区划名称,级别,上级代码\n140105001,城关镇,乡镇,\n"
                                            "140105001001,东村,村,\n140105001002,西村,村,140105001\n", encoding="utf-8")
        load(ws, [data / "divisions.csv"], mappings=maps)
        assert part_of(ws) == [(rid, "roster_a/roster_a.csv", "2", ["2", "roster_b/roster_b.csv#2",
                                                                     "roster_b/roster_b.csv#3"],
                                ["roster_a/roster_a.csv", "roster_b/roster_b.csv"])]
        # reloading everything at once changes nothing: every fact keeps its id
        before = ws.con.execute("SELECT * FROM rel ORDER BY rid").fetchall()
        load(ws, [data], mappings=maps)
        assert ws.con.execute("SELECT * FROM rel ORDER BY rid").fetchall() == before
        # the last records go: the fact goes
        for k in "ab":
            (data / f"roster_{k}.csv").write_text("姓名,村代码,乡镇代码\n", encoding="utf-8")
        load(ws, [data / "roster_a.csv", data / "roster_b.csv"], mappings=maps)
        assert part_of(ws) == []
        assert ws.con.execute("SELECT count(*) FROM rel_record WHERE rid = ?", [rid]).fetchone()[0] == 0
        # and comes back with its id when the divisions say it again
        shutil.copy(BAD / "divisions.csv", data / "divisions.csv")
        load(ws, [data / "divisions.csv"], mappings=maps)
        assert part_of(ws) == [(rid, DIV, "3", ["3"], [DIV])]


def test_a_workspace_from_before_joins_its_facts_at_the_next_load(tmp_path):
    """A workspace made when facts were per dataset (no rel_record, one PART_OF per file): a load
    of one of the files joins the two."""
    data, maps = audit_county(tmp_path, {"a": 2})
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [data], mappings=maps)
        ((rid, *_),) = part_of(ws)
        ws.con.execute("DROP TABLE rel_record")
        for (index,) in ws.con.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'rel'").fetchall():
            ws.con.execute(f"DROP INDEX {index}")      # made again by the next write
        ws.con.execute("ALTER TABLE rel DROP COLUMN datasets")
        # as the old load wrote it: the roster's statement its own relationship
        ws.con.execute("UPDATE rel SET records = ['3'] WHERE rid = ?", [rid])
        ws.con.execute("""INSERT INTO rel BY NAME SELECT * REPLACE (42 AS rid, 'roster_a/roster_a.csv' AS dataset,
            '2' AS record, ['2', '3'] AS records) FROM rel WHERE rid = ?""", [rid])
    with Workspace(tmp_path / "ws") as ws:
        assert sorted(p[-1] for p in part_of(ws)) == [[DIV], ["roster_a/roster_a.csv"]]
        load(ws, [data / "roster_a.csv"], mappings=maps)
        assert part_of(ws) == [(rid, DIV, "3", ["3", "roster_a/roster_a.csv#2", "roster_a/roster_a.csv#3"],
                                [DIV, "roster_a/roster_a.csv"])]
        assert ws.con.execute("SELECT dataset, records FROM rel_record WHERE rid = ? ORDER BY dataset",
                              [rid]).fetchall() == [(DIV, ["3"]), ("roster_a/roster_a.csv", ["2", "3"])]


EXTRA = """\
name: members_extra
title: {zh: 户成员补录, en: Household members, again}
files: ["members_extra*"]
columns:
  姓名: {field: name, required: true}
  公民身份号码: {field: id_number, type: resident_id}
  村代码: {field: village_code, required: true}
  户号: {field: hh, required: true}
  与户主关系: {field: relation}
nodes:
  person: {label: Person, key: {resident_id: id_number}, properties: {name: name, village_code: village_code}}
  household: {label: Household, key: "Household:{hh}", ref: true}
relationships:
  - {type: MEMBER_OF, from: person, to: household, properties: {relation: relation}}
"""


def member_of(ws: Workspace) -> list[tuple]:
    return ws.con.execute("""SELECT rid, src_key, dataset, records FROM rel_with_keys WHERE type = 'MEMBER_OF'
        ORDER BY rid""").fetchall()


def test_facts_that_resolution_makes_the_same_are_one(tmp_path):
    """The household registry says 刘会计 (with his ID) is the head of H1; another file says so
    twice, without the ID: three facts on three record nodes. Resolved, the three are one
    person, and so one MEMBER_OF with all three records — in one dataset or across two; undone
    by a reload or a new resolve, the same again."""
    from graphwatch.relfacts import restore_record_endpoints

    clerk = pid(dt.date(1970, 1, 1), 21)
    d = county(tmp_path, household=[("H1", "刘会计", clerk, "男", "1970-01-01", V1)])
    m = tmp_path / "maps"
    m.mkdir()
    (m / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    (d / "members_extra.csv").write_text(f"姓名,公民身份号码,村代码,户号,与户主关系\n刘会计,,{V1},H1,户主\n"
                                         f"刘会计,,{V1},H1,户主\n", encoding="utf-8")
    ws = Workspace(tmp_path / "ws", create=True)
    load(ws, [d], mappings=[m])
    stated = member_of(ws)
    assert len(stated) == 3
    resolve(ws)
    (fact,) = member_of(ws)
    head = next(r for r in stated if r[1] == f"Person:{clerk}")
    assert fact == (head[0], f"Person:{clerk}", "household_registry/household_registry.csv",
                    ["2", "members_extra/members_extra.csv#2", "members_extra/members_extra.csv#3"])
    resolve(ws)                                   # again: the same
    assert member_of(ws) == [fact]
    load(ws, [d], mappings=[m])                   # a reload keeps it resolved: the same
    assert member_of(ws) == [fact]
    ws.con.execute("BEGIN TRANSACTION")           # undone: the three facts as the sources stated them
    restore_record_endpoints(ws.con)
    assert ws.con.execute("SELECT rid, dataset, records FROM rel WHERE type = 'MEMBER_OF' ORDER BY rid").fetchall() \
        == [(rid, ds, recs) for rid, _, ds, recs in stated]
    ws.con.execute("ROLLBACK")
    assert member_of(ws) == [fact]
    ws.close()


def test_push_gives_neo4j_the_same_facts(tmp_path, neo4j_ws):
    from graphwatch.engines.duckdb import DuckDBEngine
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    data, maps = audit_county(tmp_path, {"a": 2, "b": 2})
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [data], mappings=maps)
    target = Neo4jTarget.resolve(neo4j_ws)
    report = push(tmp_path / "ws", target, clear=True)
    assert report.counts["types"]["PART_OF"] == 2
    query = """MATCH (v:Village)-[r:PART_OF]->(t:Township)
               RETURN v.name AS village, count(r) AS n, collect(r.records) AS records, collect(r.dataset) AS ds,
                      collect(r.datasets) AS every
               ORDER BY village"""
    with DuckDBEngine(tmp_path / "ws") as duck, Neo4jEngine(target=target) as neo:
        rows = duck.run(query).rows
        assert neo.run(query).rows == rows
        rel = duck.run("MATCH (:Village {name: '东村'})-[r:PART_OF]->() RETURN r").rows
        assert neo.run("MATCH (:Village {name: '东村'})-[r:PART_OF]->() RETURN r").rows == rel
    assert rows == [("东村", 1, [["3", "roster_a/roster_a.csv#2", "roster_a/roster_a.csv#3", "roster_b/roster_b.csv#2",
                                 "roster_b/roster_b.csv#3"]], [DIV],
                     [[DIV, "roster_a/roster_a.csv", "roster_b/roster_b.csv"]]),
                    ("西村", 1, [["4"]], [DIV], [[DIV]])]
    assert rel[0][0].properties["datasets"] == [DIV, "roster_a/roster_a.csv", "roster_b/roster_b.csv"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_evidence_names_every_dataset_and_record(tmp_path, fmt):
    from graphwatch.export.evidence import from_subgraph
    from graphwatch.export.formats import csv_tables, to_json

    data, maps = audit_county(tmp_path, {"a": 1})
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [data], mappings=maps)
        ((rid, *_),) = part_of(ws)
    ev = from_subgraph(tmp_path / "ws", [], [rid], kind="cypher", what="q", title_zh="", title_en="")
    refs = [f"{DIV}#3", "roster_a/roster_a.csv#2"]
    if fmt == "json":
        (r,) = to_json(ev)["relationships"]
        assert r["provenance"] == {"dataset": DIV, "datasets": [DIV, "roster_a/roster_a.csv"], "records": refs}
    else:
        _, edges = csv_tables(ev)
        assert ";".join(refs) in edges
