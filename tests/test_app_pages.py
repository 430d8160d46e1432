"""Every page of the explorer in Streamlit's AppTest on a small demo workspace: no exception,
its key widgets present, verdicts and exports recorded, hostile input refused with a clear
message and nothing changed."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="the explorer needs streamlit: pip install -r requirements/dev.lock")

from streamlit.testing.v1 import AppTest  # noqa: E402

from graphwatch.alerts.store import AlertStore  # noqa: E402
from graphwatch_app import ENTRY, ENV_WORKSPACE  # noqa: E402

from app_support import HOSTILE, HOSTILE_CYPHER, demo_workspace, state  # noqa: E402


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return demo_workspace(tmp_path_factory.mktemp("app"))


@pytest.fixture
def app(ws, monkeypatch):
    monkeypatch.setenv(ENV_WORKSPACE, str(ws))

    def open_page(page: str | None = None, **session) -> AppTest:
        at = AppTest.from_file(str(ENTRY), default_timeout=90)
        for k, v in session.items():
            at.session_state[k] = v
        at.run()
        if page:
            at.switch_page(f"views/{page}.py")
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return open_page


def keys(at) -> set:
    return {w.key for kind in (at.button, at.selectbox, at.text_input, at.text_area, at.multiselect, at.toggle, at.radio,
                                 at.number_input, at.date_input)
            for w in kind if w.key}


def errors(at) -> str:
    return " ".join(str(e.value) for e in at.error)


def test_queue(app, ws):
    at = app()
    assert at.title[0].value == "预警列表"
    assert {"q_model", "q_sev", "q_status", "q_town", "q_village", "q_per", "q_page", "q_pick", "q_open",
            "lang", "who", "unmask"} <= keys(at)
    with AlertStore(ws) as store:
        total = store.count()
        models = store.precision()
    assert any(f"{total:,}" in m.value for m in at.markdown)
    counts = at.dataframe[-1].value
    assert len(counts) == len(models) and "查实率" in counts.columns
    at.selectbox(key="q_model").set_value(sorted(models)[0]).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == models[sorted(models)[0]]["alerts"]


ENGLISH_TITLES = {"alert": "Alert detail", "search": "Search", "entity": "Entity", "paths": "Path finder",
                  "workbench": "Model workbench", "trends": "Trends", "data": "Data"}


def test_english_switch(app):
    at = app()
    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Alert queue"
    assert "Alerts and precision (查实率) per model" in [h.value for h in at.subheader]
    for page, title in ENGLISH_TITLES.items():
        at.switch_page(f"views/{page}.py").run()
        assert at.title[0].value == title and not at.exception, page
        assert at.radio(key="lang").value == "en"                   # the switch holds on every page


def test_alert_verdict_and_export(app, ws):
    with AlertStore(ws) as store:
        alert_id = store.list(limit=1)[0]["id"]
    at = app("alert", alert_id=alert_id)
    assert at.selectbox(key="a_pick").value == alert_id
    assert {"a_confirmed", "a_dismissed", "a_in_review", "a_note"} <= keys(at)
    at.button(key="a_confirmed").click().run()                 # no reviewer name: refused
    assert any("审核人" in w.value for w in at.warning)
    at.text_input(key="who").set_value("李四").run()
    at.text_area(key="a_note").set_value("已核实死亡登记").run()
    at.button(key="a_confirmed").click().run()
    assert not at.exception
    with AlertStore(ws) as store:
        history = store.history(alert_id)
        assert store.get(alert_id)["status"] == "confirmed"
    assert history[-1]["who"] == "李四" and history[-1]["note"] == "已核实死亡登记"
    assert any("李四" in str(h) for h in at.dataframe[-1].value.values.tolist())
    # an SVG export, masked, audited with the reviewer's name
    at.button(key=f"alert-{alert_id}-prepare").click().run()
    assert not at.exception and not at.error, errors(at)
    with AlertStore(ws) as store:
        last = store.audit_log(1)[0]
    assert last["action"] == "export" and last["who"] == "李四" and last["format"] == "svg" and last["masked"] == 1


def test_unmask_is_audited(app, ws):
    at = app("alert", who="王五")
    at.toggle(key="unmask").set_value(True).run()
    with AlertStore(ws) as store:
        last = store.audit_log(1)[0]
    assert last["action"] == "unmask" and last["who"] == "王五" and last["masked"] == 0
    assert at.warning and not at.exception


def _a_person(ws):
    from graphwatch.store import Workspace

    with Workspace(ws, read_only=True) as w:
        return w.con.execute("""SELECT nid, name, id_number FROM node WHERE list_contains(labels, 'Person')
            AND name IS NOT NULL AND id_number IS NOT NULL AND name IN (SELECT name FROM node GROUP BY name
            HAVING count(*) = 1) ORDER BY nid LIMIT 2""").fetchall()


def test_search(app, ws):
    (nid, name, id_number), _ = _a_person(ws)
    at = app("search")
    at.text_input(key="s_text").set_value(name)
    at.button[0].click().run()
    assert not at.exception and not at.error, errors(at)
    table = at.dataframe[0].value
    assert str(nid) in table["id"].tolist() and "来源" in table.columns
    at.text_input(key="s_text").set_value(id_number)
    at.button[0].click().run()
    assert str(nid) in at.dataframe[0].value["id"].tolist()
    assert id_number not in str(at.dataframe[0].value.values.tolist())        # masked by default
    assert "s_open" in keys(at)


def test_search_hostile_input(app, ws):
    before = state(ws)
    at = app("search")
    for text in HOSTILE:
        at.text_input(key="s_text").set_value(text)
        at.button[0].click().run()
        assert not at.exception, text
        shown = errors(at) + " ".join(i.value for i in at.info)
        assert shown, f"no message for {text[:40]!r}"
    assert state(ws) == before


def test_entity_page_expands(app, ws):
    (nid, name, _), _ = _a_person(ws)
    at = app("entity", entity_id=nid)
    assert not at.error, errors(at)
    assert {"e_types", "e_expand_pick", "e_expand"} <= keys(at)
    first = len(at.session_state["nb"]["nodes"])
    options = at.selectbox(key="e_expand_pick").options
    assert options
    at.button(key="e_expand").click().run()
    assert not at.exception
    assert len(at.session_state["nb"]["expanded"]) == 2 and len(at.session_state["nb"]["nodes"]) >= first
    assert any("name" in str(df.value.values.tolist()) for df in at.dataframe)      # properties with sources


def test_paths(app, ws):
    from graphwatch.store import Workspace

    with Workspace(ws, read_only=True) as w:
        a, b = w.con.execute("""SELECT s.nid, d.nid FROM rel r JOIN node s ON s.nid = r.src JOIN node d ON d.nid = r.dst
            WHERE r.type = 'SPOUSE_OF' ORDER BY r.rid LIMIT 1""").fetchone()
    at = app("paths")
    at.text_input(key="p_from").set_value(str(a))
    at.text_input(key="p_to").set_value(str(b))
    at.button[0].click().run()
    assert not at.exception and not at.error, errors(at)
    assert at.session_state["p_result"]["found"][0]["hops"] == 1
    assert "paths-prepare" in keys(at)


def test_workbench(app, ws):
    at = app("workbench")
    assert {"w_pick", "w_cypher", "w_params", "w_validate", "w_sql", "w_run", "w_fixtures", "w_limit"} <= keys(at)
    at.text_area(key="w_cypher").set_value("MATCH (p:Person)\nRETURN p.nam").run()
    at.button(key="w_validate").click().run()
    assert "line 2" in errors(at) and "column" in errors(at)
    assert any("^" in c.value for c in at.code)                      # the caret under the column
    at.text_area(key="w_cypher").set_value("MATCH (p:Person) RETURN p.name AS name").run()
    at.button(key="w_sql").click().run()
    assert any("SELECT" in c.value for c in at.code)
    at.number_input(key="w_limit").set_value(7).run()
    at.button(key="w_run").click().run()
    assert not at.error, errors(at)
    assert len(at.session_state["w_result"]) == 7
    # identifiers in the rows are masked unless the reviewer unmasked them
    at.text_area(key="w_cypher").set_value("MATCH (p:Person) WHERE p.id_number IS NOT NULL RETURN p.id_number AS id, p").run()
    at.button(key="w_run").click().run()
    full = [r[0] for r in at.session_state["w_result"].rows]
    shown = at.dataframe[0].value.values.tolist()
    assert all(f not in str(shown) for f in full) and all("*" in row[0] and "*" in row[1] for row in shown)
    # a shipped pattern and its fixtures
    at.selectbox(key="w_pick").set_value("own_village_project").run()
    assert "MATCH" in at.text_area(key="w_cypher").value
    at.button(key="w_fixtures").click().run()
    assert at.success and not at.error, errors(at)


def test_workbench_hostile_input(app, ws):
    before = state(ws)
    at = app("workbench")
    for text in HOSTILE_CYPHER:
        at.text_area(key="w_cypher").set_value(text).run()
        at.button(key="w_run").click().run()
        assert not at.exception, text
        assert errors(at), f"no message for {text[:50]!r}"
    at.text_area(key="w_cypher").set_value("MATCH (p:Person) RETURN p").run()
    at.text_input(key="w_params").set_value("{'; DROP TABLE node").run()
    at.button(key="w_run").click().run()
    assert "JSON" in errors(at)
    assert state(ws) == before


def test_workbench_saves_a_pattern(app, ws):
    at = app("workbench", who="赵六")
    at.text_area(key="w_cypher").set_value("MATCH (o:Official)-[:SPOUSE_OF]-(s:Person)\nRETURN o, s").run()
    at.text_input(key="w_pid").set_value("spouse_check")
    at.text_input(key="w_subject").set_value("o")
    at.button(key="FormSubmitter:w_save-另存为模型文件").click().run()
    assert not at.error, errors(at)
    saved = ws / "patterns" / "spouse_check.yaml"
    assert saved.exists()
    from graphwatch.alerts.library import parse_pattern

    assert parse_pattern(saved).id == "spouse_check"
    saved.unlink()


def test_trends(app):
    at = app("trends")
    assert at.title[0].value == "趋势" and "t_period" in keys(at)
    at.selectbox(key="t_period").set_value("month").run()
    assert not at.exception and at.dataframe[0].value["period"].str.len().eq(7).all()


def test_data(app, ws):
    at = app("data")
    assert not at.error, errors(at)
    reports = at.dataframe[0].value
    assert reports["read = loaded + quarantined"].all() and len(reports) > 3
    assert {"d_same", "d_not_same", "d_unsure"} <= keys(at)


def test_usable_while_another_process_writes(app, ws):
    """A load in another process holds DuckDB's write lock: the alert pages (SQLite) keep
    working and verdicts are recorded; graph pages say the workspace is busy instead of failing."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom graphwatch.store import Workspace\n"
                               f"w = Workspace({str(ws)!r})\nprint('holding', flush=True)\nsys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        at = app(who="并发测试")
        assert at.title[0].value == "预警列表" and at.dataframe[0].value.shape[0] > 0
        at.switch_page("views/alert.py").run()
        assert not at.exception and not at.error, errors(at)
        alert_id = at.selectbox(key="a_pick").value
        at.button(key="a_in_review").click().run()
        with AlertStore(ws) as store:
            assert store.history(alert_id)[-1]["who"] == "并发测试"
        at.switch_page("views/data.py").run()
        assert not at.exception and any("另一进程" in w.value for w in at.warning)
    finally:
        holder.stdin.close()
        holder.wait(30)


