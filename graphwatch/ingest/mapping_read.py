"""Reading one loader mapping file: every mistake in it found at once, each at its own line.

:func:`read_mapping` checks a mapping against the schema and returns it with every error it
found (``graphwatch mappings check`` prints them all; a load stops at the first). Each error
names the line of the key or value it is about (``label: Persn`` → the line of ``label``).
An error that only follows from another one is not reported again: the properties of a node
whose label is unknown, the end labels of a relationship whose type is unknown, a field
reference when the ``columns`` section itself is broken.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..exc import InvalidMapping
from ..schema import Schema, did_you_mean
from ..yamlio import Located, load_located
from .fieldtypes import FALSE_WORDS, TRUE_WORDS
from .mapping import (_TEMPLATE_FIELD, FIELD_TYPES, KNOWN_DERIVATIONS, LOOKUP_LEVELS, ON_CONFLICT, REQUIRED_KEYS,
                      Column, Computed, Mapping, NodeSpec, RelSpec, When)

TOP_KEYS = ("name", "title", "files", "priority", "columns", "computed", "nodes", "relationships", "derive",
            "record_id", "extra_columns", "csv", "excel", "sql")
COLUMN_OPTIONS = ("field", "type", "required", "optional", "values", "strict_values", "date_format", "scale")
NODE_OPTIONS = ("label", "labels", "key", "ref", "unique", "on_conflict", "properties", "when")
REL_OPTIONS = ("type", "from", "to", "properties", "valid_from", "valid_to", "when")
WHEN_OPTIONS = ("field", "equals", "not_empty")
SOURCE_OPTIONS = {"csv": ("delimiter", "encoding", "quotechar"), "excel": ("sheet",), "sql": ("table", "query")}
#: what YAML reads unquoted as a boolean: a field named so was meant as text
_YAML_BOOLEANS = {True: ("yes", "on", "true", "y"), False: ("no", "off", "false", "n")}


class _Problems:
    """The errors of one mapping file, and the fields a reference may name."""

    def __init__(self, doc: Located):
        self.doc = doc
        self.errors: list[InvalidMapping] = []
        self.fields: dict[str, str | None] = {}   # field -> stored type (None: its column's type is wrong)
        self.maybe: set[str] | None = set()        # names a broken column may have meant (None: any name)

    def add(self, message: str, *path) -> None:
        self.errors.append(InvalidMapping(message, file=self.doc.file, line=self.doc.line(*path)))

    def unknown_options(self, raw: dict, allowed, what: str, *path) -> None:
        for key in raw:
            if key not in allowed:
                self.add(f"{what}unknown option {key!r}{did_you_mean(str(key), allowed)}", *path, key)

    def no_field(self, name) -> bool:
        """``name`` is certainly not a field (so naming it is an error of its own)."""
        if self.maybe is None:
            return False
        return not (isinstance(name, str) and name in self.fields) and str(name) not in self.maybe

    def type_of(self, name, default=None) -> str | None:
        """The stored type of field ``name`` (``default`` when it is no field)."""
        return self.fields.get(name, default) if isinstance(name, str) else default

    def field_ref(self, value, what: str, *path) -> None:
        """A property value: a field name or ``{const: value}``."""
        if isinstance(value, dict):
            if set(value) != {"const"}:
                self.add(f"{what}a property is a field name or {{const: value}}", *path)
        elif self.no_field(value):
            self.add(f"{what}unknown field {value!r}{did_you_mean(str(value), self.fields)}", *path)


def read_mapping(path: str | Path, schema: Schema) -> tuple[Mapping | None, list[InvalidMapping]]:
    """The mapping in ``path`` and every error found in it, in the order the sections are checked
    (the mapping is None when there are any)."""
    try:
        doc = load_located(path, InvalidMapping)
    except InvalidMapping as exc:
        return None, [exc]
    pr = _Problems(doc)
    d = doc.data
    if not isinstance(d, dict):
        pr.add("a mapping must be a YAML mapping")
        return None, pr.errors
    meant = set()
    for key in d:
        if key not in TOP_KEYS:
            hint = did_you_mean(str(key), TOP_KEYS)
            meant.update(k for k in TOP_KEYS if hint == f" (did you mean {k!r}?)")
            pr.add(f"unknown key {key!r}{hint}", key)
    for key in REQUIRED_KEYS:
        if key not in d and key not in meant:      # a misspelt key is one mistake, reported above
            pr.add(f"missing required key {key!r} (a mapping needs {', '.join(REQUIRED_KEYS)}; see docs/loaders.md)")
    title = d.get("title")
    if "title" in d and (not isinstance(title, dict) or not {"zh", "en"} <= set(title)):
        pr.add("title must have 'zh' and 'en'", "title")
    title = title if isinstance(title, dict) else {}
    files = _files(pr, d.get("files"))
    priority = d.get("priority", 50)
    if isinstance(priority, bool) or not isinstance(priority, int):
        pr.add(f"priority must be a whole number (lower wins; default 50), got {priority!r}", "priority")
    extra = d.get("extra_columns", "error")
    if extra not in ("error", "ignore"):
        pr.add("extra_columns must be 'error' or 'ignore'", "extra_columns")
    sources = {kind: _source_options(pr, kind, d.get(kind)) for kind in SOURCE_OPTIONS}

    columns = _columns(pr, d.get("columns")) if "columns" in d else []
    if "columns" not in d:
        pr.maybe = None
    m = Mapping(name=str(d.get("name")), title_zh=str(title.get("zh")), title_en=str(title.get("en")),
                file=doc.file, files=files, priority=priority if isinstance(priority, int) else 50,
                columns=tuple(columns), nodes=(), rels=(), record_id=d.get("record_id"), extra_columns=extra,
                **sources)
    pr.fields = dict(m.fields)                  # a column of an unknown type: None
    computed = _computed(pr, d.get("computed"))
    if m.record_id is not None and pr.no_field(m.record_id):
        pr.add(f"record_id names unknown field {m.record_id!r}{did_you_mean(str(m.record_id), pr.fields)}",
               "record_id")
    nodes, labels_of = _nodes(pr, d.get("nodes"), schema) if "nodes" in d else ([], None)
    rels = _relationships(pr, d.get("relationships"), labels_of, schema)
    derive = _derive(pr, d.get("derive"))
    if pr.errors:
        return None, pr.errors
    return Mapping(**{**m.__dict__, "computed": computed, "nodes": tuple(nodes), "rels": tuple(rels),
                      "derive": tuple(derive)}), []


def _files(pr: _Problems, raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    globs = [raw] if isinstance(raw, str) else raw
    if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
        pr.add("files must be a list of file-name globs such as ['低保*']", "files")
        return ()
    return tuple(globs)


def _source_options(pr: _Problems, kind: str, raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        pr.add(f"{kind} must be a mapping of options {list(SOURCE_OPTIONS[kind])}", kind)
        return {}
    pr.unknown_options(raw, SOURCE_OPTIONS[kind], f"{kind}: ", kind)
    for opt in ("delimiter", "quotechar"):
        if opt in raw and kind == "csv" and not (isinstance(raw[opt], str) and len(raw[opt]) == 1):
            pr.add(f"csv: {opt} must be one character, got {raw[opt]!r}", kind, opt)
    return raw


def _columns(pr: _Problems, raw) -> list[Column]:
    if not isinstance(raw, dict) or not raw:
        pr.add("columns must map source headers to fields", "columns")
        pr.maybe = None
        return []
    columns, seen = [], {}
    for header, specs in raw.items():
        # one column may be read as several fields (an ID column holding ID numbers or USCCs)
        many = isinstance(specs, list)
        for j, spec in enumerate(specs if many else [specs]):
            p = ("columns", header, j) if many else ("columns", header)
            col = _column(pr, str(header), spec, p)
            if col is None:
                continue
            if col.field in seen:
                pr.add(f"field {col.field!r} is produced by two columns ({seen[col.field]!r} and {str(header)!r})",
                       *p, "field")
                continue
            seen[col.field] = str(header)
            columns.append(col)
    return columns


def _column(pr: _Problems, header: str, spec, p: tuple) -> Column | None:
    """One column spec; None when it yields no field (each mistake reported)."""
    if isinstance(spec, str):
        spec = {"field": spec}
    if not isinstance(spec, dict) or "field" not in spec:
        pr.add(f"column {header!r} needs a 'field'", *p)
        return None
    pr.unknown_options(spec, COLUMN_OPTIONS, f"column {header!r}: ", *p)
    name = spec["field"]
    if not isinstance(name, str) or not name:
        pr.add(f"column {header!r}: field must be a name, got {name!r} "
               "(YAML reads no/yes/on/off/true/false unquoted as booleans: quote the name)", *p, "field")
        if pr.maybe is not None:
            pr.maybe.update(_YAML_BOOLEANS.get(name, ()) if isinstance(name, bool) else {str(name)})
    typ = spec.get("type", "string")
    if typ not in FIELD_TYPES:
        pr.add(f"column {header!r}: unknown type {typ!r}{did_you_mean(str(typ), FIELD_TYPES)}; "
               f"use one of {list(FIELD_TYPES)}", *p, "type")
        typ = None                       # the checks that need the type are left out
    date_format = spec.get("date_format")
    if date_format is not None and ((typ is not None and typ not in ("date", "datetime", "month"))
                                    or "%" not in str(date_format)):
        pr.add(f"column {header!r}: date_format is a strptime format such as '%m/%d/%Y' "
               "on a date, datetime or month column", *p, "date_format")
    scale = spec.get("scale")
    if scale is not None and ((typ is not None and typ not in ("integer", "float", "decimal"))
                              or isinstance(scale, bool) or not isinstance(scale, (int, float))):
        pr.add(f"column {header!r}: scale is a number (10000 for cells in 万元) "
               "on an integer, float or decimal column", *p, "scale")
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        pr.add(f"column {header!r}: values must map raw values to stored values", *p, "values")
        values = None
    if values is not None:
        values = {str(k): (None if v is None else str(v)) for k, v in values.items()}
    if not isinstance(name, str) or not name:
        return None
    return Column(header, name, typ, bool(spec.get("required")), bool(spec.get("optional")), values,
                  bool(spec.get("strict_values")), None if date_format is None else str(date_format),
                  float(scale) if isinstance(scale, (int, float)) and not isinstance(scale, bool) else None)


def _computed(pr: _Problems, raw) -> tuple[Computed, ...]:
    """``computed:`` — fields built from other fields, in order (a later one may use an earlier one)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        pr.add("computed must map field names to {template | const | lookup}", "computed")
        return ()
    out = []
    for name, spec in raw.items():
        p = ("computed", name)
        what = f"computed field {name!r}: "
        if name in pr.fields:
            pr.add(f"computed field {name!r} is already a field", *p)
        pr.fields[str(name)] = "string"          # later references to it are not errors of their own
        if not isinstance(spec, dict) or len({"template", "const", "lookup"} & set(spec)) != 1:
            pr.add(f"computed field {name!r} needs exactly one of 'template', 'const', 'lookup'", *p)
            continue
        if "template" in spec or "const" in spec:
            kind = "template" if "template" in spec else "const"
            for key in spec:
                if key != kind:
                    pr.add(f"{what}a {kind} has no other options (got {key!r})", *p, key)
            if kind == "const":
                out.append(Computed(str(name), const=spec["const"]))
                continue
            template = str(spec["template"])
            used = _TEMPLATE_FIELD.findall(template)
            if not used:
                pr.add(f"{what}the template names no field ({{field}})", *p, "template")
            for f in used:
                if pr.no_field(f):
                    pr.add(f"{what}unknown field {f!r}{did_you_mean(f, pr.fields)}", *p, "template")
            out.append(Computed(str(name), template=template))
            continue
        pr.unknown_options(spec, ("lookup", "name", "within"), what, *p)
        if not isinstance(spec["lookup"], str) or spec["lookup"] not in LOOKUP_LEVELS:
            pr.add(f"{what}lookup must be one of {sorted(LOOKUP_LEVELS)}", *p, "lookup")
        for opt in ("name", "within"):
            f = spec.get(opt)
            if (f is None and opt == "name") or (f is not None and pr.no_field(f)):
                pr.add(f"{what}{opt} must name a field{did_you_mean(str(f), pr.fields)}", *p, opt)
        out.append(Computed(str(name), lookup=spec["lookup"], name=spec.get("name"), within=spec.get("within")))
    return tuple(out)


