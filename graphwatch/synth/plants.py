"""Planted violations and near-misses, one function per supervision model.

Each function adds the records of one planted case (``kind`` = ``violation`` or
``near_miss``) to a :class:`~graphwatch.synth.chunk.Chunk` and registers its entities for
``ground_truth.csv``.  Persons used by a plant are marked: their IDs stay clean in every
source, their households get no background benefits or assets, and no other plant
reuses them, so one plant never completes another model's pattern by accident.
Relatives are always members of the anchor's own household (the anchor is its 户主), so
the kinship the household registry expresses is the kinship a pattern can find.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import names
from ..exc import CountyTooSmall
from .benefits import P_DIBAO, P_DISAB, P_JINMU, P_PENSION, P_TEKUN, P_WEIFANG
from .chunk import Chunk
from .contracts import DIRECT_RATIO_THRESHOLD, M_DIRECT, M_OPEN, SPLIT_WINDOW_DAYS, TENDER_THRESHOLD

V, NM = "violation", "near_miss"
_BID_INDUSTRY = 0        # 建筑工程


def _q(d: int) -> int:
    """Index of the quarter containing day d."""
    return int(np.searchsorted(calendar.QUARTERS[0], d, side="right") - 1)


def _quarters(q0: int, q1: int) -> list[tuple[int, int]]:
    return [(int(calendar.QUARTERS[0][k]), int(calendar.QUARTERS[1][k])) for k in range(q0, q1 + 1)]


def _months(m0: int, m1: int) -> list[tuple[int, int]]:
    return [(int(calendar.MONTHS[0][k]), int(calendar.MONTHS[1][k])) for k in range(m0, m1 + 1)]


def _m(y: int, mo: int) -> int:
    return (y - 2019) * 12 + mo - 1


def _plant_villages(ch: Chunk) -> list[int]:
    vs = [v for v in ch.villages if ch.ratio_class.get(ch.village_town(v), "bg") == "bg"]
    return vs or list(ch.villages)


def _stranger(ch: Chunk, *, lo=30, hi=65, exclude_hh=()) -> int:
    """An unused adult with no official, cadre, payroll or company ties."""
    p = ch.people
    ok = ch.principal_ok & ~ch.used & ~ch.hh_used[p.hh] & ~ch.hh_principal[p.hh] & (p.age >= lo) & (p.age <= hi)
    cand = np.nonzero(ok)[0]
    for _ in range(50):
        q = int(cand[int(ch.rng.integers(len(cand)))])
        if p.hh[q] not in exclude_hh:
            return q
    raise CountyTooSmall("synthetic county too small: no stranger available")


def _company(ch: Chunk, rep: int, *, established: int, holders=None, industry=_BID_INDUSTRY, phone=None,
             address=None) -> int:
    ci = ch.new_company(rep, industry=industry, established=established, holders=holders, phone=phone,
                        address=address, background=False)
    ch.plant_companies.add(ci)
    return ci


def _names(ch: Chunk, q: int) -> str:
    return f"{ch.people.name[q]}"


def _hh(ch: Chunk, q: int) -> str:
    return str(ch.people.h_no[ch.people.hh[q]])


def _current_cadres(ch: Chunk, *, own_village=True) -> list[int]:
    out = []
    for q, (v, post, start, end) in ch.cadre_post.items():
        if end is None and ch.alive[q] and (not own_village or int(ch.people.vil[q]) == v):
            out.append(q)
    cross = {x[0] for x in getattr(ch, "cross_cadres", [])}
    return sorted(q for q in out if q not in cross)


def _benefit_keys(tags) -> list[tuple]:
    return [("Benefit", t) for t in tags]


# ------------------------------------------------------------------------------ models
def own_village_project(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    rel_ok = ch.adult(28, 66) & ~ch.used
    q, r, kin = ch.head_with_relative(_current_cadres(ch), what="cadre", relative_ok=rel_ok)
    v_home, post, start, _ = ch.cadre_post[q]
    if kind == V:
        v = v_home
    else:
        vs = [x for x in _plant_villages(ch) if x != v_home] or [x for x in ch.villages if x != v_home]
        v = vs[int(rng.integers(len(vs)))]
    day = max(start + 200, calendar.day(2021, 6, 1)) + int(rng.integers(0, 700))
    est = day - int(rng.integers(400, 1500))
    if i % 2 == 0:
        ci = _company(ch, r, established=est)
        role = "legal representative and sole shareholder"
        extra = []
    else:
        rep = _stranger(ch)
        ci = _company(ch, rep, established=est, holders=[(r, 70.0), (rep, 30.0)])
        role = "70 % shareholder"
        extra = [rep]
    day = min(max(day, ch.companies[ci].established + 200), calendar.day(2024, 10, 15))
    budget = int(round(rng.uniform(450_000, 1_200_000), -3))
    proj = ch.new_project(v, budget, day)
    tender, ct = ch.award(proj, M_OPEN, ci, announce=day - 60)
    ch.mark(q, r, *extra)
    where = "the cadre's own village" if kind == V else \
        f"{ch.county.v_name[v]} ({ch.county.v_code[v]}), not the village the cadre serves ({ch.county.v_code[v_home]})"
    ch.truth("own_village_project", kind,
             [("Person", q), ("Person", r), ("Company", ci), ("Contract", ct), ("Project", proj), ("Village", v)],
             f"{post} {_names(ch, q)}; {kin} {_names(ch, r)} (household {_hh(ch, q)}) is {role} of the winner "
             f"of an open tender; project in {where}")


def relative_beneficiary(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    offs = [q for t in ch.townships for q in ch.town_officials[t]
            if ch.village_town(int(p.vil[q])) == t and not ch.used[q]]
    if not offs:
        offs = [q for t in ch.townships for q in ch.town_officials[t] if not ch.used[q]]
    rel_ok = ch.adult(20, 80) & ~ch.used
    if kind == V:
        q, r, kin = ch.head_with_relative(offs, what="township official", relative_ok=rel_ok)
    else:
        cand = [x for x in offs if not ch.hh_used[p.hh[x]]]
        q = cand[int(rng.integers(len(cand)))]
        v = int(p.vil[q])
        base = ch.benefit_ok & ~ch.used & ~ch.hh_used[p.hh] & ch.alive & (p.age >= 20) & (p.vil == v) \
            & (p.hh != p.hh[q])
        same = np.nonzero(base & (p.surname == p.surname[q]))[0]
        pool = same if len(same) else np.nonzero(base)[0]
        r = int(pool[int(rng.integers(len(pool)))])
        kin = "no kin (same village, different household" + (", same surname)" if len(same) else ")")
    org, post, start = ch.official_org[q]
    q0 = min(20, max(_q(start) + 1, _q(calendar.day(2020, 1, 1))) + int(rng.integers(0, 8)))
    q1 = min(23, q0 + int(rng.integers(3, 8)))
    tags = ch.add_benefit(r, P_DIBAO, _quarters(q0, q1), int(round(rng.uniform(900, 1500))), approver=org)
    ch.block_assets_hh[p.hh[r]] = True
    ch.mark(q, r)
    ch.truth("relative_beneficiary", kind,
             [("Person", q), ("Person", r), ("Organisation", org)] + _benefit_keys(tags),
             f"{post} {_names(ch, q)} of the organisation that approves the 低保 paid to {_names(ch, r)}: {kin}")


def deceased_beneficiary(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    turn60_all = p.birth + int(60 * 365.2425)
    base = ch.benefit_ok & ~ch.used & ~ch.hh_used[p.hh] & ~ch.hh_principal[p.hh] & (p.age >= 64) \
        & (turn60_all < calendar.day(2022, 6, 1))
    cand = np.nonzero(base & ~ch.alive)[0]
    if not len(cand):     # a tiny county without a suitable death: let an old person die
        cand = np.nonzero(base & ch.alive & (p.age >= 70))[0]
    q = int(cand[int(rng.integers(len(cand)))])
    # put the death where the plant needs it (deaths are otherwise uniform over 2019-2024)
    lo = max(_q(int(turn60_all[q]) + 200) + 2, 2)
    if kind == V:
        k = int(rng.integers(lo, 21))
        d = int(calendar.QUARTERS[0][k]) + int(rng.integers(0, 85))
    else:                 # a few days into a quarter: the last paid quarter ends just before
        k = int(rng.integers(lo, 23))
        d = int(calendar.QUARTERS[0][k]) + int(rng.integers(1, 21))
    p.death[q] = d
    ch.alive[q] = False
    q_first = max(0, _q(int(turn60_all[q])) + 1)
    q_dead = _q(d)                         # quarter containing the death
    last_before = q_dead - 1               # last quarter that ends before the death
    amount = int(round(rng.uniform(400, 600)))
    before = ch.add_benefit(q, P_PENSION, _quarters(q_first, last_before), amount) if last_before >= q_first else []
    ch.mark(q)
    if kind == V:
        after = ch.add_benefit(q, P_PENSION, _quarters(q_dead + 1, min(23, q_dead + int(rng.integers(2, 6)))), amount)
        ch.truth("deceased_beneficiary", kind, [("Person", q), ("DeathRecord", q)] + _benefit_keys(after),
                 f"died {calendar.fmt1(d)}; 城乡居民养老金 still paid for {len(after)} later quarter(s), first from "
                 f"{calendar.fmt1(int(calendar.QUARTERS[0][q_dead + 1]))}")
    else:
        ch.truth("deceased_beneficiary", kind, [("Person", q), ("DeathRecord", q)] + _benefit_keys(before[-1:]),
                 f"died {calendar.fmt1(d)}; last payment covers a period ending {calendar.fmt1(int(calendar.QUARTERS[1][last_before]))}, "
                 f"entirely before the death")


def payroll_on_welfare(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    rows = [row for row in ch.payroll_rows if row[2] in ("教师", "医生", "护士") and row[5] is None
            and not ch.off_hh[p.hh[row[0]]] and not ch.used[row[0]] and not ch.hh_used[p.hh[row[0]]]
            and ch.alive[row[0]] and row[4] < calendar.day(2022, 1, 1)]
    if not rows:   # a tiny county whose teachers are all taken: hire one more
        cand = np.nonzero(ch.adult(30, 55) & ~ch.off_hh[p.hh] & ~ch.used & ~ch.hh_used[p.hh]
                          & ~ch.hh_principal[p.hh] & ~ch.payroll & ~ch.disabled)[0]
        q = int(cand[int(rng.integers(len(cand)))])
        start = max(calendar.day(2008, 9, 1) + int(rng.integers(0, 12 * 365)), int(p.birth[q]) + 8400)
        start = min(start, calendar.day(2021, 9, 1))
        org = ch.county.t_school[ch.village_town(int(p.vil[q]))]
        ch.payroll[q] = True
        ch.benefit_ok[q] = False
        ch.payroll_rows.append((q, org, "教师", 4200 + int(rng.integers(0, 2500)), start, None))
        rows = [ch.payroll_rows[-1]]
    q, org, post, salary, start, _ = rows[int(rng.integers(len(rows)))]
    if kind == V:
        q0 = min(19, max(_q(start) + 1, 4) + int(rng.integers(0, 8)))
        q1 = min(23, q0 + int(rng.integers(3, 7)))
        tags = ch.add_benefit(q, P_DIBAO, _quarters(q0, q1), int(round(rng.uniform(900, 1500))))
        ch.block_assets_hh[p.hh[q]] = True
        note = f"{post} on the payroll of {org} since {calendar.fmt1(start)} receives 低保 (a poverty roll)"
    else:
        y0 = int(rng.integers(1, 4))
        tags = ch.add_benefit(q, P_JINMU, [(int(calendar.YEARS[0][y]), int(calendar.YEARS[1][y])) for y in range(y0, y0 + 3)],
                              int(round(rng.uniform(800, 3000))))
        note = f"{post} on the payroll of {org} receives 禁牧补贴, which is not a poverty roll"
    ch.mark(q)
    ch.truth("payroll_on_welfare", kind, [("Person", q), ("Organisation", org)] + _benefit_keys(tags), note)


def poor_with_assets(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    heads = p.h_start
    ok_h = ch.benefit_ok[heads] & ~ch.used[heads] & ~ch.hh_used & ch.alive[heads] & (p.h_size >= 2) & ~ch.off_hh
    if kind == NM:
        ok_h &= p.age[heads] >= 62
    cand = np.nonzero(ok_h)[0]
    rng.shuffle(cand)
    for h in cand:
        h = int(h)
        head = int(heads[h])
        members = [r for r in ch.hh_members(h) if r != head and ch.alive[r] and 22 <= p.age[r] <= 60
                   and ch.benefit_ok[r]]
        if members:
            break
    else:
        raise CountyTooSmall("synthetic county too small: no household for poor_with_assets")
    m = members[int(rng.integers(len(members)))]
    ents = [("Person", head), ("Person", m), ("Household", h)]
    if kind == V:
        tags = ch.add_benefit(head, P_DIBAO, _quarters(4 + int(rng.integers(0, 6)), 23),
                              int(round(rng.uniform(1000, 1600))))
        what = "低保 (a poverty roll)"
    else:
        q_first = max(0, _q(int(p.birth[head] + int(60 * 365.2425))) + 1)
        tags = ch.add_benefit(head, P_PENSION, _quarters(q_first, 23), int(round(rng.uniform(400, 600))))
        what = "城乡居民养老金 only (not a poverty roll)"
    if i % 2 == 0:
        a = ch.add_vehicle(m, calendar.day(2018, 1, 1) + int(rng.integers(0, 5 * 365)), kind=0)
        ents.append(("Vehicle", a))
        owns = "a car"
    else:
        a = ch.add_estate(m, calendar.day(2018, 1, 1) + int(rng.integers(0, 5 * 365)))
        ents.append(("RealEstate", a))
        owns = "a property"
    ch.mark(head, m)
    ch.truth("poor_with_assets", kind, ents + _benefit_keys(tags[:1]),
             f"household {p.h_no[h]}: {_names(ch, head)} receives {what}; member {_names(ch, m)} owns {owns}")


def _regulated_company(ch: Chunk, bureau: str) -> int:
    """A company regulated by `bureau` whose legal rep is free; a new one if none."""
    rng = ch.rng
    cands = [ci for ci, co in enumerate(ch.companies) if co.regulator == bureau and co.status in ("存续", "在业")
             and ci not in ch.plant_companies and not ch.used[co.legal_rep] and ch.alive[co.legal_rep]
             and not any(ch.used[x] for x in co.principals)]
    if cands:
        return cands[int(rng.integers(len(cands)))]
    inds = [k for k, x in enumerate(names.INDUSTRIES) if x[1] == bureau]
    rep = _stranger(ch)
    ci = ch.new_company(rep, industry=inds[int(rng.integers(len(inds)))], background=False,
                        established=calendar.day(2010, 1, 1) + int(rng.integers(0, 3000)))
    ch.plant_companies.add(ci)
    return ci


def _extras(ch: Chunk, k: int, exclude: set[int]) -> list[tuple[int, str, str]]:
    p, rng = ch.people, ch.rng
    ok = ch.alive & (p.age >= 24) & (p.age <= 70) & ~ch.is_official & ~ch.is_cadre & ~ch.used \
        & ~ch.hh_principal[p.hh]
    cand = np.nonzero(ok)[0]
    out = []
    while len(out) < k:
        q = int(cand[int(rng.integers(len(cand)))])
        if q not in exclude and q not in [x[0] for x in out]:
            out.append((q, "违法行为人", names.PENALTIES[int(rng.integers(len(names.PENALTIES)))]))
    return out


def _bureau_official(ch: Chunk, exclude_bureau: str | None = None) -> tuple[int, str]:
    rng = ch.rng
    opts = [(q, b) for b, qs in ch.bureau_officials.items() for q in qs
            if not ch.used[q] and not ch.hh_used[ch.people.hh[q]] and b != exclude_bureau]
    if not opts:
        raise CountyTooSmall("synthetic county too small: no bureau official left")
    main = [x for x in opts if x[1] in names.MAIN_REGULATORS]
    pool = main or opts
    return pool[int(rng.integers(len(pool)))]


def gambling_with_regulated(ch: Chunk, kind: str, i: int):
    p, rng, c = ch.people, ch.rng, ch.county
    pen = lambda: names.PENALTIES[int(rng.integers(len(names.PENALTIES)))]
    o, b = _bureau_official(ch)
    org = c.bureau[b][0]
    split = (i % 3 == 1)                 # the "same place, different cases" form
    if kind == NM and not split:         # the company answers to another bureau
        held = {r[1] for r in ch.roster if r[0] == o}     # every post the official ever held
        others = sorted(x for x in c.bureau if c.bureau[x][2] and c.bureau[x][0] not in held)
        b2 = others[int(rng.integers(len(others)))]
        ci = _regulated_company(ch, b2)
    else:
        ci = _regulated_company(ch, b)
        b2 = b
    co = ch.companies[ci]
    pr = co.legal_rep
    start = ch.official_org[o][2]
    day = max(start + 30, co.established + 30, calendar.day(2019, 3, 1)) + int(rng.integers(0, 900))
    day = min(day, calendar.day(2024, 11, 30))
    minute = ch.gamble_minute(day)
    v = int(p.vil[pr])
    place = ch.place_for(v, True)
    ch.mark(o, pr)
    if not split:
        parties = [(o, "违法行为人", pen()), (pr, "违法行为人", pen())] + _extras(ch, int(rng.integers(1, 4)), {o, pr})
        rng.shuffle(parties)
        case = ch.add_case("赌博", minute, place, parties)
        ents = [("Person", o), ("Person", pr), ("Company", ci), ("Organisation", org), ("PoliceCase", case)]
        if kind == V:
            note = f"official of {c.bureau[b][1]} and the legal rep of a company it regulates in one gambling case"
        else:
            ents.append(("Organisation", c.bureau[b2][0]))
            note = (f"official of {c.bureau[b][1]} gambles with the legal rep of a company regulated by "
                    f"{c.bureau[b2][1]}, a different organisation")
    else:
        gap = int(rng.integers(30, 100)) if kind == V else int(rng.integers(240, 360))
        k1 = ch.add_case("赌博", minute, place, [(o, "违法行为人", pen())] + _extras(ch, int(rng.integers(1, 3)), {o, pr}))
        k2 = ch.add_case("赌博", minute + gap, place,
                         [(pr, "违法行为人", pen())] + _extras(ch, int(rng.integers(1, 3)), {o, pr}))
        ents = [("Person", o), ("Person", pr), ("Company", ci), ("Organisation", org),
                ("PoliceCase", k1), ("PoliceCase", k2)]
        note = (f"official of {c.bureau[b][1]} and the legal rep of a company it regulates in two cases at the "
                f"same place {gap} minutes apart" + (" (within 2 hours)" if kind == V else " (more than 2 hours)"))
    ch.truth("gambling_with_regulated", kind, ents, note)


_BASES = ("legal_rep", "phone", "address", "shareholder")


def _related_pair(ch: Chunk, basis: str, est: int) -> tuple[int, int, list[tuple]]:
    a = _stranger(ch)
    b = _stranger(ch, exclude_hh={ch.people.hh[a]})
    ents: list[tuple] = []
    if basis == "legal_rep":
        k1 = _company(ch, a, established=est)
        k2 = _company(ch, a, established=est + int(ch.rng.integers(100, 900)), holders=[(a, 55.0), (b, 45.0)])
        ents.append(("Person", a))
        used = [a, b]
    elif basis == "shareholder":
        s = _stranger(ch, exclude_hh={ch.people.hh[a], ch.people.hh[b]})
        k1 = _company(ch, a, established=est, holders=[(a, 70.0), (s, 30.0)])
        k2 = _company(ch, b, established=est + int(ch.rng.integers(100, 900)), holders=[(b, 65.0), (s, 35.0)])
        ents.append(("Person", s))
        used = [a, b, s]
    elif basis == "phone":
        phone = ch.new_mobile()
        k1 = _company(ch, a, established=est, phone=phone)
        k2 = _company(ch, b, established=est + int(ch.rng.integers(100, 900)), phone=phone)
        used = [a, b]
    else:
        road = names.ROADS[int(ch.rng.integers(len(names.ROADS)))]
        ch.generator.addr_no += 1
        addr = f"{ch.county.province}{ch.county.city}{ch.county.name}城关镇{road}{ch.generator.addr_no}号"
        k1 = _company(ch, a, established=est, address=addr)
        k2 = _company(ch, b, established=est + int(ch.rng.integers(100, 900)), address=addr)
        used = [a, b]
    ch.mark(*used)
    return k1, k2, ents


def related_bidders(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    basis = _BASES[i % len(_BASES)]
    vs = _plant_villages(ch)
    day = calendar.day(2020, 6, 1) + int(rng.integers(0, 1400))
    k1, k2, ents = _related_pair(ch, basis, day - int(rng.integers(1200, 2500)))
    day = min(max(day, ch.companies[k2].established + 200), calendar.day(2024, 6, 1))
    if kind == V:
        proj = ch.new_project(vs[int(rng.integers(len(vs)))], int(round(rng.uniform(450_000, 1_500_000), -3)), day)
        tender, ct = ch.award(proj, M_OPEN, k1, bidders=[k2], announce=day - 60)
        ch.truth("related_bidders", V, [("Company", k1), ("Company", k2), ("Tender", tender)] + ents,
                 f"two bidders on one tender share their {basis.replace('_', ' ')}")
    else:
        tenders = []
        for j, k in enumerate((k1, k2)):
            d = day + j * int(rng.integers(60, 400))
            proj = ch.new_project(vs[int(rng.integers(len(vs)))], int(round(rng.uniform(450_000, 1_500_000), -3)), d)
            t, _ = ch.award(proj, M_OPEN, k, announce=d - 60)
            tenders.append(("Tender", t))
        ch.truth("related_bidders", NM, [("Company", k1), ("Company", k2)] + tenders + ents,
                 f"two companies sharing their {basis.replace('_', ' ')} bid on different tenders, never the same one")


def cadre_subsidy(ch: Chunk, kind: str, i: int):
    p, rng, c = ch.people, ch.rng, ch.county
    if kind == V:
        cands = [q for q in _current_cadres(ch) if not ch.hh_used[p.hh[q]] and not ch.used[q]]
        q = cands[int(rng.integers(len(cands)))]
        v, post, start, _ = ch.cadre_post[q]
        paid_in, ents_v = v, [("Village", v)]
        where = "the village the cadre serves"
    else:
        q, v, home, start = ch.cross_cadres[ch.cross_next]
        ch.cross_next += 1
        post = "村委委员"
        paid_in, ents_v = home, [("Village", v), ("Village", home)]
        where = (f"{c.v_name[home]} ({c.v_code[home]}), where the cadre lives; the cadre serves "
                 f"{c.v_name[v]} ({c.v_code[v]})")
    y0 = max(int(calendar.year_of([start])[0]) + 1, 2021) - 2019
    if i % 2 == 0 or kind == NM:
        years = list(range(y0, min(6, y0 + int(rng.integers(2, 4)))))
        tags = ch.add_benefit(q, P_JINMU, [(int(calendar.YEARS[0][y]), int(calendar.YEARS[1][y])) for y in years],
                              int(round(rng.uniform(1500, 4000))), village=paid_in)
        what = "禁牧补贴"
    else:
        m = _m(2019 + y0, 1) + int(rng.integers(0, 12))
        tags = ch.add_benefit(q, P_WEIFANG, _months(m, m), int(round(rng.uniform(150, 350))) * 100, village=paid_in)
        what = "危房改造 grant"
    ch.mark(q)
    ch.truth("cadre_subsidy", kind, [("Person", q)] + ents_v + _benefit_keys(tags),
             f"{post} {_names(ch, q)} receives {what} paid in {where}")


def relative_direct_award(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    offs = [q for t in ch.townships for q in ch.town_officials[t] if not ch.used[q]]
    rel_ok = ch.adult(28, 66) & ~ch.used
    a, r, kin = ch.head_with_relative(offs, what="approving official", relative_ok=rel_ok)
    org, post, start = ch.official_org[a]
    t = ch.county.t_gov.index(org)
    vs = [v for v in ch.county.t_villages[t]]
    v = vs[int(rng.integers(len(vs)))]
    day = max(start + 100, calendar.day(2019, 9, 1)) + int(rng.integers(0, 1000))
    day = min(day, calendar.day(2024, 10, 1))
    ci = _company(ch, r, established=day - int(rng.integers(500, 2000)))
    day = min(max(day, ch.companies[ci].established + 200), calendar.day(2024, 10, 15))
    if kind == V:
        amount = int(round(rng.uniform(80_000, 280_000), -2))
        proj = ch.new_project(v, int(round(amount * 1.02, -3)), day, builder=org)
        _, ct = ch.award(proj, M_DIRECT, ci, approver=a, announce=day - 30, amount=amount)
        ents = [("Contract", ct), ("Project", proj)]
        how = "awarded directly (直接发包)"
    else:
        proj = ch.new_project(v, int(round(rng.uniform(450_000, 1_100_000), -3)), day, builder=org)
        tender, ct = ch.award(proj, M_OPEN, ci, approver=a, announce=day - 60)
        ents = [("Contract", ct), ("Tender", tender), ("Project", proj)]
        how = "won by open tender (公开招标)"
    ch.mark(a, r)
    ch.truth("relative_direct_award", kind, [("Person", a), ("Person", r), ("Company", ci)] + ents,
             f"contract approved by {post} {_names(ch, a)}, {how}, to the company of the approver's {kin} "
             f"{_names(ch, r)} (household {_hh(ch, a)})")


def missing_coverage(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    ok = ch.benefit_ok & ~ch.used & ~ch.hh_used[p.hh] & ch.alive & ~ch.disabled & (p.age >= 18)
    cand = np.nonzero(ok)[0]
    q = int(cand[int(rng.integers(len(cand)))])
    k = int(rng.choice(len(names.DISABILITY_KINDS), p=[x[1] for x in names.DISABILITY_KINDS]))
    grade = int(rng.integers(1, 3))
    ch.disability.append((q, k, grade))
    ch.disabled[q] = True
    ch.mark(q)
    ents = [("Person", q), ("Disability", q)]
    if kind == V:
        ch.truth("missing_coverage", V, ents,
                 f"grade-{grade} {names.DISABILITY_KINDS[k][0]} certificate holder on no assistance roll at all")
    else:
        tags = ch.add_benefit(q, P_DISAB, _quarters(int(rng.integers(0, 6)), 23), int(round(rng.uniform(450, 700))))
        ch.truth("missing_coverage", NM, ents + _benefit_keys(tags[:1]),
                 f"grade-{grade} {names.DISABILITY_KINDS[k][0]} certificate holder who is on the 残疾人两项补贴 roll")


def split_contracts(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    vs = _plant_villages(ch)
    v0 = vs[int(rng.integers(len(vs)))]
    t = ch.village_town(v0)
    tv = [v for v in ch.county.t_villages[t]]
    d0 = calendar.day(2020, 1, 1) + int(rng.integers(0, 1400))
    rep = _stranger(ch)
    ci = _company(ch, rep, established=d0 - int(rng.integers(400, 2500)))
    d0 = min(max(d0, ch.companies[ci].established + 200), calendar.day(2023, 11, 1))
    ch.mark(rep)
    mode = "split" if kind == V else ("spread" if i % 2 == 0 else "above")
    if mode == "split":
        days = [d0, d0 + int(rng.integers(15, 40)), d0 + int(rng.integers(50, 86))]
    elif mode == "spread":
        g1, g2 = int(rng.integers(100, 160)), int(rng.integers(100, 160))
        days = [d0, d0 + g1, d0 + g1 + g2]
    else:
        days = [d0, d0 + int(rng.integers(10, 25)), d0 + int(rng.integers(30, 45))]
    cts = []
    for d in days:
        v = tv[int(rng.integers(len(tv)))]
        if mode == "above":
            amount = int(round(rng.uniform(410_000, 480_000), -2))
            proj = ch.new_project(v, int(round(amount * 1.05, -3)), d + 30)
            _, ct = ch.award(proj, M_OPEN, ci, announce=d - 35, amount=amount)
        else:
            amount = int(round(rng.uniform(362_000, 399_500), -2))
            proj = ch.new_project(v, min(TENDER_THRESHOLD - 100, int(round(amount * 1.005, -2))), d + 20)
            _, ct = ch.award(proj, M_DIRECT, ci, announce=d - 10, amount=amount)
            ch.contracts[ct][7] = d
        cts.append(ct)
    signed = [ch.contracts[k][7] for k in cts]
    amounts = [ch.contracts[k][3] for k in cts]
    span = max(signed) - min(signed)
    desc = {"split": f"three direct awards of {amounts} yuan, each just under {TENDER_THRESHOLD}, within {span} days",
            "spread": f"three direct awards of {amounts} yuan just under {TENDER_THRESHOLD}, but consecutive awards "
                      f"more than {SPLIT_WINDOW_DAYS} days apart",
            "above": f"three open-tender awards of {amounts} yuan within {span} days, all above {TENDER_THRESHOLD}"}
    ch.truth("split_contracts", kind, [("Company", ci)] + [("Contract", k) for k in cts], desc[mode])


def duplicate_benefits(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    ok = ch.benefit_ok & ~ch.used & ~ch.hh_used[p.hh] & ch.alive & (p.age >= 55)
    cand = np.nonzero(ok)[0]
    q = int(cand[int(rng.integers(len(cand)))])
    y = int(rng.integers(2020, 2023))
    if kind == V:
        d_tags = ch.add_benefit(q, P_DIBAO, _quarters(_q(calendar.day(y, 1, 1)), _q(calendar.day(y + 1, 12, 1))),
                                int(round(rng.uniform(900, 1400))))
        m0 = _m(y + 1, int(rng.integers(2, 7)))
        t_tags = ch.add_benefit(q, P_TEKUN, _months(m0, m0 + int(rng.integers(3, 6))), int(round(rng.uniform(700, 900))))
        tk_s, tk_e = ch.plant_ben[t_tags[0]][2], ch.plant_ben[t_tags[-1]][3]
        overl = [t for t in d_tags if ch.plant_ben[t][3] >= tk_s and ch.plant_ben[t][2] <= tk_e]
        ch.truth("duplicate_benefits", V, [("Person", q)] + _benefit_keys(overl) + _benefit_keys(t_tags),
                 f"低保 and 特困供养 (one exclusive group) paid for overlapping periods in {y + 1}")
    else:
        d_tags = ch.add_benefit(q, P_DIBAO, _quarters(_q(calendar.day(y - 1, 1, 1)), _q(calendar.day(y, 4, 1))),
                                int(round(rng.uniform(900, 1400))))
        m0 = _m(y, 7)
        t_tags = ch.add_benefit(q, P_TEKUN, _months(m0, min(71, m0 + 12)), int(round(rng.uniform(700, 900))))
        ch.truth("duplicate_benefits", NM, [("Person", q)] + _benefit_keys(d_tags[-1:]) + _benefit_keys(t_tags[:1]),
                 f"低保 until {y}-06-30, then 特困供养 from {y}-07-01: the same exclusive group, never the same period")
    ch.block_assets_hh[p.hh[q]] = True
    ch.mark(q)


PLANTERS = {
    "own_village_project": own_village_project,
    "relative_beneficiary": relative_beneficiary,
    "deceased_beneficiary": deceased_beneficiary,
    "payroll_on_welfare": payroll_on_welfare,
    "poor_with_assets": poor_with_assets,
    "gambling_with_regulated": gambling_with_regulated,
    "related_bidders": related_bidders,
    "cadre_subsidy": cadre_subsidy,
    "relative_direct_award": relative_direct_award,
    "missing_coverage": missing_coverage,
    "split_contracts": split_contracts,
    "duplicate_benefits": duplicate_benefits,
}


def ratio_truth(ch: Chunk):
    """Ground truth for direct_award_ratio, from the final contracts of each classed township."""
    tot, direct = {}, {}
    for ct in ch.contracts:
        t = ch.village_town(ch.projects[ct[1]][0])
        tot[t] = tot.get(t, 0) + 1
        direct[t] = direct.get(t, 0) + (ct[4] == M_DIRECT)
    for t in ch.townships:
        cls = ch.ratio_class.get(t, "bg")
        r = direct.get(t, 0) / max(tot.get(t, 0), 1)
        if cls == "bg":
            assert r <= 0.2 + 1e-9, (t, r)
            continue
        kind = V if cls == "planted" else NM
        assert (r > DIRECT_RATIO_THRESHOLD) == (kind == V), (t, r, cls)
        ch.truth("direct_award_ratio", kind, [("Township", t), ("Organisation", ch.county.t_gov[t])],
                 f"{direct.get(t, 0)} of {tot.get(t, 0)} contracts awarded directly ({r:.2f}; threshold "
                 f"{DIRECT_RATIO_THRESHOLD})")
