"""数据 · loaded datasets with their accounting, quarantined rows with reasons, the review queue
of entity resolution (same / not same / unsure), the audit log."""

import pandas as pd
import streamlit as st

from graphwatch_app import cache
from graphwatch_app.services import show_text
from graphwatch_app.widgets import guarded, tr, unmasked, who

st.title(tr("data"))
um = unmasked()
with guarded():
    with cache.graph_db() as ws:
        reports = ws.con.execute("""SELECT dataset, source, format, encoding, rows_read, rows_loaded, rows_quarantined,
            nodes, rels, CAST(loaded_at AS VARCHAR) AS loaded_at FROM load_report ORDER BY dataset""").df()
        quarantine = ws.con.execute("""SELECT dataset, source, line_label, line, "column", reason, raw FROM quarantine
            ORDER BY dataset, line LIMIT 5000""").df()
        qtotal = ws.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    st.subheader(tr("datasets"))
    reports["read = loaded + quarantined"] = reports["rows_read"] == reports["rows_loaded"] + reports["rows_quarantined"]
    st.dataframe(reports, hide_index=True, width="stretch", key="d_reports")
    st.subheader(f"{tr('quarantine')} ({qtotal:,})")
    if qtotal:
        quarantine["raw"] = [show_text(str(r), um) for r in quarantine["raw"]]
        st.dataframe(quarantine, hide_index=True, width="stretch", key="d_quarantine")
        if qtotal > len(quarantine):
            st.caption(f"first {len(quarantine):,} of {qtotal:,}: graphwatch quarantine --workspace {cache.workspace()}")
    else:
        st.caption(tr("none"))

st.subheader(tr("review_queue"))
with guarded():
    from graphwatch.exc import ResolveError
    from graphwatch.resolve.review import review_counts, review_queue

    try:
        with cache.graph_db() as ws:
            queue = review_queue(ws, limit=200)
            rtotal, _ = review_counts(ws)
    except ResolveError:
        queue = None
        st.info(tr("not_resolved"))
    if queue is not None and queue.empty:
        st.caption(tr("none"))
    elif queue is not None:
        st.dataframe(queue[["probability", "a", "a_name", "b", "b_name", "status", "judgement"]], hide_index=True,
                     width="stretch", key="d_queue")
        if len(queue) < rtotal:
            st.caption(f"first {len(queue):,} of {rtotal:,}: graphwatch review --limit 0 --workspace {cache.workspace()}")
        pairs = list(zip(queue["a"], queue["b"]))
        k = st.selectbox(tr("pair"), range(len(pairs)), key="d_pair",
                         format_func=lambda i: f"{queue['a_name'].iat[i]} {pairs[i][0]}  ~  {queue['b_name'].iat[i]} "
                                               f"{pairs[i][1]}  ({queue['probability'].iat[i]:.2f})")
        why = st.text_input(tr("note"), key="d_why", max_chars=500)
        c = st.columns(3)
        for col, judgement in zip(c, ("same", "not_same", "unsure")):
            if col.button(tr(judgement), key=f"d_{judgement}"):
                if not who():
                    st.warning(tr("need_reviewer"))
                    continue
                from graphwatch.resolve.review import judge
                from graphwatch.store import Workspace

                try:
                    ws = Workspace(cache.workspace())      # a judgement re-clusters: it writes the graph
                except Exception as exc:
                    raise cache.Busy(str(exc)) from None
                with ws, st.spinner("…"):
                    result = judge(ws, pairs[k][0], pairs[k][1], judgement, who=who(), why=why)
                st.success(f"{tr('judged')}: {result.describe()}")

st.subheader(tr("audit"))
with cache.alerts() as store:
    log = store.audit_log(200)
if log:
    st.dataframe(pd.DataFrame(log), hide_index=True, width="stretch", key="d_audit")
else:
    st.caption(tr("none"))
