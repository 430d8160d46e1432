"""What the benchmark scripts share: the machine and commit a results block names, and one
timer. Scripts import it as ``from common import …`` (Python puts a script's folder first on
``sys.path``)."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    """Cores, CPU model, RAM, Python and DuckDB, as a results block names them."""
    import duckdb
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                   if x.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
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
