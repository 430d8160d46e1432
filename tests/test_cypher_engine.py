"""The Cypher engine: golden cases on DuckDB and on a real Neo4j (one body, both engines),
bindings, errors, the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from graphwatch.cli import main
from graphwatch.cypher import parse
from graphwatch.cypher.compiler import Options, compile_query
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.exc import EngineError, EvaluationError, PatternError
from graphwatch.fixtures import node_id, write_graph
from graphwatch.store import Workspace

from golden_cypher import CASES, NODES, REFUSED, RELS

from graphwatch.engines.compare import comparable, comparable_rows


@pytest.fixture(scope="module")
def golden_ws(tmp_path_factory):
    path = tmp_path_factory.mktemp("golden") / "ws"
    with Workspace(path, create=True) as ws:
        write_graph(ws, NODES, RELS)
    return path


@pytest.fixture(scope="module")
def engine(golden_ws):
    with DuckDBEngine(golden_ws) as eng:
        yield eng


@pytest.fixture(scope="module")
def neo4j_golden(golden_ws, neo4j_ws):
    """The golden graph pushed into the session's Neo4j server, and an engine on it."""
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    target = Neo4jTarget.resolve(neo4j_ws)
    push(golden_ws, target, clear=True)
    with Neo4jEngine(target=target) as eng:
        yield eng


@pytest.fixture(params=["duckdb", "neo4j"])
def any_engine(request):
    return request.getfixturevalue("engine" if request.param == "duckdb" else "neo4j_golden")


@pytest.mark.parametrize("c", CASES, ids=[c["id"] for c in CASES])
def test_golden(any_engine, c):
    res = any_engine.run(c["query"], c["params"])
    if c["columns"]:
        assert res.columns == c["columns"]
    got = [tuple(comparable(v) for v in r) for r in res.rows]
    if c["ordered"]:
        assert got == [tuple(r) for r in c["rows"]]
    else:
        assert comparable_rows(res.rows) == sorted((tuple(r) for r in c["rows"]), key=repr)
    assert not res.has_bindings      # evidence only when asked for


@pytest.mark.parametrize("c", CASES, ids=[c["id"] for c in CASES])
def test_golden_bindings_are_the_same_on_neo4j(engine, neo4j_golden, c):
    """Each row with the ids it was built from (anonymous elements, var-length hops and
    aggregated groups included) is the same on Neo4j as on the embedded engine."""
    def paired(res):
        return sorted((repr(tuple(comparable(v) for v in r)), b.nodes, b.rels) for r, b in zip(res.rows, res.bindings))

    ours = engine.run(c["query"], c["params"], bindings=True)
    assert len(ours.bindings) == len(ours.rows)
    assert paired(neo4j_golden.run(c["query"], c["params"], bindings=True)) == paired(ours)


@pytest.mark.parametrize("c", REFUSED, ids=[c["id"] for c in REFUSED])
def test_refused_where_neo4j_fails(any_engine, c):
    """What Neo4j fails on, both engines refuse (the checker) with the place it was written."""
    with pytest.raises(PatternError) as ei:
        any_engine.run(c["query"], c["params"])
    assert c["message"] in ei.value.message
    assert (ei.value.line, ei.value.column) == (c["line"], c["column"]), str(ei.value)


@pytest.mark.parametrize("c", REFUSED, ids=[c["id"] for c in REFUSED])
def test_neo4j_itself_fails_on_the_refused(neo4j_golden, c):
    """The refusals above are Neo4j's own: sent to the server as they are, they fail."""
    driver = neo4j_golden.target.driver()
    try:
        with neo4j_golden.target.session(driver) as s, pytest.raises(Exception) as ei:
            s.run(c["query"], c["params"]).consume()
    finally:
        driver.close()
    assert "Neo" in str(ei.value) or "error" in str(ei.value).lower()


def test_column_names_follow_cypher(any_engine):
    res = any_engine.run("MATCH (p:Person {name: 'Ann'}) RETURN p.name, p.name AS n, toUpper(p.name)")
    assert res.columns == ["p.name", "n", "toUpper(p.name)"]
    assert list(res.df.columns) == ["p.name", "n", "toUpper(p.name)"]


def test_bindings_name_every_element_even_anonymous(engine, golden_ws):
    res = engine.run("MATCH (a:Official)-[:SPOUSE_OF]-()-[:LEGAL_REP_OF]->(x) RETURN x.name", bindings=True)
    assert [r[0] for r in res.rows] == ["Xco"]
    with Workspace(golden_ws, read_only=True) as ws:
        want = {node_id(ws, k) for k in ("Person:ann", "Person:bob", "Company:xco")}
        rels = {r[0] for r in ws.con.execute(
            "SELECT rid FROM rel WHERE type IN ('SPOUSE_OF', 'LEGAL_REP_OF')").fetchall()}
    assert set(res.bindings[0].nodes) == want
    assert set(res.bindings[0].rels) == rels


