"""Loading folders in the neo4j-admin import CSV format (graphwatch/ingest/neo4j_admin.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from graphwatch.exc import SourceError
from graphwatch.ingest import load
from graphwatch.ingest.neo4j_admin import is_neo4j_admin_folder
from graphwatch.schema import load_schema
from graphwatch.store import Workspace

DATA = Path(__file__).parent / "data" / "neo4j_admin"
COUNTY = DATA / "county"


@pytest.fixture
def list_schema():
    """The packaged schema with ``Person.aliases`` declared again (it is packaged now; kept explicit)."""
    base = load_schema()
    person = base.labels["Person"]
    person = dataclasses.replace(person, properties={**person.properties, "aliases": "string_list"})
    return dataclasses.replace(base, labels={**base.labels, "Person": person},
                               node_properties={**base.node_properties, "aliases": "string_list"})


@pytest.fixture
def ws(tmp_path, list_schema):
    w = Workspace(tmp_path / "ws", create=True, schema=list_schema)
    yield w
    w.close()


@pytest.fixture
def plain_ws(tmp_path):
    w = Workspace(tmp_path / "plain_ws", create=True)
    yield w
    w.close()


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def node(ws, key: str) -> dict:
    cur = ws.con.execute("SELECT * FROM node WHERE key = ?", [key])
    row = cur.fetchone()
    assert row is not None, f"no node {key}"
    return dict(zip([d[0] for d in cur.description], row))


def by_dataset(results) -> dict:
    return {r.dataset.rsplit("/", 1)[1]: r for r in results}


def quarantined(ws, dataset_file: str) -> dict[int, tuple[str | None, str]]:
    rows = ws.con.execute("""SELECT line, "column", reason FROM quarantine WHERE dataset LIKE '%/' || ?
                             ORDER BY line""", [dataset_file]).fetchall()
    return {line: (col, reason) for line, col, reason in rows}


def snapshot(ws) -> dict:
    con = ws.con
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("node", "node_record", "rel", "quarantine")} | {
        "report": con.execute("SELECT * EXCLUDE (loaded_at) FROM load_report ORDER BY dataset").fetchall()}


# -- detection ------------------------------------------------------------------------------

def test_folders_are_detected_by_their_headers(tmp_path):
    for name in ("county", "bad_rows", "bad_label", "links_only"):
        assert is_neo4j_admin_folder(DATA / name)
    plain = write(tmp_path / "plain", {"people.csv": "姓名,身份证号\n张三,110101199001011234\n"})
    assert not is_neo4j_admin_folder(plain)
    assert not is_neo4j_admin_folder(tmp_path / "missing")
    assert not is_neo4j_admin_folder(COUNTY / "companies.csv")
    # a header file alone is enough to recognise the format
    assert is_neo4j_admin_folder(write(tmp_path / "split", {"n_header.csv": ":ID(Person),name\n",
                                                            "n_part1.csv": "p1,甲\n"}))


# -- the good folder ------------------------------------------------------------------------

def test_county_folder_loads_with_types_labels_and_provenance(ws):
    results = by_dataset(load(ws, [str(COUNTY)]))
    # one dataset per data file; header files and README.md are not datasets
    assert sorted(results) == sorted([
        "Disability.csv", "LEGAL_REP_OF.csv", "cases.csv", "companies.csv", "company_shareholders.csv",
        "has_disability.csv", "links-part1.csv", "party_to.csv", "persons_part1.csv", "persons_part2.csv",
        "shareholders.csv", "villages.csv"])
    for r in results.values():
        assert r.dataset == f"neo4j-admin/county/{Path(r.source).name}"
        assert r.format == "neo4j-admin"
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
        assert r.rows_quarantined == 0
    assert (results["persons_part1.csv"].rows_read, results["persons_part2.csv"].rows_read) == (3, 1)
    assert "header read from persons_header.csv" in results["persons_part1.csv"].notes
    assert "header read from links-header.csv" in results["links-part1.csv"].notes
    assert any("time zone" in n for n in results["cases.csv"].notes)

    counts = ws.counts()
    assert counts["labels"] == {"Company": 2, "Disability": 1, "Official": 2, "Person": 4, "PoliceCase": 2,
                                "Village": 2, "VillageCadre": 1}
    assert counts["types"] == {"HAS_DISABILITY": 1, "LEGAL_REP_OF": 1, "PARTY_TO": 2, "SERVES_IN": 1,
                               "SHAREHOLDER_OF": 3}
    assert ws.totals() == {"nodes": 11, "relationships": 8, "quarantined_rows": 0}

    p1 = node(ws, "Person:p1")
    assert p1["labels"] == ["Official", "Person"]              # Person;Official
    assert p1["name"] == "张三" and p1["id_number"] == "p1"      # a named :ID is also a property
    assert p1["birth_date"] == dt.date(1970, 3, 15)
    assert p1["aliases"] == ["老张", "张老三"]                    # :string[] split on ';'
    assert p1["category"] == "公职人员" and p1["phone"] == "13800000001"
    assert p1["datasets"] == ["neo4j-admin/county/persons_part1.csv"]

    p2 = node(ws, "Person:p2")
    assert p2["name"] == "Li, Si"                               # quoted delimiter
    assert p2["aliases"] is None and p2["phone"] is None        # empty fields are absent
    assert p2["category"] is None

    p3 = node(ws, "Person:p3")
    assert p3["name"] == "王\n五"                                # quoted newline
    assert p3["labels"] == ["Official", "Person", "VillageCadre"]
    assert p3["birth_date"] == dt.date(1960, 1, 1)              # YYYYMMDD

    p4 = node(ws, "Person:p4")
    assert p4["sex"] is None and p4["birth_date"] is None and p4["aliases"] == ["六子"]

    c1 = node(ws, "Company:91110000AAAAAAAA01")
    assert c1["established"] == dt.date(2015, 6, 1)
    assert c1["registered_capital"] == Decimal("1000000.50")   # :double into a decimal property
    assert c1["uscc_valid"] is True and c1["status"] == "存续"
    c2 = node(ws, "Company:91110000AAAAAAAA02")
    assert c2["name"] == '乙公司 "新"' and c2["uscc_valid"] is False and c2["status"] is None

    # the same id in two ID spaces is two nodes; an :ID without a name stores no property
    assert node(ws, "Village:1")["labels"] == ["Village"]
    d1 = node(ws, "Disability:1")
    assert d1["labels"] == ["Disability"]                       # label from the file name Disability.csv
    assert d1["grade"] == 3 and d1["certificate_no"] == "1"
    assert node(ws, "Village:1")["division_code"] == "110101001001"

    case = node(ws, "PoliceCase:C-2023-001")
    assert case["occurred_at"] == dt.datetime(2023, 5, 1, 21, 30)    # wall-clock time, zone dropped
    assert case["place"] == "东村,祠堂"
    assert node(ws, "PoliceCase:C-2023-002")["occurred_at"] == dt.datetime(2023, 5, 2, 8, 0)
    assert node(ws, "PoliceCase:C-2023-002")["place"] is None

    # provenance: record = the row's first physical line (header = line 1; a split file has no header)
    recs = dict(ws.con.execute("SELECT key, dataset || '#' || record FROM node_record").fetchall())
    assert recs["Person:p1"] == "neo4j-admin/county/persons_part1.csv#1"
    assert recs["Person:p3"] == "neo4j-admin/county/persons_part1.csv#3"
    assert recs["Person:p4"] == "neo4j-admin/county/persons_part2.csv#2"     # after a blank line
    assert recs["Village:2"] == "neo4j-admin/county/villages.csv#3"

    rels = {(t, s, d): (share, vf, vt, ds, rec) for t, s, d, share, vf, vt, ds, rec in ws.con.execute(
        "SELECT type, src_key, dst_key, share, valid_from, valid_to, dataset, record FROM rel_with_keys").fetchall()}
    assert rels[("SHAREHOLDER_OF", "Person:p1", "Company:91110000AAAAAAAA01")] == (
        0.6, dt.date(2015, 6, 1), None, "neo4j-admin/county/shareholders.csv", "2")
    assert rels[("SHAREHOLDER_OF", "Person:p2", "Company:91110000AAAAAAAA01")][:3] == (
        0.4, dt.date(2016, 1, 1), dt.date(2020, 12, 31))
    # one type, two label pairs: Person → Company and Company → Company
    assert rels[("SHAREHOLDER_OF", "Company:91110000AAAAAAAA01", "Company:91110000AAAAAAAA02")][0] == 1.0
    assert ("LEGAL_REP_OF", "Person:p1", "Company:91110000AAAAAAAA02") in rels     # type from the file name
    assert rels[("SERVES_IN", "Person:p3", "Village:1")][3:] == ("neo4j-admin/county/links-part1.csv", "1")
    assert ("HAS_DISABILITY", "Person:p4", "Disability:1") in rels
    roles = dict(ws.con.execute("SELECT src_key, role FROM rel_with_keys WHERE type = 'PARTY_TO'").fetchall())
    assert roles == {"Person:p2": "违法行为人", "Person:p4": None}
    # src/dst point at existing nodes
    bad, = ws.con.execute("""SELECT count(*) FROM rel r
                             WHERE r.src NOT IN (SELECT nid FROM node) OR r.dst NOT IN (SELECT nid FROM node)""").fetchone()
    assert bad == 0


def test_loading_twice_changes_nothing(ws):
    load(ws, [str(COUNTY)])
    before = snapshot(ws)
    results = load(ws, [COUNTY])
    assert snapshot(ws) == before
    assert sum(r.nodes for r in results) == 11 and sum(r.rels for r in results) == 8


def test_relationships_may_point_at_nodes_already_in_the_workspace(ws):
    load(ws, [str(COUNTY)])
    r, = load(ws, [str(DATA / "links_only")])
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rels) == (2, 1, 1, 1)
    assert ws.con.execute("SELECT src_key, dst_key FROM rel_with_keys WHERE dataset = ?", [r.dataset]).fetchall() == [
        ("Person:p2", "Village:2")]
    col, reason = quarantined(ws, "serves_in.csv")[3]
    assert col == ":START_ID(Person)" and "Person:p9" in reason
    assert ws.totals()["relationships"] == 9


def test_relationships_to_nothing_are_quarantined_not_loaded(ws):
    r, = load(ws, [str(DATA / "links_only")])
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 0, 2)
    assert ws.totals() == {"nodes": 0, "relationships": 0, "quarantined_rows": 2}


# -- bad rows: quarantined with line, column and reason -----------------------------------

def test_bad_rows_are_quarantined_with_balanced_accounting(ws):
    results = by_dataset(load(ws, [str(DATA / "bad_rows")]))
    for r in results.values():
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
    files = ("people.csv", "disabilities.csv", "rels.csv")
    assert [(results[f].rows_read, results[f].rows_quarantined) for f in files] == [(6, 5), (3, 2), (6, 5)]

    people = quarantined(ws, "people.csv")
    assert people[3] == ("birth_date:date", "not a date: 1990-13-01 (expected YYYY-MM-DD)")
    assert people[4][0] == "birth_date:date" and people[4][1].startswith("expected 4 fields, found 3")
    assert people[5] == (":ID(Person)", "duplicate id 'a1' in ID space Person: first at people.csv line 2")
    assert people[6] == (":ID(Person)", "missing id")
    assert people[7] == ("birth_date:date", "property 'birth_date' is not declared for label(s) Company")

    dis = quarantined(ws, "disabilities.csv")
    assert dis[3] == ("grade:int", "not an int: two (expected a 32-bit whole number)")
    assert dis[4] == ("grade:int", "not an int: 3000000000 (expected a 32-bit whole number)")

    rels = quarantined(ws, "rels.csv")
    assert rels[3] == (":END_ID(Disability)", "dangling reference: no Disability:d9")   # in no node file
    assert rels[4] == (":START_ID(Person)", "dangling reference: no Person:a2")          # its node was quarantined
    assert rels[5] == (":START_ID(Person)", "dangling reference: no Person:a6")
    assert rels[6] == (":END_ID(Disability)",
                       "LEGAL_REP_OF cannot end at a Disability node (the schema allows Company)")
    assert rels[7] == (":END_ID(Disability)", "dangling reference: no Disability:d2")

    raw = json.loads(ws.con.execute("SELECT raw FROM quarantine WHERE dataset LIKE '%/people.csv' AND line = 3")
                     .fetchone()[0])
    assert raw == {":ID(Person)": "a2", "name": "乙", ":LABEL": "Person", "birth_date:date": "1990-13-01"}
    assert ws.totals() == {"nodes": 2, "relationships": 1, "quarantined_rows": 12}
    assert node(ws, "Person:a1")["name"] == "甲"                  # the first of a duplicated id wins


def test_line_numbers_count_physical_lines(ws, tmp_path):
    folder = write(tmp_path / "lines", {"people.csv": (
        ':ID(Person),name,:LABEL,birth_date:date\n'
        'a1,"first\nsecond\nthird",Person,1990-01-01\n'
        '\n'
        'a2,"x, y",Person,yesterday\n'
        'a3,"multi\nline",Person,nope\n')})
    r, = load(ws, [str(folder)])
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 1, 2)
    assert sorted(quarantined(ws, "people.csv")) == [6, 7]


# -- whole-file problems: SourceError before anything is written -------------------------

def test_unknown_label_is_a_source_error(ws):
    with pytest.raises(SourceError) as err:
        load(ws, [str(DATA / "bad_label")])
    e = err.value
    assert Path(e.file).name == "people.csv" and e.line == 3 and e.column == ":LABEL"
    assert "unknown label 'Persn'" in e.message and "did you mean 'Person'" in e.message
    assert ws.totals() == {"nodes": 0, "relationships": 0, "quarantined_rows": 0}
    assert ws.con.execute("SELECT count(*) FROM load_report").fetchone() == (0,)


def test_packaged_schema_loads_string_list_aliases(plain_ws):
    """``Person.aliases`` is in the packaged schema (entity resolution keeps other names there)."""
    load(plain_ws, [str(COUNTY)])
    rows = plain_ws.con.execute("SELECT aliases FROM node WHERE len(aliases) > 0").fetchall()
    assert rows and all(isinstance(a, list) and all(isinstance(x, str) for x in a) for a, in rows)


@pytest.mark.parametrize("files, file, column, words", [
    ({"p.csv": ":ID(Person),nmae,:LABEL\np1,甲,Person\n"},
     "p.csv", "nmae", ["unknown node property 'nmae'", "did you mean 'name'"]),
    ({"p.csv": ":ID(Person),:LABEL,birth_date:int\np1,Person,3\n"},
     "p.csv", "birth_date:int", ["type mismatch", ":int", "'birth_date' as date"]),
    ({"d.csv": ":ID(Disability),:LABEL,grade:double\nd1,Disability,3\n"},
     "d.csv", "grade:double", ["type mismatch", ":double", "integer"]),
    ({"p.csv": ":ID(Person),:LABEL,birth_date:integer\np1,Person,3\n"},
     "p.csv", "birth_date:integer", ["unknown field type 'integer'", "did you mean 'int'"]),
    ({"p.csv": ":ID(Person),:LABEL,address:point\np1,Person,x\n"},
     "p.csv", "address:point", ["no graphwatch property type"]),
    ({"p.csv": ":ID(Person),:LABEL,name:string[]\np1,Person,x\n"},
     "p.csv", "name:string[]", ["type mismatch", "string[]"]),
    ({"p.csv": ":ID(Person),:LABEL,name:ID(Person)\np1,Person,x\n"},
     "p.csv", "name:ID(Person)", ["more than one :ID"]),
    ({"people.csv": ":ID(Person),name\np1,甲\n"},
     "people.csv", None, ["no :LABEL column", "'people' is not a label"]),
    ({"r.csv": ":START_ID(Person),:END_ID(Company),:TYPE,shares:float\np1,c1,SHAREHOLDER_OF,1\n"},
     "r.csv", "shares:float", ["unknown relationship property 'shares'", "did you mean 'share'"]),
    ({"r.csv": ":START_ID(Person),:END_ID(Company),:TYPE\np1,c1,SHAREHOLDER_OF\np1,c2,SHAREHOLDER\n"},
     "r.csv", ":TYPE", ["unknown relationship type 'SHAREHOLDER'", "did you mean 'SHAREHOLDER_OF'"]),
    ({"r.csv": ":START_ID(Person),:END_ID(Company)\np1,c1\n"},
     "r.csv", None, ["no :TYPE column"]),
    ({"r.csv": ":START_ID(Person),:TYPE\np1,LEGAL_REP_OF\n"},
     "r.csv", None, ["exactly one :END_ID"]),
    ({"r.csv": ":START_ID(Person),:END_ID(Company),:TYPE,valid_from:datetime\np1,c1,LEGAL_REP_OF,x\n"},
     "r.csv", "valid_from:datetime", ["type mismatch"]),
    ({"n.csv": ":ID(Person),:LABEL\np1,Person\n", "other.csv": "姓名,电话\n甲,1\n"},
     "other.csv", None, ["not a neo4j-admin import file"]),
    ({"n_header.csv": ":ID(Person),:LABEL\n"},
     "n_header.csv", None, ["header file with no data files"]),
])
def test_header_problems_are_source_errors(ws, tmp_path, files, file, column, words):
    folder = write(tmp_path / "bad", files)
    with pytest.raises(SourceError) as err:
        load(ws, [str(folder)])
    e = err.value
    assert Path(e.file).name == file
    assert e.column == column
    for w in words:
        assert w in e.message, (w, e.message)
    assert ws.totals() == {"nodes": 0, "relationships": 0, "quarantined_rows": 0}


# -- smaller format details --------------------------------------------------------------

def test_values_are_bound_never_spliced(ws, tmp_path):
    evil = "x'); DROP TABLE node; --"
    folder = write(tmp_path / "evil", {"people.csv": f':ID(Person),name,:LABEL\n"{evil}","{evil}",Person\n'})
    load(ws, [str(folder)])
    assert node(ws, "Person:" + evil)["name"] == evil


def test_typed_values_and_row_level_declarations(ws, tmp_path):
    folder = write(tmp_path / "typed", {
        "companies.csv": ":ID(Company),:LABEL,uscc_valid:boolean,registered_capital:long,established\n"
                         "c1,Company,TRUE,100,2020-02-29\n"
                         "c2,Company,yes,100,2020-02-29\n"        # not a boolean
                         "c3,Company,false,1.5,2020-02-29\n"      # not a long
                         "c4,Company,false,,2021-02-29\n",        # untyped column read as the schema's date
        "rels.csv": ":START_ID(Person),:END_ID(Company),:TYPE,share:float\n"
                    "甲,c1,LEGAL_REP_OF,0.5\n"                    # share is not a LEGAL_REP_OF property
                    "甲,c1,SHAREHOLDER_OF,1e-1\n",
        "people.csv": "name:ID(Person),:LABEL\n甲,Person\n"})
    results = by_dataset(load(ws, [str(folder)]))
    assert {f: (r.rows_loaded, r.rows_quarantined) for f, r in results.items()} == {
        "companies.csv": (1, 3), "rels.csv": (1, 1), "people.csv": (1, 0)}
    q = quarantined(ws, "companies.csv")
    assert q[3] == ("uscc_valid:boolean", "not a boolean: yes (expected true or false)")
    assert q[4][0] == "registered_capital:long" and q[4][1].startswith("not a long: 1.5")
    assert q[5] == ("established", "not a date: 2021-02-29 (expected YYYY-MM-DD)")
    assert quarantined(ws, "rels.csv")[2] == ("share:float", "property 'share' is not declared for LEGAL_REP_OF")
    c1 = node(ws, "Company:c1")
    assert c1["uscc_valid"] is True and c1["registered_capital"] == Decimal("100.00")
    assert c1["established"] == dt.date(2020, 2, 29)
    assert node(ws, "Person:甲")["name"] == "甲"
    assert ws.con.execute("SELECT share FROM rel").fetchall() == [(0.1,)]


def test_split_header_conventions(ws, tmp_path):
    folder = write(tmp_path / "split", {
        "people-header.csv": ":ID(Person)|name|:LABEL\n",        # '|' delimited: found from the header
        "people-part1.csv": ":ID(Person)|name|:LABEL\np1|甲|Person\n",   # a repeated header line is skipped
        "people-part2.csv": "p2|乙|Person\n",
        "people_extra_header.csv": ":ID(Person)|phone|:LABEL\n",  # the longest matching stem wins
        "people_extra_1.csv": "p1|123|Person\n"})
    results = by_dataset(load(ws, [str(folder)]))
    assert sorted(results) == ["people-part1.csv", "people-part2.csv", "people_extra_1.csv"]
    assert any("repeats the header" in n for n in results["people-part1.csv"].notes)
    assert results["people-part1.csv"].rows_read == 1
    assert results["people_extra_1.csv"].rows_read == 1
    # the same id in two files of one space is a duplicate (neo4j-admin refuses it too)
    assert quarantined(ws, "people_extra_1.csv")[1][1].startswith("duplicate id 'p1' in ID space Person")
    assert node(ws, "Person:p2")["name"] == "乙"


def test_global_id_space_and_ignored_columns(ws, tmp_path):
    folder = write(tmp_path / "global", {
        "nodes.csv": ":ID,name,:LABEL,notes:IGNORE,:IGNORE\n1,甲,Person,whatever,x\n2,东村,Village,,\n",
        "rels.csv": ":START_ID,:END_ID,:TYPE\n1,2,SERVES_IN\n2,1,SERVES_IN\n"})
    results = by_dataset(load(ws, [str(folder)]))
    assert node(ws, "Node:1")["labels"] == ["Person"] and node(ws, "Node:2")["labels"] == ["Village"]
    assert ws.con.execute("SELECT src_key, dst_key FROM rel_with_keys").fetchall() == [("Node:1", "Node:2")]
    assert quarantined(ws, "rels.csv")[3] == (":START_ID", "SERVES_IN cannot start at a Village node "
                                                           "(the schema allows Person)")
    assert results["rels.csv"].rows_quarantined == 1


def test_gb18030_and_tab_delimited_files(ws, tmp_path):
    folder = tmp_path / "gbk"
    folder.mkdir()
    (folder / "people.csv").write_bytes(":ID(Person)\tname\t:LABEL\tnotes:IGNORE\np1\t张三\tPerson\ta,b\n"
                                        .encode("gb18030"))
    r, = load(ws, [str(folder)])
    assert r.encoding == "gb18030" and r.rows_loaded == 1
    assert node(ws, "Person:p1")["name"] == "张三"
