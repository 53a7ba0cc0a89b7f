"""Honest evaluation at small sizes: bootstrap intervals on every AUC, author-grouped K-fold, random weights named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from modeling.evaluation import bootstrap_auc_intervals
from modeling.training import random_weights_warnings
from tests.modeling.planted import planted_frame, write_snapshot


def test_bootstrap_interval_holds_the_auc_and_narrows_with_more_rows():
    rng = np.random.default_rng(0)
    widths = []
    for n in (100, 2000):
        y = rng.integers(0, 2, n).astype(float)
        scores = y + rng.normal(0, 1.5, n)
        low, high = bootstrap_auc_intervals(y, {"m": scores}, seed=1)["m"]
        assert low < roc_auc_score(y, scores) < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3  # about 1/sqrt(20) as wide
    y = np.array([0, 0, 1, 1, 0, 1.0])
    assert bootstrap_auc_intervals(y, {"perfect": y}, seed=0)["perfect"] == [1.0, 1.0]
    assert np.isnan(bootstrap_auc_intervals(np.array([0, 0, 0, 1.0]), {"m": np.arange(4.0)}, seed=0)["m"]).all()


def test_every_auc_of_metrics_and_card_carries_its_interval(sqlite_cli):
    write_snapshot(sqlite_cli.home, planted_frame(600, seed=2), name="small")
    result = sqlite_cli("train", "small@v1", "--run", "ci", "--epochs", "3", "--json")
    test = json.loads(result.stdout)["metrics"]["test"]
    for model in ("mlp", "logistic_regression", "latent_score"):
        low, high = test[model]["auc_ci95"]
        assert low <= test[model]["auc"] <= high and high - low > 0.01, model
    assert test["majority"]["auc_ci95"] == [0.5, 0.5]
    card = (sqlite_cli.home / "runs" / "ci" / "MODEL_CARD.md").read_text()
    assert "| auc 95% CI |" in card
    assert f"{test['mlp']['auc_ci95'][0]:.3f}–{test['mlp']['auc_ci95'][1]:.3f}" in card
    table = sqlite_cli("train", "small@v1", "--run", "ci-table", "--epochs", "2").stdout
    assert "auc 95% CI" in table


def test_cv_runs_author_grouped_folds_and_reports_the_spread(sqlite_cli):
    frame = planted_frame(800, seed=4)
    write_snapshot(sqlite_cli.home, frame, name="folds")
    report = json.loads(sqlite_cli("train", "folds@v1", "--run", "cv", "--epochs", "3", "--cv", "4", "--json").stdout)
    cv = report["metrics"]["cv"]
    assert (cv["folds"], cv["metric"], cv["group"]) == (4, "auc", "author")
    assert sum(cv["test_rows"]) == len(frame) and min(cv["test_rows"]) > 100
    for model in ("mlp", "logistic_regression"):
        spread = cv[model]
        assert len(spread["per_fold"]) == 4 and spread["min"] <= spread["mean"] <= spread["max"]
        assert spread["mean"] > 0.6 and spread["std"] > 0  # the planted signal is found, and folds differ
    card = (sqlite_cli.home / "runs" / "cv" / "MODEL_CARD.md").read_text()
    assert "Author-grouped 4-fold cross-validation" in card
    too_many = sqlite_cli("train", "folds@v1", "--cv", "100000", ok=False)
    assert too_many.exit_code == 1 and "authors" in too_many.stderr and "Traceback" not in too_many.stderr


def test_folds_never_split_an_author():
    from modeling.crossval import _author_folds
    from modeling.design import Design

    import pandas as pd

    frame = planted_frame(400, seed=6)
    design = Design(pd.DataFrame(index=frame.index), frame["viral_er"].astype(float), frame["split"], frame["video_id"], None, 0, None, {}, frame["author_key"])
    folds = _author_folds(design, 5)
    per_author = pd.Series(folds).groupby(frame["author_key"].to_numpy()).nunique()
    assert (per_author == 1).all() and set(folds) == set(range(5))


def test_random_weights_are_named_in_a_warning():
    warnings = random_weights_warnings({"r2plus1d": {"weights_fingerprint": "random"}, "signals": {"weights_fingerprint": "none"}, "speech": {"weights_fingerprint": "ab" * 32}})
    assert len(warnings) == 1 and warnings[0].startswith("RANDOM WEIGHTS: the r2plus1d features") and "--model random" in warnings[0]


def test_train_warns_when_features_came_from_random_weights(sqlite_cli, media_snapshot):
    sqlite_cli("extract", media_snapshot, "--extractor", "r2plus1d", "--model", "random", "-o", "frames=4", "-o", "size=32")
    result = sqlite_cli("train", media_snapshot, "--features", "tabular,r2plus1d", "--epochs", "1", "--json")
    report = json.loads(result.stdout)
    assert any(w.startswith("RANDOM WEIGHTS: the r2plus1d features") for w in report["warnings"])
    assert "RANDOM WEIGHTS" in result.stderr


def test_cv_folds_depend_on_the_rows_not_on_the_pseudonyms():
    from modeling.crossval import _author_folds
    from modeling.design import Design

    frame = planted_frame(300, seed=4)
    authors = pd.Series(np.arange(300) % 40).map("author-{}".format)
    authors[::25] = None  # rows without an author

    def design(keys: pd.Series) -> Design:
        groups = keys.fillna("video:" + frame["video_id"].astype(str)).astype(str)
        return Design(pd.DataFrame({"x": np.zeros(300)}), frame["viral_er"], frame["split"], frame["video_id"].astype(str),
                      latent=None, dropped_no_target=0, groups=groups)

    # another catalog's secret: the same authors under other (differently ordered) keys
    renamed = authors.map(lambda a: None if pd.isna(a) else f"{len(a) * 7919 % 97:02d}-{a[::-1]}")
    folds, again = _author_folds(design(authors), 5), _author_folds(design(renamed), 5)
    assert (folds == again).all(), "the folds moved with the pseudonyms"
    for key, fold in pd.Series(folds).groupby(authors.fillna(frame["video_id"].astype(str)).to_numpy()):
        assert fold.nunique() == 1, f"author {key} was split across folds"
    alone = authors.isna().to_numpy()
    assert len(set(folds[alone])) > 1, "the rows without an author were lumped into one group"
