"""Days as integers (days since 1970-01-01) and fast formatting through lookup tables."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - EPOCH).days


DAY_MIN = day(1900, 1, 1)
DAY_MAX = day(2030, 12, 31)
NDAYS = DAY_MAX - DAY_MIN + 1
REF = day(2024, 12, 31)          # the export date: ages are taken here
P0 = day(2019, 1, 1)             # first day of the observed period
NO_DEATH = 2**31 - 1


class _Tables:
    def __init__(self):
        d64 = np.arange(DAY_MIN, DAY_MAX + 1).astype("datetime64[D]")
        mon = d64.astype("datetime64[M]")
        self.Y = d64.astype("datetime64[Y]").astype(np.int64) + 1970
        self.M = mon.astype(np.int64) % 12 + 1
        self.D = (d64 - mon).astype(np.int64) + 1
        self._fmt: dict[str, np.ndarray] = {}
        self._digits = None
        self._dates = None

    def fmt_table(self, style: str) -> np.ndarray:
        t = self._fmt.get(style)
        if t is None:
            ys, ms, ds = self.Y.tolist(), self.M.tolist(), self.D.tolist()
            if style == "iso":
                lst = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(ys, ms, ds)]
            elif style == "slash":
                lst = [f"{y}/{m}/{d}" for y, m, d in zip(ys, ms, ds)]
            elif style == "compact":
                lst = [f"{y:04d}{m:02d}{d:02d}" for y, m, d in zip(ys, ms, ds)]
            elif style == "cn":
                lst = [f"{y}年{m}月{d}日" for y, m, d in zip(ys, ms, ds)]
            else:
                raise ValueError(style)
            t = self._fmt[style] = np.array(lst, dtype=object)
        return t

    @property
    def digits(self) -> np.ndarray:
        """(NDAYS, 8) uint8 digit values of YYYYMMDD."""
        if self._digits is None:
            v = self.Y * 10000 + self.M * 100 + self.D
            out = np.empty((len(v), 8), dtype=np.uint8)
            for i in range(8):
                out[:, 7 - i] = (v // 10 ** i) % 10
            self._digits = out
        return self._digits

    @property
    def dates(self) -> list:
        if self._dates is None:
            o = dt.date(1900, 1, 1).toordinal()
            self._dates = [dt.date.fromordinal(o + i) for i in range(NDAYS)]
        return self._dates


_T: _Tables | None = None


def tables() -> _Tables:
    global _T
    if _T is None:
        _T = _Tables()
    return _T


def fmt(days, style: str = "iso") -> np.ndarray:
    """Format integer days; returns an object array of ``str``."""
    return tables().fmt_table(style)[np.asarray(days, dtype=np.int64) - DAY_MIN]


def fmt1(d: int, style: str = "iso") -> str:
    return tables().fmt_table(style)[d - DAY_MIN]


def to_date(d: int) -> dt.date:
    return tables().dates[d - DAY_MIN]


def year_of(days) -> np.ndarray:
    return tables().Y[np.asarray(days, dtype=np.int64) - DAY_MIN]


def month_start(y: int, m: int) -> int:
    return day(y, m, 1)


def _periods(months: int) -> tuple[np.ndarray, np.ndarray]:
    starts, ends = [], []
    y, m = 2019, 1
    while y < 2025:
        starts.append(day(y, m, 1))
        m2, y2 = m + months, y
        while m2 > 12:
            m2 -= 12
            y2 += 1
        ends.append(day(y2, m2, 1) - 1)
        y, m = y2, m2
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


MONTHS = _periods(1)      # 72 months of 2019-2024
QUARTERS = _periods(3)    # 24 quarters
YEARS = _periods(12)      # 6 years
