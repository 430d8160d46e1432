"""Kinship from a household registry that writes 与户主关系 as GB/T 4761-2008 codes.

The codes (two-digit, or one-digit when a file uses only those) derive the same links as
the words; values that derive nothing are counted per dataset for the load's accounting.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graphwatch.ingest import load
from graphwatch.ingest.derive import GBT_4761, GBT_4761_ONE_DIGIT, RELATION_ROLES, ROLES, UNLINKED, run_derivations
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"
HH = "户号,姓名,公民身份号码,性别,出生日期,与户主关系,民族,住址,村代码,联系电话\n"
VILLAGE = "140105001001"
UNDIRECTED = {"SPOUSE_OF", "SIBLING_OF", "IN_LAW_OF"}

# (household, name, sex, birth, 与户主关系)
TWO_DIGIT = [
    ("H1", "甲户主", "男", "1960-01-01", "02"),
    ("H1", "乙配偶", "女", "1962-01-01", "10"),
    ("H1", "丙长子", "男", "1985-01-01", "22"),
    ("H1", "丁儿媳", "女", "1986-01-01", "38"),
    ("H1", "戊孙子", "男", "2010-01-01", "41"),
    ("H1", "己母亲", "女", "1935-01-01", "52"),
    ("H1", "庚嫂", "女", "1958-01-01", "72"),
    ("H1", "辛侄子", "男", "1980-01-01", "93"),
    ("H1", "壬某", "男", "1990-01-01", "X9"),
    ("H2", "癸户主", "男", "1970-01-01", "2"),       # "02" whose leading zero a spreadsheet dropped
    ("H2", "子配偶", "女", "1971-01-01", "１１"),    # full-width digits
    ("H2", "丑岳母", "女", "1945-01-01", "56"),
    ("H2", "寅孙", "男", "2015-01-01", "40"),
    ("H2", "卯外人", "男", "1975-01-01", "99"),
]
ONE_DIGIT = [
    ("H3", "甲一", "男", "1950-01-01", "0"),
    ("H3", "乙一", "女", "1951-01-01", "1"),
    ("H3", "丙一", "女", "1975-01-01", "3"),
    ("H3", "丁一", "男", "1925-01-01", "5"),
    ("H3", "戊一", "男", "1955-01-01", "7"),
    ("H3", "己一", "男", "1960-01-01", "8"),
]


def _registry(path: Path, rows) -> None:
    path.write_text(HH + "".join(f"{hh},{name},,{sex},{birth},{rel},汉,,{VILLAGE},\n"
                                 for hh, name, sex, birth, rel in rows), encoding="utf-8")


@pytest.fixture
def county(tmp_path: Path) -> Path:
    d = tmp_path / "county"
    d.mkdir()
    for name in ("divisions.csv", "organisations.csv", "programmes.csv"):
        (d / name).write_bytes((BAD / name).read_bytes())
    _registry(d / "household_registry.csv", TWO_DIGIT)
    _registry(d / "household_registry_one_digit.csv", ONE_DIGIT)
    return d


def _kinship(ws) -> set[tuple[str, str, str]]:
    rows = ws.con.execute("""SELECT r.type, a.name, b.name FROM rel r JOIN node a ON a.nid = r.src
                             JOIN node b ON b.nid = r.dst WHERE r.dataset = 'derived:kinship'""").fetchall()
    return {(t, *sorted((a, b))) if t in UNDIRECTED else (t, a, b) for t, a, b in rows}


def _rel(t, a, b):
    return (t, *sorted((a, b))) if t in UNDIRECTED else (t, a, b)


def test_two_digit_and_one_digit_codes_derive_kinship(tmp_path, county):
    ws = Workspace(tmp_path / "ws", create=True)
    load(ws, [county])
    kin = _kinship(ws)
    expected = {
        _rel("SPOUSE_OF", "甲户主", "乙配偶"),
        _rel("PARENT_OF", "甲户主", "丙长子"), _rel("PARENT_OF", "乙配偶", "丙长子"),
        _rel("SPOUSE_OF", "丙长子", "丁儿媳"),                                       # the only son's wife
        _rel("IN_LAW_OF", "甲户主", "丁儿媳"), _rel("IN_LAW_OF", "乙配偶", "丁儿媳"),
        _rel("GRANDPARENT_OF", "甲户主", "戊孙子"), _rel("PARENT_OF", "丙长子", "戊孙子"),
        _rel("PARENT_OF", "己母亲", "甲户主"), _rel("IN_LAW_OF", "乙配偶", "己母亲"),
        _rel("IN_LAW_OF", "甲户主", "庚嫂"),                                          # a brother's wife
        _rel("SPOUSE_OF", "癸户主", "子配偶"),                                        # "2" = 02, "１１" = 11
        _rel("PARENT_OF", "丑岳母", "子配偶"), _rel("IN_LAW_OF", "癸户主", "丑岳母"),  # 56 岳母
        _rel("GRANDPARENT_OF", "癸户主", "寅孙"), _rel("GRANDPARENT_OF", "子配偶", "寅孙"),  # 40: either side
        # one-digit file: 0 户主, 1 配偶, 3 女, 5 父母, 7 兄弟姐妹
        _rel("SPOUSE_OF", "甲一", "乙一"), _rel("PARENT_OF", "甲一", "丙一"), _rel("PARENT_OF", "乙一", "丙一"),
        _rel("PARENT_OF", "丁一", "甲一"), _rel("PARENT_OF", "丁一", "戊一"), _rel("SIBLING_OF", "甲一", "戊一"),
        _rel("IN_LAW_OF", "乙一", "丁一"),
    }
    assert expected <= kin, sorted(expected - kin)
    # 93 侄子, 99 非亲属, 8 其他 and the unknown X9 link nobody
    linked = {n for _, a, b in kin for n in (a, b)}
    assert not linked & {"辛侄子", "壬某", "卯外人", "己一"}


def test_values_that_derive_nothing_are_counted_per_dataset(tmp_path, county):
    ws = Workspace(tmp_path / "ws", create=True)
    results = {r.dataset: r for r in load(ws, [county])}
    # the load's own accounting carries the counts, as each load's notes
    loaded = results["household_registry/household_registry.csv"].notes
    assert any("'X9' ×1" in n for n in loaded) and any("'93' ×1" in n for n in loaded)
    derived = run_derivations(ws.con, {"kinship": {}}, list(ws.schema.rel_properties))
    assert derived.counts["kinship"] == len(_kinship(ws)) > 0
    notes = derived.notes["household_registry/household_registry.csv"]
    assert len(notes) == 2
    unknown, unlinked = notes
    assert "1 member row derived no kinship" in unknown and "'X9' ×1" in unknown and "GB/T 4761" in unknown
    assert "2 member rows derived no kinship" in unlinked and "'93' ×1" in unlinked and "'99' ×1" in unlinked
    one, = derived.notes["household_registry/household_registry_one_digit.csv"]
    assert "'8' ×1" in one and "does not link" in one


def test_the_code_table_is_the_standards():
    # GB/T 4761-2008, section 4: 01-02, 10-12, 20-29, 30-39, 40-49, 50-59, 60-69, 70-79, 80-97, 99
    expected = {"01", "02", "10", "11", "12"} | {f"{k}" for k in range(20, 98)} | {"99"}
    assert set(GBT_4761) == expected
    assert GBT_4761["02"] == ("户主", "head") and GBT_4761["10"] == ("配偶", "spouse")
    assert GBT_4761["28"] == ("女婿", "son_in_law") and GBT_4761["38"] == ("儿媳", "daughter_in_law")
    assert GBT_4761["51"] == ("父亲", "father") and GBT_4761["52"] == ("母亲", "mother")
    assert GBT_4761["99"] == ("非亲属", UNLINKED) and GBT_4761_ONE_DIGIT["0"] == "head"
    # every word the derivation knew before still means what it meant
    assert all(RELATION_ROLES[w] == r for w, r in ROLES.items())
    # the standard's names are words too
    assert RELATION_ROLES["岳母"] == "spouse_parent" and RELATION_ROLES["独生女"] == "daughter"
