"""Widgets every page shares: the sidebar (language, reviewer, masking), the evidence graph,
the export buttons and the way errors are shown."""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from graphwatch.exc import GraphwatchError

from . import EXPAND_EVENT, cache
from .i18n import t

GRAPH_EVENTS = None
LABEL_COLOURS = {"Person": "#4e79a7", "Official": "#e15759", "VillageCadre": "#e15759", "Company": "#f28e2b",
                 "Organisation": "#76b7b2", "Village": "#59a14f", "Township": "#59a14f", "County": "#59a14f",
                 "Contract": "#b07aa1", "Project": "#9c755f", "Tender": "#9c755f", "Benefit": "#edc948",
                 "Programme": "#edc948", "PoliceCase": "#bab0ac", "Household": "#8cd17d",
                 "DeathRecord": "#79706e", "Disability": "#d4a6c8", "RealEstate": "#86bcb6", "Vehicle": "#86bcb6"}


def lang() -> str:
    return st.session_state.get("lang", "zh")


def tr(key: str) -> str:
    return t(key, lang())


def who() -> str:
    return (st.session_state.get("who") or "").strip()


def unmasked() -> bool:
    return bool(st.session_state.get("unmask"))


def sidebar() -> None:
    """Language (Chinese first), reviewer name, masking toggle: on every page."""
    with st.sidebar:
        st.radio(t("language"), ["zh", "en"], key="lang", horizontal=True,
                 format_func=lambda v: "中文" if v == "zh" else "English")
        st.text_input(tr("reviewer"), key="who", help=tr("reviewer_help"), max_chars=40)
        st.toggle(tr("unmask"), key="unmask", on_change=_audit_unmask)
        if unmasked():
            st.warning(tr("unmasked_warn"))
        st.caption(f"{tr('workspace')}: {cache.workspace()}")


def _audit_unmask() -> None:
    if st.session_state.get("unmask"):
        with cache.alerts() as store:
            store.audit("unmask", who=who() or "explorer (no name given)", what="explorer session", masked=False,
                        detail="identifiers shown in full in the explorer")


@contextmanager
def guarded(source: str | None = None):
    """Show a user's error (bad input, nothing found, a busy workspace) as one clear message;
    an error located in ``source`` (a query) also shows that line with a caret at the column."""
    try:
        yield
    except cache.Busy:
        st.warning(tr("busy"))
    except GraphwatchError as exc:
        st.error(f"{tr('error')}: {exc}")
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        lines = (source or "").splitlines()
        if isinstance(line, int) and isinstance(column, int) and 0 < line <= len(lines):
            st.code(f"{line:>4} | {lines[line - 1]}\n     | {' ' * (column - 1)}^", language=None)


def _styles():
    from st_link_analysis import NodeStyle

    class _Raw:
        def __init__(self, selector, style):
            self.selector, self.style = selector, style

        def dump(self):
            return {"selector": self.selector, "style": self.style}

    nodes = [NodeStyle(lab, colour, "name") for lab, colour in LABEL_COLOURS.items()]
    # labels visible at the first render (the component hides them below ~2.8x zoom), CJK glyphs
    raw = [_Raw("node", {"label": "data(name)", "font-size": 11, "min-zoomed-font-size": 0,
                         "font-family": "Noto Sans CJK SC, Noto Sans CJK, WenQuanYi Micro Hei, sans-serif",
                         "text-valign": "bottom", "text-margin-y": 3}),
           _Raw("node[?focus]", {"border-width": 4, "border-color": "#d62728"}),
           _Raw("edge", {"label": "data(label)", "font-size": 8, "min-zoomed-font-size": 0,
                         "text-rotation": "autorotate", "color": "#555"})]
    return nodes, raw


