"""The ``research_api`` backend: TikTok's Research API for approved researchers (``open.tiktokapis.com``).

One :class:`ResearchApiClient` holds the client-credentials token (fetched on
first use, fetched again before it expires or when the API answers 401) and
sends one request per call: ``query_videos`` (``/v2/research/video/query/`` with
its query language, ``fields=``, ``max_count`` ≤ 100, ``cursor`` and
``search_id``), ``user_info`` and ``comments``. Errors come back typed, the way
the crawl's sources raise them: 429 is :class:`QuotaExhausted` (with the API's
own time, read from its ``Date`` header, so the caller can wait for 00:00 UTC),
500 ``internal_error`` and "Search Id … is invalid or expired" are transient,
other ``invalid_params`` are the caller's mistake. The client key and secret go
to the token endpoint and nowhere else: never into messages, logs or the catalog.

:class:`ResearchApiSource` puts the client behind the crawl's ``Source``
protocol for what the API can answer — one video by id (``curate refresh``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from core.errors import ConfigError, ParseError
from core.records import AuthorRecord, ParsedItem
from scrapers.payloads.research import REAL_SITE, research_item
from scrapers.answers import transport_error
from scrapers.source import Blocked, NotFound, Page, SourceError, SourceStats, TransientError

RESEARCH_API = "https://open.tiktokapis.com"
TOKEN_PATH = "/v2/oauth/token/"
VIDEO_QUERY_PATH = "/v2/research/video/query/"
USER_INFO_PATH = "/v2/research/user/info/"
COMMENTS_PATH = "/v2/research/video/comment/list/"
#: what ``curate query`` asks for by default: everything the catalog can hold
VIDEO_FIELDS = ("id", "create_time", "username", "region_code", "video_description", "music_id", "like_count",
                "comment_count", "share_count", "view_count", "favorites_count", "hashtag_names", "video_duration")
USER_FIELDS = ("display_name", "is_verified", "follower_count", "following_count", "likes_count", "video_count")
COMMENT_FIELDS = ("id", "video_id", "text", "like_count", "reply_count", "parent_comment_id", "create_time")
MAX_COUNT = 100
#: a token is renewed this long before the API said it expires
TOKEN_MARGIN_S = 60.0
SEARCH_ID_INVALID = "is invalid or expired"


class ResearchError(SourceError):
    """The Research API refused a request; ``reason`` is its error code."""

    reason = "research_error"


class InvalidParams(ResearchError):
    """400 ``invalid_params`` that no retry can fix (a bad query, field or date): the run stops."""

    reason = "invalid_params"


class SearchExpired(TransientError):
    """400 "Search Id … is invalid or expired": the API forgot a search (or, as its users found, not yet learned it)."""

    reason = "search_id_expired"


class InternalError(TransientError):
    """500 ``internal_error``: common on long windows; the request still spent quota."""

    reason = "internal_error"


class QuotaExhausted(ResearchError):
    """429 ``rate_limit_exceeded``: the day's quota is spent until 00:00 UTC (``reset_at``, the API's clock)."""

    reason = "rate_limit_exceeded"

    def __init__(self, message: str, server_time: datetime) -> None:
        super().__init__(message)
        self.server_time = server_time
        self.reset_at = next_reset(server_time)


def next_reset(when: datetime) -> datetime:
    """The next 00:00 UTC after ``when``."""
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


@dataclass(frozen=True)
class ResearchCredentials:
    """The approved project's client key and secret: sent to the token endpoint only."""

    client_key: str = field(repr=False)
    client_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.client_key or not self.client_secret:
            raise ConfigError("the Research API needs a client key and secret: set CURATE_RESEARCH_CLIENT_KEY and "
                              "CURATE_RESEARCH_CLIENT_SECRET (or client_key / client_secret in the config's [research])")

    def redact(self, text: str) -> str:
        """``text`` with the key and secret replaced by ``***``."""
        for value in (self.client_secret, self.client_key):
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text


