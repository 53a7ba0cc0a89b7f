"""The virality labels (ER, viral_er, virality_weighted, viral_all_median, virality_corr) and the splits.

Pure functions over columns, fitted on one population (the train split by
default) and applied to any rows; no database, no network.
"""

from labeling.labelers import (
    AllAboveMedianLabeler,
    CorrelationViralityLabeler,
    EngagementRateLabeler,
    LabelError,
    WeightedViralityLabeler,
)
from labeling.spec import LABEL_COLUMNS, LABEL_NAMES, FittedLabels, LabelSpec, apply_labels, fit_labels, parse_label_names
from labeling.splits import SPLITS, SplitAssignment, SplitError, SplitSpec, assign_splits

__all__ = [
    "LABEL_COLUMNS", "LABEL_NAMES", "SPLITS",
    "AllAboveMedianLabeler", "CorrelationViralityLabeler", "EngagementRateLabeler", "FittedLabels", "LabelError",
    "LabelSpec", "SplitAssignment", "SplitError", "SplitSpec", "WeightedViralityLabeler",
    "apply_labels", "assign_splits", "fit_labels", "parse_label_names",
]
