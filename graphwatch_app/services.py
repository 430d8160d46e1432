"""Plain functions the pages call: input checks, search, an entity's page, graph elements.

No streamlit here: these read the library's stores and return plain data, so tests call them
directly and the views stay thin. Every value reaches SQL as a bound parameter.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from graphwatch.exc import GraphwatchError
from graphwatch.masking import mask_evidence, mask_key, mask_properties, mask_text

MAX_SEARCH = 100           # characters: a name, an ID number, a company name
MAX_CYPHER = 8_000         # characters: the longest shipped pattern is ~3 k
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadInput(GraphwatchError):
    """Input the explorer refuses before it reaches any store, with the reason."""


def check_search(text: str | None) -> str:
    """A search box's text, stripped, or :class:`BadInput` saying what is wrong with it."""
    text = (text or "").strip()
    if not text:
        raise BadInput("输入要查询的姓名、身份证号、企业名称或统一社会信用代码 / type a name, ID number, company or USCC")
    if _CONTROL.search(text) or any(unicodedata.category(c) == "Cc" for c in text):
        raise BadInput("输入含有控制字符 / the text contains control characters")
    if len(text) > MAX_SEARCH:
        raise BadInput(f"输入过长（{len(text)} 字符，上限 {MAX_SEARCH}） / too long ({len(text)} characters, "
                       f"at most {MAX_SEARCH})")
    return text


def check_cypher(text: str | None) -> str:
    """A workbench query of sensible length without control characters."""
    text = (text or "").strip()
    if not text:
        raise BadInput("请输入 Cypher 查询 / write a Cypher query")
    if _CONTROL.search(text):
        raise BadInput("查询含有控制字符 / the query contains control characters")
    if len(text) > MAX_CYPHER:
        raise BadInput(f"查询过长（{len(text)} 字符，上限 {MAX_CYPHER}） / the query is too long "
                       f"({len(text)} characters, at most {MAX_CYPHER})")
    return text      # write clauses (CREATE, DELETE …) are refused by the parser every engine runs


def check_params(text: str | None) -> dict:
    text = (text or "").strip() or "{}"
    if len(text) > MAX_CYPHER or _CONTROL.search(text):
        raise BadInput("参数无效 / invalid parameters")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"参数不是有效的 JSON / the parameters are not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadInput("参数须为 JSON 对象 / the parameters must be a JSON object {\"name\": value}")
    return value


# -- search ------------------------------------------------------------------------------------
def search(con, text: str, names=None, *, limit: int = 50) -> list[dict]:
    """Entities a search text names: an ID number, a USCC, then names — exact after the
    resolver's normalisation (full width, traditional → simplified), the same pinyin
    (homophones), then fuzzy (rapidfuzz). ``names``: :func:`name_index` rows, for the pinyin
    and fuzzy steps. Each hit says how it matched and the datasets it came from."""
    from graphwatch.resolve.ids import clean_resident_id, clean_uscc
    from graphwatch.resolve.names import company_name_key, normalise_name, person_keys

    text = check_search(text)
    hits: dict[int, str] = {}
    rid, status = clean_resident_id(text)
    if rid and status in ("valid", "legacy15"):
        for (nid,) in con.execute("SELECT nid FROM node WHERE id_number = ? LIMIT ?", [rid, limit]).fetchall():
            hits.setdefault(nid, "id_number")
    code, status = clean_uscc(text)
    if code and status == "valid":
        for (nid,) in con.execute("SELECT nid FROM node WHERE uscc = ? LIMIT ?", [code, limit]).fetchall():
            hits.setdefault(nid, "uscc")
    if text.isdigit() and len(text) <= 19:
        for (nid,) in con.execute("SELECT nid FROM node WHERE nid = ?", [int(text)]).fetchall():
            hits.setdefault(nid, "id")
    norm = normalise_name(text) or text
    for (nid,) in con.execute("SELECT nid FROM node WHERE name = ? OR name = ? OR list_contains(aliases, ?) LIMIT ?",
                              [text, norm, norm, limit]).fetchall():
        hits.setdefault(nid, "name")
    if names is not None and len(hits) < limit:
        keys = person_keys(norm)
        company = company_name_key(norm)
        if keys:
            for nid in names.loc[names["pinyin"] == keys[1], "nid"].head(limit).tolist():
                hits.setdefault(int(nid), "homophone")
        if company:
            for nid in names.loc[names["company"] == company, "nid"].head(limit).tolist():
                hits.setdefault(int(nid), "company name")
        if len(hits) < 10 and len(norm) >= 2:
            from rapidfuzz import fuzz, process

            for _, score, i in process.extract(norm, names["norm"].tolist(), scorer=fuzz.WRatio, limit=10,
                                               score_cutoff=75):
                hits.setdefault(int(names["nid"].iat[i]), f"fuzzy {score:.0f}")
    if not hits:
        return []
    ids = list(hits)[:limit]
    rows = con.execute("""SELECT nid, key, labels, name, id_number, uscc, village_code, datasets FROM node
        WHERE nid IN (SELECT unnest(?))""", [ids]).fetchall()
    order = {nid: i for i, nid in enumerate(ids)}
    return sorted(({"id": r[0], "key": r[1], "labels": list(r[2]), "name": r[3], "id_number": r[4], "uscc": r[5],
                    "village_code": r[6], "sources": list(r[7] or []), "match": hits[r[0]]} for r in rows),
                  key=lambda d: order[d["id"]])


