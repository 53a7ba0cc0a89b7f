"""The simulator: determinism, row independence, the presets' ranges and quartiles, planted signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synth
from core.errors import ConfigError
from synth.counters import id_keys, uniforms

REF = "2025-01-01"
SEED_001_QUARTILES = {
    "comments": (145, 527, 1_743), "likes": (23_500, 78_600, 258_675),
    "plays": (281_125, 803_750, 2_300_000), "shares": (135, 903, 4_732),
}


def world(n_videos: int, preset: synth.Preset, seed: int = 3, n_authors: int | None = None) -> pd.DataFrame:
    """Authors simulated with the preset, videos attached to them: the simulator's inputs."""
    n_authors = n_authors or max(n_videos // 10, 1)
    authors = synth.simulate_authors([f"a{i}" for i in range(n_authors)], preset, seed)
    videos = pd.DataFrame({
        "video_id": [str(7_300_000_000_000_000_000 + i) for i in range(n_videos)],
        "author_id": [f"a{i % n_authors}" for i in range(n_videos)],
    })
    return videos.merge(authors, on="author_id", how="left")


@pytest.fixture(scope="module")
def seed000():
    preset = synth.get_preset("seed-000")
    inputs = world(20_000, preset)
    return inputs, synth.simulate_videos(inputs, preset, seed=3)


def test_same_seed_same_values_other_seed_other_values(seed000):
    inputs, first = seed000
    preset = synth.get_preset("seed-000")
    pd.testing.assert_frame_equal(first, synth.simulate_videos(inputs, preset, seed=3))
    other = synth.simulate_videos(inputs, preset, seed=4)
    assert (other["likes"] != first["likes"]).mean() > 0.9


def test_a_rows_values_do_not_depend_on_the_other_rows_or_their_order(seed000):
    inputs, full = seed000
    preset = synth.get_preset("seed-000")
    picked = inputs.sample(500, random_state=1)  # a subset, shuffled
    alone = synth.simulate_videos(picked, preset, seed=3).set_index("video_id")
    expected = full.set_index("video_id").loc[alone.index]
    pd.testing.assert_frame_equal(alone, expected)
    authors = synth.simulate_authors(["a5", "a1"], preset, 3).set_index("author_id")
    assert authors.loc["a1", "followers"] == synth.simulate_authors(["a1"], preset, 3)["followers"].iat[0]


def test_seed_000_follows_annex_a2(seed000):
    inputs, out = seed000
    authors = synth.simulate_authors([f"a{i}" for i in range(5000)], synth.get_preset("seed-000"), 1)
    assert authors["followers"].between(100, 1_000_000).all()
    assert authors["following"].between(50, 10_000).all()
    assert authors["account_created_at"].between(pd.Timestamp("2017-01-01", tz="UTC"), pd.Timestamp(REF, tz="UTC")).all()
    assert authors["account_created_at"].dt.year.value_counts().idxmax() == 2024  # exponential age: recent accounts dominate
    assert (out["create_time"] >= inputs["account_created_at"]).all() and (out["create_time"] <= pd.Timestamp(REF, tz="UTC")).all()
    big = out[out["likes"] >= 2_000]  # large counts: rounding does not blur the ratios
    interactions = big["likes"] + big["comments"] + big["shares"]
    assert (interactions / big["followers"] * 100).between(0.39, 8.01).all()
    assert (big["comments"] / big["likes"]).between(0.0299, 0.1501).all()
    assert (big["shares"] / big["likes"]).between(0.0099, 0.0701).all()
    like_rate = out["likes"].sum() / out["plays"].sum()
    assert 0.05 < np.median(big["likes"] / big["plays"]) < 0.2 and like_rate < 0.5
    assert out["latent_score"].isna().all()


def test_viral_vision_reproduces_seed_001_quartiles_within_10_percent():
    preset = synth.get_preset("viral-vision")
    out = synth.simulate_videos(world(100_000, preset), preset, seed=11)
    for metric, quartiles in SEED_001_QUARTILES.items():
        simulated = np.percentile(out[metric], [25, 50, 75])
        np.testing.assert_allclose(simulated, quartiles, rtol=0.10, err_msg=metric)
    corr = np.corrcoef(np.log1p(out[["plays", "likes"]].to_numpy()).T)[0, 1]
    assert corr > 0.8  # plays and likes move together
    assert (out["plays"] >= out["likes"]).all()


def test_create_time_is_kept_when_known_and_drawn_when_missing():
    preset = synth.get_preset("seed-000")
    inputs = world(4, preset)
    inputs["create_time"] = [pd.Timestamp("2024-05-01", tz="UTC"), None, None, pd.Timestamp("2023-01-02", tz="UTC")]
    out = synth.simulate_videos(inputs, preset, 0)
    assert out["create_time"].iat[0] == pd.Timestamp("2024-05-01", tz="UTC")
    assert out["create_time"].iat[3] == pd.Timestamp("2023-01-02", tz="UTC")
    assert out["create_time"].notna().all()


def test_unknown_followers_are_drawn_from_the_preset():
    preset = synth.get_preset("seed-000")
    inputs = world(50, preset)
    inputs["followers"] = None
    out = synth.simulate_videos(inputs, preset, 0)
    assert out["followers"].between(100, 1_000_000).all()


def test_planted_signal_records_the_latent_score_and_it_shifts_engagement():
    preset = synth.get_preset("viral-vision")
    inputs = world(30_000, preset)
    inputs["category"] = np.where(np.arange(len(inputs)) % 3 == 0, "pets", None)
    inputs["music_original"] = np.arange(len(inputs)) % 2 == 0
    inputs["duration_s"] = 15.0
    out = synth.simulate_videos(inputs, preset, seed=5, planted_signal=True)
    given = inputs["category"].notna().to_numpy()
    assert (out.loc[given, "category"] == "pets").all() and not out.loc[given, "category_simulated"].any()
    assert out.loc[~given, "category_simulated"].all() and out.loc[~given, "category"].isin(synth.CATEGORIES).all()
    assert out["latent_score"].notna().all()
    pets_trending = out["latent_score"][given & ~inputs["music_original"].to_numpy()]
    assert np.allclose(pets_trending, 0.6 + 0.3)  # category effect + trending sound, duration at the peak
    high = out["latent_score"] > out["latent_score"].median()
    assert np.log(out.loc[high, "likes"]).mean() > np.log(out.loc[~high, "likes"]).mean() + 0.3
    plain = synth.simulate_videos(inputs, preset, seed=5)
    assert plain["latent_score"].isna().all() and not plain["category_simulated"].any()


def test_calibrate_recovers_log_normal_marginals_and_correlation():
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], size=5000)
    observed = pd.DataFrame({"plays": np.rint(np.exp(12 + 1.5 * z[:, 0])), "likes": np.rint(np.exp(9 + 1.2 * z[:, 1])),
                             "comments": np.rint(np.exp(5 + rng.normal(size=5000))), "shares": 0, "saves": None,
                             "followers": np.rint(np.exp(10 + rng.normal(size=5000)))})
    preset = synth.calibrate(observed)
    engagement = preset.engagement
    assert engagement.plays.median == pytest.approx(np.exp(12), rel=0.05)
    assert engagement.plays.sigma_low == pytest.approx(1.5, rel=0.05)
    assert engagement.likes.sigma_high == pytest.approx(1.2, rel=0.05)
    assert engagement.matrix()[1, 2] == pytest.approx(0.7, abs=0.05)
    assert "saves" in preset.description and "shares" in preset.description  # too few positive values: kept from base
    out = synth.simulate_videos(world(20_000, preset), preset, 1)
    assert np.median(out["plays"]) == pytest.approx(np.exp(12), rel=0.1)