def test_two_sessions_both_keep_their_verdicts(app, ws):
    with AlertStore(ws) as store:
        alert_id = store.list(limit=2)[1]["id"]
        before = len(store.history(alert_id))
    first, second = app("alert", alert_id=alert_id, who="甲"), app("alert", alert_id=alert_id, who="乙")
    first.button(key="a_confirmed").click().run()
    second.button(key="a_dismissed").click().run()              # a page loaded before the first verdict
    with AlertStore(ws) as store:
        history = store.history(alert_id)[before:]
    assert [(h["who"], h["status"]) for h in history] == [("甲", "confirmed"), ("乙", "dismissed")]
    assert history[1]["previous"] == "confirmed"


def _unique_person(ws, where: str):
    from graphwatch.store import Workspace

    with Workspace(ws, read_only=True) as w:
        return w.con.execute(f"""SELECT nid, name FROM node WHERE list_contains(labels, 'Person') AND {where}
            AND name IN (SELECT name FROM node GROUP BY name HAVING count(*) = 1) ORDER BY nid LIMIT 1""").fetchone()


def test_search_homophone_and_traditional(app, ws):
    """The resolver's normalisers: traditional characters fold to simplified (an exact match), and
    a name written with another character of the same pinyin (章 for 张) is found as a homophone."""
    nid, name = _unique_person(ws, "name LIKE '张%' AND length(name) = 3")
    at = app("search")
    at.text_input(key="s_text").set_value("章" + name[1:])
    at.button[0].click().run()
    table = at.dataframe[0].value
    assert "homophone" in table.loc[table["id"] == str(nid), "匹配方式"].tolist()
    nid, name = _unique_person(ws, "name LIKE '陈%'")
    at.text_input(key="s_text").set_value("陳" + name[1:])
    at.button[0].click().run()
    table = at.dataframe[0].value
    assert table.loc[table["id"] == str(nid), "匹配方式"].tolist() == ["name"]


