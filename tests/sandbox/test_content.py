"""The sandbox's media carry content, and the planted signal acts through that content only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synth
from sandbox import TEMPLATES, World
from sandbox.content import AUDIO_KINDS, PHRASES, RECIPES, latent_scores


@pytest.fixture(scope="module")
def big_world(tmp_path_factory) -> World:
    """20,000 videos (tables only: no media is made)."""
    return World.build(videos=20_000, seed=4, cache_dir=tmp_path_factory.mktemp("unused-media"))


def test_every_recipe_is_drawn_and_scores_centre_on_zero():
    recipes = np.arange(len(RECIPES))
    assert len(RECIPES) == len(AUDIO_KINDS) * 3 * 8
    assert abs(latent_scores(recipes, np.ones(len(RECIPES), bool)).mean()) < 1e-9
    # a file without sound scores what the soundtracks score on average: the payload's "has audio" tells nothing
    assert abs(latent_scores(recipes, np.zeros(len(RECIPES), bool)).mean()) < 1e-9
    music = [i for i, r in enumerate(RECIPES) if r.audio == "music" and not (r.text or r.cuts or r.motion)]
    silence = [i for i, r in enumerate(RECIPES) if r.audio == "silence" and not (r.text or r.cuts or r.motion)]
    assert latent_scores(np.array(music), np.array([True])).min() > latent_scores(np.array(silence), np.array([True])).max()


def test_content_is_independent_of_what_a_crawl_reads_and_moves_engagement(big_world):
    v = big_world.videos
    assert v["recipe"].nunique() == len(RECIPES)
    followers = big_world.authors["followers"].to_numpy()[v["author_row"]]
    engagement = np.log((v["likes"] + v["comments"] + v["shares"]).clip(lower=1) / followers)
    score = v["content_score"]
    assert engagement.corr(score, method="spearman") > 0.3
    # what a payload shows (category, sound, duration, format) carries none of the planted signal
    category_effect = v["category"].map(dict(zip(synth.get_preset("seed-000").planted.categories, synth.get_preset("seed-000").planted.category_effects)))
    for visible in (category_effect, v["music_original"].astype(float), v["duration"].astype(float), v["template"].astype(float)):
        assert abs(engagement.corr(visible, method="spearman")) < 0.05
        assert abs(score.corr(visible, method="spearman")) < 0.05


def test_without_the_planted_signal_content_does_not_move_engagement(tmp_path):
    world = World.build(videos=20_000, seed=4, cache_dir=tmp_path, planted_signal=False)
    v = world.videos
    followers = world.authors["followers"].to_numpy()[v["author_row"]]
    engagement = np.log((v["likes"] + v["comments"] + v["shares"]).clip(lower=1) / followers)
    assert abs(engagement.corr(v["content_score"], method="spearman")) < 0.05


def _one_per(world: World, wanted) -> dict[str, str]:
    ok = world.videos[(world.videos["media_kind"] == "ok") & (world.videos["visibility"] == "public")]
    # testsrc formats print a clock on the picture: text of their own, so they are left out here
    ok = ok[[not TEMPLATES[t].source.startswith("testsrc") for t in ok["template"]]]
    has_audio = [TEMPLATES[t].audio_hz is not None for t in ok["template"]]
    chosen = {}
    for name, test in wanted.items():
        rows = ok[[test(RECIPES[r], a) for r, a in zip(ok["recipe"], has_audio, strict=True)]]
        chosen[name] = rows["video_id"].iloc[0]
    return chosen


def test_the_bundled_extractors_read_the_content_back(world):
    from modeling.extractors import Item, open_extractor

    chosen = _one_per(world, {
        "music": lambda r, a: a and r.audio == "music" and not r.text and not r.cuts,
        "speech": lambda r, a: a and r.audio == "speech" and r.text and r.cuts,
        "silence": lambda r, a: a and r.audio == "silence" and not r.text and not r.cuts,
    })
    paths = {k: Path(world.media_path(v)) for k, v in chosen.items()}
    outputs = {}
    for name in ("audio_events", "ocr", "signals"):
        extractor = open_extractor(name)
        outputs[name] = pd.DataFrame([extractor.run([extractor.prepare(Item(k, p, None))])[0] for k, p in paths.items()], index=list(paths))
    events, ocr, signals = outputs["audio_events"], outputs["ocr"], outputs["signals"]
    assert events.at["music", "music_share"] > 0.8 and events.at["speech", "speech_share"] > 0.7
    assert events.loc["silence", ["music_share", "speech_share"]].max() == 0 and signals.at["silence", "silence_share"] == 1.0
    assert PHRASES[TEMPLATES.index(world.template_of(chosen["speech"])) % len(PHRASES)] in ocr.at["speech", "ocr_text"]
    assert ocr.loc[["music", "silence"], "text_area_share"].max() == 0
    assert signals.at["speech", "cuts_per_min"] > 20 and signals.loc[["music", "silence"], "cuts_per_min"].max() < 8
