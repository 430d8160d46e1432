"""Load a folder in the neo4j-admin import CSV format (``neo4j-admin database import``).

A folder is in this format when its CSV headers say so: a file whose header has an ``:ID``
(or ``name:ID(Space)``) column is a node file; one with ``:START_ID`` and ``:END_ID``
columns is a relationship file. No mapping is needed — the header declares everything —
but every label, relationship type and property must exist in graphwatch's schema
(``graphwatch/schema.yaml``), and a declared type must fit the schema's type.

Header fields are ``name:type``:

* ``:ID`` / ``name:ID(Space)`` — the node id, in an ID space (neo4j-admin's global space
  without one); when named, the id is also stored as property ``name``
* ``:LABEL`` — labels, ``;``-separated (``Person;Official``); several columns add up
* ``:START_ID(Space)`` / ``:END_ID(Space)`` — a relationship's end node ids; ``:TYPE`` its type
* ``name`` (untyped) — a property read as the schema's type (neo4j-admin would read text)
* ``name:string`` / ``:char`` — text, into string properties
* ``name:int`` / ``:long`` / ``:short`` / ``:byte`` — whole numbers (range-checked), into
  integer, float or decimal properties
* ``name:float`` / ``:double`` — numbers, into float or decimal properties (never integer:
  nothing is silently rounded)
* ``name:boolean`` — ``true`` / ``false`` in any case; anything else is quarantined
* ``name:date`` — ``YYYY-MM-DD`` or ``YYYYMMDD``
* ``name:datetime`` — ``YYYY-MM-DD[THH:MM[:SS[.fff]]]`` with an optional ``Z``, offset or
  ``[zone]``: the wall-clock time is kept and the zone dropped (graphwatch datetimes are local
  times), and the load notes say how many values had one; ``name:localdatetime`` — no zone
* ``name:string[]`` — a ``;``-separated list, only into ``string_list`` properties
* ``:IGNORE`` / ``name:IGNORE`` — the column is skipped
* ``valid_from`` / ``valid_to`` (untyped or ``:date``) on relationships — the relationship's
  built-in validity dates

Refused with a :class:`~graphwatch.exc.SourceError`: ``time``, ``localtime``, ``duration``,
``point`` and ``vector`` fields, other arrays, header options ``{…}``, node files without
``:ID``, and headers that name no ``:ID`` / ``:START_ID`` + ``:END_ID`` at all.

Files: ``X_header.csv`` / ``X-header.csv`` holds the header of the data files ``X.csv``,
``X_*.csv``, ``X-*.csv`` (which then have no header row); every other CSV carries its own
header on its first line. A node file without a ``:LABEL`` column takes its label from its
file name (``Person.csv``, ``Person_header.csv``) when that is a schema label; likewise a
relationship file without ``:TYPE`` (``LEGAL_REP_OF.csv``). The delimiter is ``,`` (a
header that only splits on tab or ``|`` selects that instead); fields may be quoted and
hold delimiters and newlines. An empty field is an absent property, as in neo4j-admin.

Each data file is one dataset, ``neo4j-admin/<folder>/<file>``, and one
:class:`~graphwatch.store.Batch`. A whole-file problem (an unknown label, type or property,
a type mismatch, a malformed header) raises :class:`~graphwatch.exc.SourceError` naming the
file, line and header column before anything is written. A bad row is quarantined with its
line (the row's first physical line; a header row is line 1), column and reason: a value
that does not parse, a missing id, a duplicate id in its ID space, a property the row's
labels (or type) do not declare, a relationship whose end nodes' labels the type does not
join, a wrong field count, and — found at commit — a relationship to an id that no node file
of this load and no node already in the workspace has. Rows read = loaded + quarantined.

Node keys are ``<ID space>:<id>``, ``Node:<id>`` for ids without a space — see
:func:`node_key_prefix` for why.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..exc import SourceError
from ..schema import REL_CORE, SQL_TYPES, Schema, did_you_mean
from ..store import Batch, Workspace, q, quarantine_rows, quarantine_table
from .pipeline import Params
from .sources import MAX_FIELD_CHARS, decode

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
}
#: the header type to suggest for each schema type
PREFERRED = {"string": "string", "integer": "long", "float": "double", "decimal": "double", "boolean": "boolean",
             "date": "date", "datetime": "datetime", "string_list": "string[]"}
#: how an untyped column (or a named :ID column) is read for each schema type
UNTYPED_AS = {"string": "string", "integer": "long", "float": "double", "decimal": "double",
              "boolean": "boolean", "date": "date", "datetime": "datetime"}

_INT_RE = r"[+-]?[0-9]+"
_FLOAT_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATETIME_RE = (r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?))?"
                r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?(\[[^\]]+\])?")
_LOCAL_DATETIME_RE = r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?))?"

_REASONS = {
    "byte": "not a byte: {} (expected a whole number from -128 to 127)",
    "short": "not a short: {} (expected a whole number from -32768 to 32767)",
    "int": "not an int: {} (expected a 32-bit whole number)",
    "long": "not a long: {} (expected a whole number)",
    "float": "not a float: {} (expected a number such as 12.5)",
    "double": "not a double: {} (expected a number such as 12.5)",
    "boolean": "not a boolean: {} (expected true or false)",
    "date": "not a date: {} (expected YYYY-MM-DD)",
    "datetime": "not a datetime: {} (expected YYYY-MM-DDTHH:MM:SS with an optional zone)",
    "localdatetime": "not a localdatetime: {} (expected YYYY-MM-DDTHH:MM:SS)",
}


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


def _parse_columns(headers: list[str], source: str, line: int, schema: Schema) -> tuple[str, list[Column]]:
    """Columns of a header, checked against the schema; returns (node|rel, columns)."""
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

    # properties: exist in the schema, with a compatible type, once per file
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
            if st == "string_list":
                raise SourceError(f"property {c.name!r} is a list (string_list): declare the column as "
                                  f"{c.name}:string[] with {ARRAY_DELIMITER!r}-separated values",
                                  file=source, line=line, column=h)
            c.read_as = UNTYPED_AS[st]
        else:
            if c.ntype not in COMPATIBLE[st]:
                hint = f"declare the column as {c.name}:{PREFERRED[st]}" + (
                    " (or leave it untyped)" if st != "string_list" else "")
                raise SourceError(f"type mismatch: the header declares :{c.ntype} but the schema declares "
                                  f"{c.name!r} as {st}; {hint}", file=source, line=line, column=h)
            c.read_as = c.ntype
    return kind, cols


def _plan(folder: Path, schema: Schema) -> list[FileSpec]:
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
            kind, cols = _parse_columns(cells, str(src), line, schema)
            parsed[src] = (cells, line, delim, kind, cols)
        cells, line, delim, kind, cols = parsed[src]
        stem = headers[hf] if hf else f.stem
        spec = FileSpec(kind, f, hf, [c.strip() for c in cells], line, delim,
                        [Column(**vars(c)) for c in cols], f"neo4j-admin/{folder.name}/{f.name}")
        if kind == "node" and not spec.cols("label"):
            if stem not in schema.labels:
                raise SourceError(f"no :LABEL column, and the file name {stem!r} is not a label"
                                  f"{did_you_mean(stem, schema.labels)}; add a :LABEL column",
                                  file=spec.header_source, line=line)
            spec.label_from_name = stem
        if kind == "rel" and not spec.col("type"):
            if stem not in schema.rel_types:
                raise SourceError(f"no :TYPE column, and the file name {stem!r} is not a relationship type"
                                  f"{did_you_mean(stem, schema.rel_types)}; add a :TYPE column",
                                  file=spec.header_source, line=line)
            spec.type_from_name = stem
        specs.append(spec)
    return specs


# -- reading rows -------------------------------------------------------------------------

def _read_text(path: Path) -> tuple[str, str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    text, encoding = decode(data, str(path))
    return text, encoding, hashlib.sha256(data).hexdigest()


@dataclass
class _Rows:
    table: pa.Table
    rows_read: int
    encoding: str
    sha256: str
    errors: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read_rows(spec: FileSpec) -> _Rows:
    text, encoding, sha = _read_text(spec.data)
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=False)
    n = len(spec.headers)
    lines: list[int] = []
    cells: list[list[str]] = [[] for _ in range(n)]
    errors, notes = [], []
    rows_read = 0
    prev = 0
    skip_to = spec.header_line if spec.header_file is None else 0
    first = True
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if reader.line_num <= skip_to:
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if first and spec.header_file is not None:
                first = False
                if [c.strip() for c in row] == spec.headers:
                    notes.append(f"line {start} repeats the header of {spec.header_file.name}; skipped")
                    continue
                if _is_neo4j_header(row):
                    raise SourceError(f"this file has its own header but its name pairs it with "
                                      f"{spec.header_file.name}; rename one of them", file=str(spec.data), line=start)
            first = False
            rows_read += 1
            if len(row) != n:   # too few: name the first missing column
                errors.append((start, spec.headers[len(row)] if len(row) < n else None,
                               f"expected {n} fields, found {len(row)} (delimiter {spec.delimiter!r})",
                               json.dumps(row, ensure_ascii=False)))
                continue
            big = next((k for k, c in enumerate(row) if len(c) > MAX_FIELD_CHARS), None)
            if big is not None:
                errors.append((start, spec.headers[big], f"field too large: {len(row[big])} characters "
                                                         f"(limit {MAX_FIELD_CHARS})",
                               json.dumps([c[:200] for c in row], ensure_ascii=False)))
                continue
            lines.append(start)
            for k, c in enumerate(row):
                cells[k].append(c)
    except csv.Error as exc:
        raise SourceError(f"malformed CSV: {exc}", file=str(spec.data), line=reader.line_num) from None
    arrays = [pa.array(lines, pa.int64())] + [pa.array(c, pa.string()) for c in cells]
    table = pa.Table.from_arrays(arrays, names=["_line"] + [f"c{k}" for k in range(n)])
    if spec.header_file is not None:
        notes.insert(0, f"header read from {spec.header_file.name}")
    return _Rows(table, rows_read, encoding, sha, errors, notes)


# -- typed parsing (SQL) ------------------------------------------------------------------

def _raw(c: Column) -> str:
    """The cell as text, NULL when empty; typed values are trimmed first."""
    cell = f"c{c.index}"
    if c.read_as in ("string", "char", "string[]", "char[]"):
        return f"NULLIF({cell}, '')"
    return f"NULLIF(trim({cell}), '')"


def _parsed(c: Column, r: str, p: Params) -> str:
    """SQL parsing text ``r`` as ``c.read_as``, cast to the schema type (NULL when it does not parse)."""
    t = c.read_as
    if t in ("string", "char"):
        expr = r
    elif t in ("string[]", "char[]"):
        expr = f"CASE WHEN len(list_filter(string_split({r}, {p.bind(ARRAY_DELIMITER)}), lambda x: x <> '')) > 0 " \
               f"THEN list_filter(string_split({r}, {p.bind(ARRAY_DELIMITER)}), lambda x: x <> '') END"
    elif t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        expr = (f"CASE WHEN regexp_full_match({r}, {p.bind(_INT_RE)}) AND TRY_CAST({r} AS HUGEINT) "
                f"BETWEEN CAST({p.bind(str(lo))} AS HUGEINT) AND CAST({p.bind(str(hi))} AS HUGEINT) "
                f"THEN CAST({r} AS BIGINT) END")
    elif t in ("float", "double"):
        expr = f"CASE WHEN regexp_full_match({r}, {p.bind(_FLOAT_RE)}) THEN TRY_CAST({r} AS DOUBLE) END"
    elif t == "boolean":
        expr = (f"CASE lower({r}) WHEN {p.bind('true')} THEN true WHEN {p.bind('false')} THEN false END")
    elif t == "date":
        expr = (f"CASE WHEN regexp_full_match({r}, {p.bind('[0-9]{4}-[0-9]{2}-[0-9]{2}')}) THEN TRY_CAST({r} AS DATE) "
                f"WHEN regexp_full_match({r}, {p.bind('[0-9]{8}')}) "
                f"THEN CAST(try_strptime({r}, {p.bind('%Y%m%d')}) AS DATE) END")
    elif t in ("datetime", "localdatetime"):
        rx = p.bind(_DATETIME_RE if t == "datetime" else _LOCAL_DATETIME_RE)
        expr = (f"CASE WHEN regexp_full_match({r}, {rx}) THEN TRY_CAST(regexp_extract({r}, {rx}, 1) || ' ' || "
                f"coalesce(NULLIF(regexp_extract({r}, {rx}, 2), ''), {p.bind('00:00:00')}) AS TIMESTAMP) END")
    else:  # pragma: no cover - excluded by _parse_columns
        raise AssertionError(t)
    return f"TRY_CAST({expr} AS {SQL_TYPES[c.schema_type]})"


def _parse_error(c: Column, r: str, value: str, p: Params) -> str | None:
    if c.read_as in ("string", "char", "string[]", "char[]"):
        return None
    before, _, after = _REASONS[c.read_as].partition("{}")
    return f"CASE WHEN {r} IS NOT NULL AND {value} IS NULL THEN {p.bind(before)} || {r} || {p.bind(after)} END"


def _err_struct(errs: list[tuple[str, str]], p: Params) -> str:
    """The first error of a row as STRUCT(column, reason); ``errs`` = [(column header, reason SQL)]."""
    if not errs:
        return "CAST(NULL AS STRUCT(\"column\" VARCHAR, reason VARCHAR))"
    case = "CASE " + " ".join(f"WHEN ({e}) IS NOT NULL THEN {{'column': {p.bind(h)}, 'reason': ({e})}}"
                              for h, e in errs) + " END"
    return f"CAST({case} AS STRUCT(\"column\" VARCHAR, reason VARCHAR))"


@dataclass
class _Staged:
    spec: FileSpec
    rows: _Rows
    raw_table: str
    stg_table: str


def _stage_nodes(con, st: _Staged, schema: Schema) -> None:
    spec, p = st.spec, Params()
    idc = spec.col("id")
    labels_of = {}   # property -> labels declaring it
    for lab in schema.labels.values():
        for prop in lab.properties:
            labels_of.setdefault(prop, []).append(lab.name)
    label_cols = spec.cols("label")
    if label_cols:
        parts = [f"list_transform(string_split(coalesce(c{c.index}, ''), {p.bind(ARRAY_DELIMITER)}), lambda x: trim(x))"
                 for c in label_cols]
        labels = f"list_sort(list_distinct(list_filter(flatten([{', '.join(parts)}]), lambda x: x <> '')))"
    else:
        labels = f"CAST({p.bind([spec.label_from_name])} AS VARCHAR[])"
    selects = ["_line", f"NULLIF(c{idc.index}, '') AS _id",
               f"{p.bind(node_key_prefix(idc.space))} || NULLIF(c{idc.index}, '') AS _key", f"{labels} AS _labels"]
    errs = [(idc.header.strip(), f"CASE WHEN _id IS NULL THEN {p.bind('missing id')} END")]
    if label_cols:
        errs.append((label_cols[0].header.strip(),
                     f"CASE WHEN len(_labels) = 0 THEN {p.bind('node has no label')} END"))
    for c in spec.columns:
        if c.schema_type is None:
            continue
        r = f"_r{c.index}"
        if c.kind == "id":   # a named id: its text, read as the property's type
            selects.append(f"NULLIF(c{c.index}, '') AS {r}")
        else:
            selects.append(f"{_raw(c)} AS {r}")
        value = _parsed(c, r, p)
        selects.append(f"{value} AS _v{c.index}")
        err = _parse_error(c, r, f"_v{c.index}", p)
        if err:
            errs.append((c.header.strip(), err))
        errs.append((c.header.strip(),
                     f"CASE WHEN _v{c.index} IS NOT NULL AND len(_labels) > 0 AND "
                     f"NOT list_has_any(_labels, CAST({p.bind(labels_of.get(c.name, []))} AS VARCHAR[])) "
                     f"THEN {p.bind(f'property {c.name!r} is not declared for label(s) ')} || "
                     f"array_to_string(_labels, ';') END"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {st.stg_table} AS
        WITH s AS (SELECT {', '.join(selects)} FROM {st.raw_table})
        SELECT *, {_err_struct(errs, p)} AS _err FROM s""", p.values)
    # labels come from the data, but an unknown one means the file does not fit the schema
    for label, line in con.execute(f"""SELECT l, min(_line) FROM (
                                          SELECT _line, unnest(_labels) AS l FROM {st.stg_table})
                                      GROUP BY l ORDER BY min(_line)""").fetchall():
        if label not in schema.labels:
            raise SourceError(f"unknown label {label!r}{did_you_mean(label, schema.labels)}",
                              file=str(spec.data), line=line, column=label_cols[0].header.strip())


