"""The synthetic world: deterministic by seed, realistic shapes, a graph a crawl can walk, counts from synth."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import synth
from core.errors import CurateError
from sandbox import World
from sandbox.graph import MAX_RELATED
from sandbox.vocab import CATEGORIES, tag_table
from tests.sandbox.conftest import WORLD_SEED, WORLD_VIDEOS, rows_where


def test_same_seed_same_world_and_items(world, media_cache):
    again = World.build(videos=WORLD_VIDEOS, seed=WORLD_SEED, cache_dir=media_cache)
    assert again.fingerprint == world.fingerprint
    assert again.items == world.items
    some = world.items[::37]
    assert [again.item_struct(v) for v in some] == [world.item_struct(v) for v in some]
    assert [again.related(v) for v in some] == [world.related(v) for v in some]


def test_other_seed_other_world(world, media_cache):
    other = World.build(videos=WORLD_VIDEOS, seed=WORLD_SEED + 1, cache_dir=media_cache)
    assert other.fingerprint != world.fingerprint
    assert not set(other.ids) & set(world.ids)
    assert other.items[:25] != world.items[:25]


def test_ids_are_unique_digit_strings_carrying_their_create_time(world):
    videos, authors = world.videos, world.authors
    assert videos["video_id"].is_unique and authors["author_id"].is_unique and authors["handle"].is_unique
    assert videos["video_id"].str.fullmatch(r"[0-9]{19}").all()
    assert authors["author_id"].str.fullmatch(r"[0-9]{19}").all()
    # like the platform's ids, the high 32 bits are the create time
    assert ((videos["video_id"].astype(np.int64).to_numpy() >> 32) == videos["create_time"].to_numpy()).all()
    assert authors["sec_uid"].str.fullmatch(r"MS4wLjABAAAA[A-Za-z0-9_-]{64}").all()


def test_videos_come_after_their_account_and_before_the_reference_date(world):
    created = world.authors["account_created_at"].iloc[world.videos["author_row"]].dt.as_unit("s").astype("int64").to_numpy()
    assert (world.videos["create_time"].to_numpy() >= created).all()
    assert world.videos["create_time"].max() <= pd.Timestamp(world.spec.reference_date, tz="UTC").timestamp()


def test_a_realistic_mix_of_authors_categories_durations_and_sounds(world):
    videos = world.videos
    per_author = videos["author_row"].value_counts()
    assert per_author.min() >= 1 and per_author.max() >= 5  # everyone posted, a few prolifically
    assert set(videos["category"]) <= set(CATEGORIES) and videos["category"].nunique() >= 8
    assert videos["duration"].between(1, 60).all() and videos["duration"].nunique() > 20
    assert 0.3 < videos["music_original"].mean() < 0.6
    shared = videos.loc[~videos["music_original"], "music_id"]
    assert shared.value_counts().max() >= 5  # popular sounds are reused
    assert (videos["caption"] == "").any() and videos["caption"].str.contains("#").mean() > 0.8


def test_counts_are_drawn_by_synth_with_content_signal(world):
    authors = world.authors.iloc[world.videos["author_row"]].reset_index(drop=True)
    inputs = pd.DataFrame({
        "video_id": world.videos["video_id"], "author_id": world.videos["author_id"],
        "followers": authors["followers"], "account_created_at": authors["account_created_at"],
        "create_time": pd.to_datetime(world.videos["create_time"], unit="s", utc=True),
        "category": world.videos["category"], "music_original": world.videos["music_original"],
        "duration_s": world.videos["duration"].astype(float), "planted_latent": world.videos["content_score"],
    })
    preset = synth.get_preset("seed-000")
    drawn = synth.simulate_videos(inputs, preset, WORLD_SEED, world.spec.reference_date, planted_signal=True)
    flat = synth.simulate_videos(inputs, preset, WORLD_SEED, world.spec.reference_date, planted_signal=False)
    assert (drawn["likes"].to_numpy() != flat["likes"].to_numpy()).mean() > 0.5  # content moved engagement
    # a duplicate re-upload declares its original's duration after its counts were drawn
    own = world.videos["media_kind"].to_numpy() != "duplicate"
    for column in ("plays", "likes", "comments", "shares", "saves"):
        assert (drawn[column].to_numpy() == world.videos[column].to_numpy())[own].all(), column
    again = synth.simulate_authors(world.authors["author_id"], synth.get_preset("seed-000"), WORLD_SEED, world.spec.reference_date)
    assert (again["followers"].to_numpy() == world.authors["followers"].to_numpy()).all()


def test_world_states_and_broken_media_are_present(world):
    assert len(rows_where(world, visibility="private")) >= 1 and len(rows_where(world, visibility="deleted")) >= 1
    kinds = world.videos["media_kind"].value_counts()
    assert {"truncated", "empty", "html", "duplicate"} <= set(kinds.index)
    dups = world.videos[world.videos["media_kind"] == "duplicate"]
    originals = world.videos.iloc[dups["dup_of"]]
    assert (originals["media_kind"] == "ok").all() and (originals["visibility"] == "public").all()
    assert (originals["video_id"].to_numpy() != dups["video_id"].to_numpy()).all()


def test_for_you_order_is_every_public_video_once(world):
    public = set(rows_where(world, visibility="public"))
    assert len(world.items) == len(set(world.items)) == len(public)
    assert set(world.items) == public


def test_related_lists_are_finite_ordered_and_without_self_or_repeats(world):
    sizes = world.graph.sizes()
    assert sizes.max() <= MAX_RELATED and (sizes == 0).any() and sizes.mean() > 20
    for video_id in world.ids:
        related = world.related(video_id)
        assert video_id not in related and len(related) == len(set(related))
    # stale lists may name videos that are private or gone since, as on the platform
    hidden = set(rows_where(world, visibility="private")) | set(rows_where(world, visibility="deleted"))
    assert any(hidden & set(world.related(v)) for v in world.ids)


def test_a_recursive_crawl_from_the_feed_reaches_most_of_the_world(world):
    rng = random.Random(0)
    members = list(world.items[:25])
    seen, frontier = set(members), list(members)
    while frontier:
        parent = frontier.pop(rng.randrange(len(frontier)))
        for child in world.related(parent)[:5]:
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    assert len(seen) > 0.8 * len(world.ids)


def test_related_lists_favour_the_same_category_and_author(world):
    category = dict(zip(world.videos["video_id"], world.videos["category"]))
    same = [category[c] == category[v] for v in world.ids[:100] for c in world.related(v)]
    # over half of the slots draw from the category (plus chance matches among the rest)
    assert np.mean(same) > 0.5


def test_hashtag_names_are_unique_and_captions_use_them(world):
    names, _, index = tag_table()
    assert len(names) == len(index)
    for video_id in world.items[:50]:
        item = world.item_struct(video_id)
        for tag in item.get("challenges", []):
            assert f"#{tag['title']}" in item["desc"]


def test_bad_sizes_and_unknown_ids_are_clean_errors(world):
    with pytest.raises(CurateError, match="1 to"):
        World.build(videos=0)
    with pytest.raises(CurateError, match="no video 123"):
        world.item_struct("123")
    with pytest.raises(KeyError):
        world.related("nope")
