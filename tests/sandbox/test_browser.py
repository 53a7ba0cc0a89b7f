"""A real browser (Debian's Chromium through Playwright) on the sandbox's pages, as the browser backends use them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    """Chromium, headless, launched once for the module."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or ./run setup)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def test_the_home_page_fetches_the_feed_itself_and_sets_the_token_cookie(browser, site, world):
    context = browser.new_context()
    page = context.new_page()
    with page.expect_response(lambda r: "/api/recommend/item_list/" in r.url) as feed:
        page.goto(site.base_url + "/")
    first = feed.value
    assert first.status == 200 and first.request.resource_type == "fetch"
    assert "from_page=fyp" in first.url and "msToken=" in first.url and "X-Bogus=" in first.url
    assert [i["id"] for i in first.json()["itemList"]] == world.items[:16]
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("msToken", "").startswith("sbx")
    assert page.evaluate("window.byted_acrawler.frontierSign('/api/x?a=1')")["X-Bogus"].startswith("DFSzsw")
    # scrolling to the end of the list fetches the next page, as on the platform: inside the feed's container
    page.wait_for_function("window.__sandbox.pages >= 1")
    assert page.evaluate("() => { window.scrollTo(0, 1e6); return window.scrollY; }") == 0, "the window never scrolls"
    box = page.locator("#column-list-container").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    with page.expect_response(lambda r: "/api/recommend/item_list/" in r.url) as second:
        page.mouse.wheel(0, 40_000)
    assert [i["id"] for i in second.value.json()["itemList"]] == world.items[16:32]
    context.close()


def test_a_strict_home_page_signs_its_calls_rotates_the_token_and_asks_to_sign_in(browser, world):
    from sandbox import serve
    from sandbox.strict import SIGNED_PARAMS

    with serve(world, strict=True) as strict:
        context = browser.new_context()
        page = context.new_page()
        with page.expect_response(lambda r: "/api/recommend/item_list/" in r.url) as feed:
            page.goto(strict.base_url + "/")
        query = dict(parse_qsl(urlsplit(feed.value.url).query))
        assert all(query.get(name) for name in SIGNED_PARAMS), query
        assert feed.value.json()["itemList"] and strict.stats["faults"].get("unsigned", 0) == 0
        token = {c["name"]: c["value"] for c in context.cookies()}["msToken"]
        assert token != query["msToken"] or feed.value.headers.get("set-cookie"), "the answer rotates msToken"
        page.wait_for_function("window.__sandbox.pages >= 1")
        box = page.locator("#column-list-container").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        with page.expect_response(lambda r: "/api/recommend/item_list/" in r.url):
            page.mouse.wheel(0, 40_000)
        page.wait_for_selector('[data-e2e="login-modal"]')  # after the second page, as the real site does
        # any fetch the page runs (TikTokApi's too) is signed by the SDK; a plain HTTP call is not, and gets an empty 200
        assert page.evaluate("fetch('/api/item/detail/?itemId=1', {}).then(r => r.text())") != ""
        context.close()
        assert httpx.get(strict.base_url + "/api/recommend/item_list/", params={"count": 3}).content == b""


def test_a_video_page_fetches_its_related_videos(browser, site, world):
    video_id = next(v for v in world.items if len(world.related(v)) >= 16)
    page = browser.new_page()
    with page.expect_response(lambda r: "/api/related/item_list/" in r.url) as related:
        page.goto(site.video_url(video_id))
    assert f"itemID={video_id}" in related.value.url
    assert [i["id"] for i in related.value.json()["itemList"]] == world.related(video_id)[:16]
    embedded = page.evaluate("JSON.parse(document.getElementById('__UNIVERSAL_DATA_FOR_REHYDRATION__').textContent)")
    assert embedded["__DEFAULT_SCOPE__"]["webapp.video-detail"]["itemInfo"]["itemStruct"]["id"] == video_id
    page.close()


def test_routing_the_real_origin_to_the_sandbox_works(browser, site, world):
    # how the browser backends reach the sandbox: https://www.tiktok.com/** fulfilled from the site
    import httpx

    context = browser.new_context()

    def forward(route, request):
        answer = httpx.get(site.base_url + request.url.split("tiktok.com", 1)[1], headers={"Cookie": request.headers.get("cookie", "")})
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    context.route("https://www.tiktok.com/**", forward)
    page = context.new_page()
    with page.expect_response(lambda r: "/api/recommend/item_list/" in r.url) as feed:
        page.goto("https://www.tiktok.com/")
    assert feed.value.url.startswith("https://www.tiktok.com/api/") and feed.value.json()["itemList"][0]["id"] == world.items[0]
    assert any(c["name"] == "msToken" and c["domain"] == "www.tiktok.com" for c in context.cookies())
    context.close()
