"""The pattern library: one supervision model (监督模型) per ``patterns/*.yaml`` file.

A pattern file is a declaration checked when it is read; every error names the file and
line (:class:`~graphwatch.exc.InvalidPattern`). The format is described in
``patterns/README.md``: titles and explanation templates in Chinese and English, typed
parameters with defaults, the Cypher (or a registered algorithm), which returned columns
are the alert's subject and object, and fixtures — a tiny positive graph and a tiny
near-miss with the (subject, object) pairs each must give. The shipped files come from
:func:`graphwatch.resources.shipped_dir`; a county's own folders are read beside them.

>>> p = load_pattern("own_village_project")
>>> p.severity, p.title_en
('high', 'Village cadre meddles in a project in their own village')
>>> p.subject, p.object
('cadre', 'project')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..exc import InvalidPattern, PatternError
from ..resources import shipped_dir
from ..schema import Schema, did_you_mean, load_schema
from ..yamlio import Located, load_located

SEVERITIES = ("high", "medium", "low")
KINDS = ("cypher", "algorithm")
REQUIRED_KEYS = ("id", "title", "description", "severity", "subject", "explain")
KNOWN_KEYS = REQUIRED_KEYS + ("why", "tags", "needs", "params", "kind", "cypher", "function", "object", "date",
                              "evidence", "fixtures")
PARAM_TYPES = ("integer", "number", "text", "date", "boolean", "text_list")
_ID = re.compile(r"[a-z][a-z0-9_]*")
#: one left-to-right scan of the Cypher: a string, a comment or a parameter, whichever starts
#: first, so an apostrophe in a comment (``// a's key``) opens no string and a ``$`` inside a
#: string or a comment is no parameter
_TOKENS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/"
                     r"|\$([A-Za-z_][A-Za-z0-9_]*)", re.S)


def params_used(cypher: str) -> set[str]:
    """The ``$parameters`` the Cypher names outside strings and comments."""
    return {m.group(1) for m in _TOKENS.finditer(cypher) if m.group(1)}
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\}")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: object
    doc: str = ""

    def coerce(self, value, *, where: str = ""):
        """``value`` (from YAML, JSON or the command line) as this parameter's type."""
        return coerce(value, self.type, f"{where}parameter {self.name!r}")


@dataclass(frozen=True)
class Fixture:
    """A tiny graph (nodes and relationships as in :mod:`graphwatch.fixtures`) and the
    (subject key, object key) pairs the model must report on it — no more, no fewer."""
    name: str                       # positive | near_miss | any other name the file gives
    nodes: tuple
    rels: tuple
    expect: frozenset               # {(subject_key, object_key or None)}
    params: dict = field(default_factory=dict)
    line: int = 0


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
    needs_labels: tuple[str, ...]    # the labels and relationship types the pattern reads: a
    needs_types: tuple[str, ...]     # workspace without one of them has insufficient data
    cypher: str                      # "" for an algorithm
    file: str
    subject: str = ""                # the returned column holding the alert's subject node
    object: str | None = None        # … and its object node (None: the subject alone)
    explain_zh: str = ""             # templates over returned columns: {col} or {col.property}
    explain_en: str = ""
    why_zh: str = ""
    why_en: str = ""
    kind: str = "cypher"
    function: str | None = None      # kind algorithm: a name registered in graphwatch.alerts.algorithms
    params: tuple[Param, ...] = ()
    date: str | None = None          # the returned column holding the alert's date (trends)
    evidence: tuple[str, ...] = ()   # returned columns forming the evidence (empty: every match)
    fixtures: tuple[Fixture, ...] = ()
    cypher_line: int = 0             # the file line of the Cypher's first line

    @property
    def title(self) -> str:
        return f"{self.title_zh} · {self.title_en}"

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def bind(self, overrides: dict | None = None) -> dict:
        """The parameter values to run with: defaults, then ``overrides`` (checked and typed)."""
        values = self.defaults()
        byname = {p.name: p for p in self.params}
        for name, value in (overrides or {}).items():
            if name not in byname:
                raise InvalidPattern(f"model {self.id!r} has no parameter {name!r}{did_you_mean(name, byname)}; "
                                     f"its parameters: {', '.join(byname) or 'none'}", file=self.file)
            values[name] = byname[name].coerce(value, where=f"model {self.id!r}: ")
        return values


def coerce(value, typ: str, what: str):
    """A parameter value as ``typ``; an :class:`InvalidPattern` naming ``what`` if it is not one."""
    try:
        if value is None:
            return None
        if typ == "integer":
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if typ == "number":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ == "text":
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise ValueError
            return str(value)
        if typ == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if typ == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if typ == "text_list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return list(value)
    except (TypeError, ValueError):
        raise InvalidPattern(f"{what} must be {_TYPE_WORDS[typ]}, got {value!r}") from None
    raise AssertionError(typ)


_TYPE_WORDS = {"integer": "a whole number", "number": "a number", "text": "text", "date": "a date (2024-01-31)",
               "boolean": "true or false", "text_list": "a list of text ([A, B] or A,B)"}


