"""Table cells → values: numbers with decimal and thousands separators, dates without times, lists in one cell.

Counts stay strict, as everywhere in the parser: a count cell that is present but
not a whole, non-negative number rejects the row (``non_numeric_count``,
``negative_count``). Other cells that cannot be read become None and are named in
the record's ``dropped`` reasons (``bad_create_time``…), so nothing is lost silently.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, date, datetime
from typing import Any

from core.errors import ParseError
from scrapers.payloads.access import MAX_COUNT

#: characters written between digit groups besides the thousands separator proper
_GROUP_SPACES = re.compile(r"[\s\u00a0\u202f']")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THREE_DIGIT_GROUPS = re.compile(r"^[+-]?\d{1,3}([.,]\d{3})+$")
LIST_SPLIT = re.compile(r"\s*[,;|]\s*")
HASH_WORDS = re.compile(r"#?([^\s#,;|]+)")
DATE_FORMATS = ("%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
TRUE, FALSE = frozenset({"true", "yes", "y", "1", "t"}), frozenset({"false", "no", "n", "0", "f"})


@dataclass(frozen=True)
class CellOptions:
    """How a table writes numbers and dates.

    ``decimal`` is ``"."``, ``","`` or ``"auto"`` (the last separator of a number
    that has both is the decimal one; a count like ``2.087`` with groups of three
    digits reads as 2087). ``date_format`` is a ``strptime`` pattern tried first;
    ``dayfirst`` reads ``03/04/2021`` as 3 April instead of March 4.
    """

    decimal: str = "auto"
    date_format: str | None = None
    dayfirst: bool = False

    def __post_init__(self) -> None:
        if self.decimal not in (".", ",", "auto"):
            raise ParseError("bad_option", f"--decimal must be '.', ',' or auto, not {self.decimal!r}")


def _plain_number(text: str, decimal: str, whole: bool) -> str:
    """The number in ``text`` written with '.' as the decimal point and no group separators."""
    body = _GROUP_SPACES.sub("", text)
    if decimal == "auto":
        if "." in body and "," in body:
            decimal = "," if body.rfind(",") > body.rfind(".") else "."
        elif whole and _THREE_DIGIT_GROUPS.match(body):
            return body.replace(".", "").replace(",", "")
        elif body.count(",") == 1 and "." not in body:
            decimal = ","
        else:
            decimal = "."
    group = "," if decimal == "." else "."
    return body.replace(group, "").replace(decimal, ".")


def to_count(value: Any, name: str, options: CellOptions) -> int | None:
    """A non-negative whole count from a cell (``1,234``, ``2.087,00``, ``1e3``, 12.0), None when empty."""
    if type(value) is str and value.isdigit() and value.isascii():  # the common case, first
        number = int(value)
        return number if number <= MAX_COUNT else _whole(number, name)
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ParseError("non_numeric_count", f"{name}={value!r}")
        return None
    if isinstance(value, int):
        number: float | int = value
    elif isinstance(value, float):
        if math.isnan(value):
            return None
        number = value
    else:
        text = value.strip() if isinstance(value, str) else str(value).strip()
        if text.isdigit() and text.isascii():  # the common case: plain digits
            return _whole(int(text), name)
        if not text:
            return None
        plain = _plain_number(text, options.decimal, whole=True)
        if not _NUMBER.match(plain):
            raise ParseError("non_numeric_count", f"{name}={text!r:.40}")
        number = int(plain) if plain.lstrip("+-").isdigit() else float(plain)
    return _whole(number, name)


def _whole(number: float | int, name: str) -> int:
    if isinstance(number, float) and not (math.isfinite(number) and number.is_integer()):
        raise ParseError("non_numeric_count", f"{name}={number!r}")
    value = int(number)
    if value < 0:
        raise ParseError("negative_count", f"{name}={value}")
    if value > MAX_COUNT:
        raise ParseError("count_too_large", f"{name}={value}")
    return value


def to_number(value: Any, options: CellOptions) -> float | None:
    """A finite, non-negative number (``12,5`` with a decimal comma), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    text = str(value).strip()
    if not text:
        return None
    if "," not in text and "'" not in text and " " not in text:
        try:  # the common case: a plain decimal number
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) and number >= 0 else None
    plain = _plain_number(text, options.decimal, whole=False)
    if not _NUMBER.match(plain):
        return None
    number = float(plain)
    return number if math.isfinite(number) and number >= 0 else None


def to_time(value: Any, options: CellOptions) -> datetime | None:
    """A UTC time from a cell: epoch seconds (or milliseconds), ISO dates with or without a time, common day formats."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    return _time_of_text(text, options)


@lru_cache(maxsize=8192)
def _time_of_text(text: str, options: CellOptions) -> datetime | None:
    # tables repeat their dates: each distinct text is read once
    if _NUMBER.match(text):
        return _epoch(float(text))
    if _ISO_START.match(text) and not options.date_format:
        try:
            return _aware(datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text))
        except ValueError:
            pass
    return _parsed_time(text, options)


def _epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parsed_time(text: str, options: CellOptions) -> datetime | None:
    slash = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S") if options.dayfirst else ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
    formats = ((options.date_format,) if options.date_format else ()) + slash + DATE_FORMATS
    for fmt in formats:
        try:
            return _aware(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text))
    except ValueError:
        return None


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def to_list(value: Any) -> list[str]:
    """The values of a multi-valued cell: a list, a JSON or Python list literal, ``a, b; c | d`` or ``#a #b``."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("[") and text.endswith("]"):
        try:
            items = json.loads(text if '"' in text or "'" not in text else text.replace("'", '"'))
        except ValueError:
            items = None
        if isinstance(items, list):
            return to_list(items)
        text = text[1:-1]
    if "#" not in text and not LIST_SPLIT.search(text):
        return [text] if " " not in text else [w for w in text.split() if w]
    if "#" in text:
        return [w for w in HASH_WORDS.findall(text) if w]
    return [part.strip().strip("'\"") for part in LIST_SPLIT.split(text) if part.strip().strip("'\"")]


def to_flag(value: Any) -> bool | None:
    """A yes/no cell (true/false, yes/no, 1/0), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    return True if text in TRUE else False if text in FALSE else None


def to_text(value: Any) -> str | None:
    """A cell as text without NUL characters; empty is None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None
