"""The graph schema — labels, relationship types and typed properties — declared as data.

The domain model lives in ``schema.yaml`` next to this module; :func:`load_schema` checks
it and every error names the file and line. A workspace may extend it with its own
``schema.yaml`` (new labels, types, properties, endpoint labels — never a changed type);
:func:`workspace_schema` gives the two together. A workspace schema that says
``standalone: true`` is the workspace's whole schema instead — how a workspace made by
``graphwatch load --infer-schema`` holds a foreign Neo4j export's own labels and property
types, which owe nothing to the domain model's (an export's ``Person.phone`` may be a
long). The store derives its tables from the schema and the Cypher checker resolves labels,
types and properties against it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .exc import SchemaError
from .yamlio import load_located

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")
#: a workspace's own additions to the packaged schema, kept in the workspace folder
WORKSPACE_SCHEMA = "schema.yaml"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

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
    "integer_list": "BIGINT[]",
    "float_list": "DOUBLE[]",
    "boolean_list": "BOOLEAN[]",
    "date_list": "DATE[]",
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
    lookups: tuple[str, ...] = ()    # node properties kept in a lookup index (graphwatch/lookups.py)
    standalone: bool = False         # the workspace's whole schema: the packaged domain model is no part of it

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


def _title(raw, add, line) -> tuple[str, str]:
    if not isinstance(raw, dict) or not {"zh", "en"} <= set(raw):
        add("title must be a mapping with 'zh' and 'en'", line)
        return "", ""
    return str(raw["zh"]), str(raw["en"])


def _props(raw, doc, add, path: tuple, where: str) -> dict[str, str]:
    """The properties under ``path`` (a label or type) whose type is known; each unknown type is
    an error at the property's own line."""
    raw = raw or {}
    if not isinstance(raw, dict):
        add(f"{where}: properties must be a mapping name: type", doc.line(*path, "properties"))
        return {}
    out = {}
    for prop, typ in raw.items():
        if typ not in SQL_TYPES:
            add(f"{where}.{prop}: unknown type {typ!r}{did_you_mean(str(typ), SQL_TYPES)}; "
                f"use one of {sorted(SQL_TYPES)}", doc.line(*path, "properties", prop))
        else:
            out[prop] = typ
    return out


def parse_schema(path: str | Path, *, base: Schema | None = None) -> Schema:
    """Read and check a schema file; every error names the file and line.

    A schema that parsed is kept in the user's cache (:mod:`graphwatch.cache`), keyed by the
    file, ``base`` and this module: reading YAML with line numbers took ~70 ms of every start.

    With ``base`` the file *extends* that schema (a workspace schema): it may add labels,
    relationship types, properties of existing labels and types, and extra endpoint labels
    of existing types; it never changes what ``base`` declares (a property keeps its type).
    A file that says ``standalone: true`` extends nothing: it is the whole schema, ``base``
    or not (its labels and relationship types each need a title, as the packaged ones do).
    """
    from .cache import cached

    try:
        text = Path(path).read_bytes()
    except OSError:
        return _parse_schema(path, base)
    return cached("schema", [text, str(path), repr(base), Path(__file__).read_bytes()],
                  lambda: _parse_schema(path, base))