def test_entity_shows_its_alerts(app, ws):
    with AlertStore(ws) as store:
        alert = store.list(limit=1)[0]
    subject = next(n for n in alert["evidence"]["nodes"] if n["key"] == alert["subject_key"])
    at = app("entity", entity_id=int(subject["id"]))
    assert not at.error, errors(at)
    assert alert["id"] in at.selectbox(key="e_alert").options
    at.button(key="e_open_alert").click().run()
    assert at.title[0].value == "预警详情" and at.selectbox(key="a_pick").value == alert["id"]


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("dossier", b"%PDF"),
                                       ("graphml", b"<?xml"), ("json", b"{"), ("anx", b"<")])
def test_alert_exports(app, ws, fmt, magic):
    with AlertStore(ws) as store:
        alert_id = store.list(limit=1)[0]["id"]
    at = app("alert", alert_id=alert_id, who="导出员")
    key = f"alert-{alert_id}"
    at.radio(key=f"{key}-fmt").set_value(fmt).run()
    at.button(key=f"{key}-prepare").click().run()
    assert not at.error, errors(at)
    got_fmt, name, data = at.session_state[f"{key}-file"]
    assert got_fmt == fmt and data.lstrip().startswith(magic)
    with AlertStore(ws) as store:
        last = store.audit_log(1)[0]
    assert (last["format"], last["who"], last["masked"]) == (fmt, "导出员", 1)


