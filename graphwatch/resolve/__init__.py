"""Entity resolution: identity keys, splink linking, judgements, un-merge (see :mod:`.resolver`).

Modules, in the order resolution runs: :mod:`.prepare` (units and comparison columns),
:mod:`.score` (the linking model, :mod:`.model`), :mod:`.cluster` (entities under
constraints), :mod:`.apply` (the graph rewritten), and :mod:`.review` (judgements, the
review queue, un-merge). :mod:`.ids` and :mod:`.names` clean identifiers and names.
"""

from ..exc import ResolveError
from .resolver import MAX_NAMES_PER_ID, MERGE_THRESHOLD, REVIEW_THRESHOLD, ResolveReport, resolve
from .review import (JUDGEMENTS, JudgeResult, entity_members, entity_provenance, explain_pair, judge, review_counts,
                     review_queue, unmerge)

__all__ = ["JUDGEMENTS", "JudgeResult", "MAX_NAMES_PER_ID", "MERGE_THRESHOLD", "REVIEW_THRESHOLD", "ResolveError",
           "ResolveReport", "entity_members", "entity_provenance", "explain_pair", "judge", "resolve", "review_counts",
           "review_queue", "unmerge"]
