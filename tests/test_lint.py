"""pyflakes finds unused imports, unused variables and undefined names in the package."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pyflakes_is_clean():
    out = subprocess.run([sys.executable, "-m", "pyflakes", "graphwatch", "graphwatch_app", "tests", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
