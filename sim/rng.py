"""Common random numbers: each decision of each person draws its own number.

A draw is a counter-based hash of (seed, stream, person id, month), in the style of Starsim's
slot-based random numbers. A person makes the same draw for the same decision whatever the
other people do, so two scenarios differ only in the decisions a lever touches.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 with good avalanche."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def stream_id(name: str) -> int:
    """A stable number for a named decision, so streams do not depend on code order."""
    return zlib.crc32(name.encode())


def uniforms(seed: int, stream: str, ids: np.ndarray, t: int = 0) -> np.ndarray:
    """Uniform numbers in (0, 1), one per id, fixed by (seed, stream, id, t)."""
    with np.errstate(over="ignore"):
        key = _mix(np.uint64(seed) * _GOLDEN + np.uint64(stream_id(stream)))
        key = _mix(key ^ (np.uint64(t) * _M1))
        x = _mix(np.asarray(ids, dtype=np.uint64) * _GOLDEN ^ key)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normals(seed: int, stream: str, ids: np.ndarray, t: int = 0) -> np.ndarray:
    """Standard normal numbers, one per id, fixed like `uniforms`."""
    return ndtri(uniforms(seed, stream, ids, t))


def generator(seed: int, stream: str, t: int = 0) -> np.random.Generator:
    """A numpy generator for draws that do not belong to one person (births, moves)."""
    return np.random.default_rng([seed, stream_id(stream), t])
