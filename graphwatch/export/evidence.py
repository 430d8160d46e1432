"""What an export shows: an evidence subgraph with its title, explanation and provenance.

Four ways to choose it — an alert (its stored evidence and verdict history), the paths
between two entities, an entity's neighbourhood, or a Cypher pattern's matches (every node
and relationship the rows were built from) — give one :class:`Evidence`, which every format
writes. Masking happens here, once, before any format sees a value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..exc import GraphwatchError
from ..masking import mask_evidence, mask_key, mask_text


@dataclass
class Evidence:
    """An evidence subgraph ready to export.

    ``nodes`` and ``rels`` have the shape of :func:`graphwatch.alerts.evidence.subgraph`
    (nodes: id, key, labels, properties, datasets, records; relationships: id, type, start,
    end, start_key, end_key, properties, valid_from, valid_to, dataset, datasets, records).
    """

    kind: str                       # alert | path | entity | cypher
    what: str                       # what was exported, as the audit records it
    title_zh: str
    title_en: str
    nodes: list[dict]
    rels: list[dict]
    explain_zh: str = ""
    explain_en: str = ""
    alert: dict | None = None
    history: list[dict] = field(default_factory=list)
    focus: list[int] = field(default_factory=list)     # nodes to draw emphasised (subject, path ends)
    masked: bool = True
    workspace: str = ""
    generated_at: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))
    generated_by: str = ""

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def explanation(self, lang: str) -> str:
        return self.explain_zh if lang == "zh" else self.explain_en


def masked(ev: Evidence, unmask: bool) -> Evidence:
    """The evidence with ID and phone numbers masked (unless ``unmask``) in every value,
    key, record reference, title and explanation."""
    if unmask:
        ev.masked = False
        return ev
    sub = mask_evidence({"nodes": ev.nodes, "rels": ev.rels})
    ev.nodes, ev.rels = sub["nodes"], sub["rels"]
    for r in ev.rels:
        r["records"] = [mask_text(x) for x in r.get("records", [])]
    for attr in ("title_zh", "title_en", "explain_zh", "explain_en", "what"):
        setattr(ev, attr, mask_text(getattr(ev, attr)) or "")
    if ev.alert:
        from ..masking import mask_alert

        ev.alert = mask_alert({k: v for k, v in ev.alert.items() if k != "evidence"})
    for h in ev.history:
        h["note"] = mask_text(h.get("note"))
    ev.masked = True
    return ev


def from_alert(workspace, alert_id: str) -> Evidence:
    """An alert's stored evidence, explanation and verdict history."""
    from ..alerts.store import AlertStore

    with AlertStore(workspace) as store:
        alert = store.get(alert_id)
        history = store.history(alert_id)
    title = model_title(alert["model"])
    title_zh = f"{title.get('zh') or alert['model']} · 预警 {alert_id}"
    title_en = f"{title.get('en') or alert['model']} · alert {alert_id}"
    ev = alert["evidence"]
    focus = [n["id"] for n in ev["nodes"] if n["key"] in (alert.get("subject_key"), alert.get("object_key"))]
    return Evidence("alert", alert_id, title_zh, title_en, ev["nodes"], ev["rels"], alert.get("explain_zh") or "",
                    alert.get("explain_en") or "", alert=alert, history=history, focus=focus,
                    workspace=str(workspace))


def model_title(model: str) -> dict:
    """A shipped model's title ``{"zh": …, "en": …}`` read from its file alone: parsing the whole
    library (every model's Cypher) costs seconds a diagram should not wait for. ``{}`` for a
    county's own model (its id stands in)."""
    import yaml

    from ..alerts.library import patterns_dir

    for f in patterns_dir().glob("*.yaml"):
        try:
            doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and doc.get("id") == model and isinstance(doc.get("title"), dict):
            return doc["title"]
    return {}


def from_subgraph(workspace, node_ids, rel_ids, **kw) -> Evidence:
    """Evidence of workspace ids, read with their properties and source records."""
    from ..alerts.evidence import subgraph
    from ..store import Workspace

    with Workspace(workspace, read_only=True) as ws:
        sub = subgraph(ws.con, list(node_ids), list(rel_ids))
    return Evidence(nodes=sub["nodes"], rels=sub["rels"], workspace=str(workspace), **kw)


