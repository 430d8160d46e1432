"""The explorer end to end in a real headless Chromium (Debian's, driven by Playwright with
``executable_path``; nothing downloads a browser): ``graphwatch app`` on a demo workspace,
the queue, an alert and its evidence graph drawn, a verdict, a node expanded, a path found, an
SVG exported, the switch to English. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
HOWTO = "'make setup' installs Debian's chromium and the dev lock's playwright"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no {CHROMIUM}: {HOWTO}", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api", reason=f"playwright not installed: {HOWTO}").sync_playwright

from app_support import answers, demo_workspace, free_port  # noqa: E402

from graphwatch.alerts.store import AlertStore  # noqa: E402
from graphwatch.store import Workspace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CY = "() => { const c = document.getElementById('cy'); return c && c._cyreg && c._cyreg.cy }"


def start_app(ws: Path, port: int) -> subprocess.Popen:
    """``graphwatch app`` as a user starts it, waiting until it answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "graphwatch.cli", "app", "--workspace", str(ws), "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}" in first, first
    if answers(port, 60):
        return proc
    proc.kill()
    raise AssertionError("the explorer did not start: " + proc.stdout.read())


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    ws = demo_workspace(tmp_path_factory.mktemp("browser"))
    port = free_port()
    proc = start_app(ws, port)
    try:
        yield ws, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(running):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.requests = []
        context.on("request", lambda r: pg.requests.append(r.url))
        yield pg
        browser.close()


def graph_frame(page, min_nodes: int = 1):
    """The st-link-analysis iframe once its cytoscape instance holds ``min_nodes`` nodes."""
    page.wait_for_selector("iframe[title*='st_link_analysis']")
    deadline = time.time() + 60
    while time.time() < deadline:
        for f in page.frames:
            if "st_link_analysis" in f.url:
                try:
                    if f.evaluate(f"() => {{ const cy = ({CY})(); return cy ? cy.nodes().length : 0 }}") >= min_nodes:
                        return f
                except Exception:        # the frame was replaced by a rerun
                    pass
        page.wait_for_timeout(300)       # (not time.sleep: Playwright handles frame events meanwhile)
    raise AssertionError(f"no graph with {min_nodes} node(s) drawn")


def heading(page, text: str) -> None:
    page.get_by_role("heading", name=text).first.wait_for()


def shot(page, name: str) -> None:
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_end_to_end(running, page):
    ws, url = running
    # the queue
    page.goto(url)
    heading(page, "预警列表")
    page.get_by_text("各模型预警数与查实率").wait_for()
    shot(page, "1-queue")
    with AlertStore(ws) as store:
        first = store.list(limit=1)[0]["id"]
    # open the alert the queue offers first
    page.get_by_role("button", name="打开预警").click()
    heading(page, "预警详情")
    frame = graph_frame(page)
    with AlertStore(ws) as store:
        alert = store.get(first)
    drawn = frame.evaluate(f"() => ({CY})().nodes().map(n => n.id())")
    assert sorted(drawn) == sorted(str(n["id"]) for n in alert["evidence"]["nodes"])
    labels = frame.evaluate(f"() => ({CY})().nodes().map(n => n.style('label'))")
    assert alert["subject_name"] in labels                     # CJK captions drawn, not hidden until zoomed
    shot(page, "2-alert")
    shutil.copyfile(ARTIFACTS / "2-alert.png", ARTIFACTS / "explorer-alert.png")
    # click the subject node: its details with source records appear beside the graph
    subject = next(str(n["id"]) for n in alert["evidence"]["nodes"] if n["key"] == alert["subject_key"])
    frame.evaluate(f"() => ({CY})().getElementById('{subject}').emit('tap')")
    page.get_by_text("records").first.wait_for()
    # a verdict with the reviewer's name and a note
    name = page.get_by_role("textbox", name="审核人姓名")
    name.fill("李四")
    name.press("Enter")
    page.get_by_label("备注").fill("浏览器中核实")
    page.get_by_label("备注").press("Control+Enter")
    page.get_by_role("button", name="查实", exact=True).click()
    page.get_by_text("已记录").first.wait_for()
    with AlertStore(ws) as store:
        last = store.history(first)[-1]
    assert (last["status"], last["who"], last["note"]) == ("confirmed", "李四", "浏览器中核实")
    shot(page, "3-verdict")
    # export the evidence as SVG (masked by default, audited with the reviewer's name)
    page.get_by_role("button", name="生成").click()
    download_button = page.get_by_role("button", name="下载")
    download_button.wait_for()
    with page.expect_download() as got:
        download_button.click()
    svg = Path(got.value.path()).read_text(encoding="utf-8")
    assert "<svg" in svg and alert["subject_name"] in svg
    with AlertStore(ws) as store:
        audit = store.audit_log(1)[0]
    assert (audit["action"], audit["format"], audit["who"], audit["masked"]) == ("export", "svg", "李四", 1)
    # the subject's entity page: double-click a neighbour to expand it
    page.get_by_role("button", name="查看对象画像").click()
    heading(page, "对象画像")
    frame = graph_frame(page)
    before = frame.evaluate(f"() => ({CY})().nodes().length")
    page.get_by_text("已展开 1").wait_for()
    page.wait_for_timeout(1500)                                # the first layout's animation
    other, pos = frame.evaluate(f"() => {{ const n = ({CY})().nodes().filter(n => n.id() !== '{subject}')[0]; "
                                "return [n.id(), n.renderedPosition()] }")
    frame.locator("#cy").dblclick(position=pos)                # a real mouse double-click on the neighbour
    page.get_by_text("已展开 2").wait_for()
    reported = int(page.get_by_text(re.compile(r"^\d+ nodes · ")).inner_text().split()[0])
    after = graph_frame(page, reported).evaluate(f"() => ({CY})().nodes().length")
    assert after == reported >= before                         # every node the page reports is drawn
    # a click on a node drawn from the graph's arrays reads its properties and source records then
    with Workspace(ws, read_only=True) as w:
        (dataset,) = w.con.execute("SELECT r.dataset FROM node n JOIN node_record r USING (key) WHERE n.nid = ? "
                                   "ORDER BY r.priority, r.dataset LIMIT 1", [int(subject)]).fetchone()
    graph_frame(page, after).evaluate(f"() => ({CY})().getElementById('{subject}').emit('tap')")
    page.get_by_text(re.compile(rf"{re.escape(dataset)}#\d+")).first.wait_for()
    shot(page, "4-expanded")
    # the path finder between the subject and the node just expanded
    page.get_by_role("link", name="关系路径").click()
    heading(page, "关系路径")
    page.get_by_label("起点对象").fill(subject)
    page.get_by_label("终点对象").fill(other)
    page.get_by_role("button", name="查找路径").click()
    page.get_by_text("条路径").first.wait_for()
    path_frame = graph_frame(page, 2)
    assert {subject, other} <= set(path_frame.evaluate(f"() => ({CY})().nodes().map(n => n.id())"))
    shot(page, "5-path")
    # English
    page.get_by_text("English").click()
    heading(page, "Path finder")
    page.get_by_role("link", name="Alert queue").wait_for()
    shot(page, "6-english")
    # no request left the machine (no CDN, no usage statistics, no fonts from the web)
    local = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")
    assert page.requests and not [u for u in page.requests if not u.startswith(local)]
