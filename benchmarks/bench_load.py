"""Benchmark: generate + load a synthetic county, with peak memory, against a same-run reference.

Each step runs in its own process (so peak RSS is that step's own); RSS is sampled every
20 ms with psutil over the process tree. The reference is DuckDB reading the same CSV files
into plain tables (no validation, no graph) in the same run, so the ratio is what mapping,
validation, quarantine and graph building cost on top of raw ingestion.

Usage::

    .venv/bin/python benchmarks/bench_load.py --persons 100000 1000000

Appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from common import machine

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "RESULTS.md"
PY = sys.executable

REFERENCE = r"""
import sys, glob, duckdb
con = duckdb.connect(sys.argv[2])
for i, f in enumerate(sorted(glob.glob(sys.argv[1] + '/*.csv'))):
    enc = 'utf-8'
    with open(f, 'rb') as fh:
        head = fh.read(1 << 16)
    try:
        head.decode('utf-8')
    except UnicodeDecodeError as e:
        enc = 'utf-8' if e.start > len(head) - 4 else 'gb18030'
    src = f
    if enc != 'utf-8':   # DuckDB reads UTF-8 only without an extension: transcode, as a user would
        src = sys.argv[2] + f'.{i}.csv'
        open(src, 'w', encoding='utf-8').write(open(f, encoding=enc).read())
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [src])
"""


def run(cmd: list[str], *, env=None) -> tuple[float, float]:
    """Run a command; returns (seconds, peak RSS in GB of the process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        try:
            p = psutil.Process(proc.pid)
            while not stop.is_set():
                try:
                    rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
                    peak = max(peak, rss)
                except psutil.Error:
                    pass
                time.sleep(0.02)
        except psutil.Error:
            pass

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    stop.set()
    t.join()
    secs = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return secs, peak / 1e9


def counts(ws: Path) -> tuple[int, int, int, int, int]:
    import duckdb
    con = duckdb.connect(str(ws / "graph.duckdb"), read_only=True)
    n, = con.execute("SELECT count(*) FROM node").fetchone()
    r, = con.execute("SELECT count(*) FROM rel").fetchone()
    read, loaded, quar = con.execute("SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM load_report").fetchone()
    con.close()
    return n, r, int(read), int(loaded), int(quar)


def bench(persons: int, seed: int) -> dict:
    county = WORK / f"county_{persons}"
    ws = WORK / f"ws_{persons}"
    ref = WORK / f"ref_{persons}.duckdb"
    for p in (county, ws):
        shutil.rmtree(p, ignore_errors=True)
    for p in WORK.glob(f"ref_{persons}.duckdb*"):
        p.unlink()
    gw = [PY, "-m", "graphwatch.cli"]
    gen_s, gen_gb = run(gw + ["generate", "--persons", str(persons), "--seed", str(seed), "--out", str(county)])
    size = sum(f.stat().st_size for f in county.glob("*") if f.is_file()) / 1e6
    load_s, load_gb = run(gw + ["load", str(county), "--workspace", str(ws)])
    n, r, read, loaded, quar = counts(ws)
    reload_s, reload_gb = run(gw + ["load", str(county), "--workspace", str(ws)])
    assert counts(ws) == (n, r, read, loaded, quar), "reload changed the workspace"
    ref_s, ref_gb = run([PY, "-c", REFERENCE, str(county), str(ref)])
    return dict(persons=persons, files_mb=size, gen_s=gen_s, gen_gb=gen_gb, load_s=load_s, load_gb=load_gb,
                reload_s=reload_s, reload_gb=reload_gb, ref_s=ref_s, ref_gb=ref_gb, nodes=n, rels=r,
                read=read, loaded=loaded, quarantined=quar)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    rows = []
    for n in args.persons:
        res = bench(n, args.seed)
        rows.append(res)
        print(res, flush=True)
    lines = [f"\n## {dt.date.today().isoformat()} — generate + load (`benchmarks/bench_load.py`)\n",
             f"Machine: {machine()}\n",
             "| persons | files MB | generate s | generate peak GB | load s | load peak GB | reload s | "
             "reference s (DuckDB read_csv, same files) | load / reference | rows read | loaded | quarantined | nodes | relationships |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['persons']:,} | {r['files_mb']:.0f} | {r['gen_s']:.1f} | {r['gen_gb']:.2f} | {r['load_s']:.1f} | "
                     f"{r['load_gb']:.2f} | {r['reload_s']:.1f} | {r['ref_s']:.1f} | {r['load_s'] / r['ref_s']:.1f}× | "
                     f"{r['read']:,} | {r['loaded']:,} | {r['quarantined']:,} | {r['nodes']:,} | {r['rels']:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        if not RESULTS.exists():
            RESULTS.write_text("# Benchmark results\n\nEvery run appends a dated section; figures are wall-clock on the "
                               "machine named, peak RSS of the step's process tree.\n", encoding="utf-8")
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
