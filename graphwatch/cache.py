"""A per-user cache folder for what is slow to rebuild and depends only on files: the Cypher
parser's tables, parsed schemas. ``GRAPHWATCH_CACHE`` (else ``XDG_CACHE_HOME``, else
``~/.cache``) / ``graphwatch``. Every entry is keyed by a hash of everything it was made from,
so a stale entry is never read; a folder that cannot be written only makes things slower."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path


def cache_file(name: str, *parts: bytes | str) -> Path | None:
    """The cache file for ``name`` made from ``parts`` (None when there is no cache folder)."""
    root = os.environ.get("GRAPHWATCH_CACHE") or os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    folder = Path(root) / "graphwatch"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"{name}-{h.hexdigest()[:20]}"


def cached(name: str, parts: list, make):
    """``make()``, or the value a previous process pickled for the same ``parts``."""
    f = cache_file(name, *parts)
    if f is not None:
        try:
            return pickle.loads(f.read_bytes())
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            pass
    value = make()
    if f is not None:
        try:
            tmp = f.with_name(f"{f.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(value))
            tmp.replace(f)
        except OSError:
            pass
    return value
