"""Continuous mode: files dropped into a folder are loaded once, the models run, only new
alerts are reported; a watcher killed mid-load carries on at the next start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphwatch.alerts.watch import Watcher, pending
from graphwatch.cli import main
from graphwatch.store import Workspace
from graphwatch.synth import generate_county

LATER = ("contracts.csv", "projects.csv", "tenders.xlsx", "bids.csv")   # the procurement files arrive last


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("watch") / "county"
    generate_county(out, persons=3000, seed=4)
    return out


def _drop(county: Path, drop: Path, names) -> None:
    for name in names:
        shutil.copy(county / name, drop / name)


def _loads(ws: Path) -> dict[str, int]:
    with Workspace(ws, read_only=True) as w:
        return dict(w.con.execute("SELECT source, count(*) FROM load_report GROUP BY source").fetchall())


def test_files_load_once_and_only_new_alerts_are_reported(county, tmp_path):
    drop, ws = tmp_path / "drop", tmp_path / "ws"
    drop.mkdir()
    first = [f.name for f in county.iterdir() if f.is_file() and f.name not in LATER]
    _drop(county, drop, first)
    w = Watcher(ws, drop, models=["own_village_project"])
    assert w.look().loaded == []                  # just arrived: wait for the files to settle
    rnd = w.look()
    assert {Path(r.source).name for r in rnd.loaded} == set(first)
    assert [r.status for r in rnd.runs] == ["insufficient_data"] and rnd.new_alerts == []
    _drop(county, drop, LATER)
    rnd = w.look(settle=False)
    assert {Path(r.source).name for r in rnd.loaded} == set(LATER)
    assert rnd.new_alerts and all(a["model"] == "own_village_project" for a in rnd.new_alerts)
    again = w.look(settle=False)                  # nothing new: nothing loaded, nothing reported
    assert again.loaded == [] and again.runs == [] and again.new_alerts == []
    assert set(_loads(ws).values()) == {1}
    # a changed file loads again (replacing what it said); an unchanged one does not
    (drop / "bids.csv").write_bytes((drop / "bids.csv").read_bytes() + b"\n")
    assert [p.name for p in pending(ws, drop)] == ["bids.csv"]


def test_a_bad_file_does_not_hold_back_the_others(county, tmp_path):
    drop, ws = tmp_path / "drop", tmp_path / "ws"
    drop.mkdir()
    _drop(county, drop, ["divisions.csv", "organisations.csv"])
    bad_bytes = (Path(__file__).parent / "data" / "bad" / "household_undecodable.csv").read_bytes()
    (drop / "household_registry_bad.csv").write_bytes(bad_bytes)          # claimed, but unreadable
    (drop / "notes.csv").write_text("说明,内容\n甲,乙\n", encoding="utf-8")  # claimed by no mapping
    rnd = Watcher(ws, drop).look(settle=False)
    assert {Path(r.source).name for r in rnd.loaded if r.rows_read} == {"divisions.csv", "organisations.csv"}
    assert [Path(r.source).name for r in rnd.loaded if r.format == "skipped"] == ["notes.csv"]
    (bad, message), = rnd.failed
    assert bad.name == "household_registry_bad.csv" and "unreadable encoding" in message


def test_a_watcher_killed_mid_load_carries_on_and_loads_nothing_twice(county, tmp_path):
    drop, ws = tmp_path / "drop", tmp_path / "ws"
    drop.mkdir()
    _drop(county, drop, ["divisions.csv", "organisations.csv", "household_registry.csv"])
    marker = tmp_path / "paused"
    env = {**os.environ, "GRAPHWATCH_TEST_PAUSE": "before_commit", "GRAPHWATCH_TEST_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "graphwatch.cli", "watch", str(drop), "-w", str(ws), "--once"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the watcher never reached the commit"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not ws.exists() or _loads(ws) == {}
    res = CliRunner().invoke(main, ["watch", str(drop), "-w", str(ws), "--once", "--model", "own_village_project"])
    assert res.exit_code == 0, res.output
    assert "loaded household_registry/household_registry.csv" in res.output
    assert set(_loads(ws).values()) == {1} and len(_loads(ws)) == 3
    res = CliRunner().invoke(main, ["watch", str(drop), "-w", str(ws), "--once"])
    assert res.exit_code == 0 and "loaded" not in res.output
