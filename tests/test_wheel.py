"""graphwatch as a user installs it: the wheel built from this checkout, installed with the
lock file's exact versions into a fresh virtual environment outside the checkout.

Nothing here may read the checkout: every command runs from a temporary folder with the
fresh environment's own ``graphwatch`` script, so a data file the wheel forgot to ship
(a mapping, the grammar, the schema, the resolution model, a pattern) fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graphwatch.cli import main

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "runtime.lock"


def _run(cmd: list, *, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, ROOT], cwd=out)
    wheels = list(out.glob("graphwatch-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh environment: the locked runtime dependencies, then the wheel without resolving again."""
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    _run([sys.executable, "-m", "venv", env_dir], cwd=home)
    py = env_dir / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--require-hashes", "-r", LOCK], cwd=home)
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", wheel], cwd=home)
    _run([py, "-m", "pip", "check"], cwd=home)
    return env_dir


def test_wheel_ships_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "graphwatch", "graphwatch_app", "loaders", "patterns"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked, "git ls-files found nothing: run the tests from a git checkout"
    want = set()
    for f in tracked:
        if f.endswith(".py") and f.startswith(("graphwatch/", "graphwatch_app/")):
            want.add(f)
        elif f.startswith(("loaders/", "patterns/")):
            want.add("graphwatch/" + f)
        else:
            want.add(f)          # schema.yaml, grammar.lark, person_model.json, launcher sources …
    missing = sorted(want - names)
    assert not missing, f"the wheel lacks {missing}"
    assert any(n.startswith("graphwatch/loaders/") and n.endswith(".yaml") for n in names)


def test_installed_package_is_not_the_checkout(venv, tmp_path):
    out = _run([venv / "bin" / "python", "-c", "import graphwatch, graphwatch.resources as r; "
                "print(graphwatch.__file__); print(r.shipped_dir('loaders')); print(r.shipped_dir('patterns'))"],
               cwd=tmp_path).stdout.split()
    assert all(str(venv) in line for line in out), out
    assert not any(str(ROOT) in line for line in out), out


COMMANDS = sorted(main.commands) + sorted(f"{g} {sub}" for g, cmd in main.commands.items()
                                          for sub in getattr(cmd, "commands", {}))


def test_every_command_has_help_from_the_wheel(venv, tmp_path):
    script = venv / "bin" / "graphwatch"
    assert "Example:" in _run([script, "--help"], cwd=tmp_path).stdout
    for name in COMMANDS:
        out = _run([script, *name.split(), "--help"], cwd=tmp_path).stdout
        assert f"graphwatch {name}" in out, (name, out)


def test_demo_runs_from_the_wheel(venv, tmp_path):
    out = _run([venv / "bin" / "graphwatch", "demo", "--persons", "1500", "--dir", tmp_path / "demo"],
               cwd=tmp_path).stdout
    assert "rows read = loaded + quarantined" in out
    found = re.search(r"the generator planted (\d+) violation\(s\): (\d+) found, (\d+) of (\d+) near-misses", out)
    assert found, out[-2000:]
    planted, hits, false_alarms, _ = map(int, found.groups())
    assert planted > 0 and hits == planted and false_alarms == 0
    assert (tmp_path / "demo" / "workspace" / "graph.duckdb").exists()
    assert f"graphwatch app --workspace {tmp_path / 'demo' / 'workspace'}" in out


def test_explorer_starts_from_the_wheel(venv, tmp_path):
    """'graphwatch app' from the installed wheel serves the explorer on 127.0.0.1 (its entry
    file and views come from the wheel's graphwatch_app package, not the checkout)."""
    import socket
    import time
    import urllib.request

    ws = tmp_path / "ws"
    _run([venv / "bin" / "python", "-c", f"from graphwatch.store import Workspace; Workspace({str(ws)!r}, create=True).close()"],
         cwd=tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.Popen([venv / "bin" / "graphwatch", "app", "--workspace", ws, "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        deadline, health = time.time() + 60, b""
        while time.time() < deadline and health != b"ok":
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
            except OSError:
                time.sleep(0.3)
        assert health == b"ok"
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    out = _run([venv / "bin" / "python", "-c", "import graphwatch_app; print(graphwatch_app.ENTRY)"], cwd=tmp_path).stdout
    assert str(venv) in out and str(ROOT) not in out
