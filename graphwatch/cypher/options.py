"""Limits and planning switches shared by the checker and the compiler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .planner import Stats

DEFAULT_MAX_VAR_LENGTH = 10
DEFAULT_MAX_SHORTEST = 15


@dataclass
class Options:
    """``max_var_length``: the largest upper bound a variable-length relationship may give
    (an unbounded ``*`` is refused). ``max_shortest``: the cap on an unbounded shortestPath /
    allShortestPaths. ``stats``: graph statistics for join planning (None: DuckDB plans);
    ``plan_joins=False`` leaves the join order to DuckDB's optimiser. ``bindings``: compile
    the hidden binding columns (each row's evidence), keeping at most that many matches per
    aggregated row; None compiles none."""
    max_var_length: int = DEFAULT_MAX_VAR_LENGTH
    max_shortest: int = DEFAULT_MAX_SHORTEST
    stats: Stats | None = None
    plan_joins: bool = True
    bindings: int | None = None
    implied_labels: bool = True      # drop node rows read only for labels the types guarantee
    eager_aggregation: bool = True   # count a hop's relationships by their end before joining the node (.eager)
    # the name of the engine's SQL function answering a one-relationship pattern predicate from
    # the adjacency index, registered on first call (None / returns None: not available)
    has_rel: Callable[[], str | None] | None = None
