"""Evidence exports for case files: diagrams (SVG, PNG, PDF), the case dossier PDF, GraphML,
GEXF, JSON, CSV and i2 ANX — masked by default, every export recorded in the audit table.

::

    from graphwatch.export import evidence, export
    ev = evidence.from_alert("ws", "own_village_project-e421a8680bc0")
    export("ws", ev, "dossier", "case.pdf", who="李四")          # masked; audited
"""

from __future__ import annotations

from pathlib import Path

from ..exc import GraphwatchError
from .evidence import Evidence, masked

FORMATS = ("svg", "png", "pdf", "dossier", "graphml", "gexf", "json", "csv", "anx")


def export(workspace, ev: Evidence, fmt: str, out, *, lang: str = "zh", unmask: bool = False,
           who: str | None = None) -> list[Path]:
    """Write ``ev`` as ``fmt`` to ``out`` (CSV writes ``<out>.nodes.csv`` and ``<out>.edges.csv``),
    masked unless ``unmask``, and record the export in the workspace's audit table: who,
    when, what, which format, masked or not, the files written. Returns the files written."""
    from ..alerts.store import AlertStore, whoami
    from ..schema import workspace_schema

    if fmt not in FORMATS:
        raise GraphwatchError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if lang not in ("zh", "en"):
        raise GraphwatchError(f"language is zh or en, not {lang!r}")
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise GraphwatchError(f"{out.parent}: no such folder")
    ev.generated_by = whoami(who)
    ev = masked(ev, unmask)
    schema = workspace_schema(workspace)
    written = [out]
    if fmt in ("svg", "png", "pdf"):
        from .diagram import render

        out.write_bytes(render(ev, fmt, schema=schema, lang=lang))
    elif fmt == "dossier":
        from .diagram import render
        from .dossier import write_dossier

        write_dossier(ev, out, schema=schema, lang=lang, diagram_png=render(ev, "png", schema=schema, lang=lang))
    elif fmt == "graphml":
        from .formats import write_graphml

        write_graphml(ev, out)
    elif fmt == "gexf":
        from .formats import write_gexf

        write_gexf(ev, out)
    elif fmt == "json":
        from .formats import write_json

        write_json(ev, out)
    elif fmt == "csv":
        from .formats import write_csv

        written = write_csv(ev, out)
    else:
        from .anx import write_anx

        write_anx(ev, out, schema=schema, lang=lang)
    with AlertStore(workspace) as store:
        store.audit("export", who=ev.generated_by, what=ev.what, format=fmt, masked=ev.masked,
                    detail=f"{len(ev.nodes)} nodes, {len(ev.rels)} relationships → {', '.join(str(p) for p in written)}")
    return written


__all__ = ["FORMATS", "Evidence", "export"]
