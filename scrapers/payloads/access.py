"""Tolerant accessors: read one field of a payload, or None when it is absent or of another kind.

Only counts are strict: a count that is present but negative, non-numeric or too
large for the catalog rejects the whole record (:class:`core.errors.ParseError`
with a countable reason), because a wrong count would silently poison a label.
Everything else degrades to None, the way yt-dlp's ``traverse_obj`` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.errors import ParseError

#: the catalog stores counts as signed 64-bit integers
MAX_COUNT = 2**63 - 1
#: widths and heights are 32-bit integers in the catalog
MAX_DIMENSION = 2**31 - 1
#: a read-only stand-in for an absent object, so that ``.get`` chains never fail
EMPTY: Mapping[str, Any] = {}

Path = tuple[str | int, ...]


def dig(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` (dict keys and list indexes), or None as soon as a step does not fit."""
    for step in path:
        if isinstance(step, int) and isinstance(obj, list):
            obj = obj[step] if -len(obj) <= step < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(step)
        else:
            return None
    return obj


def first(obj: Any, *paths: Path) -> Any:
    """The first value that is not None among several alternative paths."""
    for path in paths:
        value = dig(obj, *path)
        if value is not None:
            return value
    return None


def obj(parent: Any, key: str) -> Mapping[str, Any]:
    """``parent[key]`` when it is an object, else an empty mapping."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else EMPTY


def text(value: Any) -> str | None:
    """A string, without NUL characters (Postgres refuses them); anything else is None."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    return None


#: how JSON writes a NUL character; a document without it holds none
JSON_NUL = "\\u0000"


def without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it (Postgres's JSONB refuses them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def ident(value: Any) -> str | None:
    """An identifier given as a string or an integer, as a non-empty string; else None."""
    if isinstance(value, str):
        value = text(value).strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def digits_id(value: Any) -> str | None:
    """An account id the catalog can key on (1–32 digits), else None."""
    value = ident(value)
    return value if value is not None and value.isascii() and value.isdigit() and len(value) <= 32 else None


#: the catalog's author ids are at most this long
MAX_AUTHOR_ID = 32


def author_ident(value: Any) -> str | None:
    """An account id as the catalog keys it: digits or any opaque string (``user_00001``), at most 32 characters.

    Only video ids become file names, so author ids need not be digits. Longer ids
    are None here; :func:`author_id_problem` names why, so that the loss is counted.
    """
    value = ident(value)
    return value if value is not None and len(value) <= MAX_AUTHOR_ID else None


def author_id_problem(value: Any) -> str | None:
    """``author_id_too_long`` when a given author id cannot be kept, else None."""
    value = ident(value)
    return "author_id_too_long" if value is not None and len(value) > MAX_AUTHOR_ID else None


def flag(value: Any) -> bool | None:
    """A JSON boolean; anything else is None."""
    return value if isinstance(value, bool) else None


def count(value: Any, name: str) -> int | None:
    """A non-negative integer count, or None when absent; raises ParseError for a bad one.

    Integers, integral floats and digit strings ("1300000", as ``statsV2`` gives
    them) are accepted; an empty string counts as absent.
    """
    kind = type(value)
    if kind is int:
        return value if 0 <= value <= MAX_COUNT else _checked(value, name)
    if kind is str:
        # the common case first: plain ASCII digits
        if value.isdigit() and value.isascii():
            return _checked(int(value), name)
        return _count_from_text(value, name)
    if value is None:
        return None
    if kind is float and math.isfinite(value) and value.is_integer():
        return _checked(int(value), name)
    raise ParseError("non_numeric_count", f"{name}={value!r:.40}")


def _count_from_text(value: str, name: str) -> int | None:
    stripped = value.strip()
    if not stripped:
        return None
    body = stripped[1:] if stripped[0] in "+-" else stripped
    if not (body.isascii() and body.isdigit()):
        raise ParseError("non_numeric_count", f"{name}={value!r:.40}")
    return _checked(int(stripped), name)


def _checked(value: int, name: str) -> int:
    if value < 0:
        raise ParseError("negative_count", f"{name}={value}")
    if value > MAX_COUNT:
        raise ParseError("count_too_large", f"{name}={value}")
    return value


def best_count(name: str, *values: Any) -> int | None:
    """The first valid count among alternatives (e.g. ``statsV2`` then ``stats``).

    A bad value is passed over when a later alternative is valid; when none is
    valid, the first problem is raised. None when every alternative is absent.
    """
    problem: ParseError | None = None
    for value in values:
        if value is None:
            continue
        try:
            found = count(value, name)
        except ParseError as exc:
            problem = problem or exc
            continue
        if found is not None:
            return found
    if problem is not None:
        raise problem
    return None


def number(value: Any) -> float | None:
    """A finite, non-negative number (also from a numeric string), else None."""
    kind = type(value)
    if kind is int:
        return float(value) if 0 <= value <= MAX_COUNT else None
    if kind is float:
        return value if 0 <= value < math.inf else None
    if kind is str:
        try:
            value = float(value)
        except ValueError:
            return None
        return value if 0 <= value < math.inf else None
    return None


def dimension(value: Any) -> int | None:
    """A width or height in pixels the catalog can hold, else None."""
    if type(value) is int:
        return value if 0 <= value <= MAX_DIMENSION else None
    value = number(value)
    return int(value) if value is not None and value <= MAX_DIMENSION else None


def timestamp(value: Any) -> datetime | None:
    """Seconds since the epoch (number or digit string) as an aware UTC datetime, else None."""
    seconds = number(value)
    if not seconds:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