def _typed_value(value, typ: str | None):
    """A ``when: equals`` value as the field's type, so the comparison is typed; ValueError if
    it is not one."""
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
    return str(value)


def _when(pr: _Problems, raw, *path) -> When | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "field" not in raw:
        pr.add("'when' needs a 'field' and 'equals' or 'not_empty'", *path)
        return None
    pr.unknown_options(raw, WHEN_OPTIONS, "'when': ", *path)
    name = raw["field"]
    if pr.no_field(name):
        pr.add(f"'when' names unknown field {name!r}{did_you_mean(str(name), pr.fields)}", *path, "field")
    typ = pr.type_of(name)
    eq = raw.get("equals", ())
    values = eq if isinstance(eq, list) else [eq] if eq != () else []
    typed = []
    for v in values:
        try:
            typed.append(_typed_value(v, typ))
        except (TypeError, ValueError):
            pr.add(f"'when' compares a {typ} field with {v!r}, which is not a {typ}", *path, "equals")
    if not values and not raw.get("not_empty"):
        pr.add("'when' needs 'equals' or 'not_empty: true'", *path)
    return When(str(name), tuple(typed), bool(raw.get("not_empty")))


def _nodes(pr: _Problems, raw, schema: Schema) -> tuple[list[NodeSpec], dict | None]:
    """The node specs, and each node's labels by name (None for a node whose labels are wrong;
    the whole dict None when the section is)."""
    if not isinstance(raw, dict):
        pr.add("nodes must be a mapping name -> node", "nodes")
        return [], None
    nodes, labels_of = [], {}
    for name, spec in raw.items():
        labels_of[name] = None
        p = ("nodes", name)
        what = f"node {name!r}: "
        if not isinstance(spec, dict):
            pr.add(f"node {name!r} must be a mapping", *p)
            continue
        pr.unknown_options(spec, NODE_OPTIONS, what, *p)
        labels = _labels(pr, spec, schema, p)
        key, resident_key = _key(pr, spec, labels, p)
        props = spec.get("properties") or {}
        if not isinstance(props, dict):
            pr.add(f"{what}properties must map schema properties to fields", *p, "properties")
            props = {}
        allowed = {pp for lb in labels or () for pp in schema.labels[lb].properties}
        for prop, value in props.items():
            if labels is not None and prop not in allowed:
                pr.add(f"{what}property {prop!r} is not declared for {list(labels)}{did_you_mean(str(prop), allowed)}",
                       *p, "properties", prop)
            pr.field_ref(value, what, *p, "properties", prop)
        if spec.get("ref") and props:
            pr.add(f"{what}a ref node only points at an existing node; it has no properties", *p, "ref")
        on_conflict = spec.get("on_conflict", "quarantine" if spec.get("unique") else "priority")
        if on_conflict not in ON_CONFLICT or (spec.get("unique") and on_conflict != "quarantine"):
            pr.add(f"{what}on_conflict must be one of {list(ON_CONFLICT)} ('unique: true' means quarantine)",
                   *p, "on_conflict" if "on_conflict" in spec else "unique")
        when = _when(pr, spec.get("when"), *p, "when")
        labels_of[name] = labels
        if labels and key:
            nodes.append(NodeSpec(name, labels, key, resident_key, bool(spec.get("ref")), on_conflict,
                                  dict(props), when))
    return nodes, labels_of


