"""The double of TikTok's Research API: token, video query, user info and comments, over the world.

Shapes and rules follow the API's documentation and what its open-source clients
met (CfD's tiktok-library, traktok; see ``docs/research_api.md``):

- ``POST /v2/oauth/token/`` (form ``client_key, client_secret, grant_type=client_credentials``)
  → ``{access_token: "clt.…", expires_in: 7200, token_type: "Bearer"}``; other
  endpoints want ``Authorization: Bearer clt.…`` and answer 401
  ``access_token_invalid`` once it expired (on the sandbox clock).
- every answer is ``{"data": {…}, "error": {"code", "message", "log_id"}}``;
  ``fields=`` (query string) names the fields each record carries.
- ``/v2/research/video/query/``: ``query``, ``start_date``/``end_date`` (YYYYMMDD, UTC;
  the end is exclusive, as tiktok-library found; at most 30 days), ``max_count`` ≤ 100,
  ``cursor`` and ``search_id``. A page covers ``max_count`` positions of the result;
  videos deleted or made private since are dropped, so pages may hold fewer.
- quotas per client and UTC day (of the sandbox clock): requests and records; past
  either, 429 ``rate_limit_exceeded`` until 00:00 UTC.
- injected, deterministic by seed: 500 ``internal_error`` (more likely for windows
  longer than 7 days; the request still spends quota) and 400 ``invalid_params`` "Search Id … is
  invalid or expired" (also when a search id outlives ``search_ttl_s``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import numpy as np
import orjson

from sandbox import research_query, vocab
from sandbox.faults import uniform

if TYPE_CHECKING:
    from sandbox.routes import Reply, Request
    from sandbox.world import World

VIDEO_FIELDS = ("id", "create_time", "username", "region_code", "video_description", "music_id", "like_count",
                "comment_count", "share_count", "view_count", "favorites_count", "hashtag_names", "effect_ids",
                "playlist_id", "voice_to_text", "video_duration", "is_stem_verified", "video_mention_list")
USER_FIELDS = ("display_name", "bio_description", "avatar_url", "is_verified", "follower_count", "following_count",
               "likes_count", "video_count")
COMMENT_FIELDS = ("id", "video_id", "text", "like_count", "reply_count", "parent_comment_id", "create_time")
DEFAULT_VIDEO_FIELDS = "id,create_time,username,video_description,view_count,like_count,comment_count,share_count"
#: 1 record in this many lacks ``like_count`` (tiktok-library's test data holds such a video)
SPARSE_LIKES = 97
MESSAGES = {
    "internal_error": "Something went wrong. Please try again later.",
    "rate_limit_exceeded": "The API rate limit was exceeded. Please try again later.",
    "access_token_invalid": "The access token is invalid or not found in the request.",
}


@dataclass
class ResearchConfig:
    """The double's limits and injected errors (the defaults are the API's documented limits, no errors)."""

    daily_requests: int = 1000
    daily_records: int = 100_000
    max_window_days: int = 30
    #: chance of a 500 internal_error per query request for windows up to 7 days (longer ones: × days / 7)
    internal_error: float = 0.0
    #: chance that a search id is refused as "invalid or expired" on a follow-up request
    expired_search: float = 0.0
    #: a search id expires this long (sandbox clock) after the search started
    search_ttl_s: float = 6 * 3600
    token_ttl_s: float = 7200
    seed: int = 0
    #: the only credentials accepted (None: any non-empty pair)
    client_key: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, spec: str | None, **options: Any) -> ResearchConfig:
        """``"500:0.1,expired:0.05,requests:50,records:2000"`` → a config (``curate sandbox serve --research``)."""
        names = {"500": "internal_error", "expired": "expired_search", "requests": "daily_requests",
                 "records": "daily_records", "ttl": "search_ttl_s"}
        values: dict[str, Any] = dict(options)
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            key, _, value = part.partition(":")
            if key not in names:
                raise ValueError(f"unknown research setting {key!r}; known: {', '.join(names)}")
            kind = int if names[key].startswith("daily") else float
            values[names[key]] = kind(value)
        return cls(**values)


@dataclass
class _Search:
    rows: np.ndarray
    started: float
    window_days: int


class ApiError(Exception):
    """An error answer: HTTP status, the API's code and message."""

    def __init__(self, status: int, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, code))
        self.status, self.code, self.message = status, code, message or MESSAGES.get(code, code)


