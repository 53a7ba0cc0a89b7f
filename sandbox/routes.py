"""What each URL of the site answers when nothing goes wrong (faults are applied around this).

Endpoints and shapes follow the platform's web API: ``statusCode``/``status_code``
0 on success; ``itemList``, ``hasMore`` and a string ``cursor`` on lists (finite:
``hasMore`` is false on the last page); 10216 for a private video, 10204 for one
that is gone, 10202 for an unknown account.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sandbox import pages
from sandbox.research import ResearchApi
from sandbox.strict import SESSION_COOKIE, with_extras
from sandbox.world import World

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
STATUS_PRIVATE, STATUS_GONE, STATUS_NO_USER, STATUS_CAPTCHA = 10216, 10204, 10202, 10000
#: a 1×1 transparent PNG for covers and avatars
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "da63f8ffff3f0005fe02fea7d6a4f20000000049454e44ae426082"
)


@dataclass
class Request:
    """One parsed request: path, first value of each query parameter, cookies, headers, and its session."""

    method: str
    path: str
    query: dict[str, str]
    cookies: dict[str, str]
    #: header names in lower case
    headers: dict[str, str] = field(default_factory=dict)
    #: the ``Set-Cookie`` values the site sends with its answer (a strict site's rotation and session cookie)
    set_cookies: list[str] = field(default_factory=list)
    #: the request's body (POST)
    body: bytes = b""

    @property
    def session(self) -> str:
        """The session cookie a strict site set (with the device id), else the msToken (query, then cookie),
        else ``anonymous``."""
        issued = next((c.split(";")[0].partition("=")[2] for c in self.set_cookies if c.startswith(SESSION_COOKIE + "=")), None)
        if SESSION_COOKIE in self.cookies or issued:
            return f"{self.cookies.get(SESSION_COOKIE, issued)}/{self.query.get('device_id', '')}"
        return self.query.get("msToken") or self.cookies.get("msToken") or "anonymous"


@dataclass
class Reply:
    """A response to send: status, body or file, content type, headers; ``commit`` runs once it is delivered."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    commit: Callable[[], None] | None = None


@dataclass(frozen=True)
class Route:
    """An endpoint: its name (for the counters), its fault class (None: never faulted) and its handler."""

    name: str
    fault_class: str | None
    handler: Callable[[Request, re.Match], Reply]


def status_body(status: int, **extra: Any) -> bytes:
    """A JSON answer with only a status (and whatever ``extra`` holds)."""
    return orjson.dumps({"statusCode": status, "status_code": status, "statusMsg": "", "status_msg": "", **extra})


def _int(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(query.get(name, default)), low), high)
    except ValueError:
        return default


