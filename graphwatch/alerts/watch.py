"""Continuous mode (全天候自动预警): load files as they arrive in a drop folder, run the models,
report only the new alerts.

The watcher keeps no state of its own: a file is new or changed when the workspace's load
accounting holds no load of that path with that content (SHA-256). A load is one
transaction, so a watcher stopped at any point — even mid-load — simply carries on at the
next start, and nothing is loaded twice. A file still being written (its size or time
changed since the last look) waits for the next look.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..exc import GraphwatchError
from ..ingest.claims import DATA_SUFFIXES


@dataclass
class Round:
    """What one look at the drop folder did."""
    loaded: list = field(default_factory=list)      # LoadResults of the files loaded
    failed: list = field(default_factory=list)      # (file, message) of files that could not load
    runs: list = field(default_factory=list)        # ModelRuns
    new_alerts: list = field(default_factory=list)  # the alerts first seen in this round


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pending(workspace: str | Path, drop: str | Path) -> list[Path]:
    """Data files of ``drop`` whose content the workspace has not loaded from that path."""
    from ..store import Workspace

    files = [f for f in sorted(Path(drop).iterdir()) if f.is_file() and f.suffix.lower() in DATA_SUFFIXES
             and not f.name.startswith(".")]
    if not (Path(workspace) / "workspace.json").exists():
        return files
    with Workspace(workspace, read_only=True) as ws:
        loaded = set(ws.con.execute("SELECT source, sha256 FROM load_report WHERE sha256 IS NOT NULL").fetchall())
    return [f for f in files if (str(f), _sha(f)) not in loaded]


class Watcher:
    """Looks at ``drop`` every ``interval`` seconds (see the module docstring)."""

    def __init__(self, workspace: str | Path, drop: str | Path, *, models: Iterable[str] | None = None,
                 mappings: Iterable[str | Path] = (), pattern_dirs: Iterable[str | Path] = (),
                 params: dict | None = None, engine: str = "duckdb", connection: dict | None = None):
        self.workspace, self.drop = Path(workspace), Path(drop).resolve()
        if not self.drop.is_dir():
            raise GraphwatchError(f"{self.drop}: no such folder to watch")
        self.models = list(models or []) or None
        self.mappings, self.pattern_dirs = list(mappings), list(pattern_dirs)
        self.params, self.engine, self.connection = params or {}, engine, connection
        self._seen: dict[Path, tuple] = {}          # file -> (size, mtime) at the last look
        self._failed: dict[Path, str] = {}          # file -> sha256 that failed (retried once changed)

    def _settled(self, files: list[Path]) -> list[Path]:
        """Files whose size and time are what they were at the last look (not being written)."""
        out = []
        for f in files:
            st = f.stat()
            now = (st.st_size, st.st_mtime_ns)
            if self._seen.get(f) == now:
                out.append(f)
            self._seen[f] = now
        return out

    def look(self, *, settle: bool = True) -> Round:
        """One look: load what is new and settled, then run the models if anything loaded."""
        from ..ingest import load_into
        from .runner import run_models
        from .store import AlertStore

        rnd = Round()
        files = pending(self.workspace, self.drop)
        files = [f for f in (self._settled(files) if settle else files)
                 if self._failed.get(f) != _sha(f)]
        if files:
            try:        # together, so files that refer to each other (a roll and its villages) load
                rnd.loaded = load_into(self.workspace, files, mappings=self.mappings, skip_unclaimed=True)
            except GraphwatchError:
                for f in files:    # one bad file must not hold back the others: each on its own
                    try:
                        rnd.loaded += load_into(self.workspace, [f], mappings=self.mappings, skip_unclaimed=True)
                    except GraphwatchError as exc:
                        self._failed[f] = _sha(f)
                        rnd.failed.append((f, str(exc)))
        if any(r.format not in ("skipped", "not data", "schema") for r in rnd.loaded):
            rnd.runs = run_models(self.workspace, self.models, engine=self.engine, params=self.params,
                                  pattern_dirs=self.pattern_dirs, connection=self.connection)
            run_ids = {r.run_id for r in rnd.runs}
            with AlertStore(self.workspace) as store:
                rnd.new_alerts = [a for a in store.list(matching=True) if a["first_run"] in run_ids]
        return rnd

    def run(self, *, interval: float = 5.0, rounds: int | None = None,
            report: Callable[[Round], None] | None = None) -> None:
        """Look every ``interval`` seconds, ``rounds`` times (for ever by default)."""
        n = 0
        while rounds is None or n < rounds:
            rnd = self.look()
            if report:
                report(rnd)
            n += 1
            if rounds is None or n < rounds:
                time.sleep(interval)
