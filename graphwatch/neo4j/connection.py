"""Where a Neo4j server is and how to reach it.

:class:`Neo4jTarget` holds a server's URI, user, password and database, found from flags,
``GRAPHWATCH_NEO4J_*`` environment variables or the server ``graphwatch neo4j start``
recorded in the workspace; :meth:`Neo4jTarget.error` turns every driver failure into an
:class:`~graphwatch.exc.EngineError` that says what went wrong and never shows the
password. :func:`wait_ready` waits for a (starting) server to answer.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..exc import EngineError, EvaluationError, GraphwatchError, MissingDependency

try:  # the driver is an optional dependency: pip install 'graphwatch[neo4j]'
    import neo4j
    from neo4j import exceptions as nex
except ImportError:  # pragma: no cover - exercised only without the extra
    neo4j = None

ENV_URI, ENV_USER, ENV_PASSWORD, ENV_DATABASE = ("GRAPHWATCH_NEO4J_URI", "GRAPHWATCH_NEO4J_USER",
                                                 "GRAPHWATCH_NEO4J_PASSWORD", "GRAPHWATCH_NEO4J_DATABASE")
SERVER_FILE = Path("neo4j") / "server.json"      # written by `graphwatch neo4j start`
PASSWORD_FILE = Path("neo4j") / "password"        # mode 0600, next to it


def need_driver() -> None:
    if neo4j is None:
        raise MissingDependency("Neo4j needs the neo4j driver: pip install 'graphwatch[neo4j]'")


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
        need_driver()
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
            # an overflow or a division by zero: the query's values are at fault, as on DuckDB
            kind = EvaluationError if exc.code == "Neo.ClientError.Statement.ArithmeticError" else EngineError
            return kind(f"Neo4j at {self.uri} failed while {doing}: {exc.code}: {_short(exc)}")
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
    need_driver()
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


__all__ = ["ENV_DATABASE", "ENV_PASSWORD", "ENV_URI", "ENV_USER", "PASSWORD_FILE", "SERVER_FILE",
           "Neo4jTarget", "need_driver", "server_info", "wait_ready"]
