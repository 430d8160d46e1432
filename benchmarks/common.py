"""What the benchmark scripts share: the machine and commit a results block names, one timer,
one median of warm runs and one cap on a DuckDB query. Scripts import it as
``from common import …`` (Python puts a script's folder first on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu() -> str:
    """The CPU model (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        return next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                    if x.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> str:
    """Cores, CPU model, RAM, Python and DuckDB, as a results block names them."""
    import duckdb
    import psutil

    return (f"{os.cpu_count()} cores ({cpu()}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def commit() -> str:
    """The checked-out commit, and whether the code differs from it (RESULTS.md aside: a run
    started while results were being written is not 'dirty')."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":/",
                                ":(top,exclude)benchmarks/RESULTS.md"], cwd=HERE,
                               capture_output=True, text=True).stdout.strip()
        return rev + (" with uncommitted changes to the code" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def timed(fn):
    """(seconds, result) of one call."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def median_timed(fn, runs: int, *, once_over: float | None = None):
    """(median seconds, result) of ``runs`` calls after one warm-up call. A warm-up slower than
    ``once_over`` seconds is the figure itself (too slow to repeat)."""
    first, out = timed(fn)
    if once_over is not None and first > once_over:
        return first, out
    times = []
    for _ in range(runs):
        t, out = timed(fn)
        times.append(t)
    return statistics.median(times), out


def capped(con, cap: float, fn):
    """``fn()`` with the DuckDB connection ``con`` interrupted after ``cap`` seconds:
    (seconds, result, or None when it was interrupted)."""
    fired = threading.Event()

    def stop():
        fired.set()
        con.interrupt()
    timer = threading.Timer(cap, stop)
    timer.start()
    t = time.perf_counter()
    try:
        out = fn()
    except Exception:
        if fired.is_set():
            return time.perf_counter() - t, None
        raise
    finally:
        timer.cancel()
    return time.perf_counter() - t, out


def record_block(name: str, script: str, text: str, *, append: bool = False, keep_notes: bool = False,
                 results: Path | None = None) -> None:
    """Replace the block ``name`` of ``benchmarks/RESULTS.md`` (between ``<!-- BEGIN name (script) -->``
    and ``<!-- END name -->``) with ``text``, or append it when there is none yet.

    ``append``: add ``text`` after what the block holds (a blank line between) instead of
    replacing it. ``keep_notes``: keep the block's hand-written ``<!-- notes -->`` …
    ``<!-- /notes -->`` after the new text. ``results``: another file (tests)."""
    results = results or HERE / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    begin, end = f"<!-- BEGIN {name} ({script}) -->", f"<!-- END {name} -->"
    body = text
    if begin in old and end in old:
        start, stop = old.index(begin), old.index(end)
        held = old[start + len(begin):stop]
        notes = re.search(r"<!-- notes -->.*?<!-- /notes -->", held, re.S) if keep_notes else None
        if notes:
            held = held[:notes.start()] + held[notes.end():]
        if append:
            held = held.strip("\n")
            body = f"{held}\n\n{text}"
        if notes:
            body = f"{body}\n{notes.group(0)}"
        new = old[:start] + f"{begin}\n{body}\n{end}" + old[stop + len(end):]
    else:
        new = old.rstrip("\n") + f"\n\n{begin}\n{body}\n{end}\n"
    results.write_text(new, encoding="utf-8")
