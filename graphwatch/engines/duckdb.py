"""The embedded engine: Cypher compiled to SQL and run by DuckDB on the workspace."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections import OrderedDict

import duckdb

from ..cypher.checker import CheckedQuery, check
from ..cypher.compiler import Compiled, Options, compile_query
from ..cypher.functions import is_failure
from ..cypher.parser import parse
from ..cypher.planner import Stats
from ..cypher.shortest import used_params
from ..exc import EngineError, EvaluationError, PatternError
from .counts import Counted, counted_label
from ..lookups import node_rows, rel_rows, sparse_list_columns
from ..store import Workspace
from ..neo4j.values import to_neo4j
from .base import Binding, Engine, GNode, GPath, GRel, Result, bindings_per_group

_NODE_META = {"nid", "key", "labels", "datasets"}
_REL_META = {"rid", "type", "src", "dst"}


class _WorkspaceStats(Stats):
    """The planner's :class:`Stats` of a workspace, counted on first use: they scan ``node``
    and ``rel`` (about half a second at a million persons), which ``RETURN 1`` or a query
    whose joins need no planning should not pay. A read-only workspace counts them once for
    all its engines (those of ``graphwatch run --jobs``' threads too), its labels taken from
    its counts when something counted those already (:meth:`graphwatch.store.Workspace.counts`,
    which ``graphwatch run`` reads; a query alone does not pay for them)."""

    def __init__(self, ws):           # no dataclass fields yet: __getattr__ fills them
        self.__dict__["_ws"] = ws

    def __getattr__(self, name):
        if name not in Stats.__dataclass_fields__:
            raise AttributeError(name)
        ws = self.__dict__["_ws"]
        if ws.read_only:
            counted = ws.memoized("counts")
            stats = ws.memo("planner_stats", lambda: Stats.of(ws.con, labels=counted and counted["labels"]))
        else:
            stats = Stats.of(ws.con)
        self.__dict__.update(vars(stats))
        return self.__dict__[name]


class DuckDBEngine(Engine):
    """Run Cypher on a workspace.

    Parameters
    ----------
    workspace : a :class:`~graphwatch.store.Workspace` or the path of one (opened read-only)
    options : compiler limits (variable-length and shortest-path caps)
    """

    name = "duckdb"

    def __init__(self, workspace: Workspace | str | os.PathLike, *, options: Options | None = None):
        self._own = not isinstance(workspace, Workspace)
        self.ws = Workspace(workspace, read_only=True) if self._own else workspace
        self.options = options or Options()

    _adjacency = None
    _sparse: list[str] | None = None      # node's sparse list columns (only ever added to)

    def adjacency(self):
        """The workspace's adjacency index (:mod:`graphwatch.adjacency`), or None when it
        cannot be had (the searches then run in SQL). A workspace opened read-only cannot
        change under this engine, so its index is checked once; a writable one before each
        use. ``GRAPHWATCH_ADJACENCY=0`` turns the index off."""
        if os.environ.get("GRAPHWATCH_ADJACENCY") == "0":
            return None
        if self._adjacency is not None and self.ws.read_only:
            return self._adjacency
        from ..adjacency import fingerprint, open_index

        # (one scan of rel: 0.23 s at 5 M persons, once for a read-only workspace's engines)
        fp = self.ws.memo("rel_fingerprint", lambda: fingerprint(self.ws.con))
        if self._adjacency is None or self._adjacency.fingerprint != fp:
            self._adjacency = open_index(self.ws.con, self.ws.path, fp=fp)
        return self._adjacency

    _has_rel_name: str | None = None

    def _has_rel(self) -> str | None:
        """The SQL function answering a one-relationship pattern predicate from the adjacency
        index (:mod:`.has_rel`), registered on first use; None without an index. A read-only
        workspace only: its index cannot change under a statement."""
        if self.adjacency() is None:          # (GRAPHWATCH_ADJACENCY=0 may be set after a first use)
            return None
        if self._has_rel_name is None:
            from . import has_rel

            self._has_rel_name = has_rel.register(self.ws.con, self.adjacency) or ""
        return self._has_rel_name or None

    def close(self) -> None:
        if self._own:
            self.ws.close()

    def check(self, cypher: str, params: dict | None = None) -> CheckedQuery:
        """Parse and check the query (the same check every engine runs)."""
        return check(parse(cypher), schema=self.ws.schema, params=params or {}, options=self.options)

    #: compiled queries kept per engine (read-only workspaces only; see :meth:`compile`)
    COMPILED_CACHE = 256

    def compile(self, cypher: str, params: dict | None = None, *, bindings: bool | int = False) -> Compiled:
        """The query compiled for this workspace. On a read-only workspace (whose data, schema
        and statistics cannot change under the engine) the compilation is kept and reused for
        the same text, the same parameter values (the compiler folds some of them into the
        SQL) and the same engine options: parsing is cached already, but checking, planning
        and writing the SQL took 0.2-4 ms a query at 1 M persons, a tenth of a 30 ms model."""
        if self.ws.read_only and self.options.has_rel is None:
            self.options = dataclasses.replace(self.options, has_rel=self._has_rel)
        if self.options.plan_joins and self.options.stats is None:
            # label and relationship-type counts for the join planner, once per engine, counted
            # when the planner first reads them (a query without a pattern never does)
            self.options = dataclasses.replace(self.options, stats=_WorkspaceStats(self.ws))
        key = self._cache_key(cypher, params, bindings)
        if key is not None:
            hit = self._compiled.get(key)
            if hit is not None:
                self._compiled.move_to_end(key)
                return _fresh_steps(hit)
        checked = self.check(cypher, params)
        opts = dataclasses.replace(self.options, bindings=bindings_per_group(bindings))
        compiled = compile_query(checked, schema=self.ws.schema, params=params or {}, options=opts)
        if opts.bindings is None:
            compiled = self._from_counts(checked, compiled)
        if key is not None:
            # the key again: compiling may have counted the statistics (_from_counts reads them)
            key = self._cache_key(cypher, params, bindings)
            self._compiled[key] = compiled
            while len(self._compiled) > self.COMPILED_CACHE:
                self._compiled.popitem(last=False)
            return _fresh_steps(compiled)
        return compiled

    _compiled_for = None      # the options the cached compilations were made with

    def _cache_key(self, cypher: str, params: dict | None, bindings) -> tuple | None:
        """What a compilation depends on besides the workspace; None: not to be cached
        (a writable workspace, or parameter values that cannot be told apart safely)."""
        if not self.ws.read_only or not isinstance(cypher, str):
            return None
        if self._compiled_for is not self.options:       # options replaced: compile afresh
            self._compiled, self._compiled_for = OrderedDict(), self.options
        try:
            values = _frozen(params or {})
        except _Unkeyable:
            return None
        stats = self.options.stats
        counted = isinstance(stats, _WorkspaceStats) and "labels" in stats.__dict__
        return (cypher, values, bindings_per_group(bindings), counted,
                os.environ.get("GRAPHWATCH_ADJACENCY") == "0")

    def _from_counts(self, checked: CheckedQuery, c: Compiled) -> Compiled:
        """``MATCH (n:L) RETURN count(n)`` from the label counts of a read-only workspace's
        statistics, once a query has counted them (:mod:`.counts`)."""
        stats = self.options.stats
        if not (self.ws.read_only and isinstance(stats, _WorkspaceStats) and "labels" in stats.__dict__):
            return c
        label = counted_label(checked)
        if label is None:
            return c
        n = int(stats.labels.get(label, 0))
        fields = {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
        fields.update(sql=f"SELECT CAST($n AS BIGINT) AS {c.sql_columns[0]}", params={"n": n}, steps=[])
        return Counted(**fields, value=n)

    def explain(self, cypher: str, params: dict | None = None, *, bindings: bool | int = False) -> str:
        c = self.compile(cypher, params, bindings=bindings)
        shown = {k: v for k, v in c.params.items()}
        steps = "".join(st.describe() + "\n" for st in c.steps)
        return steps + c.sql + "\n-- parameters: " + repr(shown)

    def run(self, cypher: str, params: dict | None = None, *, bindings: bool | int = False) -> Result:
        c = self.compile(cypher, params, bindings=bindings)
        if isinstance(c, Counted):       # (never with bindings: see _from_counts)
            return Result(c.columns, [(c.value,)], None, engine=self.name, query=cypher, statement=c.sql)
        con = self.ws.con
        try:
            adjacency = self.adjacency() if any(st.indexable for st in c.steps) else None
            for step in c.steps:
                step.run(con, c.params, adjacency)
            raw = con.execute(c.sql, used_params(c.sql, c.params)).fetchall()
        except duckdb.Error as exc:
            raise engine_error(exc) from None
        finally:
            for step in c.steps:
                step.drop(con)
        ncols = len(c.columns)
        # every node / relationship id the returned values mention, fetched once
        node_ids, rel_ids = set(), set()
        for row in raw:
            for i, t in enumerate(c.types):
                _collect_ids(row[i], t, node_ids, rel_ids)
        nodes = self._nodes(node_ids)
        rels = self._rels(rel_ids)
        rows = [tuple(_convert(row[i], t, nodes, rels) for i, t in enumerate(c.types)) for row in raw]
        out = None
        if bindings_per_group(bindings) is not None:
            out = [_binding(row, ncols, c.bind_columns) for row in raw]
        return Result(c.columns, rows, out, engine=self.name, query=cypher, statement=c.sql)

    #: node and relationship records an engine on a read-only workspace keeps (each kind)
    RECORD_CACHE = 100_000
    _node_cache: dict | None = None
    _rel_cache: dict | None = None

    _node_rows: dict | None = None

    def forget_records(self) -> None:
        """Drop the node and relationship records kept so far (the compiled queries stay, as a
        server keeps its plans): what a benchmark does before each timed run so that a query
        is timed reading its records, not finding them kept from its previous run."""
        self._node_cache = self._rel_cache = self._node_rows = None

    def node_rows_read(self) -> dict:
        """The ``node`` rows (as :func:`graphwatch.lookups.node_rows` gives them) of the nodes
        this engine's runs returned since it last forgot its records (a read-only workspace's
        only): an alert's evidence reads the rest (reading the returned ones again cost
        ``graphwatch run`` 1.3 s at 5 M persons)."""
        return self._node_rows if self.ws.read_only and self._node_rows is not None else {}

    def _nodes(self, ids: set) -> dict:
        if self._sparse is None:
            self._sparse = sparse_list_columns(self.ws.con)     # once: a catalog query per result cost 1 ms
        if self.ws.read_only and (self._node_rows is None or len(self._node_rows) > self.RECORD_CACHE):
            self._node_rows = {}
        return self._kept("_node_cache", ids, lambda todo: read_nodes(self.ws.con, todo, self._sparse,
                                                                      self._node_rows))

    def _rels(self, ids: set) -> dict:
        return self._kept("_rel_cache", ids, lambda todo: read_rels(self.ws.con, todo))

    def _kept(self, cache: str, ids: set, read) -> dict:
        """``read(ids)``, through the record cache named ``cache`` on a read-only workspace."""
        if not self.ws.read_only:
            return read(ids)
        if getattr(self, cache) is None:
            setattr(self, cache, {})
        return _cached_records(getattr(self, cache), ids, read, self.RECORD_CACHE)


def _cached_records(cache: dict, ids, read, limit: int) -> dict:
    """The records of ``ids`` (nodes or relationships), read with ``read`` only where
    ``cache`` lacks them and kept there. For an engine on a read-only workspace, whose records
    cannot change: reading the 50 companies a model returns, 55 columns each through the id
    index, took 5-10 ms of CPU at 1 M persons, a third of the model. Each caller gets its own
    copy of a record's property map. At most ``limit`` records are kept (the cache starts
    afresh when a read would pass it)."""
    todo = [i for i in ids if i not in cache]
    if todo:
        got = read(todo)
        if len(cache) + len(got) > limit:
            cache.clear()
        cache.update(got)
    out = {}
    for i in ids:
        rec = cache.get(i)
        if rec is not None:
            out[i] = dataclasses.replace(rec, properties=dict(rec.properties))
    return out


#: DuckDB errors that a value known only at run time causes, where Neo4j fails as well
#: (checked on Neo4j 5.26): ``+ - *`` overflowing 64 bits ("long overflow" there), an integer
#: ``/`` or ``%`` by zero ("/ by zero"), a list beyond 2^32 elements (``range(0, 2^63 - 1)``:
#: Neo4j's lists hold at most 2^31). Not here, as Neo4j does not fail on them: ``abs()`` or
#: ``/ -1`` of the least integer, a ``sum()`` beyond 64 bits, ``toInteger()`` of a huge float.
_EVALUATION_ERRORS = (
    (duckdb.OutOfRangeException, ("Overflow in addition of", "Overflow in subtraction of",
                                  "Overflow in multiplication of")),
    (duckdb.InvalidInputException, ("Division by zero", "Lists larger than 2^32 elements")),
)


def engine_error(exc: duckdb.Error) -> EngineError:
    """DuckDB's error as graphwatch's: an :class:`EvaluationError` for a failure the query
    causes on purpose (:func:`graphwatch.cypher.functions.failure`) or an arithmetic error of
    :data:`_EVALUATION_ERRORS`, else an :class:`EngineError` (DuckDB refused the compiled
    SQL, or the query was interrupted)."""
    text = str(exc)
    evaluation = (isinstance(exc, duckdb.ConversionException) and is_failure(text)) or any(
        isinstance(exc, kind) and any(m in text for m in messages) for kind, messages in _EVALUATION_ERRORS)
    return (EvaluationError if evaluation else EngineError)(f"DuckDB could not run the compiled query: {text}".strip())


class _Unkeyable(Exception):
    """A parameter value whose text may not tell it apart from another value."""


#: values whose repr() tells apart any two of them that are not equal (with their type)
_SCALARS = (str, int, float, bool, type(None), bytes)


def _frozen(v):
    """A hashable, exact stand-in for a parameter value: its type and repr for scalars
    (``1``, ``1.0`` and ``True`` stay apart; ``-0.0`` and ``nan`` are their own reprs),
    lists and maps element by element; dates, times, decimals by type and repr. Anything else
    raises :class:`_Unkeyable` (the query is then compiled afresh)."""
    import datetime as _dt
    import decimal

    if isinstance(v, dict):
        return ("map", tuple(sorted(((str(k), _frozen(x)) for k, x in v.items()), key=lambda kv: kv[0])))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(_frozen(x) for x in v))
    if type(v) in _SCALARS or isinstance(v, (_dt.date, _dt.time, _dt.timedelta, decimal.Decimal)):
        return (type(v).__name__, repr(v))
    raise _Unkeyable(type(v).__name__)


def _fresh_steps(c: Compiled) -> Compiled:
    """``c`` with copies of its steps: a step notes what its run made (a registered table)
    until it is dropped, so two runs of one cached compilation must not share them."""
    if not c.steps:
        return c
    return dataclasses.replace(c, steps=[copy.copy(st) for st in c.steps])


def read_nodes(con, ids, sparse: list[str] | None = None, rows: dict | None = None) -> dict[int, GNode]:
    """The nodes with these ids, as queries return them (decimals as floats: Cypher has none,
    and Neo4j holds them as floats). ``sparse``: see :func:`graphwatch.lookups.node_rows`.
    ``rows``: where to keep each node's row as read (by id), for :meth:`DuckDBEngine.node_rows_read`."""
    out = {}
    for rec in node_rows(con, ids, sparse):
        if rows is not None:
            rows[rec["nid"]] = rec
        props = {k: to_neo4j(v) for k, v in rec.items() if k not in _NODE_META and v is not None}
        out[rec["nid"]] = GNode(rec["nid"], rec["key"], tuple(sorted(rec["labels"])), props)
    return out


