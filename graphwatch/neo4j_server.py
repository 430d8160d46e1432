"""Start, stop and inspect the project's own Neo4j server (``graphwatch neo4j …``).

The server is Neo4j Community from Maven Central, started by the few-line launcher in
``tools/neo4j-server`` (built with Maven on first use; the jars stay in ``~/.m2``). It
listens on 127.0.0.1 only, on a free port, with its data under ``<workspace>/neo4j/``.
Auth is on with a generated password (kept in ``<workspace>/neo4j/password``, mode 0600,
never printed) unless ``auth=False``. ``<workspace>/neo4j/server.json`` records the URI,
where the rest of the tool finds it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .engines.neo4j import PASSWORD_FILE, SERVER_FILE, Neo4jTarget, server_info, wait_ready
from .exc import EngineError

TOOLS_DIR = Path(__file__).resolve().parents[1] / "tools" / "neo4j-server"
CLASSPATH_FILE = TOOLS_DIR / "target" / "classpath.txt"
LAUNCHER = "graphwatch.Launcher"
READY_LINE = b"graphwatch-neo4j ready"


def build(*, quiet: bool = True) -> Path:
    """Build the launcher (Maven fetches Neo4j's jars into ~/.m2 the first time)."""
    if not (TOOLS_DIR / "pom.xml").exists():
        raise EngineError(f"{TOOLS_DIR}/pom.xml is missing: the bundled Neo4j server needs a source checkout "
                          "of graphwatch (or point graphwatch at your own server with --uri)")
    jar = TOOLS_DIR / "target" / "classes" / "graphwatch" / "Launcher.class"
    sources = [TOOLS_DIR / "pom.xml", TOOLS_DIR / "src" / "main" / "java" / "graphwatch" / "Launcher.java"]
    if jar.exists() and CLASSPATH_FILE.exists() and \
            all(s.stat().st_mtime <= CLASSPATH_FILE.stat().st_mtime for s in sources) and \
            all(Path(p).exists() for p in CLASSPATH_FILE.read_text().strip().split(os.pathsep) if p):
        return CLASSPATH_FILE   # built, and the jars it names are still in ~/.m2 (a cleared cache rebuilds)
    mvn = shutil.which("mvn")
    if not mvn:
        raise EngineError("Maven (mvn) is not installed; it is needed once to fetch Neo4j from Maven Central "
                          "('make setup' installs it)")
    cmd = [mvn, "-B", "-q" if quiet else "-ntp", "package", "-DskipTests"]
    proc = subprocess.run(cmd, cwd=TOOLS_DIR, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise EngineError(f"building the Neo4j launcher failed ({' '.join(cmd)} in {TOOLS_DIR}):\n{tail}")
    return CLASSPATH_FILE


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
        return LAUNCHER.encode() in cmdline
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
          port: int | None = None, timeout: float = 180) -> dict:
    """Start the bundled server for a workspace (or return the running one)."""
    ws = Path(workspace)
    if not ws.is_dir():
        raise EngineError(f"{ws}: no such workspace folder")
    current = server_info(ws)
    if current and _alive(current["pid"]):
        wait_ready(Neo4jTarget.resolve(ws), timeout=timeout)
        return {**current, "already_running": True}
    classpath_file = build()
    java = shutil.which("java")
    if not java:
        raise EngineError("Java is not installed; Neo4j 5.26 needs Java 17 ('make setup' installs it)")
    home = ws / "neo4j"
    home.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    env = dict(os.environ)
    env.pop("GRAPHWATCH_NEO4J_PASSWORD", None)
    pw_file = ws / PASSWORD_FILE
    if auth:
        password = secrets.token_urlsafe(18)
        pw_file.touch(mode=0o600, exist_ok=True)
        os.chmod(pw_file, 0o600)
        pw_file.write_text(password + "\n", encoding="utf-8")
        env["GRAPHWATCH_NEO4J_PASSWORD"] = password
    elif pw_file.exists():
        pw_file.unlink()
    classpath = str(TOOLS_DIR / "target" / "classes") + os.pathsep + classpath_file.read_text().strip()
    log = open(home / "server.log", "ab")
    log_start = log.tell()
    cmd = [java, f"-Xmx{heap}", "-XX:+UseG1GC", "-cp", classpath, LAUNCHER,
           str((home / "dbms").resolve()), str(port), str(pagecache_mb)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True, cwd=home)
    log.close()
    info = {"uri": f"bolt://127.0.0.1:{port}", "port": port, "pid": proc.pid, "user": "neo4j", "auth": auth,
            "home": str(home.resolve()), "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "heap": heap,
            "pagecache_mb": pagecache_mb}
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
