"""The Neo4j backend on a real server: push (typed, idempotent, resumable, checked), the
engine's result shape, the CLI, the failures a user meets (wrong password, nothing
listening, a server that dies mid-push), and the bundled server's launcher (built into the
user's cache, also from an installed wheel)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from golden_cypher import NODES, RELS

from graphwatch.engines.compare import comparable

from graphwatch.cli import main
from graphwatch.engines import open_engine
from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.engines.neo4j import Neo4jEngine
from graphwatch.exc import EngineError, PatternError
from graphwatch.fixtures import write_graph
from graphwatch.ingest import load
from graphwatch.neo4j import server as neo4j_server
from graphwatch.neo4j.connection import Neo4jTarget
from graphwatch.neo4j.push import PUSH_STATE_FILE, push
from graphwatch.store import Workspace


def _digest(ws: Path) -> str:
    """The workspace database's bytes: a push must leave them as they were."""
    return hashlib.sha256((ws / "graph.duckdb").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def county_ws(tmp_path_factory):
    """The hand-checked mini county, loaded by the real loaders (provenance, dates, lists)."""
    from conftest import build_mini_county

    mini = build_mini_county(tmp_path_factory.mktemp("mini"))
    path = tmp_path_factory.mktemp("county") / "ws"
    with Workspace(path, create=True) as ws:
        load(ws, [mini])
    return path


@pytest.fixture(scope="module")
def target(neo4j_ws):
    return Neo4jTarget.resolve(neo4j_ws)


@pytest.fixture(scope="module")
def pushed(county_ws, target):
    before = _digest(county_ws)
    rep = push(county_ws, target, clear=True, batch_size=7)
    assert _digest(county_ws) == before
    return rep


def test_push_copies_every_node_and_relationship(county_ws, pushed):
    with Workspace(county_ws, read_only=True) as ws:
        totals, counts = ws.totals(), ws.counts()
    assert pushed.nodes == totals["nodes"] > 10 and pushed.rels == totals["relationships"] > 10
    assert pushed.counts["nodes"] == totals["nodes"]
    assert {k: v for k, v in pushed.counts["labels"].items() if v} == counts["labels"]
    assert {k: v for k, v in pushed.counts["types"].items() if v} == counts["types"]
    assert not (county_ws / PUSH_STATE_FILE).exists()


def _all(engine):
    nodes = {n.id: n for (n,) in engine.run("MATCH (n) RETURN n").rows}
    rels = {r.id: r for (r,) in engine.run("MATCH ()-[r]->() RETURN r").rows}
    return nodes, rels


def test_pushed_graph_equals_the_workspace_property_by_property(county_ws, pushed, target):
    with DuckDBEngine(county_ws) as duck, Neo4jEngine(target=target) as neo:
        dn, dr = _all(duck)
        nn, nr = _all(neo)
    assert dn.keys() == nn.keys() and dr.keys() == nr.keys()
    for nid, a in dn.items():
        b = nn[nid]
        assert (a.key, a.labels, a.properties) == (b.key, b.labels, b.properties), a.key
    for rid, a in dr.items():
        b = nr[rid]
        assert (a.type, a.start, a.end, a.properties) == (b.type, b.start, b.end, b.properties), rid
    # typed values survive: dates as dates, provenance kept
    some_date = next(v for n in nn.values() for v in n.properties.values() if isinstance(v, dt.date))
    assert isinstance(some_date, dt.date)
    assert all(r.properties.get("dataset") and r.properties.get("record") for r in nr.values())
    with Neo4jEngine(target=target) as neo:
        prov = neo.run("MATCH (p:Person) RETURN p.datasets AS d LIMIT 1").rows[0][0]
    assert isinstance(prov, list) and prov


def test_second_push_changes_nothing(county_ws, pushed, target):
    with Neo4jEngine(target=target) as neo:
        before = _all(neo)
    rep = push(county_ws, target)           # no clear: MERGE on the workspace ids
    assert rep.counts["nodes"] == pushed.counts["nodes"]
    with Neo4jEngine(target=target) as neo:
        after = _all(neo)
    assert {k: (v.labels, v.properties) for k, v in before[0].items()} == \
        {k: (v.labels, v.properties) for k, v in after[0].items()}
    assert {k: (v.type, v.start, v.end, v.properties) for k, v in before[1].items()} == \
        {k: (v.type, v.start, v.end, v.properties) for k, v in after[1].items()}


def test_engine_result_shape_and_bindings(county_ws, pushed, target):
    q = ("MATCH p = (a:Person)-[r:SPOUSE_OF]-(b:Person) WHERE a.name < b.name "
         "RETURN a, r, p, a.name AS name ORDER BY name")
    with DuckDBEngine(county_ws) as duck, open_engine("neo4j", None, connection={
            "uri": target.uri, "user": target.user, "password": target.password}) as neo:
        d, n = duck.run(q), neo.run(q, bindings=True)
    assert n.engine == "neo4j" and n.columns == d.columns == ["a", "r", "p", "name"]
    assert len(n.rows) == len(d.rows) >= 1
    for rd, rn, bn in zip(d.rows, n.rows, n.bindings):
        assert rn[0].id == rd[0].id and rn[1].id == rd[1].id
        assert [x.id for x in rn[2].nodes] == [x.id for x in rd[2].nodes]
        # the ids a row was built from, as workspace ids
        assert set(bn.nodes) == {x.id for x in rd[2].nodes} and set(bn.rels) == {rd[1].id}
    assert len(n.df) == len(n.rows)


def test_parameters_are_bound(county_ws, pushed, target):
    q = "MATCH (p:Person) WHERE p.name = $n AND p.birth_date >= $d RETURN p.name"
    params = {"n": "张伟", "d": dt.date(1980, 1, 1)}
    with DuckDBEngine(county_ws) as duck, Neo4jEngine(target=target) as neo:
        assert neo.run(q, params).rows == duck.run(q, params).rows == [("张伟",)]
        # a value that would break a formatted query is just a value
        assert neo.run(q, {"n": "x' OR 1=1 //", "d": dt.date(1900, 1, 1)}).rows == []


def test_write_clauses_never_reach_neo4j(pushed, target):
    with Neo4jEngine(target=target) as neo:
        with pytest.raises(PatternError, match="read-only"):
            neo.run("CREATE (p:Person {name: 'x'}) RETURN p")
        with pytest.raises(PatternError, match="did you mean"):
            neo.run("MATCH (p:Persn) RETURN p")
        assert neo.run("MATCH (p:Person {name: 'x'}) RETURN count(*)").rows == [(0,)]


def test_explain_shows_the_neo4j_plan(pushed, target):
    with Neo4jEngine(target=target) as neo:
        text = neo.explain("MATCH (p:Person) RETURN count(*)")
    assert "Neo4j plan" in text and "ProduceResults" in text


def test_wrong_password_is_a_clear_error(county_ws, target):
    before = _digest(county_ws)
    bad = Neo4jTarget(target.uri, "neo4j", "not-the-password")
    assert "not-the-password" not in repr(bad)
    with pytest.raises(EngineError, match="wrong user or password") as err:
        push(county_ws, bad)
    assert "not-the-password" not in str(err.value)
    with pytest.raises(EngineError, match="wrong user or password"):
        Neo4jEngine(target=bad)
    assert _digest(county_ws) == before


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_a_clear_error(county_ws):
    before = _digest(county_ws)
    t = Neo4jTarget(f"bolt://127.0.0.1:{_unused_port()}", "neo4j", "x")
    with pytest.raises(EngineError, match="unreachable"):
        push(county_ws, t)
    with pytest.raises(EngineError, match="not valid"):
        Neo4jTarget("http//nowhere", "neo4j", "x").driver()
    assert _digest(county_ws) == before


def test_no_server_given_says_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHWATCH_NEO4J_URI", raising=False)
    with pytest.raises(EngineError, match="graphwatch neo4j start"):
        Neo4jTarget.resolve(tmp_path)


def test_server_dying_mid_push_then_rerun_completes(tmp_path, county_ws):
    """Its own server: killed (SIGKILL) after a few committed batches, restarted by the CLI."""
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
    before = _digest(ws)
    runner = CliRunner()
    res = runner.invoke(main, ["neo4j", "start", "-w", str(ws)])
    assert res.exit_code == 0, res.output
    password = (ws / "neo4j" / "password").read_text().strip()
    assert password not in res.output and "started at bolt://127.0.0.1:" in res.output
    assert oct((ws / "neo4j" / "password").stat().st_mode & 0o777) == "0o600"
    info = json.loads((ws / "neo4j" / "server.json").read_text())
    assert runner.invoke(main, ["neo4j", "status", "-w", str(ws)]).exit_code == 0
    seen = []

    def kill_after_three(step, done, total):
        seen.append(step)
        if sum(1 for s in seen if s.startswith(("nodes", "relationships"))) == 3:
            os.killpg(info["pid"], signal.SIGKILL)

    try:
        with pytest.raises(EngineError, match="unreachable while pushing"):
            push(ws, Neo4jTarget.resolve(ws), batch_size=1, progress=kill_after_three)
        assert _digest(ws) == before
        state = json.loads((ws / PUSH_STATE_FILE).read_text())
        assert sum(len(v) for v in state["done"].values()) == 3
        st = runner.invoke(main, ["neo4j", "status", "-w", str(ws)])
        assert st.exit_code == 1 and "not running" in st.output
        res = runner.invoke(main, ["neo4j", "start", "-w", str(ws)])
        assert res.exit_code == 0, res.output
        res = runner.invoke(main, ["neo4j", "push", "-w", str(ws), "--batch-size", "1"])
        assert res.exit_code == 0, res.output
        assert "3 batches already pushed before" in res.output and "counts match" in res.output
        assert not (ws / PUSH_STATE_FILE).exists()
        res = runner.invoke(main, ["query", "MATCH (p:Person)-[:PARENT_OF]->(c) RETURN p.name, c.name "
                                   "ORDER BY p.name", "-w", str(ws), "--engine", "neo4j", "--format", "json"])
        assert res.exit_code == 0, res.output
        assert [(r["p.name"], r["c.name"]) for r in json.loads(res.output)] == [("Ann", "Cat"), ("Bob", "Cat")]
        assert password not in (ws / "neo4j" / "server.log").read_text(errors="replace")
        assert _digest(ws) == before
    finally:
        res = runner.invoke(main, ["neo4j", "stop", "-w", str(ws)])
    assert res.exit_code == 0 and "stopped" in res.output
    assert not neo4j_server.status(ws)["running"]


def test_cli_errors_are_one_line(county_ws):
    res = CliRunner().invoke(main, ["neo4j", "push", "-w", str(county_ws), "--uri",
                                    f"bolt://127.0.0.1:{_unused_port()}"])
    assert res.exit_code == 2 and "unreachable" in res.output and "Traceback" not in res.output


def test_engine_for_a_workspace_refuses_a_stale_or_missing_push(tmp_path, target, pushed):
    ws = tmp_path / "ws"
    with Workspace(ws, create=True) as w:
        write_graph(w, NODES, RELS)
    with pytest.raises(EngineError, match="has not been pushed"):
        Neo4jEngine(ws, uri=target.uri, user=target.user, password=target.password)
    push(ws, target, clear=True)
    with Neo4jEngine(ws, uri=target.uri, user=target.user, password=target.password) as neo:
        assert neo.run("MATCH (p:Person) RETURN count(*)").rows == [(5,)]
    with Workspace(ws) as w:                  # the workspace changes after the push
        write_graph(w, NODES[:3], [])
    with pytest.raises(EngineError, match="changed since it was pushed"):
        Neo4jEngine(ws, uri=target.uri, user=target.user, password=target.password)


@pytest.mark.parametrize("query", [
    "MATCH (p:Person)-[:SPOUSE_OF]-() WITH * MATCH (p)-->(x) RETURN *",
    "MATCH (p:Person)-->(c) WITH p, count(c) AS n WITH * WHERE n > 0 RETURN p.name, n ORDER BY p.name",
    "MATCH (p:Person) OPTIONAL MATCH (p)-[:SPOUSE_OF*1..2]-(q) WITH DISTINCT p RETURN count(*) AS n",
])
def test_bindings_through_stars_distinct_and_optional_hops(county_ws, pushed, target, query):
    """Rows and per-row bindings (anonymous elements included) agree with the embedded engine."""
    push(county_ws, target, clear=True)   # the stale-push test may have replaced the graph
    with DuckDBEngine(county_ws) as duck, Neo4jEngine(target=target) as neo:
        d, n = duck.run(query, bindings=True), neo.run(query, bindings=True)
    assert d.columns == n.columns
    pairs = [sorted((repr([comparable(v) for v in r]), b) for r, b in zip(res.rows, res.bindings))
             for res in (d, n)]
    assert pairs[0] == pairs[1] and pairs[0]


# -- the bundled server's launcher ------------------------------------------------------
def test_launcher_sources_ship_in_the_package_and_build_in_the_cache(tmp_path, monkeypatch):
    package = Path(neo4j_server.__file__).resolve().parents[1]
    assert neo4j_server.LAUNCHER_SOURCES.is_relative_to(package)
    assert set(neo4j_server.launcher_sources()) == {"pom.xml", "src/main/java/graphwatch/Launcher.java"}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = neo4j_server.launcher_folder()
    assert folder.parent == tmp_path / "graphwatch" / "neo4j-server" and len(folder.name) == 16
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")          # not absolute: ignored (XDG)
    assert neo4j_server.launcher_folder().parent == Path.home() / ".cache" / "graphwatch" / "neo4j-server"
    # the content names the folder: changed sources build beside the old ones
    changed = {**neo4j_server.launcher_sources(), "pom.xml": b"<project/>"}
    assert neo4j_server.launcher_folder(changed).name != folder.name


def test_missing_maven_or_java_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))      # nothing built there
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(EngineError, match=r"Maven \(mvn\) is not installed"):
        neo4j_server.build_launcher()
    (empty / "mvn").write_text("#!/bin/sh\nexit 1\n")
    (empty / "mvn").chmod(0o755)
    with pytest.raises(EngineError, match="Java is not installed; Neo4j 5.26 needs Java 17"):
        neo4j_server.build_launcher()
    ws = tmp_path / "ws"
    ws.mkdir()
    with pytest.raises(EngineError, match="Java is not installed"):
        neo4j_server.start(ws)
    assert not (ws / "neo4j" / "server.json").exists()


