"""``--features words``: caption, hashtags, on-screen text and transcript through TF-IDF + SVD fitted on train only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from modeling.words import WordsModel
from tests.modeling.planted import planted_frame, write_snapshot


def test_fitted_on_train_only_and_reproduced_after_saving(tmp_path):
    train = pd.Series(["cat video #pets", "dog video #pets", "new dance #fyp", "dance challenge #fyp"] * 5)
    model = WordsModel.fit(train)
    again = WordsModel.load(model.save(tmp_path / "words.npz"))
    texts = pd.Series(["cat dance", "", "words never seen in train"])
    assert np.allclose(model.transform(texts), again.transform(texts))
    columns = model.transform(texts)
    assert (columns.iloc[1] == 0).all() and (columns.iloc[2] == 0).all()  # nothing known: no direction
    assert np.linalg.norm(columns.iloc[0]) > 0.1


def test_words_carry_a_signal_hidden_in_captions(sqlite_cli):
    frame = planted_frame(800, seed=3)
    rng = np.random.default_rng(1)
    # the label is written in the caption's words only: tabular features cannot see it
    frame["caption"] = np.where(frame["viral_er"], "omg best recipe ever", "quick update today") + " " + pd.Series(rng.integers(0, 99, len(frame))).astype(str)
    write_snapshot(sqlite_cli.home, frame, name="captions")
    report = json.loads(sqlite_cli("train", "captions@v1", "--features", "words", "--run", "words", "--epochs", "5", "--json").stdout)
    assert report["metrics"]["test"]["mlp"]["auc"] > 0.95 and report["metrics"]["n_features"] <= 32
    run = json.loads((sqlite_cli.home / "runs" / "words" / "run.json").read_text())
    assert run["features"]["words"]["file"] == "words.npz" and (sqlite_cli.home / "runs" / "words" / "words.npz").is_file()
    viral = frame.loc[frame["viral_er"] & (frame["split"] == "test"), "video_id"].iloc[0]
    answer = json.loads(sqlite_cli("predict", "words", viral, "--json").stdout)["predictions"][0]
    predictions = pd.read_parquet(sqlite_cli.home / "runs" / "words" / "predictions.parquet").set_index("video_id")
    assert abs(answer["score"] - predictions.at[viral, "score"]) < 1e-5


def test_words_read_the_on_screen_text_extracted_before(sqlite_cli, media_snapshot):
    sqlite_cli("extract", media_snapshot, "--extractor", "ocr", "-o", "frames=1")
    report = json.loads(sqlite_cli("train", media_snapshot, "--features", "tabular,words", "--run", "w", "--epochs", "1", "--json").stdout)
    assert "words" in report["metrics"]["features"]
    run = json.loads((sqlite_cli.home / "runs" / "w" / "run.json").read_text())
    assert [s.split(":")[0] for s in run["features"]["words"]["text_sources"]] == ["ocr"]
