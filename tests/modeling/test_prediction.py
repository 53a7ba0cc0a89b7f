"""``curate predict``: new media files (features from the file, the options, or train medians) and snapshot videos."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from modeling.extractors import EXTRACTORS
from tests.conftest import Cli
from tests.modeling.conftest import _ffmpeg, media_frame
from tests.modeling.planted import write_snapshot


@pytest.fixture(scope="module")
def clips_cli(tmp_path_factory, videos):
    """One data folder for the module (prediction only reads it): ``clips@v1`` and a run on it."""
    folder = tmp_path_factory.mktemp("predict")
    cli = Cli(folder / "home", f"sqlite:///{folder / 'catalog.db'}")
    write_snapshot(cli.home, media_frame(cli.home, videos), name="clips")
    return cli


@pytest.fixture(scope="module")
def music_run(clips_cli, tiny_models) -> str:
    """A run on ``clips@v1`` with tabular features and the tiny music classifier's."""
    clips_cli("extract", "clips@v1", "--extractor", "music", "--model", str(tiny_models["music"]))
    clips_cli("train", "clips@v1", "--features", "tabular,music", "--run", "clips-run", "--epochs", "2")
    return "clips-run"


def _predict(cli, *args):
    return json.loads(cli("predict", *args, "--json").stdout)["predictions"]


def test_new_file_is_scored_with_what_it_gives_and_what_is_imputed(clips_cli, music_run, tmp_path, monkeypatch):
    clip = _ffmpeg(tmp_path / "new.mp4", "-f", "lavfi", "-i", "testsrc=size=64x112:rate=20:duration=1.2", "-f", "lavfi", "-i", "sine=frequency=880:duration=1.2", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    calls = []
    original = EXTRACTORS["music"].run
    monkeypatch.setattr(EXTRACTORS["music"], "run", lambda self, batch: calls.append(len(batch)) or original(self, batch))
    bare, given = _predict(clips_cli, music_run, str(clip)), _predict(
        clips_cli, music_run, str(clip), "--followers", "12000", "--following", "300", "--posted-at", "2024-06-01T18:00",
        "--account-created", "2022-01-01", "--caption", "new dance", "--hashtags", "fyp,dance", "--category", "dance", "--music-original",
    )  # fmt: skip
    assert calls == [1, 1]  # the music classifier really ran on the new file
    for answer in (*bare, *given):
        assert answer["kind"] == "file" and answer["error"] is None
        assert 0 <= answer["score"] <= 1 and answer["label"] in ("viral", "not viral")
    assert {"followers", "following", "account_age_days", "post_hour", "post_weekday", "caption_length", "category"} <= set(bare[0]["imputed"])
    assert given[0]["imputed"] == []
    assert bare[0]["score"] != given[0]["score"]


def test_a_file_seen_in_extraction_reuses_the_cache(clips_cli, music_run, videos, monkeypatch):
    monkeypatch.setattr(EXTRACTORS["music"], "run", lambda self, batch: pytest.fail("computed a cached file again"))
    answer = _predict(clips_cli, music_run, str(videos["tone"]))[0]
    assert answer["error"] is None and 0 <= answer["score"] <= 1


def test_snapshot_video_scores_as_in_the_run_predictions(clips_cli, music_run):
    stored = pd.read_parquet(clips_cli.home / "runs" / music_run / "predictions.parquet").set_index("video_id")
    ids = list(stored.index[:3])
    answers = _predict(clips_cli, music_run, *ids)
    for video_id, answer in zip(ids, answers, strict=True):
        assert answer["kind"] == "video_id" and answer["error"] is None
        assert answer["score"] == pytest.approx(stored.loc[video_id, "score"], abs=1e-6)
        assert answer["label"] == ("viral" if stored.loc[video_id, "predicted"] else "not viral")


def test_bad_inputs_get_an_answer_each_without_stopping_the_others(clips_cli, music_run, videos):
    answers = _predict(clips_cli, music_run, "nope.mp4", "123", str(videos["broken"]), str(videos["silent"]))
    assert "neither a media file nor a video id" in answers[0]["error"]
    assert "not in clips@v1" in answers[1]["error"]
    assert answers[2]["error"] and "MediaError" in answers[2]["error"]
    assert answers[3]["error"] is None


def test_human_output_is_a_table(clips_cli, music_run, videos):
    result = clips_cli("predict", music_run, str(videos["silent"]), "--followers", "100")
    assert "P(viral)" in result.stdout and "silent.mp4" in result.stdout and "imputed" in result.stdout


def test_other_weights_than_training_are_refused(clips_cli, music_run, tiny_models, tmp_path, videos):
    other = tmp_path / "ast-other"
    shutil.copytree(tiny_models["music"], other)
    (other / "config.json").write_text((other / "config.json").read_text() + "\n")
    result = clips_cli("predict", music_run, str(videos["silent"]), "--model", f"music={other}", ok=False)
    assert result.exit_code == 1 and "not the ones the run was trained with" in result.stderr and "Traceback" not in result.stderr


def test_regression_run_predicts_a_value(sqlite_cli, planted_snapshot):
    sqlite_cli("train", planted_snapshot, "--target", "virality_weighted", "--run", "reg", "--epochs", "2")
    stored = pd.read_parquet(sqlite_cli.home / "runs/reg/predictions.parquet")
    answer = _predict(sqlite_cli, "reg", stored["video_id"].iloc[0])[0]
    assert answer["label"] is None and answer["score"] == pytest.approx(stored["score"].iloc[0], abs=1e-6)


def test_unknown_run_is_a_clean_error(sqlite_cli):
    result = sqlite_cli("predict", "no-such-run", "1", ok=False)
    assert result.exit_code == 1 and "no run named 'no-such-run'" in result.stderr
