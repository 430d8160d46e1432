"""The commands README.md and docs/loaders.md show, RUN in order as a reader copies them (README
first, on a small county it generates itself with every source kind: CSV in UTF-8, UTF-8 with
BOM, GBK and GB18030, and Excel). Each must exit 0 and print what the document says it prints.

A reader types words of their own where a document shows an example (an alert id, a name in
their county, their own files). ``PLACEHOLDERS`` and ``FILES`` below name every such word and
what this test puts there; nothing else of a command changes. The explorer and the watcher
run until stopped: they start as processes, are checked while they run (the explorer answers
on its port; the watcher loads a file that arrives and prints the new alerts) and are stopped
as a user stops them, with Ctrl-C. The Neo4j commands start, fill, query and stop a real
server (outside CI they skip, saying why, when Java or Maven is missing).

``tests/test_readme_commands.py`` parses every command of every document; this test runs them.
Each command is one test item, so a failure names the command; the commands themselves run
once, in order, in a session fixture.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from app_support import answers, free_port
from docblocks import write_files
from test_readme_commands import shown_commands

from graphwatch.alerts.library import load_library
from graphwatch.alerts.store import AlertStore
from graphwatch.cli import main
from graphwatch.store import Workspace

ROOT = Path(__file__).resolve().parents[1]
PERSONS = "1000"

# Words of README.md that stand for the reader's own; what the test puts there. The values are
# learned from what earlier commands printed or wrote, as a reader learns them.
PLACEHOLDERS = {
    "100000": f"{PERSONS}: a small county (generate --persons)",
    "ALERT_ID": "the first own_village_project alert 'alerts list' prints",
    "张建国": "that alert's cadre (its subject)",
    "东村建筑有限公司": "the company in that alert's evidence",
    "Person:140105195006060516": "that cadre's entity key (review --show / --unmerge)",
    "household_registry/household_registry.csv#908": "record A of the first pair 'review' lists",
    "benefit_rolls/benefit_rolls.csv#FF0000001825": "record B of that pair",
    "A": "record A of that pair (review --not-same A B)",
    "B": "record B of that pair",
    "8600": "the explorer's port: 8600 when free, else a free one",
}
# 'graphwatch app' without --port listens on 8501: when another explorer holds it, the test
# adds '--port N' (a free port) rather than fail on a busy machine.
# Folders and files the commands name that a reader has of their own.
FILES = {
    "new_county/, my_mappings/": "docs/loaders.md's worked example (a county's files and its own mapping), "
                                 "written from that document",
    "rolls.db": "an SQLite database with table roll: the first 100 rows of the county's benefit roll",
    "drop/": "empty; the county's death register (data/county/death_records.xlsx, held back from the first "
             "load) arrives in it while 'watch' runs",
    "my_models/": "a county's own model: a copy of patterns/own_village_project.yaml",
    "neo4j-export/ (docs/loaders.md)": "tests/data/neo4j_admin/county, a neo4j-admin import folder",
}

README = shown_commands("README.md")
LOADERS = shown_commands("docs/loaders.md")
NEO4J_HOWTO = ("the Neo4j commands need Java 17 and Maven (the server's jars come from Maven Central): "
               "'make setup' installs them")


@dataclass
class Ran:
    argv: list[str]
    output: str = ""
    problem: str = ""            # why the command failed or printed the wrong thing
    skipped: str = ""            # why it did not run (outside CI only)
    seconds: float = 0.0


@dataclass
class Reader:
    """The reader's folder and the words they learned so far."""
    home: Path
    words: dict[str, str] = field(default_factory=dict)
    held: Path | None = None

    def argv(self, argv: list[str]) -> list[str]:
        out = [self.words.get(a, a) for a in argv]
        if argv[:1] == ["generate"]:
            out = [PERSONS if a == "100000" else a for a in out]
        expanded = []
        for a in out:                                   # the shell expands globs
            hits = sorted(glob.glob(a)) if "*" in a and "MATCH" not in a else []
            expanded.extend(hits or [a])
        return expanded


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _gw(argv: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(main, argv)
    extra = ""
    if res.exception and not isinstance(res.exception, SystemExit):
        extra = f"\n{type(res.exception).__name__}: {res.exception}"
    return res.exit_code, res.output + extra


class Background:
    """A long-running command as a user runs it in a terminal: its own process group, output
    read as it comes, stopped with Ctrl-C (SIGINT to the group)."""

    def __init__(self, argv: list[str]):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "graphwatch.cli", *argv], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.output)
            if m:
                return m
            if self.proc.poll() is not None:
                time.sleep(0.2)                       # the reader thread drains the last lines
                m = re.search(pattern, self.output)
                if m:
                    return m
                raise AssertionError(f"exited ({self.proc.returncode}) before printing {pattern!r}")
            time.sleep(0.2)
        raise AssertionError(f"did not print {pattern!r} within {timeout:.0f} s")

    def ctrl_c(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"still running {timeout:.0f} s after Ctrl-C") from None


