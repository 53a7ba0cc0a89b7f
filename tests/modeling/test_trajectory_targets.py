"""Labels over time as ``curate train`` targets: viral_growth (binary), plays at an age and growth (continuous)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from modeling.features import FeatureError, plan_features, task_of
from tests.modeling.planted import planted_frame, write_snapshot

EXTRACTORS = ["music"]


def trajectory_snapshot(home, name: str = "aging", observed: bool = True) -> str:
    """A planted snapshot with the trajectory columns a real one carries: growth driven by content, undefined for
    a tenth of the videos (observed on one side of an age only)."""
    import pyarrow.parquet as pq

    from curate.trajectories import with_columns

    frame = planted_frame(2000, seed=3)
    rng = np.random.default_rng(4)
    unseen = rng.random(len(frame)) < 0.1 if observed else np.ones(len(frame), dtype=bool)
    at_24h = (frame["plays"] * 0.4).where(~unseen)
    growth = np.exp(0.5 * frame["latent_score"] + rng.normal(0, 0.3, len(frame))).where(~unseen)
    threshold = np.nanpercentile(growth[frame["split"] == "train"], 75) if observed else np.inf
    labels = pd.DataFrame({"plays_at_24h": at_24h, "plays_at_7d": at_24h * (1 + growth), "growth_plays_24h_7d": growth,
                           "viral_growth": pd.array(np.where(unseen, None, growth >= threshold), dtype="boolean")})
    folder = write_snapshot(home, frame, name=name)
    table = with_columns(pq.read_table(folder / "videos.parquet"), labels)
    pq.write_table(table, folder / "videos.parquet")
    digest = hashlib.sha256((folder / "videos.parquet").read_bytes()).hexdigest()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(fingerprint=digest, files={"videos.parquet": digest})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return f"{name}@v1"


@pytest.mark.parametrize(("target", "task"), [
    ("viral_growth", "classification"), ("plays_at_24h", "regression"), ("likes_at_1.5d", "regression"),
    ("growth_plays_24h_7d", "regression"), ("growth_shares_1h_30d", "regression"), ("viral_er", "classification"),
    ("plays_at_soon", None), ("growth_plays_24h", None), ("views_at_24h", None),
])  # fmt: skip
def test_trajectory_targets_are_known_by_their_shape(target, task):
    assert task_of(target) == task


def test_a_trajectory_target_refuses_the_counts_it_is_made_of():
    with pytest.raises(FeatureError, match="leakage"):
        plan_features("growth_plays_24h_7d", ["tabular", "engagement"], EXTRACTORS)
    with pytest.raises(FeatureError, match=r"over time: viral_growth, <metric>_at_<age>"):
        plan_features("plays_at_soon", ["tabular"], EXTRACTORS)


def test_viral_growth_trains_as_a_classification_on_the_videos_whose_growth_is_defined(sqlite_cli):
    ref = trajectory_snapshot(sqlite_cli.home)
    report = json.loads(sqlite_cli("train", ref, "--target", "viral_growth", "--run", "growth", "--json").stdout)
    test = report["metrics"]["test"]
    assert test["mlp"]["auc"] > 0.65 > test["majority"]["auc"], "content drives growth in this snapshot"
    predictions = pd.read_parquet(sqlite_cli.home / "runs" / "growth" / "predictions.parquet")
    assert set(np.unique(predictions["target"])) == {0.0, 1.0}
    assert 0.85 * 2000 < len(predictions) < 0.95 * 2000, "the tenth without a defined growth is left out"


def test_growth_and_plays_at_an_age_train_as_regressions(sqlite_cli):
    ref = trajectory_snapshot(sqlite_cli.home)
    for target in ("growth_plays_24h_7d", "plays_at_24h"):
        report = json.loads(sqlite_cli("train", ref, "--target", target, "--run", target, "--epochs", "3", "--json").stdout)
        assert set(report["metrics"]["test"]) == {"mlp", "mean", "ridge"}, target


def test_a_target_the_snapshot_lacks_is_one_line_naming_the_ones_it_has(sqlite_cli):
    ref = trajectory_snapshot(sqlite_cli.home)
    result = sqlite_cli("train", ref, "--target", "plays_at_30d", ok=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert "has no plays_at_30d column; the targets it has: " in lines[0]
    for name in ("viral_er", "virality_weighted", "plays_at_24h", "plays_at_7d", "growth_plays_24h_7d", "viral_growth"):
        assert name in lines[0]


def test_a_trajectory_target_nobody_observed_says_how_to_get_one(sqlite_cli):
    ref = trajectory_snapshot(sqlite_cli.home, "unaged", observed=False)
    result = sqlite_cli("train", ref, "--target", "viral_growth", ok=False)
    assert result.exit_code == 1 and "no video was observed on both sides of its ages" in result.stderr
    assert "curate refresh" in result.stderr and "Traceback" not in result.stderr
