"""The feature cache's shards and index, and the weights fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import CurateError, MissingComponent
from modeling.cache import FeatureCache, FeatureIndex, vectors
from modeling.weights import fingerprint, resolve


def test_newest_shard_wins_and_vectors_round_trip(tmp_path):
    cache = FeatureCache(tmp_path, "x", "k1")
    cache.write([{"key": "a", "embedding": np.ones(3, np.float32), "n": 1}, {"key": "b", "embedding": np.zeros(3, np.float32), "n": 2}])
    cache.write([{"key": "a", "embedding": np.full(3, 2, np.float32), "n": 3}])
    assert cache.keys() == {"a", "b"}
    frame = cache.read().set_index("key")
    assert frame.loc["a", "n"] == 3 and vectors(frame.loc[["a", "b"], "embedding"]).tolist() == [[2, 2, 2], [0, 0, 0]]
    assert cache.read(["b"])["key"].tolist() == ["b"]
    assert FeatureCache(tmp_path, "x", "other").keys() == set()


def test_index_without_extraction_names_the_command(tmp_path):
    with pytest.raises(CurateError, match="run `curate extract snap@v2 --extractor music` first"):
        FeatureIndex(tmp_path, "snap", 2).read("music")


def test_index_round_trip(tmp_path):
    keys = pd.DataFrame({"video_id": ["1", "2"], "key": ["a", None], "status": ["ok", "no_input"], "error": [None, None]})
    FeatureIndex(tmp_path, "snap", 1).write("music", "k1", {"model": "m"}, keys)
    entry = FeatureIndex(tmp_path, "snap", 1).read("music")
    assert entry.cache_key == "k1" and entry.info == {"model": "m"} and entry.keys["status"].tolist() == ["ok", "no_input"]


def test_fingerprint_follows_content_and_is_remembered(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"abc")
    (model / "config.json").write_text("{}")
    memo = tmp_path / "memo.json"
    first = fingerprint(model, memo)
    assert memo.is_file() and fingerprint(model, memo) == first
    (model / "weights.bin").write_bytes(b"abd")
    assert fingerprint(model, memo) != first
    (model / "README.md").write_text("docs do not change the model")
    assert fingerprint(model / "weights.bin") != fingerprint(model)


def test_hub_id_not_cached_offline_is_a_missing_component(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(MissingComponent, match="owner/absent-model.*--model PATH_OR_ID.*CURATE_MODEL_TEXT"):
        resolve("text", "owner/absent-model", "CURATE_MODEL_TEXT")
    with pytest.raises(MissingComponent, match="neither a local path nor"):
        resolve("text", "no-slash", "CURATE_MODEL_TEXT")
