"""What the site answered → records or the exception that steers the crawl, the same for every backend."""

from __future__ import annotations

import orjson
import pytest

from scrapers.responses import as_page, author_from_detail, item_from_detail, item_from_page, page_from_body
from scrapers.answers import classify_http
from scrapers.source import Blocked, NotFound, Private, RateLimited, SoftBlocked, SourceStats, TransientError, Withheld


@pytest.fixture(scope="module")
def world():
    from sandbox import World

    return World.build(videos=60, seed=3)


def status(code: int) -> bytes:
    return orjson.dumps({"statusCode": code, "statusMsg": ""})


@pytest.mark.parametrize("body, error, reason", [
    (b"", SoftBlocked, "empty_body"),
    (b"   ", SoftBlocked, "empty_body"),
    (b'{"code":"10000","type":"verify","subtype":"slide","fp":"verify_x"}', Blocked, "captcha"),
    (b"<!DOCTYPE html><html><head><title>TikTok</title></head></html>", Blocked, "verify_page"),
    (b'{"statusCode":0}', SoftBlocked, "soft_empty"),
    (b'{"status_code":0}', SoftBlocked, "soft_empty"),
    (status(10201), NotFound, "not_found"),
    (status(10202), NotFound, "not_found"),
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


#: every answer of the table, and a test above or in test_hostile_answers.py that meets it
COVERED = {
    "http_429": "test_http_statuses", "http_5xx": "test_http_statuses", "transport": "test_crawl_cli",
    "malformed_json": "test_list_answers_that_are_not_lists", "unreachable": "test_crawl_cli",
    "empty_body": "test_list_answers_that_are_not_lists", "soft_empty": "test_list_answers_that_are_not_lists",
    "feed_repeats": "test_hostile_answers[repeat]", "captcha": "test_list_answers_that_are_not_lists",
    "verify_json": "test_list_answers_that_are_not_lists", "verify_page": "test_list_answers_that_are_not_lists",
    "challenge": "test_pages_private_gone_captcha_and_fine", "captcha_overlay": "test_an_overlaid_page_is_a_block",
    "http_403": "test_http_statuses", "unknown_status": "test_list_answers_that_are_not_lists",
    "private": "test_list_answers_that_are_not_lists", "invalid": "test_list_answers_that_are_not_lists",
    "no_user": "test_list_answers_that_are_not_lists", "http_404": "test_http_statuses",
    "withheld": "test_list_answers_that_are_not_lists", "ad": "test_ads_and_photo_posts_are_skipped_by_reason",
    "photo_post": "test_ads_and_photo_posts_are_skipped_by_reason",
}


def test_every_answer_of_the_table_has_a_test_and_the_docs_show_the_table():
    from pathlib import Path

    from scrapers.answers import BY_NAME, markdown_table

    assert set(COVERED) == set(BY_NAME)
    assert markdown_table() in (Path(__file__).resolve().parents[2] / "docs" / "crawl.md").read_text()


def test_ads_and_photo_posts_are_skipped_by_reason(world):
    from sandbox.strict import ad_item, photo_item

    template = world.item_struct(world.items[0])
    items = [template, ad_item(template, 7), photo_item(template, 11)]
    page = page_from_body(orjson.dumps({"statusCode": 0, "itemList": items, "hasMore": False}), "feed", SourceStats())
    assert [i.video.id for i in page.items] == [template["id"]] and page.skipped == ["ad", "photo_post"]


def test_an_overlaid_page_is_a_block(world):
    import httpx

    from sandbox import serve

    with serve(world, faults="overlay:1") as site, httpx.Client() as http:
        html = http.get(site.video_url(world.items[0])).text
        with pytest.raises(Blocked) as caught:
            item_from_page(html, "video", SourceStats())
        assert caught.value.reason == "captcha"
        # the page kept its data, but the session's API calls are refused from now on
        import re

        token = re.search(r"msToken=([A-Za-z0-9_-]+);", html).group(1)  # what the page's script sets
        answer = http.get(site.url("/api/related/item_list/"), params={"itemID": world.items[1], "msToken": token})
        with pytest.raises(Blocked):
            page_from_body(answer.content, "related", SourceStats())
