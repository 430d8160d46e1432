"""Evidence as data for other tools: GraphML and GEXF (networkx; Gephi, yEd), JSON (nodes,
relationships, properties, provenance, verdict history) and CSV (a nodes table and an edges
table, UTF-8 with a byte-order mark so Excel shows the Chinese)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..analytics.graph import primary_label
from .evidence import Evidence, node_caption, records_of

NODE_COLUMNS = ("id", "key", "label", "labels", "name", "datasets", "records", "properties")
EDGE_COLUMNS = ("id", "type", "start", "end", "start_key", "end_key", "valid_from", "valid_to", "dataset", "records",
                "properties")


def _flat(v):
    """A value GraphML / GEXF can hold: text, number or boolean (lists joined with '; ')."""
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def to_networkx(ev: Evidence):
    """A networkx ``MultiDiGraph``: node ids are workspace ids as text, edge keys relationship ids;
    every property, the labels and the provenance are attributes (lists joined with '; ')."""
    import networkx as nx

    g = nx.MultiDiGraph(name=ev.title_zh, title_en=ev.title_en, explanation=ev.explain_zh,
                        explanation_en=ev.explain_en, masked=ev.masked, generated_at=ev.generated_at,
                        generated_by=ev.generated_by)
    for n in ev.nodes:
        attrs = {k: _flat(v) for k, v in n["properties"].items() if v is not None}
        # "key" would be renamed by networkx's GEXF writer: the workspace key is entity_key in both formats
        attrs.update({"entity_key": n["key"], "label": node_caption(n), "node_label": primary_label(n["labels"]) or "",
                      "labels": "; ".join(n["labels"]), "datasets": "; ".join(n.get("datasets", [])),
                      "records": "; ".join(records_of(n))})
        g.add_node(str(n["id"]), **attrs)
    for r in ev.rels:
        attrs = {k: _flat(v) for k, v in r["properties"].items() if v is not None}
        # "type" is reserved in GEXF (directed / undirected): the relationship type is rel_type, and the
        # edge's label (what Gephi and yEd show)
        attrs.update({"id": str(r["id"]), "rel_type": r["type"], "label": r["type"], "dataset": r.get("dataset") or "",
                      "datasets": "; ".join(r.get("datasets") or [r.get("dataset") or ""]),
                      "records": "; ".join(records_of(r))})
        for k in ("valid_from", "valid_to"):
            if r.get(k):
                attrs[k] = r[k]
        g.add_edge(str(r["start"]), str(r["end"]), key=str(r["id"]), **attrs)
    return g


def write_graphml(ev: Evidence, out: Path) -> None:
    import networkx as nx

    nx.write_graphml(to_networkx(ev), out, encoding="utf-8", named_key_ids=True)


def write_gexf(ev: Evidence, out: Path) -> None:
    import networkx as nx

    nx.write_gexf(to_networkx(ev), out, encoding="utf-8")


def to_json(ev: Evidence) -> dict:
    """Everything an evidence export holds, as plain data (``format`` names it)."""
    alert = None
    if ev.alert:
        alert = {k: ev.alert.get(k) for k in ("id", "model", "severity", "status", "subject_key", "object_key",
                                                 "certainty", "first_seen", "last_seen", "event_date")}
    return {"format": "graphwatch-evidence", "version": 1, "kind": ev.kind, "what": ev.what,
            "title": {"zh": ev.title_zh, "en": ev.title_en}, "explanation": {"zh": ev.explain_zh, "en": ev.explain_en},
            "generated_at": ev.generated_at, "generated_by": ev.generated_by, "masked": ev.masked,
            "workspace": ev.workspace, "alert": alert, "verdict_history": ev.history,
            "nodes": [{"id": n["id"], "key": n["key"], "labels": n["labels"], "properties": n["properties"],
                       "provenance": {"datasets": n.get("datasets", []), "records": records_of(n)}} for n in ev.nodes],
            "relationships": [{"id": r["id"], "type": r["type"], "start": r["start"], "end": r["end"],
                               "start_key": r.get("start_key"), "end_key": r.get("end_key"),
                               "properties": r["properties"], "valid_from": r.get("valid_from"),
                               "valid_to": r.get("valid_to"),
                               "provenance": {"dataset": r.get("dataset"),
                                              "datasets": r.get("datasets") or [r.get("dataset")],
                                              "records": records_of(r)}}
                              for r in ev.rels]}


def write_json(ev: Evidence, out: Path) -> None:
    out.write_text(json.dumps(to_json(ev), ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def csv_tables(ev: Evidence) -> tuple[str, str]:
    """The nodes table and the edges table as CSV text."""
    nodes, edges = io.StringIO(), io.StringIO()
    w = csv.writer(nodes)
    w.writerow(NODE_COLUMNS)
    for n in ev.nodes:
        w.writerow([n["id"], n["key"], primary_label(n["labels"]) or "", ";".join(n["labels"]),
                    n["properties"].get("name") or node_caption(n), ";".join(n.get("datasets", [])),
                    ";".join(records_of(n)), json.dumps(n["properties"], ensure_ascii=False, default=str)])
    w = csv.writer(edges)
    w.writerow(EDGE_COLUMNS)
    for r in ev.rels:
        w.writerow([r["id"], r["type"], r["start"], r["end"], r.get("start_key") or "", r.get("end_key") or "",
                    r.get("valid_from") or "", r.get("valid_to") or "", r.get("dataset") or "",
                    ";".join(records_of(r)), json.dumps(r["properties"], ensure_ascii=False, default=str)])
    return nodes.getvalue(), edges.getvalue()


def csv_paths(out: Path) -> tuple[Path, Path]:
    """Where the two tables of ``-o case.csv`` go: ``case.nodes.csv`` and ``case.edges.csv``."""
    stem = out.with_suffix("") if out.suffix.lower() == ".csv" else out
    return stem.with_name(stem.name + ".nodes.csv"), stem.with_name(stem.name + ".edges.csv")


def write_csv(ev: Evidence, out: Path) -> list[Path]:
    nodes, edges = csv_tables(ev)
    paths = csv_paths(out)
    for path, text in zip(paths, (nodes, edges)):
        path.write_text("\ufeff" + text, encoding="utf-8", newline="")
    return list(paths)
