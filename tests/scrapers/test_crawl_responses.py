"""What the site answered → records or the exception that steers the crawl, the same for every backend."""

from __future__ import annotations

import orjson
import pytest

from scrapers.responses import as_page, author_from_detail, item_from_detail, item_from_page, page_from_body
from scrapers.answers import classify_http
from scrapers.source import Blocked, NotFound, Private, RateLimited, SourceStats, TransientError, Withheld


@pytest.fixture(scope="module")
def world():
    from sandbox import World

    return World.build(videos=60, seed=3)


def status(code: int) -> bytes:
    return orjson.dumps({"statusCode": code, "statusMsg": ""})


@pytest.mark.parametrize("body, error, reason", [
    (b"", Blocked, "empty_body"),
    (b"   ", Blocked, "empty_body"),
    (b'{"itemList": [', TransientError, "malformed_json"),
    (status(10000), Blocked, "captcha"),
    (status(10216), Private, "private"),
    (status(10222), Private, "private"),
    (status(10204), Withheld, "unavailable"),
    (status(10101), Blocked, "status_10101"),
])
def test_list_answers_that_are_not_lists(body, error, reason):
    with pytest.raises(error) as caught:
        page_from_body(body, "related of 1", SourceStats())
    assert caught.value.reason == reason


def test_a_list_answer_gives_items_paging_and_skipped_records(world):
    items = [world.item_struct(v) for v in world.items[:3]] + [{"id": "not-digits"}]
    stats = SourceStats()
    page = page_from_body(orjson.dumps({"statusCode": 0, "itemList": items, "hasMore": True, "cursor": "3"}), "feed", stats)
    assert [i.video.id for i in page.items] == world.items[:3] and page.has_more and page.cursor in ("3", 3)
    assert page.skipped == ["bad_id"] and stats.parse_s > 0


def test_pages_private_gone_captcha_and_fine(world):
    import httpx

    from sandbox import serve

    states = world.videos.set_index("video_id").visibility
    private, gone = (states[states == kind].index[0] for kind in ("private", "deleted"))
    vid = world.items[0]
    with serve(world) as site, httpx.Client() as http:
        assert item_from_page(http.get(site.video_url(vid)).text, "video", SourceStats()).video.id == vid
        with pytest.raises(Private):
            item_from_page(http.get(site.video_url(private)).text, "video", SourceStats())
        with pytest.raises(Withheld):
            item_from_page(http.get(site.video_url(gone)).text, "video", SourceStats())
    with serve(world, block_after=0) as site, httpx.Client() as http:
        with pytest.raises(Blocked) as caught:
            item_from_page(http.get(site.video_url(vid)).text, "video", SourceStats())
    assert caught.value.reason == "challenge"
    item = world.item_struct(vid)
    universal = orjson.dumps({"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 0, "itemInfo": {"itemStruct": item}}}}).decode()
    assert item_from_page(as_page(universal), "video", SourceStats()).video.id == vid


def test_detail_and_user_answers(world):
    vid = world.items[0]
    detail = {"statusCode": 0, "itemInfo": {"itemStruct": world.item_struct(vid)}}
    assert item_from_detail(orjson.dumps(detail), "video", SourceStats()).video.id == vid
    handle = world.item_struct(vid)["author"]["uniqueId"]
    author = author_from_detail({"statusCode": 0, "userInfo": world.user_info(handle)}, "author", SourceStats())
    assert author.handle == handle and author.followers is not None
    with pytest.raises(NotFound):
        author_from_detail({"statusCode": 0, "userInfo": {}}, "author", SourceStats())


@pytest.mark.parametrize("code, error, reason", [
    (429, RateLimited, "http_429"), (503, TransientError, "http_503"), (408, TransientError, "http_408"),
    (404, NotFound, "not_found"), (403, Blocked, "http_403"), (401, Blocked, "http_401"),
])
def test_http_statuses(code, error, reason):
    with pytest.raises(error) as caught:
        classify_http(code, "feed", {"retry-after": "7"})
    assert caught.value.reason == reason
    if code == 429:
        assert caught.value.retry_after == 7.0
    classify_http(200, "feed")
