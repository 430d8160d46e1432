"""Neo4j as a place graphwatch talks to: where a server is, the server graphwatch runs
itself, and the push that copies a workspace graph into it.

* :mod:`.connection` — :class:`~.connection.Neo4jTarget` (URI, user, password, database),
  waiting for a server to answer, and every driver failure turned into an
  :class:`~graphwatch.exc.EngineError` that never shows the password;
* :mod:`.server` — the bundled Neo4j Community server: its launcher (Maven sources shipped
  in ``launcher/``, built once into the user's cache) and ``start`` / ``stop`` / ``status``;
* :mod:`.push` — copies a workspace graph into Neo4j (an export: it writes Neo4j and only
  reads the workspace) and records what was pushed where;
* :mod:`.bulk` — the same graph by Neo4j's offline importer (CSV from DuckDB, the
  workspace's own server stopped and restarted), the default push into that server;
* :mod:`.values` — how graphwatch's values and ids are represented in Neo4j.

The engine that runs Cypher on Neo4j is :mod:`graphwatch.engines.neo4j`, beside the
embedded one. The submodules import the ``neo4j`` driver (about a second), so this package
imports nothing itself: ``graphwatch neo4j status`` and the CLI's start-up stay fast.
"""