def _parse_schema(path: str | Path, base: Schema | None) -> Schema:
    """The schema in ``path``; raises the first :class:`SchemaError`, with every other independent
    mistake of the file in its ``others`` (a mistake that only follows from another — a
    relationship naming a label whose own entry is wrong — is not reported)."""
    doc = load_located(path, SchemaError)
    data, file = doc.data or {}, doc.file
    errors: list[SchemaError] = []

    def add(message: str, line: int | None) -> None:
        errors.append(SchemaError(message, file=file, line=line))

    if not isinstance(data, dict):
        raise SchemaError("a schema is a YAML mapping with 'labels' and 'relationships'", file=file, line=1)
    standalone = data.get("standalone", False)
    if not isinstance(standalone, bool):
        add(f"standalone must be true or false, not {standalone!r}", doc.line("standalone"))
        standalone = False
    extending = base is not None
    if standalone:
        base = None          # the whole schema: the packaged domain model is no part of it
    for key in ("labels", "relationships"):
        if (extending or standalone) and data.get(key) is None:
            data[key] = {}
        if not isinstance(data.get(key), dict):
            add(f"missing section {key!r}", doc.line(key))
            data[key] = {}
    for key in data:
        if key not in ("labels", "relationships", "lookups", "standalone"):
            add(f"unknown section {key!r}{did_you_mean(str(key), ('labels', 'relationships', 'lookups'))}",
                doc.line(key))

    labels: dict[str, Label] = dict(base.labels) if base else {}
    node_props: dict[str, str] = dict(base.node_properties) if base else {}
    where_node = {p: f"{base.file} ({lab.name})" for lab in (base.labels.values() if base else ())
                  for p in lab.properties}
    for name, body in data["labels"].items():
        line = doc.line("labels", name)
        body = body or {}
        old = labels.get(name)
        if not isinstance(body, dict):
            add(f"label {name!r} must be a mapping (title, properties)", line)
            labels.setdefault(name, Label(name, "", "", {}))      # known to the relationships below
            continue
        for key in body:
            if key not in ("title", "properties"):
                add(f"label {name!r}: unknown key {key!r}{did_you_mean(str(key), ('title', 'properties'))}",
                    doc.line("labels", name, key))
        if old is None:
            if (extending or standalone) and not _NAME.match(str(name)):
                add(f"label {name!r} is not a name (letters, digits, _)", line)
            zh, en = _title(body.get("title"), add, doc.line("labels", name, "title"))
        else:
            zh, en = (_title(body["title"], add, doc.line("labels", name, "title")) if "title" in body
                      else (old.title_zh, old.title_en))
        props = _props(body.get("properties"), doc, add, ("labels", name), name)
        for prop, typ in list(props.items()):
            if node_props.setdefault(prop, typ) != typ:
                first = where_node.get(prop, "elsewhere")
                add(f"property {prop!r} is {typ} on {name} but {node_props[prop]} in {first} "
                    "(a property name has one type in a workspace)", doc.line("labels", name, "properties", prop))
                del props[prop]
            where_node.setdefault(prop, f"{file} ({name})")
        labels[name] = Label(name, zh, en, {**(old.properties if old else {}), **props})

    rels: dict[str, RelType] = dict(base.rel_types) if base else {}
    rel_props: dict[str, str] = dict(base.rel_properties) if base else {}
    for name, body in data["relationships"].items():
        line = doc.line("relationships", name)
        body = body or {}
        if not isinstance(body, dict):
            add(f"relationship type {name!r} must be a mapping (title, from, to …)", line)
            continue
        allowed = ("title", "from", "to", "undirected", "properties")
        for key in body:
            if key not in allowed:
                add(f"relationship type {name!r}: unknown key {key!r}{did_you_mean(str(key), allowed)}",
                    doc.line("relationships", name, key))
        old = rels.get(name)
        title_line = doc.line("relationships", name, "title")
        if old is None:
            zh, en = _title(body.get("title"), add, title_line)
        else:
            zh, en = _title(body["title"], add, title_line) if "title" in body else (old.title_zh, old.title_en)
            if "undirected" in body and bool(body["undirected"]) != old.undirected:
                add(f"{name}: 'undirected' is {old.undirected} in {base.file}; a workspace schema cannot change it",
                    doc.line("relationships", name, "undirected"))
        ends = {}
        for end in ("from", "to"):
            value = body.get(end)
            before = getattr(old, f"{end}_labels") if old else ()
            if old is not None and value is None:
                ends[end] = before
                continue
            if not isinstance(value, list) or not value:
                add(f"{name}: {end!r} must be a non-empty list of labels", doc.line("relationships", name, end))
                value = []
            for i, label in enumerate(value):
                if not isinstance(label, str) or label not in labels:
                    add(f"{name}: unknown label {label!r}{did_you_mean(str(label), labels)}",
                        doc.line("relationships", name, end, i))
            ends[end] = tuple(dict.fromkeys([*before, *(v for v in value if isinstance(v, str) and v in labels)]))
        props = _props(body.get("properties"), doc, add, ("relationships", name), name)
        for prop, typ in list(props.items()):
            prop_line = doc.line("relationships", name, "properties", prop)
            if prop in REL_CORE:
                add(f"{name}: {prop!r} is built in", prop_line)
                del props[prop]
            elif rel_props.setdefault(prop, typ) != typ:
                add(f"relationship property {prop!r} is {typ} on {name} but {rel_props[prop]} elsewhere", prop_line)
                del props[prop]
        undirected = old.undirected if old else bool(body.get("undirected"))
        rels[name] = RelType(name, zh, en, ends["from"], ends["to"], undirected,
                             {**(old.properties if old else {}), **props})
    lookups = list(base.lookups) if base else []
    raw = data.get("lookups") or []
    if not isinstance(raw, list):
        add("lookups must be a list of node property names", doc.line("lookups"))
        raw = []
    for i, prop in enumerate(raw):
        if not isinstance(prop, str) or prop not in node_props:
            add(f"lookups: {prop!r} is not a node property{did_you_mean(str(prop), node_props)}",
                doc.line("lookups", i))
        elif prop not in lookups:
            lookups.append(prop)
    if errors:
        raise errors[0].with_others(errors[1:])
    return Schema(labels, rels, node_props, rel_props, file if base is None else f"{base.file} + {file}",
                  tuple(lookups), standalone)


