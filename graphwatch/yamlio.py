"""YAML declarations that remember where each value came from.

Declarations (schema, loader mappings, patterns) are data checked when loaded; an error
must name the file and line, so we keep PyYAML's marks next to the plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exc import GraphwatchError

if TYPE_CHECKING:
    import yaml


@dataclass
class Located:
    """Parsed YAML plus a way to find the line of any key path."""

    data: Any
    file: str
    _lines: dict[tuple, int]

    def line(self, *path) -> int | None:
        """1-based line of the value at ``path`` (or of its nearest known parent)."""
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), 1)


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)


def load_located(path: str | Path, error: type[GraphwatchError]) -> Located:
    """Load a YAML file, raising ``error`` (a LocatedError subclass) with file and line."""
    import yaml          # here, not at the top: a schema read from the cache needs no YAML (CLI start-up)

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 ({exc.reason} at byte {exc.start})", file=str(path)) from None
    # libyaml's loader where PyYAML has it (the pure-Python one took 1 s for the 14 files of
    # the library, at every `graphwatch run`); the text parsed once: its node tree gives the
    # lines, then the data (walked first: constructing flattens merge keys in place)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    lines: dict[tuple, int] = {}
    try:
        node = loader.get_single_node()
        if node is not None:
            _walk(node, (), lines)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(f"invalid YAML: {getattr(exc, 'problem', exc)}", file=str(path),
                    line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    return Located(data, str(path), lines)
