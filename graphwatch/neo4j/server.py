"""The Neo4j server graphwatch runs itself: its launcher, and ``start`` / ``stop`` / ``status``.

The server is Neo4j Community from Maven Central, started by a few-line Java launcher whose
Maven project ships inside the package (``graphwatch/neo4j/launcher/``: ``pom.xml`` and
``Launcher.java``). :func:`build_launcher` builds it with Maven on first use into the
user's cache, ``$XDG_CACHE_HOME/graphwatch/neo4j-server/<hash of the sources>/`` (default
``~/.cache/…``): never inside the package, which may be a read-only site-packages; Neo4j's
jars stay in ``~/.m2`` as with any Maven build.

The server listens on 127.0.0.1 only, on a free port, with its data under
``<workspace>/neo4j/``. Auth is on with a generated password (kept in
``<workspace>/neo4j/password``, mode 0600, never printed) unless ``auth=False``.
``<workspace>/neo4j/server.json`` records the URI, where the rest of the tool finds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..exc import EngineError
from .connection import PASSWORD_FILE, SERVER_FILE, Neo4jTarget, server_info, wait_ready

LAUNCHER_SOURCES = Path(__file__).resolve().parent / "launcher"    # a Maven project, shipped as data
LAUNCHER_FILES = ("pom.xml", "src/main/java/graphwatch/Launcher.java")
LAUNCHER_CLASS = "graphwatch.Launcher"               # also how _alive knows a pid is our server
READY_LINE = b"graphwatch-neo4j ready"
ENV_CACHE = "XDG_CACHE_HOME"


# -- the launcher: shipped sources, built into the user's cache ------------------------------
@dataclass(frozen=True)
class BuiltLauncher:
    """A built launcher: its build folder and the Java classpath that starts it."""
    folder: Path

    @property
    def classes(self) -> Path:
        return self.folder / "target" / "classes"

    @property
    def classpath_file(self) -> Path:
        """Maven's list of the jars Neo4j needs (absolute paths into ``~/.m2``)."""
        return self.folder / "target" / "classpath.txt"

    @property
    def jars(self) -> list[Path]:
        return [Path(p) for p in self.classpath_file.read_text(encoding="utf-8").strip().split(os.pathsep) if p]

    @property
    def plugins(self) -> Path:
        """The folder of procedure jars the server loads (APOC core)."""
        return self.folder / "target" / "plugins"

    @property
    def classpath(self) -> str:
        # the plugin jars too, as Neo4j's own start script has them: APOC's configuration is a
        # kernel extension found on the classpath, its procedures are found in the plugin folder
        plugins = sorted(str(j) for j in self.plugins.glob("*.jar"))
        return os.pathsep.join([str(self.classes)] + [str(j) for j in self.jars] + plugins)

    def is_built(self) -> bool:
        """Compiled, and every jar the classpath names is still there (a cleared ``~/.m2`` is not)."""
        if not (self.classes / "graphwatch" / "Launcher.class").exists() or not self.classpath_file.exists():
            return False
        jars = self.jars
        return bool(jars) and all(j.exists() for j in jars) and any(self.plugins.glob("apoc-core-*.jar"))


def launcher_sources() -> dict[str, bytes]:
    """The launcher's Maven project as shipped: ``{relative path: bytes}``."""
    missing = [f for f in LAUNCHER_FILES if not (LAUNCHER_SOURCES / f).is_file()]
    if missing:
        raise EngineError(f"the Neo4j launcher's sources are missing from this installation of graphwatch "
                          f"({LAUNCHER_SOURCES / missing[0]}); reinstall graphwatch, or point it at your own "
                          "server with --uri")
    return {f: (LAUNCHER_SOURCES / f).read_bytes() for f in LAUNCHER_FILES}


