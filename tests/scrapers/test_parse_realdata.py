"""The three third-party payload files parse to the values read from them by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from core.records import ParsedItem
from scrapers.parse import detect_format, iter_records

TRENDING = "tiktokapi_trending_items_aug2021__Teerut26.json"
SCRAPER = "thebigbradwolf_1609948309033.json"
PAGE = "videoMeta_page_6881450806688664838.html"


def by_id(realdata, name) -> dict[str, ParsedItem]:
    records = list(iter_records(realdata / name))
    assert all(isinstance(r, ParsedItem) for r in records), [r for r in records if not isinstance(r, ParsedItem)]
    return {r.video.id: r for r in records}


def test_tiktokapi_trending_items(realdata):
    assert detect_format(realdata / TRENDING) == "item"
    items = by_id(realdata, TRENDING)
    assert len(items) == 10 and len({i.author.id for i in items.values()}) == 10
    first = items["6982106906949176603"]
    assert (first.metrics.likes, first.metrics.shares, first.metrics.comments, first.metrics.plays) == (11400, 21, 93, 257200)
    assert first.metrics.saves is None and first.missing == ("saves",)
    assert first.author.followers == 7338 and first.author.following == 787 and first.author.hearts == 80200
    assert first.author.handle == "stampstampkab" and first.author.id == "6858400612863165441"
    assert first.video.duration_s == 26 and (first.video.width, first.video.height) == (576, 1024)
    assert first.video.music_id == "6964603430451153665" and first.video.music_original is True
    assert first.video.create_time == datetime.fromtimestamp(1625648448, UTC)
    assert first.video.hashtags == ()
    cats = items["6973647912953728262"]
    assert cats.video.hashtags == ("foryou", "funny", "cat", "dog")
    assert (cats.metrics.likes, cats.metrics.plays, cats.author.followers) == (1_900_000, 37_400_000, 719_500)
    assert cats.author.handle == "handsomebrother33" and cats.video.duration_s == 8
    last = items["6984375825676160282"]
    assert (last.metrics.likes, last.metrics.shares, last.metrics.comments, last.metrics.plays) == (45800, 450, 718, 635800)
    assert last.author.followers == 2408 and last.author.handle == "jejeehong"


def test_tiktok_scraper_export(realdata):
    assert detect_format(realdata / SCRAPER) == "tiktok-scraper"
    items = by_id(realdata, SCRAPER)
    assert len(items) == 65 and {i.author.id for i in items.values()} == {"6744808547165799429"}
    first = items["6911379416308305158"]
    assert (first.metrics.likes, first.metrics.shares, first.metrics.plays, first.metrics.comments) == (4165, 117, 18800, 58)
    assert first.author.followers == 398700 and first.author.hearts == 20_400_000 and first.author.video_count == 263
    assert first.author.handle == "thebigbradwolf" and first.author.nickname == "BRAD WOLF"
    assert first.video.hashtags == ("fyp", "harrystyles")
    assert first.video.duration_s == 17 and first.video.music_id == "6911379433966357253"
    assert first.video.music_title == "original sound"
    assert first.video.url == "https://www.tiktok.com/@thebigbradwolf/video/6911379416308305158"


def test_next_data_video_page(realdata):
    assert detect_format(realdata / PAGE) == "page"
    [item] = by_id(realdata, PAGE).values()
    assert item.video.id == "6881450806688664838"
    assert (item.metrics.likes, item.metrics.shares, item.metrics.comments, item.metrics.plays) == (1_300_000, 13100, 25700, 25700)
    assert item.author.followers == 48_300_000 and item.author.verified is True
    assert item.author.handle == "tiktok" and item.author.id == "107955"
    assert item.video.duration_s == 15 and item.video.music_id == "6881450829518293766"
    assert item.video.hashtags == ()
    assert item.video.caption.startswith("Good vibes only")
