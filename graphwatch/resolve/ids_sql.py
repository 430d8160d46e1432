"""The DuckDB macros that clean resident identity numbers and USCCs in bulk:
:func:`register_sql_macros`.

They compute what the Python functions of :mod:`graphwatch.resolve.ids` compute, from the
same weights, regular expressions and fold tables, and give the same result for every
input string (``tests/test_ids.py`` checks it on generated values).
"""

from __future__ import annotations

from .ids import (
    _FULLWIDTH,
    _FULLWIDTH_OFFSET,
    _MIN_BIRTH,
    _PLACEHOLDER_REPEATS,
    _PLACEHOLDER_WORDS,
    _RE_FLOAT,
    _RE_FLOAT_ID18,
    _RE_ID15,
    _RE_ID18,
    _RE_USCC,
    _RID_FOLD,
    _USCC_ALPHABET,
    _USCC_FOLD,
    _USCC_WEIGHTS,
    RESIDENT_ID_CHECK_CHARS,
    RESIDENT_ID_WEIGHTS,
)

__all__ = ["register_sql_macros"]

# The macros compute what the Python functions compute, arranged for DuckDB:
#
# * A macro argument is pasted in wherever its parameter appears, and DuckDB does not
#   share common subexpressions inside CASE.  So values that need no cleaning (nearly
#   all: 18 or 15 clean characters) are classified as the column they are, and the
#   others are cleaned once and bound to `s` by a lambda over a one-element list.
# * Each expression node costs per row, and a lambda costs per chunk in proportion to
#   its body, so the checks are written with few nodes: a dot product for the check
#   character (digit i written out 17 times would repeat the substring 17 times),
#   strptime for the birth date.
# * translate() builds its character map again for every row, so it is not used.


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _sql_fold(table: dict[int, int | None]) -> str:
    """SQL for :func:`graphwatch.resolve.ids._fold` of the macro parameter ``raw``.

    ASCII values go through upper() and replace(), others are folded character by
    character.
    """
    drop = sorted(cp for cp, to in table.items() if to is None)
    ascii_fold = "upper(raw)"
    for cp in drop:
        if cp < 128:
            ascii_fold = f"replace({ascii_fold}, chr({cp}), '')"
    fw = _FULLWIDTH_OFFSET
    char_fold = (
        "array_to_string(list_transform(string_split(raw, ''), lambda c: CASE"
        f" WHEN unicode(c) IN ({', '.join(map(str, drop))}) THEN ''"
        " WHEN unicode(c) BETWEEN 97 AND 122 THEN chr(unicode(c) - 32)"
        f" WHEN unicode(c) BETWEEN {fw + 97} AND {fw + 122} THEN chr(unicode(c) - {fw + 32})"
        f" WHEN unicode(c) BETWEEN {_FULLWIDTH.start} AND {_FULLWIDTH.stop - 1}"
        f" THEN chr(unicode(c) - {fw})"
        " ELSE c END), '')"
    )
    return (
        f"ltrim(CASE WHEN strlen(raw) = length(raw) THEN {ascii_fold} ELSE {char_fold} END,"
        f" {_sql_str(chr(39))})"
    )


def _result(id_sql: str, status: str) -> str:
    return f"{{'id': {id_sql}, 'status': '{status}'}}"


_NONE = "NULL::VARCHAR"


def _sql_check(digits: str, weights: tuple[int, ...]) -> str:
    """SQL check character of the ASCII digits `digits`, one per weight.

    NULL rather than an error for other strings, which DuckDB may pass when it folds a
    constant argument into a branch that no row takes.
    """
    return f"""{_sql_str(RESIDENT_ID_CHECK_CHARS)}[
        try(list_dot_product(try_cast(string_split({digits}, '') AS INTEGER[]),
                             {list(weights)}::INTEGER[]))::INTEGER % 11 + 1]"""


