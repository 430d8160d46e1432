"""``graphwatch run``: run supervision models on a workspace and keep their alerts.

A re-run after new data keeps every verdict, adds only new alerts, refreshes the evidence
of those still matching and marks those that no longer match (they are never deleted). A
model whose data is not loaded — a label or relationship type it needs has no element — is
reported as *insufficient data* with what is missing, never as zero alerts.
"""

from __future__ import annotations

import json
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..exc import GraphwatchError, InvalidPattern, WorkspaceError
from ..schema import did_you_mean, workspace_schema
from .evidence import add_records, subgraphs
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
               progress: Progress | None = None, jobs: int = 1) -> list[ModelRun]:
    """Run the models (all of the library by default) and store their alerts. ``jobs``: how
    many models the embedded engine runs at once, each on a connection of its own (their
    alerts are stored one model after another, in the models' order, as with one)."""
    from ..store import Workspace

    workspace = Path(workspace)
    if jobs < 1:
        raise GraphwatchError(f"--jobs must be at least 1, not {jobs}")
    chosen, bound = bind_models(workspace, models, params, pattern_dirs=pattern_dirs, shipped=shipped)
    with Workspace(workspace, read_only=True) as ws, AlertStore(workspace) as store:
        counts = ws.counts()
        same_as = dict(ws.con.execute("SELECT rid, score FROM rel WHERE type = 'SAME_AS'").fetchall()
                       if "score" in ws.schema.rel_properties else [])   # (an export's own schema may lack it)
        done = 0

        def finding(p: Pattern) -> None:
            nonlocal done
            if progress:
                progress(p.id, done, len(chosen))
            done += 1

        if engine == "duckdb" and jobs > 1 and len(chosen) > 1:
            last = dict(store.con.execute("""SELECT model, seconds FROM run WHERE id IN
                (SELECT max(id) FROM run WHERE seconds IS NOT NULL GROUP BY model)""").fetchall())
            found = _found_at_once(chosen, bound, ws, counts, same_as, jobs, finding, last)
        else:
            found = _found_in_turn(chosen, bound, ws, counts, same_as, finding, engine, workspace, connection)
        # every model found first, then the source records of all their evidence read in one
        # pass (add_records), then each model's alerts stored; when a model fails, those before
        # it are stored and then its error raised (closing the generator ends its threads or engine)
        got, failed = [], None
        with closing(found):
            try:
                for one in found:
                    got.append(one)
            except Exception as exc:                 # (stored below, then raised)
                failed = exc
        add_records(ws.con, [ev for one in got for ev in one[3]])
        out = [_store(p, bound[p.id], *one, ws, store, engine) for p, one in zip(chosen, got)]
        if failed is not None:
            raise failed
        if progress:
            progress("done", len(chosen), len(chosen))
    return out


def _found_in_turn(chosen, bound, ws, counts, same_as, finding, engine, workspace, connection) -> Iterator[tuple]:
    """:func:`_find` of each model, one after another, on one engine."""
    from ..engines import open_engine

    eng = open_engine(engine, ws if engine == "duckdb" else workspace, connection=connection)
    try:
        for p in chosen:
            finding(p)
            yield _find(p, bound[p.id], eng, ws, counts, same_as)
    finally:
        eng.close()


def _found_at_once(chosen: list[Pattern], bound: dict, ws, counts: dict, same_as: dict, jobs: int,
                   finding, last: dict[str, float], find=None) -> Iterator[tuple]:
    """:func:`_find` (or ``find``, called alike: ``benchmarks/bench_library.py`` times the
    models' queries alone this way) of each model, ``jobs`` at a time, each thread on its own reader of ``ws``
    and its own engine, yielded in the models' order as they become ready. The longest start
    first, by the seconds of their last stored runs (``last``), so that no long one starts
    last. A model that fails raises in the caller once those before it are yielded (a thread
    that cannot start raises at once); the threads then take no further model. On 2 cores at
    5 M persons the whole run took 18.6 s with two at once against 22.3 s one after another
    (``benchmarks/bench_run_jobs.py``): while one model's statement runs on DuckDB's threads,
    the other's Python reads its rows and evidence."""
    import queue
    import threading

    from ..engines.duckdb import DuckDBEngine

    todo: queue.Queue = queue.Queue()
    for k in sorted(range(len(chosen)), key=lambda k: -(last.get(chosen[k].id) or 0.0)):
        todo.put(k)
    ready: queue.Queue = queue.Queue()
    stop = threading.Event()
    lock = threading.Lock()

    def worker() -> None:
        try:
            mine = ws.reader()
        except BaseException as exc:               # (no model of its own to wait for)
            ready.put((None, exc))
            return
        with mine:
            eng = DuckDBEngine(mine)
            while not stop.is_set():
                try:
                    k = todo.get_nowait()
                except queue.Empty:
                    return
                with lock:
                    finding(chosen[k])
                try:
                    ready.put((k, (find or _find)(chosen[k], bound[chosen[k].id], eng, mine, counts, same_as)))
                except BaseException as exc:       # raised in the caller's thread, in order
                    ready.put((k, exc))

    threads = [threading.Thread(target=worker, name=f"graphwatch-run-{i}", daemon=True)
               for i in range(min(jobs, len(chosen)))]
    for t in threads:
        t.start()
    try:
        held: dict = {}
        for k in range(len(chosen)):
            while k not in held:
                j, got = ready.get()
                if j is None:
                    raise got
                held[j] = got
            got = held.pop(k)
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        for t in threads:
            t.join()


