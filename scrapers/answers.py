"""The one table: each answer the site can give, and what the crawl does about it.

Every backend hands what it received to the functions below (through
:mod:`scrapers.responses`); they look the answer up in ``ANSWERS`` and raise the
exception its action calls for. The engine then acts on the exception's class:

- ``retry``: :class:`TransientError`, retried with exponential back-off and jitter;
- ``back off``: :class:`RateLimited`, retried after the server's ``Retry-After`` when longer;
- ``soft block``: :class:`SoftBlocked`, retried ``SOFT_BLOCK_ATTEMPTS`` times (the real
  site sheds load with 200-level refusals that often clear), then the run stops ``blocked``;
- ``confirm, then skip``: a :class:`Skip` that changes the crawl's path for good is asked once
  more before the video is skipped with its reason;
- ``skip payload``: one record of a list is dropped and counted by reason (ads, photo posts);
- ``stop blocked``: :class:`Blocked`, the run stops at once, resumable, with a one-line reason
  that says what the user can do.

``docs/crawl.md`` shows this table (``markdown_table()``); a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scrapers.source import (
    Blocked, NotFound, Private, RateLimited, SoftBlocked, SourceError, TransientError, Unreachable, Withheld,
)

RETRY, BACK_OFF, SOFT_BLOCK, CONFIRM_SKIP, SKIP_PAYLOAD, STOP_BLOCKED, STOP_FAILED, WITHHELD = (
    "retry", "back off", "soft block", "confirm, then skip", "skip payload", "stop blocked", "stop failed",
    "ask 3×, then check the feed",
)
#: soft blocks asked this many times in a row before the run stops blocked
SOFT_BLOCK_ATTEMPTS = 3


@dataclass(frozen=True)
class Answer:
    """One kind of answer: what it looks like, the crawl's action, its countable reason, and advice."""

    name: str
    looks_like: str
    action: str
    reason: str
    advice: str = ""

    def message(self, what: str, detail: str = "") -> str:
        """``what: looks like (detail) — advice``, on one line."""
        text = f"{what}: {self.looks_like}" + (f" ({detail})" if detail else "")
        return text + (f" — {self.advice}" if self.advice else "")


ANSWERS: tuple[Answer, ...] = (
    Answer("http_429", "HTTP 429 too many requests", BACK_OFF, "http_429", "waits the server's Retry-After when longer than the back-off"),
    Answer("http_5xx", "HTTP 5xx, 408 or 425", RETRY, "http_<code>"),
    Answer("transport", "timeout or dropped connection", RETRY, "timeout / connection"),
    Answer("malformed_json", "cut or garbled JSON", RETRY, "malformed_json"),
    Answer("unreachable", "the site's name does not resolve, or no network", STOP_FAILED, "unreachable",
           "check the network or --proxy, then resume"),
    Answer("empty_body", "empty response body (the site is refusing this session)", SOFT_BLOCK, "empty_body",
           "the site answers calls its page did not sign with an empty body: crawl with --source playwright or "
           "tiktokapi, or resume later"),
    Answer("soft_empty", "statusCode 0 but no item list (a soft block dressed as success)", SOFT_BLOCK, "soft_empty",
           "the site is shedding this session: resume later or from another address (--proxy)"),
    Answer("feed_repeats", "the feed answers the same page again and again", STOP_BLOCKED, "feed_repeats",
           "a soft block of the feed: resume later; a fresh browser session starts a fresh feed"),
    Answer("captcha", "captcha required (statusCode 10000)", STOP_BLOCKED, "captcha",
           "solve it in a visible browser (--headed) or resume later from another address (--proxy)"),
    Answer("verify_json", "captcha required (a verify answer without statusCode)", STOP_BLOCKED, "captcha",
           "solve it in a visible browser (--headed) or resume later from another address (--proxy)"),
    Answer("verify_page", "an HTML verify page where JSON belongs", STOP_BLOCKED, "verify_page",
           "the site wants this session verified: resume later, or crawl with --headed"),
    Answer("challenge", "a challenge page without video data (waited for a browser's reload first)", STOP_BLOCKED,
           "challenge", "only a real browser passes it: use --source playwright or selenium, or --headed"),
    Answer("captcha_overlay", "a captcha laid over the page; its API calls are refused", STOP_BLOCKED, "captcha",
           "solve it in a visible browser (--headed) or resume later"),
    Answer("http_403", "HTTP 401/403, the site refuses this session", STOP_BLOCKED, "http_403",
           "a refused address or a headless browser: resume later, try --headed or another --proxy"),
    Answer("unknown_status", "an unexpected statusCode", STOP_BLOCKED, "status_<code>",
           "the site changed or blocks in a new way: resume later; report it if it stays"),
    Answer("private", "statusCode 10216 / 10222 (private post / private account)", CONFIRM_SKIP, "private"),
    Answer("invalid", "statusCode 10201 (invalid or removed item)", CONFIRM_SKIP, "not_found"),
    Answer("no_user", "statusCode 10202 (no such account)", CONFIRM_SKIP, "not_found"),
    Answer("http_404", "HTTP 404 or a page without the video", CONFIRM_SKIP, "not_found"),
    Answer("withheld", "statusCode 10204 (deleted, or withheld from this address)", WITHHELD, "unavailable / ip_blocked",
           "gone if the feed still answers; if the feed is withheld too the address is blocked: use another --proxy"),
    Answer("ad", "an ad in a list (isAd)", SKIP_PAYLOAD, "ad"),
    Answer("photo_post", "a photo post in a list (imagePost, no video)", SKIP_PAYLOAD, "photo_post"),
)
BY_NAME: Mapping[str, Answer] = {a.name: a for a in ANSWERS}

