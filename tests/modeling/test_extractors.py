"""Every extractor through ``curate extract`` with a tiny model loaded by its real loading code, and the cache."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from modeling.cache import FeatureCache, FeatureIndex
from modeling.extractors import CATEGORIES, EXTRACTORS
from tests.modeling.conftest import media_frame
from tests.modeling.planted import write_snapshot

MEDIA_EXTRACTORS = ["r2plus1d", "resnet50", "videomae", "whisper", "music", "description"]
#: the real torchvision networks on small inputs (their defaults, 16×112² clips and 224² frames, are exercised in test_media)
SMALL_INPUTS = {"r2plus1d": ("-o", "frames=4", "-o", "size=32"), "resnet50": ("-o", "size=64")}


def _extract(cli, ref, name, model, *extra):
    result = cli("extract", ref, "--extractor", name, "--model", model, "--json", *extra)
    return json.loads(result.stdout)


def _outputs(home, name, summary):
    return FeatureCache(home / "features", name, summary["cache_key"]).read()


@pytest.mark.parametrize("name", MEDIA_EXTRACTORS)
def test_media_extractor_runs_on_decodable_clips_and_records_the_broken_one(sqlite_cli, media_snapshot, tiny_models, name):
    extra = ("--translate-to", "spa_Latn", "--translator", str(tiny_models["nllb"])) if name == "description" else SMALL_INPUTS.get(name, ())
    summary = _extract(sqlite_cli, media_snapshot, name, str(tiny_models[name]), *extra)
    # 12 rows over 3 files: the two good files are computed once each, the broken one fails for its 3 rows
    assert (summary["ok"], summary["failed"], summary["no_input"], summary["total"]) == (8, 3, 1, 12)
    assert (summary["computed"], summary["cached"]) == (2, 0)
    assert set(summary["reasons"]) <= {"MediaError", "InvalidDataError"}
    outputs = _outputs(sqlite_cli.home, name, summary)
    assert len(outputs) == 2
    _check_outputs(name, outputs)
    index = FeatureIndex(sqlite_cli.home / "features", "clips", 1).read(name)
    assert index.keys["status"].value_counts().to_dict() == {"ok": 8, "error": 3, "no_input": 1}


def _check_outputs(name, outputs):
    if name in ("r2plus1d", "resnet50", "videomae"):
        width = {"r2plus1d": 512, "resnet50": 2048, "videomae": 32}[name]
        matrix = np.stack(outputs["embedding"].to_numpy())
        assert matrix.shape == (2, width) and np.isfinite(matrix).all()
        assert not np.allclose(matrix[0], matrix[1])  # two different clips, two different embeddings
    elif name == "whisper":
        assert outputs["transcript"].map(type).eq(str).all()
        assert set(outputs["language"].dropna()) <= {"en", "es"}
        assert sorted(outputs["has_audio"]) == [False, True]  # the silent clip has no audio stream
    elif name == "music":
        assert outputs["music_score"].between(0, 1).all()
        assert sorted(outputs["has_audio"]) == [False, True]
        assert outputs.loc[~outputs["has_audio"], "music_score"].eq(0).all()
    else:
        assert outputs["description"].map(type).eq(str).all()
        assert outputs["translation_lang"].eq("spa_Latn").all() and outputs["description_translated"].map(type).eq(str).all()


@pytest.mark.parametrize("name", ["text", "category"])
def test_text_extractors_embed_every_caption(sqlite_cli, media_snapshot, tiny_models, name):
    summary = _extract(sqlite_cli, media_snapshot, name, str(tiny_models[name]))
    assert (summary["computed"], summary["ok"], summary["failed"], summary["total"]) == (12, 12, 0, 12)  # twelve distinct captions
    outputs = _outputs(sqlite_cli.home, name, summary)
    if name == "text":
        vectors = np.stack(outputs["embedding"].to_numpy())
        assert vectors.shape == (12, 32)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    else:
        assert set(outputs["category"]) <= set(CATEGORIES)
        scores = np.stack(outputs["category_scores"].to_numpy())
        assert scores.shape == (12, 13) and np.allclose(scores.sum(1), 1, atol=1e-5)
        assert np.allclose(scores.max(1), outputs["category_confidence"])


def test_text_includes_transcripts_and_descriptions_extracted_before(sqlite_cli, media_snapshot, tiny_models):
    _extract(sqlite_cli, media_snapshot, "whisper", str(tiny_models["whisper"]))
    _extract(sqlite_cli, media_snapshot, "description", str(tiny_models["description"]))
    summary = _extract(sqlite_cli, media_snapshot, "category", str(tiny_models["category"]))
    sources = FeatureIndex(sqlite_cli.home / "features", "clips", 1).read("category").info["text_sources"]
    assert [s.split(":")[0] for s in sources] == ["whisper", "description"]
    assert summary["ok"] == 12


def test_every_input_failing_is_an_error(sqlite_cli, videos, tiny_models):
    frame = media_frame(sqlite_cli.home, videos)
    frame["media_path"], frame["media_sha256"] = "media/broken.mp4", None
    write_snapshot(sqlite_cli.home, frame, name="broken")
    result = sqlite_cli("extract", "broken@v1", "--extractor", "videomae", "--model", str(tiny_models["videomae"]), ok=False)
    assert result.exit_code == 1 and "every videomae input failed; first: MediaError" in result.stderr


def test_second_run_computes_nothing(sqlite_cli, media_snapshot, tiny_models, monkeypatch):
    calls = []
    original = EXTRACTORS["videomae"].run
    monkeypatch.setattr(EXTRACTORS["videomae"], "run", lambda self, batch: calls.append(len(batch)) or original(self, batch))
    first = _extract(sqlite_cli, media_snapshot, "videomae", str(tiny_models["videomae"]))
    assert sum(calls) == 2 and first["computed"] == 2
    calls.clear()
    second = _extract(sqlite_cli, media_snapshot, "videomae", str(tiny_models["videomae"]))
    assert calls == [] and (second["computed"], second["cached"], second["ok"]) == (0, 2, 8)
    assert second["cache_key"] == first["cache_key"]
    folder = sqlite_cli.home / "features" / "videomae" / first["cache_key"]
    assert len(list(folder.glob("part-*.parquet"))) == 1 and not list(folder.glob(".*tmp"))  # shards are renamed into place


def test_other_weights_are_another_cache_entry(sqlite_cli, media_snapshot, tiny_models, tmp_path):
    other = tmp_path / "videomae-other"
    shutil.copytree(tiny_models["videomae"], other)
    (other / "config.json").write_text((other / "config.json").read_text() + "\n")  # one byte more: other files, other fingerprint
    first = _extract(sqlite_cli, media_snapshot, "videomae", str(tiny_models["videomae"]))
    second = _extract(sqlite_cli, media_snapshot, "videomae", str(other))
    assert first["cache_key"] != second["cache_key"] and second["computed"] == 2


def test_changed_media_is_refused(sqlite_cli, media_snapshot, tiny_models):
    clip = sqlite_cli.home / "media" / "tone.mp4"
    clip.write_bytes(clip.read_bytes() + b"\0")
    summary = _extract(sqlite_cli, media_snapshot, "videomae", str(tiny_models["videomae"]))
    assert summary["computed"] == 1 and summary["failed"] == 7 and summary["ok"] == 4
    assert any("changed since the snapshot" in e for e in summary["examples"])


def test_missing_hub_weights_name_the_model_and_how_to_provide_it(sqlite_cli, media_snapshot):
    result = sqlite_cli("extract", media_snapshot, "--extractor", "videomae", ok=False)
    assert result.exit_code == 3
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "MCG-NJU/videomae-base" in message and "--model" in message and "CURATE_MODEL_VIDEOMAE" in message


def test_missing_torchvision_weights_say_where_the_file_goes(sqlite_cli, media_snapshot, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    result = sqlite_cli("extract", media_snapshot, "--extractor", "r2plus1d", ok=False)
    assert result.exit_code == 3
    assert "R2Plus1D_18_Weights.KINETICS400_V1" in result.stderr and "https://download.pytorch.org/models/" in result.stderr


def test_model_named_in_config_is_used(sqlite_cli, media_snapshot, tiny_models):
    (sqlite_cli.home / "config.toml").write_text(f'[models]\nmusic = "{tiny_models["music"]}"\n')
    result = sqlite_cli("extract", media_snapshot, "--extractor", "music", "--json")
    assert json.loads(result.stdout)["computed"] == 2


def test_a_model_of_the_wrong_kind_is_a_clean_error(sqlite_cli, media_snapshot, tiny_models):
    result = sqlite_cli("extract", media_snapshot, "--extractor", "category", "--model", str(tiny_models["text"]), ok=False)
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "not an NLI model" in result.stderr or "not a usable" in result.stderr


def test_unknown_option_lists_the_extractors_options(sqlite_cli, media_snapshot, tiny_models):
    result = sqlite_cli("extract", media_snapshot, "--extractor", "music", "--model", str(tiny_models["music"]), "-o", "window=3", ok=False)
    assert result.exit_code == 1 and "music has no option window; its options: window_s (default 10.0)" in result.stderr


def test_unknown_extractor_lists_the_known_ones(sqlite_cli, media_snapshot):
    result = sqlite_cli("extract", media_snapshot, "--extractor", "clip", ok=False)
    assert result.exit_code == 1 and "have: r2plus1d, resnet50" in result.stderr
