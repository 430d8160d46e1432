"""``benchmarks/common.record_block``, which every benchmark's ``--record`` writes RESULTS.md
with: a block replaced where it stands, appended to (bench_push.py --append), its hand-written
notes kept (bench_detection.py), added at the end the first time. On a scratch file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record_block():
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "benchmarks" / "common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.record_block


BEFORE = "# Benchmark results\n\nintro\n\n"
AFTER = "\n\n## Hand-written section\n\ntext\n"


def block(name: str, body: str) -> str:
    return f"<!-- BEGIN {name} (bench_x.py) -->\n{body}\n<!-- END {name} -->"


def test_a_new_block_goes_at_the_end(record_block, tmp_path):
    f = tmp_path / "RESULTS.md"
    f.write_text(BEFORE + block("other", "other's") + AFTER, encoding="utf-8")
    record_block("x", "bench_x.py", "## Run 1\n\n| a |", results=f)
    assert f.read_text(encoding="utf-8") == (BEFORE + block("other", "other's") + AFTER.rstrip("\n") + "\n\n"
                                             + block("x", "## Run 1\n\n| a |") + "\n")
    missing = tmp_path / "none.md"
    record_block("x", "bench_x.py", "t", results=missing)
    assert missing.read_text(encoding="utf-8") == "# Benchmark results\n\n" + block("x", "t") + "\n"


def test_a_block_is_replaced_where_it_stands(record_block, tmp_path):
    f = tmp_path / "RESULTS.md"
    f.write_text(BEFORE + block("x", "## Run 1\n\nold") + AFTER, encoding="utf-8")
    record_block("x", "bench_x.py", "## Run 2\n\nnew", results=f)
    assert f.read_text(encoding="utf-8") == BEFORE + block("x", "## Run 2\n\nnew") + AFTER


def test_append_adds_the_run_after_the_block_s_earlier_ones(record_block, tmp_path):
    f = tmp_path / "RESULTS.md"
    f.write_text(BEFORE + block("x", "\n## Run 1\n\nold\n") + AFTER, encoding="utf-8")
    record_block("x", "bench_x.py", "## Run 2\n\nnew", append=True, results=f)
    assert f.read_text(encoding="utf-8") == BEFORE + block("x", "## Run 1\n\nold\n\n## Run 2\n\nnew") + AFTER
    fresh = tmp_path / "fresh.md"
    fresh.write_text(BEFORE, encoding="utf-8")
    record_block("x", "bench_x.py", "## Run 1", append=True, results=fresh)
    assert fresh.read_text(encoding="utf-8") == BEFORE.rstrip("\n") + "\n\n" + block("x", "## Run 1") + "\n"


def test_keep_notes_keeps_the_hand_written_notes_after_the_new_text(record_block, tmp_path):
    notes = "<!-- notes -->\n**Reading the table** (by hand).\n\n- a note\n<!-- /notes -->"
    f = tmp_path / "RESULTS.md"
    f.write_text(BEFORE + block("x", f"| old |\n\n{notes}") + AFTER, encoding="utf-8")
    record_block("x", "bench_x.py", "| new |\n", keep_notes=True, results=f)
    assert f.read_text(encoding="utf-8") == BEFORE + block("x", f"| new |\n\n{notes}") + AFTER
    # appended to, the notes stay last and are not doubled
    record_block("x", "bench_x.py", "| newer |", append=True, keep_notes=True, results=f)
    assert f.read_text(encoding="utf-8") == BEFORE + block("x", f"| new |\n\n| newer |\n{notes}") + AFTER
    # without keep_notes a block is the new text only
    record_block("x", "bench_x.py", "| newest |", results=f)
    assert f.read_text(encoding="utf-8") == BEFORE + block("x", "| newest |") + AFTER
