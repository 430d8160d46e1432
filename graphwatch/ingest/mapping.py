"""Loader mappings: declarative YAML that turns a source's columns into nodes and relationships.

One file per source kind in ``loaders/``. A mapping is data, checked against the schema when
loaded (:mod:`.mapping_read`); every error names the mapping file and line. See
``docs/loaders.md`` for the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..exc import InvalidMapping
from ..resources import shipped_dir
from ..schema import Schema, load_schema
from .fieldtypes import STORED_AS


FIELD_TYPES = ("string", "integer", "float", "decimal", "boolean", "date", "datetime",
               "month", "percent", "resident_id", "uscc")
#: extra fields an identifier column produces: <field>_status and <field>_valid
ID_TYPES = ("resident_id", "uscc")
KNOWN_DERIVATIONS = ("kinship", "co_occurrence")
#: how a node treats rows that say different things about it (see docs/loaders.md)
ON_CONFLICT = ("priority", "first", "quarantine")
#: divisions a lookup can find by name
LOOKUP_LEVELS = {"village": "Village", "township": "Township", "county": "County"}
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def norm_header(text: str) -> str:
    """Header as compared: NFKC (full-width brackets, spaces), trimmed, inner spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).strip()


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    type: str = "string"
    required: bool = False
    optional: bool = False          # the column may be absent from a file
    values: dict | None = None      # raw value -> stored value
    strict_values: bool = False     # a value outside ``values`` quarantines the row
    date_format: str | None = None  # the one strptime format of a date / datetime / month column
    scale: float | None = None      # numbers are multiplied by this (cells in 万元: 10000)


@dataclass(frozen=True)
class Computed:
    """A field computed from other fields: a ``template``, a ``const`` or a division ``lookup``."""
    field: str
    template: str | None = None
    const: object = None
    lookup: str | None = None       # village | township | county: the division named in words
    name: str | None = None         # lookup: the field holding the name
    within: str | None = None       # lookup: the field holding the enclosing division's name


@dataclass(frozen=True)
class When:
    field: str
    equals: tuple = ()              # any of these (after value mapping), typed as the field
    not_empty: bool = False


@dataclass(frozen=True)
class NodeSpec:
    name: str
    labels: tuple[str, ...]
    key: str                        # template such as "Company:{uscc}"; {@record} is the row's record id
    resident_key: str | None = None # field holding a resident ID: Person:<id> when usable else per record
    ref: bool = False               # the node must already exist (no record is written)
    on_conflict: str = "priority"   # rows disagreeing about one node: priority | first | quarantine
    properties: dict = field(default_factory=dict)  # schema property -> field name or {"const": v}
    when: When | None = None


@dataclass(frozen=True)
class RelSpec:
    type: str
    source: str
    target: str
    properties: dict = field(default_factory=dict)
    valid_from: str | None = None
    valid_to: str | None = None
    when: When | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    title_zh: str
    title_en: str
    file: str
    files: tuple[str, ...]
    priority: int
    columns: tuple[Column, ...]
    nodes: tuple[NodeSpec, ...]
    rels: tuple[RelSpec, ...]
    derive: tuple[tuple[str, dict], ...] = ()
    record_id: str | None = None
    extra_columns: str = "error"
    csv: dict = field(default_factory=dict)
    excel: dict = field(default_factory=dict)
    sql: dict = field(default_factory=dict)
    computed: tuple[Computed, ...] = ()

    @property
    def fields(self) -> dict[str, str]:
        """Every field a row yields, with the type it is stored as (identifier columns add
        ``_status``/``_valid``, a month column ``_last``; computed fields are text)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[c.field] = STORED_AS.get(c.type, c.type) if c.type not in ID_TYPES else c.type
            if c.type in ID_TYPES:
                out[c.field + "_status"] = "string"
                out[c.field + "_valid"] = "boolean"
            if c.type == "month":
                out[c.field + "_last"] = "date"
        for comp in self.computed:
            out[comp.field] = "string"
        return out

    def column_for(self, field_name: str) -> str | None:
        """The source header a field comes from (for quarantine reasons); a computed field
        names the header of the first field it is computed from."""
        base = re.sub(r"_(status|valid|last)$", "", field_name)
        for c in self.columns:
            if c.field in (field_name, base):
                return c.header
        for comp in self.computed:
            if comp.field == field_name:
                sources = _TEMPLATE_FIELD.findall(comp.template) if comp.template else [comp.name]
                return self.column_for(sources[0]) if sources and sources[0] else None
        return None


#: keys every mapping must have
REQUIRED_KEYS = ("name", "title", "columns", "nodes")


def parse_mapping(path: str | Path, schema: Schema | None = None) -> Mapping:
    """Read and check one mapping file; raises :class:`InvalidMapping` naming file and line — the
    first mistake, with every other one the file holds in its ``others``
    (:func:`~.mapping_read.read_mapping` gives them all)."""
    from .mapping_read import read_mapping

    m, errors = read_mapping(path, schema or load_schema())
    if errors:
        raise errors[0].with_others(errors[1:])
    return m


def mapping_paths(folder: Path | None = None) -> list[Path]:
    return sorted((folder or shipped_dir("loaders")).glob("*.yaml"))


def load_mappings(folder: Path | None = None, schema: Schema | None = None) -> dict[str, Mapping]:
    """Every mapping in ``loaders/`` by name."""
    out: dict[str, Mapping] = {}
    for path in mapping_paths(folder):
        m = parse_mapping(path, schema)
        if m.name in out:
            raise InvalidMapping(f"mapping name {m.name!r} also used by {out[m.name].file}", file=str(path), line=1)
        out[m.name] = m
    return out
