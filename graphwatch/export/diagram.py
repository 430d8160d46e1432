"""Evidence diagrams through Graphviz: SVG, PNG and PDF with Chinese text.

Every node is an i2-style evidence card — what it is (label and name), the properties that
identify it, and the source record it came from; every relationship is labelled with its
type, its dates and its source record. The title and the alert's explanation stand on top,
a legend of the shapes and line styles at the bottom. ``dot`` lays out evidence graphs up to
80 nodes left to right (a 30-node alert stays readable); larger ones use ``sfdp`` with
overlap removal.
"""

from __future__ import annotations

import html
import textwrap

from ..analytics.graph import LABEL_ORDER, primary_label
from ..exc import GraphwatchError
from ..schema import Schema
from .evidence import Evidence, node_caption, records_of
from .style import (CARD_PROPERTIES, FONT, LINE_LEGEND, SOURCE, label_title, line_of, property_title, shape_of,
                    type_title)

FORMATS = ("svg", "png", "pdf")
DOT_LIMIT = 80


def to_dot(ev: Evidence, *, schema: Schema, lang: str = "zh", legend: bool = True) -> str:
    """The Graphviz DOT text of an evidence diagram."""
    import graphviz

    big = len(ev.nodes) > DOT_LIMIT
    g = graphviz.Digraph("evidence", engine="sfdp" if big else "dot")
    g.attr(rankdir="LR", fontname=FONT, labelloc="t", labeljust="l", nodesep="0.3", ranksep="0.8",
           pad="0.3", newrank="true", outputorder="edgesfirst", charset="UTF-8")
    if big:
        g.attr(overlap="prism", splines="true", sep="+6")
    g.attr(label=_title_label(ev, lang, _legend(ev, schema, lang) if legend else ""))
    g.attr("node", fontname=FONT, fontsize="10", style="filled", margin="0.08,0.04")
    g.attr("edge", fontname=FONT, fontsize="8", color="#555555", fontcolor="#333333", arrowsize="0.6")
    focus = set(ev.focus)
    for n in sorted(ev.nodes, key=_node_order):
        label = primary_label(n["labels"])
        shape, fill, border = shape_of(label)
        g.node(str(n["id"]), label=_card(n, label, schema, lang), shape="box" if shape == "rbox" else shape,
               style="rounded,filled" if shape == "rbox" else "filled", fillcolor=fill, color=border,
               penwidth="2.6" if n["id"] in focus else "1.1")
    for r in sorted(ev.rels, key=lambda r: (r["start"], r["end"], r["type"], r["id"])):
        attrs = {"style": line_of(r), "label": _rel_label(r, schema, lang)}
        undirected = r["type"] in schema.rel_types and schema.rel_types[r["type"]].undirected
        if undirected:
            attrs["dir"] = "none"
        g.edge(str(r["start"]), str(r["end"]), **attrs)
    return g.source


def render(ev: Evidence, fmt: str, *, schema: Schema, lang: str = "zh", dpi: int = 144) -> bytes:
    """The diagram as ``svg``, ``png`` or ``pdf`` bytes."""
    import graphviz

    if fmt not in FORMATS:
        raise GraphwatchError(f"a diagram is one of {', '.join(FORMATS)}, not {fmt!r}")
    dot = to_dot(ev, schema=schema, lang=lang)
    src = graphviz.Source(dot, engine="sfdp" if len(ev.nodes) > DOT_LIMIT else "dot")
    try:
        if fmt == "png":
            return src.pipe(format="png", renderer="cairo", formatter="cairo", quiet=True) if dpi == 96 else \
                graphviz.Source(dot.replace("digraph evidence {", f"digraph evidence {{\n\tdpi={dpi}", 1),
                                engine=src.engine).pipe(format="png", renderer="cairo", quiet=True)
        if fmt == "pdf":
            return src.pipe(format="pdf", renderer="cairo", quiet=True)
        return src.pipe(format="svg", quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphwatchError("Graphviz is not installed (the 'dot' program): install the Debian package "
                              "graphviz (scripts/debian-packages.txt)") from None


def _node_order(n: dict):
    label = primary_label(n["labels"])
    return (LABEL_ORDER.index(label) if label in LABEL_ORDER else len(LABEL_ORDER), n["id"])


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _title_label(ev: Evidence, lang: str, legend: str) -> str:
    lines = [f'<FONT POINT-SIZE="16"><B>{_e(ev.title(lang))}</B></FONT>']
    for chunk in textwrap.wrap(ev.explanation(lang) or "", 48 if lang == "zh" else 100)[:6]:
        lines.append(f'<FONT POINT-SIZE="11">{_e(chunk)}</FONT>')
    when = "生成于" if lang == "zh" else "generated"
    mask = ("（身份证号、电话已脱敏）" if lang == "zh" else " (ID and phone numbers masked)") if ev.masked else ""
    lines.append(f'<FONT POINT-SIZE="8" COLOR="#666666">{when} {_e(ev.generated_at)}'
                 f'{" · " + _e(ev.generated_by) if ev.generated_by else ""}{_e(mask)}</FONT>')
    rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines)
    if legend:
        rows += f'<TR><TD ALIGN="LEFT">{legend}</TD></TR>'
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>'