def name_index(con):
    """Every person's and company's name with its normalised form, pinyin and company key
    (what the homophone and fuzzy steps of :func:`search` compare)."""
    import pandas as pd

    from graphwatch.resolve.names import company_name_key, normalise_name, person_keys

    df = con.execute("""SELECT nid, name, list_contains(labels, 'Company') AS company_node FROM node
        WHERE name IS NOT NULL AND (list_contains(labels, 'Person') OR list_contains(labels, 'Company'))""").df()
    distinct = pd.Series(df["name"].unique())
    norm = {n: normalise_name(n) or n for n in distinct}
    df["norm"] = df["name"].map(norm)
    pin = {n: (person_keys(n) or (None, None))[1] for n in df.loc[~df["company_node"], "name"].unique()}
    df["pinyin"] = df["name"].map(pin)
    comp = {n: company_name_key(n) for n in df.loc[df["company_node"], "name"].unique()}
    df["company"] = df["name"].map(comp)
    return df


# -- an entity ---------------------------------------------------------------------------------
def entity(con, nid: int) -> dict:
    """A node with its properties, each with the records (dataset#record) that stated it."""
    cur = con.execute("SELECT * FROM node WHERE nid = ?", [int(nid)])
    row = cur.fetchone()
    if row is None:
        raise GraphwatchError(f"no node {nid} in the workspace")
    cols = [d[0] for d in cur.description]
    node = dict(zip(cols, row))
    props = {k: v for k, v in node.items() if k not in ("nid", "key", "labels", "datasets") and v is not None}
    cur = con.execute("SELECT * FROM node_record WHERE key = ? ORDER BY priority, dataset, record", [node["key"]])
    rcols = [d[0] for d in cur.description]
    sources: dict[str, list[str]] = {}
    for r in cur.fetchall():
        rec = dict(zip(rcols, r))
        for k, v in props.items():
            if rec.get(k) is not None and str(rec[k]) == str(v):
                sources.setdefault(k, []).append(f"{rec['dataset']}#{rec['record']}")
    return {"id": node["nid"], "key": node["key"], "labels": list(node["labels"]), "datasets": list(node["datasets"] or []),
            "properties": [{"property": k, "value": v, "sources": ", ".join(sources.get(k, [])) or "(resolved / derived)"}
                           for k, v in props.items()]}


