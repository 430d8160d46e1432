"""The case dossier (案件证据材料): one PDF a case officer files.

It holds, in order: the title, the alert's model, severity and status; the explanation; the
evidence diagram; a table of every node and one of every relationship, each with its
properties, dates and every source record (dataset and record) it came from; the verdict
history (who decided what, when, why); and on every page when and by whom it was generated
and whether identifiers are masked. HTML and CSS laid out by WeasyPrint on Pango, so Chinese
text uses the CJK font through fontconfig and stays text (searchable, copyable) in the PDF.
"""

from __future__ import annotations

import base64
import html

from ..analytics.graph import primary_label
from ..exc import MissingDependency
from ..schema import Schema
from .evidence import Evidence, node_caption, records_of
from .style import FONT, label_title, property_title, type_title

TEXT = {
    "zh": {"doc": "案件证据材料", "explain": "一、预警说明", "diagram": "二、关系图", "nodes": "三、涉及人员与对象",
           "rels": "四、关系及来源", "history": "五、核查记录", "none": "尚无核查记录", "n": "序号", "label": "类别",
           "name": "名称", "key": "标识", "props": "属性", "sources": "来源记录", "type": "关系", "from": "起点",
           "to": "终点", "dates": "有效期", "at": "时间", "who": "核查人", "change": "状态变化", "note": "说明",
           "model": "预警模型", "severity": "等级", "status": "状态", "generated": "生成时间", "by": "生成人",
           "masked": "身份证号、电话号码已脱敏", "unmasked": "未脱敏：含完整身份证号、电话号码，注意保密",
           "page": "第 {p} 页 / 共 {n} 页"},
    "en": {"doc": "Case evidence", "explain": "1. Explanation", "diagram": "2. Diagram", "nodes": "3. Entities",
           "rels": "4. Relationships and sources", "history": "5. Verdict history", "none": "no verdict recorded yet",
           "n": "#", "label": "kind", "name": "name", "key": "key", "props": "properties", "sources": "source records",
           "type": "relationship", "from": "from", "to": "to", "dates": "valid", "at": "at", "who": "who",
           "change": "status", "note": "note", "model": "model", "severity": "severity", "status": "status",
           "generated": "generated", "by": "by", "masked": "ID and phone numbers masked",
           "unmasked": "UNMASKED: full ID and phone numbers, handle as confidential", "page": "page {p} of {n}"},
}

