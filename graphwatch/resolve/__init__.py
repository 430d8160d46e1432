"""Entity resolution: identity keys, splink linking, judgements, un-merge (see :mod:`.resolver`)."""

from .resolver import (JUDGEMENTS, ResolveError, ResolveReport, entity_members, entity_provenance, explain_pair,
                       judge, resolve, review_queue, unmerge)

__all__ = ["JUDGEMENTS", "ResolveError", "ResolveReport", "entity_members", "entity_provenance", "explain_pair",
           "judge", "resolve", "review_queue", "unmerge"]
