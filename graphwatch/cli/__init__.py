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

import click

from . import alerts, analytics, app, demo, evaluate, export, ingest, mappings, neo4j, patterns, query, resolve
from .console import GraphwatchGroup


@click.group(cls=GraphwatchGroup)
@click.version_option(package_name="graphwatch")
def main():
    """graphwatch — relationship and conflict-of-interest discovery on a property graph.

    \b
    Example:
      graphwatch demo
    """


for command in (ingest.generate, ingest.load, ingest.stats, ingest.quarantine, mappings.mappings, query.query,
                neo4j.neo4j, resolve.resolve, resolve.review, patterns.patterns, alerts.run, alerts.alerts,
                alerts.audit, alerts.watch, analytics.paths, analytics.neighbours, analytics.components,
                analytics.communities, analytics.centrality, export.export, demo.demo, evaluate.evaluate, app.app):
    main.add_command(command)

__all__ = ["main"]
