"""``graphwatch run``: run supervision models on a workspace and keep their alerts.

A re-run after new data keeps every verdict, adds only new alerts, refreshes the evidence
of those still matching and marks those that no longer match (they are never deleted). A
model whose data is not loaded — a label or relationship type it needs has no element — is
reported as *insufficient data* with what is missing, never as zero alerts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..exc import GraphwatchError, InvalidPattern, WorkspaceError
from ..schema import did_you_mean, workspace_schema
from .evidence import subgraphs
from .library import Pattern, load_library
from .match import SEVERITY_WEIGHT, Match, matches, run_pattern
from .store import AlertStore, now

Progress = Callable[[str, int, int], None]

#: the identifier a user knows each kind of node by, shown beside the workspace key
IDENTIFIERS = {"Person": "id_number", "Company": "uscc", "Contract": "contract_no", "Tender": "tender_no",
               "Project": "project_no", "PoliceCase": "case_no", "Benefit": "record_no", "Organisation": "org_code",
               "Village": "division_code", "Township": "division_code", "County": "division_code",
               "Vehicle": "plate", "RealEstate": "certificate_no", "Disability": "certificate_no"}


@dataclass
class ModelRun:
    """What one model's run found."""
    model: str
    title: str
    status: str              # ok | insufficient_data
    message: str = ""
    found: int = 0
    new: int = 0
    still: int = 0
    gone: int = 0
    seconds: float = 0.0
    run_id: int | None = None


def missing_data(pattern: Pattern, counts: dict) -> list[str]:
    """The labels and relationship types the pattern needs that the workspace has none of."""
    return ([f"(:{lab})" for lab in pattern.needs_labels if not counts["labels"].get(lab)]
            + [f"[:{t}]" for t in pattern.needs_types if not counts["types"].get(t)])


def select(library: dict[str, Pattern], models: Iterable[str] | None) -> list[Pattern]:
    models = list(models or [])
    for m in models:
        if m not in library:
            raise InvalidPattern(f"no model {m!r}{did_you_mean(m, library)}; models: {', '.join(sorted(library))}")
    return [library[m] for m in (models or sorted(library))]


def parse_params(items: Iterable[str]) -> dict[str, dict]:
    """``MODEL.NAME=VALUE`` (VALUE as JSON when it parses, else text) → {model: {name: value}}.

    >>> parse_params(["split_contracts.window_days=60", "own_village_project.kinship=[\\"SPOUSE_OF\\"]"])
    {'split_contracts': {'window_days': 60}, 'own_village_project': {'kinship': ['SPOUSE_OF']}}
    """
    out: dict[str, dict] = {}
    for item in items:
        head, sep, value = item.partition("=")
        model, dot, name = head.strip().partition(".")
        if not sep or not dot or not model or not name:
            raise GraphwatchError(f"{item!r}: write --param MODEL.NAME=VALUE, e.g. split_contracts.window_days=60")
        try:
            out.setdefault(model, {})[name] = json.loads(value)
        except ValueError:
            out.setdefault(model, {})[name] = value
    return out


def bind_models(workspace: Path, models: Iterable[str] | None, params: dict[str, dict] | None, *,
                pattern_dirs: Iterable[str | Path] = (), shipped: bool = True) -> tuple[list[Pattern], dict[str, dict]]:
    """The chosen models of the library (checked against the workspace's schema) and each one's
    parameter values: its defaults, overridden by ``params`` ({model: {name: value}})."""
    schema = workspace_schema(workspace)
    library = load_library(pattern_dirs, shipped=shipped, schema=schema)
    if not library and schema.standalone:
        raise WorkspaceError(f"{workspace} holds a Neo4j export's own schema (made by 'load --infer-schema'; "
                             "its schema.yaml says standalone: true) and the shipped supervision models are "
                             "written for graphwatch's domain model: give models of your own with --patterns "
                             "DIR, or ask it with 'graphwatch query'")
    chosen = select(library, models)
    params = params or {}
    for m in params:
        if m not in library:
            raise InvalidPattern(f"--param names no model {m!r}{did_you_mean(m, library)}")
    return chosen, {p.id: p.bind(params.get(p.id)) for p in chosen}


def run_models(workspace: str | Path, models: Iterable[str] | None = None, *, engine: str = "duckdb",
               params: dict[str, dict] | None = None, pattern_dirs: Iterable[str | Path] = (),
               shipped: bool = True, connection: dict | None = None,
               progress: Progress | None = None) -> list[ModelRun]:
    """Run the models (all of the library by default) and store their alerts."""
    from ..engines import open_engine
    from ..store import Workspace

    workspace = Path(workspace)
    chosen, bound = bind_models(workspace, models, params, pattern_dirs=pattern_dirs, shipped=shipped)
    out = []
    with Workspace(workspace, read_only=True) as ws, AlertStore(workspace) as store:
        counts = ws.counts()
        same_as = dict(ws.con.execute("SELECT rid, score FROM rel WHERE type = 'SAME_AS'").fetchall()
                       if "score" in ws.schema.rel_properties else [])   # (an export's own schema may lack it)
        eng = open_engine(engine, ws if engine == "duckdb" else workspace, connection=connection)
        try:
            for k, p in enumerate(chosen):
                if progress:
                    progress(p.id, k, len(chosen))
                out.append(_run_one(p, bound[p.id], eng, ws, store, counts, same_as, engine))
        finally:
            eng.close()
        if progress:
            progress("done", len(chosen), len(chosen))
    return out


