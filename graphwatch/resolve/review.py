"""Judgements and review: what people decide about pairs, and what they look at to decide.

Judgements (``same`` / ``not_same`` / ``unsure``, who, when, why) live in ``er_judgement``;
loads and resolves never touch them, and the latest judgement of a pair wins. A judgement
re-clusters at once (:func:`judge` returns what happened). A "same" joins the two records'
*entities*, as the reviewer sees them: it does not join entities that hold different valid
IDs — also when a record holds none itself but the registry or the model tied it to an ID
holder — nor entities a "not same" judgement keeps apart. :func:`unmerge` splits an entity
into its records; the rest reads the review queue (the review pairs of
:func:`~graphwatch.resolve.apply.review_pairs`), explains a pair's score and shows an
entity's records and where each value came from. Each needs a resolved workspace.
"""

from __future__ import annotations

import datetime as _dt
import getpass
from dataclasses import dataclass

from ..exc import ResolveError
from ..store import Workspace, q
from .model import COMPARISONS, level_of, level_weights
from .resolver import ensure_tables, last_thresholds, require_resolved, resolve
from .score import load_model

__all__ = ["JUDGEMENTS", "JudgeResult", "judge", "unmerge", "explain_pair", "review_queue", "review_counts",
           "entity_members", "entity_provenance"]

JUDGEMENTS = ("same", "not_same", "unsure")

#: what kept two judged records in two entities (:attr:`JudgeResult.kept_apart_by`)
DIFFERENT_IDS, NOT_SAME = "different_ids", "not_same"

_SYMBOL = {"same": "≡", "not_same": "≢", "unsure": "?"}
_WORD = {"same": ("same", "相同"), "not_same": ("not same", "不同"), "unsure": ("unsure", "无法确定")}
_ID_WORD = {"Person": "身份证号", "Company": "统一社会信用代码"}


@dataclass(frozen=True)
class JudgeResult:
    """What a judgement did.

    ``one_entity`` says whether records ``a`` and ``b`` now form one entity. When they do
    not, ``kept_apart_by`` names the constraint: ``"different_ids"`` (the two entities hold
    different valid IDs, in ``evidence``), ``"not_same"`` (a "not same" judgement, between
    the records in ``evidence``: this one or an earlier one) or ``None`` (the model scored
    them below the merge threshold, after an ``unsure``). ``was_one_entity``: whether they
    were one entity before the judgement.
    """
    a: str
    b: str
    judgement: str
    one_entity: bool
    entity_a: str | None
    entity_b: str | None
    kept_apart_by: str | None = None
    evidence: tuple[str, ...] = ()
    label: str = "Person"
    reclustered: bool = True
    was_one_entity: bool = False

    def describe(self) -> str:
        """One line, English · Chinese, e.g. ``recorded same: A ≡ B; now one entity Person:… · 已记录“相同”，现为同一实体``."""
        en, zh = _WORD[self.judgement]
        head = f"recorded {en}: {self.a} {_SYMBOL[self.judgement]} {self.b}"
        if not self.reclustered:
            return f"{head} (not re-clustered yet) · 已记录“{zh}”（尚未重新聚类）"
        if self.one_entity:
            if self.judgement == "not_same":   # cannot happen: a "not same" always separates
                return f"{head}; yet they are still one entity {self.entity_a} · 已记录“{zh}”，但仍为同一实体"
            lead = "the model decides: " if self.judgement == "unsure" else ""
            lead_zh = "由模型判定，" if self.judgement == "unsure" else ""
            now, now_zh = ("still", "仍为") if self.was_one_entity else ("now", "现为")
            return f"{head}; {lead}{now} one entity {self.entity_a} · 已记录“{zh}”，{lead_zh}{now_zh}同一实体"
        two = f"{self.entity_a} and {self.entity_b}"
        if self.kept_apart_by == DIFFERENT_IDS:
            id_word = _ID_WORD.get(self.label, "证件号码")
            why_en = f"they hold different valid IDs ({' vs '.join(self.evidence)})"
            why_zh = f"两者{id_word}不同（{'、'.join(self.evidence)}）"
        elif self.kept_apart_by == NOT_SAME and self.judgement != "not_same":
            why_en = f"\"not same\" was judged between {' and '.join(self.evidence)}"
            why_zh = f"{'与'.join(self.evidence)}已判定为不同"
        else:
            why_en = why_zh = ""
        if self.judgement == "same":
            return f"{head}, but they stay two entities: {why_en} · 已记录“{zh}”，但{why_zh}，仍为两个实体"
        if self.judgement == "not_same":
            return f"{head}; now two entities {two} · 已记录“{zh}”，现为两个实体"
        # unsure: the records' own evidence decides; say whether that parted them just now
        now, now_zh = ("now", "现为") if self.was_one_entity else ("still", "仍为")
        if why_en:
            return f"{head}; {now} two entities: {why_en} · 已记录“{zh}”，{why_zh}，{now_zh}两个实体"
        return f"{head}; the model decides: {now} two entities {two} · 已记录“{zh}”，由模型判定，{now_zh}两个实体"


