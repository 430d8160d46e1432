"""Benefit rolls and the disability registry of a chunk.

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; background payments are kept as column
arrays in ``ben_cols``, planted ones as rows in ``plant_ben``. Payments stop before the
recipient's death; nobody is on two programmes of one exclusive group; every disabled
person is paid the disability subsidy.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import names

PROGRAMMES = [
    # code, name, exclusive group, poverty roll, approver ("town" = township government)
    ("MZ01", "低保", "基本生活救助", True, "town"),
    ("MZ02", "特困供养", "基本生活救助", True, "town"),
    ("RS01", "城乡居民养老金", "", False, "renshe"),
    ("MZ03", "残疾人两项补贴", "", False, "minzheng"),
    ("NY01", "禁牧补贴", "", False, "nongye"),
    ("ZJ01", "危房改造", "", False, "zhujian"),
]
P_DIBAO, P_TEKUN, P_PENSION, P_DISAB, P_JINMU, P_WEIFANG = range(6)


class Benefits:
    """Benefit payments and disability (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def approver_for(self, prog: int, v: int) -> str:
        key = PROGRAMMES[prog][4]
        return self.county.t_gov[self.village_town(v)] if key == "town" else self.county.bureau[key][0]

    def add_benefit(self, person: int, prog: int, periods: list[tuple[int, int]], amount: int | list[int],
                    *, village: int | None = None, approver: str | None = None) -> list[int]:
        """Planted payment rows; returns their tags (for ground truth)."""
        v = int(self.people.vil[person]) if village is None else village
        approver = self.approver_for(prog, v) if approver is None else approver
        tags = []
        for i, (s, e) in enumerate(periods):
            a = amount[i] if isinstance(amount, list) else amount
            tags.append(len(self.plant_ben))
            self.plant_ben.append((person, prog, s, e, int(a), v, approver))
        return tags

    def _expand(self, persons, prog, s_idx, e_idx, periods, base, growth=0.05):
        starts, ends = periods
        persons = np.asarray(persons, dtype=np.int64)
        if len(persons) == 0:
            return
        last_ok = np.searchsorted(ends, self.people.death[persons], side="left") - 1
        e = np.minimum(np.asarray(e_idx), last_ok)
        cnt = np.maximum(e - np.asarray(s_idx) + 1, 0)
        total = int(cnt.sum())
        if total == 0:
            return
        rep = np.repeat(np.arange(len(persons)), cnt)
        offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        k = np.asarray(s_idx)[rep] + offs
        ps, pe = starts[k], ends[k]
        yr = calendar.year_of(ps) - 2019
        amt = np.round(np.asarray(base, dtype=float)[rep] * (1 + growth * yr)).astype(np.int64)
        pers = persons[rep]
        vil = self.people.vil[pers]
        key = PROGRAMMES[prog][4]
        if key == "town":
            gov = np.array(self.county.t_gov, dtype=object)
            appr = gov[self.county.v_town[vil]]
        else:
            appr = np.full(total, self.county.bureau[key][0], dtype=object)
        self.ben_cols.append((pers, np.full(total, prog, dtype=np.int64), ps, pe, amt, vil, appr))

    def make_disability(self):
        p, rng = self.people, self.rng
        target = round(0.02 * self.n) - int(self.disabled.sum())
        cand = np.nonzero(self.benefit_ok & ~self.block_benefit & ~self.disabled & ~self.used
                          & (p.death > calendar.day(2021, 6, 30)))[0]
        if target <= 0 or len(cand) == 0:
            return
        w = 0.3 + p.age[cand] / 40
        chosen = rng.choice(cand, size=min(target, len(cand)), replace=False, p=w / w.sum())
        kinds = rng.choice(len(names.DISABILITY_KINDS), size=len(chosen), p=[x[1] for x in names.DISABILITY_KINDS])
        grades = rng.choice([1, 2, 3, 4], size=len(chosen), p=[0.1, 0.22, 0.33, 0.35])
        for q, k, g in zip(chosen.tolist(), kinds.tolist(), grades.tolist()):
            self.disability.append((q, k, g))
            self.disabled[q] = True
        s = rng.integers(0, 9, len(chosen))
        base = 3 * (rng.uniform(60, 100, len(chosen)) + np.where(grades <= 2, 100, 0))
        self._expand(chosen, P_DISAB, s, np.full(len(chosen), 23), calendar.QUARTERS, base)

    def make_benefits(self):
        p, rng, c = self.people, self.rng, self.county
        ok = self.benefit_ok & ~self.block_benefit & ~self.used
        heads = p.h_start
        nh = len(heads)
        hh_ok = ok[heads] & ~self.hh_used & (p.death[heads] > calendar.P0 + 120) & ~self.off_hh
        # 低保: ~6 % of households, paid to the head each quarter
        cand = np.nonzero(hh_ok & ~self.block_poverty_hh)[0]
        dib = rng.choice(cand, size=min(len(cand), round(0.06 * nh)), replace=False)
        s = np.maximum(0, rng.integers(-48, 66, len(dib)))
        e = np.minimum(71, s + 12 + rng.exponential(36, len(dib)).astype(np.int64))
        sq, eq = (s + 2) // 3, (e + 1) // 3 - 1
        base = 3 * rng.uniform(280, 420, len(dib)) * np.minimum(p.h_size[dib], 4)
        self._expand(heads[dib], P_DIBAO, sq, eq, calendar.QUARTERS, base)
        self.block_assets_hh[dib] = True
        on_dib = np.zeros(nh, bool)
        on_dib[dib] = True
        # 特困供养: elderly living alone, monthly
        cand = np.nonzero(hh_ok & ~on_dib & ~self.block_poverty_hh & (p.h_size == 1) & (p.age[heads] >= 60))[0]
        tk = rng.choice(cand, size=int(len(cand) * 0.15), replace=False) if len(cand) else cand
        s = np.maximum(0, rng.integers(-60, 60, len(tk)))
        self._expand(heads[tk], P_TEKUN, s, np.full(len(tk), 71), calendar.MONTHS, rng.uniform(650, 900, len(tk)))
        self.block_assets_hh[tk] = True
        # 城乡居民养老金: a share of those aged 60+, quarterly from the quarter after turning 60
        turn60 = p.birth + int(60 * 365.2425)
        cand = np.nonzero(ok & (turn60 <= calendar.REF) & (p.death > calendar.P0 + 120) & ~self.hh_used[p.hh])[0]
        pen = rng.choice(cand, size=int(len(cand) * 0.3), replace=False) if len(cand) else cand
        sq = np.maximum(0, np.searchsorted(calendar.QUARTERS[0], turn60[pen], side="right"))
        self._expand(pen, P_PENSION, sq, np.full(len(pen), 23), calendar.QUARTERS, 3 * rng.uniform(120, 200, len(pen)))
        # 禁牧补贴: half the households of grazing-ban villages, yearly
        jv = c.v_jinmu[p.h_vil]
        cand = np.nonzero(hh_ok & jv)[0]
        jm = cand[rng.random(len(cand)) < 0.5]
        self._expand(heads[jm], P_JINMU, np.zeros(len(jm), np.int64), np.full(len(jm), 5), calendar.YEARS,
                     rng.uniform(600, 4000, len(jm)), growth=0.0)
        # 危房改造: a one-off grant to ~1 % of households
        cand = np.nonzero(hh_ok)[0]
        wf = rng.choice(cand, size=min(len(cand), round(0.01 * nh)), replace=False)
        m = rng.integers(0, 72, len(wf))
        self._expand(heads[wf], P_WEIFANG, m, m, calendar.MONTHS, np.round(rng.uniform(150, 350, len(wf))) * 100,
                     growth=0.0)
