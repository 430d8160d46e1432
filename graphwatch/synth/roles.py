"""Who holds which post: village cadres, officials, the fiscal payroll, and their relatives.

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; it fills ``roster``, ``payroll_rows``,
``cadre_post``, ``official_org``, ``approver`` and the masks that keep the background
clean (``off_hh``, ``benefit_ok``, ``principal_ok``).
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import names
from ..exc import CountyTooSmall
from .population import R_HEAD, R_SPOUSE, household_kinship


class Roles:
    """Village cadres, officials and the payroll (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def make_roles(self, cross_cadres: int, town_officials: int = 0):
        p, rng, c = self.people, self.rng, self.county
        n = self.n
        # cadres are mostly heads of households and their spouses, aged 28-62
        head_or_spouse = p.rel <= R_SPOUSE
        cand_mask = (self.adult(30, 62) & head_or_spouse) | (self.adult(30, 58) & (rng.random(n) < 0.35))
        taken_hh = np.zeros(len(p.h_start), bool)
        # --- village cadres, two terms (2018-2021, 2021-now); one cadre per household
        order = np.nonzero(cand_mask)[0]
        order = order[rng.permutation(len(order))]
        by_v = {}
        for q in order[np.argsort(p.vil[order], kind="stable")]:
            by_v.setdefault(int(p.vil[q]), []).append(int(q))
        for v in self.villages:
            pool = [q for q in by_v.get(v, [])]
            picked = []
            for q in pool:
                h = p.hh[q]
                if not taken_hh[h]:
                    taken_hh[h] = True
                    picked.append(q)
                if len(picked) >= 9:
                    break
            if len(picked) < 5:
                raise CountyTooSmall("village too small for its cadres")
            a_start = calendar.day(2018, 1, 1) + int(rng.integers(0, 120))
            b_start = calendar.day(2021, 1, 1) + int(rng.integers(0, 150))
            onefold = rng.random() < 0.6
            spare = picked[5:]
            holders_b = {}
            for i, post in enumerate(names.CADRE_POSTS):
                q = picked[i]
                if rng.random() < 0.55 or not spare:   # re-elected: one row from the first term on
                    start = a_start - int(rng.integers(0, 4)) * 1095 * int(rng.random() < 0.4)
                    if start < p.birth[q] + 23 * 365:   # nobody served before 23
                        start = a_start
                    holders_b[post] = (q, start)
                else:
                    self._cadre_row(q, v, post, a_start, b_start - int(rng.integers(1, 10)))
                    q2 = spare.pop()
                    holders_b[post] = (q2, b_start)
            if onefold:   # from 2021 the party secretary is also committee director (“一肩挑”)
                sec, _ = holders_b["村党支部书记"]
                dq, d_start = holders_b["村委会主任"]
                if dq != sec:
                    if d_start < b_start:   # the sitting director's term ends at the election
                        self._cadre_row(dq, v, "村委会主任", d_start, b_start - 1)
                    else:                   # the newcomer is not elected after all
                        spare.append(dq)
                    holders_b["村委会主任"] = (sec, b_start)
            for post, (q, start) in holders_b.items():
                self._cadre_row(q, v, post, start, None)
            for q in spare:
                taken_hh[p.hh[q]] = False
        # --- cadres who serve a village other than the one they live in (near-misses)
        self.cross_cadres = []
        self.cross_next = 0
        vl = list(self.villages)
        for _ in range(cross_cadres):
            a = vl[int(rng.integers(len(vl)))]
            others = [v for v in vl if v != a and self.village_town(v) == self.village_town(a)] or \
                     [v for v in vl if v != a]
            b = others[int(rng.integers(len(others)))]
            cand = np.nonzero(cand_mask & (p.vil == b) & ~taken_hh[p.hh] & (p.rel == R_HEAD))[0]
            q = int(self.choose(cand, 1, what="cross-village cadre")[0])
            taken_hh[p.hh[q]] = True
            start = calendar.day(2021, 3, 1) + int(rng.integers(0, 60))
            self._cadre_row(q, a, "村委委员", start, None)
            self.cross_cadres.append((q, a, b, start))
        # --- officials: ~1 % of adults, plus a minimum structure per township and bureau
        adults = int((p.age >= 18).sum())
        cand = np.nonzero(self.adult(25, 58) & ~taken_hh[p.hh])[0]
        heads_first = cand[np.argsort(-(p.rel[cand] == R_HEAD).astype(float) + rng.random(len(cand)) * 1.5,
                                      kind="stable")]
        _, fi = np.unique(p.hh[heads_first], return_index=True)
        pool = heads_first[np.sort(fi)]
        need = []
        for t in self.townships:
            for post in ("党委书记", "镇长", "副镇长", "副镇长"):
                need.append(("town", t, post))
        for key, _suf, kind, sector in names.BUREAUS:
            if not sector:
                continue
            k = 2 if key in names.MAIN_REGULATORS else 1
            for i in range(k):
                post = "局长" if (self.index == 0 and i == 0) else names.BUREAU_POSTS[1 + int(rng.integers(0, 4))]
                need.append(("bureau", key, post))
        # plants need township officials with relatives: top the structure up in small counties
        short = town_officials - 4 * len(self.townships)
        for k in range(max(0, short)):
            t = self.townships[k % len(self.townships)]
            need.append(("town", t, names.TOWNSHIP_POSTS[3 + k % (len(names.TOWNSHIP_POSTS) - 3)]))
        extra = max(0, round(0.01 * adults) - len(need))
        bkeys = [b[0] for b in names.BUREAUS if b[2] == "县直部门"]
        for _ in range(extra):
            if rng.random() < 0.55:
                t = self.townships[int(rng.integers(len(self.townships)))]
                need.append(("town", t, names.TOWNSHIP_POSTS[3 + int(rng.integers(0, len(names.TOWNSHIP_POSTS) - 3))]))
            else:
                need.append(("bureau", bkeys[int(rng.integers(len(bkeys)))], names.BUREAU_POSTS[1 + int(rng.integers(0, 7))]))
        if len(pool) < len(need):
            raise CountyTooSmall("synthetic county too small for its officials")
        for i, (kind, where, post) in enumerate(need):
            q = int(pool[i])
            taken_hh[p.hh[q]] = True
            if kind == "town":
                org = c.t_gov[where]
                self.town_officials.setdefault(where, []).append(q)
            else:
                org = c.bureau[where][0]
                self.bureau_officials.setdefault(where, []).append(q)
            # in post since 2005-2022, and never before 23
            start = max(calendar.day(2005, 1, 1) + int(rng.integers(0, 17 * 365)),
                        int(p.birth[q]) + 23 * 365 + int(rng.integers(0, 1000)))
            start = min(start, calendar.day(2024, 6, 30))
            if rng.random() < 0.2 and start - int(p.birth[q]) > 27 * 365:   # an earlier post elsewhere
                prev_org = c.t_gov[self.townships[int(rng.integers(len(self.townships)))]] if rng.random() < 0.5 \
                    else c.bureau[bkeys[int(rng.integers(len(bkeys)))]][0]
                pstart = max(start - int(rng.integers(2 * 365, 8 * 365)), int(p.birth[q]) + 22 * 365)
                if prev_org != org:
                    self.roster.append((q, prev_org, "科员", "公职人员", "", pstart, start - 1))
                    start0 = pstart
                else:
                    start0 = start
            else:
                start0 = start
            self.roster.append((q, org, post, "公职人员", "", start, None))
            self.is_official[q] = True
            self.official_org[q] = (org, post, start)
            salary = {"党委书记": 8200, "镇长": 7900, "局长": 8600}.get(post, 5200) + int(rng.integers(-400, 900))
            self.payroll[q] = True
            self.payroll_rows.append((q, org, post, salary, start0, None))
        for t in self.townships:
            offs = self.town_officials[t]
            self.approver[t] = offs[2]   # the first 副镇长 approves village projects
        # --- teachers and doctors on the fiscal payroll
        k = max(12, round(0.012 * adults))
        cand = np.nonzero(self.adult(23, 58) & ~self.is_official & ~self.is_cadre & ~taken_hh[p.hh])[0]
        for q in self.choose(cand, k, distinct_hh=False, what="teachers"):
            q = int(q)
            t = self.village_town(int(p.vil[q]))
            r = rng.random()
            if r < 0.55:
                org, post = c.t_school[t], "教师"
            elif r < 0.8:
                org, post = c.t_clinic[t], ("医生" if rng.random() < 0.6 else "护士")
            elif r < 0.9:
                org, post = c.bureau["yizhong"][0], "教师"
            else:
                org, post = c.bureau["yiyuan"][0], ("医生" if rng.random() < 0.6 else "护士")
            start = max(int(p.birth[q]) + 22 * 365, calendar.day(1995, 9, 1)) + int(rng.integers(0, 3000))
            start = min(start, calendar.day(2023, 9, 1))
            end = None
            if rng.random() < 0.05:
                end = start + int(rng.integers(365, 4000))
                if end >= calendar.REF:
                    end = None
            self.payroll[q] = True
            self.payroll_rows.append((q, org, post, 3800 + int(rng.integers(0, 3200)), start, end))
        off_hh = np.zeros(len(p.h_start), bool)
        off_hh[p.hh[self.is_official | self.is_cadre]] = True
        self.off_hh = off_hh
        self.benefit_ok = ~off_hh[p.hh] & ~self.payroll
        self.principal_ok = ~off_hh[p.hh] & ~self.payroll & self.adult(25, 68)

    def _cadre_row(self, q, v, post, start, end):
        self.roster.append((q, self.county.v_committee[v], post, "村干部", self.county.v_code[v], start, end))
        self.is_cadre[q] = True
        prev = self.cadre_post.get(q)
        if prev is None or end is None:
            self.cadre_post[q] = (v, post, start, end)

    def relatives_of(self, q: int, *, adult=True) -> list[tuple[int, str]]:
        """Kin of `q` inside q's household, derived from both members' 与户主关系."""
        p = self.people
        out = []
        for r in self.hh_members(int(p.hh[q])):
            if r == q or not self.alive[r]:
                continue
            if adult and p.age[r] < 20:
                continue
            k = household_kinship(int(p.rel[q]), int(p.rel[r]))
            if k:
                out.append((r, k))
        return out

    def head_with_relative(self, cand, *, what: str, kin=("配偶", "子女", "兄弟姐妹", "姻亲", "父母"),
                           relative_ok=None):
        """A person among `cand` (unused household) with a suitable adult relative in the household."""
        p = self.people
        cand = [int(q) for q in cand if not self.hh_used[p.hh[q]] and not self.used[q]]
        self.rng.shuffle(cand)
        pref = {"配偶": 0, "子女": 0, "兄弟姐妹": 1, "姻亲": 1, "父母": 2}
        for q in cand:
            rels = [(r, k) for r, k in self.relatives_of(q) if k in kin and not self.payroll[r]
                    and not self.is_official[r] and not self.is_cadre[r]
                    and (relative_ok is None or relative_ok[r])]
            if rels:
                best = min(pref[k] for _, k in rels)
                rels = [x for x in rels if pref[x[1]] == best]
                r, k = rels[int(self.rng.integers(len(rels)))]
                return q, r, k
        raise CountyTooSmall(f"synthetic county too small: no {what} with a relative")
