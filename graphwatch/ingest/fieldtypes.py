"""Field types: SQL that turns a source cell's text into a typed value (NULL when it does not parse).

Every expression is vectorised DuckDB SQL over a whole staged table; formats and words come
from here and are bound as parameters. A cell that is not empty but parses to NULL is a
quarantined row, with the reason :func:`type_error` gives.

Types beyond the schema's own:

* ``decimal`` / ``integer`` / ``float`` accept thousands separators, ``¥`` and ``元``, and the
  Chinese units ``万`` / ``万元`` (×10 000) and ``亿`` / ``亿元`` (×10⁸); a column may also
  declare ``scale:`` for cells written in a unit the header names (``注册资本（万元）``).
* ``month`` — ``2024-01``, ``2024/1``, ``2024.01``, ``2024年1月``, ``202401`` (or a full date):
  the field holds the first day and ``<field>_last`` the last day of the month, so patterns
  compare a monthly payment with dates (``b.period <= d.death_date``).
* ``percent`` — ``28.33%``, ``28.33 %``, ``28.33％`` or a share ``0.2833`` → the share 0.2833. A
  bare number above 1 is ambiguous (28.33 % or 28.33?) and quarantined.
* ``date_format:`` on a date, datetime or month column replaces the accepted formats with
  exactly the one given (``%m/%d/%Y`` for a file whose ``03/04/2021`` means 4 March).
"""

from __future__ import annotations

DATE_FORMATS = ["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
DATETIME_FORMATS = ["%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y年%m月%d日 %H:%M",
                    "%Y年%m月%d日 %H时%M分", "%Y%m%d%H%M%S", "%Y%m%d %H:%M"]
TRUE_WORDS = ["是", "true", "True", "TRUE", "1", "Y", "y", "yes", "有"]
FALSE_WORDS = ["否", "false", "False", "FALSE", "0", "N", "n", "no", "无"]
#: numbers written with a Chinese unit: the suffix and its factor
UNITS = {"万": 10_000, "亿": 100_000_000}
#: year and month of a month cell: 2024-01, 2024/1, 2024.01, 2024年1月, 2024-01-15, 2024年1月15日
MONTH_RE = r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月)?\s*(?:[-/.]?\s*\d{1,2}\s*日?)?\s*$"
MONTH_COMPACT_RE = r"^\s*(\d{4})(\d{2})(?:\d{2})?\s*$"
PERCENT_RE = r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*[%％]\s*$"

#: the schema type each field type is stored as (month: a date, its first day)
STORED_AS = {"string": "string", "integer": "integer", "float": "float", "decimal": "decimal",
             "boolean": "boolean", "date": "date", "datetime": "datetime", "month": "date",
             "percent": "float", "resident_id": "string", "uscc": "string"}

TYPE_WORDS = {"integer": "a whole number", "float": "a number", "decimal": "an amount",
              "date": "a date", "datetime": "a date and time", "boolean": "yes/no (是/否)",
              "month": "a month (2024-01, 2024年1月, 202401)",
              "percent": "a percentage (28.33%) or a share from 0 to 1 (0.2833)"}


def _number_parts(r: str) -> tuple[str, str]:
    """(text of the number without separators, currency signs and unit; SQL of the unit's factor)."""
    clean = f"replace(replace(replace(replace(trim({r}), ',', ''), '¥', ''), '元', ''), ' ', '')"
    factor = "CASE " + " ".join(f"WHEN ends_with({clean}, '{u}') THEN {f}" for u, f in UNITS.items()) + " ELSE 1 END"
    digits = f"regexp_replace({clean}, '[{''.join(UNITS)}]$', '')"
    return digits, factor


def parse_sql(r: str, typ: str, bind, *, date_format: str | None = None, scale: float | None = None) -> str:
    """SQL turning raw text ``r`` into ``typ`` (NULL where it does not parse).

    ``bind(value)`` binds a parameter and returns its placeholder.
    """
    if typ == "string":
        return r
    if typ in ("integer", "float", "decimal"):
        digits, factor = _number_parts(r)
        factor = f"({factor} * {bind(float(scale))})" if scale is not None else factor
        exact = f"(TRY_CAST({digits} AS DECIMAL(38,10)) * {factor})"
        approx = f"(TRY_CAST({digits} AS DOUBLE) * {factor})"
        if typ == "float":
            return f"CAST({approx} AS DOUBLE)"
        if typ == "decimal":
            return f"TRY_CAST({exact} AS DECIMAL(18,2))"
        # whole numbers: exact digits first; 1e5 and the like through a double
        return (f"COALESCE(CASE WHEN {exact} = round({exact}) THEN TRY_CAST({exact} AS BIGINT) END, "
                f"CASE WHEN {approx} = round({approx}) THEN TRY_CAST({approx} AS BIGINT) END)")
    if typ == "date":
        if date_format:
            return f"CAST(try_strptime({r}, {bind(date_format)}) AS DATE)"
        return f"COALESCE(TRY_CAST({r} AS DATE), CAST(try_strptime({r}, {bind(DATE_FORMATS)}) AS DATE))"
    if typ == "datetime":
        if date_format:
            return f"try_strptime({r}, {bind(date_format)})"
        return f"COALESCE(TRY_CAST({r} AS TIMESTAMP), try_strptime({r}, {bind(DATETIME_FORMATS)}))"
    if typ == "boolean":
        return (f"CASE WHEN {r} IN (SELECT unnest({bind(TRUE_WORDS)})) THEN true "
                f"WHEN {r} IN (SELECT unnest({bind(FALSE_WORDS)})) THEN false END")
    if typ == "month":
        if date_format:
            return f"CAST(date_trunc('month', try_strptime({r}, {bind(date_format)})) AS DATE)"
        long_re, compact_re = bind(MONTH_RE), bind(MONTH_COMPACT_RE)
        ym = (f"CASE WHEN regexp_matches({r}, {long_re}) THEN regexp_extract({r}, {long_re}, ['y', 'm']) "
              f"ELSE regexp_extract({r}, {compact_re}, ['y', 'm']) END")
        y, m = f"TRY_CAST(({ym}).y AS INTEGER)", f"TRY_CAST(({ym}).m AS INTEGER)"
        return f"CASE WHEN {m} BETWEEN 1 AND 12 THEN make_date({y}, {m}, 1) END"
    if typ == "percent":
        pct = f"TRY_CAST(regexp_extract({r}, {bind(PERCENT_RE)}, 1) AS DOUBLE)"
        share = f"TRY_CAST(trim({r}) AS DOUBLE)"
        return f"CASE WHEN {pct} IS NOT NULL THEN {pct} / 100 WHEN {share} BETWEEN 0 AND 1 THEN {share} END"
    raise ValueError(f"not a parsed field type: {typ}")


def month_last_sql(first: str) -> str:
    """The last day of the month whose first day is ``first``."""
    return f"CAST(last_day({first}) AS DATE)"


def type_error(typ: str, *, date_format: str | None = None) -> str:
    """The start of a quarantine reason for a cell that is not a ``typ`` (the cell follows)."""
    if date_format:
        return f"not {TYPE_WORDS[typ]} in the format {date_format}: "
    return f"not {TYPE_WORDS[typ]}: "
