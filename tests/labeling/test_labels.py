"""Each label against a small table worked out by hand (or with the standard library), not with the code under test."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest

from labeling import (
    AllAboveMedianLabeler,
    CorrelationViralityLabeler,
    EngagementRateLabeler,
    FittedLabels,
    LabelError,
    LabelSpec,
    WeightedViralityLabeler,
    apply_labels,
    fit_labels,
)

TABLE = pd.DataFrame({
    "plays":     [1000, 2000, 500, 8000, 100],
    "likes":     [100, 150, 20, 900, 5],
    "comments":  [10, 5, 2, 60, 0],
    "shares":    [5, 10, 1, 40, 0],
    "followers": [1000, 100, 0, 5000, None],
})


def test_engagement_rate_by_hand_and_zero_followers_undefined():
    out = EngagementRateLabeler().apply(TABLE, {"threshold": 11.5})
    # (100+10+5)/1000*100 = 11.5 ; (150+5+10)/100*100 = 165 ; followers 0 → undefined ; (900+60+40)/5000*100 = 20
    assert out["er"].iloc[:2].tolist() == [11.5, 165.0] and out["er"].iat[3] == 20.0
    assert np.isnan(out["er"].iat[2]) and np.isnan(out["er"].iat[4])
    assert not np.isinf(out["er"]).any()
    assert out["er_defined"].tolist() == [True, True, False, True, False]
    assert out["viral_er"].tolist() == [True, True, pd.NA, True, pd.NA]  # ≥ threshold, inclusive


def test_viral_er_threshold_is_the_percentile_of_defined_er():
    frame = pd.DataFrame({"likes": [1, 2, 3, 4, 5, 7], "comments": 0, "shares": 0, "followers": [100] * 5 + [0]})
    # ER = 1..5 (the last is undefined); P75 with linear interpolation: rank 0.75*(5-1) = 3 → the 4th value = 4
    params = EngagementRateLabeler(75).fit(frame)
    assert params["threshold"] == 4.0 and params["fit_rows"] == 5
    assert EngagementRateLabeler(65).fit(frame)["threshold"] == pytest.approx(3.6)  # rank 2.6 → 3 + 0.6*(4-3)
    viral = EngagementRateLabeler(75).apply(frame, params)["viral_er"]
    assert viral.tolist() == [False, False, False, True, True, pd.NA]


def test_virality_weighted_matches_an_independent_computation():
    metrics = ("comments", "likes", "plays", "shares")
    weights = {"comments": 0.1, "likes": 0.4, "plays": 0.3, "shares": 0.2}
    logs = {m: [math.log1p(v) for v in TABLE[m]] for m in metrics}
    center = {m: statistics.median(logs[m]) for m in metrics}
    iqr = {}
    for m in metrics:
        q1, _, q3 = statistics.quantiles(logs[m], n=4, method="inclusive")
        iqr[m] = q3 - q1
    raw = [sum(weights[m] * (logs[m][i] - center[m]) / iqr[m] for m in metrics) for i in range(len(TABLE))]
    expected = [(r - min(raw)) / (max(raw) - min(raw)) for r in raw]
    labeler = WeightedViralityLabeler()
    params = labeler.fit(TABLE)
    assert params["center"]["likes"] == pytest.approx(center["likes"]) and params["scale"]["plays"] == pytest.approx(iqr["plays"])
    np.testing.assert_allclose(labeler.apply(TABLE, params)["virality_weighted"], expected)


def test_virality_weighted_clips_rows_outside_the_fitted_range():
    params = WeightedViralityLabeler().fit(TABLE.iloc[:3])
    out = WeightedViralityLabeler().apply(TABLE, params)["virality_weighted"]
    assert out.iat[3] == 1.0 and out.iat[4] == 0.0  # far above / below the three fitted rows
    assert out.between(0, 1).all()


def test_viral_all_median_is_strictly_above_all_four_medians():
    frame = pd.DataFrame({"likes": [1, 2, 3, 4, 5], "plays": [10, 20, 30, 40, 50],
                          "comments": [5, 4, 3, 2, 9], "shares": [1, 2, 3, 4, None]})
    params = AllAboveMedianLabeler().fit(frame)
    # medians: likes 3, plays 30, comments 4, shares 2.5 (of the four known)
    assert params["medians"] == {"likes": 3.0, "plays": 30.0, "comments": 4.0, "shares": 2.5}
    out = AllAboveMedianLabeler().apply(frame, params)["viral_all_median"]
    # row 3: likes 4>3, plays 40>30, comments 2 ≤ 4 → no; row 4: shares missing → undefined
    assert out.tolist() == [False, False, False, False, pd.NA]
    tie = AllAboveMedianLabeler().apply(pd.DataFrame({"likes": [4], "plays": [31], "comments": [4], "shares": [3]}), params)
    assert tie["viral_all_median"].tolist() == [False]  # comments equal to the median is not above it
    above = AllAboveMedianLabeler().apply(pd.DataFrame({"likes": [4], "plays": [31], "comments": [5], "shares": [3]}), params)
    assert above["viral_all_median"].tolist() == [True]


def test_virality_corr_pearson_and_spearman_by_hand():
    plays, others = list(TABLE["plays"]), {m: list(TABLE[m]) for m in ("likes", "comments", "shares")}
    rho = {m: statistics.correlation(plays, v) for m, v in others.items()}
    expected = [plays[i] + sum((1 - rho[m]) * others[m][i] for m in others) for i in range(len(plays))]
    labeler = CorrelationViralityLabeler()
    params = labeler.fit(TABLE)
    assert params["rho"] == pytest.approx(rho)
    np.testing.assert_allclose(labeler.apply(TABLE, params)["virality_corr"], expected)

    def ranks(values):  # average ranks, the textbook way
        order = sorted(values)
        return [statistics.mean(i + 1 for i, v in enumerate(order) if v == x) for x in values]

    spearman = CorrelationViralityLabeler("spearman").fit(TABLE)
    assert spearman["rho"]["comments"] == pytest.approx(statistics.correlation(ranks(plays), ranks(others["comments"])))


def test_a_constant_column_has_no_correlation_and_counts_as_unrelated():
    frame = pd.DataFrame({"plays": [1, 2, 3], "likes": [1, 2, 4], "comments": [0, 0, 0], "shares": [1, 1, 2]})
    params = CorrelationViralityLabeler().fit(frame)
    assert params["rho"]["comments"] == 0.0 and params["undefined"] == ["comments"]


def test_fit_on_one_population_apply_to_another():
    train, other = TABLE.iloc[:3], TABLE.iloc[3:]
    fitted = fit_labels(train, fit_on="train")
    changed = other.assign(likes=other["likes"] * 1000, followers=1)
    assert fit_labels(train).params == fitted.params  # fitting ignores rows outside the fit population
    labels = apply_labels(pd.concat([train, changed]), fitted)
    assert list(labels.columns) == ["er", "er_defined", "viral_er", "virality_weighted", "viral_all_median", "virality_corr"]
    pd.testing.assert_frame_equal(labels.iloc[:3], apply_labels(train, fitted))  # a row's label ignores the others
    assert labels["virality_weighted"].iat[3] == 1.0  # beyond the fitted maximum: clipped


def test_fitted_labels_round_trip_through_json():
    spec = LabelSpec.from_options(65, "0.25,0.25,0.25,0.25", "spearman")
    fitted = fit_labels(TABLE, spec, fit_on="all")
    again = FittedLabels.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again == fitted
    pd.testing.assert_frame_equal(apply_labels(TABLE, again), apply_labels(TABLE, fitted))
    assert "P65" in fitted.definitions["er"]


def test_bad_parameters_and_empty_populations_are_clean_errors():
    with pytest.raises(LabelError, match="percentile"):
        EngagementRateLabeler(100)
    with pytest.raises(LabelError, match="four numbers"):
        LabelSpec.from_options(75, "0.5,0.5")
    with pytest.raises(LabelError, match="pearson or spearman"):
        CorrelationViralityLabeler("kendall")
    with pytest.raises(LabelError, match="followers"):
        EngagementRateLabeler().fit(TABLE.assign(followers=0))
    with pytest.raises(LabelError, match="no rows"):
        fit_labels(TABLE.iloc[:0])
