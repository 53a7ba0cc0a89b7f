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


def scrub_text(text: pd.Series, handles: pd.Series) -> pd.Series:
    """@mentions → ``@user``; the row's own handle (any case) → ``user``."""
    cleaned = text.astype(object).where(text.notna(), None).str.replace(MENTION, "@user", regex=True)
    known = cleaned.notna() & handles.notna() & (handles.astype(str).str.len() >= MIN_HANDLE_CHARS)
    if not known.any():
        return cleaned
    body = np.array(cleaned[known].tolist(), dtype=np.dtypes.StringDType())
    own = np.array(handles[known].astype(str).str.lower().tolist(), dtype=np.dtypes.StringDType())
    body = np.strings.replace(body, own, "user")
    # a handle written in another case is rare: only those rows take a case-insensitive pass
    lower = np.strings.lower(body)
    residual = np.strings.find(lower, own) >= 0
    if residual.any():
        body = body.astype(object)
        for i in np.flatnonzero(residual):
            body[i] = re.sub(re.escape(str(own[i])), "user", str(body[i]), flags=re.IGNORECASE)
    cleaned.loc[known] = list(body)
    return cleaned


def scrub_music_titles(titles: pd.Series, original: pd.Series, handles: pd.Series) -> pd.Series:
    """Drops the creator's name from "original sound - NAME" titles of original music, then scrubs handles."""
    titles = titles.astype(object).where(titles.notna(), None)
    is_original = original.astype("boolean").fillna(False).to_numpy(dtype=bool)
    stripped = titles.str.replace(r"\s+-\s+.*$", "", regex=True)
    return scrub_text(titles.where(~is_original, stripped), handles)


def scrub_hashtags(hashtags: pd.Series, handles: pd.Series) -> pa.Array:
    """Hashtag lists with any tag equal to the row's own handle replaced by ``user``."""
    lists = pa.array([h if isinstance(h, list) else None for h in hashtags], type=pa.list_(pa.string()))
    own = pa.array(handles.astype(object).where(handles.notna(), None).tolist(), type=pa.string())
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    same = pc.fill_null(pc.equal(pc.utf8_lower(flat), pc.utf8_lower(pc.take(own, parents))), False)
    fixed = pc.if_else(same, pa.scalar("user"), flat)
    return pa.ListArray.from_arrays(lists.offsets, fixed, mask=lists.is_null())


def relative_media_paths(paths: pd.Series, home: Path) -> pd.Series:
    """Paths under ``home`` made relative to it; relative paths kept; None stays None."""
    prefix = str(Path(home).resolve()).rstrip("/") + "/"
    paths = paths.astype(object).where(paths.notna(), None)
    inside = paths.str.startswith(prefix).fillna(False).astype(bool)
    return paths.where(~inside, paths.str.slice(len(prefix)))


def probe_facts(probes: pd.Series) -> pd.DataFrame:
    """fps, frames, has_audio, width, height, duration_s from the probe dicts (NaN/None where absent)."""
    facts = pd.DataFrame.from_records([p if isinstance(p, dict) else {} for p in probes], index=probes.index)
    wanted = {"fps": "float64", "frames": "Int64", "width": "Int64", "height": "Int64", "duration_s": "float64"}
    out = pd.DataFrame(index=probes.index)
    for column, dtype in wanted.items():
        values = pd.to_numeric(facts[column], errors="coerce") if column in facts else pd.Series(np.nan, index=probes.index)
        out[column] = values.round().astype(dtype) if dtype == "Int64" else values.astype(dtype)
    out["has_audio"] = facts["has_audio"].astype("boolean") if "has_audio" in facts else pd.array([pd.NA] * len(probes), dtype="boolean")
    return out


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
