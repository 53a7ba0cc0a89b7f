"""Training features: what a video offers before it is posted, what extractors found in it, and the leakage guard.

Every label the project computes is an engagement label: it is made of plays,
likes, comments and shares. Features computed from those same counts (the counts,
their per-follower ratios, ER, the author's totals that include the video, the other
labels) predict the label trivially — seed 000's AUC of 0.976 came from them — so
they are refused unless ``allow_leakage`` is set, and then every report says so.
``latent_score`` (the planted truth of a simulated snapshot) is never a feature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import CurateError
from modeling.extractors.category import CATEGORIES

#: target → task; all of them are computed from the engagement counts
TARGETS = {
    "viral_er": "classification",
    "viral_all_median": "classification",
    "virality_weighted": "regression",
    "virality_corr": "regression",
    "er": "regression",
}
#: labels over time (labeling/trajectory.py; their ages and metrics are the snapshot's): ``viral_growth`` is binary,
#: ``<metric>_at_<age>`` and ``growth_<metric>_<a>_<b>`` continuous; all made of engagement counts too
_AGE = r"\d+(?:\.\d+)?[mhdw]"
_METRIC = r"(?:plays|likes|comments|shares|saves)"
TRAJECTORY_TARGETS = {
    re.compile(r"^viral_growth$"): "classification",
    re.compile(rf"^{_METRIC}_at_{_AGE}$"): "regression",
    re.compile(rf"^growth_{_METRIC}_{_AGE}_{_AGE}$"): "regression",
}
TRAJECTORY_FORMS = "viral_growth, <metric>_at_<age> (plays_at_24h), growth_<metric>_<a>_<b> (growth_plays_24h_7d)"
LABEL_INPUTS = ("plays", "likes", "comments", "shares", "saves")
COUNTS = LABEL_INPUTS
RATIOS = tuple(f"{c}_per_follower" for c in LABEL_INPUTS)
AUTHOR_TOTALS = ("author_hearts", "author_video_count")
#: groups of features computed from a label's inputs, by name
LEAKY_GROUPS = {
    "engagement": (*COUNTS, *RATIOS, "er"),
    "author_totals": AUTHOR_TOTALS,
    "labels": tuple(TARGETS),
}
NEVER = ("latent_score",)
TABULAR = "tabular"
#: caption, hashtags, on-screen text and transcript through TF-IDF fitted on train (modeling/words.py)
WORDS = "words"


class FeatureError(CurateError):
    """A feature or target that cannot be used, or leakage refused."""


@dataclass(frozen=True)
class FeaturePlan:
    """What a run trains on: the tabular set, leaky columns (when allowed), extractors, and the warnings that go with them."""

    target: str
    task: str
    tabular: bool
    leaky: tuple[str, ...]
    extractors: tuple[str, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    words: bool = False

    @property
    def groups(self) -> list[str]:
        """The requested names, normalised."""
        return [*([TABULAR] if self.tabular else []), *self.leaky, *self.extractors, *([WORDS] if self.words else [])]


def task_of(target: str) -> str | None:
    """``classification`` or ``regression`` for a target the project computes (trajectory ones included), else None."""
    if target in TARGETS:
        return TARGETS[target]
    return next((task for pattern, task in TRAJECTORY_TARGETS.items() if pattern.match(target)), None)


def plan_features(target: str, requested: Iterable[str], extractor_names: Iterable[str], allow_leakage: bool = False) -> FeaturePlan:
    """Checks the target and the requested features; refuses leakage unless allowed."""
    task = task_of(target)
    if task is None:
        raise FeatureError(f"unknown target {target!r} (have: {', '.join(TARGETS)}; over time: {TRAJECTORY_FORMS})")
    names = [n.strip() for n in requested if n.strip()]
    if not names:
        raise FeatureError("no features requested (e.g. --features tabular,r2plus1d)")
    if never := [n for n in names if n in NEVER]:
        raise FeatureError(f"{', '.join(never)} is the simulator's hidden truth and is never a feature (not even with --allow-leakage)")
    leaky = _expand_leaky(names, target)
    known = {TABULAR, WORDS, *LEAKY_GROUPS, *(c for group in LEAKY_GROUPS.values() for c in group), *extractor_names}
    if unknown := [n for n in names if n not in known]:
        raise FeatureError(f"unknown feature(s) {', '.join(unknown)} (have: tabular, words, {', '.join(extractor_names)}; leaky: {', '.join(LEAKY_GROUPS)})")
    warnings = _leakage_verdict(target, leaky, allow_leakage)
    extractors = tuple(n for n in dict.fromkeys(names) if n in set(extractor_names))
    return FeaturePlan(target, task, TABULAR in names, leaky, extractors, warnings, WORDS in names)


def _expand_leaky(names: list[str], target: str) -> tuple[str, ...]:
    columns = []
    for name in names:
        columns += LEAKY_GROUPS.get(name, (name,) if any(name in g for g in LEAKY_GROUPS.values()) else ())
    # the target itself is never an input to itself
    return tuple(c for c in dict.fromkeys(columns) if c != target)


def _leakage_verdict(target: str, leaky: tuple[str, ...], allow: bool) -> tuple[str, ...]:
    if not leaky:
        return ()
    names = ", ".join(leaky)
    if not allow:
        raise FeatureError(
            f"{target} is computed from {', '.join(LABEL_INPUTS[:4])}; the features {names} are computed from the same inputs "
            "(leakage: seed 000's AUC of 0.976 came from them). Drop them, or pass --allow-leakage to reproduce that setup"
        )
    return (f"LEAKAGE: {names} are computed from the inputs of {target}; these metrics do not measure predicting virality before posting (--allow-leakage)",)


def tabular_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Pre-posting features of each video, vectorised; NaN where the snapshot has no value (imputed later on train medians)."""
    out = pd.DataFrame(index=frame.index)
    out["log_followers"] = np.log1p(_num(frame, "followers"))
    out["log_following"] = np.log1p(_num(frame, "following"))
    created, account = _time(frame, "create_time"), _time(frame, "account_created_at")
    out["account_age_days"] = (created - account).dt.total_seconds() / 86_400
    hour = created.dt.hour + created.dt.minute / 60
    out["post_hour_sin"], out["post_hour_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    weekday = created.dt.day_of_week
    for day in range(7):
        out[f"post_weekday_{day}"] = (weekday == day).astype(float).where(weekday.notna())
    for column in ("duration_s", "fps", "width", "height"):
        out[column] = _num(frame, column)
    out["caption_length"] = frame["caption"].astype("string").str.len().astype(float) if "caption" in frame else np.nan
    out["hashtag_count"] = _list_lengths(frame["hashtags"]) if "hashtags" in frame else np.nan
    out["music_original"] = _num(frame, "music_original")
    out["has_audio"] = _num(frame, "has_audio")
    return pd.concat([out, _category_one_hot(frame)], axis=1)


def leaky_features(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The requested leaky columns: counts as log1p, per-follower ratios, ER, author totals, other labels."""
    followers = _num(frame, "followers").where(lambda f: f > 0)
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        if column in RATIOS:
            out[column] = _num(frame, column.removesuffix("_per_follower")) / followers
        elif column in COUNTS or column in AUTHOR_TOTALS:
            out[f"log_{column}"] = np.log1p(_num(frame, column))
        else:
            out[column] = _num(frame, column)
    return out


def target_values(frame: pd.DataFrame, target: str) -> pd.Series:
    """The target column as floats (NaN where undefined, e.g. ER of an author with no followers, or a video observed
    on one side of an age only)."""
    if target not in frame:
        available = [c for c in frame.columns if task_of(str(c)) is not None]
        raise FeatureError(f"the snapshot has no {target} column; the targets it has: {', '.join(available) or 'none'}")
    column = frame[target]
    if column.dtype == object or str(column.dtype) == "boolean":
        column = column.astype("Float64")  # a nullable flag (viral_growth): null stays NaN
    values = pd.to_numeric(column, errors="coerce").astype(float)
    if target == "er" and "er_defined" in frame:
        values = values.where(frame["er_defined"].fillna(False).astype(bool))
    return values


def _category_one_hot(frame: pd.DataFrame) -> pd.DataFrame:
    category = frame["category"].astype("string").str.lower() if "category" in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    known = category.isin(CATEGORIES).fillna(False).astype(bool)
    hot = {f"category_{c}": (category == c).fillna(False).astype(float) for c in CATEGORIES}
    hot["category_missing"] = (~known).astype(float)
    return pd.DataFrame(hot, index=frame.index)


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _time(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    return pd.to_datetime(frame[column], utc=True, errors="coerce")


def _list_lengths(column: pd.Series) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = pc.list_value_length(pa.array(column.tolist(), type=pa.list_(pa.string())))
    return pd.Series(lengths.to_numpy(zero_copy_only=False), index=column.index).astype(float)
