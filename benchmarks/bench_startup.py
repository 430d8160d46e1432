"""CLI start-up: ``graphwatch query "RETURN 1" -w WS`` as a user runs it, against the floors.

The CLI is timed **installed**: the wheel built from the checkout (``pip wheel``, as
``tests/test_wheel.py`` builds it) goes into a fresh virtual environment in
``benchmarks/work/startup/`` whose dependencies are this interpreter's (a ``.pth`` line), so
its modules are byte-compiled at install time like a user's and nothing of the checkout is
on its path. ``--against REV`` builds a second environment from the commit REV (``git
archive``) and times it in the same run, each round alternating the commands, so a noisy
machine weighs on both alike.

Commands, each a fresh process, stdout to a pipe (not a terminal, as in a script):

* floors, with the environment's Python: ``-c pass``, ``-c "import click"``,
  ``-c "import duckdb"``, ``-c "import duckdb, click"`` (what any DuckDB CLI in Python pays),
  and the same opening the workspace's database read-only and running ``SELECT 1`` (what a
  query on the workspace cannot avoid: the physical limit);
* ``graphwatch query "RETURN 1" -w WS`` on a small generated county (1,000 persons,
  ``graphwatch generate`` + ``load``, made once in ``benchmarks/work/startup/ws``);
* with ``--workspace WS``, the same query on a larger loaded workspace (read-only: a prepared
  county may be given);
* ``graphwatch --help`` (loads every command's module to list them);
* ``python -m graphwatch.cli query "RETURN 1" -w WS`` from the checkout with this process's
  environment (``PYTHONDONTWRITEBYTECODE`` set here means it compiles graphwatch's sources on
  every start: the developer's figure, not the user's).

Median and p90 of ``--runs`` rounds (after one warm-up round), and the ratios of the query's
median to the floors. Goal (issue 16): ≤ 0.15 s.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_startup.py [--runs 30] [--against REV] [--workspace WS] [--record]

``--record`` replaces this benchmark's block of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "startup"
sys.path.insert(0, str(HERE))
from common import commit, machine, record_block  # noqa: E402


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True, **kw)


def _clean_env() -> dict:
    """The environment of a user's shell: no checkout on the path, no virtualenv variables."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def install(source: Path, name: str) -> Path:
    """A virtual environment holding the wheel built from ``source``; its ``bin`` folder."""
    env_dir = WORK / f"venv-{name}"
    shutil.rmtree(env_dir, ignore_errors=True)
    dist = WORK / f"dist-{name}"
    shutil.rmtree(dist, ignore_errors=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source],
         env=_clean_env())
    (wheel,) = dist.glob("graphwatch-*.whl")
    _run([sys._base_executable, "-m", "venv", "--without-pip", env_dir])
    py = env_dir / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the dependencies: this interpreter's site-packages, after the environment's own (so the
    # installed graphwatch, not an editable one, is imported)
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip byte-compiles what it installs, as for a user
    _run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", "--no-index",
          "--disable-pip-version-check", wheel], env=_clean_env())
    where = _run([py, "-c", "import graphwatch; print(graphwatch.__file__)"], env=_clean_env(), cwd=WORK).stdout
    assert str(env_dir) in where, f"{name}: graphwatch imported from {where}"
    return env_dir / "bin"


def source_of(rev: str) -> Path:
    """The files of commit ``rev`` (``git archive``), to build its wheel."""
    out = WORK / f"src-{rev}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    tar = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(out)
    return out


def workspace(bin_dir: Path) -> Path:
    """A small loaded county (made once)."""
    ws = WORK / "ws"
    if not (ws / "graph.duckdb").exists():
        shutil.rmtree(ws, ignore_errors=True)
        county = WORK / "county"
        shutil.rmtree(county, ignore_errors=True)
        _run([bin_dir / "graphwatch", "generate", "--persons", "1000", "--seed", "7", "--out", county],
             env=_clean_env(), cwd=WORK)
        _run([bin_dir / "graphwatch", "load", county, "-w", ws], env=_clean_env(), cwd=WORK)
    return ws


def time_once(cmd: list, env: dict) -> float:
    t = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=WORK, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr.decode()[-2000:]}")
    return took


#: the query path in steps, in the order the CLI takes them (a module shared by two steps counts
#: in the first); one fresh process per sample, printing one line of milliseconds
PHASES = ("click + graphwatch.cli.query", "import duckdb", "import graphwatch.cypher", "the engine module",
          "open the workspace", "first parse (LALR tables)", "compile + run", "rich console + table")
PHASE_SCRIPT = """
import sys, time
t = [time.perf_counter()]
def mark(): t.append(time.perf_counter())
import click, graphwatch.cli, graphwatch.cli.query; mark()
import duckdb; mark()
import graphwatch.cypher; mark()
from graphwatch.engines.duckdb import DuckDBEngine; mark()
eng = DuckDBEngine(sys.argv[1]); mark()
from graphwatch.cypher.parser import parse; parse("RETURN 2"); mark()
eng.run("RETURN 1"); mark()
import rich.console, rich.table; mark()
print(" ".join(f"{1000 * (b - a):.2f}" for a, b in zip(t, t[1:])))
"""