def declared_in(schema: Schema, prop: str, *, rel: bool = False) -> str:
    """Which file of ``schema`` declares property ``prop``, and on which labels (or types), for
    errors: the packaged schema by its full path, else the workspace's own file.

    >>> declared_in(load_schema(), "budget").endswith("graphwatch/schema.yaml (Project, Tender)")
    True
    """
    packaged = load_schema()
    if not schema.standalone and prop in (packaged.rel_properties if rel else packaged.node_properties):
        schema, what = packaged, "the packaged schema"
    else:
        what = "the workspace schema"
    owners = [o.name for o in (schema.rel_types if rel else schema.labels).values() if prop in o.properties]
    return f"{what} {Path(schema.file.split(' + ')[-1]).resolve()}" + (f" ({', '.join(owners)})" if owners else "")


def covers(new: Schema, old: Schema) -> list[str]:
    """What ``old`` declares that ``new`` lacks (empty when ``new`` keeps everything)."""
    gone = [f"label {n}" for n in old.labels if n not in new.labels]
    gone += [f"property {n}" for n in old.node_properties if n not in new.node_properties]
    gone += [f"relationship type {n}" for n in old.rel_types if n not in new.rel_types]
    gone += [f"relationship property {n}" for n in old.rel_properties if n not in new.rel_properties]
    for n, t in old.rel_types.items():
        if n in new.rel_types:
            gone += [f"{n} from {lab}" for lab in t.from_labels if lab not in new.rel_types[n].from_labels]
            gone += [f"{n} to {lab}" for lab in t.to_labels if lab not in new.rel_types[n].to_labels]
    return gone


def workspace_schema(folder: str | Path) -> Schema:
    """The schema of a workspace: the packaged one plus the workspace's own ``schema.yaml``."""
    ext = Path(folder) / WORKSPACE_SCHEMA
    if not ext.exists():
        return load_schema()
    return _extended(str(ext), ext.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _extended(path: str, mtime_ns: int) -> Schema:   # mtime in the key: a changed file is read again
    return parse_schema(path, base=load_schema())


@lru_cache(maxsize=8)
def load_schema(path: str | None = None) -> Schema:
    """Load and check the schema (the packaged one by default)."""
    return parse_schema(path or SCHEMA_FILE)
