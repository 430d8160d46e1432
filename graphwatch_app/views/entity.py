"""对象画像 · an entity: properties with sources, timeline, neighbourhood hop by hop, alerts, SAME_AS."""

import pandas as pd
import streamlit as st

from graphwatch.analytics import find_entity
from graphwatch.analytics.traverse import among, one_hop
from graphwatch_app import EXPAND_EVENT, cache
from graphwatch_app.services import (alerts_involving, check_search, drawing, elements, show_key, show_props,
                                     show_text, shown)
from graphwatch_app.widgets import details, graph_view, guarded, lang, new_event, tr, unmasked

st.title(tr("entity"))
um = unmasked()
with st.form("e_form"):
    text = st.text_input(tr("choose_entity"), key="e_text")
    if st.form_submit_button(tr("search")):
        with guarded():
            g = cache.graph()
            st.session_state["entity_id"] = int(g.nid[find_entity(g, check_search(text))])
nid = st.session_state.get("entity_id")
if nid is None:
    st.info(tr("choose_entity"))
    st.stop()

EXPAND_LIMIT = 60


def expand(state: dict, ids, types) -> None:
    """Add the neighbours of ``ids`` (workspace ids) over ``types`` to the drawing, walked on the
    graph's arrays (the analytics cache), with the relationships among the drawn nodes (kept
    as dense edges, what :func:`drawing` reads, and as workspace ids)."""
    g = cache.graph()
    where = state["vertex"]
    for i in ids:
        v = where.get(int(i))
        v = g.vertex(int(i)) if v is None else v
        found, cut = one_hop(g, v, types=types or None, limit=EXPAND_LIMIT)
        where.update(zip(g.nid[found].tolist(), found.tolist()))
        where[int(i)] = v
        state["expanded"].add(int(i))
        state["cut"] += cut
    state["nodes"] = set(where)
    edges = among(g, where.values(), types=types or None)
    state["edges"] |= set(edges.tolist())
    state["rels"] |= set(g.rid[edges].tolist())


def fresh(nid: int, types) -> dict:
    state = {"root": nid, "vertex": {}, "nodes": set(), "edges": set(), "rels": set(), "expanded": set(), "cut": 0}
    expand(state, [nid], types)
    return state


@st.fragment
def neighbourhood(nid: int, um: bool) -> None:
    """The neighbourhood, hop by hop. A fragment: an expansion, a click or a type filter reruns
    this part alone, not the page (its properties, timeline and alerts stay as drawn)."""
    with guarded():
        _neighbourhood(nid, um)


def _neighbourhood(nid: int, um: bool) -> None:
    g, fp = cache.graph(), cache.fingerprint()
    types = st.multiselect(tr("types_filter"), sorted(g.types), key="e_types")
    state = st.session_state.get("nb")
    if not state or state["root"] != nid or state.get("fp") != fp:      # dense ids change with the graph
        state = st.session_state["nb"] = {**fresh(nid, types), "fp": fp}
    # an expansion asked for by a double-click (the component's value, read before it is drawn
    # again) or by the button is applied before drawing: one run per expansion, no st.rerun
    event = new_event(st.session_state.get(f"nb-{nid}"), f"nb-{nid}")
    if event and event.get("action") == EXPAND_EVENT and str(event["data"].get("target_id", "")).isdigit():
        expand(state, [int(event["data"]["target_id"])], types)
        state["relayout"] = state.get("relayout", 0) + 1
    c = st.columns([3, 1, 1])
    pick = st.session_state.get("e_expand_pick")
    if c[1].button(tr("expand"), key="e_expand") and pick is not None:
        expand(state, [pick], types)
        state["relayout"] = state.get("relayout", 0) + 1       # the component lays out only its own expansions
    if c[2].button(tr("reset"), key="e_reset"):
        state.update(fresh(nid, types), relayout=state.get("relayout", 0) + 1)
    view = shown(drawing(g, state["edges"], state["vertex"].values()), um)
    names = {n["id"]: f"{n['properties'].get('name') or n['key']} ({n['id']})" for n in view["nodes"]}
    options = [i for i in names if i not in state["expanded"]] or [nid]
    if st.session_state.get("e_expand_pick") not in options:
        st.session_state.pop("e_expand_pick", None)
    c[0].selectbox(tr("expand"), options, format_func=lambda i: names.get(i, str(i)), key="e_expand_pick")
    st.caption(f"{len(state['nodes'])} nodes · {len(state['rels'])} relationships · {tr('hop_of')} "
               f"{len(state['expanded'])}" + (f" · {state['cut']} not shown (limit {EXPAND_LIMIT} per expansion)"
                                              if state["cut"] else ""))
    left, right = st.columns([3, 1])
    with left:
        value = graph_view(elements(view["nodes"], view["rels"], focus=[nid], lang=lang(),
                                    schema=cache.schema_titles(str(cache.workspace()))),
                           key=f"nb-{nid}", expand=True, height=520, relayout=state.get("relayout", 0))
    with right:
        full = cache.clicked(value)           # the clicked element's properties and records, read now
        full = shown(full, um) if full else view
        details(value, full["nodes"], full["rels"])


with guarded():
    info, events, twins = cache.entity_page(str(cache.workspace()), cache.fingerprint(), int(nid))
    name = next((p["value"] for p in info["properties"] if p["property"] == "name"), "")
    st.subheader(f"{name} · {' · '.join(info['labels'])}")
    st.caption(f"{show_key(info['key'], um)} · id {info['id']} · {tr('sources')}: {', '.join(info['datasets'])}")
    tabs = st.tabs([tr("neighbourhood"), tr("properties"), tr("timeline"), tr("involved"), tr("same_as")])
    with tabs[1]:
        props = show_props({p["property"]: p["value"] for p in info["properties"]}, um)
        st.dataframe(pd.DataFrame([{"property": p["property"], "value": str(props[p["property"]]),
                                    tr("sources"): p["sources"]} for p in info["properties"]]),
                     hide_index=True, width="stretch", key="e_props")
    with tabs[2]:
        if events:
            st.dataframe(pd.DataFrame(events).drop(columns=["other_id"]), hide_index=True, width="stretch")
        else:
            st.caption(tr("none"))
    with tabs[3]:
        with cache.alerts() as store:
            involved = alerts_involving(store, info["key"])
        if involved:
            st.dataframe(pd.DataFrame(involved), hide_index=True, width="stretch")
            pick = st.selectbox(tr("choose_alert"), [a["id"] for a in involved], key="e_alert")
            if st.button(tr("open_alert"), key="e_open_alert"):
                st.session_state["alert_id"] = pick
                st.switch_page("views/alert.py")
        else:
            st.caption(tr("none"))
    with tabs[4]:
        if twins:
            st.dataframe(pd.DataFrame([{**t, "key": show_key(t["key"], um), "records": show_text(t["records"], um)}
                                       for t in twins]), hide_index=True, width="stretch")
        else:
            st.caption(tr("none"))
    with tabs[0]:
        neighbourhood(int(nid), um)
