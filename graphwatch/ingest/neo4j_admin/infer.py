"""Infer a workspace schema from a neo4j-admin import folder (``graphwatch load --infer-schema``).

Any Neo4j export should load unchanged, with its own labels, relationship types and typed
properties. The headers declare the property types (``:int``, ``:double``, ``:date``,
arrays ``[]``); the rows declare the labels (``:LABEL`` cells, else the file name), the
relationship types (``:TYPE`` cells, else the file name) and which labels each type joins
(the labels of its start and end nodes, found through the node files' ids). An untyped column
whose every value is a JSON list (``[1,2]``, ``["a","b"]``: how APOC's ``bulkImport`` export
writes list properties) is a list of the elements' type.

Which schema the export's goes into:

* a workspace with no data and no schema of its own (a new one) gets the export's own schema,
  ``standalone`` (:mod:`graphwatch.schema`): graphwatch's domain model is no part of it, so
  an export whose ``Person`` has a ``phone:long`` or a ``status:int`` keeps them as they are,
  and a ``:double`` stays a float wherever the domain model keeps money as a decimal;
* a workspace holding such a schema grows it with what a later export adds;
* a workspace holding the domain model (data loaded by mappings, or a ``--schema``) gets the
  export's labels, types and properties added to it — where the export types a property
  the workspace already has differently (``:double`` for a decimal, ``:int`` for a float or
  a text), the load is refused naming both places (the packaged schema by its full path),
  since the workspace cannot hold both types and must not narrow the export's values.

A property name has one type in a workspace (nodes live in one wide table, relationships in
another). Within one export, whole and decimal numbers of one name widen to float — reported,
and a whole number a float cannot hold exactly is quarantined when loaded, never rounded; any
other disagreement is a :class:`~graphwatch.exc.SourceError` naming both places.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...exc import SourceError
from ...schema import WORKSPACE_SCHEMA, Schema, declared_in, parse_schema, workspace_schema
from .header import ARRAY_DELIMITER, GLOBAL_SPACE, FileSpec, _plan, _read_text

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
    standalone: bool = False                                             # the export's own schema, alone
    notes: list[str] = field(default_factory=list)                       # widened numbers

    @property
    def empty(self) -> bool:
        return not (self.labels or self.types or self.lookups)

    def summary(self) -> list[str]:
        out = ["the export's own schema: graphwatch's domain model (the packaged schema) is not part of this "
               "workspace"] if self.standalone and not self.empty else []
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
        return out + self.notes


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
    """One type per property name (nodes, or relationships). A name the base schema has keeps
    its type where the header declares exactly that type or leaves the column untyped (read as
    that type, as a load without --infer-schema reads it); within the export, whole and decimal
    numbers widen to float; anything else is an error naming both places."""

    def __init__(self, base: Schema, rel: bool):
        self.base, self.rel = base, rel
        self.types = dict(base.rel_properties if rel else base.node_properties)
        self.known = set(self.types)
        self.where: dict[str, str] = {}
        self.numbers: dict[str, dict[str, str]] = {}    # prop -> {integer|float: first place}
        self.what = "relationship property" if rel else "node property"

    def add(self, prop: str, typ: str, ntype: str | None, spec: FileSpec, column: str) -> None:
        place = f"{spec.header_source} column {column!r}"
        if prop not in self.known and typ in NUMERIC:
            self.numbers.setdefault(prop, {}).setdefault(typ, place)
        old = self.types.get(prop)
        if old is None or old == typ:
            self.types.setdefault(prop, typ)
            self.where.setdefault(prop, place)
            return
        if prop in self.known:
            if ntype is None:
                return
            where = declared_in(self.base, prop, rel=self.rel)
            fix = ("this workspace holds graphwatch's domain model, and the export's values must not be "
                   "narrowed to it: load the export into a new workspace (it then keeps the export's own "
                   "schema), or make the types agree") if not self.base.standalone else (
                   "rename the column, or make the types agree")
        elif {old, typ} <= NUMERIC:
            self.types[prop] = "float"
            return
        else:
            where, fix = self.where[prop], "rename one of the columns, or make their types agree"
        raise SourceError(f"{self.what} {prop!r} is {typ} here but {old} in {where}; a property name has one "
                          f"type in a workspace: {fix}", file=spec.header_source, line=spec.header_line,
                          column=column)

    def widened(self) -> list[str]:
        """Notes on the names whose whole and decimal numbers share one float column."""
        table = "relationships of every type" if self.rel else "nodes of every label"
        return [f"{self.what} {p!r}: whole numbers in {kinds['integer']} and decimal numbers in {kinds['float']} "
                f"share one column ({table} live in one table): stored as float, so a whole number reads back "
                f"as e.g. 5.0 (one a float cannot hold exactly is quarantined, never rounded)"
                for p, kinds in sorted(self.numbers.items()) if len(kinds) == 2]


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
    """What ``folder`` declares that ``schema`` (the workspace's, or an empty standalone one for
    a new workspace) lacks."""
    specs = _plan(Path(folder), None)
    node_types, rel_types = _Types(schema, rel=False), _Types(schema, rel=True)
    labels_of: dict[str, set[str]] = {}             # node key -> labels
    label_props: dict[str, set[str]] = {}            # label -> property names seen on it
    out = Inferred(standalone=schema.standalone)
    for spec in (s for s in specs if s.kind == "node"):
        idc = spec.col("id")
        space = idc.space or GLOBAL_SPACE
        label_cols = [c.index for c in spec.cols("label")]
        props = [c for c in spec.columns if c.kind == "prop" or (c.kind == "id" and c.name)]
        types = _typed(props, spec)
        for c in props:
            node_types.add(c.name, types[c.name], c.ntype if c.kind == "prop" else None, spec, c.header.strip())
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
            rel_types.add(c.name, types[c.name], c.ntype, spec, c.header.strip())
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
    out.notes = node_types.widened() + rel_types.widened()
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
    if inferred.standalone:
        head = ("# this workspace's schema: a neo4j-admin export's own labels, types and properties, inferred\n"
                "# by 'graphwatch load --infer-schema'; standalone: graphwatch's packaged domain model is not\n"
                "# part of it (edit freely: it may only grow)\n")
        data = {"standalone": True, **data}
    else:
        head = ("# this workspace's additions to graphwatch's packaged schema, inferred from a neo4j-admin\n"
                "# import folder by 'graphwatch load --infer-schema' (edit freely: it may only grow)\n")
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _fresh(ws) -> bool:
    """True for a workspace with no data and no schema of its own: it takes the export's schema."""
    if (ws.path / WORKSPACE_SCHEMA).exists():
        return False
    n, = ws.con.execute("SELECT (SELECT count(*) FROM load_report) + (SELECT count(*) FROM node_record) "
                        "+ (SELECT count(*) FROM rel)").fetchone()
    return n == 0


