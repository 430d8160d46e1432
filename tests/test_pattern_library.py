"""The pattern library: files are declarations checked when read (every error names the file
and line); every model of patterns/README.md's table is there, declares what it reads and
carries fixtures; every fixture passes on DuckDB and on the real Neo4j, in one test body."""

from __future__ import annotations

import doctest
import re
import textwrap
from pathlib import Path

import pytest

from graphwatch.alerts import library
from graphwatch.alerts.fixtures import run_fixture
from graphwatch.alerts.library import Pattern, load_library, load_pattern, parse_pattern, pattern_ids
from graphwatch.exc import InvalidPattern
from graphwatch.resources import shipped_dir

#: the Cypher supervision models of patterns/README.md, by the ids of its table ("The models")
CYPHER_MODELS = ("own_village_project", "relative_beneficiary", "deceased_beneficiary", "payroll_on_welfare",
                 "poor_with_assets", "gambling_with_regulated", "related_bidders", "cadre_subsidy",
                 "relative_direct_award", "missing_coverage", "split_contracts", "direct_award_ratio",
                 "duplicate_benefits")
ALGORITHMIC = ("official_near_winner",)
#: the person-centred models that can also follow entity resolution's uncertain SAME_AS links
UNCERTAIN_IDENTITY = ("own_village_project", "relative_beneficiary", "deceased_beneficiary", "payroll_on_welfare",
                      "poor_with_assets", "gambling_with_regulated", "related_bidders", "cadre_subsidy",
                      "relative_direct_award", "missing_coverage", "duplicate_benefits")
DEFAULT_KINSHIP = ["SPOUSE_OF", "PARENT_OF", "SIBLING_OF"]

GOOD = """\
id: {id}
title: {{zh: 测试模型, en: A test model}}
description: {{zh: 说明, en: What it finds}}
why: {{zh: 原因, en: Why it matters}}
severity: medium
tags: [工程]
needs:
  labels: [Person, Company]
  types: [LEGAL_REP_OF]
params:
  min_share:
    type: number
    default: 50
cypher: |
  MATCH (p:Person)-[r:LEGAL_REP_OF|SHAREHOLDER_OF]->(c:Company)
  WHERE coalesce(r.share, 100.0) >= $min_share
  RETURN p AS person, c AS company, c.name AS name
subject: person
object: company
explain:
  zh: "{{person.name}}是{{name}}的负责人"
  en: "{{person.name}} runs {{name}}"
fixtures:
  positive:
    nodes:
      - {{key: "Person:a", labels: [Person], name: 张三}}
      - {{key: "Company:c", labels: [Company], name: 某公司}}
    rels:
      - [Person:a, LEGAL_REP_OF, Company:c]
    expect: [[Person:a, Company:c]]
  near_miss:
    nodes:
      - {{key: "Person:a", labels: [Person], name: 张三}}
      - {{key: "Company:c", labels: [Company], name: 某公司}}
    rels:
      - [Person:a, SHAREHOLDER_OF, Company:c, {{share: 10.0}}]
    expect: []
"""


def write(tmp_path, text: str, name: str = "test_model") -> object:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_doctests():
    assert doctest.testmod(library).failed == 0


