"""Resident identity numbers (GB 11643-1999) and USCCs (GB 32100-2015): Python functions,
and the DuckDB macros that must agree with them on every input."""

from __future__ import annotations

import datetime as dt
import doctest

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwatch.resolve import ids, ids_sql
from graphwatch.resolve.ids import (
    RESIDENT_ID_STATUSES,
    clean_resident_id,
    clean_uscc,
    id15_to_18,
    id_birth_date,
    id_region,
    id_sex,
    make_resident_id,
    make_uscc,
    register_sql_macros,
    resident_id_check_char,
    usable_as_identity,
    uscc_check_char,
)

TODAY = dt.date(2025, 6, 30)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def by_hand(first17: str) -> str:
    """The GB 11643 check character, written out independently of the module."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def rid(first17: str) -> str:
    return first17 + by_hand(first17)


def test_doctests():
    assert doctest.testmod(ids).failed == 0
    assert doctest.testmod(ids_sql).attempted and doctest.testmod(ids_sql).failed == 0


# --- resident IDs: check character and conversion ------------------------------------------


def test_check_char_by_hand():
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 % 11 = 2
    assert resident_id_check_char("11010519491231002") == "X" == "10X98765432"[2]
    assert resident_id_check_char("44030119900101123") == "4" == by_hand("44030119900101123")


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100x", "１１０１０５１９４９１２３１００２"])
def test_check_char_rejects_non_17_digits(bad):
    with pytest.raises(ValueError):
        resident_id_check_char(bad)


def test_id15_to_18():
    assert id15_to_18("110105491231002") == "11010519491231002X"
    for bad in ["11010549123100", "1101054912310021", "11010549123100X", "１１０１０５４９１２３１００２"]:
        with pytest.raises(ValueError):
            id15_to_18(bad)


# --- resident IDs: cleaning -------------------------------------------------------------------


def test_valid():
    assert clean_resident_id("11010519491231002X", today=TODAY) == ("11010519491231002X", "valid")
    assert clean_resident_id("440301199001011234", today=TODAY) == ("440301199001011234", "valid")
    # a valid ID may end in 000 (sequence 000, check 0)
    assert clean_resident_id("440301199003070000", today=TODAY) == ("440301199003070000", "valid")


@pytest.mark.parametrize("raw", [
    "11010519491231002x",
    "１１０１０５１９４９１２３１００２Ｘ",
    "１１０１０５１９４９１２３１００２ｘ",
    " 110105 19491231 002X ",
    "110105\u300019491231\u3000002X",  # ideographic space
    "\u00a011010519491231002X\t\r\n",  # no-break space, tab, CR, LF
    "\ufeff11010519491231002X",  # BOM
    "'11010519491231002X",  # Excel's text marker
])
def test_cleaning_forms(raw):
    assert clean_resident_id(raw, today=TODAY) == ("11010519491231002X", "valid")


def test_legacy15():
    assert clean_resident_id("110105491231002", today=TODAY) == ("11010519491231002X", "legacy15")
    assert clean_resident_id("１１０１０５４９１２３１００２", today=TODAY) == ("11010519491231002X", "legacy15")
    # 1949-02-30 does not exist: the converted string is kept
    assert clean_resident_id("110105490230002", today=TODAY) == (id15_to_18("110105490230002"), "invalid_date")
    assert clean_resident_id(110105491231002, today=TODAY) == ("11010519491231002X", "legacy15")
    assert usable_as_identity("legacy15") and usable_as_identity("valid")


@pytest.mark.parametrize("raw", [
    "4.40301E+17", "4.40301e17", "4.40301E17", "4.403011990010E+17", "-4.4E+17", "1.10105E+14",
    "４．４０３０１Ｅ＋１７",
    "440301199001011235.0",  # 18 digits that fail the check
    "110105491231002.0",  # a 15-digit ID as a float: only 18 digits are recovered
    "4403011990.5", ".5", "440301199001011234.",
    4.40301199001011e17,  # a float object
])
def test_float_mangled(raw):
    assert clean_resident_id(raw, today=TODAY) == (None, "float_mangled")


def test_float_with_valid_18_digits_is_recovered():
    assert clean_resident_id("440301199001011234.0", today=TODAY) == ("440301199001011234", "valid")
    assert clean_resident_id("440301199001011234.00", today=TODAY) == ("440301199001011234", "valid")


def test_invalid_date():
    feb30 = rid("11010519990230001")
    assert clean_resident_id(feb30, today=TODAY) == (feb30, "invalid_date")
    for first17 in ["11010519991301001", "11010519990100001", "11010518791231001", "11010500000101001"]:
        assert clean_resident_id(rid(first17), today=TODAY) == (rid(first17), "invalid_date")
    assert clean_resident_id(rid("11010518800101001"), today=TODAY)[1] == "valid"
    assert clean_resident_id(rid("11010520000229001"), today=TODAY)[1] == "valid"
    assert clean_resident_id(rid("11010519000229001"), today=TODAY)[1] == "invalid_date"  # not a leap year
    # born today is fine, tomorrow is not
    assert clean_resident_id(make_resident_id("110105", TODAY, 1), today=TODAY)[1] == "valid"
    tomorrow = make_resident_id("110105", TODAY + dt.timedelta(days=1), 1)
    assert clean_resident_id(tomorrow, today=TODAY) == (tomorrow, "invalid_date")


def test_today_defaults_to_date_today():
    real_tomorrow = make_resident_id("110105", dt.date.today() + dt.timedelta(days=1), 1)
    assert clean_resident_id(real_tomorrow)[1] == "invalid_date"
    assert clean_resident_id(make_resident_id("110105", dt.date.today(), 1))[1] == "valid"


def test_typo_is_invalid_checksum_and_kept():
    good = "11010519491231002X"
    typo = "11010519491231012X"
    assert clean_resident_id(typo, today=TODAY) == (typo, "invalid_checksum")
    # every single-character change is caught (the weights are all non-zero mod 11)
    for i in range(18):
        for c in "0123456789X" if i == 17 else "0123456789":
            if c != good[i]:
                mutated = good[:i] + c + good[i + 1:]
                assert clean_resident_id(mutated, today=TODAY) == (mutated, "invalid_checksum")


@pytest.mark.parametrize("raw", [
    "000000000000000000", "111111111111111111", "666666666666666666", "000000000000000",
    "0", "00000", "XXXXXXXXXXXXXXXXXX", "xxxx", "-", "--", "——", "/", "***",
    "无", "不详", " 无 ", "未知", "暂无", "NULL", "null", "None", "nan", "N/A", "#N/A",
])
def test_placeholder(raw):
    assert clean_resident_id(raw, today=TODAY) == (None, "placeholder")


def test_repeated_check_digit_is_still_a_placeholder():
    # 6 repeated passes the checksum (sum = 600, 600 % 11 = 6 -> "6"), but is no ID
    assert by_hand("6" * 17) == "6"
    assert clean_resident_id("6" * 18, today=TODAY) == (None, "placeholder")


@pytest.mark.parametrize("raw", [None, "", " ", "\u3000", "\t\n", float("nan")])
def test_missing(raw):
    assert clean_resident_id(raw, today=TODAY) == (None, "missing")


@pytest.mark.parametrize("raw, cleaned", [
    ("abc", "ABC"), ("1101051949123100", "1101051949123100"), ("11010519491231002Y", "11010519491231002Y"),
    ("1101051949123100X2", "1101051949123100X2"), ("11010519491231002X1", "11010519491231002X1"),
    ("110105****1231002X", "110105****1231002X"), ("110105-19491231-002X", "110105-19491231-002X"),
    ("¹¹⁰¹⁰⁵¹⁹⁴⁹¹²³¹⁰⁰²X", "¹¹⁰¹⁰⁵¹⁹⁴⁹¹²³¹⁰⁰²X"),  # superscripts are not folded
])
def test_invalid_format_keeps_cleaned_string(raw, cleaned):
    assert clean_resident_id(raw, today=TODAY) == (cleaned, "invalid_format")


def test_foreigner_permanent_residence_id():
    # since 2023-12: 18 characters starting with 9, same check; region codes are not checked
    pr = rid("93310219850505012")
    assert clean_resident_id(pr, today=TODAY) == (pr, "valid")
    assert clean_resident_id(rid("99999919850505012"), today=TODAY)[1] == "valid"


def test_statuses_and_identity():
    assert RESIDENT_ID_STATUSES == ("valid", "legacy15", "invalid_checksum", "invalid_date", "invalid_format",
                                    "float_mangled", "placeholder", "missing")
    assert [s for s in RESIDENT_ID_STATUSES if usable_as_identity(s)] == ["valid", "legacy15"]


def test_fields():
    assert id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_sex("11010519491231002X") == "女"
    assert id_sex("11010519491231001X") == "男"
    assert id_region("11010519491231002X") == "110105"
    assert id_birth_date(rid("11010519990230001")) is None
    for bad in [None, "", "110105491231002", "11010519491231002Y", "１１０１０５１９４９１２３１００２Ｘ"]:
        assert id_birth_date(bad) is None and id_sex(bad) is None and id_region(bad) is None


def test_make_resident_id_rejects_bad_input():
    for region, seq in [("11010", 1), ("1101050", 1), ("11010a", 1), ("110105", -1), ("110105", 1000)]:
        with pytest.raises(ValueError):
            make_resident_id(region, dt.date(1990, 1, 1), seq)


@given(region=st.from_regex(r"\A[0-9]{6}\Z"), birth=st.dates(dt.date(1880, 1, 1), TODAY),
       seq=st.integers(0, 999))
def test_make_resident_id_round_trips(region, birth, seq):
    id18 = make_resident_id(region, birth, seq)
    assert len(id18) == 18 and id18[17] == by_hand(id18[:17])
    if id18 == id18[0] * 18:  # one digit repeated is a placeholder whatever it encodes
        return
    assert clean_resident_id(id18, today=TODAY) == (id18, "valid")
    assert id_birth_date(id18) == birth
    assert id_sex(id18) == ("男" if seq % 2 else "女")
    assert id_region(id18) == region
    if 1900 <= birth.year <= 1999:
        assert id15_to_18(id18[:6] + id18[8:17]) == id18


# --- USCC -------------------------------------------------------------------------------------


def uscc_by_hand(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def test_uscc_real_format_example():
    # 9*1 + 1*3 + 3*9 + 5*27 + 0 + 1*26 + 0 + 0 + 21*20 ('M' is index 21) + 0 + 0 + 0
    # + 1*8 + 0 + 0 + 30*30 ('Y') + 4*28 = 1640; 1640 % 31 = 28; 31 - 28 = 3
    assert uscc_by_hand("91350100M000100Y4") == "3"
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert clean_uscc("91350100M000100Y43") == ("91350100M000100Y43", "valid")


def test_uscc_check_31_becomes_0():
    # a total that is a multiple of 31 gives 31 - 0 = 31, written as index 0
    assert uscc_check_char("0" * 17) == "0"
    assert make_uscc("0" * 17) == "0" * 18


@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_make_uscc_validates(first17):
    code = make_uscc(first17)
    assert code[17] == uscc_by_hand(first17)
    assert clean_uscc(code) == (code, "valid")
    assert clean_uscc(code.lower()) == (code, "valid")
    wrong = next(c for c in USCC_ALPHABET if c != code[17])
    assert clean_uscc(code[:17] + wrong) == (code[:17] + wrong, "invalid_checksum")


@pytest.mark.parametrize("raw", [
    "91350100m000100y43", " 91350100-M000100Y43 ", "9135 0100 M000 100Y 43", "９１３５０１００Ｍ０００１００Ｙ４３",
    "91350100－M000100Y43", "'91350100M000100Y43",
])
def test_uscc_cleaning(raw):
    assert clean_uscc(raw) == ("91350100M000100Y43", "valid")


@pytest.mark.parametrize("raw, status", [
    ("91350100M000100Y44", "invalid_checksum"),
    ("91350100M000100Y4", "invalid_format"),
    ("91350100M000100Y433", "invalid_format"),
    ("9135010OM000100Y43", "invalid_format"),  # O is not in the alphabet
    ("91350100I000100Y43", "invalid_format"),
    ("91350100S000100Y43", "invalid_format"),
    ("91350100V000100Y43", "invalid_format"),
    ("91350100Z000100Y43", "invalid_format"),
    ("无", "invalid_format"),
])
def test_uscc_invalid(raw, status):
    assert clean_uscc(raw)[1] == status
    assert clean_uscc(raw)[0] is not None


@pytest.mark.parametrize("raw", [None, "", "  ", "-", " - ", float("nan")])
def test_uscc_missing(raw):
    assert clean_uscc(raw) == (None, "missing")


def test_uscc_check_char_rejects_bad_input():
    for bad in ["91350100M000100Y", "91350100M000100YO", "91350100m000100y4"]:
        with pytest.raises(ValueError):
            uscc_check_char(bad)


# --- DuckDB macros agree with Python ------------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    register_sql_macros(c)
    yield c
    c.close()


def sql_resident_ids(con, values, today=TODAY):
    """Clean `values` with the macro in one query over a table, in order."""
    con.register("gw_test_values", pa.table({"i": range(len(values)), "raw": pa.array(values, pa.string())}))
    try:
        rows = con.execute("SELECT gw_clean_resident_id(raw, today := ?) FROM gw_test_values ORDER BY i",
                           [today]).fetchall()
    finally:
        con.unregister("gw_test_values")
    return [(r[0]["id"], r[0]["status"]) for r in rows]


def sql_usccs(con, values):
    con.register("gw_test_values", pa.table({"i": range(len(values)), "raw": pa.array(values, pa.string())}))
    try:
        rows = con.execute("SELECT gw_clean_uscc(raw) FROM gw_test_values ORDER BY i").fetchall()
    finally:
        con.unregister("gw_test_values")
    return [(r[0]["id"], r[0]["status"]) for r in rows]


def assert_agree(con, values, today=TODAY):
    got = sql_resident_ids(con, values, today)
    want = [clean_resident_id(v, today=today) for v in values]
    bad = [(v, g, w) for v, g, w in zip(values, got, want) if g != w]
    assert not bad, bad[:10]
    got_u = sql_usccs(con, values)
    want_u = [clean_uscc(v) for v in values]
    bad_u = [(v, g, w) for v, g, w in zip(values, got_u, want_u) if g != w]
    assert not bad_u, bad_u[:10]


FIXED = [
    None, "", " ", "11010519491231002X", "11010519491231002x", "110105491231002", "110105490230002",
    "440301199001011234.0", "440301199001011235.0", "110105491231002.0", "4.40301E+17", "4.40301e17",
    "000000000000000000", "666666666666666666", "000000000000000", "无", "不详", "-", "NULL", "——",
    "１１０１０５１９４９１２３１００２Ｘ", "\u00a011010519491231002X\t", "'11010519491231002X",
    "91350100M000100Y43", "91350100-m000100y43", "９１３５０１００Ｍ０００１００Ｙ４３", "9135010OM000100Y43",
    "abc", "¹²³", "a\u0301", "😀", "ß", "ＡＢＣ", "x", "X", "0", "''", "'",
]


def test_macros_agree_on_fixed_values(con):
    assert_agree(con, FIXED)


@pytest.mark.parametrize("value", FIXED[1:])
def test_macros_agree_on_constants(con, value):
    # a literal lets DuckDB fold the macro at bind time, which evaluates branches no row takes
    literal = "'" + value.replace("'", "''") + "'"
    r = con.execute(f"SELECT gw_clean_resident_id({literal}, today := DATE '{TODAY}')").fetchall()[0][0]
    assert (r["id"], r["status"]) == clean_resident_id(value, today=TODAY)
    r = con.execute(f"SELECT gw_clean_uscc({literal})").fetchall()[0][0]
    assert (r["id"], r["status"]) == clean_uscc(value)


def test_macro_today_defaults_to_current_date(con):
    today = con.execute("SELECT current_date").fetchall()[0][0]
    values = [make_resident_id("110105", today + dt.timedelta(days=d), 1) for d in (-1, 0, 1)]
    rows = con.execute("SELECT list((gw_clean_resident_id(v)).status) FROM unnest(?::VARCHAR[]) t(v)",
                       [values]).fetchall()[0]
    assert rows[0] == [clean_resident_id(v, today=today)[1] for v in values] == ["valid", "valid", "invalid_date"]
    assert con.execute("SELECT (gw_clean_resident_id(NULL)).status").fetchall()[0][0] == "missing"


# Generated strings: IDs and their mutations, USCCs, floats, placeholders and junk.

_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.+-'"}
_SPACES = [" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2002", "\u200b", "\ufeff", "\u202f"]
_JUNK_CHARS = (
    "0123456789Xx.Ee+-' /*—无不详未知暂空NULAnul#ABCMYé ßıİ²①\u0301😀,;０１２３４５６７８９ＸｘＡＭＹ．＋－＇"
    + "".join(_SPACES)
)

st_date8 = st.tuples(st.integers(1870, 2100), st.integers(0, 14), st.integers(0, 33)).map(
    lambda t: f"{t[0]:04d}{t[1]:02d}{t[2]:02d}")
st_region = st.from_regex(r"\A[0-9]{6}\Z")
st_seq = st.from_regex(r"\A[0-9]{3}\Z")
# 18 characters whose check character is right (the date may be impossible)
st_checked18 = st.builds(lambda r, d, s: rid(r + d + s), st_region, st_date8, st_seq)
st_valid18 = st.builds(make_resident_id, st_region, st.dates(dt.date(1880, 1, 1), TODAY + dt.timedelta(days=3)),
                       st.integers(0, 999))
st_id15 = st.builds(lambda r, d, s: r + d[2:] + s, st_region,
                    st.tuples(st.integers(1900, 1999), st.integers(0, 13), st.integers(0, 32)).map(
                        lambda t: f"{t[0]:04d}{t[1]:02d}{t[2]:02d}"), st_seq)
st_uscc = st.text(USCC_ALPHABET, min_size=17, max_size=17).map(make_uscc)
st_junk = st.text(_JUNK_CHARS, max_size=22)


@st.composite
def st_mutated(draw, base):
    s = draw(base)
    kind = draw(st.sampled_from(["sub", "swap", "del", "ins", "lower", "fullwidth", "space", "float", "dot0",
                                 "apostrophe", "none"]))
    i = draw(st.integers(0, max(len(s) - 1, 0)))
    if kind == "sub" and s:
        s = s[:i] + draw(st.sampled_from("0123456789Xx")) + s[i + 1:]
    elif kind == "swap" and len(s) > 1:
        i = min(i, len(s) - 2)
        s = s[:i] + s[i + 1] + s[i] + s[i + 2:]
    elif kind == "del" and s:
        s = s[:i] + s[i + 1:]
    elif kind == "ins":
        s = s[:i] + draw(st.sampled_from("0123456789X")) + s[i:]
    elif kind == "lower":
        s = s.lower()
    elif kind == "fullwidth":
        s = "".join(c.translate(_FULLWIDTH) if draw(st.booleans()) else c for c in s)
    elif kind == "space":
        s = s[:i] + draw(st.sampled_from(_SPACES)) + s[i:]
    elif kind == "float" and s.isdigit():
        s = draw(st.sampled_from(["{:.5E}", "{:.5e}", "{:.15g}", "{:.1f}", "{}"])).format(float(s))
    elif kind == "dot0":
        s = s + draw(st.sampled_from([".0", ".00", ".", ".5"]))
    elif kind == "apostrophe":
        s = "'" + s
    return s


st_value = st.one_of(
    st_valid18, st_checked18, st_id15, st_uscc, st_junk,
    st_mutated(st.one_of(st_valid18, st_checked18, st_id15, st_uscc)),
    st.sampled_from(["", "无", "不详", "-", "——", "NULL", "nan", "000000000000000000", "666666666666666666",
                     "111111111111111", "XXXX", " ", "\u3000"]),
    st.builds(lambda d: d * 18, st.sampled_from("0123456789")),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st_value, min_size=50, max_size=120))
def test_macros_agree_with_python(con, values):
    # 60 examples of 50-120 values: several thousand strings, one query per example
    assert_agree(con, values)
