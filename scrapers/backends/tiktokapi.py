"""The ``tiktokapi`` backend (the default for the real site): TikTokApi 7 sessions on our Chromium.

TikTokApi signs each API URL inside a live page (``byted_acrawler.frontierSign``)
and runs the call as a ``fetch()`` there, with the page's cookies (msToken). We
start its session on Debian's Chromium through ``browser_context_factory`` and
``page_factory``; with ``--base-url`` the context routes every
``https://www.tiktok.com/**`` request to that site, so TikTokApi runs unchanged
against the sandbox. The page's own responses are listened to (``page.on("response")``,
on the real site as on the sandbox) for each answer's HTTP status and headers,
which TikTokApi's fetch script drops, so that a 429 (with its ``Retry-After``) is
told from a 503, a 403 or a cut line. Handing TikTokApi our page factory skips
its stealth patches, so the factory applies them itself.

The feed comes from ``api.trending.videos``; related videos from one
``/api/related/item_list/`` call per page, bounded by ``hasMore`` and the crawl's
page cap. ``Video.related_videos`` is never called: it ignores ``hasMore`` and
re-requests forever on an empty page (FACTS.md). A creator's videos come from
``User.videos`` (``/api/post/item_list/`` by secUid), capped at one request per
call for the same reason: it asks again while it has fewer than ``count``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from core.records import AuthorRecord, ParsedItem
from scrapers.backends.display import VirtualDisplay
from scrapers.backends.browser import (
    SiteClient,
    BLOCKED_URLS, DETAIL_PATH, FEED_PATH, POSTS_PATH, QUIET_FLAGS, RELATED_PATH, USER_PATH, chromium_path, cookie_pairs, playwright_proxy,
)
from scrapers.responses import author_from_detail, item_from_detail, page_from_body, posts_page
from scrapers.answers import blocked, classify_http, looks_like_html, soft_blocked, transport_error
from scrapers.trust import chromium_trust_args
from scrapers.source import (
    REAL_SITE, BackendUnavailable, Page, SourceError, SourceSecrets, TransientError, as_json_object,
)

API = REAL_SITE + "/api"
#: the HTTP status a routed request gets when the site dropped the connection
DROPPED = 599


class TikTokApiSource(SiteClient):
    """One TikTokApi session (one browser, one context, one page) for a whole crawl."""

    name = "tiktokapi"

    def __init__(self, base_url: str | None = None, secrets: SourceSecrets | None = None, timeout: float = 30.0,
                 headed: bool = False) -> None:
        super().__init__(base_url, secrets, timeout, headed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._api: Any = None
        #: HTTP status of the routed answers by path, newest last (TikTokApi's fetch keeps only the text)
        self._answers: list[tuple[str, int, dict[str, str]]] = []
        self._home_status: int | None = None
        #: accounts read for their lists, by handle (their secUid pages the list)
        self._accounts: dict[str, AuthorRecord] = {}

    # -- life cycle ------------------------------------------------------------------------------

    def __enter__(self) -> TikTokApiSource:
        try:
            from TikTokApi import TikTokApi
        except ImportError as exc:
            raise BackendUnavailable(f"TikTokApi is not installed ({exc}): pip install TikTokApi") from None
        self._display = VirtualDisplay().__enter__() if self.headed else None
        self._loop = asyncio.new_event_loop()
        self._api = _bounded_api_class(TikTokApi)(logging_level=logging.CRITICAL + 10)
        try:
            self._run(self._open())
        except BackendUnavailable:
            self.__exit__()
            raise
        except Exception as exc:  # noqa: BLE001 - TikTokApi raises bare Exceptions
            self.__exit__()
            raise BackendUnavailable(f"TikTokApi could not start a session: {self.secrets.redact(str(exc).splitlines()[0])}") from None
        return self

    async def _open(self) -> None:
        token = self.secrets.ms_token
        await self._api.create_sessions(
            num_sessions=1,
            ms_tokens=[token] if token else None,
            starting_url=REAL_SITE,
            executable_path=chromium_path(),
            browser_context_factory=self._new_context,
            page_factory=self._new_page,
            sleep_after=0 if self.base_url else 1,
            timeout=int(self.timeout * 1000),
            enable_session_recovery=False,
        )
        if self._home_status is not None and self._home_status >= 400:
            try:
                classify_http(self._home_status, f"TikTokApi's session page on {self.site}")
            except SourceError as exc:
                raise BackendUnavailable(str(exc)) from None
        if not self._api.sessions or self._api.sessions[0].headers is None:
            raise BackendUnavailable(f"TikTokApi's session on {self.site} got no request headers (the home page fired no request)")

    async def _new_context(self, playwright: Any) -> Any:
        args = {"executable_path": chromium_path(), "headless": not self.headed, "args": [*QUIET_FLAGS, *chromium_trust_args(self.secrets.ca_cert)]}
        if self._display is not None:
            args["env"] = self._display.env()
        self._browser = await playwright.chromium.launch(**args, proxy=playwright_proxy(self.secrets.proxy))
        context = await self._browser.new_context(locale="en-US", **self.har_context_options())
        cookies = [{"name": n, "value": v, "url": REAL_SITE + "/"} for n, v in cookie_pairs(self.secrets)]
        if cookies:
            await context.add_cookies(cookies)
        if self.base_url:
            await context.route(REAL_SITE + "/**", self._reroute)
        return context

    async def _new_page(self, context: Any) -> Any:
        from TikTokApi.stealth import stealth_async

        page = await context.new_page()
        # TikTokApi applies its stealth patches only to pages it makes itself
        await stealth_async(page)
        page.on("response", self._on_response)
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setBlockedURLs", {"urls": list(BLOCKED_URLS)})
        self.stats.requests += 1
        response = await page.goto(REAL_SITE + "/", wait_until="domcontentloaded")
        self._home_status = response.status if response is not None else None
        return page

    def _on_response(self, response: Any) -> None:
        """Notes the HTTP status and headers of every API answer the page receives (real site or not)."""
        path = urlsplit(response.url).path
        if path.startswith("/api/"):
            self._answers.append((path, response.status, dict(response.headers)))

    async def _reroute(self, route: Any) -> None:
        """Answers a www.tiktok.com request from the base URL (a dropped connection: status 599)."""
        request = route.request
        parts = urlsplit(request.url)
        target = self.site + parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            response = await route.fetch(url=target, timeout=self.timeout * 1000, max_redirects=5)
        except Exception:  # noqa: BLE001 - a dropped connection: answer so that the page's fetch settles
            await route.fulfill(status=DROPPED, body="", headers={"access-control-allow-origin": "*"})
            return
        await route.fulfill(response=response)

    def __exit__(self, *exc: object) -> None:
        if self._loop is None:
            return
        try:
            if self._api is not None:
                self._run(self._api.close_sessions())
        except Exception:  # noqa: BLE001 - closing a dead session must not hide the real error
            pass
        finally:
            self._loop.close()
            self._loop = None
            if self._display is not None:
                self._display.__exit__()
                self._display = None

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)  # type: ignore[union-attr]

    # -- the protocol ----------------------------------------------------------------------------

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """One page of ``api.trending.videos`` (the session's For-You feed; the platform pages it itself)."""
        what = "the For-You feed"
        return page_from_body(self._call(self._trending(count), FEED_PATH, what), what, self.stats)

    async def _trending(self, count: int) -> dict[str, Any]:
        # one request per call: trending.videos asks again while it has fewer than `count`
        # (forever, when a page is empty but says hasMore), so it may make one request only
        return await self._one_request(self._api.trending.videos(count=count))

    async def _one_request(self, videos: Any) -> dict[str, Any]:
        """Lets one of the library's video generators make a single request; returns that request's answer."""
        self._api.max_requests = 1
        try:
            async for _ in videos:
                pass
        except RequestCapReached:
            pass
        finally:
            self._api.max_requests = None
            await videos.aclose()
        return self._api.last_response

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """One ``/api/related/item_list/`` answer (never ``Video.related_videos``: it loops on empty pages)."""
        params: dict[str, Any] = {"itemID": video_id, "count": count}
        if cursor is not None:
            params["cursor"] = cursor
        what = f"related of {video_id}"
        return page_from_body(self._call(self._api.make_request(url=API + "/related/item_list/", params=params), RELATED_PATH, what), what, self.stats)

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """``/api/item/detail/`` through the session (``Video.info`` bypasses the browser)."""
        what = f"video {video_id}"
        body = self._call(self._api.make_request(url=API + "/item/detail/", params={"itemId": video_id}), DETAIL_PATH, what)
        return item_from_detail(body, what, self.stats)

    def author(self, handle: str) -> AuthorRecord:
        """``/api/user/detail/`` through the session."""
        what = f"author {handle}"
        body = self._call(self._api.make_request(url=API + "/user/detail/", params={"uniqueId": handle}), USER_PATH, what)
        return author_from_detail(body, what, self.stats)

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """One ``User.videos`` request; the account (its secUid, its privacy) from ``/api/user/detail/`` first."""
        what = f"videos of {handle}"
        account = self._accounts.get(handle)
        if account is None:
            body = self._call(self._api.make_request(url=API + "/user/detail/", params={"uniqueId": handle}), USER_PATH, what)
            account = self._accounts[handle] = author_from_detail(body, what, self.stats, public=True)
        body = self._call(self._user_posts(account, count, cursor), POSTS_PATH, what)
        return posts_page(body, account, what, self.stats)

    async def _user_posts(self, account: AuthorRecord, count: int, cursor: str | int | None) -> dict[str, Any]:
        # like trending.videos, User.videos asks again while it has fewer than `count`: one request only
        return await self._one_request(self._api.user(username=account.handle, sec_uid=account.sec_uid).videos(count=count, cursor=cursor or 0))

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, coro: Any, path: str, what: str) -> dict[str, Any]:
        """Runs one TikTokApi request; its HTTP status and body decide what to raise."""
        from TikTokApi.exceptions import EmptyResponseException, InvalidJSONException

        self._answers.clear()
        self._api.request_count = 0
        self._api.last_response = None
        self._api.last_text = None
        self.stats.requests += 1
        try:
            data = self._run(coro)
        except (EmptyResponseException, InvalidJSONException) as exc:
            self._explain(path, what)
            if isinstance(exc, EmptyResponseException):
                raise soft_blocked("empty_body", what) from None
            raise TransientError(f"{what}: the answer is not JSON", reason="malformed_json") from None
        except Exception as exc:  # noqa: BLE001 - TikTokApi and playwright raise bare Exceptions
            self._explain(path, what)
            raise transport_error(self.secrets.redact(str(exc).splitlines()[0] if str(exc) else repr(exc)), what) from None
        self._check_status(path, what)
        if data is None:
            raise TransientError(f"{what}: the answer is not JSON", reason="malformed_json")
        return as_json_object(data, what)

    def _explain(self, path: str, what: str) -> None:
        """When the library failed on an answer, raises what the answer itself says: its HTTP status, or a
        verify page where JSON belongs (TikTokApi keeps neither)."""
        self._check_status(path, what)
        if looks_like_html(self._api.last_text or ""):
            raise blocked("verify_page", what)

    def _check_status(self, path: str, what: str) -> None:
        answers = [a for a in self._answers if a[0].rstrip("/") == path.rstrip("/")]
        if not answers:
            return
        _, status, headers = answers[-1]
        if status == DROPPED:
            raise TransientError(f"{what}: the connection was dropped", reason="connection")
        classify_http(status, what, headers)