#: the platform's statusCodes that mean something to a crawl
STATUS_OK, STATUS_CAPTCHA, STATUS_INVALID, STATUS_NO_USER = 0, 10000, 10201, 10202
STATUS_UNAVAILABLE, STATUS_PRIVATE, STATUS_PRIVATE_ACCOUNT = 10204, 10216, 10222


def blocked(name: str, what: str, detail: str = "") -> Blocked:
    """The stop for answer ``name``."""
    answer = BY_NAME[name]
    reason = answer.reason if "<" not in answer.reason else name
    return Blocked(answer.message(what, detail), reason=reason)


def soft_blocked(name: str, what: str, detail: str = "") -> SoftBlocked:
    """The retried-then-stop for answer ``name``."""
    answer = BY_NAME[name]
    return SoftBlocked(answer.message(what, detail), reason=answer.reason)


def check_status(status_code: int | None, status_msg: str | None, what: str) -> None:
    """Raises what a platform ``statusCode`` calls for; returns for 0 or no code."""
    if not status_code:
        return
    detail = f"statusCode {status_code}" + (f", {status_msg}" if status_msg else "")
    if status_code == STATUS_CAPTCHA:
        raise blocked("captcha", what, detail)
    if status_code in (STATUS_PRIVATE, STATUS_PRIVATE_ACCOUNT):
        raise Private(BY_NAME["private"].message(what, detail))
    if status_code in (STATUS_INVALID, STATUS_NO_USER):
        name = "invalid" if status_code == STATUS_INVALID else "no_user"
        raise NotFound(BY_NAME[name].message(what, detail), reason="not_found")
    if status_code == STATUS_UNAVAILABLE:
        raise Withheld(f"withheld (deleted, or this address is blocked) — {what}: {detail}")
    raise Blocked(BY_NAME["unknown_status"].message(what, detail), reason=f"status_{status_code}")


def is_verify(data: Mapping) -> bool:
    """The captcha answer, which carries ``code``/``type: verify`` and no ``statusCode``."""
    if "statusCode" in data or "status_code" in data:
        return False  # a statusCode says it all (10000 is the captcha too)
    return str(data.get("type", "")) == "verify" or str(data.get("code", "")) == "10000"


def check_verify(data: Mapping, what: str) -> None:
    """Raises the captcha stop for a verify answer."""
    if is_verify(data):
        raise blocked("verify_json", what, f"code {data.get('code')}, {data.get('subtype') or 'verify'}")


def classify_http(status: int, what: str, headers: Mapping[str, str] | None = None) -> None:
    """Raises the exception an HTTP status calls for; returns for 2xx/3xx."""
    if status < 400:
        return
    if status == 429:
        raise RateLimited(BY_NAME["http_429"].message(what), retry_after=retry_after(headers))
    if status >= 500 or status in (408, 425):
        raise TransientError(f"{what}: HTTP {status}", reason=f"http_{status}")
    if status == 404:
        raise NotFound(f"{what}: HTTP 404", reason="not_found")
    if status in (401, 403):
        raise Blocked(BY_NAME["http_403"].message(what, f"HTTP {status}"), reason=f"http_{status}")
    raise TransientError(f"{what}: HTTP {status}", reason=f"http_{status}")


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The ``Retry-After`` header in seconds (any case), or None."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


#: transport messages that mean no network or no such host, across Chromium, urllib3 and the resolver
UNREACHABLE_MARKERS = (
    "err_name_not_resolved", "err_internet_disconnected", "err_address_unreachable", "err_name_resolution_failed",
    "name or service not known", "failed to resolve", "temporary failure in name resolution", "network is unreachable",
    "nodename nor servname",
)


def transport_error(message: str, what: str) -> SourceError:
    """The exception for a failed transport: Unreachable for DNS and network-down, else a TransientError."""
    lowered = message.lower()
    if any(marker in lowered for marker in UNREACHABLE_MARKERS):
        return Unreachable(f"{what}: the site cannot be reached ({message})")
    reason = "timeout" if "timeout" in lowered or "timed out" in lowered else "connection"
    return TransientError(f"{what}: {message}", reason=reason)


def check_body(text: str | bytes | None, what: str) -> None:
    """Raises the soft block for an empty body where JSON or a page belongs."""
    if text is None or not str(text if isinstance(text, str) else text.decode(errors="replace")).strip():
        raise soft_blocked("empty_body", what)


def looks_like_html(text: str | bytes) -> bool:
    """True for a body that is an HTML document, not JSON."""
    head = (text[:200].decode(errors="replace") if isinstance(text, bytes) else text[:200]).lstrip().lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body"))


def markdown_table() -> str:
    """The table as docs/crawl.md shows it."""
    rows = ["| answer | the crawl does | counted as | one-line advice |", "| --- | --- | --- | --- |"]
    rows += [f"| {a.looks_like} | {a.action} | `{a.reason}` | {a.advice or '—'} |" for a in ANSWERS]
    return "\n".join(rows)
