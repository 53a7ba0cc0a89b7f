"""The sandbox answering *as* www.tiktok.com: an HTTPS-intercepting proxy on loopback.

A client pointed at it (``--proxy http://127.0.0.1:P``) and told to trust the
sandbox's CA (``--ca-cert ca.pem``; see :mod:`sandbox.tls`) reaches
``https://www.tiktok.com`` — and any ``*.tiktok.com`` host, such as the media CDN —
and gets the sandbox's answers: the proxy accepts ``CONNECT host:443`` for those
names only, terminates TLS with a certificate for them signed by that CA, and
hands each request inside the tunnel to the site's own handler. The items then
name ``https://www.tiktok.com/@…/video/…`` pages and media on
``https://v16-webapp-prime.tiktok.com/media/ID.mp4`` (yt-dlp's TikTok extractor
drops formats on www.tiktok.com itself, as the real site's are never there), so
code paths taken only for the real site — yt-dlp's own TikTok extractor, cookies
scoped to ``.tiktok.com``, every backend without ``--base-url`` — run here too.
Anything else is refused with a 403: nothing leaves loopback.

    with serve_as_tiktok(world, ca_dir) as proxy:
        proxy.proxy_url, proxy.ca_cert     # give both to the client
        proxy.site.stats, proxy.log        # the site's counters; hosts and cookie names the proxy saw
"""

from __future__ import annotations

import contextlib
import socketserver
import ssl
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox.faults import FaultPlan
from sandbox.routes import Reply
from sandbox.server import Served, SiteHandler as _Handler, SiteServer as _Server
from sandbox.site import Site
from sandbox.tls import SandboxCA
from sandbox.world import World

REAL_SITE = "https://www.tiktok.com"
#: where the items' media and covers live when the sandbox answers as the platform
MEDIA_HOST = "v16-webapp-prime.tiktok.com"


def is_platform_host(host: str | None) -> bool:
    """True for tiktok.com and its subdomains (the only names the proxy answers for)."""
    host = (host or "").lower().rstrip(".")
    return host == "tiktok.com" or host.endswith(".tiktok.com")


class ProxyLog:
    """What the proxy saw: requests per host, cookie names per host, hosts it refused (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hosts: Counter[str] = Counter()
        self.cookies: dict[str, set[str]] = {}
        self.refused: Counter[str] = Counter()
        self.tunnels = 0

    def request(self, host: str, cookie_names: list[str]) -> None:
        """Counts one request to ``host`` and the names of the cookies it carried."""
        with self._lock:
            self.hosts[host] += 1
            self.cookies.setdefault(host, set()).update(cookie_names)

    def refuse(self, host: str) -> None:
        """Counts one refused tunnel or request."""
        with self._lock:
            self.refused[host] += 1

    def tunnel(self) -> None:
        """Counts one TLS tunnel opened."""
        with self._lock:
            self.tunnels += 1

    def snapshot(self) -> dict[str, Any]:
        """``{hosts, cookies, refused, tunnels}`` as plain values."""
        with self._lock:
            return {"hosts": dict(self.hosts), "cookies": {h: sorted(n) for h, n in self.cookies.items()},
                    "refused": dict(self.refused), "tunnels": self.tunnels}


class TikTokProxy(Served):
    """The proxy in front of one site; ``proxy_url`` and ``ca_cert`` are what a client needs."""

    thread_name = "sandbox-proxy"

    def __init__(self, site: Site, ca: SandboxCA, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site, self.ca = site, ca
        self.log = ProxyLog()
        self._server = _ProxyServer((host, port), site, ca.server_context(), self.log)
        self.host, self.port = self._server.server_address[:2]
        self.proxy_url = f"http://{self.host}:{self.port}"
        self.ca_cert = str(ca.cert_path)


def platform_site(world: World, plan: FaultPlan | None = None, host: str = "127.0.0.1", port: int = 0,
                  **site_options: Any) -> Site:
    """A site whose pages and items name www.tiktok.com, with media on the platform's CDN host."""
    site = Site(world, plan, host, port, public_url=REAL_SITE, **site_options)
    site.routes.builder = world.item_builder(f"https://{MEDIA_HOST}")
    return site


@contextlib.contextmanager
def serve_as_tiktok(world: World, ca_dir: Path, faults: str | Mapping[str, float] | FaultPlan | None = None,
                    fault_seed: int = 0, block_after: int | None = None, port: int = 0, **site_options: Any) -> Iterator[TikTokProxy]:
    """The world served as www.tiktok.com behind a proxy on loopback, for the ``with`` block."""
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults, seed=fault_seed, block_after=block_after)
    site = platform_site(world, plan, **site_options).start()
    try:
        proxy = TikTokProxy(site, SandboxCA.load_or_create(ca_dir), port=port).start()
        try:
            yield proxy
        finally:
            proxy.close()
    finally:
        site.close()


class _ProxyServer(_Server):
    """The site's threading server, answering as a proxy: CONNECT tunnels with TLS, then the site's handler."""

    def __init__(self, address: tuple[str, int], site: Site, tls: ssl.SSLContext, log: ProxyLog) -> None:
        super().__init__(address, site)
        self.RequestHandlerClass = _ProxyHandler
        self.tls, self.log = tls, log

    def track(self, connection: Any, add: bool) -> None:
        """Adds or forgets an open TLS connection (closed with the server)."""
        with self._guard:
            (self._connections.add if add else self._connections.discard)(connection)


class _ProxyHandler(_Handler):
    """The site's handler, plus CONNECT; requests are answered only for platform hosts."""

    server: _ProxyServer
    _tunnel_host: str | None = None
    _tls: ssl.SSLSocket | None = None

    def do_CONNECT(self) -> None:  # noqa: N802 - the HTTP method's name
        """Opens a TLS tunnel as ``host`` (a platform host, port 443) and keeps reading requests inside it."""
        host, _, port = self.path.rpartition(":")
        if not is_platform_host(host) or port != "443":
            return self._refuse(host or self.path)
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            # the client does not trust the CA (or hung up): nothing more on this connection
            self.close_connection = True
            return
        self.server.log.tunnel()
        self.server.track(tls, True)
        self._tls, self._tunnel_host = tls, host
        self.connection = tls
        self.rfile = tls.makefile("rb", self.rbufsize)
        self.wfile = socketserver._SocketWriter(tls)  # type: ignore[attr-defined] - what StreamRequestHandler uses
        self.close_connection = False

    def _dispatch(self) -> None:
        if self._tunnel_host is not None:  # inside a tunnel: the Host header names the site asked
            host = (self.headers.get("Host") or self._tunnel_host).partition(":")[0]
        else:  # a plain proxy request: the absolute URL does
            host = urlsplit(self.path).hostname or ""
        if not is_platform_host(host):
            return self._refuse(host or "?")
        self.server.log.request(host, [part.split("=", 1)[0].strip() for part in self.headers.get("Cookie", "").split(";") if "=" in part])
        super()._dispatch()

    def _refuse(self, host: str) -> None:
        self.server.log.refuse(host)
        body = f"the sandbox answers only as *.tiktok.com, not {host}\n".encode()
        self.send(Reply(403, body, "text/plain; charset=utf-8"), counted=False)
        self.close_connection = True

    def finish(self) -> None:  # noqa: D102
        try:
            super().finish()
        finally:
            if self._tls is not None:
                self.server.track(self._tls, False)
                with contextlib.suppress(OSError):
                    self._tls.close()
