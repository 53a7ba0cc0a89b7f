"""Planted signal: a known latent score computed from a video's content attributes.

The score is what a perfect content model could know; it shifts the video's
engagement, and it is stored so that a trained model's AUC can be compared with
the best one achievable. It is never a model feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth.presets import PlantedSignal


def content_latent(
    frame: pd.DataFrame, given: pd.Series, u_category: np.ndarray, planted: PlantedSignal
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latent score, category per row, whether the category was drawn) for each row."""
    categories = np.asarray(planted.categories, dtype=object)
    cumulative = np.cumsum(planted.category_probs) / np.sum(planted.category_probs)
    drawn = given.isna().to_numpy()
    sampled = categories[np.minimum(np.searchsorted(cumulative, u_category, side="right"), len(categories) - 1)]
    category = np.where(drawn, sampled, given.to_numpy(dtype=object))
    effects = pd.Series(planted.category_effects, index=planted.categories)
    # a category outside the preset's list is neutral rather than an error: real catalogs have their own labels
    latent = (
        pd.Series(category).map(effects).fillna(0.0).to_numpy(dtype=np.float64)
        + planted.trending_sound_effect * _is_false(frame, "music_original")
        + planted.duration_effect * _duration_penalty(frame, planted.duration_peak_s)
    )
    return latent, category, drawn


def _is_false(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame))
    values = frame[column].astype("boolean")
    return (~values).fillna(False).to_numpy(dtype=np.float64)


def _duration_penalty(frame: pd.DataFrame, peak: float) -> np.ndarray:
    if "duration_s" not in frame.columns:
        return np.zeros(len(frame))
    duration = pd.to_numeric(frame["duration_s"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        penalty = np.log(duration / peak) ** 2
    return np.where(np.isfinite(penalty), penalty, 0.0)