def from_paths(workspace, source: str, target: str, *, max_hops: int = 4, types=None, k: int | None = None,
               directed: bool = False) -> Evidence:
    """The shortest paths (or the ``k`` shortest) between two entities, as evidence."""
    from ..analytics import find_entity, load_graph, paths

    g = load_graph(workspace)
    a, b = find_entity(g, source), find_entity(g, target)
    found = paths(g, a, b, max_hops=max_hops, types=types, k=k, all_shortest=k is None, directed=directed)
    if found.empty:
        raise GraphwatchError(f"no path of at most {max_hops} hops between {source!r} and {target!r}"
                              + (f" over {', '.join(types)}" if types else ""))
    nodes = {n for ns in found["nodes"] for n in ns}
    rels = {r for rs in found["rels"] for r in rs}
    ends = [int(g.nid[a]), int(g.nid[b])]
    hops = int(found["hops"].min())
    what = f"path {source} → {target}"
    return from_subgraph(workspace, nodes, rels, kind="path", what=what,
                         title_zh=f"关系路径：{source} → {target}", title_en=f"Paths: {source} → {target}",
                         explain_zh=f"{len(found)} 条路径，最短 {hops} 跳（最多 {max_hops} 跳"
                                    + (f"，关系类型 {'、'.join(types)}" if types else "") + "）。",
                         explain_en=f"{len(found)} path(s), shortest {hops} hop(s) (at most {max_hops}"
                                    + (f", over {', '.join(types)}" if types else "") + ").",
                         focus=ends)


def from_entity(workspace, entity: str, *, hops: int = 2, types=None, limit: int = 60,
                max_degree: int | None = 200) -> Evidence:
    """An entity's neighbourhood (what the walk crossed) as evidence."""
    from ..analytics import find_entity, load_graph, neighbours

    g = load_graph(workspace)
    v = find_entity(g, entity)
    df = neighbours(g, v, hops=hops, types=types, limit=limit, max_degree=max_degree)
    cut = df.attrs.get("truncated", 0)
    note_zh = f"；另有 {cut} 个节点未列出（上限 {limit}）" if cut else ""
    note_en = f"; {cut} more not shown (limit {limit})" if cut else ""
    return from_subgraph(workspace, df["id"].tolist(), df.attrs["rels"], kind="entity", what=f"entity {entity} hops {hops}",
                         title_zh=f"关系网络：{entity}（{hops} 跳）", title_en=f"Neighbourhood of {entity} ({hops} hops)",
                         explain_zh=f"{len(df) - 1} 个关联节点{note_zh}。", explain_en=f"{len(df) - 1} related nodes{note_en}.",
                         focus=[int(g.nid[v])])


def from_cypher(workspace, query: str, params: dict | None = None, *, engine: str = "duckdb",
                connection: dict | None = None) -> Evidence:
    """Every node and relationship a Cypher pattern's rows were built from."""
    from ..engines import open_engine

    with open_engine(engine, workspace, connection=connection or {}) as eng:
        res = eng.run(query, params or {}, bindings=True)
    nodes = {n for b in res.bindings for n in b.nodes}
    rels = {r for b in res.bindings for r in b.rels}
    if not nodes:
        raise GraphwatchError("the pattern matched nothing: no evidence to export")
    short = " ".join(query.split())
    return from_subgraph(workspace, nodes, rels, kind="cypher", what=f"cypher {short[:200]}",
                         title_zh="模式查询结果", title_en="Pattern matches",
                         explain_zh=f"{len(res)} 行匹配：{short[:300]}", explain_en=f"{len(res)} matching row(s): {short[:300]}")


def node_caption(n: dict) -> str:
    """A node's short name: its name, else a number that identifies it, else its key."""
    p = n["properties"]
    for k in ("name", "contract_no", "record_no", "case_no", "tender_no", "project_no", "certificate_no", "plate",
              "household_no", "programme_code"):
        if p.get(k):
            return str(p[k])
    return str(n["key"]).split(":", 1)[-1]


def records_of(item: dict) -> list[str]:
    """``dataset#record`` references of a node or relationship (a relationship's records of its
    own dataset are bare, another's are references already; evidence from before relationships
    spanned datasets has no ``datasets``)."""
    if "dataset" in item and "type" in item:
        from ..relfacts import record_refs

        return record_refs(item["dataset"], item.get("datasets"), item.get("records", []))
    return list(item.get("records", []))


def shown_key(key: str | None, unmask: bool) -> str | None:
    return key if unmask else mask_key(key)


def default_output(ev: Evidence, fmt: str) -> Path:
    ext = {"dossier": "pdf", "anx": "anx", "csv": "csv"}.get(fmt, fmt)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in ev.what)[:60]
    return Path(f"{safe}.{ext}")
