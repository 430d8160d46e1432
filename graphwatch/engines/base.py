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
    """The workspace ids one result row was built from (sorted, without duplicates)."""
    nodes: tuple[int, ...]
    rels: tuple[int, ...]


@dataclass
class Result:
    """Rows of a query, their column names and per-row bindings."""
    columns: list[str]
    rows: list[tuple]
    bindings: list[Binding]
    engine: str = ""
    query: str = ""
    statement: str = ""          # what the engine ran (SQL for DuckDB)

    def __len__(self) -> int:
        return len(self.rows)

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


class Engine(ABC):
    """Runs Cypher on one graph. Implementations live in this package only."""

    name: str = ""

    @abstractmethod
    def run(self, cypher: str, params: dict | None = None) -> Result:
        """Run a query with bound parameters."""

    @abstractmethod
    def explain(self, cypher: str, params: dict | None = None) -> str:
        """What the engine would run for the query (generated SQL, a plan …)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