def timeline(con, nid: int, limit: int = 500) -> list[dict]:
    """The entity's dated relationships (posts, shareholdings, benefits, contracts, cases …),
    oldest first, with the node at the other end."""
    rows = con.execute("""SELECT coalesce(r.valid_from, o.signed, o.occurred_at, o.period_start) AS start,
            r.valid_to, r.type, CASE WHEN r.src = ? THEN '→' ELSE '←' END AS dir, o.nid, o.name,
            coalesce(o.contract_no, o.case_no, o.record_no, o.project_no) AS number, r.dataset
        FROM rel r JOIN node o ON o.nid = CASE WHEN r.src = ? THEN r.dst ELSE r.src END
        WHERE (r.src = ? OR r.dst = ?) AND r.type <> 'SAME_AS'
          AND coalesce(r.valid_from, o.signed, o.occurred_at, o.period_start) IS NOT NULL
        ORDER BY start, r.type LIMIT ?""", [int(nid)] * 4 + [limit]).fetchall()
    return [{"from": str(r[0]), "to": None if r[1] is None else str(r[1]), "relationship": f"{r[3]} {r[2]}",
             "other": r[5] or r[6] or str(r[4]), "other_id": r[4], "dataset": r[7]} for r in rows]


def same_as(con, nid: int) -> list[dict]:
    """SAME_AS candidates of an entity (the resolver's possible duplicates) with their scores."""
    rows = con.execute("""SELECT o.nid, o.name, o.key, r.score, r.evidence, r.record FROM rel r
        JOIN node o ON o.nid = CASE WHEN r.src = ? THEN r.dst ELSE r.src END
        WHERE r.type = 'SAME_AS' AND (r.src = ? OR r.dst = ?) ORDER BY r.score DESC""", [int(nid)] * 3).fetchall()
    return [{"id": r[0], "name": r[1], "key": r[2], "score": r[3], "status": r[4], "records": r[5]} for r in rows]


def alerts_involving(store, key: str) -> list[dict]:
    """Alerts whose subject, object or evidence holds the node ``key`` (bound, as a JSON string)."""
    needle = "%" + json.dumps(key, ensure_ascii=False).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = store.con.execute("""SELECT id, model, severity, status, subject_name, event_date FROM alert
        WHERE subject_key = ? OR object_key = ? OR evidence LIKE ? ESCAPE '\\' ORDER BY rank DESC LIMIT 200""",
                             [key, key, needle]).fetchall()
    return [dict(r) for r in rows]


# -- drawing -----------------------------------------------------------------------------------
def caption(n: dict) -> str:
    from graphwatch.export.evidence import node_caption

    return node_caption(n)


def elements(nodes: list[dict], rels: list[dict], *, focus=(), schema=None, lang: str = "zh") -> dict:
    """st-link-analysis elements of an evidence subgraph: string ids (the component wants them),
    the node's most specific label, its caption, and the properties shown in its panel."""
    from graphwatch.analytics.graph import primary_label
    from graphwatch.export.style import label_title, type_title

    def title(fn, name):
        try:
            return fn(schema, name, lang) if schema is not None else name
        except Exception:     # a label the schema does not describe keeps its name
            return name

    focus = {int(f) for f in focus}
    out_nodes = []
    for n in nodes:
        label = primary_label(n["labels"]) or "Node"
        data = {"id": str(n["id"]), "label": label, "name": caption(n)[:40], "kind": title(label_title, label),
                "focus": int(n["id"]) in focus}
        for k, v in list(n["properties"].items())[:12]:
            if k not in data:
                data[k] = v if isinstance(v, (int, float, bool)) else str(v)
        out_nodes.append({"data": data})
    ids = {str(n["id"]) for n in nodes}
    out_edges = []
    for r in rels:
        if str(r["start"]) in ids and str(r["end"]) in ids:
            data = {"id": f"r{r['id']}", "label": r["type"], "source": str(r["start"]), "target": str(r["end"]),
                    "name": title(type_title, r["type"])}
            for k in ("valid_from", "valid_to", "dataset"):
                if r.get(k):
                    data[k] = str(r[k])
            out_edges.append({"data": data})
    return {"nodes": out_nodes, "edges": out_edges}


