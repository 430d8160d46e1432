"""The engine interface every backend implements, and the result shape they all return.

An engine runs graphwatch's Cypher subset with bound parameters and returns a
:class:`Result`: the rows (nodes, relationships and paths as :class:`GNode`,
:class:`GRel`, :class:`GPath`), plus, for every row, the workspace ids of the nodes and
relationships that produced it — alerts build their evidence subgraphs from those.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GNode:
    """A node as a query returns it."""
    id: int
    key: str
    labels: tuple[str, ...]
    properties: dict = field(default_factory=dict, hash=False, compare=False)

    def __getitem__(self, prop: str) -> Any:
        return self.properties[prop]

    def get(self, prop: str, default=None):
        return self.properties.get(prop, default)


@dataclass(frozen=True)
class GRel:
    """A relationship as a query returns it (``start``/``end`` are node ids)."""
    id: int
    type: str
    start: int
    end: int
    properties: dict = field(default_factory=dict, hash=False, compare=False)

    def __getitem__(self, prop: str) -> Any:
        return self.properties[prop]

    def get(self, prop: str, default=None):
        return self.properties.get(prop, default)


@dataclass(frozen=True)
class GPath:
    """Alternating nodes and relationships: ``len(rels) == len(nodes) - 1``."""
    nodes: tuple[GNode, ...]
    rels: tuple[GRel, ...]

    def __len__(self) -> int:
        return len(self.rels)


@dataclass(frozen=True)
class Binding:
    """The workspace ids one result row was built from (sorted, without duplicates).

    ``matches`` is how many pattern matches made the row: 1 for a row of a plain MATCH, the
    size of the group for a row of an aggregate or DISTINCT. A group's ids come from at most
    the first ``N`` of its matches (``run(..., bindings=N)``), so ``truncated`` says whether
    some matches' ids were left out."""
    nodes: tuple[int, ...]
    rels: tuple[int, ...]
    matches: int = 1
    truncated: bool = False


#: how many matches of a group an aggregated row's binding holds unless the caller says
DEFAULT_BINDINGS_PER_GROUP = 100


class Result:
    """Rows of a query, their column names and — when the run asked for them — per-row
    bindings (:class:`Binding`)."""

    def __init__(self, columns: list[str], rows: list[tuple], bindings: list[Binding] | None = None, *,
                 engine: str = "", query: str = "", statement: str = ""):
        self.columns = columns
        self.rows = rows
        self._bindings = bindings
        self.engine = engine
        self.query = query
        self.statement = statement        # what the engine ran (SQL for DuckDB)

    @property
    def has_bindings(self) -> bool:
        return self._bindings is not None

    @property
    def bindings(self) -> list[Binding]:
        """The ids each row was built from; only when ``run(..., bindings=True)`` asked."""
        if self._bindings is None:
            from ..exc import EngineError

            raise EngineError("this result has no bindings: they are computed only when asked for "
                              "(engine.run(query, params, bindings=True))")
        return self._bindings

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<Result {len(self.rows)} rows {self.columns} from {self.engine or '?'}>"

    @property
    def df(self):
        """The rows as a pandas DataFrame (nodes, relationships and paths stay objects)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=_unique(self.columns))

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


def _unique(cols: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        n = seen.get(c, 0)
        out.append(c if n == 0 else f"{c}_{n}")
        seen[c] = n + 1
    return out


def bindings_per_group(bindings: bool | int) -> int | None:
    """``run(bindings=…)`` as a number of matches per group (None: no bindings).

    >>> bindings_per_group(False), bindings_per_group(True), bindings_per_group(5)
    (None, 100, 5)
    """
    if bindings is False or bindings is None:
        return None
    if bindings is True:
        return DEFAULT_BINDINGS_PER_GROUP
    if not isinstance(bindings, int) or bindings < 1:
        from ..exc import EngineError

        raise EngineError(f"bindings must be True, False or a positive number of matches per group, not {bindings!r}")
    return int(bindings)


class Engine(ABC):
    """Runs Cypher on one graph. Implementations live in this package only."""

    name: str = ""

    @abstractmethod
    def run(self, cypher: str, params: dict | None = None, *, bindings: bool | int = False) -> Result:
        """Run a query with bound parameters.

        ``bindings``: also compute each row's :class:`Binding` (the evidence alerts show).
        ``True`` keeps the ids of up to :data:`DEFAULT_BINDINGS_PER_GROUP` matches per
        aggregated row, an integer that many; ``False`` (the default) computes none, which
        is what makes an aggregate over millions of matches cheap."""

    @abstractmethod
    def explain(self, cypher: str, params: dict | None = None) -> str:
        """What the engine would run for the query (generated SQL, a plan …)."""

    def node_rows_read(self) -> dict:
        """The ``node`` rows (by id) of nodes this engine's runs returned and kept, for an
        alert's evidence not to read them again (:mod:`graphwatch.alerts.evidence`); none here."""
        return {}

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