def _sql_macros() -> list[str]:
    """The CREATE MACRO statements, helpers (``gw__*``) first."""
    words = ", ".join(_sql_str(w) for w in _PLACEHOLDER_WORDS)
    repeated = f"(contains({_sql_str(_PLACEHOLDER_REPEATS)}, s[1]) AND s = repeat(s[1], length(s)))"
    macros = {
        "gw__fold_resident_id(raw)": _sql_fold(_RID_FOLD),
        "gw__fold_uscc(raw)": _sql_fold(_USCC_FOLD),
        # --- resident IDs
        # check characters of 17 digits, and of 15 (where the "19" that id15_to_18
        # inserts at weights 2 and 1 adds 1 * 2 + 9 * 1 = 11, nothing mod 11)
        "gw__rid_check17(d17)": _sql_check("d17", RESIDENT_ID_WEIGHTS),
        "gw__rid_check15(d15)": _sql_check("d15", RESIDENT_ID_WEIGHTS[:6] + RESIDENT_ID_WEIGHTS[8:]),
        # 8 ASCII digits are a birth date from 1880 up to today
        "gw__rid_date_ok(yyyymmdd, today)": f"""coalesce(
            try_strptime(yyyymmdd, '%Y%m%d')::DATE BETWEEN DATE '{_MIN_BIRTH}' AND today, false)""",
        # s starts with 17 digits and a digit or X (it may go on, as "….0" does)
        "gw__rid18(s, today)": f"""CASE
            WHEN gw__rid_check17(left(s, 17)) <> s[18] THEN CASE
              WHEN {repeated} THEN {_result(_NONE, 'placeholder')}
              ELSE {_result('left(s, 18)', 'invalid_checksum')} END
            WHEN gw__rid_date_ok(s[7:14], today) THEN {_result('left(s, 18)', 'valid')}
            WHEN {repeated} THEN {_result(_NONE, 'placeholder')}
            ELSE {_result('left(s, 18)', 'invalid_date')} END""",
        # s is 15 digits
        "gw__rid15(s, today)": """{
            'id': left(s, 6) || '19' || right(s, 9) || gw__rid_check15(s),
            'status': CASE WHEN gw__rid_date_ok('19' || s[7:12], today) THEN 'legacy15'
                           ELSE 'invalid_date' END}""",
        # s is cleaned
        "gw__classify_resident_id(s, today)": f"""CASE
            WHEN s = '' THEN {_result(_NONE, 'missing')}
            WHEN s IN ({words}) OR {repeated} THEN {_result(_NONE, 'placeholder')}
            WHEN regexp_full_match(s, {_sql_str(_RE_ID18)})
              OR (regexp_full_match(s, {_sql_str(_RE_FLOAT_ID18)})
                  AND gw__rid_check17(left(s, 17)) = s[18]) THEN gw__rid18(s, today)
            WHEN regexp_full_match(s, {_sql_str(_RE_FLOAT)}) THEN {_result(_NONE, 'float_mangled')}
            WHEN regexp_full_match(s, {_sql_str(_RE_ID15)}) THEN gw__rid15(s, today)
            ELSE {_result('s', 'invalid_format')} END""",
        "gw_clean_resident_id(raw, today := current_date)": f"""CASE
            WHEN raw IS NULL THEN {_result(_NONE, 'missing')}
            WHEN regexp_full_match(raw, {_sql_str(_RE_ID18)}) THEN gw__rid18(raw, today)
            WHEN regexp_full_match(raw, {_sql_str(_RE_ID15)}) AND raw[1:14] <> raw[2:15]
              THEN gw__rid15(raw, today)
            ELSE list_transform([gw__fold_resident_id(raw)],
                                lambda s: gw__classify_resident_id(s, today))[1] END""",
        # --- USCC
        # s matches the USCC format; strpos gives the alphabet index + 1, so the sum
        # below is sum(index * w) + sum(w)
        "gw__uscc18(s)": f"""CASE
            WHEN {_sql_str(_USCC_ALPHABET)}[(31 - ({
                " + ".join(f"strpos({_sql_str(_USCC_ALPHABET)}, s[{i + 1}]) * {w}"
                           for i, w in enumerate(_USCC_WEIGHTS))
            } - {sum(_USCC_WEIGHTS)}) % 31) % 31 + 1] = s[18] THEN {_result('s', 'valid')}
            ELSE {_result('s', 'invalid_checksum')} END""",
        # s is cleaned
        "gw__classify_uscc(s)": f"""CASE
            WHEN regexp_full_match(s, {_sql_str(_RE_USCC)}) THEN gw__uscc18(s)
            WHEN s = '' THEN {_result(_NONE, 'missing')}
            ELSE {_result('s', 'invalid_format')} END""",
        "gw_clean_uscc(raw)": f"""CASE
            WHEN raw IS NULL THEN {_result(_NONE, 'missing')}
            WHEN regexp_full_match(raw, {_sql_str(_RE_USCC)}) THEN gw__uscc18(raw)
            ELSE list_transform([gw__fold_uscc(raw)], lambda s: gw__classify_uscc(s))[1] END""",
    }
    return [f"CREATE OR REPLACE TEMP MACRO {head} AS {body}" for head, body in macros.items()]


def register_sql_macros(con) -> None:
    """Define the cleaning macros on a DuckDB connection.

    Defines, as temporary macros (they live as long as the connection, and are not
    stored in the database file):

    ``gw_clean_resident_id(raw [, today := current_date])``
        ``STRUCT(id VARCHAR, status VARCHAR)``, the same as :func:`~.ids.clean_resident_id`.
    ``gw_clean_uscc(raw)``
        ``STRUCT(id VARCHAR, status VARCHAR)``, the same as :func:`~.ids.clean_uscc`.

    and helpers named ``gw__*``.  `raw` must be VARCHAR (cast other columns first) and is
    best a column: a macro argument is evaluated again wherever the macro uses it.  On
    two cores, a million rows take about half a second.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> register_sql_macros(con)
    >>> con.execute("SELECT gw_clean_resident_id('１１０１０５４９１２３１００２')").fetchall()
    [({'id': '11010519491231002X', 'status': 'legacy15'},)]
    >>> con.execute("SELECT (gw_clean_uscc('91350100M000100Y43')).status").fetchall()
    [('valid',)]
    """
    for statement in _sql_macros():
        con.execute(statement)
