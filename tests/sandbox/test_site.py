"""The site answers like the platform: pages, feed paging, finite related lists, details, statusCodes, media."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from scrapers.parse import PageUnavailable, parse_feed, parse_video_page
from tests.sandbox.conftest import rows_where

UNIVERSAL = re.compile(r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">(.*?)</script>', re.S)


def universal(page: str) -> dict:
    """The page's ``__DEFAULT_SCOPE__``."""
    return orjson.loads(UNIVERSAL.search(page).group(1))["__DEFAULT_SCOPE__"]


def test_home_page_has_the_signer_the_token_cookie_and_the_feed_script(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == "*"
    assert "window.byted_acrawler" in page.text and "frontierSign" in page.text
    assert "/api/recommend/item_list/" in page.text and 'from_page: "fyp"' in page.text
    token = page.cookies.get("msToken")
    assert token and len(token) > 100
    assert "webapp.app-context" in universal(page.text)
    # a request that already carries a session keeps it
    assert "set-cookie" not in http.get("/", headers={"Cookie": f"msToken={token}"}).headers


def test_feed_pages_walk_the_for_you_order_to_a_finite_end(http, world):
    seen, cursor, pages = [], "0", 0
    while True:
        body = http.get("/api/recommend/item_list/", params={"from_page": "fyp", "count": 30, "cursor": cursor}).json()
        assert body["statusCode"] == 0 and body["status_code"] == 0 and isinstance(body["cursor"], str)
        seen += [i["id"] for i in body["itemList"]]
        pages += 1
        if not body["hasMore"]:
            break
        cursor = body["cursor"]
    assert seen == world.items and pages == -(-len(world.items) // 30)


def test_the_same_cursor_gives_the_same_page(http):
    first = http.get("/api/recommend/item_list/", params={"count": 16, "cursor": 32}).content
    assert http.get("/api/recommend/item_list/", params={"count": 16, "cursor": 32, "msToken": "x", "X-Bogus": "y"}).content == first
    assert len(orjson.loads(first)["itemList"]) == 16
    assert len(http.get("/api/recommend/item_list/", params={"count": 500}).json()["itemList"]) == 30  # capped


def test_without_a_cursor_a_session_continues_where_it_left_off(http, world):
    ask = lambda token: [i["id"] for i in http.get("/api/recommend/item_list/", params={"count": 10, "msToken": token}).json()["itemList"]]  # noqa: E731
    assert ask("session-a") == world.items[:10]
    assert ask("session-a") == world.items[10:20]
    assert ask("session-b") == world.items[:10]
    anonymous = [i["id"] for i in http.get("/api/recommend/item_list/", params={"count": 10}).json()["itemList"]]
    assert anonymous == world.items[:10]


def test_related_lists_page_by_cursor_and_end_with_has_more_false(http, world):
    video_id = next(v for v in world.items if len(world.related(v)) > 32)
    seen, cursor = [], 0
    for _ in range(10):
        body = http.get("/api/related/item_list/", params={"itemID": video_id, "count": 16, "cursor": cursor}).json()
        seen += [i["id"] for i in body["itemList"]]
        cursor = body["cursor"]
        if not body["hasMore"]:
            break
    assert seen == world.related(video_id)
    # TikTokApi sends no cursor: it gets the first page, never an endless list
    again = http.get("/api/related/item_list/", params={"itemID": video_id, "count": 16}).json()
    assert [i["id"] for i in again["itemList"]] == world.related(video_id)[:16]


def test_a_video_without_recommendations_gets_an_empty_last_page(http, world):
    lonely = next(v for v in world.items if not world.related(v))
    body = http.get("/api/related/item_list/", params={"itemID": lonely, "count": 16}).json()
    assert body["statusCode"] == 0 and body["itemList"] == [] and body["hasMore"] is False


@pytest.mark.parametrize("visibility, code", [("private", 10216), ("deleted", 10204)])
def test_private_and_deleted_videos_answer_their_status_codes(http, world, visibility, code):
    video_id = rows_where(world, visibility=visibility)[0]
    for path, key in (("/api/related/item_list/", "itemID"), ("/api/item/detail/", "itemId")):
        body = http.get(path, params={key: video_id}).json()
        assert body["statusCode"] == code and "itemList" not in body and "itemInfo" not in body
    page = http.get(world.video_path(video_id))
    detail = universal(page.text)["webapp.video-detail"]
    assert detail["statusCode"] == code and "itemInfo" not in detail
    with pytest.raises(PageUnavailable) as unavailable:
        parse_video_page(page.text)
    assert unavailable.value.reason == ("private" if code == 10216 else "not_found")
    assert http.get(f"/media/{video_id}.mp4").status_code == (403 if code == 10216 else 404)


def test_unknown_ids_and_accounts(http):
    assert http.get("/api/item/detail/", params={"itemId": "1"}).json()["statusCode"] == 10204
    assert http.get("/api/user/detail/", params={"uniqueId": "nobody-here"}).json()["statusCode"] == 10202
    assert http.get("/nothing/here").status_code == 404


def test_item_detail_is_the_items_struct(http, site, world):
    video_id = world.items[5]
    body = http.get("/api/item/detail/", params={"itemId": video_id}).json()
    assert body["statusCode"] == 0 and body["itemInfo"]["itemStruct"] == world.item_struct(video_id, site.base_url)


def test_feed_bodies_parse_with_the_projects_parser(http, world):
    page = parse_feed(http.get("/api/recommend/item_list/", params={"count": 12, "cursor": 0}).content)
    assert [i.video.id for i in page.items] == world.items[:12] and page.has_more and str(page.cursor) == "12"
    assert not page.skipped and page.status_code == 0


def test_video_pages_embed_the_item_and_fetch_related(http, site, world):
    video_id = world.items[7]
    page = http.get(site.video_url(video_id))
    assert page.status_code == 200 and "/api/related/item_list/" in page.text
    detail = universal(page.text)["webapp.video-detail"]
    assert detail["statusCode"] == 0 and detail["itemInfo"]["itemStruct"] == world.item_struct(video_id, site.base_url)
    assert parse_video_page(page.text).video.id == video_id
    # any handle works, as on the platform (/@_/video/ID)
    assert universal(http.get(f"/@_/video/{video_id}").text)["webapp.video-detail"]["itemInfo"]["itemStruct"]["id"] == video_id


def test_user_detail_posts_and_profile_page(http, world):
    author = world.item_struct(world.items[0])["author"]
    info = http.get("/api/user/detail/", params={"uniqueId": author["uniqueId"], "secUid": ""}).json()
    assert info["statusCode"] == 0 and info["userInfo"]["user"]["id"] == author["id"]
    posts = http.get("/api/post/item_list/", params={"secUid": author["secUid"], "count": 30, "cursor": 0}).json()
    row = world.author_row(author["uniqueId"])
    assert [i["id"] for i in posts["itemList"]] == world.author_videos(row)[:30]
    profile = universal(http.get(f"/@{author['uniqueId']}").text)["webapp.user-detail"]
    assert profile["statusCode"] == 0 and profile["userInfo"]["user"]["secUid"] == author["secUid"]


def test_media_urls_serve_the_worlds_bytes_with_ranges_and_head(http, site, world):
    video_id = world.items[0]
    item = world.item_struct(video_id, site.base_url)
    for url in (item["video"]["playAddr"], item["video"]["downloadAddr"]):
        got = httpx.get(url, timeout=30)
        assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
        assert got.content == world.media_bytes(video_id)
    part = http.get(f"/media/{video_id}.mp4", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == world.media_bytes(video_id)[10:20]
    head = http.head(f"/media/{video_id}.mp4")
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(world.media_bytes(video_id))


def test_cors_preflight_and_headers_everywhere(http, world):
    preflight = http.options("/api/recommend/item_list/", headers={"Origin": "https://www.tiktok.com", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    for path in ("/", "/api/item/detail/?itemId=1", world.video_path(world.items[1]), "/cover/x.png", "/missing"):
        assert http.get(path).headers["access-control-allow-origin"] == "*", path


def test_stats_are_counted_and_readable_over_http(world):
    from sandbox import serve

    with serve(world) as fresh, httpx.Client(base_url=fresh.base_url) as client:
        client.get("/")
        client.get("/api/recommend/item_list/", params={"count": 3})
        client.get("/api/related/item_list/", params={"itemID": world.items[0]})
        over_http = client.get("/__sandbox/stats").json()
        assert over_http == fresh.stats
        assert over_http["requests"] == 3 and over_http["endpoints"] == {"home": 1, "feed": 1, "related": 1}
        assert over_http["statuses"] == {"200": 3} and over_http["faults_total"] == 0 and not over_http["errors"]
        assert over_http["busy_s"] > 0  # the time the site spent making its answers
        fresh.reset_stats()
        assert fresh.stats["requests"] == 0


def test_a_client_hanging_up_mid_answer_prints_no_traceback(world, capfd):
    import socket

    from sandbox import serve

    video = world.items[0]
    with serve(world) as site:  # its own site: no other test's connection is counted
        httpx.get(site.media_url(video))  # the file exists before the hang-ups
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", site.port)) as conn:
                conn.sendall(f"GET /media/{video}.mp4 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                conn.recv(100)  # the answer has started
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        # each hang-up handled (a traceback would be printed by then): woken as each connection closes
        assert site.wait_for(lambda: not site.open_connections(), 30), "the site still holds the hung-up connections"
    assert "Traceback" not in capfd.readouterr().err