class RequestCapReached(Exception):
    """A TikTokApi iterator wanted one request more than it may make."""


def _bounded_api_class(base: type) -> type:
    """TikTokApi whose requests are tried once (our engine retries), capped per call, last answer kept."""

    class BoundedTikTokApi(base):  # type: ignore[misc, valid-type]
        """TikTokApi with one try per request and a per-call request cap."""

        last_response: Any = None
        #: the raw text of the last in-page fetch (an HTML verify page is not cut JSON)
        last_text: str | None = None
        request_count = 0
        max_requests: int | None = None

        async def make_request(self, url: str, headers: dict | None = None, params: dict | None = None, **kwargs: Any) -> Any:
            """TikTokApi's request, tried once, refused beyond ``max_requests``; its answer kept."""
            if self.max_requests is not None and self.request_count >= self.max_requests:
                raise RequestCapReached(url)
            self.request_count += 1
            kwargs.update(retries=1, exponential_backoff=False)
            data = await super().make_request(url, headers=headers, params=params or {}, **kwargs)
            self.last_response = data
            return data

        async def run_fetch_script(self, url: str, headers: dict, **kwargs: Any) -> Any:
            """TikTokApi's in-page fetch; its raw text kept."""
            self.last_text = None
            result = await super().run_fetch_script(url, headers, **kwargs)
            self.last_text = result if isinstance(result, str) else None
            return result

    return BoundedTikTokApi