class Routes:
    """The site's endpoints over one world, with media URLs on ``base_url``."""

    def __init__(self, world: World, base_url: str, extras: bool = False) -> None:
        self.world = world
        self.base_url = base_url
        #: lists carry ads and photo posts beside the videos (strict mode)
        self.extras = extras
        self.builder = world.item_builder(base_url)
        self._positions: dict[str, int] = {}
        self._lock = threading.Lock()
        self.table: list[tuple[re.Pattern, Route]] = [
            (re.compile(p), Route(name, cls, handler)) for p, name, cls, handler in (
                (r"^/(?:foryou|en)?/?$", "home", "home", self.home),
                (r"^/api/recommend/item_list/?$", "feed", "list", self.feed),
                (r"^/api/related/item_list/?$", "related", "item", self.related),
                (r"^/api/item/detail/?$", "detail", "item", self.detail),
                (r"^/api/user/detail/?$", "user", "list", self.user),
                (r"^/api/post/item_list/?$", "posts", "list", self.posts),
                (r"^/api/web/report/?$", "report", None, lambda r, m: Reply(204)),
                (r"^/@([^/]+)/video/([0-9]+)/?$", "video_page", "page", self.video_page),
                (r"^/@([^/]+)/?$", "user_page", "profile", self.user_page),
                (r"^/media/([0-9]+)\.mp4$", "media", "media", self.media),
                (r"^/(?:cover/[^/]+|favicon\.ico)$", "cover", None, lambda r, m: Reply(body=PNG, content_type="image/png")),
            )
        ]
        #: the Research API's double (its own errors and quotas; the site's injected faults pass it by)
        self.research = ResearchApi(world)
        self.table += [(re.compile(p), Route(name, None, handler)) for p, name, handler in self.research.routes()]

    def forget_positions(self) -> None:
        """Every session's feed starts again from its first page."""
        with self._lock:
            self._positions.clear()

    def match(self, path: str) -> tuple[Route, re.Match | None]:
        """The route of ``path`` (a 404 route when none matches)."""
        for pattern, route in self.table:
            found = pattern.match(path)
            if found:
                return route, found
        return Route("not_found", None, lambda r, m: Reply(404, pages.error_page(404, "Not Found"), HTML)), None

    # ---- lists -----------------------------------------------------------------------------------

    def list_body(self, rows, has_more: bool, cursor: int, start: int | None = None) -> bytes:
        """``{statusCode: 0, itemList, hasMore, cursor}`` from the rows' pre-serialised items (with ads and
        photo posts when the site carries them and ``start``, the list position of the first row, is given)."""
        serialised = [self.builder.item_bytes(int(r)) for r in rows]
        if self.extras and start is not None and len(rows):
            serialised = with_extras(serialised, start, self.builder.item(int(rows[0])))
        items = b",".join(serialised)
        return (b'{"statusCode":0,"status_code":0,"statusMsg":"","status_msg":"","itemList":[' + items
                + b'],"hasMore":' + (b"true" if has_more else b"false") + b',"cursor":"' + str(cursor).encode() + b'"}')

    def feed(self, request: Request, _: re.Match) -> Reply:
        """The For-You feed: pages of ``world.items`` by ``cursor``; without one, where this msToken left off."""
        count = _int(request.query, "count", 16, 1, 30)
        session = request.session
        explicit = "cursor" in request.query
        with self._lock:
            start = _int(request.query, "cursor", 0, 0, 1 << 40) if explicit or session == "anonymous" else self._positions.get(session, 0)
        rows = self.world.feed[start:start + count]
        end = start + len(rows)

        def advance() -> None:
            """Moves this session's place in the feed once the page was delivered."""
            with self._lock:
                self._positions[session] = end

        commit = None if explicit or session == "anonymous" else advance
        return Reply(body=self.list_body(rows, end < len(self.world.feed), end, start), commit=commit)

    def related(self, request: Request, _: re.Match) -> Reply:
        """A video's related list, ``count`` (≤ 30, default 16) at a time from ``cursor``; finite."""
        video_id = request.query.get("itemID") or request.query.get("itemId") or ""
        status = self._status_of(video_id)
        if status:
            return Reply(body=status_body(status))
        rows = self.world.graph.row(self.world.row(video_id))
        start = _int(request.query, "cursor", 0, 0, 1 << 40)
        page = rows[start:start + _int(request.query, "count", 16, 1, 30)]
        end = start + len(page)
        return Reply(body=self.list_body(page, end < len(rows), end, start))

    def detail(self, request: Request, _: re.Match) -> Reply:
        """One video: ``{itemInfo: {itemStruct}, statusCode}``."""
        video_id = request.query.get("itemId") or request.query.get("itemID") or request.query.get("id") or ""
        status = self._status_of(video_id)
        if status:
            return Reply(body=status_body(status))
        item = self.builder.item_bytes(self.world.row(video_id))
        return Reply(body=b'{"itemInfo":{"itemStruct":' + item + b'},"statusCode":0,"status_code":0,"statusMsg":"","status_msg":""}')

    def user(self, request: Request, _: re.Match) -> Reply:
        """One account by ``uniqueId`` (else ``secUid``): ``{userInfo: {user, stats, statsV2}}``."""
        private = self._private(request)
        if private is not None:
            return Reply(body=orjson.dumps({"userInfo": private, "statusCode": 0, "status_code": 0, "statusMsg": "", "status_msg": ""}))
        row = self._author(request)
        if row is None:
            return Reply(body=status_body(STATUS_NO_USER, userInfo={}))
        return Reply(body=orjson.dumps({"userInfo": self.builder.user_info(row), "statusCode": 0, "status_code": 0,
                                        "statusMsg": "", "status_msg": ""}))

    def posts(self, request: Request, _: re.Match) -> Reply:
        """An account's public videos, newest first, by ``secUid``, ``count`` (≤ 35) from ``cursor``; a private
        account's list is a success without ``itemList`` (a client that reads it as "no videos" is wrong)."""
        if self._private(request) is not None:
            return Reply(body=status_body(0, hasMore=False, cursor="0"))
        row = self._author(request)
        if row is None:
            return Reply(body=status_body(STATUS_NO_USER))
        ids = self.world.author_videos(row)
        start = _int(request.query, "cursor", 0, 0, 1 << 40)
        page = ids[start:start + _int(request.query, "count", 30, 1, 35)]
        end = start + len(page)
        return Reply(body=self.list_body([self.world.row(i) for i in page], end < len(ids), end))

    def _private(self, request: Request) -> dict[str, Any] | None:
        """The userInfo of the private account the request names, if it names one."""
        for key in ("uniqueId", "secUid"):
            value = request.query.get(key)
            if value:
                return self.world.private_accounts.get(value.lstrip("@"))
        return None

    def _author(self, request: Request) -> int | None:
        for key in ("uniqueId", "secUid"):
            value = request.query.get(key)
            if value:
                try:
                    return self.world.author_row(value.lstrip("@"))
                except KeyError:
                    return None
        return None

    def _status_of(self, video_id: str) -> int:
        if not self.world.has(video_id) or self.world.gone_now(video_id):
            return STATUS_GONE
        return {"private": STATUS_PRIVATE, "deleted": STATUS_GONE}.get(self.world.visibility(video_id), 0)

    # ---- pages -----------------------------------------------------------------------------------

    def home(self, request: Request, _: re.Match) -> Reply:
        """The home page; a request without an msToken cookie gets a new session token."""
        token = request.cookies.get("msToken") or self.new_token()
        count = _int(request.query, "count", pages.HOME_COUNT, 1, 30)
        reply = Reply(body=pages.home_page(token, self.world.spec.key(), count), content_type=HTML)
        if "msToken" not in request.cookies and not self.extras:  # a strict site rotates it on every answer
            reply.headers["Set-Cookie"] = f"msToken={token}; Path=/; Max-Age=86400; SameSite=Lax"
        return reply

    def new_token(self) -> str:
        """A fresh msToken (the site counts sessions by it)."""
        return "sbx" + secrets.token_urlsafe(96)

    def video_page(self, request: Request, found: re.Match) -> Reply:
        """``/@handle/video/ID``: the item in ``__UNIVERSAL_DATA_FOR_REHYDRATION__``, or its statusCode."""
        handle, video_id = found.group(1), found.group(2)
        return self.video_page_reply(request, handle, video_id, self._status_of(video_id))

    def video_page_reply(self, request: Request, handle: str, video_id: str, status: int) -> Reply:
        """The video page with ``status`` (0: the item; else only the code, as for private or gone videos)."""
        token = request.cookies.get("msToken") or self.new_token()
        canonical = f"{self.base_url}/@{handle}/video/{video_id}"
        if status:
            universal = pages.video_universal(None, status)
            return Reply(body=pages.video_page(video_id, handle, canonical, status, token, universal), content_type=HTML)
        row = self.world.row(video_id)
        caption = self.builder.videos["caption"][row]
        universal = pages.video_universal(self.builder.item_bytes(row), 0, caption)
        body = pages.video_page(video_id, handle, canonical, 0, token, universal, caption,
                                f"{self.base_url}/media/{video_id}.mp4")
        return Reply(body=body, content_type=HTML)

    def user_page(self, request: Request, found: re.Match) -> Reply:
        """``/@handle``: the account in ``webapp.user-detail``; its posts fetched after load."""
        token = request.cookies.get("msToken") or self.new_token()
        private = self.world.private_accounts.get(found.group(1))
        if private is not None:
            return Reply(body=pages.user_page(private, 0, token, listed=False), content_type=HTML)
        try:
            row = self.world.author_row(found.group(1))
        except KeyError:
            return Reply(body=pages.user_page(None, STATUS_NO_USER, token), content_type=HTML)
        return Reply(body=pages.user_page(self.builder.user_info(row), 0, token), content_type=HTML)

    def media(self, request: Request, found: re.Match) -> Reply:
        """The video file (made on first request); 404 for gone videos, 403 for private ones."""
        video_id = found.group(1)
        status = self._status_of(video_id)
        if status == STATUS_GONE:
            return Reply(404, pages.error_page(404, "Not Found"), HTML)
        if status == STATUS_PRIVATE:
            return Reply(403, pages.error_page(403, "Forbidden"), HTML)
        return Reply(file=self.world.media_path(video_id), content_type="video/mp4",
                     headers={"Accept-Ranges": "bytes", "Cache-Control": "max-age=3600"})