def test_bindings_survive_an_empty_optional_var_length_hop(engine, golden_ws):
    res = engine.run("MATCH (p:Person)-[:RECEIVES]->(:Benefit) OPTIONAL MATCH (p)<-[:CO_OCCURRED_WITH*..2]-(x) "
                     "RETURN count(*) AS a", bindings=True)
    with Workspace(golden_ws, read_only=True) as ws:
        want = {node_id(ws, "Person:dan"), node_id(ws, "Benefit:bn1")}
    assert set(res.bindings[0].nodes) == want and len(res.bindings[0].rels) == 1


def test_bindings_of_aggregates_cover_the_group(engine, golden_ws):
    res = engine.run("MATCH (p)-[:SHAREHOLDER_OF]->(x:Company) RETURN x.name, count(*) AS n", bindings=True)
    assert res.rows == [("Xco", 2)]
    with Workspace(golden_ws, read_only=True) as ws:
        want = {node_id(ws, k) for k in ("Person:cat", "Person:dan", "Company:xco")}
    assert set(res.bindings[0].nodes) == want
    assert len(res.bindings[0].rels) == 2
    assert res.bindings[0].matches == 2 and not res.bindings[0].truncated


@pytest.mark.parametrize("engine_name", ["duckdb", "neo4j"])
def test_bindings_of_a_large_group_are_bounded(engine_name, request, golden_ws):
    """An aggregate keeps the ids of at most N of a group's matches, and says how many there were."""
    eng = request.getfixturevalue("engine" if engine_name == "duckdb" else "neo4j_golden")
    res = eng.run("MATCH (p:Person) RETURN count(*) AS n", bindings=1)
    (n,), = res.rows
    b = res.bindings[0]
    assert n > 1 and b.matches == n and b.truncated and len(b.nodes) == 1
    full = eng.run("MATCH (p:Person) RETURN count(*) AS n", bindings=True).bindings[0]
    assert full.matches == n and not full.truncated and len(full.nodes) == n
    with pytest.raises(EngineError):
        eng.run("MATCH (p:Person) RETURN count(*) AS n").bindings


def test_bindings_of_var_length_and_shortest_paths(engine, golden_ws):
    res = engine.run("MATCH p = shortestPath((a {name: 'Ann'})-[*..6]-(d {name: 'Dan'})) RETURN length(p)", bindings=True)
    with Workspace(golden_ws, read_only=True) as ws:
        want = {node_id(ws, k) for k in ("Person:ann", "Person:cat", "Person:dan")}
    assert set(res.bindings[0].nodes) == want and len(res.bindings[0].rels) == 2


def test_id_functions(engine, golden_ws):
    res = engine.run("MATCH (p {name: 'Ann'}) RETURN id(p), elementId(p)")
    with Workspace(golden_ws, read_only=True) as ws:
        nid = node_id(ws, "Person:ann")
    assert res.rows == [(nid, str(nid))]


def test_returned_node_carries_labels_and_properties(engine):
    (n,), = engine.run("MATCH (p {name: 'Ann'}) RETURN p").rows
    assert n.labels == ("Official", "Person")
    assert n["birth_date"].isoformat() == "1970-05-01" and n.get("phone") is None


