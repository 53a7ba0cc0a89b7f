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
import sys
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from sandbox import pages
from sandbox.faults import Attempts, FaultPlan, SiteStats, request_key, uniform
from sandbox.routes import HTML, JSON, STATUS_CAPTCHA, STATUS_GONE, STATUS_PRIVATE, Reply, Request, Routes, status_body
from sandbox.world import World

SERVER_ERRORS = (500, 502, 503, 504)
MALFORMED_AT = 0.6


class Site:
    """A running (or ready) sandbox site over one world with one fault plan."""

    def __init__(self, world: World, faults: FaultPlan | None = None, host: str = "127.0.0.1", port: int = 0,
                 public_url: str | None = None) -> None:
        """``public_url``: the origin the site's pages and items name (default: where it listens; the
        ``--as-tiktok`` proxy gives ``https://www.tiktok.com``)."""
        self.world = world
        self.plan = faults or FaultPlan()
        self._stats = SiteStats()
        self._attempts = Attempts()
        self._server = _Server((host, port), self)
        self.host, self.port = self._server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self.routes = Routes(world, public_url or self.base_url)
        self._thread: threading.Thread | None = None

    # ---- what tests and tools read ---------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        """Counters so far: requests per endpoint, statuses, faults per kind, blocked answers, bytes."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zeroes the counters (fault draws and sessions are kept)."""
        self._stats.reset()

    def unblock(self) -> None:
        """Lifts every blocked session (their request counts start again from zero)."""
        self._attempts.unblock()

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

    def start(self) -> Site:
        """Serves in a background thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sandbox-site", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in this thread until interrupted (the command line's foreground mode)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server.close_connections()

    def close(self) -> None:
        """Stops serving and closes every open connection."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server.close_connections()

    # ---- answering -------------------------------------------------------------------------------

    def answer(self, handler: _Handler, request: Request) -> None:
        """Routes one request, applying the blocked-session rule and the drawn fault."""
        if request.path.startswith("/__sandbox/"):
            return handler.send(self._admin(request), counted=False)
        started = time.perf_counter()
        route, found = self.routes.match(request.path)
        self._stats.request(route.name)
        try:
            delayed = self._answer(handler, request, route, found)
        except Exception as exc:  # a bug or a missing ffmpeg: say so in a 500 and in the counters
            self._stats.error(f"{route.name}: {exc!r}")
            handler.send(Reply(500, f"sandbox error: {exc!r}\n".encode(), "text/plain; charset=utf-8"))
            delayed = 0.0
        self._stats.busy(time.perf_counter() - started - delayed)

    def _answer(self, handler: _Handler, request: Request, route, found) -> float:
        """Answers; returns the seconds spent in an injected delay (not the site's own work)."""
        kind = None
        if route.fault_class is not None:
            if route.fault_class != "media" and self._session_blocked(request):
                self._stats.blocked()
                handler.send(self._blocked_reply(route.fault_class))
                return 0.0
            kind = self._inject(handler, request, route)
            if kind == "answered":
                return 0.0
            if kind == "slow":
                time.sleep(self.plan.slow_s)
        reply = route.handler(request, found)
        if kind == "malformed":
            handler.send(_malformed(reply))
            return 0.0
        handler.send(reply, truncate=kind == "truncated")
        if reply.commit is not None:
            reply.commit()
        return self.plan.slow_s if kind == "slow" else 0.0

    def _inject(self, handler: _Handler, request: Request, route) -> str | None:
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
            return Reply(429, pages.error_page(429, "Too Many Requests"), HTML)
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
        if request.path.rstrip("/") == "/__sandbox/world":
            spec = self.world.spec
            return Reply(body=orjson.dumps({"videos": spec.videos, "seed": spec.seed, "preset": spec.preset,
                                            "reference_date": spec.reference_date, "feed": len(self.world.feed),
                                            "authors": len(self.world.authors), "faults": self.plan.describe(),
                                            "fault_seed": self.plan.seed, "block_after": self.plan.block_after}))
        return Reply(body=orjson.dumps(self.stats))


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
          host: str = "127.0.0.1", port: int = 0) -> Iterator[Site]:
    """Serves ``world`` on loopback (``port=0``: a free one) for the ``with`` block; faults by spec and seed."""
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(
        faults, seed=fault_seed, slow_s=slow_s, block_after=block_after, block_with=block_with)
    site = Site(world, plan, host, port).start()
    try:
        yield site
    finally:
        site.close()


class _Server(ThreadingHTTPServer):
    """A threading server that remembers its open connections, so closing it closes them too."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        self.site = site
        self._connections: set[socket.socket] = set()
        self._guard = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:  # noqa: D102
        with self._guard:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # noqa: D102
        with self._guard:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a browser moving on, a cancelled download) is normal, not an error."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shuts down every connection still open (idle keep-alive ones included)."""
        with self._guard:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Parses requests and writes replies; the answers come from :class:`Site`."""

    protocol_version = "HTTP/1.1"
    # headers and body go out as separate writes: without this, Nagle + delayed ACK add 40 ms per answer
    disable_nagle_algorithm = True
    server_version = "sandbox"
    sys_version = ""
    timeout = 60
    server: _Server

    def do_GET(self) -> None:  # noqa: N802, D102
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802, D102
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802, D102
        self._dispatch()

    def do_OPTIONS(self) -> None:  # noqa: N802, D102
        self.send(Reply(204, headers={"Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                                      "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400"}))

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        cookies = SimpleCookie()
        with contextlib.suppress(Exception):
            cookies.load(self.headers.get("Cookie", ""))
        request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                          {k: m.value for k, m in cookies.items()})
        self.server.site.answer(self, request)

    def version_string(self) -> str:  # noqa: D102
        return "sandbox"

    def send(self, reply: Reply, truncate: bool = False, counted: bool = True) -> None:
        """Writes ``reply`` (a file is sent with sendfile, honouring one byte range); ``truncate`` cuts it short."""
        size = reply.file.stat().st_size if reply.file is not None else len(reply.body)
        status, start, length = reply.status, 0, size
        span = _byte_range(self.headers.get("Range"), size) if reply.file is not None and status == 200 else None
        if span is not None:
            status, (start, length) = 206, span
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{start + length - 1}/{size}")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if counted:
            self.server.site.count_answer(status, length)
        if self.command == "HEAD":
            return
        sent = int(length * 0.5) if truncate else length
        if reply.file is not None and sent:
            with reply.file.open("rb") as handle:
                self.connection.sendfile(handle, start, sent)
        elif sent:
            self.wfile.write(reply.body[:sent])
        if truncate:
            self.drop()

    def drop(self) -> None:
        """Closes the connection without (the rest of) an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, D102
        return


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, length)`` of a single ``bytes=a-b`` range within ``size``, else None (the whole file)."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            start = max(size - int(last), 0)
            end = size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
    except ValueError:
        return None
    if start > end or start >= size:
        return None
    return start, end - start + 1
