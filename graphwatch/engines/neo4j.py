"""The Neo4j engine: the same Cypher on a real Neo4j server, and the push that fills it.

This is the only module that imports the ``neo4j`` driver. It holds

* :class:`Neo4jTarget` — where a server is (URI, user, password, database) and how to
  reach it, with every driver failure turned into a :class:`~graphwatch.exc.EngineError`
  that says what went wrong and never shows the password;
* :class:`Neo4jEngine` — runs graphwatch's Cypher subset (checked by the same parser and
  schema as the embedded engine, so a write clause never reaches the server) in read
  transactions and returns the :class:`~graphwatch.engines.base.Result` shape, with nodes
  and relationships mapped back to workspace ids;
* :func:`push` — copies a workspace graph into Neo4j: constraints first, then nodes and
  relationships in batched ``UNWIND … MERGE`` transactions; idempotent, resumable, and
  finished by a count check.

Workspace ids travel as the properties ``nid`` (nodes) and ``rid`` (relationships); a
node's workspace key is its ``key`` property and its provenance ``datasets``, a
relationship's ``dataset`` and ``record``, as in the workspace itself.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..exc import EngineError, GraphwatchError, MissingDependency
from .base import Binding, Engine, GNode, GPath, GRel, Result

try:  # the driver is an optional dependency: pip install 'graphwatch[neo4j]'
    import neo4j
    from neo4j import exceptions as nex
except ImportError:  # pragma: no cover - exercised only without the extra
    neo4j = None

NODE_ID, REL_ID = "nid", "rid"
_NODE_HIDDEN = {NODE_ID, "key", "datasets"}
_REL_HIDDEN = {REL_ID}
ENV_URI, ENV_USER, ENV_PASSWORD, ENV_DATABASE = ("GRAPHWATCH_NEO4J_URI", "GRAPHWATCH_NEO4J_USER",
                                                 "GRAPHWATCH_NEO4J_PASSWORD", "GRAPHWATCH_NEO4J_DATABASE")
SERVER_FILE = Path("neo4j") / "server.json"      # written by `graphwatch neo4j start`
PASSWORD_FILE = Path("neo4j") / "password"        # mode 0600, next to it
PUSH_STATE_FILE = Path("neo4j") / "push-state.json"
PUSHED_FILE = Path("neo4j") / "pushed.json"        # what the last complete push wrote, and where


def _need_driver() -> None:
    if neo4j is None:
        raise MissingDependency("the Neo4j engine needs the neo4j driver: pip install 'graphwatch[neo4j]'")


# -- where the server is -------------------------------------------------------------------
@dataclass
class Neo4jTarget:
    """A Neo4j server and the credentials to use. ``password`` is never printed (``repr``
    hides it) and never logged."""
    uri: str
    user: str = "neo4j"
    password: str | None = field(default=None, repr=False)
    database: str | None = None

    @classmethod
    def resolve(cls, workspace: str | os.PathLike | None = None, *, uri: str | None = None,
                user: str | None = None, password: str | None = None,
                database: str | None = None) -> "Neo4jTarget":
        """Flags first, then ``GRAPHWATCH_NEO4J_*`` environment variables, then the server
        that ``graphwatch neo4j start`` recorded in the workspace."""
        uri = uri or os.environ.get(ENV_URI)
        user = user or os.environ.get(ENV_USER)
        password = password if password is not None else os.environ.get(ENV_PASSWORD)
        database = database or os.environ.get(ENV_DATABASE)
        if not uri and workspace is not None:
            info = server_info(workspace)
            if info:
                uri = info["uri"]
                user = user or info.get("user")
                if password is None and info.get("auth"):
                    pw_file = Path(workspace) / PASSWORD_FILE
                    password = pw_file.read_text(encoding="utf-8").strip() if pw_file.exists() else None
        if not uri:
            where = f" and {Path(workspace) / SERVER_FILE} does not exist" if workspace is not None else ""
            raise EngineError(f"no Neo4j server given: pass --uri or set {ENV_URI}{where}; "
                              f"'graphwatch neo4j start --workspace WS' starts one")
        return cls(uri=uri, user=user or "neo4j", password=password, database=database)

    def driver(self):
        _need_driver()
        auth = (self.user, self.password) if self.password else None
        try:
            d = neo4j.GraphDatabase.driver(self.uri, auth=auth, connection_timeout=10,
                                           max_transaction_retry_time=0, notifications_min_severity="OFF")
        except (ValueError, nex.ConfigurationError) as exc:
            raise EngineError(f"Neo4j URI {self.uri!r} is not valid: {exc}") from None
        try:
            d.verify_connectivity()
            d.verify_authentication()
        except BaseException as exc:
            d.close()
            raise self.error(exc, "connecting") from None
        return d

    def error(self, exc: BaseException, doing: str) -> GraphwatchError:
        """A clear error for a driver exception (the password is never part of it)."""
        if isinstance(exc, GraphwatchError):
            return exc
        if neo4j is not None and isinstance(exc, nex.AuthError):
            return EngineError(f"Neo4j at {self.uri} refused user {self.user!r}: wrong user or password "
                               f"(set {ENV_PASSWORD}, or use the server 'graphwatch neo4j start' recorded)")
        if neo4j is not None and isinstance(exc, (nex.ServiceUnavailable, nex.SessionExpired, OSError)):
            return EngineError(f"Neo4j at {self.uri} is unreachable while {doing}: {_short(exc)}; "
                               f"is the server running? ('graphwatch neo4j status --workspace WS')")
        if neo4j is not None and isinstance(exc, nex.Neo4jError):
            return EngineError(f"Neo4j at {self.uri} failed while {doing}: {exc.code}: {_short(exc)}")
        if neo4j is not None and isinstance(exc, nex.DriverError):
            return EngineError(f"Neo4j at {self.uri}: driver error while {doing}: {_short(exc)}")
        raise exc

    def session(self, driver, **kw):
        return driver.session(database=self.database, **kw)


def _short(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:300]


def server_info(workspace: str | os.PathLike) -> dict | None:
    f = Path(workspace) / SERVER_FILE
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


def wait_ready(target: Neo4jTarget, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until Bolt answers (a query runs) or raise after ``timeout`` seconds."""
    _need_driver()
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise EngineError("the Neo4j server process exited while starting")
        try:
            with neo4j.GraphDatabase.driver(target.uri, auth=(target.user, target.password) if target.password
                                            else None, connection_timeout=2) as d:
                with d.session(database=target.database) as s:
                    s.run("RETURN 1").consume()
            return
        except (nex.ServiceUnavailable, nex.SessionExpired, OSError, nex.DatabaseUnavailable) as exc:
            last = exc
            time.sleep(0.5)
        except nex.Neo4jError as exc:
            if exc.code and "DatabaseUnavailable" in exc.code:
                last = exc
                time.sleep(0.5)
                continue
            raise target.error(exc, "waiting for the server") from None
    raise EngineError(f"Neo4j at {target.uri} did not answer within {timeout:.0f} s"
                      + (f" ({_short(last)})" if last else ""))


