"""Readers: every source becomes a table of text cells with the line (or row) each came from.

Parsing into types happens later, vectorised in DuckDB, so every reader only has to get the
cells and their positions right. Readers never guess silently: the encoding used is reported,
and a whole-file problem raises :class:`SourceError` naming the file and what was expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..exc import SourceError
from .mapping import Mapping, norm_header

#: a longer cell quarantines its row (real registry cells are short; a huge one is corrupt)
MAX_FIELD_CHARS = 65536
CHUNK_ROWS = 200_000
ALT_DELIMITERS = (",", "\t", ";", "|")
SQL_URL = re.compile(r"^[a-z][a-z0-9+]*://")


@dataclass
class RawSource:
    """Cells of one source as text: ``table`` has ``_line`` plus one column per source header."""

    source: str
    format: str
    table: pa.Table
    headers: list[str]                  # as written in the file
    encoding: str | None = None
    sha256: str | None = None
    line_label: str = "line"
    rows_read: int = 0
    errors: list[tuple[int, str | None, str, str]] = field(default_factory=list)  # line, column, reason, raw
    notes: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, path: str, declared: str = "auto") -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding used). UTF-8 (with or without BOM) first,
    then GB18030 (a superset of GBK). Anything else is an error naming the first bad byte."""
    if declared and declared != "auto":
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError) as exc:
            where = _line_of_offset(data, exc.start) if isinstance(exc, UnicodeDecodeError) else None
            raise SourceError(f"cannot decode as declared encoding {declared!r}: {exc}", file=path, line=where) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise SourceError(f"file starts with a UTF-8 BOM but byte {exc.start + 3} is not UTF-8",
                              file=path, line=_line_of_offset(data, exc.start + 3)) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"unreadable encoding: neither UTF-8 (bad byte at offset {utf8_exc.start}) nor GBK/GB18030 "
                f"(bad byte at offset {exc.start}); re-save the file as UTF-8 or declare csv.encoding",
                file=path, line=_line_of_offset(data, utf8_exc.start)) from None


