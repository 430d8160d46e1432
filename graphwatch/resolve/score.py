"""Step 2 of resolution, *score*: the linking model rates candidate pairs of person units.

Pairs at or above the review threshold land in ``_er_scored_pairs`` with ``er_pair``'s
columns: the probability, the total match weight and each comparison's weight (so a
reviewer can see why). Which model scores is decided by :func:`load_model`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..exc import ResolveError
from ..store import Workspace
from .model import COMPARISONS, DEFAULT_MODEL, linker, linker_and_api
from .prepare import LINK_INPUT

SCORED_PAIRS = "_er_scored_pairs"


def model_path(ws: Workspace) -> Path:
    """Where a workspace keeps the model trained on it (``resolve --train``)."""
    return ws.path / "resolve" / "person_model.json"


def load_model(ws: Workspace, model: str | Path | dict | None) -> tuple[dict, str]:
    """The model to score with and where it came from: ``model`` if given, else the
    workspace's trained model, else the packaged one."""
    if isinstance(model, dict):
        return model, "given"
    path = Path(model) if model else (model_path(ws) if model_path(ws).exists() else DEFAULT_MODEL)
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except (OSError, ValueError) as exc:
        raise ResolveError(f"{path}: cannot read the linking model ({exc})") from None


#: how many units with a usable ID the model's own prior is worth against a workspace's
PRIOR_PSEUDO_UNITS = 1_000


def id_pair_counts(con) -> tuple[int, int, int]:
    """``(units, units with a usable ID, pairs of units sharing one)`` of the prepared persons."""
    units, id_units, shared = con.execute(f"""SELECT (SELECT count(*) FROM {LINK_INPUT}),
        (SELECT count(*) FROM {LINK_INPUT} WHERE id_label IS NOT NULL),
        (SELECT coalesce(sum(c * (c - 1) // 2), 0) FROM (SELECT count(*) AS c FROM {LINK_INPUT}
         WHERE id_label IS NOT NULL GROUP BY id_label))""").fetchone()
    return int(units), int(id_units), int(shared)


def estimated_prior(id_units: int, shared: int) -> float:
    """The share of random pairs of units that are one person, measured on the units that
    carry a usable ID: ``shared / C(id_units, 2)`` (half a pair when none is shared).

    If IDs are missing independently of who is duplicated, the units with an ID are a
    random sample of all units, and a random sample keeps the share of matching pairs:
    so this is the prior of the whole workspace, whatever its size or number of counties.
    """
    return max(shared, 0.5) / max(id_units * (id_units - 1) / 2, 1.0)


def workspace_prior(con, model_prior: float) -> dict:
    """The prior for scoring this workspace, and what it was derived from.

    The estimate of :func:`estimated_prior` on this workspace's own units, blended
    geometrically with the model's prior, weighted ``id_units : PRIOR_PSEUDO_UNITS`` — so a
    county-sized workspace is scored with its own prior and a handful of hand-made records
    with the model's (a few records say nothing about how often two records match).
    """
    units, id_units, shared = id_pair_counts(con)
    estimate = estimated_prior(id_units, shared)
    weight = id_units / (id_units + PRIOR_PSEUDO_UNITS)
    prior = math.exp(weight * math.log(estimate) + (1 - weight) * math.log(model_prior))
    return {"prior": prior, "units": units, "id_units": id_units, "shared_id_pairs": shared,
            "estimate": estimate, "model_prior": model_prior, "weight": weight}


def score_pairs(con, model: dict, review: float) -> None:
    """Candidate pairs at or above ``review`` into ``_er_scored_pairs`` (``er_pair``'s columns)."""
    if con.execute(f"SELECT count(*) < 2 FROM {LINK_INPUT}").fetchone()[0]:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SCORED_PAIRS} AS SELECT * FROM er_pair LIMIT 0")
        return
    predictions = linker(con, LINK_INPUT, model).inference.predict(threshold_match_probability=review)
    _keep_pairs(con, [predictions])


def score_touched(con, touched: str, others: str, model: dict, review: float) -> int:
    """Pairs of the units in ``touched`` among themselves and with the units in ``others``
    (both tables of the linking model's input) at or above ``review``, into
    ``_er_scored_pairs``; returns how many. Pairs of two units of ``others`` are not scored:
    a load scores only what it added or changed. splink's blocking and scoring are those of
    a full :func:`score_pairs`, so a pair gets the same probability either way."""
    n_touched, n_others = con.execute(f"SELECT (SELECT count(*) FROM {touched}), (SELECT count(*) FROM {others})")\
        .fetchone()
    predictions = []
    if n_touched:
        lk, api = linker_and_api(con, touched, model)
        if n_touched > 1:
            predictions.append(lk.inference.predict_within(api.register(touched), threshold_match_probability=review))
            con.complete()
        if n_others:
            predictions.append(lk.inference.predict_between(api.register(touched), api.register(others),
                                                            threshold_match_probability=review))
            con.complete()
    _keep_pairs(con, predictions)
    return con.execute(f"SELECT count(*) FROM {SCORED_PAIRS}").fetchone()[0]


def _keep_pairs(con, predictions: list) -> None:
    """splink's predictions as ``er_pair`` rows in ``_er_scored_pairs``: each pair once,
    smaller unit first, with the probability, the match weight and each comparison's weight."""
    weights = ", ".join(f"mw_{c}" for c in COMPARISONS)
    parts = [f"""SELECT least(unique_id_l, unique_id_r) AS a, greatest(unique_id_l, unique_id_r) AS b,
                        match_probability AS probability, match_weight AS weight,
                        [{weights}]::DOUBLE[] AS weights, 'model' AS status
                 FROM {p.physical_name}""" for p in predictions]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SCORED_PAIRS} AS "
                + (" UNION ALL ".join(parts) if parts else "SELECT * FROM er_pair LIMIT 0"))
    for p in predictions:
        p.drop_table_from_database_and_remove_from_cache()
