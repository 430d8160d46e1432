"""Bulk push: the workspace graph into graphwatch's own Neo4j server by Neo4j's offline importer.

The same graph :func:`graphwatch.neo4j.push.push` writes (labels, ``nid`` / ``rid`` / ``key``
and every property with the type the driver would give it: dates as dates, timestamps as
local datetimes, decimals as floats, lists as lists; the same unique constraints), made the
way Neo4j makes a new database from files: DuckDB writes the nodes and relationships as CSV
(``COPY … TO``), ``neo4j-admin database import full`` (the ``neo4j-import-tool`` jar, already
on the launcher's classpath) builds the store offline, the server is started on it, the
constraints are created and the counts checked.

The import replaces the whole database and needs the server stopped: a running server is
stopped and restarted with its settings, port and password (clients keep working); one that
was not running is started for the constraints and the count check, then stopped again.
Into another server (``--uri``), or with ``--online``, the push goes through the driver.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ..exc import EngineError
from . import server as neo4j_server
from .connection import Neo4jTarget, need_driver, server_info
from .push import (NODE_COLUMNS, PUSHED_FILE, Progress, PushReport, _cypher_name, _database, _fingerprint,
                   check_counts, checkpoint, create_constraints, record_push, rel_columns)

IMPORT_DIR = Path("neo4j") / "bulk-import"       # the CSV files, removed after the import
DATABASE = "neo4j"                                # the default database of graphwatch's server
ADMIN_CLASS = "org.neo4j.cli.AdminTool"           # neo4j-admin's entry point (neo4j-command-line)
ARRAY_DELIMITER = "\x1f"                          # unit separator: not in any list element (checked)

# DuckDB type → the importer's header type; a list type maps its element type
_SCALAR = {"VARCHAR": "string", "DATE": "date", "TIMESTAMP": "localdatetime", "BOOLEAN": "boolean",
           "DOUBLE": "double", "FLOAT": "double", "BIGINT": "long", "INTEGER": "long", "SMALLINT": "long",
           "TINYINT": "long", "UINTEGER": "long", "USMALLINT": "long", "UTINYINT": "long"}


def _column(name: str, duck_type: str) -> tuple[str, str] | str:
    """``(header field, SQL expression)`` writing a column as push would send it, or the
    reason it cannot be written so."""
    q = '"' + _cypher_name(name).strip("`") + '"'
    is_list = duck_type.endswith("[]")
    base = duck_type[:-2] if is_list else duck_type
    kind = "double" if base.startswith("DECIMAL") else _SCALAR.get(base)
    if kind is None or (is_list and kind == "localdatetime"):
        return f"column {name} has type {duck_type}, which the importer path does not write"
    if is_list:
        return f"{name}:{kind}[]", f"array_to_string({q}, chr(31))"
    if kind == "localdatetime":
        return f"{name}:{kind}", f"strftime({q}, '%Y-%m-%dT%H:%M:%S.%f')"
    if base == "FLOAT":               # the driver sends a float32 widened to a double
        return f"{name}:{kind}", f"CAST({q} AS DOUBLE)"
    return f"{name}:{kind}", q        # decimals as their text: Java parses it to the nearest double


def _plan(con, schema) -> tuple[list, list, list[str]]:
    """The node and relationship CSV columns, and why the importer cannot make push's graph
    (empty lists, null or empty list elements, elements holding the delimiter, other types)."""
    types = {(t, c): d for t, c, d in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_name IN ('node', 'rel') AND table_schema = current_schema()").fetchall()}
    blockers: list[str] = []
    cols: dict[str, list] = {"node": [(":ID", "nid"), ("nid:long", "nid"), (":LABEL", "array_to_string(labels, chr(31))")],
                             "rel": [(":START_ID", "src"), (":END_ID", "dst"), (":TYPE", "type"), ("rid:long", "rid")]}
    lists = {"node": ["labels"], "rel": []}
    for table, names in (("node", [*NODE_COLUMNS, *schema.node_properties]),
                         ("rel", [*rel_columns(con), *schema.rel_properties])):
        for name in names:
            got = _column(name, types[(table, name)])
            if isinstance(got, str):
                blockers.append(got)
                continue
            cols[table].append(got)
            if types[(table, name)].endswith("[]"):
                lists[table].append(name)
    for table, names in lists.items():
        for name in names:
            q = f'"{name}"'
            bad = con.execute(f"""SELECT count(*) FROM {table} WHERE len({q}) = 0
                OR list_count({q}) < len({q})
                OR len(list_filter({q}, lambda x: CAST(x AS VARCHAR) = '' OR contains(CAST(x AS VARCHAR), chr(31)))) > 0
                """).fetchone()[0]
            if bad:
                blockers.append(f"{bad:,} {table} rows have an empty {name} list, or a null, empty or "
                                "control-character element in it")
    return cols["node"], cols["rel"], blockers


def bulk_blockers(workspace) -> list[str]:
    """Why the offline importer cannot make the graph push makes, for this workspace ([] if it can)."""
    from ..store import Workspace

    with Workspace(workspace, read_only=True) as ws:
        return _plan(ws.con, ws.schema)[2]


def _export(con, cols: list, table: str, folder: Path, compress: bool = False) -> tuple[Path, Path, bool]:
    """Header file and data file (no header; gzip if ``compress``) for ``table``; and whether a
    value spans lines."""
    header, data = folder / f"{table}-header.csv", folder / (f"{table}.csv" + (".gz" if compress else ""))
    header.write_text(",".join(h for h, _ in cols) + "\n", encoding="utf-8")
    path = str(data).replace("'", "''")        # COPY takes no parameter for its file
    con.execute(f"COPY (SELECT {', '.join(e for _, e in cols)} FROM {table}) TO '{path}' "
                "(FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"'"
                + (", COMPRESSION gzip)" if compress else ")"))
    texts = [e for h, e in cols if h.endswith(":string") or h.endswith(":string[]")]
    multiline = bool(texts) and con.execute(
        f"SELECT count(*) FROM {table} WHERE " + " OR ".join(
            f"contains({e}, chr(10)) OR contains({e}, chr(13))" for e in texts)).fetchone()[0] > 0
    return header, data, multiline


_PHASE = re.compile(r"^\((\d)/(\d)\) (.+?) \d{4}-\d\d-\d\d")
_PERCENT = re.compile(r"(\d{1,3})% ∆")


def _run_importer(home: Path, nodes: tuple[Path, Path], rels: tuple[Path, Path], multiline: bool,
                  progress: Progress, *, heap: str, memory: str, report: Path) -> None:
    launcher = neo4j_server.build_launcher()
    cmd = [neo4j_server._java(), f"-Xmx{heap}", "-cp", launcher.classpath, ADMIN_CLASS,
           "database", "import", "full", DATABASE, "--overwrite-destination",
           f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}", f"--threads={os.cpu_count() or 1}",
           f"--max-off-heap-memory={memory}", f"--report-file={report}",
           f"--nodes={nodes[0]},{nodes[1]}", f"--relationships={rels[0]},{rels[1]}"]
    if multiline:
        cmd.append("--multiline-fields=true")
    env = {**os.environ, "NEO4J_HOME": str(home)}
    env.pop("NEO4J_CONF", None)
    tail: list[str] = []
    phase, phases, name = 1, 4, "starting"
    with subprocess.Popen(cmd, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace") as proc:
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-40:]
            m = _PHASE.match(line)
            if m:
                phase, phases, name = int(m[1]), int(m[2]), m[3]
                progress(f"Neo4j importer ({phase}/{phases}) {name}", (phase - 1) * 100, phases * 100)
                continue
            if line.startswith("IMPORT DONE"):
                progress("Neo4j importer: done", phases * 100, phases * 100)
            m = _PERCENT.search(line)
            if m:
                progress(f"Neo4j importer ({phase}/{phases}) {name}", (phase - 1) * 100 + int(m[1]), phases * 100)
    if proc.returncode != 0:
        why = [t for t in tail if t.strip() and not t.lstrip().startswith(("at ", "... ", "for header:"))
               and "%" not in t][-12:]
        raise EngineError(f"Neo4j's importer failed (exit status {proc.returncode}); the database "
                          f"{home / 'data' / 'databases' / DATABASE} is left unusable until a push "
                          "succeeds:\n" + "\n".join(why))


def _need_disk(where: Path, folder: Path) -> None:
    """The store takes about twice the CSV files' size (they stay until the import ends; a
    gzip file is counted as if it were five times its size)."""
    csv = sum(f.stat().st_size * (5 if f.suffix == ".gz" else 1) for f in folder.glob("*.csv*"))
    free = shutil.disk_usage(where).free
    if free < 2 * csv:
        raise EngineError(f"the import needs about {2 * csv / 2**30:.1f} GiB free beside the {csv / 2**30:.1f} GiB of "
                          f"CSV files in {folder}, and {free / 2**30:.1f} GiB are free (the database was not touched)")


def bulk_push(workspace, *, progress: Progress | None = None, heap: str = "1g", memory: str = "2G",
              compress: bool = False, keep_files: bool = False) -> PushReport:
    """Replace the database of the workspace's own server by the workspace graph, through
    Neo4j's offline importer (see the module doc). The workspace is only read.

    ``compress`` writes the CSV files gzipped: about a fifth of the disk, several times
    slower to write (for a big county on a full disk)."""
    from ..store import Workspace

    need_driver()
    progress = progress or (lambda *a: None)
    t0 = time.monotonic()
    ws_path = Path(workspace)
    home = (ws_path / "neo4j" / "dbms").resolve()
    folder = (ws_path / IMPORT_DIR).resolve()       # the importer runs in the server's folder
    with Workspace(ws_path, read_only=True) as ws:
        node_cols, rel_cols, blockers = _plan(ws.con, ws.schema)
        if blockers:
            raise EngineError("Neo4j's importer cannot make the graph push makes of this workspace ("
                              + "; ".join(blockers[:4]) + "): push with --online")
        fp = _fingerprint(ws.con)
        totals = ws.totals()
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            progress("exporting nodes (DuckDB → CSV)", 0, 2)
            nodes = _export(ws.con, node_cols, "node", folder, compress)
            progress("exporting relationships (DuckDB → CSV)", 1, 2)
            rels = _export(ws.con, rel_cols, "rel", folder, compress)
            exported = time.monotonic()
            _need_disk(home if home.exists() else ws_path, folder)

            info = server_info(ws_path)
            was_running = bool(info) and neo4j_server._alive(info["pid"])
            if was_running:
                progress("stopping the server for the offline import", 0, 0)
            neo4j_server.stop(ws_path)          # also clears a stale record
            (ws_path / PUSHED_FILE).unlink(missing_ok=True)     # the database is being replaced
            home.mkdir(parents=True, exist_ok=True)
            _run_importer(home, nodes[:2], rels[:2], nodes[2] or rels[2], progress, heap=heap, memory=memory,
                          report=folder / "import.report")
        finally:
            if not keep_files:
                shutil.rmtree(folder, ignore_errors=True)
        imported = time.monotonic()

        progress("starting the server", 0, 0)
        opts = {k: info[k] for k in ("auth", "heap", "pagecache_mb", "port", "apoc_export")} if was_running else {}
        neo4j_server.start(ws_path, keep_password=True, **{"port": None, **opts})
        try:
            target = Neo4jTarget.resolve(ws_path)
            driver = target.driver()
            try:
                with target.session(driver) as s:
                    progress("constraints and indexes", 0, 0)
                    create_constraints(target, s, ws.schema, wait_s=3600)
                    progress("count check", 0, 0)
                    counts = check_counts(target, s, ws)
                    checkpoint(target, s)
                    db_id, db_name = _database(target, s)
            finally:
                driver.close()
            record_push(ws_path, fp, db_id, db_name, target.uri)
        finally:
            if not was_running:
                neo4j_server.stop(ws_path)
    done = time.monotonic()
    return PushReport(totals["nodes"], totals["relationships"], done - t0, 0, 0, counts,
                      phases={"export": exported - t0, "import": imported - exported,
                              "start, constraints, check": done - imported})


__all__ = ["bulk_blockers", "bulk_push"]
