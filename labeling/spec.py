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
#: the labels by name (``--labels``), and the columns each adds
LABEL_NAMES = ("er", "virality_weighted", "viral_all_median", "virality_corr")
#: names a user may write for a label: its columns too (viral_er is the er labeler's)
LABEL_ALIASES = {"er": "er", "viral_er": "er", "er_defined": "er", "virality_weighted": "virality_weighted",
                 "viral_all_median": "viral_all_median", "virality_corr": "virality_corr"}


def parse_label_names(text: str | None) -> tuple[str, ...] | None:
    """``"viral_er,virality_corr"`` → ("er", "virality_corr"); None or "all" → None (every label)."""
    if text is None or text.strip() in ("", "all"):
        return None
    names = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part not in LABEL_ALIASES:
            raise LabelError(f"unknown label {part!r}; labels are {', '.join(LABEL_ALIASES)}")
        if LABEL_ALIASES[part] not in names:
            names.append(LABEL_ALIASES[part])
    return tuple(names) or None


@dataclass(frozen=True)
class LabelSpec:
    """The labels' free parameters: ER percentile, seed 001's weights, seed 002's correlation method."""

    er_percentile: float = 75.0
    weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    corr_method: str = "pearson"
    #: the labels asked for by name (None: every label, leaving out those whose inputs are missing)
    labels: tuple[str, ...] | None = None

    @classmethod
    def from_options(
        cls, percentile: float = 75.0, weights: str | None = None, corr_method: str = "pearson", labels: str | None = None
    ) -> LabelSpec:
        """A spec from command-line values; ``weights`` is ``"0.1,0.4,0.3,0.2"`` (comments, likes, plays, shares)."""
        chosen = parse_label_names(labels)
        if weights is None:
            return cls(er_percentile=percentile, corr_method=corr_method, labels=chosen)
        try:
            values = [float(w) for w in weights.split(",")]
        except ValueError:
            raise LabelError(f"weights must be four numbers like 0.1,0.4,0.3,0.2, not {weights!r}") from None
        if len(values) != len(WEIGHTED_METRICS):
            raise LabelError(f"weights must be four numbers (comments, likes, plays, shares), not {weights!r}")
        return cls(er_percentile=percentile, weights=tuple(zip(WEIGHTED_METRICS, values, strict=True)), corr_method=corr_method,
                   labels=chosen)

    def labelers(self) -> list:
        """The labelers this spec configures, in LABEL_COLUMNS order."""
        return [
            EngagementRateLabeler(self.er_percentile),
            WeightedViralityLabeler(dict(self.weights)),
            AllAboveMedianLabeler(),
            CorrelationViralityLabeler(self.corr_method),
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``labels`` only when some were chosen, so older manifests read the same)."""
        data = asdict(self)
        data["weights"] = dict(self.weights)
        if self.labels is None:
            data.pop("labels")
        else:
            data["labels"] = list(self.labels)
        return data


@dataclass(frozen=True)
class FittedLabels:
    """Every label's definition and fitted parameters, and which population they were fitted on."""

    spec: LabelSpec
    fit_on: str
    fit_rows: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    #: labels left out, with the reason (their inputs are missing on the fit population)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as stored in a snapshot's manifest under ``labels``."""
        return {"spec": self.spec.to_dict(), "fit_on": self.fit_on, "fit_rows": self.fit_rows,
                "params": self.params, "definitions": self.definitions, "skipped": self.skipped}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedLabels:
        """Rebuilds what :meth:`to_dict` wrote (e.g. to label new rows like a snapshot's)."""
        s = data["spec"]
        labels = tuple(s["labels"]) if s.get("labels") else None
        spec = LabelSpec(er_percentile=s["er_percentile"], weights=tuple(s["weights"].items()), corr_method=s["corr_method"],
                         labels=labels)
        return cls(spec=spec, fit_on=data["fit_on"], fit_rows=data["fit_rows"], params=data["params"],
                   definitions=data.get("definitions", {}), skipped=data.get("skipped", {}))


def fit_labels(frame: pd.DataFrame, spec: LabelSpec | None = None, fit_on: str = "train") -> FittedLabels:
    """Fits the labels on ``frame`` (the fit population: the train split, or all rows).

    A label whose inputs are missing is left out, with the reason in ``skipped``,
    unless it was asked for by name (``spec.labels``): then, as when no label at
    all can be fitted, a LabelError says why.
    """
    spec = spec or LabelSpec()
    if frame.empty:
        raise LabelError(f"cannot fit labels: the fit population ({fit_on}) has no rows")
    frame = numeric_view(frame, INPUTS)
    params, definitions, skipped = {}, {}, {}
    for lab in spec.labelers():
        if spec.labels is not None and lab.name not in spec.labels:
            continue
        try:
            params[lab.name] = lab.fit(frame)
        except LabelError as exc:
            if spec.labels is not None:
                raise
            skipped[lab.name] = str(exc)
            continue
        definitions[lab.name] = lab.definition()
    if not params:
        raise LabelError("no label can be fitted: " + "; ".join(skipped.values()))
    return FittedLabels(spec=spec, fit_on=fit_on, fit_rows=len(frame), params=params, definitions=definitions, skipped=skipped)


def apply_labels(frame: pd.DataFrame, fitted: FittedLabels) -> pd.DataFrame:
    """The LABEL_COLUMNS for every row of ``frame``; a label that was not fitted is null throughout."""
    numeric = numeric_view(frame, INPUTS)
    parts = [lab.apply(numeric, fitted.params[lab.name]) for lab in fitted.spec.labelers() if lab.name in fitted.params]
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    for lab in fitted.spec.labelers():
        if lab.name not in fitted.params:
            for name in lab.columns:
                out[name] = _nulls(name, len(frame), frame.index)
    return out[list(LABEL_COLUMNS)]


def _nulls(name: str, rows: int, index: pd.Index) -> pd.Series:
    """A column of a label that was not computed: NaN scores, null flags (er_defined: false)."""
    if name == "er_defined":
        return pd.Series(False, index=index)
    if name.startswith("viral_"):
        return pd.Series(pd.array([pd.NA] * rows, dtype="boolean"), index=index)
    return pd.Series(float("nan"), index=index, dtype="float64")
