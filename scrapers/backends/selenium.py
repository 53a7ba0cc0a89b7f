"""The ``selenium`` backend: Chromium through ChromeDriver; page data from the embedded JSON, API answers from CDP.

A video page's item is read from its ``__UNIVERSAL_DATA_FOR_REHYDRATION__``
script; the feed and related answers the pages fetch are found in Chrome's
performance log (network events) and their bodies fetched with
``Network.getResponseBody``. ChromeDriver is started with an explicit ``Service``
(Debian's binary), so Selenium Manager never goes to the network.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import orjson

from core.records import AuthorRecord, ParsedItem
from scrapers.answers import blocked, soft_blocked
from scrapers.backends.browser import (
    CHALLENGE_WAIT_S, CLOSE_MODAL, EMPTY_DOCUMENT, FEED_CONTAINER, FEED_NEAR_END, PROFILE_NEAR_END, WHEEL_STEP, WHEEL_STEPS,
    SiteClient, BLOCKED_URLS, FEED_PATH, POSTS_PATH, QUIET_FLAGS, RELATED_PATH, chromedriver_path, chromium_path, cookie_pairs,
    playwright_proxy, video_page_url,
)
from scrapers.backends.display import VirtualDisplay
from scrapers.responses import as_page, author_from_page, item_from_page, page_from_body, posts_page
from scrapers.answers import classify_http, transport_error
from scrapers.trust import chromium_trust_args
from scrapers.source import (
    BackendUnavailable, Page, SourceSecrets, TransientError,
)

UNIVERSAL_TEXT = "const s = document.getElementById('__UNIVERSAL_DATA_FOR_REHYDRATION__'); return s ? s.textContent : null;"
POLL_S = 0.003


class NetworkLog:
    """Network events from Chrome's performance log, gathered per request id."""

    def __init__(self, driver: Any, recorder: Any = None) -> None:
        self.driver = driver
        self.requests: dict[str, dict[str, Any]] = {}
        #: ``scrapers.har.CdpRecorder`` of ``--record-har``: sees every event, drained ones included
        self.recorder = recorder

    def clear(self) -> None:
        """Forgets everything seen so far (and drains the browser's buffer)."""
        for entry in self.driver.get_log("performance"):
            if self.recorder is not None:
                self.recorder.event(orjson.loads(entry["message"])["message"])
        self.requests.clear()

    def poll(self) -> None:
        """Reads the events logged since the last poll."""
        for entry in self.driver.get_log("performance"):
            message = orjson.loads(entry["message"])["message"]
            if self.recorder is not None:
                self.recorder.event(message)
            params = message.get("params", {})
            rid = params.get("requestId")
            if rid is None:
                continue
            req = self.requests.setdefault(rid, {"id": rid})
            method = message.get("method")
            if method == "Network.requestWillBeSent":
                req.update(url=params["request"]["url"], type=params.get("type"))
            elif method == "Network.responseReceived":
                req.update(status=params["response"]["status"], headers=params["response"].get("headers", {}), type=params.get("type"))
                req.setdefault("url", params["response"]["url"])
            elif method == "Network.loadingFinished":
                req["done"] = True
            elif method == "Network.loadingFailed":
                req.update(done=True, failed=params.get("errorText", "failed"), type=params.get("type"))

    def find(self, path: str | None = None, kind: str | None = None) -> dict[str, Any] | None:
        """The first finished request to ``path`` (or of resource ``kind``), if any."""
        for req in self.requests.values():
            if req.get("done") and (path is None or path in req.get("url", "")) and (kind is None or req.get("type") == kind):
                return req
        return None


