"""Households and persons of a group of villages, as numpy arrays (no per-person objects).

Households follow templates (head, spouse, children, parents, in-laws, grandchildren,
siblings) with consistent ages, sexes and surnames; the relation of every member to the
head is what the household registry's 与户主关系 column says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import calendar
from . import names
from .codes import resident_ids
from .county import County

REL = ["户主", "配偶", "子", "女", "父亲", "母亲", "兄弟", "姐妹", "儿媳", "女婿", "孙子", "孙女", "其他"]
R_HEAD, R_SPOUSE, R_SON, R_DAU, R_FATHER, R_MOTHER, R_BRO, R_SIS, R_DIL, R_SIL, R_GSON, R_GDAU, R_OTHER = range(13)

_REL_CATEGORY = "HSCCPPBBLLGG"   # 与户主关系 code -> category (head, spouse, child, parent, sibling, child-in-law, grandchild)


def household_kinship(ra: int, rb: int) -> str | None:
    """Kinship of b as seen from a, when both are in one household (codes of REL).

    Returns 配偶, 子女, 父母, 兄弟姐妹, 姻亲 (in-law) or 祖孙; None for anything further.
    """
    if ra >= 12 or rb >= 12:
        return None
    a, b = _REL_CATEGORY[ra], _REL_CATEGORY[rb]
    table = {
        ("H", "S"): "配偶", ("S", "H"): "配偶",
        ("H", "C"): "子女", ("S", "C"): "子女", ("C", "H"): "父母", ("C", "S"): "父母",
        ("H", "P"): "父母", ("P", "H"): "子女",
        ("H", "B"): "兄弟姐妹", ("B", "H"): "兄弟姐妹", ("C", "C"): "兄弟姐妹",
        ("P", "B"): "子女", ("B", "P"): "父母",
        ("H", "L"): "姻亲", ("S", "L"): "姻亲", ("L", "H"): "姻亲", ("L", "S"): "姻亲",
        ("S", "P"): "姻亲", ("P", "S"): "姻亲", ("S", "B"): "姻亲", ("B", "S"): "姻亲",
        ("C", "L"): "配偶", ("L", "C"): "配偶",
        ("C", "G"): "子女", ("L", "G"): "子女", ("G", "C"): "父母", ("G", "L"): "父母",
        ("H", "G"): "祖孙", ("S", "G"): "祖孙", ("G", "H"): "祖孙", ("G", "S"): "祖孙",
        ("P", "C"): "祖孙", ("C", "P"): "祖孙",
    }
    return table.get((a, b))


# name, head age range, P(head is male), member slots, weight.
# Slots: H head, S spouse, C child, s son (first child), d daughter (first child),
# F father, M mother, L the first child's spouse, G grandchild, B sibling.
TEMPLATES = [
    ("single_elder", 62, 92, 0.45, "H", 0.085),
    ("single_adult", 22, 60, 0.75, "H", 0.05),
    ("couple_elder", 55, 88, 0.94, "HS", 0.14),
    ("couple_young", 22, 40, 0.90, "HS", 0.03),
    ("nuclear1", 24, 58, 0.90, "HSC", 0.17),
    ("nuclear2", 28, 60, 0.90, "HSCC", 0.20),
    ("nuclear3", 32, 62, 0.90, "HSCCC", 0.05),
    ("single_parent", 28, 60, 0.45, "HC", 0.03),
    ("with_father", 26, 52, 0.95, "HSFC", 0.02),
    ("with_parents", 26, 50, 0.95, "HSFMC", 0.04),
    ("with_mother", 28, 55, 0.95, "HSMCC", 0.05),
    ("stem", 50, 80, 0.95, "HSsLG", 0.06),
    ("stem2", 52, 82, 0.93, "HSsLGG", 0.04),
    ("uxorilocal", 50, 78, 0.95, "HSdLG", 0.01),
    ("widow_stem", 58, 86, 0.25, "HsLG", 0.02),
    ("with_sibling", 24, 60, 0.85, "HB", 0.01),
    ("family_sibling", 30, 60, 0.90, "HSCB", 0.015),
]
_T_SIZE = np.array([len(t[4]) for t in TEMPLATES])
_T_W = np.array([t[5] for t in TEMPLATES])
_T_W = _T_W / _T_W.sum()

_SUR = np.array([s for s, _ in names.SURNAMES], dtype=object)
_SUR_P = np.array([w for _, w in names.SURNAMES], dtype=float)
_SUR_P /= _SUR_P.sum()


@dataclass
class Pop:
    # persons (ordered by village, household, slot)
    hh: np.ndarray          # household index (chunk-local)
    vil: np.ndarray         # village index (county-global)
    rel: np.ndarray         # relation code (REL)
    male: np.ndarray        # bool
    birth: np.ndarray       # day
    age: np.ndarray         # float years at calendar.REF
    death: np.ndarray       # day or NO_DEATH
    surname: np.ndarray     # object str
    name: np.ndarray        # object str
    id18: np.ndarray        # object str, valid
    region: np.ndarray      # index into County.regions
    phone: np.ndarray       # object str, own phone ("" if none)
    reg_phone: np.ndarray   # phone written in the household registry
    ethnic: np.ndarray      # object str
    # households
    h_start: np.ndarray
    h_size: np.ndarray
    h_vil: np.ndarray
    h_no: np.ndarray        # object str 户号
    h_addr: np.ndarray      # object str 住址

    @property
    def n(self) -> int:
        return len(self.hh)


class IdState:
    """County-wide state that keeps IDs, phones unique across chunks."""

    def __init__(self, county: County, rng: np.random.Generator):
        self.n_regions = len(county.regions)
        self.counters = np.zeros(self.n_regions * calendar.NDAYS * 2, dtype=np.int32)
        self.perm = rng.permutation(np.arange(1, 500))           # sequence numbers 1..499 per sex
        self.region_digits = np.array([[int(ch) for ch in r] for r in county.regions], dtype=np.uint8)
        self.phone_next = 0
        self.phone_a = 38_245_371       # odd and not divisible by 5: a bijection mod 1e8
        self.phone_b = int(rng.integers(0, 10**8))
        self.landline_next = 0
        self.landline_b = int(rng.integers(0, 10**7))

    def mobiles(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = np.arange(self.phone_next, self.phone_next + n, dtype=np.int64)
        self.phone_next += n
        tail = (k * self.phone_a + self.phone_b) % 10**8      # unique 8-digit tails
        prefixes = np.array([13, 15, 18, 17, 19], dtype=np.int64)
        pre = prefixes[rng.integers(0, len(prefixes), n)] * 10 + rng.integers(0, 10, n)
        num = pre * 10**8 + tail
        return num.astype(str).astype(object)

    def landline(self, area: str) -> str:
        k = self.landline_next
        self.landline_next += 1
        v = (k * 7_654_321 + self.landline_b) % 9_000_000 + 1_000_000
        return f"{area}-{v}"


def _soft_clip(rng, x, lo, hi):
    """Clip, but spread the clipped values over a year and a half instead of piling them up
    on one birthday (which would exhaust the 3-digit ID sequence numbers of that day)."""
    x = np.asarray(x, dtype=float).copy()
    if lo is not None:
        low = x < lo
        x[low] = lo + rng.uniform(0, 1.5, int(low.sum()))
    if hi is not None:
        high = x > hi
        x[high] = hi - rng.uniform(0, 1.5, int(high.sum()))
    return x


def _era(birth_year: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array([1955, 1975, 1990, 2005]), birth_year, side="left")


def given_names(rng: np.random.Generator, male: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    out = np.empty(len(male), dtype=object)
    era = _era(birth_year)
    for (e, sex), (c1, c2, single) in names.GIVEN.items():
        idx = np.nonzero((era == e) & (male == (sex == "男")))[0]
        if not len(idx):
            continue
        a1 = np.array(list(c1), dtype=object)
        a2 = np.array(list(c2), dtype=object)
        s1 = np.array(list(single), dtype=object)
        one = s1[rng.integers(0, len(s1), len(idx))]
        first = a1[rng.integers(0, len(a1), len(idx))]
        second = a2[rng.integers(0, len(a2), len(idx))]
        two = np.where(first == second, first, first + second)
        out[idx] = np.where(rng.random(len(idx)) < names.SINGLE_SHARE[e], one, two)
    return out


def make_population(rng: np.random.Generator, c: County, villages: range, ids: IdState) -> Pop:
    vsize = c.v_size[villages.start:villages.stop]
    target = int(vsize.sum())
    # --- households: template per household, truncated to hit the exact person count
    types = rng.choice(len(TEMPLATES), size=int(target / 3.0) + 16, p=_T_W)
    while _T_SIZE[types].sum() < target:
        types = np.concatenate([types, rng.choice(len(TEMPLATES), size=int(target / 3) + 16, p=_T_W)])
    sizes = _T_SIZE[types]
    cs = np.cumsum(sizes)
    n_h = int(np.searchsorted(cs, target) + 1)
    types, sizes = types[:n_h], sizes[:n_h].copy()
    sizes[-1] = target - (cs[n_h - 2] if n_h > 1 else 0)
    h_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    vb = np.cumsum(vsize)
    h_vil_local = np.searchsorted(vb, h_start, side="right")
    h_vil = h_vil_local + villages.start

    # per-household draws
    patriline = np.empty(n_h, dtype=object)
    local_sur = _SUR[rng.choice(len(_SUR), size=(len(vsize), 3), p=_SUR_P)]
    use_local = rng.random(n_h) < 0.55
    which_local = rng.choice(3, size=n_h, p=[0.5, 0.3, 0.2])
    patriline[:] = _SUR[rng.choice(len(_SUR), size=n_h, p=_SUR_P)]
    patriline[use_local] = local_sur[h_vil_local[use_local], which_local[use_local]]
    minorities = names.ETHNIC_MINORITIES.get(c.code, ["回"])
    h_eth = np.where(rng.random(n_h) < 0.95, "汉", np.array(minorities, dtype=object)[rng.integers(0, len(minorities), n_h)])

    cols = {k: [] for k in ("hh", "slot", "rel", "male", "age", "sur", "marry_in")}
    for j, (tname, lo, hi, pmale, slots, _w) in enumerate(TEMPLATES):
        hidx = np.nonzero(types == j)[0]
        n = len(hidx)
        if n == 0:
            continue
        head_age = rng.uniform(lo, hi, n)
        head_male = rng.random(n) < pmale
        head_sur = np.where(head_male, patriline[hidx], _SUR[rng.choice(len(_SUR), size=n, p=_SUR_P)])
        spouse_age = _soft_clip(rng, head_age + np.where(head_male, -2.0, 2.0) + rng.normal(0, 2.5, n), 19, 99)
        first_child_age = None
        first_child_male = None
        for pos, s in enumerate(slots):
            if s == "H":
                age, male, sur, rel = head_age, head_male, head_sur, np.full(n, R_HEAD)
                marry = np.zeros(n, bool)
            elif s == "S":
                age, male = spouse_age, ~head_male
                sur = np.where(head_male, _SUR[rng.choice(len(_SUR), size=n, p=_SUR_P)], patriline[hidx])
                rel = np.full(n, R_SPOUSE)
                marry = rng.random(n) < np.where(head_male, 0.15, 0.05)
            elif s in "Csd":
                if s == "C":
                    age = _soft_clip(rng, np.minimum(head_age, np.where("S" in slots, spouse_age, head_age))
                                     - rng.uniform(22, 37, n), 0.05, None)
                    male = rng.random(n) < 0.52
                else:
                    age = _soft_clip(rng, head_age - rng.uniform(22, 30, n), 20, None)
                    male = np.full(n, s == "s")
                    first_child_age, first_child_male = age, male
                sur = patriline[hidx]
                rel = np.where(male, R_SON, R_DAU)
                marry = np.zeros(n, bool)
            elif s == "F":
                age = _soft_clip(rng, head_age + rng.uniform(23, 35, n), None, 97)
                male, sur, rel = np.ones(n, bool), head_sur, np.full(n, R_FATHER)
                marry = np.zeros(n, bool)
            elif s == "M":
                age = _soft_clip(rng, head_age + rng.uniform(21, 33, n), None, 97)
                male = np.zeros(n, bool)
                sur = _SUR[rng.choice(len(_SUR), size=n, p=_SUR_P)]
                rel, marry = np.full(n, R_MOTHER), rng.random(n) < 0.10
            elif s == "L":
                male = ~first_child_male
                age = _soft_clip(rng, first_child_age + np.where(male, 1.5, -1.5) + rng.normal(0, 2, n), 19, None)
                sur = _SUR[rng.choice(len(_SUR), size=n, p=_SUR_P)]
                rel, marry = np.where(male, R_SIL, R_DIL), rng.random(n) < 0.25
            elif s == "G":
                base = first_child_age
                age = _soft_clip(rng, base - rng.uniform(20, 32, n), 0.05, None)
                male = rng.random(n) < 0.52
                sur, rel, marry = patriline[hidx], np.where(male, R_GSON, R_GDAU), np.zeros(n, bool)
            elif s == "B":
                d = rng.uniform(1, 12, n) * np.where(rng.random(n) < 0.5, -1, 1)
                age = _soft_clip(rng, head_age + d, 16, 97)
                male = rng.random(n) < 0.5
                sur, rel, marry = head_sur, np.where(male, R_BRO, R_SIS), np.zeros(n, bool)
            else:  # pragma: no cover
                raise AssertionError(s)
            cols["hh"].append(hidx)
            cols["slot"].append(np.full(n, pos))
            cols["rel"].append(rel)
            cols["male"].append(np.asarray(male, bool))
            cols["age"].append(np.asarray(age, float))
            cols["sur"].append(np.asarray(sur, dtype=object))
            cols["marry_in"].append(marry)
    hh = np.concatenate(cols["hh"])
    slot = np.concatenate(cols["slot"])
    order = np.lexsort((slot, hh))
    hh, slot = hh[order], slot[order]
    keep = slot < sizes[hh]
    order = order[keep]
    hh, slot = hh[keep], slot[keep]
    rel = np.concatenate(cols["rel"])[order].astype(np.int8)
    male = np.concatenate(cols["male"])[order]
    age = np.concatenate(cols["age"])[order]
    sur = np.concatenate(cols["sur"])[order]
    marry_in = np.concatenate(cols["marry_in"])[order]
    n = len(hh)
    assert n == target, (n, target)

    birth = np.clip(calendar.REF - (age * 365.2425).astype(np.int64) - rng.integers(0, 30, n), calendar.DAY_MIN + 1, calendar.REF)
    age = (calendar.REF - birth) / 365.2425
    region = np.zeros(n, dtype=np.int64)
    nreg = len(c.regions)
    region[marry_in] = rng.integers(1, nreg, int(marry_in.sum()))

    # --- IDs: unique (region, birth date, sex) sequence numbers across the county
    while True:
        key = (region * calendar.NDAYS + (birth - calendar.DAY_MIN)) * 2 + male
        order = np.argsort(key, kind="stable")
        sk = key[order]
        first = np.ones(n, bool)
        first[1:] = sk[1:] != sk[:-1]
        gs = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        rank = np.arange(n) - gs
        count = ids.counters[sk] + rank
        over = count >= len(ids.perm)
        if not over.any():
            break
        birth[order[over]] -= rng.integers(1, 20, int(over.sum()))
    np.add.at(ids.counters, sk, 1)
    seqv = np.empty(n, dtype=np.int64)
    # start each (region, day, sex) at its own offset so sequence numbers look random
    seqidx = (count + (sk * 2_654_435_761) % len(ids.perm)) % len(ids.perm)
    seqv[order] = ids.perm[seqidx]
    seq = np.where(male, 2 * seqv - 1, 2 * seqv)
    t = calendar.tables()
    id18 = resident_ids(ids.region_digits[region], t.digits[birth - calendar.DAY_MIN], seq)

    # --- deaths in 2019-2024: Gompertz hazard scaled to ~0.7 % a year overall
    age19 = (calendar.P0 - birth) / 365.2425
    q = 4.5e-5 * np.exp(0.09 * np.clip(age19, 0, 105))
    q *= 0.007 / max(q.mean(), 1e-9)
    q = np.clip(q, 0, 0.6)
    p6 = 1 - (1 - q) ** 6
    dies = (rng.random(n) < p6) & (birth < calendar.P0)
    death = np.full(n, calendar.NO_DEATH, dtype=np.int64)
    death[dies] = rng.integers(calendar.P0, calendar.REF + 1, int(dies.sum()))

    name = sur + given_names(rng, male, calendar.year_of(birth))

    # --- phones: own phones unique county-wide; the registry repeats the head's for some
    pown = np.select([age < 16, age < 23, age < 66, age < 81], [0.0, 0.6, 0.9, 0.5], 0.2)
    has = rng.random(n) < pown
    phone = np.full(n, "", dtype=object)
    phone[has] = ids.mobiles(int(has.sum()), rng)
    head_of = h_start[hh]
    reg_phone = phone.copy()
    borrow = (~has) & (rng.random(n) < 0.6)
    reg_phone[borrow] = phone[head_of[borrow]]

    # --- households: numbers and addresses
    first_in_v = np.searchsorted(h_vil, h_vil, side="left")
    k = np.arange(n_h) - first_in_v + 1
    vcode = np.array(c.v_code, dtype=object)
    prefix = c.record_prefix
    h_no = np.array([f"{prefix}{vc[6:]}{kk:04d}" for vc, kk in zip(vcode[h_vil].tolist(), k.tolist())],
                    dtype=object)
    tnames = np.array(c.t_name, dtype=object)[c.v_town[h_vil]]
    vnames = np.array(c.v_name, dtype=object)[h_vil]
    group = (k - 1) // 30 + 1
    pre = f"{c.province}{c.city}{c.name}"
    h_addr = np.array([f"{pre}{tn}{vn}{g}组{kk}号" for tn, vn, g, kk in
                       zip(tnames.tolist(), vnames.tolist(), group.tolist(), k.tolist())], dtype=object)

    ethnic = h_eth[hh].copy()
    other = marry_in & (rng.random(n) < 0.3)
    ethnic[other] = np.array(minorities + ["汉"], dtype=object)[rng.integers(0, len(minorities) + 1, int(other.sum()))]

    return Pop(hh=hh, vil=h_vil[hh], rel=rel, male=male, birth=birth, age=age, death=death, surname=sur,
               name=name, id18=id18, region=region, phone=phone, reg_phone=reg_phone, ethnic=ethnic,
               h_start=h_start, h_size=sizes, h_vil=h_vil, h_no=h_no, h_addr=h_addr)