def test_values_are_bound_never_formatted(engine):
    evil = "x' OR '1'='1"
    compiled = engine.compile("MATCH (p:Person) WHERE p.name = $n OR p.name = 'Bob\\'s' RETURN p.name", {"n": evil})
    assert evil not in compiled.sql and "Bob" not in compiled.sql
    assert engine.run("MATCH (p:Person) WHERE p.name = $n RETURN p.name", {"n": evil}).rows == []


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("query,message,line,column", [
    ("MATCH (p:Persn) RETURN p", "unknown label 'Persn' (did you mean 'Person'?)", 1, 7),
    ("MATCH (p)-[:SPOUSE]-(q) RETURN p", "unknown relationship type 'SPOUSE' (did you mean 'SPOUSE_OF'?)", 1, 10),
    ("MATCH (p:Person)\nRETURN p.nmae", "unknown node property 'nmae' (did you mean 'name'?)", 2, 8),
    ("MATCH (p)-[r:SHAREHOLDER_OF]->(c)\nWHERE r.shares > 1 RETURN c", "unknown relationship property 'shares'", 2, 7),
    ("MATCH (p:Person) RETURN q.name", "unknown variable 'q'", 1, 25),
    ("MATCH (p)-[*]->(q) RETURN p", "needs an upper bound", 1, 10),
    ("MATCH (p)-[*1..50]->(q) RETURN p", "above the limit", 1, 10),
    ("MATCH (p) WHERE count(*) > 1 RETURN p", "aggregate", 1, 17),
    ("MATCH (p) RETURN p.name, p.name", "appears twice", 1, 26),
    ("CREATE (p:Person) RETURN p", "CREATE is not supported", 1, 1),
    ("MATCH (p) SET p.name = 'x' RETURN p", "SET is not supported", 1, 11),
    ("MATCH (p) RETURN p UNION MATCH (q) RETURN q", "same column names", 1, 20),
    ("RETURN 1 AS a UNION RETURN 2 AS a UNION ALL RETURN 3 AS a", "cannot be mixed", 1, 35),
    ("RETURN 1 AS a UNION RETURN 'x' AS a", "UNION column 'a' has values of different types", 1, 15),
    ("MATCH (p:Person) RETURN p.name LIMIT $k", "parameter $k has no value", 1, 38),
    ("MATCH (p) WITH p.name RETURN p", "needs an alias", 1, 16),
    ("MATCH (p) RETURN p MATCH (q) RETURN q", "RETURN must be the last clause", 1, 11),
    ("MATCH (p)", "must end with RETURN", 1, 1),
    ("MATCH (p) WHERE p.name RETURN p", "true/false", 1, 17),
])
def test_errors_name_the_place(engine, query, message, line, column):
    with pytest.raises(PatternError) as ei:
        engine.run(query)
    assert message in ei.value.message
    assert (ei.value.line, ei.value.column) == (line, column), str(ei.value)


#: what fails at run time on both engines (checked on Neo4j 5.26): the query's values are at fault
FAILS_AT_RUN_TIME = [
    pytest.param("RETURN 9223372036854775807 + 1 AS x", {}, id="overflow_in_addition"),
    pytest.param("RETURN $a * 2 AS x", {"a": 9223372036854775807}, id="overflow_in_multiplication"),
    pytest.param("RETURN -9223372036854775807 - 2 AS x", {}, id="overflow_in_subtraction"),
    # DuckDB's own negation widened the least integer to a 128-bit 9223372036854775808
    pytest.param("RETURN -$a AS x", {"a": -9223372036854775807 - 1}, id="negating_the_least_integer"),
    pytest.param("RETURN $a / $b AS x", {"a": 1, "b": 0}, id="integer_division_by_zero"),
    pytest.param("RETURN 1 % 0 AS x", {}, id="integer_modulo_by_zero"),
    pytest.param("RETURN substring('abc', $start, 2) AS x", {"start": 9223372036854775807},
                 id="substring_start_beyond_32_bits"),
    pytest.param("RETURN left('abc', $n) AS x", {"n": -1}, id="left_negative"),
    pytest.param("RETURN [1, 2, 3][$a..] AS x", {"a": 9223372036854775807}, id="slice_bound_beyond_32_bits"),
]


@pytest.mark.parametrize("query,params", FAILS_AT_RUN_TIME)
def test_run_time_failure_neo4j_shares_is_an_evaluation_error(engine, query, params):
    with pytest.raises(EvaluationError, match="DuckDB could not run the compiled query"):
        engine.run(query, params)


@pytest.mark.parametrize("query,params", FAILS_AT_RUN_TIME[:6])
def test_neo4j_overflow_and_division_by_zero_are_evaluation_errors(neo4j_golden, query, params):
    with pytest.raises(EvaluationError, match="ArithmeticError"):
        neo4j_golden.run(query, params)


@pytest.mark.parametrize("sql,kind", [("SELECT nosuch AS c0", "Binder Error"), ("SELEC 1 AS c0", "Parser Error"),
                                      ("SELECT abs(-9223372036854775807 - 1) AS c0", "Overflow on abs")])
def test_sql_duckdb_refuses_is_not_an_evaluation_error(engine, monkeypatch, sql, kind):
    """SQL DuckDB cannot bind or parse is the compiler's fault (and so is an overflow Neo4j
    does not share: its abs() of the least integer wraps): a plain EngineError."""
    import dataclasses

    real = engine.compile
    monkeypatch.setattr(engine, "compile", lambda *a, **kw: dataclasses.replace(real(*a, **kw), sql=sql))
    with pytest.raises(EngineError, match=kind) as ei:
        engine.run("RETURN 1 AS x")
    assert not isinstance(ei.value, EvaluationError)


