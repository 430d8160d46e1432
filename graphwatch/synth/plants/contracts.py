"""Plants of the contract models: own_village_project, related_bidders,
relative_direct_award, split_contracts, and the truth of direct_award_ratio."""

from __future__ import annotations

from .. import calendar
from .. import names
from ..chunk import Chunk
from ..contracts import DIRECT_RATIO_THRESHOLD, M_DIRECT, M_OPEN, SPLIT_WINDOW_DAYS, TENDER_THRESHOLD
from .picking import NM, V, current_cadres, household_no, name_of, plant_villages, planted_company, stranger


def own_village_project(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    rel_ok = ch.adult(28, 66) & ~ch.used
    q, r, kin = ch.head_with_relative(current_cadres(ch), what="cadre", relative_ok=rel_ok)
    v_home, post, start, _ = ch.cadre_post[q]
    if kind == V:
        v = v_home
    else:
        vs = [x for x in plant_villages(ch) if x != v_home] or [x for x in ch.villages if x != v_home]
        v = vs[int(rng.integers(len(vs)))]
    day = max(start + 200, calendar.day(2021, 6, 1)) + int(rng.integers(0, 700))
    est = day - int(rng.integers(400, 1500))
    if i % 2 == 0:
        ci = planted_company(ch, r, established=est)
        role = "legal representative and sole shareholder"
        extra = []
    else:
        rep = stranger(ch)
        ci = planted_company(ch, rep, established=est, holders=[(r, 70.0), (rep, 30.0)])
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
             f"{post} {name_of(ch, q)}; {kin} {name_of(ch, r)} (household {household_no(ch, q)}) is {role} of the winner "
             f"of an open tender; project in {where}")


_BASES = ("legal_rep", "phone", "address", "shareholder")


def _related_pair(ch: Chunk, basis: str, est: int) -> tuple[int, int, list[tuple]]:
    a = stranger(ch)
    b = stranger(ch, exclude_hh={ch.people.hh[a]})
    ents: list[tuple] = []
    if basis == "legal_rep":
        k1 = planted_company(ch, a, established=est)
        k2 = planted_company(ch, a, established=est + int(ch.rng.integers(100, 900)), holders=[(a, 55.0), (b, 45.0)])
        ents.append(("Person", a))
        used = [a, b]
    elif basis == "shareholder":
        s = stranger(ch, exclude_hh={ch.people.hh[a], ch.people.hh[b]})
        k1 = planted_company(ch, a, established=est, holders=[(a, 70.0), (s, 30.0)])
        k2 = planted_company(ch, b, established=est + int(ch.rng.integers(100, 900)), holders=[(b, 65.0), (s, 35.0)])
        ents.append(("Person", s))
        used = [a, b, s]
    elif basis == "phone":
        phone = ch.new_mobile()
        k1 = planted_company(ch, a, established=est, phone=phone)
        k2 = planted_company(ch, b, established=est + int(ch.rng.integers(100, 900)), phone=phone)
        used = [a, b]
    else:
        road = names.ROADS[int(ch.rng.integers(len(names.ROADS)))]
        ch.generator.addr_no += 1
        addr = f"{ch.county.province}{ch.county.city}{ch.county.name}城关镇{road}{ch.generator.addr_no}号"
        k1 = planted_company(ch, a, established=est, address=addr)
        k2 = planted_company(ch, b, established=est + int(ch.rng.integers(100, 900)), address=addr)
        used = [a, b]
    ch.mark(*used)
    return k1, k2, ents


def related_bidders(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    basis = _BASES[i % len(_BASES)]
    vs = plant_villages(ch)
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
    ci = planted_company(ch, r, established=day - int(rng.integers(500, 2000)))
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
             f"contract approved by {post} {name_of(ch, a)}, {how}, to the company of the approver's {kin} "
             f"{name_of(ch, r)} (household {household_no(ch, a)})")


def split_contracts(ch: Chunk, kind: str, i: int):
    rng = ch.rng
    vs = plant_villages(ch)
    v0 = vs[int(rng.integers(len(vs)))]
    t = ch.village_town(v0)
    tv = [v for v in ch.county.t_villages[t]]
    d0 = calendar.day(2020, 1, 1) + int(rng.integers(0, 1400))
    rep = stranger(ch)
    ci = planted_company(ch, rep, established=d0 - int(rng.integers(400, 2500)))
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
