"""Which mapping loads which file: the user's mapping folders beside the shipped ones, files no
mapping claims listed all at once before anything is written, --skip-unclaimed, derivations
that outlive the mapping folder they came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graphwatch.exc import InvalidMapping, SourceError
from graphwatch.ingest import load
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"

# a county whose household registry has its own headers (raw departmental names)
OWN_HOUSEHOLDS = """\
name: county_households
title: {zh: 某县户籍, en: Households of one county}
files: ["*户籍花名册*"]
columns:
  户编号: {field: household_no, required: true}
  姓名: {field: name, required: true}
  身份证号: {field: id_number, type: resident_id}
  与户主关系: {field: relation, required: true}
  村代码: {field: village_code, required: true}
nodes:
  person: {label: Person, key: {resident_id: id_number}, properties: {name: name, id_number: id_number}}
  household: {label: Household, key: "Household:{household_no}"}
  village: {label: Village, key: "Division:{village_code}", ref: true}
relationships:
  - {type: MEMBER_OF, from: person, to: household, properties: {relation: relation}}
  - {type: LOCATED_IN, from: household, to: village}
derive: [kinship]
"""


@pytest.fixture
def county(tmp_path, family_ids) -> Path:
    d = tmp_path / "county"
    d.mkdir()
    shutil.copy(BAD / "divisions.csv", d / "divisions.csv")
    ids = family_ids
    (d / "东村户籍花名册.csv").write_text(
        "户编号,姓名,身份证号,与户主关系,村代码\n"
        f"H1,张大山,{ids['head']},户主,140105001001\nH1,李秀英,{ids['wife']},配偶,140105001001\n", encoding="utf-8")
    (d / "README.md").write_text("where these files came from\n", encoding="utf-8")
    (d / "originals").mkdir()
    return d


@pytest.fixture
def own_mappings(tmp_path) -> Path:
    m = tmp_path / "mappings"
    m.mkdir()
    (m / "county_households.yaml").write_text(OWN_HOUSEHOLDS, encoding="utf-8")
    return m


def test_a_folder_of_user_mappings_loads_beside_the_shipped_ones(tmp_path, county, own_mappings):
    with Workspace(tmp_path / "ws", create=True) as ws:
        results = load(ws, [county], mappings=[own_mappings])
        loaded = {Path(r.source).name: r for r in results if r.format not in ("skipped", "not data")}
        assert set(loaded) == {"divisions.csv", "东村户籍花名册.csv"}
        assert loaded["东村户籍花名册.csv"].dataset == "county_households/东村户籍花名册.csv"
        # the README and the subfolder are reported, never read
        other = {Path(r.source).name: r.notes[0] for r in results if r.format == "not data"}
        assert set(other) == {"README.md", "originals"}
        assert "not a data file" in other["README.md"] and "folder" in other["originals"]
        # the user's mapping declared kinship: derived from its rows
        assert ws.con.execute("SELECT count(*) FROM rel WHERE type = 'SPOUSE_OF'").fetchone() == (1,)
        # a later load without that mapping folder keeps the derivation the first load recorded
        load(ws, [county / "divisions.csv"])
        assert ws.con.execute("SELECT count(*) FROM rel WHERE type = 'SPOUSE_OF'").fetchone() == (1,)


def test_unclaimed_files_are_listed_at_once_and_nothing_is_written(tmp_path, county):
    (county / "ground_truth.csv").write_text("model_id,violation_id\nm,v\n", encoding="utf-8")
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(SourceError) as info:
            load(ws, [county])
        text = str(info.value)
        assert "2 file(s) no single mapping claims; nothing was loaded" in text
        # the closest shipped mapping and the columns that differ, per file
        assert ("东村户籍花名册.csv: its name matches household_registry but its columns do not; "
                "closest mapping 'household_registry'") in text
        assert "lacks columns ['户号', '公民身份号码'" in text and "does not know columns ['户编号', '身份证号']" in text
        assert "ground_truth.csv: no mapping claims it" in text
        assert "README.md" not in text
        assert ws.totals() == {"nodes": 0, "relationships": 0, "quarantined_rows": 0}
        assert ws.con.execute("SELECT count(*) FROM load_report").fetchone() == (0,)
        # --skip-unclaimed loads the rest and accounts for the skipped files
        results = load(ws, [county], skip_unclaimed=True)
        skipped = sorted(Path(r.source).name for r in results if r.format == "skipped")
        assert skipped == ["ground_truth.csv", "东村户籍花名册.csv"]
        assert [Path(r.source).name for r in results if r.rows_read] == ["divisions.csv"]
        assert ws.totals()["nodes"] == 3


def test_a_name_used_twice_and_a_folder_given_as_one_mapping_are_clear_errors(tmp_path, county, own_mappings):
    shipped_name = own_mappings / "again.yaml"
    shipped_name.write_text(OWN_HOUSEHOLDS.replace("name: county_households", "name: household_registry"),
                            encoding="utf-8")
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(InvalidMapping) as info:
            load(ws, [county], mappings=[own_mappings])
        assert "mapping name 'household_registry' is also used by" in str(info.value)
        assert info.value.file.endswith("again.yaml")
        # without the shipped mappings the user's folder stands alone
        shipped_name.unlink()
        with pytest.raises(SourceError) as info:
            load(ws, [county / "东村户籍花名册.csv"], mapping=str(own_mappings))
        assert "is a folder of mappings" in str(info.value)
        results = load(ws, [county / "东村户籍花名册.csv", county / "divisions.csv"], mappings=[own_mappings],
                       shipped=False, skip_unclaimed=True)
        assert [Path(r.source).name for r in results if r.format == "skipped"] == ["divisions.csv"]


def test_two_mappings_claiming_one_file_and_several_named_mappings(tmp_path, county, own_mappings):
    (own_mappings / "twin.yaml").write_text(OWN_HOUSEHOLDS.replace("name: county_households", "name: twin"),
                                            encoding="utf-8")
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(SourceError) as info:
            load(ws, [county], mappings=[own_mappings])
        assert "东村户籍花名册.csv: claimed by several mappings: county_households" in str(info.value)
        assert "twin (" in str(info.value)
        # naming the mappings that may claim (repeatable --mapping) settles it
        results = load(ws, [county / "divisions.csv", county / "东村户籍花名册.csv"], mappings=[own_mappings],
                       mapping=["divisions", "twin"])
        assert sorted(r.dataset for r in results) == ["divisions/divisions.csv", "twin/东村户籍花名册.csv"]


def test_mappings_check_collects_every_error_and_plans_the_claims(tmp_path, county, own_mappings):
    from graphwatch.ingest.check import check_mappings
    from graphwatch.schema import load_schema

    (own_mappings / "broken.yaml").write_text("name: broken\ntitle: {zh: 坏, en: Broken}\ncolumns:\n  甲: {field: a}\n"
                                              "nodes:\n  n: {label: Persn, key: 'Person:{a}'}\n", encoding="utf-8")
    (own_mappings / "untitled.yaml").write_text("name: untitled\ncolumns: {甲: a}\nnodes: {}\n", encoding="utf-8")
    report = check_mappings([own_mappings], [county], schema=load_schema())
    assert not report.ok
    errors = sorted(str(e) for e in report.errors)
    assert len(errors) == 2
    assert "broken.yaml, line 6: unknown label 'Persn' (did you mean 'Person'?)" in errors[0]
    assert "untitled.yaml, line 1: missing required key 'title'" in errors[1]
    claims = {Path(c.source).name: c.mapping.name for c in report.plan.claims}
    assert claims == {"divisions.csv": "divisions", "东村户籍花名册.csv": "county_households"}
    assert {Path(u.source).name for u in report.plan.unclaimed} == {"README.md", "originals"}
    assert not report.plan.blocking


def test_a_failed_load_leaves_no_new_workspace_behind(tmp_path, county):
    from graphwatch.ingest import load_into

    target = tmp_path / "new-ws"
    with pytest.raises(SourceError):
        load_into(target, [county])                 # the county's households need their mapping
    assert not target.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SourceError):
        load_into(empty, [county])
    assert [p.name for p in empty.iterdir()] == ["keep.txt"]
    # an existing workspace stays as it was
    load_into(target, [county / "divisions.csv"])
    with pytest.raises(SourceError):
        load_into(target, [county])
    assert (target / "graph.duckdb").exists()
    with Workspace(target, read_only=True) as ws:
        assert ws.totals()["nodes"] == 3


def test_the_cli_loads_a_county_with_its_own_mappings(tmp_path, county, own_mappings):
    from click.testing import CliRunner

    from graphwatch.cli import main

    def gw(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    ws = tmp_path / "ws"
    res = gw("load", county, "--workspace", ws)              # the households need the county's mapping
    assert res.exit_code == 2 and "no single mapping claims" in res.output and "Traceback" not in res.output
    assert not ws.exists()
    res = gw("mappings", "check", own_mappings, county)
    assert res.exit_code == 0, res.output
    assert "county_households" in res.output and "not data:" in res.output
    res = gw("load", county, "--mappings", own_mappings, "--workspace", ws)
    assert res.exit_code == 0, res.output
    assert "county_households/东村户籍花名册.csv" in res.output and "not loaded (2):" in res.output
    res = gw("load", county, "--mapping", own_mappings, "--workspace", ws)
    assert res.exit_code == 2 and "is a folder of mappings" in res.output
    (own_mappings / "bad.yaml").write_text("name: bad\ncolumns: {甲: a}\nnodes: {}\n", encoding="utf-8")
    res = gw("mappings", "check", own_mappings)
    assert res.exit_code == 1 and "bad.yaml, line 1: missing required key 'title'" in res.output
