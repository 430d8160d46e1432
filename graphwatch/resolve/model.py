"""The person-linking model: splink (Fellegi-Sunter) on its DuckDB backend.

Comparisons (each field's levels, strongest first; a missing value is neutral):

========== ============================================================================
name       same simplified name · same pinyin (homophone typo) · commonly swapped
           surname (肖/萧 …) · one character differs · different
birth_date same day · same year and month or same year and day · different
sex        same · different
id_number  same cleaned ID · one character differs (typo: near-match evidence only) ·
           two different valid IDs · different
region     the ID's region code: same · different
village    same village · same township · same county · another county
phone      same · different
========== ============================================================================

Names are compared on keys from :mod:`graphwatch.resolve.names`, by character — DuckDB's
``levenshtein`` counts UTF-8 bytes (王小明/王晓明 would be 3 apart), so it is not used.

Training (:func:`train`): u from random pairs; m from pairs of records that share a valid,
not over-shared resident ID (a free labelled set). The ID comparison's m is fixed, since
its labels would make it certain; so are the m of "another county" and of a different ID
region, which the labels cannot show (records sharing an ID share its region, and a
generated county's people are in no other county's records) but real people who moved do.

The prior (``probability_two_random_records_match``) is *not* a property of the model: it
depends on how many records a workspace holds. Training stores the training workspace's
own, and every resolve replaces it by the resolved workspace's
(:func:`graphwatch.resolve.score.workspace_prior`). The model is splink's JSON settings
plus a ``graphwatch`` entry saying what it was trained on (stripped before splink sees
it); a default ships in this package and is used until a workspace trains its own.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

__all__ = ["DEFAULT_MODEL", "settings", "train", "linker", "linker_and_api", "level_weights", "level_of",
           "COMPARISONS"]

DEFAULT_MODEL = Path(__file__).with_name("person_model.json")

COMPARISONS = ("name", "birth_date", "sex", "id_number", "region", "village", "phone")

_ONE_CHAR = ("length(name_norm_l) = length(name_norm_r) AND length(name_norm_l) >= 2 AND "
             "list_sum(list_transform(range(1, length(name_norm_l) + 1), "
             "lambda i: (substring(name_norm_l, i, 1) <> substring(name_norm_r, i, 1))::INTEGER)) = 1")


def _lvl(sql: str, label: str, m: float | None = None, u: float | None = None, **extra) -> dict:
    """A comparison level; ``m``/``u`` are priors kept where training never sees the level."""
    out = {"sql_condition": sql, "label_for_charts": label, **extra}
    if m is not None:
        out.setdefault("m_probability", m)
    if u is not None:
        out["u_probability"] = u
    return out


def _null(col: str) -> dict:
    return _lvl(f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "missing", is_null_level=True)


def _else(m: float, u: float = 0.9) -> dict:
    return _lvl("ELSE", "different", m, u)


def _comparisons() -> list[dict]:
    return [
        {"output_column_name": "name", "comparison_description": "name by character and pinyin",
         "comparison_levels": [
             _null("name_norm"),
             _lvl("name_norm_l = name_norm_r", "same name", 0.9, 1e-4),
             _lvl("name_pinyin_l = name_pinyin_r", "same pinyin", 0.04, 1e-5),
             _lvl("name_swap_l = name_swap_r", "swapped surname", 0.01, 1e-6),
             _lvl(_ONE_CHAR, "one character differs", 0.02, 1e-3),
             _else(0.01)]},
        {"output_column_name": "birth_date", "comparison_description": "birth date",
         "comparison_levels": [
             _null("birth_date"),
             _lvl("birth_date_l = birth_date_r", "same day", 0.95, 1e-4),
             _lvl("year(birth_date_l) = year(birth_date_r) AND (month(birth_date_l) = month(birth_date_r) "
                  "OR day(birth_date_l) = day(birth_date_r))", "same year, month or day", 0.03, 2e-3),
             _else(0.02)]},
        {"output_column_name": "sex", "comparison_description": "sex",
         "comparison_levels": [_null("sex"), _lvl("sex_l = sex_r", "same", 0.98, 0.5), _else(0.02)]},
        {"output_column_name": "id_number", "comparison_description": "resident ID as cleaned",
         "comparison_levels": [
             _null("id_clean"),
             _lvl("id_clean_l = id_clean_r", "same ID", 0.9, 1e-7, fix_m_probability=True),
             _lvl("length(id_clean_l) = 18 AND length(id_clean_r) = 18 AND hamming(id_clean_l, id_clean_r) = 1",
                  "one character differs", 0.09, 1e-6, fix_m_probability=True),
             _lvl("id_usable_l AND id_usable_r", "two different valid IDs", 0.0001, 0.95,
                  fix_m_probability=True),
             _lvl("ELSE", "different", 0.0099, 0.05, fix_m_probability=True)]},
        {"output_column_name": "region", "comparison_description": "region code in the ID",
         "comparison_levels": [_null("region"), _lvl("region_l = region_r", "same", 0.95, 0.3),
                               _lvl("ELSE", "different", 0.05, 0.7, fix_m_probability=True)]},
        {"output_column_name": "village", "comparison_description": "village code",
         "comparison_levels": [
             _null("village_code"),
             _lvl("village_code_l = village_code_r", "same village", 0.9, 0.01),
             _lvl("township_l = township_r", "same township", 0.05, 0.1),
             _lvl("county_l = county_r", "same county", 0.05, 0.8),
             # labels never show a person in two counties' records (m fixed); a one-county
             # workspace never shows this level at all (u stays this prior too)
             _lvl("ELSE", "another county", 0.002, 0.1, fix_m_probability=True)]},
        {"output_column_name": "phone", "comparison_description": "phone",
         "comparison_levels": [_null("phone"), _lvl("phone_l = phone_r", "same", 0.8, 1e-5), _else(0.2)]},
    ]


#: candidate pairs: records that could be one person share one of these
BLOCKING = [
    "l.name_norm = r.name_norm AND l.birth_date = r.birth_date",
    "l.name_pinyin = r.name_pinyin AND l.village_code = r.village_code",
    "l.name_pinyin = r.name_pinyin AND l.birth_date = r.birth_date",
    "l.id17 = r.id17",
]


def settings(prior: float = 1e-5) -> dict:
    """splink settings for linking person records (untrained: m and u at splink's defaults)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "comparisons": _comparisons(),
        "blocking_rules_to_generate_predictions": [{"blocking_rule": b} for b in BLOCKING],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "em_convergence": 0.001,
    }