def test_syntax_error_has_line_and_column():
    with pytest.raises(PatternError) as ei:
        parse("MATCH (p:Person)\nWHERE p.name = \nRETURN p")
    assert ei.value.line == 3 and ei.value.column == 1


def test_limits_are_configurable(golden_ws):
    with DuckDBEngine(golden_ws, options=Options(max_var_length=2, max_shortest=2)) as eng:
        with pytest.raises(PatternError, match="above the limit 2"):
            eng.run("MATCH (a)-[*1..3]-(b) RETURN a")
        # an unbounded shortestPath is capped at max_shortest: Ann-Cat-Dan is 2 hops
        assert len(eng.run("MATCH p = shortestPath((a {name: 'Ann'})-[*]-(d {name: 'Dan'})) RETURN p")) == 1
        assert len(eng.run("MATCH p = shortestPath((a {name: 'Eve'})-[*]-(d {name: 'Dan'})) RETURN p")) == 0


def test_checker_annotates_the_query():
    from graphwatch.cypher import check
    from graphwatch.schema import load_schema

    checked = check(parse("MATCH (p:Person)-[r]->(x) RETURN p.name AS n, count(*) AS c, collect(r) AS rs, "
                          "[v IN [1, 2] | v * 1.5] AS l ORDER BY c"), schema=load_schema())
    assert checked.columns == ["n", "c", "rs", "l"]
    assert checked.types == ["str", "int", "list:rel", "list:float"]
    assert checked.is_grouped(checked.query.clauses[-1])


def test_neo4j_engine_checks_without_compiling_sql(neo4j_golden, monkeypatch):
    """The Neo4j engine runs the checker only: no DuckDB SQL is compiled to validate."""
    from graphwatch.cypher import compiler

    monkeypatch.setattr(compiler.Compilation, "run", lambda self: pytest.fail("the Neo4j engine compiled SQL"))
    assert neo4j_golden.run("MATCH (p:Person {name: 'Ann'}) RETURN p.name").rows == [("Ann",)]
    with pytest.raises(PatternError, match="unknown label 'Persn'"):
        neo4j_golden.run("MATCH (p:Persn) RETURN p")
    assert "Neo4j plan" in neo4j_golden.explain("MATCH (p:Person) RETURN count(*)")


def test_compile_without_engine_gives_sql_and_parameters():
    c = compile_query("MATCH (p:Person {name: $n}) RETURN p.name", params={"n": "Ann"})
    assert "FROM" in c.sql and "list_contains" in c.sql
    assert "Ann" in c.params.values() and c.cypher_params == ["n"]


# ------------------------------------------------------------------ CLI
def test_cli_query_formats(golden_ws):
    r = CliRunner().invoke(main, ["query", "MATCH (p:Person) WHERE p.sex = $s RETURN p.name AS name, p "
                                  "ORDER BY name", "-w", str(golden_ws), "--param", "s=女", "--format", "json",
                                  "--bindings"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [o["name"] for o in out] == ["Ann", "Cat"]
    assert out[0]["p"]["key"] == "Person:ann" and out[0]["_bindings"]["nodes"]
    r = CliRunner().invoke(main, ["query", "MATCH (p:Person) RETURN p.name ORDER BY p.name LIMIT $k",
                                  "-w", str(golden_ws), "-p", "k=2", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["p.name", "Ann", "Bob"]
    r = CliRunner().invoke(main, ["query", "MATCH (p:Person) RETURN count(*) AS n", "-w", str(golden_ws)])
    assert r.exit_code == 0 and "5" in r.output and "1 row" in r.output


def test_cli_explain_prints_sql_not_values(golden_ws):
    r = CliRunner().invoke(main, ["query", "MATCH (p:Person {name: $n}) RETURN p.name", "-w", str(golden_ws),
                                  "--param", "n=Ann", "--explain"])
    assert r.exit_code == 0, r.output
    assert "SELECT" in r.output and "list_contains" in r.output and "-- parameters:" in r.output


def test_cli_query_error_is_one_line(golden_ws):
    r = CliRunner().invoke(main, ["query", "MATCH (p:Persn) RETURN p", "-w", str(golden_ws)])
    assert r.exit_code == 2
    assert "unknown label 'Persn'" in r.output and "line 1" in r.output


def test_cli_query_from_file(golden_ws, tmp_path):
    f = tmp_path / "q.cypher"
    f.write_text("MATCH (p:Person {name: 'Bob'})\nRETURN p.name", encoding="utf-8")
    r = CliRunner().invoke(main, ["query", f"@{f}", "-w", str(golden_ws), "--format", "csv"])
    assert r.exit_code == 0 and r.output.splitlines() == ["p.name", "Bob"]
