"""Police administrative cases of a chunk (gambling and others) and their parties.

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; it fills ``cases`` and ``parties``.
Officials and cadres are never party to a background case.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import names

GAMBLING_WINDOW_MIN = 120


class PoliceCases:
    """Police cases and their parties (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def place_for(self, v: int, gambling: bool) -> str:
        rng, c = self.rng, self.county
        tn, vn = c.t_name[self.village_town(v)], c.v_name[v]
        r = rng.random()
        if gambling:
            if r < 0.5:
                sur = names.SURNAMES[int(rng.integers(0, 30))][0]
                return f"{tn}{vn}{sur}某家中"
            if r < 0.8:
                trade = "".join(names.TRADE_CHARS[int(i)] for i in rng.integers(0, len(names.TRADE_CHARS), 2))
                return f"{tn}{trade}棋牌室"
            return f"{tn}{vn}村委会旁小卖部"
        return f"{tn}{vn}村口" if r < 0.5 else f"{tn}集市"

    def add_case(self, cause: str, minute: int, place: str, parties: list[tuple[int, str, str]],
                 decision: str = "给予行政处罚") -> int:
        k = len(self.cases)
        self.cases.append([cause, minute, place, decision])
        for q, role, pen in parties:
            self.parties.append((k, q, role, pen))
        return k

    def gamble_minute(self, day: int | None = None) -> int:
        rng = self.rng
        if day is None:
            day = calendar.day(2019, 1, 1) + int(rng.integers(0, 6 * 365))
        hour = [19, 20, 21, 22, 23, 14, 15, 16, 0, 1][int(rng.integers(10))]
        return day * 1440 + hour * 60 + int(rng.integers(0, 12)) * 5

    def make_cases(self):
        p, rng = self.people, self.rng
        n_cases = max(3, round(self.n * 0.0004 * 6))
        ok = self.alive & (p.age >= 24) & (p.age <= 75) & ~self.is_official & ~self.is_cadre & ~self.used
        cand = np.nonzero(ok)[0]
        vil_of = p.vil[cand]
        order = np.argsort(vil_of, kind="stable")
        cand, vil_of = cand[order], vil_of[order]
        vs = np.array(list(self.villages))
        lo = np.searchsorted(vil_of, vs, side="left")
        hi = np.searchsorted(vil_of, vs, side="right")
        for _ in range(n_cases):
            vi = int(rng.integers(len(vs)))
            v = int(vs[vi])
            gambling = rng.random() < 0.75
            k = int(rng.integers(2, 7)) if gambling else int(rng.integers(1, 3))
            local = cand[lo[vi]:hi[vi]]
            people: list[int] = []
            while len(people) < k:
                src = local if (rng.random() < 0.7 and len(local)) else cand
                q = int(src[int(rng.integers(len(src)))])
                if q not in people:
                    people.append(q)
            minute = self.gamble_minute()
            parties = [(q, "违法行为人", names.PENALTIES[int(rng.integers(len(names.PENALTIES)))]) for q in people]
            if rng.random() < 0.2:
                q = int(cand[int(rng.integers(len(cand)))])
                if q not in people:
                    parties.append((q, "证人", ""))
            if gambling:
                self.add_case("赌博", minute, self.place_for(v, True), parties)
            else:
                cause = names.OTHER_CAUSES[int(rng.integers(len(names.OTHER_CAUSES)))]
                self.add_case(cause, minute, self.place_for(v, False), parties,
                              "给予行政处罚" if rng.random() < 0.7 else "调解结案")
