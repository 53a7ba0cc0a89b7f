"""Fitting a preset to observed videos: log-normal marginals and their Gaussian-copula correlation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from core.errors import CurateError
from synth.distributions import Marginal
from synth.presets import COPULA_VARIABLES, METRICS, VIRAL_VISION, AuthorModel, CopulaEngagement, Preset

#: fewer positive values than this and a marginal is taken from the base preset instead
MIN_ROWS = 20


class CalibrationError(CurateError):
    """There are too few observed videos to fit a preset."""


def calibrate(observed: pd.DataFrame, base: Preset = VIRAL_VISION, min_rows: int = MIN_ROWS) -> Preset:
    """A preset whose marginals and copula correlation are fitted to ``observed``.

    ``observed`` has the columns plays, likes, comments, shares, saves and
    followers (following and account_created_at are used when present). A
    variable with fewer than ``min_rows`` positive values keeps ``base``'s marginal,
    and its correlations come from ``base`` too; the description says which.
    """
    complete = observed.dropna(subset=["plays", "likes"]) if {"plays", "likes"} <= set(observed.columns) else observed[:0]
    if len(complete) < min_rows:
        raise CalibrationError(f"calibration needs at least {min_rows} videos with observed plays and likes; found {len(complete)}")
    columns = {name: _column(observed, name) for name in (*COPULA_VARIABLES, "following")}
    fitted, kept = {}, []
    for name, values in columns.items():
        fitted[name] = fit_marginal(values, min_rows)
        if fitted[name] is None:
            kept.append(name)
    authors = _author_model(base.authors, fitted, observed)
    engagement = CopulaEngagement(
        **{m: fitted[m] or getattr(_base_copula(base), m) for m in METRICS},
        correlation=_as_tuple(copula_correlation(pd.DataFrame(columns), _base_copula(base).matrix(), min_rows)),
    )
    note = f"; kept from {base.name}: {', '.join(kept)}" if kept else ""
    return Preset(name="calibrated", description=f"fitted to {len(complete)} observed videos{note}",
                  authors=authors, engagement=engagement, planted=base.planted, reference_date=base.reference_date)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def fit_marginal(values: np.ndarray, min_rows: int = MIN_ROWS) -> Marginal | None:
    """The maximum-likelihood log-normal of the positive values, with the share of zeros; None when too few."""
    known = values[~np.isnan(values)]
    positive = known[known > 0]
    if len(positive) < min_rows:
        return None
    from scipy import stats  # a second to import: only when calibrating

    sigma, _, scale = stats.lognorm.fit(positive, floc=0)
    return Marginal.lognormal(float(scale), max(float(sigma), 1e-3), zero_frac=float(np.mean(known <= 0)))


def _author_model(base: AuthorModel, fitted: dict, observed: pd.DataFrame) -> AuthorModel:
    scale = base.account_age_scale_days
    if "account_created_at" in observed.columns:
        created = pd.to_datetime(observed["account_created_at"], utc=True).dropna()
        if len(created) >= MIN_ROWS:
            ages = ((created.max() - created) / pd.Timedelta(days=1)).to_numpy()
            from scipy import stats

            scale = max(float(stats.expon.fit(ages, floc=0)[1]), 1.0)
    return AuthorModel(followers=fitted["followers"] or base.followers, following=fitted["following"] or base.following,
                       account_start=base.account_start, account_age_scale_days=scale)


def copula_correlation(columns: pd.DataFrame, fallback: np.ndarray, min_rows: int = MIN_ROWS) -> np.ndarray:
    """The correlation of the normal scores of COPULA_VARIABLES, pairwise; gaps filled from ``fallback``."""
    ranks = columns[list(COPULA_VARIABLES)].rank(na_option="keep")
    scores = ndtri(ranks / (ranks.count() + 1))
    corr = scores.corr(min_periods=min_rows).to_numpy()
    corr = np.where(np.isnan(corr), fallback, corr)
    return nearest_correlation(corr)


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """A valid (positive-definite, unit-diagonal) correlation matrix close to ``matrix``."""
    sym = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(sym)
    fixed = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def _base_copula(base: Preset) -> CopulaEngagement:
    if isinstance(base.engagement, CopulaEngagement):
        return base.engagement
    return VIRAL_VISION.engagement  # type: ignore[return-value]


def _as_tuple(matrix: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(round(float(v), 6) for v in row) for row in matrix)
