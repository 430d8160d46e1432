"""Chinese resident identity numbers and unified social credit codes.

Two identifiers carry identity in the source data:

* the resident identity number (公民身份号码, GB 11643-1999), 18 characters, or 15 digits
  on legacy cards;
* the unified social credit code (统一社会信用代码, USCC, GB 32100-2015) of an
  organisation, 18 characters.

Each has a Python cleaning function for single values and a DuckDB macro for bulk loads
(:func:`register_sql_macros`); the two give the same result for every input string.

Cleaning a value
----------------
The same three steps come first for both identifiers:

1. Full-width characters (U+FF01-U+FF5E, e.g. ``１`` or ``Ｘ``) become their ASCII
   counterparts, as NFKC does.
2. Spaces are removed wherever they occur: ASCII space, tab, CR, LF, the spaces NFKC
   folds to a space (no-break space U+00A0, U+2000-U+200A, U+202F, U+205F, ideographic
   space U+3000), the zero-width space U+200B and the BOM U+FEFF.  USCC cleaning also
   removes hyphens.
3. ASCII letters are upper-cased (``x`` becomes ``X``), and apostrophes that Excel
   users type in front of long numbers to keep them as text are removed from the start.

Only these characters are folded.  Full NFKC would also turn superscripts, circled
digits or mathematical letters into ASCII; DuckDB has no NFKC function, and keeping
the fold to what SQL can reproduce means a value gets the same status in bulk and one
at a time.  Such characters leave the value ``invalid_format``.
"""

from __future__ import annotations

import datetime
import math
import re

__all__ = [
    "RESIDENT_ID_STATUSES",
    "USCC_STATUSES",
    "clean_resident_id",
    "clean_uscc",
    "id15_to_18",
    "id_birth_date",
    "id_region",
    "id_sex",
    "make_resident_id",
    "make_uscc",
    "register_sql_macros",
    "resident_id_check_char",
    "usable_as_identity",
    "uscc_check_char",
]

RESIDENT_ID_STATUSES = (
    "valid",
    "legacy15",
    "invalid_checksum",
    "invalid_date",
    "invalid_format",
    "float_mangled",
    "placeholder",
    "missing",
)
"""Every status :func:`clean_resident_id` can return."""

USCC_STATUSES = ("valid", "invalid_checksum", "invalid_format", "missing")
"""Every status :func:`clean_uscc` can return."""

# --- shared cleaning -------------------------------------------------------------------

_SPACES = (
    " \t\n\r\u00a0"
    + "".join(chr(cp) for cp in range(0x2000, 0x200C))  # en quad .. zero-width space
    + "\u202f\u205f\u3000\ufeff"
)
_FULLWIDTH = range(0xFF01, 0xFF5F)  # ！ .. ～, NFKC maps cp to cp - 0xFEE0
_FULLWIDTH_OFFSET = 0xFEE0


def _fold_table(drop: str) -> dict[int, int | None]:
    """``str.translate`` table: full-width to ASCII, ASCII upper case, drop ``drop``."""
    table: dict[int, int | None] = {ord(c): None for c in drop}
    for cp in range(ord("a"), ord("z") + 1):
        table[cp] = cp - 32
    for cp in _FULLWIDTH:
        ascii_char = chr(cp - _FULLWIDTH_OFFSET)
        table[cp] = None if ascii_char in drop else ord(ascii_char.upper())
    return table


_RID_FOLD = _fold_table(_SPACES)
_USCC_FOLD = _fold_table(_SPACES + "-")


def _is_missing(raw: object) -> bool:
    return raw is None or (isinstance(raw, float) and math.isnan(raw))


def _fold(raw: object, table: dict[int, int | None]) -> str:
    return str(raw).translate(table).lstrip("'")


# --- resident identity numbers ---------------------------------------------------------

#: GB 11643 weights of the first 17 digits, and the check character for each sum mod 11
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"
_MIN_BIRTH = datetime.date(1880, 1, 1)

# Regular expressions are written so that Python's ``re`` and DuckDB's RE2 read them the
# same way: ASCII classes only (no \d, which is Unicode-aware in Python), always matched
# against the whole string.
_RE_ID18 = "[0-9]{17}[0-9X]"
_RE_ID15 = "[0-9]{15}"
_RE_FLOAT_ID18 = r"[0-9]{18}\.0+"  # "440301199001011234.0": recoverable if it checks
_RE_FLOAT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)E[+-]?[0-9]+|[+-]?([0-9]+\.[0-9]*|\.[0-9]+)"

_PLACEHOLDER_WORDS = ("无", "不详", "未知", "暂无", "空", "NULL", "NONE", "NAN", "N/A", "NA", "#N/A")
_PLACEHOLDER_REPEATS = "0123456789X-—*/"  # a value made of one of these, repeated


