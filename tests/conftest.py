"""Shared fixtures (a tiny hand-checked county, fresh workspaces, a real Neo4j server) and
the rule that nothing skips in CI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graphwatch.resolve.ids import make_resident_id, make_uscc
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"

# one family over three generations plus a cadre; hand-checked kinship:
# 张大山 + 李秀英 (spouses) → 张伟 (son) + 王芳 (儿媳, his wife) → 张小宝 (grandson)
FAMILY = [("head", "张大山", 1960, "户主", "H1"), ("wife", "李秀英", 1962, "配偶", "H1"),
          ("son", "张伟", 1985, "子", "H1"), ("dil", "王芳", 1987, "儿媳", "H1"),
          ("gson", "张小宝", 2010, "孙子", "H1"), ("cadre", "陈明", 1970, "户主", "H2")]


def person_ids():
    return {k: make_resident_id("140105", dt.date(y, 1, 1 + i), 11 + 2 * i) for i, (k, _, y, _, _) in enumerate(FAMILY)}


@pytest.fixture
def mini_county(tmp_path) -> Path:
    return build_mini_county(tmp_path)


def build_mini_county(tmp_path: Path) -> Path:
    """The hand-checked mini county's source files under ``tmp_path/county``."""
    d = tmp_path / "county"
    d.mkdir()
    ids = person_ids()
    for name in ("divisions.csv", "organisations.csv", "programmes.csv"):
        (d / name).write_bytes((BAD / name).read_bytes())
    with open(d / "household_registry.csv", "w", encoding="gbk", newline="") as f:
        f.write("户号,姓名,公民身份号码,性别,出生日期,与户主关系,民族,住址,村代码,联系电话\n")
        for k, name, year, rel, hh in FAMILY:
            sex = "女" if k in ("wife", "dil") else "男"
            f.write(f"{hh},{name},{ids[k]},{sex},{year}/1/1,{rel},汉,东村,140105001001,\n")
    uscc = make_uscc("91140105MA0ABC123")
    (d / "company_registry.csv").write_text(
        "统一社会信用代码,企业名称,法定代表人,法定代表人证件号码,注册地址,联系电话,成立日期,注册资本（万元）,登记状态,行业主管部门代码\n"
        f"{uscc},山西张氏建筑有限公司,张伟,{ids['son']},东村,13800000000,2015-05-05,100,存续,ORG2\n", encoding="utf-8-sig")
    (d / "benefit_rolls.csv").write_text(
        "发放记录号,姓名,公民身份号码,村代码,项目代码,发放金额,发放起始,发放截止,审批单位代码\n"
        f"B1,王芳,{ids['dil']},140105001001,DB,300,2021-01-01,2021-12-31,ORG1\n"
        "B2,王小明,,140105001001,DB,300,2021-01-01,2021-12-31,ORG1\n", encoding="utf-8")
    return d


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    yield ws
    ws.close()


@pytest.fixture
def family_ids() -> dict[str, str]:
    return person_ids()


# -- nothing skips in CI ---------------------------------------------------------------
# A test may skip on a developer's machine that lacks something (Java, Maven, a driver),
# saying how to enable it. Under CI or GRAPHWATCH_REQUIRE_NEO4J (what 'make test' sets) a
# skip is a failure, whoever raised it: pytest.skip, a skip/skipif mark, a fixture, or
# importorskip at module level (a collection skip). Expected failures (xfail) stay as they are.
NO_SKIP_ENV = ("CI", "GRAPHWATCH_REQUIRE_NEO4J")


def no_skips() -> bool:
    import os

    return any(os.environ.get(v) for v in NO_SKIP_ENV)


def _skip_reason(longrepr) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:      # (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _forbidden_skip(what: str, longrepr) -> str:
    import os

    on = ", ".join(f"{v}={os.environ[v]}" for v in NO_SKIP_ENV if os.environ.get(v))
    return (f"{what} skipped under {on}, where nothing may skip: {_skip_reason(longrepr)}\n"
            "Install what it needs ('make setup' installs the system packages) or fix the test; "
            "a skip is allowed only outside CI.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and no_skips():
        report.outcome = "failed"
        report.longrepr = _forbidden_skip(item.nodeid, report.longrepr)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if report.skipped and no_skips():
        report.outcome = "failed"
        report.longrepr = _forbidden_skip(f"{collector.nodeid} (the whole module)", report.longrepr)
    return report


# -- a real Neo4j server for the parity tests ------------------------------------------
# Outside CI these skip when Java, Maven or the driver is missing; under CI the rule above
# turns that skip into a failure that carries the same reason.
NEO4J_HOWTO = ("Neo4j tests need Java 17 and Maven (the server's jars come from Maven Central): "
               "'make setup' installs them, 'make test' runs these tests")


@pytest.fixture(scope="session")
def java_and_maven() -> None:
    """Java and Maven on PATH (what building and starting the bundled Neo4j server need)."""
    import shutil

    missing = [tool for tool in ("java", "mvn") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found on PATH. " + NEO4J_HOWTO)


@pytest.fixture(scope="session")
def neo4j_ws(tmp_path_factory, java_and_maven):
    """A workspace with the project's own Neo4j server running (auth on, generated password).

    Started once per test session with ``graphwatch.neo4j.server.start`` and stopped at the end.
    Tests push their own graph into it (``push(..., clear=True)``).
    """
    from graphwatch.neo4j import server as neo4j_server

    try:
        import neo4j
        del neo4j
    except ImportError:
        pytest.skip("the neo4j driver is not installed: pip install -e '.[neo4j]'. " + NEO4J_HOWTO)
    path = tmp_path_factory.mktemp("neo4j") / "ws"
    with Workspace(path, create=True):
        pass
    # APOC may write exports into the server's folder: test_neo4j_export exports a graph with it
    neo4j_server.start(path, auth=True, heap="1g", pagecache_mb=256, apoc_export=True)
    try:
        yield path
    finally:
        neo4j_server.stop(path)


def graph_workspace(tmp_path_factory, name: str, nodes, rels) -> Path:
    """A workspace in a fresh temporary folder holding the graph ``nodes`` / ``rels``
    (:func:`graphwatch.fixtures.write_graph`): the body of a module fixture."""
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    path = tmp_path_factory.mktemp(name) / "ws"
    with Workspace(path, create=True) as ws:
        write_graph(ws, nodes, rels)
    return path


def engine_on(request, graph: Path, kind: str):
    """A DuckDB engine on the workspace ``graph``, or (``kind`` 'neo4j') a Neo4j engine on the
    tests' shared server after pushing it there: the body of a fixture parametrised by engine."""
    from graphwatch.engines.duckdb import DuckDBEngine
    from graphwatch.store import Workspace

    if kind == "duckdb":
        with Workspace(graph, read_only=True) as ws, DuckDBEngine(ws) as eng:
            yield eng
        return
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    target = Neo4jTarget.resolve(request.getfixturevalue("neo4j_ws"))
    push(graph, target, clear=True)
    with Neo4jEngine(graph, target=target) as eng:
        yield eng
