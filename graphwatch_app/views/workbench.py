"""模型工作台 · pick or write a pattern, validate it, see its SQL, run it, run its fixtures, save it."""

import json
import re

import pandas as pd
import streamlit as st

from graphwatch.alerts.evidence import subgraph
from graphwatch_app import cache
from graphwatch_app.services import (check_cypher, check_params, elements, model_folder, save_pattern, show_text,
                                     shown)
from graphwatch_app.widgets import details, graph_view, guarded, lang, tr, unmasked, who

LANG = lang()      # captured: a format_func must not read the session when it is called later
st.title(tr("workbench"))
folder = str(cache.workspace())
titles, broken = cache.library(folder)
NEW = tr("new_query")
pick = st.selectbox(tr("pick_pattern"), [NEW] + sorted(titles), key="w_pick",
                    format_func=lambda p: p if p == NEW else f"{titles[p][LANG]} ({p})")
if broken:
    with st.expander(f"{len(broken)} pattern file(s) do not parse"):
        for pid, err in broken.items():
            st.error(f"{pid}: {err}")
if st.session_state.get("_w_loaded") != pick:
    st.session_state["_w_loaded"] = pick
    chosen = titles.get(pick)
    st.session_state["w_cypher"] = chosen["cypher"] if chosen else "MATCH (o:Official)-[:SPOUSE_OF]-(s:Person)\nRETURN o, s"
    st.session_state["w_params"] = json.dumps(chosen["params"] if chosen else {}, ensure_ascii=False, default=str)
    st.session_state.pop("w_result", None)
if pick != NEW and titles[pick]["kind"] != "cypher":
    st.info("该模型为算法模型（非 Cypher），只能运行其测试样例 / an algorithm model (not Cypher): only its fixtures run here")

cypher = st.text_area(tr("cypher"), key="w_cypher", height=260)
params_text = st.text_input(tr("params"), key="w_params")
c = st.columns([1, 1, 2])
engines = ["duckdb"] + (["neo4j"] if cache.neo4j_uri() else [])
engine = c[0].radio(tr("engine"), engines, key="w_engine", horizontal=True)
if not cache.neo4j_uri():
    c[0].caption(tr("neo4j_off"))
limit = c[1].number_input(tr("row_limit"), 1, 10_000, 100, key="w_limit")


def open_engine():
    from graphwatch.engines import open_engine as engine_by_name

    if engine == "neo4j":
        return engine_by_name("neo4j", cache.workspace(), connection={"uri": cache.neo4j_uri()})
    return engine_by_name("duckdb", cache.workspace())


b = st.columns(4)
action = None
for col, name in zip(b, ("validate", "sql", "run", "fixtures")):
    algorithm = pick != NEW and titles[pick]["kind"] != "cypher"
    if col.button(tr(name), key=f"w_{name}", disabled=(name == "fixtures" and pick == NEW)
                  or (name != "fixtures" and algorithm)):
        action = name
if action in ("validate", "sql", "run"):
    with guarded(cypher):
        text = check_cypher(cypher)
        params = check_params(params_text)
        if pick != NEW and titles[pick]["kind"] == "cypher":     # typed as the pattern declares them (dates …)
            from graphwatch.alerts.library import parse_pattern

            params = parse_pattern(titles[pick]["file"]).bind(params)
        with open_engine() as eng:
            if action == "validate":
                (eng.check(text, params) if hasattr(eng, "check") else eng.explain(text, params))
                st.success(tr("valid"))
            elif action == "sql":
                st.code(eng.explain(text, params), language="sql")
            else:
                limited = text if re.search(r"\bLIMIT\s+\S+\s*$", text, re.I) else text + "\nLIMIT $_row_limit"
                with st.spinner(tr("run")):
                    res = eng.run(limited, {**params, "_row_limit": int(limit)}, bindings=True)   # the evidence drawn below
                st.session_state["w_result"] = res
elif action == "fixtures":
    from graphwatch.alerts.fixtures import test_patterns
    from graphwatch.alerts.library import parse_pattern

    with guarded(), st.spinner(tr("fixtures")):
        results = test_patterns([parse_pattern(titles[pick]["file"])])
        for r in results:
            (st.success if r.ok else st.error)(r.describe())

res = st.session_state.get("w_result")
if res is not None:
    st.subheader(f"{len(res)} {tr('rows')}")
    um = unmasked()
    st.dataframe(pd.DataFrame([[show_text(str(v), um) for v in row] for row in res.rows],
                              columns=[f"{i}:{c}" for i, c in enumerate(res.columns)]),
                 hide_index=True, width="stretch", key="w_rows")
    nodes = {n for bnd in res.bindings for n in bnd.nodes}
    rels = {r for bnd in res.bindings for r in bnd.rels}
    if nodes and len(nodes) <= 400:
        with guarded(), cache.graph_db() as ws:
            view = shown(subgraph(ws.con, nodes, rels), unmasked())
        st.markdown(f"**{tr('hit_evidence')}** ({len(view['nodes'])} · {len(view['rels'])})")
        left, right = st.columns([3, 1])
        with left:
            value = graph_view(elements(view["nodes"], view["rels"], lang=LANG), key="w_graph")
        with right:
            details(value, view["nodes"], view["rels"])
    elif nodes:
        st.caption(f"{len(nodes)} nodes: too many to draw (lower the row limit)")

with st.expander(tr("save")):
    with st.form("w_save"):
        pid = st.text_input(tr("pattern_id"), key="w_pid", max_chars=61)
        c = st.columns(3)
        tz = c[0].text_input("标题（中文）", key="w_tz", max_chars=100)
        te = c[1].text_input("Title (English)", key="w_te", max_chars=100)
        subject = c[2].text_input("subject (variable)", key="w_subject", value="o", max_chars=40)
        if st.form_submit_button(tr("save")):
            if not who():
                st.warning(tr("need_reviewer"))
            else:
                with guarded():
                    path = save_pattern(folder, pid.strip(), check_cypher(cypher), title_zh=tz, title_en=te,
                                        subject=subject.strip(), author=who(), schema=cache.schema_titles(folder))
                    cache.library.clear()
                    st.success(f"{tr('saved')}: {path} — graphwatch run --patterns {model_folder(folder)} "
                               f"--workspace {folder}")
