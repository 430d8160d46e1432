"""Identifier arithmetic for the generator: resident IDs in bulk, USCCs one at a time.

Check characters come from :mod:`graphwatch.resolve.ids`; resident IDs are built in bulk
with numpy from its weights (millions per second); ``tests/test_synth.py`` checks the bulk
check characters against the shared scalar function.
"""

from __future__ import annotations

import numpy as np

from graphwatch.resolve.ids import RESIDENT_ID_CHECK_CHARS, RESIDENT_ID_WEIGHTS, make_uscc

RID_WEIGHTS = np.array(RESIDENT_ID_WEIGHTS, dtype=np.int64)
RID_CHECK = np.frombuffer(RESIDENT_ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_ORG_W = (3, 7, 9, 10, 5, 8, 4, 2)


def resident_ids(region6: np.ndarray, yyyymmdd: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Valid 18-character IDs, vectorised.

    ``region6``: (n, 6) uint8 digit values; ``yyyymmdd``: (n, 8) uint8 digit values;
    ``seq``: int array 0-999.  Returns an object array of ``str``.
    """
    n = len(seq)
    digits = np.empty((n, 17), dtype=np.uint8)
    digits[:, :6] = region6
    digits[:, 6:14] = yyyymmdd
    digits[:, 14] = seq // 100
    digits[:, 15] = (seq // 10) % 10
    digits[:, 16] = seq % 10
    check = RID_CHECK[(digits.astype(np.int64) @ RID_WEIGHTS) % 11]
    ascii_ = np.empty((n, 18), dtype=np.uint8)
    ascii_[:, :17] = digits + 48
    ascii_[:, 17] = check
    return ascii_.view("S18").ravel().astype("U18").astype(object)


def org_code_check(body8: str) -> str:
    """GB 11714 organisation-code check character for 8 body characters."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _ORG_W))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc(dept_kind: str, region: str, body8: str) -> str:
    """A valid USCC: 2-char department/kind, 6-digit region, 9-char org code, check."""
    return make_uscc(f"{dept_kind}{region}{body8}{org_code_check(body8)}")


def bad_check(id18: str, rng: np.random.Generator) -> str:
    """The same ID with a wrong check character."""
    wrong = [c for c in "0123456789X" if c != id18[17]]
    return id18[:17] + wrong[int(rng.integers(len(wrong)))]


def legacy15(id18: str) -> str:
    """The 15-digit form of an 18-character ID of someone born in the 1900s."""
    return id18[:6] + id18[8:17]


_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def full_width(s: str) -> str:
    return s.translate(_FULLWIDTH)
