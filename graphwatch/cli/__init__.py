"""``graphwatch`` command line: a thin shell over the library.

Each command parses its options, calls the library and prints. Every command's help ends
with an example (a test checks it). Errors the user can fix print one clear line and exit
with status 2 (:class:`.console.GraphwatchGroup`).

Where each command lives:

- :mod:`.ingest` — generate, load, stats, quarantine
- :mod:`.mappings` — mappings list | check
- :mod:`.patterns` — patterns list | show | validate | test
- :mod:`.alerts` — run, alerts list | show | verdict | precision | trends, audit, watch
- :mod:`.query` — query
- :mod:`.analytics` — paths, neighbours, components, communities, centrality
- :mod:`.export` — export
- :mod:`.neo4j` — neo4j start | stop | status | push
- :mod:`.resolve` — resolve, review
- :mod:`.demo` — demo
- :mod:`.app` — app (starts the Streamlit explorer, package ``graphwatch_app``)
- :mod:`.evaluate` — evaluate (detection quality of the model library against a planted truth)
- :mod:`.console` — the consoles, progress bar, error handling and value formatting they share
"""

from __future__ import annotations

import importlib

import click

from .console import GraphwatchGroup

#: command name -> (module, attribute): a command's module is imported only when it runs
#: (or when help lists every command), so ``graphwatch query`` does not pay for the others
COMMANDS = {
    "generate": ("ingest", "generate"), "load": ("ingest", "load"), "stats": ("ingest", "stats"),
    "quarantine": ("ingest", "quarantine"), "mappings": ("mappings", "mappings"), "query": ("query", "query"),
    "neo4j": ("neo4j", "neo4j"), "resolve": ("resolve", "resolve"), "review": ("resolve", "review"),
    "patterns": ("patterns", "patterns"), "run": ("alerts", "run"), "alerts": ("alerts", "alerts"),
    "audit": ("alerts", "audit"), "watch": ("alerts", "watch"), "paths": ("analytics", "paths"),
    "neighbours": ("analytics", "neighbours"), "components": ("analytics", "components"),
    "communities": ("analytics", "communities"), "centrality": ("analytics", "centrality"),
    "export": ("export", "export"), "demo": ("demo", "demo"), "evaluate": ("evaluate", "evaluate"),
    "app": ("app", "app"),
}


class _LazyGroup(GraphwatchGroup):
    """The top-level group: its commands are imported on first use."""

    @property
    def commands(self) -> dict:
        return {name: self._load(name) for name in COMMANDS}

    @commands.setter
    def commands(self, value) -> None:       # click's Group.__init__ sets it (to nothing)
        if value:
            raise TypeError("the graphwatch group lists its commands in COMMANDS")

    def _load(self, name: str):
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)

    def list_commands(self, ctx) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx, name: str):
        return self._load(name) if name in COMMANDS else None


@click.group(cls=_LazyGroup)
@click.version_option(package_name="graphwatch")
def main():
    """graphwatch — relationship and conflict-of-interest discovery on a property graph.

    \b
    Example:
      graphwatch demo
    """


__all__ = ["main"]
