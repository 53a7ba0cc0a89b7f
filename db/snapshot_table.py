"""The rows of a snapshot: the catalog's analysis frame, pseudonymised and scrubbed, in the contract's schema.

No raw author id or handle leaves here: authors become a keyed hash
(HMAC-SHA256 with the catalog's secret), @mentions in captions become ``@user``,
the author's own handle is replaced in captions, hashtags and music titles, and
"original sound - NAME" music titles lose the name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: hex characters kept of the HMAC (64 bits: collisions need ~4 billion authors)
AUTHOR_KEY_CHARS = 16
MENTION = r"@[\w.]+"
#: shorter handles are not replaced inside free text, where they would match ordinary words
MIN_HANDLE_CHARS = 3
COUNTS = ("plays", "likes", "comments", "shares", "saves", "followers", "following", "author_hearts", "author_video_count")
UTC_US = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema([
    ("video_id", pa.string()), ("author_key", pa.string()), ("split", pa.string()), ("provenance", pa.string()),
    *((c, pa.int64()) for c in COUNTS),
    ("author_stats_provenance", pa.string()),
    ("account_created_at", UTC_US), ("create_time", UTC_US),
    ("duration_s", pa.float64()), ("fps", pa.float64()), ("width", pa.int64()), ("height", pa.int64()),
    ("frames", pa.int64()), ("has_audio", pa.bool_()),
    ("caption", pa.string()), ("hashtags", pa.list_(pa.string())),
    ("music_id", pa.string()), ("music_title", pa.string()), ("music_original", pa.bool_()),
    ("category", pa.string()), ("category_provenance", pa.string()),
    ("media_sha256", pa.string()), ("media_path", pa.string()),
    ("er", pa.float64()), ("er_defined", pa.bool_()), ("viral_er", pa.bool_()), ("virality_weighted", pa.float64()),
    ("viral_all_median", pa.bool_()), ("virality_corr", pa.float64()),
    ("latent_score", pa.float64()),
])


def author_keys(author_ids: pd.Series, secret: str) -> pd.Series:
    """HMAC-SHA256(secret, author id), truncated hex; None stays None.

    Hashed once per distinct author (a keyed hash has no vectorised form here;
    the distinct ids are far fewer than the rows).
    """
    ids = author_ids.astype(object).where(author_ids.notna(), None)
    distinct = pd.unique(ids.dropna())
    base = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    keys = {}
    for author in distinct:  # per author, not per row
        h = base.copy()
        h.update(str(author).encode())
        keys[author] = h.hexdigest()[:AUTHOR_KEY_CHARS]
    return ids.map(keys).astype(object)


def _strings(values: pd.Series | pa.Array) -> pa.Array:
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), type=pa.string())


def scrub_text(text: pd.Series | pa.Array, handles: pd.Series) -> pa.Array:
    """@mentions → ``@user``; the row's own handle (any case) → ``user``. Vectorised (Arrow's RE2, numpy strings)."""
    cleaned = pc.replace_substring_regex(_strings(text), MENTION, "@user")
    own = _strings(handles)
    known = pc.fill_null(pc.and_(pc.is_valid(cleaned), pc.greater_equal(pc.utf8_length(own), MIN_HANDLE_CHARS)), False)
    rows = np.flatnonzero(known.to_numpy(zero_copy_only=False))
    if not rows.size:
        return cleaned
    body = np.array(cleaned.take(rows).to_pylist(), dtype=np.dtypes.StringDType())
    handle = np.strings.lower(np.array(own.take(rows).to_pylist(), dtype=np.dtypes.StringDType()))
    hits = np.flatnonzero(np.strings.find(np.strings.lower(body), handle) >= 0)
    if not hits.size:
        return cleaned
    # few captions name their own author: those alone take a case-insensitive replacement
    fixed = [re.sub(re.escape(str(h)), "user", str(b), flags=re.IGNORECASE) for b, h in zip(body[hits], handle[hits], strict=True)]
    values = np.array(cleaned.to_pylist(), dtype=object)
    values[rows[hits]] = fixed
    return pa.array(values, type=pa.string())


def scrub_music_titles(titles: pd.Series, original: pd.Series, handles: pd.Series) -> pa.Array:
    """Drops the creator's name from "original sound - NAME" titles of original music, then scrubs handles."""
    raw = _strings(titles)
    is_original = pa.array(original.astype("boolean").fillna(False).to_numpy(dtype=bool))
    stripped = pc.if_else(is_original, pc.replace_substring_regex(raw, r"\s+-\s+.*$", ""), raw)
    return scrub_text(stripped, handles)


