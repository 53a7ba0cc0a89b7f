"""Counter-based random numbers: a value depends on (seed, row id, stream) and nothing else.

A numpy ``Generator`` draws in sequence, so a row's values would change with the
rows drawn before it. Here each uniform is a hash of (seed, id, stream) through
splitmix64 (Steele, Lea & Flood 2014), computed on whole uint64 columns. The
catalog and the sandbox therefore agree on a video whatever else they simulate,
and a growing catalog never changes an old row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import ndtri

#: multiplier of the polynomial string hash that turns an id into a 64-bit key (FNV-1's prime)
_POLY = np.uint64(0x100000001B3)
_ONE = np.uint64(1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = 0xFFFFFFFFFFFFFFFF
#: uniforms lie strictly inside (0, 1): half a step from each end
_STEP = 2.0**-53


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def id_keys(ids: Sequence[str] | pd.Series | np.ndarray) -> np.ndarray:
    """64-bit keys of string ids, the same on every run and machine.

    A polynomial hash of the UTF-8 bytes (Horner's rule, one vectorised step per
    character position, straight from the Arrow buffers), mixed with the length
    through splitmix64. Null ids hash as the empty string.
    """
    arr = _large_strings(ids)
    _, offset_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offset_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    h = np.zeros(len(arr), dtype=np.uint64)
    position = offsets[:-1].copy()
    shortest = int(lengths.min(initial=0))
    for k in range(int(lengths.max(initial=0))):
        if k < shortest:  # every id is this long: no masking
            h *= _POLY
            h += data[position]
            h += _ONE
        else:
            live = k < lengths
            h = np.where(live, h * _POLY + data[np.where(live, position, 0)] + _ONE, h)
        position += 1
    return splitmix64(h ^ splitmix64(lengths.astype(np.uint64)))


def _large_strings(ids: Sequence[str] | pd.Series | np.ndarray) -> pa.LargeStringArray:
    if isinstance(ids, pd.Series) and ids.dtype != object and not pd.api.types.is_string_dtype(ids.dtype):
        ids = ids.astype(str)
    arr = pa.array(ids, type=pa.large_string(), from_pandas=True) if not isinstance(ids, pa.Array | pa.ChunkedArray) else ids
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()).fill_null("")


def _stream_salt(seed: int, stream: int) -> np.uint64:
    mixed = splitmix64(np.array([(int(seed) & _MASK)], dtype=np.uint64))[0]
    return splitmix64(np.array([mixed ^ np.uint64(int(stream) & _MASK)], dtype=np.uint64))[0]


def uniforms(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """One uniform in (0, 1) per key, for this seed and stream."""
    with np.errstate(over="ignore"):
        bits = splitmix64(keys ^ _stream_salt(seed, stream))
    return (bits >> np.uint64(11)).astype(np.float64) * _STEP + _STEP / 2


def normals(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """One standard normal per key (inverse CDF of :func:`uniforms`)."""
    return ndtri(uniforms(keys, seed, stream))