def unit_of(con, ref) -> tuple[int, str]:
    """A unit from its id, ``dataset#record`` or ``dataset#record#key``; ``(unit, ref)``."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
        row = con.execute("SELECT unit, ref, key FROM er_unit WHERE unit = ?", [int(ref)]).fetchall()
    else:
        row = con.execute("""SELECT unit, ref, key FROM er_unit WHERE ref = $r OR ref || '#' || key = $r
                             ORDER BY label, key""", {"r": str(ref)}).fetchall()
    if not row:
        raise ResolveError(f"no source record {ref!r}: give a record as 'dataset#record' (see 'graphwatch review') "
                           "or its number; run 'graphwatch resolve' first")
    if len(row) > 1:
        raise ResolveError(f"{ref!r} names {len(row)} records; add the key: "
                           + ", ".join(f"{r}#{k}" for _, r, k in row[:5]))
    return row[0][0], row[0][1]


def judge(ws: Workspace, a, b, judgement: str, *, who: str | None = None, why: str = "",
          apply: bool = True) -> JudgeResult:
    """Record that records ``a`` and ``b`` are the same / not the same / unsure; re-cluster.

    Judgements override the model and survive every re-run and reload; the latest wins.
    Constraints still hold: a "same" between records of two different valid IDs is kept
    but does not join them. Returns a :class:`JudgeResult` saying what happened
    (``apply=False`` records only; the next resolve applies it).
    """
    if judgement not in JUDGEMENTS:
        raise ResolveError(f"judgement must be one of {', '.join(JUDGEMENTS)}, not {judgement!r}")
    con = ws.con
    require_resolved(ws)
    ensure_tables(con)
    (ua, ra), (ub, rb) = unit_of(con, a), unit_of(con, b)
    if ua == ub:
        raise ResolveError(f"{ra}: a record cannot be judged against itself")
    before = dict(con.execute("SELECT unit, entity FROM er_member WHERE unit IN (?, ?)", [ua, ub]).fetchall())
    was_one = before.get(ua) is not None and before.get(ua) == before.get(ub)
    low, high = (ua, ra), (ub, rb)
    if ua > ub:
        low, high = high, low
    con.execute("INSERT INTO er_judgement VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [low[0], high[0], low[1], high[1], judgement, who or getpass.getuser(), _dt.datetime.now(), why])
    if apply:
        resolve(ws, rescore=False, **last_thresholds(con))
    return _outcome(con, ua, ra, ub, rb, judgement, reclustered=apply, was_one=was_one)


def _outcome(con, ua: int, ra: str, ub: int, rb: str, judgement: str, *, reclustered: bool,
             was_one: bool) -> JudgeResult:
    """Where the two units ended up, and if apart, the constraint between their entities."""
    rows = dict(con.execute("SELECT unit, entity FROM er_member WHERE unit IN (?, ?)", [ua, ub]).fetchall())
    ea, eb = rows.get(ua), rows.get(ub)
    label = con.execute("SELECT label FROM er_unit WHERE unit = ?", [ua]).fetchone()[0]
    base = dict(a=ra, b=rb, judgement=judgement, entity_a=ea, entity_b=eb, label=label, reclustered=reclustered,
                was_one_entity=was_one)
    if ea is not None and ea == eb:
        return JudgeResult(one_entity=True, **base)
    if judgement == "not_same":
        return JudgeResult(one_entity=False, kept_apart_by=NOT_SAME, evidence=(ra, rb), **base)
    ids = dict(con.execute("""SELECT m.entity, min(u.id_usable) FROM er_member m JOIN er_unit u USING (unit)
                              WHERE m.entity IN (?, ?) GROUP BY m.entity HAVING count(u.id_usable) > 0""",
                           [ea, eb]).fetchall())
    if ea in ids and eb in ids and ids[ea] != ids[eb]:
        return JudgeResult(one_entity=False, kept_apart_by=DIFFERENT_IDS, evidence=(ids[ea], ids[eb]), **base)
    blocking = con.execute("""SELECT j.a_ref, j.b_ref FROM (
            SELECT a, b, arg_max(judgement, judged_at) AS judgement, arg_max(a_ref, judged_at) AS a_ref,
                   arg_max(b_ref, judged_at) AS b_ref, max(judged_at) AS at
            FROM er_judgement GROUP BY a, b) j
        JOIN er_member ma ON ma.unit = j.a JOIN er_member mb ON mb.unit = j.b
        WHERE j.judgement = 'not_same' AND ((ma.entity = $ea AND mb.entity = $eb) OR (ma.entity = $eb AND mb.entity = $ea))
        ORDER BY j.at DESC LIMIT 1""", {"ea": ea, "eb": eb}).fetchone()
    if blocking:
        return JudgeResult(one_entity=False, kept_apart_by=NOT_SAME, evidence=tuple(blocking), **base)
    return JudgeResult(one_entity=False, **base)


def unmerge(ws: Workspace, entity: str, *, who: str | None = None, why: str = "un-merge") -> int:
    """Split a resolved entity into its source records ("not same" between every two of them).

    Returns the number of records; each becomes its own node again, with its own properties
    and relationships, and stays apart in later runs until a "same" judgement joins them.
    """
    con = ws.con
    require_resolved(ws)
    ensure_tables(con)
    units = [r[0] for r in con.execute("""SELECT m.unit FROM er_member m JOIN er_unit u USING (unit)
                                         WHERE m.entity = ? ORDER BY u.rank""", [entity]).fetchall()]
    if not units:
        raise ResolveError(f"no resolved entity {entity!r} (entity keys look like 'Person:<ID>' or 'Person:@…')")
    if len(units) == 1:
        raise ResolveError(f"{entity} has one source record: nothing to un-merge")
    now, who = _dt.datetime.now(), who or getpass.getuser()
    refs = dict(con.execute("SELECT unit, ref || '#' || key FROM er_unit WHERE unit IN (SELECT unnest(?))",
                            [units]).fetchall())
    rows = [(min(a, b), max(a, b), refs[min(a, b)], refs[max(a, b)], "not_same", who, now, why)
            for i, a in enumerate(units) for b in units[i + 1:]]
    con.executemany("INSERT INTO er_judgement VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    resolve(ws, rescore=False, **last_thresholds(con))
    return len(units)


def explain_pair(ws: Workspace, a, b) -> dict:
    """Why two records scored as they did: each field's level and weight, the prior, the total."""
    con = ws.con
    require_resolved(ws)
    (ua, ra), (ub, rb) = unit_of(con, a), unit_of(con, b)
    ua, ub = min(ua, ub), max(ua, ub)
    row = con.execute("SELECT probability, weight, weights, status FROM er_pair WHERE a = ? AND b = ?",
                      [ua, ub]).fetchone()
    model, _ = load_model(ws, None)
    levels = level_weights(model)
    out = {"a": ra, "b": rb, "scored": row is not None}
    if row:
        probability, weight, weights, status = row
        out.update(probability=probability, match_weight=weight, status=status,
                   fields=[{"field": c, "level": level_of(levels[c], wt), "weight": round(wt, 2)}
                           for c, wt in zip(COMPARISONS, weights)],
                   prior_weight=round(weight - sum(weights), 2))
    j = con.execute("""SELECT judgement, who, judged_at, why FROM er_judgement WHERE a = ? AND b = ?
                       ORDER BY judged_at DESC LIMIT 1""", [ua, ub]).fetchone()
    if j:
        out["judgement"] = {"judgement": j[0], "who": j[1], "at": str(j[2]), "why": j[3]}
    return out