class SeleniumSource(SiteClient):
    """A ChromeDriver session on the site, reading pages and the network log."""

    name = "selenium"

    def __init__(self, base_url: str | None = None, secrets: SourceSecrets | None = None, timeout: float = 30.0,
                 headed: bool = False) -> None:
        super().__init__(base_url, secrets, timeout, headed)
        self._handles: dict[str, str] = {}
        self._on_home = False
        #: the creator whose profile the browser shows (its list grows by scrolling), and that account
        self._profile: tuple[str, AuthorRecord] | None = None

    def __enter__(self) -> SeleniumSource:
        try:
            from selenium import webdriver
            from selenium.common.exceptions import WebDriverException
            from selenium.webdriver.chrome.service import Service
        except ImportError as exc:
            raise BackendUnavailable(f"selenium is not installed ({exc}): pip install selenium") from None
        self._errors: tuple[type[BaseException], ...] = (WebDriverException,)
        self._display = VirtualDisplay().__enter__() if self.headed else None
        env = self._display.env() if self._display is not None else None
        try:
            self._driver = webdriver.Chrome(service=Service(chromedriver_path(), env=env), options=self._options(webdriver))
        except WebDriverException as exc:
            raise BackendUnavailable(f"ChromeDriver did not start: {self.secrets.redact(str(exc.msg or exc).splitlines()[0])}") from None
        self._driver.set_page_load_timeout(self.timeout)
        self._driver.execute_cdp_cmd("Network.enable", {})
        self._driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(BLOCKED_URLS)})
        for name, value in cookie_pairs(self.secrets):
            self._driver.execute_cdp_cmd("Network.setCookie", {"name": name, "value": value, "url": self.site + "/"})
        self._log = NetworkLog(self._driver, self._recorder())
        return self

    def _recorder(self) -> Any:
        if self.har is None:
            return None
        from scrapers.har import CdpRecorder

        return CdpRecorder(self.har, lambda rid: self._driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": rid}))

    def _options(self, webdriver: Any) -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium_path()
        for flag in (*(() if self.headed else ("--headless=new",)), "--no-sandbox", *QUIET_FLAGS, *chromium_trust_args(self.secrets.ca_cert)):
            options.add_argument(flag)
        proxy = playwright_proxy(self.secrets.proxy)
        if proxy is not None:
            if "username" in proxy:
                raise BackendUnavailable("Chrome's --proxy-server takes no credentials: use --source playwright or tiktokapi with this proxy")
            options.add_argument(f"--proxy-server={proxy['server']}")
        options.page_load_strategy = "eager"
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
        return options

    def __exit__(self, *exc: object) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None and self.har is not None:
            with contextlib.suppress(Exception):
                self._log.poll()  # the last page's requests, into the HAR
        if driver is not None:
            # a driver killed with the crawl (Ctrl-C reaches the whole process group) must not hide why we stop
            with contextlib.suppress(Exception):
                driver.quit()
            self._driver = None
        if getattr(self, "_display", None) is not None:
            self._display.__exit__()
            self._display = None

    # -- the protocol ----------------------------------------------------------------------------

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """The feed answers the home page fetches: after load, then after each scroll to the end."""
        what = "the For-You feed"
        self._log.clear()
        if cursor is None or not self._on_home:
            self._open(self.site + "/", what)
            self._on_home = True
        else:
            self._call(self._scroll_feed, what)
        return self._remember(page_from_body(self._body_of(FEED_PATH, what), what, self.stats))

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """The related list a video page fetches after load (its first page: the page asks no more)."""
        if cursor is not None:
            return Page(items=[], has_more=False)
        what = f"related of {video_id}"
        self._log.clear()
        universal = self._open(video_page_url(self.site, video_id, self._handles.get(video_id)), what)
        item = item_from_page(as_page(universal), what, self.stats)  # a private or deleted page fetches nothing
        self._handles[item.video.id] = item.video.author_handle or "_"
        return self._remember(page_from_body(self._body_of(RELATED_PATH, what), what, self.stats))

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """The item a video page embeds."""
        what = f"video {video_id}"
        self._log.clear()
        url = video_page_url(self.site, video_id, handle or self._handles.get(video_id))
        return item_from_page(as_page(self._open(url, what)), what, self.stats)

    def author(self, handle: str) -> AuthorRecord:
        """The account a profile page embeds."""
        what = f"author {handle}"
        self._log.clear()
        return author_from_page(self._open(f"{self.site}/@{handle}", what), what, self.stats)

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """The list a profile page fetches after load; the next page by scrolling it to its end, as a person does.

        A later page asked while the browser shows another page (after a retry elsewhere) starts the list again."""
        what = f"videos of {handle}"
        self._log.clear()
        if cursor is not None and self._profile is not None and self._profile[0] == handle:
            self._call(self._scroll_profile, what)
        else:
            self._profile = None
            universal = self._open(f"{self.site}/@{handle}", what)
            # a private or missing account's profile fetches no list: say why instead of waiting
            self._profile = (handle, author_from_page(universal, what, self.stats, public=True))
        return posts_page(self._body_of(POSTS_PATH, what), self._profile[1], what, self.stats)

    def _scroll_profile(self) -> None:
        from selenium.webdriver import ActionChains

        for _ in range(WHEEL_STEPS):
            ActionChains(self._driver).scroll_by_amount(0, WHEEL_STEP).perform()
            if self._driver.execute_script(f"return {PROFILE_NEAR_END};"):
                return

    # -- plumbing --------------------------------------------------------------------------------

    def _open(self, url: str, what: str) -> str:
        """Loads a page and returns its rehydration JSON; transport failures and HTTP errors raise."""
        self.stats.requests += 1
        self._profile = None
        self._call(lambda: self._driver.get(url), what)
        document = self._wait(lambda: self._log.find(kind="Document"), what)
        if document.get("failed"):
            raise transport_error(document["failed"], what)
        classify_http(document.get("status", 200), what, document.get("headers"))
        return self._page_data(what)

    def _page_data(self, what: str) -> str:
        """The page's rehydration JSON; a page without it may be a challenge that reloads itself: wait for that."""
        if self._call(lambda: self._driver.execute_script(f"return {EMPTY_DOCUMENT};"), what):
            raise soft_blocked("empty_body", what)
        deadline = time.monotonic() + CHALLENGE_WAIT_S
        while True:
            try:
                universal = self._driver.execute_script(UNIVERSAL_TEXT)
            except self._errors:
                universal = None  # the page is reloading
            if universal is not None:
                return universal
            if time.monotonic() > deadline:
                raise blocked("challenge", what)
            time.sleep(POLL_S * 10)

    def _scroll_feed(self) -> None:
        """Scrolls the feed the way a person does: closes a sign-in modal, then wheels over the feed container."""
        from selenium.webdriver import ActionChains
        from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
        from selenium.webdriver.common.by import By

        for button in self._driver.find_elements(By.CSS_SELECTOR, CLOSE_MODAL):
            if button.is_displayed():
                button.click()
        container = self._driver.find_element(By.CSS_SELECTOR, FEED_CONTAINER)
        for _ in range(WHEEL_STEPS):
            ActionChains(self._driver).scroll_from_origin(ScrollOrigin.from_element(container), 0, WHEEL_STEP).perform()
            if self._driver.execute_script(f"return {FEED_NEAR_END};"):
                return

    def _body_of(self, path: str, what: str) -> str:
        """The body of the page's finished request to ``path``."""
        req = self._wait(lambda: self._log.find(path=path), what)
        self.stats.requests += 1
        if req.get("failed"):
            raise TransientError(f"{what}: {req['failed']}", reason="connection")
        classify_http(req.get("status", 200), what, req.get("headers"))
        body = self._call(lambda: self._driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": req["id"]}), what)
        if body.get("base64Encoded"):
            import base64

            return base64.b64decode(body["body"]).decode("utf-8", "replace")
        return body["body"]

    def _wait(self, find: Any, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            self._call(self._log.poll, what)
            found = find()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TransientError(f"{what}: no answer within {self.timeout:g} s", reason="timeout")
            time.sleep(POLL_S)

    def _call(self, fn: Any, what: str) -> Any:
        try:
            return fn()
        except self._errors as exc:
            text = self.secrets.redact(str(getattr(exc, "msg", None) or exc).splitlines()[0])
            raise transport_error(text, what) from None

    def _remember(self, page: Page) -> Page:
        for item in page.items:
            if item.video.author_handle:
                self._handles[item.video.id] = item.video.author_handle
        return page
