"""Quarantine tables of a load's batches: the rows that could not load, with their raw cells.

Kept apart from :mod:`graphwatch.store` (which re-exports both functions for the loaders).
"""

from __future__ import annotations


def quarantine_table(con, name: str, read_errors) -> None:
    """Create a batch's quarantine table (line, column, reason, raw) holding the reader's errors."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (line BIGINT, \"column\" VARCHAR, reason VARCHAR, raw VARCHAR)")
    if read_errors:
        con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", read_errors)


def quarantine_rows(con, target: str, failures: str, raw_table: str, headers: list[str], *,
                    where: str = "true", params: dict | None = None) -> None:
    """Insert failed rows into ``target`` with their raw cells as JSON keyed by the source headers.

    ``failures`` is a table or subquery with columns line, column, reason; the cells come from
    ``raw_table`` (``_line``, ``c0`` … ``cN``). Headers are bound, never formatted in.
    """
    params = dict(params or {})
    pairs = []
    for k, h in enumerate(headers):
        params[f"_h{k}"] = h
        pairs.append(f"$_h{k}, r.c{k}")
    con.execute(f"""INSERT INTO {target}
        SELECT f.line, f."column", f.reason, json_object({', '.join(pairs)})
        FROM {failures} f JOIN {raw_table} r ON r._line = f.line WHERE {where}""", params)