# -- the engine ----------------------------------------------------------------------------
class Neo4jEngine(Engine):
    """Run graphwatch Cypher on Neo4j.

    Parameters
    ----------
    workspace : the workspace whose server (``graphwatch neo4j start``) to use, or None
    target : an explicit :class:`Neo4jTarget` (else resolved from flags/environment/workspace)
    """

    name = "neo4j"

    def __init__(self, workspace=None, *, target: Neo4jTarget | None = None, options=None,
                 timeout: float | None = None, **connect):
        from ..schema import load_schema

        self.timeout = timeout          # seconds per query; the server cancels it after that
        self.target = target or Neo4jTarget.resolve(workspace, **connect)
        self.schema = load_schema()
        self.options = options
        self._driver = self.target.driver()
        if workspace is not None:
            try:
                self._check_pushed(Path(workspace))
            except BaseException:
                self._driver.close()
                raise

    def _check_pushed(self, ws: Path) -> None:
        """Opened for a workspace: Neo4j must hold that workspace's current graph."""
        from ..store import Workspace

        how = f"run 'graphwatch neo4j push --workspace {ws}'"
        pushed = ws / PUSHED_FILE
        if not pushed.exists():
            raise EngineError(f"{ws} has not been pushed to Neo4j yet: {how}")
        record = json.loads(pushed.read_text(encoding="utf-8"))
        try:
            with self.target.session(self._driver) as s:
                db_id = s.run("CALL db.info() YIELD id RETURN id").single()["id"]
        except BaseException as exc:
            raise self.target.error(exc, "reading the database id") from None
        if db_id != record.get("database_id"):
            raise EngineError(f"the Neo4j database at {self.target.uri} is not the one {ws} was pushed to "
                              f"({record.get('uri')}): {how}")
        with Workspace(ws, read_only=True) as w:
            if _fingerprint(w.con) != record.get("fingerprint"):
                raise EngineError(f"{ws} changed since it was pushed to Neo4j ({record.get('at')}): {how}")

    def close(self) -> None:
        self._driver.close()

    def _check(self, cypher: str, params: dict):
        """The same parse and check the embedded engine runs (:func:`graphwatch.cypher.check`):
        unsupported Cypher and every write clause are refused before anything reaches the server."""
        from ..cypher import check, parse

        return check(parse(cypher), schema=self.schema, params=params, options=self.options)

    def explain(self, cypher: str, params: dict | None = None) -> str:
        params = params or {}
        self._check(cypher, params)
        try:
            with self.target.session(self._driver, default_access_mode=neo4j.READ_ACCESS) as s:
                summary = s.run("EXPLAIN " + cypher, _bind(params)).consume()
        except BaseException as exc:
            raise self.target.error(exc, "explaining a query") from None
        return cypher + "\n-- Neo4j plan:\n" + _plan_text(summary.plan)

    def run(self, cypher: str, params: dict | None = None) -> Result:
        params = params or {}
        statement, hidden = _with_bindings(self._check(cypher, params))

        @neo4j.unit_of_work(timeout=self.timeout)
        def work(tx):
            res = tx.run(statement, _bind(params))
            keys, raw = res.keys(), [tuple(r.values()) for r in res]
            # a relationship returned alone carries its end nodes' element ids only
            ends = {n.element_id for r in _walk_rels(raw) for n in (r.start_node, r.end_node)
                    if n is not None and NODE_ID not in n}
            nids = {}
            if ends:
                nids = dict(tx.run("MATCH (n) WHERE elementId(n) IN $ids RETURN elementId(n), n.nid",
                                   {"ids": sorted(ends)}).values())
            return keys, raw, nids

        try:
            with self.target.session(self._driver, default_access_mode=neo4j.READ_ACCESS) as s:
                keys, raw, nids = s.execute_read(work)
        except BaseException as exc:
            raise self.target.error(exc, "running a query") from None
        # the columns are Neo4j's, as Neo4j names and orders them, without the hidden binding
        # columns (and, after RETURN *, the names given to anonymous elements)
        shown = [i for i, k in enumerate(keys) if k not in hidden]
        last = max(int(k[len(BIND_NODES):]) for k in keys if k.startswith(BIND_NODES))
        bn_i, br_i = keys.index(f"{BIND_NODES}{last}"), keys.index(f"{BIND_RELS}{last}")
        columns = [keys[i] for i in shown]
        rows, bindings = [], []
        for r in raw:
            conv = _Convert(nids)
            rows.append(tuple(conv(r[i]) for i in shown))
            bn = conv.nodes | {x for x in r[bn_i] or [] if x is not None}
            br = conv.rels | {x for x in r[br_i] or [] if x is not None}
            bindings.append(Binding(tuple(sorted(bn)), tuple(sorted(br))))
        return Result(columns, rows, bindings, engine=self.name, query=cypher, statement=statement)