def drawing(g, edges, vertices) -> dict:
    """A neighbourhood as :func:`elements` draws it, read from the graph's arrays alone (the
    analytics cache, no database query): nodes with key, labels and name; relationships
    (dense ``edges``) with type, ends and validity. Their properties and source records are
    read when one is clicked (:func:`graphwatch.alerts.evidence.subgraph` of that one)."""
    import numpy as np

    from graphwatch.analytics.traverse import relationships

    table = g.node_table(sorted({int(v) for v in vertices}))
    nodes = [{"id": int(r.id), "key": r.key, "labels": list(r.labels), "properties": {"name": r.name} if r.name else {},
              "datasets": [], "records": []} for r in table.itertuples()]
    keys = {n["id"]: n["key"] for n in nodes}
    edges = np.asarray(sorted({int(e) for e in edges}), dtype=np.int64)
    rels = []
    for r, start, end in zip(relationships(g, edges).itertuples(), g.valid_from[edges].tolist(), g.valid_to[edges].tolist()):
        rels.append({"id": int(r.id), "type": r.type, "start": int(r.start), "end": int(r.end),
                     "start_key": keys.get(int(r.start)), "end_key": keys.get(int(r.end)), "properties": {},
                     "valid_from": _day(start), "valid_to": _day(end), "dataset": None, "records": []})
    return {"nodes": nodes, "rels": rels}


def _day(days: int):
    """A date of the graph's arrays (days since 1970; the int32 extremes are open ends)."""
    import datetime as dt

    from graphwatch.analytics.graph import NO_DATE_FROM, NO_DATE_TO

    if days in (NO_DATE_FROM, NO_DATE_TO):
        return None
    return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()


def shown(sub: dict, unmask: bool) -> dict:
    """An evidence subgraph as the page shows it: masked unless the reviewer unmasked."""
    return sub if unmask else mask_evidence(sub)


def show_props(props: dict, unmask: bool) -> dict:
    return props if unmask else mask_properties(props)


def show_key(key, unmask: bool):
    return key if unmask else mask_key(key)


def show_text(text, unmask: bool):
    return text if unmask else mask_text(text)


# -- the workspace's own models --------------------------------------------------------------
PATTERN_ID = re.compile(r"[a-z][a-z0-9_]{2,60}")


def model_folder(workspace) -> Path:
    """Where the workbench saves a county's own models: ``<workspace>/patterns`` (run them
    with ``graphwatch run --patterns <workspace>/patterns``)."""
    return Path(workspace) / "patterns"


def save_pattern(workspace, pattern_id: str, cypher: str, *, title_zh: str, title_en: str, subject: str,
                 author: str, schema=None) -> Path:
    """Write a new pattern file (checked by the library's parser before it is kept)."""
    import yaml

    from graphwatch.alerts.library import parse_pattern

    if not PATTERN_ID.fullmatch(pattern_id or ""):
        raise BadInput("模型编号须为 3–61 个小写字母、数字或下划线，且以字母开头 / the id must be 3–61 lowercase "
                       "letters, digits or _, starting with a letter")
    folder = model_folder(workspace)
    target = folder / f"{pattern_id}.yaml"
    from graphwatch.alerts.library import pattern_ids

    if target.exists() or pattern_id in pattern_ids():
        raise BadInput(f"模型 {pattern_id} 已存在 / a pattern {pattern_id!r} already exists")
    doc = {"id": pattern_id, "title": {"zh": title_zh or pattern_id, "en": title_en or pattern_id},
           "description": {"zh": f"由 {author} 在模型工作台编写", "en": f"written by {author} in the model workbench"},
           "severity": "medium", "subject": subject,
           "explain": {"zh": f"{{{subject}.name}} 命中模型 {pattern_id}", "en": f"{{{subject}.name}} matches {pattern_id}"},
           "cypher": cypher}
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:       # checked under its final name before it is kept
        draft = Path(scratch) / target.name
        draft.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        parse_pattern(draft, schema=schema)
        folder.mkdir(exist_ok=True)
        shutil.copyfile(draft, target)
    return target
