"""The Research API's query language, checked and evaluated over the world's videos as columns.

A query is ``{"and": [...], "or": [...], "not": [...]}`` (at least one of them), each
a list of conditions ``{"operation": "EQ|IN|GT|GTE|LT|LTE", "field_name": …,
"field_values": ["…"]}``: a video matches when every ``and`` condition holds, at
least one ``or`` condition holds (when there are any) and no ``not`` condition
does. Anything else is refused with the message the API's ``invalid_params``
carries. Field names and ``video_length`` buckets are those of the API's
documentation (see ``docs/research_api.md`` for the sources).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

OPERATIONS = ("EQ", "IN", "GT", "GTE", "LT", "LTE")
QUERY_FIELDS = ("create_date", "username", "region_code", "video_id", "hashtag_name", "keyword", "music_id",
                "effect_id", "video_length")
VIDEO_LENGTHS = ("SHORT", "MID", "LONG", "EXTRA_LONG")
#: the regions the sandbox's creators post from (a stable draw per author)
REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "BR", "MX", "CA", "AU", "NL", "PL")


class QueryError(ValueError):
    """The query breaks the language's rules; the message is what ``invalid_params`` says."""


def check(query: Any) -> None:
    """Raises :class:`QueryError` unless ``query`` is a well-formed query."""
    if not isinstance(query, dict) or not query:
        raise QueryError("query must be an object with and, or, not lists")
    unknown = sorted(set(query) - {"and", "or", "not"})
    if unknown:
        raise QueryError(f"query has unknown keys: {', '.join(unknown)}")
    if not any(query.get(k) for k in ("and", "or", "not")):
        raise QueryError("query has no condition")
    for key in ("and", "or", "not"):
        conditions = query.get(key, [])
        if not isinstance(conditions, list):
            raise QueryError(f"query.{key} must be a list of conditions")
        for condition in conditions:
            _check_condition(condition, key)


def _check_condition(condition: Any, key: str) -> None:
    if not isinstance(condition, dict):
        raise QueryError(f"every condition of query.{key} must be an object")
    operation, field, values = condition.get("operation"), condition.get("field_name"), condition.get("field_values")
    if operation not in OPERATIONS:
        raise QueryError(f"invalid operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    if field not in QUERY_FIELDS:
        raise QueryError(f"invalid field_name {field!r}")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise QueryError(f"field_values of {field} must be a non-empty list of strings")
    if operation != "IN" and len(values) != 1:
        raise QueryError(f"operation {operation} takes exactly one field value, not {len(values)}")
    if field == "video_length" and any(v not in VIDEO_LENGTHS for v in values):
        raise QueryError(f"video_length is one of {', '.join(VIDEO_LENGTHS)}")
    if field == "create_date" and any(not (len(v) == 8 and v.isdigit()) for v in values):
        raise QueryError("create_date values are YYYYMMDD")


def video_length(duration_s: np.ndarray) -> np.ndarray:
    """The API's buckets: SHORT < 15 s, MID 15–60 s, LONG 1–5 min, EXTRA_LONG > 5 min."""
    return np.select([duration_s < 15, duration_s <= 60, duration_s <= 300], ["SHORT", "MID", "LONG"], "EXTRA_LONG")


def matches(table: pd.DataFrame, query: dict[str, Any]) -> np.ndarray:
    """A boolean mask over ``table``'s rows (see :func:`research_table`) of the videos ``query`` selects."""
    n = len(table)
    mask = np.ones(n, dtype=bool)
    for condition in query.get("and", []):
        mask &= _condition(table, condition)
    ors = query.get("or", [])
    if ors:
        mask &= np.logical_or.reduce([_condition(table, c) for c in ors])
    for condition in query.get("not", []):
        mask &= ~_condition(table, condition)
    return mask


def _condition(table: pd.DataFrame, condition: dict[str, Any]) -> np.ndarray:
    field, operation, values = condition["field_name"], condition["operation"], condition["field_values"]
    if field == "hashtag_name":
        wanted = {v.lower().lstrip("#") for v in values}
        return table["hashtags"].map(lambda tags: not wanted.isdisjoint(tags)).to_numpy(dtype=bool)
    if field == "keyword":
        lowered = table["text"]
        return np.logical_or.reduce([lowered.str.contains(v.lower(), regex=False).to_numpy() for v in values])
    if field == "effect_id":
        wanted = set(values)
        return table["effect_ids"].map(lambda ids: not wanted.isdisjoint(ids)).to_numpy(dtype=bool)
    column = table[field]
    if operation in ("EQ", "IN"):
        return column.isin(values).to_numpy()
    value = values[0]
    compare = {"GT": column.gt, "GTE": column.ge, "LT": column.lt, "LTE": column.le}[operation]
    return compare(value).to_numpy()


def research_table(videos: pd.DataFrame, tag_names: list[str], seed: int) -> pd.DataFrame:
    """The world's videos with the columns queries read (built once per world)."""
    created = pd.to_datetime(videos["create_time"], unit="s", utc=True)
    tags = [videos[c].to_numpy() for c in ("tag_1", "tag_2", "tag_3")]
    names = np.asarray(tag_names, dtype=object)
    hashtags = [frozenset(names[t] for t in row if t >= 0) for row in zip(*tags, strict=True)]
    author_row = videos["author_row"].to_numpy()
    region = np.asarray(REGIONS, dtype=object)[(author_row * 7 + seed) % len(REGIONS)]
    effects = [frozenset() if row % 9 else frozenset({str(1_000_000 + row % 97)}) for row in range(len(videos))]
    return pd.DataFrame({
        "video_id": videos["video_id"],
        "username": videos["handle"],
        "region_code": region,
        "create_date": created.dt.strftime("%Y%m%d"),
        "create_time": videos["create_time"].to_numpy(),
        "hashtag_name": "",
        "hashtags": hashtags,
        "text": videos["caption"].str.lower(),
        "keyword": "",
        "music_id": videos["music_id"],
        "effect_id": "",
        "effect_ids": effects,
        "video_length": video_length(videos["duration"].to_numpy(dtype=float)),
    })
