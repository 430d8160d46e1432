"""Detection quality: the library's alerts on a workspace against a planted truth.

The synthetic county (:func:`graphwatch.synth.generate_county`) writes
``_truth/ground_truth.csv``: one row per entity of each planted case — ``model_id,
violation_id, kind (violation | near_miss), entity_kind, entity_key, note``. A *case* is the
rows of one ``violation_id``; its entities ``E`` are their workspace keys. :func:`evaluate`
runs each model on the workspace exactly as ``graphwatch run`` would (same parameters, same
grouping into alerts, same evidence) without storing anything, and compares.

Definitions (for one model; alerts and cases of other models never count):

* **Evidence keys** ``N(A)`` of an alert ``A``: the keys of the nodes of its evidence subgraph
  — every node its rows matched, or, when the pattern names ``evidence:`` columns, the
  subject, the object, the nodes those columns hold and the ends of the relationships they hold.
* A case's entities split into **payments** ``P`` (entity kind ``Benefit``: one record per
  period) and the **core** ``C`` (everything else: persons, households, companies, contracts,
  tenders, villages, police cases …). The core identifies the case; which payment records
  belong to an alert's evidence depends on the model's window (poor_with_assets shows the
  payments made while the asset was owned; the generator's truth names the household's first
  payment, which may predate the car), so payments do not decide whether a case is found.
* ``A`` **covers** a case when ``C ⊆ N(A)``.
* A planted violation is **found** when some alert covers it. **recall** = found / planted.
  *payments in evidence* = the planted payment records of found violations that are in the
  covering alerts' evidence / all planted payment records of found violations (how much of the
  money trail the alert shows).
* An alert is **true** when it covers some planted violation; **precision** = true alerts /
  alerts (two alerts covering one violation are both true; the violation counts once for
  recall). A model with no alert has no precision (shown as —), not 0 or 1.
* A near-miss is **reported** when some alert covers it, or when the alert's identity lies
  inside it: its subject key — and its object key, if it has an object — are among the
  near-miss's entities (a near-miss spread over two tenders is never one alert's evidence, but
  an alert on one of its tenders is about it). Goal: 0.
* **false alerts** are those that cover no violation (a reported near-miss is one of them).
* For a model without planted cases (``no truth``), *other models' cases* counts its alerts
  whose identity lies inside a case planted for another model (e.g. official_near_winner
  finding relative_direct_award's plants).

A model whose needed labels or relationship types are absent from the workspace is
``insufficient data`` (as in ``graphwatch run``), never 0 % recall; a model without planted
cases is ``no truth`` (its alerts are counted, nothing is rated).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..exc import GraphwatchError, SourceError
from .library import Pattern

TRUTH_COLUMNS = ("model_id", "violation_id", "kind", "entity_kind", "entity_key")
PAYMENT_KINDS = ("Benefit",)


@dataclass
class Case:
    """One planted violation or near-miss."""
    model: str
    id: str
    kind: str                       # violation | near_miss
    core: frozenset                 # entity keys other than payments
    payments: frozenset             # Benefit keys
    note: str = ""

    @property
    def keys(self) -> frozenset:
        return self.core | self.payments

    def covered_by(self, evidence: set) -> bool:
        return self.core <= evidence

    def pointed_at_by(self, alert: "Alert") -> bool:
        """The alert's identity (subject, and object if any) lies inside this case."""
        return alert.subject in self.keys and (alert.object is None or alert.object in self.keys)


@dataclass
class Alert:
    """What evaluation needs of one alert."""
    id: str
    subject: str
    object: str | None
    evidence: frozenset
    explain: str = ""
    certainty: float = 1.0


@dataclass
class ModelQuality:
    """One model's detection quality."""
    model: str
    status: str                     # calculated | insufficient_data | no_truth
    message: str = ""
    planted: int = 0
    found: int = 0
    alerts: int = 0
    true_alerts: int = 0
    near_misses: int = 0
    near_misses_reported: int = 0
    missed: list = field(default_factory=list)                 # violation ids
    false_alerts: list = field(default_factory=list)           # [{id, subject, object, explain}]
    reported_near_misses: list = field(default_factory=list)   # near-miss ids
    payments_planted: int = 0       # payment records of found violations …
    payments_in_evidence: int = 0   # … that are in a covering alert's evidence
    other_models_cases: int = 0     # no truth: alerts pointing at another model's planted case
    seconds: float = 0.0

    @property
    def recall(self) -> float | None:
        return self.found / self.planted if self.planted and self.status == "calculated" else None

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts and self.status == "calculated" else None

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["recall"], d["precision"] = self.recall, self.precision
        return d