# -- what each command must print (README.md) ------------------------------------------------
def _ids_in(text: str) -> list[str]:
    return re.findall(r"\b([a-z_]+-[0-9a-f]{12})\b", text)


def _learn_alert(r: Reader, out: str) -> None:
    """ALERT_ID and the names of its cadre and company, as a reader takes them from the queue."""
    alert_id = next((a for a in _ids_in(out) if a.startswith("own_village_project-")), None)
    assert alert_id, "no own_village_project alert in the queue"
    with AlertStore(r.home / "ws") as store:
        alert = store.get(alert_id)
    company = next(n["properties"]["name"] for n in alert["evidence"]["nodes"] if "Company" in n["labels"])
    r.words.update({"ALERT_ID": alert_id, "张建国": alert["subject_name"], "东村建筑有限公司": company,
                    "Person:140105195006060516": alert["subject_key"]})


def _learn_pair(r: Reader) -> None:
    from graphwatch.resolve import review_queue

    with Workspace(r.home / "ws", read_only=True) as ws:
        queue = review_queue(ws, limit=1)
    assert len(queue), "the review queue is empty: nothing to explain or judge"
    a, b = queue.iloc[0]["a"], queue.iloc[0]["b"]
    r.words.update({"household_registry/household_registry.csv#908": a, "benefit_rolls/benefit_rolls.csv#FF0000001825": b,
                    "A": a, "B": b})