class ResearchApi:
    """The Research API endpoints over one world; tests reach ``config``, ``usage`` and ``stats``."""

    def __init__(self, world: World, config: ResearchConfig | None = None) -> None:
        self.world = world
        self.config = config or ResearchConfig()
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._usage: dict[tuple[str, str], list[int]] = {}
        self._searches: dict[str, _Search] = {}
        self._attempts: dict[str, int] = {}
        self._ids = itertools.count(7_300_000_000_000_000_000 + world.spec.seed * 1_000_003)
        #: answers by error code (``ok`` included), for the tests
        self.stats: dict[str, int] = {}

    def routes(self) -> list[tuple[str, str, Callable[[Request, Any], Reply]]]:
        """``(path pattern, counter name, handler)`` for the site's route table."""
        return [
            (r"^/v2/oauth/token/?$", "research_token", self.token),
            (r"^/v2/research/video/query/?$", "research_query", self._endpoint(self._video_query)),
            (r"^/v2/research/user/info/?$", "research_user", self._endpoint(self._user_info)),
            (r"^/v2/research/video/comment/list/?$", "research_comments", self._endpoint(self._comments)),
        ]

    @cached_property
    def table(self) -> Any:
        """The columns queries read."""
        return research_query.research_table(self.world.videos, vocab.tag_table()[0], self.world.spec.seed)

    @cached_property
    def columns(self) -> dict[str, list]:
        """The world's video columns and the query table's as lists (per-value pandas lookups are slow)."""
        out = {name: column.tolist() for name, column in self.world.videos.items()}
        out.update({f"q_{name}": self.table[name].tolist() for name in ("region_code", "hashtags", "effect_ids")})
        return out

    def usage(self, client_key: str, day: str | None = None) -> dict[str, int]:
        """Requests and records a client spent on a UTC day (default: the clock's day)."""
        requests, records = self._usage.get((client_key, day or self._day()), [0, 0])
        return {"requests": requests, "records": records}

    # ---- token ----------------------------------------------------------------------------------

    def token(self, request: Request, _: Any) -> Reply:
        """The client-credentials grant: a bearer token valid ``token_ttl_s`` on the sandbox clock."""
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        key, secret = form.get("client_key", ""), form.get("client_secret", "")
        cfg = self.config
        refused = not key or not secret or (cfg.client_key is not None and (key, secret) != (cfg.client_key, cfg.client_secret))
        if form.get("grant_type") != "client_credentials":
            return self._raw(400, {"error": "invalid_grant", "error_description": "grant_type must be client_credentials"})
        if refused:
            return self._raw(401, {"error": "invalid_client", "error_description": "Client key or secret is incorrect."})
        token = "clt." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (key, self.world.clock.now() + cfg.token_ttl_s)
        return self._raw(200, {"access_token": token, "expires_in": int(cfg.token_ttl_s), "token_type": "Bearer"})

    # ---- the three data endpoints -----------------------------------------------------------------

    def _endpoint(self, handler: Callable[[str, dict[str, Any], list[str]], dict[str, Any]]) -> Callable[[Request, Any], Reply]:
        def answer(request: Request, _: Any) -> Reply:
            try:
                client = self._client(request)
                body = self._body(request)
                fields = self._fields(request, handler)
                return self._ok(handler(client, body, fields))
            except ApiError as exc:
                return self._error(exc.status, exc.code, exc.message)

        return answer

    def _video_query(self, client: str, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        self._spend_request(client)
        query = body.get("query")
        try:
            research_query.check(query)
        except research_query.QueryError as exc:
            raise ApiError(400, "invalid_params", str(exc)) from None
        start, end = _date(body.get("start_date"), "start_date"), _date(body.get("end_date"), "end_date")
        days = (end - start).days
        if days < 1 or days > self.config.max_window_days:
            raise ApiError(400, "invalid_params", f"end_date must be 1 to {self.config.max_window_days} days after start_date")
        max_count, cursor = _int(body, "max_count", 20, 1, 100), _int(body, "cursor", 0, 0, 1 << 40)
        search_id = body.get("search_id")
        if search_id:
            search_id, search = str(search_id), self._search(str(search_id), cursor)
        else:
            search_id, search = self._new_search(query, start, end, cursor)
        self._maybe_internal_error(f"{search_id}|{cursor}", search.window_days)
        page = search.rows[cursor:cursor + max_count]
        now = self.world.clock.now()
        shown = [int(r) for r in page if self._visible(int(r), now)]
        self._spend_records(client, len(shown))
        videos = [self._video(r, fields) for r in shown]
        end_at = cursor + max_count
        return {"videos": videos, "cursor": end_at, "has_more": end_at < len(search.rows), "search_id": str(search_id)}

    def _user_info(self, client: str, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        self._spend_request(client)
        username = body.get("username")
        if not isinstance(username, str) or not username:
            raise ApiError(400, "invalid_params", "username is required")
        try:
            row = self.world.author_row(username)
        except KeyError:
            raise ApiError(404, "invalid_params", f"user {username} does not exist or is private") from None
        a = self.world.authors
        values = {
            "display_name": a.at[row, "nickname"], "bio_description": f"{a.at[row, 'nickname']} on the sandbox",
            "avatar_url": "", "is_verified": bool(a.at[row, "verified"]), "follower_count": int(a.at[row, "followers"]),
            "following_count": int(a.at[row, "following"]), "likes_count": int(a.at[row, "hearts"]),
            "video_count": int(a.at[row, "video_count"]),
        }
        self._spend_records(client, 1)
        return {k: values[k] for k in fields}

    def _comments(self, client: str, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        self._spend_request(client)
        video_id = str(body.get("video_id") or "")
        now = self.world.clock.now()
        if not self.world.has(video_id) or not self._visible(self.world.row(video_id), now):
            raise ApiError(404, "invalid_params", f"video {video_id} does not exist or is not public")
        max_count, cursor = _int(body, "max_count", 10, 1, 100), _int(body, "cursor", 0, 0, 1 << 40)
        row = self.world.row(video_id)
        total = min(self.world.counts_now(row)["comments"], 1000)
        comments = [self._comment(row, i, fields) for i in range(cursor, min(cursor + max_count, total))]
        self._spend_records(client, len(comments))
        return {"comments": comments, "cursor": cursor + len(comments), "has_more": cursor + len(comments) < total}

    # ---- searches -------------------------------------------------------------------------------

    def _new_search(self, query: dict[str, Any], start: datetime, end: datetime, cursor: int) -> tuple[str, _Search]:
        if cursor:
            raise ApiError(400, "invalid_params", "Invalid count or cursor")
        table = self.table
        created = table["create_time"].to_numpy()
        now = self.world.clock.now()
        in_window = (created >= start.timestamp()) & (created < min(end.timestamp(), now + 1))
        mask = in_window & research_query.matches(table, query)
        rows = np.flatnonzero(mask)
        rows = rows[np.argsort(-created[rows], kind="stable")]
        search = _Search(rows, now, (end - start).days)
        with self._lock:
            search_id = str(next(self._ids))
            self._searches[search_id] = search
        return search_id, search

    def _search(self, search_id: str, cursor: int) -> _Search:
        search = self._searches.get(search_id)
        expired = search is None or self.world.clock.now() - search.started > self.config.search_ttl_s
        if not expired and self._draw(f"expired|{search_id}|{cursor}") < self.config.expired_search:
            expired = True
        if expired:
            raise ApiError(400, "invalid_params", f"Search Id {search_id} is invalid or expired")
        if cursor > len(search.rows):
            raise ApiError(400, "invalid_params", "Invalid count or cursor")
        return search

    def _maybe_internal_error(self, key: str, window_days: int) -> None:
        if self._draw(f"500|{key}") < self.config.internal_error * max(window_days, 7) / 7:
            raise ApiError(500, "internal_error")

    def _draw(self, key: str) -> float:
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        return uniform(self.config.seed, key, attempt)

    # ---- records --------------------------------------------------------------------------------

    def _visible(self, row: int, now: float) -> bool:
        return self.columns["visibility"][row] == "public" and not self.world.growth.gone(row, now)

    def _video(self, row: int, fields: list[str]) -> dict[str, Any]:
        c = self.columns
        counts = self.world.counts_now(row, c)
        caption = c["caption"][row]
        values: dict[str, Any] = {
            "id": int(c["video_id"][row]), "create_time": int(c["create_time"][row]),
            "username": c["handle"][row], "region_code": c["q_region_code"][row], "video_description": caption,
            "music_id": int(c["music_id"][row]), "like_count": counts["likes"], "comment_count": counts["comments"],
            "share_count": counts["shares"], "view_count": counts["plays"], "favorites_count": counts["saves"],
            "hashtag_names": sorted(c["q_hashtags"][row]), "effect_ids": sorted(c["q_effect_ids"][row]),
            "video_duration": int(c["duration"][row]), "is_stem_verified": False,
            "video_mention_list": re.findall(r"@([\w.]+)", caption),
        }
        if row % SPARSE_LIKES == 13:
            values.pop("like_count")
        return {k: values[k] for k in fields if k in values}

    def _comment(self, row: int, index: int, fields: list[str]) -> dict[str, Any]:
        video_id = int(self.world.videos.at[row, "video_id"])
        created = int(self.world.videos.at[row, "create_time"])
        digest = hashlib.blake2b(f"{video_id}:{index}".encode(), digest_size=8).digest()
        draw = int.from_bytes(digest, "big")
        phrases = vocab.CATEGORY_PHRASES[self.world.videos.at[row, "category"]]
        parent = video_id if index < 3 or draw % 4 else video_id + 1 + (draw % index)
        values = {
            "id": video_id + 1 + index, "video_id": video_id, "text": phrases[draw % len(phrases)],
            "like_count": int(draw % 50), "reply_count": int(draw % 3), "parent_comment_id": parent,
            "create_time": created + 60 + int(draw % 86_400),
        }
        return {k: values[k] for k in fields}

    # ---- plumbing -------------------------------------------------------------------------------

    def _client(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found = self._tokens.get(token)
        if found is None or found[1] <= self.world.clock.now():
            raise ApiError(401, "access_token_invalid")
        return found[0]

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError:
            raise ApiError(400, "invalid_params", "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_params", "the request body must be a JSON object")
        return body

    def _fields(self, request: Request, handler: Callable) -> list[str]:
        known = {self._video_query: VIDEO_FIELDS, self._user_info: USER_FIELDS, self._comments: COMMENT_FIELDS}[handler]
        asked = [f.strip() for f in (request.query.get("fields") or "").split(",") if f.strip()]
        if not asked:
            raise ApiError(400, "invalid_params", "fields is required")
        unknown = [f for f in asked if f not in known]
        if unknown:
            raise ApiError(400, "invalid_params", f"Invalid fields: {', '.join(unknown)}")
        return asked

    def _day(self) -> str:
        return datetime.fromtimestamp(self.world.clock.now(), UTC).strftime("%Y%m%d")

    def _spend_request(self, client: str) -> None:
        with self._lock:
            used = self._usage.setdefault((client, self._day()), [0, 0])
            if used[0] >= self.config.daily_requests or used[1] >= self.config.daily_records:
                raise ApiError(429, "rate_limit_exceeded")
            used[0] += 1

    def _spend_records(self, client: str, records: int) -> None:
        with self._lock:
            self._usage.setdefault((client, self._day()), [0, 0])[1] += records

    def _ok(self, data: dict[str, Any]) -> Reply:
        return self._answer(200, data, "ok", "")

    def _error(self, status: int, code: str, message: str) -> Reply:
        return self._answer(status, {}, code, message)

    def _answer(self, status: int, data: dict[str, Any], code: str, message: str) -> Reply:
        from sandbox.routes import Reply

        with self._lock:
            self.stats[code] = self.stats.get(code, 0) + 1
        log_id = datetime.fromtimestamp(self.world.clock.now(), UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()
        return Reply(status, orjson.dumps({"data": data, "error": {"code": code, "message": message, "log_id": log_id}}))

    @staticmethod
    def _raw(status: int, payload: dict[str, Any]) -> Reply:
        from sandbox.routes import Reply

        return Reply(status, orjson.dumps(payload))


def _date(value: Any, name: str) -> datetime:
    try:
        return datetime.strptime(str(value), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(400, "invalid_params", f"{name} must be YYYYMMDD, not {value!r}") from None


def _int(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(400, "invalid_params", f"Invalid count or cursor: {name} must be an integer from {low} to {high}")
    return value


__all__ = ["ApiError", "ResearchApi", "ResearchConfig"]
