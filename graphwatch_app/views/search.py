"""查询 · find entities by name (normalised, same pinyin, fuzzy), ID number, company name or USCC."""

import pandas as pd
import streamlit as st

from graphwatch.analytics.graph import primary_label
from graphwatch_app import cache
from graphwatch_app.services import check_search, search, show_key, show_text
from graphwatch_app.widgets import guarded, tr, unmasked

st.title(tr("search"))
with st.form("s_form"):
    text = st.text_input(tr("query"), key="s_text")
    submitted = st.form_submit_button(tr("search"))
if submitted or st.session_state.get("s_hits") is not None:
    if submitted:
        st.session_state["s_hits"] = None
        with guarded():
            check_search(text)
            folder = str(cache.workspace())
            fp = cache.fingerprint()
            index = cache.names(folder, fp)
            with cache.graph_db() as ws:
                st.session_state["s_hits"] = search(ws.con, text, index)
    hits = st.session_state.get("s_hits")
    if hits == []:
        st.info(tr("no_results"))
    elif hits:
        um = unmasked()
        st.subheader(f"{tr('results')} ({len(hits)})")
        st.dataframe(pd.DataFrame([{"id": str(h["id"]), "label": primary_label(h["labels"]), "name": h["name"],
                                    "ID / USCC": show_text(h["id_number"], um) or h["uscc"], "key": show_key(h["key"], um),
                                    tr("match"): h["match"], tr("sources"): ", ".join(h["sources"])} for h in hits]),
                     hide_index=True, width="stretch", key="s_table")
        c = st.columns([3, 1])
        pick = c[0].selectbox(tr("choose_entity"), [h["id"] for h in hits], key="s_pick",
                              format_func=lambda i: next(f"{h['name'] or ''} · {primary_label(h['labels'])} · {i}"
                                                         for h in hits if h["id"] == i))
        if c[1].button(tr("open_entity"), key="s_open"):
            st.session_state["entity_id"] = int(pick)
            st.switch_page("views/entity.py")
