"""预警列表 · the alert queue: filters, counts and precision per model, sorted, paged."""

import pandas as pd
import streamlit as st

from graphwatch.alerts.store import STATUS_ZH, STATUSES
from graphwatch_app import cache
from graphwatch_app.services import show_text
from graphwatch_app.widgets import guarded, lang, tr, unmasked

LANG = lang()      # captured: a format_func must not read the session when it is called later
if st.session_state.get("q_open") and st.session_state.get("q_pick"):      # "open alert" clicked: go before
    st.session_state["alert_id"] = st.session_state["q_pick"]               # building this page again
    st.switch_page("views/alert.py")
st.title(tr("queue"))
titles, _ = cache.library(str(cache.workspace()))
with cache.alerts() as store:
    models = sorted({r[0] for r in store.con.execute("SELECT DISTINCT model FROM alert")})
    places = store.con.execute("SELECT DISTINCT township, village FROM alert ORDER BY 1, 2").fetchall()
    precision = store.precision()


def model_name(m):
    return f"{titles[m][LANG]} ({m})" if m in titles else m


ALL = tr("all")
c = st.columns(4)
model = c[0].selectbox(tr("model"), [ALL] + models, format_func=lambda m: m if m == ALL else model_name(m), key="q_model")
severity = c[1].selectbox(tr("severity"), [ALL, "high", "medium", "low"], key="q_sev")
status = c[2].selectbox(tr("status"), [ALL, *STATUSES], key="q_status",
                        format_func=lambda s: s if s == ALL else (STATUS_ZH[s] if LANG == "zh" else s))
ORDERS = {"rank": ("风险排序", "rank"), "date": ("事件日期", "event date"), "model": ("模型", "model"),
          "first_seen": ("发现时间", "first seen")}
order = c[3].selectbox(tr("sort"), list(ORDERS), key="q_order", format_func=lambda o: ORDERS[o][LANG == "en"])
c = st.columns(4)
townships = sorted({p[0] for p in places if p[0]})
township = c[0].selectbox(tr("township"), [ALL] + townships, key="q_town")
villages = sorted({p[1] for p in places if p[1] and (township == ALL or p[0] == township)})
village = c[1].selectbox(tr("village"), [ALL] + villages, key="q_village")
since = c[2].date_input(tr("since"), value=None, key="q_since")
until = c[3].date_input(tr("until"), value=None, key="q_until")

filters = {"model": None if model == ALL else model, "severity": None if severity == ALL else severity,
           "status": None if status == ALL else status, "township": None if township == ALL else township,
           "village": None if village == ALL else village, "since": since.isoformat() if since else None,
           "until": until.isoformat() if until else None}
with cache.alerts() as store:
    total = store.count(**filters)
    c = st.columns([1, 1, 4])
    per_page = c[0].selectbox(tr("per_page"), [25, 50, 100, 200], key="q_per")
    pages = max(1, -(-total // per_page))
    page = c[1].number_input(tr("page"), 1, pages, 1, key="q_page")
    c[2].markdown(f"### {total:,} {tr('alerts_found')}")
    rows = store.list(**filters, order=order, limit=per_page, offset=(page - 1) * per_page)

if not rows:
    st.info(f"{tr('no_alerts')} {cache.workspace()}")
    if not models and st.button(tr("run_models"), key="q_run"):
        from graphwatch.alerts.runner import run_models

        bar = st.progress(0.0, tr("running"))
        with guarded():
            run_models(cache.workspace(), progress=lambda step, k, n: bar.progress(k / max(n, 1), f"{tr('running')} {step}"))
            st.rerun()
else:
    um = unmasked()
    table = pd.DataFrame([{"id": a["id"], tr("model"): model_name(a["model"]), tr("severity"): a["severity"],
                           tr("status"): STATUS_ZH[a["status"]] if LANG == "zh" else a["status"],
                           tr("subject"): a["subject_name"], "ID": show_text(a["subject_ident"], um),
                           tr("township"): a["township"], tr("village"): a["village"], "date": a["event_date"],
                           tr("explanation"): show_text(a["explain_zh"] if LANG == "zh" else a["explain_en"], um),
                           "rank": round(a["rank"], 3), "matching": a["matching"]} for a in rows])
    st.dataframe(table, hide_index=True, width="stretch", key="q_table")
    c = st.columns([3, 1])
    c[0].selectbox(tr("choose_alert"), [a["id"] for a in rows], key="q_pick")
    c[1].button(tr("open_alert"), key="q_open", type="primary")          # handled at the top of the page

st.subheader(tr("counts"))
counts = pd.DataFrame([{tr("model"): model_name(m), "alerts": d["alerts"], tr("confirm"): d["confirmed"],
                        tr("dismiss"): d["dismissed"], tr("in_review"): d["in_review"],
                        tr("precision"): f"{d['precision']:.0%}" if d["precision"] is not None else tr("no_verdicts")}
                       for m, d in sorted(precision.items())])
st.dataframe(counts, hide_index=True, width="stretch")
