"""Loader mappings: declarative YAML that turns a source's columns into nodes and relationships.

One file per source kind in ``loaders/``. A mapping is data, checked against the schema when
loaded; every error names the mapping file and line. See ``docs/loaders.md`` for the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..exc import InvalidMapping
from ..resources import shipped_dir
from ..schema import Schema, did_you_mean, load_schema
from ..yamlio import load_located


FIELD_TYPES = ("string", "integer", "float", "decimal", "boolean", "date", "datetime",
               "resident_id", "uscc")
#: extra fields an identifier column produces: <field>_status and <field>_valid
ID_TYPES = ("resident_id", "uscc")
KNOWN_DERIVATIONS = ("kinship", "co_occurrence")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def norm_header(text: str) -> str:
    """Header as compared: NFKC (full-width brackets, spaces), trimmed, inner spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).strip()


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    type: str = "string"
    required: bool = False
    optional: bool = False          # the column may be absent from a file
    values: dict | None = None      # raw value -> stored value
    strict_values: bool = False     # a value outside ``values`` quarantines the row


@dataclass(frozen=True)
class When:
    field: str
    equals: tuple[str, ...] = ()    # any of these (after value mapping)
    not_empty: bool = False


@dataclass(frozen=True)
class NodeSpec:
    name: str
    labels: tuple[str, ...]
    key: str                        # template such as "Company:{uscc}"; {@record} is the row's record id
    resident_key: str | None = None # field holding a resident ID: Person:<id> when usable else per record
    ref: bool = False               # the node must already exist (no record is written)
    unique: bool = False            # a key may appear on one row only (duplicates must agree)
    properties: dict = field(default_factory=dict)  # schema property -> field name or {"const": v}
    when: When | None = None


