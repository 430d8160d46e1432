"""``graphwatch mappings check``: every mapping of some folders checked at once, and which file
each would claim, without loading anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..exc import GraphwatchError, InvalidMapping
from ..resources import shipped_dir
from ..schema import Schema
from .claims import LoadPlan, plan
from .mapping import Mapping, mapping_paths
from .mapping_read import read_mapping


@dataclass
class MappingCheck:
    mappings: dict[str, Mapping] = field(default_factory=dict)     # the good ones, by name
    errors: list[GraphwatchError] = field(default_factory=list)    # every mistake of every file (file and line)
    plan: LoadPlan | None = None                                   # with data folders: who claims what

    @property
    def ok(self) -> bool:
        return not self.errors and (self.plan is None or not self.plan.blocking)


def check_mappings(folders: Iterable[str | Path], data: Iterable[str | Path] = (), *, schema: Schema,
                   shipped: bool = True) -> MappingCheck:
    """Parse every mapping in ``folders`` (and the shipped ones unless ``shipped=False``),
    collecting every error instead of stopping at the first — every independent mistake of each
    file (:func:`~.mapping_read.read_mapping`); with ``data``, plan which mapping would claim
    each file there."""
    out = MappingCheck()
    places = ([shipped_dir("loaders")] if shipped else []) + [Path(f) for f in folders]
    for place in places:
        if not place.exists():
            out.errors.append(InvalidMapping("mapping folder not found", file=str(place)))
            continue
        for path in (mapping_paths(place) if place.is_dir() else [place]):
            m, errors = read_mapping(path, schema)
            if errors:
                out.errors.extend(sorted(errors, key=lambda e: e.line or 0))
                continue
            if m.name in out.mappings:
                out.errors.append(InvalidMapping(f"mapping name {m.name!r} is also used by "
                                                 f"{out.mappings[m.name].file}", file=str(path), line=1))
                continue
            out.mappings[m.name] = m
    data = [str(d) for d in data]
    if data:
        out.plan = plan(data, out.mappings)
    return out
