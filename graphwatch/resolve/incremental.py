"""Resolution inside a load: the records a load adds or changes, against the existing entities.

A load of a resolved workspace keeps it resolved (:func:`resolve_load`, called by
:func:`graphwatch.store.commit` inside the load's transaction, after the graph went back to
one node per record and the derivations ran). Only what the load touched is worked on:

1. **prepare** — the person statements of the reloaded datasets are compared with the ones
   ``er_person`` kept; only new and changed statements are prepared (names normalised once
   per new spelling). The holders of their IDs are prepared again (an ID may now be, or no
   longer be, over-shared), and so are the sole holders of their names in their villages.
   Units whose comparison columns changed, or that are new, are *touched*;
2. **score** — touched units are scored against each other and against every other unit
   (splink's ``predict_within`` and ``predict_between``) with the stored model and the prior
   the stored pairs were scored with (``er_model``); pairs of untouched units are kept;
3. **cluster** — entities that lost or changed a record, or whose records' sole-holder or
   ambiguity changed, are clustered again from their records; every other entity keeps its
   records and its name and takes part as a whole: a new record joins it by ID, as the sole
   holder of its name in its village, by a model pair or by a judgement. Every judgement
   applies; constraints hold as in a full resolve;
4. **apply** — the graph is rewritten from the entities, as after ``graphwatch resolve``.

Companies are few and identified by USCC alone: they are prepared and clustered again whole.
A full ``graphwatch resolve`` re-scores everything with a fresh prior and may settle
conflicting evidence differently; a load never re-scores pairs it did not touch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ..store import LoadResult, Workspace
from .apply import add_branches, apply_entities
from .cluster import ambiguous_units_sql, cluster, village_doubt_sql
from .prepare import (LINK_COLUMNS, PERSON_TABLE, STATED, derived_sql, link_input, overshared_ids,
                      person_statements, person_unit_rows_sql, place_datasets, prepare_companies, sole_holders_sql)
from .resolver import MAX_NAMES_PER_ID, MERGE_THRESHOLD, REVIEW_THRESHOLD, _er_tables, ensure_tables, last_thresholds
from .score import SCORED_PAIRS, load_model, score_touched

__all__ = ["LoadResolution", "ResolutionResult", "resolve_load"]


@dataclass
class LoadResolution:
    """What keeping the workspace resolved did in one load (person records are source rows)."""
    records: int = 0         # person records the load added or changed
    merged: int = 0          # … now in an entity that has records from before the load
    review: int = 0          # … not merged, in an entity of a review pair (SAME_AS)
    apart: int = 0           # … persons of their own
    removed: int = 0         # person records the load took away
    touched_units: int = 0   # units (re)scored: new statements, and any whose comparison columns changed
    clustered: int = 0       # units clustered again (the touched and the rest of their entities)
    pairs: int = 0           # pairs scored at or above the review threshold
    entities_before: int = 0
    entities: int = 0
    review_pairs: int = 0    # review pairs in the workspace after the load
    companies: int = 0
    model: str = ""
    prior: dict = field(default_factory=dict)
    by_dataset: dict = field(default_factory=dict)   # dataset -> [records, merged, review, apart]
    seconds: dict = field(default_factory=dict)

    def notes(self) -> list[str]:
        """The accounting's lines, English · Chinese."""
        lines = [f"{self.records:,} person records added or changed: {self.merged:,} joined existing persons, "
                 f"{self.review:,} to review (SAME_AS), {self.apart:,} persons of their own"
                 + (f"; {self.removed:,} records removed" if self.removed else "")
                 + f" · 新增或变更人员记录 {self.records:,} 条：并入已有人员 {self.merged:,}，待复核 {self.review:,}，"
                   f"独立人员 {self.apart:,}"]
        for ds, (n, merged, review, apart) in sorted(self.by_dataset.items()):
            lines.append(f"  {ds}: {n:,} records — {merged:,} joined, {review:,} to review, {apart:,} apart")
        lines.append(f"persons {self.entities_before:,} → {self.entities:,}; {self.review_pairs:,} review pairs; "
                     f"{self.touched_units:,} statements scored ({self.pairs:,} pairs), {self.clustered:,} clustered "
                     f"again; {self.seconds.get('total', 0.0):.1f} s; model {self.model}")
        return lines


