"""The ``ytdlp`` backend: yt-dlp's TikTok extractor for single videos, its HTTP stack for the lists.

yt-dlp reads one video the way it does on the real site — the page's
``__UNIVERSAL_DATA_FOR_REHYDRATION__``, its statusCodes, its formats. Its
extractor only matches tiktok.com, so for another site (the sandbox) we subclass
it with a ``_VALID_URL`` and URL building on that site: its own page-parsing code
runs unchanged. yt-dlp has no feed or related-videos extractor, so those API
calls go through yt-dlp's own HTTP layer (``YoutubeDL.urlopen``: its cookies,
proxy and, with curl_cffi, browser impersonation). The real site wants signed
API calls (X-Bogus, msToken) for those; there, use this backend for single
videos and media and another one to crawl.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from core.errors import ParseError
from core.records import AuthorRecord, ParsedItem
from scrapers.backends.browser import FEED_PATH, POSTS_PATH, RELATED_PATH, USER_PATH, SiteClient, cookie_pairs, video_page_url
from scrapers.parse import parse_item
from scrapers.responses import author_from_detail, page_from_body, posts_page
from scrapers.answers import classify_http, transport_error
from scrapers.trust import new_youtubedl
from scrapers.source import (
    REAL_SITE, BackendUnavailable, NotFound, Page, Private, TransientError, Withheld,
)

#: query parameters the web app sends with every API call
APP_PARAMS = {"aid": "1988", "app_name": "tiktok_web", "device_platform": "web_pc"}


def site_extractor(base_url: str) -> type:
    """yt-dlp's TikTok extractor, matching and building video URLs on ``base_url`` instead of tiktok.com."""
    from yt_dlp.extractor.tiktok import TikTokIE

    site = base_url.rstrip("/")

    class SiteTikTokIE(TikTokIE):
        """yt-dlp's TikTok extractor on another site."""

        IE_NAME = "tiktok:site"
        _VALID_URL = re.escape(site) + r"/@(?P<user_id>[\w.-]+)?/video/(?P<id>\d+)"
        _WEBPAGE_HOST = site + "/"
        _UPLOADER_URL_FORMAT = site + "/@%s"
        _TESTS: list[Any] = []

        @staticmethod
        def _create_url(user_id: str | None, video_id: str) -> str:
            return f"{site}/@{user_id or '_'}/video/{video_id}"

    return SiteTikTokIE


