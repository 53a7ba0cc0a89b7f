"""Imputation and standardisation fitted on the train split only, kept as plain numbers for prediction."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Standardizer:
    """Fills a missing value with the train median, then scales each column to train mean 0 and standard deviation 1."""

    columns: tuple[str, ...]
    medians: np.ndarray
    means: np.ndarray
    scales: np.ndarray

    @classmethod
    def fit(cls, train: pd.DataFrame) -> Standardizer:
        """Learns the statistics from the train rows (a column with no train value imputes 0)."""
        values = train.to_numpy(dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: its median is NaN, imputed as 0 below
            medians = np.nan_to_num(np.nanmedian(values, axis=0)) if len(values) else np.zeros(values.shape[1])
        filled = np.where(np.isnan(values), medians, values)
        means, scales = filled.mean(0), filled.std(0)
        # a constant column carries nothing: scale 1 keeps it at 0 instead of dividing by 0
        return cls(tuple(train.columns), medians, means, np.where(scales > 1e-12, scales, 1.0))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The standardised float32 matrix, columns in the fitted order (absent columns count as missing)."""
        values = frame.reindex(columns=list(self.columns)).to_numpy(dtype=np.float64)
        filled = np.where(np.isnan(values), self.medians, values)
        return ((filled - self.means) / self.scales).astype(np.float32)

    def missing(self, frame: pd.DataFrame) -> list[str]:
        """Columns with no value in any row of ``frame`` (what prediction had to impute)."""
        values = frame.reindex(columns=list(self.columns))
        return [c for c in self.columns if values[c].isna().all()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able statistics."""
        return {"columns": list(self.columns), "medians": self.medians.tolist(), "means": self.means.tolist(), "scales": self.scales.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standardizer:
        """The inverse of :meth:`to_dict`."""
        return cls(tuple(data["columns"]), *(np.asarray(data[k], dtype=np.float64) for k in ("medians", "means", "scales")))
