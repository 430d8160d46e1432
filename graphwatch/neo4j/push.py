"""Push: copy a workspace graph into Neo4j — an export that writes Neo4j, not part of querying.

Constraints first (``nid`` unique per label, ``rid`` per type), then nodes and relationships
in batched ``UNWIND … CREATE``/``MERGE`` transactions; idempotent, resumable, and finished by
a count check. The workspace is only read. What a complete push wrote, and where, goes to
``<workspace>/neo4j/pushed.json``; :func:`require_pushed` is how the engine, opened for a
workspace, knows Neo4j holds that workspace's current graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..exc import EngineError
from .connection import Neo4jTarget, need_driver
from .values import to_neo4j

PUSH_STATE_FILE = Path("neo4j") / "push-state.json"
PUSHED_FILE = Path("neo4j") / "pushed.json"        # what the last complete push wrote, and where
# the workspace columns a node / relationship carries into Neo4j besides its id and the schema's properties
NODE_COLUMNS = ("key", "datasets")
# (a relationship's provenance: graphwatch.relfacts; a workspace opened read-only from before
# ``datasets`` existed has no such column, and its relationships carry none)
REL_COLUMNS = ("valid_from", "valid_to", "dataset", "record", "records", "datasets")

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
    phases: dict = field(default_factory=dict)     # seconds per phase (the bulk push's)

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


def _database(target: Neo4jTarget, session) -> tuple[str, str]:
    """The database's own id (the same after a restart on another port) and its name."""
    try:
        db = session.run("CALL db.info() YIELD id, name RETURN id, name").single()
    except BaseException as exc:
        raise target.error(exc, "reading the database id") from None
    return db["id"], db["name"]


def require_pushed(workspace: str | os.PathLike, target: Neo4jTarget, driver) -> None:
    """Refuse (EngineError) unless Neo4j holds ``workspace``'s current graph: the last
    complete push of it went to this very database and the workspace has not changed since."""
    from ..store import Workspace

    ws = Path(workspace)
    how = f"run 'graphwatch neo4j push --workspace {ws}'"
    pushed = ws / PUSHED_FILE
    if not pushed.exists():
        raise EngineError(f"{ws} has not been pushed to Neo4j yet: {how}")
    record = json.loads(pushed.read_text(encoding="utf-8"))
    with target.session(driver) as s:
        db_id, _ = _database(target, s)
    if db_id != record.get("database_id"):
        raise EngineError(f"the Neo4j database at {target.uri} is not the one {ws} was pushed to "
                          f"({record.get('uri')}): {how}")
    with Workspace(ws, read_only=True) as w:
        if _fingerprint(w.con) != record.get("fingerprint"):
            raise EngineError(f"{ws} changed since it was pushed to Neo4j ({record.get('at')}): {how}")


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

    need_driver()
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
                db_id, db_name = _database(target, s)
                state_key = {"fingerprint": fp, "database_id": db_id, "database": db_name,
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
                create_constraints(target, s, schema)

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
                counts = check_counts(target, s, ws)
                checkpoint(target, s)
        finally:
            driver.close()
        record_push(ws.path, fp, db_id, db_name, target.uri)
        return PushReport(n_nodes, n_rels, time.monotonic() - t0, batches, skipped, counts)
    finally:
        if own:
            ws.close()


def create_constraints(target: Neo4jTarget, session, schema, *, wait_s: int = 300) -> None:
    """``nid`` unique per label and ``rid`` per relationship type (idempotent), then wait for
    their indexes to be online."""
    for label in sorted(schema.labels):
        _run(target, session, f"CREATE CONSTRAINT {_cypher_name('gw_' + label + '_nid')} IF NOT EXISTS "
                              f"FOR (n:{_cypher_name(label)}) REQUIRE n.nid IS UNIQUE", {},
             "creating constraints", implicit=True)
    for typ in sorted(schema.rel_types):
        _run(target, session, f"CREATE CONSTRAINT {_cypher_name('gw_' + typ + '_rid')} IF NOT EXISTS "
                              f"FOR ()-[r:{_cypher_name(typ)}]-() REQUIRE r.rid IS UNIQUE", {},
             "creating constraints", implicit=True)
    _run(target, session, "CALL db.awaitIndexes($s)", {"s": wait_s}, "waiting for indexes", implicit=True)


def checkpoint(target: Neo4jTarget, session) -> None:
    """Ask for a checkpoint: the transaction logs a push wrote are then pruned (graphwatch's own
    server keeps only the newest; another server by its own retention policy)."""
    from .connection import nex

    try:
        session.run("CALL db.checkpoint()").consume()
    except nex.ClientError:     # not allowed to this user, or not that server's procedure: the
        pass                    # push is complete all the same, the logs are pruned later
    except BaseException as exc:
        raise target.error(exc, "checkpointing") from None


def record_push(ws_path: Path, fingerprint: str, db_id: str, db_name: str, uri: str) -> None:
    """Note that a complete push of this workspace state went to this database (see
    :func:`require_pushed`); a resumable push's state is then obsolete."""
    (ws_path / PUSH_STATE_FILE).unlink(missing_ok=True)
    (ws_path / PUSHED_FILE).write_text(json.dumps({
        "fingerprint": fingerprint, "database_id": db_id, "database": db_name,
        "uri": uri, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n", encoding="utf-8")


def _run(target: Neo4jTarget, session, cypher: str, params: dict, doing: str, *,
         write: bool = False, implicit: bool = False):
    try:
        if write:
            return session.execute_write(lambda tx: tx.run(cypher, params).consume())
        return session.run(cypher, params).consume()
    except BaseException as exc:
        raise target.error(exc, doing) from None


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
            names = ["nid", *NODE_COLUMNS] + props
            cur.execute(f"SELECT {', '.join(names[:3])}, {cols} FROM node WHERE list_sort(labels) = $ls ORDER BY nid",
                        {"ls": labels})
            while True:
                chunk = cur.fetchmany(size)
                if not chunk:
                    break
                out = []
                for row in chunk:
                    p = {k: to_neo4j(v) for k, v in zip(names[1:], row[1:]) if v is not None}
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
    props = rel_columns(con) + list(schema.rel_properties)
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
                        "props": {k: to_neo4j(v) for k, v in zip(props, row[3:]) if v is not None}}
                       for row in chunk]
            cur.close()
        steps.append((f"relationships {typ} ({sl}→{dl})", count, cypher, fetch))
    return steps


def rel_columns(con) -> list[str]:
    """The :data:`REL_COLUMNS` this workspace's ``rel`` has."""
    have = {c for c, in con.execute("""SELECT column_name FROM duckdb_columns()
        WHERE table_name = 'rel' AND schema_name = 'main' AND database_name <> 'temp'""").fetchall()}
    return [c for c in REL_COLUMNS if c in have]


def check_counts(target: Neo4jTarget, session, ws) -> dict:
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


__all__ = ["NODE_COLUMNS", "PUSHED_FILE", "REL_COLUMNS", "PUSH_STATE_FILE", "Progress", "PushReport", "check_counts", "checkpoint",
           "create_constraints", "push", "record_push", "rel_columns", "require_pushed"]