class YtdlpSource(SiteClient):
    """A YoutubeDL for the whole crawl: pages through its TikTok extractor, API calls through its HTTP stack."""

    name = "ytdlp"

    def __enter__(self) -> YtdlpSource:
        try:
            import yt_dlp  # noqa: F401 - only to say so when it is missing
        except ImportError as exc:
            raise BackendUnavailable(f"yt-dlp is not installed ({exc}): pip install yt-dlp") from None
        params: dict[str, Any] = {
            "quiet": True, "no_warnings": True, "noprogress": True, "cachedir": False, "skip_download": True,
            "socket_timeout": self.timeout, "logger": _QuietLogger(), "extractor_retries": 0,
        }
        if self.secrets.proxy:
            params["proxy"] = self.secrets.proxy
        self._ydl = new_youtubedl(params, self.secrets.ca_cert)
        if self.har is not None:
            from scrapers.har import record_ytdlp

            record_ytdlp(self._ydl, self.har)
        self._headers = {"Cookie": "; ".join(f"{n}={v}" for n, v in cookie_pairs(self.secrets))} if cookie_pairs(self.secrets) else {}
        self._ie_key = None
        #: accounts read for their lists, by handle (their secUid pages the list)
        self._accounts: dict[str, AuthorRecord] = {}
        if self.base_url:
            ie = site_extractor(self.base_url)
            self._ydl.add_info_extractor(ie())
            self._ie_key = ie.ie_key()
        return self

    def __exit__(self, *exc: object) -> None:
        self._ydl.close()

    # -- the protocol ----------------------------------------------------------------------------

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """``/api/recommend/item_list/`` from ``cursor``."""
        what = "the For-You feed"
        query = {"from_page": "fyp", "count": count, "cursor": cursor or 0}
        return page_from_body(self._get(FEED_PATH, query, what), what, self.stats)

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """``/api/related/item_list/`` of one video."""
        what = f"related of {video_id}"
        query: dict[str, Any] = {"itemID": video_id, "count": count}
        if cursor is not None:
            query["cursor"] = cursor
        return page_from_body(self._get(RELATED_PATH, query, what), what, self.stats)

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """The video page, read by yt-dlp's TikTok extractor; its info dict parsed by the spine's parser."""
        what = f"video {video_id}"
        url = video_page_url(self.site, video_id, handle)
        self.stats.requests += 1
        info = self._extract(url, what)
        try:
            return parse_item(self._ydl.sanitize_info(info), "ytdlp")
        except ParseError as exc:
            raise NotFound(f"{what}: yt-dlp's answer cannot be read ({exc})", reason=exc.reason) from None

    def author(self, handle: str) -> AuthorRecord:
        """``/api/user/detail/`` of one account."""
        what = f"author {handle}"
        return author_from_detail(self._get(USER_PATH, {"uniqueId": handle}, what), what, self.stats)

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """``/api/post/item_list/`` by the account's secUid (read, with its privacy, from ``/api/user/detail/``)."""
        what = f"videos of {handle}"
        account = self._accounts.get(handle)
        if account is None:
            account = author_from_detail(self._get(USER_PATH, {"uniqueId": handle}, what), what, self.stats, public=True)
            self._accounts[handle] = account
        query = {"secUid": account.sec_uid or "", "count": count, "cursor": cursor or 0}
        return posts_page(self._get(POSTS_PATH, query, what), account, what, self.stats)

    # -- plumbing --------------------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, Any], what: str) -> bytes:
        from yt_dlp.networking import Request
        from yt_dlp.networking.exceptions import HTTPError, RequestError

        params = {**APP_PARAMS, **query}
        if self.secrets.ms_token:
            params["msToken"] = self.secrets.ms_token
        self.stats.requests += 1
        try:
            with self._ydl.urlopen(Request(f"{self.site}{path}?{urlencode(params)}", headers=self._headers)) as response:
                return response.read()
        except HTTPError as exc:
            classify_http(exc.status, what, dict(exc.response.headers))
            raise TransientError(f"{what}: HTTP {exc.status}", reason=f"http_{exc.status}") from None
        except RequestError as exc:
            raise transport_error(self.secrets.redact(str(exc.msg or exc).splitlines()[0]), what) from None

    def _extract(self, url: str, what: str) -> dict[str, Any]:
        from yt_dlp.utils import DownloadError, ExtractorError

        try:
            return self._ydl.extract_info(url, download=False, ie_key=self._ie_key)
        except (DownloadError, ExtractorError) as exc:
            raise self._classify(exc, what) from None

    def _classify(self, exc: Exception, what: str) -> Exception:
        from yt_dlp.networking.exceptions import HTTPError

        cause = getattr(exc, "exc_info", None)
        cause = cause[1] if cause else getattr(exc, "cause", None)
        while cause is not None and not isinstance(cause, HTTPError):
            cause = getattr(cause, "cause", None)
        if isinstance(cause, HTTPError):
            try:
                classify_http(cause.status, what)
            except Exception as mapped:  # noqa: BLE001 - the mapping raises; hand it back
                return mapped
        text = self.secrets.redact(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).replace("ERROR: ", ""))
        lowered = text.lower()
        if "permission to view" in lowered or "log in" in lowered or "login" in lowered:
            return Private(f"{what}: {text}")
        if "ip address is blocked" in lowered:
            return Withheld(f"{what}: {text} (statusCode 10204)")
        if "universal data" in lowered or "unable to extract" in lowered:
            return TransientError(f"{what}: {text}", reason="malformed_json")
        if "not available" in lowered:
            return NotFound(f"{what}: {text}", reason="unavailable")
        return TransientError(f"{what}: {text}", reason="extractor")


class _QuietLogger:
    """yt-dlp's messages go nowhere; failures come back as exceptions."""

    def debug(self, msg: str) -> None:  # noqa: D102
        pass

    info = warning = error = debug


__all__ = ["REAL_SITE", "YtdlpSource", "site_extractor"]