@dataclass(frozen=True)
class RelSpec:
    type: str
    source: str
    target: str
    properties: dict = field(default_factory=dict)
    valid_from: str | None = None
    valid_to: str | None = None
    when: When | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    title_zh: str
    title_en: str
    file: str
    files: tuple[str, ...]
    priority: int
    columns: tuple[Column, ...]
    nodes: tuple[NodeSpec, ...]
    rels: tuple[RelSpec, ...]
    derive: tuple[tuple[str, dict], ...] = ()
    record_id: str | None = None
    extra_columns: str = "error"
    csv: dict = field(default_factory=dict)
    excel: dict = field(default_factory=dict)
    sql: dict = field(default_factory=dict)

    @property
    def fields(self) -> dict[str, str]:
        """Every field a row yields, with its type (identifier columns add _status/_valid)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[c.field] = c.type
            if c.type in ID_TYPES:
                out[c.field + "_status"] = "string"
                out[c.field + "_valid"] = "boolean"
        return out

    def column_for(self, field_name: str) -> str | None:
        base = re.sub(r"_(status|valid)$", "", field_name)
        for c in self.columns:
            if c.field in (field_name, base):
                return c.header
        return None


def _err(doc, msg, *path):
    return InvalidMapping(msg, file=doc.file, line=doc.line(*path))


def _when(doc, raw, fields, *path) -> When | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "field" not in raw:
        raise _err(doc, "'when' needs a 'field' and 'equals' or 'not_empty'", *path)
    if raw["field"] not in fields:
        raise _err(doc, f"'when' names unknown field {raw['field']!r}{did_you_mean(raw['field'], fields)}", *path)
    eq = raw.get("equals", ())
    eq = tuple(str(v) for v in (eq if isinstance(eq, list) else [eq] if eq != () else []))
    if not eq and not raw.get("not_empty"):
        raise _err(doc, "'when' needs 'equals' or 'not_empty: true'", *path)
    return When(raw["field"], eq, bool(raw.get("not_empty")))


def parse_mapping(path: str | Path, schema: Schema | None = None) -> Mapping:
    """Read and check one mapping file; raises :class:`InvalidMapping` naming file and line."""
    schema = schema or load_schema()
    doc = load_located(path, InvalidMapping)
    d = doc.data
    if not isinstance(d, dict):
        raise _err(doc, "a mapping must be a YAML mapping")
    allowed = {"name", "title", "files", "priority", "columns", "nodes", "relationships", "derive",
               "record_id", "extra_columns", "csv", "excel", "sql"}
    for key in d:
        if key not in allowed:
            raise _err(doc, f"unknown key {key!r}{did_you_mean(key, allowed)}", key)
    for key in ("name", "columns", "nodes"):
        if key not in d:
            raise _err(doc, f"missing required key {key!r}")
    title = d.get("title") or {}
    if not isinstance(title, dict) or not {"zh", "en"} <= set(title):
        raise _err(doc, "title must have 'zh' and 'en'", "title")

    columns = []
    seen_fields = set()
    if not isinstance(d["columns"], dict) or not d["columns"]:
        raise _err(doc, "columns must map source headers to fields", "columns")
    for header, specs in d["columns"].items():
        # one column may be read as several fields (an ID column holding ID numbers or USCCs)
        for spec in (specs if isinstance(specs, list) else [specs]):
            if isinstance(spec, str):
                spec = {"field": spec}
            if not isinstance(spec, dict) or "field" not in spec:
                raise _err(doc, f"column {header!r} needs a 'field'", "columns", header)
            typ = spec.get("type", "string")
            if typ not in FIELD_TYPES:
                raise _err(doc, f"column {header!r}: unknown type {typ!r}; use one of {list(FIELD_TYPES)}",
                           "columns", header)
            unknown = set(spec) - {"field", "type", "required", "optional", "values", "strict_values"}
            if unknown:
                raise _err(doc, f"column {header!r}: unknown option(s) {sorted(unknown)}", "columns", header)
            if spec["field"] in seen_fields:
                raise _err(doc, f"field {spec['field']!r} is produced by two columns", "columns", header)
            seen_fields.add(spec["field"])
            values = spec.get("values")
            if values is not None:
                values = {str(k): (None if v is None else str(v)) for k, v in values.items()}
            columns.append(Column(str(header), spec["field"], typ, bool(spec.get("required")),
                                  bool(spec.get("optional")), values, bool(spec.get("strict_values"))))

    m = Mapping(
        name=str(d["name"]), title_zh=str(title["zh"]), title_en=str(title["en"]), file=doc.file,
        files=tuple(d.get("files") or ()), priority=int(d.get("priority", 50)), columns=tuple(columns),
        nodes=(), rels=(), record_id=d.get("record_id"), extra_columns=d.get("extra_columns", "error"),
        csv=d.get("csv") or {}, excel=d.get("excel") or {}, sql=d.get("sql") or {})
    fields = m.fields
    if m.record_id is not None and m.record_id not in fields:
        raise _err(doc, f"record_id names unknown field {m.record_id!r}", "record_id")
    if m.extra_columns not in ("error", "ignore"):
        raise _err(doc, "extra_columns must be 'error' or 'ignore'", "extra_columns")

    def check_field(value, *path):
        if isinstance(value, dict):
            if set(value) != {"const"}:
                raise _err(doc, "a property is a field name or {const: value}", *path)
            return
        if value not in fields:
            raise _err(doc, f"unknown field {value!r}{did_you_mean(str(value), fields)}", *path)

    nodes = []
    if not isinstance(d["nodes"], dict):
        raise _err(doc, "nodes must be a mapping name -> node", "nodes")
    for name, spec in d["nodes"].items():
        p = ("nodes", name)
        if not isinstance(spec, dict):
            raise _err(doc, f"node {name!r} must be a mapping", *p)
        unknown = set(spec) - {"label", "labels", "key", "ref", "unique", "properties", "when"}
        if unknown:
            raise _err(doc, f"node {name!r}: unknown option(s) {sorted(unknown)}", *p)
        labels = spec.get("labels") or ([spec["label"]] if "label" in spec else None)
        if not labels:
            raise _err(doc, f"node {name!r} needs 'label' or 'labels'", *p)
        for label in labels:
            if label not in schema.labels:
                raise _err(doc, f"unknown label {label!r}{did_you_mean(label, schema.labels)}", *p)
        key = spec.get("key")
        resident_key = None
        if isinstance(key, dict) and set(key) == {"resident_id"}:
            resident_key = key["resident_id"]
            if fields.get(resident_key) != "resident_id":
                raise _err(doc, f"node {name!r}: key resident_id must name a resident_id field", *p, "key")
            key = f"{labels[0]}:{{{resident_key}}}"
        if not isinstance(key, str) or not _TEMPLATE_FIELD.search(key):
            raise _err(doc, f"node {name!r}: key must be a template like 'Company:{{uscc}}' "
                            "or {resident_id: field}", *p, "key")
        for f in _TEMPLATE_FIELD.findall(key):
            if f != "@record" and f not in fields:
                raise _err(doc, f"node {name!r}: key uses unknown field {f!r}{did_you_mean(f, fields)}", *p, "key")
        allowed_props = {pp for lb in labels for pp in schema.labels[lb].properties}
        props = spec.get("properties") or {}
        for prop, value in props.items():
            if prop not in allowed_props:
                raise _err(doc, f"node {name!r}: property {prop!r} is not declared for {labels}"
                                f"{did_you_mean(prop, allowed_props)}", *p, "properties", prop)
            check_field(value, *p, "properties", prop)
        if spec.get("ref") and props:
            raise _err(doc, f"node {name!r}: a ref node only points at an existing node; it has no properties", *p)
        nodes.append(NodeSpec(name, tuple(labels), key, resident_key, bool(spec.get("ref")),
                              bool(spec.get("unique")), dict(props), _when(doc, spec.get("when"), fields, *p, "when")))
    by_name = {n.name: n for n in nodes}

    rels = []
    for i, spec in enumerate(d.get("relationships") or []):
        p = ("relationships", i)
        if not isinstance(spec, dict):
            raise _err(doc, "a relationship must be a mapping", *p)
        unknown = set(spec) - {"type", "from", "to", "properties", "valid_from", "valid_to", "when"}
        if unknown:
            raise _err(doc, f"relationship: unknown option(s) {sorted(unknown)}", *p)
        typ = spec.get("type")
        if typ not in schema.rel_types:
            raise _err(doc, f"unknown relationship type {typ!r}{did_you_mean(str(typ), schema.rel_types)}", *p)
        rt = schema.rel_types[typ]
        for end, allowed in (("from", rt.from_labels), ("to", rt.to_labels)):
            ref = spec.get(end)
            if ref not in by_name:
                raise _err(doc, f"{typ}: {end!r} must name a node of this mapping{did_you_mean(str(ref), by_name)}", *p)
            if not set(by_name[ref].labels) & set(allowed):
                raise _err(doc, f"{typ}: {end} node {ref!r} has labels {list(by_name[ref].labels)}, "
                                f"but the schema allows {list(allowed)}", *p)
        props = spec.get("properties") or {}
        for prop, value in props.items():
            if prop not in rt.properties:
                raise _err(doc, f"{typ}: property {prop!r} is not declared{did_you_mean(prop, rt.properties)}", *p)
            check_field(value, *p, "properties", prop)
        for vk in ("valid_from", "valid_to"):
            if spec.get(vk) is not None:
                check_field(spec[vk], *p, vk)
                if fields.get(spec[vk]) not in ("date", "datetime"):
                    raise _err(doc, f"{typ}: {vk} must name a date field", *p, vk)
        rels.append(RelSpec(typ, spec["from"], spec["to"], dict(props), spec.get("valid_from"),
                            spec.get("valid_to"), _when(doc, spec.get("when"), fields, *p, "when")))

    derive = []
    for i, item in enumerate(d.get("derive") or []):
        name, params = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        if name not in KNOWN_DERIVATIONS:
            raise _err(doc, f"unknown derivation {name!r}; known: {list(KNOWN_DERIVATIONS)}", "derive", i)
        derive.append((name, dict(params or {})))

    return Mapping(**{**m.__dict__, "nodes": tuple(nodes), "rels": tuple(rels), "derive": tuple(derive)})


def mapping_paths(folder: Path | None = None) -> list[Path]:
    return sorted((folder or shipped_dir("loaders")).glob("*.yaml"))


def load_mappings(folder: Path | None = None, schema: Schema | None = None) -> dict[str, Mapping]:
    """Every mapping in ``loaders/`` by name."""
    out: dict[str, Mapping] = {}
    for path in mapping_paths(folder):
        m = parse_mapping(path, schema)
        if m.name in out:
            raise InvalidMapping(f"mapping name {m.name!r} also used by {out[m.name].file}", file=str(path), line=1)
        out[m.name] = m
    return out
