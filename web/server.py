"""Running the app: uvicorn on a loopback address by default, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import ipaddress
import socket

from core.errors import CurateError
from web.app import create_app
from web.config import WebConfig


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServeError(CurateError):
    """The server cannot listen where asked."""


def check_free(host: str, port: int) -> None:
    """Raises ServeError when ``host:port`` cannot be bound (taken, or not an address of this machine)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (pick another --port)") from None


def serve(config: WebConfig, host: str = "127.0.0.1", port: int = 8000, on_ready=None) -> None:
    """Builds the app and serves it until interrupted; ``on_ready(url)`` is called once it listens."""
    import uvicorn

    check_free(host, port)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=5))
    if on_ready is not None:
        startup = server.startup

        async def announced(sockets=None):
            await startup(sockets)
            if server.started:
                bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
                on_ready(f"http://{host}:{bound}")

        server.startup = announced
    server.run()
