"""The ``playwright`` backend: a real Chromium drives the site's pages; we read what the pages fetch.

The home page fetches the For-You feed after load and on scroll; a video page
carries its item in ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` and fetches its related
videos beside the player. This backend opens those pages and takes the answers
of the page's own requests (``expect_request`` → ``response``), as a person's
browser would receive them. One browser, one context and one page serve the whole
crawl; images and media are blocked at the network layer (CDP), since a crawl
needs JSON only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from core.records import AuthorRecord, ParsedItem
from scrapers.answers import blocked, soft_blocked
from scrapers.backends.browser import (
    CHALLENGE_WAIT_S, CLOSE_MODAL, EMPTY_DOCUMENT, FEED_CONTAINER, FEED_NEAR_END, PROFILE_NEAR_END, WHEEL_STEP, WHEEL_STEPS,
    SiteClient, BLOCKED_URLS, FEED_PATH, POSTS_PATH, QUIET_FLAGS, RELATED_PATH, chromium_path, cookie_pairs, playwright_proxy,
    video_page_url,
)
from scrapers.backends.display import VirtualDisplay
from scrapers.responses import as_page, author_from_page, item_from_page, page_from_body, posts_page
from scrapers.answers import classify_http, transport_error
from scrapers.trust import chromium_trust_args
from scrapers.source import (
    BackendUnavailable, Page, SourceError, SourceSecrets, TransientError,
)

UNIVERSAL_TEXT = "() => { const s = document.getElementById('__UNIVERSAL_DATA_FOR_REHYDRATION__'); return s ? s.textContent : null; }"
UNIVERSAL_SELECTOR = "#__UNIVERSAL_DATA_FOR_REHYDRATION__"


class PlaywrightSource(SiteClient):
    """A Chromium session on the site, driven page by page."""

    name = "playwright"

    def __init__(self, base_url: str | None = None, secrets: SourceSecrets | None = None, timeout: float = 30.0,
                 headed: bool = False) -> None:
        super().__init__(base_url, secrets, timeout, headed)
        self.timeout_ms = timeout * 1000
        self._handles: dict[str, str] = {}
        self._on_home = False
        #: the creator whose profile the page shows (its list grows by scrolling), and that account
        self._profile: tuple[str, AuthorRecord] | None = None

    # -- life cycle ------------------------------------------------------------------------------

    def __enter__(self) -> PlaywrightSource:
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise BackendUnavailable(f"playwright is not installed ({exc}): pip install playwright") from None
        self._errors: tuple[type[BaseException], ...] = (PlaywrightError,)
        self._display = VirtualDisplay().__enter__() if self.headed else None
        self._pw = sync_playwright().start()
        try:
            self._open()
        except BackendUnavailable:
            self.__exit__()  # a missing Chromium must not leave Playwright's driver (and its event loop) running
            raise
        except PlaywrightError as exc:
            self.__exit__()
            raise BackendUnavailable(f"Chromium did not start: {self.secrets.redact(str(exc).splitlines()[0])}") from None
        return self

    def _open(self) -> None:
        args = {"executable_path": chromium_path(), "headless": not self.headed, "args": [*QUIET_FLAGS, *chromium_trust_args(self.secrets.ca_cert)]}
        if self._display is not None:
            args["env"] = self._display.env()
        self._browser = self._pw.chromium.launch(**args, proxy=playwright_proxy(self.secrets.proxy))
        self._context = self._browser.new_context(locale="en-US", **self.har_context_options())
        cookies = [{"name": n, "value": v, "url": self.site + "/"} for n, v in cookie_pairs(self.secrets)]
        if cookies:
            self._context.add_cookies(cookies)
        self._page = self._context.new_page()
        self._page.set_default_timeout(self.timeout_ms)
        cdp = self._context.new_cdp_session(self._page)
        cdp.send("Network.enable")
        cdp.send("Network.setBlockedURLs", {"urls": list(BLOCKED_URLS)})

    def __exit__(self, *exc: object) -> None:
        for closer in ("_context", "_browser"):
            try:
                getattr(self, closer).close()
            except Exception:  # noqa: BLE001 - closing a dead browser must not hide the real error
                pass
        if getattr(self, "_pw", None) is not None:
            with contextlib.suppress(Exception):
                self._pw.stop()
            self._pw = None
        if getattr(self, "_display", None) is not None:
            self._display.__exit__()
            self._display = None

    # -- the protocol ----------------------------------------------------------------------------

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """The page's own feed request: after loading the home page, then after each scroll to the end."""
        what = "the For-You feed"
        if cursor is None or not self._on_home:
            body = self._navigate(self.site + "/", what, wait_for=FEED_PATH)
            self._on_home = True
        else:
            body = self._capture(FEED_PATH, what, self._scroll_feed)
        return self._remember(page_from_body(body, what, self.stats))

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """The related list a video page fetches after load (its first page: the page asks no more)."""
        if cursor is not None:
            return Page(items=[], has_more=False)
        what = f"related of {video_id}"
        url = video_page_url(self.site, video_id, self._handles.get(video_id))
        body = self._navigate(url, what, wait_for=RELATED_PATH, check_page=True)
        return self._remember(page_from_body(body, what, self.stats))

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """The item a video page embeds."""
        what = f"video {video_id}"
        self._navigate(video_page_url(self.site, video_id, handle or self._handles.get(video_id)), what)
        return item_from_page(as_page(self._page_data(what)), what, self.stats)

    def author(self, handle: str) -> AuthorRecord:
        """The account a profile page embeds."""
        what = f"author {handle}"
        self._navigate(f"{self.site}/@{handle}", what)
        return author_from_page(self._page_data(what), what, self.stats)

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """The list a profile page fetches after load; the next page by scrolling it to its end, as a person does.

        A later page asked while the browser shows another page (after a retry elsewhere) starts the list again."""
        what = f"videos of {handle}"
        if cursor is not None and self._profile is not None and self._profile[0] == handle:
            return posts_page(self._capture(POSTS_PATH, what, self._scroll_profile), self._profile[1], what, self.stats)
        self._profile = None
        body = self._capture(POSTS_PATH, what, lambda: self._open_profile(handle, what))
        return posts_page(body, self._profile[1], what, self.stats)  # type: ignore[index]

    def _open_profile(self, handle: str, what: str) -> None:
        self._goto(f"{self.site}/@{handle}", what)
        # a private or missing account's profile fetches no list: say why instead of waiting
        self._profile = (handle, author_from_page(self._page_data(what), what, self.stats, public=True))

    def _scroll_profile(self) -> None:
        for _ in range(WHEEL_STEPS):
            self._page.mouse.wheel(0, WHEEL_STEP)
            if self._page.evaluate(PROFILE_NEAR_END):
                return

    # -- plumbing --------------------------------------------------------------------------------

    def _navigate(self, url: str, what: str, wait_for: str | None = None, check_page: bool = False) -> str | None:
        """Opens ``url``; with ``wait_for``, returns the body of the page's own request to that path."""
        if wait_for is None:
            self._goto(url, what)
            return None
        return self._capture(wait_for, what, lambda: self._after_goto(url, what, check_page))

    def _after_goto(self, url: str, what: str, check_page: bool) -> None:
        self._goto(url, what)
        universal = self._page_data(what)
        if check_page:
            # a private or deleted video's page fetches nothing: say why instead of waiting
            item = item_from_page(as_page(universal), what, self.stats)
            self._handles[item.video.id] = item.video.author_handle or "_"

    def _page_data(self, what: str) -> str:
        """The page's rehydration JSON; a page without it may be a challenge that reloads itself: wait for that."""
        if self._evaluate(EMPTY_DOCUMENT, what):
            raise soft_blocked("empty_body", what)
        universal = self._evaluate(UNIVERSAL_TEXT, what)
        if universal is not None:
            return universal
        try:
            self._page.wait_for_selector(UNIVERSAL_SELECTOR, state="attached", timeout=CHALLENGE_WAIT_S * 1000)
            self._page.wait_for_load_state("domcontentloaded")
            universal = self._evaluate(UNIVERSAL_TEXT, what)
        except self._errors:
            universal = None
        if universal is None:
            raise blocked("challenge", what)
        return universal

    def _scroll_feed(self) -> None:
        """Scrolls the feed the way a person does: closes a sign-in modal, then wheels over the feed container."""
        page = self._page
        close = page.locator(CLOSE_MODAL)
        if close.count():
            close.first.click()
        box = page.locator(FEED_CONTAINER).bounding_box()
        if box is None:
            raise TransientError("the For-You feed: the home page has no feed container", reason="no_feed_container")
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(WHEEL_STEPS):
            page.mouse.wheel(0, WHEEL_STEP)
            if page.evaluate(FEED_NEAR_END):
                return

    def _goto(self, url: str, what: str) -> None:
        self.stats.requests += 1
        try:
            response = self._page.goto(url, wait_until="domcontentloaded")
        except self._errors as exc:
            if "interrupted by another navigation" in str(exc):
                return  # a challenge page reloading itself: _page_data waits for the real page
            raise self._transient(exc, what) from None
        if response is not None:
            classify_http(response.status, what, response.headers)
        self._on_home = False
        self._profile = None

    def _capture(self, path: str, what: str, action: Callable[[], Any]) -> str:
        """Runs ``action`` and returns the body of the first request to ``path`` it makes the page send."""
        try:
            with self._page.expect_request(lambda r: path in r.url, timeout=self.timeout_ms) as info:
                action()
            self.stats.requests += 1
            response = info.value.response()
            if response is None:
                raise TransientError(f"{what}: the request failed ({info.value.failure})", reason="connection")
            classify_http(response.status, what, response.headers)
            return response.text()
        except self._errors as exc:
            raise self._transient(exc, what) from None

    def _evaluate(self, script: str, what: str) -> Any:
        try:
            return self._page.evaluate(script)
        except self._errors as exc:
            raise self._transient(exc, what) from None

    def _transient(self, exc: BaseException, what: str) -> SourceError:
        message = self.secrets.redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return transport_error(message + (" (timeout)" if "Timeout" in type(exc).__name__ else ""), what)

    def _remember(self, page: Page) -> Page:
        """Keeps the handles of listed videos, so that their pages are opened at their canonical URL."""
        for item in page.items:
            if item.video.author_handle:
                self._handles[item.video.id] = item.video.author_handle
        return page
