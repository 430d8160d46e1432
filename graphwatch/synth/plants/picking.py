"""What every planter uses: kinds, periods, and picking persons no other plant has used."""

from __future__ import annotations

import numpy as np

from .. import calendar
from ...exc import CountyTooSmall
from ..chunk import Chunk

V, NM = "violation", "near_miss"
BID_INDUSTRY = 0        # 建筑工程


def quarter_index(d: int) -> int:
    """Index of the quarter containing day d."""
    return int(np.searchsorted(calendar.QUARTERS[0], d, side="right") - 1)


def quarter_periods(q0: int, q1: int) -> list[tuple[int, int]]:
    return [(int(calendar.QUARTERS[0][k]), int(calendar.QUARTERS[1][k])) for k in range(q0, q1 + 1)]


def month_periods(m0: int, m1: int) -> list[tuple[int, int]]:
    return [(int(calendar.MONTHS[0][k]), int(calendar.MONTHS[1][k])) for k in range(m0, m1 + 1)]


def month_index(y: int, mo: int) -> int:
    return (y - 2019) * 12 + mo - 1


def plant_villages(ch: Chunk) -> list[int]:
    vs = [v for v in ch.villages if ch.ratio_class.get(ch.village_town(v), "bg") == "bg"]
    return vs or list(ch.villages)


def stranger(ch: Chunk, *, lo=30, hi=65, exclude_hh=()) -> int:
    """An unused adult with no official, cadre, payroll or company ties."""
    p = ch.people
    ok = ch.principal_ok & ~ch.used & ~ch.hh_used[p.hh] & ~ch.hh_principal[p.hh] & (p.age >= lo) & (p.age <= hi)
    cand = np.nonzero(ok)[0]
    for _ in range(50):
        q = int(cand[int(ch.rng.integers(len(cand)))])
        if p.hh[q] not in exclude_hh:
            return q
    raise CountyTooSmall("synthetic county too small: no stranger available")


def planted_company(ch: Chunk, rep: int, *, established: int, holders=None, industry=BID_INDUSTRY, phone=None,
             address=None) -> int:
    ci = ch.new_company(rep, industry=industry, established=established, holders=holders, phone=phone,
                        address=address, background=False)
    ch.plant_companies.add(ci)
    return ci


def name_of(ch: Chunk, q: int) -> str:
    return f"{ch.people.name[q]}"


def household_no(ch: Chunk, q: int) -> str:
    return str(ch.people.h_no[ch.people.hh[q]])


def current_cadres(ch: Chunk, *, own_village=True) -> list[int]:
    out = []
    for q, (v, post, start, end) in ch.cadre_post.items():
        if end is None and ch.alive[q] and (not own_village or int(ch.people.vil[q]) == v):
            out.append(q)
    cross = {x[0] for x in getattr(ch, "cross_cadres", [])}
    return sorted(q for q in out if q not in cross)


def benefit_keys(tags) -> list[tuple]:
    return [("Benefit", t) for t in tags]