def check_readme(r: Reader, argv: list[str], out: str) -> None:
    """What README.md says the command prints or does; learns the words later commands need."""
    cmd = tuple(a for a in argv[:2] if not a.startswith("-"))
    ws = r.home / "ws"
    flat = " ".join(out.split())
    if cmd[0] == "generate":
        county = r.home / "data/county"
        for name in ("officials_roster.xlsx", "tenders.xlsx", "death_records.xlsx"):
            assert (county / name).read_bytes()[:2] == b"PK", f"{name} is no Excel file"
        assert (county / "_truth/ground_truth.csv").exists()
        r.held = r.home / "held_back"
        r.held.mkdir()
        shutil.move(county / "death_records.xlsx", r.held / "death_records.xlsx")        # arrives in drop/ later
    elif cmd[0] == "load":
        assert "rows read = loaded + quarantined" in flat, "no per-file accounting"
        dataset = {"data/county": "officials_roster/officials_roster.xlsx", "new_county/": "dibao_ledger/",
                   "sqlite:///rolls.db#roll": "benefit_rolls/rolls.db#roll"}[argv[1]]
        assert dataset in out, f"{dataset} not in the accounting"
        if argv[1] == "sqlite:///rolls.db#roll":
            assert re.search(r"benefit_rolls/rolls\.db#roll\s+│ \S+\s+│ \S+\s+│\s+100 │\s+100 │\s+0 │", out), out
    elif cmd == ("mappings", "check"):
        assert "dibao_ledger" in out and "低保发放台账_2024.csv" in out and "区划.csv" in out and "divisions" in out
    elif cmd[0] == "stats":
        with Workspace(ws, read_only=True) as w:
            persons = w.counts()["labels"]["Person"]
        assert re.search(rf"\(:Person\)\s+│ 人员\s+│\s+{persons:,} │", out) and "Quarantine" in out
    elif cmd[0] == "quarantine":
        assert "no quarantined rows" in out or ", line " in out
    elif cmd == ("patterns", "list"):
        models = load_library()
        assert all(m in out for m in models), "a model is missing"
        assert re.search(rf"the {len(models)} models", (ROOT / "README.md").read_text(encoding="utf-8")), \
            f"the README does not say 'the {len(models)} models'"
    elif cmd[0] == "run" and len(argv) == 3:                   # run --workspace ws: every model
        assert (ws / "alerts.sqlite").exists() and "new alert(s)" in out
        if "ALERT_ID" not in r.words:                           # the first run: no death register loaded yet
            assert re.search(r"deceased_beneficiary\s.*insufficient data", out), "no 'insufficient data'"
    elif cmd[0] == "run":
        assert "own_village_project" in out
    elif cmd == ("alerts", "list"):
        _learn_alert(r, out)
        with AlertStore(ws) as store:
            ranks = [store.get(a)["rank"] for a in _ids_in(out)]
        assert ranks == sorted(ranks, reverse=True), "the queue is not highest rank first"
    elif cmd == ("alerts", "show"):
        with AlertStore(ws) as store:
            alert = store.get(r.words["ALERT_ID"])
        assert alert["subject_name"] in out and "evidence" in out
        ident = alert["subject_ident"]
        assert ident not in out and f"{ident[:4]}**********{ident[-4:]}" in out, "the ID is not masked"
    elif cmd == ("alerts", "verdict"):
        with AlertStore(ws) as store:
            alert, history = store.get(r.words["ALERT_ID"]), store.history(r.words["ALERT_ID"])
        assert "confirmed" in out and alert["status"] == "confirmed" and history[-1]["who"] == "李四"
    elif cmd == ("alerts", "precision"):
        assert "查实率" in out and re.search(r"own_village_project\s+│\s+\d+ │\s+\d+ │\s+1 │", out)
    elif cmd == ("alerts", "trends"):
        assert "per year" in out and re.search(r"│ 20\d\d │", out)
    elif cmd[0] == "evaluate":
        assert all(w in out for w in ("recall", "precision", "planted", "own_village_project"))
    elif cmd[0] == "paths":
        assert "path(s)" in out and r.words["张建国"] in flat and r.words["东村建筑有限公司"] in flat
    elif cmd[0] == "neighbours":
        assert r.words["张建国"] in out
    elif cmd[0] == "communities":
        assert "(Person)" in out
    elif cmd[0] == "export":
        path = r.home / argv[argv.index("-o") + 1]
        assert f"wrote {path.name}" in out and "masked" in out
        assert path.read_bytes()[:5] == b"%PDF-" if path.suffix == ".pdf" else b"<svg" in path.read_bytes()
    elif cmd[0] == "resolve":
        assert "entity resolution" in out
        if "--train" in argv:
            assert "(trained now)" in out and (ws / "resolve/person_model.json").exists()
    elif cmd[0] == "review":
        if "--explain" in argv:
            assert "probability" in out and "name" in out
        elif "--not-same" in argv:
            assert "not same" in flat, "the judgement is not reported"
        elif "--show" in argv:
            assert r.words["张建国"] in out and "household_registry/household_registry.csv#" in out
        elif "--unmerge" in argv:
            assert re.search(r"split into its \d+ source records", out)
        else:
            assert "review queue" in out
            _learn_pair(r)
    elif cmd[0] == "query" and "--engine" not in argv:
        assert re.search(r"cadre\s+┃ relative\s+┃ company\s+┃ project", out), "not the four columns"
        assert re.search(r"[1-9]\d* rows?", out), "no row"
    elif cmd[0] == "query":
        assert re.search(r"o\.name\s+┃ s\.name", out) and "5 rows" in out
    elif cmd == ("patterns", "validate"):
        assert "1 of 1 pattern file(s) valid" in out
    elif cmd == ("patterns", "test"):
        m = re.search(r"(\d+) of (\d+) fixture run\(s\) passed", out)
        assert m and m[1] == m[2] and int(m[2]) > 13
    elif cmd == ("patterns", "show"):
        assert "MATCH" in out and "param kinship" in out and "subject: cadre" in out
    elif cmd == ("neo4j", "start"):
        assert "Neo4j started at bolt://127.0.0.1:" in out and (ws / "neo4j/password").exists()
    elif cmd == ("neo4j", "push"):
        assert "counts match the workspace" in out
    elif cmd == ("neo4j", "status"):
        assert "running at bolt://127.0.0.1:" in out
    elif cmd == ("neo4j", "stop"):
        assert "Neo4j stopped" in out
    else:
        raise AssertionError(f"no check for 'graphwatch {' '.join(argv[:2])}': add what the README says it prints")


