"""Ingest: read sources, map them to nodes and relationships, validate, quarantine, commit.

Usage (``ws`` an open :class:`~graphwatch.store.Workspace`)::

    from graphwatch.ingest import load
    results = load(ws, ["county/household_registry.csv"])   # one LoadResult per source
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Callable, Iterable

from ..exc import SourceError
from ..store import LoadResult, Workspace, commit
from .computed import division_names
from .derive import run_derivations
from .mapping import Mapping, load_mappings, norm_header, parse_mapping
from .pipeline import stage
from .sources import detect_format, read_source

#: files a county folder may hold that are not sources
NOT_SOURCES = ("ground_truth.csv", "generator_params.json", "README*", "*.md", "*.json", "*.txt")
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")

Progress = Callable[[str, int, int], None]


def expand_sources(sources: Iterable[str]) -> list[str]:
    """Files named, and the data files inside folders named (sorted; private ``_*`` folders skipped)."""
    out: list[str] = []
    for s in sources:
        s = str(s)
        if detect_format(s) == "sql":
            out.append(s)
            continue
        path = Path(s)
        if path.is_dir():
            from .neo4j_admin import is_neo4j_admin_folder
            if is_neo4j_admin_folder(path):
                out.append(str(path))
                continue
            for f in sorted(path.iterdir()):
                if f.is_file() and f.suffix.lower() in DATA_SUFFIXES and not f.name.startswith((".", "_")) \
                        and not any(fnmatch.fnmatch(f.name, pat) for pat in NOT_SOURCES):
                    out.append(str(f))
        elif not path.exists():
            raise SourceError("file not found", file=s)
        else:
            out.append(s)
    return out


def _header_of(source: str) -> list[str] | None:
    """First non-empty line of a CSV split on common delimiters (for matching a mapping)."""
    if detect_format(source) != "csv":
        return None
    from .sources import decode
    data = Path(source).read_bytes()[:65536]
    try:
        text, _ = decode(data, source)
    except SourceError:
        try:
            text = data.decode("gb18030", errors="ignore")
        except Exception:
            return None
    for line in text.splitlines():
        if line.strip():
            for d in (",", "\t", ";", "|"):
                if d in line:
                    return [norm_header(c) for c in line.split(d)]
            return [norm_header(line)]
    return None


def match_mapping(source: str, mappings: dict[str, Mapping]) -> Mapping:
    """The mapping for a source: by the file-name globs it declares, else by its header."""
    name = Path(source).name if "://" not in source else source
    by_glob = [m for m in mappings.values() if any(fnmatch.fnmatch(name, g) for g in m.files)]
    if len(by_glob) == 1:
        return by_glob[0]
    header = _header_of(source)
    if header:
        hs = set(header)
        scored = [m for m in mappings.values()
                  if {norm_header(c.header) for c in m.columns if not c.optional} <= hs]
        if len(scored) == 1:
            return scored[0]
    raise SourceError(
        "cannot tell which mapping applies" + (f" (file-name matches: {[m.name for m in by_glob]})" if by_glob else "")
        + f"; name one with --mapping (known: {sorted(mappings)})", file=source)


def resolve_mapping(spec: str | Path, mappings: dict[str, Mapping]) -> Mapping:
    if str(spec) in mappings:
        return mappings[str(spec)]
    if Path(spec).exists():
        return parse_mapping(spec)
    raise SourceError(f"unknown mapping {str(spec)!r}; known: {sorted(mappings)} (or give a YAML path)")


def load(ws: Workspace, sources: Iterable[str], *, mapping: str | Path | None = None,
         progress: Progress | None = None, mappings_dir: Path | None = None) -> list[LoadResult]:
    """Load sources into the workspace in one transaction; returns per-source accounting.

    A whole-file problem raises :class:`~graphwatch.exc.SourceError` before anything is
    written; bad rows are quarantined and counted (rows read = loaded + quarantined).
    """
    mappings = load_mappings(mappings_dir, ws.schema)
    files = expand_sources(sources)
    if not files:
        raise SourceError("no source files found in " + ", ".join(map(str, sources)))
    batches = []
    used: dict[str, Mapping] = {}
    claimed = []
    for source in files:
        if Path(source).is_dir():
            claimed.append((source, None))
        else:
            claimed.append((source, resolve_mapping(mapping, mappings) if mapping else match_mapping(source, mappings)))
    # files whose computed fields look divisions up by name come after every other file, so
    # the divisions of this very load can be found
    claimed.sort(key=lambda sm: bool(sm[1] and any(c.lookup for c in sm[1].computed)))
    divisions = None
    for k, (source, m) in enumerate(claimed):
        if progress:
            progress(f"read {Path(source).name}", k, len(files))
        if m is None:
            from .neo4j_admin import stage_neo4j_admin
            batches.extend(stage_neo4j_admin(ws, Path(source)))
            continue
        used[m.name] = m
        if divisions is None and any(c.lookup for c in m.computed):
            divisions = division_names(ws.con, batches)
        raw = read_source(source, m)
        batches.append(stage(ws.con, raw, m, ws.schema, divisions=divisions))
    if progress:
        progress("commit", len(files), len(files))

    # derivations declared by every mapping that has contributed data (this load or before)
    prior = {r[0] for r in ws.con.execute("SELECT DISTINCT mapping FROM load_report").fetchall()}
    specs: dict[str, dict] = {}
    for m in list(used.values()) + [mappings[n] for n in prior if n in mappings and n not in used]:
        for name, params in m.derive:
            specs[name] = {**specs.get(name, {}), **params}

    def derive(con):
        run_derivations(con, specs, list(ws.schema.rel_properties))

    return commit(ws, batches, derive=derive)
