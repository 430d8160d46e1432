"""The explorer's speed in a real browser: page load, alert detail, a 2-hop expansion.

Builds (or reuses) a county of ``--persons`` persons — generated, loaded, resolved, every model
run — starts ``graphwatch app`` on it and drives Debian's headless chromium with Playwright
(``executable_path``; no browser download). Each figure is wall-clock from the browser's
action to the result on screen, median of ``--repeat`` runs after one warm-up:

* **page load** — open the queue URL until the queue's table and the per-model counts show;
* **alert detail** — the queue's "open alert" button until the evidence graph is drawn
  (nodes present in the cytoscape instance inside the component's iframe);
* **2-hop expansion** — on an entity page whose first hop is drawn, expanding one of its
  neighbours (its second hop) until the page reports two expanded nodes and the graph has redrawn.

Goals from issue 18 at 1 M persons: page ≤ 2 s, alert detail ≤ 1 s, 2-hop expansion ≤ 0.5 s.

    PYTHONPATH=. python benchmarks/bench_app.py --persons 100000 [--work benchmarks/work] [--shot docs/explorer-alert.png]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
CY = "() => { const c = document.getElementById('cy'); return c && c._cyreg && c._cyreg.cy }"


def build(work: Path, persons: int) -> Path:
    from graphwatch.alerts.runner import run_models
    from graphwatch.demo import run_demo

    folder = work / f"app_{persons}"
    ws = folder / "workspace"
    if (ws / "alerts.sqlite").exists():
        print(f"reusing {ws}")
        return ws
    t0 = time.perf_counter()
    run_demo(folder, persons=persons, seed=1)
    t1 = time.perf_counter()
    run_models(ws)
    print(f"built {ws}: generate+load+resolve {t1 - t0:.0f} s, run models {time.perf_counter() - t1:.0f} s")
    return ws


def graph_nodes(page) -> int:
    for f in page.frames:
        if "st_link_analysis" in f.url:
            try:
                n = f.evaluate(f"() => {{ const cy = ({CY})(); return cy ? cy.nodes().length : 0 }}")
                if n:
                    return n
            except Exception:
                pass
    return 0


def wait_graph(page, more_than: int = 0, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = graph_nodes(page)
        if n > more_than:
            return n
        page.wait_for_timeout(20)        # lets Playwright process events (frames attaching)
    raise TimeoutError("no graph drawn")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shot", type=Path, help="save a screenshot of the alert page here")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    ws = build(args.work, args.persons)

    from playwright.sync_api import sync_playwright

    from graphwatch.store import Workspace

    with Workspace(ws, read_only=True) as w:
        nodes = w.con.execute("SELECT count(*) FROM node").fetchone()[0]
        rels = w.con.execute("SELECT count(*) FROM rel").fetchone()[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    app = subprocess.Popen([sys.executable, "-m", "graphwatch.cli", "app", "-w", str(ws), "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        times = {"page load": [], "alert detail": [], "2-hop expansion": []}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            for run in range(args.repeat + 1):                   # run 0 warms every cache up
                t0 = time.perf_counter()
                page.goto(url)
                page.get_by_role("heading", name="预警列表").wait_for()
                page.get_by_text("各模型预警数与查实率").wait_for()
                page.locator("[data-testid='stDataFrame']").first.wait_for()
                t1 = time.perf_counter()
                page.get_by_role("button", name="打开预警").click()
                page.get_by_role("heading", name="预警详情").wait_for()
                wait_graph(page)
                t2 = time.perf_counter()
                if run == 0 and args.shot:
                    page.wait_for_timeout(1500)
                    page.screenshot(path=str(args.shot))
                page.get_by_role("button", name="查看对象画像").click()
                page.get_by_text("已展开 1").wait_for()
                first = wait_graph(page)
                page.get_by_role("button", name="展开一跳").click()
                t3 = time.perf_counter()
                page.get_by_text("已展开 2").wait_for()
                wait_graph(page, more_than=first - 1)
                t4 = time.perf_counter()
                if run:
                    times["page load"].append(t1 - t0)
                    times["alert detail"].append(t2 - t1)
                    times["2-hop expansion"].append(t4 - t3)
                print(f"run {run}: page {t1 - t0:.2f} s, alert {t2 - t1:.2f} s, 2nd hop {t4 - t3:.2f} s", flush=True)
            browser.close()
    finally:
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
    goals = {"page load": 2.0, "alert detail": 1.0, "2-hop expansion": 0.5}
    print(f"\n{args.persons:,} persons, {nodes:,} nodes, {rels:,} relationships; {platform.machine()}, "
          f"{os.cpu_count()} cores; median of {args.repeat} after a warm-up")
    print("| step | median s | min s | max s | goal at 1 M s |")
    print("|---|---:|---:|---:|---:|")
    for k, v in times.items():
        print(f"| {k} | {statistics.median(v):.2f} | {min(v):.2f} | {max(v):.2f} | {goals[k]} |")


if __name__ == "__main__":
    main()