def graph_view(elements: dict, *, key: str, height: int = 480, expand: bool = False, relayout: int = 0):
    """Draw ``elements`` with st-link-analysis; returns the component's last event (a click on
    a node or relationship, or with ``expand`` a double-click on a node: action
    :data:`EXPAND_EVENT`) or ``None``.

    The double-click is our own cytoscape event, not the component's "expand" node action: that
    action waits 150 ms and then the component's 100 ms send debounce (250 ms before Streamlit
    hears of it), a plain event only the 100 ms — measured, this alone decides whether a 2-hop
    expansion fits in 0.5 s. The component lays out only its first drawing; nodes added later
    would sit at the origin, so a new ``relayout`` number changes the layout's options, which
    makes it lay the whole drawing out again."""
    import warnings

    from st_link_analysis import EdgeStyle, st_link_analysis
    from st_link_analysis.component.layouts import LAYOUTS
    from st_link_analysis.component.events import Event

    nodes, raw = _styles()
    with warnings.catch_warnings():      # 0.4.0 warns about its own deprecated 'labeled' default on every edge style
        warnings.simplefilter("ignore")
        edges = [EdgeStyle(e["data"]["label"], caption="label", directed=True)
                 for e in {e["data"]["label"]: e for e in elements["edges"]}.values()]
    events = [Event("clicked_node", "click tap", "node"), Event("clicked_edge", "click tap", "edge")]
    if expand:     # after the clicks of a double-click: the send is debounced, the last event is sent
        events.append(Event(EXPAND_EVENT, "dblclick dbltap", "node"))
    layout = {**LAYOUTS["cose"], "relayout": relayout} if relayout else "cose"
    return st_link_analysis(elements, layout=layout, node_styles=nodes, edge_styles=edges + raw, height=height,
                            key=key, events=events)


def new_event(value, key: str):
    """The component's value if it is an event not handled yet (its value persists across reruns)."""
    if not isinstance(value, dict) or "timestamp" not in value:
        return None
    seen = st.session_state.setdefault("_seen_events", {})
    if seen.get(key) == value["timestamp"]:
        return None
    seen[key] = value["timestamp"]
    return value


def details(value, nodes: list[dict], rels: list[dict]) -> None:
    """The clicked node's or relationship's properties, dates and source records."""
    from .services import show_key, show_props

    if not isinstance(value, dict):
        st.caption(tr("click_hint"))
        return
    target = str((value.get("data") or {}).get("target_id", ""))
    if value.get("action") == "clicked_edge" or target.startswith("r"):
        hit = next((r for r in rels if f"r{r['id']}" == target), None)
        if hit:
            st.markdown(f"**[:{hit['type']}]** {hit.get('valid_from') or ''} – {hit.get('valid_to') or ''}")
            st.json({"properties": show_props(hit["properties"], unmasked()), "dataset": hit.get("dataset"),
                     "datasets": hit.get("datasets"), "records": hit.get("records")}, expanded=True)
            return
    hit = next((n for n in nodes if str(n["id"]) == target), None)
    if hit:
        st.markdown(f"**{' · '.join(hit['labels'])}** `{show_key(hit['key'], unmasked())}`")
        st.json({"properties": show_props(hit["properties"], unmasked()), "datasets": hit.get("datasets"),
                 "records": hit.get("records")}, expanded=True)
    else:
        st.caption(tr("click_hint"))


EXPORTS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf", "dossier": "application/pdf",
           "graphml": "application/xml", "json": "application/json", "anx": "application/xml"}


def export_buttons(make_evidence, *, key: str) -> None:
    """Prepare-then-download buttons for every export format; each export is masked unless
    the reviewer unmasked, and recorded in the audit with the reviewer's name."""
    import tempfile
    from pathlib import Path

    from graphwatch.export import export

    st.markdown(f"**{tr('export')}**")
    fmt = st.radio(tr("export"), list(EXPORTS), horizontal=True, key=f"{key}-fmt", label_visibility="collapsed",
                   format_func=lambda f: f.upper())
    if st.button(tr("prepare"), key=f"{key}-prepare"):
        if not who():
            st.warning(tr("need_reviewer"))
        else:
            with guarded(), st.spinner("…"):
                ev = make_evidence()
                ext = {"dossier": "pdf"}.get(fmt, fmt)
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / f"{key}.{ext}"
                    export(cache.workspace(), ev, fmt, out, lang=lang(), unmask=unmasked(), who=who())
                    st.session_state[f"{key}-file"] = (fmt, f"{key}-{fmt}.{ext}", out.read_bytes())
    ready = st.session_state.get(f"{key}-file")
    if ready:
        fmt_ready, name, data = ready
        st.download_button(f"{tr('download')} {name}", data, file_name=name, mime=EXPORTS[fmt_ready],
                           key=f"{key}-download")