# -- reading ------------------------------------------------------------------------------
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


def load_library(folders: Iterable[str | Path] = (), *, shipped: bool = True,
                 schema: Schema | None = None) -> dict[str, Pattern]:
    """Every pattern of the shipped folder and the user's ``folders``, by id. A county's model
    is copied there as a file, never edited into the package; one id twice is an error. The
    shipped models are written for graphwatch's domain model: a workspace holding a Neo4j
    export's own schema (``schema.standalone``, from ``load --infer-schema``) has only its own."""
    out: dict[str, Pattern] = {}
    shipped = shipped and not (schema is not None and schema.standalone)
    places = ([patterns_dir()] if shipped else []) + [Path(f) for f in folders]
    for place in places:
        if not place.exists():
            raise InvalidPattern("pattern folder not found", file=str(place))
        for path in ([place] if place.is_file() else sorted(place.glob("*.yaml"))):
            p = parse_pattern(path, schema=schema)
            if p.id in out:
                raise InvalidPattern(f"pattern id {p.id!r} is also used by {out[p.id].file}", file=str(path), line=1)
            out[p.id] = p
    return out


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
    why_zh, why_en = _bilingual(doc, "why") if "why" in d else ("", "")
    explain_zh, explain_en = _bilingual(doc, "explain")
    if d["severity"] not in SEVERITIES:
        raise _err(doc, f"severity {d['severity']!r} must be one of {', '.join(SEVERITIES)}", "severity")
    tags = _names(doc, ("tags",), d.get("tags", []))
    schema = schema or load_schema()
    labels, types = _needs(doc, schema)
    params = _params(doc)
    kind = d.get("kind", "cypher")
    if kind not in KINDS:
        raise _err(doc, f"kind {kind!r} must be one of {', '.join(KINDS)}", "kind")
    cypher, function = "", None
    if kind == "cypher":
        if "function" in d:
            raise _err(doc, "'function' belongs to kind: algorithm; a Cypher model has 'cypher'", "function")
        cypher = d.get("cypher")
        if not isinstance(cypher, str) or not cypher.strip():
            raise _err(doc, "cypher must be the pattern's Cypher text (a YAML block: 'cypher: |')", "cypher")
    else:
        if "cypher" in d:
            raise _err(doc, "an algorithm model has 'function', not 'cypher'", "cypher")
        function = d.get("function")
        from .algorithms import ALGORITHMS
        if function not in ALGORITHMS:
            raise _err(doc, f"unknown algorithm {function!r}{did_you_mean(str(function), ALGORITHMS)}; "
                            f"registered: {', '.join(sorted(ALGORITHMS))}", "function")
    p = Pattern(id=pid, title_zh=title_zh, title_en=title_en, description_zh=description_zh,
                description_en=description_en, severity=d["severity"], tags=tags, needs_labels=labels,
                needs_types=types, cypher=cypher, file=doc.file, explain_zh=explain_zh, explain_en=explain_en,
                why_zh=why_zh, why_en=why_en, kind=kind, function=function, params=params,
                cypher_line=(doc.line("cypher") or 0) + 1 if kind == "cypher" else 0)
    columns = _columns(doc, p, schema) if kind == "cypher" else None
    if kind == "algorithm":
        from .algorithms import ALGORITHMS
        columns = list(ALGORITHMS[function].columns)
        unknown = set(p.defaults()) - set(ALGORITHMS[function].params)
        if unknown:
            raise _err(doc, f"algorithm {function!r} takes no parameter {sorted(unknown)[0]!r}; it takes "
                            f"{', '.join(ALGORITHMS[function].params) or 'none'}", "params")
    subject = _column(doc, "subject", d["subject"], columns)
    obj = _column(doc, "object", d["object"], columns) if d.get("object") is not None else None
    date = _column(doc, "date", d["date"], columns) if d.get("date") is not None else None
    evidence = tuple(_column(doc, "evidence", c, columns) for c in _names(doc, ("evidence",), d.get("evidence", [])))
    for lang, text in (("zh", explain_zh), ("en", explain_en)):
        for col, _prop in _FIELD.findall(text):
            if col not in columns:
                raise _err(doc, f"explain.{lang} names {{{col}}}, which the pattern does not return"
                                f"{did_you_mean(col, columns)}; it returns {', '.join(columns)}", "explain", lang)
    p = Pattern(**{**p.__dict__, "subject": subject, "object": obj, "date": date, "evidence": evidence})
    return Pattern(**{**p.__dict__, "fixtures": _fixtures(doc, p)})


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


def _needs(doc: Located, schema: Schema) -> tuple[tuple, tuple]:
    needs = doc.data.get("needs") or {}
    if not isinstance(needs, dict):
        raise _err(doc, "needs must be a mapping with 'labels' and/or 'types'", "needs")
    for key in needs:
        if key not in ("labels", "types"):
            raise _err(doc, f"needs: unknown key {key!r}; use 'labels' and 'types'", "needs", key)
    labels = _names(doc, ("needs", "labels"), needs.get("labels", []), known=schema.labels, what="label")
    types = _names(doc, ("needs", "types"), needs.get("types", []), known=schema.rel_types,
                   what="relationship type")
    return labels, types


