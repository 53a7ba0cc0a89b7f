"""Loopback addresses for the servers the project starts on this machine (the sandbox, Postgres, Ray, the web page)."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it; a caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