@dataclass
class ResolutionResult(LoadResult):
    """The load's accounting entry for resolution (``format == "resolution"``)."""
    resolution: LoadResolution | None = None


def resolve_load(ws: Workspace, datasets: list[str]) -> ResolutionResult:
    """Resolve what a load of ``datasets`` added or changed against the existing entities
    (inside the load's transaction, on the graph rebuilt from records). See the module."""
    con = ws.con
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = LoadResolution()
    ensure_tables(con)
    thresholds = {"merge_threshold": MERGE_THRESHOLD, "review_threshold": REVIEW_THRESHOLD, **last_thresholds(con)}
    merge, review = thresholds["merge_threshold"], thresholds["review_threshold"]
    model, out.model, prior, max_names = _stored_model(ws)
    out.prior = {"prior": prior}
    out.entities_before = _persons(con)
    # a unit's ambiguity (and doubt about its village holder) depends on pairs: before, to compare
    con.execute(f"CREATE OR REPLACE TEMP TABLE _er_amb_before AS {ambiguous_units_sql('$m')} "
                f"UNION SELECT u FROM ({village_doubt_sql()})", {"m": merge})
    t = time.perf_counter()
    first = not con.execute(f"SELECT count(*) FROM {PERSON_TABLE}").fetchone()[0]
    out.removed = _prepare_changes(con, None if first else datasets, max_names)   # an earlier version kept none
    out.seconds["prepare"] = time.perf_counter() - t
    t = time.perf_counter()
    link_input(con, PERSON_TABLE, "_er_link_touched", where="unit IN (SELECT unit FROM _er_touched)")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _er_link_others AS SELECT unit AS unique_id, {', '.join(LINK_COLUMNS)}
                    FROM {PERSON_TABLE} WHERE unit NOT IN (SELECT unit FROM _er_touched)""")
    out.pairs = score_touched(con, "_er_link_touched", "_er_link_others", {
        **model, "probability_two_random_records_match": prior}, review)
    con.execute("""DELETE FROM er_pair WHERE a IN (SELECT unit FROM _er_stale) OR b IN (SELECT unit FROM _er_stale)""")
    con.execute(f"INSERT INTO er_pair SELECT * FROM {SCORED_PAIRS}")
    out.seconds["score"] = time.perf_counter() - t
    t = time.perf_counter()
    # units: the reloaded datasets' afresh; others whose ID or sole holder changed, updated
    if place_datasets(con, PERSON_TABLE, "er_rank") and not first:
        con.execute(f"""DELETE FROM er_unit WHERE label = 'Person' AND (dataset IN (SELECT unnest($ds::VARCHAR[]))
                        OR unit NOT IN (SELECT unit FROM {PERSON_TABLE}))""", {"ds": datasets})
        con.execute("INSERT INTO er_unit " + person_unit_rows_sql(
            PERSON_TABLE, "er_rank", where="p.dataset IN (SELECT unnest($ds::VARCHAR[]))"), {"ds": datasets})
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_unit_changes AS
            SELECT p.unit, p.id_label, p.overshared, p.sole_in_village FROM {PERSON_TABLE} p JOIN er_unit u USING (unit)
            WHERE p.unit IN (SELECT unit FROM _er_rederived UNION SELECT unit FROM _er_resoled)
              AND (u.id_usable IS DISTINCT FROM p.id_label OR u.overshared IS DISTINCT FROM p.overshared
                   OR u.sole_in_village IS DISTINCT FROM p.sole_in_village)""")
        con.execute("""UPDATE er_unit SET id_usable = c.id_label, overshared = c.overshared,
                            sole_in_village = c.sole_in_village
            FROM _er_unit_changes c WHERE er_unit.unit = c.unit""")
        con.execute("DROP TABLE _er_unit_changes")
    else:   # no room between datasets' places (or a workspace from before them): all ranked again
        con.execute("DELETE FROM er_unit WHERE label = 'Person'")
        con.execute("INSERT INTO er_unit " + person_unit_rows_sql(PERSON_TABLE, "er_rank"))
    prepare_companies(con)
    con.execute("DELETE FROM er_unit WHERE label = 'Company'")
    con.execute("INSERT INTO er_unit SELECT * FROM _er_unit_company")
    # entities to cluster again: those that lost, changed or re-scored a record, or one whose
    # sole holder or ambiguity changed
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_dirty AS
        WITH amb AS ({ambiguous_units_sql('$m')} UNION SELECT u FROM ({village_doubt_sql()})),
             flips AS ((SELECT u FROM amb EXCEPT SELECT u FROM _er_amb_before)
                       UNION (SELECT u FROM _er_amb_before EXCEPT SELECT u FROM amb)),
             hit AS (SELECT unit FROM _er_stale UNION SELECT unit FROM _er_resoled UNION SELECT u FROM flips)
        SELECT m.unit FROM er_member m
        WHERE m.entity IN (SELECT entity FROM er_member WHERE unit IN (SELECT unit FROM hit))
          AND m.unit IN (SELECT unit FROM er_unit WHERE label = 'Person')""", {"m": merge})
    out.clustered = con.execute("""SELECT count(*) FROM (SELECT unit FROM _er_dirty UNION
        SELECT unit FROM er_unit WHERE label = 'Person' AND unit NOT IN (SELECT unit FROM er_member))""").fetchone()[0]
    people = cluster(con, "Person", merge, dirty="_er_dirty")
    companies = cluster(con, "Company", merge)
    out.entities, out.companies = people.entities, companies.entities
    out.seconds["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    out.review_pairs = apply_entities(con, ws, review)
    add_branches(con)
    out.seconds["apply"] = time.perf_counter() - t
    _account(con, out)
    out.seconds["total"] = time.perf_counter() - t0
    out.seconds["cpu"] = time.process_time() - cpu0   # every thread of the process
    con.execute("UPDATE er_run SET applied = false")
    con.execute("INSERT INTO er_run VALUES (now(), ?, ?, ?, true, ?)",
                [f"load: {out.model}", merge, review, json.dumps({**out.__dict__, "kind": "load"}, default=str)])
    for tbl in ("_er_amb_before", "_er_touched", "_er_stale", "_er_resoled", "_er_rederived", "_er_changed",
                "_er_new_rows", "_er_link_touched", "_er_dirty", "_er_unit_company", SCORED_PAIRS):
        con.execute(f"DROP TABLE IF EXISTS {tbl}")
    con.execute("DROP VIEW IF EXISTS _er_link_others")
    return ResolutionResult("resolution", str(ws.path), "resolution", None, 0, 0, 0, 0, 0, notes=out.notes(),
                            resolution=out)


def _persons(con) -> int:
    return con.execute("""SELECT count(DISTINCT m.entity) FROM er_member m JOIN er_unit u USING (unit)
                          WHERE u.label = 'Person'""").fetchone()[0]


def _stored_model(ws: Workspace) -> tuple[dict, str, float, int]:
    """The model, its source, the prior and the over-sharing limit the stored pairs were
    scored with (a workspace resolved by an earlier version: its model file and the prior
    its last resolve reported)."""
    con = ws.con
    row = con.execute("SELECT model, source, prior, max_names_per_id FROM er_model ORDER BY scored_at DESC LIMIT 1")\
        .fetchone() if "er_model" in _er_tables(con) else None
    if row:
        return json.loads(row[0]), row[1], row[2], row[3] or MAX_NAMES_PER_ID
    model, source = load_model(ws, None)
    prior = model["probability_two_random_records_match"]
    for (report,) in con.execute("SELECT report FROM er_run ORDER BY ran_at DESC").fetchall():
        stated = json.loads(report or "{}").get("prior") or {}
        if stated.get("prior"):
            prior = stated["prior"]
            break
    return model, source, prior, MAX_NAMES_PER_ID


def _prepare_changes(con, datasets: list[str] | None, max_names: int) -> int:
    """Bring ``er_person`` up to date with the statements of ``datasets`` (``None``: all);
    returns how many person records are gone.

    Leaves ``_er_changed`` (units of new or changed statements), ``_er_new_rows`` (their rows
    that say something new: unit, dataset, record), ``_er_touched`` (units whose
    comparison columns are new or changed), ``_er_stale`` (units whose stored pairs are
    stale: the touched, and units that are gone) and ``_er_resoled`` (units whose sole holder
    changed).
    """
    scope = "dataset IN (SELECT unnest($ds::VARCHAR[]))" if datasets is not None else "true"
    params = {"ds": datasets} if datasets is not None else {}
    person_statements(con, "_er_new", where=scope, params=params, cache=PERSON_TABLE)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _er_old AS SELECT * FROM {PERSON_TABLE} WHERE {scope}", params)
    same = " AND ".join(f"o.{c} IS NOT DISTINCT FROM n.{c}" for c in STATED)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_changed AS
        SELECT n.unit, n.id_key FROM _er_new n
        WHERE NOT EXISTS (SELECT 1 FROM _er_old o WHERE o.unit = n.unit AND {same})""")
    # IDs whose holders changed: their over-sharing is counted again
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_ids AS SELECT DISTINCT id_key FROM (
            SELECT id_key FROM _er_changed UNION ALL
            SELECT o.id_key FROM _er_old o WHERE o.unit NOT IN (SELECT unit FROM _er_new)
                OR o.unit IN (SELECT unit FROM _er_changed)) WHERE id_key IS NOT NULL""")
    con.execute(f"DELETE FROM {PERSON_TABLE} WHERE {scope}", params)
    con.execute(f"""INSERT INTO {PERSON_TABLE} SELECT * FROM _er_old
        WHERE unit IN (SELECT unit FROM _er_new) AND unit NOT IN (SELECT unit FROM _er_changed)""")
    # prepared again: new and changed statements, and every holder of those IDs
    stmt = ", ".join(("unit",) + STATED + ("name_norm", "name_pinyin", "name_swap", "id_key", "stated_id_clean"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_restate AS
        SELECT {stmt} FROM _er_new WHERE unit IN (SELECT unit FROM _er_changed)
        UNION ALL SELECT {stmt} FROM {PERSON_TABLE} WHERE id_key IN (SELECT id_key FROM _er_ids)""")
    link = ", ".join(LINK_COLUMNS)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_before AS
        SELECT unit, {link}, sole_in_village FROM {PERSON_TABLE} WHERE unit IN (SELECT unit FROM _er_restate)
        UNION ALL SELECT unit, {link}, sole_in_village FROM _er_old
        WHERE unit IN (SELECT unit FROM _er_changed)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_rederived AS SELECT unit FROM _er_restate")
    con.execute(f"DELETE FROM {PERSON_TABLE} WHERE unit IN (SELECT unit FROM _er_restate)")
    overshared_ids(con, "_er_restate", max_names, "_er_overshared", ids="_er_ids")
    con.execute(f"INSERT INTO {PERSON_TABLE} " + derived_sql("_er_restate", "_er_overshared"))
    differs = " OR ".join(f"p.{c} IS DISTINCT FROM b.{c}" for c in LINK_COLUMNS)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_touched AS
        SELECT p.unit FROM {PERSON_TABLE} p LEFT JOIN _er_before b USING (unit)
        WHERE p.unit IN (SELECT unit FROM _er_restate) AND (b.unit IS NULL OR {differs})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_stale AS SELECT unit FROM _er_touched
        UNION SELECT unit FROM _er_old WHERE unit NOT IN (SELECT unit FROM {PERSON_TABLE})""")
    # prepared again but unchanged: their sole holder stays; the names and villages of the
    # touched and the gone are looked at again
    con.execute(f"""UPDATE {PERSON_TABLE} SET sole_in_village = b.sole_in_village FROM _er_before b
        WHERE {PERSON_TABLE}.unit = b.unit AND b.unit NOT IN (SELECT unit FROM _er_touched)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_combos AS SELECT DISTINCT name_norm, village_code FROM (
            SELECT name_norm, village_code FROM {PERSON_TABLE} WHERE unit IN (SELECT unit FROM _er_touched)
            UNION ALL SELECT name_norm, village_code FROM _er_before WHERE unit IN (SELECT unit FROM _er_stale)
            UNION ALL SELECT name_norm, village_code FROM _er_old WHERE unit IN (SELECT unit FROM _er_stale))
        WHERE name_norm IS NOT NULL AND village_code IS NOT NULL""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _er_sole AS {sole_holders_sql(PERSON_TABLE, combos='_er_combos')}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_resoled AS SELECT s.unit FROM _er_sole s
        JOIN {PERSON_TABLE} p USING (unit) WHERE s.sole_in_village IS DISTINCT FROM p.sole_in_village
        AND s.unit NOT IN (SELECT unit FROM _er_touched)""")
    con.execute(f"""UPDATE {PERSON_TABLE} SET sole_in_village = s.sole_in_village FROM _er_sole s
        WHERE {PERSON_TABLE}.unit = s.unit AND s.sole_in_village IS DISTINCT FROM {PERSON_TABLE}.sole_in_village""")
    # the rows that say something new (a statement that only lost a row of its own says
    # nothing new), and the rows no longer there
    said = "md5(CAST(struct_pack({}) AS VARCHAR))".format(
        ", ".join(f"{c} := {c}" for c in STATED if c not in ("record", "records")))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_new_rows AS
        WITH n AS (SELECT unit, dataset, {said} AS said, unnest(records) AS record FROM _er_new
                   WHERE unit IN (SELECT unit FROM _er_changed)),
             o AS (SELECT {said} AS said, rec AS record FROM (SELECT *, unnest(records) AS rec FROM _er_old
                                                              WHERE unit NOT IN (SELECT unit FROM _er_new)
                                                                 OR unit IN (SELECT unit FROM _er_changed)))
        SELECT unit, dataset, record FROM n WHERE (said, record) NOT IN (SELECT (said, record) FROM o)""")
    removed = con.execute("""SELECT count(*) FROM (SELECT dataset, unnest(records) FROM _er_old
                                                   EXCEPT SELECT dataset, unnest(records) FROM _er_new)""")\
        .fetchone()[0]
    for t in ("_er_new", "_er_old", "_er_ids", "_er_restate", "_er_before", "_er_overshared", "_er_combos",
              "_er_sole"):
        con.execute(f"DROP TABLE {t}")
    return int(removed)


