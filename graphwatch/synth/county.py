"""The county's fixed frame: divisions, organisations, chunks of townships."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import names
from ..exc import GenerationError
from .codes import uscc

VILLAGE_MEAN = 300
VILLAGES_PER_TOWNSHIP = 15


@dataclass
class County:
    code: str
    name: str
    province: str
    city: str
    plate: str
    area: str
    regions: list[str]                  # [own code] + neighbouring county codes
    record_prefix: str = ""             # put into county-local record numbers (户号, 发放记录号 …)
    t_code: list[str] = field(default_factory=list)
    t_name: list[str] = field(default_factory=list)
    t_gov: list[str] = field(default_factory=list)
    t_school: list[str] = field(default_factory=list)
    t_clinic: list[str] = field(default_factory=list)
    t_villages: list[range] = field(default_factory=list)
    v_code: list[str] = field(default_factory=list)
    v_name: list[str] = field(default_factory=list)
    v_committee: list[str] = field(default_factory=list)
    v_town: np.ndarray | None = None
    v_size: np.ndarray | None = None
    v_jinmu: np.ndarray | None = None
    bureau: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key -> (code, name, sector)
    org_rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    used_org_bodies: set[str] = field(default_factory=set)

    @property
    def code12(self) -> str:
        return self.code + "000000"

    def org_code(self, rng: np.random.Generator, kind: str) -> str:
        """A fresh USCC for an organisation: kind "11" 机关, "12" 事业单位, "54" 村委会, "91" 企业."""
        while True:
            if kind == "54":
                body = "ME" + f"{int(rng.integers(0, 10**6)):06d}"
            elif kind == "91":
                if rng.random() < 0.5:
                    body = f"{int(rng.integers(0, 10**8)):08d}"
                else:
                    alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
                    body = "MA" + "".join(alpha[i] for i in rng.integers(0, 31, 6))
            else:
                body = f"{int(rng.integers(0, 10**8)):08d}"
            if body not in self.used_org_bodies:
                self.used_org_bodies.add(body)
                return uscc(kind, self.code, body)


def _place_name(rng, used: set[str], suffix: str) -> str:
    A, B = names.PLACE_A, names.PLACE_B
    for attempt in range(60):
        a = A[int(rng.integers(len(A)))]
        b = B[int(rng.integers(len(B)))]
        r = rng.random()
        if attempt > 30:
            name = a + B[int(rng.integers(len(B)))] + b
        elif r < 0.25:
            name = a + names.PLACE_MID + b
        else:
            name = a + b
        if a == b:
            continue
        name += suffix
        if name not in used:
            used.add(name)
            return name
    k = len(used)
    name = f"{a}{b}{'一二三四五六七八九十'[k % 10]}{suffix}"
    while name in used:
        k += 1
        name = f"{a}{b}{k}{suffix}"
    used.add(name)
    return name


COUNTY_CODES = tuple(c[0] for c in names.COUNTIES)


def build_county(persons: int, rng: np.random.Generator, code: str | None = None) -> County:
    """The county's frame; ``code`` picks the county (one of :data:`COUNTY_CODES`), else the seed does.

    A county picked by code carries its code in every county-local record number, so
    counties of different codes can share a workspace without their numbers colliding.
    """
    drawn = int(rng.integers(len(names.COUNTIES)))   # drawn either way: the rest stays the seed's
    if code is not None and str(code) not in COUNTY_CODES:
        raise GenerationError(f"unknown county code {code!r}; the generator knows "
                              + ", ".join(f"{c[0]} ({c[1]})" for c in names.COUNTIES))
    chosen = code is not None
    index = COUNTY_CODES.index(str(code)) if chosen else drawn
    code, name, province, city, plate, area, neighbours = names.COUNTIES[index]
    c = County(code, name, province, city, plate, area, [code] + list(neighbours),
               record_prefix=code if chosen else "")

    n_v = max(3, round(persons / VILLAGE_MEAN))
    n_t = max(2, round(n_v / VILLAGES_PER_TOWNSHIP))
    n_t = min(n_t, 899, n_v)
    # village sizes: around 300, summing exactly to `persons`
    w = rng.uniform(0.55, 1.45, n_v)
    raw = w / w.sum() * persons
    size = np.floor(raw).astype(np.int64)
    short = persons - size.sum()
    size[np.argsort(-(raw - size), kind="stable")[:short]] += 1
    # villages per township: roughly equal, 1+ each, and at most 799 (3-digit village codes)
    per = np.full(n_t, n_v // n_t)
    per[: n_v % n_t] += 1
    if per.max() > 799:
        raise GenerationError("county too large for 12-digit division codes (at most 899 townships of 799 villages)")

    used_names: set[str] = set()
    v_town = np.empty(n_v, dtype=np.int64)
    vi = 0
    for t in range(n_t):
        tcode3 = 101 + t
        tname = "城关镇" if t == 0 else _place_name(rng, used_names, "镇" if rng.random() < 0.6 else "乡")
        used_names.add(tname)
        c.t_code.append(f"{code}{tcode3:03d}000")
        c.t_name.append(tname)
        c.t_villages.append(range(vi, vi + int(per[t])))
        for k in range(int(per[t])):
            c.v_code.append(f"{code}{tcode3:03d}{201 + k:03d}")
            c.v_name.append(_place_name(rng, used_names, "村"))
            v_town[vi] = t
            vi += 1
    c.v_town = v_town
    c.v_size = size
    c.v_jinmu = rng.random(n_v) < 0.10

    for key, suffix, kind, sector in names.BUREAUS:
        ocode = c.org_code(rng, "11" if kind == "县直部门" else "12")
        oname = f"{name}{suffix}"
        c.bureau[key] = (ocode, oname, sector)
        c.org_rows.append((ocode, oname, kind, c.code12, sector))   # county bodies: in the county
    for t in range(n_t):
        gov = c.org_code(rng, "11")
        school = c.org_code(rng, "12")
        clinic = c.org_code(rng, "12")
        c.t_gov.append(gov)
        c.t_school.append(school)
        c.t_clinic.append(clinic)
        tn = c.t_name[t]
        c.org_rows.append((gov, f"{name}{tn}人民政府", "乡镇政府", c.t_code[t], ""))
        c.org_rows.append((school, f"{name}{tn}中心学校", "事业单位", c.t_code[t], ""))
        c.org_rows.append((clinic, f"{name}{tn}卫生院", "事业单位", c.t_code[t], ""))
    for v in range(n_v):
        vc = c.org_code(rng, "54")
        c.v_committee.append(vc)
        c.org_rows.append((vc, f"{name}{c.t_name[v_town[v]]}{c.v_name[v]}民委员会", "村委会", c.v_code[v], ""))
    return c


def chunk_townships(c: County, target: int) -> list[list[int]]:
    """Contiguous groups of townships of about `target` persons each."""
    chunks, cur, n = [], [], 0
    for t, vr in enumerate(c.t_villages):
        cur.append(t)
        n += int(c.v_size[vr.start:vr.stop].sum())
        if n >= target:
            chunks.append(cur)
            cur, n = [], 0
    if cur:
        if chunks and n < target // 3:
            chunks[-1].extend(cur)
        else:
            chunks.append(cur)
    return chunks
