"""The workspace: a folder holding one DuckDB database with the property graph.

Layout of ``graph.duckdb`` (every engine reads these):

``node_record``  what a dataset says about a node: one row per distinct statement, with the
                 first record (row) that said it and ``records``, every record that said it
                 (entity resolution maps each relationship row back to its statement)
``node``         the materialised graph node: stable integer ``nid``, text ``key``, ``labels``,
                 one typed column per schema property (the most authoritative source wins),
                 ``datasets`` it came from
``rel_record``   what each dataset says about a relationship several datasets state: one row
                 per fact and dataset, with the first record that said it and ``records``, all
                 of them (a fact one dataset states holds its statement in ``rel`` itself)
``rel``          one row per relationship *fact*: rows that state the same relationship (type,
                 ends, properties, validity) are one fact, in one dataset or across several,
                 carrying every record that stated it (:mod:`graphwatch.relfacts`). ``rid``,
                 ``type``, ``src``/``dst`` nids (the view ``rel_with_keys`` adds the end nodes'
                 keys), ``valid_from``/``valid_to``, typed properties, and provenance:
                 ``dataset`` the fact's own dataset, ``record`` its first record there,
                 ``records`` all records (another dataset's as ``dataset#record``; NULL: just
                 ``record``, as derived relationships have), ``datasets`` all datasets
ids              ``nid`` / ``rid`` are 63 bits of the MD5 of the key: stable forever, no registry
``load_report``  per dataset: rows read / loaded / quarantined, encoding, checksum
``quarantine``   rows that could not load, with file, line, column and reason

A load replaces everything one dataset said, inside one transaction: loading the same
file twice changes nothing, and a load killed midway leaves the workspace as it was.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .exc import WorkspaceError
from .relfacts import restore_record_endpoints
from . import quarantine as _quarantine
from . import relfacts
from .schema import SQL_TYPES, WORKSPACE_SCHEMA, Schema, covers, load_schema, parse_schema, workspace_schema

DB_FILE = "graph.duckdb"
WORKSPACE_MARK = "workspace.json"
#: memory to allow per staged relationship row while a load groups rows into facts (each fact's
#: records kept in row order, which DuckDB cannot spill), plus a margin: the 5 M county failed
#: within the default 3GB and loads with this (about 11 GB); a 1 M county asks for about 3 GB
FACT_BYTES_PER_ROW = 180
FORMAT_VERSION = 1

#: the batches' quarantine helpers live in :mod:`.quarantine`; the loaders import them from here
quarantine_table, quarantine_rows = _quarantine.quarantine_table, _quarantine.quarantine_rows


def q(name: str) -> str:
    """Quote an identifier for DuckDB (identifiers come from the checked schema, never from data)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Batch:
    """Everything one dataset contributes to a load, staged as DuckDB tables.

    ``node_table`` columns: key, record, labels (VARCHAR[]), priority, line, then any
    schema node properties. ``rel_table`` columns: key, type, src_key, dst_key, record, line,
    valid_from, valid_to, then any schema relationship properties. ``ref_table`` columns:
    key, line, column — node keys rows require to exist. ``quarantine_table`` columns:
    line, column, reason, raw. Staged tables live in the load connection's temp schema.
    """

    dataset: str
    mapping: str
    source: str
    format: str
    encoding: str | None
    sha256: str | None
    rows_read: int
    node_table: str | None = None
    rel_table: str | None = None
    ref_table: str | None = None
    quarantine_table: str | None = None
    line_label: str = "line"   # how the source counts rows: line (CSV) or row (Excel, SQL …)
    notes: list[str] = field(default_factory=list)
    raw_table: str | None = None        # _line + c0..cN text cells, for quarantining late failures
    raw_headers: list[str] = field(default_factory=list)
    derive: list = field(default_factory=list)   # [[derivation, params], …] the mapping declares