def _labels(pr: _Problems, spec: dict, schema: Schema, p: tuple) -> tuple[str, ...] | None:
    """A node's labels, each checked at its own line; None unless every one is known."""
    if "labels" in spec:
        raw, paths = spec["labels"], None
        if isinstance(raw, list):
            paths = [(*p, "labels", i) for i in range(len(raw))]
    else:
        raw, paths = [spec.get("label")], [(*p, "label")]
    if not paths or not raw or raw == [None]:
        pr.add(f"node {p[-1]!r} needs 'label' or 'labels' (a list)", *p, "labels" if "labels" in spec else "label")
        return None
    ok = True
    for label, path in zip(raw, paths):
        if not isinstance(label, str) or label not in schema.labels:
            pr.add(f"unknown label {label!r}{did_you_mean(str(label), schema.labels)}", *path)
            ok = False
    return tuple(raw) if ok else None


def _key(pr: _Problems, spec: dict, labels, p: tuple) -> tuple[str | None, str | None]:
    """The node's key template and, for ``{resident_id: field}``, that field."""
    key = spec.get("key")
    what = f"node {p[-1]!r}: "
    if isinstance(key, dict) and set(key) == {"resident_id"}:
        field = key["resident_id"]
        ids = [f for f, t in pr.fields.items() if t == "resident_id"]
        if pr.no_field(field):
            pr.add(f"{what}key resident_id names unknown field {field!r}{did_you_mean(str(field), ids)}",
                   *p, "key", "resident_id")
        elif pr.type_of(field, "resident_id") not in ("resident_id", None):
            pr.add(f"{what}key resident_id must name a resident_id field, not the {pr.type_of(field)} field "
                   f"{field!r}" + (f" (resident_id fields: {ids})" if ids else ""), *p, "key", "resident_id")
        return f"{(labels or ('Person',))[0]}:{{{field}}}", str(field)
    if not isinstance(key, str) or not _TEMPLATE_FIELD.search(key):
        pr.add(f"{what}key must be a template like 'Company:{{uscc}}' or {{resident_id: field}}", *p, "key")
        return None, None
    for f in _TEMPLATE_FIELD.findall(key):
        if f != "@record" and pr.no_field(f):
            pr.add(f"{what}key uses unknown field {f!r}{did_you_mean(f, pr.fields)}", *p, "key")
    return key, None


