"""Ingest: read sources, map them to nodes and relationships, validate, quarantine, commit.

Usage (``ws`` an open :class:`~graphwatch.store.Workspace`)::

    from graphwatch.ingest import load
    results = load(ws, ["county/household_registry.csv"])   # one LoadResult per source
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from ..exc import InvalidMapping, SourceError
from ..resources import shipped_dir
from ..schema import Schema
from ..store import WORKSPACE_MARK, LoadResult, Workspace, commit
from .claims import plan
from .computed import division_names
from .derive import run_derivations
from .mapping import Mapping, load_mappings, parse_mapping
from .pipeline import stage
from .sources import read_source

Progress = Callable[[str, int, int], None]


def available_mappings(schema: Schema, folders: Iterable[str | Path] = (), *, shipped: bool = True) -> dict[str, Mapping]:
    """Every mapping a load may use: the user's folders (or single YAML files) and, unless
    ``shipped=False``, the shipped ``loaders/``. Two mappings with one name is an error naming both."""
    out: dict[str, Mapping] = {}
    places = ([shipped_dir("loaders")] if shipped else []) + [Path(f) for f in folders]
    for place in places:
        if not place.exists():
            raise SourceError("mapping folder not found", file=str(place))
        found = load_mappings(place, schema) if place.is_dir() else {(m := parse_mapping(place, schema)).name: m}
        for name, m in found.items():
            if name in out:
                raise InvalidMapping(f"mapping name {name!r} is also used by {out[name].file}; rename one "
                                     "(or leave out the shipped mappings with --no-shipped-mappings)",
                                     file=m.file, line=1)
            out[name] = m
    return out


def named_mapping(spec: str | Path, mappings: dict[str, Mapping], schema: Schema) -> Mapping:
    """A mapping the user named: by name, or a YAML file."""
    if str(spec) in mappings:
        return mappings[str(spec)]
    path = Path(spec)
    if path.is_dir():
        raise SourceError("is a folder of mappings: give it with --mappings, and --mapping a mapping's name "
                          "or one YAML file", file=str(spec))
    if path.exists():
        return parse_mapping(path, schema)
    raise SourceError(f"unknown mapping {str(spec)!r}; known: {sorted(mappings)} (or give a YAML file)")


def load(ws: Workspace, sources: Iterable[str], *, mapping: str | Path | list | None = None,
         mappings: Iterable[str | Path] = (), shipped: bool = True, skip_unclaimed: bool = False,
         schema: str | Path | None = None, infer_schema: bool = False,
         progress: Progress | None = None) -> list[LoadResult]:
    """Load sources into the workspace in one transaction; returns per-source accounting.

    ``mappings``: folders (or files) of the user's mappings, used beside the shipped ones
    (``shipped=False`` leaves those out). ``mapping``: one or more mapping names or files that
    alone may claim the sources. Files no single mapping claims stop the load before anything
    is read, all listed (:class:`~.claims.LoadPlan`); ``skip_unclaimed`` loads the rest and
    reports the skipped files in the accounting. ``schema``: a schema file that becomes the
    workspace's own additions to the packaged schema (or, saying ``standalone: true``, its whole
    schema); ``infer_schema``: take the schema from the headers and rows of the neo4j-admin
    folders loaded — a workspace with no data yet gets the export's own schema, standalone; one
    holding data gets the additions (:mod:`.neo4j_admin.infer`; reported as a ``schema``
    entry of the accounting). A resolved workspace stays resolved: the records the load adds or
    changes are resolved against its entities (a ``resolution`` entry of the accounting,
    :mod:`graphwatch.resolve.incremental`). A whole-file problem raises
    :class:`~graphwatch.exc.SourceError` before anything is written; bad rows are quarantined
    and counted (rows read = loaded + quarantined).
    """
    sources = list(sources)
    if schema is not None:
        ws.use_schema(schema)
    inferred: list[LoadResult] = []
    if infer_schema:
        from .neo4j_admin import is_neo4j_admin_folder
        from .neo4j_admin.infer import infer_into

        folders = [s for s in sources if Path(s).is_dir() and is_neo4j_admin_folder(s)]
        if not folders:
            raise SourceError("--infer-schema reads neo4j-admin import folders (headers with :ID, "
                              ":START_ID/:END_ID); none of " + ", ".join(map(str, sources)) + " is one")
        for folder in folders:
            found = infer_into(ws, folder)
            inferred.append(LoadResult("schema.yaml", str(folder), "schema", None, 0, 0, 0, 0, 0,
                                       notes=found.summary() or ["nothing new: the workspace schema has it all"]))
    # the shipped mappings write graphwatch's domain model, which a workspace holding an
    # export's own schema (standalone) does not have
    left_out = shipped and ws.schema.standalone
    available = available_mappings(ws.schema, mappings, shipped=shipped and not left_out)
    named = [mapping] if isinstance(mapping, (str, Path)) else list(mapping or [])
    only = [named_mapping(spec, available, ws.schema) for spec in named] or None
    load_plan = plan(sources, available, only=only)
    if load_plan.blocking and not skip_unclaimed:
        raise load_plan.error(f" ({ws.path} holds a Neo4j export's own schema, so the shipped mappings, "
                              "written for graphwatch's domain model, are left out: load a county into a "
                              "workspace of its own)" if left_out else "")
    skipped = [LoadResult("", u.source, "skipped" if u.data else "not data", None, 0, 0, 0, 0, 0,
                          notes=[u.describe()]) for u in load_plan.unclaimed]
    if not load_plan.claims and skip_unclaimed and load_plan.blocking:
        return inferred + skipped            # nothing to load, and the user asked to skip what no mapping claims
    if not load_plan.claims:
        raise SourceError("no source files to load in " + ", ".join(map(str, sources))
                          + "".join(f"\n  {u.describe()}" for u in load_plan.unclaimed))
    claimed = load_plan.claims
    # files whose computed fields look divisions up by name come after every other file, so
    # the divisions of this very load can be found
    claimed.sort(key=lambda c: bool(c.mapping and any(x.lookup for x in c.mapping.computed)))
    batches = []
    divisions = None
    for k, claim in enumerate(claimed):
        source, m = claim.source, claim.mapping
        if progress:
            progress(f"read {Path(source).name}", k, len(claimed))
        if m is None:
            from .neo4j_admin import stage_neo4j_admin
            batches.extend(stage_neo4j_admin(ws, Path(source)))
            continue
        if divisions is None and any(c.lookup for c in m.computed):
            divisions = division_names(ws.con, batches)
        raw = read_source(source, m)
        batch = stage(ws.con, raw, m, ws.schema, divisions=divisions)
        batch.derive = [[name, params] for name, params in m.derive]
        batches.append(batch)
    if progress:
        progress("commit", len(claimed), len(claimed))

    def derive(con):
        # the derivations of every mapping that has contributed data: this load's, and those
        # each earlier load recorded (workspaces from before that record: by mapping name)
        declared = [b.derive for b in batches]
        for name, text in con.execute("SELECT mapping, derive FROM load_report").fetchall():
            declared.append(json.loads(text) if text else
                            [list(d) for d in available[name].derive] if name in available else [])
        specs: dict[str, dict] = {}
        for items in declared:
            for name, params in items:
                specs[name] = {**specs.get(name, {}), **params}
        derived = run_derivations(con, specs, list(ws.schema.rel_properties))
        for b in batches:   # e.g. relation words the kinship derivation does not know, counted
            b.notes.extend(derived.notes.get(b.dataset, []))

    def resolve(con, datasets):
        # a resolved workspace stays resolved: what this load added or changed is resolved
        # against the existing entities, inside the load's transaction
        from ..resolve.incremental import resolve_load

        return resolve_load(ws, datasets)

    return inferred + commit(ws, batches, derive=derive, resolve=resolve) + skipped


def load_into(path: str | Path, sources: Iterable[str], **options) -> list[LoadResult]:
    """Open (or create) the workspace at ``path`` and :func:`load` into it. A load that fails
    leaves no new workspace behind: what this call created is removed again."""
    import shutil

    path = Path(path)
    before = set(path.iterdir()) if path.is_dir() else None
    created = not (path / WORKSPACE_MARK).exists()
    try:
        with Workspace(path, create=True) as ws:
            return load(ws, sources, **options)
    except BaseException:
        if created and before is None:
            shutil.rmtree(path, ignore_errors=True)
        elif created:
            for item in set(path.iterdir()) - before:
                shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)
        raise