def _params(doc: Located) -> tuple[Param, ...]:
    raw = doc.data.get("params") or {}
    if not isinstance(raw, dict):
        raise _err(doc, "params must map names to {type: …, default: …}", "params")
    out = []
    for name, spec in raw.items():
        where = ("params", name)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise _err(doc, f"parameter name {name!r} must be a name (letters, digits, _)", *where)
        if not isinstance(spec, dict) or "type" not in spec or "default" not in spec:
            raise _err(doc, f"parameter {name!r} needs a 'type' and a 'default' (null for none)", *where)
        unknown = set(spec) - {"type", "default", "doc"}
        if unknown:
            raise _err(doc, f"parameter {name!r}: unknown key(s) {sorted(unknown)}", *where)
        if spec["type"] not in PARAM_TYPES:
            raise _err(doc, f"parameter {name!r}: type {spec['type']!r} must be one of {', '.join(PARAM_TYPES)}",
                       *where, "type")
        try:
            default = coerce(spec["default"], spec["type"], f"parameter {name!r}: the default")
        except InvalidPattern as exc:
            raise _err(doc, str(exc), *where, "default") from None
        out.append(Param(name, spec["type"], default, str(spec.get("doc") or "")))
    return tuple(out)


def _columns(doc: Located, p: Pattern, schema: Schema) -> list[str]:
    """Check the Cypher (parse, schema, parameters) and return its columns."""
    from ..cypher.compiler import compile_query
    from ..cypher.parser import parse

    try:
        query = parse(p.cypher)
        compiled = compile_query(query, schema=schema, params=p.defaults())
    except PatternError as exc:
        line = p.cypher_line + (exc.line - 1 if exc.line else 0)
        where = f"column {exc.column}: " if exc.column else ""
        raise InvalidPattern(f"in the Cypher: {where}{exc.message}", file=doc.file, line=line) from None
    used = params_used(p.cypher)
    declared = {q.name for q in p.params}
    for name in sorted(used - declared):
        raise _err(doc, f"the Cypher uses ${name}, which params does not declare (add it with a type and default)",
                   "cypher")
    for name in sorted(declared - used):
        raise _err(doc, f"parameter {name!r} is never used in the Cypher", "params", name)
    return list(compiled.columns)


def _column(doc: Located, key: str, value, columns: list[str]) -> str:
    if not isinstance(value, str) or value not in columns:
        raise _err(doc, f"{key} {value!r} must be a column the pattern returns{did_you_mean(str(value), columns)}; "
                        f"it returns {', '.join(columns)}", key)
    return value


def _fixtures(doc: Located, p: Pattern) -> tuple[Fixture, ...]:
    raw = doc.data.get("fixtures") or {}
    if not isinstance(raw, dict):
        raise _err(doc, "fixtures must map a name (positive, near_miss …) to {nodes, rels, expect}", "fixtures")
    out = []
    for name, body in raw.items():
        where = ("fixtures", name)
        if not isinstance(body, dict) or not {"nodes", "expect"} <= set(body):
            raise _err(doc, f"fixture {name!r} needs 'nodes', 'rels' and 'expect'", *where)
        unknown = set(body) - {"nodes", "rels", "expect", "params"}
        if unknown:
            raise _err(doc, f"fixture {name!r}: unknown key(s) {sorted(unknown)}", *where)
        expect = body["expect"] or []
        if not isinstance(expect, list):
            raise _err(doc, f"fixture {name!r}: expect must be a list of [subject key, object key]", *where, "expect")
        pairs = set()
        for i, item in enumerate(expect):
            item = item if isinstance(item, list) else [item]
            if not 1 <= len(item) <= 2 or not all(isinstance(x, str) for x in item) or \
                    (p.object is not None) != (len(item) == 2):
                shape = "[subject key, object key]" if p.object else "a subject key"
                raise _err(doc, f"fixture {name!r}: expect item {i + 1} must be {shape}", *where, "expect", i)
            pairs.add((item[0], item[1] if len(item) == 2 else None))
        params = body.get("params") or {}
        try:
            p.bind(params)
        except InvalidPattern as exc:
            raise _err(doc, f"fixture {name!r}: {exc.message}", *where, "params") from None
        out.append(Fixture(str(name), tuple(body.get("nodes") or ()), tuple(body.get("rels") or ()),
                           frozenset(pairs), dict(params), doc.line(*where) or 0))
    names = {f.name for f in out}
    if out and not {"positive", "near_miss"} <= names:
        raise _err(doc, "fixtures need at least 'positive' (a case the model must report) and 'near_miss' "
                        "(an almost-case it must not)", "fixtures")
    return tuple(out)
