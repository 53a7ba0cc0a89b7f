"""TikTokApi's endless related-videos loop cannot happen through our backend.

A site that answers every related request with an empty page and ``hasMore: true``
(the sandbox for everything else) makes TikTokApi's own ``Video.related_videos``
request again and again without end; our backend asks once per call and the crawl
stops expanding on an empty page.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from scrapers.backends.tiktokapi import TikTokApiSource
from tests.waiting import Watched

ENDLESS = b'{"statusCode":0,"status_code":0,"itemList":[],"hasMore":true,"cursor":"0"}'
PASSED_HEADERS = ("content-type", "set-cookie", "access-control-allow-origin", "cache-control")


class EndlessRelated:
    """The sandbox, except that related lists are empty and never end."""

    def __init__(self, upstream: str) -> None:
        self.related_requests = 0
        #: notified on every related request, for a test to wait for a count
        self.watched = Watched()
        #: related requests by the video they ask about
        self.asked: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                if self.path.startswith("/api/related/item_list/"):
                    site.related_requests += 1
                    site.asked[dict(parse_qsl(urlsplit(self.path).query)).get("itemID", "")] += 1
                    site.watched.notify()
                    status, headers, body = 200, {"content-type": "application/json"}, ENDLESS
                else:
                    answer = httpx.get(upstream + self.path, headers={"cookie": self.headers.get("cookie", "")}, timeout=30)
                    status, body = answer.status_code, answer.content
                    headers = {k: v for k, v in answer.headers.items() if k.lower() in PASSED_HEADERS}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("access-control-allow-origin", "*")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def endless(sandbox_site):
    site = EndlessRelated(sandbox_site.base_url)
    yield site
    site.server.shutdown()


@pytest.mark.browser
def test_tiktokapi_would_loop_forever_but_our_call_asks_once(endless, sandbox_world):
    # the library loops on one video, our call asks about another: a fetch the cancelled loop had in flight
    # may still land, but it cannot be counted as ours (no quiet period to wait for)
    video_id, ours = sandbox_world.items[0], sandbox_world.items[1]
    with TikTokApiSource(base_url=endless.url) as source:

        async def library_loop() -> None:
            async for _ in source._api.video(id=video_id).related_videos(count=5):
                pass

        async def until_it_has_looped(at_least: int, within_s: float) -> int:
            # a slow machine makes fewer requests per second: wait for a count, not for a time
            task = asyncio.ensure_future(library_loop())
            task.add_done_callback(lambda _: endless.watched.notify())
            reached = lambda: endless.related_requests >= at_least or task.done()  # noqa: E731
            # woken by each related request, in a thread, so that the library's loop runs on meanwhile
            await asyncio.to_thread(endless.watched.wait_for, reached, within_s, f"{at_least} related requests")
            stopped_by_itself = task.done()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return -1 if stopped_by_itself else endless.related_requests

        assert source._run(until_it_has_looped(6, within_s=60)) >= 6, "TikTokApi stopped by itself"
        assert endless.asked[video_id] >= 6 and endless.asked[ours] == 0

        page = source.related(ours, 16)
        assert endless.asked[ours] == 1, "one request per call, not one more"
        assert page.items == [] and page.has_more is True


@pytest.mark.browser
def test_a_crawl_over_endless_related_pages_terminates(endless, sqlite_cli):
    before = endless.related_requests
    result = sqlite_cli("crawl", "--seed", "5", "--fanout", "3", "--max-videos", "40", "--random-seed", "3",
                        "--source", "tiktokapi", "--base-url", endless.url, "--json")
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["stop_reason"]) == ("finished", "exhausted")
    assert summary["videos"] == 5 and summary["expanded"] == 5
    assert endless.related_requests - before == 5, "one request per expanded video, not one more"


@pytest.mark.browser
def test_our_page_factory_keeps_tiktokapis_stealth_patches(sandbox_site):
    probe = "() => [navigator.hardwareConcurrency, typeof (window.chrome && window.chrome.csi), navigator.webdriver]"
    with TikTokApiSource(base_url=sandbox_site.base_url) as source:
        session = source._api.sessions[0]

        async def plain_page_values():
            # a page of the same browser that did not go through our factory: no stealth patches
            page = await session.context.new_page()
            try:
                return await page.evaluate(probe)
            finally:
                await page.close()

        patched = source._run(session.page.evaluate(probe))
        plain = source._run(plain_page_values())
    # TikTokApi's stealth: chrome.csi defined, navigator.webdriver removed altogether (a plain page has it false)
    assert patched[1:] == ["function", None], patched
    assert patched != plain, "the patches are ours to keep: a plain page lacks them"