# -- the shipped library ----------------------------------------------------------------------
def test_the_library_covers_every_model_of_patterns_readme():
    readme = Path(__file__).resolve().parents[1] / "patterns" / "README.md"
    section = readme.read_text(encoding="utf-8").split("## The models", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `(\w+)` \|", section, re.M)
    assert sorted(table) == sorted(CYPHER_MODELS + ALGORITHMIC)
    assert set(pattern_ids()) == set(CYPHER_MODELS) | set(ALGORITHMIC)
    lib = load_library()
    assert all(lib[m].kind == "cypher" for m in CYPHER_MODELS)
    assert lib["official_near_winner"].kind == "algorithm" and lib["official_near_winner"].function


@pytest.mark.parametrize("pid", sorted(CYPHER_MODELS + ALGORITHMIC))
def test_every_shipped_pattern_declares_itself(pid):
    p = load_pattern(pid)
    assert isinstance(p, Pattern) and p.id == pid and p.file.startswith(str(shipped_dir("patterns")))
    assert p.title_zh and p.title_en and p.description_zh and p.description_en and p.why_zh and p.why_en
    assert p.severity in ("high", "medium", "low") and p.tags and p.needs_labels and p.needs_types
    assert p.explain_zh and p.explain_en and p.subject
    names = {f.name for f in p.fixtures}
    assert {"positive", "near_miss"} <= names
    # a positive fixture reports something, a near-miss nothing
    assert all(f.expect for f in p.fixtures if f.name.startswith("positive"))
    assert all(not f.expect for f in p.fixtures if f.name.startswith("near_miss"))
    if p.kind == "cypher":
        # what it needs is what it reads: a missing source then says "insufficient data"
        for label in p.needs_labels:
            assert f":{label}" in p.cypher, label
        for typ in p.needs_types:
            assert typ in p.cypher, typ
    for param in p.params:
        assert param.doc, f"{pid}: parameter {param.name} has no doc"


@pytest.mark.parametrize("pid", [m for m in CYPHER_MODELS + ALGORITHMIC if "kinship" in load_pattern(m).defaults()])
def test_kinship_is_a_parameter_spouse_parent_child_sibling_by_default(pid):
    p = load_pattern(pid)
    assert p.defaults()["kinship"] == DEFAULT_KINSHIP
    assert next(x for x in p.params if x.name == "kinship").type == "text_list"
    if p.kind == "cypher":
        assert "type(k) IN $kinship" in p.cypher
        assert "IN_LAW_OF" in p.cypher and "GRANDPARENT_OF" in p.cypher     # optional, by parameter


def test_the_kinship_models_follow_kinship():
    with_kin = [m for m in CYPHER_MODELS if "kinship" in load_pattern(m).defaults()]
    assert set(with_kin) == {"own_village_project", "relative_beneficiary", "cadre_subsidy", "relative_direct_award"}


@pytest.mark.parametrize("pid", UNCERTAIN_IDENTITY)
def test_uncertain_identity_is_off_by_default_and_has_a_fixture(pid):
    p = load_pattern(pid)
    assert p.defaults()["same_as_min"] is None
    fx = next(f for f in p.fixtures if f.name == "uncertain_identity")
    assert fx.params.get("same_as_min") and any(r[1] == "SAME_AS" for r in fx.rels)


# -- every fixture on both engines, one test body ------------------------------------------------
FIXTURES = [pytest.param(pid, fx.name, id=f"{pid}-{fx.name}") for pid in sorted(CYPHER_MODELS + ALGORITHMIC)
            for fx in load_pattern(pid).fixtures]


@pytest.fixture(params=["duckdb", "neo4j"])
def fixture_engine(request):
    """(engine name, Neo4j target or None): every fixture runs on the embedded engine and on Neo4j."""
    if request.param == "duckdb":
        return "duckdb", None
    from graphwatch.neo4j.connection import Neo4jTarget

    return "neo4j", Neo4jTarget.resolve(request.getfixturevalue("neo4j_ws"))


@pytest.mark.parametrize("pid, name", FIXTURES)
def test_fixture(fixture_engine, pid, name, tmp_path):
    engine, target = fixture_engine
    p = load_pattern(pid)
    fx = next(f for f in p.fixtures if f.name == name)
    result = run_fixture(p, fx, engine=engine, target=target, folder=tmp_path)
    assert result.ok, result.describe()


def _alerts(p, fx, engine, target, folder):
    """Every alert of a fixture as (id, explanation, evidence keys, SAME_AS scores)."""
    from graphwatch.alerts.match import matches, run_pattern
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    ws_dir = folder / f"{p.id}-{fx.name}-{engine}"
    with Workspace(ws_dir, create=True) as ws:
        write_graph(ws, list(fx.nodes), list(fx.rels))
    if engine == "neo4j":
        from graphwatch.neo4j.push import push

        push(ws_dir, target, clear=True)
    with Workspace(ws_dir, read_only=True) as ws:
        same_as = dict(ws.con.execute("SELECT rid, score FROM rel WHERE type = 'SAME_AS'").fetchall())
        keys = dict(ws.con.execute("SELECT nid, key FROM node").fetchall())
        if engine == "duckdb":
            from graphwatch.engines.duckdb import DuckDBEngine

            eng = DuckDBEngine(ws)
        else:
            from graphwatch.engines.neo4j import Neo4jEngine

            eng = Neo4jEngine(ws_dir, target=target)
        with eng:
            found = matches(p, run_pattern(p, eng, ws, p.bind(fx.params)), same_as, schema=ws.schema)
    return sorted((m.id, m.explain_zh, m.explain_en, tuple(sorted(keys[n] for n in (m.focus or m.nodes))),
                   tuple(sorted(s for _, s in m.same_as)), m.date) for m in found)


@pytest.mark.parametrize("pid, name", [f for f in FIXTURES if f.values[0] not in ALGORITHMIC])
def test_alerts_are_the_same_on_neo4j(pid, name, neo4j_ws, tmp_path):
    """Not only the (subject, object) pairs: ids, explanations, evidence and the SAME_AS links
    used. (An algorithmic model runs on the workspace, igraph, whatever the engine.)"""
    from graphwatch.neo4j.connection import Neo4jTarget

    p = load_pattern(pid)
    fx = next(f for f in p.fixtures if f.name == name)
    target = Neo4jTarget.resolve(neo4j_ws)
    assert _alerts(p, fx, "neo4j", target, tmp_path) == _alerts(p, fx, "duckdb", None, tmp_path)


def test_an_uncertain_identity_alert_carries_its_link_and_ranks_below_a_certain_one(tmp_path):
    """The SAME_AS link an alert relied on is recorded with its score; the store ranks it lower."""
    import json
    import sqlite3

    from graphwatch.alerts.runner import run_models
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    p = load_pattern("deceased_beneficiary")
    certain = next(f for f in p.fixtures if f.name == "positive")
    uncertain = next(f for f in p.fixtures if f.name == "uncertain_identity")
    # both graphs in one workspace (keys made distinct)
    nodes = [dict(n) for n in certain.nodes] + [{**n, "key": n["key"] + "-u"} for n in uncertain.nodes]
    rels = [list(r) for r in certain.rels] + [[r[0] + "-u", r[1], r[2] + "-u", *r[3:]] for r in uncertain.rels]
    ws_dir = tmp_path / "ws"
    with Workspace(ws_dir, create=True) as ws:
        write_graph(ws, nodes, rels)
    runs = run_models(ws_dir, ["deceased_beneficiary"], params={"deceased_beneficiary": {"same_as_min": 0.8}})
    assert runs[0].status == "ok" and runs[0].found == 2
    con = sqlite3.connect(ws_dir / "alerts.sqlite")
    rows = {k: (c, r, json.loads(s)) for k, c, r, s in
            con.execute("SELECT subject_key, certainty, rank, same_as FROM alert")}
    con.close()
    assert rows["Person:p"][0] == 1.0 and rows["Person:p"][2] == []
    certainty, rank, links = rows["Person:p-u"]
    assert certainty == pytest.approx(0.9) and len(links) == 1 and links[0][1] == pytest.approx(0.9)
    assert rank < rows["Person:p"][1]
    # by default the link is not followed: one alert only
    assert run_models(ws_dir, ["deceased_beneficiary"])[0].found == 1


# -- files are checked when read -----------------------------------------------------------------
def test_a_valid_file_from_another_folder(tmp_path):
    write(tmp_path, GOOD.format(id="test_model"))
    assert pattern_ids(tmp_path) == ["test_model"]
    p = load_pattern("test_model", folder=tmp_path)
    assert (p.title_en, p.description_zh, p.tags, p.needs_types) == ("A test model", "说明", ("工程",), ("LEGAL_REP_OF",))
    assert p.cypher.startswith("MATCH (p:Person)") and (p.subject, p.object) == ("person", "company")
    assert p.defaults() == {"min_share": 50.0}
    assert [f.name for f in p.fixtures] == ["positive", "near_miss"]
    for fx in p.fixtures:
        assert run_fixture(p, fx, folder=tmp_path / "scratch").ok


@pytest.mark.parametrize("old, new, line, message", [
    ("severity: medium", "severity: urgent", 5, "severity 'urgent' must be one of high, medium, low"),
    ("severity: medium", "severity: medium\nseverty: high", 6, "unknown key 'severty' (did you mean 'severity'?)"),
    ("severity: medium\n", "", 1, "missing required key 'severity'"),
    ("id: test_model", "id: other_model", 1, "id 'other_model' differs from the file name 'test_model.yaml'"),
    ("title: {zh: 测试模型, en: A test model}", "title: {zh: 测试模型}", 2, "title must have exactly 'zh' and 'en'"),
    ("description: {zh: 说明, en: What it finds}", "description: {zh: 说明, en: ''}", 3,
     "description.en must be non-empty text"),
    ("tags: [工程]", "tags: 工程", 6, "tags must be a list"),
    ("  labels: [Person, Company]", "  labels: [Person, Compnay]", 8,
     "needs.labels: unknown label 'Compnay' (did you mean 'Company'?)"),
    ("  types: [LEGAL_REP_OF]", "  types: [LEGAL_REP]", 9, "needs.types: unknown relationship type 'LEGAL_REP'"),
    ("needs:", "needs:\n  nodes: [Person]\n  more:", 8, "needs: unknown key 'nodes'"),
    ("tags: [工程]", "tags: [工程", 7, "invalid YAML"),
    # parameters: typed, declared, used
    ("    type: number", "    type: money", 12, "type 'money' must be one of"),
    ("    default: 50", "    default: fifty", 13, "the default must be a number"),
    ("  WHERE coalesce(r.share, 100.0) >= $min_share", "  WHERE coalesce(r.share, 100.0) >= $min_shares", 16,
     "column 35: parameter $min_shares has no value"),
    ("  WHERE coalesce(r.share, 100.0) >= $min_share", "  WHERE coalesce(r.share, 100.0) >= 50", 11,
     "parameter 'min_share' is never used in the Cypher"),
    # the Cypher: parsed and checked against the schema, errors at the file's line
    ("  RETURN p AS person, c AS company, c.name AS name", "  RETURN p AS person, c AS company, c.nmae AS name", 17,
     "unknown node property 'nmae' (did you mean 'name'?)"),
    # subject, object, templates: columns the Cypher returns
    ("subject: person", "subject: persn", 18, "subject 'persn' must be a column the pattern returns"),
    ("object: company", "object: firm", 19, "object 'firm' must be a column the pattern returns"),
    ('  zh: "{person.name}是{name}的负责人"', '  zh: "{person.name}是{company_name}的负责人"', 21,
     "explain.zh names {company_name}, which the pattern does not return"),
    # fixtures
    ("  near_miss:\n", "  near_mis:\n", 23, "fixtures need at least 'positive'"),
    ("    expect: [[Person:a, Company:c]]", "    expect: [Person:a]", 30,
     "fixture 'positive': expect item 1 must be [subject key, object key]"),
    ("    expect: [[Person:a, Company:c]]", "    expect: [[Person:a, Company:c]]\n    params: {min_shre: 10}", 31,
     "fixture 'positive': model 'test_model' has no parameter 'min_shre'"),
])
def test_errors_name_file_and_line(tmp_path, old, new, line, message):
    good = GOOD.format(id="test_model")
    assert old in good, old
    path = write(tmp_path, good.replace(old, new, 1))
    with pytest.raises(InvalidPattern) as err:
        parse_pattern(path)
    assert err.value.file == str(path) and err.value.line == line, str(err.value)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}, line {line}: ") and "\n" not in str(err.value)


