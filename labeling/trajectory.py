"""Labels over time: plays and likes at an age, growth between two ages, and a binary "grew fast" label.

Popularity studies define targets on a video's trajectory (SMTPD: 30 days of
daily counts; Trendpop: 24 h, 48 h, 7 d, 90 d). From a video's time-stamped
observations (``curate refresh`` collects them), the value at age ``a`` is
interpolated linearly between the two observations that bracket
``create_time + a`` — exact when one falls on it — and **undefined** (NaN)
otherwise: an observation before it alone, or after it alone, says nothing
about it. Growth between ages ``a < b`` is ``x(b) / x(a) − 1`` (undefined where
either is, or ``x(a)`` is 0). ``viral_growth`` is growth ≥ its q-th percentile,
fitted on the train split like the other labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labeling.labelers import LabelError

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def age_seconds(label: str) -> float:
    """``"24h"`` → 86400.0; ages are written with m, h, d or w."""
    match = _AGE.match(label.strip())
    if not match:
        raise LabelError(f"an age is a number with m, h, d or w (e.g. 24h, 7d), not {label!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def value_at_age(observations: pd.DataFrame, create_time: pd.Series, age_s: float, metric: str) -> pd.Series:
    """``metric`` of each video (``create_time``'s index) at ``age_s``, interpolated between bracketing observations.

    ``observations`` has ``video_id, observed_at, <metric>`` (several rows per
    video); videos without an observation at or before *and* one at or after the
    age get NaN.
    """
    out = pd.Series(np.nan, index=create_time.index, dtype="float64", name=f"{metric}_at")
    obs = observations[["video_id", "observed_at", metric]].dropna()
    if obs.empty:
        return out
    created = pd.to_datetime(create_time, utc=True)
    created = created[created.notna() & ~created.index.duplicated()]
    if created.empty:
        return out
    # looked up by reindexing: NaT (a video without a create time) and the time zone survive
    target = (created + pd.to_timedelta(age_s, unit="s")).reindex(obs["video_id"].to_numpy())
    obs = obs.assign(target=target.to_numpy()).dropna(subset=["target"])
    when = pd.to_datetime(obs["observed_at"], utc=True)
    before = obs[when <= obs["target"]].assign(t=when).sort_values("t").groupby("video_id").tail(1).set_index("video_id")
    after = obs[when >= obs["target"]].assign(t=when).sort_values("t").groupby("video_id").head(1).set_index("video_id")
    both = before.merge(after, left_index=True, right_index=True, suffixes=("_b", "_a"))
    span = (both["t_a"] - both["t_b"]).dt.total_seconds().to_numpy()
    into = (both["target_b"] - both["t_b"]).dt.total_seconds().to_numpy()
    share = np.divide(into, span, out=np.zeros_like(into), where=span > 0)
    values = both[f"{metric}_b"].to_numpy(dtype=float) + share * (both[f"{metric}_a"].to_numpy(dtype=float) - both[f"{metric}_b"].to_numpy(dtype=float))
    out.loc[out.index.intersection(both.index)] = pd.Series(values, index=both.index)
    return out


@dataclass(frozen=True)
class TrajectorySpec:
    """Which ages and metrics to read, which growth to label, and its percentile."""

    ages: tuple[str, ...] = ("24h", "48h", "7d")
    metrics: tuple[str, ...] = ("plays", "likes")
    growth: tuple[str, str] = ("24h", "7d")
    growth_metric: str = "plays"
    percentile: float = 75.0

    def columns(self) -> list[str]:
        """Every column the labels add."""
        a, b = self.growth
        return [f"{m}_at_{age}" for m in self.metrics for age in self.ages] + [f"growth_{self.growth_metric}_{a}_{b}", "viral_growth"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"ages": list(self.ages), "metrics": list(self.metrics), "growth": list(self.growth),
                "growth_metric": self.growth_metric, "percentile": self.percentile}


class TrajectoryLabeler:
    """Values at ages and growth between two of them from observations; ``viral_growth`` fitted on one population."""

    name = "trajectory"

    def __init__(self, spec: TrajectorySpec | None = None) -> None:
        self.spec = spec or TrajectorySpec()
        if not 0 < self.spec.percentile < 100:
            raise LabelError(f"the growth percentile must lie strictly between 0 and 100, not {self.spec.percentile}")
        for age in (*self.spec.ages, *self.spec.growth):
            age_seconds(age)

    def definition(self) -> str:
        """The labels in words, for the manifest."""
        a, b = self.spec.growth
        m = self.spec.growth_metric
        return (f"<metric>_at_<age>: the count at create_time + age, interpolated linearly between the observations "
                f"(as of the cut-off) that bracket it, NaN without one on each side; growth_{m}_{a}_{b} = "
                f"{m}_at_{b} / {m}_at_{a} - 1 (NaN where undefined or {m}_at_{a} is 0); "
                f"viral_growth = growth >= P{self.spec.percentile:g} of growth over the fit rows")

    def values(self, observations: pd.DataFrame, create_time: pd.Series) -> pd.DataFrame:
        """The value and growth columns (no threshold yet) for the videos of ``create_time``'s index."""
        spec = self.spec
        out = pd.DataFrame(index=create_time.index)
        needed = set(spec.ages) | set(spec.growth)
        at = {(m, age): value_at_age(observations, create_time, age_seconds(age), m)
              for m in set(spec.metrics) | {spec.growth_metric} for age in needed}
        for m in spec.metrics:
            for age in spec.ages:
                out[f"{m}_at_{age}"] = at[(m, age)]
        a, b = spec.growth
        first, last = at[(spec.growth_metric, a)], at[(spec.growth_metric, b)]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"growth_{spec.growth_metric}_{a}_{b}"] = np.where(first > 0, last / first - 1.0, np.nan)
        return out

    def fit(self, values: pd.DataFrame) -> dict[str, Any]:
        """The growth threshold at the percentile of the fit rows whose growth is defined."""
        a, b = self.spec.growth
        growth = values[f"growth_{self.spec.growth_metric}_{a}_{b}"].to_numpy(dtype=float)
        defined = growth[~np.isnan(growth)]
        if defined.size == 0:
            return {"percentile": self.spec.percentile, "threshold": None, "fit_rows": 0}
        return {"percentile": self.spec.percentile, "threshold": float(np.percentile(defined, self.spec.percentile)),
                "fit_rows": int(defined.size)}

    def apply(self, values: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
        """The value columns plus ``viral_growth`` (null where growth is undefined or nothing could be fitted)."""
        a, b = self.spec.growth
        growth = values[f"growth_{self.spec.growth_metric}_{a}_{b}"].to_numpy(dtype=float)
        defined = ~np.isnan(growth)
        threshold = params.get("threshold")
        if threshold is None:
            defined = np.zeros(len(values), dtype=bool)
        flags = np.where(defined, growth >= (threshold if threshold is not None else np.inf), False)
        return values.assign(viral_growth=pd.arrays.BooleanArray(flags.astype(bool), ~defined))
