"""Entity resolution: which source records are one person (or one company).

The unit is a *source record*: what one row of one dataset says about one person
(``node_record`` rows grouped by dataset, record and key). Resolution runs in four steps,
all inside the workspace's DuckDB:

1. **prepare** (:mod:`.prepare`) — names normalised (:mod:`.names`), IDs split into birth date, sex and
   region; a valid ID shared by records with more than ``max_names_per_id`` different
   names (a clerk's ID, a placeholder) is *over-shared*: it stays the identity of its owner
   (the most authoritative record's name) and is only evidence for the others;
2. **score** (:mod:`.score`) — splink predicts candidate pairs (:mod:`.model`) and keeps those
   at or above the review threshold in ``er_pair``, each with its per-field weights. The
   model's m and u come from its training data; its prior (the chance that two random
   records are one person, which depends on how many records there are) is this
   workspace's own, measured on its records that carry a usable ID;
3. **cluster** (:mod:`.cluster`) — union-find over, in this order, shared valid IDs, the sole
   holder of a name in a village (unless the model finds another ID holder plausible for the
   record: then it is in doubt), model pairs at or above the merge threshold from the most
   to the least likely, then "same" judgements. Two clusters never join if they hold
   different valid IDs or any "not same" judgement between their records, so a chain A~B~C
   cannot join A and C that way. A record without a valid ID that matches records of two
   different ID holders is ambiguous: its pairs go to review instead;
4. **apply** (:mod:`.apply`) — ``node`` is rebuilt with one node per cluster (properties from the most
   authoritative record, other names as ``aliases``), relationships follow their records to
   their entities (a fact whose rows named different people is split; facts that became the same
   relationship are one), and the review pairs
   become ``SAME_AS`` relationships with their score and evidence. Original endpoints are
   kept in ``er_rel_orig`` so an un-merge or a new resolve can rebuild everything from the records.

A load keeps a resolved workspace resolved: it resolves the records it adds or changes
against the existing entities (:mod:`.incremental`) with the model and prior the stored
pairs were scored with (``er_model``).

Judgements (``er_judgement``, :mod:`.review`) are never touched by loads or resolves; the latest judgement
of a pair wins. Entity keys are stable: ``Person:<ID>`` for the owner of a valid ID, else
``Person:@<first record>``, the key the load gave that record.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..exc import ResolveError
from ..store import Workspace
from .apply import add_branches, apply_entities
from .cluster import cluster
from .model import train as train_model
from .prepare import LINK_INPUT, PERSON_TABLE, prepare_companies, prepare_persons
from .score import SCORED_PAIRS, estimated_prior, id_pair_counts, load_model, model_path, score_pairs, \
    workspace_prior

__all__ = ["ResolveError", "ResolveReport", "resolve", "MERGE_THRESHOLD", "REVIEW_THRESHOLD", "MAX_NAMES_PER_ID"]

MERGE_THRESHOLD = 0.99
REVIEW_THRESHOLD = 0.5
MAX_NAMES_PER_ID = 3


@dataclass
class ResolveReport:
    records: int = 0            # person source rows (lines) covered
    units: int = 0              # person source records (distinct statements)
    entities: int = 0
    merged_by_id: int = 0
    merged_by_village: int = 0   # sole holder of the name in the village
    village_doubt: int = 0       # records the village rule left alone: another ID holder matches too
    merged_by_model: int = 0
    review_pairs: int = 0
    ambiguous: int = 0
    overshared_ids: list = field(default_factory=list)
    blocked_by_judgement: int = 0
    blocked_by_ids: int = 0
    companies: int = 0
    company_merges: int = 0
    branches: int = 0
    model: str = ""
    trained: bool = False
    prior: dict = field(default_factory=dict)   # the prior scored with and what it came from
    seconds: dict = field(default_factory=dict)


# -- the workspace's er_* tables ------------------------------------------------------------------

#: the er_* tables (created on first use; a workspace resolved by an earlier version gains the new ones)
_TABLES = {
    "er_judgement": """er_judgement (a BIGINT NOT NULL, b BIGINT NOT NULL, a_ref VARCHAR, b_ref VARCHAR,
        judgement VARCHAR NOT NULL, who VARCHAR, judged_at TIMESTAMP NOT NULL, why VARCHAR)""",
    "er_unit": """er_unit (unit BIGINT, ref VARCHAR, key VARCHAR, dataset VARCHAR, record VARCHAR, label VARCHAR,
        name VARCHAR, id_usable VARCHAR, overshared BOOLEAN, rank BIGINT, records VARCHAR[], sole_in_village VARCHAR)""",
    "er_pair": "er_pair (a BIGINT, b BIGINT, probability DOUBLE, weight DOUBLE, weights DOUBLE[], status VARCHAR)",
    "er_member": "er_member (unit BIGINT, entity VARCHAR)",
    # what resolution changed in rel: each moved, split or joined fact's ends and provenance as
    # stated, a split's parts (part_of), a fact joined into another (merged_into)
    "er_rel_orig": """er_rel_orig (rid BIGINT, src BIGINT, dst BIGINT, record VARCHAR, records VARCHAR[],
        split BOOLEAN, part_of BIGINT, dataset VARCHAR, datasets VARCHAR[], merged_into BIGINT)""",
    "er_run": """er_run (ran_at TIMESTAMP, model VARCHAR, merge_threshold DOUBLE, review_threshold DOUBLE,
        applied BOOLEAN, report VARCHAR)""",
    # the review pairs (apply.review_pairs): what resolve reports, review lists and SAME_AS shows
    "er_review": """er_review (entity_a VARCHAR, entity_b VARCHAR, a BIGINT, b BIGINT, probability DOUBLE,
        status VARCHAR, judgement VARCHAR)""",
    # the model and prior the stored pairs were scored with: a load scores its records with them
    "er_model": "er_model (model VARCHAR, source VARCHAR, prior DOUBLE, max_names_per_id INTEGER, scored_at TIMESTAMP)",
    # each dataset's place in the ranking of person units (prepare.place_datasets)
    "er_rank": "er_rank (priority INTEGER, dataset VARCHAR, place BIGINT)",
    # every person unit's prepared row (prepare.py): a load prepares only what it changed
    "er_person": """er_person (unit BIGINT, key VARCHAR, dataset VARCHAR, record VARCHAR, priority INTEGER,
        records VARCHAR[], name VARCHAR, id_number VARCHAR, id_status VARCHAR, stated_sex VARCHAR, stated_birth DATE,
        village_code VARCHAR, phone VARCHAR, name_norm VARCHAR, name_pinyin VARCHAR, name_swap VARCHAR,
        id_key VARCHAR, stated_id_clean VARCHAR, overshared BOOLEAN, own_id BOOLEAN, birth_date DATE, sex VARCHAR,
        id_clean VARCHAR, id17 VARCHAR, region VARCHAR, township VARCHAR, county VARCHAR, id_usable BOOLEAN,
        id_label VARCHAR, sole_in_village VARCHAR)""",
}


def _er_tables(con) -> set[str]:
    return {t for t, in con.execute("""SELECT table_name FROM duckdb_tables()
        WHERE NOT temporary AND schema_name = 'main' AND starts_with(table_name, 'er_')""").fetchall()}


def ensure_tables(con) -> None:
    """Create the ``er_*`` tables on first use, and those an earlier version did not have
    (a read-only workspace never resolved: an error)."""
    have = _er_tables(con)
    missing = [t for t in _TABLES if t not in have]
    if not missing:
        return
    con.complete()
    try:
        for t in missing:
            con.execute("CREATE TABLE IF NOT EXISTS " + _TABLES[t])
    except duckdb.InvalidInputException:   # a read-only workspace
        if "er_run" not in have:
            raise ResolveError("this workspace is not resolved yet: run 'graphwatch resolve --workspace …' first") \
                from None


def was_resolved(con) -> bool:
    """Whether ``graphwatch resolve`` ever ran to the end on this workspace."""
    return "er_run" in _er_tables(con) and con.execute("SELECT count(*) > 0 FROM er_run").fetchone()[0]


def require_resolved(ws: Workspace) -> None:
    """A :class:`ResolveError` that says what to do, unless ``ws`` was resolved (reviewing
    needs what resolve made)."""
    if not was_resolved(ws.con):
        raise ResolveError(f"{ws.path}: not resolved yet: run 'graphwatch resolve --workspace {ws.path}' first")
    if "er_review" not in _er_tables(ws.con):
        raise ResolveError(f"{ws.path}: resolved by an earlier graphwatch: run "
                           f"'graphwatch resolve --workspace {ws.path}' again")


def last_thresholds(con) -> dict:
    """The thresholds of the last resolve (re-clustering after a judgement keeps them)."""
    row = con.execute("SELECT merge_threshold, review_threshold FROM er_run ORDER BY ran_at DESC LIMIT 1").fetchone()
    return {"merge_threshold": row[0], "review_threshold": row[1]} if row else {}


# -- resolve ----------------------------------------------------------------------------------------

def resolve(ws: Workspace, *, train: bool = False, model: str | Path | dict | None = None,
            merge_threshold: float = MERGE_THRESHOLD, review_threshold: float = REVIEW_THRESHOLD,
            max_names_per_id: int = MAX_NAMES_PER_ID, rescore: bool = True, model_prior: bool = False,
            progress=None) -> ResolveReport:
    """Resolve persons and companies in ``ws`` and rewrite its graph (one transaction).

    ``train`` fits the model on this workspace and saves it as ``<ws>/resolve/person_model.json``
    (later runs use it); otherwise ``model``, else that file, else the packaged default.
    Pairs are scored with this workspace's own prior (``report.prior`` says what it was
    derived from); ``model_prior=True`` keeps the model's stored prior instead (to compare).
    ``rescore=False`` re-clusters stored pairs only (after a judgement or an un-merge).
    """
    if ws.read_only:
        raise ResolveError(f"{ws.path}: opened read-only; resolution rewrites the graph")
    if not 0 < review_threshold <= merge_threshold <= 1:
        raise ResolveError(f"thresholds must satisfy 0 < review ({review_threshold}) <= merge ({merge_threshold}) <= 1")
    con = ws.con
    rep = ResolveReport()
    step = progress or (lambda *a: None)
    t0 = time.perf_counter()
    ensure_tables(con)
    # prepare, train and score read the graph and write temporary tables only; splink probes
    # tables by failing queries, which would abort an open transaction, so they run before it
    step("prepare", 0, 4)
    t = time.perf_counter()
    info = prepare_persons(con, max_names_per_id)
    rep.units, rep.records = info["units"], info["records"]
    rep.overshared_ids = [{"id": i, "names": n, "records": r} for i, n, r in info["overshared"]]
    prepare_companies(con)
    rep.seconds["prepare"] = time.perf_counter() - t
    rescore = rescore or not con.execute("SELECT count(*) FROM er_pair").fetchone()[0]
    if rescore:
        if train:
            step("train", 1, 4)
            t = time.perf_counter()
            _units, id_units, shared = id_pair_counts(con)
            m = train_model(con, LINK_INPUT, estimated_prior(id_units, shared),
                            trained_on=f"workspace {ws.path.name}: {rep.records:,} person records "
                                       f"({rep.units:,} source statements)")
            model_path(ws).parent.mkdir(exist_ok=True)
            model_path(ws).write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")
            rep.model, rep.trained = str(model_path(ws)), True
            rep.seconds["train"] = time.perf_counter() - t
        else:
            m, rep.model = load_model(ws, model)
        # the prior is this workspace's, not the training county's (it depends on the data's size)
        rep.prior = workspace_prior(con, m["probability_two_random_records_match"])
        if model_prior:
            rep.prior["prior"] = m["probability_two_random_records_match"]
        m = {**m, "probability_two_random_records_match": rep.prior["prior"]}
        step("score", 1, 4)
        t = time.perf_counter()
        score_pairs(con, m, review_threshold)
        rep.seconds["score"] = time.perf_counter() - t
    else:
        rep.model = "stored pairs"
    with ws.transaction():
        con.execute("DELETE FROM er_unit")
        con.execute("INSERT INTO er_unit SELECT * FROM _er_unit_person UNION ALL SELECT * FROM _er_unit_company")
        con.execute(f"DELETE FROM {PERSON_TABLE}")
        con.execute(f"INSERT INTO {PERSON_TABLE} BY NAME SELECT * FROM _er_person")
        con.execute("DELETE FROM er_rank")
        con.execute("INSERT INTO er_rank SELECT * FROM _er_rank")
        if rescore:
            con.execute("DELETE FROM er_pair")
            con.execute(f"INSERT INTO er_pair SELECT * FROM {SCORED_PAIRS}")
            con.execute("DELETE FROM er_model")
            con.execute("INSERT INTO er_model VALUES (?, ?, ?, ?, now())",
                        [json.dumps(m, ensure_ascii=False), rep.model, rep.prior["prior"], max_names_per_id])
        step("cluster", 2, 4)
        t = time.perf_counter()
        for label in ("Person", "Company"):
            counts = cluster(con, label, merge_threshold)
            if label == "Person":
                rep.entities = counts.entities
            else:
                rep.companies = counts.entities
            for name in ("merged_by_id", "merged_by_village", "village_doubt", "merged_by_model", "ambiguous",
                         "blocked_by_ids", "blocked_by_judgement"):
                setattr(rep, name, getattr(rep, name) + getattr(counts, name))
        rep.company_merges = con.execute("""SELECT count(*) - count(DISTINCT m.entity) FROM er_member m
            JOIN er_unit u USING (unit) WHERE u.label = 'Company' AND u.key <> m.entity""").fetchone()[0]
        rep.seconds["cluster"] = time.perf_counter() - t
        step("apply", 3, 4)
        t = time.perf_counter()
        rep.review_pairs = apply_entities(con, ws, review_threshold)
        rep.branches = add_branches(con)
        rep.seconds["apply"] = time.perf_counter() - t
        clash = con.execute("SELECT nid FROM node GROUP BY nid HAVING count(*) > 1 LIMIT 1").fetchone()
        if clash:
            raise ResolveError(f"id collision on {clash[0]}; resolution was rolled back")
        rep.seconds["total"] = time.perf_counter() - t0
        con.execute("UPDATE er_run SET applied = false")
        con.execute("INSERT INTO er_run VALUES (now(), ?, ?, ?, true, ?)",
                    [rep.model, merge_threshold, review_threshold, json.dumps(rep.__dict__, default=str)])
        step("done", 4, 4)
    for t in (LINK_INPUT, "_er_person", "_er_rank", "_er_unit_person", "_er_unit_company", SCORED_PAIRS):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return rep
