"""The sandbox's HTTP server: a threading server on loopback that answers like the platform.

``with serve(world, faults="429:0.1", fault_seed=1) as site:`` starts it on a free
port in a background thread; ``site.base_url``, ``site.stats``, ``site.world``.
Every response carries ``access-control-allow-origin: *`` (browser backends route
``https://www.tiktok.com`` requests here). Faults (:mod:`sandbox.faults`) are
drawn per request before the route answers; a blocked session gets captcha (or
empty) answers on every API call and page once it made ``block_after`` of them.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

from sandbox import hostile, pages
from sandbox.aging import clock_reply
from sandbox.fault_kinds import API
from sandbox.faults import Attempts, FaultPlan, SiteStats, request_key, uniform
from sandbox.routes import HTML, JSON, STATUS_CAPTCHA, STATUS_GONE, STATUS_PRIVATE, Reply, Request, Routes, status_body
from sandbox.server import Served, SiteHandler, SiteServer
from sandbox.strict import StrictMode
from sandbox.world import World

SERVER_ERRORS = (500, 502, 503, 504)
MALFORMED_AT = 0.6


class Site(Served):
    """A running (or ready) sandbox site over one world with one fault plan."""

    thread_name = "sandbox-site"

    def __init__(self, world: World, faults: FaultPlan | None = None, host: str = "127.0.0.1", port: int = 0,
                 strict: StrictMode | None = None, public_url: str | None = None) -> None:
        """``public_url``: the origin the site's pages and items name (default: where it listens; the
        ``--as-tiktok`` proxy gives ``https://www.tiktok.com``)."""
        self.world = world
        self.plan = faults or FaultPlan()
        self.strict = strict or StrictMode()
        self.sessions = hostile.SessionFaults()
        self._stats = SiteStats()
        self._attempts = Attempts()
        self._server = SiteServer((host, port), self)
        self.host, self.port = self._server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self.routes = Routes(world, public_url or self.base_url, extras=self.strict.enabled)

    # ---- what tests and tools read ---------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        """Counters so far: requests per endpoint, statuses, faults per kind, blocked answers, bytes."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zeroes the counters (fault draws and sessions are kept)."""
        self._stats.reset()

    def unblock(self) -> None:
        """Lifts every blocked session (their request counts start again from zero), overlays and stuck feeds."""
        self._attempts.unblock()
        self.sessions.clear()

    def set_faults(self, plan: FaultPlan) -> None:
        """Serves from now on with ``plan`` (fault draws, sessions, feed positions and sticky faults start afresh)."""
        self.plan = plan
        self._attempts = Attempts()
        self.sessions.clear()
        self.routes.forget_positions()



    def open_connections(self) -> int:
        """Connections the site is serving or holding open right now."""
        return self._server.open_connections()

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> bool:
        """Waits until ``predicate()`` holds, woken each time the site answers or a connection closes."""
        return self._server.wait_for(predicate, timeout)

    def count_answer(self, status: int, size: int) -> None:
        """Counts one response (the handler calls it once the headers are out)."""
        self._stats.answered(status, size)

    def url(self, path: str) -> str:
        """An absolute URL on this site."""
        return f"{self.base_url}{path}"

    def video_url(self, video_id: str) -> str:
        """The video page's URL, ``BASE/@handle/video/ID``."""
        return self.url(self.world.video_path(video_id))

    def media_url(self, video_id: str) -> str:
        """The video file's URL (the item's ``playAddr``)."""
        return self.url(f"/media/{video_id}.mp4")

    # ---- life cycle ------------------------------------------------------------------------------

    # ---- answering -------------------------------------------------------------------------------

    def answer(self, handler: SiteHandler, request: Request) -> None:
        """Routes one request, applying the blocked-session rule and the drawn fault."""
        if request.path.startswith("/__sandbox/"):
            return handler.send(self._admin(request), counted=False)
        started = time.perf_counter()
        request.set_cookies = self.strict.cookies(request.cookies)
        route, found = self.routes.match(request.path)
        self._stats.request(route.name)
        try:
            delayed = self._answer(handler, request, route, found)
        except Exception as exc:  # a bug or a missing ffmpeg: say so in a 500 and in the counters
            self._stats.error(f"{route.name}: {exc!r}")
            handler.send(Reply(500, f"sandbox error: {exc!r}\n".encode(), "text/plain; charset=utf-8"))
            delayed = 0.0
        self._stats.busy(time.perf_counter() - started - delayed)

    def _answer(self, handler: SiteHandler, request: Request, route, found) -> float:
        """Answers; returns the seconds spent in an injected delay (not the site's own work)."""
        kind = None
        if route.fault_class is not None:
            refusal = self._refusal(request, route)
            if refusal is not None:
                handler.send(refusal)
                return 0.0
            kind = self._inject(handler, request, route)
            if kind == "answered":
                return 0.0
            if kind == "slow":
                time.sleep(self.plan.slow_s)
        reply = self._sticky(request, route, kind, route.handler(request, found))
        if kind == "malformed":
            handler.send(_malformed(reply))
            return 0.0
        handler.send(self._marked(reply), truncate=kind == "truncated")
        if reply.commit is not None:
            reply.commit()
        return self.plan.slow_s if kind == "slow" else 0.0

    def _refusal(self, request: Request, route) -> Reply | None:
        """What a refused session gets whatever it asks: blocked, overlaid, unsigned or automated."""
        if route.fault_class == "media":
            return None
        if self.strict.refused(request.headers):
            self._stats.fault("403")
            return Reply(403, pages.error_page(403, "Forbidden"), HTML)
        if route.fault_class != "home" and self._session_blocked(request):
            self._stats.blocked()
            return self._blocked_reply(route.fault_class)
        if route.fault_class in API and self.sessions.overlaid(request.session):
            self._stats.blocked()
            return Reply(body=hostile.verify_json("overlay"))
        if route.fault_class in API and self.strict.unsigned(request.query):
            self._stats.fault("unsigned")
            return Reply(body=b"")
        return None

    def _sticky(self, request: Request, route, kind: str | None, reply: Reply) -> Reply:
        """Applies the faults that change the normal answer and are remembered: overlay, a stuck feed."""
        if kind == "overlay":
            # a first visit has no session yet: the overlay holds the one this answer hands out
            token = reply.headers.get("Set-Cookie", "").split(";")[0].partition("msToken=")[2] or _page_token(reply.body)
            self.sessions.overlay(token if request.session == "anonymous" and token else request.session)
            return Reply(reply.status, hostile.with_overlay(reply.body), reply.content_type, reply.headers)
        if route.name != "feed":
            return reply
        stuck = self.sessions.stick(request.session, reply.body) if kind == "repeat" else self.sessions.stuck(request.session)
        if stuck is not None:
            return Reply(body=stuck)
        self.sessions.fed(request.session, reply.body)
        return reply

    def _marked(self, reply: Reply) -> Reply:
        """A page tells its SDK whether the site is strict (``window.__sandboxSite``)."""
        if reply.content_type != HTML or b"<head>" not in reply.body:
            return reply
        flags = orjson.dumps({"strict": self.strict.enabled, "refuse": self.strict.refuse_automation}).decode()
        body = reply.body.replace(b"<head>", f"<head><script>window.__sandboxSite = {flags};</script>".encode(), 1)
        return Reply(reply.status, body, reply.content_type, reply.headers, reply.file, reply.commit)

    def _inject(self, handler: SiteHandler, request: Request, route) -> str | None:
        """Draws this request's fault; serves those that replace the answer (then returns ``answered``)."""
        key = request_key(request.path, request.query)
        attempt = self._attempts.next_attempt(key)
        kind = self.plan.draw(key, attempt, route.fault_class)
        if kind is None:
            return None
        self._stats.fault(kind)
        if kind == "drop":
            handler.drop()
            return "answered"
        replacement = self._fault_reply(kind, route.name, route.fault_class, request, key, attempt)
        if replacement is None:
            return kind
        handler.send(replacement)
        return "answered"

    def _session_blocked(self, request: Request) -> bool:
        if self.plan.block_after is None:
            return False
        return self._attempts.session_request(request.session) > self.plan.block_after

    def _blocked_reply(self, fault_class: str) -> Reply:
        if self.plan.block_with == "empty":
            return Reply(body=b"", content_type=HTML if fault_class in ("page", "profile") else JSON)
        return self._captcha(fault_class, "blocked")

    def _captcha(self, fault_class: str, fingerprint: str) -> Reply:
        fp = f"verify_sandbox_{fingerprint}"
        if fault_class in ("page", "profile"):
            return Reply(body=pages.captcha_page(fp), content_type=HTML)
        return Reply(body=status_body(STATUS_CAPTCHA, code="10000", type="verify", subtype="slide", region="va",
                                      detail="sandbox captcha: this session must verify", verify_event="", fp=fp))

    def _fault_reply(self, kind: str, route: str, fault_class: str, request: Request, key: str, attempt: int) -> Reply | None:
        """The answer that replaces the normal one, or None for faults that alter or delay it."""
        if kind == "429":
            return Reply(429, pages.error_page(429, "Too Many Requests"), HTML, {"Retry-After": f"{self.plan.retry_after_s:g}"})
        if kind == "403":
            return Reply(403, pages.error_page(403, "Forbidden"), HTML)
        if kind in ("verify", "verify_html", "status0", "status_code0"):
            return _soft_or_verify(kind, attempt)
        if kind == "challenge":
            return None if hostile.solved(request.cookies.get(hostile.CHALLENGE_COOKIE)) else Reply(body=hostile.challenge_page(), content_type=HTML)
        if kind == "unsigned":
            return Reply(body=b"") if StrictMode(enabled=True).unsigned(request.query) else None
        if kind in ("10201", "10222"):
            return self._status_reply(int(kind), route, request)
        if kind == "5xx":
            status = SERVER_ERRORS[int(uniform(self.plan.seed, key + "#5xx", attempt) * len(SERVER_ERRORS))]
            return Reply(status, pages.error_page(status, "Server Error"), HTML)
        if kind == "captcha":
            return self._captcha(fault_class, f"{attempt}")
        if kind == "empty":
            return Reply(body=b"", content_type=HTML if fault_class in ("page", "profile") else JSON)
        if kind in ("ipblock", "private"):
            return self._status_reply(STATUS_GONE if kind == "ipblock" else STATUS_PRIVATE, route, request)
        return None

    def _status_reply(self, status: int, route: str, request: Request) -> Reply:
        """A statusCode-only answer in the endpoint's own shape (JSON, a video page or a profile)."""
        if route == "video_page":
            handle, _, video_id = request.path.strip("/").partition("/video/")
            return self.routes.video_page_reply(request, handle.lstrip("@"), video_id.strip("/"), status)
        if route == "user_page":
            return Reply(body=pages.user_page(None, status, request.cookies.get("msToken") or self.routes.new_token()), content_type=HTML)
        return Reply(body=status_body(status))

    def _admin(self, request: Request) -> Reply:
        if request.path.rstrip("/") == "/__sandbox/unblock":
            self.unblock()
            return Reply(body=b'{"unblocked":true}')
        if request.path.rstrip("/") == "/__sandbox/clock":
            return clock_reply(self.world.clock, request.query)
        if request.path.rstrip("/") == "/__sandbox/world":
            spec = self.world.spec
            return Reply(body=orjson.dumps({"videos": spec.videos, "seed": spec.seed, "preset": spec.preset,
                                            "reference_date": spec.reference_date, "feed": len(self.world.feed),
                                            "authors": len(self.world.authors), "faults": self.plan.describe(),
                                            "fault_seed": self.plan.seed, "block_after": self.plan.block_after}))
        return Reply(body=orjson.dumps(self.stats))


