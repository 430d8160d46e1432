"""The notebooks run from top to bottom on a small county, as a user would run them
(their outputs are not committed; every cell's own asserts must hold)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01_quick_start.ipynb", "02_write_your_own_model.ipynb"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch, request):
    if "neo4j" in path.read_text(encoding="utf-8"):
        request.getfixturevalue("java_and_maven")        # the second notebook starts a Neo4j server
    monkeypatch.setenv("GRAPHWATCH_NB_DIR", str(tmp_path))
    monkeypatch.setenv("GRAPHWATCH_NB_PERSONS", "3000")
    nb = nbformat.read(path, as_version=4)
    # the kernel inherits this process's environment (the variables above, PYTHONPATH …)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
