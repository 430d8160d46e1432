"""Plants of the benefit models: relative_beneficiary, deceased_beneficiary,
payroll_on_welfare, poor_with_assets, cadre_subsidy, missing_coverage, duplicate_benefits."""

from __future__ import annotations

import numpy as np

from .. import calendar
from .. import names
from ...exc import CountyTooSmall
from ..chunk import Chunk
from ..benefits import P_DIBAO, P_DISAB, P_JINMU, P_PENSION, P_TEKUN, P_WEIFANG
from .picking import (NM, V, benefit_keys, current_cadres, month_index, month_periods, name_of, quarter_index,
                      quarter_periods)


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
    q0 = min(20, max(quarter_index(start) + 1, quarter_index(calendar.day(2020, 1, 1))) + int(rng.integers(0, 8)))
    q1 = min(23, q0 + int(rng.integers(3, 8)))
    tags = ch.add_benefit(r, P_DIBAO, quarter_periods(q0, q1), int(round(rng.uniform(900, 1500))), approver=org)
    ch.block_assets_hh[p.hh[r]] = True
    ch.mark(q, r)
    ch.truth("relative_beneficiary", kind,
             [("Person", q), ("Person", r), ("Organisation", org)] + benefit_keys(tags),
             f"{post} {name_of(ch, q)} of the organisation that approves the 低保 paid to {name_of(ch, r)}: {kin}")


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
    lo = max(quarter_index(int(turn60_all[q]) + 200) + 2, 2)
    if kind == V:
        k = int(rng.integers(lo, 21))
        d = int(calendar.QUARTERS[0][k]) + int(rng.integers(0, 85))
    else:                 # a few days into a quarter: the last paid quarter ends just before
        k = int(rng.integers(lo, 23))
        d = int(calendar.QUARTERS[0][k]) + int(rng.integers(1, 21))
    p.death[q] = d
    ch.alive[q] = False
    q_first = max(0, quarter_index(int(turn60_all[q])) + 1)
    q_dead = quarter_index(d)                         # quarter containing the death
    last_before = q_dead - 1               # last quarter that ends before the death
    amount = int(round(rng.uniform(400, 600)))
    before = ch.add_benefit(q, P_PENSION, quarter_periods(q_first, last_before), amount) if last_before >= q_first else []
    ch.mark(q)
    if kind == V:
        after = ch.add_benefit(q, P_PENSION, quarter_periods(q_dead + 1, min(23, q_dead + int(rng.integers(2, 6)))), amount)
        ch.truth("deceased_beneficiary", kind, [("Person", q), ("DeathRecord", q)] + benefit_keys(after),
                 f"died {calendar.fmt1(d)}; 城乡居民养老金 still paid for {len(after)} later quarter(s), first from "
                 f"{calendar.fmt1(int(calendar.QUARTERS[0][q_dead + 1]))}")
    else:
        ch.truth("deceased_beneficiary", kind, [("Person", q), ("DeathRecord", q)] + benefit_keys(before[-1:]),
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
        q0 = min(19, max(quarter_index(start) + 1, 4) + int(rng.integers(0, 8)))
        q1 = min(23, q0 + int(rng.integers(3, 7)))
        tags = ch.add_benefit(q, P_DIBAO, quarter_periods(q0, q1), int(round(rng.uniform(900, 1500))))
        ch.block_assets_hh[p.hh[q]] = True
        note = f"{post} on the payroll of {org} since {calendar.fmt1(start)} receives 低保 (a poverty roll)"
    else:
        y0 = int(rng.integers(1, 4))
        tags = ch.add_benefit(q, P_JINMU, [(int(calendar.YEARS[0][y]), int(calendar.YEARS[1][y])) for y in range(y0, y0 + 3)],
                              int(round(rng.uniform(800, 3000))))
        note = f"{post} on the payroll of {org} receives 禁牧补贴, which is not a poverty roll"
    ch.mark(q)
    ch.truth("payroll_on_welfare", kind, [("Person", q), ("Organisation", org)] + benefit_keys(tags), note)


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
        tags = ch.add_benefit(head, P_DIBAO, quarter_periods(4 + int(rng.integers(0, 6)), 23),
                              int(round(rng.uniform(1000, 1600))))
        what = "低保 (a poverty roll)"
    else:
        q_first = max(0, quarter_index(int(p.birth[head] + int(60 * 365.2425))) + 1)
        tags = ch.add_benefit(head, P_PENSION, quarter_periods(q_first, 23), int(round(rng.uniform(400, 600))))
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
    ch.truth("poor_with_assets", kind, ents + benefit_keys(tags[:1]),
             f"household {p.h_no[h]}: {name_of(ch, head)} receives {what}; member {name_of(ch, m)} owns {owns}")


def cadre_subsidy(ch: Chunk, kind: str, i: int):
    p, rng, c = ch.people, ch.rng, ch.county
    if kind == V:
        cands = [q for q in current_cadres(ch) if not ch.hh_used[p.hh[q]] and not ch.used[q]]
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
        m = month_index(2019 + y0, 1) + int(rng.integers(0, 12))
        tags = ch.add_benefit(q, P_WEIFANG, month_periods(m, m), int(round(rng.uniform(150, 350))) * 100, village=paid_in)
        what = "危房改造 grant"
    ch.mark(q)
    ch.truth("cadre_subsidy", kind, [("Person", q)] + ents_v + benefit_keys(tags),
             f"{post} {name_of(ch, q)} receives {what} paid in {where}")


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
        tags = ch.add_benefit(q, P_DISAB, quarter_periods(int(rng.integers(0, 6)), 23), int(round(rng.uniform(450, 700))))
        ch.truth("missing_coverage", NM, ents + benefit_keys(tags[:1]),
                 f"grade-{grade} {names.DISABILITY_KINDS[k][0]} certificate holder who is on the 残疾人两项补贴 roll")


def duplicate_benefits(ch: Chunk, kind: str, i: int):
    p, rng = ch.people, ch.rng
    ok = ch.benefit_ok & ~ch.used & ~ch.hh_used[p.hh] & ch.alive & (p.age >= 55)
    cand = np.nonzero(ok)[0]
    q = int(cand[int(rng.integers(len(cand)))])
    y = int(rng.integers(2020, 2023))
    if kind == V:
        d_tags = ch.add_benefit(q, P_DIBAO, quarter_periods(quarter_index(calendar.day(y, 1, 1)), quarter_index(calendar.day(y + 1, 12, 1))),
                                int(round(rng.uniform(900, 1400))))
        m0 = month_index(y + 1, int(rng.integers(2, 7)))
        t_tags = ch.add_benefit(q, P_TEKUN, month_periods(m0, m0 + int(rng.integers(3, 6))), int(round(rng.uniform(700, 900))))
        tk_s, tk_e = ch.plant_ben[t_tags[0]][2], ch.plant_ben[t_tags[-1]][3]
        overl = [t for t in d_tags if ch.plant_ben[t][3] >= tk_s and ch.plant_ben[t][2] <= tk_e]
        ch.truth("duplicate_benefits", V, [("Person", q)] + benefit_keys(overl) + benefit_keys(t_tags),
                 f"低保 and 特困供养 (one exclusive group) paid for overlapping periods in {y + 1}")
    else:
        d_tags = ch.add_benefit(q, P_DIBAO, quarter_periods(quarter_index(calendar.day(y - 1, 1, 1)), quarter_index(calendar.day(y, 4, 1))),
                                int(round(rng.uniform(900, 1400))))
        m0 = month_index(y, 7)
        t_tags = ch.add_benefit(q, P_TEKUN, month_periods(m0, min(71, m0 + 12)), int(round(rng.uniform(700, 900))))
        ch.truth("duplicate_benefits", NM, [("Person", q)] + benefit_keys(d_tags[-1:]) + benefit_keys(t_tags[:1]),
                 f"低保 until {y}-06-30, then 特困供养 from {y}-07-01: the same exclusive group, never the same period")
    ch.block_assets_hh[p.hh[q]] = True
    ch.mark(q)
