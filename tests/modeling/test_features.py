"""Features before posting, the leakage guard, train-only scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeling.features import FeatureError, leaky_features, plan_features, tabular_features
from modeling.preprocess import Standardizer

EXTRACTORS = ["r2plus1d", "music"]


def _frame():
    return pd.DataFrame({
        "followers": [999, 0, None], "following": [9, 99, 0],
        "account_created_at": pd.to_datetime(["2024-01-01", "2024-03-01", None], utc=True),
        "create_time": pd.to_datetime(["2024-01-11 06:00", "2024-03-02 18:00", "2024-03-03 00:00"], utc=True),
        "duration_s": [10.0, 20.0, 30.0], "fps": [30.0, 25.0, None], "width": [576, 720, 1080], "height": [1024, 1280, 1920],
        "caption": ["hola", "", None], "hashtags": [["a", "b"], [], None], "music_original": [True, False, None],
        "has_audio": [True, True, False], "category": ["dance", "Pets", "knitting"],
        "likes": [100, 5, 7], "comments": [10, 1, 0], "shares": [1, 0, 0], "plays": [1000, 50, 70], "saves": [3, 0, 0],
        "er": [11.1, np.nan, 0.7], "author_hearts": [5, 6, 7], "author_video_count": [1, 2, 3], "latent_score": [0.1, 0.2, 0.3],
    })  # fmt: skip


def test_tabular_features_worked_by_hand():
    out = tabular_features(_frame())
    assert out["log_followers"].tolist()[:2] == pytest.approx([np.log(1000), 0.0]) and np.isnan(out["log_followers"][2])
    assert out["account_age_days"].tolist()[:2] == pytest.approx([10.25, 1.75]) and np.isnan(out["account_age_days"][2])
    assert out["post_hour_sin"].tolist() == pytest.approx([1.0, -1.0, 0.0], abs=1e-9)  # 06:00, 18:00, 00:00
    assert out["post_hour_cos"].tolist() == pytest.approx([0.0, 0.0, 1.0], abs=1e-9)
    assert out.filter(like="post_weekday_").sum(axis=1).tolist() == [1, 1, 1]
    assert out.loc[0, "post_weekday_3"] == 1  # 2024-01-11 was a Thursday
    assert out["caption_length"].tolist()[:2] == [4, 0] and np.isnan(out["caption_length"][2])
    assert out["hashtag_count"].tolist()[:2] == [2, 0] and np.isnan(out["hashtag_count"][2])
    assert out["category_dance"].tolist() == [1, 0, 0] and out["category_pets"].tolist() == [0, 1, 0]
    assert out["category_missing"].tolist() == [0, 0, 1]  # not one of seed 000's categories
    assert not any(c in out for c in ("likes", "log_likes", "er", "latent_score", "author_hearts"))


def test_leaky_features_are_what_their_names_say():
    out = leaky_features(_frame(), ["likes", "likes_per_follower", "er", "author_hearts"])
    assert out["log_likes"].tolist() == pytest.approx(np.log1p([100, 5, 7]))
    assert out["likes_per_follower"][0] == pytest.approx(100 / 999) and out["likes_per_follower"][1:].isna().all()


@pytest.mark.parametrize("target", ["viral_er", "virality_weighted", "viral_all_median", "virality_corr", "er"])
@pytest.mark.parametrize("leak", ["engagement", "author_totals", "labels", "plays", "shares_per_follower", "author_video_count"])
def test_every_engagement_label_refuses_every_leaky_input(target, leak):
    if leak == "labels" and target == "er":
        leak = "viral_er"
    with pytest.raises(FeatureError, match="leakage") as error:
        plan_features(target, ["tabular", leak], EXTRACTORS)
    assert "--allow-leakage" in str(error.value)


def test_allowed_leakage_is_planned_with_a_warning_and_never_includes_the_target():
    plan = plan_features("viral_er", ["tabular", "labels", "engagement"], EXTRACTORS, allow_leakage=True)
    assert "viral_er" not in plan.leaky and {"virality_corr", "likes", "er"} <= set(plan.leaky)
    assert plan.warnings and plan.warnings[0].startswith("LEAKAGE")


def test_plan_of_safe_features_has_no_warning():
    plan = plan_features("viral_er", ["tabular", "music", "r2plus1d"], EXTRACTORS)
    assert plan.tabular and plan.extractors == ("music", "r2plus1d") and plan.leaky == () and plan.warnings == ()


@pytest.mark.parametrize(("target", "features", "message"), [
    ("likes", ["tabular"], "unknown target"),
    ("viral_er", ["tabular", "latent_score"], "never a feature"),
    ("viral_er", ["colour"], "unknown feature"),
    ("viral_er", [""], "no features"),
])  # fmt: skip
def test_bad_plans(target, features, message):
    with pytest.raises(FeatureError, match=message):
        plan_features(target, features, EXTRACTORS, allow_leakage=True)


def test_standardizer_learns_from_train_rows_only():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [5.0, 5.0, 5.0, 5.0]})
    held_out = pd.DataFrame({"a": [1000.0, np.nan], "b": [7.0, np.nan]})
    scaler = Standardizer.fit(train)
    assert scaler.medians.tolist() == [2.0, 5.0]
    x = scaler.transform(held_out)
    filled = np.array([1, 2, 2, 4.0])
    assert x[1, 0] == pytest.approx((2 - filled.mean()) / filled.std())  # imputed with the train median
    assert x[0, 0] == pytest.approx((1000 - filled.mean()) / filled.std())  # scaled with train statistics
    assert x[0, 1] == pytest.approx(2.0) and x[1, 1] == 0.0  # a constant train column keeps scale 1
    assert Standardizer.from_dict(scaler.to_dict()).transform(held_out).tolist() == x.tolist()
    assert scaler.missing(held_out.iloc[[1]]) == ["a", "b"]
