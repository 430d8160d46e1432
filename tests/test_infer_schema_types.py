"""An export whose labels carry graphwatch's own names (Person, Company) but types of its own —
``phone:long``, ``status:int``, ``amount:double`` where the domain model keeps a text, a text
and a decimal, ``registered_capital:long`` for a decimal, ``role:int`` on a relationship —
loads with ``--infer-schema`` into a new workspace that holds the export's own schema, and
every value comes back exactly, with its type, on DuckDB and on a real Neo4j after a push.
Where a property name has to widen (whole and decimal numbers of one name in one export) the
load says so and rounds nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from graphwatch.cli import main as cli
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.ingest import load_into
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.store import Workspace

BEYOND_2_53 = 2**53 + 1        # a long a double cannot hold: 9007199254740993

FILES = {
    # the header on the first line; an untyped column of JSON lists, as APOC's bulkImport writes them
    "people.csv": (
        "pid:ID(Person),:LABEL,name,phone:long,status:int,amount:double,born:date,tags:string[],scores:int[],"
        "weights:double[],flags:boolean[],active:boolean,nums\n"
        'p1,Person,Ann,13800000000,1,0.123456,1970-01-02,a;b,1;2;3,0.5;0.25,true;false,true,"[7,8]"\n'
        "p2,Person;Official,Bob,13900000001,0,12345.6789,1985-11-30,c,-4,1e-7,false,false,\n"
        "p3,Person,Cy,,2,,,,,,,,\n"),
    # the header in a file of its own
    "companies_header.csv": "cid:ID(Company),:LABEL,name,status:int,phone:long,registered_capital:long,budget:double\n",
    "companies_part1.csv": f"c1,Company,Acme,3,4000000000,5,0.1\nc2,Company,Beta,-1,,{BEYOND_2_53},1e20\n",
    "rels.csv": (
        ":START_ID(Person),:END_ID(Company),:TYPE,role:int,amount:int,since:date,share:double\n"
        "p1,c1,WORKS_AT,2,5,2020-01-01,\n"
        "p2,c1,WORKS_AT,1,-7,,\n"
        "p1,c2,SHAREHOLDER_OF,,,,0.333333\n"),
}

D = dt.date
QUERIES = [
    ("MATCH (p:Person) RETURN p.pid AS pid, p.name AS name, p.phone AS phone, p.status AS status, "
     "p.amount AS amount, p.born AS born, p.tags AS tags, p.scores AS scores, p.weights AS weights, "
     "p.flags AS flags, p.active AS active, p.nums AS nums ORDER BY pid", {},
     [("p1", "Ann", 13800000000, 1, 0.123456, D(1970, 1, 2), ["a", "b"], [1, 2, 3], [0.5, 0.25], [True, False],
       True, [7, 8]),
      ("p2", "Bob", 13900000001, 0, 12345.6789, D(1985, 11, 30), ["c"], [-4], [1e-7], [False], False, None),
      ("p3", "Cy", None, 2, None, None, None, None, None, None, None, None)]),
    ("MATCH (c:Company) RETURN c.cid AS cid, c.name AS name, c.status AS status, c.phone AS phone, "
     "c.registered_capital AS capital, c.budget AS budget ORDER BY cid", {},
     [("c1", "Acme", 3, 4000000000, 5, 0.1), ("c2", "Beta", -1, None, BEYOND_2_53, 1e20)]),
    ("MATCH (p:Person)-[r:WORKS_AT]->(c:Company) RETURN p.pid AS p, c.cid AS c, r.role AS role, "
     "r.amount AS amount, r.since AS since ORDER BY p", {},
     [("p1", "c1", 2, 5, D(2020, 1, 1)), ("p2", "c1", 1, -7, None)]),
    ("MATCH (p:Person)-[s:SHAREHOLDER_OF]->(c:Company) RETURN p.name AS name, s.share AS share, "
     "c.registered_capital + 1 AS next", {},
     [("Ann", 0.333333, BEYOND_2_53 + 1)]),                # integer arithmetic: no float on the way
    ("MATCH (p:Person) WHERE p.phone = $phone RETURN p.name AS name", {"phone": 13800000000}, [("Ann",)]),
    ("MATCH (p:Person) WHERE p.amount > $at RETURN p.name AS name, p.amount * 2 AS twice", {"at": 1000},
     [("Bob", 24691.3578)]),
    ("MATCH (p:Person)-[r:WORKS_AT]->(:Company {status: 3}) WHERE r.role = 2 AND r.amount = 5 "
     "RETURN p.name AS name", {}, [("Ann",)]),
    ("MATCH (p:Person) RETURN sum(p.status) AS s, max(p.phone) AS m, count(p.amount) AS n, "
     "min(p.amount) AS low", {}, [(3, 13900000001, 2, 0.123456)]),
    ("MATCH (p:Person:Official) RETURN p.name AS name", {}, [("Bob",)]),
    ("MATCH (p:Person) WHERE 2 IN p.scores OR true IN p.flags RETURN p.pid AS pid ORDER BY pid", {},
     [("p1",)]),
]


def _exact(rows) -> str:
    """Rows as text that tells 5 from 5.0 and 0.12 from 0.123456 (Neo4j's dates as Python's)."""
    def native(v):
        if hasattr(v, "to_native"):
            return v.to_native()
        return [native(x) for x in v] if isinstance(v, (list, tuple)) else v
    return repr([tuple(native(v) for v in row) for row in rows])


def _folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def export_ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("typed")
    folder = _folder(tmp / "export", FILES)
    res = CliRunner().invoke(cli, ["load", str(folder), "--infer-schema", "-w", str(tmp / "ws")])
    assert res.exit_code == 0, res.output
    return tmp / "ws", res.output


def test_the_export_keeps_its_own_types_under_the_domain_models_label_names(export_ws):
    ws, output = export_ws
    assert "the export's own schema" in output and "rows read = loaded + quarantined" in output
    kept = yaml.safe_load((ws / "schema.yaml").read_text(encoding="utf-8"))
    assert kept["standalone"] is True
    with Workspace(ws, read_only=True) as w:
        s = w.schema
        assert w.totals() == {"nodes": 5, "relationships": 3, "quarantined_rows": 0}
    assert s.standalone and set(s.labels) == {"Person", "Official", "Company"}   # no Household, Contract …
    assert {p: s.labels["Person"].properties[p] for p in ("phone", "status", "amount", "nums")} == {
        "phone": "integer", "status": "integer", "amount": "float", "nums": "integer_list"}
    assert {p: s.labels["Company"].properties[p] for p in ("phone", "status", "registered_capital", "budget")} == {
        "phone": "integer", "status": "integer", "registered_capital": "integer", "budget": "float"}
    assert s.rel_types["WORKS_AT"].properties["role"] == "integer"
    assert s.rel_types["WORKS_AT"].properties["amount"] == "integer"
    assert (s.rel_types["SHAREHOLDER_OF"].from_labels, s.rel_types["SHAREHOLDER_OF"].to_labels) == (
        ("Person",), ("Company",))
    assert s.lookups == ("cid", "pid")


@pytest.mark.parametrize("cypher, params, expected", QUERIES, ids=[f"q{k}" for k in range(len(QUERIES))])
def test_values_come_back_exactly_on_duckdb(export_ws, cypher, params, expected):
    with DuckDBEngine(export_ws[0]) as eng:
        assert _exact(eng.run(cypher, params).rows) == _exact(expected)


def test_the_same_queries_give_the_same_rows_on_neo4j(export_ws, neo4j_ws):
    ws = export_ws[0]
    target = Neo4jTarget.resolve(neo4j_ws)
    push(ws, target, clear=True)
    with DuckDBEngine(ws) as duck, Neo4jEngine(ws, target=target) as neo:
        for cypher, params, expected in QUERIES:
            theirs = neo.run(cypher, params)
            assert _exact(theirs.rows) == _exact(expected), cypher
            assert _exact(duck.run(cypher, params).rows) == _exact(theirs.rows), cypher
    # and as Neo4j itself stores them: a long is a long, a double a double
    driver = target.driver()
    try:
        with driver.session() as session:
            got = session.run("MATCH (p:Person {pid: 'p1'})-[r:WORKS_AT]->(c:Company) RETURN "
                              "valueType(p.phone) AS phone, valueType(p.amount) AS amount, "
                              "valueType(r.role) AS role, valueType(c.registered_capital) AS capital").single()
    finally:
        driver.close()
    assert dict(got) == {"phone": "INTEGER NOT NULL", "amount": "FLOAT NOT NULL", "role": "INTEGER NOT NULL",
                         "capital": "INTEGER NOT NULL"}


def test_whole_and_decimal_numbers_of_one_name_widen_to_float_said_and_never_rounded(tmp_path):
    folder = _folder(tmp_path / "mixed", {
        "people.csv": "pid:ID(Person),:LABEL,amount:double\np1,Person,0.123456\n",
        "companies.csv": f"cid:ID(Company),:LABEL,amount:long\nc1,Company,5\nc2,Company,{BEYOND_2_53}\n"})
    schema, *loaded = load_into(tmp_path / "ws", [folder], infer_schema=True)
    companies = next(r for r in loaded if r.source.endswith("companies.csv"))
    assert f"node property 'amount': whole numbers in {folder / 'companies.csv'} column 'amount:long' and " \
           f"decimal numbers in {folder / 'people.csv'} column 'amount:double' share one column" in "".join(schema.notes)
    assert (companies.rows_loaded, companies.rows_quarantined) == (1, 1)
    with Workspace(tmp_path / "ws", read_only=True) as w:
        assert w.con.execute("SELECT key, amount FROM node ORDER BY key").fetchall() == [
            ("Company:c1", 5.0), ("Person:p1", 0.123456)]
        line, column, reason = w.con.execute('SELECT line, "column", reason FROM quarantine').fetchone()
    assert (line, column) == (3, "amount:long")
    assert reason == (f"would be rounded: {BEYOND_2_53} is a whole number the schema's float 'amount' cannot hold "
                      "exactly (beyond 2^53)")


def test_a_double_into_the_domain_models_decimal_is_quarantined_not_rounded(tmp_path):
    """Without --infer-schema an export loads into the domain model, whose Contract.amount is
    money to the cent: 12.5 loads, 0.123456 and 12345.6789 are quarantined, never rounded."""
    folder = _folder(tmp_path / "contracts", {
        "contracts.csv": "contract_no:ID(Contract),:LABEL,amount:double\n"
                         "k1,Contract,12.5\nk2,Contract,0.123456\nk3,Contract,12345.6789\n"})
    [result] = load_into(tmp_path / "ws", [folder])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    with Workspace(tmp_path / "ws", read_only=True) as w:
        assert [float(a) for a, in w.con.execute("SELECT amount FROM node").fetchall()] == [12.5]
        reasons = w.con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    assert reasons == [(3, "would be rounded: 0.123456 does not fit the schema's decimal 'amount' (money to the "
                           "cent: 2 places, 16 whole digits)"),
                       (4, "would be rounded: 12345.6789 does not fit the schema's decimal 'amount' (money to the "
                           "cent: 2 places, 16 whole digits)")]


def test_what_a_workspace_holding_an_exports_schema_refuses_says_why(export_ws, tmp_path, mini_county):
    ws = export_ws[0]
    runner = CliRunner()
    res = runner.invoke(cli, ["load", str(mini_county), "-w", str(ws)])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "holds a Neo4j export's own schema, so the shipped mappings" in res.output
    res = runner.invoke(cli, ["run", "-w", str(ws)])
    assert res.exit_code != 0 and "give models of your own with --patterns DIR" in res.output
    res = runner.invoke(cli, ["resolve", "-w", str(ws)])
    assert res.exit_code != 0 and "entity resolution compares the persons and companies" in res.output
