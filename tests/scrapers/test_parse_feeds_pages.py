"""Feed responses and video pages: items, skipped records, paging state and statusCodes."""

from __future__ import annotations

import json

import pytest

from core.errors import ParseError
from scrapers.parse import PageUnavailable, parse_feed, parse_video_page, read_video_page
from tests.scrapers.payload_samples import WEB_ITEM, next_page, sigi_page, universal_page, web


def feed_body(items, **fields) -> bytes:
    return json.dumps({"itemList": items, **fields}).encode()


def test_feed_yields_items_skips_bad_ones_and_reports_paging():
    body = feed_body([web(id="1"), web(id="x1"), web(id="2", stats={"diggCount": -1}), web(id="3")],
                     hasMore=True, cursor="30", statusCode=0, statusMsg="")
    page = parse_feed(body)
    assert [i.video.id for i in page.items] == ["1", "3"]
    assert [e.reason for e in page.skipped] == ["bad_id", "negative_count"]
    assert (page.has_more, page.cursor, page.status_code, page.status_msg) == (True, "30", 0, "")


@pytest.mark.parametrize(("fields", "has_more", "cursor", "status"), [
    ({"hasMore": 1, "cursor": 12}, True, 12, None),
    ({"hasMore": 0, "statusCode": "0"}, False, None, 0),
    ({"hasMore": "yes", "statusCode": 10201, "statusMsg": "blocked"}, False, None, 10201),
    ({"maxCursor": "1700000000000"}, False, "1700000000000", None),
])
def test_feed_paging_fields_are_read_tolerantly(fields, has_more, cursor, status):
    page = parse_feed({"itemList": [], **fields})
    assert (page.has_more, page.cursor, page.status_code) == (has_more, cursor, status)


def test_a_blocked_response_without_item_list_is_a_page_with_its_status_not_an_error():
    page = parse_feed(b'{"statusCode": 10201, "statusMsg": "captcha", "hasMore": false}')
    assert page.items == [] and page.status_code == 10201 and page.status_msg == "captcha"


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty_body"), (b"  \n", "empty_body"), ("", "empty_body"),
    (b"<html>captcha</html>", "malformed_json"), (b'{"itemList": [', "malformed_json"),
    (b"[1, 2]", "not_a_feed"), (b"7", "not_a_feed"),
])
def test_a_body_that_is_no_feed_raises_parse_error(body, reason):
    with pytest.raises(ParseError) as caught:
        parse_feed(body)
    assert caught.value.reason == reason


def test_integers_beyond_64_bits_are_decoded_and_then_rejected_per_record():
    body = b'{"itemList": [{"id": "5", "stats": {"playCount": 123456789012345678901234567890}}, {"id": "6"}]}'
    page = parse_feed(body)
    assert [i.video.id for i in page.items] == ["6"]
    assert [e.reason for e in page.skipped] == ["count_too_large"]


def test_universal_page_yields_its_item_and_status():
    page = read_video_page(universal_page({"statusCode": 0, "statusMsg": "", "itemInfo": {"itemStruct": WEB_ITEM}}))
    assert page.embedding == "universal" and page.status_code == 0
    assert page.item.video.id == WEB_ITEM["id"] and page.item.metrics.likes == 1200


def test_sigi_page_puts_the_author_profile_and_counts_back():
    user = {"id": "6801234567890123456", "uniqueId": "runner.jo", "nickname": "Jo Runs", "verified": True, "secUid": "MS4w"}
    item = parse_video_page(sigi_page(WEB_ITEM, user, {"followerCount": 5400, "followingCount": 310, "heartCount": 9, "videoCount": 3}))
    assert item.author.id == "6801234567890123456" and item.author.handle == "runner.jo" and item.author.verified is True
    assert item.author.followers == 5400 and item.metrics.author_followers == 5400
    assert item.video.url == "https://www.tiktok.com/@runner.jo/video/7301234567890123456"


def test_next_data_page_yields_its_item():
    page = read_video_page(next_page(WEB_ITEM))
    assert page.embedding == "next" and page.item.video.duration_s == 23.0


@pytest.mark.parametrize(("html", "reason", "code"), [
    (universal_page({"statusCode": 10216, "statusMsg": "item is private"}), "private", 10216),
    (universal_page({"statusCode": 10222}), "private", 10222),
    (universal_page({"statusCode": 10204, "statusMsg": "item doesn't exist"}), "not_found", 10204),
    (universal_page({"statusCode": 10101}), "unavailable", 10101),
    (next_page(None, status=10216), "private", 10216),
    ('<script id="SIGI_STATE">{"VideoPage": {"statusCode": 10204}, "ItemModule": {}}</script>', "not_found", 10204),
])
def test_a_page_without_item_says_why_with_its_status_code(html, reason, code):
    page = read_video_page(html)
    assert page.item is None and page.status_code == code
    with pytest.raises(PageUnavailable) as caught:
        parse_video_page(html)
    assert (caught.value.reason, caught.value.status_code) == (reason, code)


@pytest.mark.parametrize(("html", "reason"), [
    ("<html><body>Please verify you are human</body></html>", "no_page_data"),
    ('<script id="__NEXT_DATA__">{"props": </script>', "malformed_json"),
])
def test_a_page_with_no_usable_data_raises(html, reason):
    with pytest.raises(ParseError) as caught:
        parse_video_page(html)
    assert caught.value.reason == reason
