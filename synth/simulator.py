"""Simulated accounts and video metrics, vectorised over whole columns.

Every value of a row comes from uniforms keyed by (seed, the row's id, a stream
number; see :mod:`synth.counters`), so a row's values depend only on the seed, the
preset, its id and its own inputs — never on the other rows of the call.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from core.errors import CurateError
from synth.counters import id_keys, normals, uniforms
from synth.distributions import truncated_exponential_ppf
from synth.planted import content_latent
from synth.presets import METRICS, CopulaEngagement, Preset, RatioEngagement

SIMULATOR_NAME = "viralcurate.synth"
#: bump when the same (seed, preset, id) would give different values
SIMULATOR_VERSION = "2"  # 2: account creation never after the author's earliest observed video

# stream numbers: one independent uniform per (row, stream); never reuse or renumber
S_FOLLOWERS, S_FOLLOWING, S_ACCOUNT_AGE = 1, 2, 3
S_VIDEO_TIME, S_VIDEO_FOLLOWERS = 10, 11
S_ER, S_COMMENT_RATIO, S_SHARE_RATIO, S_SAVE_RATIO, S_LIKE_RATE = 20, 21, 22, 23, 24
S_COPULA = 30  # 30 = followers' score when unknown, 31..35 = the metrics
S_CATEGORY = 40

VIDEO_INPUTS = ("video_id", "author_id", "followers", "account_created_at")
_NS_PER_DAY = 86_400 * 10**9


class SimulationError(CurateError):
    """The simulator was given unusable inputs (missing columns, an unreadable date)."""


DateLike = str | date | datetime | pd.Timestamp | None


def utc_timestamp(value: DateLike, fallback: str) -> pd.Timestamp:
    """``value`` (or ``fallback`` when None) as a UTC timestamp; a SimulationError when it is not a date."""
    try:
        ts = pd.Timestamp(value if value is not None else fallback)
    except (ValueError, TypeError) as exc:
        raise SimulationError(f"not a date: {value!r}") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _utc(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, utc=True).astype("datetime64[us, UTC]")


def _counts(values: np.ndarray) -> np.ndarray:
    return np.rint(values).astype(np.int64)


def simulate_authors(
    author_ids, preset: Preset, seed: int, reference_date: DateLike = None, not_after: pd.Series | None = None
) -> pd.DataFrame:
    """Followers, following and account creation time for each author id (UTC timestamps).

    ``not_after`` (aligned with ``author_ids``; NaT where unknown) is each author's
    earliest observed video: an account is never created after it. Where the draw
    from the reference date would fall later, the account's age is drawn again, with
    the same uniform, as of that video (between the preset's start and the video).
    """
    ids = pd.Series(author_ids, dtype=object).astype(str).reset_index(drop=True)
    keys = id_keys(ids)
    model = preset.authors
    ref = utc_timestamp(reference_date, preset.reference_date)
    start = utc_timestamp(model.account_start, model.account_start)
    span_days = max((ref - start) / pd.Timedelta(days=1), 0.0)
    u_age = uniforms(keys, seed, S_ACCOUNT_AGE)
    age_days = truncated_exponential_ppf(u_age, model.account_age_scale_days, span_days)
    created = ref.value - (age_days * _NS_PER_DAY).astype(np.int64)
    if not_after is not None:
        created = _not_after(created, not_after.reset_index(drop=True), u_age, start, model.account_age_scale_days)
    return pd.DataFrame({
        "author_id": ids,
        "followers": _counts(model.followers.ppf(uniforms(keys, seed, S_FOLLOWERS))),
        "following": _counts(model.following.ppf(uniforms(keys, seed, S_FOLLOWING))),
        "account_created_at": _utc(pd.Series(created).astype("datetime64[ns]")).dt.floor("s"),
    })


def _not_after(created: np.ndarray, first_video: pd.Series, u_age: np.ndarray, start: pd.Timestamp, scale: float) -> np.ndarray:
    """Creation times moved before each author's first video where the first draw fell after it."""
    limit = _utc(first_video).astype("int64").to_numpy() * 1000  # µs → ns; NaT becomes the minimum int64
    known = first_video.notna().to_numpy()
    late = known & (created > limit)
    if not late.any():
        return created
    span = np.maximum((limit[late] - start.value) / _NS_PER_DAY, 0.0)
    age = truncated_exponential_ppf(u_age[late], scale, span)
    out = created.copy()
    out[late] = limit[late] - (age * _NS_PER_DAY).astype(np.int64)
    return out


def simulate_videos(
    videos: pd.DataFrame, preset: Preset, seed: int, reference_date: DateLike = None, planted_signal: bool = False
) -> pd.DataFrame:
    """Plays, likes, comments, shares, saves (and a create time when missing) for each video.

    Input columns: ``video_id, author_id, followers, account_created_at`` and
    optionally ``create_time, category, music_original, duration_s`` and
    ``planted_latent`` (a latent score the caller computed, e.g. the sandbox from
    its media's content: where given, planted mode uses it instead of category,
    sound and duration). Output:
    ``video_id, plays, likes, comments, shares, saves, create_time, latent_score``
    (NaN unless ``planted_signal``), plus ``followers`` (those the metrics were
    drawn for; drawn from the preset when unknown), ``category`` and
    ``category_simulated`` (planted mode draws a category where none is known).
    """
    missing = [c for c in VIDEO_INPUTS if c not in videos.columns]
    if missing:
        raise SimulationError(f"simulate_videos needs the columns {', '.join(missing)}")
    frame = videos.reset_index(drop=True)
    keys = id_keys(frame["video_id"])
    ref = utc_timestamp(reference_date, preset.reference_date)
    followers = _followers(frame, keys, preset, seed)
    latent, category, drawn = _latent(frame, keys, preset, seed, planted_signal)
    shift = preset.planted.strength * latent if planted_signal else np.zeros(len(frame))
    metrics = _engagement(preset, keys, seed, followers, shift)
    out = pd.DataFrame({"video_id": frame["video_id"].astype(str)})
    for name in METRICS:
        out[name] = _counts(metrics[name])
    out["create_time"] = _create_times(frame, keys, preset, seed, ref)
    out["latent_score"] = latent if planted_signal else np.nan
    out["followers"] = _counts(followers)
    out["category"] = category
    out["category_simulated"] = drawn
    return out


def _followers(frame: pd.DataFrame, keys: np.ndarray, preset: Preset, seed: int) -> np.ndarray:
    known = pd.to_numeric(frame["followers"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    drawn = preset.authors.followers.ppf(uniforms(keys, seed, S_VIDEO_FOLLOWERS))
    return np.where(np.isnan(known), np.rint(drawn), known)


def _create_times(frame: pd.DataFrame, keys: np.ndarray, preset: Preset, seed: int, ref: pd.Timestamp) -> pd.Series:
    start = utc_timestamp(preset.authors.account_start, preset.authors.account_start)
    created = _utc(frame["account_created_at"]).fillna(start.as_unit("us"))
    created_ns = np.minimum(created.astype("int64").to_numpy() * 1000, ref.value)
    drawn_ns = created_ns + (uniforms(keys, seed, S_VIDEO_TIME) * (ref.value - created_ns)).astype(np.int64)
    drawn = _utc(pd.Series(drawn_ns).astype("datetime64[ns]")).dt.floor("s")
    if "create_time" not in frame.columns:
        return drawn
    return _utc(frame["create_time"]).fillna(drawn)


def _latent(frame: pd.DataFrame, keys: np.ndarray, preset: Preset, seed: int, planted: bool):
    given = frame["category"] if "category" in frame.columns else pd.Series([None] * len(frame), dtype=object)
    given = given.astype(object).where(given.notna(), None)
    if not planted:
        return np.zeros(len(frame)), given.to_numpy(dtype=object), np.zeros(len(frame), dtype=bool)
    latent, category, drawn = content_latent(frame, given, uniforms(keys, seed, S_CATEGORY), preset.planted)
    if "planted_latent" in frame.columns:
        supplied = pd.to_numeric(frame["planted_latent"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        latent = np.where(np.isnan(supplied), latent, supplied)
    return latent, category, drawn


def _engagement(preset: Preset, keys: np.ndarray, seed: int, followers: np.ndarray, shift: np.ndarray) -> dict:
    if isinstance(preset.engagement, RatioEngagement):
        return _ratio_engagement(preset.engagement, keys, seed, followers, shift)
    return _copula_engagement(preset, preset.engagement, keys, seed, followers, shift)


def _ratio_engagement(model: RatioEngagement, keys, seed, followers, shift) -> dict:
    # annex A.2: interactions = followers × ER; likes take the rest after comments and shares
    er = model.engagement_rate_pct.from_normal(normals(keys, seed, S_ER) + shift)
    c = model.comment_ratio.ppf(uniforms(keys, seed, S_COMMENT_RATIO))
    s = model.share_ratio.ppf(uniforms(keys, seed, S_SHARE_RATIO))
    likes = followers * er / 100 / (1 + c + s)
    plays = likes / model.like_rate.ppf(uniforms(keys, seed, S_LIKE_RATE))
    saves = likes * model.save_ratio.ppf(uniforms(keys, seed, S_SAVE_RATIO))
    return {"plays": np.maximum(plays, likes), "likes": likes, "comments": likes * c, "shares": likes * s, "saves": saves}


def _copula_engagement(preset: Preset, model: CopulaEngagement, keys, seed, followers, shift) -> dict:
    # Gaussian copula conditioned on the followers' normal score: z_m | z_f ~ N(Σ_mf z_f, Σ_mm − Σ_mf Σ_fm)
    sigma = model.matrix()
    cross, inner = sigma[1:, 0], sigma[1:, 1:]
    chol = np.linalg.cholesky(inner - np.outer(cross, cross))
    z_f = preset.authors.followers.normal_score(followers)
    z_f = np.where(np.isnan(z_f), normals(keys, seed, S_COPULA), z_f)
    noise = [normals(keys, seed, S_COPULA + 1 + i) for i in range(len(METRICS))]
    values = {}
    for i, name in enumerate(METRICS):  # column by column (chol is lower-triangular): no n×5 temporaries
        z = cross[i] * z_f + shift
        for j in range(i + 1):
            z += chol[i, j] * noise[j]
        values[name] = getattr(model, name).from_normal(z)
    values["plays"] = np.maximum(values["plays"], values["likes"])
    return values
