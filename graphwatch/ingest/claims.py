"""Which mapping loads which file: claims by file-name globs and headers, decided before reading.

A folder of a county's files is loaded with every mapping available (the user's folders and
the shipped ones). Each file is claimed by the mapping whose ``files:`` globs match its name
(narrowed by the header when several do), else by the one mapping whose required columns the
header holds. A file nobody claims — or several claim — is listed with the closest mapping and
the columns that differ, all at once, before anything is read or written. Files that are not
data (a README, a JSON file, a subfolder) are never read and always reported.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..exc import SourceError
from .mapping import Mapping, norm_header
from .sources import decode, detect_format

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")
HEADER_ROWS = 20          # an Excel header may sit below a title row


@dataclass
class Claim:
    """A source and the mapping that loads it (``None``: a neo4j-admin import folder)."""
    source: str
    mapping: Mapping | None


@dataclass
class Unclaimed:
    """A file no single mapping claims (or that is not data), with what came closest."""
    source: str
    reason: str
    closest: Mapping | None = None
    missing: list[str] = field(default_factory=list)    # required columns of ``closest`` not in the file
    unknown: list[str] = field(default_factory=list)    # the file's columns ``closest`` does not know
    data: bool = True                                   # False: not a data file, never read

    def describe(self) -> str:
        text = f"{self.source}: {self.reason}"
        if self.closest is not None:
            text += f"; closest mapping {self.closest.name!r} ({self.closest.file})"
            if self.missing:
                text += f" lacks columns {self.missing}"
            if self.unknown:
                text += f"{',' if self.missing else ''} does not know columns {self.unknown}"
        return text


@dataclass
class LoadPlan:
    claims: list[Claim]
    unclaimed: list[Unclaimed]

    @property
    def blocking(self) -> list[Unclaimed]:
        """Data files that stop a load unless the user skips them."""
        return [u for u in self.unclaimed if u.data]

    def error(self, why: str = "") -> SourceError:
        """The error listing the files no mapping claims; ``why``: what the user should know first."""
        lines = [u.describe() for u in self.blocking]
        return SourceError(
            f"{len(lines)} file(s) no single mapping claims; nothing was loaded{why}. Add a mapping for them "
            "(--mappings DIR), name one (--mapping NAME), or load the rest with --skip-unclaimed:\n  "
            + "\n  ".join(lines))


def header_rows(source: str) -> list[list[str]]:
    """Candidate header rows of a file, normalised (CSV: the first non-empty line; Excel: the
    first rows of the first sheet; Parquet: its column names). Empty when unreadable."""
    fmt = detect_format(source)
    try:
        if fmt == "csv":
            with open(source, "rb") as f:
                data = f.read(65536)
            # the first non-empty line alone: a bad byte or a huge field further down is the
            # reader's business, not the claim's
            raw = next((b for b in data.split(b"\n") if b.strip()), b"")
            if not raw:          # an empty file: the name decides, the reader says it is empty
                return []
            try:
                line, _ = decode(raw, source)
            except SourceError:
                return []
            line = line.rstrip("\r")
            for d in (",", "\t", ";", "|"):
                if d in line:
                    return [[norm_header(c) for c in line.split(d)]]
            return [[norm_header(line)]]
        elif fmt == "excel":
            from python_calamine import CalamineWorkbook

            rows = CalamineWorkbook.from_path(source).get_sheet_by_index(0).to_python(nrows=HEADER_ROWS)
            return [[norm_header("" if v is None else str(v)) for v in row] for row in rows]
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            return [[norm_header(c) for c in pq.read_schema(source).names]]
    except Exception:   # an unreadable file is claimed by name or reported; reading it says why
        return []
    return []


def _required(m: Mapping) -> set[str]:
    return {norm_header(c.header) for c in m.columns if not c.optional}


def _fits(m: Mapping, rows: list[list[str]]) -> bool:
    return any(_required(m) <= set(row) for row in rows)


def _closest(mappings: Iterable[Mapping], rows: list[list[str]]) -> tuple[Mapping | None, list[str], list[str]]:
    best, score, header = None, 0.0, []
    for m in mappings:
        cols = {norm_header(c.header) for c in m.columns}
        for row in rows:
            got = {h for h in row if h}
            s = len(cols & got) / max(1, len(cols | got))
            if s > score:
                best, score, header = m, s, row
    if best is None:
        return None, [], []
    known = {norm_header(c.header) for c in best.columns}
    missing = [c.header for c in best.columns if not c.optional and norm_header(c.header) not in header]
    unknown = [h for h in header if h and h not in known]
    return best, missing, unknown


def expand(sources: Iterable[str]) -> tuple[list[str], list[Unclaimed]]:
    """Files named, and the files of folders named (sorted, not recursive): the data files to
    claim, and everything else as :class:`Unclaimed` entries that are not data."""
    from .neo4j_admin import is_neo4j_admin_folder

    files: list[str] = []
    other: list[Unclaimed] = []
    for s in sources:
        s = str(s)
        if detect_format(s) == "sql":
            files.append(s)
            continue
        path = Path(s)
        if not path.exists():
            raise SourceError("file not found", file=s)
        if not path.is_dir():
            files.append(s)
            continue
        if is_neo4j_admin_folder(path):
            files.append(s)
            continue
        for f in sorted(path.iterdir()):
            if f.name.startswith("."):
                continue
            if f.is_dir():
                other.append(Unclaimed(str(f), "a folder inside a source folder is not read (name it to load it)",
                                       data=False))
            elif f.suffix.lower() not in DATA_SUFFIXES:
                other.append(Unclaimed(str(f), f"not a data file ({f.suffix or 'no suffix'}); not read", data=False))
            else:
                files.append(str(f))
    return files, other


def plan(sources: Iterable[str], mappings: dict[str, Mapping], *, only: list[Mapping] | None = None) -> LoadPlan:
    """Decide which mapping loads each source. ``only``: the mappings the user named
    (``--mapping``); one named mapping loads every file given."""
    from .neo4j_admin import is_neo4j_admin_folder

    files, unclaimed = expand(sources)
    claims: list[Claim] = []
    pool = list(only) if only else list(mappings.values())
    for source in files:
        if Path(source).is_dir() and is_neo4j_admin_folder(source):
            claims.append(Claim(source, None))
            continue
        if only and len(only) == 1:
            claims.append(Claim(source, only[0]))
            continue
        name = source if "://" in source else Path(source).name
        by_glob = [m for m in pool if any(fnmatch.fnmatch(name, g) for g in m.files)]
        rows = header_rows(source) if "://" not in source else []
        if not rows:            # no header to look at (a database, an unreadable file): names decide
            chosen = by_glob
        else:                   # a name match counts only if the header fits too; else the header decides
            chosen = [m for m in by_glob if _fits(m, rows)] or [m for m in pool if _fits(m, rows)]
        if len(chosen) == 1:
            claims.append(Claim(source, chosen[0]))
        elif chosen:
            unclaimed.append(Unclaimed(source, "claimed by several mappings: "
                                       + ", ".join(f"{m.name} ({m.file})" for m in chosen)
                                       + " — make their files: globs or columns tell them apart"))
        else:
            best, missing, unknown = _closest(by_glob or pool, rows)
            why = (f"its name matches {', '.join(m.name for m in by_glob)} but its columns do not"
                   if by_glob and rows else "no mapping claims it")
            unclaimed.append(Unclaimed(source, why, best, missing, unknown))
    return LoadPlan(claims, unclaimed)