def test_review_queue_judgement(app, ws):
    """相同 / 不同 / 无法确定 on the data page records a judgement in the workspace (it re-clusters)."""
    from graphwatch.store import Workspace

    at = app("data", who="审核员")
    if "d_pair" not in keys(at):
        pytest.fail("the demo workspace has no review pairs: the data page shows no queue to judge")
    at.button(key="d_unsure").click().run()
    assert not at.exception and not at.error, errors(at)
    assert at.success
    with Workspace(ws, read_only=True) as w:
        who, judgement = w.con.execute("SELECT who, judgement FROM er_judgement ORDER BY judged_at DESC LIMIT 1").fetchone()
    assert (who, judgement) == ("审核员", "unsure")


def test_workbench_runs_every_shipped_pattern(app):
    """Each shipped Cypher pattern, picked in the workbench, runs with its declared parameters
    (typed as the file declares them); an algorithm model can only run its fixtures."""
    from graphwatch.alerts.library import load_library

    at = app("workbench")
    for pid, p in sorted(load_library().items()):
        at.selectbox(key="w_pick").set_value(pid).run()
        if p.kind != "cypher":
            assert at.button(key="w_run").disabled and not at.button(key="w_fixtures").disabled
            continue
        at.button(key="w_run").click().run()
        assert not at.error and not at.exception, (pid, errors(at))
        assert at.session_state["w_result"].columns
