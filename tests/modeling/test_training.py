"""``curate train`` on snapshots in the file contract: learning a planted signal, determinism, collapse, leakage, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.modeling.planted import planted_frame, write_snapshot


def _train(cli, ref, *args):
    result = cli("train", ref, "--json", *args)
    return json.loads(result.stdout), result


def _catalog_without_metrics(cli, n: int) -> None:
    """``n`` catalogued videos of ``n // 5`` authors with varied duration and sound, and no metrics at all."""
    from datetime import datetime

    from core.records import AuthorRecord, ParsedItem, VideoRecord
    from db.catalog import write_items
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    def item(v: int) -> ParsedItem:
        author = str(6_900_000_000_000_000_000 + v % (n // 5))
        video = VideoRecord(
            id=str(7_200_000_000_000_000_000 + v), author_id=author, caption=f"clip {v} #fyp", hashtags=("fyp",), create_time=datetime(2024, 1, 1 + v % 28, v % 24),
            duration_s=5.0 + (v * 7919) % 85, width=576, height=1024, music_id=str(v % 11), music_title="sound", music_original=(v * 31) % 3 == 0,
        )  # fmt: skip
        return ParsedItem(video=video, author=AuthorRecord(id=author, handle=f"maker{v % (n // 5)}"), metrics=None, raw={"id": v}, source_format="test")

    engine = create_catalog_engine(cli.db_url)
    upgrade(engine)
    write_items(engine, [item(v) for v in range(n)], "test")
    engine.dispose()


def test_mlp_learns_the_signal_synth_plants_and_beats_the_majority_baseline(sqlite_cli):
    """The whole product path: catalog → curate synth --planted-signal → curate snapshot create → curate train."""
    _catalog_without_metrics(sqlite_cli, 1500)
    sqlite_cli("synth", "--planted-signal", "--seed", "1")
    sqlite_cli("snapshot", "create", "planted", "--include-simulated-in-eval")
    report, _ = _train(sqlite_cli, "planted@v1", "--run", "planted-a")
    test = report["metrics"]["test"]
    assert test["mlp"]["auc"] > 0.7 > test["majority"]["auc"]
    assert test["mlp"]["f1"] > test["majority"]["f1"] + 0.3
    # the hidden truth is a reference on the same rows, never an input
    assert test["mlp"]["auc"] <= test["latent_score"]["auc"] + 0.03
    assert "latent_score" not in json.loads((sqlite_cli.home / "runs" / "planted-a" / "run.json").read_text())["scaler"]["columns"]
    assert report["warnings"] == []


def test_run_folder_has_every_file_and_readable_figures(sqlite_cli, planted_snapshot):
    report, result = _train(sqlite_cli, planted_snapshot, "--run", "files", "--epochs", "3")
    folder = sqlite_cli.home / "runs" / "files"
    for name in ("metrics.json", "run.json", "model.safetensors", "predictions.parquet", "MODEL_CARD.md", "confusion_matrix.png", "roc.png", "loss.png"):
        assert (folder / name).is_file(), name
    for png in ("confusion_matrix.png", "roc.png", "loss.png"):
        with Image.open(folder / png) as image:
            assert image.size[0] > 300 and image.size[1] > 200
            assert len(image.getcolors(maxcolors=1 << 16) or range(999)) > 20  # drawn, not blank
    predictions = pd.read_parquet(folder / "predictions.parquet")
    assert len(predictions) == 2000 and predictions["score"].between(0, 1).all()
    assert set(predictions.columns) == {"video_id", "split", "target", "score", "predicted"}
    card = (folder / "MODEL_CARD.md").read_text()
    manifest = json.loads((sqlite_cli.home / "snapshots/planted/v1/manifest.json").read_text())
    assert manifest["fingerprint"] in card and "| seed | 0 |" in card and "tabular" in card
    assert report["metrics"]["training"]["epochs_run"] <= 3


def test_human_output_is_a_metrics_table_with_the_plot_paths(sqlite_cli, planted_snapshot):
    result = sqlite_cli("train", planted_snapshot, "--run", "table", "--epochs", "2")
    assert "MLP" in result.stdout and "logistic regression" in result.stdout and "majority" in result.stdout
    assert "auc" in result.stdout and "roc.png" in result.stdout and "confusion_matrix.png" in result.stdout


def test_same_seed_same_metrics_and_predictions(sqlite_cli, planted_snapshot):
    _train(sqlite_cli, planted_snapshot, "--run", "one", "--seed", "7", "--epochs", "4")
    _train(sqlite_cli, planted_snapshot, "--run", "two", "--seed", "7", "--epochs", "4")
    _train(sqlite_cli, planted_snapshot, "--run", "other", "--seed", "8", "--epochs", "4")
    runs = sqlite_cli.home / "runs"
    assert (runs / "one/metrics.json").read_bytes() == (runs / "two/metrics.json").read_bytes()
    one, two, other = (pd.read_parquet(runs / r / "predictions.parquet") for r in ("one", "two", "other"))
    pd.testing.assert_frame_equal(one, two)
    assert not np.allclose(one["score"], other["score"])  # the seed is what makes them equal


def test_collapse_is_reported_loudly(sqlite_cli):
    write_snapshot(sqlite_cli.home, planted_frame(600, seed=2, signal=False), name="flat")
    report, result = _train(sqlite_cli, "flat@v1", "--epochs", "3")
    assert any(w.startswith("COLLAPSE") for w in report["warnings"])
    assert "COLLAPSE" in result.stderr and "seed 001" in result.stderr
    card = (sqlite_cli.home / "runs" / report["run"] / "MODEL_CARD.md").read_text()
    assert "## Warnings" in card and "COLLAPSE" in card


def test_leaky_features_are_refused_naming_them(sqlite_cli, planted_snapshot):
    result = sqlite_cli("train", planted_snapshot, "--features", "tabular,engagement", ok=False)
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    for name in ("likes", "comments", "shares", "plays", "er", "likes_per_follower", "--allow-leakage"):
        assert name in line
    assert not (sqlite_cli.home / "runs").exists() or not any((sqlite_cli.home / "runs").iterdir())


@pytest.mark.parametrize("features", ["author_hearts", "likes", "author_totals", "virality_corr"])
def test_each_leaky_input_is_refused_on_its_own(sqlite_cli, planted_snapshot, features):
    result = sqlite_cli("train", planted_snapshot, "--features", f"tabular,{features}", ok=False)
    assert result.exit_code == 1 and "leakage" in result.stderr


def test_latent_score_is_never_a_feature(sqlite_cli, planted_snapshot):
    result = sqlite_cli("train", planted_snapshot, "--features", "tabular,latent_score", "--allow-leakage", ok=False)
    assert result.exit_code == 1 and "never a feature" in result.stderr


def test_allow_leakage_reproduces_seed_000_and_stamps_the_report(sqlite_cli, planted_snapshot):
    report, result = _train(sqlite_cli, planted_snapshot, "--features", "tabular,engagement", "--allow-leakage", "--run", "leaky")
    assert report["metrics"]["test"]["mlp"]["auc"] > 0.97  # the label's own inputs give it away
    assert any(w.startswith("LEAKAGE") for w in report["warnings"]) and "LEAKAGE" in result.stderr
    card = (sqlite_cli.home / "runs/leaky/MODEL_CARD.md").read_text()
    assert "LEAKAGE" in card and "| leakage allowed | **yes**" in card


def test_regression_target_reports_errors_beside_a_mean_predictor(sqlite_cli, planted_snapshot):
    report, _ = _train(sqlite_cli, planted_snapshot, "--target", "virality_weighted", "--run", "reg")
    test = report["metrics"]["test"]
    assert set(test) == {"mlp", "mean", "ridge"}
    assert test["mlp"]["rmse"] < test["mean"]["rmse"] and test["mlp"]["spearman"] > 0.5
    assert np.isclose(test["mlp"]["rmse"] ** 2, test["mlp"]["mse"])
    assert (sqlite_cli.home / "runs/reg/pred_vs_true.png").is_file()


@pytest.mark.parametrize("rule", ["f1", "youden"])
def test_threshold_is_the_best_one_on_validation(sqlite_cli, planted_snapshot, rule):
    from sklearn.metrics import f1_score

    report, _ = _train(sqlite_cli, planted_snapshot, "--run", rule, "--threshold", rule, "--epochs", "3")
    chosen = report["metrics"]["threshold"]
    assert chosen["rule"] == rule
    val = pd.read_parquet(sqlite_cli.home / "runs" / rule / "predictions.parquet").query("split == 'val'")
    y, scores = val["target"].to_numpy(), val["score"].to_numpy()

    def quality(t):
        predicted = scores >= t
        if rule == "f1":
            return f1_score(y, predicted)
        return predicted[y == 1].mean() - predicted[y == 0].mean()  # Youden's J = TPR - FPR

    best = max(quality(t) for t in np.unique(scores))
    assert quality(chosen["value"]) == pytest.approx(best, abs=1e-9)


def test_runs_are_never_overwritten(sqlite_cli, planted_snapshot):
    _train(sqlite_cli, planted_snapshot, "--run", "once", "--epochs", "1")
    result = sqlite_cli("train", planted_snapshot, "--run", "once", "--epochs", "1", ok=False)
    assert result.exit_code == 1 and "never overwritten" in result.stderr


def test_unknown_snapshot_and_target_are_clean_errors(sqlite_cli, planted_snapshot):
    missing = sqlite_cli("train", "nothing@v1", ok=False)
    assert missing.exit_code == 1 and "no snapshot named 'nothing'" in missing.stderr
    version = sqlite_cli("train", "planted@v9", ok=False)
    assert "has no version v9; versions: v1" in version.stderr
    target = sqlite_cli("train", planted_snapshot, "--target", "likes", ok=False)
    assert "unknown target 'likes'" in target.stderr


def test_training_on_extracted_features_joins_them_by_media(sqlite_cli, media_snapshot, tiny_models):
    sqlite_cli("extract", media_snapshot, "--extractor", "music", "--model", str(tiny_models["music"]))
    report, _ = _train(sqlite_cli, media_snapshot, "--features", "tabular,music", "--run", "with-music", "--epochs", "2")
    info = json.loads((sqlite_cli.home / "runs/with-music/run.json").read_text())
    assert {"music_score", "music", "music_missing"} <= set(info["scaler"]["columns"])
    # 12 rows with a target: 8 of them have decodable media (the broken file and the row without media do not)
    assert info["features"]["extractors"]["music"]["coverage"] == pytest.approx(8 / 12, abs=1e-3)
    assert info["features"]["extractors"]["music"]["weights_fingerprint"]


def test_training_on_features_not_extracted_names_the_command(sqlite_cli, media_snapshot):
    result = sqlite_cli("train", media_snapshot, "--features", "tabular,r2plus1d", ok=False)
    assert result.exit_code == 1 and "curate extract clips@v1 --extractor r2plus1d" in result.stderr
