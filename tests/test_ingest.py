"""Loading a hand-checked county: graph content, kinship, provenance, idempotence, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from graphwatch.exc import InvalidMapping, SourceError, WorkspaceError
from graphwatch.ingest import load
from graphwatch.ingest.mapping import load_mappings, parse_mapping
from graphwatch.store import Workspace


def names(ws, sql, params=None):
    return sorted(tuple(r) for r in ws.con.execute(sql, params or []).fetchall())


def test_hand_checked_county(workspace, mini_county, family_ids):
    results = load(workspace, [mini_county])
    assert {Path(r.source).name for r in results} == {
        "divisions.csv", "organisations.csv", "programmes.csv", "household_registry.csv",
        "company_registry.csv", "benefit_rolls.csv"}
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
        assert r.rows_quarantined == 0
    hh = next(r for r in results if r.dataset.startswith("household"))
    assert hh.encoding == "gb18030"
    ids = family_ids
    kin = names(workspace, """SELECT r.type, a.name, b.name FROM rel r JOIN node a ON a.nid = r.src
                              JOIN node b ON b.nid = r.dst WHERE r.dataset = 'derived:kinship'""")
    undirected = {"SPOUSE_OF", "SIBLING_OF", "IN_LAW_OF"}   # stored once, in either orientation
    kin = sorted((t, *sorted((a, b))) if t in undirected else (t, a, b) for t, a, b in kin)
    assert kin == sorted([
        ("SPOUSE_OF", *sorted(("张大山", "李秀英"))), ("SPOUSE_OF", *sorted(("张伟", "王芳"))),
        ("PARENT_OF", "张大山", "张伟"), ("PARENT_OF", "李秀英", "张伟"), ("PARENT_OF", "张伟", "张小宝"),
        ("IN_LAW_OF", *sorted(("张大山", "王芳"))), ("IN_LAW_OF", *sorted(("李秀英", "王芳"))),
        ("GRANDPARENT_OF", "张大山", "张小宝"), ("GRANDPARENT_OF", "李秀英", "张小宝")])
    # the legal representative is the same node as the household member (resident ID key)
    rep = names(workspace, """SELECT p.key, c.name FROM rel r JOIN node p ON p.nid = r.src JOIN node c ON c.nid = r.dst
                              WHERE r.type = 'LEGAL_REP_OF'""")
    assert rep == [(f"Person:{ids['son']}", "山西张氏建筑有限公司")]
    son = workspace.con.execute("SELECT labels, name, birth_date, datasets FROM node WHERE key = ?",
                                [f"Person:{ids['son']}"]).fetchone()
    assert son[0] == ["Person"] and son[1] == "张伟" and str(son[2]) == "1985-01-01"
    assert son[3] == ["company_registry/company_registry.csv", "household_registry/household_registry.csv"]
    # a roll entry without ID is its own (unresolved) person, keyed by its record
    unresolved = names(workspace, "SELECT key, name, village_code FROM node WHERE name = '王小明'")
    assert unresolved == [("Person:@benefit_rolls/benefit_rolls.csv#B2", "王小明", "140105001001")]
    # provenance: every relationship names its dataset and record
    assert workspace.con.execute("SELECT count(*) FROM rel WHERE dataset IS NULL OR record IS NULL").fetchone() == (0,)


def snapshot(ws):
    return (ws.totals(), ws.counts(),
            ws.con.execute("SELECT key, nid FROM node ORDER BY key").fetchall(),
            ws.con.execute("SELECT dataset, record, type, rid FROM rel ORDER BY ALL").fetchall())


def test_loading_twice_changes_nothing(workspace, mini_county):
    load(workspace, [mini_county])
    first = snapshot(workspace)
    load(workspace, [mini_county])
    assert snapshot(workspace) == first
    # reloading one file alone keeps ids stable too
    load(workspace, [mini_county / "household_registry.csv"])
    assert snapshot(workspace) == first


def test_reload_replaces_what_a_dataset_said(workspace, mini_county):
    load(workspace, [mini_county])
    roll = mini_county / "benefit_rolls.csv"
    roll.write_text("\n".join(roll.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    load(workspace, [roll])
    assert workspace.con.execute("SELECT count(*) FROM node WHERE name = '王小明'").fetchone() == (0,)
    assert workspace.counts()["labels"]["Benefit"] == 1


def test_whole_file_error_writes_nothing(workspace, mini_county):
    load(workspace, [mini_county])
    before = snapshot(workspace)
    (mini_county / "vehicles.csv").write_text("号牌号码;车辆类型\n晋A12345;轿车\n", encoding="utf-8")
    with pytest.raises(SourceError, match="vehicles.csv"):
        load(workspace, [mini_county])
    assert snapshot(workspace) == before


@pytest.mark.parametrize("stage", ["staged", "before_commit"])
def test_load_killed_midway_leaves_workspace_as_before(tmp_path, mini_county, stage):
    ws_dir = tmp_path / "killed"
    with Workspace(ws_dir, create=True) as ws:
        load(ws, [mini_county / "divisions.csv", mini_county / "organisations.csv"])
        before = snapshot(ws)
    marker = tmp_path / "paused"
    env = {**os.environ, "GRAPHWATCH_TEST_PAUSE": stage, "GRAPHWATCH_TEST_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "graphwatch.cli", "load", str(mini_county), "-w", str(ws_dir)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "load never reached the pause point"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Workspace(ws_dir) as ws:
        assert snapshot(ws) == before
        results = load(ws, [mini_county])
        assert all(r.rows_read == r.rows_loaded for r in results)
        assert ws.counts()["labels"]["Person"] == 7


def test_workspace_is_locked_while_writing(tmp_path):
    ws = Workspace(tmp_path / "w", create=True)
    try:
        code = ("import sys; from graphwatch.store import Workspace; from graphwatch.exc import WorkspaceError\n"
                f"try:\n    Workspace({str(tmp_path / 'w')!r})\nexcept WorkspaceError as e:\n    print(e); sys.exit(3)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 3 and "another graphwatch process" in out.stdout
    finally:
        ws.close()


def test_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="not a graphwatch workspace"):
        Workspace(tmp_path / "nothing")


def test_duckdb_database_source(workspace, mini_county, tmp_path):
    load(workspace, [mini_county / "divisions.csv", mini_county / "organisations.csv", mini_county / "programmes.csv"])
    db = tmp_path / "rolls.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE roll AS SELECT * FROM (VALUES ('D1', '甲', NULL, '140105001001', 'DB', 10.5, DATE '2021-01-01', NULL, 'ORG1'))"
                " t(发放记录号, 姓名, 公民身份号码, 村代码, 项目代码, 发放金额, 发放起始, 发放截止, 审批单位代码)")
    con.close()
    (r,) = load(workspace, [f"duckdb:///{db}#roll"], mapping="benefit_rolls")
    assert (r.rows_read, r.rows_loaded, r.format) == (1, 1, "sql")
    assert workspace.con.execute("SELECT amount FROM node WHERE key = 'Benefit:D1'").fetchone()[0] == 10.5


def test_every_mapping_parses():
    mappings = load_mappings()
    assert len(mappings) == 20
    assert {"household_registry", "officials_roster", "company_registry", "company_shareholders", "tenders",
            "bids", "contracts", "benefit_rolls", "death_records", "fiscal_payroll", "real_estate", "vehicles",
            "police_cases", "police_case_parties"} <= set(mappings)


@pytest.mark.parametrize("text, line, message", [
    ("name: x\ntitle: {zh: 甲, en: a}\ncolumns: {a: f}\nnodes:\n  n: {label: Persn, key: 'P:{f}'}\n", 5, "did you mean 'Person'"),
    ("name: x\ntitle: {zh: 甲, en: a}\ncolumns: {a: f}\nnodes:\n  n: {label: Person, key: 'P:{g}'}\n", 5, "unknown field 'g'"),
    ("name: x\ntitle: {zh: 甲, en: a}\ncolumns:\n  a: {field: f, type: dat}\nnodes: {}\n", 4, "unknown type 'dat'"),
    ("name: x\ntitle: {zh: 甲, en: a}\ncolumns: {a: f}\nnodes:\n  n: {label: Person, key: 'P:{f}'}\n"
     "relationships:\n  - {type: OWNS, from: n, to: n}\n", 7, "schema allows ['RealEstate', 'Vehicle']"),
    ("name: x\ntitle: {zh: 甲, en: a}\ncolums: {a: f}\n", 3, "did you mean 'columns'"),
    ("name: [x\n", 2, "invalid YAML"),
])
def test_mapping_errors_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidMapping) as info:
        parse_mapping(path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert message in str(info.value)


def test_co_occurrence_same_case_and_same_place(workspace, tmp_path, mini_county, family_ids):
    ids = family_ids
    load(workspace, [mini_county / "divisions.csv"])
    d = tmp_path / "police"
    d.mkdir()
    (d / "police_cases.csv").write_text(
        "案件编号,案由,发案时间,发案地点,处理结果\nA1,赌博,2022-03-01 20:00,东村棋牌室,罚款\n"
        "A2,赌博,2022-03-01 21:30,东村 棋牌室,罚款\nA3,赌博,2022-03-02 02:00,东村棋牌室,警告\n", encoding="utf-8")
    (d / "police_case_parties.csv").write_text(
        "案件编号,姓名,公民身份号码,角色,处罚\n"
        f"A1,张大山,{ids['head']},违法行为人,罚款\nA1,陈明,{ids['cadre']},违法行为人,罚款\n"
        f"A2,张伟,{ids['son']},违法行为人,罚款\nA3,王芳,{ids['dil']},违法行为人,警告\n", encoding="utf-8")
    load(workspace, [d])
    got = names(workspace, """SELECT a.name, b.name, r.basis, r.case_nos, r.minutes_apart, r.record FROM rel r
        JOIN node a ON a.nid = r.src JOIN node b ON b.nid = r.dst WHERE r.type = 'CO_OCCURRED_WITH'""")
    pairs = {(tuple(sorted((a, b))), basis, minutes) for a, b, basis, _, minutes, _ in got}
    assert pairs == {(("张大山", "陈明"), "same_case", 0),
                     (("张伟", "张大山"), "same_place_window", 90), (("张伟", "陈明"), "same_place_window", 90)}
    assert all(rec for *_, rec in got)   # each points back to its case records


def test_reload_that_would_orphan_relationships_is_refused(workspace, mini_county):
    load(workspace, [mini_county])
    before = snapshot(workspace)
    # households, organisations and benefits point at 东村; reloading the divisions without it must not
    # leave their relationships dangling
    div = mini_county / "divisions.csv"
    div.write_text("\n".join(l for l in div.read_text(encoding="utf-8").splitlines() if "东村" not in l) + "\n",
                   encoding="utf-8")
    with pytest.raises(WorkspaceError, match="household_registry/household_registry.csv"):
        load(workspace, [div])
    assert snapshot(workspace) == before


def test_csv_fast_path_matches_line_by_line_split(mini_county, monkeypatch):
    import graphwatch.ingest.sources as sources
    mapping = load_mappings()["household_registry"]
    fast = sources.read_csv(mini_county / "household_registry.csv", mapping)
    assert sources._well_formed(mini_county.joinpath("household_registry.csv").read_bytes()
                                .decode("gbk").encode("utf-8"), 1, ",", 10) == 6
    monkeypatch.setattr(sources, "_well_formed", lambda *a: None)
    slow = sources.read_csv(mini_county / "household_registry.csv", mapping)
    assert fast.table.column_names == slow.table.column_names
    assert fast.table.to_pylist() == slow.table.to_pylist()
    assert fast.table.column("_line").to_pylist() == [2, 3, 4, 5, 6, 7]


PER_ROW_PART_OF = """\
name: roster_with_divisions
title: {zh: 花名册（含区划）, en: Roster naming its village and township}
files: ["roster*"]
columns:
  姓名: {field: name, required: true}
  村代码: {field: village_code, required: true}
  乡镇代码: {field: township_code, required: true}
  备注: {field: note}