def _mark_duplicates(con, staged: list[_Staged], run: str) -> None:
    """A second row with an id already used in its ID space is quarantined (neo4j-admin refuses it too)."""
    if not staged:
        return
    parts, p = [], Params()
    for fi, st in enumerate(staged):
        parts.append(f"SELECT {p.bind(fi)} AS fi, {p.bind(st.spec.data.name)} AS fname, _line, _id, _key "
                     f"FROM {st.stg_table} WHERE _err IS NULL AND _key IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _n4dup{run} AS
        SELECT fi, _line, _id, first_name, first_line FROM (
            SELECT fi, _line, _id, first_value(fname) OVER w AS first_name, first_value(_line) OVER w AS first_line,
                   row_number() OVER w AS n
            FROM ({' UNION ALL '.join(parts)}) WINDOW w AS (PARTITION BY _key ORDER BY fi, _line)) WHERE n > 1""",
                p.values)
    for fi, st in enumerate(staged):
        idc = st.spec.col("id")
        space = idc.space or f"the global ID space ({GLOBAL_SPACE})"
        con.execute(f"""UPDATE {st.stg_table} s SET _err = {{'column': $col,
                            'reason': 'duplicate id ''' || d._id || ''' in ID space ' || $space || ': first at ' ||
                                      d.first_name || ' line ' || d.first_line}}
                        FROM _n4dup{run} d WHERE d.fi = $fi AND d._line = s._line AND s._err IS NULL""",
                    {"col": idc.header.strip(), "space": space, "fi": fi})
    con.execute(f"DROP TABLE _n4dup{run}")


def _stage_rels(con, st: _Staged, schema: Schema, labels_table: str, types_table: str) -> None:
    spec, p = st.spec, Params()
    sc, ec, tc = spec.col("start_id"), spec.col("end_id"), spec.col("type")
    types_of: dict[str, list[str]] = {}
    for rt in schema.rel_types.values():
        for prop in rt.properties:
            types_of.setdefault(prop, []).append(rt.name)
    type_sql = f"NULLIF(trim(c{tc.index}), '')" if tc else p.bind(spec.type_from_name)
    selects = ["_line", f"NULLIF(c{sc.index}, '') AS _src", f"NULLIF(c{ec.index}, '') AS _dst",
               f"{p.bind(node_key_prefix(sc.space))} || NULLIF(c{sc.index}, '') AS _src_key",
               f"{p.bind(node_key_prefix(ec.space))} || NULLIF(c{ec.index}, '') AS _dst_key",
               f"CAST({type_sql} AS VARCHAR) AS _type"]
    errs = [(sc.header.strip(), f"CASE WHEN _src IS NULL THEN {p.bind('missing start id')} END"),
            (ec.header.strip(), f"CASE WHEN _dst IS NULL THEN {p.bind('missing end id')} END")]
    if tc:
        errs.append((tc.header.strip(), f"CASE WHEN _type IS NULL THEN {p.bind('missing relationship type')} END"))
    for c in spec.columns:
        if c.schema_type is None:
            continue
        r = f"_r{c.index}"
        selects.append(f"{_raw(c)} AS {r}")
        value = _parsed(c, r, p)
        selects.append(f"{value} AS _v{c.index}")
        err = _parse_error(c, r, f"_v{c.index}", p)
        if err:
            errs.append((c.header.strip(), err))
        if c.name not in REL_CORE:
            errs.append((c.header.strip(),
                         f"CASE WHEN _v{c.index} IS NOT NULL AND _type IS NOT NULL AND "
                         f"NOT list_contains(CAST({p.bind(types_of.get(c.name, []))} AS VARCHAR[]), _type) "
                         f"THEN {p.bind(f'property {c.name!r} is not declared for ')} || _type END"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {st.stg_table} AS
        WITH s AS (SELECT {', '.join(selects)} FROM {st.raw_table})
        SELECT *, {_err_struct(errs, p)} AS _err FROM s""", p.values)
    for typ, line in con.execute(f"""SELECT _type, min(_line) FROM {st.stg_table} WHERE _type IS NOT NULL
                                     GROUP BY _type ORDER BY min(_line)""").fetchall():
        if typ not in schema.rel_types:
            raise SourceError(f"unknown relationship type {typ!r}{did_you_mean(typ, schema.rel_types)}",
                              file=str(spec.data), line=line, column=tc.header.strip() if tc else None)
    # the type must join the end nodes' labels (when they are known: in the folder or the workspace)
    con.execute(f"""UPDATE {st.stg_table} s SET _err = CASE WHEN NOT x.src_ok THEN
                {{'column': $sh, 'reason': s._type || ' cannot start at a ' || array_to_string(x.sl, ';') ||
                  ' node (the schema allows ' || array_to_string(x.fl, ', ') || ')'}}
            ELSE {{'column': $eh, 'reason': s._type || ' cannot end at a ' || array_to_string(x.dl, ';') ||
                  ' node (the schema allows ' || array_to_string(x.tl, ', ') || ')'}} END
        FROM (SELECT r._line, a.labels AS sl, b.labels AS dl, t.from_labels AS fl, t.to_labels AS tl,
                     (a.labels IS NULL OR list_has_any(a.labels, t.from_labels)) AS src_ok,
                     (b.labels IS NULL OR list_has_any(b.labels, t.to_labels)) AS dst_ok,
                     t.undirected AND (a.labels IS NULL OR list_has_any(a.labels, t.to_labels))
                                  AND (b.labels IS NULL OR list_has_any(b.labels, t.from_labels)) AS rev_ok
              FROM {st.stg_table} r JOIN {types_table} t ON t.type = r._type
              LEFT JOIN {labels_table} a ON a.key = r._src_key LEFT JOIN {labels_table} b ON b.key = r._dst_key
              WHERE r._err IS NULL) x
        WHERE s._line = x._line AND s._err IS NULL AND NOT ((x.src_ok AND x.dst_ok) OR x.rev_ok)""",
                {"sh": sc.header.strip(), "eh": ec.header.strip()})


def _finish(con, st: _Staged, schema: Schema) -> Batch:
    """Node/relationship/reference/quarantine tables of one staged file, in the pipeline's layout."""
    spec, rows, i = st.spec, st.rows, st.stg_table.removeprefix("_n4stg")
    batch = Batch(dataset=spec.dataset, mapping=MAPPING_NAME, source=str(spec.data), format=FORMAT,
                  encoding=rows.encoding, sha256=rows.sha256, rows_read=rows.rows_read, line_label="line",
                  notes=list(rows.notes), raw_table=st.raw_table, raw_headers=list(spec.headers))
    by_name = {c.name: c for c in spec.columns if c.schema_type is not None}
    p = Params()
    ds = p.bind(spec.dataset)
    if spec.kind == "node":
        cols = [f"{ds} AS dataset", "_key AS key", "CAST(_line AS VARCHAR) AS record", "_labels AS labels",
                f"CAST({p.bind(PRIORITY)} AS INTEGER) AS priority", "_line AS line"]
        for prop, typ in schema.node_properties.items():
            c = by_name.get(prop)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::{SQL_TYPES[typ]} AS {q(prop)}")
        batch.node_table = f"_n4nodes{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.node_table} AS SELECT {', '.join(cols)} "
                    f"FROM {st.stg_table} WHERE _err IS NULL", p.values)
    else:
        sc, ec = spec.col("start_id"), spec.col("end_id")
        cols = [f"{ds} AS dataset", f"{ds} || '#' || CAST(_line AS VARCHAR) AS key", "_type AS type",
                "_src_key AS src_key", "_dst_key AS dst_key", "CAST(_line AS VARCHAR) AS record", "_line AS line"]
        for core in REL_CORE:
            c = by_name.get(core)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::DATE AS {q(core)}")
        for prop, typ in schema.rel_properties.items():
            c = by_name.get(prop)
            cols.append(f"{f'_v{c.index}' if c else 'NULL'}::{SQL_TYPES[typ]} AS {q(prop)}")
        batch.rel_table = f"_n4rels{i}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {batch.rel_table} AS SELECT {', '.join(cols)} "
                    f"FROM {st.stg_table} WHERE _err IS NULL", p.values)
        # both ends must exist (checked at commit, against this load and the workspace)
        batch.ref_table = f"_n4refs{i}"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {batch.ref_table} AS
            SELECT {ds} AS dataset, _src_key AS key, _line AS line, {p.bind(sc.header.strip())} AS "column"
            FROM {st.stg_table} WHERE _err IS NULL
            UNION ALL
            SELECT {ds} AS dataset, _dst_key AS key, _line AS line, {p.bind(ec.header.strip())} AS "column"
            FROM {st.stg_table} WHERE _err IS NULL""", p.values)
    batch.quarantine_table = f"_n4quar{i}"
    quarantine_table(con, batch.quarantine_table, rows.errors)
    quarantine_rows(con, batch.quarantine_table,
                    f'(SELECT _line AS line, _err."column" AS "column", _err.reason AS reason FROM {st.stg_table} '
                    f'WHERE _err IS NOT NULL)', st.raw_table, spec.headers)
    # datetimes with a zone keep their wall-clock time
    for c in spec.columns:
        if c.read_as == "datetime":
            n, = con.execute(f"SELECT count(*) FROM {st.stg_table} WHERE _err IS NULL AND "
                             f"regexp_extract(_r{c.index}, $rx, 3) || regexp_extract(_r{c.index}, $rx, 4) <> ''",
                             {"rx": _DATETIME_RE}).fetchone()
            if n:
                batch.notes.append(f"{c.header.strip()}: {n} value(s) carried a time zone; "
                                   "their wall-clock time was kept and the zone dropped")
    return batch


def stage_neo4j_admin(ws: Workspace, path: str | Path) -> list[Batch]:
    """Stage every data file of a neo4j-admin import folder; one :class:`Batch` per file."""
    folder = Path(path)
    con, schema = ws.con, ws.schema
    specs = _plan(folder, schema)
    run = str(next(_counter))
    staged: list[_Staged] = []
    made: list[str] = []
    try:
        for k, spec in enumerate(specs):
            rows = _read_rows(spec)
            st = _Staged(spec, rows, f"_n4raw{run}_{k}", f"_n4stg{run}_{k}")
            name = f"_n4arrow{run}_{k}"
            con.register(name, rows.table)
            made.append(st.raw_table)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {st.raw_table} AS SELECT * FROM {name}")
            con.unregister(name)
            staged.append(st)
        nodes = [st for st in staged if st.spec.kind == "node"]
        rels = [st for st in staged if st.spec.kind == "rel"]
        for st in nodes:
            made.append(st.stg_table)
            _stage_nodes(con, st, schema)
        _mark_duplicates(con, nodes, run)

        labels_table, types_table = f"_n4labels{run}", f"_n4types{run}"
        made += [labels_table, types_table]
        parts = [f"SELECT _key AS key, _labels AS labels FROM {st.stg_table} WHERE _err IS NULL" for st in nodes]
        parts.append("SELECT key, labels FROM node_record WHERE dataset NOT IN (SELECT unnest($ds))")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {labels_table} AS
            SELECT key, list_distinct(flatten(list(labels))) AS labels FROM ({' UNION ALL '.join(parts)})
            GROUP BY key""", {"ds": [s.dataset for s in specs]})
        rts = list(schema.rel_types.values())
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {types_table} AS
            SELECT unnest($names) AS type, unnest($froms) AS from_labels, unnest($tos) AS to_labels,
                   unnest($und) AS undirected""",
                    {"names": [t.name for t in rts], "froms": [list(t.from_labels) for t in rts],
                     "tos": [list(t.to_labels) for t in rts], "und": [t.undirected for t in rts]})
        for st in rels:
            made.append(st.stg_table)
            _stage_rels(con, st, schema, labels_table, types_table)

        batches = []
        for st in staged:
            batch = _finish(con, st, schema)
            made += [t for t in (batch.node_table, batch.rel_table, batch.ref_table, batch.quarantine_table) if t]
            batches.append(batch)
        for t in (labels_table, types_table, *(st.stg_table for st in staged)):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        return batches
    except BaseException:
        for t in made:
            try:
                con.execute(f"DROP TABLE IF EXISTS {t}")
            except duckdb.Error:  # pragma: no cover - best effort clean-up
                pass
        raise