def review_queue(ws: Workspace, *, limit: int | None = 50):
    """The review pairs (:func:`~graphwatch.resolve.apply.review_pairs`: the same pairs the
    resolve report counts and ``SAME_AS`` joins), one row per pair of entities with its most
    likely pair of records; unjudged pairs first, most likely first, then those judged "unsure"."""
    require_resolved(ws)
    return ws.con.execute("""SELECT r.probability, ua.ref AS a, ua.name AS a_name, ub.ref AS b, ub.name AS b_name,
               r.entity_a AS a_entity, r.entity_b AS b_entity, r.status, r.a AS a_unit, r.b AS b_unit, r.judgement
        FROM er_review r JOIN er_unit ua ON ua.unit = r.a JOIN er_unit ub ON ub.unit = r.b
        ORDER BY r.judgement IS NOT NULL, r.probability DESC, a, b""" + (" LIMIT $n" if limit else ""),
                          {"n": limit} if limit else {}).df()


def review_counts(ws: Workspace) -> tuple[int, int]:
    """(pairs in the review queue, of which judged "unsure"): the whole queue, however many
    :func:`review_queue` shows — the number the resolve report gives."""
    require_resolved(ws)
    total, unsure = ws.con.execute("SELECT count(*), count(judgement) FROM er_review").fetchone()
    return total, unsure