def cell_text(value) -> str | None:
    """A typed cell (Excel, Parquet, SQL) as the text a CSV export would hold.

    Integral floats below 1e15 print without '.0'; larger floats keep their exponent so an
    ID that Excel turned into a number is recognisably mangled, never silently "fixed".
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper() if abs(value) >= 1e15 else repr(value)
    return str(value)


def _table(headers: list[str], lines: list[int], columns: list[list]) -> pa.Table:
    arrays = [pa.array(lines, pa.int64())] + [pa.array(col, pa.string()) for col in columns]
    return pa.Table.from_arrays(arrays, names=["_line"] + [f"c{i}" for i in range(len(headers))])


def _check_headers(headers: list[str], mapping: Mapping, source: str, *, line: int | None = 1,
                   alt_split=None) -> None:
    got = [norm_header(h) for h in headers]
    want = {norm_header(c.header): c for c in mapping.columns}
    dup = sorted({h for h in got if h and got.count(h) > 1})
    if dup:
        raise SourceError(f"duplicate column(s) {dup} in the header", file=source, line=line)
    missing = [c.header for h, c in want.items() if h not in got and not c.optional]
    if missing and alt_split is not None:
        for alt, cells in alt_split():
            if len(cells) > 1 and not [h for h, c in want.items()
                                       if h not in {norm_header(x) for x in cells} and not c.optional]:
                raise SourceError(f"wrong delimiter: the mapping {mapping.name!r} expects "
                                  f"{mapping.csv.get('delimiter', ',')!r} but the header splits on {alt!r}; "
                                  f"set csv.delimiter in {mapping.file}", file=source, line=line)
    if missing:
        raise SourceError(f"missing column(s) {missing}; mapping {mapping.name!r} expects "
                          f"{[c.header for c in mapping.columns]} (found {headers})", file=source, line=line)
    extra = [h for h, g in zip(headers, got) if g and g not in want]
    if extra and mapping.extra_columns == "error":
        raise SourceError(f"unknown column(s) {extra}; mapping {mapping.name!r} expects "
                          f"{[c.header for c in mapping.columns]} (set extra_columns: ignore to skip them)",
                          file=source, line=line)


def read_csv(path: Path, mapping: Mapping) -> RawSource:
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError("file not found", file=source) from None
    if not data.strip():
        raise SourceError(f"empty file; expected a header row with columns "
                          f"{[c.header for c in mapping.columns]}", file=source)
    opts = mapping.csv
    delimiter = opts.get("delimiter", ",")
    text, encoding = decode(data, source, opts.get("encoding", "auto"))
    sha = hashlib.sha256(data).hexdigest()
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quotechar=opts.get("quotechar", '"'), strict=False)
    headers: list[str] | None = None
    header_line = 0
    for row in reader:
        if any(c.strip() for c in row):
            headers = [c.strip() for c in row]
            header_line = reader.line_num
            break
    if headers is None:
        raise SourceError("no header row", file=source)
    start = 0
    for _ in range(header_line - 1):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    first_line = text[start:end if end >= 0 else len(text)].rstrip("\r")

    def alt_split():
        for alt in ALT_DELIMITERS:
            if alt != delimiter:
                yield alt, next(csv.reader([first_line], delimiter=alt))

    _check_headers(headers, mapping, source, line=header_line, alt_split=alt_split)
    n = len(headers)
    quote = opts.get("quotechar", '"')
    if quote not in text and len(delimiter) == 1:
        # no quoting anywhere: every physical line is one row, so a vectorised split keeps the
        # line numbers exact. A UTF-8 file is already the bytes the splitter wants.
        utf8 = {"utf-8": data, "utf-8-sig": data[3:]}.get(encoding) or text.encode("utf-8")
        del data
        table, errors, rows_read = _split_unquoted(text, utf8, header_line, delimiter, headers)
        return RawSource(source, "csv", table, headers, encoding, sha, "line", rows_read, errors)
    del data
    errors: list = []
    chunks: list[pa.Table] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    rows_read = 0
    prev = reader.line_num

    def flush():
        if rows:
            cols = [list(c) for c in zip(*rows)]
            chunks.append(_table(headers, lines[:], cols))
            rows.clear()
            lines.clear()

    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue   # blank line: not a row
            rows_read += 1
            if len(row) != n:
                errors.append((start, None, f"expected {n} fields, found {len(row)} "
                                            f"(delimiter {delimiter!r})", json.dumps(row, ensure_ascii=False)))
                continue
            if max(map(len, row)) > MAX_FIELD_CHARS:
                big = next(i for i, c in enumerate(row) if len(c) > MAX_FIELD_CHARS)
                errors.append((start, headers[big], f"field too large: {len(row[big])} characters "
                                                    f"(limit {MAX_FIELD_CHARS})",
                               json.dumps([c[:200] for c in row], ensure_ascii=False)))
                continue
            rows.append(row)
            lines.append(start)
            if len(rows) >= CHUNK_ROWS:
                flush()
    except csv.Error as exc:
        raise SourceError(f"malformed CSV: {exc}", file=source, line=reader.line_num) from None
    flush()
    table = pa.concat_tables(chunks) if chunks else _table(headers, [], [[] for _ in headers])
    return RawSource(source, "csv", table, headers, encoding, sha, "line", rows_read, errors)


def _line_spans(buf):
    """[start, stop) byte offsets of every physical line of ``buf`` (a numpy uint8 view)."""
    import numpy as np

    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    if starts[-1] == len(buf):            # the file ends with a newline: no empty last line
        starts, stops = starts[:-1], stops[:-1]
    return starts, stops


def _lines_array(utf8: bytes) -> pa.Array:
    """Every physical line of ``utf8`` as an Arrow string array, zero-copy (offsets from numpy)."""
    import numpy as np

    starts, stops = _line_spans(np.frombuffer(utf8, dtype=np.uint8))
    # a LargeString array needs contiguous [start, stop) spans: store each line with its '\n'
    # and strip it in SQL (rtrim of '\r' and '\n')
    offsets = np.concatenate((starts, [stops[-1] if len(stops) else 0])).astype(np.int64)
    return pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets.tobytes()), pa.py_buffer(utf8))


def _well_formed(utf8: bytes, header_line: int, delimiter: str, n: int):
    """If every data line of an unquoted file has exactly ``n`` fields, no line is blank and none
    is long enough to hold a field over the limit, return the number of data lines; else None.

    Counted with numpy over the bytes, so the check costs a fraction of parsing.
    """
    import numpy as np

    buf = np.frombuffer(utf8, dtype=np.uint8)
    starts, stops = _line_spans(buf)
    starts, stops = starts[header_line:], stops[header_line:]
    if not len(starts):
        return 0
    lengths = stops - starts
    if lengths.max() > MAX_FIELD_CHARS or lengths.min() == 0:
        return None
    if (lengths == 1).any() and (buf[starts[lengths == 1]] == 13).any():   # a blank CRLF line
        return None
    delims = np.flatnonzero(buf == ord(delimiter))
    per_line = np.searchsorted(delims, stops) - np.searchsorted(delims, starts)
    return len(starts) if (per_line == n - 1).all() else None


def _parse_well_formed(utf8: bytes, header_line: int, delimiter: str, n: int, rows: int) -> pa.Table:
    """Parse a file :func:`_well_formed` accepted with pyarrow's multithreaded reader; every
    physical line after the header is one row, so row i is line header_line + 1 + i."""
    import numpy as np
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(n)]
    table = pacsv.read_csv(
        pa.BufferReader(utf8),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_line, encoding="utf8"),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False,
                                         newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    if table.num_rows != rows:   # never expected: the numpy check counted the lines
        raise SourceError(f"internal: parsed {table.num_rows} rows but counted {rows} lines")
    lines = pa.array(np.arange(header_line + 1, header_line + 1 + rows, dtype=np.int64))
    return table.combine_chunks().add_column(0, "_line", lines)


def _split_unquoted(text: str, utf8: bytes, header_line: int, delimiter: str, headers: list[str]):
    """Split an unquoted CSV (``text`` and the same content as UTF-8 bytes): returns
    (table of good rows, read errors, rows read).

    Well-formed files (the usual case) go to pyarrow's parser; a file with a ragged, blank or
    oversized line is split line by line in DuckDB so each bad line can be quarantined.
    """
    import duckdb
    import numpy as np
    import pyarrow.compute as pc

    rows = _well_formed(utf8, header_line, delimiter, len(headers))
    if rows is not None:
        return _parse_well_formed(utf8, header_line, delimiter, len(headers), rows), [], rows
    lines = _lines_array(utf8)
    n = len(headers)
    con = duckdb.connect()
    try:
        con.register("lines", pa.table({"_line": pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)), "l": lines}))
        cols = ", ".join(f"p[{i + 1}] AS c{i}" for i in range(n))
        table = con.sql(f"""SELECT _line, {cols}, len(p) AS _n, list_max(list_transform(p, lambda x: length(x))) AS _m
            FROM (SELECT _line, string_split(rtrim(l, chr(13) || chr(10)), $d) AS p FROM lines
                  WHERE _line > $h AND trim(l, chr(13) || chr(10) || ' ') <> '')""",
                        params={"d": delimiter, "h": header_line}).to_arrow_table()
    finally:
        con.close()
    rows_read = table.num_rows
    ok = pc.and_(pc.equal(table["_n"], n), pc.less_equal(table["_m"], MAX_FIELD_CHARS))
    errors = []
    if not pc.all(ok).as_py():
        # rare: rebuild the offending rows' cells from the text for the quarantine
        all_lines = text.split("\n")
        for line, nf in zip(*[c.to_pylist() for c in table.filter(pc.invert(ok)).select(["_line", "_n"])]):
            cells = all_lines[line - 1].rstrip("\r").split(delimiter)
            if nf != n:
                errors.append((line, None, f"expected {n} fields, found {nf} (delimiter {delimiter!r})",
                               json.dumps(cells, ensure_ascii=False)))
            else:
                big = next(i for i, c in enumerate(cells) if len(c) > MAX_FIELD_CHARS)
                errors.append((line, headers[big], f"field too large: {len(cells[big])} characters "
                                                   f"(limit {MAX_FIELD_CHARS})",
                               json.dumps([c[:200] for c in cells], ensure_ascii=False)))
        table = table.filter(ok)
    return table.drop_columns(["_n", "_m"]), errors, rows_read


def _rows_source(source: str, fmt: str, mapping: Mapping, header_rows, data_rows, *, sha: str | None,
                 line_label: str, header_row_no: int | None) -> RawSource:
    headers = [("" if h is None else str(h)).strip() for h in header_rows]
    while headers and not headers[-1]:
        headers.pop()
    _check_headers(headers, mapping, source, line=header_row_no)
    n = len(headers)
    chunks, rows, lines, errors = [], [], [], []
    rows_read = 0
    for line_no, row in data_rows:
        cells = [cell_text(v) for v in row]
        if len(cells) > n:
            tail = cells[n:]
            if any(c not in (None, "") for c in tail):
                rows_read += 1
                errors.append((line_no, None, f"expected {n} cells, found values beyond the header",
                               json.dumps(cells, ensure_ascii=False)))
                continue
            cells = cells[:n]
        cells += [None] * (n - len(cells))
        if all(c is None or not c.strip() for c in cells):
            continue
        rows_read += 1
        big = next((i for i, c in enumerate(cells) if c and len(c) > MAX_FIELD_CHARS), None)
        if big is not None:
            errors.append((line_no, headers[big], f"field too large: {len(cells[big])} characters",
                           json.dumps([(c or "")[:200] for c in cells], ensure_ascii=False)))
            continue
        rows.append(cells)
        lines.append(line_no)
        if len(rows) >= CHUNK_ROWS:
            chunks.append(_table(headers, lines, [list(c) for c in zip(*rows)]))
            rows, lines = [], []
    if rows:
        chunks.append(_table(headers, lines, [list(c) for c in zip(*rows)]))
    table = pa.concat_tables(chunks) if chunks else _table(headers, [], [[] for _ in headers])
    return RawSource(source, fmt, table, headers, None, sha, line_label, rows_read, errors)


def read_excel(path: Path, mapping: Mapping) -> RawSource:
    from python_calamine import CalamineWorkbook

    source = str(path)
    if not path.exists():
        raise SourceError("file not found", file=source)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise SourceError(f"not a readable Excel workbook: {exc}", file=source) from None
    sheet_opt = mapping.excel.get("sheet", 0)
    try:
        sheet = wb.get_sheet_by_index(sheet_opt) if isinstance(sheet_opt, int) else wb.get_sheet_by_name(sheet_opt)
    except Exception:
        raise SourceError(f"no sheet {sheet_opt!r}; sheets are {wb.sheet_names}", file=source) from None
    rows = sheet.to_python(skip_empty_area=False)
    if not rows:
        raise SourceError(f"empty sheet; expected a header row with columns "
                          f"{[c.header for c in mapping.columns]}", file=source)
    # a title row (often merged cells) may sit above the header: the header is the first of
    # the top rows holding most of the mapping's columns
    want = {norm_header(c.header) for c in mapping.columns}
    header_idx = None
    for i, row in enumerate(rows[:20]):
        got = {norm_header(cell_text(v) or "") for v in row}
        if len(want & got) >= max(1, len(want) // 2):
            header_idx = i
            break
    if header_idx is None:
        raise SourceError(f"no header row found in the first 20 rows; mapping {mapping.name!r} expects "
                          f"{[c.header for c in mapping.columns]}", file=source)
    first_row_no = 1 + (sheet.start[0] if getattr(sheet, "start", None) else 0)
    data_rows = ((first_row_no + i, row) for i, row in enumerate(rows) if i > header_idx)
    raw = _rows_source(source, "excel", mapping, rows[header_idx], data_rows, sha=file_sha256(path),
                       line_label="row", header_row_no=first_row_no + header_idx)
    if header_idx:
        raw.notes.append(f"skipped {header_idx} title row(s) above the header")
    return raw


def read_parquet(path: Path, mapping: Mapping) -> RawSource:
    import pyarrow.parquet as pq

    source = str(path)
    if not path.exists():
        raise SourceError("file not found", file=source)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise SourceError(f"not a readable Parquet file: {exc}", file=source) from None
    headers = table.column_names
    rows = ((i + 1, r) for i, r in enumerate(zip(*[c.to_pylist() for c in table.columns])))
    return _rows_source(source, "parquet", mapping, headers, rows, sha=file_sha256(path),
                        line_label="row", header_row_no=None)


def mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def read_sql(url: str, mapping: Mapping) -> RawSource:
    import sqlalchemy as sa

    # a table may be named after '#': sqlite:///county.db#benefit_roll
    url, _, fragment = url.partition("#")
    source = mask_url(url) + (f"#{fragment}" if fragment else "")
    query = None if fragment else mapping.sql.get("query")
    table = fragment or mapping.sql.get("table")
    if not query and not table:
        raise SourceError(f"no table to read: name one after '#' in the URL (…/county.db#table) or set "
                          f"sql.table / sql.query in mapping {mapping.name!r}", file=source)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            # the table name is a declaration in the mapping, quoted by the dialect; no data is formatted in
            stmt = sa.text(query or "SELECT * FROM " + engine.dialect.identifier_preparer.quote(table))
            result = conn.execute(stmt)
            headers = list(result.keys())
            fetched = result.fetchall()
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"database query failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
                          file=source) from None
    rows = ((i + 1, r) for i, r in enumerate(fetched))
    return _rows_source(source, "sql", mapping, headers, rows, sha=None, line_label="row", header_row_no=None)


def detect_format(source: str) -> str:
    if SQL_URL.match(source) and not source.startswith("file://"):
        return "sql"
    suffix = Path(source).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    if suffix == ".parquet":
        return "parquet"
    return "csv"


def read_source(source: str, mapping: Mapping) -> RawSource:
    fmt = detect_format(source)
    if fmt == "sql":
        return read_sql(source, mapping)
    path = Path(source)
    if path.is_dir():
        raise SourceError("is a folder; give the files inside it (or a neo4j-admin import folder)", file=source)
    return {"excel": read_excel, "parquet": read_parquet, "csv": read_csv}[fmt](path, mapping)
