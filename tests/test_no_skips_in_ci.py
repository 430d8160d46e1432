"""The rule in conftest.py: a skip outside CI is a skip, under CI (or GRAPHWATCH_REQUIRE_NEO4J)
it is a failure naming the test and its reason. Checked by running pytest on a scratch
project that uses this very conftest.py, once without and once with CI set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRATCH_TESTS = {
    "test_skips.py": '''
import pytest

@pytest.fixture
def java():
    pytest.skip("needs Java: install it to enable")

def test_body_skips():
    pytest.skip("needs Maven: install it to enable")

def test_fixture_skips(java):
    pass

@pytest.mark.skipif(True, reason="marked: set X to enable")
def test_marked():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False

def test_passes():
    pass
''',
    "test_module_skip.py": '''
import pytest
pytest.importorskip("no_such_module_graphwatch_needs")

def test_never_collected():
    pass
''',
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("skips")
    shutil.copy(Path(__file__).parent / "conftest.py", d / "conftest.py")
    for name, text in SCRATCH_TESTS.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def _pytest(folder: Path, *files: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "GRAPHWATCH_REQUIRE_NEO4J", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "--rootdir",
                           str(folder), *files], cwd=folder, env={**base, **env},
                          capture_output=True, text=True, timeout=300)


def test_outside_ci_a_skip_is_a_skip(scratch):
    out = _pytest(scratch, *SCRATCH_TESTS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 4 skipped, 1 xfailed" in out.stdout, out.stdout


@pytest.mark.parametrize("env", ["CI", "GRAPHWATCH_REQUIRE_NEO4J"])
def test_under_ci_every_kind_of_skip_fails(scratch, env):
    out = _pytest(scratch, "test_skips.py", **{env: "1"})
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    # a skip in the body fails the test; one in setup (fixture, mark) is an error, as pytest reports it
    assert "1 failed, 1 passed, 1 xfailed, 2 errors" in out.stdout, text
    for test, reason in (("test_skips.py::test_body_skips", "needs Maven: install it to enable"),
                         ("test_skips.py::test_fixture_skips", "needs Java: install it to enable"),
                         ("test_skips.py::test_marked", "marked: set X to enable")):
        assert f"{test} skipped under {env}=1, where nothing may skip: {reason}" in text, (test, text)


def test_under_ci_a_module_skip_is_a_collection_error(scratch):
    """importorskip at module level: the run stops, as on an import error."""
    out = _pytest(scratch, "test_module_skip.py", CI="true")
    text = out.stdout + out.stderr
    assert out.returncode == 2 and "1 error" in out.stdout, text
    assert ("test_module_skip.py (the whole module) skipped under CI=true, where nothing may skip: "
            "could not import 'no_such_module_graphwatch_needs'") in text, text