def _account(con, out: LoadResolution) -> None:
    """How the load's new and changed person records ended up: in an entity with records
    from before (merged), in a review pair, or apart."""
    rows = con.execute("""
        WITH news AS (SELECT unit, count(*) AS n FROM _er_new_rows GROUP BY unit),
             ent AS (SELECT m.entity, bool_or(coalesce(w.n, 0) < len(u.records)) AS existing
                     FROM er_member m JOIN er_unit u USING (unit) LEFT JOIN news w USING (unit)
                     WHERE m.entity IN (SELECT entity FROM er_member WHERE unit IN (SELECT unit FROM news))
                     GROUP BY m.entity),
             rev AS (SELECT entity_a AS entity FROM er_review UNION SELECT entity_b FROM er_review)
        SELECT u.dataset, sum(w.n), sum(w.n) FILTER (WHERE e.existing),
               sum(w.n) FILTER (WHERE NOT e.existing AND m.entity IN (SELECT entity FROM rev)),
               sum(w.n) FILTER (WHERE NOT e.existing AND m.entity NOT IN (SELECT entity FROM rev))
        FROM news w JOIN er_unit u USING (unit) JOIN er_member m USING (unit) JOIN ent e USING (entity)
        GROUP BY u.dataset""").fetchall()
    for ds, n, merged, review, apart in rows:
        out.by_dataset[ds] = [int(n or 0), int(merged or 0), int(review or 0), int(apart or 0)]
    for k, name in enumerate(("records", "merged", "review", "apart")):
        setattr(out, name, sum(v[k] for v in out.by_dataset.values()))
    out.touched_units = con.execute("SELECT count(*) FROM _er_touched").fetchone()[0]
