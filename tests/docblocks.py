"""Fenced blocks of the project's Markdown documents, so tests can run what the docs show.

A block's info string may name a file the block holds (```` ```csv file=dir/x.csv encoding=gbk ````);
:func:`write_files` writes those under a folder, as a reader following the document would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)


@dataclass
class Block:
    lang: str
    attrs: dict = field(default_factory=dict)
    text: str = ""


def blocks(doc: str | Path) -> list[Block]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        lang, *rest = (m["info"].split() or [""])
        attrs = dict(part.split("=", 1) for part in rest if "=" in part)
        out.append(Block(lang, attrs, m["body"]))
    return out


def write_files(doc: str | Path, folder: Path) -> list[Path]:
    """Write every block with a ``file=`` attribute under ``folder``; returns the paths."""
    written = []
    for b in blocks(doc):
        if "file" in b.attrs:
            path = folder / b.attrs["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b.text.encode(b.attrs.get("encoding", "utf-8")))
            written.append(path)
    return written


def commands(doc: str | Path) -> list[str]:
    """The shell commands of the document's ``bash`` blocks (comments and blank lines dropped,
    continuation lines joined)."""
    out = []
    for b in blocks(doc):
        if b.lang != "bash":
            continue
        joined = re.sub(r"\\\n\s*", " ", b.text)
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out