def _take_schema(ws, draft: Path) -> None:
    """Make the standalone ``draft`` the schema of a workspace with no data yet. Its empty node and
    relationship tables were made from the packaged schema (``phone VARCHAR`` …) and a new schema
    only adds columns (:meth:`~graphwatch.store.Workspace.use_schema`), so they are made again,
    from the export's schema, in one transaction."""
    parse_schema(draft)             # a mistake is reported before anything changes
    before, kept = ws.schema, ws.path / WORKSPACE_SCHEMA
    ws.con.execute("BEGIN TRANSACTION")
    try:
        ws.con.execute("DROP VIEW IF EXISTS rel_with_keys")
        for table in ("node_record", "node", "rel"):
            ws.con.execute(f"DROP TABLE IF EXISTS {table}")
        ws.use_schema(draft)        # keeps it as WS/schema.yaml and makes the tables
        ws.con.execute("COMMIT")
    except BaseException:
        ws.con.execute("ROLLBACK")
        kept.unlink(missing_ok=True)
        ws.schema = before
        raise


def infer_into(ws, folder: str | Path) -> Inferred:
    """Infer ``folder``'s schema and make it the workspace's (its schema.yaml): the export's own,
    standalone, in a workspace with no data yet; else added to the schema the workspace has."""
    fresh = _fresh(ws)
    kept_file = ws.path / WORKSPACE_SCHEMA
    base = Schema({}, {}, file=str(kept_file), standalone=True) if fresh else ws.schema
    inferred = infer_schema(folder, base)
    if inferred.empty:
        return inferred
    kept = yaml.safe_load(kept_file.read_text(encoding="utf-8")) if kept_file.exists() else None
    draft = ws.path / ".schema-inferred.yaml"
    draft.write_text(extension_yaml(inferred, kept), encoding="utf-8")
    try:
        if fresh:
            _take_schema(ws, draft)
        else:
            ws.use_schema(draft)
    finally:
        draft.unlink(missing_ok=True)
    ws.schema = workspace_schema(ws.path)   # read from where it is kept: errors name WS/schema.yaml
    return inferred
