"""预警详情 · one alert: explanation, evidence graph, verdicts and their history, exports."""

import pandas as pd
import streamlit as st

from graphwatch.alerts.store import STATUS_ZH
from graphwatch_app import cache
from graphwatch_app.services import elements, show_key, show_text, shown
from graphwatch_app.widgets import details, export_buttons, graph_view, guarded, lang, tr, unmasked, who

st.title(tr("alert"))
with cache.alerts() as store:
    ids = [r[0] for r in store.con.execute("SELECT id FROM alert ORDER BY rank DESC, id LIMIT 5000")]
if not ids:
    st.info(f"{tr('no_alerts')} {cache.workspace()}")
    st.stop()
wanted = st.query_params.get("alert") or st.session_state.get("alert_id")
if wanted and wanted not in ids:                   # opened from a later page of the queue
    with cache.alerts() as store:
        if store.con.execute("SELECT 1 FROM alert WHERE id = ?", [wanted]).fetchone():
            ids.insert(0, wanted)
if wanted in ids and st.session_state.get("a_pick") != wanted and st.session_state.get("_alert_from") != wanted:
    st.session_state["a_pick"] = wanted
    st.session_state["_alert_from"] = wanted
alert_id = st.selectbox(tr("choose_alert"), ids, key="a_pick")
st.session_state["alert_id"] = alert_id
st.query_params["alert"] = alert_id

with guarded(), cache.alerts() as store:
    alert = store.get(alert_id)
    history = store.history(alert_id)
um = unmasked()
titles, _ = cache.library(str(cache.workspace()))
title = titles.get(alert["model"], {}).get(lang(), alert["model"])
st.subheader(f"{title} · {alert['severity']} · {STATUS_ZH[alert['status']] if lang() == 'zh' else alert['status']}")
st.markdown(f"**{tr('explanation')}**: " + (show_text(alert["explain_zh"] if lang() == "zh" else alert["explain_en"], um) or ""))
c = st.columns(3)
c[0].markdown(f"**{tr('subject')}**: {alert['subject_name'] or ''} `{show_key(alert['subject_key'], um)}`")
if alert.get("object_key"):
    c[1].markdown(f"**{tr('object')}**: {alert['object_name'] or ''} `{show_key(alert['object_key'], um)}`")
c[2].markdown(f"{tr('township')}: {alert['township'] or '—'} · {tr('village')}: {alert['village'] or '—'} · "
              f"{alert['event_date'] or ''} · certainty {alert['certainty']:.2f}")
if not alert["matching"]:
    st.caption("该预警在最近一次运行中已不再命中 / no longer matched by the latest run")

ev = shown(alert["evidence"], um)
schema = cache.schema_titles(str(cache.workspace()))
focus = [n["id"] for n in ev["nodes"] if n["key"] in (show_key(alert["subject_key"], um), show_key(alert.get("object_key"), um))]
left, right = st.columns([3, 1])
with left:
    st.markdown(f"**{tr('evidence')}** ({len(ev['nodes'])} · {len(ev['rels'])})")
    value = graph_view(elements(ev["nodes"], ev["rels"], focus=focus, schema=schema, lang=lang()), key=f"g-{alert_id}")
with right:
    st.markdown(f"**{tr('details')}**")
    details(value, ev["nodes"], ev["rels"])
    if st.button(tr("open_entity"), key="a_entity"):
        subject = next((n for n in alert["evidence"]["nodes"] if n["key"] == alert["subject_key"]), None)
        if subject:
            st.session_state["entity_id"] = int(subject["id"])
            st.switch_page("views/entity.py")

st.subheader(tr("verdict"))
note = st.text_area(tr("note"), key="a_note", max_chars=2000)
c = st.columns(4)
for col, (status, label) in zip(c, (("confirmed", "confirm"), ("dismissed", "dismiss"), ("in_review", "in_review"))):
    if col.button(tr(label), key=f"a_{status}", type="primary" if status == "confirmed" else "secondary"):
        if not who():
            st.warning(tr("need_reviewer"))
        else:
            with guarded(), cache.alerts() as store:
                store.verdict(alert_id, status, who=who(), note=note or "")
            st.session_state["_recorded"] = f"{tr('recorded')}: {tr(label)} ({who()})"
            st.rerun()
if st.session_state.get("_recorded"):
    st.success(st.session_state.pop("_recorded"))
st.markdown(f"**{tr('history')}**")
if history:
    st.dataframe(pd.DataFrame([{**h, "note": show_text(h["note"], um)} for h in history]), hide_index=True,
                 width="stretch", key="a_history")
else:
    st.caption(tr("no_history"))


def make_evidence():
    from graphwatch.export.evidence import from_alert

    return from_alert(cache.workspace(), alert_id)


export_buttons(make_evidence, key=f"alert-{alert_id}")
