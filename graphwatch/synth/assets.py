"""Real estate and vehicles of a chunk (households on a poverty roll own neither).

A mixin of :class:`~graphwatch.synth.chunk.Chunk`; it fills ``estates`` and ``vehicles``.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import names


class Assets:
    """Real estate and vehicles (mixin of :class:`~graphwatch.synth.chunk.Chunk`)."""

    def new_plate(self) -> str:
        rng = self.rng
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            chars = []
            n_letters = 0 if rng.random() < 0.6 else int(rng.integers(1, 3))
            pos = set(rng.choice(5, n_letters, replace=False).tolist()) if n_letters else set()
            for i in range(5):
                chars.append(letters[int(rng.integers(len(letters)))] if i in pos else str(int(rng.integers(10))))
            plate = self.county.plate + "".join(chars)
            if plate not in self.generator.plates:
                self.generator.plates.add(plate)
                return plate

    def add_vehicle(self, person: int, day: int | None = None, kind: int | None = None) -> int:
        rng = self.rng
        if kind is None:
            kind = int(rng.choice(len(names.VEHICLE_KINDS), p=[x[1] for x in names.VEHICLE_KINDS]))
        if day is None:
            day = calendar.day(2010, 1, 1) + int(rng.integers(0, 15 * 365))
        day = min(max(day, int(self.people.birth[person]) + 6575 + int(rng.integers(0, 400))), calendar.REF)  # 18 years
        self.vehicles.append([person, names.VEHICLE_KINDS[kind][0], day, self.new_plate()])
        return len(self.vehicles) - 1

    def add_estate(self, person: int, day: int | None = None) -> int:
        rng, c = self.rng, self.county
        if day is None:
            day = calendar.day(2016, 1, 1) + int(rng.integers(0, 9 * 365))
        day = min(max(day, int(self.people.birth[person]) + 6575 + int(rng.integers(0, 400))), calendar.REF)  # 18 years
        if rng.random() < 0.6:
            addr = str(self.people.h_addr[self.people.hh[person]])
            area = round(float(rng.uniform(80, 260)), 2)
        else:
            est = names.ESTATES[int(rng.integers(len(names.ESTATES)))]
            addr = (f"{c.province}{c.city}{c.name}城关镇{est}{int(rng.integers(1, 30))}号楼"
                    f"{int(rng.integers(1, 4))}单元{int(rng.integers(1, 19))}0{int(rng.integers(1, 5))}室")
            area = round(float(rng.uniform(60, 150)), 2)
        self.estates.append([person, addr, area, day])
        return len(self.estates) - 1

    def make_assets(self):
        p, rng = self.people, self.rng
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
