"""Common random numbers: each decision of each person draws its own number.

A draw is a counter-based hash of (seed, stream, person id, month), in the style of Starsim's
slot-based random numbers. A person makes the same draw for the same decision whatever the
other people do, so two scenarios differ only in the decisions a lever touches.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
from numba import njit
from scipy.special import ndtri

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK = (1 << 64) - 1
_TO_UNIT = 1.0 / 9007199254740992.0
# The shifts as numpy scalars made once: a draw for a few children is dominated by per-call costs.
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 with good avalanche (in place)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def _mix_int(x: int) -> int:
    """_mix on one Python int: the same numbers, without numpy's per-scalar overhead."""
    x ^= x >> 30
    x = (x * int(_M1)) & _MASK
    x ^= x >> 27
    x = (x * int(_M2)) & _MASK
    return x ^ (x >> 31)


def stream_id(name: str) -> int:
    """A stable number for a named decision, so streams do not depend on code order."""
    return zlib.crc32(name.encode())


@lru_cache(maxsize=4096)
def _key(seed: int, stream: str, t: int) -> np.uint64:
    """The key of one (seed, stream, month): a few thousand are reused all run long."""
    if seed < 0 or t < 0:
        raise OverflowError("seed and t must be non-negative")
    key = _mix_int((seed * int(_GOLDEN) + stream_id(stream)) & _MASK)
    return np.uint64(_mix_int(key ^ ((t * int(_M1)) & _MASK)))


def stream_keys(seed: int, streams: list[str]) -> np.ndarray:
    """The (seed, stream) part of _key for many streams, made once; month_keys adds the month."""
    return np.array([_mix_int((seed * int(_GOLDEN) + stream_id(stream)) & _MASK) for stream in streams], dtype=np.uint64)


def month_keys(keys: np.ndarray, t: int) -> np.ndarray:
    """_key(seed, stream, t) for every stream of stream_keys(seed, streams), in one pass."""
    if t < 0:
        raise OverflowError("t must be non-negative")
    return _mix(keys ^ np.uint64((t * int(_M1)) & _MASK))


def uniforms(seed: int, stream: str, ids: np.ndarray, t: int = 0) -> np.ndarray:
    """Uniform numbers in (0, 1), one per id, fixed by (seed, stream, id, t)."""
    return _hash_to_unit(np.asarray(ids, dtype=np.uint64), _key(int(seed), stream, int(t)))


def uniforms_by_stream(seed: int, streams: list[str], ids: np.ndarray, t: int = 0) -> np.ndarray:
    """(ids × streams): column k holds uniforms(seed, streams[k], ids, t). One pass instead of
    one per stream."""
    ids = np.asarray(ids, dtype=np.uint64)
    keys = np.array([_key(int(seed), stream, int(t)) for stream in streams], dtype=np.uint64)
    return _hash_to_unit(ids[:, None], keys)


def _hash_to_unit(ids: np.ndarray, key) -> np.ndarray:
    if ids.ndim:  # (array arithmetic wraps silently; only numpy scalars warn on overflow)
        x = _mix((ids * _GOLDEN) ^ key)
    else:
        with np.errstate(over="ignore"):
            x = _mix((ids * _GOLDEN) ^ key)
    x >>= _S11
    u = x.view(np.int64).astype(np.float64)  # (below 2**53 after the shift: exact, and faster than from uint64)
    u += 0.5
    u *= _TO_UNIT
    return u


@njit(cache=True)
def unit_of(person_id: np.uint64, key: np.uint64) -> float:
    """_hash_to_unit for one id, in compiled kernels: the same operations, so the same number
    to the last bit (tests/test_rng.py compares the two)."""
    x = (person_id * _GOLDEN) ^ key
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    x >>= _S11
    return (np.float64(x) + 0.5) * _TO_UNIT


def normals(seed: int, stream: str, ids: np.ndarray, t: int = 0) -> np.ndarray:
    """Standard normal numbers, one per id, fixed like `uniforms`."""
    return ndtri(uniforms(seed, stream, ids, t))


def generator(seed: int, stream: str, t: int = 0) -> np.random.Generator:
    """A numpy generator for draws that do not belong to one person (births, moves)."""
    return np.random.default_rng([seed, stream_id(stream), t])
