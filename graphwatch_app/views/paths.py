"""关系路径 · the paths between two entities, drawn and exportable."""

import pandas as pd
import streamlit as st

from graphwatch.alerts.evidence import subgraph
from graphwatch.analytics import find_entity, paths
from graphwatch_app import cache
from graphwatch_app.services import check_search, elements, show_text, shown
from graphwatch_app.widgets import details, export_buttons, graph_view, guarded, lang, tr, unmasked

st.title(tr("paths"))
with st.form("p_form"):
    c = st.columns(2)
    a = c[0].text_input(tr("from"), key="p_from")
    b = c[1].text_input(tr("to"), key="p_to")
    c = st.columns([3, 1])
    with guarded():
        types = c[0].multiselect(tr("types_filter"), sorted(cache.graph().types), key="p_types")
    hops = c[1].slider(tr("max_hops"), 1, 8, 4, key="p_hops")
    go = st.form_submit_button(tr("find_paths"))
if go:
    st.session_state.pop("p_result", None)
    with guarded():
        g = cache.graph()
        va, vb = find_entity(g, check_search(a)), find_entity(g, check_search(b))
        found = paths(g, va, vb, max_hops=hops, types=types or None, all_shortest=True, limit=50)
        st.session_state["p_result"] = {"a": a.strip(), "b": b.strip(), "hops": hops, "types": types,
                                        "found": found.to_dict("records"), "ends": [int(g.nid[va]), int(g.nid[vb])]}
res = st.session_state.get("p_result")
if res is not None:
    if not res["found"]:
        st.info(tr("no_path"))
    else:
        um = unmasked()
        st.subheader(f"{len(res['found'])} {tr('paths_found')}")
        st.dataframe(pd.DataFrame([{"#": p["path"], "hops": p["hops"], "path": show_text(p["text"], um)}
                                   for p in res["found"]]), hide_index=True, width="stretch", key="p_table")
        with guarded(), cache.graph_db() as ws:
            sub = subgraph(ws.con, {n for p in res["found"] for n in p["nodes"]}, {r for p in res["found"] for r in p["rels"]})
        view = shown(sub, um)
        left, right = st.columns([3, 1])
        with left:
            value = graph_view(elements(view["nodes"], view["rels"], focus=res["ends"], lang=lang(),
                                        schema=cache.schema_titles(str(cache.workspace()))), key="p_graph")
        with right:
            details(value, view["nodes"], view["rels"])

        def make_evidence():
            from graphwatch.export.evidence import from_paths

            return from_paths(cache.workspace(), res["a"], res["b"], max_hops=res["hops"], types=res["types"] or None)

        export_buttons(make_evidence, key="paths")