#: the model's own entry: what it was trained on (splink does not accept unknown keys)
ABOUT = "graphwatch"


def linker(con, table: str, model: dict):
    """A splink linker over ``table`` (the prepared unit table) on the workspace connection."""
    return linker_and_api(con, table, model)[0]


def linker_and_api(con, table: str, model: dict):
    """:func:`linker` and its splink database API (to register more input tables)."""
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.ERROR)   # untrained-level notices are handled in train()
    con.complete()   # splink's relation calls refuse a connection with an unread execute() result
    api = _api_class()(connection=con)
    model = {k: v for k, v in model.items() if k != ABOUT}
    model["retain_intermediate_calculation_columns"] = True   # per-field levels and weights
    return Linker(api.register(table), model, log_level=None), api


_API = None


def _api_class():
    """splink's DuckDB API, asking the catalogue whether a table exists rather than probing it
    with a query that fails: a failed query aborts an open transaction, and a load scores
    its records inside its own."""
    global _API
    if _API is None:
        from splink import DuckDBAPI

        class TransactionSafeDuckDBAPI(DuckDBAPI):
            def _table_registration(self, input, table_name):
                self._con.complete()   # register() refuses a connection with an unread execute() result
                super()._table_registration(input, table_name)

            def table_exists_in_database(self, table_name):
                self._con.complete()
                return bool(self._con.execute(
                    "SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = $t) "
                    "+ (SELECT count(*) FROM duckdb_views() WHERE view_name = $t)", {"t": table_name}).fetchone()[0])

        _API = TransactionSafeDuckDBAPI
    return _API


def train(con, table: str, prior: float, *, max_pairs: float = 2e6, seed: int = 7, trained_on: str = "") -> dict:
    """Train on the prepared unit ``table``: u from random pairs, m from shared valid IDs.

    ``prior`` is stored as the model's prior (the training data's own); ``trained_on``
    says what the data was, in the model's ``graphwatch`` entry.
    """
    lk = linker(con, table, settings(prior))
    lk.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    lk.training.estimate_m_from_label_column("id_label")
    model = _normalised(json.loads(json.dumps(lk.misc.save_model_to_json())))
    model[ABOUT] = {"trained_on": trained_on, "prior": prior,
                    "note": "the prior is replaced by each resolved workspace's own (graphwatch.resolve.score)"}
    return model


def _normalised(model: dict) -> dict:
    """m and u of each comparison summing to 1: levels training never saw keep their priors,
    the trained ones are scaled to make room for them."""
    for c in model["comparisons"]:
        levels = [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")]
        for key in ("m_probability", "u_probability"):
            total = sum(lv.get(key) or 0.0 for lv in levels)
            if total > 0:
                for lv in levels:
                    if lv.get(key) is not None:
                        lv[key] = lv[key] / total
    return model


def level_weights(model: dict) -> dict[str, list[tuple[str, float]]]:
    """``{comparison: [(level label, match weight), ...]}``: log2(m/u) per level (a missing value: 0)."""
    out = {}
    for c in model["comparisons"]:
        levels = []
        for lv in c["comparison_levels"]:
            if lv.get("is_null_level"):
                levels.append((lv["label_for_charts"], 0.0))
            else:
                m, u = lv.get("m_probability"), lv.get("u_probability")
                levels.append((lv["label_for_charts"], math.log2(m / u) if m and u else 0.0))
        out[c["output_column_name"]] = levels
    return out


def level_of(levels: list[tuple[str, float]], weight: float) -> str:
    """The level a pair's per-field weight came from (the level with that weight)."""
    return min(levels, key=lambda lv: abs(lv[1] - weight))[0]
