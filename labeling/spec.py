"""What to label and how (``LabelSpec``), and the fitted result that goes into a manifest (``FittedLabels``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from labeling.labelers import (
    WEIGHTED_METRICS,
    AllAboveMedianLabeler,
    CorrelationViralityLabeler,
    EngagementRateLabeler,
    LabelError,
    WeightedViralityLabeler,
    numeric_view,
)

#: every column the labels add, in order
LABEL_COLUMNS = ("er", "er_defined", "viral_er", "virality_weighted", "viral_all_median", "virality_corr")
DEFAULT_WEIGHTS = (("comments", 0.1), ("likes", 0.4), ("plays", 0.3), ("shares", 0.2))
#: the columns the labels read
INPUTS = ("plays", "likes", "comments", "shares", "followers")


@dataclass(frozen=True)
class LabelSpec:
    """The labels' free parameters: ER percentile, seed 001's weights, seed 002's correlation method."""

    er_percentile: float = 75.0
    weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    corr_method: str = "pearson"

    @classmethod
    def from_options(cls, percentile: float = 75.0, weights: str | None = None, corr_method: str = "pearson") -> LabelSpec:
        """A spec from command-line values; ``weights`` is ``"0.1,0.4,0.3,0.2"`` (comments, likes, plays, shares)."""
        if weights is None:
            return cls(er_percentile=percentile, corr_method=corr_method)
        try:
            values = [float(w) for w in weights.split(",")]
        except ValueError:
            raise LabelError(f"weights must be four numbers like 0.1,0.4,0.3,0.2, not {weights!r}") from None
        if len(values) != len(WEIGHTED_METRICS):
            raise LabelError(f"weights must be four numbers (comments, likes, plays, shares), not {weights!r}")
        return cls(er_percentile=percentile, weights=tuple(zip(WEIGHTED_METRICS, values, strict=True)), corr_method=corr_method)

    def labelers(self) -> list:
        """The labelers this spec configures, in LABEL_COLUMNS order."""
        return [
            EngagementRateLabeler(self.er_percentile),
            WeightedViralityLabeler(dict(self.weights)),
            AllAboveMedianLabeler(),
            CorrelationViralityLabeler(self.corr_method),
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        data = asdict(self)
        data["weights"] = dict(self.weights)
        return data


@dataclass(frozen=True)
class FittedLabels:
    """Every label's definition and fitted parameters, and which population they were fitted on."""

    spec: LabelSpec
    fit_on: str
    fit_rows: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as stored in a snapshot's manifest under ``labels``."""
        return {"spec": self.spec.to_dict(), "fit_on": self.fit_on, "fit_rows": self.fit_rows,
                "params": self.params, "definitions": self.definitions}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedLabels:
        """Rebuilds what :meth:`to_dict` wrote (e.g. to label new rows like a snapshot's)."""
        s = data["spec"]
        spec = LabelSpec(er_percentile=s["er_percentile"], weights=tuple(s["weights"].items()), corr_method=s["corr_method"])
        return cls(spec=spec, fit_on=data["fit_on"], fit_rows=data["fit_rows"], params=data["params"],
                   definitions=data.get("definitions", {}))


def fit_labels(frame: pd.DataFrame, spec: LabelSpec | None = None, fit_on: str = "train") -> FittedLabels:
    """Fits every label on ``frame`` (the fit population: the train split, or all rows)."""
    spec = spec or LabelSpec()
    if frame.empty:
        raise LabelError(f"cannot fit labels: the fit population ({fit_on}) has no rows")
    labelers = spec.labelers()
    frame = numeric_view(frame, INPUTS)
    return FittedLabels(spec=spec, fit_on=fit_on, fit_rows=len(frame),
                        params={lab.name: lab.fit(frame) for lab in labelers},
                        definitions={lab.name: lab.definition() for lab in labelers})


def apply_labels(frame: pd.DataFrame, fitted: FittedLabels) -> pd.DataFrame:
    """The LABEL_COLUMNS for every row of ``frame``, with the fitted parameters."""
    numeric = numeric_view(frame, INPUTS)
    parts = [lab.apply(numeric, fitted.params[lab.name]) for lab in fitted.spec.labelers()]
    return pd.concat(parts, axis=1)[list(LABEL_COLUMNS)] if parts else pd.DataFrame(index=frame.index)
