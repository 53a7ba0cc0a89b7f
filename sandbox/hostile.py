"""The site's hostile answers (see :mod:`sandbox.fault_kinds`) and the per-session state some of them keep.

Most are one answer instead of the normal one. Three remember the session:
``overlay`` (a captcha over a page: from then on its API calls get the verify JSON),
``repeat`` (the feed stuck on one page) and ``challenge`` (a solved proof-of-work
cookie lets the session through afterwards, as the real site's does).
"""

from __future__ import annotations

import secrets
import threading

import orjson

from sandbox import pages

#: a nonce solves the challenge when the FNV-1a hash of ``seed:nonce`` is a multiple of this
CHALLENGE_WORK = 2048
CHALLENGE_COOKIE = "sbx_challenge"
VERIFY_SUBTYPES = ("slide", "3d", "whirl")


def verify_json(fingerprint: str, subtype: str = "slide") -> bytes:
    """The captcha answer the real site sends to an API call: ``code`` 10000, ``type: verify``, no statusCode."""
    return orjson.dumps({"code": "10000", "from": "", "type": "verify", "version": "", "region": "va",
                         "subtype": subtype, "detail": secrets.token_urlsafe(24), "verify_event": "",
                         "fp": f"verify_sandbox_{fingerprint}"})


def verify_html() -> bytes:
    """The HTML verify page the real site sends where an API call expects JSON."""
    return pages.fill("verify.html", {})


def status_only(snake: bool) -> bytes:
    """A success code and nothing else: the soft block that looks like an empty list."""
    return b'{"status_code":0}' if snake else b'{"statusCode":0,"statusMsg":""}'


def fnv(text: str) -> int:
    """32-bit FNV-1a, as the challenge page computes it."""
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def challenge_page() -> bytes:
    """A "Please wait…" page: its script finds a nonce, sets the cookie and reloads."""
    return pages.fill("challenge.html", {"SEED": secrets.token_hex(8), "WORK": str(CHALLENGE_WORK),
                                         "COOKIE": CHALLENGE_COOKIE})


def solved(cookie: str | None) -> bool:
    """True when the challenge cookie holds a seed and a nonce that solves it."""
    seed, _, nonce = (cookie or "").partition(".")
    return bool(seed and nonce.isdigit()) and fnv(f"{seed}:{nonce}") % CHALLENGE_WORK == 0


def with_overlay(page: bytes) -> bytes:
    """The page as served, with the captcha laid over it (its data stays)."""
    return page.replace(b"</body>", pages.fill("overlay.html", {}) + b"</body>", 1)


class SessionFaults:
    """What sticky faults remember per session: captcha overlays, a stuck feed, solved challenges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forgets everything (the operator lifted the faults)."""
        with self._lock:
            self._overlaid: set[str] = set()
            self._stuck: dict[str, bytes] = {}
            self._last_feed: dict[str, bytes] = {}

    def overlay(self, session: str) -> None:
        """The session now has a captcha over its page."""
        with self._lock:
            self._overlaid.add(session)

    def overlaid(self, session: str) -> bool:
        """Whether the session's API calls are refused."""
        with self._lock:
            return session in self._overlaid

    def stick(self, session: str, body: bytes) -> bytes:
        """The feed of ``session`` is stuck from now on on its last page (or on ``body`` when it had none)."""
        with self._lock:
            return self._stuck.setdefault(session, self._last_feed.get(session, body))

    def stuck(self, session: str) -> bytes | None:
        """The page the session's feed is stuck on, if it is."""
        with self._lock:
            return self._stuck.get(session)

    def fed(self, session: str, body: bytes) -> None:
        """Remembers the last feed page the session got."""
        with self._lock:
            self._last_feed[session] = body