CSS = """
@page landscape { size: A4 landscape; }
.landscape { page: landscape; page-break-before: always; page-break-after: always; }
.landscape img.diagram { max-height: 165mm; }
@page { size: A4; margin: 16mm 13mm 18mm 13mm;
        @bottom-left { content: "%(footer)s"; font-size: 7pt; color: #555; font-family: "%(font)s"; }
        @bottom-right { content: %(page)s; font-size: 7pt; color: #555; font-family: "%(font)s"; } }
body { font-family: "%(font)s", sans-serif; font-size: 9pt; line-height: 1.45; color: #111; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #888; page-break-after: avoid; }
.meta { color: #333; font-size: 8.5pt; }
.warn { color: #a00; font-weight: bold; }
.explain { font-size: 10.5pt; border-left: 3px solid #c0392b; padding-left: 3mm; }
img.diagram { max-width: 100%%; max-height: 235mm; display: block; margin: 0 auto; }
table { border-collapse: collapse; width: 100%%; font-size: 7.5pt; }
thead { display: table-header-group; }
th { background: #eee; text-align: left; word-break: keep-all; white-space: nowrap; }
td:first-child { white-space: nowrap; word-break: keep-all; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.2mm; vertical-align: top; word-break: break-all; }
tr { page-break-inside: avoid; }
"""


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def to_html(ev: Evidence, *, schema: Schema, lang: str = "zh", diagram_png: bytes | None = None) -> str:
    """The dossier as one HTML document (what :func:`write_dossier` lays out)."""
    t = TEXT[lang]
    mask = t["masked"] if ev.masked else t["unmasked"]
    footer = f"{t['doc']} · {ev.what} · {t['generated']} {ev.generated_at} · {t['by']} {ev.generated_by} · {mask}"
    page = _page_content(t["page"])
    css = CSS % {"font": FONT, "footer": footer.replace('"', "'"), "page": page}
    out = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{_e(ev.title(lang))}</title>"
           f"<style>{css}</style></head><body>",
           f"<h1>{t['doc']}：{_e(ev.title(lang))}</h1>" if lang == "zh" else f"<h1>{t['doc']}: {_e(ev.title(lang))}</h1>"]
    meta = []
    if ev.alert:
        a = ev.alert
        meta += [f"{t['model']} {_e(a.get('model'))}", f"{t['severity']} {_e(a.get('severity'))}",
                 f"{t['status']} {_e(a.get('status'))}"]
    meta += [f"{t['generated']} {_e(ev.generated_at)}", f"{t['by']} {_e(ev.generated_by)}"]
    out.append(f"<p class='meta'>{' · '.join(meta)}<br><span class='{'meta' if ev.masked else 'warn'}'>{_e(mask)}"
               "</span></p>")
    out.append(f"<h2>{t['explain']}</h2><p class='explain'>{_e(ev.explanation(lang))}</p>")
    if diagram_png:
        data = base64.b64encode(diagram_png).decode()
        width, height = int.from_bytes(diagram_png[16:20], "big"), int.from_bytes(diagram_png[20:24], "big")
        wide = width > 1.4 * height          # a wide diagram gets a landscape page of its own
        out.append(f"<div class='{'landscape' if wide else ''}'><h2>{t['diagram']}</h2>"
                   f"<img class='diagram' src='data:image/png;base64,{data}'></div>")
    names = {n["id"]: node_caption(n) for n in ev.nodes}
    out.append(f"<h2>{t['nodes']}</h2><table><thead><tr><th>{t['n']}</th><th>{t['label']}</th><th>{t['name']}</th>"
               f"<th>{t['key']}</th><th>{t['props']}</th><th>{t['sources']}</th></tr></thead><tbody>")
    for i, n in enumerate(ev.nodes, start=1):
        props = "<br>".join(f"{_e(property_title(k, lang))}: {_e(_value(v))}" for k, v in n["properties"].items()
                            if k != "name")
        out.append(f"<tr><td>{i}</td><td>{_e(label_title(schema, primary_label(n['labels']), lang))}</td>"
                   f"<td>{_e(node_caption(n))}</td><td>{_e(n['key'])}</td><td>{props}</td>"
                   f"<td>{'<br>'.join(_e(x) for x in records_of(n))}</td></tr>")
    out.append("</tbody></table>")
    out.append(f"<h2>{t['rels']}</h2><table><thead><tr><th>{t['n']}</th><th>{t['type']}</th><th>{t['from']}</th>"
               f"<th>{t['to']}</th><th>{t['dates']}</th><th>{t['props']}</th><th>{t['sources']}</th></tr></thead><tbody>")
    for i, r in enumerate(ev.rels, start=1):
        dates = f"{r.get('valid_from') or '…'} – {r.get('valid_to') or '…'}" if (r.get("valid_from") or r.get("valid_to")) else ""
        props = "<br>".join(f"{_e(property_title(k, lang))}: {_e(_value(v))}" for k, v in r["properties"].items())
        out.append(f"<tr><td>{i}</td><td>{_e(type_title(schema, r['type'], lang))}<br><small>{_e(r['type'])}</small></td>"
                   f"<td>{_e(names.get(r['start'], r.get('start_key')))}</td><td>{_e(names.get(r['end'], r.get('end_key')))}</td>"
                   f"<td>{_e(dates)}</td><td>{props}</td><td>{'<br>'.join(_e(x) for x in records_of(r))}</td></tr>")
    out.append("</tbody></table>")
    out.append(f"<h2>{t['history']}</h2>")
    if ev.history:
        out.append(f"<table><thead><tr><th>{t['at']}</th><th>{t['who']}</th><th>{t['change']}</th><th>{t['note']}</th>"
                   "</tr></thead><tbody>")
        for h in ev.history:
            out.append(f"<tr><td>{_e(h['at'])}</td><td>{_e(h['who'])}</td><td>{_e(h.get('previous') or '')} → "
                       f"{_e(h['status'])}</td><td>{_e(h.get('note') or '')}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append(f"<p>{t['none']}</p>")
    out.append("</body></html>")
    return "".join(out)


def _page_content(template: str) -> str:
    """A CSS ``content`` value for 'page {p} of {n}' in either language."""
    parts = []
    rest = template
    while rest:
        for token, css in (("{p}", "counter(page)"), ("{n}", "counter(pages)")):
            if rest.startswith(token):
                parts.append(css)
                rest = rest[len(token):]
                break
        else:
            cut = min([i for i in (rest.find("{p}"), rest.find("{n}")) if i >= 0] or [len(rest)])
            parts.append('"' + rest[:cut] + '"')
            rest = rest[cut:]
    return " ".join(parts)


def _value(v) -> str:
    return "; ".join(str(x) for x in v) if isinstance(v, list) else str(v)


def write_dossier(ev: Evidence, out, *, schema: Schema, lang: str = "zh", diagram_png: bytes | None = None) -> None:
    """Write the dossier PDF to ``out``."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:   # OSError: the Pango library is missing
        raise MissingDependency(f"the dossier needs WeasyPrint and Pango ({exc}); reinstall graphwatch's "
                                "dependencies and the Debian packages in scripts/debian-packages.txt") from None
    doc = to_html(ev, schema=schema, lang=lang, diagram_png=diagram_png)
    weasyprint.HTML(string=doc).write_pdf(str(out))