def _walk_rels(values):
    from neo4j.graph import Path as NPath, Relationship

    for v in values:
        if isinstance(v, Relationship):
            yield v
        elif isinstance(v, NPath):
            yield from v.relationships
        elif isinstance(v, (list, tuple)):
            yield from _walk_rels(v)
        elif isinstance(v, dict):
            yield from _walk_rels(list(v.values()))


BIND_NODES, BIND_RELS = "__gw_bind_nodes", "__gw_bind_rels"


def _with_bindings(checked) -> tuple[str, set[str]]:
    """The query text with every pattern element named and two hidden columns added to each
    WITH / RETURN: the workspace ids of the nodes and relationships the row was built from,
    carried through WITH stages and collected over a group where a projection aggregates
    or is DISTINCT (the embedded engine's bindings, computed by Neo4j). Pattern predicates
    are left alone: they bind nothing, as on the embedded engine. Returns the statement and
    the names it added (hidden from the result)."""
    from ..cypher import ir

    text = checked.query.text
    edits: list[tuple[int, int, str]] = []      # (start, end, replacement) on the original text
    added: set[str] = set()

    def quoted(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def fresh(kind: str) -> str:
        name = f"_gw_{kind}{len(added) + 1}"
        added.add(name)
        return name

    carried = 0                  # the stage whose binding columns are in scope (0: none)
    singles_n: list[str] = []
    singles_r: list[str] = []
    lists_r: list[str] = []      # relationship lists (variable length, shortest paths)
    for clause in checked.query.clauses:
        if isinstance(clause, ir.Match):
            for path in clause.paths:
                for n in path.nodes:
                    if n.var is None:
                        v = fresh("n")
                        edits.append((n.src_start + 1, n.src_start + 1, v))
                    else:
                        v = n.var
                    singles_n.append(v)
                for r in path.rels:
                    is_list = r.var_length or path.kind != "plain"
                    if r.var is None:
                        v = fresh("r")
                        span = text[r.src_start:r.src_end]
                        if "[" in span:
                            at = r.src_start + span.index("[") + 1
                            edits.append((at, at, v))
                        else:
                            arrow = {"in": f"<-[{v}]-", "out": f"-[{v}]->", "both": f"-[{v}]-"}[r.direction]
                            edits.append((r.src_start, r.src_end, arrow))
                    else:
                        v = r.var
                    (lists_r if is_list else singles_r).append(v)
        elif isinstance(clause, ir.Projection):
            # each stage names its own columns: WITH * keeps the previous ones in scope
            parts_n = [f"{BIND_NODES}{carried}"] if carried else []
            parts_r = [f"{BIND_RELS}{carried}"] if carried else []
            if singles_n:
                parts_n.append(f"[x IN [{', '.join(map(quoted, singles_n))}] WHERE x IS NOT NULL | x.nid]")
            if singles_r:
                parts_r.append(f"[x IN [{', '.join(map(quoted, singles_r))}] WHERE x IS NOT NULL | x.rid]")
            for lr in map(quoted, lists_r):
                parts_r.append(f"[x IN coalesce({lr}, []) | x.rid]")
                parts_n.append(f"[x IN coalesce({lr}, []) | startNode(x).nid] + "
                               f"[x IN coalesce({lr}, []) | endNode(x).nid]")
            en = " + ".join(parts_n) or "[]"
            er = " + ".join(parts_r) or "[]"
            if checked.is_grouped(clause):
                en = f"reduce(a = [], b IN collect({en}) | a + b)"
                er = f"reduce(a = [], b IN collect({er}) | a + b)"
            added |= {f"{BIND_NODES}{carried + 1}", f"{BIND_RELS}{carried + 1}"}
            extra = f"{en} AS {BIND_NODES}{carried + 1}, {er} AS {BIND_RELS}{carried + 1}"
            if clause.items:
                at = clause.items[-1].src_end
            else:                                   # WITH * / RETURN * alone: after the star
                at = text.index("*", clause.src_start) + 1
            edits.append((at, at, ", " + extra))
            carried += 1
            singles_n, singles_r, lists_r = [], [], []
    out = text
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + repl + out[end:]
    return out, added


def _plan_text(plan, depth: int = 0) -> str:
    if not plan:
        return ""
    line = "  " * depth + plan.get("operatorType", "?") + "\n"
    return line + "".join(_plan_text(c, depth + 1) for c in plan.get("children", []))


def _bind(params: dict) -> dict:
    """Parameters as the driver sends them (decimals as floats, as the workspace reads them)."""
    def conv(v):
        if isinstance(v, decimal.Decimal):
            return float(v)
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return {k: conv(v) for k, v in params.items()}


class _Convert:
    """Driver values to graphwatch values; remembers the workspace ids it met (the bindings)."""

    def __init__(self, nids: dict):
        self.nids = nids            # element id -> nid, for relationships' end nodes
        self.nodes: set = set()
        self.rels: set = set()

    def __call__(self, v):
        from neo4j.graph import Node, Path as NPath, Relationship

        if v is None:
            return None
        if isinstance(v, Node):
            return self.node(v)
        if isinstance(v, Relationship):
            return self.rel(v)
        if isinstance(v, NPath):
            return GPath(tuple(self.node(n) for n in v.nodes), tuple(self.rel(r) for r in v.relationships))
        if isinstance(v, list):
            return [self(x) for x in v]
        if isinstance(v, dict):
            return {k: self(x) for k, x in v.items()}
        if isinstance(v, neo4j.time.Duration):
            return v
        if hasattr(v, "to_native"):
            return v.to_native()
        return v

    def node(self, n) -> GNode:
        props = dict(n.items())
        nid = props.get(NODE_ID)
        if nid is None:
            raise EngineError("Neo4j returned a node without a graphwatch id (nid): the database holds data "
                              "that 'graphwatch neo4j push' did not write")
        self.nodes.add(nid)
        return GNode(nid, props.get("key"), tuple(sorted(n.labels)),
                     {k: _Convert.plain(v) for k, v in props.items() if k not in _NODE_HIDDEN})

    def end(self, n):
        if n is None:
            return None
        return n.get(NODE_ID) if NODE_ID in n else self.nids.get(n.element_id)

    def rel(self, r) -> GRel:
        props = dict(r.items())
        rid = props.get(REL_ID)
        if rid is None:
            raise EngineError("Neo4j returned a relationship without a graphwatch id (rid)")
        self.rels.add(rid)
        return GRel(rid, r.type, self.end(r.start_node), self.end(r.end_node),
                    {k: _Convert.plain(v) for k, v in props.items() if k not in _REL_HIDDEN})

    @staticmethod
    def plain(v):
        if isinstance(v, list):
            return [_Convert.plain(x) for x in v]
        if hasattr(v, "to_native") and not isinstance(v, neo4j.time.Duration):
            return v.to_native()
        return v


# -- push ----------------------------------------------------------------------------------
#: progress callback: (step description, rows done, rows total)
Progress = Callable[[str, int, int], None]


@dataclass
class PushReport:
    nodes: int
    rels: int
    seconds: float
    batches: int
    skipped_batches: int
    counts: dict

    @property
    def rows_per_second(self) -> float:
        return (self.nodes + self.rels) / self.seconds if self.seconds else 0.0


def _fingerprint(con) -> str:
    """Changes whenever the workspace graph changes (counts, id ranges, load reports)."""
    parts = con.execute("""SELECT (SELECT count(*) FROM node), (SELECT coalesce(max(nid), 0) FROM node),
        (SELECT coalesce(sum(hash(key) % 1000003), 0) FROM node), (SELECT count(*) FROM rel),
        (SELECT coalesce(sum(hash(rid) % 1000003), 0) FROM rel),
        (SELECT coalesce(string_agg(dataset || ':' || coalesce(sha256, '') || ':' || CAST(loaded_at AS VARCHAR), ','
                                     ORDER BY dataset), '') FROM load_report)""").fetchone()
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _cypher_name(name: str) -> str:
    """A label, type or property name for Cypher text; names come from the schema only."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise EngineError(f"name {name!r} cannot be used in Cypher")
    return "`" + name + "`"


def push(workspace, target: Neo4jTarget, *, batch_size: int = 10_000, progress: Progress | None = None,
         clear: bool = False) -> PushReport:
    """Copy a workspace graph into Neo4j (see the module doc). The workspace is only read.

    Resumable: after every committed batch the step and batch number go to
    ``<workspace>/neo4j/push-state.json`` (with the workspace fingerprint and the database's
    id); a rerun skips the committed batches. Into an empty database the batches CREATE;
    into one that holds anything (a rerun, a second push) they MERGE on the workspace ids, so
    a rerun without that file (or after it is lost) gives the same graph.
    """
    from ..store import Workspace

    _need_driver()
    t0 = time.monotonic()
    own = not isinstance(workspace, Workspace)
    ws = Workspace(workspace, read_only=True) if own else workspace
    progress = progress or (lambda *a: None)
    try:
        con = ws.con
        schema = ws.schema
        fp = _fingerprint(con)
        state_file = ws.path / PUSH_STATE_FILE
        driver = target.driver()
        try:
            with target.session(driver) as s:
                # the database's own id: the same after a restart on another port
                try:
                    db = s.run("CALL db.info() YIELD id, name RETURN id, name").single()
                except BaseException as exc:
                    raise target.error(exc, "reading the database id") from None
                state_key = {"fingerprint": fp, "database_id": db["id"], "database": db["name"],
                             "batch_size": batch_size}
                state = {}
                if state_file.exists() and not clear:
                    saved = json.loads(state_file.read_text(encoding="utf-8"))
                    if {k: saved.get(k) for k in state_key} == state_key:
                        state = saved.get("done", {})
                if clear:
                    progress("clearing the database", 0, 0)
                    # relationships first: a hub's DETACH DELETE would be one huge transaction
                    _run(target, s, "MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 50000 ROWS",
                         {}, "clearing the database", implicit=True)
                    _run(target, s, "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 50000 ROWS",
                         {}, "clearing the database", implicit=True)
                progress("constraints and indexes", 0, 0)
                for label in sorted(schema.labels):
                    _run(target, s, f"CREATE CONSTRAINT {_cypher_name('gw_' + label + '_nid')} IF NOT EXISTS "
                                    f"FOR (n:{_cypher_name(label)}) REQUIRE n.nid IS UNIQUE", {},
                         "creating constraints", implicit=True)
                for typ in sorted(schema.rel_types):
                    _run(target, s, f"CREATE CONSTRAINT {_cypher_name('gw_' + typ + '_rid')} IF NOT EXISTS "
                                    f"FOR ()-[r:{_cypher_name(typ)}]-() REQUIRE r.rid IS UNIQUE", {},
                         "creating constraints", implicit=True)
                _run(target, s, "CALL db.awaitIndexes(300)", {}, "waiting for indexes", implicit=True)

                n_nodes = con.execute("SELECT count(*) FROM node").fetchone()[0]
                n_rels = con.execute("SELECT count(*) FROM rel").fetchone()[0]
                total = n_nodes + n_rels
                done_rows, batches, skipped = 0, 0, 0

                def save(step: str, b: int) -> None:
                    state.setdefault(step, []).append(b)
                    state_file.parent.mkdir(parents=True, exist_ok=True)
                    tmp = state_file.with_suffix(".tmp")
                    tmp.write_text(json.dumps({**state_key, "done": state}), encoding="utf-8")
                    os.replace(tmp, state_file)

                # into an empty database no batch can exist but the ones this run commits, so
                # CREATE is safe (and much cheaper); otherwise MERGE on the workspace ids
                try:
                    empty = s.run("MATCH (n) RETURN count(n) = 0 AS e").single()["e"]
                except BaseException as exc:
                    raise target.error(exc, "counting nodes") from None
                mode = "create" if empty else "merge"
                node_props = [p for p in schema.node_properties]
                for step, count, cypher, fetch in _node_steps(con, node_props) + _rel_steps(con, schema):
                    done_set = set(state.get(step, []))
                    for b, rows in enumerate(fetch(batch_size)):
                        if b in done_set:
                            skipped += 1
                        else:
                            _run(target, s, cypher[mode], {"rows": rows}, f"pushing {step}", write=True)
                            save(step, b)
                        batches += 1
                        done_rows += len(rows)
                        progress(step, done_rows, total)
                progress("count check", done_rows, total)
                counts = _check_counts(target, s, ws)
        finally:
            driver.close()
        if state_file.exists():
            state_file.unlink()
        (ws.path / PUSHED_FILE).write_text(json.dumps({
            "fingerprint": fp, "database_id": state_key["database_id"], "database": state_key["database"],
            "uri": target.uri, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n", encoding="utf-8")
        return PushReport(n_nodes, n_rels, time.monotonic() - t0, batches, skipped, counts)
    finally:
        if own:
            ws.close()


def _run(target: Neo4jTarget, session, cypher: str, params: dict, doing: str, *,
         write: bool = False, implicit: bool = False):
    try:
        if write:
            return session.execute_write(lambda tx: tx.run(cypher, params).consume())
        return session.run(cypher, params).consume()
    except BaseException as exc:
        raise target.error(exc, doing) from None


def _plain(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def _node_steps(con, props: list[str]):
    """One step per label combination; a node is merged on its first label (sorted)."""
    combos = con.execute("""SELECT list_sort(labels) AS ls, count(*) FROM node GROUP BY ls ORDER BY ls""").fetchall()
    steps = []
    for labels, count in combos:
        first, rest = labels[0], labels[1:]
        extra = "".join(f":{_cypher_name(x)}" for x in rest)
        cypher = {"merge": f"UNWIND $rows AS r MERGE (n:{_cypher_name(first)} {{nid: r.nid}}) "
                           f"SET n = r.props, n.nid = r.nid" + (f", n{extra}" if extra else ""),
                  "create": f"UNWIND $rows AS r CREATE (n:{_cypher_name(first)}{extra}) "
                            f"SET n = r.props, n.nid = r.nid"}
        cols = ", ".join(f'"{p}"' for p in props)

        def fetch(size, labels=labels, cols=cols):
            cur = con.cursor()
            cur.execute(f"SELECT nid, key, datasets, {cols} FROM node WHERE list_sort(labels) = $ls ORDER BY nid",
                        {"ls": labels})
            names = ["nid", "key", "datasets"] + props
            while True:
                chunk = cur.fetchmany(size)
                if not chunk:
                    break
                out = []
                for row in chunk:
                    p = {k: _plain(v) for k, v in zip(names[1:], row[1:]) if v is not None}
                    out.append({"nid": row[0], "props": p})
                yield out
            cur.close()
        steps.append((f"nodes {':'.join(labels)}", count, cypher, fetch))
    return steps


def _rel_steps(con, schema):
    """One step per (type, first label of each end); relationships merged on their id."""
    ends = """(SELECT r.*, list_sort(a.labels)[1] AS src_label, list_sort(b.labels)[1] AS dst_label
        FROM rel r JOIN node a ON a.nid = r.src JOIN node b ON b.nid = r.dst)"""
    combos = con.execute(f"SELECT type, src_label, dst_label, count(*) FROM {ends} GROUP BY ALL ORDER BY ALL").fetchall()
    props = ["valid_from", "valid_to", "dataset", "record"] + list(schema.rel_properties)
    cols = ", ".join(f'"{p}"' for p in props)
    steps = []
    for typ, sl, dl, count in combos:
        ends_match = (f"UNWIND $rows AS r MATCH (a:{_cypher_name(sl)} {{nid: r.src}}) "
                      f"MATCH (b:{_cypher_name(dl)} {{nid: r.dst}}) ")
        cypher = {"merge": ends_match + f"MERGE (a)-[x:{_cypher_name(typ)} {{rid: r.rid}}]->(b) "
                                        f"SET x = r.props, x.rid = r.rid",
                  "create": ends_match + f"CREATE (a)-[x:{_cypher_name(typ)}]->(b) SET x = r.props, x.rid = r.rid"}

        def fetch(size, typ=typ, sl=sl, dl=dl):
            cur = con.cursor()
            cur.execute(f"""SELECT rid, src, dst, {cols} FROM {ends}
                WHERE type = $t AND src_label = $sl AND dst_label = $dl ORDER BY rid""",
                        {"t": typ, "sl": sl, "dl": dl})
            while True:
                chunk = cur.fetchmany(size)
                if not chunk:
                    break
                yield [{"rid": row[0], "src": row[1], "dst": row[2],
                        "props": {k: _plain(v) for k, v in zip(props, row[3:]) if v is not None}}
                       for row in chunk]
            cur.close()
        steps.append((f"relationships {typ} ({sl}→{dl})", count, cypher, fetch))
    return steps


def _check_counts(target: Neo4jTarget, session, ws) -> dict:
    """Neo4j must hold exactly the workspace's nodes per label and relationships per type."""
    want = ws.counts()
    want_totals = ws.totals()
    got_labels, got_types = {}, {}
    try:
        for label in sorted(set(want["labels"]) | set(ws.schema.labels)):
            got_labels[label] = session.run(f"MATCH (n:{_cypher_name(label)}) RETURN count(n) AS c").single()["c"]
        for typ in sorted(set(want["types"]) | set(ws.schema.rel_types)):
            got_types[typ] = session.run(f"MATCH ()-[r:{_cypher_name(typ)}]->() RETURN count(r) AS c").single()["c"]
        n_all = session.run("MATCH (n) RETURN count(n) AS c").single()["c"]
        r_all = session.run("MATCH ()-[r]->() RETURN count(r) AS c").single()["c"]
    except BaseException as exc:
        raise target.error(exc, "checking counts") from None
    diffs = []
    for label, c in got_labels.items():
        if c != want["labels"].get(label, 0):
            diffs.append(f":{label} {c} in Neo4j vs {want['labels'].get(label, 0)} in the workspace")
    for typ, c in got_types.items():
        if c != want["types"].get(typ, 0):
            diffs.append(f"[:{typ}] {c} in Neo4j vs {want['types'].get(typ, 0)} in the workspace")
    if n_all != want_totals["nodes"]:
        diffs.append(f"{n_all} nodes in Neo4j vs {want_totals['nodes']} in the workspace")
    if r_all != want_totals["relationships"]:
        diffs.append(f"{r_all} relationships in Neo4j vs {want_totals['relationships']} in the workspace")
    if diffs:
        raise EngineError("after the push Neo4j does not hold exactly the workspace graph: " + "; ".join(diffs[:8])
                          + ". The database holds other data or an older push of a changed workspace; "
                            "rerun with --clear to replace its contents")
    return {"nodes": n_all, "relationships": r_all, "labels": got_labels, "types": got_types}


__all__ = ["Neo4jEngine", "Neo4jTarget", "PushReport", "push", "server_info", "wait_ready"]
