"""An export graphwatch did not write: a real Neo4j holds a graph of its own labels, typed
properties and lists; APOC core exports it in the neo4j-admin format; ``--infer-schema``
loads that folder unchanged. Every count, and the answers of a set of queries, must be what
the original graph gives — on the embedded engine and on Neo4j after a push, value for value
and type for type (a long stays a long: 5 is not 5.0). Its Person has properties the domain
model types otherwise (``phone`` a long, ``status`` an int), its Movie an ``amount`` and a
``budget`` of doubles where the domain model keeps decimals: the workspace holds the export's
own schema, so none of them is refused or rounded."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import uuid
from pathlib import Path

import pytest

from graphwatch.engines.compare import comparable
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.ingest import load_into
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import push
from graphwatch.store import Workspace

SEED = 11
GENRES = ["Drama", "Crime", "Comedy", "Thriller"]


def _graph(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Nodes (labels, properties) and relationships (type, ends, properties) of a film graph."""
    nodes, rels = [], []
    for i in range(40):
        labels = ["Person"] + (["Actor"] if i % 2 == 0 else []) + (["Director"] if i % 7 == 0 else [])
        nodes.append({"labels": labels, "props": {
            "name": f"P{i:02d}", "born": 1940 + rng.randrange(60), "rating": round(rng.uniform(1, 10), 2),
            "active": rng.random() < 0.6, "nicknames": [f"n{i}a", f"n{i}b"][:rng.randrange(0, 3)] or None,
            "debut": dt.date(1960 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            "phone": 13800000000 + i, "status": i % 3}})
    for j in range(25):
        nodes.append({"labels": ["Movie"], "props": {
            "title": f"M{j:02d}", "released": 1970 + rng.randrange(50), "budget": round(rng.uniform(0.5, 90), 1),
            "genres": rng.sample(GENRES, rng.randrange(1, 3)), "scores": [rng.randrange(1, 6) for _ in range(3)],
            "premiere": dt.datetime(2000 + rng.randrange(20), 1 + rng.randrange(12), 1 + rng.randrange(28), 20, 30),
            "amount": (0.123456, 12345.6789, 1e-7)[j % 3] * (j + 1)}})
    for j in range(25):
        for p in rng.sample(range(0, 40, 2), 3):
            rels.append({"type": "ACTED_IN", "a": p, "b": 40 + j, "props": {
                "roles": [f"role{p}-{j}"], "fee": rng.randrange(10, 500) * 1000}})
        d = rng.choice([k for k in range(40) if k % 7 == 0])
        rels.append({"type": "DIRECTED", "a": d, "b": 40 + j, "props": {"since": dt.date(2001, 1 + j % 12, 1)}})
    for _ in range(30):
        a, b = rng.sample(range(40), 2)
        rels.append({"type": "KNOWS", "a": a, "b": b, "props": {"weight": round(rng.random(), 3), "role": a % 4}})
    return nodes, rels


QUERIES = [
    "MATCH (p:Person) RETURN p.name AS name, p.born AS born, p.rating AS rating, p.active AS active, "
    "p.nicknames AS nick, p.debut AS debut ORDER BY name",
    "MATCH (m:Movie) RETURN m.title AS title, m.released AS released, m.budget AS budget, m.genres AS genres, "
    "m.scores AS scores, m.premiere AS premiere ORDER BY title",
    "MATCH (a:Actor)-[r:ACTED_IN]->(m:Movie) RETURN a.name AS actor, m.title AS movie, r.roles AS roles, "
    "r.fee AS fee ORDER BY actor, movie",
    "MATCH (d:Director)-[r:DIRECTED]->(m:Movie) WHERE m.released >= 1990 RETURN d.name AS director, "
    "count(m) AS movies, min(r.since) AS first ORDER BY director",
    "MATCH (a:Person)-[k:KNOWS]-(b:Person) WHERE a.name < b.name RETURN a.name AS a, b.name AS b, "
    "k.weight AS w ORDER BY a, b",
    "MATCH (p:Actor:Director) RETURN p.name AS name ORDER BY name",
    "MATCH (m:Movie) WHERE 'Crime' IN m.genres RETURN m.title AS title, size(m.scores) AS n ORDER BY title",
    "MATCH (a:Actor)-[:ACTED_IN]->(m:Movie)<-[:DIRECTED]-(d:Director) RETURN d.name AS director, "
    "count(DISTINCT a) AS actors ORDER BY director",
    "MATCH (p:Person) RETURN p.name AS name, p.phone AS phone, p.status AS status, p.phone + 1 AS next "
    "ORDER BY name",
    "MATCH (m:Movie) RETURN m.title AS title, m.amount AS amount, m.budget AS budget ORDER BY title",
    "MATCH (a:Person)-[k:KNOWS]->(b:Person) WHERE k.role = 2 AND a.status = 2 RETURN a.name AS a, "
    "b.name AS b, k.role AS role, sum(a.status) AS s ORDER BY a, b",
]


def _plain(v):
    """A value as both engines' drivers give it, comparable (Neo4j temporal types → Python)."""
    return comparable(v, digits=9)


def _neo4j_rows(driver, query: str) -> list[tuple]:
    with driver.session() as s:
        return [tuple(_plain(v) for v in r.values()) for r in s.run(query)]


@pytest.fixture(scope="module")
def exported(neo4j_ws, tmp_path_factory):
    """The film graph created in the session's Neo4j, exported by APOC; (folder, counts, answers)."""
    target = Neo4jTarget.resolve(neo4j_ws)
    nodes, rels = _graph(random.Random(SEED))
    driver = target.driver()
    name = f"export-{uuid.uuid4().hex[:8]}"
    folder = Path(neo4j_ws) / "neo4j" / "dbms" / name
    folder.mkdir()
    try:
        with driver.session() as s:
            s.run("MATCH (n) DETACH DELETE n").consume()
            for k, n in enumerate(nodes):
                # labels are the test's own constants, never data; properties are bound
                s.run(f"CREATE (x:{':'.join(n['labels'])} {{k: $k}}) SET x += $props",
                      k=k, props={p: v for p, v in n["props"].items() if v is not None}).consume()
            for r in rels:
                s.run(f"MATCH (a {{k: $a}}), (b {{k: $b}}) CREATE (a)-[x:{r['type']}]->(b) SET x = $props",
                      a=r["a"], b=r["b"], props=r["props"]).consume()
            s.run("MATCH (n) REMOVE n.k").consume()
            summary = s.run("CALL apoc.export.csv.all($file, {bulkImport: true}) YIELD nodes, relationships "
                            "RETURN nodes, relationships", file=f"{name}/film.csv").single()
            labels = {r["l"]: r["n"] for r in s.run("MATCH (n) UNWIND labels(n) AS l RETURN l, count(*) AS n")}
            types = {r["t"]: r["n"] for r in s.run("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS n")}
        answers = {q: _neo4j_rows(driver, q) for q in QUERIES}
        assert summary["nodes"] == len(nodes) and summary["relationships"] == len(rels)
        assert all(answers.values()), "every query should find something in this graph"
        copy = tmp_path_factory.mktemp("export") / "film"
        shutil.copytree(folder, copy)
    finally:
        driver.close()
        shutil.rmtree(folder, ignore_errors=True)
    return copy, labels, types, answers


@pytest.fixture(scope="module")
def loaded(exported, tmp_path_factory):
    folder, *_ = exported
    ws = tmp_path_factory.mktemp("film") / "ws"
    results = load_into(ws, [folder], infer_schema=True)
    return ws, results


def test_the_export_loads_unchanged_with_every_count(exported, loaded):
    folder, labels, types, _ = exported
    ws, results = loaded
    assert sorted(p.name for p in folder.iterdir())[:1] == ["film.nodes.Movie.csv"]   # APOC's own layout
    schema, *files = results
    assert schema.format == "schema" and any(n.startswith("new label Movie:") for n in schema.notes)
    assert all(r.rows_read == r.rows_loaded and r.rows_quarantined == 0 for r in files)
    with Workspace(ws, read_only=True) as w:
        counts = w.counts()
        movie = w.schema.labels["Movie"].properties
    assert counts["labels"] == labels
    assert counts["types"] == types
    assert movie["genres"] == "string_list" and movie["scores"] == "integer_list"
    # the export's own types, where the packaged schema has the same names otherwise (a Project's
    # budget and a Contract's amount are decimals there, a Person's phone and status text)
    assert movie["budget"] == "float" and movie["amount"] == "float" and movie["premiere"] == "datetime"
    with Workspace(ws, read_only=True) as w:
        person = w.schema.labels["Person"].properties
        assert w.schema.standalone and "Household" not in w.schema.labels
    assert person["phone"] == "integer" and person["status"] == "integer"


def test_queries_give_the_original_graphs_answers_on_duckdb(exported, loaded):
    *_, answers = exported
    ws, _ = loaded
    with DuckDBEngine(ws) as eng:
        for q in QUERIES:   # repr: 5 and 5.0 differ
            assert repr([tuple(_plain(v) for v in row) for row in eng.run(q).rows]) == repr(answers[q]), q


def test_queries_give_the_same_rows_on_neo4j_after_a_push(neo4j_ws, exported, loaded):
    *_, answers = exported
    ws, _ = loaded
    target = Neo4jTarget.resolve(neo4j_ws)
    push(ws, target, clear=True)
    with DuckDBEngine(ws) as duck, Neo4jEngine(ws, target=target) as neo:
        for q in QUERIES:
            d, n = duck.run(q, bindings=True), neo.run(q, bindings=True)
            assert repr([tuple(_plain(v) for v in row) for row in n.rows]) == repr(answers[q]), q
            assert d.bindings == n.bindings, q
