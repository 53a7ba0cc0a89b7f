"""Items have the platform's itemStruct shape: our own field checks, the real payloads' keys, the project's parser."""

from __future__ import annotations

import json

import pytest

from scrapers.parse import parse_item
from tests.sandbox.conftest import rows_where

COUNTS = ("diggCount", "shareCount", "commentCount", "playCount", "collectCount")


@pytest.fixture(scope="module")
def items(world):
    """Fifty items of the feed, with media URLs on a made-up base."""
    return [world.item_struct(v, "http://127.0.0.1:9") for v in world.items[:50]]


def test_item_fields_have_the_platform_types(items):
    for item in items:
        assert item["id"].isdigit() and isinstance(item["desc"], str) and isinstance(item["createTime"], int)
        video = item["video"]
        assert video["id"] == item["id"] and video["format"] == "mp4"
        assert all(isinstance(video[k], int) and video[k] > 0 for k in ("duration", "width", "height"))
        assert video["playAddr"] == f"http://127.0.0.1:9/media/{item['id']}.mp4"
        assert video["downloadAddr"].startswith(video["playAddr"])
        author = item["author"]
        assert author["id"].isdigit() and author["uniqueId"] and author["nickname"] and author["secUid"]
        assert isinstance(author["verified"], bool)
        music = item["music"]
        assert music["id"].isdigit() and music["title"] and isinstance(music["original"], bool) and "authorName" in music
        if "stats" in item:
            assert all(isinstance(item["stats"][k], int) for k in COUNTS)
            assert {k: str(item["stats"][k]) for k in COUNTS} == {k: item["statsV2"][k] for k in COUNTS}
        else:
            assert "statsV2" not in item
        stats = item["authorStats"]
        assert stats["heart"] == stats["heartCount"] and stats["videoCount"] >= 1
        assert all(isinstance(stats[k], int) for k in ("followerCount", "followingCount", "heartCount", "videoCount", "diggCount"))


def test_hashtags_are_in_challenges_and_in_text_extra_with_their_offsets(items):
    tagged = [i for i in items if i.get("challenges")]
    assert len(tagged) > 30
    for item in tagged:
        names = [c["title"] for c in item["challenges"]]
        extra = [e for e in item["textExtra"] if e["type"] == 1]
        assert [e["hashtagName"] for e in sorted(extra, key=lambda e: names.index(e["hashtagName"]))] == names
        for entry in item["textExtra"]:
            word = item["desc"][entry["start"]:entry["end"]]
            assert word == (f"#{entry['hashtagName']}" if entry["type"] == 1 else f"@{entry['userUniqueId']}")


def test_items_carry_every_field_of_a_real_trending_item(realdata, items):
    real = json.loads((realdata / "tiktokapi_trending_items_aug2021__Teerut26.json").read_text())
    for part in (None, "video", "author", "music", "authorStats", "stats"):
        wanted = set.intersection(*(set(r[part] if part else r) for r in real))  # what every real item has
        shown = next(i for i in items if "stats" in i)
        ours = set(shown[part] if part else shown)
        assert wanted <= ours, f"{part or 'item'} lacks {sorted(wanted - ours)}"
    real_tagged = next(r for r in real if r.get("challenges"))
    ours_tagged = next(i for i in items if i.get("challenges"))
    assert set(real_tagged["challenges"][0]) <= set(ours_tagged["challenges"][0])
    assert set(real_tagged["textExtra"][0]) <= set(ours_tagged["textExtra"][0])


def test_the_projects_parser_reads_what_the_world_holds(world):
    for video_id in world.items[:40]:
        row = world.row(video_id)
        video, author = world.videos.iloc[row], world.authors.iloc[world.videos.at[row, "author_row"]]
        parsed = parse_item(world.item_struct(video_id))
        assert parsed.video.id == video_id and parsed.video.author_id == author["author_id"]
        assert parsed.video.author_handle == author["handle"] and parsed.video.duration_s == video["duration"]
        if author["hides_counts"]:
            assert (parsed.metrics.plays, parsed.metrics.likes) == (None, None)
        else:
            assert parsed.metrics.plays == video["plays"] and parsed.metrics.likes == video["likes"]
            assert parsed.metrics.saves == video["saves"]
        assert parsed.metrics.author_followers == author["followers"]
        assert parsed.author.followers == author["followers"] and parsed.author.following == author["following"]
        assert parsed.video.music_id == video["music_id"] and parsed.video.music_original == video["music_original"]
        assert set(parsed.video.hashtags) == {c["title"] for c in world.item_struct(video_id).get("challenges", [])}


def test_some_creators_counts_are_withheld(world):
    hides = world.authors["hides_counts"].to_numpy()[world.videos["author_row"].to_numpy()]
    withheld = {v for v in world.ids if "stats" not in world.item_struct(v)}
    assert withheld == set(world.videos.loc[hides, "video_id"])
    assert 0.01 < len(withheld) / len(world.ids) < 0.15


def test_private_items_say_so(world):
    private = rows_where(world, visibility="private")[0]
    assert world.item_struct(private)["privateItem"] is True
    assert world.item_struct(world.items[0])["privateItem"] is False


def test_user_info_matches_the_items_author(world):
    item = world.item_struct(world.items[3])
    info = world.user_info(item["author"]["uniqueId"])
    assert info["user"]["id"] == item["author"]["id"] and info["user"]["secUid"] == item["author"]["secUid"]
    assert info["stats"] == item["authorStats"]
    assert info["statsV2"]["followerCount"] == str(item["authorStats"]["followerCount"])
    assert world.user_info(item["author"]["secUid"])["user"]["uniqueId"] == item["author"]["uniqueId"]
