"""The graph schema — labels, relationship types and typed properties — declared as data.

The declaration lives in ``schema.yaml`` next to this module; :func:`load_schema` checks
it and every error names the file and line. The store derives its tables from it and the
Cypher checker (later) resolves labels, types and properties against it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .exc import SchemaError
from .yamlio import load_located

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")

#: property type -> DuckDB column type
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "decimal": "DECIMAL(18,2)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "string_list": "VARCHAR[]",
}

#: columns every relationship carries besides its declared properties
REL_CORE = ("valid_from", "valid_to")


@dataclass(frozen=True)
class Label:
    name: str
    title_zh: str
    title_en: str
    properties: dict[str, str]


@dataclass(frozen=True)
class RelType:
    name: str
    title_zh: str
    title_en: str
    from_labels: tuple[str, ...]
    to_labels: tuple[str, ...]
    undirected: bool
    properties: dict[str, str]


@dataclass(frozen=True)
class Schema:
    labels: dict[str, Label]
    rel_types: dict[str, RelType]
    node_properties: dict[str, str] = field(default_factory=dict)
    rel_properties: dict[str, str] = field(default_factory=dict)
    file: str = ""

    def label(self, name: str) -> Label:
        try:
            return self.labels[name]
        except KeyError:
            raise SchemaError(f"unknown label {name!r}{did_you_mean(name, self.labels)}") from None

    def rel_type(self, name: str) -> RelType:
        try:
            return self.rel_types[name]
        except KeyError:
            raise SchemaError(
                f"unknown relationship type {name!r}{did_you_mean(name, self.rel_types)}") from None


def did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _title(raw, file, line) -> tuple[str, str]:
    if not isinstance(raw, dict) or not {"zh", "en"} <= set(raw):
        raise SchemaError("title must be a mapping with 'zh' and 'en'", file=file, line=line)
    return str(raw["zh"]), str(raw["en"])


def _props(raw, file, line, where: str) -> dict[str, str]:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: properties must be a mapping name: type", file=file, line=line)
    for prop, typ in raw.items():
        if typ not in SQL_TYPES:
            raise SchemaError(f"{where}.{prop}: unknown type {typ!r}; use one of {sorted(SQL_TYPES)}",
                              file=file, line=line)
    return dict(raw)


def parse_schema(path: str | Path) -> Schema:
    doc = load_located(path, SchemaError)
    data, file = doc.data or {}, doc.file
    for key in ("labels", "relationships"):
        if not isinstance(data.get(key), dict):
            raise SchemaError(f"missing section {key!r}", file=file, line=doc.line(key))
    extra = set(data) - {"labels", "relationships"}
    if extra:
        raise SchemaError(f"unknown section(s) {sorted(extra)}", file=file, line=doc.line(sorted(extra)[0]))

    labels: dict[str, Label] = {}
    node_props: dict[str, str] = {}
    for name, body in data["labels"].items():
        line = doc.line("labels", name)
        body = body or {}
        zh, en = _title(body.get("title"), file, line)
        props = _props(body.get("properties"), file, line, name)
        for prop, typ in props.items():
            if node_props.setdefault(prop, typ) != typ:
                raise SchemaError(f"property {prop!r} is {typ} on {name} but {node_props[prop]} elsewhere",
                                  file=file, line=doc.line("labels", name, "properties", prop))
        labels[name] = Label(name, zh, en, props)

    rels: dict[str, RelType] = {}
    rel_props: dict[str, str] = {}
    for name, body in data["relationships"].items():
        line = doc.line("relationships", name)
        body = body or {}
        zh, en = _title(body.get("title"), file, line)
        ends = {}
        for end in ("from", "to"):
            value = body.get(end)
            if not isinstance(value, list) or not value:
                raise SchemaError(f"{name}: {end!r} must be a non-empty list of labels", file=file, line=line)
            for label in value:
                if label not in labels:
                    raise SchemaError(f"{name}: unknown label {label!r}{did_you_mean(label, labels)}",
                                      file=file, line=doc.line("relationships", name, end))
            ends[end] = tuple(value)
        props = _props(body.get("properties"), file, line, name)
        for prop, typ in props.items():
            if prop in REL_CORE:
                raise SchemaError(f"{name}: {prop!r} is built in", file=file, line=line)
            if rel_props.setdefault(prop, typ) != typ:
                raise SchemaError(f"relationship property {prop!r} is {typ} on {name} but "
                                  f"{rel_props[prop]} elsewhere", file=file, line=line)
        rels[name] = RelType(name, zh, en, ends["from"], ends["to"], bool(body.get("undirected")), props)
    return Schema(labels, rels, node_props, rel_props, file)


@lru_cache(maxsize=8)
def load_schema(path: str | None = None) -> Schema:
    """Load and check the schema (the packaged one by default)."""
    return parse_schema(path or SCHEMA_FILE)
