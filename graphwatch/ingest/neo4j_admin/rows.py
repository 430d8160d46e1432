"""Reading the rows of one neo4j-admin data file: cells as text with their line numbers."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa

from ...exc import SourceError
from ..sources import MAX_FIELD_CHARS
from .header import FileSpec, _is_neo4j_header, _read_text

# -- reading rows -------------------------------------------------------------------------

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