def test_launcher_is_built_once_and_again_when_a_jar_is_gone(tmp_path, monkeypatch, java_and_maven):
    """No Maven run while the build and every jar it names are there; a jar gone from ~/.m2
    (a cleared cache) builds again, which fetches it."""
    built = neo4j_server.build_launcher()              # the user's cache (usually built already)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    copy = neo4j_server.launcher_folder()
    shutil.copytree(built.folder, copy)
    runs = []
    real_run = subprocess.run

    def maven(cmd, **kw):
        runs.append(cmd)
        return real_run(cmd, **kw)

    monkeypatch.setattr(neo4j_server.subprocess, "run", maven)
    assert neo4j_server.build_launcher().folder == copy and runs == []
    jars = (copy / "target" / "classpath.txt").read_text().strip().split(os.pathsep)
    gone = str(tmp_path / "m2-cleared" / Path(jars[0]).name)
    (copy / "target" / "classpath.txt").write_text(os.pathsep.join([gone] + jars[1:]))
    assert not neo4j_server.BuiltLauncher(copy).is_built()
    again = neo4j_server.build_launcher()
    assert len(runs) == 1 and Path(runs[0][0]).name == "mvn"
    assert again.is_built() and gone not in again.classpath and jars[0] in again.classpath


def test_server_runs_from_an_installed_wheel(tmp_path, java_and_maven):
    """A wheel, not the checkout: the launcher's sources come from the installed package, are
    built in a fresh cache outside it, and the package folder is left as installed."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(root)], check=True, cwd=tmp_path, timeout=300)
    wheel, = (tmp_path / "dist").glob("graphwatch-*.whl")
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    installed = sorted(p.relative_to(site) for p in site.rglob("*"))
    ws = tmp_path / "ws"
    with Workspace(ws, create=True):
        pass
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHWATCH_NEO4J_")}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONDONTWRITEBYTECODE="1")
    code = "import sys, graphwatch; print(graphwatch.__file__, file=sys.stderr); from graphwatch.cli import main; main()"

    def graphwatch(*args):
        return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    res = graphwatch("neo4j", "start", "-w", str(ws))
    try:
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stderr.startswith(str(site / "graphwatch" / "__init__.py")), res.stderr
        assert "started at bolt://127.0.0.1:" in res.stdout
        built = list((tmp_path / "cache" / "graphwatch" / "neo4j-server").glob("*/target/classpath.txt"))
        assert len(built) == 1
        st = graphwatch("neo4j", "status", "-w", str(ws))
        assert st.returncode == 0 and "running at bolt://127.0.0.1:" in st.stdout, st.stdout + st.stderr
    finally:
        stop = graphwatch("neo4j", "stop", "-w", str(ws))
    assert stop.returncode == 0 and "Neo4j stopped" in stop.stdout, stop.stdout + stop.stderr
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == installed
