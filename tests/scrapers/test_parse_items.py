"""The item parser as a table: payloads in the real shapes → the fields each must yield."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import ParseError
from scrapers.parse import ITEM, TIKTOK_SCRAPER, YTDLP, parse_item
from tests.scrapers.payload_samples import SCRAPER_ROW, WEB_ITEM, YTDLP_INFO, web


def field(parsed, path: str) -> Any:
    """``"metrics.likes"`` → parsed.metrics.likes (None when the part is None)."""
    value: Any = parsed
    for part in path.split("."):
        value = None if value is None else getattr(value, part)
    return value


TABLE: list[tuple[str, dict[str, Any], str | None, dict[str, Any]]] = [
    ("web itemStruct, stats as integers", WEB_ITEM, None, {
        "source_format": ITEM, "video.id": "7301234567890123456", "video.caption": "sunset run #Running #fyp",
        "video.create_time": datetime.fromtimestamp(1700000000, UTC), "video.duration_s": 23.0,
        "video.width": 720, "video.height": 1280, "video.hashtags": ("running", "fyp"),
        "video.author_id": "6801234567890123456", "video.author_handle": "runner.jo",
        "video.music_id": "7301111111111111111", "video.music_title": "original sound - runner.jo", "video.music_original": True,
        "video.url": "https://www.tiktok.com/@runner.jo/video/7301234567890123456",
        "video.media_url": "https://v16-webapp.tiktok.com/play/abc",
        "metrics.plays": 25000, "metrics.likes": 1200, "metrics.comments": 40, "metrics.shares": 15, "metrics.saves": 77,
        "metrics.author_followers": 5400, "author.id": "6801234567890123456", "author.handle": "runner.jo",
        "author.nickname": "Jo Runs", "author.sec_uid": "MS4wLjABAAAAexample", "author.followers": 5400,
        "author.following": 310, "author.hearts": 98000, "author.video_count": 120, "author.verified": True, "missing": (),
    }),
    ("statsV2 strings are preferred to stats", web(statsV2={"playCount": "25001", "diggCount": "1201", "commentCount": "41", "shareCount": "16", "collectCount": "78"}), None, {
        "metrics.plays": 25001, "metrics.likes": 1201, "metrics.comments": 41, "metrics.shares": 16, "metrics.saves": 78,
    }),
    ("a broken statsV2 value falls back to a valid stats one", web(statsV2={"playCount": "n/a", "diggCount": ""}), None, {
        "metrics.plays": 25000, "metrics.likes": 1200,
    }),
    ("music under musicInfo.music", web(music=None, musicInfo={"music": {"id": 99, "title": "Song", "original": False}}), None, {
        "video.music_id": "99", "video.music_title": "Song", "video.music_original": False,
    }),
    ("renamed or absent fields become None and are listed as missing",
     web(author=None, authorStats=None, music=None, video={"duration": "x"}, stats={"playCount": 5}), None, {
        "author": None, "video.author_id": None, "video.url": None, "video.duration_s": None, "video.width": None,
        "metrics.plays": 5, "metrics.likes": None, "metrics.author_followers": None,
        "missing": ("author_id", "duration_s", "width", "height", "music_id", "url", "likes", "comments", "shares", "saves", "author_followers"),
    }),
    ("absurd sizes and times become None", web(video={"duration": 2**1100, "width": -5, "height": "1e999"}, createTime=10**30), None, {
        "video.duration_s": None, "video.width": None, "video.height": None, "video.create_time": None,
    }),
    ("no counts at all give no metrics", web(stats=None, authorStats=None), None, {"metrics": None}),
    ("withheld counts leave only the author's followers", web(stats=None), None, {
        "metrics.plays": None, "metrics.likes": None, "metrics.author_followers": 5400,
    }),
    ("the platform's content labels give the category", web(diversificationLabels=["Comedy", "Entertainment"]), None, {
        "video.category": "comedy",
    }),
    ("labels that are not strings give no category", web(diversificationLabels=[{"x": 1}]), None, {"video.category": None}),
    ("an integer id becomes digits", web(id=7301234567890123999), None, {"video.id": "7301234567890123999"}),
    ("a non-digit author id is kept as an opaque string", web(author={"id": "user_00001", "uniqueId": "h"}), None, {
        "author.id": "user_00001", "video.author_id": "user_00001", "video.author_handle": "h", "dropped": (),
        "video.url": "https://www.tiktok.com/@h/video/7301234567890123456",
    }),
    ("an author id longer than the catalog keeps is counted as dropped", web(author={"id": "x" * 40, "uniqueId": "h"}), None, {
        "author": None, "video.author_id": None, "dropped": ("author_id_too_long",),
    }),
    ("the author object's createTime is the account's creation", web(author={"id": "42", "uniqueId": "h", "createTime": 1500000000}),
     None, {"author.created_at": datetime(2017, 7, 14, 2, 40, tzinfo=UTC)}),
    ("NUL characters are removed (Postgres refuses them)", web(desc="a\x00b"), None, {"video.caption": "ab"}),
    ("SIGI ItemModule entry: author is a handle, ids beside it",
     web(author="runner.jo", authorId="6801234567890123456", authorSecId="MS4wsec", nickname="Jo"), None, {
        "author.id": "6801234567890123456", "author.handle": "runner.jo", "author.sec_uid": "MS4wsec", "author.nickname": "Jo",
    }),
    ("item-detail wrapper {itemInfo: {itemStruct}}", {"itemInfo": {"itemStruct": WEB_ITEM}, "statusCode": 0}, None, {
        "video.id": "7301234567890123456", "metrics.likes": 1200,
    }),
    ("tiktok-scraper export row", SCRAPER_ROW, None, {
        "source_format": TIKTOK_SCRAPER, "video.id": "6901234567890123456", "video.caption": "my cat judges me #cat #Pets",
        "video.hashtags": ("cat", "pets"), "video.duration_s": 11.0, "video.width": 576, "video.height": 1024,
        "video.create_time": datetime.fromtimestamp(1609000000, UTC), "video.music_id": "6901111111111111111",
        "video.music_title": "original sound", "video.music_original": True,
        "video.url": "https://www.tiktok.com/@catperson/video/6901234567890123456",
        "video.media_url": "https://v16-web.tiktok.com/video/cat.mp4",
        "metrics.plays": 61000, "metrics.likes": 3100, "metrics.comments": 75, "metrics.shares": 20, "metrics.saves": None,
        "metrics.author_followers": 45000, "author.id": "6701234567890123456", "author.handle": "catperson",
        "author.nickname": "Cat Person", "author.followers": 45000, "author.following": 12, "author.hearts": 900000,
        "author.video_count": 88, "author.verified": False, "missing": ("saves",),
    }),
    ("yt-dlp info.json", YTDLP_INFO, None, {
        "source_format": YTDLP, "video.id": "7201234567890123456", "video.caption": "a dance #dance #Trend",
        "video.hashtags": ("dance", "trend"), "video.duration_s": 14.0, "video.create_time": datetime.fromtimestamp(1680000000, UTC),
        "video.music_title": "Song Name", "video.url": "https://www.tiktok.com/@dancer_x/video/7201234567890123456",
        "video.media_url": "https://v16.tiktokcdn.com/direct.mp4",
        "metrics.plays": 9000, "metrics.likes": 800, "metrics.comments": 12, "metrics.shares": 4, "metrics.saves": 30,
        "author.id": "6601234567890123456", "author.handle": "dancer_x", "author.nickname": "Dancer X",
        "author.sec_uid": "MS4wLjABAAAAdance", "author.followers": None, "missing": ("music_id", "author_followers"),
    }),
    ("a forced shape reads the payload as that shape", WEB_ITEM, TIKTOK_SCRAPER, {
        "source_format": TIKTOK_SCRAPER, "video.id": "7301234567890123456", "metrics": None, "author": None,
    }),
]


@pytest.mark.parametrize(("payload", "forced", "expected"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_payload_yields_fields(payload, forced, expected):
    parsed = parse_item(payload, forced)
    got = {path: field(parsed, path) for path in expected}
    assert got == expected
    assert str(parsed.raw["id"]) == parsed.video.id or "itemInfo" in payload


REJECTED: list[tuple[str, Any, str]] = [
    ("not an object", ["7301234567890123456"], "not_an_object"),
    ("no id", web(id=None), "no_id"),
    ("an id with letters", web(id="73012345abc"), "bad_id"),
    ("a path as id", web(id="../../etc/passwd"), "bad_id"),
    ("an empty id", web(id=""), "bad_id"),
    ("a boolean id", web(id=True), "bad_id"),
    ("a float id", web(id=7.3e18), "bad_id"),
    ("a negative count", web(stats={"diggCount": -5}), "negative_count"),
    ("a negative string count", web(statsV2={"playCount": "-1"}, stats=None), "negative_count"),
    ("a non-numeric string count", web(stats={"playCount": "12k"}), "non_numeric_count"),
    ("an object as count", web(stats={"playCount": {"value": 3}}), "non_numeric_count"),
    ("a boolean count", web(stats={"playCount": True}), "non_numeric_count"),
    ("a count beyond 64 bits", web(stats={"playCount": 2**64}), "count_too_large"),
    ("negative followers", web(authorStats={"followerCount": -1}), "negative_count"),
    ("tiktok-scraper negative fans", {**SCRAPER_ROW, "authorMeta": {**SCRAPER_ROW["authorMeta"], "fans": -3}}, "negative_count"),
    ("yt-dlp text view count", {**YTDLP_INFO, "view_count": "many"}, "non_numeric_count"),
]


@pytest.mark.parametrize(("payload", "reason"), [row[1:] for row in REJECTED], ids=[row[0] for row in REJECTED])
def test_bad_record_is_rejected_with_a_countable_reason(payload, reason):
    with pytest.raises(ParseError) as caught:
        parse_item(payload)
    assert caught.value.reason == reason


def test_hashtags_come_from_challenges_and_text_extra_once_each_lower_cased():
    item = web(challenges=[{"title": "Cat"}, {"title": "cat"}, "junk"], textExtra=[{"hashtagName": "#Dog"}, {"hashtagName": None}])
    assert parse_item(item).video.hashtags == ("cat", "dog")


def test_ytdlp_cookies_and_headers_never_reach_the_raw_payload():
    raw = parse_item(YTDLP_INFO).raw
    assert "http_headers" not in raw
    assert all("cookies" not in f for f in raw["formats"])
    assert "secret" not in repr(raw)
    assert "secret" in repr(YTDLP_INFO), "the input itself is left as it was"


def test_raw_payload_is_kept_for_re_parsing():
    parsed = parse_item(WEB_ITEM)
    assert parsed.raw is WEB_ITEM
    assert parse_item(parsed.raw, parsed.source_format) == parsed