def scrub_hashtags(hashtags: pd.Series, handles: pd.Series) -> pa.Array:
    """Hashtag lists with any tag equal to the row's own handle replaced by ``user``."""
    lists = pa.array([h if isinstance(h, list) else None for h in hashtags], type=pa.list_(pa.string()))
    own = pa.array(handles.astype(object).where(handles.notna(), None).tolist(), type=pa.string())
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    same = pc.fill_null(pc.equal(pc.utf8_lower(flat), pc.utf8_lower(pc.take(own, parents))), False)
    fixed = pc.if_else(same, pa.scalar("user"), flat)
    return pa.ListArray.from_arrays(lists.offsets, fixed, mask=lists.is_null())


def relative_media_paths(paths: pd.Series, home: Path) -> pa.Array:
    """Paths under ``home`` made relative to it; relative paths kept; None stays None."""
    prefix = str(Path(home).resolve()).rstrip("/") + "/"
    raw = _strings(paths)
    inside = pc.fill_null(pc.starts_with(raw, prefix), False)
    return pc.if_else(inside, pc.utf8_slice_codeunits(raw, len(prefix)), raw)


def probe_facts(probes: pd.Series) -> pd.DataFrame:
    """fps, frames, has_audio, width, height, duration_s from the probe dicts (NaN/None where absent)."""
    facts = _probe_records(probes)
    wanted = {"fps": "float64", "frames": "Int64", "width": "Int64", "height": "Int64", "duration_s": "float64"}
    out = pd.DataFrame(index=probes.index)
    for column, dtype in wanted.items():
        values = pd.to_numeric(facts[column], errors="coerce") if column in facts else pd.Series(np.nan, index=probes.index)
        out[column] = values.round().astype(dtype) if dtype == "Int64" else values.astype(dtype)
    out["has_audio"] = facts["has_audio"].astype("boolean") if "has_audio" in facts else pd.array([pd.NA] * len(probes), dtype="boolean")
    return _as_displayed(out, facts)


def _as_displayed(out: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    # a stream coded landscape with a 90° display matrix is shown portrait: keep what viewers see
    if "rotation" not in facts:
        return out
    turned = (pd.to_numeric(facts["rotation"], errors="coerce").abs() % 180 == 90).to_numpy()
    out.loc[turned, ["width", "height"]] = out.loc[turned, ["height", "width"]].to_numpy()
    return out


def _probe_records(probes: pd.Series) -> pd.DataFrame:
    dicts = [p if isinstance(p, dict) else None for p in probes]
    try:  # Arrow infers one struct type for all the dicts, in C++
        return pa.Table.from_struct_array(pa.array(dicts)).to_pandas().set_axis(probes.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):  # no dicts, or mixed types: the tolerant way
        return pd.DataFrame.from_records([d or {} for d in dicts], index=probes.index)


def build_table(frame: pd.DataFrame, labels: pd.DataFrame, split: pd.Series, secret: str, home: Path) -> pa.Table:
    """The snapshot's Arrow table (schema :data:`SCHEMA`) from the analysis frame, its labels and splits."""
    handles = frame["author_handle"]
    probe = probe_facts(frame["probe"])
    columns = {
        "video_id": frame["video_id"].astype(str), "author_key": author_keys(frame["author_id"], secret),
        "split": split.to_numpy(), "provenance": frame["provenance"],
        **{c: frame[c] for c in COUNTS}, "author_stats_provenance": frame["stats_provenance"],
        "account_created_at": frame["account_created_at"], "create_time": frame["create_time"],
        "duration_s": frame["duration_s"].fillna(probe["duration_s"]), "fps": probe["fps"],
        "width": frame["width"].fillna(probe["width"]), "height": frame["height"].fillna(probe["height"]),
        "frames": probe["frames"], "has_audio": probe["has_audio"],
        "caption": scrub_text(frame["caption"], handles), "hashtags": scrub_hashtags(frame["hashtags"], handles),
        "music_id": frame["music_id"], "music_title": scrub_music_titles(frame["music_title"], frame["music_original"], handles),
        "music_original": frame["music_original"], "category": frame["category"],
        "category_provenance": frame["category_provenance"], "media_sha256": frame["media_sha256"],
        "media_path": relative_media_paths(frame["media_path"], home),
        **{c: labels[c] for c in labels.columns}, "latent_score": frame["latent_score"],
    }
    arrays = [_arrow(columns[f.name], f.type) for f in SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _arrow(values, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array):
        return values.cast(kind)
    series = pd.Series(values).reset_index(drop=True)
    if pa.types.is_string(kind):
        series = series.astype(object).where(series.notna(), None)
    return pa.Array.from_pandas(series, type=kind)
