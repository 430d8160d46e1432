"""Hops over functional relationships read from the node's own neighbour columns.

Work in progress (issue 15): :func:`fixed_hop` answers None — every hop is a ``rel`` join
(:func:`graphwatch.cypher.patterns.fixed_rel`) until the functional-neighbour table exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir
from .scope import NodeRef, Scope

if TYPE_CHECKING:
    from .compiler import Compilation


def fixed_hop(cx: Compilation, rp: ir.RelPattern, left: NodeRef, right: NodeRef, sc: Scope, rels_seen: list,
              bind: bool) -> str | None:
    """The relationship id of this hop read from a functional-neighbour table, or None when
    the hop is a ``rel`` join as usual."""
    return None
