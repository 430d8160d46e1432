"""Plants of gambling_with_regulated: an official and a principal of a company the
official's bureau regulates, in one police case or at one place within the window."""

from __future__ import annotations

import numpy as np

from .. import calendar
from .. import names
from ...exc import CountyTooSmall
from ..chunk import Chunk
from .picking import NM, V, stranger


def _regulated_company(ch: Chunk, bureau: str) -> int:
    """A company regulated by `bureau` whose legal rep is free; a new one if none."""
    rng = ch.rng
    cands = [ci for ci, co in enumerate(ch.companies) if co.regulator == bureau and co.status in ("存续", "在业")
             and ci not in ch.plant_companies and not ch.used[co.legal_rep] and ch.alive[co.legal_rep]
             and not any(ch.used[x] for x in co.principals)]
    if cands:
        return cands[int(rng.integers(len(cands)))]
    inds = [k for k, x in enumerate(names.INDUSTRIES) if x[1] == bureau]
    rep = stranger(ch)
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
