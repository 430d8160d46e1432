"""One chunk of the county (a run of whole townships): every record about its people.

Background records are generated so that, before any dirt, **no supervision model matches
them**; the only matches are the planted violations (see :mod:`graphwatch.synth.plants`).
The rules that keep the background clean:

* members of a household holding an official or a village cadre (``off_hh``) are never
  company principals and receive no benefit;
* fiscal-payroll persons receive no benefit and hold no company post;
* every company principal comes from a different household, every company has its own
  phone and address, a parent company holds shares in at most one other company, and
  no tender has two bidders related in any of these ways;
* no company gets two awards in the split band (``[SPLIT_BAND_LOW, TENDER_THRESHOLD)``)
  within ``SPLIT_WINDOW_DAYS``;
* every township's share of direct awards is at most 0.2 (planted: above 0.3; near-miss:
  in [0.2, 0.3));
* benefit payments stop before the recipient's death; nobody is on two programmes of
  one exclusive group; households on a poverty roll own no property or vehicle;
* every disabled person is paid the disability subsidy;
* officials and cadres are never party to a police case.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from .assets import Assets
from .benefits import Benefits
from .cases import PoliceCases
from .companies import Companies, Company
from .contracts import Contracts
from .county import County
from ..exc import CountyTooSmall
from .population import Pop, make_population
from .roles import Roles


class Chunk(Roles, Companies, Contracts, Benefits, Assets, PoliceCases):
    """A run of whole townships and everything recorded about their people.

    The state lives here; the steps that fill it live in one mixin per domain
    (:mod:`.roles`, :mod:`.companies`, :mod:`.contracts`, :mod:`.benefits`, :mod:`.assets`,
    :mod:`.cases`), and the planted cases in :mod:`.plants`. The generator calls the steps in
    a fixed order (all randomness comes from ``rng``, so the order is part of the output).
    """

    def __init__(self, generator, index: int, townships: list[int]):
        self.generator = generator
        self.county: County = generator.county
        self.index = index
        self.townships = townships
        self.rng = np.random.default_rng([generator.seed, 7919, index])
        first = self.county.t_villages[townships[0]].start
        last = self.county.t_villages[townships[-1]].stop
        self.villages = range(first, last)
        self.people: Pop = make_population(self.rng, self.county, self.villages, generator.ids)
        p = self.people
        n = p.n
        self.n = n
        self.alive = p.death == calendar.NO_DEATH
        self.used = np.zeros(n, bool)             # taken by a plant
        self.protected = np.zeros(n, bool)        # IDs kept clean in every source
        self.block_benefit = np.zeros(n, bool)
        nh = len(p.h_start)
        self.hh_used = np.zeros(nh, bool)
        self.block_assets_hh = np.zeros(nh, bool)
        self.block_poverty_hh = np.zeros(nh, bool)
        self.hh_principal = np.zeros(nh, bool)
        self.roster: list[tuple] = []      # (person, org, post, category, village code, start, end)
        self.is_cadre = np.zeros(n, bool)
        self.is_official = np.zeros(n, bool)
        self.payroll = np.zeros(n, bool)
        self.payroll_rows: list[tuple] = []   # (person, org, post, salary, start, end)
        self.official_org: dict[int, tuple[str, str, int]] = {}   # person -> (org code, post, start)
        self.cadre_post: dict[int, tuple[int, str, int, int]] = {}  # person -> (village, post, start, end)
        self.approver: dict[int, int] = {}        # township -> person
        self.town_officials: dict[int, list[int]] = {}
        self.bureau_officials: dict[str, list[int]] = {}
        self.companies: list[Company] = []
        self.sh_rows: list[tuple] = []     # (company, kind "P"/"C", ref, share, subscribed, exited)
        self.ex_rows: list[tuple] = []     # (company, person, post)
        self.projects: list[list] = []     # [village, name, builder org, budget, start day, tag]
        self.tenders: list[list] = []      # [project, name, budget, method, announce day]
        self.bids: list[tuple] = []        # (tender, company, amount, day)
        self.contracts: list[list] = []    # [tender or -1, project, company, amount, method, approver, issuer, signed]
        self.company_band_days: dict[int, list[int]] = {}
        self.ben_cols: list[tuple] = []    # arrays: person, prog, start, end, amount, village, approver-code
        self.plant_ben: list[tuple] = []   # (person, prog, start, end, amount, village, approver, tag)
        self.disability: list[tuple] = []  # (person, kind, grade)
        self.disabled = np.zeros(n, bool)
        self.estates: list[list] = []      # [person, address, area, day]
        self.vehicles: list[list] = []     # [person, kind, day, plate]
        self.cases: list[list] = []        # [cause, minute, place, decision]
        self.parties: list[tuple] = []     # (case, person, role, penalty)
        self.planted_truth: list[tuple] = []          # (model, kind, entities, note)
        self.plant_companies: set[int] = set()

    # ------------------------------------------------------------------ helpers
    def village_town(self, v: int) -> int:
        return int(self.county.v_town[v])

    def hh_members(self, h: int) -> range:
        s = int(self.people.h_start[h])
        return range(s, s + int(self.people.h_size[h]))

    def choose(self, cand: np.ndarray, k: int = 1, *, distinct_hh: bool = True, what: str = "") -> np.ndarray:
        """Pick `k` persons from candidate indices, from distinct households."""
        cand = np.asarray(cand)
        if len(cand) == 0:
            raise CountyTooSmall(f"synthetic county too small: no candidate for {what}")
        perm = cand[self.rng.permutation(len(cand))]
        if distinct_hh:
            _, first = np.unique(self.people.hh[perm], return_index=True)
            perm = perm[np.sort(first)]
        if len(perm) < k:
            raise CountyTooSmall(f"synthetic county too small: {len(perm)} candidates for {k} x {what}")
        return perm[:k]

    def mark(self, *persons, protect=True, household=True, block=True):
        for q in persons:
            self.used[q] = True
            if protect:
                self.protected[q] = True
            if block:
                self.block_benefit[q] = True
            if household:
                self.hh_used[self.people.hh[q]] = True

    def new_mobile(self) -> str:
        return str(self.generator.ids.mobiles(1, self.rng)[0])

    def adult(self, lo=20, hi=70) -> np.ndarray:
        return (self.people.age >= lo) & (self.people.age <= hi) & self.alive

    def rand_day(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    # ------------------------------------------------------------------ ground truth
    def truth(self, model: str, kind: str, entities: list[tuple], note: str):
        self.planted_truth.append((model, kind, entities, note))
