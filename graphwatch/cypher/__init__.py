"""graphwatch's Cypher subset: grammar and parser (Lark) → IR → checker → compiler to SQL.

``parse(text)`` gives the IR (:mod:`.ir`); ``check(query, schema=…)`` checks it against
the schema and annotates it (:class:`~.checker.CheckedQuery`, what every engine runs
first); ``compile_query`` turns a checked query into DuckDB SQL (:mod:`.compiler`).
"""

from .checker import CheckedQuery, check
from .parser import parse

__all__ = ["CheckedQuery", "check", "parse"]
