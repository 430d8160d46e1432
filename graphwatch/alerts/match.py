"""Run one model and turn its rows into matches: one per (subject, object), with evidence.

A model's rows are grouped by the keys of their subject and object nodes — the alert's
identity — so a cadre with two relatives in one contract is one alert whose evidence holds
both. The id depends on the model and those keys only: the same match gets the same id on
every run, after a reload or a resolve, and on either engine.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from dataclasses import dataclass, field

from ..engines.base import GNode, GPath, GRel, Result
from .library import _FIELD, Pattern

SEVERITY_WEIGHT = {"high": 3, "medium": 2, "low": 1}


def alert_id(model: str, subject_key: str, object_key: str | None) -> str:
    """``<model>-<12 hex>``: a digest of the model and the subject's and object's keys.

    >>> alert_id("own_village_project", "Person:1", "Contract:HT1")
    'own_village_project-e421a8680bc0'
    """
    digest = hashlib.sha1(f"{model}\x1f{subject_key}\x1f{object_key or ''}".encode()).hexdigest()
    return f"{model}-{digest[:12]}"


@dataclass
class Match:
    """One alert as a run finds it (not yet stored)."""
    model: str
    id: str
    subject: GNode
    object: GNode | None
    values: dict                     # the first row's columns, for the explanation
    nodes: set = field(default_factory=set)     # every node and relationship id the rows were built from
    rels: set = field(default_factory=set)
    focus: set = field(default_factory=set)     # with ``evidence:`` columns: the nodes they hold (the
    focus_rels: set = field(default_factory=set)  # evidence is those and the relationships among them)
    rows: int = 0
    date: dt.date | None = None
    same_as: list = field(default_factory=list)  # [(rid, score)] identity links the match relied on
    explain_zh: str = ""
    explain_en: str = ""

    @property
    def certainty(self) -> float:
        """1 for a match on certain identities; the weakest SAME_AS score it used otherwise."""
        return min((s for _, s in self.same_as), default=1.0)


def run_pattern(pattern: Pattern, engine, ws, params: dict) -> Result:
    """The pattern's rows: its Cypher on ``engine``, or its algorithm on the workspace ``ws``."""
    if pattern.kind == "algorithm":
        from .algorithms import ALGORITHMS

        return ALGORITHMS[pattern.function].run(ws, **params)
    return engine.run(pattern.cypher, params, bindings=True)     # the evidence of every alert


def matches(pattern: Pattern, result: Result, same_as: dict[int, float] | None = None, *,
            schema=None) -> list[Match]:
    """Group ``result``'s rows into matches (first row order kept). ``same_as``: the workspace's
    SAME_AS relationships (id → score), to tell which matches rest on an uncertain identity."""
    same_as = same_as or {}
    cols = result.columns
    si = cols.index(pattern.subject)
    oi = cols.index(pattern.object) if pattern.object else None
    di = cols.index(pattern.date) if pattern.date else None
    ev = [cols.index(c) for c in pattern.evidence]
    out: dict[str, Match] = {}
    for row, binding in zip(result.rows, result.bindings):
        subject, obj = row[si], row[oi] if oi is not None else None
        if not isinstance(subject, GNode) or (oi is not None and not isinstance(obj, GNode)):
            continue        # an OPTIONAL part that matched nothing is no alert
        mid = alert_id(pattern.id, subject.key, obj.key if obj is not None else None)
        m = out.get(mid)
        if m is None:
            values = dict(zip(cols, row))
            m = out[mid] = Match(pattern.id, mid, subject, obj, values,
                                 explain_zh=fill(pattern.explain_zh, values, lang="zh", schema=schema),
                                 explain_en=fill(pattern.explain_en, values, lang="en", schema=schema))
        m.rows += 1
        m.nodes |= set(binding.nodes)
        m.rels |= set(binding.rels)
        if ev:    # the file names the evidence: those columns' nodes (the graph keeps the rest)
            nodes, rels = _ids([row[i] for i in ev])
            m.focus |= nodes | {subject.id} | ({obj.id} if obj is not None else set())
            m.focus_rels |= rels
        m.nodes.add(subject.id)
        if obj is not None:
            m.nodes.add(obj.id)
        when = _date(row[di]) if di is not None else None
        if when and (m.date is None or when > m.date):
            m.date = when
        for rid in binding.rels:
            if rid in same_as and (rid, same_as[rid]) not in m.same_as:
                m.same_as.append((rid, same_as[rid]))
    return list(out.values())


def _ids(values) -> tuple[set, set]:
    nodes, rels = set(), set()
    for v in values:
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, GNode):
                nodes.add(x.id)
            elif isinstance(x, GRel):
                rels.add(x.id)
            elif isinstance(x, GPath):
                nodes |= {n.id for n in x.nodes}
                rels |= {r.id for r in x.rels}
    return nodes, rels


def _date(v) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return None


def show(v) -> str:
    """A returned value as text in an explanation."""
    if v is None:
        return "—"
    if isinstance(v, GNode):
        return str(v.properties.get("name") or v.properties.get("contract_no") or v.properties.get("case_no")
                   or v.key.split(":", 1)[-1])
    if isinstance(v, GRel):
        return v.type
    if isinstance(v, GPath):
        return " → ".join(show(n) for n in v.nodes)
    if isinstance(v, (list, tuple)):
        return "、".join(show(x) for x in v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (float, decimal.Decimal)):
        f = float(v)
        return f"{f:,.0f}" if f == int(f) and abs(f) >= 1000 else (str(int(f)) if f == int(f) else f"{f:,.4g}")
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def fill(template: str, values: dict, *, lang: str = "zh", schema=None) -> str:
    """An explanation template filled from one row: ``{col}`` or ``{col.property}``. A value
    that names a relationship type (``type(k)``) reads as its title in the template's language.

    >>> fill("{who.name} 领取 {amount} 元", {"who": GNode(1, "Person:1", ("Person",), {"name": "张三"}), "amount": 1200})
    '张三 领取 1200 元'
    >>> fill("{kin}", {"kin": "SPOUSE_OF"}), fill("{kin}", {"kin": "SPOUSE_OF"}, lang="en")
    ('配偶', 'spouse')
    """
    from ..schema import load_schema

    types = (schema or load_schema()).rel_types

    def one(m):
        value = values.get(m.group(1))
        if m.group(2):
            value = value.properties.get(m.group(2)) if isinstance(value, (GNode, GRel)) else None
        if isinstance(value, str) and value in types:
            return types[value].title_zh if lang == "zh" else types[value].title_en
        return show(value)
    return _FIELD.sub(one, template)
