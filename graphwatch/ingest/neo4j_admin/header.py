"""neo4j-admin headers: field types, ID spaces, which file is a node or relationship file,
and how each column maps onto the workspace schema (see the package docstring)."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from ...exc import SourceError
from ...schema import REL_CORE, Schema, did_you_mean
from ..sources import decode

FORMAT = "neo4j-admin"
MAPPING_NAME = "neo4j-admin"
#: node records from neo4j-admin exports rank like a mapping without a declared priority
#: (lower wins): registries of record (priority 10–40) keep precedence over a graph export
PRIORITY = 50
ARRAY_DELIMITER = ";"
GLOBAL_SPACE = "Node"
DELIMITERS = (",", "\t", "|")

_counter = itertools.count()

_HEADER_FIELD = re.compile(
    r"^(?P<name>.*):(?P<type>[A-Za-z_]+)(?:\((?P<space>[^()]*)\))?(?P<array>\[\])?(?P<opts>\{.*\})?$", re.S)
_HEADER_FILE = re.compile(r"^(?P<stem>.+)[-_]header\.csv$", re.I)

STRUCTURAL = {"id", "start_id", "end_id", "label", "type", "ignore"}
INT_RANGES = {"byte": (-2**7, 2**7 - 1), "short": (-2**15, 2**15 - 1), "int": (-2**31, 2**31 - 1),
              "long": (-2**63, 2**63 - 1)}
VALUE_TYPES = set(INT_RANGES) | {"float", "double", "boolean", "string", "char", "date", "datetime",
                                 "localdatetime"}
UNSUPPORTED = {"time", "localtime", "duration", "point", "vector"}

#: schema type -> neo4j header types that may load into it
COMPATIBLE = {
    "string": {"string", "char"},
    "integer": {"int", "long", "short", "byte"},
    "float": {"float", "double", "int", "long", "short", "byte"},
    "decimal": {"float", "double", "int", "long", "short", "byte"},
    "boolean": {"boolean"},
    "date": {"date"},
    "datetime": {"datetime", "localdatetime"},
    "string_list": {"string[]", "char[]"},
    "integer_list": {"int[]", "long[]", "short[]", "byte[]"},
    "float_list": {"float[]", "double[]", "int[]", "long[]", "short[]", "byte[]"},
    "boolean_list": {"boolean[]"},
    "date_list": {"date[]"},
}
#: the header type to suggest for each schema type
PREFERRED = {"string": "string", "integer": "long", "float": "double", "decimal": "double", "boolean": "boolean",
             "date": "date", "datetime": "datetime", "string_list": "string[]", "integer_list": "long[]",
             "float_list": "double[]", "boolean_list": "boolean[]", "date_list": "date[]"}
#: how an untyped column (or a named :ID column) is read for each schema type
UNTYPED_AS = {"string": "string", "integer": "long", "float": "double", "decimal": "double",
              "boolean": "boolean", "date": "date", "datetime": "datetime"}

def node_key_prefix(space: str | None) -> str:
    """The key prefix of ids in ID space ``space``: ``<space>:``, or ``Node:`` without one.

    Why keys are ``<ID space>:<id>``:

    * neo4j-admin keeps ID spaces apart — ``p1`` in ``:ID(Person)`` and ``p1`` in
      ``:ID(Company)`` are two nodes — so the space must be part of the key;
    * an ID space named after a label yields exactly the keys graphwatch's own loaders use
      (``Company:<uscc>``, ``Person:<resident id>``, ``Organisation:<code>``), so a graph
      exported from the same registries merges with registry-loaded nodes instead of
      duplicating them, and a relationship file may point at nodes already in the workspace;
    * the key holds no dataset or file name, so the same id in two files (or two loads)
      is the same node, as neo4j-admin would have it;
    * ids without a space share neo4j-admin's single global space, spelled ``Node``
      (an ID space literally called ``Node`` is therefore the global one).
    """
    return f"{space or GLOBAL_SPACE}:"


def _read_text(path: Path) -> tuple[str, str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    text, encoding = decode(data, str(path))
    return text, encoding, hashlib.sha256(data).hexdigest()


# -- header ------------------------------------------------------------------------------

@dataclass
class Column:
    index: int
    header: str                 # as written
    kind: str                   # id | start_id | end_id | label | type | ignore | prop
    name: str = ""              # property name ("" when none)
    ntype: str | None = None    # declared neo4j type (lower case, "[]" for arrays); None: untyped
    space: str | None = None
    schema_type: str | None = None   # for properties (and valid_from/valid_to: "date")
    read_as: str | None = None       # the neo4j type the text is parsed as


@dataclass
class FileSpec:
    kind: str                   # node | rel
    data: Path
    header_file: Path | None
    headers: list[str]
    header_line: int
    delimiter: str
    columns: list[Column]
    dataset: str
    label_from_name: str | None = None
    type_from_name: str | None = None

    @property
    def header_source(self) -> str:
        return str(self.header_file or self.data)

    def col(self, kind: str) -> Column | None:
        return next((c for c in self.columns if c.kind == kind), None)

    def cols(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]


def _split_field(text: str) -> tuple[str, str | None, str | None, bool, str | None] | None:
    """``name:type(space)[]{opts}`` → (name, type, space, array, opts); None if untyped."""
    m = _HEADER_FIELD.match(text)
    if not m:
        return None
    return m["name"], m["type"], m["space"], bool(m["array"]), m["opts"]


def _is_neo4j_header(cells: list[str]) -> bool:
    for cell in cells:
        parts = _split_field(cell.strip())
        if parts and parts[1].lower() in ("id", "start_id", "end_id"):
            return True
    return False


def _first_row(text: str, delimiter: str) -> tuple[list[str], int] | None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        for row in reader:
            if any(c.strip() for c in row):
                return row, reader.line_num
    except csv.Error:
        return None
    return None


def _sniff_header(text: str) -> tuple[list[str], int, str] | None:
    """The header row, its line and the delimiter; a neo4j-admin header decides the delimiter."""
    first = None
    for d in DELIMITERS:
        got = _first_row(text, d)
        if got is None:
            continue
        if first is None:
            first = (got[0], got[1], d)
        if _is_neo4j_header(got[0]):
            return got[0], got[1], d
    return first


def _peek_text(path: Path, limit: int = 65536, strict: bool = False) -> str:
    """The start of a file as text (whole lines), for reading its header."""
    with open(path, "rb") as f:
        data = f.read(limit)
    if len(data) == limit and b"\n" in data:
        data = data[:data.rindex(b"\n") + 1]
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    if strict:   # let the full reader name the bad byte
        return _read_text(path)[0]
    return data.decode("utf-8", errors="replace")


def _csv_files(folder: Path) -> list[Path]:
    return [f for f in sorted(folder.iterdir())
            if f.is_file() and f.suffix.lower() == ".csv" and not f.name.startswith(".")]


def is_neo4j_admin_folder(path: str | Path) -> bool:
    """True when a CSV file of the folder has a neo4j-admin header (``:ID``, ``:START_ID`` …)."""
    folder = Path(path)
    try:
        if not folder.is_dir():
            return False
        for f in _csv_files(folder):
            got = _sniff_header(_peek_text(f))
            if got and _is_neo4j_header(got[0]):
                return True
    except OSError:
        return False
    return False


def _header_columns(headers: list[str], source: str, line: int) -> tuple[str, list[Column]]:
    """Columns of a header as the header alone declares them; returns (node|rel, columns)."""
    cols: list[Column] = []
    for k, raw in enumerate(headers):
        h = raw.strip()

        def fail(msg: str):
            raise SourceError(msg, file=source, line=line, column=h or f"#{k + 1}")

        parts = _split_field(h)
        if parts is None:
            if ":" in h:
                fail(f"cannot read header field {h!r}: expected name:type, e.g. name:string or :ID(Person)")
            if not h:
                fail("empty header field (name it, or write :IGNORE to skip the column)")
            cols.append(Column(k, raw, "prop", name=h))
            continue
        name, typ, space, array, opts = parts
        t = typ.lower()
        if opts:
            fail(f"header options {opts} are not supported")
        if t not in STRUCTURAL | VALUE_TYPES | UNSUPPORTED:
            fail(f"unknown field type {typ!r}{did_you_mean(t, sorted(STRUCTURAL | VALUE_TYPES))}")
        if t in UNSUPPORTED:
            fail(f"field type {typ!r} has no graphwatch property type (use string, a number, boolean, "
                 f"date or datetime)")
        if space is not None and t not in ("id", "start_id", "end_id"):
            fail(f"only :ID, :START_ID and :END_ID take an ID space, not :{typ}")
        if array and t in STRUCTURAL:
            fail(f":{typ} cannot be an array")
        if t in STRUCTURAL:
            cols.append(Column(k, raw, t, name=name.strip(),
                               space=(space.strip() or None) if space is not None else None))
        else:
            if not name.strip():
                fail(f"a :{typ} field needs a property name, e.g. name:{typ}")
            cols.append(Column(k, raw, "prop", name=name.strip(), ntype=t + ("[]" if array else "")))

    kinds = [c.kind for c in cols]
    first = {kind: next((c for c in cols if c.kind == kind), None) for kind in STRUCTURAL}
    if "id" in kinds and ("start_id" in kinds or "end_id" in kinds):
        raise SourceError("header has both :ID and :START_ID/:END_ID: a file holds either nodes or relationships",
                          file=source, line=line, column=first["id"].header.strip())
    if "id" in kinds:
        kind = "node"
        if first["type"]:
            raise SourceError(":TYPE belongs in a relationship file, not a node file",
                              file=source, line=line, column=first["type"].header.strip())
        if kinds.count("id") > 1:
            raise SourceError("more than one :ID column", file=source, line=line,
                              column=[c for c in cols if c.kind == "id"][1].header.strip())
    elif "start_id" in kinds or "end_id" in kinds:
        kind = "rel"
        for need in ("start_id", "end_id"):
            n = kinds.count(need)
            if n != 1:
                raise SourceError(f"a relationship file needs exactly one :{need.upper()} column (found {n})",
                                  file=source, line=line)
        if first["label"]:
            raise SourceError(":LABEL belongs in a node file, not a relationship file",
                              file=source, line=line, column=first["label"].header.strip())
        if kinds.count("type") > 1:
            raise SourceError("more than one :TYPE column", file=source, line=line)
    elif "label" in kinds:
        raise SourceError("a node file needs an :ID column (graphwatch keys every node by its id)",
                          file=source, line=line, column=first["label"].header.strip())
    else:
        raise SourceError("not a neo4j-admin import file: its header has no :ID column (node file) nor "
                          ":START_ID and :END_ID columns (relationship file)", file=source, line=line)

    return kind, cols


def _check_columns(kind: str, cols: list[Column], source: str, line: int, schema: Schema) -> None:
    """Properties exist in the schema, with a compatible type, once per file; sets each
    column's schema type and the neo4j type its text is read as."""
    props = schema.node_properties if kind == "node" else {**schema.rel_properties, **{c: "date" for c in REL_CORE}}
    seen: dict[str, Column] = {}
    for c in cols:
        named_id = kind == "node" and c.kind == "id" and c.name
        if c.kind != "prop" and not named_id:
            continue
        h = c.header.strip()
        if c.name not in props:
            what = "node property" if kind == "node" else "relationship property"
            raise SourceError(f"unknown {what} {c.name!r}{did_you_mean(c.name, props)} "
                              f"(properties must be declared in {Path(schema.file).name or 'the schema'})",
                              file=source, line=line, column=h)
        if c.name in seen:
            raise SourceError(f"property {c.name!r} appears twice (also in column {seen[c.name].header.strip()!r})",
                              file=source, line=line, column=h)
        seen[c.name] = c
        st = props[c.name]
        c.schema_type = st
        if c.ntype is None:
            # an untyped list column holds JSON lists ([1,2], ["a","b"]), as APOC's export writes them
            c.read_as = "json" if st.endswith("_list") else UNTYPED_AS[st]
        else:
            if c.ntype not in COMPATIBLE[st]:
                hint = f"declare the column as {c.name}:{PREFERRED[st]}" + (
                    " (or leave it untyped)" if not st.endswith("_list") else "")
                raise SourceError(f"type mismatch: the header declares :{c.ntype} but the schema declares "
                                  f"{c.name!r} as {st}; {hint}", file=source, line=line, column=h)
            c.read_as = c.ntype


