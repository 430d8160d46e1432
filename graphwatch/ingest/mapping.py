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
from .fieldtypes import STORED_AS, TRUE_WORDS, FALSE_WORDS


FIELD_TYPES = ("string", "integer", "float", "decimal", "boolean", "date", "datetime",
               "month", "percent", "resident_id", "uscc")
#: extra fields an identifier column produces: <field>_status and <field>_valid
ID_TYPES = ("resident_id", "uscc")
KNOWN_DERIVATIONS = ("kinship", "co_occurrence")
#: how a node treats rows that say different things about it (see docs/loaders.md)
ON_CONFLICT = ("priority", "first", "quarantine")
#: divisions a lookup can find by name
LOOKUP_LEVELS = {"village": "Village", "township": "Township", "county": "County"}
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
    date_format: str | None = None  # the one strptime format of a date / datetime / month column
    scale: float | None = None      # numbers are multiplied by this (cells in 万元: 10000)


@dataclass(frozen=True)
class Computed:
    """A field computed from other fields: a ``template``, a ``const`` or a division ``lookup``."""
    field: str
    template: str | None = None
    const: object = None
    lookup: str | None = None       # village | township | county: the division named in words
    name: str | None = None         # lookup: the field holding the name
    within: str | None = None       # lookup: the field holding the enclosing division's name


@dataclass(frozen=True)
class When:
    field: str
    equals: tuple = ()              # any of these (after value mapping), typed as the field
    not_empty: bool = False


@dataclass(frozen=True)
class NodeSpec:
    name: str
    labels: tuple[str, ...]
    key: str                        # template such as "Company:{uscc}"; {@record} is the row's record id
    resident_key: str | None = None # field holding a resident ID: Person:<id> when usable else per record
    ref: bool = False               # the node must already exist (no record is written)
    on_conflict: str = "priority"   # rows disagreeing about one node: priority | first | quarantine
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
    computed: tuple[Computed, ...] = ()

    @property
    def fields(self) -> dict[str, str]:
        """Every field a row yields, with the type it is stored as (identifier columns add
        ``_status``/``_valid``, a month column ``_last``; computed fields are text)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[c.field] = STORED_AS.get(c.type, c.type) if c.type not in ID_TYPES else c.type
            if c.type in ID_TYPES:
                out[c.field + "_status"] = "string"
                out[c.field + "_valid"] = "boolean"
            if c.type == "month":
                out[c.field + "_last"] = "date"
        for comp in self.computed:
            out[comp.field] = "string"
        return out

    def column_for(self, field_name: str) -> str | None:
        """The source header a field comes from (for quarantine reasons); a computed field
        names the header of the first field it is computed from."""
        base = re.sub(r"_(status|valid|last)$", "", field_name)
        for c in self.columns:
            if c.field in (field_name, base):
                return c.header
        for comp in self.computed:
            if comp.field == field_name:
                sources = _TEMPLATE_FIELD.findall(comp.template) if comp.template else [comp.name]
                return self.column_for(sources[0]) if sources and sources[0] else None
        return None


#: keys every mapping must have
REQUIRED_KEYS = ("name", "title", "columns", "nodes")


def _err(doc, msg, *path):
    return InvalidMapping(msg, file=doc.file, line=doc.line(*path))


def _typed_value(doc, value, typ: str, *path):
    """A ``when: equals`` value as the field's type, so the comparison is typed."""
    import datetime as dt

    try:
        if typ == "boolean":
            if isinstance(value, bool):
                return value
            if str(value) in TRUE_WORDS:
                return True
            if str(value) in FALSE_WORDS:
                return False
            raise ValueError
        if typ == "integer":
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if typ in ("float", "decimal"):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise _err(doc, f"'when' compares a {typ} field with {value!r}, which is not a {typ}", *path) from None
    return str(value)


def _when(doc, raw, fields, *path) -> When | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "field" not in raw:
        raise _err(doc, "'when' needs a 'field' and 'equals' or 'not_empty'", *path)
    unknown = set(raw) - {"field", "equals", "not_empty"}
    if unknown:
        raise _err(doc, f"'when': unknown option(s) {sorted(unknown)}", *path)
    if raw["field"] not in fields:
        raise _err(doc, f"'when' names unknown field {raw['field']!r}{did_you_mean(raw['field'], fields)}", *path)
    eq = raw.get("equals", ())
    typ = fields[raw["field"]]
    eq = tuple(_typed_value(doc, v, typ, *path) for v in (eq if isinstance(eq, list) else [eq] if eq != () else []))
    if not eq and not raw.get("not_empty"):
        raise _err(doc, "'when' needs 'equals' or 'not_empty: true'", *path)
    return When(raw["field"], eq, bool(raw.get("not_empty")))


