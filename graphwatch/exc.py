"""One exception tree for the whole package.

Every error a user can cause derives from :class:`GraphwatchError`; errors about a file
carry where it happened (file, line/row, column) so messages can name it.
"""

from __future__ import annotations


class GraphwatchError(Exception):
    """Base class of every error graphwatch raises on purpose."""


class LocatedError(GraphwatchError):
    """An error that points at a place in a file: ``file:line:column``.

    A check that finds several independent mistakes in one file raises the first, with the
    rest in ``others`` (the CLI prints each on its own line)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: str | int | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.others: tuple[LocatedError, ...] = ()
        super().__init__(self._format())

    def with_others(self, others) -> "LocatedError":
        self.others = tuple(others)
        return self

    @property
    def all(self) -> tuple["LocatedError", ...]:
        """This error and the others found with it."""
        return (self, *self.others)

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}" if isinstance(self.column, str) else f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class SchemaError(LocatedError):
    """The schema declaration (labels, types, properties) is invalid."""


class InvalidMapping(LocatedError):
    """A loader mapping (``loaders/*.yaml``) is invalid."""


class InvalidPattern(LocatedError):
    """A pattern file (``patterns/*.yaml``) is invalid, or no pattern has the id asked for."""


class SourceError(LocatedError):
    """A whole source file cannot be read: missing, unreadable encoding, wrong columns."""


class WorkspaceError(GraphwatchError):
    """The workspace is missing, locked or inconsistent."""


class PatternError(LocatedError):
    """A Cypher pattern cannot be parsed, checked or compiled."""


class EngineError(GraphwatchError):
    """An engine failed to run a query."""


class EvaluationError(EngineError):
    """The query is sound but a value known only when it runs makes it fail, as it fails on
    Neo4j: an integer overflow in ``+ - *``, an integer division by zero, an argument out of
    range (``substring('abc', $start)`` with a start beyond 32 bits …). The data or the
    parameters are at fault, not the engine; any other :class:`EngineError` is the engine's."""


class ResolveError(GraphwatchError):
    """Entity resolution cannot run, or a reference names no source record."""


class GenerationError(GraphwatchError):
    """The synthetic county generator cannot build what it was asked for."""


class CountyTooSmall(GenerationError, ValueError):
    """The requested synthetic county has too few persons (or too small a village, township …)
    for the background structure and the planted violations and near-misses."""


class MissingDependency(GraphwatchError):
    """An optional dependency is not installed; the message says what to install."""


def require(module: str, extra: str):
    """Import an optional dependency or raise :class:`MissingDependency` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency(
            f"{module!r} is not installed; install it with: pip install 'graphwatch[{extra}]'"
        ) from exc
