"""Seeded dirt: what departmental exports really look like.

Rates per source are in :data:`ID_DIRT` and :data:`NAME_DIRT`.  Which dirt touches the
rows of planted violations and near-misses (their persons are *protected*):

========================================  ======================  ==========================
dirt                                      where                   on planted / near-miss rows
========================================  ======================  ==========================
missing ID (name + village only)          benefit_rolls 7 %,      never
                                          police parties 1 %
bad check character                       0.2-1 % per source      never
15-digit legacy ID (born before 1975)     0.2-0.3 %               never
ID typed as a number in Excel (mangled)   death_records 0.5 %     never
full-width digits, lower-case ``x``       0.1-0.2 %, 5-10 % of    yes: cleaning folds them
                                          X-final IDs             back to the valid ID
homophone typo in a name (王小明/王晓明)  1-1.5 % outside the     yes: names are evidence,
traditional characters (陳, 張, 劉 …)     household registry      not keys
有限公司 / 有限责任公司 variants           15 % of company names   yes: companies are keyed
                                          in bids, contracts,     by USCC
                                          corporate shareholders
mixed 出生日期 formats                    household registry      yes (all rows)
CRLF line ends                            GBK / GB18030 files     yes (all rows)
========================================  ======================  ==========================

Every model joins on person keys, so a protected person's ID is valid (after cleaning) in
every row that names them.  USCCs, phones, addresses, places, division and organisation
codes are never dirtied: related_bidders and the gambling time-and-place form need them to
match exactly.  Background dirt is real: before entity resolution it splits persons, which
can only hide matches, except for missing_coverage (an absent edge), where a disabled
person whose certificate row carries a bad ID shows up as uncovered until resolved.
"""

from __future__ import annotations

import numpy as np

from .names import HOMOPHONES, TRADITIONAL
from .codes import bad_check, full_width, legacy15

# file -> (missing, bad check char, 15-digit legacy, full-width, lower-case x among X-final IDs)
ID_DIRT = {
    "household_registry.csv": (0.0, 0.003, 0.003, 0.001, 0.10),
    "benefit_rolls.csv": (0.07, 0.01, 0.003, 0.002, 0.10),
    "officials_roster.xlsx": (0.0, 0.003, 0.0, 0.001, 0.05),
    "contracts.csv": (0.0, 0.005, 0.0, 0.0, 0.05),
    "disability_registry.csv": (0.0, 0.002, 0.0, 0.0, 0.05),
    "death_records.xlsx": (0.0, 0.004, 0.002, 0.0, 0.05),
    "police_case_parties.csv": (0.01, 0.005, 0.002, 0.002, 0.10),
    "default": (0.0, 0.005, 0.002, 0.001, 0.05),
}
# file -> (homophone typo, traditional characters)
NAME_DIRT = {
    "household_registry.csv": (0.0, 0.0),
    "benefit_rolls.csv": (0.015, 0.005),
    "officials_roster.xlsx": (0.005, 0.002),
    "default": (0.01, 0.003),
}
SUFFIX_VARIANT = 0.15   # 有限公司 <-> 有限责任公司 outside the company registry
EXCEL_NUMERIC_ID = 0.005  # death records: an ID typed as a number (Excel mangles it)

_TRAD = str.maketrans(TRADITIONAL)


def ids(rng: np.random.Generator, true_ids: np.ndarray, protect: np.ndarray, birth_year: np.ndarray,
        file: str) -> np.ndarray:
    missing, bad, leg, fw, lower = ID_DIRT.get(file, ID_DIRT["default"])
    out = np.array(true_ids, dtype=object, copy=True)
    n = len(out)
    if n == 0:
        return out
    r = rng.random(n)
    free = ~np.asarray(protect, bool)
    c1, c2, c3 = missing, missing + bad, missing + bad + leg
    out[(r < c1) & free] = ""
    for i in np.nonzero((r >= c1) & (r < c2) & free)[0]:
        out[i] = bad_check(out[i], rng)
    for i in np.nonzero((r >= c2) & (r < c3) & free & (np.asarray(birth_year) < 1975))[0]:
        out[i] = legacy15(out[i])
    r2 = rng.random(n)
    for i in np.nonzero(r2 < fw)[0]:
        if out[i]:
            out[i] = full_width(out[i])
    xs = np.nonzero(r2 > 1 - lower)[0]
    for i in xs:
        s = out[i]
        if s.endswith("X"):
            out[i] = s[:-1] + "x"
    return out


def names(rng: np.random.Generator, true_names: np.ndarray, file: str) -> np.ndarray:
    typo, trad = NAME_DIRT.get(file, NAME_DIRT["default"])
    out = np.array(true_names, dtype=object, copy=True)
    n = len(out)
    if n == 0 or (typo == 0 and trad == 0):
        return out
    r = rng.random(n)
    for i in np.nonzero(r < typo)[0]:
        s = out[i]
        spots = [k for k in range(len(s) - 1, -1, -1) if s[k] in HOMOPHONES]
        if spots:
            k = spots[0] if len(spots) == 1 else spots[int(rng.integers(len(spots)))]
            out[i] = s[:k] + HOMOPHONES[s[k]] + s[k + 1:]
    for i in np.nonzero((r >= typo) & (r < typo + trad))[0]:
        out[i] = out[i].translate(_TRAD)
    return out


def company_name(rng: np.random.Generator, name: str) -> str:
    if rng.random() >= SUFFIX_VARIANT:
        return name
    if name.endswith("有限责任公司"):
        return name[:-6] + "有限公司"
    if name.endswith("有限公司"):
        return name[:-4] + "有限责任公司"
    return name
