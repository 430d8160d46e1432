"""Streaming writers: CSV in the declared encoding, Excel in openpyxl's write-only mode.

Values never contain a comma, a quote or a line break (the generator's word lists are
chosen so), so rows are joined without quoting and every row is one physical line: line
numbers recorded in ``_truth/person_records.csv`` are then exact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .spec import FileSpec


class CsvSink:
    """Append-only CSV file with a header; ``write`` returns the line of its first row."""

    def __init__(self, out_dir: Path, spec: FileSpec, newline: str = "\n", *, file_name: str | None = None):
        self.spec = spec
        self.path = Path(out_dir) / (file_name or spec.name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "wb")
        self._nl = newline
        # the BOM is written once, with the header; later chunks are plain UTF-8
        self._enc = "utf-8" if spec.encoding == "utf-8-sig" else spec.encoding
        self._f.write((",".join(spec.headers) + newline).encode(spec.encoding))
        self.rows = 0

    def write(self, columns: list) -> int:
        """Write rows given column-wise (sequences of ``str``, equal lengths)."""
        first_line = self.rows + 2
        n = len(columns[0]) if columns else 0
        if n == 0:
            return first_line
        if len(columns) != len(self.spec.headers):
            raise ValueError(f"{self.spec.name}: {len(columns)} columns for {len(self.spec.headers)} headers")
        text = self._nl.join(map(",".join, zip(*columns))) + self._nl
        self._f.write(text.encode(self._enc))
        self.rows += n
        return first_line

    def close(self) -> None:
        self._f.close()


class XlsxSink:
    """Write-only workbook with one sheet; optional merged title row above the header."""

    def __init__(self, out_dir: Path, spec: FileSpec, *, sheet: str, title: str | None = None,
                 file_name: str | None = None):
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        self.spec = spec
        self.path = Path(out_dir) / (file_name or spec.name)
        self._wb = Workbook(write_only=True)
        fixed = dt.datetime(2025, 1, 1)
        self._wb.properties.created = fixed
        self._wb.properties.modified = fixed
        self._wb.properties.creator = "graphwatch"
        self._ws = self._wb.create_sheet(sheet)
        self._header_row = 1
        if spec.title_row:
            self._ws.append([title or spec.name])
            self._ws.merged_cells.add(f"A1:{get_column_letter(len(spec.headers))}1")
            self._header_row = 2
        self._ws.append(list(spec.headers))
        self.rows = 0

    def write(self, rows: list[list]) -> int:
        """Append rows (lists of str / int / float / date / None); returns the sheet row of the first."""
        first = self._header_row + self.rows + 1
        append = self._ws.append
        for r in rows:
            append(r)
        self.rows += len(rows)
        return first

    def close(self) -> None:
        self._wb.save(self.path)
