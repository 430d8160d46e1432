"""Step 2 of resolution, *score*: the linking model rates candidate pairs of person units.

Pairs at or above the review threshold land in ``_er_scored_pairs`` with ``er_pair``'s
columns: the probability, the total match weight and each comparison's weight (so a
reviewer can see why). Which model scores is decided by :func:`load_model`.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..exc import ResolveError
from ..store import Workspace
from .model import COMPARISONS, DEFAULT_MODEL, linker
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


def prior(con) -> float:
    """Share of random record pairs that share a usable ID (the model's prior)."""
    n, same = con.execute(f"""SELECT (SELECT count(*) FROM {LINK_INPUT}),
        (SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM (SELECT count(*) AS c FROM {LINK_INPUT}
         WHERE id_label IS NOT NULL GROUP BY id_label))""").fetchone()
    return max(float(same) / max(n * (n - 1) / 2, 1), 1e-9)


def score_pairs(con, model: dict, review: float) -> None:
    """Candidate pairs at or above ``review`` into ``_er_scored_pairs`` (``er_pair``'s columns)."""
    if con.execute(f"SELECT count(*) < 2 FROM {LINK_INPUT}").fetchone()[0]:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SCORED_PAIRS} AS SELECT * FROM er_pair LIMIT 0")
        return
    predictions = linker(con, LINK_INPUT, model).inference.predict(threshold_match_probability=review)
    weights = ", ".join(f"mw_{c}" for c in COMPARISONS)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {SCORED_PAIRS} AS SELECT least(unique_id_l, unique_id_r) AS a,
            greatest(unique_id_l, unique_id_r) AS b, match_probability AS probability, match_weight AS weight,
            [{weights}]::DOUBLE[] AS weights, 'model' AS status
        FROM {predictions.physical_name}""")
    predictions.drop_table_from_database_and_remove_from_cache()
