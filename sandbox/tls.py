"""The sandbox's own certificate authority, and the certificate it shows as ``*.tiktok.com``.

``SandboxCA.load_or_create(folder)`` keeps the CA in ``folder/ca.pem`` (and its key,
readable by its owner only, in ``folder/ca-key.pem``), so that a client told to trust
it once keeps trusting it across restarts. ``server_context()`` is the TLS context
the proxy answers with: a leaf for ``www.tiktok.com``, ``*.tiktok.com`` and
``tiktok.com`` signed by that CA, the CA certificate sent along in the chain (a
client that pins the CA's public key, as Chromium's
``--ignore-certificate-errors-spki-list`` does, finds it there). Made with trustme
(which uses ``cryptography``); this CA signs nothing else.
"""

from __future__ import annotations

import fcntl
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: the names the sandbox answers for
TIKTOK_NAMES = ("www.tiktok.com", "*.tiktok.com", "tiktok.com")


@dataclass
class SandboxCA:
    """A CA kept on disk; ``cert_path`` is the file clients are told to trust."""

    ca: object
    cert_path: Path

    @classmethod
    def load_or_create(cls, folder: Path) -> SandboxCA:
        """The CA in ``folder`` (made on first use)."""
        import trustme

        folder.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = folder / "ca.pem", folder / "ca-key.pem"
        with (folder / ".lock").open("a") as lock:
            # two servers starting at once must not pair one's key with the other's certificate
            fcntl.flock(lock, fcntl.LOCK_EX)
            if cert_path.is_file() and key_path.is_file():
                return cls(trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes()), cert_path)
            ca = trustme.CA(organization_name="viralcurate sandbox", organization_unit_name="offline double of www.tiktok.com")
            _write(key_path, ca.private_key_pem.bytes(), mode=0o600)
            _write(cert_path, ca.cert_pem.bytes(), mode=0o644)
            return cls(ca, cert_path)

    def server_context(self, names: tuple[str, ...] = TIKTOK_NAMES) -> ssl.SSLContext:
        """A server-side TLS context presenting a leaf for ``names`` and this CA."""
        leaf = self.ca.issue_cert(*names)  # type: ignore[attr-defined]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.set_alpn_protocols(["http/1.1"])
        pem = leaf.private_key_pem.bytes() + b"".join(p.bytes() for p in leaf.cert_chain_pems) + self.ca.cert_pem.bytes()  # type: ignore[attr-defined]
        with tempfile.NamedTemporaryFile(suffix=".pem") as chain:
            chain.write(pem)
            chain.flush()
            context.load_cert_chain(chain.name)
        return context


def _write(path: Path, data: bytes, mode: int) -> None:
    """Writes ``data`` under a temporary name with ``mode``, then renames it into place."""
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)
