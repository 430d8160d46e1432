"""Companies of a chunk: registrations, shareholders, executives, and the bidder pool.

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; it fills ``companies``, ``sh_rows`` and
``ex_rows``. Every company principal comes from a different household, every company has
its own phone and address, and a parent company holds shares in at most one other company.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import calendar
from . import names
from ..exc import GenerationError


@dataclass
class Company:
    uscc: str
    name: str
    legal_rep: int
    address: str
    phone: str
    established: int
    capital: int
    status: str
    regulator: str          # bureau key
    industry: int
    bidder: bool            # a construction-type company that bids on village projects
    background: bool        # may be drawn as a background bidder
    principals: set = field(default_factory=set)   # person indices (legal rep, holders, executives)
    parent: int = -1        # company holding shares in this one
    child: int = -1


class Companies:
    """Company registrations and the bidder pool (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def _company_name(self, industry: str) -> str:
        rng = self.rng
        used = self.generator.company_names
        for attempt in range(50):
            k = 2 if attempt < 25 else 3
            trade = "".join(names.TRADE_CHARS[int(i)] for i in rng.integers(0, len(names.TRADE_CHARS), k))
            suffix = "有限公司" if rng.random() < 0.85 else "有限责任公司"
            name = f"{self.county.name}{trade}{industry}{suffix}"
            if trade[0] != trade[1] and name not in used:
                used.add(name)
                return name
        raise GenerationError("cannot find a fresh company name")

    def company_address(self, legal_rep: int | None) -> str:
        if legal_rep is not None and self.rng.random() < 0.45:
            return str(self.people.h_addr[self.people.hh[legal_rep]])
        road = names.ROADS[int(self.rng.integers(len(names.ROADS)))]
        self.generator.addr_no += 1
        return f"{self.county.province}{self.county.city}{self.county.name}城关镇{road}{self.generator.addr_no}号"

    def new_company(self, legal_rep: int, *, industry: int | None = None, established: int | None = None,
                    holders: list[tuple[int, float]] | None = None, phone: str | None = None,
                    address: str | None = None, background: bool = False, supervisor: int | None = None,
                    status: str | None = None) -> int:
        """Register a company; `holders` are (person, share %) natural shareholders."""
        rng, p = self.rng, self.people
        if industry is None:
            w = np.array([x[2] for x in names.INDUSTRIES])
            industry = int(rng.choice(len(names.INDUSTRIES), p=w / w.sum()))
        word, reg, _w, bidder = names.INDUSTRIES[industry]
        if established is None:
            established = calendar.day(2003, 1, 1) + int(rng.integers(0, 16 * 365)) if bidder else \
                calendar.day(1998, 1, 1) + int(rng.integers(0, 26 * 365))
        uscc = self.county.org_code(rng, "91")
        if phone is None:
            if p.phone[legal_rep] and rng.random() < 0.5:
                phone = str(p.phone[legal_rep])
            elif rng.random() < 0.4:
                phone = self.generator.ids.landline(self.county.area)
            else:
                phone = self.new_mobile()
        if address is None:
            address = self.company_address(legal_rep)
        # nobody founds or joins a company before 20
        people = [legal_rep] + [q for q, _ in (holders or [])] + ([supervisor] if supervisor is not None else [])
        earliest = max(int(p.birth[q]) for q in people) + 7306   # 20 years
        if established < earliest:
            established = min(earliest + int(rng.integers(0, 3 * 365)), calendar.REF - 60)
        cap = int(rng.integers(100, 5000)) if bidder else int(rng.integers(10, 500))
        if status is None:
            status = "存续" if bidder or rng.random() < 0.8 else ["在业", "吊销", "注销"][int(rng.integers(3))]
        co = Company(uscc, self._company_name(word), legal_rep, address, phone, established, cap, status, reg,
                     industry, bidder, background)
        ci = len(self.companies)
        self.companies.append(co)
        holders = holders if holders is not None else [(legal_rep, 100.0)]
        for q, share in holders:
            self.sh_rows.append((ci, "P", q, share, established, None))
            co.principals.add(q)
        co.principals.add(legal_rep)
        self.ex_rows.append((ci, legal_rep, "执行董事兼总经理"))
        if supervisor is not None:
            self.ex_rows.append((ci, supervisor, "监事"))
            co.principals.add(supervisor)
        for q in co.principals:
            self.hh_principal[p.hh[q]] = True
        return ci

    def make_companies(self):
        rng, p = self.rng, self.people
        n_comp = max(14, round(self.n / 100))
        cand = np.nonzero(self.principal_ok & ~self.hh_principal[p.hh])[0]
        pool = list(self.choose(cand, min(len(np.unique(p.hh[cand])), int(n_comp * 2.6) + 10), what="principals"))
        w = np.array([x[2] for x in names.INDUSTRIES])
        w = w / w.sum()
        bid_inds = [i for i, x in enumerate(names.INDUSTRIES) if x[3]]
        parents_free = []
        for i in range(n_comp):
            if len(pool) < 3:
                break
            industry = int(bid_inds[i % len(bid_inds)]) if i < 12 else int(rng.choice(len(names.INDUSTRIES), p=w))
            rep = int(pool.pop())
            r = rng.random()
            holders = [(rep, 100.0)]
            if r < 0.45 and pool:
                other = int(pool.pop())
                s = float(rng.integers(51, 91))
                holders = [(rep, s), (other, 100.0 - s)]
            elif r < 0.6 and len(pool) >= 2:
                o1, o2 = int(pool.pop()), int(pool.pop())
                s1 = float(rng.integers(40, 71))
                s2 = float(rng.integers(5, int(100 - s1)))
                holders = [(rep, s1), (o1, s2), (o2, 100.0 - s1 - s2)]
            elif r < 0.7 and pool:   # a hired legal representative
                holders = [(int(pool.pop()), 100.0)]
            supervisor = int(pool.pop()) if pool and rng.random() < 0.6 else None
            ci = self.new_company(rep, industry=industry, holders=holders, supervisor=supervisor, background=True)
            co = self.companies[ci]
            # a parent company (one child at most) takes part of the capital
            if parents_free and rng.random() < 0.12:
                par = parents_free.pop(int(rng.integers(len(parents_free))))
                pc = self.companies[par]
                if pc.established < co.established:
                    share = float(rng.integers(20, 52))
                    self.sh_rows.append((ci, "C", par, share, co.established, None))
                    # scale the natural holders' shares
                    for k in range(len(self.sh_rows) - 2, -1, -1):
                        row = self.sh_rows[k]
                        if row[0] != ci:
                            break
                        self.sh_rows[k] = (row[0], row[1], row[2], round(row[3] * (100 - share) / 100, 2),
                                           row[4], row[5])
                    co.parent, pc.child = par, ci
            elif rng.random() < 0.25:
                parents_free.append(ci)
            # a few former shareholders
            if pool and rng.random() < 0.05:
                q = int(pool.pop())
                ex = co.established + int(rng.integers(200, 3000))
                if ex < calendar.REF and co.established > p.birth[q] + 7306:
                    self.sh_rows.append((ci, "P", q, float(rng.integers(5, 40)), co.established, ex))
                    co.principals.add(q)
                    self.hh_principal[p.hh[q]] = True

    def background_bidders(self, k: int, day: int, exclude: set[int]) -> list[int]:
        """`k` background construction companies, mutually unrelated and unrelated to `exclude`."""
        rng = self.rng
        pool = self._bidder_pool
        chosen: list[int] = []
        principals: set[int] = set()
        phones, addrs = set(), set()
        for ci in exclude:
            co = self.companies[ci]
            principals |= co.principals
            phones.add(co.phone)
            addrs.add(co.address)
        fam = set()
        for ci in exclude:
            fam |= {ci, self.companies[ci].parent, self.companies[ci].child}
        for ci in pool[rng.permutation(len(pool))]:
            ci = int(ci)
            co = self.companies[ci]
            if co.established >= day or ci in fam:
                continue
            if co.principals & principals or co.phone in phones or co.address in addrs:
                continue
            chosen.append(ci)
            principals |= co.principals
            phones.add(co.phone)
            addrs.add(co.address)
            fam |= {ci, co.parent, co.child}
            if len(chosen) == k:
                break
        return chosen

    def prepare_bidders(self):
        self._bidder_pool = np.array([i for i, co in enumerate(self.companies)
                                      if co.bidder and co.background and co.status in ("存续", "在业")], dtype=np.int64)