def test_not_a_mapping(tmp_path):
    with pytest.raises(InvalidPattern, match="must be a YAML mapping"):
        parse_pattern(write(tmp_path, "- just a list\n"))


def test_unknown_pattern_id_suggests_a_known_one():
    with pytest.raises(InvalidPattern, match=r"no pattern 'own_village_projects' \(did you mean 'own_village_project'\?\)"):
        load_pattern("own_village_projects")
    with pytest.raises(InvalidPattern, match="no pattern '../loaders/contracts'"):
        load_pattern("../loaders/contracts")


@pytest.mark.parametrize("overrides, message", [
    ({"window_day": 30}, "model 'split_contracts' has no parameter 'window_day' (did you mean 'window_days'?)"),
    ({"window_days": "soon"}, "parameter 'window_days' must be a whole number, got 'soon'"),
    ({"tender_methods": 3}, "parameter 'tender_methods' must be a list of text"),
])
def test_a_bad_parameter_value_is_one_line(overrides, message):
    with pytest.raises(InvalidPattern) as err:
        load_pattern("split_contracts").bind(overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_parameters_are_bound_never_formatted():
    """Every value reaches the engine as a parameter: a value that looks like Cypher stays a value."""
    p = load_pattern("gambling_with_regulated")
    bound = p.bind({"causes": ["赌博' OR 1=1 //"]})
    assert bound["causes"] == ["赌博' OR 1=1 //"]
    fx = next(f for f in p.fixtures if f.name == "positive")
    assert run_fixture(p, fx.__class__(**{**fx.__dict__, "params": {"causes": ["赌博' OR 1=1 //"]},
                                           "expect": frozenset()})).ok


def test_a_county_folder_beside_the_shipped_one(tmp_path):
    write(tmp_path, GOOD.format(id="test_model"))
    lib = load_library([tmp_path])
    assert "test_model" in lib and "own_village_project" in lib
    write(tmp_path, GOOD.format(id="own_village_project"), name="own_village_project")
    with pytest.raises(InvalidPattern, match="pattern id 'own_village_project' is also used by"):
        load_library([tmp_path])


def test_a_model_whose_data_is_not_loaded_says_insufficient_data(tmp_path):
    """A workspace without death records: the model is not run, it says what is missing."""
    from graphwatch.alerts.runner import run_models
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    ws_dir = tmp_path / "ws"
    with Workspace(ws_dir, create=True) as ws:
        write_graph(ws, [{"key": "Person:a", "labels": ["Person"], "name": "张三"}], [])
    run = run_models(ws_dir, ["deceased_beneficiary"])[0]
    assert run.status == "insufficient_data" and "(:DeathRecord)" in run.message and "[:RECEIVES]" in run.message


@pytest.mark.parametrize("cypher_line, used", [
    # an apostrophe in a comment opens no string: the parameter after it is still seen
    ("  // the company's principal\n  WHERE coalesce(r.share, 100.0) >= $min_share", True),
    # a parameter named inside a comment or a string is not a use
    ("  // was: >= $min_share\n  WHERE coalesce(r.share, 100.0) >= 50", False),
    ("  WHERE coalesce(r.share, 100.0) >= 50 AND p.name <> '$min_share'", False),
])
def test_parameter_use_is_read_outside_strings_and_comments(tmp_path, cypher_line, used):
    good = GOOD.format(id="test_model")
    old = "  WHERE coalesce(r.share, 100.0) >= $min_share"
    path = write(tmp_path, good.replace(old, cypher_line, 1))
    if used:
        assert parse_pattern(path).defaults() == {"min_share": 50.0}
    else:
        with pytest.raises(InvalidPattern, match="parameter 'min_share' is never used"):
            parse_pattern(path)