def entity_members(ws: Workspace, entity: str):
    """The source records of a resolved entity, most authoritative first."""
    require_resolved(ws)
    return ws.con.execute("""SELECT u.ref, u.key, u.name, u.id_usable AS id_number, u.overshared, u.records
        FROM er_member m JOIN er_unit u USING (unit) WHERE m.entity = ? ORDER BY u.rank""", [entity]).df()


def entity_provenance(ws: Workspace, entity: str) -> dict[str, list[dict]]:
    """Every property of an entity with each value and the record that said it (winner first)."""
    con = ws.con
    require_resolved(ws)
    props = [p for p in ws.schema.node_properties if p != "aliases"]
    recs = con.execute(f"""SELECT nr.dataset, nr.record, {', '.join("nr." + q(p) for p in props)}
        FROM node_record nr JOIN er_unit u ON u.dataset = nr.dataset AND u.record = nr.record AND u.key = nr.key
        JOIN er_member m USING (unit) WHERE m.entity = ?
        ORDER BY nr.priority, nr.dataset, lpad(nr.record, 12, '0')""", [entity]).fetchall()
    if not recs:
        raise ResolveError(f"no resolved entity {entity!r}")
    out: dict[str, list[dict]] = {}
    for ds, rec, *vals in recs:
        for p, v in zip(props, vals):
            if v is not None:
                out.setdefault(p, []).append({"value": v, "dataset": ds, "record": rec})
    return out