def p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10, method="inclusive")[-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--against", metavar="REV", help="also time the CLI installed from this commit")
    ap.add_argument("--workspace", type=Path, action="append", default=[], metavar="WS",
                    help="also time the query on this (larger) workspace, opened read-only (repeatable)")
    ap.add_argument("--record", action="store_true", help="replace this benchmark's block of benchmarks/RESULTS.md")
    a = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    WORK.mkdir(parents=True, exist_ok=True)
    started, where, rev = dt.datetime.now().strftime("%Y-%m-%d %H:%M"), machine(), commit()
    log("building and installing the wheel of the checkout …")
    bins = {"this checkout": install(ROOT, "head")}
    if a.against:
        log(f"… and of {a.against}")
        bins[a.against] = install(source_of(a.against), "against")
    ws = workspace(bins["this checkout"])
    user, dev = _clean_env(), {**os.environ, "PYTHONPATH": str(ROOT)}
    py = bins["this checkout"] / "python"
    q = ["query", "RETURN 1", "-w", ws]
    cmds = {
        "python -c pass": ([py, "-c", "pass"], user),
        'python -c "import click"': ([py, "-c", "import click"], user),
        'python -c "import duckdb"': ([py, "-c", "import duckdb"], user),
        'python -c "import duckdb, click"': ([py, "-c", "import duckdb, click"], user),
        "import duckdb, click + open WS read-only + SELECT 1": (
            [py, "-c", "import sys, duckdb, click; duckdb.connect(sys.argv[1], read_only=True).execute('SELECT 1')"
             ".fetchall()", ws / "graph.duckdb"], user),
    }
    for label, b in bins.items():
        cmds['graphwatch query "RETURN 1" -w WS ({})'.format(label)] = ([b / "graphwatch", *q], user)
    for big in a.workspace:
        for label, b in bins.items():
            cmds[f'graphwatch query "RETURN 1" -w {big.name} ({label})'] = (
                [b / "graphwatch", "query", "RETURN 1", "-w", big.resolve()], user)
    for label, b in bins.items():
        cmds[f"graphwatch --help ({label})"] = ([b / "graphwatch", "--help"], user)
    cmds['python -m graphwatch.cli query "RETURN 1" -w WS (checkout, no .pyc)'] = (
        [sys.executable, "-m", "graphwatch.cli", *q], dev)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    loads = [os.getloadavg()[0]]
    for i in range(a.runs + 1):
        for k, (cmd, env) in cmds.items():
            t = time_once(cmd, env)
            if i:
                times[k].append(t)
        if i % 10 == 0:
            loads.append(os.getloadavg()[0])
            log(f"  round {i}/{a.runs}, load average {loads[-1]:.2f}")
    loads.append(os.getloadavg()[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    floor, floor_dc = med["python -c pass"], med["import duckdb, click + open WS read-only + SELECT 1"]
    lines = [f"## CLI start-up — {started} (`benchmarks/bench_startup.py`)", "",
             f"Machine: {where}; shared, other work not stopped: load average (1 min) "
             f"{min(loads):.2f}–{max(loads):.2f} during the run (start {loads[0]:.2f}, end {loads[-1]:.2f}). "
             f"Commit {rev}. {a.runs} rounds after a warm-up, each round every command once in turn "
             "(fresh process, output to a pipe); wall seconds. The CLI is the wheel installed in a fresh "
             "environment (byte-compiled by pip); WS is a generated 1,000-person county. Goal (issue 16): "
             "the query ≤ 0.15 s." + (" Larger workspaces: " + ", ".join(f"`{w}`" for w in a.workspace) + "."
                                        if a.workspace else ""), "",
             "| command | median (s) | p90 (s) | median ÷ `python -c pass` | median ÷ physical limit (import duckdb, click + open WS + SELECT 1) |",
             "|---|---:|---:|---:|---:|"]
    for k, v in times.items():
        lines.append(f"| `{k}` | {med[k]:.3f} | {p90(v):.3f} | {med[k] / floor:.1f}× | {med[k] / floor_dc:.2f}× |")
    phases = []
    for _ in range(a.runs):
        out = subprocess.run([py, "-c", PHASE_SCRIPT, ws], env=user, cwd=WORK, capture_output=True, text=True,
                             check=True).stdout.split()
        phases.append([float(x) for x in out])
    lines += ["", f"Where the installed query's time goes (this checkout; median ms of {a.runs} fresh processes, "
              "steps in the CLI's order, a module counted in the first step that imports it): "
              + "; ".join(f"{name} {statistics.median(col):.0f}" for name, col in zip(PHASES, zip(*phases)))
              + f"; sum {statistics.median(sum(r) for r in phases):.0f}."]
    query_key = 'graphwatch query "RETURN 1" -w WS ({})'.format
    lines += ["", "Above the physical limit (median − median): " + "; ".join(
        f"{label} {1000 * (med[query_key(label)] - floor_dc):.0f} ms" for label in bins) + "."]
    text = "\n".join(lines)
    print(text)
    if a.record:
        record_block("startup", "bench_startup.py", text)
        log("recorded in benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