class Workspace:
    """A graph workspace on disk.

    Parameters
    ----------
    path : folder of the workspace (created with ``create=True``)
    read_only : open the database read-only (several readers may share it)
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = False, read_only: bool = False,
                 schema: Schema | None = None):
        self.path = Path(path)
        self.schema = schema or workspace_schema(self.path)
        mark = self.path / WORKSPACE_MARK
        if not mark.exists():
            if not create:
                raise WorkspaceError(f"{self.path}: not a graphwatch workspace (no {WORKSPACE_MARK}); "
                                     f"create one with 'graphwatch load … --workspace {self.path}'")
            if read_only:
                raise WorkspaceError(f"{self.path}: cannot create a workspace read-only")
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path / DB_FILE), read_only=read_only)
        except duckdb.IOException as exc:
            raise WorkspaceError(f"{self.path}: cannot open the workspace database ({exc}); "
                                 "is another graphwatch process writing to it?") from None
        self.read_only = read_only
        import threading

        # what is computed once for a read-only workspace, shared with its readers (:meth:`memo`)
        self._memo: dict = {}
        self._memo_lock = threading.RLock()        # (a memo may read another)
        self._configure()
        if not read_only:
            self._ensure_tables()
            if not mark.exists():
                mark.write_text(json.dumps({"format": FORMAT_VERSION, "tool": "graphwatch"}) + "\n")

    def _configure(self) -> None:
        # DuckDB takes 80 % of RAM by default; a load must fit beside other work, so cap it
        # and let large operators spill to the workspace's own temp folder
        from . import lookups

        limit = os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB")
        self.con.execute("SET memory_limit = ?", [limit])
        # the limit is for the work: the lookup indexes, which DuckDB keeps in memory once
        # read, come on top (at 5 M persons they filled 2.4 of 3 GiB and a model ran out)
        self.memory_limit = lookups.limit_beside_indexes(self.con, limit)
        self._session_settings()
        if not self.read_only:
            tmp = self.path / ".tmp"
            tmp.mkdir(exist_ok=True)
            self.con.execute("SET temp_directory = ?", [str(tmp)])

    def _session_settings(self) -> None:
        """What each connection to the database sets for itself (:meth:`reader`'s too)."""
        self.con.execute("SET preserve_insertion_order = false")
        # a hash join whose build side holds up to 2,000 distinct keys pushes them into the
        # probe side's scan as an IN filter (DuckDB's default: 50), which an ART index
        # (graphwatch.lookups) answers for up to 20,000 rows (default 2,048): a walk step from
        # a few thousand nodes then reads their rows instead of hashing all 3 M. The model
        # library at 1 M persons: 1.18x faster in total, none slower (benchmarks/RESULTS.md)
        self.con.execute("SET dynamic_or_filter_threshold = 2000")
        self.con.execute("SET index_scan_max_count = 20000")

    def reader(self) -> "Workspace":
        """This read-only workspace on a connection of its own to the same open database, for
        another thread (a DuckDB connection runs one statement at a time); closing it closes
        that connection only."""
        if not self.read_only:
            raise WorkspaceError(f"{self.path}: a reader is for a workspace opened read-only")
        import copy

        other = copy.copy(self)
        other.con = self.con.cursor()
        other._session_settings()
        return other

    def memo(self, name: str, compute):
        """``compute()``, computed once for a read-only workspace (its data cannot change while
        it is open) and shared by its :meth:`reader` s — a second thread waits for the first's
        answer instead of scanning again; a writable workspace computes it each time. The
        answer is shared: callers must not change it."""
        if not self.read_only:
            return compute()
        with self._memo_lock:
            if name not in self._memo:
                self._memo[name] = compute()
            return self._memo[name]

    def memoized(self, name: str):
        """What :meth:`memo` keeps under ``name``, or None when nothing computed it yet."""
        with self._memo_lock:
            return self._memo.get(name)

    def use_schema(self, file: str | os.PathLike) -> Schema:
        """Make ``file`` this workspace's own schema (checked against the packaged one, with
        file:line errors); it is kept as ``<workspace>/schema.yaml``. A workspace that already
        has one may only grow: the new file must declare everything the kept one did."""
        new = parse_schema(file, base=load_schema())
        kept = self.path / WORKSPACE_SCHEMA
        if kept.exists():
            gone = covers(new, workspace_schema(self.path))
            if gone:
                raise WorkspaceError(f"{file}: the workspace's schema ({kept}) also declares "
                                     f"{', '.join(gone[:8])}{' …' if len(gone) > 8 else ''}; keep them in the new file "
                                     "(a workspace schema may only grow)")
        tmp = kept.with_suffix(".yaml.tmp")
        tmp.write_bytes(Path(file).read_bytes())
        tmp.replace(kept)
        self.schema = new
        if not self.read_only:
            self._ensure_tables()
        return new

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- DDL ---------------------------------------------------------------------------
    def _prop_columns(self, props: dict[str, str]) -> str:
        return "".join(f", {q(p)} {SQL_TYPES[t]}" for p, t in props.items())

    def _ensure_tables(self) -> None:
        s = self.schema
        np_ = self._prop_columns(s.node_properties)
        rp = self._prop_columns(s.rel_properties)
        self.con.execute(f"""
            CREATE TABLE IF NOT EXISTS node_record (key VARCHAR NOT NULL, dataset VARCHAR NOT NULL,
                record VARCHAR NOT NULL, labels VARCHAR[] NOT NULL, priority INTEGER NOT NULL{np_},
                records VARCHAR[]);
            CREATE TABLE IF NOT EXISTS node (nid BIGINT NOT NULL, key VARCHAR NOT NULL,
                labels VARCHAR[] NOT NULL{np_}, datasets VARCHAR[] NOT NULL);
            CREATE TABLE IF NOT EXISTS rel (rid BIGINT NOT NULL, type VARCHAR NOT NULL,
                src BIGINT NOT NULL, dst BIGINT NOT NULL,
                valid_from DATE, valid_to DATE, dataset VARCHAR NOT NULL, record VARCHAR NOT NULL,
                records VARCHAR[], datasets VARCHAR[]{rp});
            CREATE TABLE IF NOT EXISTS load_report (dataset VARCHAR NOT NULL, mapping VARCHAR, source VARCHAR,
                format VARCHAR, encoding VARCHAR, sha256 VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
                rows_quarantined BIGINT, nodes BIGINT, rels BIGINT, loaded_at TIMESTAMP, notes VARCHAR[],
                derive VARCHAR);
            CREATE TABLE IF NOT EXISTS quarantine (dataset VARCHAR NOT NULL, source VARCHAR, line BIGINT,
                line_label VARCHAR, "column" VARCHAR, reason VARCHAR, raw VARCHAR);
        """)
        # relationships with their end nodes' keys, for people and tools reading the database
        self.con.execute("""CREATE OR REPLACE VIEW rel_with_keys AS
            SELECT r.*, a.key AS src_key, b.key AS dst_key FROM rel r
            JOIN node a ON a.nid = r.src JOIN node b ON b.nid = r.dst""")
        # columns added to the schema after the workspace was made
        for table, props in (("node_record", s.node_properties), ("node", s.node_properties),
                             ("rel", s.rel_properties)):
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
            for p, t in props.items():
                if p not in have:
                    self.con.execute(f"ALTER TABLE {table} ADD COLUMN {q(p)} {SQL_TYPES[t]}")
            if table in ("node_record", "rel") and "records" not in have:   # workspaces made before
                self.con.execute(f"ALTER TABLE {table} ADD COLUMN records VARCHAR[]")
        relfacts.ensure_tables(self.con)
        have = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'load_report'").fetchall()}
        if "derive" not in have:   # workspaces made before loads recorded their derivations
            self.con.execute("ALTER TABLE load_report ADD COLUMN derive VARCHAR")

    # -- reading -------------------------------------------------------------------------
    def counts(self) -> dict[str, dict[str, int]]:
        """Nodes per label, relationships (facts) per type, and the source records behind them
        (0.7 s at 5 M persons: once for a read-only workspace, :meth:`memo`)."""
        return self.memo("counts", self._counts)

    def _counts(self) -> dict[str, dict[str, int]]:
        labels = dict(self.con.execute(
            "SELECT l, count(*) FROM (SELECT unnest(labels) AS l FROM node) GROUP BY l ORDER BY l").fetchall())
        has_records = bool(self.con.execute("""SELECT count(*) FROM information_schema.columns
            WHERE table_name = 'rel' AND column_name = 'records'""").fetchone()[0])   # older workspaces lack it
        records = "sum(coalesce(len(records), 1))" if has_records else "count(*)"
        rows = self.con.execute(f"SELECT type, count(*), {records} FROM rel GROUP BY type ORDER BY type").fetchall()
        return {"labels": labels, "types": {t: n for t, n, _ in rows},
                "type_records": {t: int(r) for t, _, r in rows}}

    def totals(self) -> dict[str, int]:
        n, = self.con.execute("SELECT count(*) FROM node").fetchone()
        r, = self.con.execute("SELECT count(*) FROM rel").fetchone()
        qn, = self.con.execute("SELECT count(*) FROM quarantine").fetchone()
        return {"nodes": n, "relationships": r, "quarantined_rows": qn}

    def load_reports(self):
        return self.con.execute("SELECT * FROM load_report ORDER BY dataset").df()

    def quarantine_summary(self):
        return self.con.execute("""SELECT dataset, "column", reason_kind, count(*) AS rows FROM (
                SELECT dataset, "column", regexp_extract(reason, '^[^:(]*') AS reason_kind FROM quarantine)
            GROUP BY ALL ORDER BY dataset, rows DESC""").df()

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """A write transaction; before it commits, the adjacency index is rebuilt if the
        relationships changed (:mod:`graphwatch.adjacency`), and put in place after; after it,
        the lookup indexes are made if missing (:mod:`graphwatch.lookups`) in a transaction of
        their own. Made inside the transaction that wrote the rows (a first load), DuckDB
        builds them at COMMIT from the transaction's own rows, entry by entry: at 1 M persons
        about 11 s, against 3.8 s for the same indexes made over the committed tables. Indexes
        that exist are kept up to date by every write as before."""
        from . import adjacency, lookups

        self.con.execute("BEGIN TRANSACTION")
        new = None
        try:
            yield self.con
            new = adjacency.refresh(self.con, self.path)
            self.con.execute("COMMIT")
        except BaseException:
            try:
                self.con.execute("ROLLBACK")      # (a COMMIT that failed may have ended it already)
            except duckdb.Error:
                pass
            if new is not None:
                shutil.rmtree(new, ignore_errors=True)
            lookups.restore_limit(self.con, self.memory_limit)
            raise
        if new is not None:
            adjacency.install(new, self.path)
        try:
            self.con.execute("BEGIN TRANSACTION")
            try:
                lookups.ensure(self.con, self.schema)
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            raise WorkspaceError(f"{self.path}: the data is written, but its lookup indexes could not be made "
                                 f"({exc}); queries answer without them, more slowly, and the next write "
                                 "to the workspace tries again") from None
        finally:
            # the limit as configured, which an index or a load may have raised (a SET: cheap)
            lookups.restore_limit(self.con, self.memory_limit)


@dataclass
class LoadResult:
    dataset: str
    source: str
    format: str
    encoding: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    nodes: int
    rels: int
    line_label: str = "line"
    notes: list[str] = field(default_factory=list)


def _test_pause(stage: str) -> None:
    """Crash-safety tests kill a load here (GRAPHWATCH_TEST_PAUSE=stage); a no-op otherwise."""
    want = os.environ.get("GRAPHWATCH_TEST_PAUSE")
    if want == stage:
        import time
        marker = os.environ.get("GRAPHWATCH_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).write_text(stage)
        time.sleep(3600)


def key_id(expr: str) -> str:
    """SQL for the stable id of a key: 63 bits of its MD5.

    The id depends on the key alone, so it never changes across loads, reloads or machines
    (DuckDB's own ``hash()`` may change between versions; MD5 does not). Collisions are
    checked at every commit.
    """
    return f"CAST(md5_number({expr}) >> 65 AS BIGINT)"


def node_by_key(con, key: str) -> int | None:
    """The id of the node with this key, or None. Read through the index of the ids (a node's
    id is :func:`key_id` of its key; the key has no index of its own), the key compared after."""
    (nid,) = con.execute(f"SELECT {key_id('$k')}", {"k": key}).fetchone()
    hit = con.execute("SELECT key FROM node WHERE nid = ?", [nid]).fetchone()
    return nid if hit is not None and hit[0] == key else None


def _materialise_nodes(con, props: list[str], full: bool) -> None:
    """Rebuild ``node`` rows from their records: all of them (``full``) or the keys in ``_aff``.

    A node's property comes from its most authoritative record (lowest mapping priority,
    then dataset, then record) that has a value. Done per key prefix (Person:, Company: …),
    aggregating only the columns that prefix uses, and copying single-record nodes as they
    are: most nodes have one record, and aggregating 50 mostly-empty columns dominated loads.
    """
    if full:
        con.execute("DELETE FROM node")
        src = "node_record"
    else:
        con.execute(f"DELETE FROM node WHERE nid IN (SELECT {key_id('key')} FROM _aff)")   # (ids, indexed)
        con.execute("CREATE OR REPLACE TEMP TABLE _nr AS SELECT * FROM node_record WHERE key IN (SELECT key FROM _aff)")
        src = "_nr"
    insert_nodes(con, props, src)
    con.execute("DROP TABLE IF EXISTS _nr")


def insert_nodes(con, props: list[str], src: str) -> None:
    """Insert one ``node`` row per key of the record table ``src`` (``node_record``'s columns).

    Each property comes from the key's most authoritative record that has a value.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _multi AS SELECT key FROM {src} GROUP BY key HAVING count(*) > 1")
    counts = con.execute("SELECT split_part(key, ':', 1) AS p, " + ", ".join(f"count({q(c)})" for c in props)
                         + f" FROM {src} GROUP BY p ORDER BY p").fetchall()
    for prefix, *have in counts:
        used = [c for c, n in zip(props, have) if n]
        cols = "".join(", " + q(c) for c in used)
        pick = "".join(f", arg_min({q(c)}, _rank) FILTER (WHERE {q(c)} IS NOT NULL)" for c in used)
        where = "starts_with(key, $p)"
        con.execute(f"""INSERT INTO node (nid, key, labels{cols}, datasets)
            SELECT {key_id('key')}, key, labels{cols}, [dataset] FROM {src}
            WHERE {where} AND key NOT IN (SELECT key FROM _multi)""", {"p": prefix + ":"})
        con.execute(f"""INSERT INTO node (nid, key, labels{cols}, datasets)
            SELECT {key_id('key')}, key, list_sort(list_distinct(flatten(list(labels)))){pick},
                   list_sort(list_distinct(list(dataset)))
            FROM (SELECT *, row_number() OVER (ORDER BY priority, dataset, lpad(record, 12, '0')) AS _rank
                  FROM {src} WHERE {where} AND key IN (SELECT key FROM _multi))
            GROUP BY key""", {"p": prefix + ":"})
    con.execute("DROP TABLE _multi")


RESOLVE_DATASET = "derived:resolve"


def unapply_resolution(con, props: list[str] | None = None) -> bool:
    """Undo entity resolution in the graph tables, back to one node per record key:
    relationships on their record keys' nodes (split facts whole), resolution's own
    relationships (SAME_AS, BRANCH_OF) dropped, person and company nodes rebuilt per record
    key — with their properties ``props``, or bare (key, labels, datasets) when ``None``: enough
    for a load that resolves again before it commits. ``True`` if resolution was applied.
    Judgements, units, scored pairs and entities stay.
    """
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'er_rel_orig' "
                       "AND schema_name = 'main'").fetchone()[0]:
        return False
    applied = con.execute("SELECT count(*) FROM er_run WHERE applied").fetchone()[0]
    if not applied:
        return False
    restore_record_endpoints(con)
    con.execute("DELETE FROM node WHERE starts_with(key, 'Person:') OR starts_with(key, 'Company:')")
    mine = "FROM node_record WHERE starts_with(key, 'Person:') OR starts_with(key, 'Company:')"
    if props is None:
        con.execute(f"""INSERT INTO node (nid, key, labels, datasets)
            SELECT {key_id('key')}, key, list_sort(list_distinct(flatten(list(labels)))),
                   list_sort(list_distinct(list(dataset))) {mine} GROUP BY key""")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _unresolved AS SELECT * {mine}")
        insert_nodes(con, props, "_unresolved")
        con.execute("DROP TABLE _unresolved")
    con.execute("UPDATE er_run SET applied = false")
    return True


def _check_ids(con) -> None:
    clash = con.execute("SELECT nid FROM node GROUP BY nid HAVING count(*) > 1 LIMIT 1").fetchone()
    clash = clash or con.execute("""SELECT rid FROM rel WHERE (dataset IN (SELECT dataset FROM _reload)
            OR rid IN (SELECT rid FROM rel_record WHERE dataset IN (SELECT dataset FROM _reload)))
        AND rid IN (SELECT rid FROM rel GROUP BY rid HAVING count(*) > 1) LIMIT 1""").fetchone()
    if clash:   # 2^-63 per pair: a clash means corrupted data, never chance in practice
        raise WorkspaceError(f"id collision on {clash[0]}; the load was rolled back")


def commit(ws: Workspace, batches: list[Batch], derive=None, resolve=None) -> list[LoadResult]:
    """Write staged batches into the workspace in one transaction.

    Each batch replaces everything its dataset said before. Rows whose references point at
    no node (in the workspace or in this load) are quarantined, repeatedly, until every
    relationship has both ends. ``derive`` is called inside the transaction to rebuild derived
    relationships (kinship, co-occurrence). ``resolve(con, datasets)`` is called inside it too,
    after ``derive``, when the workspace was resolved: the load keeps it resolved (the graph
    goes back to one node per record key first, and ``resolve`` rewrites it again); it may
    return a :class:`LoadResult` for the accounting.
    """
    con = ws.con
    s = ws.schema
    np_ = list(s.node_properties)
    rp = list(s.rel_properties)
    datasets = [b.dataset for b in batches]

    def union(parts: list[str], empty: str) -> str:
        return " UNION ALL ".join(parts) if parts else empty

    with ws.transaction():
        # a resolved graph goes back to one node per record key first (bare person and company
        # nodes when resolve rebuilds them below); resolved again after the derivations
        unresolved = unapply_resolution(con, None if resolve is not None else np_)
        con.execute("CREATE OR REPLACE TEMP TABLE _reload AS SELECT unnest(?::VARCHAR[]) AS dataset", [datasets])
        con.execute("""CREATE OR REPLACE TEMP TABLE _aff AS
                       SELECT DISTINCT key FROM node_record WHERE dataset IN (SELECT dataset FROM _reload)""")
        for table in ("node_record", "quarantine", "load_report"):
            con.execute(f"DELETE FROM {table} WHERE dataset IN (SELECT dataset FROM _reload)")
        relfacts.forget(con)     # their relationship records; the facts are written below
        full, = con.execute("SELECT count(*) = 0 FROM node_record").fetchone()
        # narrow views of what the batches stage, for the dangling-reference check. A relationship
        # joins nodes of its own row, so only declared references (ref nodes, neo4j-admin ends)
        # can dangle; the orphan check below would catch any other case loudly
        con.execute("CREATE OR REPLACE TEMP TABLE _snk AS " + union(
            [f"SELECT dataset, key, line FROM {b.node_table}" for b in batches if b.node_table],
            "SELECT NULL::VARCHAR AS dataset, NULL::VARCHAR AS key, NULL::BIGINT AS line WHERE false"))
        con.execute("CREATE OR REPLACE TEMP TABLE _srefs AS " + union(
            [f"SELECT dataset, key, line, \"column\" FROM {b.ref_table}" for b in batches if b.ref_table],
            "SELECT NULL::VARCHAR AS dataset, NULL::VARCHAR AS key, NULL::BIGINT AS line, "
            "NULL::VARCHAR AS \"column\" WHERE false"))
        con.execute("CREATE OR REPLACE TEMP TABLE _kept AS SELECT DISTINCT key FROM node_record")
        # dangling references: quarantine the row, then look again (its own nodes are gone now)
        con.execute("CREATE OR REPLACE TEMP TABLE _bad (dataset VARCHAR, line BIGINT, \"column\" VARCHAR, reason VARCHAR)")
        while True:
            con.execute("""CREATE OR REPLACE TEMP TABLE _live AS
                SELECT key FROM _kept UNION
                SELECT key FROM _snk n WHERE NOT EXISTS (SELECT 1 FROM _bad b WHERE b.dataset = n.dataset AND b.line = n.line)""")
            added = con.execute("""INSERT INTO _bad
                SELECT dataset, line, x.c, 'dangling reference: no ' || x.k FROM (
                SELECT dataset, line, arg_min({'c': "column", 'k': key}, line) AS x FROM (
                    SELECT dataset, line, "column", key FROM _srefs WHERE key NOT IN (SELECT key FROM _live)
                ) x WHERE NOT EXISTS (SELECT 1 FROM _bad b WHERE b.dataset = x.dataset AND b.line = x.line)
                GROUP BY dataset, line)""").fetchone()[0]
            if not added:
                break
        for b in batches:
            quarantine_rows(con, b.quarantine_table, "_bad", b.raw_table, b.raw_headers,
                            where="f.dataset = $ds", params={"ds": b.dataset})
        _test_pause("staged")

        # records straight from each batch (no wide copies), ids from keys
        good = "line NOT IN (SELECT line FROM _bad WHERE dataset = $ds)"
        nodes_written: dict[str, int] = {}
        for b in batches:
            if b.node_table:
                # one record per distinct statement: rows that say exactly the same about a node
                # (every member row naming its household, every payment naming its recipient)
                # keep the earliest; each row's relationships still carry their own record
                have = {r[0] for r in con.execute(f"DESCRIBE {b.node_table}").fetchall()}
                cols = "key, dataset, labels, priority" + "".join(", " + q(c) for c in np_ if c in have)
                nodes_written[b.dataset] = con.execute(f"""INSERT INTO node_record (record, records, {cols})
                    SELECT arg_min(record, line), list(record ORDER BY line), {cols}
                    FROM {b.node_table} WHERE {good} GROUP BY ALL""", {"ds": b.dataset}).fetchone()[0]
                if not full:   # a full rebuild reads every record anyway
                    con.execute(f"INSERT INTO _aff SELECT DISTINCT key FROM {b.node_table} WHERE {good}",
                                {"ds": b.dataset})
        # one relationship per fact, across every dataset that states it; the memory limit is
        # raised for the load (set back after it) to what grouping the rows needs
        # (FACT_BYTES_PER_ROW), at most 80 % of the free memory
        staged = sum(con.execute(f"SELECT count(*) FROM {b.rel_table}").fetchone()[0] for b in batches if b.rel_table)
        from . import lookups

        lookups.raise_limit(con, staged * FACT_BYTES_PER_ROW + lookups.INDEX_MARGIN)
        facts = relfacts.write_facts(con, batches, rp, good)
        if not full:
            con.execute("CREATE OR REPLACE TEMP TABLE _aff AS SELECT DISTINCT key FROM _aff")
        _materialise_nodes(con, np_, full)
        # a reload may remove a node that relationships of other datasets still point at:
        # refuse (the transaction rolls back) rather than leave them dangling. On a full load no
        # other dataset's records remain and every reference was checked above.
        orphans = [] if full else con.execute(f"""SELECT coalesce(rr.dataset, r.dataset) AS ds, count(*)
            FROM rel r LEFT JOIN rel_record rr USING (rid)
            WHERE {relfacts.STATED.format(p='r.')} AND (r.src NOT IN (SELECT nid FROM node) OR r.dst NOT IN (SELECT nid FROM node))
            GROUP BY ds ORDER BY ds""").fetchall()
        if orphans:
            raise WorkspaceError(
                "this load removes nodes that other datasets still point at: "
                + ", ".join(f"{d} ({n} relationships)" for d, n in orphans)
                + "; load those sources together with this one so their references are checked again")
        if derive is not None:
            derive(con)
        resolution = resolve(con, datasets) if unresolved and resolve is not None else None
        _check_ids(con)
        _test_pause("before_commit")

        results = []
        for b in batches:
            nq, = con.execute(f"SELECT count(DISTINCT line) FROM {b.quarantine_table}").fetchone()
            con.execute(f"""INSERT INTO quarantine SELECT ?, ?, line, ?, "column", reason, raw FROM {b.quarantine_table}""",
                        [b.dataset, b.source, b.line_label])
            nn = nodes_written.get(b.dataset, 0)
            nr, rows, shared = facts.get(b.dataset, (0, 0, 0))
            if rows > nr:
                b.notes.append(f"{rows:,} relationship rows state {nr:,} relationships: rows that "
                               "say the same relationship are one, carrying all their records")
            if shared:
                b.notes.append(f"{shared:,} of its {nr:,} relationships other datasets state too: each is one "
                               "relationship carrying every dataset's records")
            res = LoadResult(b.dataset, b.source, b.format, b.encoding, b.rows_read, b.rows_read - nq, nq, nn, nr,
                             b.line_label, b.notes)
            con.execute("""INSERT INTO load_report (dataset, mapping, source, format, encoding, sha256, rows_read,
                    rows_loaded, rows_quarantined, nodes, rels, loaded_at, notes, derive)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?)""",
                        [b.dataset, b.mapping, b.source, b.format, b.encoding, b.sha256, res.rows_read,
                         res.rows_loaded, res.rows_quarantined, nn, nr, b.notes, json.dumps(b.derive)])
            results.append(res)
        if resolution is not None:
            results.append(resolution)
    for b in batches:
        for t in (b.node_table, b.rel_table, b.ref_table, b.quarantine_table, b.raw_table):
            if t:
                con.execute(f"DROP TABLE IF EXISTS {t}")
    return results