@dataclass
class VideoPage:
    """One answer of the video query: parsed items, the records the parser refused, paging, the API's time."""

    items: list[ParsedItem]
    skipped: list[str]
    cursor: int
    has_more: bool
    search_id: str | None
    server_time: datetime
    #: videos the API returned (fewer than max_count when some were deleted or made private)
    returned: int = 0


class ResearchApiClient:
    """A session with the Research API (the real one, or the sandbox's double at ``base_url``)."""

    name = "research_api"

    def __init__(self, credentials: ResearchCredentials, base_url: str | None = None, timeout: float = 30.0,
                 page_site: str | None = None) -> None:
        self.credentials = credentials
        self.base = (base_url or RESEARCH_API).rstrip("/")
        #: where video pages live (their URLs go into the catalog for ``curate download``)
        self.page_site = page_site or (base_url.rstrip("/") if base_url else REAL_SITE)
        self.timeout = timeout
        self.stats = SourceStats()
        #: requests to the data endpoints (the ones the daily quota counts; token requests are not)
        self.data_requests = 0
        self._token: str | None = None
        self._token_until = 0.0
        self._client: Any = None
        self._urls: dict[tuple[str, tuple[str, ...]], str] = {}
        #: the API's time at its last answer (its Date header), else this machine's
        self.server_time = datetime.now(UTC)

    def __enter__(self) -> ResearchApiClient:
        import httpx

        self._client = httpx.Client(timeout=self.timeout, headers={"User-Agent": "viralcurate"})
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def api_name(self) -> str:
        """The quota ledger's key: this API at this address (never a credential)."""
        return f"research_api@{self.base}"[:64]

    # ---- the endpoints --------------------------------------------------------------------------

    def query_videos(self, query: dict[str, Any], start: str, end: str, fields: tuple[str, ...] = VIDEO_FIELDS,
                     max_count: int = MAX_COUNT, cursor: int | None = None, search_id: str | None = None,
                     is_random: bool = False) -> VideoPage:
        """One page of videos created in ``[start, end)`` (YYYYMMDD, UTC) that ``query`` selects."""
        body: dict[str, Any] = {"query": query, "start_date": start, "end_date": end, "max_count": max_count,
                                "is_random": is_random}
        if cursor is not None:
            body["cursor"] = cursor
        if search_id is not None:
            body["search_id"] = search_id
        data = self._post(VIDEO_QUERY_PATH, fields, body, f"video query {start}–{end}")
        started = time.perf_counter()
        items, skipped = [], []
        videos = data.get("videos") if isinstance(data.get("videos"), list) else []
        for record in videos:
            try:
                items.append(research_item(record, self.page_site))
            except ParseError as exc:
                skipped.append(exc.reason)
        self.stats.parse_s += time.perf_counter() - started
        return VideoPage(items, skipped, int(data.get("cursor") or 0), bool(data.get("has_more")),
                         str(data["search_id"]) if data.get("search_id") else None, self.server_time, len(videos))

    def user_info(self, username: str, fields: tuple[str, ...] = USER_FIELDS) -> dict[str, Any]:
        """One creator's public profile counts."""
        return self._post(USER_INFO_PATH, fields, {"username": username}, f"user info of {username}")

    def comments(self, video_id: str, max_count: int = MAX_COUNT, cursor: int = 0,
                 fields: tuple[str, ...] = COMMENT_FIELDS) -> tuple[list[dict[str, Any]], int, bool]:
        """One page of a video's comments: ``(comments, next cursor, has_more)``."""
        data = self._post(COMMENTS_PATH, fields, {"video_id": int(video_id), "max_count": max_count, "cursor": cursor},
                          f"comments of {video_id}")
        comments = data.get("comments") if isinstance(data.get("comments"), list) else []
        return comments, int(data.get("cursor") or 0), bool(data.get("has_more"))

    # ---- plumbing -------------------------------------------------------------------------------

    def _post(self, path: str, fields: tuple[str, ...], body: dict[str, Any], what: str) -> dict[str, Any]:
        status, payload = self._send(path, fields, body, what)
        if status == 401:
            # the token expired (2 h) or was revoked: fetch a new one, once
            self._token = None
            status, payload = self._send(path, fields, body, what)
        return self._data(status, payload, what)

    def _send(self, path: str, fields: tuple[str, ...], body: dict[str, Any], what: str) -> tuple[int, Any]:
        import httpx

        headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
        self.stats.requests += 1
        self.data_requests += 1
        try:
            response = self._client.post(self._url(path, fields), content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(self.credentials.redact(str(exc) or type(exc).__name__), what) from None
        self._note_time(response.headers.get("date"))
        try:
            return response.status_code, orjson.loads(response.content)
        except orjson.JSONDecodeError:
            if response.status_code >= 500:
                raise InternalError(f"{what}: HTTP {response.status_code}", reason=f"http_{response.status_code}") from None
            raise TransientError(f"{what}: the answer is not JSON (HTTP {response.status_code})", reason="malformed_json") from None

    def _url(self, path: str, fields: tuple[str, ...]) -> str:
        """The endpoint's URL with its ``fields``, built once per endpoint, not merged by httpx on every request."""
        key = (path, fields)
        if key not in self._urls:
            self._urls[key] = f"{self.base}{path}?{urlencode({'fields': ','.join(fields)})}"
        return self._urls[key]

    def _data(self, status: int, payload: Any, what: str) -> dict[str, Any]:
        error = payload.get("error") if isinstance(payload, dict) and isinstance(payload.get("error"), dict) else {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
        detail = f"{what}: {code or f'HTTP {status}'}" + (f" ({message})" if message else "")
        if status == 200 and code in ("ok", ""):
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, dict):
                raise TransientError(f"{what}: the answer has no data object", reason="malformed_json")
            return data
        if status == 429 or code == "rate_limit_exceeded":
            raise QuotaExhausted(detail, self.server_time)
        if code == "invalid_params" and SEARCH_ID_INVALID in message:
            raise SearchExpired(detail)
        if status >= 500 or code == "internal_error":
            raise InternalError(detail, reason="internal_error" if code == "internal_error" else f"http_{status}")
        if status == 401:
            raise Blocked(f"{detail}: a fresh token was refused too", reason="access_token_invalid")
        if status == 404:
            raise NotFound(detail, reason="not_found")
        raise InvalidParams(detail, reason=code or f"http_{status}")

    def token(self) -> str:
        """A valid access token (client-credentials grant), fetched when missing or about to expire."""
        import httpx

        if self._token is not None and time.monotonic() < self._token_until:
            return self._token
        form = {"client_key": self.credentials.client_key, "client_secret": self.credentials.client_secret,
                "grant_type": "client_credentials"}
        self.stats.requests += 1
        try:
            response = self._client.post(f"{self.base}{TOKEN_PATH}", data=form,
                                         headers={"Cache-Control": "no-cache"})
        except httpx.HTTPError as exc:
            raise transport_error(self.credentials.redact(str(exc) or type(exc).__name__), "the token request") from None
        self._note_time(response.headers.get("date"))
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = {}
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            reason = answer.get("error") if isinstance(answer, dict) else None
            if response.status_code >= 500:
                raise TransientError(f"the token request: HTTP {response.status_code}", reason=f"http_{response.status_code}")
            raise Blocked(f"the Research API refused the client key and secret (HTTP {response.status_code}"
                          f"{', ' + str(reason) if reason else ''})", reason="invalid_client")
        self._token = token
        self._token_until = time.monotonic() + float(answer.get("expires_in") or 7200) - TOKEN_MARGIN_S
        return token

    def _note_time(self, header: str | None) -> None:
        if not header:
            return
        try:
            self.server_time = parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass


def id_window(video_id: str) -> tuple[str, str]:
    """The one-day window ``[day, day + 1)`` a video was posted in: the platform's ids carry it in their top 32 bits."""
    created = datetime.fromtimestamp(int(video_id) >> 32, UTC)
    day = created.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.strftime("%Y%m%d"), (day + timedelta(days=1)).strftime("%Y%m%d")


#: a creator's videos are asked RECENT_DAYS days at a time (the API's longest window), LOOKBACK_WINDOWS windows back
RECENT_DAYS = 30
LOOKBACK_WINDOWS = 12


class ResearchApiSource:
    """The client behind the ``Source`` protocol: one video by id, authors, a creator's recent videos; no feed or
    related lists."""

    name = "research_api"

    def __init__(self, client: ResearchApiClient) -> None:
        self.client = client
        self.stats = client.stats
        self._accounts: dict[str, AuthorRecord] = {}

    def __enter__(self) -> ResearchApiSource:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """The video's current record, found by ``video_id`` in the day its id says it was posted."""
        start, end = id_window(video_id)
        query = {"and": [{"operation": "EQ", "field_name": "video_id", "field_values": [str(video_id)]}]}
        page = self.client.query_videos(query, start, end, max_count=1)
        for item in page.items:
            if item.video.id == str(video_id):
                return item
        raise NotFound(f"video {video_id}: not in the Research API's answer (deleted, private or never public)",
                       reason="gone")

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """The Research API has no For-You feed."""
        raise SourceError("the Research API has no For-You feed: use curate query", reason="unsupported")

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """The Research API has no related lists."""
        raise SourceError("the Research API has no related videos: use curate query", reason="unsupported")

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """One page of the creator's videos (a ``username`` query), newest windows first: RECENT_DAYS days at a time,
        back LOOKBACK_WINDOWS windows. The account is asked first (``/user/info/``), since an empty query cannot tell
        a creator who posted nothing lately from one who does not exist or is private (the API's 404 says either)."""
        account = self._accounts.get(handle)
        if account is None:
            try:
                account = self._accounts[handle] = self.author(handle)
            except NotFound as exc:
                raise NotFound(str(exc), reason="not_found_or_private") from None
        window, at, search_id = _split_cursor(cursor)
        end = self.client.server_time + timedelta(days=1 - window * RECENT_DAYS)
        query = {"and": [{"operation": "EQ", "field_name": "username", "field_values": [handle]}]}
        page = self.client.query_videos(query, (end - timedelta(days=RECENT_DAYS)).strftime("%Y%m%d"), end.strftime("%Y%m%d"),
                                        max_count=min(count, MAX_COUNT), cursor=at, search_id=search_id)
        items = [replace(i, author=account) if i.author is None or i.author.id == account.id else i for i in page.items]
        if page.has_more:
            following: str | None = f"{window}|{page.cursor}|{page.search_id or ''}"
        else:
            following = f"{window + 1}||" if window + 1 < LOOKBACK_WINDOWS else None
        return Page(items=items, has_more=following is not None, cursor=following, skipped=page.skipped, author=account)

    def author(self, handle: str) -> AuthorRecord:
        """A creator's counts from ``/v2/research/user/info/``, keyed ``@handle``."""
        from scrapers.payloads.access import count
        from scrapers.payloads.research import author_key

        info = self.client.user_info(handle)
        return AuthorRecord(id=author_key(handle), handle=handle, nickname=info.get("display_name"),
                            followers=count(info.get("follower_count"), "follower_count"),
                            following=count(info.get("following_count"), "following_count"),
                            hearts=count(info.get("likes_count"), "likes_count"),
                            video_count=count(info.get("video_count"), "video_count"),
                            verified=info.get("is_verified") if isinstance(info.get("is_verified"), bool) else None)


def _split_cursor(cursor: str | int | None) -> tuple[int, int | None, str | None]:
    """``"window|cursor|search_id"`` (a creator list's Page cursor) → the window's number and its paging values."""
    if cursor is None:
        return 0, None, None
    window, at, search_id = (str(cursor).split("|") + ["", ""])[:3]
    return int(window), int(at) if at else None, search_id or None


__all__ = ["InternalError", "InvalidParams", "QuotaExhausted", "ResearchApiClient", "ResearchApiSource",
           "ResearchCredentials", "SearchExpired", "VideoPage", "id_window", "next_reset"]
