"""The pattern library: one supervision model per ``patterns/*.yaml`` file, read by id.

A pattern file is a declaration checked when it is read; every error names the file and
line (:class:`~graphwatch.exc.InvalidPattern`). The format is described in
``patterns/README.md``. The shipped files come from :func:`graphwatch.resources.shipped_dir`
(the checkout's ``patterns/`` or the installed wheel's ``graphwatch/patterns``).

>>> p = load_pattern("own_village_project")
>>> p.severity, p.title_en
('high', 'Village cadre meddles in a project in their own village')
>>> "VillageCadre" in p.needs_labels
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..exc import InvalidPattern
from ..resources import shipped_dir
from ..schema import Schema, did_you_mean, load_schema
from ..yamlio import Located, load_located

SEVERITIES = ("high", "medium", "low")
REQUIRED_KEYS = ("id", "title", "description", "severity", "cypher")
KNOWN_KEYS = REQUIRED_KEYS + ("tags", "needs")
_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Pattern:
    """One supervision model as its file declares it."""

    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    severity: str                    # one of SEVERITIES
    tags: tuple[str, ...]            # domains (工程, 惠民资金 …)
    needs_labels: tuple[str, ...]    # the labels and relationship types the pattern reads
    needs_types: tuple[str, ...]
    cypher: str
    file: str


def patterns_dir() -> Path:
    """The folder of the shipped pattern files."""
    return shipped_dir("patterns")


def pattern_ids(folder: str | Path | None = None) -> list[str]:
    """Ids of the patterns in ``folder`` (default: the shipped ones), sorted.

    >>> "own_village_project" in pattern_ids()
    True
    """
    return sorted(p.stem for p in Path(folder or patterns_dir()).glob("*.yaml"))


def load_pattern(pattern_id: str, *, folder: str | Path | None = None, schema: Schema | None = None) -> Pattern:
    """Read and check the pattern ``pattern_id`` from ``folder`` (default: the shipped patterns)."""
    folder = Path(folder or patterns_dir())
    path = folder / f"{pattern_id}.yaml"
    if not _ID.fullmatch(pattern_id) or not path.is_file():
        known = pattern_ids(folder)
        raise InvalidPattern(f"no pattern {pattern_id!r}{did_you_mean(pattern_id, known)}; "
                             f"patterns here: {', '.join(known) or 'none'}", file=str(folder))
    return parse_pattern(path, schema=schema)


def parse_pattern(path: str | Path, *, schema: Schema | None = None) -> Pattern:
    """Read and check one pattern file; raises :class:`InvalidPattern` naming file and line."""
    doc = load_located(path, InvalidPattern)
    d = doc.data
    if not isinstance(d, dict):
        raise _err(doc, "a pattern file must be a YAML mapping (id: …, title: …, cypher: …)")
    for key in d:
        if key not in KNOWN_KEYS:
            raise _err(doc, f"unknown key {key!r}{did_you_mean(str(key), KNOWN_KEYS)}", key)
    for key in REQUIRED_KEYS:
        if key not in d:
            raise _err(doc, f"missing required key {key!r}")
    pid = d["id"]
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise _err(doc, f"id {pid!r} must be lower-case letters, digits and _ (e.g. own_village_project)", "id")
    if pid != Path(path).stem:
        raise _err(doc, f"id {pid!r} differs from the file name {Path(path).name!r} (name the file {pid}.yaml)", "id")
    title_zh, title_en = _bilingual(doc, "title")
    description_zh, description_en = _bilingual(doc, "description")
    if d["severity"] not in SEVERITIES:
        raise _err(doc, f"severity {d['severity']!r} must be one of {', '.join(SEVERITIES)}", "severity")
    tags = _names(doc, ("tags",), d.get("tags", []))
    needs = d.get("needs") or {}
    if not isinstance(needs, dict):
        raise _err(doc, "needs must be a mapping with 'labels' and/or 'types'", "needs")
    for key in needs:
        if key not in ("labels", "types"):
            raise _err(doc, f"needs: unknown key {key!r}; use 'labels' and 'types'", "needs", key)
    schema = schema or load_schema()
    labels = _names(doc, ("needs", "labels"), needs.get("labels", []), known=schema.labels, what="label")
    types = _names(doc, ("needs", "types"), needs.get("types", []), known=schema.rel_types,
                   what="relationship type")
    cypher = d["cypher"]
    if not isinstance(cypher, str) or not cypher.strip():
        raise _err(doc, "cypher must be the pattern's Cypher text (a YAML block: 'cypher: |')", "cypher")
    return Pattern(id=pid, title_zh=title_zh, title_en=title_en, description_zh=description_zh,
                   description_en=description_en, severity=d["severity"], tags=tags, needs_labels=labels,
                   needs_types=types, cypher=cypher, file=doc.file)


def _err(doc: Located, message: str, *path) -> InvalidPattern:
    return InvalidPattern(message, file=doc.file, line=doc.line(*path))


def _bilingual(doc: Located, key: str) -> tuple[str, str]:
    value = doc.data[key]
    if not isinstance(value, dict) or set(value) != {"zh", "en"}:
        raise _err(doc, f"{key} must have exactly 'zh' and 'en'", key)
    for lang in ("zh", "en"):
        if not isinstance(value[lang], str) or not value[lang].strip():
            raise _err(doc, f"{key}.{lang} must be non-empty text", key, lang)
    return value["zh"].strip(), value["en"].strip()


def _names(doc: Located, path: tuple, value, *, known=None, what: str = "") -> tuple[str, ...]:
    where = ".".join(path)
    if not isinstance(value, list):
        raise _err(doc, f"{where} must be a list", *path)
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise _err(doc, f"{where}: item {i + 1} must be non-empty text", *path, i)
        if known is not None and name not in known:
            raise _err(doc, f"{where}: unknown {what} {name!r}{did_you_mean(name, known)}", *path, i)
    return tuple(value)
