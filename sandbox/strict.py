"""Strict mode (``curate sandbox serve --strict``): the site checks what the real one checks.

- API calls must carry what the page's SDK appends (``SIGNED_PARAMS``; values are placeholders,
  presence is what counts); a call without them gets an empty 200, as the real site answers
  TikTokApi's calls since it added ``X-Gnarly``.
- Every answer rotates ``msToken`` through ``Set-Cookie``; sessions are keyed by device id and
  the ``ttwid`` cookie the site sets, not by the token.
- Optionally (``refuse_automation``) a ``HeadlessChrome`` user agent gets HTTP 403 and the SDK
  refuses to sign for a browser whose ``navigator.webdriver`` is true.
- Lists carry ads (``isAd``) and photo posts (``imagePost``, no video) beside the videos, and the
  home page shows a sign-in modal after its second feed page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson

SIGNED_PARAMS = ("msToken", "X-Bogus", "X-Gnarly", "device_id", "odinId", "WebIdLastTime")
SESSION_COOKIE = "ttwid"
#: one ad after every AD_EVERY videos of a list, one photo post after every PHOTO_EVERY
AD_EVERY, PHOTO_EVERY = 7, 11
#: synthetic ids of ads and photo posts: far from any world video's (whose high bits hold a create time)
EXTRA_ID_BASE = 7_000_000_000_000_000_000


@dataclass(frozen=True)
class StrictMode:
    """Whether the site is strict, and whether it also refuses automated browsers."""

    enabled: bool = False
    refuse_automation: bool = False

    def unsigned(self, query: dict[str, str]) -> bool:
        """True for an API call that lacks any parameter the page's SDK adds."""
        return self.enabled and any(not query.get(name) for name in SIGNED_PARAMS)

    def refused(self, headers: dict[str, str]) -> bool:
        """True for a user agent the site refuses (headless Chromium), when it refuses automation."""
        return self.enabled and self.refuse_automation and "headlesschrome" in headers.get("user-agent", "").lower()

    def cookies(self, cookies: dict[str, str]) -> list[str]:
        """``Set-Cookie`` values for an answer: a fresh msToken always, a session cookie once."""
        if not self.enabled:
            return []
        out = [f"msToken=sbx{secrets.token_urlsafe(96)}; Path=/; Max-Age=86400; SameSite=Lax"]
        if SESSION_COOKIE not in cookies:
            out.append(f"{SESSION_COOKIE}=sbxw{secrets.token_hex(16)}; Path=/; Max-Age=31536000; SameSite=Lax")
        return out


def with_extras(items: list[bytes], start: int, template: dict[str, Any]) -> list[bytes]:
    """``items`` (serialised videos of a list from position ``start``) with ads and photo posts in between."""
    out: list[bytes] = []
    for offset, item in enumerate(items):
        out.append(item)
        position = start + offset + 1
        if position % AD_EVERY == 0:
            out.append(orjson.dumps(ad_item(template, position)))
        if position % PHOTO_EVERY == 0:
            out.append(orjson.dumps(photo_item(template, position)))
    return out


def ad_item(template: dict[str, Any], position: int) -> dict[str, Any]:
    """An ad: a video item shape with ``isAd`` true and an id no world video has."""
    return {**template, "id": str(EXTRA_ID_BASE + 2 * position), "isAd": True, "desc": "Sponsored · sandbox ad"}


def photo_item(template: dict[str, Any], position: int) -> dict[str, Any]:
    """A photo post: ``imagePost`` with images and a ``video`` without media."""
    images = [{"imageURL": {"urlList": [f"/cover/photo-{position}-{i}.jpeg"]}, "imageWidth": 1080, "imageHeight": 1440}
              for i in range(3)]
    return {**template, "id": str(EXTRA_ID_BASE + 2 * position + 1), "imagePost": {"images": images, "title": ""},
            "video": {"duration": 0}, "desc": "photo post"}
