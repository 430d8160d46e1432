"""Infer a workspace schema from a neo4j-admin import folder (``graphwatch load --infer-schema``).

Any Neo4j export should load unchanged, with its own labels, relationship types and typed
properties. The headers declare the property types (``:int``, ``:double``, ``:date``,
arrays ``[]``); the rows declare the labels (``:LABEL`` cells, else the file name), the
relationship types (``:TYPE`` cells, else the file name) and which labels each type joins
(the labels of its start and end nodes, found through the node files' ids). An untyped column
whose every value is a JSON list (``[1,2]``, ``["a","b"]``: how APOC's ``bulkImport`` export
writes list properties) is a list of the elements' type. What the
workspace's schema lacks becomes the workspace's own ``schema.yaml`` additions.

A property name must have one type in a workspace (nodes live in one wide table). Whole and
decimal numbers of one name widen to float; any other disagreement — within the export, or
with the packaged schema — is a :class:`~graphwatch.exc.SourceError` naming both places.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...exc import SourceError
from ...schema import WORKSPACE_SCHEMA, Schema
from .header import ARRAY_DELIMITER, COMPATIBLE, GLOBAL_SPACE, FileSpec, _plan, _read_text

#: schema type of a neo4j header type ("" = untyped: neo4j-admin reads text)
SCHEMA_TYPE = {"": "string", "string": "string", "char": "string", "int": "integer", "long": "integer",
               "short": "integer", "byte": "integer", "float": "float", "double": "float", "boolean": "boolean",
               "date": "date", "datetime": "datetime", "localdatetime": "datetime"}
LIST_TYPE = {"string": "string_list", "integer": "integer_list", "float": "float_list",
             "boolean": "boolean_list", "date": "date_list"}
NUMERIC = {"integer", "float"}


@dataclass
class Inferred:
    """What a folder declares beyond the workspace's schema, and the extension file's text."""
    labels: dict[str, dict[str, str]] = field(default_factory=dict)      # label -> new properties
    new_labels: set[str] = field(default_factory=set)
    types: dict[str, dict] = field(default_factory=dict)                 # type -> {from, to, properties}
    new_types: set[str] = field(default_factory=set)
    lookups: list[str] = field(default_factory=list)                     # named :ID properties

    @property
    def empty(self) -> bool:
        return not (self.labels or self.types or self.lookups)

    def summary(self) -> list[str]:
        out = []
        for lab, props in sorted(self.labels.items()):
            what = "new label" if lab in self.new_labels else "label"
            out.append(f"{what} {lab}" + (f": {', '.join(f'{p} ({t})' for p, t in props.items())}" if props else ""))
        for typ, body in sorted(self.types.items()):
            what = "new relationship type" if typ in self.new_types else "relationship type"
            ends = f"({'|'.join(body['from'])})-[:{typ}]->({'|'.join(body['to'])})"
            props = body["properties"]
            out.append(f"{what} {ends}" + (f": {', '.join(f'{p} ({t})' for p, t in props.items())}" if props else ""))
        if self.lookups:
            out.append(f"lookup index on {', '.join(self.lookups)} (the :ID columns)")
        return out


def _prop_type(ntype: str | None, source: str, column: str) -> str:
    t = ntype or ""
    base = t[:-2] if t.endswith("[]") else t
    st = SCHEMA_TYPE.get(base)
    if st is None:   # _header_columns already refused unknown and unsupported types
        raise SourceError(f"no property type for :{t}", file=source, column=column)
    if t.endswith("[]"):
        if st not in LIST_TYPE:
            raise SourceError(f"lists of {base} are not supported (use string[], a number[], boolean[] or date[])",
                              file=source, column=column)
        return LIST_TYPE[st]
    return st


class _Types:
    """One type per property name: widened where numbers meet, else an error naming both places."""

    def __init__(self, known: dict[str, str], schema_file: str, what: str):
        self.types = dict(known)
        self.where = {p: f"the workspace schema ({Path(schema_file.split(' + ')[-1]).name})" for p in known}
        self.known = set(known)
        self.what = what

    def add(self, prop: str, typ: str, ntype: str | None, source: str, column: str) -> None:
        old = self.types.get(prop)
        if old is None or old == typ:
            self.types.setdefault(prop, typ)
            self.where.setdefault(prop, f"{Path(source).name} column {column!r}")
            return
        if prop in self.known:
            # the workspace's type stands if the header's values fit it (an int into a float …)
            if ntype is None or ntype in COMPATIBLE.get(old, ()):
                return
        elif {old, typ} <= NUMERIC:
            self.types[prop] = "float"
            return
        raise SourceError(
            f"{self.what} {prop!r} is {typ} here but {old} in {self.where[prop]}; a property name has one type "
            "in a workspace: rename one of the columns (or make their types agree) before loading",
            file=source, column=column)


def _json_list_type(values: list[str]) -> str | None:
    """The list type of a column whose every non-empty value is a JSON list (how APOC's export
    writes list properties without typing the header); None for any other column."""
    import json

    kinds: set[str] = set()
    seen = False
    for v in values:
        v = v.strip()
        if not v:
            continue
        if not v.startswith("["):
            return None
        try:
            items = json.loads(v)
        except ValueError:
            return None
        if not isinstance(items, list):
            return None
        seen = True
        for x in items:
            kinds.add("boolean" if isinstance(x, bool) else "integer" if isinstance(x, int)
                      else "float" if isinstance(x, float) else "string" if isinstance(x, str) else "other")
    if not seen or "other" in kinds:
        return None if not seen else "string_list"
    if kinds <= {"integer"}:
        return "integer_list" if kinds else "string_list"
    if kinds <= {"integer", "float"}:
        return "float_list"
    return "boolean_list" if kinds == {"boolean"} else "string_list"


def _typed(columns, spec: FileSpec) -> dict[str, str]:
    """Schema types of property columns; untyped columns holding JSON lists are lists."""
    untyped = [c for c in columns if c.kind == "prop" and c.ntype is None]
    found = {}
    if untyped:
        rows = _cells(spec, [c.index for c in untyped])
        for k, c in enumerate(untyped):
            found[c.name] = _json_list_type([row[k] for row in rows])
    return {c.name: found.get(c.name) or _prop_type(c.ntype if c.kind == "prop" else None, spec.header_source,
                                                     c.header) for c in columns}


def _cells(spec: FileSpec, columns: list[int]) -> list[list[str]]:
    """The values of some columns of every data row of a file (as text)."""
    text = _read_text(spec.data)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=False)
    skip = spec.header_line if spec.header_file is None else 0
    out = []
    for row in reader:
        if reader.line_num <= skip or not row or (len(row) == 1 and not row[0].strip()):
            continue
        if spec.header_file is not None and [c.strip() for c in row] == spec.headers:
            continue
        out.append([row[k] if k < len(row) else "" for k in columns])
    return out


def infer_schema(folder: str | Path, schema: Schema) -> Inferred:
    """What ``folder`` declares that ``schema`` (the workspace's) lacks."""
    specs = _plan(Path(folder), None)
    node_types = _Types(schema.node_properties, schema.file, "node property")
    rel_types = _Types(schema.rel_properties, schema.file, "relationship property")
    labels_of: dict[str, set[str]] = {}             # node key -> labels
    label_props: dict[str, set[str]] = {}            # label -> property names seen on it
    out = Inferred()
    for spec in (s for s in specs if s.kind == "node"):
        idc = spec.col("id")
        space = idc.space or GLOBAL_SPACE
        label_cols = [c.index for c in spec.cols("label")]
        props = [c for c in spec.columns if c.kind == "prop" or (c.kind == "id" and c.name)]
        types = _typed(props, spec)
        for c in props:
            node_types.add(c.name, types[c.name], c.ntype if c.kind == "prop" else None, spec.header_source,
                           c.header.strip())
            if c.kind == "id" and c.name not in schema.lookups and c.name not in out.lookups:
                out.lookups.append(c.name)      # what the export's own queries look nodes up by
        file_labels: set[str] = set()
        for row in _cells(spec, [idc.index] + label_cols):
            labs = {x.strip() for cell in row[1:] for x in cell.split(ARRAY_DELIMITER) if x.strip()}
            if spec.label_from_name:
                labs.add(spec.label_from_name)
            labels_of.setdefault(f"{space}:{row[0].strip()}", set()).update(labs)
            file_labels |= labs
        for lab in file_labels:
            label_props.setdefault(lab, set()).update(c.name for c in props)
    ends: dict[str, dict[str, set[str]]] = {}
    for spec in (s for s in specs if s.kind == "rel"):
        start, end, typc = spec.col("start_id"), spec.col("end_id"), spec.col("type")
        props = [c for c in spec.cols("prop") if c.name not in ("valid_from", "valid_to")]
        types = _typed(props, spec)
        for c in props:
            rel_types.add(c.name, types[c.name], c.ntype, spec.header_source, c.header.strip())
        cols = [start.index, end.index] + ([typc.index] if typc else [])
        for row in _cells(spec, cols):
            typ = row[2].strip() if typc else spec.type_from_name
            if not typ:
                continue
            body = ends.setdefault(typ, {"from": set(), "to": set(), "props": set()})
            body["from"] |= labels_of.get(f"{start.space or GLOBAL_SPACE}:{row[0].strip()}", set())
            body["to"] |= labels_of.get(f"{end.space or GLOBAL_SPACE}:{row[1].strip()}", set())
            body["props"] |= {c.name for c in props}

    out.lookups.sort()
    for lab, props in label_props.items():
        have = schema.labels[lab].properties if lab in schema.labels else {}
        new = {p: node_types.types[p] for p in sorted(props) if p not in have}
        if lab not in schema.labels:
            out.new_labels.add(lab)
        if new or lab not in schema.labels:
            out.labels[lab] = new
    for typ, body in ends.items():
        old = schema.rel_types.get(typ)
        frm = sorted(body["from"] - set(old.from_labels if old else ()))
        to = sorted(body["to"] - set(old.to_labels if old else ()))
        props = {p: rel_types.types[p] for p in sorted(body["props"]) if not old or p not in old.properties}
        if old is None:
            if not body["from"] or not body["to"]:
                continue   # no row joined nodes of this load: the load itself reports those rows
            out.new_types.add(typ)
        if old is None or frm or to or props:
            out.types[typ] = {"from": frm, "to": to, "properties": props}
    return out


def extension_yaml(inferred: Inferred, kept: dict | None) -> str:
    """The workspace schema file: what the workspace kept before plus what ``inferred`` adds."""
    data = {"labels": dict((kept or {}).get("labels") or {}),
            "relationships": dict((kept or {}).get("relationships") or {})}
    for lab, props in inferred.labels.items():
        body = dict(data["labels"].get(lab) or {})
        if lab in inferred.new_labels and "title" not in body:
            body["title"] = {"zh": lab, "en": lab}
        if props:
            body["properties"] = {**(body.get("properties") or {}), **props}
        data["labels"][lab] = body
    for typ, ends in inferred.types.items():
        body = dict(data["relationships"].get(typ) or {})
        if typ in inferred.new_types and "title" not in body:
            body["title"] = {"zh": typ, "en": typ.lower().replace("_", " ")}
        for end in ("from", "to"):
            if ends[end] or typ in inferred.new_types:
                body[end] = sorted(set(body.get(end) or []) | set(ends[end]))
        if ends["properties"]:
            body["properties"] = {**(body.get("properties") or {}), **ends["properties"]}
        data["relationships"][typ] = body
    lookups = list((kept or {}).get("lookups") or [])
    lookups += [p for p in inferred.lookups if p not in lookups]
    if lookups:
        data["lookups"] = lookups
    head = ("# this workspace's additions to graphwatch's packaged schema, inferred from a neo4j-admin\n"
            "# import folder by 'graphwatch load --infer-schema' (edit freely: it may only grow)\n")
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def infer_into(ws, folder: str | Path) -> Inferred:
    """Infer ``folder``'s schema and make it part of the workspace ``ws`` (its schema.yaml)."""
    inferred = infer_schema(folder, ws.schema)
    if inferred.empty:
        return inferred
    kept_file = ws.path / WORKSPACE_SCHEMA
    kept = yaml.safe_load(kept_file.read_text(encoding="utf-8")) if kept_file.exists() else None
    draft = ws.path / ".schema-inferred.yaml"
    draft.write_text(extension_yaml(inferred, kept), encoding="utf-8")
    try:
        ws.use_schema(draft)
    finally:
        draft.unlink(missing_ok=True)
    return inferred