def read_rels(con, ids) -> dict[int, GRel]:
    """The relationships with these ids, as queries return them."""
    if not ids:
        return {}
    cols, rows = rel_rows(con, ids)
    out = {}
    for r in rows:
        rec = dict(zip(cols, r))
        props = {k: to_neo4j(v) for k, v in rec.items() if k not in _REL_META and v is not None}
        out[rec["rid"]] = GRel(rec["rid"], rec["type"], rec["src"], rec["dst"], props)
    return out


def _binding(row, ncols: int, bind_columns) -> Binding:
    """A row's :class:`Binding` from its hidden columns (after the ``ncols`` value columns)."""
    bn, br = set(), set()
    matches, truncated = 1, False
    for j, (_, kind, is_list) in enumerate(bind_columns):
        v = row[ncols + j]
        if v is None:
            continue
        if kind == "count":
            matches = int(v)
        elif kind == "truncated":
            truncated = bool(v)
        else:
            target = bn if kind == "node" else br
            if is_list:
                target.update(x for x in v if x is not None)
            else:
                target.add(v)
    return Binding(tuple(sorted(bn)), tuple(sorted(br)), matches, truncated)


def _collect_ids(v, t: str, nodes: set, rels: set) -> None:
    if v is None:
        return
    if t == "node":
        nodes.add(v)
    elif t == "rel":
        rels.add(v)
    elif t == "path":
        nodes.update(v["nodes"])
        rels.update(v["rels"])
    elif t == "rels" or t == "list:rel":
        rels.update(x for x in v if x is not None)
    elif t.startswith("list:"):
        for x in v:
            _collect_ids(x, t[5:], nodes, rels)


def _convert(v, t: str, nodes: dict, rels: dict):
    if v is None:
        return None
    if t == "node":
        return nodes[v]
    if t == "rel":
        return rels[v]
    if t == "path":
        return GPath(tuple(nodes[n] for n in v["nodes"]), tuple(rels[r] for r in v["rels"]))
    if t == "rels":
        return [rels[x] for x in v]
    if t.startswith("list:"):
        return [_convert(x, t[5:], nodes, rels) for x in v]
    return v


__all__ = ["DuckDBEngine", "PatternError"]