def _find(p: Pattern, values: dict, eng, ws, counts: dict, same_as: dict) -> tuple:
    """(run, matches, their evidence without source records — :func:`run_models` reads those for
    all models at once, :func:`~.evidence.add_records` — and seconds) of one model: all but storing."""
    started, t0 = now(), time.perf_counter()
    run = ModelRun(p.id, p.title, "ok")
    gone_data = missing_data(p, counts)
    if gone_data:
        run.status = "insufficient_data"
        run.message = "no " + ", ".join(gone_data) + " in the workspace (load the source that has them)"
        return run, started, [], [], time.perf_counter() - t0
    found = matches(p, run_pattern(p, eng, ws, values), same_as, schema=ws.schema)
    # (the nodes the model returned are read already where the engine kept their rows)
    evidence = subgraphs(ws.con, [(m.nodes, m.rels, m.focus or None, m.focus_rels) for m in found],
                         records=False, rows=eng.node_rows_read())
    return run, started, found, evidence, time.perf_counter() - t0


def _store(p: Pattern, values: dict, run: ModelRun, started, found: list[Match], evidence: list[dict],
           seconds: float, ws, store: AlertStore, engine: str) -> ModelRun:
    t0 = time.perf_counter()
    with store.transaction() as con:
        rid = con.execute("""INSERT INTO run (model, engine, started, status, message, params)
            VALUES (?, ?, ?, ?, ?, ?)""", [p.id, engine, started, run.status, run.message,
                                           json.dumps(values, default=str, ensure_ascii=False)]).lastrowid
        run.run_id = rid
        if run.status == "ok":
            existing = {r[0]: bool(r[1]) for r in con.execute("SELECT id, matching FROM alert WHERE model = ?",
                                                              [p.id])}
            stamp = now()
            for m, ev, place in zip(found, evidence, _places(ws.con, evidence)):
                row = _row(p, m, ev, place)
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
        run.seconds = seconds + time.perf_counter() - t0
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


def _row(p: Pattern, m: Match, ev: dict, place: tuple[str | None, str | None]) -> dict:
    township, village = place
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


def _places(con, evidence: list[dict]) -> list[tuple[str | None, str | None]]:
    """The township and village each evidence subgraph lies in (for the queue's filters): its
    own Village and Township nodes, else the village its first ``village_code`` names and that
    village's township. The villages and townships of all of a model's alerts are looked up
    in one statement each (one per alert took 2 of a model's 4 s at 5 M persons: each scans
    every node)."""
    firsts = []
    for ev in evidence:
        villages = [n for n in ev["nodes"] if "Village" in n["labels"]]
        townships = [n for n in ev["nodes"] if "Township" in n["labels"]]
        village = villages[0] if villages else None
        code = None
        if village is None:
            code = next((n["properties"]["village_code"] for n in ev["nodes"] if n["properties"].get("village_code")),
                        None)
        firsts.append((village, townships[0]["properties"].get("name") if townships else None, code))
    codes = sorted({c for _v, _t, c in firsts if c is not None})
    by_code = {}
    if codes:
        for code, nid, key, name in con.execute("""SELECT division_code, nid, key, name FROM node
                WHERE list_contains(labels, 'Village') AND division_code IN (SELECT unnest($codes)) ORDER BY nid""",
                                                {"codes": codes}).fetchall():
            by_code.setdefault(code, {"id": nid, "key": key, "properties": {"name": name}})
    villages = [v if v is not None else by_code.get(c) for v, _t, c in firsts]
    need = sorted({v["id"] for v, (_v, t, _c) in zip(villages, firsts) if v is not None and t is None})
    township_of = {}
    if need:
        township_of = dict(con.execute("""SELECT r.src, arg_min(t.name, t.nid) FROM rel r JOIN node t ON t.nid = r.dst
            WHERE r.src IN (SELECT unnest($ids)) AND r.type = 'PART_OF' AND list_contains(t.labels, 'Township')
            GROUP BY r.src""", {"ids": need}).fetchall())
    return [(t if t is not None else (township_of.get(v["id"]) if v is not None else None),
             v["properties"].get("name") if v is not None else None) for v, (_v, t, _c) in zip(villages, firsts)]