def _relationships(pr: _Problems, raw, labels_of: dict | None, schema: Schema) -> list[RelSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        pr.add("relationships must be a list of {type, from, to …}", "relationships")
        return []
    rels = []
    for i, spec in enumerate(raw):
        p = ("relationships", i)
        if not isinstance(spec, dict):
            pr.add("a relationship must be a mapping", *p)
            continue
        pr.unknown_options(spec, REL_OPTIONS, "relationship: ", *p)
        typ = spec.get("type")
        rt = schema.rel_types.get(typ) if isinstance(typ, str) else None
        if rt is None:
            pr.add(f"unknown relationship type {typ!r}{did_you_mean(str(typ), schema.rel_types)}", *p, "type")
        for end in ("from", "to"):
            ref = spec.get(end)
            if labels_of is not None and (not isinstance(ref, str) or ref not in labels_of):
                pr.add(f"{typ}: {end!r} must name a node of this mapping{did_you_mean(str(ref), labels_of)}",
                       *p, end)
            elif rt is not None and labels_of is not None and labels_of[ref] is not None:
                allowed = rt.from_labels if end == "from" else rt.to_labels
                if not set(labels_of[ref]) & set(allowed):
                    pr.add(f"{typ}: {end} node {ref!r} has labels {list(labels_of[ref])}, "
                           f"but the schema allows {list(allowed)}", *p, end)
        props = spec.get("properties") or {}
        if not isinstance(props, dict):
            pr.add(f"{typ}: properties must map schema properties to fields", *p, "properties")
            props = {}
        for prop, value in props.items():
            if rt is not None and prop not in rt.properties:
                pr.add(f"{typ}: property {prop!r} is not declared{did_you_mean(str(prop), rt.properties)}",
                       *p, "properties", prop)
            pr.field_ref(value, f"{typ}: ", *p, "properties", prop)
        for vk in ("valid_from", "valid_to"):
            if spec.get(vk) is not None:
                pr.field_ref(spec[vk], f"{typ}: ", *p, vk)
                if pr.type_of(spec[vk], "date") not in ("date", "datetime", None):
                    pr.add(f"{typ}: {vk} must name a date field", *p, vk)
        rels.append(RelSpec(str(typ), spec.get("from"), spec.get("to"), dict(props), spec.get("valid_from"),
                            spec.get("valid_to"), _when(pr, spec.get("when"), *p, "when")))
    return rels


def _derive(pr: _Problems, raw) -> list[tuple[str, dict]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        pr.add(f"derive must be a list of derivations {list(KNOWN_DERIVATIONS)}", "derive")
        return []
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and len(item) == 1:
            (name, params), = item.items()
        else:
            name, params = item, None
        if not isinstance(name, str) or name not in KNOWN_DERIVATIONS:
            pr.add(f"unknown derivation {name!r}{did_you_mean(str(name), KNOWN_DERIVATIONS)}; "
                   f"known: {list(KNOWN_DERIVATIONS)}", "derive", i)
            continue
        if params is not None and not isinstance(params, dict):
            pr.add(f"derivation {name!r}: its options are a mapping such as {{window_minutes: 120}}", "derive", i)
            continue
        out.append((name, dict(params or {})))
    return out