nodes:
  household: {label: Household, key: "Household:R{@record}", properties: {household_no: name}}
  village: {label: Village, key: "Division:{village_code}", ref: true}
  township: {label: Township, key: "Division:{township_code}", ref: true}
relationships:
  - {type: PART_OF, from: village, to: township}            # every row says it again
  - {type: LOCATED_IN, from: household, to: village}
"""


def test_rows_stating_one_relationship_are_one_fact_with_all_their_records(workspace, tmp_path):
    """540 rows saying 'this village is part of that township' are one PART_OF carrying all 540
    records — the one divisions.csv states too, so one PART_OF with the records of both files;
    a relationship whose properties differ between rows stays two."""
    from conftest import BAD

    load(workspace, [BAD / "divisions.csv"])
    mapping = tmp_path / "roster.yaml"
    mapping.write_text(PER_ROW_PART_OF, encoding="utf-8")
    rows = ["姓名,村代码,乡镇代码,备注"] + [f"人{i},140105001001,140105001,{'x' if i % 2 else ''}" for i in range(540)]
    (tmp_path / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (result,) = load(workspace, [tmp_path / "roster.csv"], mappings=[tmp_path])
    assert result.rows_loaded == 540
    assert any("1,080 relationship rows state 541 relationships" in n for n in result.notes), result.notes
    stated = workspace.con.execute("""SELECT count(*), sum(len(records)), min(record), list_sort(any_value(records))[1:3]
        FROM rel_record WHERE dataset = ? AND rid IN (SELECT rid FROM rel WHERE type = 'PART_OF')""",
                                   [result.dataset]).fetchone()
    assert stated == (1, 540, "2", ["10", "100", "101"])
    (fact,) = workspace.con.execute("""SELECT dataset, record, records, datasets FROM rel_with_keys
        WHERE type = 'PART_OF' AND src_key = 'Division:140105001001'""").fetchall()
    assert fact[:2] == ("divisions/divisions.csv", "3") and len(fact[2]) == 541
    assert fact[2][:2] == ["3", f"{result.dataset}#2"] and fact[3] == ["divisions/divisions.csv", result.dataset]
    counts = workspace.counts()
    assert counts["types"]["PART_OF"] == 2            # 东村 and 西村 in 城关镇, whoever says so
    assert counts["type_records"]["PART_OF"] == 542
    # a shareholding stated with two different shares stays two relationships; the same share twice is one
    holdings = (BAD / "mappings" / "shareholdings.yaml").read_text(encoding="utf-8")
    (tmp_path / "holdings.yaml").write_text(holdings.replace('key: "Person:@{@record}"', 'key: "Person:@{name}"')
                                            .replace("name: shareholdings", "name: holdings"), encoding="utf-8")
    (tmp_path / "holdings.csv").write_text("统一社会信用代码,股东姓名,持股比例,认缴出资\n" + "".join(
        f"91140105MA0ABC1232,甲,{share},\n" for share in ("30%", "0.3", "45%")), encoding="utf-8")
    load(workspace, [tmp_path / "holdings.csv"], mapping=str(tmp_path / "holdings.yaml"))
    shares = workspace.con.execute("SELECT share, records FROM rel WHERE type = 'SHAREHOLDER_OF' ORDER BY share")\
        .fetchall()
    assert shares == [(0.3, ["2", "3"]), (0.45, ["4"])]


def test_a_generated_county_has_one_part_of_per_village(tmp_path):
    from graphwatch.synth import generate_county

    county = tmp_path / "county"
    generate_county(county, persons=1000, seed=3)
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [county])
        villages, part_of, facts, households = ws.con.execute("""SELECT
            (SELECT count(*) FROM node WHERE list_contains(labels, 'Village')),
            (SELECT count(*) FROM rel r JOIN node v ON v.nid = r.src
             WHERE r.type = 'PART_OF' AND list_contains(v.labels, 'Village')),
            (SELECT count(*) FROM (SELECT DISTINCT type, src, dst FROM rel WHERE dataset = 'household_registry/household_registry.csv')),
            (SELECT count(*) FROM node WHERE list_contains(labels, 'Household'))""").fetchone()
        located, = ws.con.execute("""SELECT count(*) FROM rel WHERE type = 'LOCATED_IN'
            AND dataset = 'household_registry/household_registry.csv'""").fetchone()
        # no two relationships say the same (same ends, properties, validity), whichever files state them
        dups, = ws.con.execute("""SELECT count(*) FROM (SELECT * EXCLUDE (rid, dataset, record, records, datasets)
            FROM rel WHERE dataset NOT LIKE 'derived:%' GROUP BY ALL HAVING count(*) > 1)""").fetchone()
    assert villages > 0 and part_of == villages
    assert located == households
    assert dups == 0 and facts > 0