def _computed(doc, raw, fields: dict) -> tuple[Computed, ...]:
    """``computed:`` — fields built from other fields, in order (a later one may use an earlier one)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _err(doc, "computed must map field names to {template | const | lookup}", "computed")
    out = []
    for name, spec in raw.items():
        p = ("computed", name)
        if name in fields:
            raise _err(doc, f"computed field {name!r} is already a field", *p)
        if not isinstance(spec, dict) or len({"template", "const", "lookup"} & set(spec)) != 1:
            raise _err(doc, f"computed field {name!r} needs exactly one of 'template', 'const', 'lookup'", *p)
        if "template" in spec:
            if set(spec) != {"template"}:
                raise _err(doc, f"computed field {name!r}: a template has no other options", *p)
            template = str(spec["template"])
            used = _TEMPLATE_FIELD.findall(template)
            if not used:
                raise _err(doc, f"computed field {name!r}: the template names no field ({{field}})", *p)
            for f in used:
                if f not in fields:
                    raise _err(doc, f"computed field {name!r}: unknown field {f!r}{did_you_mean(f, fields)}", *p)
            out.append(Computed(str(name), template=template))
        elif "const" in spec:
            if set(spec) != {"const"}:
                raise _err(doc, f"computed field {name!r}: a const has no other options", *p)
            out.append(Computed(str(name), const=spec["const"]))
        else:
            unknown = set(spec) - {"lookup", "name", "within"}
            if unknown:
                raise _err(doc, f"computed field {name!r}: unknown option(s) {sorted(unknown)}", *p)
            if spec["lookup"] not in LOOKUP_LEVELS:
                raise _err(doc, f"computed field {name!r}: lookup must be one of {sorted(LOOKUP_LEVELS)}", *p)
            for opt in ("name", "within"):
                f = spec.get(opt)
                if f is None and opt == "within":
                    continue
                if f not in fields:
                    raise _err(doc, f"computed field {name!r}: {opt} must name a field"
                                    f"{did_you_mean(str(f), fields)}", *p)
            out.append(Computed(str(name), lookup=spec["lookup"], name=spec["name"], within=spec.get("within")))
        fields[str(name)] = "string"
    return tuple(out)


def parse_mapping(path: str | Path, schema: Schema | None = None) -> Mapping:
    """Read and check one mapping file; raises :class:`InvalidMapping` naming file and line."""
    schema = schema or load_schema()
    doc = load_located(path, InvalidMapping)
    d = doc.data
    if not isinstance(d, dict):
        raise _err(doc, "a mapping must be a YAML mapping")
    allowed = {"name", "title", "files", "priority", "columns", "computed", "nodes", "relationships", "derive",
               "record_id", "extra_columns", "csv", "excel", "sql"}
    for key in d:
        if key not in allowed:
            raise _err(doc, f"unknown key {key!r}{did_you_mean(key, allowed)}", key)
    for key in REQUIRED_KEYS:
        if key not in d:
            raise _err(doc, f"missing required key {key!r} (a mapping needs {', '.join(REQUIRED_KEYS)}; "
                            "see docs/loaders.md)")
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
            if not isinstance(spec["field"], str) or not spec["field"]:
                raise _err(doc, f"column {header!r}: field must be a name, got {spec['field']!r} "
                                "(YAML reads no/yes/on/off/true/false unquoted as booleans: quote the name)",
                           "columns", header)
            typ = spec.get("type", "string")
            if typ not in FIELD_TYPES:
                raise _err(doc, f"column {header!r}: unknown type {typ!r}; use one of {list(FIELD_TYPES)}",
                           "columns", header)
            unknown = set(spec) - {"field", "type", "required", "optional", "values", "strict_values",
                                   "date_format", "scale"}
            if unknown:
                raise _err(doc, f"column {header!r}: unknown option(s) {sorted(unknown)}", "columns", header)
            date_format = spec.get("date_format")
            if date_format is not None and (typ not in ("date", "datetime", "month") or "%" not in str(date_format)):
                raise _err(doc, f"column {header!r}: date_format is a strptime format such as '%m/%d/%Y' "
                                "on a date, datetime or month column", "columns", header)
            scale = spec.get("scale")
            if scale is not None and (typ not in ("integer", "float", "decimal") or isinstance(scale, bool)
                                      or not isinstance(scale, (int, float))):
                raise _err(doc, f"column {header!r}: scale is a number (10000 for cells in 万元) "
                                "on an integer, float or decimal column", "columns", header)
            if spec["field"] in seen_fields:
                raise _err(doc, f"field {spec['field']!r} is produced by two columns", "columns", header)
            seen_fields.add(spec["field"])
            values = spec.get("values")
            if values is not None:
                values = {str(k): (None if v is None else str(v)) for k, v in values.items()}
            columns.append(Column(str(header), spec["field"], typ, bool(spec.get("required")),
                                  bool(spec.get("optional")), values, bool(spec.get("strict_values")),
                                  None if date_format is None else str(date_format),
                                  None if scale is None else float(scale)))

    m = Mapping(
        name=str(d["name"]), title_zh=str(title["zh"]), title_en=str(title["en"]), file=doc.file,
        files=tuple(d.get("files") or ()), priority=int(d.get("priority", 50)), columns=tuple(columns),
        nodes=(), rels=(), record_id=d.get("record_id"), extra_columns=d.get("extra_columns", "error"),
        csv=d.get("csv") or {}, excel=d.get("excel") or {}, sql=d.get("sql") or {})
    fields = m.fields
    m = Mapping(**{**m.__dict__, "computed": _computed(doc, d.get("computed"), fields)})
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
        unknown = set(spec) - {"label", "labels", "key", "ref", "unique", "on_conflict", "properties", "when"}
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
        on_conflict = spec.get("on_conflict", "quarantine" if spec.get("unique") else "priority")
        if on_conflict not in ON_CONFLICT or (spec.get("unique") and on_conflict != "quarantine"):
            raise _err(doc, f"node {name!r}: on_conflict must be one of {list(ON_CONFLICT)} "
                            "('unique: true' means quarantine)", *p)
        nodes.append(NodeSpec(name, tuple(labels), key, resident_key, bool(spec.get("ref")),
                              on_conflict, dict(props), _when(doc, spec.get("when"), fields, *p, "when")))
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
