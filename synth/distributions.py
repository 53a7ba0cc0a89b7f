"""The marginal distributions the presets are made of, as inverse CDFs over whole columns.

Every draw goes through ``ppf(u)`` of a uniform from :mod:`synth.counters`, so the
value of a row depends only on its own uniform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

#: 0.75 quantile of the standard normal: quartiles sit at ±Z75 standard deviations
Z75 = float(ndtri(0.75))
_EPS = 1e-12


@dataclass(frozen=True)
class Marginal:
    """A log-normal count, optionally two-sided, truncated and zero-inflated.

    ``x = exp(ln(median) + z·sigma)`` with ``z`` standard normal and ``sigma_low``
    below the median, ``sigma_high`` above it (equal: a plain log-normal). Values
    are kept within ``[low, high]`` by truncating ``z``; a share ``zero_frac`` of
    rows is exactly zero.
    """

    median: float
    sigma_low: float
    sigma_high: float
    low: float | None = None
    high: float | None = None
    zero_frac: float = 0.0

    @classmethod
    def lognormal(cls, median: float, sigma: float, **bounds: float | None) -> Marginal:
        """A plain log-normal with this median and log-space standard deviation."""
        return cls(median=median, sigma_low=sigma, sigma_high=sigma, **bounds)

    @classmethod
    def from_quartiles(cls, q25: float, q50: float, q75: float, **bounds: float | None) -> Marginal:
        """The two-sided log-normal whose quartiles are exactly these."""
        return cls(median=q50, sigma_low=float(np.log(q50 / q25) / Z75), sigma_high=float(np.log(q75 / q50) / Z75), **bounds)

    def _score(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.log(x) - np.log(self.median)
        return np.where(t < 0, t / self.sigma_low, t / self.sigma_high)

    def _bounds(self) -> tuple[float, float]:
        lo = float(ndtr(self._score(np.array([self.low]))[0])) if self.low else 0.0
        hi = float(ndtr(self._score(np.array([self.high]))[0])) if self.high else 1.0
        return lo, hi

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The value at probability ``u`` (a float array: NaN never occurs for u in (0, 1))."""
        u = np.asarray(u, dtype=np.float64)
        zero = u < self.zero_frac
        rest = (u - self.zero_frac) / (1.0 - self.zero_frac)
        lo, hi = self._bounds()
        z = ndtri(np.clip(lo + rest * (hi - lo), _EPS, 1 - _EPS))
        x = np.exp(np.log(self.median) + z * np.where(z < 0, self.sigma_low, self.sigma_high))
        x = np.clip(x, self.low or 0.0, self.high or np.inf)
        return np.where(zero, 0.0, x)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """The value whose normal score is ``z`` (same as ``ppf(Φ(z))``, without the round trip when it can)."""
        if self.low is None and self.high is None and self.zero_frac == 0:
            return np.exp(np.log(self.median) + z * np.where(z < 0, self.sigma_low, self.sigma_high))
        return self.ppf(ndtr(z))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The probability of a value at most ``x`` (zeros sit in the middle of the zero mass)."""
        x = np.asarray(x, dtype=np.float64)
        lo, hi = self._bounds()
        inner = np.clip((ndtr(self._score(np.maximum(x, _EPS))) - lo) / (hi - lo), 0.0, 1.0)
        return np.where(x <= 0, self.zero_frac / 2, self.zero_frac + (1 - self.zero_frac) * inner)

    def normal_score(self, x: np.ndarray) -> np.ndarray:
        """The standard-normal score of ``x`` under this marginal (for conditioning a copula); NaN stays NaN."""
        x = np.asarray(x, dtype=np.float64)
        z = ndtri(np.clip(self.cdf(x), 1e-9, 1 - 1e-9))
        return np.where(np.isnan(x), np.nan, z)


@dataclass(frozen=True)
class Uniform:
    """A ratio drawn uniformly between two bounds (seed 000 gives ranges, not shapes)."""

    low: float
    high: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The value at probability ``u``."""
        return self.low + np.asarray(u, dtype=np.float64) * (self.high - self.low)


def truncated_exponential_ppf(u: np.ndarray, scale: float, upper: np.ndarray | float) -> np.ndarray:
    """Exponential(scale) conditioned on ``[0, upper]``, at probability ``u`` (upper may vary by row)."""
    upper = np.maximum(np.asarray(upper, dtype=np.float64), 0.0)
    mass = -np.expm1(-upper / scale)
    return -scale * np.log1p(-np.asarray(u) * mass)
