"""Pattern files are declarations checked when read: every error names the file and line."""

from __future__ import annotations

import doctest
import textwrap

import pytest

from graphwatch.alerts import library
from graphwatch.alerts.library import Pattern, load_pattern, parse_pattern, pattern_ids
from graphwatch.exc import InvalidPattern
from graphwatch.resources import shipped_dir

GOOD = """\
id: {id}
title: {{zh: 测试模型, en: A test model}}
description: {{zh: 说明, en: What it finds}}
severity: medium
tags: [工程]
needs:
  labels: [Person, Company]
  types: [LEGAL_REP_OF]
cypher: |
  MATCH (p:Person)-[:LEGAL_REP_OF]->(c:Company)
  RETURN p.name AS person, c.name AS company
"""


def write(tmp_path, text: str, name: str = "test_model") -> object:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_doctests():
    assert doctest.testmod(library).failed == 0


def test_every_shipped_pattern_loads():
    ids = pattern_ids()
    assert "own_village_project" in ids
    for pid in ids:
        p = load_pattern(pid)
        assert isinstance(p, Pattern) and p.id == pid and p.cypher.strip()
        assert p.file.startswith(str(shipped_dir("patterns")))


def test_own_village_project_declares_what_it_reads():
    p = load_pattern("own_village_project")
    assert p.title_zh == "村干部违规插手本村工程" and p.severity == "high" and "工程" in p.tags
    for label in p.needs_labels:
        assert f":{label})" in p.cypher
    for typ in p.needs_types:
        assert typ in p.cypher
    assert "RETURN DISTINCT o.name AS cadre" in p.cypher


def test_a_valid_file_from_another_folder(tmp_path):
    write(tmp_path, GOOD.format(id="test_model"))
    assert pattern_ids(tmp_path) == ["test_model"]
    p = load_pattern("test_model", folder=tmp_path)
    assert (p.title_en, p.description_zh, p.tags, p.needs_types) == ("A test model", "说明", ("工程",), ("LEGAL_REP_OF",))
    assert p.cypher.startswith("MATCH (p:Person)")


@pytest.mark.parametrize("old, new, line, message", [
    ("severity: medium", "severity: urgent", 4, "severity 'urgent' must be one of high, medium, low"),
    ("severity: medium", "severity: medium\nseverty: high", 5, "unknown key 'severty' (did you mean 'severity'?)"),
    ("severity: medium\n", "", 1, "missing required key 'severity'"),
    ("id: test_model", "id: other_model", 1, "id 'other_model' differs from the file name 'test_model.yaml'"),
    ("title: {zh: 测试模型, en: A test model}", "title: {zh: 测试模型}", 2, "title must have exactly 'zh' and 'en'"),
    ("description: {zh: 说明, en: What it finds}", "description: {zh: 说明, en: ''}", 3,
     "description.en must be non-empty text"),
    ("tags: [工程]", "tags: 工程", 5, "tags must be a list"),
    ("  labels: [Person, Company]", "  labels: [Person, Compnay]", 7,
     "needs.labels: unknown label 'Compnay' (did you mean 'Company'?)"),
    ("  types: [LEGAL_REP_OF]", "  types: [LEGAL_REP]", 8, "needs.types: unknown relationship type 'LEGAL_REP'"),
    ("needs:", "needs:\n  nodes: [Person]\n  more:", 7, "needs: unknown key 'nodes'"),
    ("cypher: |\n  MATCH (p:Person)-[:LEGAL_REP_OF]->(c:Company)\n  RETURN p.name AS person, c.name AS company\n",
     "cypher: ''\n", 9, "cypher must be the pattern's Cypher text"),
    ("tags: [工程]", "tags: [工程", 6, "invalid YAML"),
])
def test_errors_name_file_and_line(tmp_path, old, new, line, message):
    good = GOOD.format(id="test_model")
    assert old in good
    path = write(tmp_path, good.replace(old, new, 1))
    with pytest.raises(InvalidPattern) as err:
        parse_pattern(path)
    assert err.value.file == str(path) and err.value.line == line, str(err.value)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}, line {line}: ")


def test_not_a_mapping(tmp_path):
    with pytest.raises(InvalidPattern, match="must be a YAML mapping"):
        parse_pattern(write(tmp_path, "- just a list\n"))


def test_unknown_pattern_id_suggests_a_known_one():
    with pytest.raises(InvalidPattern, match=r"no pattern 'own_village_projects' \(did you mean 'own_village_project'\?\)"):
        load_pattern("own_village_projects")
    with pytest.raises(InvalidPattern, match="no pattern '../loaders/contracts'"):
        load_pattern("../loaders/contracts")