def cache_dir() -> Path:
    """Where launchers are built: ``$XDG_CACHE_HOME/graphwatch/neo4j-server`` (default ``~/.cache``)."""
    base = os.environ.get(ENV_CACHE, "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"   # a relative value is invalid (XDG)
    return root / "graphwatch" / "neo4j-server"


def launcher_folder(sources: dict[str, bytes] | None = None) -> Path:
    """The build folder of these sources: named by their content, so an upgraded graphwatch
    with a changed launcher builds beside the old one instead of reusing it."""
    sources = launcher_sources() if sources is None else sources
    h = hashlib.sha256()
    for rel, data in sorted(sources.items()):
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return cache_dir() / h.hexdigest()[:16]


def build_launcher(*, quiet: bool = True) -> BuiltLauncher:
    """Build the launcher if needed (Maven fetches Neo4j's jars into ``~/.m2`` the first time).

    Nothing runs when it is built and every jar its classpath names is still in ``~/.m2``; a
    cleared ``~/.m2`` is fetched again. Concurrent callers wait for one build (a file lock).
    """
    sources = launcher_sources()
    built = BuiltLauncher(launcher_folder(sources))
    if built.is_built():
        return built
    mvn = shutil.which("mvn")
    if not mvn:
        raise EngineError("Maven (mvn) is not installed; it is needed once to fetch Neo4j from Maven Central "
                          "('make setup' installs it)")
    _java()
    folder = built.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineError(f"cannot create the Neo4j launcher's build folder {folder}: {exc.strerror}; "
                          f"set {ENV_CACHE} to a writable folder") from None
    with _exclusive(folder.parent / (folder.name + ".lock")):
        if built.is_built():            # another process built it while this one waited
            return built
        for rel, data in sources.items():
            dest = folder / rel
            if not dest.exists() or dest.read_bytes() != data:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        cmd = [mvn, "-B", "-q" if quiet else "-ntp", "package", "-DskipTests"]
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise EngineError(f"building the Neo4j launcher failed ({' '.join(cmd)} in {folder}):\n{tail}")
        if not built.is_built():
            raise EngineError(f"Maven built the Neo4j launcher in {folder} but its classpath names missing jars "
                              f"(see {built.classpath_file})")
    return built


@contextmanager
def _exclusive(lock_file: Path):
    with open(lock_file, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise EngineError("Java is not installed; Neo4j 5.26 needs Java 17 ('make setup' installs it)")
    return java


# -- one server per workspace ---------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a reused pid is not our server
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return LAUNCHER_CLASS.encode() in cmdline
    except OSError:
        return True


def status(workspace) -> dict:
    """``{'running': bool, 'uri', 'pid', 'answers': bool, …}`` for the workspace's server."""
    info = server_info(workspace)
    if not info:
        return {"running": False, "reason": f"no server recorded ({Path(workspace) / SERVER_FILE} missing)"}
    running = _alive(info["pid"])
    out = {**info, "running": running, "answers": False}
    if running:
        try:
            wait_ready(Neo4jTarget.resolve(workspace), timeout=5)
            out["answers"] = True
        except EngineError as exc:
            out["reason"] = str(exc)
    else:
        out["reason"] = f"process {info['pid']} is not running"
    return out


def start(workspace, *, auth: bool = True, heap: str = "1g", pagecache_mb: int = 512,
          port: int | None = None, timeout: float = 180, apoc_export: bool = False,
          keep_password: bool = False) -> dict:
    """Start the bundled server for a workspace (or return the running one).

    A new password is generated at every start, unless ``keep_password`` (a restart that
    clients already connected with the old one must survive, as the bulk push's).

    APOC core is always loaded; ``apoc_export`` also lets ``apoc.export.*`` write files into
    ``<workspace>/neo4j/dbms/import`` (off by default: a server that writes files on request
    is one more thing to think about)."""
    ws = Path(workspace)
    if not ws.is_dir():
        raise EngineError(f"{ws}: no such workspace folder")
    current = server_info(ws)
    if current and _alive(current["pid"]):
        wait_ready(Neo4jTarget.resolve(ws), timeout=timeout)
        return {**current, "already_running": True}
    java = _java()
    launcher = build_launcher()
    home = ws / "neo4j"
    home.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    env = dict(os.environ)
    env.pop("GRAPHWATCH_NEO4J_PASSWORD", None)

    pw_file = ws / PASSWORD_FILE
    if auth:
        old = pw_file.read_text(encoding="utf-8").strip() if keep_password and pw_file.exists() else ""
        password = old or secrets.token_urlsafe(18)
        pw_file.touch(mode=0o600, exist_ok=True)
        os.chmod(pw_file, 0o600)
        pw_file.write_text(password + "\n", encoding="utf-8")
        env["GRAPHWATCH_NEO4J_PASSWORD"] = password
    elif pw_file.exists():
        pw_file.unlink()
    log = open(home / "server.log", "ab")
    log_start = log.tell()
    # APOC reads its settings from Java system properties too (besides apoc.conf)
    apoc = [f"-Dapoc.export.file.enabled={'true' if apoc_export else 'false'}"]
    cmd = [java, f"-Xmx{heap}", "-XX:+UseG1GC", *apoc, "-cp", launcher.classpath, LAUNCHER_CLASS,
           str((home / "dbms").resolve()), str(port), str(pagecache_mb), str(launcher.plugins)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True, cwd=home)
    log.close()
    info = {"uri": f"bolt://127.0.0.1:{port}", "port": port, "pid": proc.pid, "user": "neo4j", "auth": auth,
            "home": str(home.resolve()), "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "heap": heap,
            "pagecache_mb": pagecache_mb, "apoc_export": apoc_export}
    (ws / SERVER_FILE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    try:
        # the launcher prints its ready line once the password is set; Bolt answers before that
        deadline = time.monotonic() + timeout
        while READY_LINE not in (home / "server.log").read_bytes()[log_start:]:
            if proc.poll() is not None:
                raise EngineError(f"the Neo4j server exited while starting (status {proc.returncode})")
            if time.monotonic() > deadline:
                raise EngineError(f"the Neo4j server did not start within {timeout:.0f} s")
            time.sleep(0.3)
        wait_ready(Neo4jTarget.resolve(ws), timeout=max(5.0, deadline - time.monotonic()),
                   alive=lambda: proc.poll() is None)
    except EngineError as exc:
        stop(ws)
        raise EngineError(f"{exc}; see {home / 'server.log'}") from None
    return info


def stop(workspace, *, timeout: float = 60) -> bool:
    """Stop the workspace's server (SIGTERM, then SIGKILL after ``timeout``). False if none ran."""
    ws = Path(workspace)
    info = server_info(ws)
    if not info:
        return False
    pid = info["pid"]
    was = _alive(pid)
    if was:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
            time.sleep(0.5)
        _reap(pid)
    (ws / SERVER_FILE).unlink(missing_ok=True)
    return was


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
