"""The one interface every backend implements, and the exceptions that steer a crawl.

A ``Source`` answers five questions about the platform — a page of the For-You
feed, the related videos of a video, one video, one author, a page of one
author's videos — each with one request (a creator's first page may take two:
the account, then its list), already parsed into records. It knows nothing of the crawl: the
engine decides what to ask, retries, paces and stops. Backends raise the
exceptions below, never their client library's own, so that the engine treats
every backend alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit, urlunsplit

from core.errors import CurateError
from core.records import AuthorRecord, ParsedItem

REAL_SITE = "https://www.tiktok.com"

#: the platform's ``statusCode`` values that mean something to a crawl
STATUS_OK = 0
STATUS_CAPTCHA = 10000
STATUS_UNAVAILABLE = 10204
STATUS_PRIVATE = 10216
STATUS_PRIVATE_ACCOUNT = 10222


class SourceError(CurateError):
    """Something a source could not get; subclasses say what the crawl should do about it."""

    #: short, countable tag for summaries (``captcha``, ``private``, ``http_503`` …)
    reason: str = "source_error"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class TransientError(SourceError):
    """A failure that a later attempt may not meet: 5xx, timeouts, dropped connections, truncated JSON.

    Raised by backends; the engine retries it with exponential back-off and jitter.
    """

    reason = "transient"


class RateLimited(TransientError):
    """The site answered 429 (too many requests). Raised by backends; retried after a longer wait.

    ``retry_after`` carries the server's ``Retry-After`` in seconds when it sent one.
    """

    reason = "http_429"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SoftBlocked(TransientError):
    """A 200-level refusal that often clears (an empty body, ``statusCode`` 0 without a list).

    Raised by :mod:`scrapers.answers`; the engine retries it a few times
    (``SOFT_BLOCK_ATTEMPTS``), then stops the run ``blocked`` with its message.
    """

    reason = "soft_block"


class Unreachable(SourceError):
    """The site cannot be reached at all: its name does not resolve or the network is down.

    Raised by backends. Retrying cannot help within a crawl, so the run stops at
    once (status ``failed``, resumable) instead of backing off for a minute.
    """

    reason = "unreachable"


class Blocked(SourceError):
    """The session is blocked: a captcha, an IP block, or empty bodies where JSON belongs.

    Raised by backends. Retrying only digs deeper, so the engine stops the run at
    once with this one-line reason and a resumable state (status ``blocked``).
    """

    reason = "blocked"


class Skip(SourceError):
    """This one object cannot be had, but the session is fine: the crawl skips it with ``reason``."""

    reason = "skipped"


class NotFound(Skip):
    """The video or author does not exist (deleted, or never did). Raised by backends; skipped."""

    reason = "not_found"


class Withheld(Skip):
    """The site withholds a post (statusCode 10204). Raised by backends.

    The platform sends the same code for a deleted post and for a post it will not
    show to this address (an IP block), so the engine decides: a feed request that
    is withheld means a block; a post withheld on repeated asking while the feed
    still answers is gone, and skipped as ``unavailable``.
    """

    reason = "unavailable"


class Private(Skip):
    """The video or its account is private. Raised by backends; skipped."""

    reason = "private"


class BackendUnavailable(CurateError):
    """A backend's browser, driver or client could not be started; says what to install."""

    exit_code = 3


@dataclass(frozen=True)
class SourceSecrets:
    """Credentials a backend may use: they go to the site, and nowhere else (not logs, not the catalog)."""

    ms_token: str | None = field(default=None, repr=False)
    #: a Cookie header (``a=1; b=2``) or a path to a Netscape cookies.txt
    cookies: str | None = field(default=None, repr=False)
    proxy: str | None = field(default=None, repr=False)
    #: not a secret: a PEM file of certificate authorities to trust besides the system's (a TLS-intercepting
    #: proxy such as the sandbox's ``--as-tiktok`` one, or a company's)
    ca_cert: str | None = None

    def values(self) -> list[str]:
        """Every secret string, with its URL-encoded and proxy-password forms, longest first."""
        found = {v for v in (self.ms_token, self.cookies, self.proxy) if v}
        parts = urlsplit(self.proxy) if self.proxy else None
        if parts is not None:
            found.update(v for v in (parts.username, parts.password) if v)
        found |= {quote(v, safe="") for v in list(found)}
        return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for value in self.values():
            text = text.replace(value, "***")
        return text


def redact_proxy(proxy: str | None) -> str | None:
    """A proxy URL without its credentials (``http://***@host:port``), fit to be stored."""
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = parts.hostname or ""
    netloc = ("***@" if parts.username or parts.password else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "", "", ""))


@dataclass
class Page:
    """One answer of the feed or related endpoint: parsed items, paging, and what was dropped."""

    items: list[ParsedItem]
    has_more: bool = False
    cursor: str | int | None = None
    #: reasons of payload records the parser rejected, one entry per record
    skipped: list[str] = field(default_factory=list)
    #: the account whose list this is (a creator's videos), as its profile or detail described it
    author: AuthorRecord | None = None


@dataclass
class SourceStats:
    """What a source has done so far: requests sent, and seconds its parser took."""

    requests: int = 0
    parse_s: float = 0.0


@runtime_checkable
class Source(Protocol):
    """A client of the platform: one request per call, parsed records out, typed errors raised.

    Sources are context managers: entering starts the client (a browser, a
    session), leaving stops it, so that one browser serves a whole crawl.
    """

    #: the backend's name, as ``--source`` spells it
    name: str
    #: requests sent so far (API calls, page loads) and parsing time
    stats: SourceStats

    def feed(self, count: int, cursor: str | int | None = None) -> Page:
        """One page of the For-You feed as a guest."""
        ...

    def related(self, video_id: str, count: int, cursor: str | int | None = None) -> Page:
        """One page of the videos the platform lists as related to ``video_id``."""
        ...

    def video(self, video_id: str, handle: str | None = None) -> ParsedItem:
        """One video's full record."""
        ...

    def author(self, handle: str) -> AuthorRecord:
        """One account's record."""
        ...

    def author_videos(self, handle: str, count: int, cursor: str | int | None = None) -> Page:
        """One page of the videos the creator's profile lists, newest first.

        Raises NotFound for an account that does not exist and Private for a private one
        (whose list the site answers empty): never an empty page for either."""
        ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


def as_json_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else a transient error (a cut or garbled answer)."""
    if not isinstance(value, dict):
        raise TransientError(f"{what}: the answer is not a JSON object", reason="malformed_json")
    return value
