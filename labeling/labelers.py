"""The virality labels of the source studies, each a fit/apply pair over whole columns.

``fit(frame)`` learns a label's parameters (thresholds, medians, IQRs, min/max,
correlations) from one population and returns them as a JSON-able dict;
``apply(frame, params)`` computes the label for any rows with those parameters.
Fitting on the train split and applying everywhere keeps val/test out of the
thresholds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.errors import CurateError

WEIGHTED_METRICS = ("comments", "likes", "plays", "shares")
ER_INPUTS = ("likes", "comments", "shares")


class LabelError(CurateError):
    """A label cannot be fitted on the population given (e.g. no row with followers)."""


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One column as float64 with NaN for missing values (nullable Int64 included); no copy when already float."""
    values = frame[name]
    if values.dtype == np.float64:
        return values.to_numpy()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_view(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The columns the labels read, converted to float64 once (the labelers then read them without copies)."""
    return pd.DataFrame({n: column(frame, n) for n in names if n in frame.columns}, index=frame.index)


def _nullable_bool(values: np.ndarray, defined: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool) & defined, ~defined)


class EngagementRateLabeler:
    """Seed 000: ER = (likes + comments + shares) / followers × 100, and viral_er = ER ≥ its q-th percentile."""

    name = "er"
    columns = ("er", "er_defined", "viral_er")

    def __init__(self, percentile: float = 75.0) -> None:
        if not 0 < percentile < 100:
            raise LabelError(f"the ER percentile must lie strictly between 0 and 100, not {percentile}")
        self.percentile = float(percentile)

    def definition(self) -> str:
        """The label in words, for the manifest."""
        return (f"er = (likes + comments + shares) / followers * 100, undefined (NaN, er_defined=false) when "
                f"followers is 0 or a count is missing; viral_er = er >= P{self.percentile:g} of er over the fit rows")

    @staticmethod
    def engagement_rate(frame: pd.DataFrame) -> np.ndarray:
        """ER per row; NaN where followers is 0 or missing or a count is missing (never infinite)."""
        followers = column(frame, "followers")
        with np.errstate(divide="ignore", invalid="ignore"):
            er = (column(frame, "likes") + column(frame, "comments") + column(frame, "shares")) / followers * 100.0
        return np.where(followers > 0, er, np.nan)

    def fit(self, frame: pd.DataFrame) -> dict[str, Any]:
        """The ER threshold at the configured percentile of the rows whose ER is defined."""
        er = self.engagement_rate(frame)
        defined = er[~np.isnan(er)]
        if defined.size == 0:
            raise LabelError("cannot fit the ER threshold (viral_er): no row of the fit population has followers > 0 "
                             "and likes, comments and shares")
        return {"percentile": self.percentile, "threshold": float(np.percentile(defined, self.percentile)),
                "fit_rows": int(defined.size)}

    def apply(self, frame: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
        """Columns er, er_defined and viral_er (null where ER is undefined)."""
        er = self.engagement_rate(frame)
        defined = ~np.isnan(er)
        return pd.DataFrame({"er": er, "er_defined": defined,
                             "viral_er": _nullable_bool(er >= params["threshold"], defined)}, index=frame.index)


class WeightedViralityLabeler:
    """Seed 001: log1p of the four counts, robust-scaled (median, IQR), weighted, min-max to [0, 1]."""

    name = "virality_weighted"
    columns = ("virality_weighted",)

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = dict(weights or {"comments": 0.1, "likes": 0.4, "plays": 0.3, "shares": 0.2})
        if set(self.weights) != set(WEIGHTED_METRICS):
            raise LabelError(f"weights must name exactly {', '.join(WEIGHTED_METRICS)}")

    def definition(self) -> str:
        """The label in words, for the manifest."""
        terms = " + ".join(f"{self.weights[m]:g}*{m}" for m in WEIGHTED_METRICS)
        return (f"virality_weighted = minmax({terms}) over log1p counts robust-scaled by the fit rows' median and IQR; "
                "min and max are the fit rows', values outside are clipped to [0, 1]")

    @staticmethod
    def _logs(frame: pd.DataFrame) -> list[np.ndarray]:
        return [np.log1p(np.maximum(column(frame, m), 0)) for m in WEIGHTED_METRICS]

    def _raw(self, logs: list[np.ndarray], center: np.ndarray, scale: np.ndarray) -> np.ndarray:
        # column by column: no n×4 temporaries
        raw = np.zeros(len(logs[0]))
        for i, m in enumerate(WEIGHTED_METRICS):
            raw += (logs[i] - center[i]) * (self.weights[m] / scale[i])
        return raw

    def fit(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Medians and IQRs of the log counts (scikit-learn's RobustScaler), then min and max of the raw score."""
        logs = self._logs(frame)
        known = ~np.logical_or.reduce([np.isnan(v) for v in logs])
        if not known.any():
            absent = [m for m, v in zip(WEIGHTED_METRICS, logs, strict=True) if np.isnan(v).all()]
            which = f"{', '.join(absent)} missing on every row" if absent else "no row has all four counts"
            raise LabelError(f"cannot fit virality_weighted: it needs comments, likes, plays and shares; {which} of the fit population")
        complete = [v[known] for v in logs] if not known.all() else logs
        from sklearn.preprocessing import RobustScaler  # imported on use: it costs a second at start-up

        scaler = RobustScaler(quantile_range=(25.0, 75.0)).fit(np.column_stack(complete))
        raw = self._raw(complete, scaler.center_, scaler.scale_)
        return {"weights": self.weights, "center": dict(zip(WEIGHTED_METRICS, scaler.center_.tolist(), strict=True)),
                "scale": dict(zip(WEIGHTED_METRICS, scaler.scale_.tolist(), strict=True)),
                "min": float(raw.min()), "max": float(raw.max()), "fit_rows": int(known.sum())}

    def apply(self, frame: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
        """Column virality_weighted in [0, 1] (NaN where a count is missing)."""
        center = np.array([params["center"][m] for m in WEIGHTED_METRICS])
        scale = np.array([params["scale"][m] for m in WEIGHTED_METRICS])
        raw = WeightedViralityLabeler(params["weights"])._raw(self._logs(frame), center, scale)
        span = params["max"] - params["min"]
        score = np.clip((raw - params["min"]) / (span if span > 0 else 1.0), 0.0, 1.0)
        return pd.DataFrame({"virality_weighted": score}, index=frame.index)


class AllAboveMedianLabeler:
    """Seed 001: viral when likes, plays, comments and shares are all strictly above their medians."""

    name = "viral_all_median"
    columns = ("viral_all_median",)
    metrics = ("likes", "plays", "comments", "shares")

    def definition(self) -> str:
        """The label in words, for the manifest."""
        return "viral_all_median = likes, plays, comments and shares all strictly above the fit rows' medians"

    def fit(self, frame: pd.DataFrame) -> dict[str, Any]:
        """The median of each count over the fit rows (each ignoring its missing values)."""
        medians = {}
        for m in self.metrics:
            values = column(frame, m)
            values = values[~np.isnan(values)]
            if not values.size:
                raise LabelError(f"cannot fit viral_all_median: {m} is missing on every row of the fit population")
            medians[m] = float(np.median(values))
        return {"medians": medians}

    def apply(self, frame: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
        """Column viral_all_median (null where a count is missing)."""
        values = [column(frame, m) for m in self.metrics]
        defined = ~np.logical_or.reduce([np.isnan(v) for v in values])
        above = np.logical_and.reduce([v > params["medians"][m] for v, m in zip(values, self.metrics, strict=True)])
        return pd.DataFrame({"viral_all_median": _nullable_bool(above, defined)}, index=frame.index)


class CorrelationViralityLabeler:
    """Seed 002: views + (1 − ρ(views, likes))·likes + (1 − ρ(views, comments))·comments + (1 − ρ(views, shares))·shares."""

    name = "virality_corr"
    columns = ("virality_corr",)
    others = ("likes", "comments", "shares")

    def __init__(self, method: str = "pearson") -> None:
        if method not in ("pearson", "spearman"):
            raise LabelError(f"correlation method must be pearson or spearman, not {method!r}")
        self.method = method

    def definition(self) -> str:
        """The label in words, for the manifest."""
        return (f"virality_corr = plays + sum over m in (likes, comments, shares) of (1 - rho(plays, m)) * m, "
                f"rho = {self.method} correlation over the fit rows (0 where undefined)")

    def fit(self, frame: pd.DataFrame) -> dict[str, Any]:
        """ρ(plays, m) for likes, comments and shares over the fit rows with both values."""
        rho, undefined = {}, []
        plays = column(frame, "plays")
        if np.isnan(plays).all():
            raise LabelError("cannot fit virality_corr: it needs plays, missing on every row of the fit population")
        for other in self.others:
            values = column(frame, other)
            both = ~(np.isnan(plays) | np.isnan(values))
            x, y = (plays, values) if both.all() else (plays[both], values[both])
            if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
                undefined.append(other)  # a constant column has no correlation: treat it as unrelated
                rho[other] = 0.0
            else:
                rho[other] = self._correlation(x, y)
        return {"method": self.method, "rho": rho, "undefined": undefined}

    def _correlation(self, x: np.ndarray, y: np.ndarray) -> float:
        if self.method == "pearson":
            return float(np.corrcoef(x, y)[0, 1])
        from scipy.stats import spearmanr  # scipy.stats takes a second to import: only when asked for

        return float(spearmanr(x, y)[0])

    def apply(self, frame: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
        """Column virality_corr (NaN where a count is missing)."""
        score = column(frame, "plays").copy()
        for m in self.others:
            score += (1.0 - params["rho"][m]) * column(frame, m)
        return pd.DataFrame({"virality_corr": score}, index=frame.index)
