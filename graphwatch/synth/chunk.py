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

import math
from dataclasses import dataclass, field

import numpy as np

from . import calendar as C
from . import names as N
from .county import County
from .population import Pop, R_HEAD, R_SPOUSE, make_population

TENDER_THRESHOLD = 400_000
SPLIT_WINDOW_DAYS = 90
SPLIT_BAND_LOW = 300_000
DIRECT_RATIO_THRESHOLD = 0.30
BACKGROUND_RATIO_MAX = 0.20
GAMBLING_WINDOW_MIN = 120

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
METHODS = ["公开招标", "邀请招标", "竞争性谈判", "直接发包"]
M_OPEN, M_INVITED, M_NEGOT, M_DIRECT = range(4)


_CAT = "HSCCPPBBLLGG"   # 与户主关系 code -> category (head, spouse, child, parent, sibling, child-in-law, grandchild)


def kin(ra: int, rb: int) -> str | None:
    """Kinship of b as seen from a, when both are in one household (codes of REL).

    Returns 配偶, 子女, 父母, 兄弟姐妹, 姻亲 (in-law) or 祖孙; None for anything further.
    """
    if ra >= 12 or rb >= 12:
        return None
    a, b = _CAT[ra], _CAT[rb]
    table = {
        ("H", "S"): "配偶", ("S", "H"): "配偶",
        ("H", "C"): "子女", ("S", "C"): "子女", ("C", "H"): "父母", ("C", "S"): "父母",
        ("H", "P"): "父母", ("P", "H"): "子女",
        ("H", "B"): "兄弟姐妹", ("B", "H"): "兄弟姐妹", ("C", "C"): "兄弟姐妹",
        ("P", "B"): "子女", ("B", "P"): "父母",
        ("H", "L"): "姻亲", ("S", "L"): "姻亲", ("L", "H"): "姻亲", ("L", "S"): "姻亲",
        ("S", "P"): "姻亲", ("P", "S"): "姻亲", ("S", "B"): "姻亲", ("B", "S"): "姻亲",
        ("C", "L"): "配偶", ("L", "C"): "配偶",
        ("C", "G"): "子女", ("L", "G"): "子女", ("G", "C"): "父母", ("G", "L"): "父母",
        ("H", "G"): "祖孙", ("S", "G"): "祖孙", ("G", "H"): "祖孙", ("G", "S"): "祖孙",
        ("P", "C"): "祖孙", ("C", "P"): "祖孙",
    }
    return table.get((a, b))


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