def _plan(folder: Path, schema: Schema | None) -> list[FileSpec]:
    """Every data file of the folder with its header. With ``schema=None`` (schema inference)
    properties are not checked and a file name without :LABEL / :TYPE is taken as given."""
    files = _csv_files(folder)
    if not files:
        raise SourceError("no CSV files in the folder", file=str(folder))
    headers = {f: m["stem"] for f in files if (m := _HEADER_FILE.match(f.name))}
    owner: dict[Path, Path] = {}
    for f in files:
        if f in headers:
            continue
        best = None
        for hf, stem in headers.items():
            if f.name == stem + f.suffix or (f.name.startswith(stem) and len(f.name) > len(stem)
                                              and f.name[len(stem)] in "-_."):
                if best is None or len(stem) > len(headers[best]):
                    best = hf
        if best is not None:
            owner[f] = best

    specs: list[FileSpec] = []
    parsed: dict[Path, tuple] = {}
    for hf in headers:
        if hf not in owner.values():
            raise SourceError(f"header file with no data files (expected files named "
                              f"{headers[hf]}_*.csv or {headers[hf]}-*.csv next to it)", file=str(hf))
    for f in files:
        if f in headers:
            continue
        hf = owner.get(f)
        src = hf or f
        if src not in parsed:
            got = _sniff_header(_peek_text(src, strict=True))
            if got is None:
                raise SourceError("empty file: expected a neo4j-admin header row", file=str(src))
            cells, line, delim = got
            kind, cols = _header_columns(cells, str(src), line)
            if schema is not None:
                _check_columns(kind, cols, str(src), line, schema)
            parsed[src] = (cells, line, delim, kind, cols)
        cells, line, delim, kind, cols = parsed[src]
        stem = headers[hf] if hf else f.stem
        spec = FileSpec(kind, f, hf, [c.strip() for c in cells], line, delim,
                        [Column(**vars(c)) for c in cols], f"neo4j-admin/{folder.name}/{f.name}")
        if kind == "node" and not spec.cols("label"):
            if schema is not None and stem not in schema.labels:
                raise SourceError(f"no :LABEL column, and the file name {stem!r} is not a label"
                                  f"{did_you_mean(stem, schema.labels)}; add a :LABEL column",
                                  file=spec.header_source, line=line)
            spec.label_from_name = stem
        if kind == "rel" and not spec.col("type"):
            if schema is not None and stem not in schema.rel_types:
                raise SourceError(f"no :TYPE column, and the file name {stem!r} is not a relationship type"
                                  f"{did_you_mean(stem, schema.rel_types)}; add a :TYPE column",
                                  file=spec.header_source, line=line)
            spec.type_from_name = stem
        specs.append(spec)
    return specs