def test_calibrate_refuses_too_few_rows():
    with pytest.raises(synth.CalibrationError, match="at least 20"):
        synth.calibrate(pd.DataFrame({"plays": [1, 2], "likes": [1, 1]}))


def test_presets_are_named_hashed_and_round_trip():
    assert set(synth.PRESETS) == {"seed-000", "viral-vision"}
    for preset in synth.PRESETS.values():
        assert synth.Preset.from_dict(preset.to_dict()) == preset
        assert len(preset.params_hash()) == 64
    p = synth.get_preset("seed-000")
    assert p.params_hash() == synth.get_preset("seed-000").params_hash()
    assert p.with_reference_date("2024-01-01").params_hash() != p.params_hash()
    with pytest.raises(ConfigError, match="viral-vision"):
        synth.get_preset("nope")


def test_missing_inputs_are_a_clean_error():
    with pytest.raises(synth.SimulationError, match="followers"):
        synth.simulate_videos(pd.DataFrame({"video_id": ["1"], "author_id": ["2"]}), synth.get_preset("seed-000"), 0)


def test_id_keys_and_uniforms_are_stable_per_id():
    keys = id_keys(["1", "01", "10", "", "1"])
    assert keys[0] == keys[4] and len(set(keys[:4].tolist())) == 4
    assert (id_keys(pd.Series(["x", "y", "z"])[1:]) == id_keys(["y", "z"])).all()
    u = uniforms(id_keys([str(i) for i in range(100_000)]), seed=1, stream=1)
    assert 0 < u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
