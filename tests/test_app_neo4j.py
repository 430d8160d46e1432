"""The model workbench on a real Neo4j server (the project's own, started by conftest's
``neo4j_ws``): the app started with a Neo4j URI runs, validates and explains on it."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="the explorer needs streamlit: pip install -r requirements/dev.lock")

from app_support import demo_workspace  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from graphwatch_app import ENTRY, ENV_NEO4J, ENV_WORKSPACE  # noqa: E402


@pytest.fixture(scope="module")
def pushed(neo4j_ws, tmp_path_factory):
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    ws = demo_workspace(tmp_path_factory.mktemp("app-neo4j"))
    target = Neo4jTarget.resolve(neo4j_ws)
    push(ws, target, clear=True)
    return ws, target


def test_workbench_runs_on_neo4j(pushed, monkeypatch):
    ws, target = pushed
    monkeypatch.setenv(ENV_WORKSPACE, str(ws))
    monkeypatch.setenv(ENV_NEO4J, target.uri)
    monkeypatch.setenv("GRAPHWATCH_NEO4J_USER", target.user)
    monkeypatch.setenv("GRAPHWATCH_NEO4J_PASSWORD", target.password or "")
    at = AppTest.from_file(str(ENTRY), default_timeout=120)
    at.run()
    at.switch_page("views/workbench.py").run()
    assert not at.exception
    assert at.radio(key="w_engine").options == ["duckdb", "neo4j"]
    at.radio(key="w_engine").set_value("neo4j").run()
    at.text_area(key="w_cypher").set_value("MATCH (p:Person)-[:SPOUSE_OF]->(q:Person) RETURN p.name AS a, q.name AS b").run()
    at.number_input(key="w_limit").set_value(5).run()
    at.button(key="w_run").click().run()
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["w_result"]
    assert len(result) == 5 and result.engine == "neo4j"
    at.text_area(key="w_cypher").set_value("MATCH (p:Person)\nRETURN p.nmae").run()
    at.button(key="w_validate").click().run()
    assert "line 2" in " ".join(e.value for e in at.error)
