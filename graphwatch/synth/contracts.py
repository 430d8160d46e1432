"""Village projects, tenders, bids and contracts of a chunk.

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; it fills ``projects``, ``tenders``,
``bids`` and ``contracts``. No company gets two awards in the split band
(``[SPLIT_BAND_LOW, TENDER_THRESHOLD)``) within ``SPLIT_WINDOW_DAYS``, and every township's
share of direct awards stays at most ``BACKGROUND_RATIO_MAX`` unless planted.
"""

from __future__ import annotations

import math

import numpy as np

from . import calendar
from . import names
from ..exc import CountyTooSmall

TENDER_THRESHOLD = 400_000
SPLIT_WINDOW_DAYS = 90
SPLIT_BAND_LOW = 300_000
DIRECT_RATIO_THRESHOLD = 0.30
BACKGROUND_RATIO_MAX = 0.20
METHODS = ["公开招标", "邀请招标", "竞争性谈判", "直接发包"]
M_OPEN, M_INVITED, M_NEGOT, M_DIRECT = range(4)


class Contracts:
    """Projects, tenders, bids, contracts (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def new_project(self, v: int, budget: int, day: int, builder: str | None = None) -> int:
        rng = self.rng
        if builder is None:
            builder = self.county.v_committee[v] if rng.random() < 0.75 else self.county.t_gov[self.village_town(v)]
        kind = names.PROJECT_KINDS[int(rng.integers(len(names.PROJECT_KINDS)))]
        self.projects.append([v, f"{self.county.v_name[v]}{kind}", builder, int(budget), day])
        return len(self.projects) - 1

    def award(self, proj: int, method: int, winner: int, *, bidders: list[int] | None = None,
              approver: int | None = None, announce: int | None = None, amount: int | None = None,
              n_bidders: int | None = None, winner_bid_factor=None) -> tuple[int, int]:
        """Tender (unless direct), bids and the contract for a project. Returns (tender, contract)."""
        rng = self.rng
        v, _name, builder, budget, start = self.projects[proj]
        t = self.village_town(v)
        approver = self.approver[t] if approver is None else approver
        if announce is None:
            announce = start - int(rng.integers(40, 70))
        tender = -1
        if method == M_DIRECT:
            signed = announce + int(rng.integers(5, 20))
            if amount is None:
                amount = int(round(budget * rng.uniform(0.96, 1.0), -2))
        else:
            tender = len(self.tenders)
            self.tenders.append([proj, f"{self.projects[proj][1]}施工招标", budget, method, announce])
            bid_day = announce + int(rng.integers(15, 26))
            others = list(bidders or [])
            if n_bidders is None:
                n_bidders = int(rng.integers(3, 6))
            need = n_bidders - 1 - len(others)
            if need > 0:
                others += self.background_bidders(need, announce, {winner, *others})
            f_win = rng.uniform(0.88, 0.95) if winner_bid_factor is None else winner_bid_factor
            win_amount = int(round(budget * f_win, -2)) if amount is None else amount
            self.bids.append((tender, winner, win_amount, bid_day + int(rng.integers(0, 3))))
            for ci in others:
                a = int(round(max(win_amount + 100, budget * rng.uniform(0.9, 0.995)), -2))
                if a <= win_amount:
                    a = win_amount + 100 * int(rng.integers(1, 50))
                self.bids.append((tender, ci, a, bid_day + int(rng.integers(0, 3))))
            amount = win_amount
            signed = bid_day + int(rng.integers(5, 16))
        self.projects[proj][4] = max(start, signed + int(rng.integers(5, 30)))
        self.contracts.append([tender, proj, winner, int(amount), method, approver, builder, signed])
        if SPLIT_BAND_LOW <= amount < TENDER_THRESHOLD:
            self.company_band_days.setdefault(winner, []).append(signed)
        return tender, len(self.contracts) - 1

    def _band_ok(self, ci: int, amount: int, day: int) -> bool:
        if not (SPLIT_BAND_LOW <= amount < TENDER_THRESHOLD):
            return True
        return all(abs(day - d) > SPLIT_WINDOW_DAYS for d in self.company_band_days.get(ci, ()))

    def make_contracts(self, ratio_class: dict[int, str]):
        rng, c = self.rng, self.county
        plant_direct = {t: 0 for t in self.townships}
        plant_all = {t: 0 for t in self.townships}
        for ct in self.contracts:
            t = self.village_town(self.projects[ct[1]][0])
            plant_all[t] += 1
            plant_direct[t] += ct[4] == M_DIRECT
        self.ratio_class = ratio_class
        for t in self.townships:
            vs = list(c.t_villages[t])
            counts = rng.poisson(4.5, len(vs))
            planted = plant_all[t]
            p_direct = plant_direct[t]
            cls = ratio_class.get(t, "bg")
            nb = int(counts.sum())
            if cls != "bg":
                nb = max(nb, 10)
            N_ = nb + planted
            if cls == "bg":
                r = rng.uniform(0.05, 0.18)
                D = max(p_direct, int(round(r * N_)))
                while D / max(N_, 1) > BACKGROUND_RATIO_MAX:
                    nb += 1
                    N_ += 1
                    D = p_direct
            elif cls == "near":
                D = math.ceil(DIRECT_RATIO_THRESHOLD * N_) - 1
                while D < p_direct or D / N_ < BACKGROUND_RATIO_MAX:
                    nb += 1
                    N_ += 1
                    D = math.ceil(DIRECT_RATIO_THRESHOLD * N_) - 1
            else:
                D = max(p_direct, math.ceil(rng.uniform(0.45, 0.6) * N_))
            d_bg = min(D - p_direct, nb)
            # village of each background project
            vil = np.repeat(vs, counts)
            if len(vil) < nb:
                vil = np.concatenate([vil, np.array(vs)[rng.integers(0, len(vs), nb - len(vil))]])
            vil = vil[:nb]
            days = calendar.day(2019, 3, 1) + rng.integers(0, 5 * 365 + 200, nb)
            budgets = np.round(np.exp(rng.normal(math.log(280_000), 0.7, nb)), -3).astype(np.int64)
            budgets = np.clip(budgets, 30_000, 6_000_000)
            direct = np.zeros(nb, bool)
            direct[rng.permutation(nb)[:d_bg]] = True
            small = budgets < SPLIT_BAND_LOW
            fix = direct & ~small
            budgets[fix] = np.round(rng.uniform(40_000, SPLIT_BAND_LOW - 10_000, int(fix.sum())), -3)
            order = np.argsort(days, kind="stable")
            for i in order:
                v, day, budget = int(vil[i]), int(days[i]), int(budgets[i])
                proj = self.new_project(v, budget, day)
                announce = day - int(rng.integers(40, 70))
                if direct[i]:
                    pool = [int(x) for x in self._bidder_pool if self.companies[int(x)].established < announce]
                    winner = pool[int(rng.integers(len(pool)))]
                    self.award(proj, M_DIRECT, winner, announce=announce)
                    continue
                if budget >= TENDER_THRESHOLD:
                    method = M_OPEN
                else:
                    method = int(rng.choice([M_OPEN, M_INVITED, M_NEGOT], p=[0.4, 0.35, 0.25]))
                k = int(rng.integers(3, 6))
                group = self.background_bidders(k, announce, set())
                if len(group) < 3:
                    raise CountyTooSmall("too few construction companies for a tender")
                factors = np.sort(rng.uniform(0.86, 0.995, len(group)))
                amounts = [int(round(budget * f, -2)) for f in factors]
                wi = next((j for j in range(len(group)) if self._band_ok(group[j], amounts[j], announce + 40)), None)
                if wi is None:   # everybody's award would be a split-band repeat: bid higher
                    wi = 0
                    amounts[0] = int(max(TENDER_THRESHOLD, amounts[0]))
                winner = group[wi]
                others = [g for j, g in enumerate(group) if j != wi]
                self.award(proj, method, winner, bidders=others, announce=announce, amount=amounts[wi],
                           n_bidders=len(group))
        # split-band check for direct awards too: move a clashing award out of the band
        self._fix_band()

    def _fix_band(self):
        by_co: dict[int, list[int]] = {}
        for k, ct in enumerate(self.contracts):
            if SPLIT_BAND_LOW <= ct[3] < TENDER_THRESHOLD and ct[2] not in self.plant_companies:
                by_co.setdefault(ct[2], []).append(k)
        for ci, ks in by_co.items():
            ks.sort(key=lambda k: self.contracts[k][7])
            last = None
            for k in ks:
                d = self.contracts[k][7]
                if last is not None and d - last <= SPLIT_WINDOW_DAYS:
                    ct = self.contracts[k]
                    if ct[0] == -1:
                        ct[3] = int(round(self.rng.uniform(60_000, 280_000), -2))
                        self.projects[ct[1]][3] = int(round(ct[3] * 1.02, -3))
                    else:  # a tender: all bids move up above the threshold
                        add = TENDER_THRESHOLD - ct[3] + 100 * int(self.rng.integers(1, 200))
                        self.bids[:] = [(b[0], b[1], b[2] + add, b[3]) if b[0] == ct[0] else b for b in self.bids]
                        ct[3] += add
                        self.tenders[ct[0]][2] += add
                        self.projects[ct[1]][3] += add
                    continue
                last = d