def run_app(r: Reader, argv: list[str]) -> str:
    """``graphwatch app``: it prints its address, answers there, and Ctrl-C stops it."""
    documented = int(argv[argv.index("--port") + 1]) if "--port" in argv else 8501
    port = documented if _port_free(documented) else free_port()
    if port != documented:
        argv = [a for i, a in enumerate(argv) if "--port" not in argv[max(i - 1, 0):i + 1]] + ["--port", str(port)]
    bg = Background(argv)
    try:
        bg.wait_for(rf"graphwatch explorer: http://127\.0\.0\.1:{port}\b", 60)
        assert answers(port, 90), "the explorer did not answer"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        code = bg.ctrl_c()
    assert code == 0, f"exit {code} after Ctrl-C"
    return bg.output


def run_watch(r: Reader, argv: list[str]) -> str:
    """``graphwatch watch``: a file that arrives is loaded and its new alerts are printed; Ctrl-C stops it."""
    drop = r.home / argv[1]
    bg = Background(argv)
    try:
        bg.wait_for(r"watching drop/? every", 60)
        shutil.copy(r.held / "death_records.xlsx", drop / "death_records.xlsx")
        bg.wait_for(r"loaded death_records/death_records\.xlsx: [\d,]+ of [\d,]+ rows", 90)
        bg.wait_for(r"new deceased_beneficiary-[0-9a-f]{12} ", 90)
        time.sleep(0.5)                                  # the round's last alerts
    finally:
        code = bg.ctrl_c()
    assert "stopped" in bg.output and code == 0, f"exit {code} after Ctrl-C"
    return bg.output


def _neo4j_missing() -> str:
    missing = [t for t in ("java", "mvn") if not shutil.which(t)]
    return f"{' and '.join(missing)} not found on PATH; {NEO4J_HOWTO}" if missing else ""


def _prepare_readme_files(home: Path) -> None:
    example = home / "loaders-example"
    write_files("docs/loaders.md", example)
    shutil.copytree(example / "new-county", home / "new_county")
    shutil.copytree(example / "my-mappings", home / "my_mappings")
    (home / "drop").mkdir()
    (home / "my_models").mkdir()
    shutil.copy(ROOT / "patterns/own_village_project.yaml", home / "my_models")


def _make_rolls_db(home: Path) -> None:
    import csv

    with open(home / "data/county/benefit_rolls.csv", encoding="gbk", newline="") as f:
        rows = list(csv.reader(f))[:101]
    con = sqlite3.connect(home / "rolls.db")
    con.execute(f"CREATE TABLE roll ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in rows[0])})")
    con.executemany(f"INSERT INTO roll VALUES ({', '.join('?' * len(rows[0]))})", rows[1:])
    con.commit()
    con.close()


@pytest.fixture(scope="session")
def reader_and_run(tmp_path_factory) -> tuple[Reader, list[Ran]]:
    """Every README command, in order, in one reader's folder."""
    r = Reader(tmp_path_factory.mktemp("reader"))
    _prepare_readme_files(r.home)
    ran, started = [], time.time()
    try:
        with contextlib.chdir(r.home):
            for argv in README:
                rec = Ran(argv)
                ran.append(rec)
                if argv[0] == "neo4j" or "--engine neo4j" in " ".join(argv):
                    if (why := _neo4j_missing()) and not os.environ.get("CI"):
                        rec.skipped = why
                        continue
                t = time.time()
                real = r.argv(argv)
                rec.argv = real
                try:
                    if argv[0] == "app":
                        rec.output = run_app(r, real)
                    elif argv[0] == "watch":
                        rec.output = run_watch(r, real)
                    else:
                        code, rec.output = _gw(real)
                        if code:
                            raise AssertionError(f"exit {code}")
                        check_readme(r, real, rec.output)
                    if argv[0] == "generate":
                        _make_rolls_db(r.home)
                except (AssertionError, KeyError, OSError, StopIteration) as exc:
                    rec.problem = f"{type(exc).__name__}: {exc}" if not isinstance(exc, AssertionError) else str(exc)
                rec.seconds = time.time() - t
    finally:
        with contextlib.suppress(Exception):
            from graphwatch.neo4j import server

            if server.status(r.home / "ws").get("running"):
                server.stop(r.home / "ws")
    print(f"\nREADME commands run in {time.time() - started:.0f} s: "
          + ", ".join(f"{' '.join(x.argv[:2])} {x.seconds:.1f}" for x in ran if x.seconds > 3))
    return r, ran


