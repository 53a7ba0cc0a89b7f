"""The platform's clock: its ``Date`` header, asked once, moving on with this machine's monotonic clock.

Observations are stamped with the platform's time, so that a video's age at an
observation (``observed_at − create_time``) is right whoever's clock is off — and
against the sandbox, whose clock tests move, too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from core.errors import ConfigError


def platform_clock(url: str, timeout: float = 30.0) -> Callable[[], datetime]:
    """A function giving the time at ``url``'s server now (one HEAD request to read its Date header)."""
    import httpx

    try:
        answer = httpx.head(url, timeout=timeout, follow_redirects=False)
        told = parsedate_to_datetime(answer.headers["date"]).astimezone(UTC)
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"cannot read the time of {url} (its Date header): {exc}") from None
    started = time.monotonic()
    return lambda: told + timedelta(seconds=time.monotonic() - started)