def _run_one(p: Pattern, values: dict, eng, ws, store: AlertStore, counts: dict, same_as: dict,
             engine: str) -> ModelRun:
    started, t0 = now(), time.perf_counter()
    run = ModelRun(p.id, p.title, "ok")
    gone_data = missing_data(p, counts)
    if gone_data:
        run.status = "insufficient_data"
        run.message = "no " + ", ".join(gone_data) + " in the workspace (load the source that has them)"
        found = []
    else:
        found = matches(p, run_pattern(p, eng, ws, values), same_as, schema=ws.schema)
    with store.transaction() as con:
        rid = con.execute("""INSERT INTO run (model, engine, started, status, message, params)
            VALUES (?, ?, ?, ?, ?, ?)""", [p.id, engine, started, run.status, run.message,
                                           json.dumps(values, default=str, ensure_ascii=False)]).lastrowid
        run.run_id = rid
        if run.status == "ok":
            existing = {r[0]: bool(r[1]) for r in con.execute("SELECT id, matching FROM alert WHERE model = ?",
                                                              [p.id])}
            stamp = now()
            evidence = subgraphs(ws.con, [(m.nodes, m.rels, m.focus or None, m.focus_rels) for m in found])
            for m, ev in zip(found, evidence):
                row = _row(p, m, ev, ws.con)
                if m.id in existing:
                    run.still += 1
                    con.execute("""UPDATE alert SET severity = ?, subject_name = ?, subject_ident = ?, object_name = ?,
                        object_ident = ?, explain_zh = ?, explain_en = ?, certainty = ?, rank = ?, same_as = ?,
                        township = ?, village = ?, event_date = ?, evidence = ?, rows = ?, matching = 1,
                        last_seen = ?, last_run = ?, engine = ? WHERE id = ?""",
                                [row[k] for k in ("severity", "subject_name", "subject_ident", "object_name",
                                                  "object_ident", "explain_zh", "explain_en", "certainty", "rank",
                                                  "same_as", "township", "village", "event_date", "evidence",
                                                  "rows")] + [stamp, rid, engine, m.id])
                else:
                    run.new += 1
                    row.update(first_seen=stamp, last_seen=stamp, first_run=rid, last_run=rid, engine=engine)
                    cols = list(row)
                    con.execute(f"INSERT INTO alert ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                [row[c] for c in cols])
            ids = {m.id for m in found}
            gone = [a for a, matching in existing.items() if matching and a not in ids]
            run.gone = len(gone)
            con.executemany("UPDATE alert SET matching = 0 WHERE id = ?", [[a] for a in gone])
        run.found = len(found)
        run.seconds = time.perf_counter() - t0
        con.execute("UPDATE run SET seconds = ?, found = ?, new = ?, still = ?, gone = ? WHERE id = ?",
                    [run.seconds, run.found, run.new, run.still, run.gone, rid])
    return run


def _ident(node) -> str | None:
    for label in node.labels:
        prop = IDENTIFIERS.get(label)
        if prop and node.properties.get(prop) is not None:
            return str(node.properties[prop])
    return None


def _name(node) -> str | None:
    props = node.properties
    value = props.get("name") or props.get("contract_no") or props.get("case_no") or props.get("record_no")
    return None if value is None else str(value)


def _row(p: Pattern, m: Match, ev: dict, con) -> dict:
    township, village = _place(con, ev)
    sub, obj = m.subject, m.object
    return {"id": m.id, "model": p.id, "severity": p.severity,
            "subject_key": sub.key, "subject_label": _label(sub), "subject_name": _name(sub), "subject_ident": _ident(sub),
            "object_key": obj.key if obj else None, "object_label": _label(obj) if obj else None,
            "object_name": _name(obj) if obj else None, "object_ident": _ident(obj) if obj else None,
            "explain_zh": m.explain_zh, "explain_en": m.explain_en, "certainty": m.certainty,
            "rank": SEVERITY_WEIGHT[p.severity] * m.certainty, "same_as": json.dumps(m.same_as),
            "township": township, "village": village, "event_date": m.date.isoformat() if m.date else None,
            "evidence": json.dumps(ev, ensure_ascii=False), "rows": m.rows}


def _label(node) -> str:
    """The most specific label (a cadre before an official before a person)."""
    order = ("VillageCadre", "Official")
    return next((lab for lab in order if lab in node.labels), node.labels[0] if node.labels else "")


def _place(con, ev: dict) -> tuple[str | None, str | None]:
    """The township and village the evidence lies in (for the queue's filters)."""
    villages = [n for n in ev["nodes"] if "Village" in n["labels"]]
    townships = [n for n in ev["nodes"] if "Township" in n["labels"]]
    village = villages[0] if villages else None
    if village is None:
        codes = [n["properties"].get("village_code") for n in ev["nodes"] if n["properties"].get("village_code")]
        if codes:
            row = con.execute("""SELECT nid, key, name FROM node WHERE list_contains(labels, 'Village')
                AND division_code = ? LIMIT 1""", [codes[0]]).fetchone()
            village = {"id": row[0], "key": row[1], "properties": {"name": row[2]}} if row else None
    township = townships[0]["properties"].get("name") if townships else None
    if township is None and village is not None:
        row = con.execute("""SELECT t.name FROM rel r JOIN node t ON t.nid = r.dst
            WHERE r.src = ? AND r.type = 'PART_OF' AND list_contains(t.labels, 'Township') LIMIT 1""",
                          [village["id"]]).fetchone()
        township = row[0] if row else None
    return township, village["properties"].get("name") if village else None