@pytest.fixture(scope="session")
def readme_run(reader_and_run) -> list[Ran]:
    return reader_and_run[1]


def _report(rec: Ran) -> None:
    if rec.skipped:
        pytest.skip(rec.skipped)
    if rec.problem:
        pytest.fail(f"graphwatch {' '.join(rec.argv)}\n  {rec.problem}\n--- output ---\n{rec.output[-3000:]}")


def _id(i: int, argv: list[str]) -> str:
    words = [argv[0]] + [a for a in argv[1:2] if a.isascii() and "\n" not in a and len(a) < 30]
    return f"{i:02d} {' '.join(words)}"


@pytest.mark.parametrize("i", range(len(README)), ids=[_id(i, a) for i, a in enumerate(README)])
def test_readme_command_runs(readme_run, i):
    _report(readme_run[i])


def test_every_placeholder_was_used(reader_and_run):
    """A placeholder the README no longer shows is stale here: remove it (and vice versa, a
    new example word fails its command's test); every one was learned from what ran."""
    shown = {a for argv in README for a in argv}
    assert set(PLACEHOLDERS) <= shown, set(PLACEHOLDERS) - shown
    learned = set(reader_and_run[0].words) | {"100000", "8600"}      # those two are set where they are used
    assert set(PLACEHOLDERS) <= learned, set(PLACEHOLDERS) - learned


# -- docs/loaders.md --------------------------------------------------------------------------
def check_loaders(argv: list[str], out: str, shown_quarantine: list[str]) -> None:
    flat = " ".join(out.split())
    if argv[:2] == ["mappings", "check"]:
        assert re.search(r"new-county/低保发放台账_2024\.csv\s+│ dibao_ledger ", out)
        assert re.search(r"new-county/区划\.csv\s+│ divisions ", out)
    elif argv[0] == "load" and argv[1] == "new-county":
        assert re.search(r"divisions/区划\.csv\s+│ csv\s+│ utf-8\s+│\s+5 │\s+5 │\s+0 │", out)     # 5 read = 5 loaded
        assert re.search(r"dibao_ledger/低保发放台账_2024\.csv\s+│ csv\s+│ \S+\s+│\s+6 │\s+4 │\s+2 │", out)
    elif argv[0] == "quarantine":
        got = [line.split("new-county/", 1)[1] for line in out.splitlines() if line.startswith("new-county/")]
        assert got == shown_quarantine, f"the document shows {shown_quarantine}"
    elif argv[0] == "query":
        rows = re.findall(r"│ (\S+)\s+│ (\S+)\s+│ (\d+)\s+│", out)
        assert rows == [("城关镇", "东村", "2"), ("城关镇", "西村", "1"), ("河西乡", "东村", "1")], rows
    elif argv[0] == "load" and "--infer-schema" in argv:
        assert "rows read = loaded + quarantined" in flat and "workspace schema from neo4j-export/" in out
        assert (Path(argv[argv.index("--workspace") + 1]) / "schema.yaml").exists()
    else:
        raise AssertionError(f"no check for 'graphwatch {' '.join(argv[:2])}'")


def test_loaders_md_commands_run_in_order(tmp_path, monkeypatch):
    from docblocks import blocks

    write_files("docs/loaders.md", tmp_path)
    shutil.copytree(ROOT / "tests/data/neo4j_admin/county", tmp_path / "neo4j-export")
    shown = next(b.text for b in blocks("docs/loaders.md") if b.lang == "text" and "unknown village 北村" in b.text)
    monkeypatch.chdir(tmp_path)
    assert [a[:2] for a in LOADERS][:4] == [["mappings", "check"], ["load", "new-county"], ["query", LOADERS[2][1]],
                                            ["quarantine", "--workspace"]], "the worked example's commands changed"
    for argv in LOADERS:
        code, out = _gw(argv)
        assert code == 0, f"graphwatch {' '.join(argv)}: exit {code}\n{out[-3000:]}"
        try:
            check_loaders(argv, out, shown.strip().splitlines())
        except AssertionError as exc:
            raise AssertionError(f"graphwatch {' '.join(argv)}: {exc}\n--- output ---\n{out[-3000:]}") from None
