"""Alerts, verdicts and runs: ``<workspace>/alerts.sqlite``, apart from the graph.

Alerts and verdicts are the investigators' work: no load, reload or resolve touches them,
and a copied workspace folder keeps them. They live in SQLite, not in the graph's DuckDB
file, because several writers must be able to record verdicts at once (two browser
sessions, a ``graphwatch run`` beside the explorer): SQLite's write-ahead log serialises
writers for a moment instead of refusing the second process, as one DuckDB file would.

Tables: ``alert`` (one row per alert id, its latest evidence and status), ``verdict`` (every
status change with who, when and the note — the history), ``run`` (what each model run
found) and ``audit`` (exports and unmasked views, with who and when).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..exc import GraphwatchError

ALERTS_FILE = "alerts.sqlite"
STATUSES = ("new", "in_review", "confirmed", "dismissed")
STATUS_ZH = {"new": "新预警", "in_review": "核查中", "confirmed": "查实", "dismissed": "排除"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, severity TEXT NOT NULL,
    subject_key TEXT NOT NULL, subject_label TEXT, subject_name TEXT, subject_ident TEXT,
    object_key TEXT, object_label TEXT, object_name TEXT, object_ident TEXT,
    explain_zh TEXT, explain_en TEXT, certainty REAL NOT NULL, rank REAL NOT NULL, same_as TEXT,
    township TEXT, village TEXT, event_date TEXT, evidence TEXT NOT NULL, rows INTEGER,
    status TEXT NOT NULL DEFAULT 'new', matching INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, first_run INTEGER, last_run INTEGER, engine TEXT);
CREATE INDEX IF NOT EXISTS alert_model ON alert (model, status);
CREATE TABLE IF NOT EXISTS verdict (
    id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES alert (id),
    status TEXT NOT NULL, previous TEXT, who TEXT NOT NULL, at TEXT NOT NULL, note TEXT);
CREATE INDEX IF NOT EXISTS verdict_alert ON verdict (alert_id);
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, engine TEXT, started TEXT NOT NULL,
    seconds REAL, status TEXT NOT NULL, message TEXT, params TEXT,
    found INTEGER, new INTEGER, still INTEGER, gone INTEGER);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    what TEXT, format TEXT, masked INTEGER, detail TEXT);
"""


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def whoami(who: str | None = None) -> str:
    """Who acts: the name given, else the login name (there is no login: say who you are)."""
    if who:
        return who
    try:
        return getpass.getuser()
    except Exception:   # no login name in some containers
        return "unknown"