def _card(n: dict, label: str | None, schema: Schema, lang: str) -> str:
    rows = [f'<TR><TD><FONT POINT-SIZE="8" COLOR="#555555">{_e(label_title(schema, label, lang))}</FONT></TD></TR>',
            f"<TR><TD><B>{_e(node_caption(n))}</B></TD></TR>"]
    for p in CARD_PROPERTIES.get(label or "", ()):
        v = n["properties"].get(p)
        if v not in (None, ""):
            rows.append(f'<TR><TD><FONT POINT-SIZE="8">{_e(property_title(p, lang))} {_e(_number(v))}</FONT></TD></TR>')
    refs = records_of(n)
    if refs:
        more = f" (+{len(refs) - 1})" if len(refs) > 1 else ""
        rows.append(f'<TR><TD><FONT POINT-SIZE="7" COLOR="#777777">{SOURCE[lang]} {_e(_short(refs[0]))}{more}'
                    "</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _number(v):
    """Money and areas with thousands separators (748800.0 → 748,800).

    >>> _number(748800.0), _number(1234.5), _number("x")
    ('748,800', '1,234.50', 'x')
    """
    if isinstance(v, float) and not isinstance(v, bool):
        return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"
    return v


def _short(ref: str, width: int = 48) -> str:
    """``dataset#record`` shortened in the middle of the dataset (the record number stays whole)."""
    if len(ref) <= width:
        return ref
    ds, _, rec = ref.partition("#")
    keep = max(8, width - len(rec) - 2)
    return ds[: keep // 2] + "…" + ds[-(keep - keep // 2):] + "#" + rec


def _rel_label(r: dict, schema: Schema, lang: str) -> str:
    parts = [f"<B>{_e(type_title(schema, r['type'], lang))}</B>"]
    extra = ", ".join(f"{property_title(k, lang)} {v}" for k, v in r["properties"].items()
                      if k in ("share", "post", "relation", "kin", "role", "position", "bid_amount", "score"))
    if extra:
        parts.append(_e(extra))
    if r.get("valid_from") or r.get("valid_to"):
        parts.append(_e(f"{r.get('valid_from') or '…'} – {r.get('valid_to') or '…'}"))
    refs = records_of(r)
    if refs:
        more = f" (+{len(refs) - 1})" if len(refs) > 1 else ""
        parts.append(f'<FONT POINT-SIZE="7" COLOR="#777777">{_e(_short(refs[0], 40))}{more}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def _legend(ev: Evidence, schema: Schema, lang: str) -> str:
    """The legend as an HTML table: one cell per label drawn (its fill and border colours and
    shape name) and the line styles used."""
    labels = sorted({primary_label(n["labels"]) for n in ev.nodes} - {None},
                    key=lambda x: LABEL_ORDER.index(x) if x in LABEL_ORDER else 99)
    styles = sorted({line_of(r) for r in ev.rels}, key=list(LINE_LEGEND).index)
    cells = [f'<TD><FONT POINT-SIZE="9"><B>{"图例" if lang == "zh" else "Legend"}</B></FONT></TD>']
    for lab in labels:
        shape, fill, border = shape_of(lab)
        cells.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" STYLE="rounded">'
                     f'<FONT POINT-SIZE="9">{_e(label_title(schema, lab, lang))}</FONT></TD>')
    marks = {"solid": "——", "dashed": "- - -", "dotted": "· · ·"}
    for style in styles:
        cells.append(f'<TD><FONT POINT-SIZE="9">{marks[style]} {_e(LINE_LEGEND[style][0 if lang == "zh" else 1])}'
                     "</FONT></TD>")
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>' + "".join(cells)
            + "</TR></TABLE>")
