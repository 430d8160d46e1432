"""Load a folder in the neo4j-admin import CSV format (``neo4j-admin database import``).

A folder is in this format when its CSV headers say so: a file whose header has an ``:ID``
(or ``name:ID(Space)``) column is a node file; one with ``:START_ID`` and ``:END_ID``
columns is a relationship file. No mapping is needed — the header declares everything —
but every label, relationship type and property must exist in the workspace's schema (the
packaged ``graphwatch/schema.yaml`` and the workspace's own; ``load --infer-schema`` makes it
from the export, :mod:`.infer`), and a declared type must fit the schema's type.

Header fields are ``name:type``:

* ``:ID`` / ``name:ID(Space)`` — the node id, in an ID space (neo4j-admin's global space
  without one); when named, the id is also stored as property ``name``
* ``:LABEL`` — labels, ``;``-separated (``Person;Official``); several columns add up
* ``:START_ID(Space)`` / ``:END_ID(Space)`` — a relationship's end node ids; ``:TYPE`` its type
* ``name`` (untyped) — a property read as the schema's type (neo4j-admin would read text)
* ``name:string`` / ``:char`` — text, into string properties
* ``name:int`` / ``:long`` / ``:short`` / ``:byte`` — whole numbers (range-checked), into
  integer, float or decimal properties
* ``name:float`` / ``:double`` — numbers, into float or decimal properties (never integer)
* nothing is silently rounded: a value the property cannot hold exactly — a double with more
  than 2 places in a decimal, a long beyond 2^53 in a float, a number too large for a
  decimal — is quarantined
* ``name:boolean`` — ``true`` / ``false`` in any case; anything else is quarantined
* ``name:date`` — ``YYYY-MM-DD`` or ``YYYYMMDD``
* ``name:datetime`` — ``YYYY-MM-DD[THH:MM[:SS[.fff]]]`` with an optional ``Z``, offset or
  ``[zone]``: the wall-clock time is kept and the zone dropped (graphwatch datetimes are local
  times), and the load notes say how many values had one; ``name:localdatetime`` — no zone
* ``name:string[]`` — a ``;``-separated list, only into ``string_list`` properties
* ``:IGNORE`` / ``name:IGNORE`` — the column is skipped
* ``valid_from`` / ``valid_to`` (untyped or ``:date``) on relationships — the relationship's
  built-in validity dates

Refused with a :class:`~graphwatch.exc.SourceError`: ``time``, ``localtime``, ``duration``,
``point`` and ``vector`` fields, other arrays, header options ``{…}``, node files without
``:ID``, and headers that name no ``:ID`` / ``:START_ID`` + ``:END_ID`` at all.

Files: ``X_header.csv`` / ``X-header.csv`` holds the header of the data files ``X.csv``,
``X_*.csv``, ``X-*.csv`` (which then have no header row); every other CSV carries its own
header on its first line. A node file without a ``:LABEL`` column takes its label from its
file name (``Person.csv``, ``Person_header.csv``) when that is a schema label; likewise a
relationship file without ``:TYPE`` (``LEGAL_REP_OF.csv``). The delimiter is ``,`` (a
header that only splits on tab or ``|`` selects that instead); fields may be quoted and
hold delimiters and newlines. An empty field is an absent property, as in neo4j-admin.

Each data file is one dataset, ``neo4j-admin/<folder>/<file>``, and one
:class:`~graphwatch.store.Batch`. A whole-file problem (an unknown label, type or property,
a type mismatch, a malformed header) raises :class:`~graphwatch.exc.SourceError` naming the
file, line and header column before anything is written. A bad row is quarantined with its
line (the row's first physical line; a header row is line 1), column and reason: a value
that does not parse, a missing id, a duplicate id in its ID space, a property the row's
labels (or type) do not declare, a relationship whose end nodes' labels the type does not
join, a wrong field count, and — found at commit — a relationship to an id that no node file
of this load and no node already in the workspace has. Rows read = loaded + quarantined.

Node keys are ``<ID space>:<id>``, ``Node:<id>`` for ids without a space — see
:func:`node_key_prefix` for why.
"""

from __future__ import annotations

from .header import is_neo4j_admin_folder, node_key_prefix
from .stage import stage_neo4j_admin

__all__ = ["is_neo4j_admin_folder", "node_key_prefix", "stage_neo4j_admin"]
