"""The sandbox's HTTP plumbing: a threading server that tracks its connections, and a handler that parses
requests and writes replies (files by sendfile, one byte range). What to answer is :class:`sandbox.site.Site`'s."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import sys
import threading
from collections.abc import Callable
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.routes import Reply, Request


class SiteServer(ThreadingHTTPServer):
    """A threading server that remembers its open connections, so closing it closes them too.

    ``changed`` is notified whenever a connection closes or an answer goes out, so a caller can wait for
    the site to have served something (:meth:`wait_for`) without polling."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: Any) -> None:
        self.site = site
        self._connections: set[socket.socket] = set()
        self._guard = threading.Lock()
        self.changed = threading.Condition()
        super().__init__(address, SiteHandler)

    def process_request(self, request, client_address) -> None:  # noqa: D102
        with self._guard:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # noqa: D102
        with self._guard:
            self._connections.discard(request)
        super().shutdown_request(request)
        self.notify_changed()

    def notify_changed(self) -> None:
        """Wakes whoever waits in :meth:`wait_for`."""
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> bool:
        """Waits until ``predicate()`` holds, re-checking it each time the site serves something; False on timeout."""
        with self.changed:
            return bool(self.changed.wait_for(predicate, timeout))

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a browser moving on, a cancelled download) is normal, not an error."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def open_connections(self) -> int:
        """How many connections are open."""
        with self._guard:
            return len(self._connections)

    def close_connections(self) -> None:
        """Shuts down every connection still open (idle keep-alive ones included)."""
        with self._guard:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Served:
    """The life cycle of a loopback server held in ``self._server``: in a background thread or in the
    foreground, and closed with every connection it still holds (the site, its replay and its proxy)."""

    _server: Any
    _thread: threading.Thread | None = None
    thread_name = "sandbox"

    def start(self):
        """Serves in a background thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True)
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


class SiteHandler(BaseHTTPRequestHandler):
    """Parses requests and writes replies; the answers come from :class:`Site`."""

    protocol_version = "HTTP/1.1"
    # headers and body go out as separate writes: without this, Nagle + delayed ACK add 40 ms per answer
    disable_nagle_algorithm = True
    server_version = "sandbox"
    sys_version = ""
    timeout = 60
    server: SiteServer

    def do_GET(self) -> None:  # noqa: N802, D102
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802, D102
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def do_HEAD(self) -> None:  # noqa: N802, D102
        self._dispatch()

    def do_OPTIONS(self) -> None:  # noqa: N802, D102
        self.send(Reply(204, headers={"Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                                      "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400"}))

    def _dispatch(self, body: bytes = b"") -> None:
        parts = urlsplit(self.path)
        cookies = SimpleCookie()
        with contextlib.suppress(Exception):
            cookies.load(self.headers.get("Cookie", ""))
        request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                          {k: m.value for k, m in cookies.items()}, headers={k.lower(): v for k, v in self.headers.items()},
                          body=body)
        self._request = request
        self.server.site.answer(self, request)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header tells the sandbox clock's time (it moves only when a test moves it)."""
        world = getattr(self.server.site, "world", None)  # a replayed site has no world, hence no clock of its own
        return email.utils.formatdate(world.clock.now() if world is not None else timestamp, usegmt=True)

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
        if counted and getattr(self, "_request", None) is not None:
            for cookie in self._request.set_cookies:
                self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if counted:
            self.server.site.count_answer(status, length)
            self.server.notify_changed()
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