class Chunk:
    def __init__(self, gen, index: int, townships: list[int]):
        self.g = gen
        self.c: County = gen.county
        self.index = index
        self.townships = townships
        self.rng = np.random.default_rng([gen.seed, 7919, index])
        first = self.c.t_villages[townships[0]].start
        last = self.c.t_villages[townships[-1]].stop
        self.villages = range(first, last)
        self.p: Pop = make_population(self.rng, self.c, self.villages, gen.ids)
        p = self.p
        n = p.n
        self.n = n
        self.alive = p.death == C.NO_DEATH
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
        self.gt: list[tuple] = []          # (model, kind, entities, note)
        self.plant_companies: set[int] = set()

    # ------------------------------------------------------------------ helpers
    def village_town(self, v: int) -> int:
        return int(self.c.v_town[v])

    def hh_members(self, h: int) -> range:
        s = int(self.p.h_start[h])
        return range(s, s + int(self.p.h_size[h]))

    def choose(self, cand: np.ndarray, k: int = 1, *, distinct_hh: bool = True, what: str = "") -> np.ndarray:
        """Pick `k` persons from candidate indices, from distinct households."""
        cand = np.asarray(cand)
        if len(cand) == 0:
            raise RuntimeError(f"synthetic county too small: no candidate for {what}")
        perm = cand[self.rng.permutation(len(cand))]
        if distinct_hh:
            _, first = np.unique(self.p.hh[perm], return_index=True)
            perm = perm[np.sort(first)]
        if len(perm) < k:
            raise RuntimeError(f"synthetic county too small: {len(perm)} candidates for {k} x {what}")
        return perm[:k]

    def mark(self, *persons, protect=True, household=True, block=True):
        for q in persons:
            self.used[q] = True
            if protect:
                self.protected[q] = True
            if block:
                self.block_benefit[q] = True
            if household:
                self.hh_used[self.p.hh[q]] = True

    def new_mobile(self) -> str:
        return str(self.g.ids.mobiles(1, self.rng)[0])

    def adult(self, lo=20, hi=70) -> np.ndarray:
        return (self.p.age >= lo) & (self.p.age <= hi) & self.alive

    def rand_day(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    # ------------------------------------------------------------------ roles
    def make_roles(self, cross_cadres: int, town_officials: int = 0):
        p, rng, c = self.p, self.rng, self.c
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
                raise RuntimeError("village too small for its cadres")
            a_start = C.day(2018, 1, 1) + int(rng.integers(0, 120))
            b_start = C.day(2021, 1, 1) + int(rng.integers(0, 150))
            onefold = rng.random() < 0.6
            spare = picked[5:]
            holders_b = {}
            for i, post in enumerate(N.CADRE_POSTS):
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
            start = C.day(2021, 3, 1) + int(rng.integers(0, 60))
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
        for key, _suf, kind, sector in N.BUREAUS:
            if not sector:
                continue
            k = 2 if key in N.MAIN_REGULATORS else 1
            for i in range(k):
                post = "局长" if (self.index == 0 and i == 0) else N.BUREAU_POSTS[1 + int(rng.integers(0, 4))]
                need.append(("bureau", key, post))
        # plants need township officials with relatives: top the structure up in small counties
        short = town_officials - 4 * len(self.townships)
        for k in range(max(0, short)):
            t = self.townships[k % len(self.townships)]
            need.append(("town", t, N.TOWNSHIP_POSTS[3 + k % (len(N.TOWNSHIP_POSTS) - 3)]))
        extra = max(0, round(0.01 * adults) - len(need))
        bkeys = [b[0] for b in N.BUREAUS if b[2] == "县直部门"]
        for _ in range(extra):
            if rng.random() < 0.55:
                t = self.townships[int(rng.integers(len(self.townships)))]
                need.append(("town", t, N.TOWNSHIP_POSTS[3 + int(rng.integers(0, len(N.TOWNSHIP_POSTS) - 3))]))
            else:
                need.append(("bureau", bkeys[int(rng.integers(len(bkeys)))], N.BUREAU_POSTS[1 + int(rng.integers(0, 7))]))
        if len(pool) < len(need):
            raise RuntimeError("synthetic county too small for its officials")
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
            start = max(C.day(2005, 1, 1) + int(rng.integers(0, 17 * 365)),
                        int(p.birth[q]) + 23 * 365 + int(rng.integers(0, 1000)))
            start = min(start, C.day(2024, 6, 30))
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
            start = max(int(p.birth[q]) + 22 * 365, C.day(1995, 9, 1)) + int(rng.integers(0, 3000))
            start = min(start, C.day(2023, 9, 1))
            end = None
            if rng.random() < 0.05:
                end = start + int(rng.integers(365, 4000))
                if end >= C.REF:
                    end = None
            self.payroll[q] = True
            self.payroll_rows.append((q, org, post, 3800 + int(rng.integers(0, 3200)), start, end))
        off_hh = np.zeros(len(p.h_start), bool)
        off_hh[p.hh[self.is_official | self.is_cadre]] = True
        self.off_hh = off_hh
        self.benefit_ok = ~off_hh[p.hh] & ~self.payroll
        self.principal_ok = ~off_hh[p.hh] & ~self.payroll & self.adult(25, 68)

    def _cadre_row(self, q, v, post, start, end):
        self.roster.append((q, self.c.v_committee[v], post, "村干部", self.c.v_code[v], start, end))
        self.is_cadre[q] = True
        prev = self.cadre_post.get(q)
        if prev is None or end is None:
            self.cadre_post[q] = (v, post, start, end)

    # ------------------------------------------------------------------ relatives
    def relatives_of(self, q: int, *, adult=True) -> list[tuple[int, str]]:
        """Kin of `q` inside q's household, derived from both members' 与户主关系."""
        p = self.p
        out = []
        for r in self.hh_members(int(p.hh[q])):
            if r == q or not self.alive[r]:
                continue
            if adult and p.age[r] < 20:
                continue
            k = kin(int(p.rel[q]), int(p.rel[r]))
            if k:
                out.append((r, k))
        return out

    def head_with_relative(self, cand, *, what: str, kin=("配偶", "子女", "兄弟姐妹", "姻亲", "父母"),
                           relative_ok=None):
        """A person among `cand` (unused household) with a suitable adult relative in the household."""
        p = self.p
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
        raise RuntimeError(f"synthetic county too small: no {what} with a relative")

    # ------------------------------------------------------------------ companies
    def _company_name(self, industry: str) -> str:
        rng = self.rng
        used = self.g.company_names
        for attempt in range(50):
            k = 2 if attempt < 25 else 3
            trade = "".join(N.TRADE_CHARS[int(i)] for i in rng.integers(0, len(N.TRADE_CHARS), k))
            suffix = "有限公司" if rng.random() < 0.85 else "有限责任公司"
            name = f"{self.c.name}{trade}{industry}{suffix}"
            if trade[0] != trade[1] and name not in used:
                used.add(name)
                return name
        raise RuntimeError("cannot find a fresh company name")

    def company_address(self, legal_rep: int | None) -> str:
        if legal_rep is not None and self.rng.random() < 0.45:
            return str(self.p.h_addr[self.p.hh[legal_rep]])
        road = N.ROADS[int(self.rng.integers(len(N.ROADS)))]
        self.g.addr_no += 1
        return f"{self.c.province}{self.c.city}{self.c.name}城关镇{road}{self.g.addr_no}号"

    def new_company(self, legal_rep: int, *, industry: int | None = None, established: int | None = None,
                    holders: list[tuple[int, float]] | None = None, phone: str | None = None,
                    address: str | None = None, background: bool = False, supervisor: int | None = None,
                    status: str | None = None) -> int:
        """Register a company; `holders` are (person, share %) natural shareholders."""
        rng, p = self.rng, self.p
        if industry is None:
            w = np.array([x[2] for x in N.INDUSTRIES])
            industry = int(rng.choice(len(N.INDUSTRIES), p=w / w.sum()))
        word, reg, _w, bidder = N.INDUSTRIES[industry]
        if established is None:
            established = C.day(2003, 1, 1) + int(rng.integers(0, 16 * 365)) if bidder else \
                C.day(1998, 1, 1) + int(rng.integers(0, 26 * 365))
        uscc = self.c.org_code(rng, "91")
        if phone is None:
            if p.phone[legal_rep] and rng.random() < 0.5:
                phone = str(p.phone[legal_rep])
            elif rng.random() < 0.4:
                phone = self.g.ids.landline(self.c.area)
            else:
                phone = self.new_mobile()
        if address is None:
            address = self.company_address(legal_rep)
        # nobody founds or joins a company before 20
        people = [legal_rep] + [q for q, _ in (holders or [])] + ([supervisor] if supervisor is not None else [])
        earliest = max(int(p.birth[q]) for q in people) + 7306   # 20 years
        if established < earliest:
            established = min(earliest + int(rng.integers(0, 3 * 365)), C.REF - 60)
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
        rng, p = self.rng, self.p
        n_comp = max(14, round(self.n / 100))
        cand = np.nonzero(self.principal_ok & ~self.hh_principal[p.hh])[0]
        pool = list(self.choose(cand, min(len(np.unique(p.hh[cand])), int(n_comp * 2.6) + 10), what="principals"))
        w = np.array([x[2] for x in N.INDUSTRIES])
        w = w / w.sum()
        bid_inds = [i for i, x in enumerate(N.INDUSTRIES) if x[3]]
        parents_free = []
        for i in range(n_comp):
            if len(pool) < 3:
                break
            industry = int(bid_inds[i % len(bid_inds)]) if i < 12 else int(rng.choice(len(N.INDUSTRIES), p=w))
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
                if ex < C.REF and co.established > p.birth[q] + 7306:
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

    # ------------------------------------------------------------------ projects, tenders, contracts
    def new_project(self, v: int, budget: int, day: int, builder: str | None = None) -> int:
        rng = self.rng
        if builder is None:
            builder = self.c.v_committee[v] if rng.random() < 0.75 else self.c.t_gov[self.village_town(v)]
        kind = N.PROJECT_KINDS[int(rng.integers(len(N.PROJECT_KINDS)))]
        self.projects.append([v, f"{self.c.v_name[v]}{kind}", builder, int(budget), day])
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
        rng, c = self.rng, self.c
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
            days = C.day(2019, 3, 1) + rng.integers(0, 5 * 365 + 200, nb)
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
                    raise RuntimeError("too few construction companies for a tender")
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

    # ------------------------------------------------------------------ benefits
    def approver_for(self, prog: int, v: int) -> str:
        key = PROGRAMMES[prog][4]
        return self.c.t_gov[self.village_town(v)] if key == "town" else self.c.bureau[key][0]

    def add_benefit(self, person: int, prog: int, periods: list[tuple[int, int]], amount: int | list[int],
                    *, village: int | None = None, approver: str | None = None) -> list[int]:
        """Planted payment rows; returns their tags (for ground truth)."""
        v = int(self.p.vil[person]) if village is None else village
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
        last_ok = np.searchsorted(ends, self.p.death[persons], side="left") - 1
        e = np.minimum(np.asarray(e_idx), last_ok)
        cnt = np.maximum(e - np.asarray(s_idx) + 1, 0)
        total = int(cnt.sum())
        if total == 0:
            return
        rep = np.repeat(np.arange(len(persons)), cnt)
        offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        k = np.asarray(s_idx)[rep] + offs
        ps, pe = starts[k], ends[k]
        yr = C.year_of(ps) - 2019
        amt = np.round(np.asarray(base, dtype=float)[rep] * (1 + growth * yr)).astype(np.int64)
        pers = persons[rep]
        vil = self.p.vil[pers]
        key = PROGRAMMES[prog][4]
        if key == "town":
            gov = np.array(self.c.t_gov, dtype=object)
            appr = gov[self.c.v_town[vil]]
        else:
            appr = np.full(total, self.c.bureau[key][0], dtype=object)
        self.ben_cols.append((pers, np.full(total, prog, dtype=np.int64), ps, pe, amt, vil, appr))

    def make_disability(self):
        p, rng = self.p, self.rng
        target = round(0.02 * self.n) - int(self.disabled.sum())
        cand = np.nonzero(self.benefit_ok & ~self.block_benefit & ~self.disabled & ~self.used
                          & (p.death > C.day(2021, 6, 30)))[0]
        if target <= 0 or len(cand) == 0:
            return
        w = 0.3 + p.age[cand] / 40
        chosen = rng.choice(cand, size=min(target, len(cand)), replace=False, p=w / w.sum())
        kinds = rng.choice(len(N.DISABILITY_KINDS), size=len(chosen), p=[x[1] for x in N.DISABILITY_KINDS])
        grades = rng.choice([1, 2, 3, 4], size=len(chosen), p=[0.1, 0.22, 0.33, 0.35])
        for q, k, g in zip(chosen.tolist(), kinds.tolist(), grades.tolist()):
            self.disability.append((q, k, g))
            self.disabled[q] = True
        s = rng.integers(0, 9, len(chosen))
        base = 3 * (rng.uniform(60, 100, len(chosen)) + np.where(grades <= 2, 100, 0))
        self._expand(chosen, P_DISAB, s, np.full(len(chosen), 23), C.QUARTERS, base)

    def make_benefits(self):
        p, rng, c = self.p, self.rng, self.c
        ok = self.benefit_ok & ~self.block_benefit & ~self.used
        heads = p.h_start
        nh = len(heads)
        hh_ok = ok[heads] & ~self.hh_used & (p.death[heads] > C.P0 + 120) & ~self.off_hh
        # 低保: ~6 % of households, paid to the head each quarter
        cand = np.nonzero(hh_ok & ~self.block_poverty_hh)[0]
        dib = rng.choice(cand, size=min(len(cand), round(0.06 * nh)), replace=False)
        s = np.maximum(0, rng.integers(-48, 66, len(dib)))
        e = np.minimum(71, s + 12 + rng.exponential(36, len(dib)).astype(np.int64))
        sq, eq = (s + 2) // 3, (e + 1) // 3 - 1
        base = 3 * rng.uniform(280, 420, len(dib)) * np.minimum(p.h_size[dib], 4)
        self._expand(heads[dib], P_DIBAO, sq, eq, C.QUARTERS, base)
        self.block_assets_hh[dib] = True
        on_dib = np.zeros(nh, bool)
        on_dib[dib] = True
        # 特困供养: elderly living alone, monthly
        cand = np.nonzero(hh_ok & ~on_dib & ~self.block_poverty_hh & (p.h_size == 1) & (p.age[heads] >= 60))[0]
        tk = rng.choice(cand, size=int(len(cand) * 0.15), replace=False) if len(cand) else cand
        s = np.maximum(0, rng.integers(-60, 60, len(tk)))
        self._expand(heads[tk], P_TEKUN, s, np.full(len(tk), 71), C.MONTHS, rng.uniform(650, 900, len(tk)))
        self.block_assets_hh[tk] = True
        # 城乡居民养老金: a share of those aged 60+, quarterly from the quarter after turning 60
        turn60 = p.birth + int(60 * 365.2425)
        cand = np.nonzero(ok & (turn60 <= C.REF) & (p.death > C.P0 + 120) & ~self.hh_used[p.hh])[0]
        pen = rng.choice(cand, size=int(len(cand) * 0.3), replace=False) if len(cand) else cand
        sq = np.maximum(0, np.searchsorted(C.QUARTERS[0], turn60[pen], side="right"))
        self._expand(pen, P_PENSION, sq, np.full(len(pen), 23), C.QUARTERS, 3 * rng.uniform(120, 200, len(pen)))
        # 禁牧补贴: half the households of grazing-ban villages, yearly
        jv = c.v_jinmu[p.h_vil]
        cand = np.nonzero(hh_ok & jv)[0]
        jm = cand[rng.random(len(cand)) < 0.5]
        self._expand(heads[jm], P_JINMU, np.zeros(len(jm), np.int64), np.full(len(jm), 5), C.YEARS,
                     rng.uniform(600, 4000, len(jm)), growth=0.0)
        # 危房改造: a one-off grant to ~1 % of households
        cand = np.nonzero(hh_ok)[0]
        wf = rng.choice(cand, size=min(len(cand), round(0.01 * nh)), replace=False)
        m = rng.integers(0, 72, len(wf))
        self._expand(heads[wf], P_WEIFANG, m, m, C.MONTHS, np.round(rng.uniform(150, 350, len(wf))) * 100,
                     growth=0.0)

    # ------------------------------------------------------------------ assets
    def new_plate(self) -> str:
        rng = self.rng
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            chars = []
            n_letters = 0 if rng.random() < 0.6 else int(rng.integers(1, 3))
            pos = set(rng.choice(5, n_letters, replace=False).tolist()) if n_letters else set()
            for i in range(5):
                chars.append(letters[int(rng.integers(len(letters)))] if i in pos else str(int(rng.integers(10))))
            plate = self.c.plate + "".join(chars)
            if plate not in self.g.plates:
                self.g.plates.add(plate)
                return plate

    def add_vehicle(self, person: int, day: int | None = None, kind: int | None = None) -> int:
        rng = self.rng
        if kind is None:
            kind = int(rng.choice(len(N.VEHICLE_KINDS), p=[x[1] for x in N.VEHICLE_KINDS]))
        if day is None:
            day = C.day(2010, 1, 1) + int(rng.integers(0, 15 * 365))
        day = min(max(day, int(self.p.birth[person]) + 6575 + int(rng.integers(0, 400))), C.REF)  # 18 years
        self.vehicles.append([person, N.VEHICLE_KINDS[kind][0], day, self.new_plate()])
        return len(self.vehicles) - 1

    def add_estate(self, person: int, day: int | None = None) -> int:
        rng, c = self.rng, self.c
        if day is None:
            day = C.day(2016, 1, 1) + int(rng.integers(0, 9 * 365))
        day = min(max(day, int(self.p.birth[person]) + 6575 + int(rng.integers(0, 400))), C.REF)  # 18 years
        if rng.random() < 0.6:
            addr = str(self.p.h_addr[self.p.hh[person]])
            area = round(float(rng.uniform(80, 260)), 2)
        else:
            est = N.ESTATES[int(rng.integers(len(N.ESTATES)))]
            addr = (f"{c.province}{c.city}{c.name}城关镇{est}{int(rng.integers(1, 30))}号楼"
                    f"{int(rng.integers(1, 4))}单元{int(rng.integers(1, 19))}0{int(rng.integers(1, 5))}室")
            area = round(float(rng.uniform(60, 150)), 2)
        self.estates.append([person, addr, area, day])
        return len(self.estates) - 1

    def make_assets(self):
        p, rng = self.p, self.rng
        elig = np.nonzero(~self.block_assets_hh & ~self.hh_used)[0]
        est = elig[rng.random(len(elig)) < 0.18]
        veh = elig[rng.random(len(elig)) < 0.15]
        ok = self.alive & (p.age >= 20)
        for h, what in [(h, 0) for h in est.tolist()] + [(h, 1) for h in veh.tolist()]:
            s, n = int(p.h_start[h]), int(p.h_size[h])
            members = [r for r in range(s, s + n) if ok[r] and (what == 0 or p.age[r] <= 68)]
            if not members:
                continue
            owner = members[0] if rng.random() < 0.7 else members[int(rng.integers(len(members)))]
            if what == 0:
                self.add_estate(owner)
            else:
                self.add_vehicle(owner)

    # ------------------------------------------------------------------ police
    def place_for(self, v: int, gambling: bool) -> str:
        rng, c = self.rng, self.c
        tn, vn = c.t_name[self.village_town(v)], c.v_name[v]
        r = rng.random()
        if gambling:
            if r < 0.5:
                sur = N.SURNAMES[int(rng.integers(0, 30))][0]
                return f"{tn}{vn}{sur}某家中"
            if r < 0.8:
                trade = "".join(N.TRADE_CHARS[int(i)] for i in rng.integers(0, len(N.TRADE_CHARS), 2))
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
            day = C.day(2019, 1, 1) + int(rng.integers(0, 6 * 365))
        hour = [19, 20, 21, 22, 23, 14, 15, 16, 0, 1][int(rng.integers(10))]
        return day * 1440 + hour * 60 + int(rng.integers(0, 12)) * 5

    def make_cases(self):
        p, rng = self.p, self.rng
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
            parties = [(q, "违法行为人", N.PENALTIES[int(rng.integers(len(N.PENALTIES)))]) for q in people]
            if rng.random() < 0.2:
                q = int(cand[int(rng.integers(len(cand)))])
                if q not in people:
                    parties.append((q, "证人", ""))
            if gambling:
                self.add_case("赌博", minute, self.place_for(v, True), parties)
            else:
                cause = N.OTHER_CAUSES[int(rng.integers(len(N.OTHER_CAUSES)))]
                self.add_case(cause, minute, self.place_for(v, False), parties,
                              "给予行政处罚" if rng.random() < 0.7 else "调解结案")

    # ------------------------------------------------------------------ ground truth
    def truth(self, model: str, kind: str, entities: list[tuple], note: str):
        self.gt.append((model, kind, entities, note))