def _page_token(body: bytes) -> str:
    """The msToken a page's script sets for a visitor without one."""
    found = re.search(rb'msToken=([A-Za-z0-9_-]+);', body)
    return found.group(1).decode() if found else ""


def _soft_or_verify(kind: str, attempt: int) -> Reply:
    """The verify JSON, the verify page, or a success code with nothing in it."""
    if kind == "verify":
        return Reply(body=hostile.verify_json(str(attempt), hostile.VERIFY_SUBTYPES[attempt % 3]))
    if kind == "verify_html":
        return Reply(body=hostile.verify_html(), content_type=HTML)
    return Reply(body=hostile.status_only(snake=kind == "status_code0"))


def _malformed(reply: Reply) -> Reply:
    """The normal answer with its JSON broken (cut short; in a page, the rehydration data)."""
    if reply.content_type == HTML:
        body = reply.body.replace(b'{"__DEFAULT_SCOPE__"', b'{"__DEFAULT_SCOPE__":{"broken', 1)
    else:
        body = reply.body[: int(len(reply.body) * MALFORMED_AT)]
    return Reply(reply.status, body, reply.content_type, reply.headers)


@contextlib.contextmanager
def serve(world: World, faults: str | Mapping[str, float] | FaultPlan | None = None, fault_seed: int = 0,
          block_after: int | None = None, block_with: str = "captcha", slow_s: float = 1.5,
          host: str = "127.0.0.1", port: int = 0, strict: bool = False, refuse_automation: bool = False,
          retry_after_s: float = 1.0) -> Iterator[Site]:
    """Serves ``world`` on loopback (``port=0``: a free one) for the ``with`` block; faults by spec and seed."""
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(
        faults, seed=fault_seed, slow_s=slow_s, block_after=block_after, block_with=block_with, retry_after_s=retry_after_s)
    site = Site(world, plan, host, port, StrictMode(strict, refuse_automation)).start()
    try:
        yield site
    finally:
        site.close()