class AlertStore:
    """The alert store of a workspace folder (created on first use)."""

    def __init__(self, workspace: str | Path):
        folder = Path(workspace)
        if not (folder / "workspace.json").exists():
            raise GraphwatchError(f"{folder}: not a graphwatch workspace (no workspace.json)")
        self.path = folder / ALERTS_FILE
        self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.con.row_factory = sqlite3.Row
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.execute("PRAGMA busy_timeout = 30000")
        self.con.execute("PRAGMA foreign_keys = ON")
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "AlertStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """One writer at a time (BEGIN IMMEDIATE waits for another writer instead of failing)."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- reading -----------------------------------------------------------------------
    def get(self, alert_id: str) -> dict:
        row = self.con.execute("SELECT * FROM alert WHERE id = ?", [alert_id]).fetchone()
        if row is None:
            near = [r[0] for r in self.con.execute("SELECT id FROM alert WHERE id LIKE ? LIMIT 5",
                                                   [alert_id.split("-")[0] + "%"]).fetchall()]
            raise GraphwatchError(f"no alert {alert_id!r}" + (f"; alerts of that model include {', '.join(near)}"
                                                               if near else ""))
        return _alert(row)

    def history(self, alert_id: str) -> list[dict]:
        return [dict(r) for r in self.con.execute(
            "SELECT status, previous, who, at, note FROM verdict WHERE alert_id = ? ORDER BY id", [alert_id])]

    def list(self, *, model: str | list | None = None, status: str | None = None, severity: str | None = None,
             township: str | None = None, village: str | None = None, since: str | None = None,
             until: str | None = None, matching: bool | None = None, limit: int | None = None,
             offset: int = 0, order: str = "rank") -> list[dict]:
        """Alerts filtered as the queue filters them, highest rank first (or by ``order``)."""
        where, args = [], []
        models = [model] if isinstance(model, str) else model
        for col, value in (("status", status), ("severity", severity), ("township", township),
                           ("village", village)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        if models:
            where.append(f"model IN ({', '.join('?' * len(models))})")
            args += list(models)
        if since:
            where.append("coalesce(event_date, first_seen) >= ?")
            args.append(since)
        if until:
            where.append("coalesce(event_date, first_seen) <= ?")
            args.append(until)
        if matching is not None:
            where.append("matching = ?")
            args.append(int(matching))
        orders = {"rank": "rank DESC, model, id", "date": "coalesce(event_date, first_seen) DESC, id",
                  "model": "model, rank DESC, id", "first_seen": "first_seen DESC, id"}
        if order not in orders:
            raise GraphwatchError(f"unknown order {order!r}; one of {', '.join(orders)}")
        sql = "SELECT * FROM alert" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {orders[order]}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [_alert(r) for r in self.con.execute(sql, args)]

    def count(self, **filters) -> int:
        return len(self.list(**{k: v for k, v in filters.items() if k not in ("limit", "offset")}))

    # -- verdicts ------------------------------------------------------------------------
    def verdict(self, alert_id: str, status: str, *, who: str | None = None, note: str = "") -> dict:
        """Record a status change (kept in the history); returns the alert as it is now."""
        if status not in STATUSES:
            raise GraphwatchError(f"unknown status {status!r}; one of {', '.join(STATUSES)} "
                                  "(查实 = confirmed, 排除 = dismissed, 核查中 = in_review)")
        who = whoami(who)
        with self.transaction() as con:
            row = con.execute("SELECT status FROM alert WHERE id = ?", [alert_id]).fetchone()
            if row is None:
                self.get(alert_id)     # raises with the nearby ids
            con.execute("INSERT INTO verdict (alert_id, status, previous, who, at, note) VALUES (?, ?, ?, ?, ?, ?)",
                        [alert_id, status, row["status"], who, now(), note])
            con.execute("UPDATE alert SET status = ? WHERE id = ?", [status, alert_id])
        return self.get(alert_id)

    def audit(self, action: str, *, who: str | None = None, what: str = "", format: str = "",
              masked: bool = True, detail: str = "") -> None:
        with self.transaction() as con:
            con.execute("INSERT INTO audit (at, who, action, what, format, masked, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [now(), whoami(who), action, what, format, int(masked), detail])

    def audit_log(self, limit: int = 100) -> list[dict]:
        return [dict(r) for r in self.con.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", [limit])]

    # -- figures ---------------------------------------------------------------------------
    def precision(self) -> dict[str, dict]:
        """Per model: alerts, verdict counts, precision (查实率) = confirmed / (confirmed +
        dismissed), and the status of that figure — never a silent zero."""
        out: dict[str, dict] = {}
        for r in self.con.execute("""SELECT model, count(*) AS alerts, sum(matching) AS matching,
                sum(status = 'confirmed') AS confirmed, sum(status = 'dismissed') AS dismissed,
                sum(status = 'in_review') AS in_review, sum(status = 'new') AS new FROM alert GROUP BY model"""):
            d = dict(r)
            judged = d["confirmed"] + d["dismissed"]
            d["precision"] = d["confirmed"] / judged if judged else None
            d["status"] = "calculated" if judged else "no verdicts yet"
            out[d["model"]] = d
        for r in self.con.execute("""SELECT model, status, message, started FROM run r WHERE id = (
                SELECT max(id) FROM run WHERE model = r.model)"""):
            d = out.setdefault(r["model"], {"model": r["model"], "alerts": 0, "matching": 0, "confirmed": 0,
                                            "dismissed": 0, "in_review": 0, "new": 0, "precision": None,
                                            "status": "no verdicts yet"})
            d["last_run"], d["run_status"], d["run_message"] = r["started"], r["status"], r["message"]
            if r["status"] == "insufficient_data" and d["precision"] is None:
                d["status"] = f"insufficient data: {r['message']}"
        return out

    def per_period(self, period: str = "month") -> list[dict]:
        """Alerts per model per month (``YYYY-MM``) or year, with confirmed and dismissed counts —
        the figure a commission shows when a model's warnings fall year by year."""
        width = {"month": 7, "year": 4}[period]
        return [dict(r) for r in self.con.execute(f"""
            SELECT model, substr(coalesce(event_date, first_seen), 1, {width}) AS period, count(*) AS alerts,
                   sum(status = 'confirmed') AS confirmed, sum(status = 'dismissed') AS dismissed
            FROM alert GROUP BY model, period ORDER BY model, period""")]

    def runs(self, limit: int = 50) -> list[dict]:
        return [dict(r) for r in self.con.execute("SELECT * FROM run ORDER BY id DESC LIMIT ?", [limit])]


def _alert(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["evidence"] = json.loads(d["evidence"])
    d["same_as"] = json.loads(d["same_as"] or "[]")
    d["matching"] = bool(d["matching"])
    return d