def read_truth(path: str | Path) -> dict[str, list[Case]]:
    """The planted cases of ``ground_truth.csv``, by model. A file that is not one — missing,
    empty, not text, not CSV, without the columns, a row with a cell missing or a wrong kind —
    is a one-line :class:`SourceError` naming the file (and the line and column where it went
    wrong)."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise SourceError("truth file not found (a generated county keeps it in _truth/ground_truth.csv)",
                          file=where)
    data = path.read_bytes()
    expected = f"{', '.join(TRUTH_COLUMNS)}, note"
    if not data.strip():
        raise SourceError(f"empty file; a truth file has a header row {expected}", file=where)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:    # the line, and the byte of it, that is not UTF-8
        bad = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line_start = data.rfind(b"\n", 0, bad) + 1
        raise SourceError(f"not UTF-8 text (byte 0x{data[bad]:02x}); a truth file is the UTF-8 CSV the "
                          "generator writes", file=where, line=data.count(b"\n", 0, bad) + 1,
                          column=bad - line_start + 1) from None
    if "\0" in text:
        raise SourceError("not a text file (it holds NUL bytes); a truth file is a CSV file with columns "
                          f"{expected}", file=where, line=text.count("\n", 0, text.index("\0")) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: dict[tuple, dict] = {}
    try:
        header = next((h for h in reader if any(c.strip() for c in h)), None)
        missing = [c for c in TRUTH_COLUMNS if c not in [h.strip() for h in header or []]]
        if missing:
            raise SourceError(f"not a truth file: no column {', '.join(missing)} (expected {expected})",
                              file=where, line=reader.line_num)
        col = {h.strip(): i for i, h in enumerate(header)}
        for r in reader:
            if not any(c.strip() for c in r):
                continue
            for name in TRUTH_COLUMNS:
                if col[name] >= len(r) or not r[col[name]].strip():
                    raise SourceError(f"no {name} (a truth row needs {', '.join(TRUTH_COLUMNS)})",
                                      file=where, line=reader.line_num, column=name)
            model, vid, kind, entity_kind, key = (r[col[c]].strip() for c in TRUTH_COLUMNS)
            if kind not in ("violation", "near_miss"):
                raise SourceError(f"kind {kind!r} must be violation or near_miss", file=where,
                                  line=reader.line_num, column="kind")
            note = r[col["note"]] if "note" in col and col["note"] < len(r) else ""
            c = rows.setdefault((model, vid), {"kind": kind, "core": set(), "pay": set(), "note": note})
            (c["pay"] if entity_kind in PAYMENT_KINDS else c["core"]).add(key)
    except csv.Error as exc:
        raise SourceError(f"not a CSV file: {exc}", file=where, line=reader.line_num) from None
    out: dict[str, list[Case]] = {}
    for (model, vid), c in sorted(rows.items()):
        out.setdefault(model, []).append(Case(model, vid, c["kind"], frozenset(c["core"]), frozenset(c["pay"]),
                                              c["note"]))
    return out


def score(model: str, cases: list[Case], alerts: list[Alert], *, others: list[Case] = ()) -> ModelQuality:
    """Compare one model's alerts with its planted cases (see the module's definitions);
    ``others``: the cases planted for other models (counted only for a model without truth)."""
    q = ModelQuality(model, "calculated" if cases else "no_truth", alerts=len(alerts))
    violations = [c for c in cases if c.kind == "violation"]
    near = [c for c in cases if c.kind == "near_miss"]
    q.planted, q.near_misses = len(violations), len(near)
    shown: dict[str, set] = {}
    for a in alerts:
        hits = [v for v in violations if v.covered_by(a.evidence)]
        for v in hits:
            shown.setdefault(v.id, set()).update(v.payments & a.evidence)
        if hits:
            q.true_alerts += 1
        elif cases:
            q.false_alerts.append({"id": a.id, "subject": a.subject, "object": a.object, "explain": a.explain,
                                   "certainty": a.certainty})
    q.found = len(shown)
    q.missed = [v.id for v in violations if v.id not in shown]
    q.payments_planted = sum(len(v.payments) for v in violations if v.id in shown)
    q.payments_in_evidence = sum(len(p) for p in shown.values())
    q.reported_near_misses = [m.id for m in near
                              if any(m.covered_by(a.evidence) or m.pointed_at_by(a) for a in alerts)]
    q.near_misses_reported = len(q.reported_near_misses)
    if not cases:
        q.other_models_cases = sum(any(c.pointed_at_by(a) for c in others) for a in alerts)
    return q


def alerts_of(pattern: Pattern, engine, ws, params: dict, same_as: dict, key_map=None) -> list[Alert]:
    """The pattern's alerts on the workspace as ``graphwatch run`` would store them (not stored).
    ``key_map`` reads each node key before comparison (see :func:`evaluate`)."""
    from .match import matches, run_pattern

    found = matches(pattern, run_pattern(pattern, engine, ws, params), same_as, schema=ws.schema)
    ids: set[int] = set()
    per = []
    for m in found:
        if m.focus:
            nodes = set(m.focus)
            if m.focus_rels:
                ends = ws.con.execute("SELECT src, dst FROM rel WHERE rid IN (SELECT unnest($r))",
                                      {"r": sorted(m.focus_rels & m.rels)}).fetchall()
                nodes |= {x for pair in ends for x in pair}
        else:
            nodes = set(m.nodes)
        per.append((m, nodes))
        ids |= nodes
    keys = dict(ws.con.execute("SELECT nid, key FROM node WHERE nid IN (SELECT unnest($i))",
                               {"i": sorted(ids)}).fetchall()) if ids else {}
    km = key_map or (lambda k: k)
    return [Alert(m.id, km(m.subject.key), km(m.object.key) if m.object is not None else None,
                  frozenset(km(keys[n]) for n in nodes if n in keys), m.explain_en, m.certainty) for m, nodes in per]


def evaluate(workspace: str | Path, truth_csv: str | Path, *, models: Iterable[str] | None = None,
             pattern_dirs: Iterable[str | Path] = (), shipped: bool = True, params: dict[str, dict] | None = None,
             engine: str = "duckdb", connection: dict | None = None, key_map=None,
             progress=None) -> list[ModelQuality]:
    """Run the models (every model of the library, or ``models``) on ``workspace`` and rate
    their alerts against ``truth_csv``; one :class:`ModelQuality` per model, in library order.

    ``params`` overrides parameters as ``{model: {name: value}}`` (as ``graphwatch run
    --param``); nothing is written to the workspace or its alert store. ``key_map`` maps a node
    key to the form the truth uses before comparing (a workspace keyed otherwise than the
    shipped mappings key it, e.g. by raw ID text); the graph itself is not changed.
    """
    from ..engines import open_engine
    from ..store import Workspace
    from .runner import bind_models, missing_data

    workspace = Path(workspace)
    if not (workspace / "graph.duckdb").is_file():
        raise GraphwatchError(f"{workspace}: no workspace here (create one with 'graphwatch load')")
    truth = read_truth(truth_csv)
    chosen, bound = bind_models(workspace, models, params, pattern_dirs=pattern_dirs, shipped=shipped)
    out = []
    with Workspace(workspace, read_only=True) as ws:
        counts = ws.counts()
        same_as = dict(ws.con.execute("SELECT rid, score FROM rel WHERE type = 'SAME_AS'").fetchall())
        eng = open_engine(engine, ws if engine == "duckdb" else workspace, connection=connection)
        try:
            for k, p in enumerate(chosen):
                if progress:
                    progress(p.id, k, len(chosen))
                t0 = time.perf_counter()
                gone = missing_data(p, counts)
                if gone:
                    q = ModelQuality(p.id, "insufficient_data",
                                     "no " + ", ".join(gone) + " in the workspace (load the source that has them)")
                    cases = truth.get(p.id, [])
                    q.planted = sum(c.kind == "violation" for c in cases)
                    q.near_misses = len(cases) - q.planted
                else:
                    others = [c for m, cs in truth.items() if m != p.id for c in cs]
                    q = score(p.id, truth.get(p.id, []), alerts_of(p, eng, ws, bound[p.id], same_as, key_map),
                              others=others)
                q.seconds = time.perf_counter() - t0
                out.append(q)
        finally:
            eng.close()
    if progress:
        progress("done", len(chosen), len(chosen))
    return out


def table_rows(results: list[ModelQuality]) -> list[list[str]]:
    """Rows of the detection table: model, planted, found, alerts, true alerts, recall,
    precision, near-misses reported / planted, seconds.

    >>> q = ModelQuality("m", "calculated", planted=5, found=5, alerts=6, true_alerts=5, near_misses=5)
    >>> table_rows([q])[0]
    ['m', '5', '5', '6', '5', '1.000', '0.833', '0 / 5', '0.0']
    """
    def num(x):
        return "—" if x is None else f"{x:.3f}"
    rows = []
    for q in results:
        if q.status == "insufficient_data":
            rows.append([q.model, str(q.planted), "—", "—", "—", "insufficient data", "—",
                         f"— / {q.near_misses}", f"{q.seconds:.1f}"])
            continue
        rows.append([q.model, str(q.planted), str(q.found), str(q.alerts), str(q.true_alerts), num(q.recall),
                     num(q.precision), f"{q.near_misses_reported} / {q.near_misses}", f"{q.seconds:.1f}"])
    return rows


TABLE_HEADER = ["model", "planted", "found", "alerts", "true alerts", "recall", "precision",
                "near-misses reported", "s"]