def resident_id_check_char(first17: str) -> str:
    """Check character of a resident identity number.

    Parameters
    ----------
    first17 : str
        The first 17 digits (region, birth date, sequence).

    Returns
    -------
    str
        One of ``0123456789X``: ``"10X98765432"[sum(digit * weight) % 11]``.

    Raises
    ------
    ValueError
        If `first17` is not exactly 17 ASCII digits.

    Examples
    --------
    >>> resident_id_check_char("11010519491231002")
    'X'
    """
    if not re.fullmatch("[0-9]{17}", first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return RESIDENT_ID_CHECK_CHARS[_rid_weighted_sum(first17) % 11]


def _rid_weighted_sum(digits17: str) -> int:
    return sum(int(c) * w for c, w in zip(digits17, RESIDENT_ID_WEIGHTS))


def _rid_checks(id18: str) -> bool:
    return RESIDENT_ID_CHECK_CHARS[_rid_weighted_sum(id18[:17]) % 11] == id18[17]


def id15_to_18(id15: str) -> str:
    """Convert a legacy 15-digit identity number to its 18-character form.

    Inserts the century ``19`` after the 6-digit region and appends the check character.

    Parameters
    ----------
    id15 : str
        15 ASCII digits: region, birth date ``YYMMDD`` (19YY), sequence.

    Returns
    -------
    str
        The 18-character identity number.  The date is not validated.

    Raises
    ------
    ValueError
        If `id15` is not exactly 15 ASCII digits.

    Examples
    --------
    >>> id15_to_18("110105491231002")
    '11010519491231002X'
    """
    if not re.fullmatch(_RE_ID15, id15):
        raise ValueError(f"expected 15 digits, got {id15!r}")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + resident_id_check_char(first17)


def _birth_date_ok(id18: str, today: datetime.date) -> bool:
    birth = id_birth_date(id18)
    return birth is not None and _MIN_BIRTH <= birth <= today


def _is_placeholder(s: str) -> bool:
    return s in _PLACEHOLDER_WORDS or (s[0] in _PLACEHOLDER_REPEATS and s == s[0] * len(s))


def clean_resident_id(raw: object, *, today: datetime.date | None = None) -> tuple[str | None, str]:
    """Clean a resident identity number and say what it is.

    Parameters
    ----------
    raw : object
        The value as read from the source; not a string is converted with ``str``
        (``None`` and float NaN are missing).
    today : datetime.date, optional
        Birth dates after this day are invalid.  Defaults to ``datetime.date.today()``.

    Returns
    -------
    id : str or None
        The cleaned 18-character number (for ``legacy15``, the converted form); the
        cleaned string for ``invalid_checksum``, ``invalid_date`` and ``invalid_format``,
        kept as evidence for fuzzy matching; ``None`` for ``float_mangled``,
        ``placeholder`` and ``missing``.
    status : str
        One of :data:`RESIDENT_ID_STATUSES`, decided in this order:

        ``missing``
            ``None``, NaN, or nothing left after cleaning.
        ``placeholder``
            One character repeated (``000000000000000000``, ``-``, ``XXXX``), or a word
            such as ``无``, ``不详``, ``NULL``.
        ``float_mangled``
            A number in floating-point notation (``4.40301E+17``, ``4403011990.5``),
            except that ``440301199001011234.0`` is recovered if its 18 digits check.
        ``valid``, ``invalid_checksum``, ``invalid_date``
            18 characters, digits with a final digit or ``X``.  The check character is
            tested first, then the birth date (a calendar date, from 1880 up to `today`).
            Region codes are not tested: they get retired, and foreigners' permanent
            residence IDs (since 2023-12) start with ``9``.
        ``legacy15``, ``invalid_date``
            15 digits, converted with :func:`id15_to_18`.
        ``invalid_format``
            Anything else.

    Examples
    --------
    >>> clean_resident_id("11010519491231002x")
    ('11010519491231002X', 'valid')
    >>> clean_resident_id("１１０１０５ １９４９１２３１ ００２Ｘ")
    ('11010519491231002X', 'valid')
    >>> clean_resident_id("110105491231002")
    ('11010519491231002X', 'legacy15')
    >>> clean_resident_id("110105194912310021")
    ('110105194912310021', 'invalid_checksum')
    >>> clean_resident_id("4.40301E+17")
    (None, 'float_mangled')
    >>> clean_resident_id("不详")
    (None, 'placeholder')
    """
    if _is_missing(raw):
        return None, "missing"
    s = _fold(raw, _RID_FOLD)
    if not s:
        return None, "missing"
    if _is_placeholder(s):
        return None, "placeholder"
    if re.fullmatch(_RE_FLOAT_ID18, s) and _rid_checks(s[:18]):
        s = s[:18]
    if re.fullmatch(_RE_FLOAT, s):
        return None, "float_mangled"
    today = datetime.date.today() if today is None else today
    if re.fullmatch(_RE_ID18, s):
        if not _rid_checks(s):
            return s, "invalid_checksum"
        return s, "valid" if _birth_date_ok(s, today) else "invalid_date"
    if re.fullmatch(_RE_ID15, s):
        s = id15_to_18(s)
        return s, "legacy15" if _birth_date_ok(s, today) else "invalid_date"
    return s, "invalid_format"


def usable_as_identity(status: str) -> bool:
    """Whether an ID with this status identifies a person: ``valid`` or ``legacy15``.

    Examples
    --------
    >>> usable_as_identity("legacy15"), usable_as_identity("invalid_checksum")
    (True, False)
    """
    return status in ("valid", "legacy15")


def id_birth_date(id18: str) -> datetime.date | None:
    """Birth date encoded in an 18-character identity number.

    Parameters
    ----------
    id18 : str
        A cleaned 18-character number (the checksum is not tested).

    Returns
    -------
    datetime.date or None
        The date in characters 7-14, or ``None`` if `id18` is not 17 digits and a digit
        or ``X``, or the characters are not a calendar date.

    Examples
    --------
    >>> id_birth_date("11010519491231002X")
    datetime.date(1949, 12, 31)
    >>> id_birth_date("110105199902300011") is None
    True
    """
    if not isinstance(id18, str) or not re.fullmatch(_RE_ID18, id18):
        return None
    try:
        return datetime.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


def id_sex(id18: str) -> str | None:
    """Sex encoded in an 18-character identity number: the 17th digit, odd for men.

    Returns
    -------
    str or None
        ``"男"``, ``"女"``, or ``None`` if `id18` is not 17 digits and a digit or ``X``.

    Examples
    --------
    >>> id_sex("11010519491231002X")
    '女'
    """
    if not isinstance(id18, str) or not re.fullmatch(_RE_ID18, id18):
        return None
    return "男" if int(id18[16]) % 2 else "女"


def id_region(id18: str) -> str | None:
    """The 6-digit region code (where the number was first issued), not validated.

    Examples
    --------
    >>> id_region("11010519491231002X")
    '110105'
    """
    if not isinstance(id18, str) or not re.fullmatch(_RE_ID18, id18):
        return None
    return id18[:6]


def make_resident_id(region: str, birth: datetime.date, seq: int) -> str:
    """Build a valid 18-character identity number.

    Parameters
    ----------
    region : str
        6 ASCII digits.
    birth : datetime.date
        Birth date.
    seq : int
        Sequence number 0-999; odd for men, even for women.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If `region` is not 6 digits or `seq` is out of range.

    Examples
    --------
    >>> make_resident_id("110105", datetime.date(1949, 12, 31), 2)
    '11010519491231002X'
    """
    if not re.fullmatch("[0-9]{6}", region):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be 0-999, got {seq!r}")
    first17 = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


# --- unified social credit codes -------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O S V Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_RE_USCC = "[0-9A-HJ-NPQRTUWXY]{18}"


def uscc_check_char(first17: str) -> str:
    """Check character of a unified social credit code.

    Parameters
    ----------
    first17 : str
        The first 17 characters, over ``0123456789ABCDEFGHJKLMNPQRTUWXY``.

    Returns
    -------
    str
        ``alphabet[(31 - sum(index * weight) % 31) % 31]``.

    Raises
    ------
    ValueError
        If `first17` is not 17 characters of the alphabet.

    Examples
    --------
    >>> uscc_check_char("91350100M000100Y4")
    '3'
    """
    if not re.fullmatch("[0-9A-HJ-NPQRTUWXY]{17}", first17):
        raise ValueError(f"expected 17 characters of {_USCC_ALPHABET}, got {first17!r}")
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(first17_without_check: str) -> str:
    """Append the check character to 17 code characters.

    Examples
    --------
    >>> make_uscc("91350100M000100Y4")
    '91350100M000100Y43'
    """
    return first17_without_check + uscc_check_char(first17_without_check)


def clean_uscc(raw: object) -> tuple[str | None, str]:
    """Clean a unified social credit code and say what it is.

    Parameters
    ----------
    raw : object
        The value as read from the source (``None`` and float NaN are missing).

    Returns
    -------
    code : str or None
        The cleaned string, or ``None`` if ``missing``.
    status : str
        ``missing`` (nothing left after cleaning), ``invalid_format`` (not 18 characters
        of the code alphabet), ``invalid_checksum`` or ``valid``; see
        :data:`USCC_STATUSES`.

    Examples
    --------
    >>> clean_uscc("91350100-m000100y43")
    ('91350100M000100Y43', 'valid')
    >>> clean_uscc("91350100M000100Y44")
    ('91350100M000100Y44', 'invalid_checksum')
    >>> clean_uscc("9135010OM000100Y43")
    ('9135010OM000100Y43', 'invalid_format')
    """
    if _is_missing(raw):
        return None, "missing"
    s = _fold(raw, _USCC_FOLD)
    if not s:
        return None, "missing"
    if not re.fullmatch(_RE_USCC, s):
        return s, "invalid_format"
    return s, "valid" if uscc_check_char(s[:17]) == s[17] else "invalid_checksum"



def register_sql_macros(con) -> None:
    """Define the DuckDB macros that clean in bulk what :func:`clean_resident_id` and
    :func:`clean_uscc` clean one at a time: see :func:`.ids_sql.register_sql_macros`
    (built from this module's constants, so imported only when asked for)."""
    from .ids_sql import register_sql_macros as register

    register(con)
