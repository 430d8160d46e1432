"""The social / crime-style graph (``graphwatch.synth.social``) and its analyst queries: a small
generated graph loads unchanged with ``--infer-schema``, has the shape the benchmark relies on
(hubs, self-loops, co-offenders), and every query of ``benchmarks/bench_social.py`` gives the
same rows on the embedded engine (with the adjacency index and without it) as on a real Neo4j
fed by ``graphwatch neo4j push``."""

from __future__ import annotations

import statistics

import pytest
from click.testing import CliRunner

from graphwatch.cli import main as cli
from graphwatch.engines.compare import comparable_rows
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.exc import GenerationError
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.schema import workspace_schema
from graphwatch.synth.social import QUERIES, generate_social, pick_params

PERSONS = 3_000


@pytest.fixture(scope="module")
def social_ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("social")
    counts = generate_social(tmp / "social", PERSONS, seed=11)
    res = CliRunner().invoke(cli, ["load", str(tmp / "social"), "--infer-schema", "-w", str(tmp / "ws")])
    assert res.exit_code == 0, res.output
    return tmp / "ws", counts


def test_generator_is_seeded_and_refuses_a_used_folder(tmp_path):
    a, b = generate_social(tmp_path / "a", 500, seed=3), generate_social(tmp_path / "b", 500, seed=3)
    assert a == b
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    assert (tmp_path / "a" / "knows.csv").read_text() != (generate_social(tmp_path / "c", 500, seed=4) and
                                                        (tmp_path / "c" / "knows.csv").read_text())
    with pytest.raises(FileExistsError, match="already holds CSV files"):
        generate_social(tmp_path / "a", 500, seed=3)


def test_what_the_generator_cannot_build_is_a_generation_error(tmp_path):
    with pytest.raises(GenerationError, match="at least 100"):
        generate_social(tmp_path / "few", 99)
    with pytest.raises(GenerationError, match="fewer than two suspects"):
        pick_params(lambda cypher: [])


def test_the_folder_loads_unchanged_with_the_shape_the_benchmark_needs(social_ws):
    ws, counts = social_ws
    with DuckDBEngine(ws) as duck:
        got = {lab: duck.run(f"MATCH (n:{lab}) RETURN count(n)").rows[0][0] for lab in ("Person", "Location", "Crime")}
        got |= {t: duck.run(f"MATCH ()-[r:{t}]->() RETURN count(r)").rows[0][0]
                for t in ("KNOWS", "PARTY_TO", "OCCURRED_AT", "LIVES_AT")}
        assert got == counts                          # every row loaded, none merged or quarantined
        degrees = [r[1] for r in duck.run("MATCH (p:Person) OPTIONAL MATCH (p)-[k:KNOWS]-() "
                                          "RETURN p.pid AS pid, count(k) AS d").rows]
        assert len(degrees) == PERSONS
        assert max(degrees) >= 20 * statistics.median(degrees)          # hubs
        assert duck.run("MATCH (p:Person)-[:KNOWS]->(p) RETURN count(*)").rows[0][0] >= 1   # self-loops
        assert duck.run("MATCH (a:Person)-[:KNOWS]->(b:Person)-[:KNOWS]->(c:Person)-[:KNOWS]->(a) "
                        "WHERE a <> b RETURN count(*) > 0").rows[0][0]                       # cycles
        row = duck.run("MATCH (p:Person {pid: 'P0'})-[:LIVES_AT]->(l:Location) RETURN p.age, l.lid").rows[0]
        assert isinstance(row[0], int) and row[1].startswith("L")


@pytest.fixture(scope="module")
def pushed(social_ws, neo4j_ws):
    target = Neo4jTarget.resolve(neo4j_ws)
    push(social_ws[0], target, clear=True)
    return target


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_bench_query_agrees_with_neo4j(name, social_ws, pushed, monkeypatch):
    ws = social_ws[0]
    with DuckDBEngine(ws) as duck, Neo4jEngine(target=pushed, schema=workspace_schema(ws)) as neo:
        params = pick_params(lambda q: duck.run(q).rows)
        assert params == pick_params(lambda q: neo.run(q).rows)
        ours = duck.run(QUERIES[name], params)
        monkeypatch.setenv("GRAPHWATCH_ADJACENCY", "0")
        in_sql = duck.run(QUERIES[name], params)
        theirs = neo.run(QUERIES[name], params)            # the Cypher unchanged, as a Neo4j user sends it
    assert theirs.rows, "the query should find something in this graph"
    canon = [comparable_rows(r.rows, digits=6) for r in (ours, in_sql, theirs)]
    assert canon[0] == canon[2], f"graphwatch {canon[0][:10]}\nneo4j      {canon[2][:10]}"
    assert canon[1] == canon[2], f"graphwatch without the index {canon[1][:10]}\nneo4j {canon[2][:10]}"
