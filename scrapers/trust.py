"""Trusting one more certificate authority (``--ca-cert``) in every client a backend uses.

A TLS-intercepting proxy — the sandbox's ``--as-tiktok`` proxy, or a company's —
presents certificates signed by its own CA. Verification stays on; the CA is
added beside the system's:

- Chromium (playwright, TikTokApi's sessions, selenium): ``--ignore-certificate-
  errors-spki-list`` with the SHA-256 of each CA's public key. Chromium accepts a
  chain it cannot verify only when one of its certificates has a pinned key, so
  nothing but that proxy's certificates is let through (not every bad certificate,
  as ``--ignore-certificate-errors`` would).
- yt-dlp: its request handlers build their TLS contexts with certifi's bundle; the
  YoutubeDL made here loads the CA file into each of those contexts as well.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from scrapers.source import BackendUnavailable


def ca_public_key_pins(ca_cert: str) -> list[str]:
    """Base64 SHA-256 of the SubjectPublicKeyInfo of each certificate in a PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        certificates = x509.load_pem_x509_certificates(Path(ca_cert).read_bytes())
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"--ca-cert {ca_cert}: not a readable PEM certificate file ({exc})") from None
    spki = (c.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) for c in certificates)
    return [base64.b64encode(hashlib.sha256(der).digest()).decode() for der in spki]


def chromium_trust_args(ca_cert: str | None) -> list[str]:
    """Chromium flags that trust the CAs of ``ca_cert`` (none without one)."""
    if not ca_cert:
        return []
    return [f"--ignore-certificate-errors-spki-list={','.join(ca_public_key_pins(ca_cert))}"]


def new_youtubedl(params: dict[str, Any], ca_cert: str | None = None) -> Any:
    """A YoutubeDL with ``params`` whose HTTPS connections also trust ``ca_cert``."""
    from yt_dlp import YoutubeDL

    if not ca_cert:
        return YoutubeDL(params)
    if not Path(ca_cert).is_file():
        raise BackendUnavailable(f"--ca-cert {ca_cert}: no such file")

    class TrustingYoutubeDL(YoutubeDL):
        """YoutubeDL whose request handlers load one more CA file into their TLS contexts."""

        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            director = super().build_request_director(handlers, preferences)
            for handler in director.handlers.values():
                _trust(handler, ca_cert)
            return director

    return TrustingYoutubeDL(params)


def _trust(handler: Any, ca_cert: str) -> None:
    make = getattr(handler, "_make_sslcontext", None)
    if make is None:
        return

    def make_trusting(*args: Any, **kwargs: Any) -> Any:
        context = make(*args, **kwargs)
        if context.verify_mode:  # CERT_NONE (--no-check-certificate) stays as it is
            context.load_verify_locations(cafile=ca_cert)
        return context

    handler._make_sslcontext = make_trusting
